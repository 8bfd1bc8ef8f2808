//! `tabops drift`: does the live site still match git? Exit 0 when it does, 2 when it differs, 1 on error.

use std::io::Write;

use clap::Args;

use tabops_reconcile::Session;

use super::ExitStatus;
use super::output;
use crate::args::{Format, ManifestArgs, SiteArgs};
use crate::settings::DriftSettings;

#[derive(Debug, Args)]
pub struct DriftArgs {
    #[command(flatten)]
    pub manifest: ManifestArgs,
    #[command(flatten)]
    pub site: SiteArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// The manifest as last applied (a git revision, e.g. the commit of the last successful apply). A difference
    /// in an object whose manifest changed since then is reported as changed in git; one in an object whose
    /// manifest did not change was made on the site. Without it, only content (through its markers) can be told
    /// apart and other differences blame neither side. Objects protected at REF stay protected.
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
}

pub async fn run(settings: DriftSettings) -> anyhow::Result<ExitStatus> {
    let prepared =
        output::prepare(&settings.manifest, &settings.site, &settings.safety, Session::SignOutAfterRead).await?;
    let baseline = prepared.base.as_ref().map(|(base, _)| &base.desired);
    let mut report = tabops_plan::drift::classify(&prepared.plan, baseline);
    let live = &prepared.inventory;
    let content: std::collections::HashMap<&str, &Vec<String>> =
        live.workbooks.iter().chain(&live.datasources).map(|c| (c.id.as_str(), &c.tags)).collect();
    tabops_plan::drift::annotate_commits(&mut report, &prepared.plan, |id| content.get(id).map(|tags| (*tags).clone()));
    let text = match settings.format {
        Format::Text => tabops_plan::drift::render_text(&report),
        Format::Markdown => tabops_plan::drift::render_markdown(&report),
        Format::Json => tabops_plan::drift::render_json(&report),
    };
    let printed = write_stdout(&text);
    prepared.site.close().await;
    printed?;
    Ok(if report.has_drift() { ExitStatus::Changes } else { ExitStatus::Success })
}

fn write_stdout(text: &str) -> std::io::Result<()> {
    let mut out = anstream::stdout().lock();
    write!(out, "{text}")?;
    out.flush()
}
