//! The site's webhooks as `webhooks.yaml` (a whole-site export only: webhooks belong to no project).

use tabops_manifest::model::WebhookEvent;
use tabops_manifest::write::{Lit, WebhookDoc, WebhooksFile};
use tabops_plan::inventory::LiveWebhook;

/// The document, `None` when the site has no webhook tabops can write. A webhook whose event is not one the manifest
/// accepts (or names none) is left out with a warning.
pub fn document(live: &[LiveWebhook], warnings: &mut Vec<String>) -> Option<WebhooksFile> {
    let mut docs = Vec::new();
    let mut sorted: Vec<&LiveWebhook> = live.iter().collect();
    sorted.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then_with(|| a.id.cmp(&b.id)));
    let mut seen = std::collections::HashSet::new();
    for w in sorted {
        let event = w.event.as_deref().and_then(WebhookEvent::parse);
        let (Some(event), Some(url)) = (event, w.url.as_deref()) else {
            warnings.push(format!(
                "webhook '{}' not exported: its event {:?} is not one a manifest can declare, or it has no destination",
                w.name, w.event
            ));
            continue;
        };
        if !seen.insert(w.name.to_lowercase()) {
            warnings.push(format!("webhook '{}' not exported: another webhook of the site has the same name", w.name));
            continue;
        }
        docs.push(WebhookDoc {
            name: Lit::new(w.name.clone()),
            event: event.as_str(),
            url: Lit::new(url),
            enabled: (!w.enabled).then_some(false),
        });
    }
    (!docs.is_empty()).then_some(WebhooksFile { version: 1, webhooks: docs })
}
