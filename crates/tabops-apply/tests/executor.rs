//! The executor against the emulator over HTTP (started in the test's runtime by the test kit): what happens to the
//! actions that depend on a failed one, how a create whose response was lost is read back instead of being sent
//! twice, and how a refresh task that already exists on the site is adopted instead of duplicated. Each test plans
//! a real manifest against the real inventory fetch, so the plans are the ones the CLI would run.

mod common;

use std::path::Path;

use common::plan;
use tabops_apply::audit::AuditLog;
use tabops_apply::executor::Status;
use tabops_apply::{ExecuteOptions, Outcome, execute};
use tabops_emulator::{Emulator, EmulatorConfig, Stats};
use tabops_plan::{Action, Plan};
use tabops_tableau::Client;
use tabops_testkit::{site, workspace};

/// A manifest directory with `manifest.yaml` and the fixture content it names under `content/`.
fn manifest(dir: &Path, yaml: &str) -> std::path::PathBuf {
    let content = dir.join("content");
    std::fs::create_dir_all(&content).unwrap();
    for file in ["revenue.twb", "orders.tdsx"] {
        std::fs::copy(workspace().join("fixtures/content").join(file), content.join(file)).unwrap();
    }
    std::fs::write(dir.join("manifest.yaml"), yaml).unwrap();
    dir.to_path_buf()
}

async fn apply(client: &Client, plan: &Plan, audit: &Path) -> Outcome {
    let log = AuditLog::open(audit, "test-run").expect("the audit log opens");
    execute(plan, client, &log, &ExecuteOptions::default()).await.expect("the apply runs to its end")
}

fn status<'a>(outcome: &'a Outcome, address: &str) -> &'a Status {
    let found = outcome.actions.iter().find(|a| a.address == address);
    &found.unwrap_or_else(|| panic!("no outcome for {address}: {:?}", outcome.actions)).status
}

fn route(stats: &Stats, name: &str) -> u64 {
    stats.by_route.get(name).copied().unwrap_or(0)
}

async fn emulator() -> Emulator {
    site::emulator_with(EmulatorConfig { test_hooks: true, ..EmulatorConfig::default() }).await
}

const ORDERS_AND_REVENUE: &str = r#"version: 1
site: { server: local, content_url: acme }
groups:
  - name: Analysts
projects:
  - name: Sales
datasources:
  - name: Orders
    project: Sales
    file: content/orders.tdsx
    refresh:
      - { type: full, frequency: daily, at: "06:00", weekdays: [Mon] }
workbooks:
  - name: Revenue
    project: Sales
    file: content/revenue.twb
    permissions:
      - { group: Analysts, template: Viewer }
"#;

