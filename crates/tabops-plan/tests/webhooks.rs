//! The webhook phase on plain values: create, no change when equal (the event in any spelling the site reports),
//! in-place update of each field and of the name's case, unmanaged versus pruned, drift classification against a
//! baseline, stale rows, and that a manifest without webhooks never needs them read.

use tabops_manifest::model::{WebhookEvent, WebhookSpec};
use tabops_plan::drift::classify;
use tabops_plan::inventory::{Inventory, LiveWebhook};
use tabops_plan::plan::{Action, ObjectKind, Operation};
use tabops_plan::{PlanOptions, plan};
use tabops_testkit::model::{by_id, changed_ids, empty_desired};

fn spec(name: &str, event: WebhookEvent, url: &str) -> WebhookSpec {
    WebhookSpec { name: name.into(), event, url: url.into(), enabled: true }
}

fn live(id: &str, name: &str, event: &str, url: &str) -> LiveWebhook {
    LiveWebhook { id: id.into(), name: name.into(), event: Some(event.into()), url: Some(url.into()), enabled: true }
}

const URL: &str = "https://hooks.example.com/a";

fn desired(webhooks: Vec<WebhookSpec>) -> tabops_manifest::model::Desired {
    let mut d = empty_desired();
    d.webhooks = webhooks;
    d
}

fn site(webhooks: Vec<LiveWebhook>) -> Inventory {
    Inventory { webhooks: Some(webhooks), ..Default::default() }
}

#[test]
fn a_missing_webhook_is_created_and_an_equal_one_needs_nothing() {
    let d = desired(vec![spec("Failed", WebhookEvent::DatasourceRefreshFailed, URL)]);
    let p = plan(&d, &site(vec![]), &PlanOptions::default());
    let create = by_id(&p, "webhook:Failed");
    assert_eq!((create.kind, create.action), (ObjectKind::Webhook, Action::Create));
    assert!(
        matches!(&create.operation, Operation::CreateWebhook { event: WebhookEvent::DatasourceRefreshFailed, url, enabled: true, .. } if url == URL)
    );

    // The site may report the event as the API name or (through the source element) TSC's spelling.
    for event in ["DatasourceRefreshFailed", "datasource-refresh-failed"] {
        let p = plan(&d, &site(vec![live("w1", "failed", event, URL)]), &PlanOptions::default());
        let ids = changed_ids(&p);
        // Names compare case-insensitively, but a case-only difference is applied.
        assert_eq!(ids, vec!["~ webhook:Failed".to_owned()], "{event}");
        let update = by_id(&p, "webhook:Failed");
        assert_eq!(update.changes.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(), vec!["name"]);
    }
    let p = plan(&d, &site(vec![live("w1", "Failed", "DatasourceRefreshFailed", URL)]), &PlanOptions::default());
    assert!(changed_ids(&p).is_empty(), "{:?}", changed_ids(&p));
    assert_eq!(p.summary.line(), "No changes. The site matches the manifest.");
}

#[test]
fn event_destination_and_enabled_are_updated_in_place() {
    let mut wanted = spec("Failed", WebhookEvent::WorkbookRefreshFailed, "https://hooks.example.com/b");
    wanted.enabled = false;
    let p = plan(
        &desired(vec![wanted]),
        &site(vec![live("w1", "Failed", "DatasourceRefreshFailed", URL)]),
        &PlanOptions::default(),
    );
    let update = by_id(&p, "webhook:Failed");
    assert_eq!(update.action, Action::Update);
    assert_eq!(update.live_id.as_deref(), Some("w1"));
    let fields: Vec<_> = update.changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, vec!["event", "url", "enabled"]);
    assert!(matches!(&update.operation, Operation::UpdateWebhook { webhook, enabled: false, .. } if webhook == "w1"));
}

#[test]
fn webhooks_the_manifest_does_not_list_are_unmanaged_unless_pruned() {
    let d = desired(vec![spec("Failed", WebhookEvent::DatasourceRefreshFailed, URL)]);
    let live_site =
        site(vec![live("w1", "Failed", "DatasourceRefreshFailed", URL), live("w2", "By hand", "ViewDeleted", URL)]);
    let p = plan(&d, &live_site, &PlanOptions::default());
    assert!(changed_ids(&p).is_empty());
    assert_eq!(
        p.unmanaged.iter().map(|u| (u.kind, u.address.as_str())).collect::<Vec<_>>(),
        vec![(ObjectKind::Webhook, "webhook:By hand")]
    );

    let mut pruning = d.clone();
    pruning.settings.prune_webhooks = true;
    let p = plan(&pruning, &live_site, &PlanOptions::default());
    let delete = by_id(&p, "webhook:By hand");
    assert_eq!(delete.action, Action::Delete);
    assert!(matches!(&delete.operation, Operation::DeleteWebhook { webhook } if webhook == "w2"));
    // Deletes count against the deletion limit.
    let strict = PlanOptions { max_deletes: Some(0), ..Default::default() };
    assert!(!plan(&pruning, &live_site, &strict).applyable);
}

#[test]
fn drift_tells_a_webhook_changed_on_the_site_from_one_changed_in_git() {
    let baseline = desired(vec![spec("Failed", WebhookEvent::DatasourceRefreshFailed, URL)]);
    let moved = site(vec![live("w1", "Failed", "DatasourceRefreshFailed", "https://elsewhere.example.com/")]);
    let report = classify(&plan(&baseline, &moved, &PlanOptions::default()), Some(&baseline));
    assert_eq!(report.changed_on_site.len(), 1);
    assert!(report.pending_from_git.is_empty());

    let edited = desired(vec![spec("Failed", WebhookEvent::DatasourceRefreshFailed, "https://new.example.com/")]);
    let converged = site(vec![live("w1", "Failed", "DatasourceRefreshFailed", URL)]);
    let report = classify(&plan(&edited, &converged, &PlanOptions::default()), Some(&baseline));
    assert_eq!(report.pending_from_git.len(), 1);
    assert!(report.changed_on_site.is_empty());
}

#[test]
fn webhook_rows_bind_a_saved_plan() {
    let d = desired(vec![spec("Failed", WebhookEvent::DatasourceRefreshFailed, URL)]);
    let before = site(vec![live("w1", "Failed", "DatasourceRefreshFailed", "https://old.example.com/")]);
    let p = plan(&d, &before, &PlanOptions::default());
    assert!(p.inputs.inventory_rows.contains_key("w1"));
    let after = site(vec![live("w1", "Failed", "DatasourceRefreshFailed", "https://other.example.com/")]);
    assert!(p.check_fresh(&after).is_err(), "a webhook changed since the plan makes it stale");
    assert!(p.check_fresh(&before).is_ok());
}

#[test]
fn a_site_whose_webhooks_were_not_read_plans_nothing_for_them() {
    // `None`: the manifest neither declares nor prunes webhooks, so the inventory did not read them.
    let p = plan(&empty_desired(), &Inventory::default(), &PlanOptions::default());
    assert!(p.changes().all(|a| a.kind != ObjectKind::Webhook));
    assert!(p.unmanaged.iter().all(|u| u.kind != ObjectKind::Webhook));
}
