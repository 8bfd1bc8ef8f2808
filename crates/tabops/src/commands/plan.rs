//! `tabops plan`: show what an apply would change, without changing anything.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use tabops_reconcile::{Prepared, Session};

use super::ExitStatus;
use super::output;
use crate::args::{Format, ManifestArgs, SafetyArgs, SiteArgs};
use crate::cli::GlobalArgs;

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
}

pub async fn run(args: PlanArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    // A weak or unreadable key is refused before anything is sent.
    let key = if args.out.is_some() { super::apply::plan_key()? } else { None };
    let prepared =
        output::prepare(&args.manifest, &args.site, &args.safety.safety(), Session::SignOutAfterRead).await?;
    // Close the site whatever printing does (a closed pipe, a full disk): the sign-out is already under way.
    let printed = report(&args, global, &prepared, key.as_ref());
    prepared.site.close().await;
    printed?;
    let plan = &prepared.plan;
    Ok(if !plan.applyable {
        ExitStatus::Error
    } else if args.detailed_exitcode && plan.has_changes() {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}

/// Prints the plan (with the review of `--base`) and saves it with `--out`.
fn report(
    args: &PlanArgs,
    global: &GlobalArgs,
    prepared: &Prepared,
    key: Option<&tabops_plan::plan::file::PlanKey>,
) -> anyhow::Result<()> {
    let plan = &prepared.plan;
    let review = prepared.base.as_ref().zip(args.safety.base.as_deref()).map(|(base, reference)| {
        tabops_reconcile::git::review(&args.manifest.source(), reference, base, &prepared.loaded.desired)
    });
    output::print_with_review(review.as_ref(), plan, args.format, global.verbose > 0)?;
    if let Some(out) = &args.out {
        output::write_atomically(out, &tabops_plan::plan::file::to_file(plan, key))?;
        let shown = out.display();
        let signed = if key.is_some() { "signed with TABOPS_PLAN_KEY" } else { "unsigned" };
        writeln!(
            anstream::stderr(),
            "Saved the plan to {shown} ({signed}). Apply exactly it with: tabops apply {shown} -f {}",
            args.manifest.file.display()
        )?;
    }
    Ok(())
}
