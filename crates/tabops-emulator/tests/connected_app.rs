//! Connected-app (direct trust) sign-in validated as Tableau Cloud validates it, and the scope each REST method
//! requires, over real HTTP with hand-signed JWTs. Sources: Tableau's "Configure Connected Apps with Direct
//! Trust" (registered claims: header kid/iss, claims iss, aud "tableau", sub, exp at most 10 minutes ahead, jti,
//! scp) and "Troubleshoot Connected Apps" (error numbers 5, 16, 126, 127 in the sign-in error), the REST API
//! reference's "JWT Access Scope" per method, and tableauserverclient issues #1320/#1581 (a JWT session calling a
//! method outside its scopes gets 401002).

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use tabops_emulator::{DEFAULT_SITE, Emulator, EmulatorConfig};

const SECRET: &str = "connected-app-secret-value";
const CLIENT_ID: &str = "8f2c1a7e-client";
const SECRET_ID: &str = "3b9d-secret-id";

async fn emulator() -> Emulator {
    Emulator::start(EmulatorConfig {
        jwt_secret: Some(SECRET.into()),
        jwt_client_id: Some(CLIENT_ID.into()),
        jwt_secret_id: Some(SECRET_ID.into()),
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts")
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64
}

fn claims(scopes: &[&str]) -> serde_json::Value {
    serde_json::json!({
        "iss": CLIENT_ID,
        "aud": "tableau",
        "sub": "admin@tabops.local",
        "exp": now() + 300,
        "jti": uuid::Uuid::new_v4().to_string(),
        "scp": scopes,
    })
}

fn sign(claims: &serde_json::Value, kid: Option<&str>, secret: &str) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret.as_bytes())).expect("sign")
}

/// `(status, body)` of a JSON sign-in with `jwt`.
async fn sign_in(emu: &Emulator, jwt: &str) -> (u16, serde_json::Value) {
    let body = serde_json::json!({"credentials": {"jwt": jwt, "site": {"contentUrl": DEFAULT_SITE}}});
    let response = reqwest::Client::new()
        .post(format!("{}/api/3.25/auth/signin", emu.url()))
        .header("accept", "application/json")
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("sign-in request");
    let status = response.status().as_u16();
    (status, serde_json::from_str(&response.text().await.expect("body")).expect("json body"))
}

#[tokio::test]
async fn jwt_sign_in_checks_every_claim_as_tableau_does() {
    let emu = emulator().await;
    let good = claims(&["tableau:content:read"]);
    let (status, body) = sign_in(&emu, &sign(&good, Some(SECRET_ID), SECRET)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["credentials"]["token"].as_str().is_some_and(|t| !t.is_empty()), "{body}");

    let refused = |number: u32| format!("Error signing in to Tableau Server ({number})");
    let mut cases: Vec<(&str, String, u32)> = Vec::new();
    let mut with = |name: &'static str, edit: &dyn Fn(&mut serde_json::Value), kid: Option<&str>, secret: &str, n| {
        let mut c = claims(&["tableau:content:read"]);
        edit(&mut c);
        cases.push((name, sign(&c, kid, secret), n));
    };
    with("wrong audience", &|c| c["aud"] = "tableau-server".into(), Some(SECRET_ID), SECRET, 16);
    with("no audience", &|c| drop(c.as_object_mut().map(|o| o.remove("aud"))), Some(SECRET_ID), SECRET, 16);
    with("issuer is not the client id", &|c| c["iss"] = "someone-else".into(), Some(SECRET_ID), SECRET, 126);
    with("kid is not the secret id", &|_| {}, Some("other-secret"), SECRET, 127);
    with("no kid", &|_| {}, None, SECRET, 127);
    with("exp 20 minutes ahead", &|c| c["exp"] = (now() + 1200).into(), Some(SECRET_ID), SECRET, 16);
    with("expired", &|c| c["exp"] = (now() - 600).into(), Some(SECRET_ID), SECRET, 16);
    with("no jti", &|c| drop(c.as_object_mut().map(|o| o.remove("jti"))), Some(SECRET_ID), SECRET, 16);
    with("no scp", &|c| drop(c.as_object_mut().map(|o| o.remove("scp"))), Some(SECRET_ID), SECRET, 16);
    with("empty scp", &|c| c["scp"] = serde_json::json!([]), Some(SECRET_ID), SECRET, 16);
    with("unknown user", &|c| c["sub"] = "nobody@tabops.local".into(), Some(SECRET_ID), SECRET, 5);
    with("sub in another case", &|c| c["sub"] = "ADMIN@tabops.local".into(), Some(SECRET_ID), SECRET, 5);
    with("wrong signature", &|_| {}, Some(SECRET_ID), "not-the-secret", 16);
    for (name, jwt, number) in cases {
        let (status, body) = sign_in(&emu, &jwt).await;
        assert_eq!(status, 401, "{name}: {body}");
        assert_eq!(body["error"]["code"], "401001", "{name}: {body}");
        assert_eq!(body["error"]["detail"], refused(number).as_str(), "{name}: {body}");
    }

    // A JWT is good for one sign-in: replaying the same jti is refused.
    let once = sign(&claims(&["tableau:content:read"]), Some(SECRET_ID), SECRET);
    assert_eq!(sign_in(&emu, &once).await.0, 200);
    let (status, body) = sign_in(&emu, &once).await;
    assert_eq!((status, body["error"]["detail"].as_str()), (401, Some(refused(16).as_str())), "{body}");
}

