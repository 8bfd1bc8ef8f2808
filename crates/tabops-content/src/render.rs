//! Rendering a [`Review`] for people: a compact Markdown bullet list for pull-request comments (formula changes
//! in fenced `diff` blocks) and the same list as plain text for terminals.
//!
//! Both come from one list of items whose heads mix fixed words and quoted values, so the two formats cannot
//! drift apart.

use std::fmt::Write;

use crate::diff::{ChangeKind, FieldChange, Review};

/// A piece of an item's head line: fixed words, or a value from the document (quoted as code in Markdown).
enum Part {
    Text(String),
    Value(String),
}

/// One bullet: a head line and an optional block (a unified diff) below it.
struct Item {
    head: Vec<Part>,
    block: Option<String>,
}

fn t(s: impl Into<String>) -> Part {
    Part::Text(s.into())
}

fn v(s: impl Into<String>) -> Part {
    Part::Value(s.into())
}

fn verb(change: ChangeKind) -> &'static str {
    match change {
        ChangeKind::Added => "added",
        ChangeKind::Removed => "removed",
        ChangeKind::Changed => "changed",
        ChangeKind::Renamed => "renamed",
    }
}

const NONE: &str = "(none)";

/// `server `a` -> `b``, or `server `a`` for an addition/removal (`all_values`).
fn field_parts(fields: &[FieldChange], all_values: bool) -> Vec<Part> {
    let mut out = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        out.push(t(if i == 0 { format!("{} ", f.field) } else { format!(", {} ", f.field) }));
        if all_values {
            out.push(v(f.after.clone().or_else(|| f.before.clone()).unwrap_or_else(|| NONE.into())));
        } else {
            out.push(v(f.before.clone().unwrap_or_else(|| NONE.into())));
            out.push(t(" -> "));
            out.push(v(f.after.clone().unwrap_or_else(|| NONE.into())));
        }
    }
    out
}

fn list(names: &[String]) -> Vec<Part> {
    let mut out = Vec::new();
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            out.push(t(", "));
        }
        out.push(v(n.clone()));
    }
    out
}

/// A formula as a whole-added or whole-removed diff block.
fn whole(formula: &str, sign: char) -> String {
    formula.lines().map(|l| format!("{sign}{l}\n")).collect()
}

fn items(review: &Review) -> Vec<Item> {
    let mut items = Vec::new();
    let in_ds = !review.is_datasource_file();
    for s in &review.worksheets {
        let mut head = vec![t(format!("Worksheet {}: ", verb(s.change)))];
        if let Some(from) = &s.renamed_from {
            head.extend([v(from), t(" -> ")]);
        }
        head.push(v(&s.name));
        items.push(Item { head, block: None });
    }
    for d in &review.dashboards {
        let mut head = vec![t(format!("Dashboard {}: ", verb(d.change))), v(&d.name)];
        match d.change {
            ChangeKind::Added if !d.sheets_added.is_empty() => {
                head.push(t(" (shows "));
                head.extend(list(&d.sheets_added));
                head.push(t(")"));
            }
            ChangeKind::Changed => {
                if !d.sheets_added.is_empty() {
                    head.push(t("; now shows "));
                    head.extend(list(&d.sheets_added));
                }
                if !d.sheets_removed.is_empty() {
                    head.push(t("; no longer shows "));
                    head.extend(list(&d.sheets_removed));
                }
            }
            _ => {}
        }
        items.push(Item { head, block: None });
    }
    for d in &review.datasources {
        let mut head = vec![t(format!("Data source {}: ", verb(d.change))), v(&d.name)];
        if !d.fields.is_empty() {
            head.push(t(": "));
            head.extend(field_parts(&d.fields, false));
        }
        items.push(Item { head, block: None });
    }
    for c in &review.calculated_fields {
        let mut head = vec![t(format!("Calculated field {}: ", verb(c.change))), v(&c.name)];
        if in_ds {
            head.push(t(" in "));
            head.push(v(&c.datasource));
        }
        if !c.fields.is_empty() {
            head.push(t(": "));
            head.extend(field_parts(&c.fields, false));
        }
        let block = match (c.change, &c.formula_before, &c.formula_after) {
            (ChangeKind::Added, _, Some(f)) => Some(whole(f, '+')),
            (ChangeKind::Removed, Some(f), _) => Some(whole(f, '-')),
            _ => Some(c.formula_diff.clone()).filter(|d| !d.is_empty()),
        };
        items.push(Item { head, block });
    }
    for p in &review.parameters {
        let mut head = vec![t(format!("Parameter {}: ", verb(p.change))), v(&p.name)];
        head.push(t(if p.change == ChangeKind::Changed { ": " } else { " (" }));
        head.extend(field_parts(&p.fields, p.change != ChangeKind::Changed));
        if p.change != ChangeKind::Changed {
            head.push(t(")"));
        }
        items.push(Item { head, block: None });
    }
    for c in &review.connections {
        let mut head = vec![t(format!("Connection {}: ", verb(c.change)))];
        if in_ds {
            head.extend([v(&c.datasource), t(" ("), v(&c.class), t(")")]);
        } else {
            head.push(v(&c.class));
        }
        head.push(t(if c.change == ChangeKind::Changed { ": " } else { " with " }));
        // The class is in the head already; for an addition or removal, list the other attributes.
        let fields: Vec<FieldChange> = if c.change == ChangeKind::Changed {
            c.fields.clone()
        } else {
            c.fields.iter().filter(|f| f.field != "class").cloned().collect()
        };
        head.extend(field_parts(&fields, c.change != ChangeKind::Changed));
        items.push(Item { head, block: None });
    }
    for e in &review.package_entries {
        let mut head = vec![t(format!("Package entry {}: ", verb(e.change))), v(&e.path)];
        match (e.size_before, e.size_after) {
            (Some(b), Some(a)) => head.push(t(format!(" ({b} -> {a} bytes)"))),
            (Some(b), None) => head.push(t(format!(" ({b} bytes)"))),
            (None, Some(a)) => head.push(t(format!(" ({a} bytes)"))),
            (None, None) => {}
        }
        items.push(Item { head, block: None });
    }
    if let Some(b) = &review.binary {
        let short = |h: &str| h.get(..12).unwrap_or(h).to_string();
        items.push(Item {
            head: vec![
                t(format!("File changed (no semantic content): {} -> {} bytes, sha256 ", b.size_before, b.size_after)),
                v(short(&b.sha256_before)),
                t(" -> "),
                v(short(&b.sha256_after)),
            ],
            block: None,
        });
    }
    items
}

