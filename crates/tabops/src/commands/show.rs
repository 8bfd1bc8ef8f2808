//! `tabops show PLAN`: renders a saved plan (`plan --out`) without reading a manifest or touching the site, so a
//! pull-request job plans once, saves the JSON, and renders its comment (or a bot its summary) from that file.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use tabops_plan::plan::file as plan_file;

use super::ExitStatus;
use super::output;
use crate::args::{Format, MarkdownArgs};
use crate::errors::Hint;
use crate::settings::ShowSettings;

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The saved plan (`tabops plan --out FILE`). A signed one is checked with TABOPS_PLAN_KEY.
    pub plan: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit 2 when the plan has changes (0: none, 1: the plan has errors), as `plan --detailed-exitcode` did.
    #[arg(long)]
    pub detailed_exitcode: bool,
    #[command(flatten)]
    pub markdown: MarkdownArgs,
}

/// Renders the saved plan; exits as `plan` did when it made it (1 when the plan has errors).
pub fn run(settings: ShowSettings) -> anyhow::Result<ExitStatus> {
    let file = &settings.plan;
    let text =
        std::fs::read_to_string(file).with_context(|| format!("failed to read the saved plan {}", file.display()))?;
    let (plan, _) = plan_file::from_file(&text, settings.key.as_ref())
        .map_err(|err| Hint::maybe(format!("failed to load the plan {}: {err}", file.display()), err.hint()))?;
    output::print_with_review(None, &plan, settings.format, settings.verbose, &settings.markdown)?;
    Ok(output::plan_exit_status(&plan, settings.detailed_exitcode))
}
