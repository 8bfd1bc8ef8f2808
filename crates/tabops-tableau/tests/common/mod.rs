//! Shared helpers for round-trip tests: start the real emulator on 127.0.0.1 and sign a client in over HTTP.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use tabops_emulator::{DEFAULT_PAT_NAME, DEFAULT_PAT_SECRET, DEFAULT_SITE, Emulator, EmulatorConfig};
use tabops_tableau::{Client, ClientConfig, Credentials, RetryPolicy, Secret};

pub async fn emulator() -> Emulator {
    emulator_with(EmulatorConfig::default()).await
}

pub async fn emulator_with(config: EmulatorConfig) -> Emulator {
    Emulator::start(config).await.expect("emulator starts")
}

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
