//! The inventory fetch against the emulator over HTTP: it reads what the planner needs and no more. Per-object
//! reads (permissions, group members, views) happen only for what the manifest manages, so a manifest that does
//! not mention an object's permissions never costs a request for them, and what it reads maps back onto the
//! manifest it was applied from.

use std::path::{Path, PathBuf};

use tabops_apply::audit::AuditLog;
use tabops_apply::{ExecuteOptions, execute};
use tabops_emulator::{Emulator, EmulatorConfig, Stats};
use tabops_manifest::model::Desired;
use tabops_plan::PlanOptions;
use tabops_plan::inventory::Inventory;
use tabops_tableau::Client;
use tabops_testkit::{site, workspace};

/// Two projects and a workbook with permissions, two groups with members, a workbook with a hidden sheet.
const MANAGED: &str = r#"version: 1
site: { server: local, content_url: acme }
users:
  - { name: dana@acme.com, site_role: Explorer }
  - { name: eli@acme.com, site_role: Viewer }
groups:
  - { name: Analysts, members: [dana@acme.com] }
  - { name: Leads, members: [eli@acme.com] }
projects:
  - name: Sales
    permissions:
      - { group: Analysts, template: Viewer }
  - name: Finance
    permissions:
      - { group: Leads, template: Publisher }
workbooks:
  - name: Revenue
    project: Sales
    file: content/revenue.twb
    hidden_views: [Top Customers]
    permissions:
      - { group: Analysts, template: Viewer }
"#;

/// The same site, managing only Sales' permissions and the Analysts' members, with no hidden views.
const NARROW: &str = r#"version: 1
site: { server: local, content_url: acme }
users:
  - { name: dana@acme.com, site_role: Explorer }
  - { name: eli@acme.com, site_role: Viewer }
groups:
  - { name: Analysts, members: [dana@acme.com] }
  - { name: Leads }
projects:
  - name: Sales
    permissions:
      - { group: Analysts, template: Viewer }
  - name: Finance
workbooks:
  - name: Revenue
    project: Sales
    file: content/revenue.twb
"#;

fn write_manifest(dir: &Path, name: &str, yaml: &str) -> PathBuf {
    let root = dir.join(name);
    std::fs::create_dir_all(root.join("content")).unwrap();
    std::fs::copy(workspace().join("fixtures/content/revenue.twb"), root.join("content/revenue.twb")).unwrap();
    std::fs::write(root.join("manifest.yaml"), yaml).unwrap();
    root
}

fn load(dir: &Path) -> Desired {
    let options = tabops_manifest::LoadOptions { hash_content: true, ..Default::default() };
    tabops_manifest::load(dir, &options).expect("the manifest loads").desired
}

/// An emulator holding the applied `MANAGED` site, a client, and the two manifests.
async fn managed_site(dir: &Path) -> (Emulator, Client, Desired, Desired) {
    let emu = site::emulator_with(EmulatorConfig { test_hooks: true, ..EmulatorConfig::default() }).await;
    let client = site::client(&emu).await;
    let managed = load(&write_manifest(dir, "managed", MANAGED));
    let narrow = load(&write_manifest(dir, "narrow", NARROW));
    let live = tabops_apply::inventory::fetch(&client, &managed).await.expect("fetch");
    let plan = tabops_plan::plan(&managed, &live, &PlanOptions::default());
    let audit = AuditLog::open(dir.join("audit.jsonl"), "setup").unwrap();
    let outcome = execute(&plan, &client, &audit, &ExecuteOptions::default()).await.unwrap();
    assert_eq!(outcome.failed() + outcome.skipped(), 0, "{:?}", outcome.actions);
    (emu, client, managed, narrow)
}

/// Fetches with `desired` and returns the inventory and the requests the fetch made.
async fn fetch_counted(emu: &Emulator, client: &Client, desired: &Desired) -> (Inventory, Stats) {
    assert_eq!(site::hook(emu, "stats/reset").await, 204);
    let inventory = tabops_apply::inventory::fetch(client, desired).await.expect("fetch");
    (inventory, emu.stats())
}

