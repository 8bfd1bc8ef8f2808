//! Secrets never appear in logs or errors: a client with a planted PAT secret runs under a TRACE subscriber that
//! captures everything (including `log` records of dependencies) into a buffer. A recording TCP relay between
//! client and emulator captures the real session tokens from the wire so the test can look for them too.

use tabops_testkit::site as common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tabops_emulator::{DEFAULT_SITE, EmulatorConfig};
use tabops_tableau::{
    Client, ClientConfig, ConnectionCredentials, Credentials, Error, NewProject, PublishRequest, RetryPolicy, Secret,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PAT_NAME: &str = "planted-token";
const PAT_SECRET: &str = "PLANTED-PAT-SECRET-4d1f9a";
const DB_PASSWORD: &str = "PLANTED-DB-PASSWORD-77c2";
const JWT_SECRET: &str = "PLANTED-JWT-KEY-0b3e";

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }
}

/// Relays TCP to `upstream`, recording everything the server sends back.
async fn recording_relay(upstream: std::net::SocketAddr, record: Buffer) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind relay");
    let addr = listener.local_addr().expect("relay addr");
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let record = record.clone();
            tokio::spawn(async move {
                let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await else { return };
                let (mut ri, mut wi) = inbound.split();
                let (mut ro, mut wo) = outbound.split();
                let up = tokio::io::copy(&mut ri, &mut wo);
                let down = async {
                    let mut buf = vec![0u8; 16 * 1024];
                    loop {
                        let n = match ro.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        let mut rec = record.clone();
                        let _ = rec.write_all(&buf[..n]);
                        if wi.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    let _ = wi.shutdown().await;
                };
                let _ = tokio::join!(up, down);
            });
        }
    });
    addr
}

fn tokens_in(wire: &str) -> Vec<String> {
    wire.split("token=\"").skip(1).filter_map(|rest| rest.split('"').next()).map(str::to_owned).collect()
}

#[tokio::test]
async fn secrets_and_tokens_never_reach_logs_debug_or_errors() {
    let logs = Buffer::default();
    let sink = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .try_init()
        .expect("install global subscriber");

    let emu = common::emulator_with(EmulatorConfig {
        pats: vec![(PAT_NAME.into(), PAT_SECRET.into())],
        jwt_secret: Some(JWT_SECRET.into()),
        fault_rate: 0.2,
        fault_seed: 3,
        ..Default::default()
    })
    .await;
    let wire = Buffer::default();
    let relay = recording_relay(emu.addr(), wire.clone()).await;
    let mut config = ClientConfig::new(
        format!("http://{relay}").parse().expect("url"),
        DEFAULT_SITE,
        Credentials::Pat { name: PAT_NAME.into(), secret: Secret::new(PAT_SECRET) },
    );
    config.retry = RetryPolicy {
        max_attempts: 8,
        base_delay: Duration::from_millis(2),
        max_delay: Duration::from_millis(20),
        ..RetryPolicy::default()
    };

    let mut errors: Vec<Error> = Vec::new();
    let client = Client::sign_in(config.clone()).await.expect("sign in");
    let project = common::default_project(&client).await;
    // A second session with the same PAT forces the first client through a re-sign-in.
    let other = Client::sign_in(config.clone()).await.expect("second sign in");
    let _ = other.projects().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = common::write_twb(dir.path(), "S.twb", &["A"]);
    let publish = PublishRequest {
        file,
        name: "S".into(),
        project_id: project,
        connections: vec![ConnectionCredentials {
            server_address: "db".into(),
            username: "u".into(),
            password: Secret::new(DB_PASSWORD),
            embed: true,
            ..Default::default()
        }],
        ..Default::default()
    };
    for _ in 0..3 {
        if let Err(e) = client.publish_workbook(&publish).await {
            errors.push(e);
        }
    }
    for _ in 0..10 {
        if let Err(e) = client.create_project(&NewProject { name: "dup".into(), ..Default::default() }).await {
            errors.push(e);
        }
    }
    if let Err(e) = client.workbook("00000000-0000-0000-0000-000000000000").await {
        errors.push(e);
    }
    let mut bad = config.clone();
    bad.credentials = Credentials::Pat { name: PAT_NAME.into(), secret: Secret::new(format!("{PAT_SECRET}-wrong")) };
    errors.push(Client::sign_in(bad).await.expect_err("wrong secret"));
    let mut app = config.clone();
    app.credentials = Credentials::ConnectedApp {
        client_id: "cid".into(),
        secret_id: "sid".into(),
        secret_value: Secret::new(JWT_SECRET),
        username: "nobody@acme.com".into(),
        scopes: vec!["tableau:content:read".into()],
    };
    match Client::sign_in(app).await {
        Ok(c) => {
            let _ = c.projects().await;
        }
        Err(e) => errors.push(e),
    }
    assert!(client.stats().re_sign_ins >= 1, "the re-sign-in path ran");
    assert!(!errors.is_empty());

    let tokens = tokens_in(&wire.text());
    assert!(tokens.len() >= 3, "relay saw the sign-in responses: {tokens:?}");
    let captured = logs.text();
    assert!(captured.contains("sending request"), "TRACE logs were captured");
    let mut haystacks = vec![("logs".to_owned(), captured)];
    haystacks.push(("client debug".into(), format!("{client:?} {other:?}")));
    haystacks.push(("config debug".into(), format!("{config:?} {publish:?}")));
    for e in &errors {
        haystacks.push((format!("error {e}"), format!("{e} | {e:?} | {:?}", std::error::Error::source(e))));
    }
    for (what, text) in &haystacks {
        for secret in [PAT_SECRET, DB_PASSWORD, JWT_SECRET] {
            assert!(!text.contains(secret), "{what} leaks a planted secret");
        }
        for token in &tokens {
            assert!(!text.contains(token.as_str()), "{what} leaks a session token");
        }
    }
}
