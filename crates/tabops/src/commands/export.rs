//! `tabops export`: adopt tabops on an existing site. Reads the live site (every project, or the `--project`
//! subtrees) and writes it as a manifest directory split by project, with each item's content downloaded beside
//! it, then plans the export against the same site and reports every change that plan still has.
//!
//! Export is read-only unless `--adopt` is given. Content tabops never published carries no `tabops.sha256.*`
//! checksum marker (and content published from another manifest carries another marker), so a plan of the export
//! republishes it: export says so and lists those items. `--adopt` tags each of them with the marker a plan
//! computes for its exported file instead; those tag writes are announced on stderr and recorded in the audit log
//! like an apply's actions. The planner is unchanged: it never trusts an unmarked item, so a later change to an
//! exported file is still published.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use tabops_apply::audit::AuditLog;
use tabops_export::{self as export, ExportOptions};
use tabops_manifest::model::ProjectPath;
use tabops_reconcile::site;
use tabops_tableau::Access;

use super::ExitStatus;
use crate::args::SiteArgs;
use crate::errors::Hint;
use crate::settings::{self, ExportSettings};

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Directory to write the manifest and content into; it must be empty unless --force.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Export only this project and everything below it (a path such as `Sales/EMEA`, `\/` for a `/` in a name).
    /// Repeatable. Default: every project.
    #[arg(long = "project", value_name = "PATH")]
    pub projects: Vec<String>,
    #[command(flatten)]
    pub site: SiteArgs,
    /// Export explicit and default permissions of projects, workbooks and data sources.
    #[arg(long)]
    pub with_permissions: bool,
    /// Export extract-refresh schedules (without it, the exported items have no `refresh:` key and plans leave the
    /// site's tasks alone).
    #[arg(long)]
    pub with_refresh: bool,
    /// Export the subscriptions to the exported workbooks and their views (a top-level `subscriptions:` list in
    /// each project file).
    #[arg(long)]
    pub with_subscriptions: bool,
    /// Tag the exported items with the checksum marker of their exported file, so a plan of the export does not
    /// republish them (the only write export makes; each is announced and recorded in the audit log). Without it,
    /// nothing is written to the site.
    #[arg(long)]
    pub adopt: bool,
    /// Write into a non-empty directory, replacing site.yaml, people.yaml, projects/ and content/.
    #[arg(long)]
    pub force: bool,
    /// The audit log recording the adoption's tag writes (default: `audit.jsonl` in the state directory).
    #[arg(long, env = "TABOPS_AUDIT_LOG")]
    pub audit_log: Option<PathBuf>,
}

impl ExportArgs {
    /// The export's settings: where the site is, what to export, where adoption is recorded.
    pub fn settings(self) -> ExportSettings {
        // The export is the manifest to be: its state directory is the one plan and apply will find from it.
        let site = self.site.options(&self.out, None);
        ExportSettings {
            audit_log: settings::audit_log(self.audit_log, &site.state_dir),
            site,
            out: self.out,
            projects: self.projects.iter().map(|p| ProjectPath::parse(p)).collect(),
            with_permissions: self.with_permissions,
            with_refresh: self.with_refresh,
            with_subscriptions: self.with_subscriptions,
            adopt: self.adopt,
            force: self.force,
        }
    }
}