#[tokio::test]
async fn a_jwt_session_gets_401002_for_a_method_outside_its_scopes() {
    let emu = emulator().await;
    let http = reqwest::Client::new();
    let session = |scopes: &'static [&'static str]| {
        let emu = &emu;
        async move {
            let (status, body) = sign_in(emu, &sign(&claims(scopes), Some(SECRET_ID), SECRET)).await;
            assert_eq!(status, 200, "{body}");
            let token = body["credentials"]["token"].as_str().expect("token").to_owned();
            let site = body["credentials"]["site"]["id"].as_str().expect("site").to_owned();
            (token, format!("{}/api/3.25/sites/{site}", emu.url()))
        }
    };
    let create = serde_json::json!({"project": {"name": "Scoped"}});

    let (token, base) = session(&["tableau:content:read"]).await;
    let list = http.get(format!("{base}/projects")).header("x-tableau-auth", &token).send().await.expect("list");
    assert_eq!(list.status().as_u16(), 200, "content:read lists projects");
    for (method, path) in
        [("POST", "/projects"), ("GET", "/users"), ("GET", "/groups"), ("GET", "/tasks/extractRefreshes")]
    {
        let mut request = http
            .request(method.parse().expect("method"), format!("{base}{path}"))
            .header("x-tableau-auth", &token)
            .header("accept", "application/json");
        if method == "POST" {
            request = request.header("content-type", "application/json").body(create.to_string());
        }
        let response = request.send().await.expect("call");
        assert_eq!(response.status().as_u16(), 401, "{method} {path}");
        let body: serde_json::Value = serde_json::from_str(&response.text().await.expect("body")).expect("json");
        assert_eq!(body["error"]["code"], "401002", "{method} {path}: {body}");
    }

    // The exact scope, or the resource's wildcard action, allows the method.
    const EXACT: &[&str] = &["tableau:projects:create"];
    const WILDCARD: &[&str] = &["tableau:projects:*"];
    for scopes in [EXACT, WILDCARD] {
        let (token, base) = session(scopes).await;
        let name = format!("Scoped {}", scopes[0]);
        let response = http
            .post(format!("{base}/projects"))
            .header("x-tableau-auth", &token)
            .header("content-type", "application/json")
            .body(serde_json::json!({"project": {"name": name}}).to_string())
            .send()
            .await
            .expect("create");
        assert_eq!(response.status().as_u16(), 201, "{scopes:?}");
    }
}
