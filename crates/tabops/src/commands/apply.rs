//! `tabops apply`: make the site match the manifest. Plans afresh (and asks for confirmation on a terminal unless
//! `--auto-approve`), or applies a saved plan exactly, refusing it when what it depends on changed since.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use tabops_apply::executor::{ExecuteOptions, Status};
use tabops_apply::refresh_now;
use tabops_manifest::model::Address;
use tabops_plan::Plan;
use tabops_plan::plan::file::{self as plan_file, PlanKey};
use tabops_reconcile::{Session, Site};

use super::ExitStatus;
use super::output;
use crate::args::{Format, ManifestArgs, SafetyArgs, SiteArgs};
use crate::errors::Hint;
use crate::settings::ApplySettings;

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved by `tabops plan --out FILE`; applied exactly, or refused if it is stale.
    pub plan: Option<PathBuf>,
    #[command(flatten)]
    pub manifest: ManifestArgs,
    #[command(flatten)]
    pub site: SiteArgs,
    #[command(flatten)]
    pub safety: SafetyArgs,
    /// Apply without asking for confirmation.
    #[arg(long, visible_alias = "yes")]
    pub auto_approve: bool,
    /// The audit log to append to (default: `audit.jsonl` in the state directory), or `git:REF` for the audit
    /// trail in git: this run becomes one commit on REF (e.g. `refs/tabops/audit/acme`, or a branch name) in the
    /// manifest's repository, chained to the runs before it, and is pushed (see --audit-push).
    #[arg(long, env = "TABOPS_AUDIT_LOG")]
    pub audit_log: Option<PathBuf>,
    /// With `--audit-log git:REF`: the remote (name or URL) the trail is pushed to. Default: the upstream remote
    /// of the checked-out branch, else `origin`; with neither, the trail stays in the local repository (warning).
    #[arg(long, env = "TABOPS_AUDIT_PUSH", value_name = "REMOTE")]
    pub audit_push: Option<String>,
    /// Format of the plan shown before applying.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// After the apply, run extract refreshes of the workbooks and data sources it published or repointed the
    /// connections of (`changed`), wait for them like `tabops refresh --wait`, and report them.
    #[arg(long, value_enum, value_name = "WHAT")]
    pub refresh: Option<RefreshAfter>,
    /// With --refresh: how long to wait for the refresh jobs, e.g. `30m`.
    #[arg(long, default_value = "30m", value_parser = super::refresh::parse_duration, requires = "refresh")]
    pub refresh_timeout: std::time::Duration,
    /// With --refresh: the fixed interval between polls of a refresh job, e.g. `15s`.
    #[arg(long, default_value = "15s", value_parser = super::refresh::parse_duration, requires = "refresh")]
    pub refresh_poll: std::time::Duration,
}

/// What `apply --refresh` refreshes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RefreshAfter {
    /// The workbooks and data sources the apply published or repointed the connections of.
    Changed,
}

impl ApplyArgs {
    /// `--refresh changed`: the refresh options (always waiting), else `None`.
    pub fn refresh_after(&self) -> Option<tabops_apply::refresh_now::RefreshOptions> {
        self.refresh.map(|RefreshAfter::Changed| tabops_apply::refresh_now::RefreshOptions {
            wait: true,
            timeout: self.refresh_timeout,
            poll: self.refresh_poll,
        })
    }
}

