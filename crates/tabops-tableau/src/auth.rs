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

/// The connected-app scope Tableau requires for one REST method, by HTTP method and the client's route template
/// (`None`: no scope, e.g. sign-in, sign-out, server info). Settled from Tableau's REST API reference ("JWT Access
/// Scope" of each method) and the scopes Tableau's own tableau-mcp client requests per method; the table of what
/// each tabops command needs is in `docs/tableau-cloud.md`.
pub(crate) fn required_scope(method: &reqwest::Method, route: &str) -> Option<&'static str> {
    use reqwest::Method as M;
    // The Metadata API reads content: Tableau's connected-app scopes page lists tableau:content:read for it.
    if route == "/api/metadata/graphql" {
        return Some("tableau:content:read");
    }
    let rest = route.strip_prefix("/sites/{site}/")?;
    let segments: Vec<&str> = rest.split('/').collect();
    let m = method.clone();
    let scope = match (m, segments.as_slice()) {
        (M::GET, ["projects" | "workbooks" | "datasources" | "views"])
        | (M::GET, ["workbooks" | "datasources", "{id}"])
        | (M::GET, ["workbooks", "{id}", "views"])
        | (M::GET, ["workbooks" | "datasources", "{id}", "connections"]) => "tableau:content:read",
        (M::POST, ["projects"]) => "tableau:projects:create",
        (M::PUT, ["projects", "{id}"]) => "tableau:projects:update",
        (M::DELETE, ["projects", "{id}"]) => "tableau:projects:delete",
        (M::POST, ["workbooks"]) => "tableau:workbooks:create",
        (M::PUT, ["workbooks", "{id}"] | ["workbooks", "{id}", "connections", "{id}"]) => "tableau:workbooks:update",
        (M::DELETE, ["workbooks", "{id}"]) => "tableau:workbooks:delete",
        (M::GET, ["workbooks", "{id}", "content"]) => "tableau:workbooks:download",
        (M::POST, ["datasources"]) => "tableau:datasources:create",
        (M::PUT, ["datasources", "{id}"] | ["datasources", "{id}", "connections", "{id}"]) => {
            "tableau:datasources:update"
        }
        (M::DELETE, ["datasources", "{id}"]) => "tableau:datasources:delete",
        (M::GET, ["datasources", "{id}", "content"]) => "tableau:datasources:download",
        (M::PUT, ["workbooks", "{id}", "tags"]) => "tableau:workbook_tags:update",
        (M::DELETE, ["workbooks", "{id}", "tags", _]) => "tableau:workbook_tags:delete",
        (M::PUT, ["datasources", "{id}", "tags"]) => "tableau:datasource_tags:update",
        (M::DELETE, ["datasources", "{id}", "tags", _]) => "tableau:datasource_tags:delete",
        (M::POST, ["workbooks" | "datasources", "{id}", "refresh"]) => "tableau:tasks:run",
        (M::POST, ["fileUploads"]) | (M::PUT, ["fileUploads", "{id}"]) => "tableau:file_uploads:create",
        (M::GET, ["users"] | ["users", "{id}"]) => "tableau:users:read",
        (M::POST, ["users"]) => "tableau:users:create",
        (M::PUT, ["users", "{id}"]) => "tableau:users:update",
        (M::DELETE, ["users", "{id}"]) => "tableau:users:delete",
        (M::GET, ["groups"] | ["groups", "{id}", "users"]) => "tableau:groups:read",
        (M::POST, ["groups"]) => "tableau:groups:create",
        (M::PUT, ["groups", "{id}"]) | (M::POST, ["groups", "{id}", "users"]) => "tableau:groups:update",
        (M::DELETE, ["groups", "{id}", "users", _]) | (M::PUT, ["groups", "{id}", "users", "remove"]) => {
            "tableau:groups:update"
        }
        (M::DELETE, ["groups", "{id}"]) => "tableau:groups:delete",
        (M::GET, ["jobs", "{id}"]) => "tableau:jobs:read",
        (M::PUT, ["jobs", "{id}"]) => "tableau:jobs:update",
        (M::GET, ["tasks", "extractRefreshes"] | ["tasks", "extractRefreshes", "{id}"]) => "tableau:tasks:read",
        (M::POST, ["tasks", "extractRefreshes"]) => "tableau:tasks:create",
        (M::POST, ["tasks", "extractRefreshes", "{id}"]) => "tableau:tasks:update",
        (M::DELETE, ["tasks", "extractRefreshes", "{id}"]) => "tableau:tasks:delete",
        (M::POST, ["tasks", "extractRefreshes", "{id}", "runNow"]) => "tableau:tasks:run",
        (M::GET, [_, "{id}", "permissions" | "default-permissions", ..]) => "tableau:permissions:read",
        (M::PUT, [_, "{id}", "permissions" | "default-permissions", ..]) => "tableau:permissions:update",
        (M::DELETE, [_, "{id}", "permissions" | "default-permissions", ..]) => "tableau:permissions:delete",
        _ => return None,
    };
    Some(scope)
}

