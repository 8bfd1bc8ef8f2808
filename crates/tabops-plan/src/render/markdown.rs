//! The plan as Markdown for a pull-request comment: a heading, the summary line and a table of counts per kind,
//! errors, the impact on workbooks of changed and deleted data sources (a collapsible "impact" block), then each
//! kind's actions inside a collapsible `<details>` block, then the unmanaged objects.
//!
//! A comment has a size limit (GitHub: 65,536 characters), and a plan that goes over it cannot be posted at all. So
//! the output has a budget ([`MarkdownOptions::max_bytes`]) and spends it in order of what a reviewer must see:
//! the summary and the table, every error, every delete and replace, then the other actions kind by kind, then the
//! unmanaged objects. What does not fit is counted in a closing note that says where the whole plan is. Unmanaged
//! objects are summarised by kind unless [`UnmanagedMode::List`] asks for each one.
//!
//! The semantic diff of changed content files is part of the pull-request review (`crate::review`), which the
//! CLI prints before the plan; the plan itself carries only each action's lines.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::plan::{Action, ObjectKind, Plan, PlannedAction};

use super::{change_line, visible};

/// The default budget: under GitHub's 65,536-character comment limit, with room for a line the CI job adds.
pub const DEFAULT_MAX_BYTES: usize = 60_000;
/// The smallest budget accepted: the heading, the summary, the table and the closing note always fit.
pub const MIN_MAX_BYTES: usize = 2_000;

/// How a plan shows the objects on the site that the manifest does not manage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnmanagedMode {
    /// Each object on its own line.
    List,
    /// A count per kind (the default for Markdown: a site with hundreds of unmanaged users would bury the plan).
    #[default]
    Summary,
    /// Not shown.
    Hide,
}

/// What [`markdown`] renders and how much of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkdownOptions {
    /// Largest output in bytes (clamped to at least [`MIN_MAX_BYTES`]).
    pub max_bytes: usize,
    pub unmanaged: UnmanagedMode,
    /// Where the whole plan can be read, named in the note when something is left out (e.g. "the `tabops-plan`
    /// artifact"). Without it the note suggests `tabops plan --format text`.
    pub full_plan: Option<String>,
}

impl Default for MarkdownOptions {
    fn default() -> Self {
        MarkdownOptions { max_bytes: DEFAULT_MAX_BYTES, unmanaged: UnmanagedMode::Summary, full_plan: None }
    }
}

fn entry(action: &PlannedAction) -> String {
    let mut s = format!("{} {}\n#   {}\n", action.action.glyph(), visible(&action.id), visible(&action.reason));
    for change in &action.changes {
        let (g, line) = change_line(change);
        let _ = writeln!(s, "{g}     {}", visible(&line));
    }
    in_fence(&s)
}

/// Text placed inside a code fence: newlines in names are already escaped by [`visible`], so what remains is a
/// run of backticks that could close the fence.
fn in_fence(text: &str) -> String {
    text.replace("```", "'''")
}

