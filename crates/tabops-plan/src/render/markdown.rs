//! The plan as Markdown for a pull-request comment: a heading, the summary line and a table of counts per kind,
//! then each kind's actions inside a collapsible `<details>` block, then errors and unmanaged objects.
//!
//! Comment bodies are limited in size, so the output is split into parts of at most [`MARKDOWN_PART_LIMIT`]
//! characters; every part repeats the heading ("part i of n") and the summary line, so each stands alone.
//!
//! [`markdown_with_reviews`] also places a pre-rendered Markdown review (the semantic diff of a workbook or data
//! source file, rendered by the caller) under its content action, inside that action's `<details>` block: the
//! action's code fence is closed, the review follows, and the fence reopens for the next action. This module
//! stays pure: it never reads or parses content itself.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::plan::{Action, ObjectKind, Plan, PlannedAction};

use super::{change_line, visible};

/// Maximum characters of one Markdown part.
pub const MARKDOWN_PART_LIMIT: usize = 60_000;
/// Room kept for the per-part heading.
const HEADER_RESERVE: usize = 400;

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

/// One action's lines, and the Markdown review shown right under them (if any).
struct Entry {
    code: String,
    review: Option<String>,
}

impl Entry {
    fn plain(code: String) -> Self {
        Entry { code, review: None }
    }
}

/// Room for closing and reopening the code fence around a review.
const REVIEW_OVERHEAD: usize = 32;
/// Room for the closing fence and the note a truncated review ends with.
const TRUNCATION_RESERVE: usize = 96;

