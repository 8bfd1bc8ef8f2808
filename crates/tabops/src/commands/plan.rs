//! `tabops plan`: show what an apply would change, without changing anything.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::ExitStatus;
use super::reconcile::{self, Format, ManifestArgs, SafetyArgs};
use super::site::SiteArgs;
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
    /// Also show what the manifest and content changed since this git revision (a pull request's base branch),
    /// and protect what the base protects.
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
}

pub async fn run(args: PlanArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let mut safety = args.safety.clone();
    let base = match &args.base {
        Some(reference) => Some(super::review::load_base(&args.manifest, reference).await?),
        None => None,
    };
    if let Some((base, _)) = &base {
        safety.protected.extend(tabops_plan::protected_addresses(&base.desired));
    }
    let prepared = reconcile::prepare(&args.manifest, &args.site, &safety).await?;
    let plan = &prepared.plan;
    let review = base
        .as_ref()
        .zip(args.base.as_deref())
        .map(|(base, reference)| super::review::review(&args.manifest, reference, base, &prepared.loaded.desired));
    super::review::print_with_review(review.as_ref(), plan, args.format, global.verbose > 0)?;
    if let Some(out) = &args.out {
        reconcile::write_atomically(out, &tabops_plan::render::json(plan))?;
        let shown = out.display();
        writeln!(anstream::stderr(), "Saved the plan to {shown}. Apply exactly it with: tabops apply {shown}")?;
    }
    prepared.site.close().await;
    Ok(if !plan.applyable {
        ExitStatus::Error
    } else if args.detailed_exitcode && plan.has_changes() {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}
