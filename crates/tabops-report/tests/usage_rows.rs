//! The usage report over a site built by hand: view counts summed per workbook, owners and projects by name, the
//! checksum marker telling managed items, and the `--stale-days` cut-off (content last updated before it, views
//! never viewed), with every expected row written out.

use tabops_plan::inventory::LiveProject;
use tabops_report::usage::{Item, RowKind, UsageInput, View, usage};
use tabops_testkit::model::live_user;
use time::macros::datetime;

/// kind, address, view, project, total views, managed.
type Row<'a> = (RowKind, &'a str, Option<&'a str>, &'a str, Option<u64>, bool);

fn item(id: &str, name: &str, project: &str, updated: &str, tags: &[&str]) -> Item {
    Item {
        id: id.into(),
        name: name.into(),
        project_id: project.into(),
        owner_id: Some("u1".into()),
        size: Some(3),
        created_at: Some("2025-01-01T00:00:00Z".into()),
        updated_at: Some(updated.into()),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
    }
}

fn view(id: &str, name: &str, workbook: &str, count: u64) -> View {
    View {
        id: id.into(),
        name: name.into(),
        workbook_id: workbook.into(),
        total_view_count: Some(count),
        ..Default::default()
    }
}

fn input() -> UsageInput {
    let project = |id: &str, name: &str, parent: Option<&str>| LiveProject {
        id: id.into(),
        name: name.into(),
        parent_id: parent.map(Into::into),
        description: None,
        content_permissions: None,
        owner_id: None,
        updated_at: None,
    };
    UsageInput {
        projects: vec![project("p1", "Sales", None), project("p2", "EMEA", Some("p1"))],
        users: vec![live_user("u1", "ana@acme.com", "Creator")],
        workbooks: vec![
            item(
                "w1",
                "Revenue",
                "p2",
                "2026-11-30T12:00:00Z",
                &["sales", "tabops.sha256.0123456789abcdef0123456789abcdef"],
            ),
            item("w2", "Old Board", "p1", "2026-01-15T08:00:00Z", &["tabopsish"]),
        ],
        datasources: vec![item("d1", "Orders", "p1", "2026-06-01T00:00:00Z", &[])],
        views: vec![
            view("v1", "Overview", "w1", 12),
            view("v2", "Detail", "w1", 3),
            view("v3", "Scratch", "w1", 0),
            view("v4", "Board", "w2", 0),
        ],
    }
}

#[test]
fn every_workbook_view_and_data_source_with_counts_owners_and_markers() {
    let report = usage(&input(), datetime!(2026-12-01 00:00 UTC), None);
    let rows: Vec<Row<'_>> = report
        .rows
        .iter()
        .map(|r| (r.kind, r.address.as_str(), r.view.as_deref(), r.project.as_str(), r.total_views, r.managed))
        .collect();
    assert_eq!(
        rows,
        [
            (RowKind::Datasource, "datasource:Sales/Orders", None, "Sales", None, false),
            (RowKind::Workbook, "workbook:Sales/EMEA/Revenue", None, "Sales/EMEA", Some(15), true),
            (RowKind::View, "workbook:Sales/EMEA/Revenue", Some("Detail"), "Sales/EMEA", Some(3), true),
            (RowKind::View, "workbook:Sales/EMEA/Revenue", Some("Overview"), "Sales/EMEA", Some(12), true),
            (RowKind::View, "workbook:Sales/EMEA/Revenue", Some("Scratch"), "Sales/EMEA", Some(0), true),
            // A tag that only looks like a marker does not make an item managed.
            (RowKind::Workbook, "workbook:Sales/Old Board", None, "Sales", Some(0), false),
            (RowKind::View, "workbook:Sales/Old Board", Some("Board"), "Sales", Some(0), false),
        ]
    );
    assert!(report.rows.iter().all(|r| r.owner.as_deref() == Some("ana@acme.com")));
    assert_eq!(report.as_of, "2026-12-01T00:00:00Z");
}

#[test]
fn stale_days_keeps_content_not_updated_since_the_cutoff_and_views_never_viewed() {
    // 90 days before 2026-12-01 is 2026-09-02: Old Board (January) and Orders (June) are stale, Revenue is not.
    let report = usage(&input(), datetime!(2026-12-01 00:00 UTC), Some(90));
    let rows: Vec<(RowKind, &str, Option<&str>)> =
        report.rows.iter().map(|r| (r.kind, r.address.as_str(), r.view.as_deref())).collect();
    assert_eq!(
        rows,
        [
            (RowKind::Datasource, "datasource:Sales/Orders", None),
            (RowKind::View, "workbook:Sales/EMEA/Revenue", Some("Scratch")),
            (RowKind::Workbook, "workbook:Sales/Old Board", None),
            (RowKind::View, "workbook:Sales/Old Board", Some("Board")),
        ]
    );
    // 365 days: nothing is that old; only the never-viewed views remain.
    let report = usage(&input(), datetime!(2026-12-01 00:00 UTC), Some(365));
    assert!(report.rows.iter().all(|r| r.kind == RowKind::View && r.total_views == Some(0)));
    assert_eq!(report.rows.len(), 2);
}
