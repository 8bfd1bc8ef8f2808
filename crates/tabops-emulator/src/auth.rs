//! Sign-in (personal access token with Cloud's one-session-per-token rule, connected-app JWT HS256 validated as
//! Tableau does), sign-out, token checks (401000 missing, 401002 invalid or expired) and the connected-app scope
//! each REST method requires (a JWT session without it gets 401002). Tokens and secrets are never logged.

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
    /// The JWT's `scp` for a connected-app session; `None` for a PAT session (every method allowed).
    pub scopes: Option<Vec<String>>,
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
    /// `jti` values of accepted JWTs with their `exp`: a JWT is good for one sign-in.
    used_jtis: Mutex<HashMap<String, i64>>,
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Open a session; a PAT's earlier sessions end (one session per PAT, as on Tableau Cloud).
    fn open(&self, user_id: String, site_id: String, pat_name: Option<String>, scopes: Option<Vec<String>>) -> String {
        let token: String = rand::rng().sample_iter(&Alphanumeric).take(32).map(char::from).collect();
        let mut sessions = self.lock();
        if let Some(pat) = &pat_name {
            sessions.retain(|_, s| s.pat_name.as_ref() != Some(pat));
        }
        sessions.insert(token.clone(), Session { user_id, site_id, pat_name, scopes, last_used: Instant::now() });
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

/// The longest a connected-app JWT may be valid for: Tableau rejects an `exp` more than 10 minutes ahead.
const JWT_MAX_LIFETIME_SECS: i64 = 10 * 60;
/// Clock skew tolerated on `exp` in both directions.
const JWT_LEEWAY_SECS: i64 = 30;

#[derive(serde::Deserialize)]
struct JwtClaims {
    sub: String,
    iss: String,
    exp: i64,
    jti: String,
    scp: Scp,
}

/// `scp` is a list of scope strings (a single string is accepted as a list of one).
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Scp {
    List(Vec<String>),
    One(String),
}

/// A connected-app sign-in failure: 401001 with the connected-app error number Tableau appends to the detail
/// (Tableau's "Troubleshoot connected apps" table: 5 user not found, 16 login failed, 126 connected app not
/// found, 127 secret not found).
fn jwt_error(number: u32, why: &str) -> ApiError {
    tracing::debug!(reason = why, "connected-app sign-in refused");
    ApiError::new(401001, "Signin Error", format!("Error signing in to Tableau Server ({number})"))
}

/// Validates a connected-app (direct trust) JWT as Tableau does: HS256 signature with the app's secret; header
/// `kid` = the secret id; claims `iss` = the client id, `aud` = `tableau`, `sub` a user of the site, `exp` in the
/// future but at most 10 minutes ahead, a `jti` not used before, and `scp`. Returns the user id and the scopes.
fn validate_jwt(shared: &Shared, jwt: &str) -> ApiResult<(String, Vec<String>)> {
    let config = &shared.config;
    let secret = config.jwt_secret.as_ref().ok_or_else(|| jwt_error(126, "no connected app configured"))?;
    let header = jsonwebtoken::decode_header(jwt).map_err(|_| jwt_error(16, "malformed JWT header"))?;
    if header.alg != jsonwebtoken::Algorithm::HS256 {
        return Err(jwt_error(16, "algorithm is not HS256"));
    }
    let kid = header.kid.ok_or_else(|| jwt_error(127, "no kid in the JWT header"))?;
    if config.jwt_secret_id.as_ref().is_some_and(|expected| expected != &kid) {
        return Err(jwt_error(127, "kid is not the connected app's secret id"));
    }
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_audience(&["tableau"]);
    validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
    validation.leeway = JWT_LEEWAY_SECS as u64;
    let key = jsonwebtoken::DecodingKey::from_secret(secret.as_bytes());
    let claims = jsonwebtoken::decode::<JwtClaims>(jwt, &key, &validation)
        .map_err(|e| jwt_error(16, &format!("JWT rejected: {e}")))?
        .claims;
    if config.jwt_client_id.as_ref().is_some_and(|expected| expected != &claims.iss) {
        return Err(jwt_error(126, "iss is not the connected app's client id"));
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if claims.exp > now + JWT_MAX_LIFETIME_SECS + JWT_LEEWAY_SECS {
        return Err(jwt_error(16, "exp is more than 10 minutes ahead"));
    }
    if claims.jti.trim().is_empty() {
        return Err(jwt_error(16, "empty jti"));
    }
    {
        let mut used = shared.sessions.used_jtis.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        used.retain(|_, exp| *exp + JWT_LEEWAY_SECS >= now);
        if used.insert(claims.jti.clone(), claims.exp).is_some() {
            return Err(jwt_error(16, "jti already used"));
        }
    }
    let scopes = match claims.scp {
        Scp::List(list) => list,
        Scp::One(one) => one.split_whitespace().map(str::to_owned).collect(),
    };
    if scopes.is_empty() {
        return Err(jwt_error(16, "no scopes in scp"));
    }
    let state = shared.lock();
    let user = state.users.iter().find(|u| u.name == claims.sub).ok_or_else(|| jwt_error(5, "unknown sub"))?;
    Ok((user.id.clone(), scopes))
}

/// The connected-app scope a REST method requires, by HTTP method and the path segments after
/// `/sites/{site-id}/` (lower-cased). `None`: the method needs no scope, or the emulator does not serve it to
/// connected apps (answered by the handler as usual). Settled from the REST API reference's "JWT Access Scope" of
/// each method (see `docs/tableau-cloud.md`).
pub fn required_scope(method: &str, rest: &[&str]) -> Option<&'static str> {
    let scope = match (method, rest) {
        ("GET", ["projects" | "workbooks" | "datasources" | "views"])
        | ("GET", ["workbooks" | "datasources", _])
        | ("GET", ["workbooks", _, "views"])
        | ("GET", ["workbooks" | "datasources", _, "connections"]) => "tableau:content:read",
        ("POST", ["projects"]) => "tableau:projects:create",
        ("PUT", ["projects", _]) => "tableau:projects:update",
        ("DELETE", ["projects", _]) => "tableau:projects:delete",
        ("POST", ["workbooks"]) => "tableau:workbooks:create",
        ("PUT", ["workbooks", _]) => "tableau:workbooks:update",
        ("DELETE", ["workbooks", _]) => "tableau:workbooks:delete",
        ("GET", ["workbooks", _, "content"]) => "tableau:workbooks:download",
        ("POST", ["datasources"]) => "tableau:datasources:create",
        ("PUT", ["datasources", _]) => "tableau:datasources:update",
        ("DELETE", ["datasources", _]) => "tableau:datasources:delete",
        ("GET", ["datasources", _, "content"]) => "tableau:datasources:download",
        ("PUT", ["workbooks", _, "tags"]) => "tableau:workbook_tags:update",
        ("DELETE", ["workbooks", _, "tags", _]) => "tableau:workbook_tags:delete",
        ("PUT", ["datasources", _, "tags"]) => "tableau:datasource_tags:update",
        ("DELETE", ["datasources", _, "tags", _]) => "tableau:datasource_tags:delete",
        ("POST", ["workbooks" | "datasources", _, "refresh"]) => "tableau:tasks:run",
        ("POST", ["fileuploads"]) | ("PUT", ["fileuploads", _]) => "tableau:file_uploads:create",
        ("GET", ["users"] | ["users", _]) => "tableau:users:read",
        ("POST", ["users"]) => "tableau:users:create",
        ("PUT", ["users", _]) => "tableau:users:update",
        ("DELETE", ["users", _]) => "tableau:users:delete",
        ("GET", ["groups"] | ["groups", _, "users"]) => "tableau:groups:read",
        ("POST", ["groups"]) => "tableau:groups:create",
        ("PUT", ["groups", _]) | ("POST", ["groups", _, "users"]) | ("PUT", ["groups", _, "users", "remove"]) => {
            "tableau:groups:update"
        }
        ("DELETE", ["groups", _, "users", _]) => "tableau:groups:update",
        ("DELETE", ["groups", _]) => "tableau:groups:delete",
        ("GET", ["jobs", ..]) => "tableau:jobs:read",
        ("PUT", ["jobs", _]) => "tableau:jobs:update",
        ("GET", ["tasks", "extractrefreshes", ..]) => "tableau:tasks:read",
        ("POST", ["tasks", "extractrefreshes"]) => "tableau:tasks:create",
        ("POST", ["tasks", "extractrefreshes", _]) => "tableau:tasks:update",
        ("DELETE", ["tasks", "extractrefreshes", _]) => "tableau:tasks:delete",
        ("POST", ["tasks", "extractrefreshes", _, "runnow"]) => "tableau:tasks:run",
        ("GET", [_, _, "permissions" | "default-permissions", ..]) => "tableau:permissions:read",
        ("PUT", [_, _, "permissions" | "default-permissions", ..]) => "tableau:permissions:update",
        ("DELETE", [_, _, "permissions" | "default-permissions", ..]) => "tableau:permissions:delete",
        _ => return None,
    };
    Some(scope)
}

/// Checks a session's scopes for a method: a connected-app session without the required scope (or a wildcard
/// action such as `tableau:projects:*`) gets what Tableau Cloud answers, 401002 (tableauserverclient issues
/// #1320 and #1581: a JWT session calling a method outside its scopes).
pub fn check_scope(session: &Session, method: &str, rest: &[&str]) -> ApiResult<()> {
    let Some(scopes) = &session.scopes else { return Ok(()) };
    let Some(required) = required_scope(method, rest) else { return Ok(()) };
    let covered = scopes.iter().any(|granted| {
        granted == required
            || granted.strip_suffix('*').is_some_and(|prefix| {
                prefix.ends_with(':') && required.starts_with(prefix) && !required[prefix.len()..].contains(':')
            })
    });
    if covered {
        Ok(())
    } else {
        tracing::debug!(required, "connected-app session lacks the method's scope");
        Err(ApiError::new(401002, "Unauthorized Access", "Invalid authentication credentials were provided."))
    }
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
    let (user_id, pat_name, scopes) = match (&creds.pat_name, &creds.pat_secret, &creds.jwt) {
        (Some(name), Some(secret), None) if creds.name.is_none() => {
            let known = shared.config.effective_pats().iter().any(|(n, s)| n == name && s == secret);
            if !known {
                return Err(sign_in_error());
            }
            (admin_id, Some(name.clone()), None)
        }
        (None, None, Some(jwt)) => {
            let (user_id, scopes) = validate_jwt(shared, jwt)?;
            (user_id, None, Some(scopes))
        }
        (None, None, None) if creds.name.is_some() => return Err(sign_in_error()),
        _ => return Err(ApiError::bad_request("Provide exactly one of a personal access token or a JWT.")),
    };
    let token = shared.sessions.open(user_id.clone(), site_id.clone(), pat_name, scopes);
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
