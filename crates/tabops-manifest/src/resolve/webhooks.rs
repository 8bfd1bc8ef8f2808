//! Webhooks: unique names, a known trigger event (with "did you mean"), and a destination Tableau Cloud accepts.

use std::collections::HashMap;

use super::{Cx, FileInput};
use crate::diag::did_you_mean;
use crate::model::{WebhookEvent, WebhookSpec};
use crate::webhook::is_loopback_host;

/// Events Tableau's webhook documentation lists that the REST schema (ts-api_3_29.xsd, `webhookSourceType`) has no
/// element for: Tableau Server events a Tableau Cloud site administrator cannot subscribe to.
const SERVER_ONLY_EVENTS: [&str; 6] =
    ["AdminPromoted", "AdminDemoted", "UserDeleted", "SiteCreated", "SiteUpdated", "SiteDeleted"];

/// All webhooks, sorted by name.
pub fn webhooks(cx: &mut Cx<'_>, files: &[FileInput]) -> Vec<WebhookSpec> {
    let mut seen = HashMap::new();
    let mut out = Vec::new();
    for webhook in files.iter().flat_map(|f| f.raw.webhooks.iter().flatten()) {
        let raw = &webhook.value;
        let Some(name) = cx.expand(&raw.name) else { continue };
        if name.trim().is_empty() {
            cx.problems.push(raw.name.problem("a webhook's `name` must not be empty", None));
            continue;
        }
        if !cx.unique(&mut seen, name.to_lowercase(), &raw.name, "webhook") {
            continue;
        }
        let event = cx.expand(&raw.event).and_then(|text| {
            let event = WebhookEvent::parse(&text);
            if event.is_none() {
                let names = WebhookEvent::ALL.map(WebhookEvent::as_str);
                let hint = if SERVER_ONLY_EVENTS.iter().any(|e| e.eq_ignore_ascii_case(text.trim())) {
                    Some(format!(
                        "`{text}` is a Tableau Server event: the REST schema's webhookSourceType (ts-api_3_29.xsd) has \
                         no element for it; Tableau Cloud events: {}",
                        names.join(", ")
                    ))
                } else {
                    did_you_mean(&text, names).or_else(|| Some(format!("webhook events: {}", names.join(", "))))
                };
                cx.problems.push(raw.event.problem(format!("unknown webhook event `{text}`"), hint));
            }
            event
        });
        let url = cx.expand(&raw.url).and_then(|text| match destination_problem(&text) {
            None => Some(text),
            Some((message, hint)) => {
                cx.problems.push(raw.url.problem(message, Some(hint)));
                None
            }
        });
        let (Some(event), Some(url)) = (event, url) else { continue };
        out.push(WebhookSpec { name, event, url, enabled: raw.enabled.as_ref().is_none_or(|b| b.value) });
    }
    out.sort_by_cached_key(|w| w.name.to_lowercase());
    out
}

/// Why Tableau Cloud would not take `text` as a webhook destination: the documentation ("Create a Webhook": "The
/// webhook destination URL must be https and have a valid certificate") and the schema (`webhookDestinationHttpType`:
/// an `https?://.+` URI). `http://` is let through for a loopback host only: a receiver in a test against the
/// emulator, which delivers to loopback destinations only.
fn destination_problem(text: &str) -> Option<(String, String)> {
    let https_hint = "Tableau Cloud delivers webhooks only to https:// destinations with a valid certificate";
    let Ok(url) = url::Url::parse(text) else {
        return Some((
            format!("webhook destination `{text}` is not an absolute URL"),
            format!("write the full URL, e.g. `https://hooks.example.com/tableau`; {https_hint}"),
        ));
    };
    let host = url.host_str().unwrap_or_default();
    match url.scheme() {
        "https" if !host.is_empty() => None,
        "http" if is_loopback_host(host) => None,
        "http" => Some((
            format!("webhook destination `{text}` is not https"),
            format!(
                "{https_hint}; http:// is accepted only for a loopback receiver (127.0.0.1, ::1, localhost) in tests"
            ),
        )),
        scheme => {
            Some((format!("webhook destination `{text}` has scheme `{scheme}`, not https"), https_hint.to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::destination_problem;

    #[test]
    fn destinations_must_be_https_or_loopback_http() {
        assert!(destination_problem("https://hooks.example.com/tableau").is_none());
        assert!(destination_problem("http://127.0.0.1:8080/hook").is_none());
        assert!(destination_problem("http://[::1]:9/x").is_none());
        assert!(destination_problem("http://hooks.example.com/tableau").is_some());
        assert!(destination_problem("ftp://hooks.example.com").is_some());
        assert!(destination_problem("hooks.example.com/tableau").is_some());
    }
}