/// The data source's file changes between plan and apply, so its publish fails (the client refuses bytes other than
/// the planned ones). Its refresh task, which needs it, is skipped without a request and says why; everything that
/// does not depend on it (the group, the project, the workbook and its permissions) completes; and the next plan
/// and apply finish the job.
#[tokio::test]
async fn a_failed_publish_skips_its_refresh_task_and_nothing_that_does_not_depend_on_it() {
    let emu = emulator().await;
    let client = site::client(&emu).await;
    let dir = tempfile::tempdir().unwrap();
    let src = manifest(&dir.path().join("src"), ORDERS_AND_REVENUE);
    let first = plan(&client, &src).await;
    let task = first
        .actions
        .iter()
        .find(|a| a.id.starts_with("refresh:"))
        .map(|a| a.id.clone())
        .expect("the plan creates the refresh task");
    let orders = "datasource:Sales/Orders";
    assert!(first.actions.iter().any(|a| a.id == task && a.depends_on.iter().any(|d| d == orders)));

    let mut bytes = std::fs::read(src.join("content/orders.tdsx")).unwrap();
    bytes.extend_from_slice(b"changed after planning");
    std::fs::write(src.join("content/orders.tdsx"), bytes).unwrap();
    let audit = dir.path().join("audit.jsonl");
    let outcome = apply(&client, &first, &audit).await;

    assert!(matches!(status(&outcome, orders), Status::Failed(_)), "{:?}", status(&outcome, orders));
    let expected_skip = format!("depends on {orders}, which did not complete");
    assert_eq!(status(&outcome, &task), &Status::Skipped(expected_skip.clone()));
    assert_eq!((outcome.failed(), outcome.skipped()), (1, 1), "{:?}", outcome.actions);
    assert_eq!(outcome.completed(), first.changes().count() - 2, "every independent action completed");
    for address in ["group:Analysts", "project:Sales", "workbook:Sales/Revenue"] {
        assert_eq!(status(&outcome, address), &Status::Completed, "{address}");
    }
    assert_eq!(route(&emu.stats(), "POST /sites/{id}/tasks/extractRefreshes"), 0, "no request for a skipped task");
    assert_eq!(route(&emu.stats(), "POST /sites/{id}/datasources"), 0, "changed bytes are never sent");
    let log = std::fs::read_to_string(&audit).unwrap();
    let skipped: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["type"] == "action_skipped")
        .collect();
    assert_eq!(skipped.len(), 1, "{log}");
    assert_eq!(skipped[0]["data"]["address"], task.as_str(), "{}", skipped[0]);
    assert_eq!(skipped[0]["data"]["reason"], expected_skip.as_str(), "{}", skipped[0]);

    // Put the planned file back: the next plan holds only what did not happen, and applying it converges.
    std::fs::copy(workspace().join("fixtures/content/orders.tdsx"), src.join("content/orders.tdsx")).unwrap();
    let rest = plan(&client, &src).await;
    let mut left: Vec<&str> = rest.changes().map(|a| a.id.as_str()).collect();
    left.sort_unstable();
    assert_eq!(left, [orders, task.as_str()]);
    let outcome = apply(&client, &rest, &audit).await;
    assert_eq!((outcome.completed(), outcome.failed(), outcome.skipped()), (2, 0, 0), "{:?}", outcome.actions);
    assert_eq!(plan(&client, &src).await.changes().count(), 0, "converged");
}

/// Tableau may apply a create and lose the response (a dropped connection): the request cannot be repeated blindly,
/// or the site would get two of the item (groups and projects are unique by name and would 409; users too; but the
/// outcome would be a failure). The executor reads the site back, finds what it created and records its id, so the
/// apply completes with one create request per object, and a later plan finds nothing to do.
#[tokio::test]
async fn creates_whose_responses_were_lost_are_read_back_and_not_sent_twice() {
    let emu = emulator().await;
    let client = site::client(&emu).await;
    let dir = tempfile::tempdir().unwrap();
    let yaml = r#"version: 1
site: { server: local, content_url: acme }
users:
  - { name: dana@acme.com, site_role: Viewer }
groups:
  - name: Analysts
projects:
  - name: Finance
"#;
    let src = manifest(&dir.path().join("src"), yaml);
    let planned = plan(&client, &src).await;
    let mut creates: Vec<(&str, Action)> = planned.changes().map(|a| (a.id.as_str(), a.action)).collect();
    creates.sort_unstable();
    assert_eq!(
        creates,
        [
            ("group:Analysts", Action::Create),
            ("project:Finance", Action::Create),
            ("user:dana@acme.com", Action::Create)
        ]
    );

    assert_eq!(site::hook(&emu, "responses/lose?writes=3").await, 204);
    let outcome = apply(&client, &planned, &dir.path().join("audit.jsonl")).await;

    assert_eq!((outcome.completed(), outcome.failed(), outcome.skipped()), (3, 0, 0), "{:?}", outcome.actions);
    let stats = emu.stats();
    assert_eq!(stats.faults_by_kind.get("lost_response"), Some(&3), "all three responses were lost: {stats:?}");
    for create in ["POST /sites/{id}/users", "POST /sites/{id}/groups", "POST /sites/{id}/projects"] {
        assert_eq!(route(&stats, create), 1, "{create} sent once: {:?}", stats.by_route);
    }
    let named = |names: Vec<String>, name: &str| names.iter().filter(|n| n.as_str() == name).count();
    assert_eq!(named(client.users().await.unwrap().into_iter().map(|u| u.name).collect(), "dana@acme.com"), 1);
    assert_eq!(named(client.groups().await.unwrap().into_iter().map(|g| g.name).collect(), "Analysts"), 1);
    assert_eq!(named(client.projects().await.unwrap().into_iter().map(|p| p.name).collect(), "Finance"), 1);
    assert_eq!(plan(&client, &src).await.changes().count(), 0, "the ids read back were the created objects");
}

