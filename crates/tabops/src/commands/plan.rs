//! `tabops plan`: show what an apply would change, without changing anything.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use tabops_plan::render;
use tabops_reconcile::{Prepared, Session};

use super::ExitStatus;
use super::output;
use crate::args::{Format, ManifestArgs, MarkdownArgs, SafetyArgs, SiteArgs};
use crate::settings::PlanSettings;

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub manifest: ManifestArgs,
    #[command(flatten)]
    pub site: SiteArgs,
    #[command(flatten)]
    pub safety: SafetyArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Save the plan (JSON) so `tabops apply FILE` applies exactly it.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Exit 2 when the plan has changes (0: none, 1: error).
    #[arg(long)]
    pub detailed_exitcode: bool,
    #[command(flatten)]
    pub markdown: MarkdownArgs,
}

impl PlanArgs {
    pub(crate) fn markdown(&self) -> render::MarkdownOptions {
        self.markdown.options(self.out.as_ref().map(|out| format!("{} (saved by this run with --out)", out.display())))
    }
}

/// Plans. A weak plan key was already refused while resolving the settings, before anything is sent.
pub async fn run(settings: PlanSettings) -> anyhow::Result<ExitStatus> {
    let prepared =
        output::prepare(&settings.manifest, &settings.site, &settings.safety, Session::SignOutAfterRead).await?;
    // Close the site whatever printing does (a closed pipe, a full disk): the sign-out is already under way.
    let printed = report(&settings, &prepared);
    prepared.site.close().await;
    printed?;
    Ok(output::plan_exit_status(&prepared.plan, settings.detailed_exitcode))
}

/// Prints the plan (with the review of `--base`) and saves it with `--out`.
fn report(settings: &PlanSettings, prepared: &Prepared) -> anyhow::Result<()> {
    let plan = &prepared.plan;
    let review = prepared.base.as_ref().zip(settings.safety.base.as_deref()).map(|(base, reference)| {
        tabops_reconcile::git::review(&settings.manifest, reference, base, &prepared.loaded.desired)
    });
    // Saved before printing: a failure to save is then the only document `--format json` prints, not a second one.
    if let Some((out, key)) = &settings.out {
        output::write_atomically(out, &tabops_plan::plan::file::to_file(plan, key.as_ref()))?;
    }
    output::print_with_review(review.as_ref(), plan, settings.format, settings.verbose, &settings.markdown)?;
    if let Some((out, key)) = &settings.out {
        let shown = out.display();
        let signed = if key.is_some() { "signed with TABOPS_PLAN_KEY" } else { "unsigned" };
        writeln!(
            anstream::stderr(),
            "Saved the plan to {shown} ({signed}). Apply exactly it with: tabops apply {shown} -f {}",
            settings.manifest.file.display()
        )?;
    }
    Ok(())
}
