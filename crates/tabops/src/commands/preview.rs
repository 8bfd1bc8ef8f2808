//! `tabops preview`: publish what a pull request adds or changes into its own preview project (and print Markdown
//! linking to it), remove a preview (`--delete`), or remove stale ones (`--prune-older-than`). Every write goes
//! through the executor, so it is in the audit log; the plan goes to stderr, the Markdown to stdout.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use tabops_apply::ExecuteOptions;
use tabops_apply::executor::Status;
use tabops_manifest::model::ContentKind;
use tabops_plan::Plan;
use tabops_reconcile::preview::{self as library, PublishedItem, ViewImages};
use tabops_reconcile::{ManifestSource, Site, SiteOptions};
use tabops_tableau::Access;

use super::ExitStatus;
use super::output;
use crate::args::{ManifestArgs, SiteArgs};
use crate::errors::Hint;
use crate::settings;

#[derive(Debug, Args)]
pub struct PreviewArgs {
    /// The preview's id, e.g. the pull request's `PR-123`: the preview project is `settings.preview.project` with
    /// `{id}` replaced (default `Previews/PR-123`). Letters, digits, `-`, `_` and `.`.
    #[arg(long, required_unless_present = "prune_older_than")]
    pub id: Option<String>,
    /// The pull request's base revision: what the head adds or changes against it is previewed.
    #[arg(long, value_name = "REF", required_unless_present_any = ["delete", "prune_older_than"])]
    pub base: Option<String>,
    /// Remove preview `--id`: its project and everything in it (refused if anything there lacks the preview marker).
    #[arg(long, conflicts_with_all = ["base", "prune_older_than"])]
    pub delete: bool,
    /// Remove every preview whose newest change is older than this, e.g. `14d`.
    #[arg(long, value_name = "AGE", value_parser = super::refresh::parse_duration, conflicts_with_all = ["id", "base"])]
    pub prune_older_than: Option<Duration>,
    /// Download a PNG of each view of the previewed workbooks into DIR, before (production, when it has the view)
    /// and after (the preview), through the REST view-image endpoint: `WORKBOOK--VIEW.before.png`, `….after.png`.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["delete", "prune_older_than"])]
    pub images: Option<PathBuf>,
    #[command(flatten)]
    pub manifest: ManifestArgs,
    #[command(flatten)]
    pub site: SiteArgs,
    /// The audit log to append to (default: `audit.jsonl` in the state directory).
    #[arg(long, env = "TABOPS_AUDIT_LOG")]
    pub audit_log: Option<PathBuf>,
}

/// What `tabops preview` does.
pub enum PreviewMode {
    Publish { id: String, base: String },
    Delete { id: String },
    Prune { older_than: Duration },
}

/// `tabops preview`, resolved.
pub struct PreviewSettings {
    pub mode: PreviewMode,
    /// `--images DIR`.
    pub images: Option<PathBuf>,
    pub manifest: ManifestSource,
    pub site: SiteOptions,
    pub audit_log: PathBuf,
    pub environment: BTreeMap<String, String>,
    pub verbose: bool,
}

impl PreviewArgs {
    pub fn settings(self, global: &crate::cli::GlobalArgs) -> PreviewSettings {
        let site = self.site.options(&self.manifest.file, self.manifest.repo.as_deref());
        let mode = match (self.prune_older_than, self.id, self.base) {
            (Some(older_than), _, _) => PreviewMode::Prune { older_than },
            (None, Some(id), _) if self.delete => PreviewMode::Delete { id },
            (None, Some(id), Some(base)) => PreviewMode::Publish { id, base },
            // clap requires --id (and --base unless deleting).
            (None, id, _) => PreviewMode::Delete { id: id.unwrap_or_default() },
        };
        PreviewSettings {
            mode,
            images: self.images,
            manifest: self.manifest.source(),
            audit_log: settings::audit_log(self.audit_log, &site.state_dir),
            site,
            environment: std::env::vars_os()
                .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
                .collect(),
            verbose: global.verbose > 0,
        }
    }
}

pub async fn run(settings: PreviewSettings) -> anyhow::Result<ExitStatus> {
    match &settings.mode {
        PreviewMode::Publish { id, base } => publish(&settings, id, base).await,
        PreviewMode::Delete { id } => remove(&settings, std::slice::from_ref(id), None).await,
        PreviewMode::Prune { older_than } => remove(&settings, &[], Some(*older_than)).await,
    }
}

/// Plans the preview, applies it, and prints the Markdown with its links.
async fn publish(settings: &PreviewSettings, id: &str, base: &str) -> anyhow::Result<ExitStatus> {
    let mut prepared = library::prepare(&settings.manifest, &settings.site, id, base, &output::Notes).await?;
    let result = async {
        let mut failed = execute(settings, &prepared.plan, &prepared.site).await?;
        // The data sources went first: now the workbooks, pointed at the data sources' preview copies.
        if prepared.datasources_first && !failed {
            library::plan_workbooks(&mut prepared, &settings.manifest).await?;
            failed = execute(settings, &prepared.plan, &prepared.site).await?;
        }
        let items = library::published(&prepared.site, &prepared.state).await?;
        let images = match &settings.images {
            Some(dir) => library::write_images(&prepared.site, &items, dir).await?,
            None => Vec::new(),
        };
        Ok::<_, anyhow::Error>((failed, items, images))
    }
    .await;
    prepared.site.close().await;
    let (failed, items, images) = result?;
    let mut out = anstream::stdout().lock();
    write!(out, "{}", markdown(&prepared.state, &items, &images))?;
    out.flush()?;
    Ok(if failed { ExitStatus::Error } else { ExitStatus::Success })
}