const ORDERS: &str = r#"version: 1
site: { server: local, content_url: acme }
projects:
  - name: Sales
datasources:
  - name: Orders
    project: Sales
    file: content/orders.tdsx
"#;

const ORDERS_REFRESHED: &str = r#"version: 1
site: { server: local, content_url: acme }
projects:
  - name: Sales
datasources:
  - name: Orders
    project: Sales
    file: content/orders.tdsx
    refresh:
      - { type: full, frequency: daily, at: "06:00", weekdays: [Mon, Wed] }
"#;

/// Tableau has no uniqueness rule for refresh tasks, so a task another apply created after this plan was made (or
/// this apply created before its response was lost) would be duplicated by a plain create. Two cases, one task in
/// the end each time: the same plan applied twice (a concurrent apply of the same plan) adopts the task the first
/// run created, and a create whose response is lost adopts the task it did create.
#[tokio::test]
async fn an_equal_refresh_task_already_on_the_site_is_adopted_not_duplicated() {
    let emu = emulator().await;
    let client = site::client(&emu).await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let src = manifest(&dir.path().join("src"), ORDERS);
    let outcome = apply(&client, &plan(&client, &src).await, &audit).await;
    assert_eq!(outcome.failed(), 0, "{:?}", outcome.actions);
    std::fs::write(src.join("manifest.yaml"), ORDERS_REFRESHED).unwrap();
    let create_task = "POST /sites/{id}/tasks/extractRefreshes";

    // The same plan, applied twice.
    let planned = plan(&client, &src).await;
    let changes: Vec<(&str, Action)> = planned.changes().map(|a| (a.id.as_str(), a.action)).collect();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].1, Action::Create);
    let first = apply(&client, &planned, &audit).await;
    let again = apply(&client, &planned, &audit).await;
    assert_eq!((first.completed(), again.completed()), (1, 1), "{:?} {:?}", first.actions, again.actions);
    assert_eq!(route(&emu.stats(), create_task), 1, "the second run created nothing");
    let tasks = client.refresh_tasks().await.unwrap();
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(plan(&client, &src).await.changes().count(), 0);

    // A create whose response is lost: delete the task, plan its create again, lose the create's response.
    client.delete_refresh_task(&tasks[0].id).await.unwrap();
    let planned = plan(&client, &src).await;
    assert_eq!(planned.changes().count(), 1);
    assert_eq!(site::hook(&emu, "responses/lose?writes=1").await, 204);
    let outcome = apply(&client, &planned, &audit).await;
    assert_eq!((outcome.completed(), outcome.failed()), (1, 0), "{:?}", outcome.actions);
    assert_eq!(emu.stats().faults_by_kind.get("lost_response"), Some(&1));
    assert_eq!(route(&emu.stats(), create_task), 2, "one create for the lost response, none after it");
    assert_eq!(client.refresh_tasks().await.unwrap().len(), 1, "adopted, not duplicated");
    assert_eq!(plan(&client, &src).await.changes().count(), 0);
}

