//! Raw data sources, workbooks and what hangs off them: connections, refresh schedules, renames.

use std::collections::BTreeMap;

use schemars::JsonSchema;

use super::{Located, RawProjectRef, RawRule};

/// A published data source.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawDatasource {
    pub name: Located<String>,
    /// The project path.
    pub project: Located<RawProjectRef>,
    /// `.tds`, `.tdsx` or `.hyper`, relative to this manifest file's directory.
    pub file: Located<String>,
    pub description: Option<Located<String>>,
    /// When present, the exact tag set.
    pub tags: Option<Vec<Located<String>>>,
    pub owner: Option<Located<String>>,
    pub connections: Option<Vec<Located<RawConnection>>>,
    pub permissions: Option<Vec<Located<RawRule>>>,
    /// Extract-refresh tasks. Without the key the item's live tasks are left alone (listed as unmanaged);
    /// `refresh: []` means none (its live tasks are deleted).
    pub refresh: Option<Vec<Located<RawRefresh>>>,
    pub protect: Option<Located<bool>>,
    pub renamed_from: Option<Located<RawContentRename>>,
}

impl RawDatasource {
    pub const KEYS: &'static [&'static str] = &[
        "name",
        "project",
        "file",
        "description",
        "tags",
        "owner",
        "connections",
        "permissions",
        "refresh",
        "protect",
        "renamed_from",
    ];
}

/// `view_permissions:`: sheet name -> the view's complete explicit rules.
pub type RawViewPermissions = BTreeMap<String, Vec<Located<RawRule>>>;

/// A workbook: the data source keys plus `show_tabs` and `hidden_views`.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawWorkbook {
    pub name: Located<String>,
    pub project: Located<RawProjectRef>,
    /// `.twb` or `.twbx`, relative to this manifest file's directory.
    pub file: Located<String>,
    pub description: Option<Located<String>>,
    pub tags: Option<Vec<Located<String>>>,
    pub owner: Option<Located<String>>,
    pub show_tabs: Option<Located<bool>>,
    /// Sheets published hidden.
    pub hidden_views: Option<Vec<Located<String>>>,
    pub connections: Option<Vec<Located<RawConnection>>>,
    pub permissions: Option<Vec<Located<RawRule>>>,
    /// Permissions on single views, by sheet name: each list is the complete set of explicit rules of that view.
    /// Tableau applies them only when the workbook does not show tabs, so they need `show_tabs: false`.
    pub view_permissions: Option<Located<RawViewPermissions>>,
    /// Extract-refresh tasks. Without the key the item's live tasks are left alone (listed as unmanaged);
    /// `refresh: []` means none (its live tasks are deleted).
    pub refresh: Option<Vec<Located<RawRefresh>>>,
    pub protect: Option<Located<bool>>,
    pub renamed_from: Option<Located<RawContentRename>>,
}

impl RawWorkbook {
    pub const KEYS: &'static [&'static str] = &[
        "name",
        "project",
        "file",
        "description",
        "tags",
        "owner",
        "show_tabs",
        "hidden_views",
        "connections",
        "permissions",
        "view_permissions",
        "refresh",
        "protect",
        "renamed_from",
    ];
}

/// The old identity of renamed content: a name in the same project, or a project and a name.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(untagged)]
pub enum RawContentRename {
    Name(String),
    Moved(RawMovedFrom),
}

/// `{ project: Old/Path, name: Old Name }`.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawMovedFrom {
    pub project: RawProjectRef,
    pub name: String,
}

impl RawMovedFrom {
    pub const KEYS: &'static [&'static str] = &["project", "name"];
}

/// A data connection whose credentials are embedded at publish time.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawConnection {
    pub server: Option<Located<String>>,
    pub port: Option<Located<u16>>,
    pub database: Option<Located<String>>,
    pub username: Option<Located<String>>,
    /// Must be `${env:NAME}`; a password in clear is an error.
    #[schemars(regex(pattern = r"^\$\{env:[A-Za-z_][A-Za-z0-9_]*\}$"))]
    pub password: Option<Located<String>>,
    /// Embed the credentials (default false).
    pub embed: Option<Located<bool>>,
}

impl RawConnection {
    pub const KEYS: &'static [&'static str] = &["server", "port", "database", "username", "password", "embed"];
}

/// One extract-refresh task.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawRefresh {
    #[schemars(rename = "type")]
    #[schemars(extend("enum" = ["full", "incremental"]))]
    pub refresh_type: Located<String>,
    #[schemars(extend("enum" = ["hourly", "daily", "weekly", "monthly"]))]
    pub frequency: Located<String>,
    /// Start time, `HH:MM` on a 5-minute boundary.
    #[schemars(regex(pattern = r"^\d{2}:\d{2}$"))]
    pub at: Option<Located<String>>,
    /// Hourly, and daily with `every`: end of the daily window, after `at` and on the same minute of the hour.
    #[schemars(regex(pattern = r"^\d{2}:\d{2}$"))]
    pub until: Option<Located<String>>,
    /// Hourly: 1, 2, 4, 6, 8 or 12 (hours), or `15m` / `30m`. Daily: 2, 4, 6, 8 or 12 (hours), with `until`.
    pub every: Option<Located<RawEvery>>,
    /// `Mon`..`Sun` or full names.
    pub weekdays: Option<Located<Vec<Located<String>>>>,
    /// Monthly only: 1-31 or `last`, at most 7 days.
    pub month_days: Option<Located<Vec<Located<RawMonthDay>>>>,
}

impl RawRefresh {
    pub const KEYS: &'static [&'static str] = &["type", "frequency", "at", "until", "every", "weekdays", "month_days"];
}

/// Hours as a number, or a string such as `15m`, `30m`, `2h`.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(untagged)]
pub enum RawEvery {
    Hours(u32),
    Text(String),
}

/// A day of the month or `last`.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(untagged)]
pub enum RawMonthDay {
    Day(u32),
    Text(String),
}
