//! Webhooks: matched to the site's by name (case-insensitively), updated in place when their event, destination or
//! enabled flag differ, created when missing. A webhook the manifest does not list is deleted under
//! `settings.prune_webhooks`, otherwise reported as unmanaged. Only a manifest that declares or prunes webhooks has
//! them read at all (the inventory's `webhooks` is `None` otherwise), so this phase then has nothing to do.

use std::collections::HashMap;

use tabops_manifest::model::{Address, WebhookEvent, WebhookSpec};

use crate::inventory::LiveWebhook;
use crate::origin::webhook_digest;
use crate::plan::{Action, Aspect, FieldChange, ObjectKind, Operation, Origin, PlannedAction};

use super::{Ctx, Draft, Pair, val};

/// Every webhook of the manifest, then the site's others.
pub(super) fn plan_webhooks(cx: &Ctx<'_>, draft: &mut Draft) {
    let Some(live) = cx.live.webhooks.as_deref() else { return };
    let mut live: Vec<&LiveWebhook> = live.iter().collect();
    live.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then_with(|| a.id.cmp(&b.id)));
    let mut by_name: HashMap<String, &LiveWebhook> = HashMap::new();
    for w in &live {
        by_name.entry(w.name.to_lowercase()).or_insert(w);
    }
    let mut matched = Vec::new();
    for spec in &cx.desired.webhooks {
        let found = by_name.remove(&spec.name.to_lowercase());
        if let Some(w) = found {
            matched.push(w.id.as_str());
        }
        decide(draft, Pair::of(spec, found), cx.desired.settings.prune_webhooks);
    }
    for w in live.into_iter().filter(|w| !matched.contains(&w.id.as_str())) {
        decide(draft, Pair::Live(w), cx.desired.settings.prune_webhooks);
    }
}

fn origin(spec: Option<&WebhookSpec>, name: &str) -> Origin {
    Origin { address: Address::webhook(name), aspect: Aspect::Fields, digest: spec.map(webhook_digest) }
}

fn decide(draft: &mut Draft, pair: Pair<&WebhookSpec, &LiveWebhook>, prune: bool) {
    match pair {
        Pair::Desired(spec) => {
            let address = Address::webhook(spec.name.as_str());
            let mut changes = vec![
                FieldChange::new("event", None, val(spec.event.as_str())),
                FieldChange::new("url", None, val(&spec.url)),
            ];
            if !spec.enabled {
                changes.push(FieldChange::new("enabled", None, val(false)));
            }
            draft.push(PlannedAction {
                id: address.to_string(),
                kind: ObjectKind::Webhook,
                action: Action::Create,
                reason: "not on the site".into(),
                changes,
                depends_on: vec![],
                live_id: None,
                origin: origin(Some(spec), &spec.name),
                operation: Operation::CreateWebhook {
                    name: spec.name.clone(),
                    event: spec.event,
                    url: spec.url.clone(),
                    enabled: spec.enabled,
                },
            });
        }
        Pair::Both(spec, live) => {
            draft.record_row(&live.id, live);
            let mut changes = Vec::new();
            if live.name != spec.name {
                changes.push(FieldChange::new("name", val(&live.name), val(&spec.name)));
            }
            if live.event.as_deref().and_then(WebhookEvent::parse) != Some(spec.event) {
                changes.push(FieldChange::new("event", val(&live.event), val(spec.event.as_str())));
            }
            if live.url.as_deref() != Some(spec.url.as_str()) {
                changes.push(FieldChange::new("url", val(&live.url), val(&spec.url)));
            }
            if live.enabled != spec.enabled {
                changes.push(FieldChange::new("enabled", val(live.enabled), val(spec.enabled)));
            }
            if changes.is_empty() {
                return;
            }
            draft.push(PlannedAction {
                id: Address::webhook(spec.name.as_str()).to_string(),
                kind: ObjectKind::Webhook,
                action: Action::Update,
                reason: "site differs from the manifest".into(),
                changes,
                depends_on: vec![],
                live_id: Some(live.id.clone()),
                origin: origin(Some(spec), &spec.name),
                operation: Operation::UpdateWebhook {
                    webhook: live.id.clone(),
                    name: spec.name.clone(),
                    event: spec.event,
                    url: spec.url.clone(),
                    enabled: spec.enabled,
                },
            });
        }
        Pair::Live(live) => {
            let address = Address::webhook(live.name.as_str());
            if !prune {
                draft.unmanaged(ObjectKind::Webhook, &address, &live.id);
                return;
            }
            draft.record_row(&live.id, live);
            draft.push(PlannedAction {
                id: address.to_string(),
                kind: ObjectKind::Webhook,
                action: Action::Delete,
                reason: "not in the manifest and settings.prune_webhooks is on".into(),
                changes: vec![FieldChange::new("url", val(&live.url), None)],
                depends_on: vec![],
                live_id: Some(live.id.clone()),
                origin: origin(None, &live.name),
                operation: Operation::DeleteWebhook { webhook: live.id.clone() },
            });
        }
    }
}