/// Skips follow the whole chain: a project whose create fails (its parent was deleted on the site after the plan,
/// so Tableau answers 404) skips the workbook to be published in it, which skips the workbook's permissions, each
/// naming the dependency that did not complete; the group, which needs none of them, is created.
#[tokio::test]
async fn a_failed_create_skips_its_dependents_through_the_whole_chain() {
    let emu = emulator().await;
    let client = site::client(&emu).await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let base = "version: 1\nsite: { server: local, content_url: acme }\nprojects:\n  - name: Sales\n";
    let src = manifest(&dir.path().join("src"), base);
    assert_eq!(apply(&client, &plan(&client, &src).await, &audit).await.failed(), 0);
    let chain = r#"version: 1
site: { server: local, content_url: acme }
groups:
  - name: Analysts
projects:
  - name: Sales
    projects:
      - name: EMEA
workbooks:
  - name: Revenue
    project: Sales/EMEA
    file: content/revenue.twb
    permissions:
      - { group: Analysts, template: Viewer }
"#;
    std::fs::write(src.join("manifest.yaml"), chain).unwrap();
    let planned = plan(&client, &src).await;
    let (project, workbook) = ("project:Sales/EMEA", "workbook:Sales/EMEA/Revenue");
    let on_workbook: Vec<&str> =
        planned.changes().filter(|a| a.depends_on.iter().any(|d| d == workbook)).map(|a| a.id.as_str()).collect();
    assert!(!on_workbook.is_empty(), "the workbook's permissions depend on it");

    let sales = client.projects().await.unwrap().into_iter().find(|p| p.name == "Sales").expect("Sales").id;
    client.delete_project(&sales).await.unwrap();
    let outcome = apply(&client, &planned, &audit).await;

    assert!(matches!(status(&outcome, project), Status::Failed(_)), "{:?}", status(&outcome, project));
    let skipped_by = |dependency: &str| Status::Skipped(format!("depends on {dependency}, which did not complete"));
    assert_eq!(status(&outcome, workbook), &skipped_by(project));
    // Each of the workbook's permission actions is skipped, naming the workbook or another of them it waits for.
    for id in &on_workbook {
        let named = [workbook].iter().chain(&on_workbook).any(|dep| status(&outcome, id) == &skipped_by(dep));
        assert!(named, "{id}: {:?}", status(&outcome, id));
    }
    assert_eq!(status(&outcome, "group:Analysts"), &Status::Completed);
    assert_eq!((outcome.failed(), outcome.skipped()), (1, 1 + on_workbook.len()), "{:?}", outcome.actions);
    assert_eq!(route(&emu.stats(), "POST /sites/{id}/workbooks"), 0, "nothing published into a missing project");
}

/// A bootstrap in small: `groups` groups of `members` new users each, and `sources` data sources, each tagged and
/// with a daily refresh task.
fn bootstrap_yaml(groups: usize, members: usize, sources: usize) -> String {
    let mut yaml = String::from("version: 1\nsite: { server: local, content_url: acme }\nusers:\n");
    for g in 0..groups {
        for m in 0..members {
            yaml.push_str(&format!("  - {{ name: user{g}x{m}@acme.com, site_role: Viewer }}\n"));
        }
    }
    yaml.push_str("groups:\n");
    for g in 0..groups {
        let names: Vec<String> = (0..members).map(|m| format!("user{g}x{m}@acme.com")).collect();
        yaml.push_str(&format!("  - {{ name: Team {g}, members: [{}] }}\n", names.join(", ")));
    }
    yaml.push_str("projects:\n  - name: Sales\ndatasources:\n");
    for s in 0..sources {
        yaml.push_str(&format!(
            "  - name: Orders {s}\n    project: Sales\n    file: content/orders.tdsx\n    tags: [finance]\n    refresh:\n      - {{ type: full, frequency: daily, at: \"06:00\", weekdays: [Mon] }}\n"
        ));
    }
    yaml
}