/// Removes the previews named, or (with `older_than`) the stale ones.
async fn remove(
    settings: &PreviewSettings,
    ids: &[String],
    older_than: Option<Duration>,
) -> anyhow::Result<ExitStatus> {
    let loaded = library::load_head(&settings.manifest).await?;
    let site = library::connect(&settings.site, &loaded, Access::Apply).await?;
    let result = async {
        let ids = match older_than {
            None => ids.to_vec(),
            Some(age) => library::stale_previews(&site, &loaded, age).await?,
        };
        let mut failed = false;
        let mut removed = Vec::new();
        for id in &ids {
            match library::plan_removal(&site, &loaded, id, &settings.manifest).await? {
                None => {
                    let _ = writeln!(anstream::stderr(), "note: there is no preview `{id}` on the site");
                }
                Some((_, plan)) => {
                    failed |= execute(settings, &plan, &site).await?;
                    removed.push(id.clone());
                }
            }
        }
        Ok::<_, anyhow::Error>((failed, removed))
    }
    .await;
    site.close().await;
    let (failed, removed) = result?;
    let mut out = anstream::stdout().lock();
    match removed.as_slice() {
        [] => writeln!(out, "No previews removed.")?,
        ids => writeln!(out, "Removed {} preview(s): {}.", ids.len(), ids.join(", "))?,
    }
    Ok(if failed { ExitStatus::Error } else { ExitStatus::Success })
}

/// Prints the plan on stderr and applies it (nothing to do: nothing written); whether an action failed.
async fn execute(settings: &PreviewSettings, plan: &Plan, site: &Site) -> anyhow::Result<bool> {
    write!(anstream::stderr(), "{}", tabops_plan::render::text(plan, false, settings.verbose))?;
    if !plan.applyable {
        return Err(Hint::about_plan(
            "the preview's plan has errors, so nothing was published",
            "fix the errors listed above",
            plan,
        ));
    }
    if !plan.has_changes() {
        return Ok(false);
    }
    super::apply::require_secrets(plan, &settings.environment)?;
    output::prepare_audit_log(&settings.audit_log, &settings.site.state_dir)?;
    let audit = tabops_reconcile::audit::open(&settings.audit_log, plan, &settings.environment)?;
    let options = ExecuteOptions { environment: settings.environment.clone(), ..Default::default() };
    let progress = super::progress::Progress::new();
    let outcome = tabops_apply::execute_with_hook(plan, &site.client, &audit, &options, &progress).await;
    progress.finish();
    let outcome = outcome?;
    let mut err = anstream::stderr().lock();
    for action in &outcome.actions {
        match &action.status {
            Status::Completed => {}
            Status::Failed(why) => writeln!(err, "error: {}: {why}", action.address)?,
            Status::Skipped(why) => writeln!(err, "skipped: {}: {why}", action.address)?,
        }
    }
    writeln!(err, "{}", outcome.summary_line())?;
    Ok(outcome.failed() + outcome.skipped() > 0)
}

/// The pull-request comment: the preview project, and each item with a link to it and, for workbooks, to each
/// view.
fn markdown(state: &tabops_plan::preview::PreviewState, items: &[PublishedItem], images: &[ViewImages]) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "### Preview `{}`\n", state.id);
    if items.is_empty() {
        let _ = writeln!(md, "This change adds or changes no workbook or data source: there is nothing to preview.");
        return md;
    }
    let _ = writeln!(md, "Published to project `{}`.\n", state.project);
    let _ = writeln!(md, "| | Item | Views |");
    let _ = writeln!(md, "|---|---|---|");
    for item in items {
        let kind = match item.item.kind {
            ContentKind::Workbook => "workbook",
            ContentKind::Datasource => "data source",
        };
        let change = if item.item.added { "added" } else { "changed" };
        let name = if item.name.is_empty() { item.item.preview.to_string() } else { item.name.clone() };
        let title = match &item.url {
            Some(url) => format!("[{}]({url})", escape(&name)),
            None => escape(&name),
        };
        let views: Vec<String> = item
            .views
            .iter()
            .map(|v| match &v.url {
                Some(url) => format!("[{}]({url})", escape(&v.name)),
                None => escape(&v.name),
            })
            .collect();
        let _ = writeln!(md, "| {change} {kind} | {title} | {} |", views.join(" · "));
    }
    if !images.is_empty() {
        let _ = writeln!(md, "\n| View | Before (production) | After (preview) |");
        let _ = writeln!(md, "|---|---|---|");
        let file = |path: &std::path::Path| {
            format!("`{}`", path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default())
        };
        for image in images {
            let before = image.before.as_deref().map(file).unwrap_or_else(|| "(new)".to_owned());
            let view = escape(&format!("{} / {}", image.workbook, image.view));
            let _ = writeln!(md, "| {view} | {before} | {} |", file(&image.after));
        }
    }
    md
}

/// Text safe inside a Markdown table cell and link label.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('|', "\\|").replace('[', "\\[").replace(']', "\\]")
}
