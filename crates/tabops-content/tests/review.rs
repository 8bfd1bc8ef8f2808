//! One test per change class on the project's own fixtures (`fixtures/content/diff/`): each variant differs from
//! `base.twb` in exactly one class, and the review must report exactly that change and nothing else.

use std::path::PathBuf;

use tabops_content::{ChangeKind, FileType, Review, review};

fn fixture(rel: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/content").join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Review base.twb against one variant.
fn variant(name: &str) -> Review {
    let base = fixture("diff/base.twb");
    let new = fixture(&format!("diff/{name}.twb"));
    review(&base, &new, FileType::Twb).unwrap_or_else(|e| panic!("review {name}: {e}"))
}

/// The number of non-empty sections: a single-class variant must touch exactly one.
fn sections(r: &Review) -> usize {
    [
        r.worksheets.len(),
        r.dashboards.len(),
        r.datasources.len(),
        r.calculated_fields.len(),
        r.parameters.len(),
        r.connections.len(),
        r.package_entries.len(),
        usize::from(r.binary.is_some()),
    ]
    .iter()
    .filter(|n| **n > 0)
    .count()
}

#[test]
fn identical_files_give_an_empty_review() {
    let base = fixture("diff/base.twb");
    let r = review(&base, &base, FileType::Twb).unwrap();
    assert!(r.is_empty());
    assert_eq!(r.render_markdown(), "_No semantic changes._\n");
    assert_eq!(r.render_text(), "No semantic changes.\n");
}

#[test]
fn noise_only_change_gives_an_empty_review() {
    let base = fixture("diff/base.twb");
    let noise = fixture("diff/noise_only.twb");
    assert_ne!(base, noise, "the fixture must differ in bytes");
    let r = variant("noise_only");
    assert!(r.is_empty(), "{r:#?}");
}

#[test]
fn worksheet_added() {
    let r = variant("worksheet_added");
    assert_eq!(sections(&r), 1, "{r:#?}");
    assert_eq!(r.worksheets.len(), 1);
    assert_eq!(r.worksheets[0].name, "Discount Impact");
    assert_eq!(r.worksheets[0].change, ChangeKind::Added);
    assert_eq!(r.render_text(), "Worksheet added: Discount Impact\n");
}

#[test]
fn worksheet_removed() {
    let r = variant("worksheet_removed");
    assert_eq!(sections(&r), 1, "{r:#?}");
    assert_eq!(r.worksheets[0].name, "Scratch");
    assert_eq!(r.worksheets[0].change, ChangeKind::Removed);
    assert_eq!(r.render_markdown(), "- Worksheet removed: `Scratch`\n");
}

/// A renamed sheet keeps its `<simple-id uuid>`: one rename, not a removal and an addition. A removed sheet and an
/// added one with different ids stay a removal and an addition.
#[test]
fn worksheet_renamed_reads_as_a_rename() {
    let r = variant("worksheet_renamed");
    assert_eq!(sections(&r), 1, "{r:#?}");
    assert_eq!(r.worksheets.len(), 1, "{r:#?}");
    assert_eq!(r.worksheets[0].name, "Scratch Pad");
    assert_eq!(r.worksheets[0].change, ChangeKind::Renamed);
    assert_eq!(r.worksheets[0].renamed_from.as_deref(), Some("Scratch"));
    assert_eq!(r.render_text(), "Worksheet renamed: Scratch -> Scratch Pad\n");
    assert_eq!(r.render_markdown(), "- Worksheet renamed: `Scratch` -> `Scratch Pad`\n");
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["worksheets"][0]["change"], "renamed");
    assert_eq!(json["worksheets"][0]["renamed_from"], "Scratch");

    let base = String::from_utf8(fixture("diff/base.twb")).unwrap();
    let other_id = String::from_utf8(fixture("diff/worksheet_renamed.twb"))
        .unwrap()
        .replace("{BF4492AE-D2CA-4A8B-80C0-F2FEE003BF5E}", "{00000000-0000-4000-8000-000000000001}");
    assert_ne!(other_id, String::from_utf8(fixture("diff/worksheet_renamed.twb")).unwrap(), "the id to change");
    let r = review(base.as_bytes(), other_id.as_bytes(), FileType::Twb).unwrap();
    let changes: Vec<(ChangeKind, &str)> = r.worksheets.iter().map(|s| (s.change, s.name.as_str())).collect();
    assert_eq!(changes, [(ChangeKind::Added, "Scratch Pad"), (ChangeKind::Removed, "Scratch")]);
}