/// Requests per route sent between two snapshots of the emulator's counters.
fn sent(before: &Stats, after: &Stats, name: &str) -> u64 {
    route(after, name) - route(before, name)
}

const ADD_MEMBERS: &str = "POST /sites/{id}/groups/{id}/users";
const LIST_TASKS: &str = "GET /sites/{id}/tasks/extractRefreshes";

/// The write path of a bootstrap at its request minimum, counted per route by the emulator: 3 groups of 20 new
/// members cost one Add Users to Group request per group (not 60 single adds), 10 refresh-task creates read the
/// task list once to look for equal tasks and once to settle them (not twice per task), and each of the 10
/// published data sources gets its tags, checksum marker and commit marker in one Add Tags request.
#[tokio::test]
async fn a_bootstrap_adds_each_groups_members_in_one_request_and_reads_the_task_list_twice() {
    let emu = emulator().await;
    let client = site::client(&emu).await;
    assert!(client.supports_bulk_membership(), "the default API version has the bulk membership methods");
    let dir = tempfile::tempdir().unwrap();
    let src = manifest(&dir.path().join("src"), &bootstrap_yaml(3, 20, 10));
    let mut planned = plan(&client, &src).await;
    planned.inputs.git = Some(tabops_plan::plan::GitInfo {
        commit: "0123456789abcdef0123456789abcdef01234567".to_owned(),
        branch: None,
        author: None,
        dirty: false,
    });
    let before = emu.stats();
    let outcome = apply(&client, &planned, &dir.path().join("audit.jsonl")).await;
    let after = emu.stats();

    assert_eq!(outcome.failed() + outcome.skipped(), 0, "{:?}", outcome.actions);
    assert_eq!(sent(&before, &after, ADD_MEMBERS), 3, "one bulk add per group: {:?}", after.by_route);
    assert_eq!(sent(&before, &after, "POST /sites/{id}/users"), 60);
    assert_eq!(sent(&before, &after, "POST /sites/{id}/tasks/extractRefreshes"), 10);
    assert_eq!(
        sent(&before, &after, LIST_TASKS),
        2,
        "one listing for the lookups, one to settle: {:?}",
        after.by_route
    );
    assert_eq!(sent(&before, &after, "POST /sites/{id}/datasources"), 10);
    assert_eq!(sent(&before, &after, "PUT /sites/{id}/datasources/{id}/tags"), 10, "one tag request per item");
    assert_eq!(sent(&before, &after, "DELETE /sites/{id}/datasources/{id}/tags/{id}"), 0);

    for group in client.groups().await.unwrap().into_iter().filter(|g| g.name.starts_with("Team ")) {
        assert_eq!(client.group_members(&group.id).await.unwrap().len(), 20, "{}", group.name);
    }
    for source in client.datasources().await.unwrap() {
        let tags: Vec<&str> = source.tags.iter().map(String::as_str).collect();
        assert!(tags.contains(&"finance"), "{}: {tags:?}", source.name);
        assert!(tags.contains(&"tabops.commit.0123456789ab"), "{}: {tags:?}", source.name);
        assert!(tags.iter().any(|t| t.starts_with("tabops.sha256.")), "{}: {tags:?}", source.name);
    }
    assert_eq!(client.refresh_tasks().await.unwrap().len(), 10);
    assert_eq!(plan(&client, &src).await.changes().count(), 0, "the bootstrap converged");
}

