//! Webhook delivery: when an extract-refresh job starts or ends, the site's enabled webhooks for that event get the
//! documented JSON payload, POSTed from a spawned task so neither the job nor the request that settled it waits.
//!
//! The payload's fields are those of Tableau's webhook documentation ("Webhooks Events and Payloads",
//! help.tableau.com/current/developer/webhooks; tableau/webhooks-docs README at 0a31a4d): `resource` (`DATASOURCE`
//! or `WORKBOOK`: the payload sections say the data-source events, refreshes included, share one payload with
//! `"resource":"DATASOURCE"`, although the page's event table names `EXTRACTS` as the refresh events' resource),
//! `event_type` (the API event name), `resource_name`, `site_luid`, `resource_luid` and `created_at`.
//!
//! Deliveries go to loopback destinations only (a receiver in a test): the emulator is a test server and never
//! calls out to the internet; any other destination is logged as not delivered. A delivery has a bounded timeout,
//! and a failed one is logged, never an error of the job or the request.

use std::sync::OnceLock;
use std::time::Duration;

use serde_json::json;

use crate::store::{State, TargetKind};

/// How long one delivery may take (Tableau documents none; a receiver in a test answers at once).
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// One POST to make.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub webhook: String,
    pub url: String,
    pub payload: serde_json::Value,
}

/// The API event names the emulator knows: the REST schema's `webhookSourceType` (ts-api_3_29.xsd), named as
/// Tableau's webhook documentation names them.
pub const EVENTS: [&str; 17] = [
    "DatasourceCreated",
    "DatasourceUpdated",
    "DatasourceDeleted",
    "DatasourceRefreshStarted",
    "DatasourceRefreshSucceeded",
    "DatasourceRefreshFailed",
    "WorkbookCreated",
    "WorkbookUpdated",
    "WorkbookDeleted",
    "WorkbookRefreshStarted",
    "WorkbookRefreshSucceeded",
    "WorkbookRefreshFailed",
    "ViewDeleted",
    "LabelCreated",
    "LabelUpdated",
    "LabelDeleted",
    "FlowCompleted",
];

/// `datasource-refresh-failed` (a `webhook-source-event-*` element's suffix) -> `DatasourceRefreshFailed`, when it
/// is a known event.
pub fn event_from_source(suffix: &str) -> Option<&'static str> {
    EVENTS.into_iter().find(|e| kebab(e) == suffix)
}

/// `DatasourceRefreshFailed` -> `datasource-refresh-failed`.
pub fn kebab(event: &str) -> String {
    let mut out = String::with_capacity(event.len() + 4);
    for (i, c) in event.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Whether the emulator delivers to `url`: `http` or `https` to a loopback host.
pub fn is_loopback(url: &str) -> bool {
    let Ok(url) = url::Url::parse(url) else { return false };
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The deliveries the refresh jobs owe since the last call: a start for every job not yet announced, an end
/// (succeeded or failed; a cancelled job has no event) for every completed one. Marks them announced. Nothing to do
/// (and no scan of the jobs) on a site without webhooks: creating a webhook marks the jobs before it as announced.
pub fn collect(state: &mut State) -> Vec<Delivery> {
    if state.webhooks.iter().all(|w| !w.enabled) {
        return Vec::new();
    }
    let mut events = Vec::new();
    for job in state.jobs.iter_mut().filter(|j| j.job_type == "RefreshExtract") {
        let Some((kind, id, name)) = &job.target else { continue };
        let resource = match kind {
            TargetKind::Datasource => "Datasource",
            TargetKind::Workbook => "Workbook",
        };
        if !job.announced_start {
            job.announced_start = true;
            events.push((format!("{resource}RefreshStarted"), *kind, id.clone(), name.clone(), job.created_at.clone()));
        }
        if let Some(done) = job.completed_at.as_ref().filter(|_| !job.announced_end) {
            job.announced_end = true;
            let outcome = match job.finish_code {
                0 => Some("Succeeded"),
                1 => Some("Failed"),
                _ => None,
            };
            if let Some(outcome) = outcome {
                events.push((format!("{resource}Refresh{outcome}"), *kind, id.clone(), name.clone(), done.clone()));
            }
        }
    }
    let mut out = Vec::new();
    for (event, kind, id, name, at) in events {
        let payload = json!({
            "resource": if kind == TargetKind::Datasource { "DATASOURCE" } else { "WORKBOOK" },
            "event_type": event,
            "resource_name": name,
            "site_luid": state.site.id,
            "resource_luid": id,
            "created_at": at,
        });
        for hook in state.webhooks.iter().filter(|w| w.enabled && w.event == event) {
            out.push(Delivery { webhook: hook.name.clone(), url: hook.url.clone(), payload: payload.clone() });
        }
    }
    out
}

/// Marks every job's events as announced: a webhook created now is not sent what happened before it.
pub fn mark_announced(state: &mut State) {
    for job in &mut state.jobs {
        job.announced_start = true;
        job.announced_end = job.completed_at.is_some();
    }
}

fn http() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(DELIVERY_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default()
    })
}

/// Sends each delivery from its own task; returns at once. Outside a Tokio runtime nothing is sent.
pub fn spawn(deliveries: Vec<Delivery>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
    for delivery in deliveries {
        if !is_loopback(&delivery.url) {
            tracing::info!(
                webhook = %delivery.webhook,
                url = %delivery.url,
                "webhook not delivered: the emulator delivers only to loopback destinations"
            );
            continue;
        }
        runtime.spawn(async move {
            let request = http()
                .post(&delivery.url)
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(delivery.payload.to_string());
            match request.send().await {
                Ok(response) if response.status().is_success() => {
                    tracing::debug!(webhook = %delivery.webhook, status = %response.status(), "webhook delivered");
                }
                Ok(response) => {
                    tracing::warn!(webhook = %delivery.webhook, status = %response.status(), "webhook destination refused the delivery");
                }
                Err(err) => tracing::warn!(webhook = %delivery.webhook, error = %err, "webhook delivery failed"),
            }
        });
    }
}

/// Test Webhook: an empty POST to the destination, awaited (bounded by [`DELIVERY_TIMEOUT`]). The destination's
/// status and body, or `None` when it could not be reached.
pub async fn test(url: &str) -> Option<(u16, String)> {
    let response = http().post(url).send().await.ok()?;
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    Some((status, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_elements_name_the_events() {
        assert_eq!(event_from_source("datasource-refresh-failed"), Some("DatasourceRefreshFailed"));
        assert_eq!(event_from_source("view-deleted"), Some("ViewDeleted"));
        assert_eq!(event_from_source("user-deleted"), None);
    }

    #[test]
    fn only_loopback_destinations_are_delivered_to() {
        assert!(is_loopback("http://127.0.0.1:9/x"));
        assert!(is_loopback("http://[::1]:9/x"));
        assert!(is_loopback("https://localhost/x"));
        assert!(!is_loopback("https://hooks.example.com/x"));
        assert!(!is_loopback("not a url"));
    }
}
