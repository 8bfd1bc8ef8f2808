//! Round trips for authentication: PAT and connected-app sign-in, bad credentials, server info, sign-out,
//! transparent re-sign-in after 401002, and the plain-HTTP policy.

use tabops_testkit::site as common;

use tabops_emulator::{DEFAULT_SITE, EmulatorConfig};
use tabops_tableau::{Client, ClientConfig, Credentials, Error, Secret};

#[tokio::test]
async fn pat_sign_in_reads_site_and_server_info() {
    let emu = common::emulator().await;
    let client = common::client(&emu).await;
    assert_eq!(client.site_id().len(), 36, "site LUID: {}", client.site_id());
    let info = client.server_info().await.expect("server info");
    assert!(info.rest_api_version.starts_with("3."), "{info:?}");
    let stats = client.stats();
    assert_eq!(stats.count("POST /auth/signin"), 1);
    assert_eq!(stats.count("GET /serverInfo"), 1);
}

#[tokio::test]
async fn wrong_pat_secret_is_401001() {
    let emu = common::emulator().await;
    let mut config = common::config(&emu);
    config.credentials =
        Credentials::Pat { name: tabops_emulator::DEFAULT_PAT_NAME.into(), secret: Secret::new("nope") };
    let err = Client::sign_in(config).await.expect_err("must fail");
    assert_eq!(err.code(), Some("401001"), "{err}");
    assert_eq!(err.status(), Some(401));
    assert!(err.to_string().contains("sign in to site 'acme'"), "{err}");
}

#[tokio::test]
async fn unknown_site_is_rejected() {
    let emu = common::emulator().await;
    let mut config = common::config(&emu);
    config.site = "no-such-site".into();
    let err = Client::sign_in(config).await.expect_err("must fail");
    assert_eq!(err.status(), Some(401), "{err}");
}

#[tokio::test]
async fn second_sign_in_with_same_pat_triggers_one_transparent_re_sign_in() {
    let emu = common::emulator().await;
    let first = common::client(&emu).await;
    first.projects().await.expect("first session works");
    // Same PAT: Tableau keeps one session per PAT, so this invalidates `first`'s token.
    let second = common::client(&emu).await;
    second.projects().await.expect("second session works");

    let projects = first.projects().await.expect("first client re-signs in and replays");
    assert!(projects.iter().any(|p| p.name == "default"));
    let stats = first.stats();
    assert_eq!(stats.re_sign_ins, 1);
    assert_eq!(stats.count("POST /auth/signin"), 2);
    assert_eq!(stats.count("GET /sites/{site}/projects"), 3, "original, rejected, replayed");
}

#[tokio::test]
async fn requests_after_sign_out_fail_without_re_sign_in() {
    let emu = common::emulator().await;
    let client = common::client(&emu).await;
    client.sign_out().await.expect("sign out");
    // An explicit sign-out ends the session for good: no token is sent, so Tableau answers 401000, and the
    // client does not resurrect the session behind the caller's back.
    let err = client.groups().await.expect_err("signed out");
    assert_eq!(err.code(), Some("401000"), "{err}");
    assert_eq!(client.stats().re_sign_ins, 0);
    assert_eq!(client.stats().count("POST /auth/signout"), 1);
}

#[tokio::test]
async fn connected_app_jwt_sign_in() {
    let emu = common::emulator_with(EmulatorConfig {
        jwt_secret: Some("app-secret-value".into()),
        jwt_client_id: Some("client-123".into()),
        jwt_secret_id: Some("secret-456".into()),
        ..Default::default()
    })
    .await;
    let mut config = ClientConfig::new(
        emu.url().parse().expect("url"),
        DEFAULT_SITE,
        Credentials::ConnectedApp {
            client_id: "client-123".into(),
            secret_id: "secret-456".into(),
            secret_value: Secret::new("app-secret-value"),
            username: "admin@tabops.local".into(),
            scopes: tabops_tableau::default_scopes(),
        },
    );
    config.retry.max_attempts = 1;
    let client = Client::sign_in(config.clone()).await.expect("jwt sign in");
    client.projects().await.expect("session works");

    config.credentials = Credentials::ConnectedApp {
        client_id: "client-123".into(),
        secret_id: "secret-456".into(),
        secret_value: Secret::new("wrong-value"),
        username: "admin@tabops.local".into(),
        scopes: vec!["tableau:content:read".into()],
    };
    let err = Client::sign_in(config).await.expect_err("bad signature");
    assert_eq!(err.status(), Some(401), "{err}");
}

#[tokio::test]
async fn plain_http_to_remote_host_is_refused_before_any_request() {
    let config = ClientConfig::new(
        "http://tableau.example.com".parse().expect("url"),
        "acme",
        Credentials::Pat { name: "n".into(), secret: Secret::new("s") },
    );
    let err = Client::sign_in(config).await.expect_err("refused");
    assert!(matches!(err, Error::InsecureUrl { .. }), "{err:?}");
}

/// A connected app whose `scp` lacks a method's scope: Tableau would answer 401002, the same code as an expired
/// session, so the client would sign in again and fail the same way. It names the missing scope instead, before
/// sending the request; the emulator's own scope check (401002) is what it would otherwise meet.
#[tokio::test]
async fn a_call_outside_the_connected_app_scopes_fails_naming_the_missing_scope() {
    let emu = common::emulator_with(EmulatorConfig {
        jwt_secret: Some("app-secret-value".into()),
        jwt_client_id: Some("client-123".into()),
        jwt_secret_id: Some("secret-456".into()),
        ..Default::default()
    })
    .await;
    let mut config = ClientConfig::new(
        emu.url().parse().expect("url"),
        DEFAULT_SITE,
        Credentials::ConnectedApp {
            client_id: "client-123".into(),
            secret_id: "secret-456".into(),
            secret_value: Secret::new("app-secret-value"),
            username: "admin@tabops.local".into(),
            scopes: tabops_tableau::READ_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        },
    );
    config.retry.max_attempts = 1;
    let client = Client::sign_in(config).await.expect("jwt sign in");
    client.projects().await.expect("reads are within the read scopes");
    client.groups().await.expect("reads are within the read scopes");
    let err = client
        .create_project(&tabops_tableau::NewProject {
            name: "Outside the scopes".into(),
            description: None,
            parent_id: None,
            content_permissions: None,
        })
        .await
        .expect_err("no tableau:projects:create");
    assert!(matches!(&err, Error::MissingScope { scope, .. } if scope == "tableau:projects:create"), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("create project 'Outside the scopes'") && message.contains("'tableau:projects:create'"),
        "{message}"
    );
    assert_eq!(emu.stats().by_route.get("POST /sites/{id}/projects").copied().unwrap_or(0), 0, "nothing was sent");
    assert_eq!(client.stats().re_sign_ins, 0);
}