/// A bulk add that Tableau refuses as a whole (one of the users joined the group after the plan: 409011) falls back
/// to one request per member, so the member already there counts as done and the others are added; a client pinned
/// to an API version before 3.21 sends one request per member from the start, and removes one by one too.
#[tokio::test]
async fn a_refused_bulk_add_and_an_api_version_before_3_21_fall_back_to_one_request_per_member() {
    let emu = emulator().await;
    let client = site::client(&emu).await;
    let dir = tempfile::tempdir().unwrap();
    let src = manifest(&dir.path().join("src"), &bootstrap_yaml(1, 5, 0));
    // The users and the group exist; the memberships are still to be added.
    let without_members = bootstrap_yaml(1, 5, 0).replace(
        "members: [user0x0@acme.com, user0x1@acme.com, user0x2@acme.com, user0x3@acme.com, user0x4@acme.com]",
        "members: []",
    );
    std::fs::write(src.join("manifest.yaml"), &without_members).unwrap();
    let audit = dir.path().join("audit.jsonl");
    assert_eq!(apply(&client, &plan(&client, &src).await, &audit).await.failed(), 0);
    std::fs::write(src.join("manifest.yaml"), bootstrap_yaml(1, 5, 0)).unwrap();
    let planned = plan(&client, &src).await;
    assert_eq!(planned.changes().count(), 5, "five member adds");
    let group = client.groups().await.unwrap().into_iter().find(|g| g.name == "Team 0").unwrap();
    let late = client.users().await.unwrap().into_iter().find(|u| u.name == "user0x2@acme.com").unwrap();
    client.add_group_member(&group.id, &late.id).await.unwrap();

    let before = emu.stats();
    let outcome = apply(&client, &planned, &audit).await;
    let after = emu.stats();
    assert_eq!((outcome.completed(), outcome.failed()), (5, 0), "{:?}", outcome.actions);
    assert_eq!(sent(&before, &after, ADD_MEMBERS), 6, "the refused bulk add, then one per member");
    assert_eq!(client.group_members(&group.id).await.unwrap().len(), 5);

    // An API version before the bulk methods: the same removes and adds, one request each.
    let mut config = site::config(&emu);
    config.api_version = "3.20".to_owned();
    let old = Client::sign_in(config).await.unwrap();
    assert!(!old.supports_bulk_membership());
    std::fs::write(src.join("manifest.yaml"), &without_members).unwrap();
    let removes = plan(&old, &src).await;
    let before = emu.stats();
    assert_eq!(apply(&old, &removes, &audit).await.completed(), 5);
    let after = emu.stats();
    assert_eq!(sent(&before, &after, "DELETE /sites/{id}/groups/{id}/users/{id}"), 5);
    assert_eq!(sent(&before, &after, "PUT /sites/{id}/groups/{id}/users/remove"), 0);
    std::fs::write(src.join("manifest.yaml"), bootstrap_yaml(1, 5, 0)).unwrap();
    let adds = plan(&old, &src).await;
    let before = emu.stats();
    assert_eq!(apply(&old, &adds, &audit).await.completed(), 5);
    assert_eq!(sent(&before, &emu.stats(), ADD_MEMBERS), 5, "one single add per member");
    assert_eq!(client.group_members(&group.id).await.unwrap().len(), 5);
}

