//! Drift: how the site differs from git, and why.
//!
//! A plan is split into (a) changes pending from git: the manifest changed since the baseline (the manifest at the
//! last applied commit), (b) changes made on the site outside tabops: the baseline equals the desired state for
//! that object but the site differs, (c) differences whose cause is unknown, and (d) unmanaged objects.
//!
//! Without a baseline only content can be told apart, through its markers: they record what tabops last published,
//! so content on the site whose live marker differs from the desired fingerprint is pending from git. (Content
//! missing from the site may be new in git or deleted on the site: the marker is gone with it.) Every
//! other difference is reported as (c), "differs", blaming neither side: without knowing what was last applied, a
//! description that differs may have been changed in git or on the site. Limits of what the API lets us see: a
//! re-publish from Desktop replaces the item's tags only if the publisher drops them, so a re-publish that keeps
//! our marker tag is only visible through `updated_at`, which the planner does not compare.
//!
//! The report reads from the site's side, not the plan's: a plan says what apply will do (`+ membership` to put
//! back a member removed on the site), drift says what happened ("removed on the site") and shows each field as
//! "on the site … / in git …".

use std::fmt::Write;

use serde::{Deserialize, Serialize};
use tabops_manifest::model::Desired;

use crate::origin::aspect_digests;
use crate::plan::{Action, Aspect, FieldChange, ObjectKind, Plan, PlannedAction, UnmanagedObject};

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftItem {
    pub address: String,
    pub kind: ObjectKind,
    pub action: Action,
    pub reason: String,
    pub changes: Vec<FieldChange>,
    /// Content only: the commit (12 hex) that last published the live item, from its `tabops.commit.*` marker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_commit: Option<String>,
}

