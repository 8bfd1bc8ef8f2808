//! View permissions on plain values: a view's rules are planned against the live view (by sheet name) like a
//! workbook's; a converged view plans nothing; a view of a workbook this plan publishes is referred to by its
//! address and waits for the publish; a sheet with no live view and no publish is a plan error.

use tabops_testkit::model as common;

use common::*;
use tabops_manifest::model::*;
use tabops_plan::inventory::*;
use tabops_plan::plan::{Action, ObjectRef, Operation, PlanErrorKind};
use tabops_plan::{PlanOptions, plan};

/// The enterprise desired state with `Budget` (no tabs) managing the rules of its `Summary` view.
fn desired(caps: &[(Capability, Mode)]) -> Desired {
    let mut d = enterprise();
    let budget = d.workbooks.iter_mut().find(|w| w.name == "Budget").unwrap();
    budget.show_tabs = Some(false);
    budget.view_permissions =
        [("Summary".to_owned(), vec![rule(Grantee::Group("Sales Analysts".into()), caps)])].into();
    d
}

/// The converged site plus Budget's views and the Summary view's live rules.
fn live(d: &Desired, summary: &[(Capability, Mode)]) -> Inventory {
    let mut inv = converged(d);
    let budget = inv.workbooks.iter().find(|w| w.name == "Budget").unwrap().id.clone();
    inv.view_ids.insert(budget, [("Summary".to_owned(), "v-summary".to_owned())].into());
    let group = inv.groups.iter().find(|g| g.name == "Sales Analysts").unwrap().id.clone();
    inv.permissions.insert(
        "v-summary".into(),
        vec![LiveRule {
            grantee: LiveGrantee { kind: GranteeKind::Group, id: group },
            capabilities: summary.iter().copied().collect(),
        }],
    );
    inv
}

const ADDR: &str = "permissions:view:Finance/Budget/Summary/group:Sales Analysts";

#[test]
fn a_views_rules_converge_like_a_workbooks() {
    use Capability::*;
    let d = desired(&[(Read, Mode::Allow), (ExportData, Mode::Deny)]);
    let p = plan(&d, &live(&d, &[(Read, Mode::Allow), (ExportData, Mode::Deny)]), &PlanOptions::default());
    assert_eq!(changed_ids(&p), Vec::<String>::new(), "{:#?}", p.actions);
    assert!(p.inputs.inventory_rows.contains_key("permissions:v-summary"));

    let p = plan(&d, &live(&d, &[(Read, Mode::Allow), (ExportData, Mode::Allow)]), &PlanOptions::default());
    let a = by_id(&p, ADDR);
    assert_eq!(a.action, Action::Update);
    let Operation::SetPermissions { target, object, grant, revoke, .. } = &a.operation else { panic!("{a:?}") };
    assert_eq!(*target, PermissionTarget::View);
    assert_eq!(object, &ObjectRef::Live("v-summary".into()));
    assert_eq!(grant.get(&ExportData), Some(&Mode::Deny));
    assert_eq!(revoke.get(&ExportData), Some(&Mode::Allow));
}

#[test]
fn a_view_of_a_workbook_published_by_the_plan_waits_for_the_publish() {
    let d = desired(&[(Capability::Read, Mode::Allow)]);
    let mut inv = live(&d, &[]);
    inv.workbooks.retain(|w| w.name != "Budget");
    inv.view_ids.clear();
    let p = plan(&d, &inv, &PlanOptions::default());
    assert!(p.applyable, "{:?}", p.errors);
    let a = by_id(&p, ADDR);
    let Operation::SetPermissions { object, .. } = &a.operation else { panic!("{a:?}") };
    assert_eq!(object, &ObjectRef::Planned("view:Finance/Budget/Summary".into()));
    assert!(a.depends_on.contains(&"workbook:Finance/Budget".to_owned()), "{:?}", a.depends_on);
    assert!(!a.depends_on.iter().any(|d| d.starts_with("view:")), "no action has a view's id: {:?}", a.depends_on);
}

#[test]
fn a_sheet_without_a_live_view_and_no_publish_is_a_plan_error() {
    let mut d = desired(&[(Capability::Read, Mode::Allow)]);
    let inv = live(&d, &[]);
    let budget = d.workbooks.iter_mut().find(|w| w.name == "Budget").unwrap();
    budget.view_permissions = [("Missing".to_owned(), vec![])].into();
    let p = plan(&d, &inv, &PlanOptions::default());
    assert!(!p.applyable);
    assert!(
        p.errors.iter().any(|e| e.kind == PlanErrorKind::MissingView && e.message.contains("'Missing'")),
        "{:?}",
        p.errors
    );
}
