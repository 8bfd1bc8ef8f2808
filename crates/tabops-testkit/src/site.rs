//! The emulator in the test's own runtime: start it on 127.0.0.1 and sign a REST client in to it over HTTP (the
//! round-trip tests of the client, the executor and inventory tests of `tabops-apply`), plus small content files.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tabops_emulator::{DEFAULT_PAT_NAME, DEFAULT_PAT_SECRET, DEFAULT_SITE, Emulator, EmulatorConfig};
use tabops_tableau::{Client, ClientConfig, Credentials, RetryPolicy, Secret};

/// An emulator with the default configuration (site `acme`, the default token, no faults).
pub async fn emulator() -> Emulator {
    emulator_with(EmulatorConfig::default()).await
}

/// An emulator started from `config`.
pub async fn emulator_with(config: EmulatorConfig) -> Emulator {
    Emulator::start(config).await.expect("emulator starts")
}

/// A client configuration for `emu` with the default token, quick retries (10 ms base, 4 attempts) and a 30 s
/// timeout.
pub fn config(emu: &Emulator) -> ClientConfig {
    let mut config = ClientConfig::new(
        emu.url().parse().expect("emulator url"),
        DEFAULT_SITE,
        Credentials::Pat { name: DEFAULT_PAT_NAME.to_owned(), secret: Secret::new(DEFAULT_PAT_SECRET) },
    );
    config.retry = RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(200),
        ..RetryPolicy::default()
    };
    config.timeout = Duration::from_secs(30);
    config
}

/// A client signed in to `emu` with [`config`].
pub async fn client(emu: &Emulator) -> Client {
    Client::sign_in(config(emu)).await.expect("sign in")
}

/// The LUID of the site's `default` project.
pub async fn default_project(client: &Client) -> String {
    client
        .projects()
        .await
        .expect("list projects")
        .into_iter()
        .find(|p| p.name == "default")
        .map(|p| p.id)
        .expect("default project exists")
}

/// Writes a small .twb with the given worksheets and returns its path.
pub fn write_twb(dir: &Path, file: &str, sheets: &[&str]) -> PathBuf {
    let mut xml = String::from(
        "<?xml version='1.0' encoding='utf-8' ?>\n<workbook source-build='2024.1.0' version='18.1'>\n<datasources><datasource name='Orders'><connection class='postgres' server='db.acme.com' port='5432' username='svc' dbname='sales'/></datasource></datasources>\n<worksheets>",
    );
    for s in sheets {
        xml.push_str(&format!("<worksheet name='{s}'><table/></worksheet>"));
    }
    xml.push_str("</worksheets>\n</workbook>\n");
    let path = dir.join(file);
    std::fs::write(&path, xml).expect("write twb");
    path
}

/// Writes a small .tds and returns its path.
pub fn write_tds(dir: &Path, file: &str) -> PathBuf {
    let xml = "<?xml version='1.0' encoding='utf-8' ?>\n<datasource formatted-name='Orders' version='18.1'><connection class='postgres' server='db.acme.com' port='5432' username='svc' dbname='sales'/></datasource>\n";
    let path = dir.join(file);
    std::fs::write(&path, xml).expect("write tds");
    path
}

/// `POST /_emulator/<hook>` (a state-changing test hook; the emulator must run with `test_hooks`), sent on a
/// plain HTTP/1.1 connection from the test's own runtime; returns the status code.
pub async fn hook(emu: &Emulator, hook_and_query: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(emu.addr()).await.expect("connect to the emulator");
    let request = format!(
        "POST /_emulator/{hook_and_query} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        emu.addr()
    );
    stream.write_all(request.as_bytes()).await.expect("send the hook request");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read the hook response");
    String::from_utf8_lossy(&response).split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}
