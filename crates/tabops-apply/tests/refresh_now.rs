//! Refresh now (`tabops_apply::refresh_now`) against the emulator over HTTP: the items are found on the site by
//! address, each refresh started is recorded in the audit log, and `--wait` polls each job at the fixed interval
//! (not with a backoff) until the timeout. Job and refresh wire facts: docs/tableau-cloud.md, "Refresh now and its
//! job".

use std::path::Path;
use std::time::Duration;

use tabops_apply::audit::AuditLog;
use tabops_apply::refresh_now::{self, Outcome, RefreshError, RefreshOptions};
use tabops_apply::{ExecuteOptions, execute};
use tabops_emulator::{EmulatorConfig, Stats};
use tabops_plan::PlanOptions;
use tabops_tableau::Client;
use tabops_testkit::{site, workspace};

const ORDERS: &str = r#"version: 1
site: { server: local, content_url: acme }
projects:
  - name: Sales
datasources:
  - name: Orders
    project: Sales
    file: content/orders.tdsx
"#;

/// Publishes the manifest (plan and apply, as the CLI does) and returns the live inventory after it.
async fn publish(client: &Client, dir: &Path) -> (tabops_manifest::Loaded, tabops_plan::Inventory) {
    std::fs::create_dir_all(dir.join("content")).unwrap();
    std::fs::copy(workspace().join("fixtures/content/orders.tdsx"), dir.join("content/orders.tdsx")).unwrap();
    std::fs::write(dir.join("manifest.yaml"), ORDERS).unwrap();
    let options = tabops_manifest::LoadOptions { hash_content: true, ..Default::default() };
    let loaded = tabops_manifest::load(dir, &options).expect("the manifest loads");
    let live = tabops_apply::inventory::fetch(client, &loaded.desired).await.unwrap();
    let plan = tabops_plan::plan(&loaded.desired, &live, &PlanOptions::default());
    let log = AuditLog::open(dir.join("publish.jsonl"), "publish").unwrap();
    let outcome = execute(&plan, client, &log, &ExecuteOptions::default()).await.unwrap();
    assert_eq!(outcome.failed(), 0, "{:?}", outcome.actions);
    let live = tabops_apply::inventory::fetch(client, &loaded.desired).await.unwrap();
    (loaded, live)
}

fn job_reads(stats: &Stats) -> u64 {
    stats
        .by_route
        .iter()
        .filter(|(route, _)| route.starts_with("GET ") && route.contains("/jobs/"))
        .map(|(_, n)| n)
        .sum()
}

#[tokio::test]
async fn a_job_still_running_is_polled_at_the_fixed_interval_until_the_timeout() {
    let config = EmulatorConfig { job_duration: Duration::from_secs(3600), job_polls: u32::MAX, ..Default::default() };
    let emu = site::emulator_with(config).await;
    let client = site::client(&emu).await;
    let dir = tempfile::tempdir().unwrap();
    let (_, live) = publish(&client, dir.path()).await;

    let targets = refresh_now::select_named(&live, &["datasource:sales/ORDERS".to_owned()]).unwrap();
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].address, "datasource:Sales/Orders", "named as the site spells it");
    let audit = AuditLog::open(dir.path().join("audit.jsonl"), "refresh").unwrap();
    let options = RefreshOptions { wait: true, timeout: Duration::from_millis(1000), poll: Duration::from_millis(100) };
    let before = job_reads(&emu.stats());
    let report = refresh_now::run(&client, &targets, &options, &audit).await.unwrap();
    let polls = job_reads(&emu.stats()) - before;

    assert!(matches!(report.items[0].outcome, Outcome::TimedOut { .. }), "{report:?}");
    assert!(report.has_timeouts() && !report.has_failures());
    // 1 s at 100 ms: about 11 reads (a 200 ms ×1.5 backoff, as `wait_for_job` does, would make 5).
    assert!((9..=12).contains(&polls), "{polls} job reads: {:?}", emu.stats().by_route);
    let log = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert_eq!(log.lines().filter(|l| l.contains("\"type\":\"refresh_started\"")).count(), 1, "{log}");
    assert!(tabops_apply::audit::verify(&dir.path().join("audit.jsonl")).unwrap().is_ok());
}

#[tokio::test]
async fn unknown_and_non_content_addresses_are_refused_before_anything_is_sent() {
    let emu = site::emulator().await;
    let client = site::client(&emu).await;
    let dir = tempfile::tempdir().unwrap();
    let (_, live) = publish(&client, dir.path()).await;

    let err = refresh_now::select_named(&live, &["datasource:Sales/Nope".to_owned()]).unwrap_err();
    assert!(matches!(err, RefreshError::NotOnSite { .. }), "{err}");
    assert!(err.hint().is_some());
    let err = refresh_now::select_named(&live, &["project:Sales".to_owned()]).unwrap_err();
    assert!(matches!(err, RefreshError::NotContent { .. }), "{err}");
    let err = refresh_now::select_named(&live, &["Sales/Orders".to_owned()]).unwrap_err();
    assert!(matches!(err, RefreshError::BadAddress { .. }), "{err}");
    let err = refresh_now::select_named(&live, &[]).unwrap_err();
    assert!(matches!(err, RefreshError::NothingNamed), "{err}");
}

#[tokio::test]
async fn changed_since_picks_content_and_connection_changes_and_new_items_only() {
    let emu = site::emulator().await;
    let client = site::client(&emu).await;
    let dir = tempfile::tempdir().unwrap();
    let (base, _) = publish(&client, dir.path()).await;

    assert!(refresh_now::changed_since(&base.desired, &base.desired).is_empty(), "nothing changed");
    let mut changed = base.desired.clone();
    changed.datasources[0].file.sha256 = "0".repeat(64);
    assert_eq!(refresh_now::changed_since(&changed, &base.desired), ["datasource:Sales/Orders"]);
    let mut repointed = base.desired.clone();
    repointed.datasources[0].connections.push(tabops_manifest::model::ConnectionSpec {
        server: Some("db.example.com".into()),
        port: None,
        database: None,
        username: Some("reporting".into()),
        password: None,
        embed: false,
    });
    assert_eq!(refresh_now::changed_since(&repointed, &base.desired), ["datasource:Sales/Orders"], "connections");
    let mut empty_base = base.desired.clone();
    empty_base.datasources.clear();
    assert_eq!(refresh_now::changed_since(&base.desired, &empty_base), ["datasource:Sales/Orders"], "new at HEAD");
}
