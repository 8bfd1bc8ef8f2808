//! Who owns what, end to end: the real binary against an emulator that behaves as Tableau does (a removal of a user
//! who owns content is refused with 409 and demotes the user to Unlicensed; `mapAssetsTo` hands the content over;
//! refreshes of content without an extract are 409090). Sources: docs/tableau-cloud.md, "Effects of calls on a
//! site".

use tabops_testkit as support;

use std::path::{Path, PathBuf};

use support::{Harness, action, path_str};

/// Writes `manifest.yaml` (and a live-connection workbook and a workbook with an extract) into `dir`.
fn write_manifest(dir: &Path, body: &str) -> PathBuf {
    std::fs::create_dir_all(dir.join("content")).unwrap();
    std::fs::write(
        dir.join("content/live.twb"),
        "<?xml version='1.0' encoding='utf-8' ?>\n<workbook version='18.1'><datasources><datasource name='ds'><connection class='postgres' server='db.acme.com' dbname='sales'/></datasource></datasources><worksheets><worksheet name='Sheet 1'/></worksheets></workbook>\n",
    )
    .unwrap();
    let manifest = dir.join("manifest.yaml");
    std::fs::write(&manifest, format!("version: 1\nsite:\n  server: local\n  content_url: acme\n{body}")).unwrap();
    manifest
}

fn user_by_name(h: &Harness, name: &str) -> Option<tabops_tableau::User> {
    let client = h.client();
    h.block_on(client.users()).unwrap().into_iter().find(|u| u.name.eq_ignore_ascii_case(name))
}

fn project_owner(h: &Harness, name: &str) -> Option<String> {
    let client = h.client();
    h.block_on(client.projects()).unwrap().into_iter().find(|p| p.name == name).and_then(|p| p.owner_id)
}

/// The emulator's signed-in administrator owns `default`: listed (as a reference) so `prune_users` keeps them.
const START: &str = "\
settings:
  prune_users: true
users:
  - { name: admin@tabops.local }
  - { name: alice@acme.com, site_role: Creator }
  - { name: leaver@acme.com, site_role: Creator }
projects:
  - name: Sales
    owner: leaver@acme.com
";

/// A user removed by `prune_users` who still owns a project: the plan is refused and names what they own, since
/// Tableau would answer 409 and leave them Unlicensed; with `settings.reassign_content_to` the removal sends
/// `mapAssetsTo`, the project goes to the heir, and one apply converges.
#[test]
fn pruning_a_user_who_owns_content_is_refused_naming_what_they_own() {
    let h = Harness::start();
    let dir = h.dir.path().join("m");
    let manifest = write_manifest(&dir, START);
    h.apply(&manifest);
    let leaver = user_by_name(&h, "leaver@acme.com").expect("leaver added");
    assert_eq!(project_owner(&h, "Sales").as_deref(), Some(leaver.id.as_str()));

    let without_leaver = "\
settings:
  prune_users: true
users:
  - { name: admin@tabops.local }
  - { name: alice@acme.com, site_role: Creator }
projects:
  - name: Sales
";
    let manifest = write_manifest(&dir, without_leaver);
    let plan = h.tabops(&["plan", "-f", path_str(&manifest)]).expect(1);
    let text = format!("{}{}", plan.stdout, plan.stderr);
    assert!(text.contains("user 'leaver@acme.com' is removed"), "{text}");
    assert!(text.contains("still owns 1: project:Sales"), "{text}");
    assert!(text.contains("settings.reassign_content_to"), "{text}");

    let with_heir = "\
settings:
  prune_users: true
  reassign_content_to: alice@acme.com
users:
  - { name: admin@tabops.local }
  - { name: alice@acme.com, site_role: Creator }
projects:
  - name: Sales
";
    let manifest = write_manifest(&dir, with_heir);
    let plan = h.plan_json(&manifest);
    let alice = user_by_name(&h, "alice@acme.com").expect("alice");
    let remove = action(&plan, "user:leaver@acme.com");
    assert_eq!(remove["operation"]["map_assets_to"], serde_json::json!({"ref": "live", "value": alice.id}), "{remove}");
    h.apply(&manifest);
    assert!(user_by_name(&h, "leaver@acme.com").is_none(), "the user is removed");
    assert_eq!(project_owner(&h, "Sales"), Some(alice.id));
    h.assert_converged(&manifest);
}