/// Text placed in Markdown prose (the errors list): control characters escaped, and every character that Markdown
/// or HTML would interpret backslash-escaped, so a name cannot open a link, a tag, a heading or a code block.
fn prose(text: &str) -> String {
    // Newlines are escaped by `visible`, so nothing here starts a line: the characters that matter mid-line.
    const SPECIAL: &[char] = &['\\', '`', '*', '_', '[', ']', '<', '>', '|', '~', '&'];
    let mut out = String::with_capacity(text.len());
    for c in visible(text).chars() {
        if SPECIAL.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn counts_text(add: usize, change: usize, destroy: usize) -> String {
    let mut parts = Vec::new();
    if add > 0 {
        parts.push(format!("{add} to add"));
    }
    if change > 0 {
        parts.push(format!("{change} to change"));
    }
    if destroy > 0 {
        parts.push(format!("{destroy} to destroy"));
    }
    parts.join(", ")
}

/// Room kept for the closing note about what was left out.
const NOTE_RESERVE: usize = 600;
/// What a `<details>` block adds around its entries.
const BLOCK_OVERHEAD: usize = 120;

/// The plan as one Markdown document of at most `options.max_bytes` bytes.
pub fn markdown(plan: &Plan, options: &MarkdownOptions) -> String {
    let max = options.max_bytes.max(MIN_MAX_BYTES);
    let mut out = format!("## tabops plan: site `{}`\n\n", visible(&plan.site.content_url).replace('`', "'"));
    let _ = write!(out, "**{}**\n\n", plan.summary.line());
    if !plan.applyable {
        out.push_str("> [!CAUTION]\n> This plan has errors and cannot be applied.\n\n");
    }
    if let Some((title, text)) = super::partial_warning(plan) {
        let _ = write!(out, "> [!WARNING]\n> **{}**. {}\n\n", prose(&title), prose(&text));
    }
    if plan.has_changes() {
        out.push_str("| kind | add | change | destroy |\n|---|---:|---:|---:|\n");
        for (kind, c) in &plan.summary.by_kind {
            let _ = writeln!(out, "| {} | {} | {} | {} |", kind.title(), c.add, c.change, c.destroy);
        }
        out.push('\n');
    }
    let mut budget = Budget { left: max.saturating_sub(out.len() + NOTE_RESERVE), left_out_actions: 0 };

    // Errors first: they decide whether the plan can be applied at all.
    if !plan.errors.is_empty() {
        let mut lines = Vec::new();
        for e in &plan.errors {
            let mut line = format!("- **{}**: {}", prose(&e.address), prose(&e.message));
            if let Some(hint) = &e.hint {
                let _ = write!(line, " _(hint: {})_", prose(hint));
            }
            line.push('\n');
            lines.push(line);
        }
        let shown = budget.take_all_that_fit(&lines, 60);
        out.push_str("### Errors: the plan cannot be applied\n\n");
        lines[..shown].iter().for_each(|l| out.push_str(l));
        if shown < lines.len() {
            let _ = writeln!(out, "- … and {} more error(s), not shown here", lines.len() - shown);
        }
        out.push('\n');
    }

    // Then the workbooks the changed and deleted data sources break, in a collapsible block.
    if let Some(impact) = &plan.impact {
        let (open, rows, close) = crate::impact::markdown_rows(impact, prose);
        let shown = budget.take_all_that_fit(&rows, open.len() + close.len());
        if shown > 0 || rows.is_empty() {
            out.push_str(&open);
            rows[..shown].iter().for_each(|r| out.push_str(r));
            if shown < rows.len() {
                let _ = writeln!(out, "| … {} more row(s), not shown here | | | | |", rows.len() - shown);
            }
            out.push_str(&close);
        }
    }

    // Then every action, deletes and replaces before the rest, shown in kind order.
    let by_kind: Vec<(ObjectKind, Vec<&PlannedAction>)> = ObjectKind::ALL
        .into_iter()
        .map(|kind| (kind, plan.actions.iter().filter(|a| a.kind == kind && a.action != Action::NoOp).collect()))
        .filter(|(_, actions): &(ObjectKind, Vec<&PlannedAction>)| !actions.is_empty())
        .collect();
    let entries: Vec<Vec<String>> =
        by_kind.iter().map(|(_, actions)| actions.iter().map(|a| entry(a)).collect()).collect();
    let mut shown: Vec<Vec<bool>> = entries.iter().map(|e| vec![false; e.len()]).collect();
    for must in [true, false] {
        for (k, (_, actions)) in by_kind.iter().enumerate() {
            let block = if shown[k].iter().any(|s| *s) { 0 } else { BLOCK_OVERHEAD };
            let mut overhead = block;
            for (i, action) in actions.iter().enumerate() {
                let destructive = matches!(action.action, Action::Delete | Action::Republish);
                if destructive != must || shown[k][i] {
                    continue;
                }
                if budget.take(entries[k][i].len() + overhead) {
                    shown[k][i] = true;
                    overhead = 0;
                }
            }
        }
    }
    for (k, (kind, _)) in by_kind.iter().enumerate() {
        let c = plan.summary.by_kind.get(kind).copied().unwrap_or_default();
        let total = entries[k].len();
        let count = shown[k].iter().filter(|s| **s).count();
        budget.left_out_actions += total - count;
        if count == 0 {
            continue;
        }
        let mut title = format!("{}: {}", kind.title(), counts_text(c.add, c.change, c.destroy));
        if count < total {
            let _ = write!(title, " ({} of {total} shown)", count);
        }
        let _ = write!(out, "<details><summary>{title}</summary>\n\n```diff\n");
        entries[k].iter().zip(&shown[k]).filter(|(_, s)| **s).for_each(|(e, _)| out.push_str(e));
        out.push_str("```\n\n</details>\n\n");
    }

    // Last, what the manifest does not manage.
    let mut left_out_unmanaged = 0;
    if !plan.unmanaged.is_empty() {
        match options.unmanaged {
            UnmanagedMode::Hide => {}
            UnmanagedMode::Summary => {
                let mut counts: BTreeMap<ObjectKind, usize> = BTreeMap::new();
                plan.unmanaged.iter().for_each(|u| *counts.entry(u.kind).or_default() += 1);
                let parts: Vec<String> = counts
                    .iter()
                    .map(|(kind, n)| {
                        let plural = kind.title().to_lowercase();
                        let noun = if *n == 1 { plural.strip_suffix('s').unwrap_or(&plural) } else { &plural };
                        format!("{n} {noun}")
                    })
                    .collect();
                let _ = write!(
                    out,
                    "Unmanaged objects, left alone: {} (on the site, not in the manifest; `--unmanaged list` names \
                     them).\n\n",
                    parts.join(", ")
                );
            }
            UnmanagedMode::List => {
                let lines: Vec<String> = plan
                    .unmanaged
                    .iter()
                    .map(|u| in_fence(&format!("{} (id {})\n", visible(&u.address), visible(&u.id))))
                    .collect();
                let count = budget.take_all_that_fit(&lines, BLOCK_OVERHEAD);
                left_out_unmanaged = lines.len() - count;
                if count > 0 {
                    let mut title = format!("Unmanaged objects, left alone ({})", lines.len());
                    if count < lines.len() {
                        let _ = write!(title, " ({count} shown)");
                    }
                    let _ = write!(out, "<details><summary>{title}</summary>\n\n```text\n");
                    lines[..count].iter().for_each(|l| out.push_str(l));
                    out.push_str("```\n\n</details>\n\n");
                }
            }
        }
    }

    if budget.left_out_actions > 0 || left_out_unmanaged > 0 {
        let mut what = Vec::new();
        if budget.left_out_actions > 0 {
            what.push(format!("{} action(s)", budget.left_out_actions));
        }
        if left_out_unmanaged > 0 {
            what.push(format!("{left_out_unmanaged} unmanaged object(s)"));
        }
        let whole = match &options.full_plan {
            Some(place) => format!("The whole plan is in {}.", prose(place)),
            None => "The whole plan: `tabops plan --format text` (or `--format json`).".to_owned(),
        };
        let _ = write!(
            out,
            "> [!NOTE]\n> {} not shown: this comment is limited to {max} bytes (`--max-bytes`); every error, delete and \
             replace is shown first. {whole}\n",
            what.join(" and ")
        );
    }
    out
}

/// The bytes left for entries.
struct Budget {
    left: usize,
    left_out_actions: usize,
}

impl Budget {
    /// Spends `size` bytes if they are left.
    fn take(&mut self, size: usize) -> bool {
        if size <= self.left {
            self.left -= size;
            true
        } else {
            false
        }
    }

    /// How many of `items`, in order, fit (with `overhead` once if any does).
    fn take_all_that_fit(&mut self, items: &[String], overhead: usize) -> usize {
        let mut shown = 0;
        for (i, item) in items.iter().enumerate() {
            if !self.take(item.len() + if i == 0 { overhead } else { 0 }) {
                break;
            }
            shown += 1;
        }
        shown
    }
}
