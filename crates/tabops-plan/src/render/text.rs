//! The human-readable plan: one block per action (glyph, address, reason, field changes), unmanaged objects,
//! errors, and the stable summary line last.

use std::fmt::Write;

use owo_colors::OwoColorize;

use crate::plan::{Action, Plan};

use super::{change_line, visible};

fn paint(text: &str, glyph: char, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    match glyph {
        '+' => text.green().to_string(),
        '-' => text.red().to_string(),
        '~' => text.yellow().to_string(),
        _ => text.dimmed().to_string(),
    }
}

fn glyph_key(action: Action) -> char {
    match action {
        Action::Create => '+',
        Action::Update => '~',
        Action::Republish => '~',
        Action::Delete => '-',
        Action::NoOp => '=',
    }
}

/// Render a plan for a terminal. `color` adds ANSI colours; `verbose` also lists no-ops with their reason.
pub fn text(plan: &Plan, color: bool, verbose: bool) -> String {
    let mut out = String::new();
    let shown: Vec<_> = plan.actions.iter().filter(|a| verbose || a.action != Action::NoOp).collect();
    if !shown.is_empty() {
        let _ =
            writeln!(out, "tabops will perform the following actions on site '{}':", visible(&plan.site.content_url));
        let _ = writeln!(out);
    }
    for action in shown {
        let glyph = format!("{:>3}", action.action.glyph());
        let _ = writeln!(
            out,
            "{} {}",
            paint(&glyph, glyph_key(action.action), color),
            if color { visible(&action.id).bold().to_string() } else { visible(&action.id).into_owned() }
        );
        let reason = format!("# {}", visible(&action.reason));
        let _ = writeln!(out, "      {}", if color { reason.dimmed().to_string() } else { reason });
        for change in &action.changes {
            let (g, line) = change_line(change);
            let _ = writeln!(out, "      {}", paint(&format!("{g} {}", visible(&line)), g, color));
        }
        let _ = writeln!(out);
    }
    if !plan.unmanaged.is_empty() {
        let _ = writeln!(out, "Unmanaged objects (on the site, not in the manifest; left alone):");
        for u in &plan.unmanaged {
            let _ = writeln!(out, "  {} (id {})", visible(&u.address), visible(&u.id));
        }
        let _ = writeln!(out);
    }
    out.push_str(&crate::impact::text(plan));
    if !plan.errors.is_empty() {
        let heading = "Errors (the plan cannot be applied):";
        let _ = writeln!(out, "{}", if color { heading.red().bold().to_string() } else { heading.to_string() });
        for e in &plan.errors {
            let label = if color { "error".red().bold().to_string() } else { "error".to_string() };
            let _ = writeln!(out, "  {label}: {}: {}", visible(&e.address), visible(&e.message));
            if let Some(hint) = &e.hint {
                let _ = writeln!(out, "    hint: {}", visible(hint));
            }
        }
        let _ = writeln!(out);
    }
    if let Some((title, text)) = super::partial_warning(plan) {
        let title = format!("Warning: {title}");
        let _ = writeln!(out, "{}\n{text}\n", if color { title.yellow().bold().to_string() } else { title });
    }
    let line = plan.summary.line();
    let _ = writeln!(out, "{}", if color { line.bold().to_string() } else { line });
    out
}