/// What an empty review renders as.
pub const NO_SEMANTIC_CHANGES: &str = "No semantic changes.";

/// Longest run of backticks in `s`.
fn longest_backtick_run(s: &str) -> usize {
    let (mut best, mut run) = (0, 0);
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

/// A value as an inline code span that survives backticks and newlines in the value.
fn code_span(value: &str) -> String {
    let flat = value.replace(['\r', '\n'], " ");
    let ticks = "`".repeat(longest_backtick_run(&flat) + 1);
    let pad = if flat.starts_with('`') || flat.ends_with('`') { " " } else { "" };
    format!("{ticks}{pad}{flat}{pad}{ticks}")
}

impl Review {
    /// A compact Markdown bullet list; formula changes in fenced `diff` blocks indented under their bullet.
    pub fn render_markdown(&self) -> String {
        if self.is_empty() {
            return format!("_{NO_SEMANTIC_CHANGES}_\n");
        }
        let mut out = String::new();
        for item in items(self) {
            out.push_str("- ");
            for part in &item.head {
                match part {
                    Part::Text(s) => out.push_str(s),
                    Part::Value(s) => out.push_str(&code_span(s)),
                }
            }
            out.push('\n');
            if let Some(block) = &item.block {
                let fence = "`".repeat(longest_backtick_run(block).max(2) + 1);
                let _ = writeln!(out, "  {fence}diff");
                for line in block.lines() {
                    let _ = writeln!(out, "  {line}");
                }
                let _ = writeln!(out, "  {fence}");
            }
        }
        out
    }

    /// The same list as plain text: one line per change, formula diffs indented below.
    pub fn render_text(&self) -> String {
        if self.is_empty() {
            return format!("{NO_SEMANTIC_CHANGES}\n");
        }
        let mut out = String::new();
        for item in items(self) {
            for part in &item.head {
                match part {
                    Part::Text(s) => out.push_str(s),
                    Part::Value(s) => out.push_str(&s.replace(['\r', '\n'], " ")),
                }
            }
            out.push('\n');
            if let Some(block) = &item.block {
                for line in block.lines() {
                    let _ = writeln!(out, "    {line}");
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_span_survives_backticks_and_newlines() {
        assert_eq!(code_span("plain"), "`plain`");
        assert_eq!(code_span("a`b"), "``a`b``");
        assert_eq!(code_span("`x`"), "`` `x` ``");
        assert_eq!(code_span("two\nlines"), "`two lines`");
    }
}
