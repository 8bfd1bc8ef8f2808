//! What `plan`, `apply` and `drift` print, and how they run the library's pipeline: the plan (and the review of
//! `--base`) on stdout, the pipeline's notes on stderr, and the atomic write of a saved plan.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::Context;
use tabops_plan::Plan;
use tabops_plan::render::MarkdownOptions;
use tabops_plan::review::{self, Review};
use tabops_reconcile::{ManifestSource, Prepared, Safety, Session, SiteOptions};

use crate::args::Format;

/// Prints the pipeline's notes on stderr as they come.
pub struct Notes;

impl tabops_reconcile::Observer for Notes {
    fn note(&self, text: &str) {
        let _ = writeln!(anstream::stderr(), "note: {text}");
    }
}

/// Runs the pipeline (load, connect, read, plan) for a command.
pub async fn prepare(
    manifest: &ManifestSource,
    site: &SiteOptions,
    safety: &Safety,
    session: Session,
) -> anyhow::Result<Prepared> {
    Ok(tabops_reconcile::prepare(manifest, site, safety, session, &Notes).await?)
}

/// Before an audit log is written: when it lies in the state directory (the default), that directory is created
/// with its `.gitignore`, as the embedded site does, so the log is never committed by accident.
pub fn prepare_audit_log(audit_log: &Path, state_dir: &Path) -> anyhow::Result<()> {
    if audit_log.starts_with(state_dir) {
        tabops_reconcile::ensure_state_dir(state_dir)?;
    }
    Ok(())
}

/// Colour only on a terminal and only without NO_COLOR.
pub fn use_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Writes `text` to `path` atomically (temp file + rename), so a reader never sees half a plan.
pub fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("failed to create {}", dir.display()))?;
    let tmp = dir.join(format!(".{}.tmp", path.file_name().and_then(|n| n.to_str()).unwrap_or("tabops")));
    std::fs::write(&tmp, text).with_context(|| format!("failed to write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("failed to write {}", path.display()))?;
    Ok(())
}

/// Prints a plan in the chosen format on stdout (Markdown with the default budget).
pub fn print_plan(plan: &Plan, format: Format, verbose: bool) -> anyhow::Result<()> {
    print_with_review(None, plan, format, verbose, &MarkdownOptions::default())
}

/// How `plan` and `show` exit for a plan: 1 when it has errors (nothing may be applied), 2 with
/// `--detailed-exitcode` when it has changes, else 0.
pub fn plan_exit_status(plan: &tabops_plan::Plan, detailed_exitcode: bool) -> super::ExitStatus {
    use super::ExitStatus;
    if !plan.applyable {
        ExitStatus::Error
    } else if detailed_exitcode && plan.has_changes() {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    }
}

/// Prints the plan, preceded by the review when there is one (JSON: both under one object). In Markdown the two
/// share `markdown.max_bytes`: the review takes at most half, the plan the rest.
pub fn print_with_review(
    review: Option<&Review>,
    plan: &Plan,
    format: Format,
    verbose: bool,
    markdown: &MarkdownOptions,
) -> anyhow::Result<()> {
    let mut out = anstream::stdout().lock();
    match format {
        Format::Json => match review {
            Some(review) => writeln!(out, "{}", review::json_with_review(&tabops_plan::render::json(plan), review))?,
            None => writeln!(out, "{}", tabops_plan::render::json(plan))?,
        },
        Format::Text => {
            if let Some(review) = review {
                write!(out, "{}", review.render_text())?;
            }
            write!(out, "{}", tabops_plan::render::text(plan, use_color(), verbose))?;
        }
        Format::Markdown => {
            let review = review.map(Review::render_markdown).unwrap_or_default();
            let review = cut_markdown(&review, markdown.max_bytes / 2);
            let rest =
                MarkdownOptions { max_bytes: markdown.max_bytes.saturating_sub(review.len()), ..markdown.clone() };
            write!(out, "{review}{}", tabops_plan::render::markdown(plan, &rest))?;
        }
    }
    out.flush()?;
    Ok(())
}

/// `text` cut at a line boundary to at most `max` bytes, with a note when cut (open fences and `<details>` closed).
fn cut_markdown(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    const NOTE: &str = "\n_The review is cut here to keep the comment within its size limit (`--max-bytes`)._\n\n";
    let mut end = max.saturating_sub(NOTE.len() + 64);
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut cut = text[..text[..end].rfind('\n').map_or(0, |i| i + 1)].to_owned();
    if cut.matches("```").count() % 2 == 1 {
        cut.push_str("```\n");
    }
    let open = cut.matches("<details>").count().saturating_sub(cut.matches("</details>").count());
    for _ in 0..open {
        cut.push_str("\n</details>\n");
    }
    cut.push_str(NOTE);
    cut
}