pub async fn run(settings: ApplySettings) -> anyhow::Result<ExitStatus> {
    // The git trail first publishes what a crashed earlier run left, before anything is planned or applied.
    let mut trail = super::audit_trail::open(&settings)?;
    // `--format json`: one document at the end (the plan and what was applied), nothing printed before it.
    let json = settings.format == Format::Json;
    let (plan, site) = match &settings.saved {
        Some((file, key)) => saved_plan(&settings, file, key.as_ref()).await?,
        None => {
            let prepared = output::prepare(&settings.manifest, &settings.site, &settings.safety, Session::Keep).await?;
            if !json {
                output::print_plan(&prepared.plan, settings.format, settings.verbose)?;
            }
            (prepared.plan, prepared.site)
        }
    };
    if !plan.applyable {
        site.close().await;
        return Err(Hint::about_plan(
            "the plan has errors, so nothing was applied",
            "fix the errors listed above, or pass the flag the error names",
            &plan,
        ));
    }
    if !plan.has_changes() {
        site.close().await;
        if json {
            print_document(&plan, None, None)?;
        }
        return Ok(ExitStatus::Success);
    }
    // Plans are made without connection secrets; the ones this apply sends must all be set before anything is sent.
    if let Err(err) = require_secrets(&plan, &settings.environment) {
        site.close().await;
        return Err(err);
    }
    if settings.saved.is_none() && !settings.auto_approve {
        if json && std::io::stdin().is_terminal() {
            // The plan a person is asked to approve, where they read it.
            write!(anstream::stderr(), "{}", tabops_plan::render::text(&plan, false, settings.verbose))?;
        }
        if !confirm()? {
            site.close().await;
            if json {
                return Err(Hint::error("apply cancelled: the answer was not 'yes'", "nothing was applied"));
            }
            writeln!(anstream::stderr(), "Apply cancelled.")?;
            return Ok(ExitStatus::Error);
        }
    }

    let audit_path = &settings.audit_log;
    let audit = match &mut trail {
        Some(trail) => super::audit_trail::begin(trail, &plan, &settings.environment)?,
        None => {
            output::prepare_audit_log(audit_path, &settings.site.state_dir)?;
            tabops_reconcile::audit::open(audit_path, &plan, &settings.environment)?
        }
    };
    let options = ExecuteOptions {
        concurrency: settings.actions_in_flight,
        environment: settings.environment.clone(),
        ..Default::default()
    };
    let progress = super::progress::Progress::new();
    let outcome = tabops_apply::execute_with_hook(&plan, &site.client, &audit, &options, &progress).await;
    progress.finish();
    // `--refresh changed`: refresh what the apply published or repointed, before the session ends.
    let refreshed = match (&outcome, settings.refresh_after) {
        (Ok(outcome), Some(refresh)) => Some(refresh_changed(&plan, outcome, &site, &audit, &refresh).await),
        _ => None,
    };
    site.close().await;
    // The run's records are published whether the apply succeeded or not.
    let published = trail.as_mut().map(|trail| trail.publish(audit.run_id()));
    let (outcome, published) = match (outcome, published) {
        (Err(err), Some(Err(publish))) => {
            writeln!(anstream::stderr(), "error: {}", super::audit_trail::describe(&publish))?;
            return Err(err.into());
        }
        (outcome, published) => (outcome?, published),
    };
    // A refresh that could not even start fails the command, after the run's records are published.
    let refreshed = refreshed.transpose()?;

    let status = match &refreshed {
        _ if outcome.failed() + outcome.skipped() > 0 => ExitStatus::Error,
        Some(report) if report.has_failures() => ExitStatus::Error,
        Some(report) if report.has_timeouts() => ExitStatus::TimedOut,
        _ => ExitStatus::Success,
    };
    if json {
        let audit_log = match published {
            None => serde_json::json!(audit_path),
            Some(published) => {
                let reference = trail.as_ref().map(|t| t.reference()).unwrap_or_default();
                let head = super::audit_trail::published_head(published)?;
                serde_json::json!({ "trail": format!("git:{reference}"), "head": head })
            }
        };
        print_document(&plan, Some((&outcome, audit_log)), refreshed.as_ref())?;
        return Ok(status);
    }
    let mut err = anstream::stderr().lock();
    for action in &outcome.actions {
        match &action.status {
            Status::Completed => {}
            Status::Failed(why) => writeln!(err, "error: {}: {why}", action.address)?,
            Status::Skipped(why) => writeln!(err, "skipped: {}: {why}", action.address)?,
        }
    }
    if !plan.targets.is_empty() {
        // Terraform's "Applied changes may be incomplete".
        writeln!(
            err,
            "warning: applied changes may be incomplete: the plan was limited with --target, so changes the manifest \
             asks for elsewhere were not applied; run `tabops plan` to see what is still pending"
        )?;
    }
    let mut out = anstream::stdout().lock();
    writeln!(out, "{}", outcome.summary_line())?;
    if let Some(report) = &refreshed {
        let text = match settings.format {
            Format::Markdown => report.render_markdown(),
            _ => report.render_text(),
        };
        write!(out, "\n{text}")?;
    }
    match published {
        None => writeln!(out, "Audit log: {}", audit_path.display())?,
        Some(published) => {
            drop(out);
            super::audit_trail::report(trail.as_ref().map(|t| t.reference()).unwrap_or_default(), published)?;
        }
    }
    Ok(status)
}

