//! Creating a subscription whose response is lost (the emulator applies the write, then drops the connection):
//! the executor reads the site's subscriptions back and adopts the one it created instead of sending a second
//! create, so the site holds exactly one and the next plan has nothing to do.

mod common;

use common::plan;
use tabops_apply::audit::AuditLog;
use tabops_apply::{ExecuteOptions, execute};
use tabops_emulator::EmulatorConfig;
use tabops_testkit::{site, workspace};

const MANIFEST: &str = r#"version: 1
site: { server: local, content_url: acme }
users:
  - { name: bob@acme.com, site_role: Viewer }
projects:
  - name: Sales
workbooks:
  - { name: Revenue, project: Sales, file: content/revenue.twb }
subscriptions:
  - subject: Revenue every Monday
    user: bob@acme.com
    project: Sales
    workbook: Revenue
    view: Revenue Overview
    schedule: { frequency: weekly, at: "08:00", weekdays: [Mon] }
"#;

#[tokio::test]
async fn a_subscription_create_whose_response_is_lost_is_adopted_not_duplicated() {
    let emu = site::emulator_with(EmulatorConfig { test_hooks: true, ..EmulatorConfig::default() }).await;
    let client = site::client(&emu).await;
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("content")).unwrap();
    std::fs::copy(workspace().join("fixtures/content/revenue.twb"), src.join("content/revenue.twb")).unwrap();
    // First everything but the subscription.
    let text = MANIFEST[..MANIFEST.find("subscriptions:").unwrap()].to_owned();
    std::fs::write(src.join("manifest.yaml"), &text).unwrap();
    let log = AuditLog::open(dir.path().join("audit.jsonl"), "test-run").expect("the audit log opens");
    let first = execute(&plan(&client, &src).await, &client, &log, &ExecuteOptions::default()).await.unwrap();
    assert_eq!(first.failed(), 0, "{:?}", first.actions);

    std::fs::write(src.join("manifest.yaml"), MANIFEST).unwrap();
    let planned = plan(&client, &src).await;
    assert_eq!(planned.changes().count(), 1);
    assert_eq!(site::hook(&emu, "responses/lose?writes=1").await, 204);
    let outcome = execute(&planned, &client, &log, &ExecuteOptions::default()).await.unwrap();
    assert_eq!((outcome.completed(), outcome.failed()), (1, 0), "{:?}", outcome.actions);
    assert_eq!(emu.stats().faults_by_kind.get("lost_response"), Some(&1));
    assert_eq!(emu.stats().by_route.get("POST /sites/{id}/subscriptions").copied(), Some(1), "one create, no retry");
    assert_eq!(client.subscriptions().await.unwrap().len(), 1, "adopted, not duplicated");
    assert_eq!(plan(&client, &src).await.changes().count(), 0);
}
