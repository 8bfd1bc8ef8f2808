//! Sign-in (personal access token with Cloud's one-session-per-token rule, connected-app JWT HS256), sign-out,
//! and token checks (401000 missing, 401002 invalid or expired). Tokens and secrets are never logged.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::Rng;
use rand::distr::Alphanumeric;

use crate::error::{ApiError, ApiResult};
use crate::server::Shared;
use crate::xml::{Elem, Node};

/// Idle session lifetime (Tableau Cloud: about 120 minutes).
const SESSION_IDLE: Duration = Duration::from_secs(120 * 60);

#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: String,
    pub site_id: String,
    pat_name: Option<String>,
    last_used: Instant,
}

impl Session {
    /// Who is signed in, for tying objects to their creator: the PAT (a token is one principal even across its
    /// re-sign-ins), or the user for a connected-app session.
    pub fn principal(&self) -> String {
        match &self.pat_name {
            Some(pat) => format!("pat:{pat}"),
            None => format!("user:{}", self.user_id),
        }
    }
}

#[derive(Default)]
pub struct Sessions {
    inner: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Open a session; a PAT's earlier sessions end (one session per PAT, as on Tableau Cloud).
    fn open(&self, user_id: String, site_id: String, pat_name: Option<String>) -> String {
        let token: String = rand::rng().sample_iter(&Alphanumeric).take(32).map(char::from).collect();
        let mut sessions = self.lock();
        if let Some(pat) = &pat_name {
            sessions.retain(|_, s| s.pat_name.as_ref() != Some(pat));
        }
        sessions.insert(token.clone(), Session { user_id, site_id, pat_name, last_used: Instant::now() });
        token
    }

    pub fn close(&self, token: &str) -> bool {
        self.lock().remove(token).is_some()
    }

    /// Validate the `X-Tableau-Auth` header value.
    pub fn check(&self, token: Option<&str>) -> ApiResult<Session> {
        let token = token.filter(|t| !t.is_empty()).ok_or_else(|| {
            ApiError::new(401000, "Unauthorized Access", "No authentication credentials were provided")
        })?;
        let mut sessions = self.lock();
        let invalid =
            || ApiError::new(401002, "Unauthorized Access", "Invalid authentication credentials were provided.");
        let session = sessions.get_mut(token).ok_or_else(invalid)?;
        if session.last_used.elapsed() > SESSION_IDLE {
            sessions.remove(token);
            return Err(invalid());
        }
        session.last_used = Instant::now();
        Ok(session.clone())
    }

    /// End every session (test hook `POST /_emulator/sessions/expire`: tokens expire mid-run); returns how many.
    pub fn expire_all(&self) -> usize {
        let mut sessions = self.lock();
        let count = sessions.len();
        sessions.clear();
        count
    }

    /// Drop every session of a user (the user was removed from the site).
    pub fn close_user(&self, user_id: &str) {
        self.lock().retain(|_, s| s.user_id != user_id);
    }
}

fn sign_in_error() -> ApiError {
    ApiError::new(401001, "Signin Error", "Error signing in to Tableau Server")
}

/// Credentials extracted from an XML or JSON sign-in body.
#[derive(Default)]
struct Credentials {
    pat_name: Option<String>,
    pat_secret: Option<String>,
    jwt: Option<String>,
    name: Option<String>,
    site: Option<String>,
}

fn parse_credentials(body: &[u8]) -> ApiResult<Credentials> {
    let trimmed = body.iter().position(|b| !b.is_ascii_whitespace()).map(|i| &body[i..]).unwrap_or_default();
    if trimmed.first() == Some(&b'{') {
        let json: serde_json::Value = serde_json::from_slice(trimmed).map_err(ApiError::malformed)?;
        let creds = json.get("credentials").ok_or_else(|| ApiError::bad_request("Missing credentials."))?;
        let text = |key: &str| creds.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        return Ok(Credentials {
            pat_name: text("personalAccessTokenName"),
            pat_secret: text("personalAccessTokenSecret"),
            jwt: text("jwt"),
            name: text("name"),
            site: creds.pointer("/site/contentUrl").and_then(|v| v.as_str()).map(str::to_owned),
        });
    }
    let root = crate::xml::parse(trimmed).map_err(ApiError::malformed)?;
    let creds: &Node = root.find("credentials").ok_or_else(|| ApiError::bad_request("Missing credentials."))?;
    let text = |key: &str| creds.attr(key).map(str::to_owned);
    Ok(Credentials {
        pat_name: text("personalAccessTokenName"),
        pat_secret: text("personalAccessTokenSecret"),
        jwt: text("jwt"),
        name: text("name"),
        site: creds.child("site").and_then(|s| s.attr("contentUrl")).map(str::to_owned),
    })
}

#[derive(serde::Deserialize)]
struct JwtClaims {
    sub: String,
}

/// `POST /auth/signin`: returns the `credentials` element.
pub fn sign_in(shared: &Shared, body: &[u8]) -> ApiResult<Elem> {
    let creds = parse_credentials(body)?;
    let (site_id, site_url, admin_id) = {
        let state = shared.lock();
        let admin = state.admin_id().map(str::to_owned).unwrap_or_default();
        (state.site.id.clone(), state.site.content_url.clone(), admin)
    };
    if !creds.site.as_deref().unwrap_or_default().eq_ignore_ascii_case(&site_url) {
        return Err(sign_in_error());
    }
    let (user_id, pat_name) = match (&creds.pat_name, &creds.pat_secret, &creds.jwt) {
        (Some(name), Some(secret), None) if creds.name.is_none() => {
            let known = shared.config.effective_pats().iter().any(|(n, s)| n == name && s == secret);
            if !known {
                return Err(sign_in_error());
            }
            (admin_id, Some(name.clone()))
        }
        (None, None, Some(jwt)) => {
            let secret = shared.config.jwt_secret.as_ref().ok_or_else(sign_in_error)?;
            let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
            validation.validate_aud = false;
            validation.set_required_spec_claims(&["exp", "sub"]);
            let key = jsonwebtoken::DecodingKey::from_secret(secret.as_bytes());
            let claims = jsonwebtoken::decode::<JwtClaims>(jwt, &key, &validation).map_err(|_| sign_in_error())?.claims;
            let state = shared.lock();
            let user =
                state.users.iter().find(|u| u.name.eq_ignore_ascii_case(&claims.sub)).ok_or_else(sign_in_error)?;
            (user.id.clone(), None)
        }
        (None, None, None) if creds.name.is_some() => return Err(sign_in_error()),
        _ => return Err(ApiError::bad_request("Provide exactly one of a personal access token or a JWT.")),
    };
    let token = shared.sessions.open(user_id.clone(), site_id.clone(), pat_name);
    {
        let mut state = shared.lock();
        let now = crate::store::now();
        if let Some(user) = state.users.iter_mut().find(|u| u.id == user_id) {
            user.last_login = Some(now);
        }
    }
    Ok(Elem::new("credentials")
        .attr("token", token)
        .attr("estimatedTimeToExpiration", "119:59:59")
        .child(Elem::new("site").attr("id", site_id).attr("contentUrl", site_url))
        .child(Elem::new("user").attr("id", user_id)))
}