impl From<&PlannedAction> for DriftItem {
    fn from(a: &PlannedAction) -> Self {
        DriftItem {
            address: a.id.clone(),
            kind: a.kind,
            action: a.action,
            reason: a.reason.clone(),
            changes: a.changes.clone(),
            published_commit: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftReport {
    pub format_version: u32,
    pub site: String,
    /// Whether a baseline manifest was available (otherwise the split is heuristic).
    pub baseline: bool,
    pub pending_from_git: Vec<DriftItem>,
    pub changed_on_site: Vec<DriftItem>,
    /// Differences without a known cause (no baseline, not content): the site and git differ, and either may have
    /// changed.
    #[serde(default)]
    pub differs: Vec<DriftItem>,
    pub unmanaged: Vec<UnmanagedObject>,
}

impl DriftReport {
    /// Whether the site differs from the manifest (`tabops drift` exits 2). Unmanaged objects alone are not drift.
    pub fn has_drift(&self) -> bool {
        !self.pending_from_git.is_empty() || !self.changed_on_site.is_empty() || !self.differs.is_empty()
    }
}

/// Content on the site whose marker (what tabops last published) differs from the file in git: git changed it. A
/// missing item proves nothing (removed on the site, or new in git), so it is not counted here.
fn marker_changed(action: &PlannedAction) -> bool {
    action.origin.aspect == Aspect::Content
        && action.action != Action::Create
        && action.changes.iter().any(|c| c.field == "marker" && c.before.is_some() && c.before != c.after)
}

/// Which side a difference comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cause {
    /// The manifest changed since it was last applied.
    Git,
    /// The manifest did not change, the site did.
    Site,
    /// No baseline tells which.
    Unknown,
}

/// Split a plan's changes by cause.
pub fn classify(plan: &Plan, baseline: Option<&Desired>) -> DriftReport {
    let digests = baseline.map(aspect_digests);
    let mut report = DriftReport {
        format_version: crate::plan::FORMAT_VERSION,
        site: plan.site.content_url.clone(),
        baseline: baseline.is_some(),
        pending_from_git: Vec::new(),
        changed_on_site: Vec::new(),
        differs: Vec::new(),
        unmanaged: plan.unmanaged.clone(),
    };
    for action in plan.changes() {
        let cause = match &digests {
            Some(d) => {
                let key = (action.origin.address.clone(), action.origin.aspect);
                if d.get(&key) != action.origin.digest.as_ref() { Cause::Git } else { Cause::Site }
            }
            None if marker_changed(action) => Cause::Git,
            None => Cause::Unknown,
        };
        let item = DriftItem::from(action);
        match cause {
            Cause::Git => report.pending_from_git.push(item),
            Cause::Site => report.changed_on_site.push(item),
            Cause::Unknown => report.differs.push(item),
        }
    }
    report
}

/// Names the commit that last published each content item; `tags_of` gives a live item's tags by its id.
/// Only the reported items' actions are looked at (a plan of a large site holds an action for every object,
/// unchanged ones included).
pub fn annotate_commits(report: &mut DriftReport, plan: &Plan, tags_of: impl Fn(&str) -> Option<Vec<String>>) {
    let reported: std::collections::HashSet<&str> =
        report.pending_from_git.iter().chain(&report.changed_on_site).map(|item| item.address.as_str()).collect();
    if reported.is_empty() {
        return;
    }
    let mut by_address = std::collections::BTreeMap::new();
    for action in plan.actions.iter().filter(|a| reported.contains(a.id.as_str())) {
        let Some(id) = &action.live_id else { continue };
        let commit = tags_of(id).and_then(|tags| tags.iter().find_map(|t| commit_of_marker(t)));
        if let Some(commit) = commit {
            by_address.insert(action.id.clone(), commit);
        }
    }
    for item in report.pending_from_git.iter_mut().chain(report.changed_on_site.iter_mut()) {
        item.published_commit = by_address.get(&item.address).cloned();
    }
}

/// `tabops.commit.0123456789ab` -> `0123456789ab`.
pub fn commit_of_marker(tag: &str) -> Option<String> {
    let prefix = crate::marker::COMMIT_MARKER_PREFIX;
    let head = tag.get(..prefix.len())?;
    let hex = tag.get(prefix.len()..)?;
    (head.eq_ignore_ascii_case(prefix) && !hex.is_empty()).then(|| hex.to_lowercase())
}

/// What a difference is, told from `cause`'s side: the glyph and the words. A plan action says what apply will do;
/// this says what happened (a member apply would add back was removed on the site).
fn headline(item: &DriftItem, cause: Cause) -> (char, &'static str) {
    match (cause, item.action) {
        (Cause::Site, Action::Create) => ('-', "removed on the site (git has it)"),
        (Cause::Site, Action::Delete) => ('+', "added on the site (not in git)"),
        (Cause::Site, _) => ('~', "changed on the site"),
        (Cause::Git, Action::Create) => ('+', "added in git (not on the site yet)"),
        (Cause::Git, Action::Delete) => ('-', "removed from git (still on the site)"),
        (Cause::Git, _) => ('~', "changed in git"),
        (Cause::Unknown, Action::Create) => ('~', "in git, not on the site"),
        (Cause::Unknown, Action::Delete) => ('~', "on the site, not in git"),
        (Cause::Unknown, _) => ('~', "differs"),
    }
}

/// One field as both sides have it (`before` is the site's value, `after` git's).
fn field_line(change: &FieldChange) -> String {
    if change.field == "marker" {
        // The marker is tabops' record of the file it last published: show it as the content it stands for.
        let short = |value: &Option<serde_json::Value>| match value.as_ref().and_then(|v| v.as_str()) {
            Some(tag) => format!("fingerprint {}", crate::marker::short_marker(tag)),
            None => "(no tabops marker)".to_owned(),
        };
        return format!(
            "content: on the site the file published with {}; in git {}",
            short(&change.before),
            short(&change.after)
        );
    }
    let side = |value: &Option<serde_json::Value>| match value {
        None | Some(serde_json::Value::Null) => "(not set)".to_owned(),
        Some(value) => crate::render::show(&Some(value.clone())),
    };
    format!("{}: on the site {}; in git {}", change.field, side(&change.before), side(&change.after))
}

fn item_lines(out: &mut String, items: &[DriftItem], cause: Cause, indent: &str) {
    for item in items {
        let (glyph, words) = headline(item, cause);
        let _ = writeln!(out, "{indent}{glyph} {}: {words}", item.address);
        if let Some(commit) = &item.published_commit {
            let _ = writeln!(out, "{indent}    (last published by tabops from commit {commit})");
        }
        for change in &item.changes {
            let _ = writeln!(out, "{indent}    {}", field_line(change));
        }
    }
}

/// The report's sections in order: title for text, title for Markdown, items, cause.
fn sections(report: &DriftReport) -> [(&'static str, &'static str, &[DriftItem], Cause); 3] {
    [
        (
            "Changed on the site outside tabops:",
            "Changed on the site outside tabops",
            &report.changed_on_site,
            Cause::Site,
        ),
        ("Changed in git, not applied yet:", "Changed in git, not applied yet", &report.pending_from_git, Cause::Git),
        (
            "Differs (no baseline tells which side changed; pass --base REF):",
            "Differs (no baseline tells which side changed)",
            &report.differs,
            Cause::Unknown,
        ),
    ]
}

/// Human text.
pub fn render_text(report: &DriftReport) -> String {
    let mut out = String::new();
    if !report.has_drift() {
        let _ = writeln!(out, "No drift. The site matches the manifest.");
    }
    for (title, _, items, cause) in sections(report) {
        if items.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{title}");
        item_lines(&mut out, items, cause, "  ");
        let _ = writeln!(out);
    }
    if !report.unmanaged.is_empty() {
        let _ = writeln!(out, "Unmanaged objects:");
        for u in &report.unmanaged {
            let _ = writeln!(out, "  {} (id {})", u.address, u.id);
        }
    }
    out
}

/// Markdown.
pub fn render_markdown(report: &DriftReport) -> String {
    let mut out = format!("## tabops drift: site `{}`\n\n", report.site);
    if !report.has_drift() {
        out.push_str("**No drift. The site matches the manifest.**\n\n");
    } else {
        let _ = writeln!(
            out,
            "| cause | objects |\n|---|---:|\n| changed on the site | {} |\n| changed in git | {} |\n| differs (no baseline) \
             | {} |\n| unmanaged | {} |\n",
            report.changed_on_site.len(),
            report.pending_from_git.len(),
            report.differs.len(),
            report.unmanaged.len()
        );
    }
    for (_, title, items, cause) in sections(report) {
        if items.is_empty() {
            continue;
        }
        let _ = write!(out, "<details><summary>{title} ({})</summary>\n\n```diff\n", items.len());
        let mut body = String::new();
        item_lines(&mut body, items, cause, "");
        out.push_str(&body.replace("```", "'''"));
        out.push_str("```\n\n</details>\n\n");
    }
    if !report.unmanaged.is_empty() {
        let _ = write!(out, "<details><summary>Unmanaged objects ({})</summary>\n\n", report.unmanaged.len());
        for u in &report.unmanaged {
            let _ = writeln!(out, "- `{}` (id {})", u.address, u.id);
        }
        out.push_str("\n</details>\n");
    }
    out
}

/// Pretty JSON with `format_version`.
pub fn render_json(report: &DriftReport) -> String {
    let mut out = serde_json::to_string_pretty(report).unwrap_or_else(|_| "{}".into());
    out.push('\n');
    out
}
