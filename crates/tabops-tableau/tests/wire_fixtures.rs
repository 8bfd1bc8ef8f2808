//! The client parses every response shape under `fixtures/wire/`: bodies written for tabops from the facts in
//! tableauserverclient's captured server responses (`test/assets/`) and the official schema, one or more per
//! endpoint tabops reads, each naming its source in a comment. A fixture the client cannot parse, or one this test
//! has no parser entry for, fails it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use tabops_tableau::xml::{Element, parse};
use tabops_tableau::{
    CapabilityMode, Connection, Datasource, Frequency, GranteeCapabilities, GranteeKind, Group, Interval, Job,
    JobState, Pagination, Project, RefreshTask, ServerInfo, TaskTarget, User, View, Workbook, sign_in_ids,
};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/wire")
}

fn load(name: &str) -> Element {
    let path = dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let root = parse(&text).unwrap_or_else(|e| panic!("{name} does not parse: {e}"));
    assert_eq!(root.name, "tsResponse", "{name}: root element");
    root
}

/// Every element of `list` named `item` parses with `f`; at least one exists.
fn all<T>(name: &str, root: &Element, list_name: &str, item: &str, f: fn(&Element) -> Option<T>) -> Vec<T> {
    let list = root.child(list_name).unwrap_or_else(|| panic!("{name}: no <{list_name}>"));
    let items: Vec<&Element> = list.children_named(item).collect();
    assert!(!items.is_empty(), "{name}: no <{item}> in <{list_name}>");
    let parsed: Vec<T> = items.iter().filter_map(|e| f(e)).collect();
    assert_eq!(parsed.len(), items.len(), "{name}: the client could not parse every <{item}>");
    parsed
}

fn one<T>(name: &str, root: &Element, element: &str, f: fn(&Element) -> Option<T>) -> T {
    f(root.child(element).unwrap_or_else(|| panic!("{name}: no <{element}>")))
        .unwrap_or_else(|| panic!("{name}: the client could not parse <{element}>"))
}

