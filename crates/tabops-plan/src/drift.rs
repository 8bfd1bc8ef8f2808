//! Drift: how the site differs from git, and why.
//!
//! A plan is split into (a) changes pending from git: the manifest changed since the baseline (the manifest at the
//! last applied commit), (b) changes made on the site outside tabops: the baseline equals the desired state for
//! that object but the site differs, and (c) unmanaged objects.
//!
//! Without a baseline the split is a heuristic: content whose live marker differs from the desired fingerprint
//! (or is new) is pending from git; content whose marker matches but other fields differ, and every non-content
//! difference, counts as changed on the site. Limits of what the API lets us see: a re-publish from Desktop
//! replaces the item's tags only if the publisher drops them, so a re-publish that keeps our marker tag is only
//! visible through `updated_at`, which the planner does not compare.

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
    pub unmanaged: Vec<UnmanagedObject>,
}

impl DriftReport {
    /// Whether the site differs from the manifest (`tabops drift` exits 2). Unmanaged objects alone are not drift.
    pub fn has_drift(&self) -> bool {
        !self.pending_from_git.is_empty() || !self.changed_on_site.is_empty()
    }
}

fn marker_changed(action: &PlannedAction) -> bool {
    action.origin.aspect == Aspect::Content
        && (action.action == Action::Create
            || action.changes.iter().any(|c| c.field == "marker" && c.before != c.after))
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
        unmanaged: plan.unmanaged.clone(),
    };
    for action in plan.changes() {
        let from_git = match &digests {
            Some(d) => {
                let key = (action.origin.address.clone(), action.origin.aspect);
                d.get(&key) != action.origin.digest.as_ref()
            }
            None => marker_changed(action),
        };
        let item = DriftItem::from(action);
        if from_git {
            report.pending_from_git.push(item);
        } else {
            report.changed_on_site.push(item);
        }
    }
    report
}

/// Names the commit that last published each content item; `tags_of` gives a live item's tags by its id.
pub fn annotate_commits(report: &mut DriftReport, plan: &Plan, tags_of: impl Fn(&str) -> Option<Vec<String>>) {
    let mut by_address = std::collections::BTreeMap::new();
    for action in &plan.actions {
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

fn item_lines(out: &mut String, items: &[DriftItem], indent: &str) {
    for item in items {
        let _ = writeln!(out, "{indent}{} {}  # {}", item.action.glyph(), item.address, item.reason);
        if let Some(commit) = &item.published_commit {
            let _ = writeln!(out, "{indent}    (last published by tabops from commit {commit})");
        }
        for change in &item.changes {
            let (g, line) = crate::render::change_line(change);
            let _ = writeln!(out, "{indent}    {g} {line}");
        }
    }
}

/// Human text.
pub fn render_text(report: &DriftReport) -> String {
    let mut out = String::new();
    if !report.has_drift() {
        let _ = writeln!(out, "No drift. The site matches the manifest.");
    }
    if !report.baseline && report.has_drift() {
        let _ = writeln!(out, "(no baseline manifest: the split below is a heuristic)");
    }
    for (title, items) in [
        ("Changes pending from git (the manifest changed):", &report.pending_from_git),
        ("Changes made on the site outside tabops:", &report.changed_on_site),
    ] {
        if items.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{title}");
        item_lines(&mut out, items, "  ");
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
            "| cause | objects |\n|---|---:|\n| pending from git | {} |\n| changed on the site | {} |\n| unmanaged | {} |\n",
            report.pending_from_git.len(),
            report.changed_on_site.len(),
            report.unmanaged.len()
        );
    }
    for (title, items) in [
        ("Changes pending from git", &report.pending_from_git),
        ("Changes made on the site outside tabops", &report.changed_on_site),
    ] {
        if items.is_empty() {
            continue;
        }
        let _ = write!(out, "<details><summary>{title} ({})</summary>\n\n```diff\n", items.len());
        let mut body = String::new();
        item_lines(&mut body, items, "");
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