/// The grants of one permission set go in one Add Permissions request. When Tableau refuses it as a whole (a
/// grantee deleted since the plan), each grant is sent on its own, so the error lands on the grantee it belongs to
/// and the others are granted.
#[tokio::test]
async fn a_sets_grants_go_in_one_request_and_a_refused_one_falls_back_to_one_per_grantee() {
    const PUT_RULES: &str = "PUT /sites/{id}/projects/{id}/permissions";
    let emu = emulator().await;
    let client = site::client(&emu).await;
    let dir = tempfile::tempdir().unwrap();
    let groups = "version: 1\nsite: { server: local, content_url: acme }\ngroups:\n  - name: Analysts\n  - name: Leads\n  - name: Viewers\nprojects:\n";
    let rules = |names: &[&str]| -> String {
        let lines: Vec<String> =
            names.iter().map(|g| format!("      - {{ group: {g}, template: Viewer }}\n")).collect();
        format!("    permissions:\n{}", lines.concat())
    };
    let src = manifest(&dir.path().join("src"), &format!("{groups}  - name: Sales\n  - name: Ops\n"));
    let audit = dir.path().join("audit.jsonl");
    assert_eq!(apply(&client, &plan(&client, &src).await, &audit).await.failed(), 0);

    let sales = format!("  - name: Sales\n{}", rules(&["Analysts", "Leads"]));
    std::fs::write(src.join("manifest.yaml"), format!("{groups}{sales}  - name: Ops\n")).unwrap();
    let before = emu.stats();
    let outcome = apply(&client, &plan(&client, &src).await, &audit).await;
    // The two grants, and the revoke of the `All Users` rule the project copied from `default` when it was created.
    assert_eq!((outcome.completed(), outcome.failed()), (3, 0), "{:?}", outcome.actions);
    assert_eq!(sent(&before, &emu.stats(), PUT_RULES), 1, "both grantees in one request");

    let ops = format!("  - name: Ops\n{}", rules(&["Analysts", "Leads", "Viewers"]));
    std::fs::write(src.join("manifest.yaml"), format!("{groups}{sales}{ops}")).unwrap();
    let planned = plan(&client, &src).await;
    assert_eq!(planned.changes().count(), 4, "three grants on Ops and the revoke of its copied rule");
    let viewers = client.groups().await.unwrap().into_iter().find(|g| g.name == "Viewers").unwrap();
    client.delete_group(&viewers.id).await.unwrap();
    let before = emu.stats();
    let outcome = apply(&client, &planned, &audit).await;
    assert_eq!((outcome.completed(), outcome.failed()), (3, 1), "{:?}", outcome.actions);
    assert!(matches!(status(&outcome, "permissions:project:Ops/group:Viewers"), Status::Failed(_)));
    assert_eq!(sent(&before, &emu.stats(), PUT_RULES), 4, "the refused request, then one per grantee");
    let ops_id = client.projects().await.unwrap().into_iter().find(|p| p.name == "Ops").unwrap().id;
    let granted = client.permissions(&tabops_tableau::PermissionTarget::Project(ops_id)).await.unwrap();
    let names: Vec<String> = client
        .groups()
        .await
        .unwrap()
        .into_iter()
        .filter(|g| granted.iter().any(|r| r.grantee.id == g.id))
        .map(|g| g.name)
        .collect();
    assert_eq!(names.len(), 2, "Analysts and Leads are granted: {names:?}");
}

/// The plan's member removes of one group go in one Remove Users from Group request.
#[tokio::test]
async fn member_removes_of_one_group_go_in_one_bulk_request() {
    let emu = emulator().await;
    let client = site::client(&emu).await;
    let dir = tempfile::tempdir().unwrap();
    let src = manifest(&dir.path().join("src"), &bootstrap_yaml(2, 4, 0));
    let audit = dir.path().join("audit.jsonl");
    assert_eq!(apply(&client, &plan(&client, &src).await, &audit).await.failed(), 0);
    let emptied = bootstrap_yaml(2, 4, 0)
        .replace("members: [user0x0@acme.com, user0x1@acme.com, user0x2@acme.com, user0x3@acme.com]", "members: []")
        .replace(
            "members: [user1x0@acme.com, user1x1@acme.com, user1x2@acme.com, user1x3@acme.com]",
            "members: [user1x0@acme.com]",
        );
    std::fs::write(src.join("manifest.yaml"), emptied).unwrap();
    let planned = plan(&client, &src).await;
    assert_eq!(planned.changes().count(), 7, "four removes from one group, three from the other");
    let before = emu.stats();
    let outcome = apply(&client, &planned, &audit).await;
    let after = emu.stats();
    assert_eq!(outcome.completed(), 7, "{:?}", outcome.actions);
    assert_eq!(sent(&before, &after, "PUT /sites/{id}/groups/{id}/users/remove"), 2, "{:?}", after.by_route);
    assert_eq!(sent(&before, &after, "DELETE /sites/{id}/groups/{id}/users/{id}"), 0);
    assert_eq!(plan(&client, &src).await.changes().count(), 0);
}