/// The refreshes of `apply --refresh changed`: the items the apply published or repointed, found on the site by
/// address (a new item's id is only known now), less those the site reports without an extract, refreshed and
/// waited for, each recorded in the apply's audit log.
async fn refresh_changed(
    plan: &Plan,
    outcome: &tabops_apply::Outcome,
    site: &Site,
    audit: &tabops_apply::audit::AuditLog,
    options: &refresh_now::RefreshOptions,
) -> anyhow::Result<refresh_now::Report> {
    let changed = refresh_now::changed_by_apply(plan, outcome);
    if changed.is_empty() {
        return Ok(refresh_now::Report { items: Vec::new() });
    }
    let live = tabops_apply::inventory::fetch_content(&site.client).await?;
    let refresh_error = |err: refresh_now::RefreshError| Hint::maybe(err.to_string(), err.hint());
    let targets = refresh_now::select_changed(&live, &changed).map_err(refresh_error)?;
    refresh_now::run(&site.client, &targets, options, audit).await.map_err(refresh_error)
}

/// `apply --format json`'s document: `{"plan": <the plan JSON>, "apply": {...}}`, where `apply` is `null` when
/// nothing was applied (no changes) or `{"actions": [{address, action, status, detail, duration_ms,
/// uploaded_bytes}], "completed", "failed", "skipped", "summary", "audit_log"}`; `audit_log` is the file's path,
/// or `{"trail": "git:REF", "head": HEX}` for the audit trail in git. With `--refresh changed`, `refresh` holds
/// the refresh report (`tabops refresh --format json`'s document).
fn print_document(
    plan: &Plan,
    applied: Option<(&tabops_apply::executor::Outcome, serde_json::Value)>,
    refreshed: Option<&refresh_now::Report>,
) -> anyhow::Result<()> {
    let apply = applied.map(|(outcome, audit_log)| {
        serde_json::json!({
            "actions": outcome.actions,
            "completed": outcome.completed(),
            "failed": outcome.failed(),
            "skipped": outcome.skipped(),
            "summary": outcome.summary_line(),
            "audit_log": audit_log,
        })
    });
    let mut document = serde_json::json!({ "plan": plan, "apply": apply });
    if let Some(report) = refreshed {
        document["refresh"] = serde_json::from_str(&report.render_json())?;
    }
    let mut out = anstream::stdout().lock();
    writeln!(out, "{}", serde_json::to_string_pretty(&document)?)?;
    out.flush()?;
    Ok(())
}

