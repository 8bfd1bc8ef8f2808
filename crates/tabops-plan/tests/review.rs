//! The pull-request review as plain values: the desired state at a base revision against the head, and its text,
//! Markdown and JSON renderings.

use tabops_testkit::model as common;

use common::*;
use tabops_manifest::model::*;
use tabops_plan::review::{self, ChangeKind, ContentChange, Review};

fn review_of(base: &Desired, head: &Desired) -> Review {
    Review {
        base: "origin/main".into(),
        base_commit: "0123456789abcdef0123456789abcdef01234567".into(),
        head: "working tree".into(),
        changes: review::diff(base, head),
    }
}

#[test]
fn the_same_desired_state_at_both_revisions_has_no_changes() {
    let review = review_of(&enterprise(), &enterprise());
    assert!(review.changes.is_empty(), "{:?}", review.changes);
    assert_eq!(review.counts(), (0, 0, 0));
    assert!(review.render_text().contains("The desired state is the same at both revisions."));
}

#[test]
fn added_removed_and_changed_objects_are_told_apart_with_field_paths() {
    let base = enterprise();
    let mut head = enterprise();
    head.groups.push(group("Auditors", None));
    let removed = head.users.pop().expect("a user to remove");
    head.projects[0].description = Some("Changed in this pull request".into());

    let review = review_of(&base, &head);
    let kind = |address: &str| review.changes.iter().find(|c| c.address == address).map(|c| c.change);
    assert_eq!(kind("group:Auditors"), Some(ChangeKind::Added));
    assert_eq!(kind(&format!("user:{}", removed.name)), Some(ChangeKind::Removed));
    let project = format!("project:{}", head.projects[0].path);
    assert_eq!(kind(&project), Some(ChangeKind::Changed));
    let changed = review.changes.iter().find(|c| c.address == project).unwrap();
    assert_eq!(changed.fields.len(), 1, "{:?}", changed.fields);
    assert_eq!(changed.fields[0].field, "description");
    // A removed object's fields are not listed one by one: its address says it.
    let gone = review.changes.iter().find(|c| c.change == ChangeKind::Removed).unwrap();
    assert!(gone.fields.is_empty(), "{:?}", gone.fields);
    assert_eq!(review.counts(), (1, 1, 1));
}

#[test]
fn objects_match_by_address_case_insensitively() {
    let base = enterprise();
    let mut head = enterprise();
    // Tableau compares names case-insensitively: a renamed group that only changes case is the same object.
    head.groups[0].name = head.groups[0].name.to_uppercase();
    let review = review_of(&base, &head);
    assert_eq!(review.changes.len(), 1, "{:?}", review.changes);
    assert_eq!(review.changes[0].change, ChangeKind::Changed);
    assert_eq!(review.changes[0].fields[0].field, "name");
}

#[test]
fn a_changed_content_file_is_a_digest_change_not_a_field_change() {
    let base = enterprise();
    let mut head = enterprise();
    let item = &mut head.workbooks[0];
    item.file = file(&item.file.display.replace("content/", ""), "e", item.file.size + 10);
    // Where the bytes are differs between a commit and the work tree; only the digest says whether they differ.
    item.file.path = "/elsewhere/checkout".into();
    let address = item.address();

    let review = review_of(&base, &head);
    assert_eq!(review.changes.len(), 1, "{:?}", review.changes);
    let change = &review.changes[0];
    assert_eq!((change.address.as_str(), change.change), (address.to_string().as_str(), ChangeKind::Changed));
    assert!(change.fields.is_empty(), "file location and digests are not fields: {:?}", change.fields);
    let content = change.content.as_ref().expect("a content change");
    assert_eq!(content.after_sha256.as_deref(), Some("e".repeat(64).as_str()));
    assert_ne!(content.before_sha256, content.after_sha256);
}

#[test]
fn markdown_places_the_callers_semantic_review_under_its_content_line() {
    let base = enterprise();
    let mut head = enterprise();
    head.workbooks[0].file.sha256 = "f".repeat(64);
    let review = review_of(&base, &head);
    let semantic = |change: &ContentChange| Some(format!("- Worksheet added in `{}`", change.file));
    let markdown = review.render_markdown(semantic);
    assert!(markdown.starts_with("## Changes in this pull request (origin/main 0123456789ab → working tree)"));
    let line = markdown.lines().position(|l| l.trim_start().starts_with("- content `")).expect("a content line");
    let next: Vec<&str> = markdown.lines().skip(line + 1).filter(|l| !l.is_empty()).take(1).collect();
    assert!(next[0].starts_with("    - Worksheet added in `content/"), "{markdown}");
    // Without a semantic review, nothing is added under the line.
    assert!(!review.render_markdown(|_| None).contains("Worksheet added"));
}

#[test]
fn json_keeps_the_plan_unchanged_under_plan_and_the_review_beside_it() {
    let mut head = enterprise();
    head.groups.push(group("Auditors", None));
    let review = review_of(&enterprise(), &head);
    let plan_json = r#"{"format_version": 1, "actions": []}"#;
    let both: serde_json::Value = serde_json::from_str(&review::json_with_review(plan_json, &review)).unwrap();
    assert_eq!(both["plan"], serde_json::from_str::<serde_json::Value>(plan_json).unwrap());
    assert_eq!(both["review"]["base"], "origin/main");
    assert_eq!(both["review"]["changes"][0]["address"], "group:Auditors");
    assert_eq!(both["review"]["changes"][0]["change"], "added");
}