/// The manifest gives the removed user's project a new owner: no heir is needed, and the removal waits for that
/// owner change (run in parallel, the removal would meet a user who still owns the project and be refused).
#[test]
fn the_removal_waits_for_owner_changes_that_move_the_users_content() {
    let h = Harness::start();
    let dir = h.dir.path().join("m");
    let manifest = write_manifest(&dir, START);
    h.apply(&manifest);
    let moved = "\
settings:
  prune_users: true
users:
  - { name: admin@tabops.local }
  - { name: alice@acme.com, site_role: Creator }
projects:
  - name: Sales
    owner: alice@acme.com
";
    let manifest = write_manifest(&dir, moved);
    let plan = h.plan_json(&manifest);
    let remove = action(&plan, "user:leaver@acme.com");
    assert_eq!(remove["depends_on"], serde_json::json!(["project:Sales"]), "{remove}");
    assert!(remove["operation"].get("map_assets_to").is_none(), "{remove}");
    h.apply(&manifest);
    assert!(user_by_name(&h, "leaver@acme.com").is_none());
    h.assert_converged(&manifest);
}

/// An owner change to a user whose site role this plan raises waits for the role change (owner.htm: a Viewer may
/// not own a project, a Creator may).
#[test]
fn an_owner_change_waits_for_the_owners_site_role_change() {
    let h = Harness::start();
    let dir = h.dir.path().join("m");
    let manifest =
        write_manifest(&dir, "users:\n  - { name: bob@acme.com, site_role: Viewer }\nprojects:\n  - name: Sales\n");
    h.apply(&manifest);
    let manifest = write_manifest(
        &dir,
        "users:\n  - { name: bob@acme.com, site_role: Creator }\nprojects:\n  - name: Sales\n    owner: bob@acme.com\n",
    );
    let plan = h.plan_json(&manifest);
    let project = action(&plan, "project:Sales");
    assert_eq!(project["depends_on"], serde_json::json!(["user:bob@acme.com"]), "{project}");
    h.apply(&manifest);
    h.assert_converged(&manifest);
}

/// Site roles that may not own a project (owner.htm): setting such an owner is a plan error naming the `owner:`
/// line, with the role the manifest gives the user or, for a user listed without one, their role on the site.
/// `validate` accepts the manifest: Tableau keeps a demoted user as owner, so naming one who already owns it is fine.
#[test]
fn an_owner_whose_site_role_may_not_own_a_project_is_refused() {
    let h = Harness::start();
    let dir = h.dir.path().join("m");
    h.apply(&write_manifest(&dir, "users:\n  - { name: vera@acme.com, site_role: Viewer }\n"));
    for user in ["{ name: vera@acme.com, site_role: Viewer }", "{ name: vera@acme.com }"] {
        let manifest = write_manifest(
            &dir,
            &format!("users:\n  - {user}\nprojects:\n  - name: Sales\n    owner: vera@acme.com\n"),
        );
        h.tabops_in(h.dir.path(), &["validate", "-f", path_str(&manifest)]).expect(0);
        let plan = h.tabops(&["plan", "-f", path_str(&manifest)]).expect(1);
        let text = format!("{}{}", plan.stdout, plan.stderr);
        assert!(
            text.contains(
                "owner 'vera@acme.com' (set at m/manifest.yaml:9) has the site role Viewer and may not own a project"
            ),
            "{user}: {text}"
        );
    }
}

/// `refresh:` on a workbook that holds no extract (the site says `hasExtracts="false"`) is a plan error naming the
/// `refresh:` line: Tableau refuses its refreshes with 409090 (tableauserverclient issue #1531).
#[test]
fn refresh_on_content_without_an_extract_is_a_plan_error_naming_the_line() {
    let h = Harness::start();
    let dir = h.dir.path().join("m");
    let live = "\
projects:
  - name: Sales
workbooks:
  - name: Live
    project: Sales
    file: content/live.twb
";
    h.apply(&write_manifest(&dir, live));
    let manifest = write_manifest(
        &dir,
        &format!("{live}    refresh:\n      - {{ type: full, frequency: weekly, at: \"06:00\", weekdays: [Mon] }}\n"),
    );
    let plan = h.tabops(&["plan", "-f", path_str(&manifest)]).expect(1);
    let text = format!("{}{}", plan.stdout, plan.stderr);
    assert!(text.contains("`refresh:` at m/manifest.yaml:12"), "{text}");
    assert!(text.contains("holds no extract (hasExtracts=false)"), "{text}");
}