pub async fn run(settings: ExportSettings) -> anyhow::Result<ExitStatus> {
    let target = site::resolve_target(&settings.site, None);
    let access = if settings.adopt { Access::ExportAndAdopt } else { Access::Export };
    let site = site::connect(&settings.site, &target, access).await?;
    let options = ExportOptions {
        out: settings.out.clone(),
        projects: settings.projects.clone(),
        with_permissions: settings.with_permissions,
        with_refresh: settings.with_refresh,
        with_subscriptions: settings.with_subscriptions,
        force: settings.force,
        site: target.clone(),
    };
    let audit_path = &settings.audit_log;
    if settings.adopt {
        super::output::prepare_audit_log(audit_path, &settings.site.state_dir)?;
    }
    let audit = if settings.adopt { Some(AuditLog::open(audit_path, uuid::Uuid::new_v4().to_string())?) } else { None };
    let result = export::export(&site.client, &options, audit.as_ref()).await;
    let report = match result {
        Ok(report) => report,
        Err(err) => {
            site.close().await;
            let not_empty = matches!(err, export::ExportError::NotEmpty { .. });
            let err = anyhow::Error::new(err).context(format!("failed to export {}", site_label(&target)));
            return Err(if not_empty {
                Hint::error(format!("{err:#}"), "choose an empty directory, or pass --force to replace an export")
            } else {
                err
            });
        }
    };
    let changes = export::verify(&site.client, &report.desired)
        .await
        .with_context(|| format!("failed to check the export against {}", site.label));
    site.close().await;
    let changes = changes?;

    let mut err = anstream::stderr().lock();
    for warning in &report.warnings {
        writeln!(err, "warning: {warning}")?;
    }
    if !report.needs_password.is_empty() {
        writeln!(
            err,
            "warning: the API never returns connection passwords; before these items can be republished, add \
             `password: \"${{env:NAME}}\"` to their connections:"
        )?;
        for address in &report.needs_password {
            writeln!(err, "  - {address}")?;
        }
    }
    if !report.adopted.is_empty() {
        writeln!(
            err,
            "Adopted {} item(s): tagged with the checksum marker of their exported file (recorded in {}):",
            report.adopted.len(),
            audit_path.display()
        )?;
        for adopted in &report.adopted {
            writeln!(err, "  ~ {} +{}", adopted.address, adopted.marker)?;
        }
    }
    let out_dir = settings.out.display();
    if !report.unadopted.is_empty() {
        writeln!(
            err,
            "note: nothing was written to the site. {} exported item(s) carry no checksum marker of their exported \
             file, so a plan of {out_dir} republishes each (the same file, published again); to tag them instead, \
             run `tabops export --adopt` (each tag write is announced and recorded in the audit log):",
            report.unadopted.len()
        )?;
        for item in &report.unadopted {
            let why = if item.has || !item.stale.is_empty() { "another file's marker" } else { "no marker" };
            writeln!(err, "  ~ {} ({why})", item.address)?;
        }
    }
    for (kind, names) in [("group", &report.left_out_groups), ("user", &report.left_out_users)] {
        if names.is_empty() {
            continue;
        }
        const SHOWN: usize = 10;
        let mut listed: Vec<String> = names.iter().take(SHOWN).map(|n| format!("{kind}:{n}")).collect();
        if names.len() > SHOWN {
            listed.push(format!("and {} more", names.len() - SHOWN));
        }
        writeln!(
            err,
            "note: {} {kind}(s) not exported: no exported project references them (--project); a plan lists them \
             as unmanaged and leaves them alone: {}",
            names.len(),
            listed.join(", ")
        )?;
    }
    let mut out = anstream::stdout().lock();
    writeln!(
        out,
        "Exported {} to {}: {} project(s), {} group(s), {} user(s), {} data source(s), {} workbook(s), {} refresh \
         task(s), {} byte(s) of content in {} manifest file(s).",
        site_label(&target),
        out_dir,
        report.projects,
        report.groups,
        report.users,
        report.datasources,
        report.workbooks,
        report.refresh_tasks,
        report.downloaded_bytes,
        report.files.len()
    )?;
    // The republishes of unadopted items were announced above; every other change is a warning.
    let unadopted: std::collections::BTreeSet<&str> = report.unadopted.iter().map(|p| p.address.as_str()).collect();
    let (republish, other): (Vec<_>, Vec<_>) =
        changes.iter().partition(|c| c.marker_only && unadopted.contains(c.address.as_str()));
    if other.is_empty() && republish.is_empty() {
        writeln!(out, "Checked: a plan of {out_dir} against the site has no changes.")?;
    } else if other.is_empty() {
        writeln!(
            out,
            "Checked: a plan of {out_dir} against the site has no changes but the {} republish(es) listed above.",
            republish.len()
        )?;
    } else {
        writeln!(err, "warning: a plan of {out_dir} against the site still has {} change(s):", other.len())?;
        for change in &other {
            writeln!(err, "  - {change}")?;
        }
    }
    Ok(ExitStatus::Success)
}

fn site_label(target: &tabops_manifest::model::SiteTarget) -> String {
    match &target.server {
        tabops_manifest::model::Server::Local => format!("local site '{}'", target.content_url),
        tabops_manifest::model::Server::Url(url) => format!("site '{}' on {url}", target.content_url),
    }
}
