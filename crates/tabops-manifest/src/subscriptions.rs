//! Subscriptions in the desired state: who gets which view or workbook by e-mail, how, and when.
//!
//! The vocabulary (attachments, page orientation and size) is the REST API's (`subscriptionType` in
//! ts-api_3_29.xsd; tableauserverclient's `SubscriptionItem`), normalised so that values Tableau treats as equal
//! compare equal. Nothing here does I/O.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::{ProjectPath, Schedule};

/// `pageOrientation` of a PDF attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PageOrientation {
    Portrait,
    Landscape,
}

impl PageOrientation {
    pub const ALL: [PageOrientation; 2] = [PageOrientation::Portrait, PageOrientation::Landscape];
    /// As the wire spells it (the manifest writes it in lower case).
    pub fn as_wire(self) -> &'static str {
        match self {
            PageOrientation::Portrait => "Portrait",
            PageOrientation::Landscape => "Landscape",
        }
    }
    pub fn parse(text: &str) -> Option<PageOrientation> {
        Self::ALL.into_iter().find(|o| o.as_wire().eq_ignore_ascii_case(text))
    }
}

/// `pageSizeOption` of a PDF attachment: the values the REST reference documents for Create Subscription (the
/// schema types it as a string), as PSTableauREST's `New-TableauSubscription` validates them.
pub const PAGE_SIZES: [&str; 13] =
    ["A3", "A4", "A5", "B4", "B5", "Executive", "Folio", "Ledger", "Legal", "Letter", "Note", "Quarto", "Tabloid"];

/// What a subscription subscribes to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SubscriptionContent {
    /// The workbook's project.
    pub project: ProjectPath,
    pub workbook: String,
    /// A sheet of the workbook (a view); `None` for the whole workbook.
    pub view: Option<String>,
}

impl SubscriptionContent {
    /// `Sales/EMEA/Revenue` or `Sales/EMEA/Revenue/Overview` (the view after the workbook).
    pub fn path(&self) -> String {
        let escape = |s: &str| s.replace('\\', "\\\\").replace('/', "\\/");
        let mut out = format!("{}/{}", self.project, escape(&self.workbook));
        if let Some(view) = &self.view {
            out.push('/');
            out.push_str(&escape(view));
        }
        out
    }
}

impl fmt::Display for SubscriptionContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.view {
            Some(_) => write!(f, "view {}", self.path()),
            None => write!(f, "workbook {}", self.path()),
        }
    }
}

/// The fields of a subscription that are changed in place (everything but its identity).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SubscriptionFields {
    pub subject: String,
    /// `None` = no message (the wire omits it or sends it empty).
    pub message: Option<String>,
    pub attach_image: bool,
    pub attach_pdf: bool,
    /// With a PDF only; `None` leaves Tableau's default.
    pub page_orientation: Option<PageOrientation>,
    /// With a PDF only, one of [`PAGE_SIZES`]; `None` leaves Tableau's default.
    pub page_size: Option<String>,
    pub send_if_empty: bool,
    pub suspended: bool,
}

/// One subscription. Identity: (content, user, schedule).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SubscriptionSpec {
    pub content: SubscriptionContent,
    /// The subscriber, as declared under `users:`.
    pub user: String,
    pub schedule: Schedule,
    pub fields: SubscriptionFields,
}

impl SubscriptionSpec {
    /// The plan address: `subscription:<content path>#<user>@<schedule slug>` (see [`schedule_slug`]).
    pub fn address(&self) -> String {
        subscription_address(&self.content, &self.user, &schedule_slug(&self.schedule))
    }
    /// The identity, compared case-insensitively (names) with the normalised schedule.
    pub fn key(&self) -> (Vec<String>, String, Option<String>, String, Schedule) {
        identity_key(&self.content, &self.user, &self.schedule)
    }
}

/// The identity key of a subscription (names folded to lower case).
pub fn identity_key(
    content: &SubscriptionContent,
    user: &str,
    schedule: &Schedule,
) -> (Vec<String>, String, Option<String>, String, Schedule) {
    (
        content.project.key(),
        content.workbook.to_lowercase(),
        content.view.as_ref().map(|v| v.to_lowercase()),
        user.to_lowercase(),
        schedule.clone(),
    )
}

/// `weekly-08:00`: the frequency and start of a schedule, for addresses.
pub fn schedule_slug(schedule: &Schedule) -> String {
    format!("{}-{}", schedule.frequency.as_str().to_lowercase(), schedule.start)
}

/// `subscription:Sales/Revenue/Overview#alice@acme.com@weekly-08:00`.
pub fn subscription_address(content: &SubscriptionContent, user: &str, slug: &str) -> String {
    format!("subscription:{}#{user}@{slug}", content.path())
}