/// True when a granted scope covers the required one: the same string, or a wildcard action
/// (`tableau:projects:*` covers `tableau:projects:create`).
pub(crate) fn scope_covers(granted: &str, required: &str) -> bool {
    if granted == required {
        return true;
    }
    match granted.strip_suffix('*') {
        Some(prefix) if prefix.ends_with(':') => {
            required.starts_with(prefix) && !required[prefix.len()..].contains(':')
        }
        _ => false,
    }
}

/// The required scope of a call that the connected app's scopes do not grant (`None` for PAT sign-in).
pub(crate) fn missing_scope(credentials: &Credentials, method: &reqwest::Method, route: &str) -> Option<&'static str> {
    let Credentials::ConnectedApp { scopes, .. } = credentials else { return None };
    let required = required_scope(method, route)?;
    (!scopes.iter().any(|granted| scope_covers(granted, required))).then_some(required)
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

    /// Every route template the client uses (grep `"/sites/{site}` in `src/client`), with its method.
    const ROUTES: &[(&str, &str)] = &[
        ("GET", "/sites/{site}/projects"),
        ("POST", "/sites/{site}/projects"),
        ("PUT", "/sites/{site}/projects/{id}"),
        ("DELETE", "/sites/{site}/projects/{id}"),
        ("GET", "/sites/{site}/workbooks"),
        ("GET", "/sites/{site}/workbooks/{id}"),
        ("GET", "/sites/{site}/datasources"),
        ("GET", "/sites/{site}/datasources/{id}"),
        ("GET", "/sites/{site}/views"),
        ("GET", "/sites/{site}/workbooks/{id}/views"),
        ("GET", "/sites/{site}/workbooks/{id}/connections"),
        ("GET", "/sites/{site}/datasources/{id}/connections"),
        ("PUT", "/sites/{site}/workbooks/{id}/connections/{id}"),
        ("PUT", "/sites/{site}/datasources/{id}/connections/{id}"),
        ("PUT", "/sites/{site}/workbooks/{id}"),
        ("PUT", "/sites/{site}/datasources/{id}"),
        ("DELETE", "/sites/{site}/workbooks/{id}"),
        ("DELETE", "/sites/{site}/datasources/{id}"),
        ("PUT", "/sites/{site}/workbooks/{id}/tags"),
        ("PUT", "/sites/{site}/datasources/{id}/tags"),
        ("DELETE", "/sites/{site}/workbooks/{id}/tags/{label}"),
        ("DELETE", "/sites/{site}/datasources/{id}/tags/{label}"),
        ("POST", "/sites/{site}/workbooks/{id}/refresh"),
        ("POST", "/sites/{site}/datasources/{id}/refresh"),
        ("GET", "/sites/{site}/workbooks/{id}/content"),
        ("GET", "/sites/{site}/datasources/{id}/content"),
        ("POST", "/sites/{site}/workbooks"),
        ("POST", "/sites/{site}/datasources"),
        ("POST", "/sites/{site}/fileUploads"),
        ("PUT", "/sites/{site}/fileUploads/{id}"),
        ("GET", "/sites/{site}/users"),
        ("GET", "/sites/{site}/users/{id}"),
        ("POST", "/sites/{site}/users"),
        ("PUT", "/sites/{site}/users/{id}"),
        ("DELETE", "/sites/{site}/users/{id}"),
        ("GET", "/sites/{site}/groups"),
        ("GET", "/sites/{site}/groups/{id}/users"),
        ("POST", "/sites/{site}/groups"),
        ("PUT", "/sites/{site}/groups/{id}"),
        ("DELETE", "/sites/{site}/groups/{id}"),
        ("POST", "/sites/{site}/groups/{id}/users"),
        ("DELETE", "/sites/{site}/groups/{id}/users/{user}"),
        ("PUT", "/sites/{site}/groups/{id}/users/remove"),
        ("GET", "/sites/{site}/jobs/{id}"),
        ("PUT", "/sites/{site}/jobs/{id}"),
        ("GET", "/sites/{site}/tasks/extractRefreshes"),
        ("GET", "/sites/{site}/tasks/extractRefreshes/{id}"),
        ("POST", "/sites/{site}/tasks/extractRefreshes"),
        ("POST", "/sites/{site}/tasks/extractRefreshes/{id}"),
        ("DELETE", "/sites/{site}/tasks/extractRefreshes/{id}"),
        ("POST", "/sites/{site}/tasks/extractRefreshes/{id}/runNow"),
        ("GET", "/sites/{site}/projects/{id}/permissions"),
        ("PUT", "/sites/{site}/workbooks/{id}/permissions"),
        ("DELETE", "/sites/{site}/{kind}/{id}/permissions/{grantee}/{capability}/{mode}"),
        ("GET", "/sites/{site}/projects/{id}/default-permissions/{kind}"),
        ("PUT", "/sites/{site}/projects/{id}/default-permissions/{kind}"),
        ("DELETE", "/sites/{site}/projects/{id}/default-permissions/{kind}/{grantee}/{capability}/{mode}"),
    ];

    #[test]
    fn every_client_route_has_a_scope_and_the_default_scopes_are_exactly_those() {
        let mut needed = std::collections::BTreeSet::new();
        for (method, route) in ROUTES {
            let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
            let scope = required_scope(&method, route).unwrap_or_else(|| panic!("no scope for {method} {route}"));
            needed.insert(scope.to_owned());
        }
        let defaults: std::collections::BTreeSet<String> = crate::config::default_scopes().into_iter().collect();
        assert_eq!(needed, defaults, "default scopes are exactly the scopes of the calls, no more, no fewer");
        assert!(defaults.iter().all(|s| !s.contains('*')), "least privilege: no wildcards");
        assert_eq!(required_scope(&reqwest::Method::POST, "/auth/signin"), None);
        assert_eq!(required_scope(&reqwest::Method::GET, "/serverInfo"), None);
    }

    #[test]
    fn wildcard_actions_cover_their_resource_only() {
        assert!(scope_covers("tableau:projects:*", "tableau:projects:create"));
        assert!(scope_covers("tableau:projects:create", "tableau:projects:create"));
        assert!(!scope_covers("tableau:projects:*", "tableau:permissions:update"));
        assert!(!scope_covers("tableau:projects:read", "tableau:projects:create"));
        assert!(!scope_covers("tableau:*", "tableau:projects:create"), "only the action may be a wildcard");
        let app = Credentials::ConnectedApp {
            client_id: "c".into(),
            secret_id: "s".into(),
            secret_value: Secret::new("v"),
            username: "u".into(),
            scopes: vec!["tableau:content:read".into()],
        };
        assert_eq!(
            missing_scope(&app, &reqwest::Method::POST, "/sites/{site}/projects"),
            Some("tableau:projects:create")
        );
        assert_eq!(missing_scope(&app, &reqwest::Method::GET, "/sites/{site}/projects"), None);
        let pat = Credentials::Pat { name: "n".into(), secret: Secret::new("s") };
        assert_eq!(missing_scope(&pat, &reqwest::Method::POST, "/sites/{site}/projects"), None);
    }

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