#[test]
fn dashboard_added() {
    let r = variant("dashboard_added");
    assert_eq!(sections(&r), 1, "{r:#?}");
    let d = &r.dashboards[0];
    assert_eq!((d.name.as_str(), d.change), ("Customer Focus", ChangeKind::Added));
    assert_eq!(d.sheets_added, vec!["Revenue by Region", "Top Customers"]);
    assert!(d.sheets_removed.is_empty());
    insta::assert_snapshot!("dashboard_added_markdown", r.render_markdown());
}

#[test]
fn calculated_field_added() {
    let r = variant("calc_added");
    assert_eq!(sections(&r), 1, "{r:#?}");
    let c = &r.calculated_fields[0];
    assert_eq!(
        (c.name.as_str(), c.datasource.as_str(), c.change),
        ("Discount Rate", "Orders (sales)", ChangeKind::Added)
    );
    assert_eq!(c.formula_before, None);
    assert_eq!(c.formula_after.as_deref(), Some("SUM([Discount]*[Sales])/SUM([Sales])"));
    insta::assert_snapshot!("calc_added_markdown", r.render_markdown());
}

#[test]
fn calculated_field_removed() {
    let r = variant("calc_removed");
    assert_eq!(sections(&r), 1, "{r:#?}");
    let c = &r.calculated_fields[0];
    assert_eq!((c.name.as_str(), c.change), ("Order Size Band", ChangeKind::Removed));
    // Entities are decoded: the formula reads as Tableau shows it.
    assert_eq!(c.formula_before.as_deref(), Some("IF SUM([Sales]) > 1000 THEN 'Large' ELSE 'Small' END"));
    assert!(r.render_text().contains("    -IF SUM([Sales]) > 1000 THEN 'Large' ELSE 'Small' END\n"));
}

#[test]
fn calculated_field_formula_changed() {
    let r = variant("calc_formula_changed");
    // The formula also changes in the `Top Customers` sheet's datasource-dependencies: reported once.
    assert_eq!(sections(&r), 1, "{r:#?}");
    assert_eq!(r.calculated_fields.len(), 1);
    let c = &r.calculated_fields[0];
    assert_eq!((c.name.as_str(), c.change), ("Profit Ratio", ChangeKind::Changed));
    assert_eq!(c.formula_diff, "@@ -1 +1 @@\n-SUM([Profit])/SUM([Sales])\n+ZN(SUM([Profit]))/SUM([Sales])\n");
    assert!(c.fields.is_empty());
    insta::assert_snapshot!("calc_formula_changed_markdown", r.render_markdown());
    insta::assert_snapshot!("calc_formula_changed_text", r.render_text());
}

#[test]
fn connection_server_changed() {
    let r = variant("connection_server_changed");
    assert_eq!(sections(&r), 1, "{r:#?}");
    let c = &r.connections[0];
    assert_eq!(
        (c.datasource.as_str(), c.class.as_str(), c.change),
        ("Orders (sales)", "postgres", ChangeKind::Changed)
    );
    // The named connection's caption follows the server in Desktop: not reported as a second change.
    assert_eq!(c.fields.len(), 1, "{:?}", c.fields);
    assert_eq!(c.fields[0].field, "server");
    assert_eq!(c.fields[0].before.as_deref(), Some("pg-dev.acme.internal"));
    assert_eq!(c.fields[0].after.as_deref(), Some("pg-sales.acme.internal"));
    insta::assert_snapshot!("connection_server_changed_markdown", r.render_markdown());
}

