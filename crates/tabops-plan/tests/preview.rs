//! Preview deployments as plain values: which content a pull request previews, how it is retargeted into the
//! preview project, that planning it against the site it produced has nothing to do, and what removing it deletes
//! (and refuses).

use std::collections::BTreeSet;

use tabops_testkit::model as common;

use common::*;
use tabops_manifest::model::*;
use tabops_plan::preview::{self, PreviewError};
use tabops_plan::{PlanOptions, plan};

/// The enterprise manifest with a reviewers group named for previews.
fn with_reviewers(mut desired: Desired) -> Desired {
    desired.settings.preview = Some(PreviewSettings { reviewers: Some("Reviewers".into()), ..Default::default() });
    desired
}

/// The pull request: Revenue's file changes, Forecast is added; Orders and Budget stay as they are.
fn pull_request() -> (Desired, Desired) {
    let base = with_reviewers(enterprise());
    let mut head = base.clone();
    head.workbooks[1].file = file("revenue.twbx", "99", 4100);
    head.workbooks.push(content(ContentKind::Workbook, "Forecast", "Finance", file("forecast.twb", "77", 300)));
    (base, head)
}

#[test]
fn only_added_and_changed_content_is_previewed_in_one_project_with_the_reviewers_grants_only() {
    let (base, head) = pull_request();
    let state = preview::desired(&base, &head, "PR-1", None).unwrap();
    let items: Vec<(String, String, bool)> =
        state.items.iter().map(|i| (i.source.to_string(), i.preview.to_string(), i.added)).collect();
    assert_eq!(
        items,
        [
            ("workbook:Sales/EMEA/Revenue".into(), "workbook:Previews/PR-1/Revenue".into(), false),
            ("workbook:Finance/Forecast".into(), "workbook:Previews/PR-1/Forecast".into(), true),
        ]
    );
    assert!(state.desired.datasources.is_empty() && state.desired.groups.is_empty() && state.desired.users.is_empty());
    let revenue = state.desired.workbooks.iter().find(|w| w.name == "Revenue").unwrap();
    // The manifest's file, tags, description and hidden views; not its owner, grants or refresh tasks.
    assert_eq!(revenue.file.sha256, "9".repeat(64));
    assert_eq!(revenue.tags, Some(BTreeSet::from(["finance".to_owned(), "tabops-preview.PR-1".to_owned()])));
    assert_eq!(revenue.description.as_deref(), Some("Revenue by region"));
    assert_eq!(revenue.hidden_views, BTreeSet::from(["Scratch".to_owned()]));
    assert_eq!((revenue.owner.as_deref(), revenue.refresh.as_ref(), revenue.protect), (None, None, false));
    let granted: Vec<&Grantee> = revenue.permissions.iter().flatten().map(|r| &r.grantee).collect();
    assert_eq!(granted, [&Grantee::Group("Reviewers".into())]);
    // The parent is only required to exist; the preview project is marked, prunes and grants the reviewers.
    let projects: Vec<(String, bool, Option<&str>)> =
        state.desired.projects.iter().map(|p| (p.path.to_string(), p.prune, p.description.as_deref())).collect();
    assert_eq!(projects[0], ("Previews".to_owned(), false, None));
    assert_eq!(projects[1].0, "Previews/PR-1");
    assert!(projects[1].1);
    assert!(projects[1].2.unwrap().ends_with("[tabops-preview.PR-1]"), "{projects:?}");
}

#[test]
fn a_preview_planned_against_the_site_it_produced_has_nothing_to_do() {
    let (base, head) = pull_request();
    let state = preview::desired(&base, &head, "PR-1", None).unwrap();
    let mut site = converged(&state.desired);
    // The reviewers group is on the site (a preview never creates groups).
    site.groups.push(tabops_plan::inventory::LiveGroup {
        id: id_of("g", "Reviewers"),
        name: "Reviewers".into(),
        minimum_site_role: None,
        members: None,
    });
    let again = preview::desired(&base, &head, "PR-1", Some(&site)).unwrap();
    let plan = plan(&again.desired, &site, &PlanOptions::default());
    assert!(!plan.has_changes(), "{:?}", changed_ids(&plan));
}

#[test]
fn a_parent_the_site_lacks_is_created_marked_and_one_it_has_is_left_alone() {
    let (base, head) = pull_request();
    let empty = converged(&empty_desired());
    let created = preview::desired(&base, &head, "PR-1", Some(&empty)).unwrap();
    assert!(created.desired.projects[0].description.as_deref().unwrap().ends_with(preview::PARENT_MARKER));
    let state = preview::desired(&base, &head, "PR-1", None).unwrap();
    let existing = preview::desired(&base, &head, "PR-1", Some(&converged(&state.desired))).unwrap();
    assert_eq!(existing.desired.projects[0].description, None);
}

#[test]
fn ids_project_templates_and_name_clashes_are_refused() {
    let (base, mut head) = pull_request();
    assert!(matches!(preview::desired(&base, &head, "PR 1", None), Err(PreviewError::InvalidId { .. })));
    assert!(matches!(preview::desired(&base, &head, "", None), Err(PreviewError::InvalidId { .. })));
    let settings = PreviewSettings { project: "Previews/{id}/x".into(), reviewers: None };
    assert!(matches!(preview::project_path(&settings, "PR-1"), Err(PreviewError::InvalidProject { .. })));
    let nested = PreviewSettings { project: "Staging/Previews/pr-{id}".into(), reviewers: None };
    assert_eq!(preview::project_path(&nested, "7").unwrap().to_string(), "Staging/Previews/pr-7");
    // Two changed workbooks of one name from two projects cannot share the flat preview project.
    head.workbooks.push(content(ContentKind::Workbook, "Revenue", "Finance", file("revenue2.twb", "55", 10)));
    let err = preview::desired(&base, &head, "PR-1", None).unwrap_err();
    assert!(matches!(err, PreviewError::NameClash { .. }), "{err}");
    assert!(err.hint().is_some());
}

#[test]
fn removal_deletes_only_the_preview_project_and_refuses_an_item_without_the_marker() {
    let (base, head) = pull_request();
    let state = preview::desired(&base, &head, "PR-1", None).unwrap();
    let mut site = converged(&state.desired);
    let settings = state.desired.settings.preview.clone().unwrap();
    let removal = preview::removal(&head, &settings, "PR-1", &site).unwrap().expect("a preview");
    assert_eq!(removal.target.to_string(), "project:Previews/PR-1");
    assert!(!removal.top_level);
    assert_eq!(removal.count, 3, "the project and its two workbooks");
    assert!(preview::removal(&head, &settings, "PR-2", &site).unwrap().is_none(), "no such preview");

    // A parent created for previews and left empty goes too.
    let parent = site.projects.iter_mut().find(|p| p.name == "Previews").unwrap();
    parent.description = Some(format!("Preview deployments published by tabops. {}", preview::PARENT_MARKER));
    let removal = preview::removal(&head, &settings, "PR-1", &site).unwrap().unwrap();
    assert_eq!((removal.target.to_string().as_str(), removal.top_level), ("project:Previews", true));

    // Someone's own workbook in the preview project: nothing is removed.
    let forecast = site.workbooks.iter_mut().find(|w| w.name == "Forecast").unwrap();
    forecast.tags.retain(|t| !t.starts_with(preview::PREVIEW_TAG_PREFIX));
    let err = preview::removal(&head, &settings, "PR-1", &site).unwrap_err();
    assert_eq!(
        err.to_string(),
        "refusing to remove preview `PR-1`: workbook:Previews/PR-1/Forecast does not carry the preview marker \
         `tabops-preview.PR-1`"
    );
}