/// Applies a saved plan only as the plan made again now: reads the file (checking its signature), plans afresh
/// from the same manifest, content files and live site with this run's safety flags, and returns the fresh plan
/// when it equals the saved one. The file itself is never executed (see `tabops_plan::plan::file`).
async fn saved_plan(settings: &ApplySettings, file: &Path, key: Option<&PlanKey>) -> anyhow::Result<(Plan, Site)> {
    let text = std::fs::read_to_string(file).with_context(|| format!("failed to read the plan {}", file.display()))?;
    let (saved, _) = plan_file::from_file(&text, key)
        .map_err(|err| Hint::maybe(format!("failed to load the plan {}: {err}", file.display()), err.hint()))?;
    // Plan again no looser than the plan job did: its limits are the ceiling of this run's.
    let mut safety = settings.safety.clone();
    safety.ceiling = Some(saved.inputs.safety);
    // A plan made with `--target` is applied with its targets, which this run may repeat but not change.
    let targets: std::collections::BTreeSet<Address> =
        saved.targets.iter().filter_map(|t| Address::parse(t).ok()).collect();
    if !safety.targets.is_empty() && safety.targets != targets {
        let list = |t: &mut dyn Iterator<Item = String>| t.collect::<Vec<_>>().join(", ");
        let made = if saved.targets.is_empty() {
            "without --target".to_owned()
        } else {
            format!("with --target {}", list(&mut saved.targets.iter().cloned()))
        };
        return Err(Hint::error(
            format!(
                "refusing the plan {}: it was made {made}, and this run gives --target {}",
                file.display(),
                list(&mut safety.targets.iter().map(Address::to_string))
            ),
            "apply the plan without --target (it is applied with its own targets), or plan again with the targets you \
             want",
        ));
    }
    safety.targets = targets;
    let prepared = output::prepare(&settings.manifest, &settings.site, &safety, Session::Keep).await?;
    let refuse = |why: String, hint: &str| Hint::error(format!("refusing the plan {}: {why}", file.display()), hint);
    let fresh = prepared.plan;
    if !fresh.applyable {
        prepared.site.close().await;
        let visible = tabops_plan::render::visible;
        let errors: Vec<String> =
            fresh.errors.iter().map(|e| format!("{}: {}", visible(&e.address), visible(&e.message))).collect();
        return Err(refuse(
            format!("planned again now, it has {} error(s): {}", errors.len(), errors.join("; ")),
            "pass apply the same safety flags the plan was made with (--max-deletes, --allow-empty-project, \
             --allow-empty-site, --allow-breaking-deletes), or plan again",
        ));
    }
    if let Err(mismatch) = plan_file::check_saved(&saved, &fresh) {
        prepared.site.close().await;
        return Err(refuse(mismatch.to_string(), &mismatch.hint()));
    }
    Ok((fresh, prepared.site))
}

/// Fails, naming each variable once with the items that need it, when a connection password this plan will send
/// (a publish with credentials) has no value in the environment. Plans are made without secrets (`plan` and `drift`
/// only show `${env:NAME}`), so this is the first point that needs them, and it comes before the first write.
pub(super) fn require_secrets(plan: &Plan, environment: &BTreeMap<String, String>) -> anyhow::Result<()> {
    let missing = tabops_reconcile::secrets::missing_passwords(plan, environment);
    if missing.is_empty() {
        return Ok(());
    }
    let visible = tabops_plan::render::visible;
    let lines: Vec<String> = missing
        .iter()
        .map(|(name, items)| {
            let items: Vec<_> = items.iter().map(|id| visible(id)).collect();
            format!("  {name} (for {})", items.join(", "))
        })
        .collect();
    Err(Hint::error(
        format!(
            "apply needs {} connection password variable(s) that are not set; nothing was sent to the site:\n{}",
            missing.len(),
            lines.join("\n")
        ),
        "set each one in the apply job's environment (a CI secret); plan, drift and validate do not need them",
    ))
}

fn confirm() -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Err(Hint::error(
            "refusing to apply without confirmation: standard input is not a terminal",
            "pass --auto-approve (CI), or apply a reviewed plan file: tabops apply plan.json",
        ));
    }
    let mut err = anstream::stderr().lock();
    write!(err, "\nDo you want to perform these actions? Only 'yes' will be accepted: ")?;
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}
