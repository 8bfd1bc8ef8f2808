//! What `plan`, `apply` and `drift` print, and how they run the library's pipeline: the plan (and the review of
//! `--base`) on stdout, the pipeline's notes on stderr, and the atomic write of a saved plan.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::Context;
use tabops_plan::Plan;
use tabops_plan::review::{self, Review};
use tabops_reconcile::{Prepared, Session};

use crate::args::{Format, ManifestArgs, SiteArgs};

/// Prints the pipeline's notes on stderr as they come.
struct Notes;

impl tabops_reconcile::Observer for Notes {
    fn note(&self, text: &str) {
        let _ = writeln!(anstream::stderr(), "note: {text}");
    }
}

/// Runs the pipeline (load, connect, read, plan) for a command.
pub async fn prepare(
    manifest: &ManifestArgs,
    site: &SiteArgs,
    safety: &tabops_reconcile::Safety,
    session: Session,
) -> anyhow::Result<Prepared> {
    Ok(tabops_reconcile::prepare(&manifest.source(), &site.options(), safety, session, &Notes).await?)
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

/// Prints a plan in the chosen format on stdout.
pub fn print_plan(plan: &Plan, format: Format, verbose: bool) -> anyhow::Result<()> {
    let mut out = anstream::stdout().lock();
    match format {
        Format::Text => write!(out, "{}", tabops_plan::render::text(plan, use_color(), verbose))?,
        Format::Json => writeln!(out, "{}", tabops_plan::render::json(plan))?,
        Format::Markdown => {
            let parts = tabops_plan::render::markdown(plan);
            let count = parts.len();
            for (i, part) in parts.into_iter().enumerate() {
                write!(out, "{part}")?;
                if i + 1 < count {
                    writeln!(out, "\n<!-- tabops: part break -->\n")?;
                }
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// Prints the plan, preceded by the review when there is one (JSON: both under one object).
pub fn print_with_review(
    review: Option<&Review>,
    plan: &tabops_plan::Plan,
    format: Format,
    verbose: bool,
) -> anyhow::Result<()> {
    let Some(review) = review else { return print_plan(plan, format, verbose) };
    let mut out = anstream::stdout().lock();
    match format {
        Format::Json => writeln!(out, "{}", review::json_with_review(&tabops_plan::render::json(plan), review))?,
        Format::Text => write!(out, "{}", review.render_text())?,
        Format::Markdown => write!(out, "{}", review.render_markdown(tabops_reconcile::git::semantic_review))?,
    }
    out.flush()?;
    drop(out);
    if format != Format::Json {
        print_plan(plan, format, verbose)?;
    }
    Ok(())
}
