//! Moves and renames of content, through the real binary against the emulator. Changing only a workbook's
//! `project:` or `name:` in git, without `renamed_from`, plans a new copy (the live item is left unmanaged, or
//! deleted under a pruning project); the plan says which live item holds the same content and the `renamed_from:`
//! line that moves it in place instead. A rename under a pruning project is a delete and a create, and the project
//! is not reported as emptied: the plan puts an item back. With `renamed_from`, apply moves the live item with one
//! Update Workbook carrying the new project id (REST API reference, "Update Workbook": `<workbook><project id=
//! "..."/></workbook>`; tableauserverclient `WorkbookRequest.update_req` writes the same element): its id is kept
//! and nothing is uploaded.

use std::path::Path;

use tabops_testkit as support;

use support::{Harness, edit, path_str, route, transcript_step};

fn filters(root: &Path) -> insta::Settings {
    tabops_testkit::transcript_filters(root)
}

/// The live id and project id of the workbook named `name`.
fn workbook(site: &Harness, name: &str) -> Option<(String, String)> {
    let client = site.client();
    let workbooks = site.block_on(client.workbooks()).unwrap();
    workbooks.into_iter().find(|w| w.name == name).map(|w| (w.id, w.project_id.unwrap_or_default()))
}

/// The live id of the project named `name`.
fn project_id(site: &Harness, name: &str) -> String {
    let client = site.client();
    let projects = site.block_on(client.projects()).unwrap();
    projects.into_iter().find(|p| p.name == name).map(|p| p.id).unwrap()
}

#[test]
fn a_workbook_moved_or_renamed_in_git_is_matched_by_content_and_moved_in_place_with_renamed_from() {
    let site = Harness::start();
    let repo = site.copy_example("quickstart", "repo");
    let manifest = repo.join("manifest.yaml");
    let applied = std::fs::read_to_string(&manifest).unwrap();
    site.apply(&manifest);
    let (revenue, emea) = workbook(&site, "Revenue").unwrap();
    let mut transcript = String::new();
    let plan_args = ["plan", "-f", path_str(&manifest)];
    let mut plan = |code: i32| {
        let run = site.tabops(&plan_args).expect(code);
        transcript.push_str(&transcript_step(&plan_args, &run));
        run
    };

    // Renamed under a pruning project: a delete and a create in EMEA, which keeps an item (no emptied project).
    edit(
        &manifest,
        "        description: Europe, Middle East and Africa\n",
        "        description: Europe, Middle East and Africa\n        prune: true\n",
    );
    edit(&manifest, "  - name: Revenue\n", "  - name: Revenue by Region\n");
    let renamed = plan(0);
    assert!(renamed.stdout.contains("- workbook:Sales/EMEA/Revenue\n"), "{}", renamed.stdout);
    assert!(
        renamed.stdout.contains("add `renamed_from: Revenue` to move it in place and keep its id"),
        "{}",
        renamed.stdout
    );
    assert!(!renamed.stdout.contains("every content item"), "{}", renamed.stdout);

    // Only the project changes (EMEA does not prune): a second copy, and the first is unmanaged.
    std::fs::write(&manifest, &applied).unwrap();
    edit(
        &manifest,
        "    project: Sales/EMEA\n    file: content/revenue.twbx\n",
        "    project: Sales\n    file: content/revenue.twbx\n",
    );
    let moved = plan(0);
    assert!(moved.stdout.contains("+ workbook:Sales/Revenue\n"), "{}", moved.stdout);
    assert!(
        moved.stdout.contains(
            "looks like a move/rename of workbook:Sales/EMEA/Revenue (same content): add `renamed_from: { project: \
             Sales/EMEA, name: Revenue }`"
        ),
        "{}",
        moved.stdout
    );

    // What the plan suggests: the live workbook is moved by an update, keeping its id.
    edit(
        &manifest,
        "    file: content/revenue.twbx\n",
        "    file: content/revenue.twbx\n    renamed_from: { project: Sales/EMEA, name: Revenue }\n",
    );
    let in_place = plan(0);
    assert!(in_place.stdout.contains("~ workbook:Sales/Revenue\n"), "{}", in_place.stdout);
    assert!(in_place.stdout.contains("Plan: 0 to add, 1 to change, 0 to destroy."), "{}", in_place.stdout);
    let before = site.stats();
    site.apply(&manifest);
    let after = site.stats();
    let delta = |name: &str| route(&after, name) - route(&before, name);
    assert_eq!(delta("PUT /sites/{id}/workbooks/{id}"), 1, "{:?}", after.by_route);
    assert_eq!(delta("POST /sites/{id}/workbooks"), 0, "nothing is published");
    assert_eq!(delta("DELETE /sites/{id}/workbooks/{id}"), 0, "nothing is deleted");
    let (id, project) = workbook(&site, "Revenue").unwrap();
    assert_eq!(id, revenue, "the workbook keeps its id");
    assert_ne!(project, emea);
    assert_eq!(project, project_id(&site, "Sales"));
    site.assert_converged(&manifest);

    filters(site.dir.path()).bind(|| insta::assert_snapshot!("moves_and_renames", transcript));
}