/// Cut a Markdown review to at most `max` characters at a line boundary, closing an open code fence and saying so.
fn truncate_review(review: &str, max: usize) -> String {
    if review.len() <= max {
        return review.to_string();
    }
    let room = max.saturating_sub(TRUNCATION_RESERVE);
    let mut out = String::new();
    // The open code fence, as (indentation, backticks), so it can be closed the way it was opened.
    let mut fence: Option<(String, String)> = None;
    for line in review.split_inclusive('\n') {
        if out.len() + line.len() > room {
            break;
        }
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let ticks: String = trimmed.chars().take_while(|c| *c == '`').collect();
        if ticks.len() >= 3 {
            match &fence {
                Some((_, open)) if ticks.len() >= open.len() && trimmed.trim_end() == ticks => fence = None,
                Some(_) => {}
                None => fence = Some((indent.to_string(), ticks)),
            }
        }
        out.push_str(line);
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    if let Some((indent, open)) = fence {
        let _ = writeln!(out, "{indent}{open}");
    }
    out.push_str("\n_(review truncated to fit the comment)_\n");
    out
}

/// Pack entries into `<details>` blocks no larger than `budget`.
fn details_blocks(title: &str, entries: &[Entry], budget: usize, fence: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Vec<Entry> = Vec::new();
    let mut size = 0;
    let overhead = title.len() + 80;
    let wrap = |items: &[Entry], continued: bool| {
        let suffix = if continued { " (continued)" } else { "" };
        let mut body = String::new();
        let mut open = false;
        for item in items {
            if !open {
                let _ = writeln!(body, "```{fence}");
                open = true;
            }
            body.push_str(&item.code);
            if let Some(review) = &item.review {
                body.push_str("```\n\n");
                body.push_str(review);
                if !review.ends_with('\n') {
                    body.push('\n');
                }
                body.push('\n');
                open = false;
            }
        }
        if open {
            body.push_str("```\n\n");
        }
        format!("<details><summary>{title}{suffix}</summary>\n\n{body}</details>\n")
    };
    for e in entries {
        let code: &str = if e.code.len() + overhead > budget {
            &e.code[..floor_boundary(&e.code, budget.saturating_sub(overhead))]
        } else {
            &e.code
        };
        let review = e
            .review
            .as_deref()
            .map(|r| truncate_review(r, budget.saturating_sub(overhead + code.len() + REVIEW_OVERHEAD)));
        let len = code.len() + review.as_ref().map_or(0, |r| r.len() + REVIEW_OVERHEAD);
        if !current.is_empty() && size + len + overhead > budget {
            blocks.push(wrap(&current, !blocks.is_empty()));
            current.clear();
            size = 0;
        }
        current.push(Entry { code: code.to_string(), review });
        size += len;
    }
    if !current.is_empty() {
        blocks.push(wrap(&current, !blocks.is_empty()));
    }
    blocks
}

/// The Markdown shown under an action: a one-line label, then the caller's review.
fn review_block(address: &str, review: &str) -> String {
    let address = visible(address);
    let ticks = if address.contains('`') { "``" } else { "`" };
    format!("**Content review** of {ticks}{address}{ticks}:\n\n{}", review.trim_end_matches('\n'))
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Render a plan as Markdown; one string per part (a single part unless the plan is very large).
pub fn markdown(plan: &Plan) -> Vec<String> {
    markdown_with_limit(plan, MARKDOWN_PART_LIMIT)
}

/// [`markdown`] with a custom part size (tests, platforms with other comment limits).
pub fn markdown_with_limit(plan: &Plan, limit: usize) -> Vec<String> {
    markdown_with_reviews(plan, &BTreeMap::new(), limit)
}

/// [`markdown_with_limit`] with a semantic review under content actions: `reviews` maps an action address
/// (`workbook:Sales/EMEA/Revenue`) to Markdown the caller rendered (tabops-content's `Review::render_markdown`).
/// Addresses with no action in the plan are ignored; a review too large for one part is cut at a line boundary.
pub fn markdown_with_reviews(plan: &Plan, reviews: &BTreeMap<String, String>, limit: usize) -> Vec<String> {
    let budget = limit.saturating_sub(HEADER_RESERVE).max(1000);
    let mut blocks: Vec<String> = Vec::new();

    if plan.has_changes() {
        let mut table = String::from("| kind | add | change | destroy |\n|---|---:|---:|---:|\n");
        for (kind, c) in &plan.summary.by_kind {
            let _ = writeln!(table, "| {} | {} | {} | {} |", kind.title(), c.add, c.change, c.destroy);
        }
        blocks.push(table);
    }
    for kind in ObjectKind::ALL {
        let actions: Vec<&PlannedAction> =
            plan.actions.iter().filter(|a| a.kind == kind && a.action != Action::NoOp).collect();
        if actions.is_empty() {
            continue;
        }
        let c = plan.summary.by_kind.get(&kind).copied().unwrap_or_default();
        let title = format!("{}: {}", kind.title(), counts_text(c.add, c.change, c.destroy));
        let entries: Vec<Entry> = actions
            .iter()
            .map(|a| Entry { code: entry(a), review: reviews.get(&a.id).map(|r| review_block(&a.id, r)) })
            .collect();
        blocks.extend(details_blocks(&title, &entries, budget, "diff"));
    }
    if !plan.errors.is_empty() {
        let mut s = String::from("### Errors: the plan cannot be applied\n\n");
        for e in &plan.errors {
            let _ = write!(s, "- **{}**: {}", prose(&e.address), prose(&e.message));
            if let Some(hint) = &e.hint {
                let _ = write!(s, " _(hint: {})_", prose(hint));
            }
            s.push('\n');
        }
        blocks.push(s);
    }
    if !plan.unmanaged.is_empty() {
        let entries: Vec<Entry> = plan
            .unmanaged
            .iter()
            .map(|u| Entry::plain(in_fence(&format!("{} (id {})\n", visible(&u.address), visible(&u.id)))))
            .collect();
        let title = format!("Unmanaged objects, left alone ({})", plan.unmanaged.len());
        blocks.extend(details_blocks(&title, &entries, budget, "text"));
    }

    // Greedy packing into parts.
    let mut parts: Vec<Vec<String>> = vec![Vec::new()];
    let mut size = 0;
    for block in blocks {
        if size + block.len() + 1 > budget && parts.last().is_some_and(|p| !p.is_empty()) {
            parts.push(Vec::new());
            size = 0;
        }
        size += block.len() + 1;
        if let Some(last) = parts.last_mut() {
            last.push(block);
        }
    }
    let n = parts.len();
    parts
        .into_iter()
        .enumerate()
        .map(|(i, blocks)| {
            let mut s = format!("## tabops plan: site `{}`", visible(&plan.site.content_url).replace('`', "'"));
            if n > 1 {
                let _ = write!(s, " (part {} of {n})", i + 1);
            }
            let _ = write!(s, "\n\n**{}**\n\n", plan.summary.line());
            if !plan.applyable {
                s.push_str("> [!CAUTION]\n> This plan has errors and cannot be applied.\n\n");
            }
            for b in blocks {
                s.push_str(&b);
                s.push('\n');
            }
            s
        })
        .collect()
}
