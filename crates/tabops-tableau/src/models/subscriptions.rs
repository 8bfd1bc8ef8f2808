//! Subscriptions (`subscriptionType` in ts-api_3_29.xsd): a user e-mailed a view or a workbook on a schedule.
//!
//! On Tableau Cloud the schedule travels inline: Create and Update Subscription send `<schedule frequency>` beside
//! `<subscription>` (REST reference, "Tableau Cloud Request", API 3.20+), and lists answer it inside each
//! `<subscription>` without an id (tableauserverclient issue #1627).

use crate::xml::{Element, XmlWriter};

use super::{Schedule, opt};

/// What a subscription is to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SubscriptionTarget {
    /// A view LUID.
    View(String),
    /// A workbook LUID.
    Workbook(String),
}

impl SubscriptionTarget {
    fn parse(e: &Element) -> Option<SubscriptionTarget> {
        let id = e.attr_string("id")?;
        match e.attr("type")? {
            t if t.eq_ignore_ascii_case("view") => Some(SubscriptionTarget::View(id)),
            t if t.eq_ignore_ascii_case("workbook") => Some(SubscriptionTarget::Workbook(id)),
            _ => None,
        }
    }
    /// `(id, type)` as the wire spells them.
    pub fn wire(&self) -> (&str, &'static str) {
        match self {
            SubscriptionTarget::View(id) => (id, "View"),
            SubscriptionTarget::Workbook(id) => (id, "Workbook"),
        }
    }
}

/// A subscription as listed or read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// LUID.
    pub id: String,
    /// E-mail subject.
    pub subject: String,
    /// E-mail text (empty or absent when none).
    pub message: Option<String>,
    /// `attachImage` (Tableau's default is true).
    pub attach_image: Option<bool>,
    /// `attachPdf`.
    pub attach_pdf: Option<bool>,
    /// `pageOrientation`.
    pub page_orientation: Option<String>,
    /// `pageSizeOption`.
    pub page_size: Option<String>,
    /// `suspended`.
    pub suspended: Option<bool>,
    /// The content; `None` when the response names a type this client does not know.
    pub target: Option<SubscriptionTarget>,
    /// `sendIfViewEmpty` of the content.
    pub send_if_view_empty: Option<bool>,
    /// Subscriber LUID.
    pub user_id: Option<String>,
    /// Subscriber name.
    pub user_name: Option<String>,
    /// The inline (Cloud) schedule; `None` for a Server schedule reference.
    pub schedule: Option<Schedule>,
}

impl Subscription {
    /// Parses a `subscription` element.
    pub fn from_element(e: &Element) -> Option<Subscription> {
        let content = e.child("content");
        let user = e.child("user");
        Some(Subscription {
            id: e.attr_string("id")?,
            subject: e.attr_string("subject").unwrap_or_default(),
            message: opt(e, "message").filter(|m| !m.is_empty()),
            attach_image: e.attr_bool("attachImage"),
            attach_pdf: e.attr_bool("attachPdf"),
            page_orientation: opt(e, "pageOrientation"),
            page_size: opt(e, "pageSizeOption"),
            suspended: e.attr_bool("suspended"),
            target: content.and_then(SubscriptionTarget::parse),
            send_if_view_empty: content.and_then(|c| c.attr_bool("sendIfViewEmpty")),
            user_id: user.and_then(|u| u.attr_string("id")),
            user_name: user.and_then(|u| u.attr_string("name")),
            schedule: e.child("schedule").and_then(Schedule::from_element),
        })
    }
}

/// The fields of a subscription a request sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionBody {
    /// Subject.
    pub subject: String,
    /// Message (`""` clears it).
    pub message: String,
    /// `attachImage`.
    pub attach_image: bool,
    /// `attachPdf`.
    pub attach_pdf: bool,
    /// `pageOrientation`, sent only with a PDF.
    pub page_orientation: Option<String>,
    /// `pageSizeOption`, sent only with a PDF.
    pub page_size: Option<String>,
    /// `sendIfViewEmpty`.
    pub send_if_view_empty: bool,
    /// `suspended` (update only: Create Subscription makes an unsuspended subscription).
    pub suspended: bool,
}

impl SubscriptionBody {
    fn attrs(&self, suspended: bool) -> Vec<(&'static str, Option<String>)> {
        let pdf = |v: &Option<String>| v.clone().filter(|_| self.attach_pdf);
        let mut attrs = vec![
            ("subject", Some(self.subject.clone())),
            ("message", Some(self.message.clone())),
            ("attachImage", Some(self.attach_image.to_string())),
            ("attachPdf", Some(self.attach_pdf.to_string())),
            ("pageOrientation", pdf(&self.page_orientation)),
            ("pageSizeOption", pdf(&self.page_size)),
        ];
        if suspended {
            attrs.push(("suspended", Some(self.suspended.to_string())));
        }
        attrs
    }
}

fn write(w: &mut XmlWriter, attrs: &[(&'static str, Option<String>)]) {
    let borrowed: Vec<(&str, Option<&str>)> = attrs.iter().map(|(k, v)| (*k, v.as_deref())).collect();
    w.start("subscription", &borrowed);
}

/// Body of Create Subscription on Tableau Cloud.
#[derive(Debug, Clone)]
pub struct NewSubscription {
    /// The fields.
    pub body: SubscriptionBody,
    /// The content.
    pub target: SubscriptionTarget,
    /// The subscriber's LUID.
    pub user_id: String,
    /// When.
    pub schedule: Schedule,
}

impl NewSubscription {
    pub(crate) fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.start("tsRequest", &[]);
        write(&mut w, &self.body.attrs(false));
        let (id, kind) = self.target.wire();
        let empty = self.body.send_if_view_empty.to_string();
        w.empty("content", &[("id", Some(id)), ("type", Some(kind)), ("sendIfViewEmpty", Some(&empty))]);
        w.empty("user", &[("id", Some(&self.user_id))]);
        w.end("subscription");
        self.schedule.write(&mut w);
        w.end("tsRequest");
        w.finish()
    }
}

/// Body of Update Subscription on Tableau Cloud: every field, and a new schedule when it changes.
#[derive(Debug, Clone)]
pub struct SubscriptionUpdate {
    /// The fields.
    pub body: SubscriptionBody,
    /// A new schedule.
    pub schedule: Option<Schedule>,
}

impl SubscriptionUpdate {
    pub(crate) fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.start("tsRequest", &[]);
        write(&mut w, &self.body.attrs(true));
        let empty = self.body.send_if_view_empty.to_string();
        w.empty("content", &[("sendIfViewEmpty", Some(&empty))]);
        w.end("subscription");
        if let Some(schedule) = &self.schedule {
            schedule.write(&mut w);
        }
        w.end("tsRequest");
        w.finish()
    }
}
