//! Ownership and extracts in the pure planner (plain values): the heir of a pruned user, deletes that take a user's
//! content with them, owner roles read from the site, and `refresh:` on content without an extract. Tableau's
//! behaviour behind each is in docs/tableau-cloud.md, "Effects of calls on a site".

use tabops_testkit::model as common;

use common::*;
use tabops_manifest::model::*;
use tabops_plan::inventory::*;
use tabops_plan::plan::{ObjectRef, Operation, PlanErrorKind};
use tabops_plan::{PlanOptions, plan};

fn live_user(name: &str, role: &str) -> LiveUser {
    LiveUser {
        id: id_of("u", name),
        name: name.into(),
        site_role: role.into(),
        auth_setting: None,
        full_name: None,
        email: None,
        idp_configuration_id: None,
    }
}

/// A site whose `leaver@acme.com` (not in the manifest) owns the project `Old` and a workbook in `default`.
fn site_with_a_leaver(desired: &Desired) -> Inventory {
    let mut live = converged(desired);
    live.users.push(live_user("leaver@acme.com", "Creator"));
    let leaver = Some(id_of("u", "leaver@acme.com"));
    live.projects.push(LiveProject {
        id: "p-old".into(),
        name: "Old".into(),
        parent_id: None,
        description: None,
        content_permissions: None,
        owner_id: leaver.clone(),
        updated_at: None,
    });
    let mut workbook = live_content("w-1", "Report", "p-default");
    workbook.owner_id = leaver;
    live.workbooks.push(workbook);
    live
}

fn removal(p: &tabops_plan::Plan) -> (&Option<ObjectRef>, &Vec<String>) {
    let action = by_id(p, "user:leaver@acme.com");
    match &action.operation {
        Operation::RemoveUser { map_assets_to, .. } => (map_assets_to, &action.depends_on),
        other => panic!("not a removal: {other:?}"),
    }
}

#[test]
fn an_heir_created_in_the_same_plan_receives_the_content_after_it_is_added() {
    let mut desired = empty_desired();
    desired.settings.prune_users = true;
    let live = site_with_a_leaver(&desired);
    desired.users.push(user("heir@acme.com", Some(SiteRole::Creator)));
    desired.settings.reassign_content_to = Some("heir@acme.com".into());
    let p = plan(&desired, &live, &PlanOptions::default());
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let (heir, depends_on) = removal(&p);
    assert_eq!(heir, &Some(ObjectRef::Planned("user:heir@acme.com".into())));
    assert_eq!(depends_on, &vec!["user:heir@acme.com".to_string()]);
}

#[test]
fn without_an_heir_the_removal_is_refused_listing_every_owned_object() {
    let mut desired = empty_desired();
    desired.settings.prune_users = true;
    let live = site_with_a_leaver(&desired);
    let p = plan(&desired, &live, &PlanOptions::default());
    let errors: Vec<_> = p.errors.iter().filter(|e| e.kind == PlanErrorKind::OwnsContent).collect();
    assert_eq!(errors.len(), 1, "{:?}", p.errors);
    assert!(errors[0].message.contains("still owns 2: project:Old, workbook:default/Report"), "{}", errors[0].message);
    assert!(!p.applyable);
}

#[test]
fn objects_the_plan_deletes_need_no_heir_and_the_removal_waits_for_the_delete() {
    let mut desired = empty_desired();
    desired.settings.prune_users = true;
    let mut live = site_with_a_leaver(&desired);
    live.workbooks.clear();
    let options = PlanOptions { prune_top_level_projects: true, ..PlanOptions::default() };
    let p = plan(&desired, &live, &options);
    assert!(p.errors.iter().all(|e| e.kind != PlanErrorKind::OwnsContent), "{:?}", p.errors);
    let (heir, depends_on) = removal(&p);
    assert_eq!(heir, &None);
    assert_eq!(depends_on, &vec!["project:Old".to_string()]);
}

#[test]
fn an_owner_the_manifest_lists_without_a_role_is_checked_against_the_site_role() {
    let mut desired = empty_desired();
    desired.users.push(user("vera@acme.com", None));
    let mut sales = project("Sales");
    sales.owner = Some("vera@acme.com".into());
    desired.projects.push(sales);
    let mut live = converged(&empty_desired());
    live.users.push(live_user("vera@acme.com", "Viewer"));
    let p = plan(&desired, &live, &PlanOptions::default());
    let kinds: Vec<_> = p.errors.iter().map(|e| (e.kind, e.address.as_str())).collect();
    assert_eq!(kinds, vec![(PlanErrorKind::OwnerRole, "project:Sales")]);

    // An owner already in place is not checked: Tableau keeps a demoted user as owner.
    live.projects.push(LiveProject {
        id: "p-sales".into(),
        name: "Sales".into(),
        parent_id: None,
        description: None,
        content_permissions: None,
        owner_id: Some(id_of("u", "vera@acme.com")),
        updated_at: None,
    });
    assert!(plan(&desired, &live, &PlanOptions::default()).errors.is_empty());
    live.projects.pop();

    live.users.last_mut().unwrap().site_role = "ExplorerCanPublish".into();
    assert!(plan(&desired, &live, &PlanOptions::default()).errors.is_empty());
}

#[test]
fn refresh_is_refused_for_live_content_without_an_extract_unless_the_plan_republishes_it() {
    let mut desired = empty_desired();
    desired.projects.push(project("Sales"));
    let mut wb = content(ContentKind::Workbook, "Live", "Sales", file("live.twb", "a", 10));
    wb.refresh = Some(vec![RefreshSpec { refresh_type: RefreshType::Full, schedule: daily(6, &weekdays()) }]);
    desired.workbooks.push(wb);
    let mut live = converged(&desired);
    live.workbooks[0].has_extracts = Some(false);
    let p = plan(&desired, &live, &PlanOptions::default());
    let errors: Vec<_> = p.errors.iter().map(|e| (e.kind, e.address.as_str())).collect();
    assert_eq!(errors, vec![(PlanErrorKind::NoExtract, "workbook:Sales/Live")]);

    live.workbooks[0].has_extracts = Some(true);
    assert!(plan(&desired, &live, &PlanOptions::default()).errors.is_empty());
    live.workbooks[0].has_extracts = None;
    assert!(plan(&desired, &live, &PlanOptions::default()).errors.is_empty(), "unknown is not refused");

    // A new file is published over it: whether that one has an extract is Tableau's to say at apply time.
    live.workbooks[0].has_extracts = Some(false);
    desired.workbooks[0].file = file("live.twb", "b", 10);
    let p = plan(&desired, &live, &PlanOptions::default());
    assert!(p.errors.is_empty(), "{:?}", p.errors);
}
