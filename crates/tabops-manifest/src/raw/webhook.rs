//! A webhook as written under `webhooks:`.

use schemars::JsonSchema;

use super::Located;

/// A Tableau webhook: when `event` happens on the site, Tableau POSTs a JSON payload to `url`.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawWebhook {
    /// The webhook's name (compared case-insensitively).
    pub name: Located<String>,
    /// The trigger event: its API event name (`DatasourceRefreshFailed`), as Tableau's webhook documentation lists
    /// it, or tableauserverclient's spelling (`datasource-refresh-failed`).
    #[schemars(extend("enum" = ["DatasourceCreated", "DatasourceUpdated", "DatasourceDeleted", "DatasourceRefreshStarted", "DatasourceRefreshSucceeded", "DatasourceRefreshFailed", "WorkbookCreated", "WorkbookUpdated", "WorkbookDeleted", "WorkbookRefreshStarted", "WorkbookRefreshSucceeded", "WorkbookRefreshFailed", "ViewDeleted", "LabelCreated", "LabelUpdated", "LabelDeleted", "FlowCompleted", "datasource-created", "datasource-updated", "datasource-deleted", "datasource-refresh-started", "datasource-refresh-succeeded", "datasource-refresh-failed", "workbook-created", "workbook-updated", "workbook-deleted", "workbook-refresh-started", "workbook-refresh-succeeded", "workbook-refresh-failed", "view-deleted", "label-created", "label-updated", "label-deleted", "flow-completed"]))]
    pub event: Located<String>,
    /// The destination URL. Tableau Cloud requires `https://` with a valid certificate; `http://` is accepted only
    /// for a loopback host (127.0.0.1, ::1, localhost), a receiver in a test against the emulator.
    pub url: Located<String>,
    /// Whether the webhook is enabled (default true).
    pub enabled: Option<Located<bool>>,
}

impl RawWebhook {
    pub const KEYS: &'static [&'static str] = &["name", "event", "url", "enabled"];
}
