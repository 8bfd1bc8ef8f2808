//! Raw subscriptions: a user e-mailed a view or a whole workbook on a Tableau Cloud schedule.

use schemars::JsonSchema;

use super::{Located, RawEvery, RawMonthDay, RawProjectRef};

/// One subscription. Its identity is (content, user, schedule): the same view and user on another schedule is
/// another subscription.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawSubscription {
    /// The e-mail's subject.
    pub subject: Located<String>,
    /// The subscriber: a user listed under `users:`.
    pub user: Located<String>,
    /// The project path of the workbook.
    pub project: Located<RawProjectRef>,
    /// A workbook listed under `workbooks:`, by name.
    pub workbook: Located<String>,
    /// A sheet (worksheet or dashboard) of the workbook, by name: a subscription to that view. Without it the
    /// subscription is to the whole workbook.
    pub view: Option<Located<String>>,
    /// The e-mail's text.
    pub message: Option<Located<String>>,
    /// What the e-mail carries: `image` (the default), `pdf`, or both.
    pub attach: Option<Located<Vec<Located<String>>>>,
    /// With a PDF attachment: `portrait` or `landscape`.
    #[schemars(extend("enum" = ["portrait", "landscape"]))]
    pub page_orientation: Option<Located<String>>,
    /// With a PDF attachment: the page size.
    #[schemars(extend("enum" = ["A3", "A4", "A5", "B4", "B5", "Executive", "Folio", "Ledger", "Legal", "Letter", "Note", "Quarto", "Tabloid"]))]
    pub page_size: Option<Located<String>>,
    /// Send the e-mail even when the view has no data (default true).
    pub send_if_empty: Option<Located<bool>>,
    /// Keep the subscription but send nothing (default false).
    pub suspended: Option<Located<bool>>,
    /// When Tableau Cloud sends it: the same schedule as an extract refresh (`frequency`, `at`, ...).
    pub schedule: Located<RawSchedule>,
}

impl RawSubscription {
    pub const KEYS: &'static [&'static str] = &[
        "subject",
        "user",
        "project",
        "workbook",
        "view",
        "message",
        "attach",
        "page_orientation",
        "page_size",
        "send_if_empty",
        "suspended",
        "schedule",
    ];
}

/// A Tableau Cloud schedule: the keys of a refresh task without its `type`, under the same rules.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawSchedule {
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

impl RawSchedule {
    pub const KEYS: &'static [&'static str] = &["frequency", "at", "until", "every", "weekdays", "month_days"];
}
