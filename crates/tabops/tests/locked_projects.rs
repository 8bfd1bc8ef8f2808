//! Locked projects (issue 20): in a project whose content permissions are locked, the items' rules are the
//! project's (Tableau refuses changing them: 403004, kb.tableau.com "403004 Error Returned Using Rest API"). A lock
//! the manifest declares is checked by `validate` (see `fixtures/manifests/invalid/locked-project-permissions`);
//! a lock set only on the site is read from the permission responses (`<parent>`) and refused at plan time, before
//! anything is sent. Each test drives the real binary against the emulator, which enforces the lock.

use tabops_testkit as support;

use std::path::PathBuf;

use support::{Harness, content_writes, path_str};

fn manifest(h: &Harness) -> PathBuf {
    let dir = h.dir.path().join("locked");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(support::workspace().join("examples/quickstart/content/orders.tds"), dir.join("orders.tds")).unwrap();
    let yaml = format!(
        "version: 1\nsite: {{ server: {}, content_url: acme }}\ngroups:\n  - {{ name: Readers }}\nprojects:\n  - name: Desk\n\
         datasources:\n  - name: Ledger\n    project: Desk\n    file: orders.tds\n    permissions:\n      - {{ group: Readers, template: Viewer }}\n",
        h.url()
    );
    std::fs::write(dir.join("manifest.yaml"), yaml).unwrap();
    dir
}

#[test]
fn rules_under_a_project_locked_only_on_the_site_are_refused_at_plan_time() {
    let h = Harness::start();
    let dir = manifest(&h);
    h.apply(&dir);
    h.assert_converged(&dir);

    // An administrator locks the project in the web UI; the manifest says nothing of its lock.
    let client = h.client();
    let projects = h.block_on(client.projects()).unwrap();
    let desk = projects.iter().find(|p| p.name == "Desk").unwrap().id.clone();
    let lock =
        tabops_tableau::ProjectUpdate { content_permissions: Some("LockedToProject".into()), ..Default::default() };
    h.block_on(client.update_project(&desk, &lock)).unwrap();

    let before = h.stats();
    let run = h.tabops(&["apply", "-f", path_str(&dir), "--auto-approve"]).expect(1);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(all.contains("controlled by project 'Desk'"), "{all}");
    assert_eq!(content_writes(&h.stats()), content_writes(&before), "nothing is sent: {all}");

    // Unlocking it in the manifest makes the plan valid again: the lock change comes first, then the rules.
    let file = dir.join("manifest.yaml");
    let yaml = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        yaml.replace("  - name: Desk\n", "  - name: Desk\n    content_permissions: ManagedByOwner\n"),
    )
    .unwrap();
    h.apply(&dir);
    h.assert_converged(&dir);
}
