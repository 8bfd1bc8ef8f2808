//! Sign-in request bodies (PAT exactly as TSC sends it, connected-app JWT) and the sign-in response.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};

use crate::config::Credentials;
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::xml::{Element, XmlWriter};

/// Lifetime of the connected-app JWT (Tableau accepts at most 10 minutes).
const JWT_LIFETIME_SECS: i64 = 5 * 60;

/// Builds the `<tsRequest><credentials …><site contentUrl/></credentials></tsRequest>` body. The result contains
/// a secret, so it is wrapped.
pub(crate) fn sign_in_body(credentials: &Credentials, site: &str) -> Result<Secret> {
    let mut w = XmlWriter::new();
    w.start("tsRequest", &[]);
    match credentials {
        Credentials::Pat { name, secret } => {
            w.start(
                "credentials",
                &[("personalAccessTokenName", Some(name)), ("personalAccessTokenSecret", Some(secret.expose()))],
            );
        }
        Credentials::ConnectedApp { client_id, secret_id, secret_value, username, scopes } => {
            let jwt = connected_app_jwt(client_id, secret_id, secret_value, username, scopes)?;
            w.start("credentials", &[("jwt", Some(jwt.expose()))]);
        }
    }
    w.empty("site", &[("contentUrl", Some(site))]).end("credentials").end("tsRequest");
    Ok(Secret::new(w.finish()))
}

/// Signs an HS256 JWT for a connected app: header `kid` = secret id and `iss` = client id; claims `iss`, `aud`
/// = `tableau`, `sub`, `exp`, `jti`, `scp`. The header carries `iss`, which jsonwebtoken's `Header` cannot
/// express, so header and claims are encoded here and signed with `jsonwebtoken::crypto::sign`.
pub(crate) fn connected_app_jwt(
    client_id: &str,
    secret_id: &str,
    secret_value: &Secret,
    username: &str,
    scopes: &[String],
) -> Result<Secret> {
    let header = serde_json::json!({ "alg": "HS256", "typ": "JWT", "kid": secret_id, "iss": client_id });
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = serde_json::json!({
        "iss": client_id,
        "aud": "tableau",
        "sub": username,
        "exp": now + JWT_LIFETIME_SECS,
        "iat": now,
        "jti": uuid::Uuid::new_v4().to_string(),
        "scp": scopes,
    });
    let message =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let key = EncodingKey::from_secret(secret_value.expose().as_bytes());
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::HS256)
        .map_err(|source| Error::Jwt { source })?;
    Ok(Secret::new(format!("{message}.{signature}")))
}

/// What sign-in returns.
#[derive(Debug, Clone)]
pub(crate) struct SignedIn {
    pub(crate) token: Secret,
    pub(crate) site_id: String,
    pub(crate) user_id: Option<String>,
}

pub(crate) fn parse_sign_in(root: &Element) -> Option<SignedIn> {
    let credentials = root.child("credentials")?;
    let site = credentials.child("site")?;
    Some(SignedIn {
        token: Secret::new(credentials.attr("token")?),
        site_id: site.attr_string("id")?,
        user_id: credentials.child_id("user"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation, decode, decode_header};

    #[test]
    fn pat_body_matches_tsc() {
        let creds = Credentials::Pat { name: "mytoken".into(), secret: Secret::new("s3cr3t") };
        let body = sign_in_body(&creds, "mysite").expect("body");
        assert_eq!(
            body.expose(),
            r#"<tsRequest><credentials personalAccessTokenName="mytoken" personalAccessTokenSecret="s3cr3t"><site contentUrl="mysite" /></credentials></tsRequest>"#
        );
    }

    #[test]
    fn jwt_has_tableau_claims_and_header() {
        let jwt =
            connected_app_jwt("cid", "sid", &Secret::new("topsecret"), "me@x.com", &["tableau:content:read".into()])
                .expect("jwt");
        let header = decode_header(jwt.expose()).expect("header");
        assert_eq!(header.kid.as_deref(), Some("sid"));
        assert_eq!(header.alg, Algorithm::HS256);
        let raw_header = jwt.expose().split('.').next().expect("header part");
        let raw: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(raw_header).expect("b64")).expect("json");
        assert_eq!(raw["iss"], "cid");
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&["tableau"]);
        let data = decode::<serde_json::Value>(jwt.expose(), &DecodingKey::from_secret(b"topsecret"), &validation)
            .expect("valid signature");
        assert_eq!(data.claims["sub"], "me@x.com");
        assert_eq!(data.claims["iss"], "cid");
        assert_eq!(data.claims["scp"][0], "tableau:content:read");
        let exp = data.claims["exp"].as_i64().expect("exp");
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        assert!(exp > now && exp <= now + 600);
        assert!(uuid::Uuid::parse_str(data.claims["jti"].as_str().expect("jti")).is_ok());
    }
}