fn gets(stats: &Stats, route: &str) -> u64 {
    stats.by_route.get(&format!("GET {route}")).copied().unwrap_or(0)
}

fn id_of<'a>(names: impl IntoIterator<Item = (&'a str, &'a str)>, name: &str) -> String {
    names.into_iter().find(|(n, _)| *n == name).map(|(_, id)| id.to_owned()).unwrap_or_else(|| panic!("no {name}"))
}

#[tokio::test]
async fn permissions_members_and_views_are_read_only_for_what_the_manifest_manages() {
    let dir = tempfile::tempdir().unwrap();
    let (emu, client, managed, narrow) = managed_site(dir.path()).await;

    let (live, stats) = fetch_counted(&emu, &client, &narrow).await;
    let sales = id_of(live.projects.iter().map(|p| (p.name.as_str(), p.id.as_str())), "Sales");
    assert_eq!(gets(&stats, "/sites/{id}/projects/{id}/permissions"), 1, "Sales only: {:?}", stats.by_route);
    assert_eq!(gets(&stats, "/sites/{id}/workbooks/{id}/permissions"), 0, "{:?}", stats.by_route);
    assert_eq!(gets(&stats, "/sites/{id}/groups/{id}/users"), 1, "Analysts only: {:?}", stats.by_route);
    assert_eq!(gets(&stats, "/sites/{id}/views"), 0, "no workbook hides a view: {:?}", stats.by_route);
    assert_eq!(live.permissions.keys().collect::<Vec<_>>(), [&sales]);
    let members = |name: &str| live.groups.iter().find(|g| g.name == name).and_then(|g| g.members.clone());
    let dana = id_of(live.users.iter().map(|u| (u.name.as_str(), u.id.as_str())), "dana@acme.com");
    assert_eq!(members("Analysts"), Some(vec![dana]));
    assert_eq!(members("Leads"), None, "members not managed, so not read");
    assert_eq!(live.workbooks[0].visible_views, None, "views not read");

    let (live, stats) = fetch_counted(&emu, &client, &managed).await;
    assert_eq!(gets(&stats, "/sites/{id}/projects/{id}/permissions"), 2, "{:?}", stats.by_route);
    assert_eq!(gets(&stats, "/sites/{id}/workbooks/{id}/permissions"), 1, "{:?}", stats.by_route);
    assert_eq!(gets(&stats, "/sites/{id}/groups/{id}/users"), 2, "{:?}", stats.by_route);
    assert_eq!(gets(&stats, "/sites/{id}/views"), 1, "one site-wide list: {:?}", stats.by_route);
    assert_eq!(live.permissions.len(), 3);
    let mut visible = live.workbooks[0].visible_views.clone().expect("views read");
    visible.sort();
    assert_eq!(visible, ["Monthly Trend", "Revenue Overview", "Revenue by Region"], "the hidden sheet is not listed");
}

/// What the fetch reads maps back onto the manifest the site was applied from: planning again changes nothing. The
/// narrow manifest leaves alone the permissions and members it does not mention; only its workbook changes, as
/// a republish, because hidden views are published with the file and it hides none.
#[tokio::test]
async fn a_site_applied_from_a_manifest_reads_back_as_converged() {
    let dir = tempfile::tempdir().unwrap();
    let (_emu, client, managed, narrow) = managed_site(dir.path()).await;
    let changes = |desired: &Desired, live: &Inventory| -> Vec<(String, tabops_plan::Action)> {
        let plan = tabops_plan::plan(desired, live, &PlanOptions::default());
        plan.changes().map(|a| (a.id.clone(), a.action)).collect()
    };
    let live = tabops_apply::inventory::fetch(&client, &managed).await.expect("fetch");
    assert_eq!(changes(&managed, &live), []);
    let live = tabops_apply::inventory::fetch(&client, &narrow).await.expect("fetch");
    assert_eq!(changes(&narrow, &live), [("workbook:Sales/Revenue".to_owned(), tabops_plan::Action::Republish)]);
}
