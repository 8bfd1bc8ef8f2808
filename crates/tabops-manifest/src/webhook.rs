//! Webhooks: the events a Tableau webhook can be triggered by, and a resolved webhook of the manifest.
//!
//! The event list is the REST schema's: ts-api_3_29.xsd (tableau/rest-api-samples) declares one
//! `webhook-source-event-*` element per event in `webhookSourceType`, and Tableau's webhook documentation
//! ("Webhooks Events and Payloads", help.tableau.com/current/developer/webhooks) names each one's API event name
//! (`DatasourceRefreshFailed`), which the `event` attribute of `webhookType` takes and which Tableau prefers since
//! 2020.3. Events the documentation lists without a schema element (`AdminPromoted`, `AdminDemoted`, `UserDeleted`,
//! `SiteCreated`, `SiteUpdated`, `SiteDeleted`: Tableau Server events) are not accepted: a site administrator on
//! Tableau Cloud cannot create them through the 3.29 schema.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A webhook trigger event, by its API event name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum WebhookEvent {
    DatasourceCreated,
    DatasourceUpdated,
    DatasourceDeleted,
    DatasourceRefreshStarted,
    DatasourceRefreshSucceeded,
    DatasourceRefreshFailed,
    WorkbookCreated,
    WorkbookUpdated,
    WorkbookDeleted,
    WorkbookRefreshStarted,
    WorkbookRefreshSucceeded,
    WorkbookRefreshFailed,
    ViewDeleted,
    LabelCreated,
    LabelUpdated,
    LabelDeleted,
    FlowCompleted,
}

impl WebhookEvent {
    pub const ALL: [WebhookEvent; 17] = [
        WebhookEvent::DatasourceCreated,
        WebhookEvent::DatasourceUpdated,
        WebhookEvent::DatasourceDeleted,
        WebhookEvent::DatasourceRefreshStarted,
        WebhookEvent::DatasourceRefreshSucceeded,
        WebhookEvent::DatasourceRefreshFailed,
        WebhookEvent::WorkbookCreated,
        WebhookEvent::WorkbookUpdated,
        WebhookEvent::WorkbookDeleted,
        WebhookEvent::WorkbookRefreshStarted,
        WebhookEvent::WorkbookRefreshSucceeded,
        WebhookEvent::WorkbookRefreshFailed,
        WebhookEvent::ViewDeleted,
        WebhookEvent::LabelCreated,
        WebhookEvent::LabelUpdated,
        WebhookEvent::LabelDeleted,
        WebhookEvent::FlowCompleted,
    ];

    /// The API event name (`DatasourceRefreshFailed`): the `event` attribute, and how tabops writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::DatasourceCreated => "DatasourceCreated",
            WebhookEvent::DatasourceUpdated => "DatasourceUpdated",
            WebhookEvent::DatasourceDeleted => "DatasourceDeleted",
            WebhookEvent::DatasourceRefreshStarted => "DatasourceRefreshStarted",
            WebhookEvent::DatasourceRefreshSucceeded => "DatasourceRefreshSucceeded",
            WebhookEvent::DatasourceRefreshFailed => "DatasourceRefreshFailed",
            WebhookEvent::WorkbookCreated => "WorkbookCreated",
            WebhookEvent::WorkbookUpdated => "WorkbookUpdated",
            WebhookEvent::WorkbookDeleted => "WorkbookDeleted",
            WebhookEvent::WorkbookRefreshStarted => "WorkbookRefreshStarted",
            WebhookEvent::WorkbookRefreshSucceeded => "WorkbookRefreshSucceeded",
            WebhookEvent::WorkbookRefreshFailed => "WorkbookRefreshFailed",
            WebhookEvent::ViewDeleted => "ViewDeleted",
            WebhookEvent::LabelCreated => "LabelCreated",
            WebhookEvent::LabelUpdated => "LabelUpdated",
            WebhookEvent::LabelDeleted => "LabelDeleted",
            WebhookEvent::FlowCompleted => "FlowCompleted",
        }
    }

    /// The event as tableauserverclient's `WebhookItem.event` spells it (`datasource-refresh-failed`): the schema
    /// element's name without its `webhook-source-event-` prefix.
    pub fn kebab(self) -> String {
        kebab(self.as_str())
    }

    /// Any of the three spellings, case-insensitively: the API event name (`DatasourceRefreshFailed`), TSC's
    /// (`datasource-refresh-failed`) or the schema element's (`webhook-source-event-datasource-refresh-failed`).
    pub fn parse(text: &str) -> Option<WebhookEvent> {
        let text = text.trim();
        let bare = strip_prefix_ignore_case(text, "webhook-source-event-").unwrap_or(text);
        WebhookEvent::ALL
            .into_iter()
            .find(|e| e.as_str().eq_ignore_ascii_case(bare) || e.kebab().eq_ignore_ascii_case(bare))
    }
}

impl fmt::Display for WebhookEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn strip_prefix_ignore_case<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

/// `DatasourceRefreshFailed` -> `datasource-refresh-failed`.
fn kebab(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Whether a destination URL's host is a loopback address (`127.0.0.0/8`, `::1`, `localhost`): the only hosts an
/// `http://` destination may name, for a receiver in a test against the emulator. Tableau Cloud requires https.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A webhook the manifest declares (`webhooks:`), matched to the site's by name (case-insensitively).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookSpec {
    pub name: String,
    pub event: WebhookEvent,
    /// The destination URL Tableau POSTs the event's JSON payload to.
    pub url: String,
    /// Whether the webhook is enabled (default true). Tableau disables a webhook whose deliveries keep failing;
    /// drift shows it.
    pub enabled: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_an_event_parses_to_it() {
        for event in WebhookEvent::ALL {
            assert_eq!(WebhookEvent::parse(event.as_str()), Some(event));
            assert_eq!(WebhookEvent::parse(&event.kebab()), Some(event));
            assert_eq!(WebhookEvent::parse(&format!("webhook-source-event-{}", event.kebab())), Some(event));
        }
        assert_eq!(WebhookEvent::DatasourceRefreshFailed.kebab(), "datasource-refresh-failed");
        assert_eq!(WebhookEvent::parse("workbookrefreshfailed"), Some(WebhookEvent::WorkbookRefreshFailed));
        assert_eq!(WebhookEvent::parse("AdminPromoted"), None);
        assert_eq!(WebhookEvent::parse("datasource-refresh"), None);
    }

    #[test]
    fn loopback_hosts_are_told_apart() {
        for host in ["127.0.0.1", "127.1.2.3", "[::1]", "::1", "localhost", "LOCALHOST"] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in ["10.0.0.1", "example.com", "hooks.slack.com", "[::2]"] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