#[test]
fn connection_database_changed() {
    let r = variant("connection_database_changed");
    assert_eq!(sections(&r), 1, "{r:#?}");
    let f = &r.connections[0].fields;
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].field.as_str(), f[0].before.as_deref(), f[0].after.as_deref()),
        ("dbname", Some("sales"), Some("sales_archive"))
    );
}

#[test]
fn connection_auth_changed() {
    let r = variant("connection_auth_changed");
    assert_eq!(sections(&r), 1, "{r:#?}");
    let f = &r.connections[0].fields;
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].field.as_str(), f[0].before.as_deref(), f[0].after.as_deref()),
        ("username", Some("svc_tableau"), Some("svc_reporting"))
    );
    assert_eq!(
        r.render_text(),
        "Connection changed: Orders (sales) (postgres): username svc_tableau -> svc_reporting\n"
    );
}

#[test]
fn parameter_changed() {
    let r = variant("parameter_changed");
    assert_eq!(sections(&r), 1, "{r:#?}");
    let p = &r.parameters[0];
    assert_eq!((p.name.as_str(), p.change), ("Target Margin", ChangeKind::Changed));
    assert_eq!(p.fields.len(), 1, "{:?}", p.fields);
    assert_eq!(
        (p.fields[0].field.as_str(), p.fields[0].before.as_deref(), p.fields[0].after.as_deref()),
        ("value", Some("0.15"), Some("0.2"))
    );
    assert_eq!(r.render_markdown(), "- Parameter changed: `Target Margin`: value `0.15` -> `0.2`\n");
}

#[test]
fn reverse_direction_swaps_added_and_removed() {
    let base = fixture("diff/base.twb");
    let added = fixture("diff/worksheet_added.twb");
    let r = review(&added, &base, FileType::Twb).unwrap();
    assert_eq!(r.worksheets.len(), 1);
    assert_eq!((r.worksheets[0].name.as_str(), r.worksheets[0].change), ("Discount Impact", ChangeKind::Removed));
}

#[test]
fn review_serialises_as_json() {
    let r = variant("calc_formula_changed");
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["file_type"], "twb");
    assert_eq!(json["calculated_fields"][0]["change"], "changed");
    assert_eq!(json["calculated_fields"][0]["formula_after"], "ZN(SUM([Profit]))/SUM([Sales])");
    assert_eq!(json["worksheets"], serde_json::json!([]));
    assert!(json["binary"].is_null());
}

#[test]
fn all_changes_of_two_fixture_workbooks() {
    // Two different workbooks: everything differs; checks the list parameter and a multi-section rendering.
    let r = review(&fixture("revenue.twb"), &fixture("pipeline.twb"), FileType::Twb).unwrap();
    let p = r.parameters.iter().find(|p| p.name == "Pipeline Stage").expect("list parameter");
    assert_eq!(p.change, ChangeKind::Changed, "same internal name [Parameter 1]: {p:?}");
    let allowed = p.fields.iter().find(|f| f.field == "allowed values").expect("allowed values");
    assert_eq!(allowed.before, None);
    assert_eq!(allowed.after.as_deref(), Some("\"Prospecting\", \"Qualification\", \"Proposal\", \"Negotiation\""));
    assert!(r.worksheets.iter().any(|w| w.name == "Win Rate" && w.change == ChangeKind::Added));
    assert!(r.datasources.iter().any(|d| d.name == "Orders (sales)" && d.change == ChangeKind::Removed));
    assert!(r.datasources.iter().any(|d| d.name == "Opportunities (crm)" && d.change == ChangeKind::Added));
    insta::assert_snapshot!("two_workbooks_markdown", r.render_markdown());
}
