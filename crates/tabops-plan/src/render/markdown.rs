//! The plan as Markdown for a pull-request comment: a heading, the summary line and a table of counts per kind,
//! then each kind's actions inside a collapsible `<details>` block, then errors and unmanaged objects.
//!
//! Comment bodies are limited in size, so the output is split into parts of at most [`MARKDOWN_PART_LIMIT`]
//! characters; every part repeats the heading ("part i of n") and the summary line, so each stands alone.
//!
//! The semantic diff of changed content files is part of the pull-request review (`crate::review`), which the
//! CLI prints before the plan; the plan itself carries only each action's lines.

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

/// Pack entries into `<details>` blocks no larger than `budget`.
fn details_blocks(title: &str, entries: &[String], budget: usize, fence: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut size = 0;
    let overhead = title.len() + 80;
    let wrap = |items: &[String], continued: bool| {
        let suffix = if continued { " (continued)" } else { "" };
        let mut body = format!("```{fence}\n");
        for item in items {
            body.push_str(item);
        }
        body.push_str("```\n\n");
        format!("<details><summary>{title}{suffix}</summary>\n\n{body}</details>\n")
    };
    for e in entries {
        let code: &str =
            if e.len() + overhead > budget { &e[..floor_boundary(e, budget.saturating_sub(overhead))] } else { e };
        let len = code.len();
        if !current.is_empty() && size + len + overhead > budget {
            blocks.push(wrap(&current, !blocks.is_empty()));
            current.clear();
            size = 0;
        }
        current.push(code.to_string());
        size += len;
    }
    if !current.is_empty() {
        blocks.push(wrap(&current, !blocks.is_empty()));
    }
    blocks
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
        let entries: Vec<String> = actions.iter().map(|a| entry(a)).collect();
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
        let entries: Vec<String> = plan
            .unmanaged
            .iter()
            .map(|u| in_fence(&format!("{} (id {})\n", visible(&u.address), visible(&u.id))))
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
