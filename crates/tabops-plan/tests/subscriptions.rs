//! The subscription phase on plain values: create with its dependencies, no change when the site matches, an
//! update naming the changed field, prune only with `prune_subscriptions` and only on the manifest's workbooks, and
//! no subscription rows at all when the manifest does not use them.

use tabops_testkit::model as common;

use common::*;
use tabops_manifest::model::*;
use tabops_plan::inventory::*;
use tabops_plan::plan::{Action, ObjectKind, Operation};
use tabops_plan::{PlanOptions, plan};

fn weekly() -> Schedule {
    Schedule {
        frequency: Frequency::Weekly,
        start: TimeOfDay { hour: 8, minute: 0 },
        end: None,
        every: None,
        weekdays: [Weekday::Monday].into_iter().collect(),
        month_days: Default::default(),
    }
}

fn spec(view: Option<&str>) -> SubscriptionSpec {
    SubscriptionSpec {
        content: SubscriptionContent {
            project: path("Sales/EMEA"),
            workbook: "Revenue".into(),
            view: view.map(str::to_owned),
        },
        user: "carol@acme.com".into(),
        schedule: weekly(),
        fields: SubscriptionFields {
            subject: "Revenue this week".into(),
            message: None,
            attach_image: true,
            attach_pdf: false,
            page_orientation: None,
            page_size: None,
            send_if_empty: true,
            suspended: false,
        },
    }
}

/// The live form of `spec` on the converged site (the view listed under the workbook).
fn live(inv: &Inventory, spec: &SubscriptionSpec, id: &str) -> LiveSubscription {
    let workbook = inv.workbooks.iter().find(|w| w.name == spec.content.workbook).expect("live workbook");
    LiveSubscription {
        id: id.into(),
        subject: spec.fields.subject.clone(),
        message: None,
        attach_image: true,
        attach_pdf: false,
        page_orientation: None,
        page_size: None,
        send_if_empty: true,
        suspended: false,
        workbook_id: Some(workbook.id.clone()),
        view: spec.content.view.clone(),
        is_view: spec.content.view.is_some(),
        user_id: Some(id_of("u", &spec.user)),
        schedule: Some(spec.schedule.clone()),
        schedule_text: String::new(),
    }
}

const ADDRESS: &str = "subscription:Sales/EMEA/Revenue/Overview#carol@acme.com@weekly-08:00";

#[test]
fn a_new_subscription_is_created_and_a_matching_one_needs_nothing() {
    let mut desired = enterprise();
    desired.subscriptions = vec![spec(Some("Overview"))];
    let mut site = converged(&desired);
    site.subscriptions = Some(vec![]);
    let p = plan(&desired, &site, &PlanOptions::default());
    assert_eq!(changed_ids(&p), [format!("+ {ADDRESS}")]);
    let create = by_id(&p, ADDRESS);
    assert_eq!((create.kind, create.action), (ObjectKind::Subscription, Action::Create));
    assert!(
        matches!(&create.operation, Operation::CreateSubscription { view: Some(v), .. } if v == "Overview"),
        "{:?}",
        create.operation
    );

    site.subscriptions = Some(vec![live(&site, &desired.subscriptions[0], "s1")]);
    let p = plan(&desired, &site, &PlanOptions::default());
    assert!(changed_ids(&p).is_empty(), "{:?}", changed_ids(&p));
    // Names compare case-insensitively: a live view spelled differently is the same subscription.
    site.subscriptions.as_mut().unwrap()[0].view = Some("OVERVIEW".into());
    assert!(changed_ids(&plan(&desired, &site, &PlanOptions::default())).is_empty());
}

#[test]
fn a_changed_field_is_an_update_and_a_changed_schedule_is_another_subscription() {
    let mut desired = enterprise();
    desired.subscriptions = vec![spec(Some("Overview"))];
    let mut site = converged(&desired);
    let mut on_site = live(&site, &desired.subscriptions[0], "s1");
    on_site.subject = "Old subject".into();
    on_site.suspended = true;
    site.subscriptions = Some(vec![on_site.clone()]);
    let p = plan(&desired, &site, &PlanOptions::default());
    let update = by_id(&p, ADDRESS);
    assert_eq!(update.action, Action::Update);
    let fields: Vec<&str> = update.changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, ["subject", "suspended"]);
    assert_eq!(update.live_id.as_deref(), Some("s1"));

    // Another schedule on the site: the manifest's is created, the site's is unmanaged (not pruned by default) ...
    on_site.subject = "Revenue this week".into();
    on_site.suspended = false;
    on_site.schedule.as_mut().unwrap().start = TimeOfDay { hour: 9, minute: 0 };
    site.subscriptions = Some(vec![on_site]);
    let p = plan(&desired, &site, &PlanOptions::default());
    assert_eq!(changed_ids(&p), [format!("+ {ADDRESS}")]);
    assert!(p.unmanaged.iter().any(|u| u.kind == ObjectKind::Subscription && u.id == "s1"), "{:?}", p.unmanaged);
    // ... and deleted with prune_subscriptions.
    desired.settings.prune_subscriptions = true;
    let p = plan(&desired, &site, &PlanOptions::default());
    let delete = p.changes().find(|a| a.action == Action::Delete).expect("a delete");
    assert_eq!(delete.id, "subscription:Sales/EMEA/Revenue/Overview#carol@acme.com@weekly-09:00");
    // The delete counts toward the deletion limit.
    let p = plan(&desired, &site, &PlanOptions { max_deletes: Some(0), ..PlanOptions::default() });
    assert!(
        !p.applyable && p.errors.iter().any(|e| e.kind == tabops_plan::plan::PlanErrorKind::TooManyDeletes),
        "{:?}",
        p.errors
    );
}

#[test]
fn subscriptions_to_other_workbooks_are_never_touched_and_unused_subscriptions_leave_no_rows() {
    let mut desired = enterprise();
    desired.settings.prune_subscriptions = true;
    let mut site = converged(&desired);
    let mut other = live(&site, &spec(None), "s-other");
    other.workbook_id = Some("w-not-in-the-manifest".into());
    site.subscriptions = Some(vec![other]);
    let p = plan(&desired, &site, &PlanOptions::default());
    assert!(changed_ids(&p).is_empty(), "{:?}", changed_ids(&p));
    assert!(p.unmanaged.iter().all(|u| u.kind != ObjectKind::Subscription));

    desired.settings.prune_subscriptions = false;
    let p = plan(&desired, &site, &PlanOptions::default());
    assert!(!p.inputs.inventory_rows.contains_key("s-other"), "a manifest without subscriptions reads none");
}
