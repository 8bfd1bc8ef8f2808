//! Webhooks (`webhookType` in ts-api_3_29.xsd) and their create/update request.
//!
//! The trigger event travels two ways: the `event` attribute with the API event name (`DatasourceRefreshFailed`,
//! preferred since Tableau 2020.3), and the older `<webhook-source>` child holding one
//! `<webhook-source-event-datasource-refresh-failed/>` element (what tableauserverclient sends and reads,
//! `WebhookItem` and `RequestFactory.Webhook.create_req`). Tableau's webhook reference says either may be given and
//! both must agree when both are; tabops sends both and reads either.

use crate::xml::{Element, XmlWriter};

use super::opt;

/// The prefix of the `<webhook-source>` child's element name.
const SOURCE_PREFIX: &str = "webhook-source-event-";

/// A webhook of the site.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Webhook {
    pub id: String,
    pub name: String,
    /// The API event name (`DatasourceRefreshFailed`), from the `event` attribute or else the source element.
    pub event: Option<String>,
    /// The destination URL (`webhook-destination-http/@url`).
    pub url: Option<String>,
    /// `isEnabled`; absent means enabled (TSC's assets omit it).
    pub enabled: bool,
    /// Why Tableau disabled it, when it did.
    pub status_change_reason: Option<String>,
    pub owner_id: Option<String>,
}

impl Webhook {
    /// Parses a `webhook` element; `None` without `id`.
    pub fn from_element(e: &Element) -> Option<Webhook> {
        let id = e.attr_string("id")?;
        let from_source = e
            .child("webhook-source")
            .and_then(|s| s.children.first())
            .and_then(|c| c.name.strip_prefix(SOURCE_PREFIX))
            .map(api_event_name);
        Some(Webhook {
            id,
            name: e.attr_string("name").unwrap_or_default(),
            event: opt(e, "event").or(from_source),
            url: e
                .child("webhook-destination")
                .and_then(|d| d.child("webhook-destination-http"))
                .and_then(|h| opt(h, "url")),
            enabled: e.attr_bool("isEnabled").unwrap_or(true),
            status_change_reason: opt(e, "statusChangeReason"),
            owner_id: e.child_id("owner"),
        })
    }
}

/// `datasource-refresh-failed` -> `DatasourceRefreshFailed`.
pub fn api_event_name(kebab: &str) -> String {
    kebab
        .split('-')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

/// `DatasourceRefreshFailed` -> `datasource-refresh-failed`.
pub fn source_event_name(api: &str) -> String {
    let mut out = String::with_capacity(api.len() + 4);
    for (i, c) in api.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The body of Create Webhook (POST) and Update Webhook (PUT, API 3.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRequest {
    pub name: String,
    /// The API event name.
    pub event: String,
    pub url: String,
    pub enabled: bool,
}

impl WebhookRequest {
    pub fn to_xml(&self) -> String {
        let source = format!("{SOURCE_PREFIX}{}", source_event_name(&self.event));
        let enabled = if self.enabled { "true" } else { "false" };
        let mut body = XmlWriter::new();
        body.start("tsRequest", &[])
            .start(
                "webhook",
                &[
                    ("name", Some(self.name.as_str())),
                    ("event", Some(self.event.as_str())),
                    ("isEnabled", Some(enabled)),
                ],
            )
            .start("webhook-source", &[])
            .empty(&source, &[])
            .end("webhook-source")
            .start("webhook-destination", &[])
            .empty("webhook-destination-http", &[("method", Some("POST")), ("url", Some(self.url.as_str()))])
            .end("webhook-destination")
            .end("webhook")
            .end("tsRequest");
        body.finish()
    }
}

/// The answer of Test Webhook (`webhookTestResult`): the destination's HTTP status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookTestResult {
    pub status: Option<u16>,
    pub body: String,
}

impl WebhookTestResult {
    pub fn from_element(e: &Element) -> WebhookTestResult {
        WebhookTestResult {
            status: e.attr_num("status"),
            body: e.child("body").map(|b| b.text.clone()).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_convert_both_ways() {
        assert_eq!(api_event_name("datasource-refresh-failed"), "DatasourceRefreshFailed");
        assert_eq!(source_event_name("WorkbookRefreshSucceeded"), "workbook-refresh-succeeded");
        assert_eq!(source_event_name(&api_event_name("view-deleted")), "view-deleted");
    }
}