/// Parses one fixture with the parser of its endpoint and checks what tabops relies on in it.
fn check(name: &str) {
    let root = load(name);
    match name {
        "signin.xml" => {
            let (site, user) = sign_in_ids(&root).expect("sign-in ids");
            assert_eq!(site, "4f1c2a9e-0b7d-4e43-9c0a-6d2f7b1e8a01");
            assert_eq!(user.as_deref(), Some("c2d3e4f5-1111-4a2b-8c3d-9e8f7a6b5c4d"));
        }
        "serverinfo.xml" => {
            let info = one(name, &root, "serverInfo", ServerInfo::from_element);
            assert_eq!((info.product_version.as_str(), info.rest_api_version.as_str()), ("2025.1.0", "3.25"));
            assert_eq!(info.build.as_deref(), Some("20251.25.0312.1540"));
        }
        "projects_all_fields.xml" => {
            assert_eq!(Pagination::from_root(&root).map(|p| p.total_available), Some(2));
            let projects = all(name, &root, "projects", "project", Project::from_element);
            assert_eq!(projects[0].content_permissions.as_deref(), Some("LockedToProject"));
            assert_eq!(projects[0].owner_id.as_deref(), Some("c2d3e4f5-1111-4a2b-8c3d-9e8f7a6b5c4d"));
            assert_eq!(projects[1].description, None);
            assert_eq!(projects[1].parent_id.as_deref(), Some(projects[0].id.as_str()));
        }
        "users_all_fields.xml" => {
            let users = all(name, &root, "users", "user", User::from_element);
            assert_eq!(users[0].site_role.as_deref(), Some("SiteAdministratorCreator"));
            assert_eq!(users[0].auth_setting.as_deref(), Some("TableauIDWithMFA"));
            assert_eq!(users[1].email, None);
            assert_eq!(users[1].last_login, None);
        }
        "groups_import.xml" => {
            let groups = all(name, &root, "groups", "group", Group::from_element);
            assert_eq!(groups[0].minimum_site_role.as_deref(), Some("Explorer"), "read from <import siteRole>");
            assert_eq!(groups[0].grant_license_mode.as_deref(), Some("onLogin"));
            assert_eq!(groups[0].user_count, Some(4));
            assert_eq!(groups[0].domain.as_deref(), Some("local"));
            assert_eq!((groups[1].minimum_site_role.as_deref(), groups[1].grant_license_mode.as_deref()), (None, None));
        }
        "group_create_attributes.xml" => {
            let group = one(name, &root, "group", Group::from_element);
            assert_eq!(group.minimum_site_role.as_deref(), Some("Viewer"));
            assert_eq!(group.grant_license_mode.as_deref(), Some("onLogin"));
        }
        "group_users.xml" => {
            let users = all(name, &root, "users", "user", User::from_element);
            assert_eq!(users[0].name, "grace@acme.com");
            assert_eq!(users[0].domain, None);
        }
        "workbooks_all_fields.xml" => {
            let workbooks = all(name, &root, "workbooks", "workbook", Workbook::from_element);
            assert_eq!(workbooks[0].project_id.as_deref(), Some("1d0a5b7e-8c3f-4e21-9a6b-2f4c8d0e1a11"));
            assert_eq!(workbooks[0].tags, vec!["finance"]);
            assert_eq!(workbooks[1].project_id, None, "a workbook in a personal space has no project");
        }
        "views.xml" => {
            let views = all(name, &root, "views", "view", View::from_element);
            assert_eq!(views[0].workbook_id.as_deref(), Some("8d9eafb0-6666-4f70-b182-4d5e6f708192"));
            assert_eq!(views[0].sheet_type, None);
            assert_eq!(views[1].sheet_type.as_deref(), Some("worksheet"));
            assert_eq!((views[0].hidden, views[1].hidden), (false, true), "the schema's hidden attribute");
            assert_eq!(views[0].total_view_count, None, "no usage child without includeUsageStatistics");
        }
        "views_usage.xml" => {
            let views = all(name, &root, "views", "view", View::from_element);
            assert_eq!(views.iter().map(|v| v.total_view_count).collect::<Vec<_>>(), [Some(42), Some(0)]);
            assert_eq!(views[1].sheet_type.as_deref(), Some("dashboard"));
        }
        "datasources_all_fields.xml" => {
            let sources = all(name, &root, "datasources", "datasource", Datasource::from_element);
            assert_eq!(sources[0].is_certified, Some(true));
            assert_eq!(sources[0].datasource_type.as_deref(), Some("sqlserver"));
            assert_eq!(sources[1].owner_id, None);
            assert!(sources[1].tags.is_empty());
        }
        "connections.xml" => {
            let connections = all(name, &root, "connections", "connection", Connection::from_element);
            assert_eq!(connections[0].embed_password, Some(true));
            assert_eq!(connections[0].user_name.as_deref(), Some("etl_reader"));
            assert_eq!(connections[1].server_port.as_deref(), Some("5432"));
            assert_eq!(connections[1].user_name, None);
        }
        "workbook_connections.xml" => {
            let connections = all(name, &root, "connections", "connection", Connection::from_element);
            assert_eq!(connections[0].connection_type.as_deref(), Some("dataengine"));
            assert_eq!(connections[0].server_address.as_deref().unwrap_or_default(), "");
            assert_eq!(connections[1].server_address.as_deref(), Some("fin-db.acme.internal"));
            assert_eq!(connections[1].server_port.as_deref(), Some("5432"));
            assert_eq!(connections[1].embed_password, Some(true));
            assert_eq!(connections[1].datasource_name.as_deref(), Some("Ledger"));
        }
        "connection_update.xml" => {
            let connection = one(name, &root, "connection", Connection::from_element);
            assert_eq!(connection.id, "b6c7d8e9-ffff-4809-9a1b-d6e7f8091a2b");
            assert_eq!(connection.server_address.as_deref(), Some("pg-sales.acme.internal"));
            assert_eq!(connection.user_name.as_deref(), Some("svc_tableau"));
            assert_eq!(connection.embed_password, None, "no embedPassword in the answer");
        }
        "tasks_list_types.xml" => {
            let tasks = RefreshTask::list_from(root.child("tasks").expect("tasks"));
            assert_eq!(tasks.len(), 5, "every listed task parses");
            let incremental: Vec<bool> = tasks.iter().map(RefreshTask::is_incremental).collect();
            assert_eq!(incremental, [false, true, true, false, false], "RefreshExtractTask / IncrementExtractTask");
            let daily = tasks[0].schedule.as_ref().expect("schedule");
            assert_eq!(daily.frequency, Frequency::Daily);
            assert_eq!(daily.intervals[0], Interval::Hours(24));
            assert_eq!(tasks[1].target, Some(TaskTarget::Workbook("8d9eafb0-6666-4f70-b182-4d5e6f708192".into())));
            assert_eq!(tasks[1].consecutive_failed_count, Some(2));
            assert_eq!(
                tasks[2].schedule.as_ref().map(|s| s.intervals.clone()),
                Some(vec![Interval::MonthDay("LastDay".into())])
            );
            let window = tasks[3].schedule.as_ref().expect("schedule");
            assert_eq!((window.intervals[0].clone(), window.end.as_deref()), (Interval::Hours(2), Some("20:00:00")));
            assert_eq!(tasks[4].schedule, None);
        }
        "task_create_incremental.xml" => {
            let task = RefreshTask::from_element(
                root.child("extractRefresh").expect("extractRefresh"),
                root.child("schedule"),
            )
            .expect("task");
            assert!(task.is_incremental(), "IncrementalRefresh");
            assert_eq!(task.schedule.map(|s| s.frequency), Some(Frequency::Weekly), "the sibling schedule");
        }
        "permissions_workbook.xml" | "default_permissions_workbooks.xml" => {
            let rows = GranteeCapabilities::list_from(root.child("permissions").expect("permissions"));
            let count = root.child("permissions").map(|p| p.children_named("granteeCapabilities").count());
            assert_eq!(Some(rows.len()), count, "every grantee parses");
            assert_eq!(rows[0].grantee.kind, GranteeKind::Group);
            assert!(rows.iter().flat_map(|r| &r.capabilities).any(|c| c.mode == CapabilityMode::Deny));
            if name == "permissions_workbook.xml" {
                assert_eq!(rows[1].grantee.kind, GranteeKind::User);
            }
        }
        "job_failed.xml" => {
            let job = one(name, &root, "job", Job::from_element);
            assert_eq!(job.state(), JobState::Failed);
            assert!(job.notes.as_deref().is_some_and(|n| n.contains("connection refused")));
            assert_eq!(job.datasource_id.as_deref(), Some("d2e3f4a5-bbbb-44c5-96d7-92a3b4c5d6e7"));
        }
        "job_in_progress.xml" => {
            let job = one(name, &root, "job", Job::from_element);
            assert_eq!(job.state(), JobState::Running);
            assert_eq!(job.progress, Some(40));
        }
        other => panic!("fixtures/wire/{other} has no parser entry in this test; add one"),
    }
}

#[test]
fn the_client_parses_every_wire_fixture() {
    let names: BTreeSet<String> = std::fs::read_dir(dir())
        .expect("fixtures/wire exists")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".xml"))
        .collect();
    for endpoint in [
        "signin.xml",
        "projects_all_fields.xml",
        "users_all_fields.xml",
        "groups_import.xml",
        "group_users.xml",
        "workbooks_all_fields.xml",
        "views.xml",
        "views_usage.xml",
        "datasources_all_fields.xml",
        "connections.xml",
        "workbook_connections.xml",
        "connection_update.xml",
        "tasks_list_types.xml",
        "permissions_workbook.xml",
        "default_permissions_workbooks.xml",
        "job_failed.xml",
    ] {
        assert!(names.contains(endpoint), "no fixture for {endpoint}");
    }
    for name in &names {
        check(name);
    }
}

#[test]
fn every_wire_fixture_names_the_source_it_was_modelled_on() {
    for entry in std::fs::read_dir(dir()).expect("fixtures/wire exists") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "xml") {
            let text = std::fs::read_to_string(&path).expect("read");
            assert!(text.contains("<!-- ") && text.contains("Modelled on"), "{} names no source", path.display());
        }
    }
}
