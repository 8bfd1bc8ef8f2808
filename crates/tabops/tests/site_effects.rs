//! What Tableau does to a site on its own, driven through the real binary against the emulator: every site has the
//! `All Users` group and a `default` project that grants it, and a new project or published item starts with
//! copied rules (help: permissions_projects.htm, permissions_project_defaults.htm; GtheSheep/terraform-provider-
//! tableau#63). One apply must still end in a clean plan with exactly the manifest's rules.

use tabops_testkit as support;

use std::path::Path;

use support::{Harness, path_str};
use tabops_tableau as api;

const PUBLISH_WORKBOOK: &str = "POST /sites/{id}/workbooks";

/// The id of the top-level project `name` and of the `All Users` group.
fn ids(h: &Harness, name: &str) -> (String, String) {
    let client = h.client();
    let projects = h.block_on(client.projects()).expect("projects");
    let project = projects
        .iter()
        .find(|p| p.parent_id.is_none() && p.name == name)
        .unwrap_or_else(|| panic!("no project {name}"))
        .id
        .clone();
    let groups = h.block_on(client.groups()).expect("groups");
    let all = groups.iter().find(|g| g.name == "All Users").expect("every site has All Users").id.clone();
    (project, all)
}

/// `(capability, mode)` rules of `grantee` on a project.
fn rules_of(h: &Harness, project: &str, grantee: &str) -> Vec<(String, api::CapabilityMode)> {
    let client = h.client();
    let rules = h.block_on(client.permissions(&api::PermissionTarget::Project(project.to_owned()))).expect("rules");
    let mut out: Vec<_> = rules
        .into_iter()
        .filter(|r| r.grantee.id == grantee)
        .flat_map(|r| r.capabilities.into_iter().map(|c| (c.name, c.mode)))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn one_apply_of_the_quickstart_converges_with_no_all_users_rule_on_the_created_project() {
    let h = Harness::start();
    let (default, all) = ids(&h, "default");
    assert!(!rules_of(&h, &default, &all).is_empty(), "the site's default project grants All Users");
    let manifest = h.copy_example("quickstart", "quickstart").join("manifest.yaml");
    h.apply(&manifest);
    h.assert_converged(&manifest);
    let (sales, _) = ids(&h, "Sales");
    assert_eq!(rules_of(&h, &sales, &all), vec![], "the All Users rules Tableau copied onto Sales are revoked");
}

#[test]
fn a_manifest_deny_over_a_copied_allow_converges_in_one_apply() {
    let h = Harness::start();
    let manifest = h.dir.path().join("deny.yaml");
    std::fs::write(
        &manifest,
        "version: 1\nsite: { server: local, content_url: acme }\ngroups:\n  - name: All Users\nprojects:\n  - name: Private\n    permissions:\n      \
         - { group: All Users, capabilities: { Read: Deny } }\n",
    )
    .unwrap();
    h.apply(&manifest);
    h.assert_converged(Path::new(path_str(&manifest)));
    let (private, all) = ids(&h, "Private");
    assert_eq!(rules_of(&h, &private, &all), vec![("Read".to_owned(), api::CapabilityMode::Deny)]);
}

const BOOK: &str = "<?xml version='1.0'?><workbook><worksheets><worksheet name='Sales'/></worksheets></workbook>";

#[test]
fn an_overwrite_publish_keeps_the_owner_description_and_tabs_the_manifest_leaves_alone() {
    // Tableau makes the publisher the owner of what it overwrites (help: owner.htm) and takes description and
    // showTabs from the publish request (TSC #1590); the id and permissions stay with the item.
    let h = Harness::start();
    let dir = h.dir.path().join("overwrite");
    std::fs::create_dir_all(dir.join("content")).unwrap();
    let book = dir.join("content/book.twb");
    std::fs::write(&book, BOOK).unwrap();
    let manifest = dir.join("manifest.yaml");
    std::fs::write(
        &manifest,
        "version: 1\nsite: { server: local, content_url: acme }\nusers:\n  - { name: alice@acme.com, site_role: \
         Creator }\nprojects:\n  - name: Reports\nworkbooks:\n  - name: Book\n    project: Reports\n    file: \
         content/book.twb\n",
    )
    .unwrap();
    h.apply(&manifest);
    let client = h.client();
    let find = |client: &api::Client| {
        let workbooks = h.block_on(client.workbooks()).expect("workbooks");
        workbooks.into_iter().find(|w| w.name == "Book").expect("published")
    };
    let before = find(&client);
    let users = h.block_on(client.users()).expect("users");
    let alice = users.iter().find(|u| u.name == "alice@acme.com").expect("alice").id.clone();
    let update = api::WorkbookUpdate {
        description: Some("Written on the site".into()),
        show_tabs: Some(true),
        owner_id: Some(alice.clone()),
        ..Default::default()
    };
    h.block_on(client.update_workbook(&before.id, &update)).expect("out-of-band update");

    std::fs::write(&book, BOOK.replace("</worksheets>", "<worksheet name='More'/></worksheets>")).unwrap();
    let publishes_before = support::route(&h.stats(), PUBLISH_WORKBOOK);
    h.apply(&manifest);
    assert_eq!(support::route(&h.stats(), PUBLISH_WORKBOOK), publishes_before + 1, "republished");
    let after = find(&h.client());
    assert_eq!(after.id, before.id, "an overwrite keeps the item");
    assert_eq!(after.description.as_deref(), Some("Written on the site"));
    assert!(after.show_tabs, "tabs stay shown");
    assert_eq!(after.owner_id.as_deref(), Some(alice.as_str()), "the owner Tableau reset is given back");
    h.assert_converged(&manifest);
}

#[test]
fn an_overwrite_publish_gives_back_the_tags_tableau_clears() {
    // An overwrite publish clears the item's tags (tableau-migration-sdk's simulator; inferred for Cloud): tabops
    // gives back the tags the manifest manages and those it leaves alone, in the same apply.
    let h = Harness::start();
    let dir = h.dir.path().join("tags");
    std::fs::create_dir_all(dir.join("content")).unwrap();
    for name in ["managed", "unmanaged"] {
        std::fs::write(dir.join(format!("content/{name}.twb")), BOOK).unwrap();
    }
    let manifest = dir.join("manifest.yaml");
    std::fs::write(
        &manifest,
        "version: 1\nsite: { server: local, content_url: acme }\nprojects:\n  - name: Reports\nworkbooks:\n  - name: \
         Managed\n    project: Reports\n    file: content/managed.twb\n    tags: [finance]\n  - name: Unmanaged\n    \
         project: Reports\n    file: content/unmanaged.twb\n",
    )
    .unwrap();
    h.apply(&manifest);
    let client = h.client();
    let tags_of = |client: &api::Client, name: &str| {
        let workbooks = h.block_on(client.workbooks()).expect("workbooks");
        let item = workbooks.into_iter().find(|w| w.name == name).expect("published");
        (item.id, item.tags)
    };
    let (unmanaged, _) = tags_of(&client, "Unmanaged");
    h.block_on(client.add_tags(api::TagTarget::Workbook, &unmanaged, &["by-hand".to_owned()])).expect("tag");

    for name in ["managed", "unmanaged"] {
        std::fs::write(dir.join(format!("content/{name}.twb")), BOOK.replace("'Sales'", "'Sales v2'")).unwrap();
    }
    let publishes_before = support::route(&h.stats(), PUBLISH_WORKBOOK);
    h.apply(&manifest);
    assert_eq!(support::route(&h.stats(), PUBLISH_WORKBOOK), publishes_before + 2, "both republished");
    let client = h.client();
    let (_, managed_tags) = tags_of(&client, "Managed");
    assert!(managed_tags.iter().any(|t| t == "finance"), "the manifest's tag is back: {managed_tags:?}");
    let (_, unmanaged_tags) = tags_of(&client, "Unmanaged");
    assert!(
        unmanaged_tags.iter().any(|t| t == "by-hand"),
        "a tag the manifest leaves alone is back: {unmanaged_tags:?}"
    );
    h.assert_converged(&manifest);
}

#[test]
fn unlocking_a_project_while_changing_its_defaults_and_its_contents_rules_converges_in_one_apply() {
    // Locked, the data source shows its project's default rules; unlocking leaves it with the defaults of that moment
    // (enterprisetableau.com 2018-02, "Lock Project Permission"). The plan read those as its live rules, so the new
    // defaults must be written after the unlock: written before it, the data source would keep them (Others: Read
    // here) where the plan revokes the old ones, and a second apply would be needed.
    let h = Harness::start();
    let dir = h.dir.path().join("unlock");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(support::workspace().join("examples/quickstart/content/orders.tds"), dir.join("orders.tds")).unwrap();
    let locked = "version: 1\nsite: { server: local, content_url: acme }\ngroups:\n  - { name: Readers }\n  - { name: \
                  Analysts }\n  - { name: Others }\nprojects:\n  - name: Desk\n    content_permissions: LockedToProject\n    \
                  default_permissions:\n      datasources:\n        - { group: Analysts, capabilities: { Read: Allow, \
                  Connect: Allow } }\ndatasources:\n  - name: Ledger\n    project: Desk\n    file: orders.tds\n";
    let file = dir.join("manifest.yaml");
    std::fs::write(&file, locked).unwrap();
    h.apply(&dir);
    h.assert_converged(&dir);

    let unlocked = locked
        .replace("LockedToProject", "ManagedByOwner")
        .replace(
            "{ group: Analysts, capabilities: { Read: Allow, Connect: Allow } }",
            "{ group: Others, capabilities: { Read: Allow } }",
        )
        .replace(
            "    file: orders.tds\n",
            "    file: orders.tds\n    permissions:\n      - { group: Readers, capabilities: { Read: Allow } }\n",
        );
    std::fs::write(&file, unlocked).unwrap();
    let plan = h.plan_json(&dir);
    for id in [
        "default_permissions:datasources:project:Desk/group:Others",
        "default_permissions:datasources:project:Desk/group:Analysts",
    ] {
        let defaults = support::action(&plan, id);
        let deps = defaults["depends_on"].as_array().expect("depends_on");
        let unlock = support::action(&plan, "project:Desk");
        assert!(deps.contains(&serde_json::json!("project:Desk")), "waits for the unlock {unlock}: {defaults}");
    }
    h.apply(&dir);
    h.assert_converged(&dir);
    let client = h.client();
    let datasources = h.block_on(client.datasources()).expect("datasources");
    let ledger = datasources.iter().find(|d| d.name == "Ledger").expect("ledger").id.clone();
    let rules = h.block_on(client.permissions(&api::PermissionTarget::Datasource(ledger))).expect("rules");
    let groups = h.block_on(client.groups()).expect("groups");
    let readers = groups.iter().find(|g| g.name == "Readers").expect("readers").id.clone();
    assert_eq!(rules.len(), 1, "only the manifest's grantee: {rules:?}");
    assert_eq!(rules[0].grantee.id, readers, "{rules:?}");
}
