//! `tabops refresh`: run extract refreshes now for named workbooks and data sources, or for those whose content or
//! connections changed since a git revision or in the last apply the audit log records; with `--wait`, poll their jobs until they finish or the timeout.
//! Exit 0 when all succeeded (or were queued, without `--wait`), 1 on any failure, 3 when a job was still running
//! at the timeout.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use tabops_apply::refresh_now::{self, RefreshError, RefreshOptions};
use tabops_reconcile::{ManifestSource, Safety, Session, SiteOptions};

use super::ExitStatus;
use super::output;
use crate::args::{Format, ManifestArgs, SiteArgs};
use crate::errors::Hint;
use crate::settings;

#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// Items to refresh, as plan prints them: `workbook:Sales/EMEA/Revenue`, `datasource:Sales/Orders`.
    #[arg(value_name = "ADDRESS")]
    pub addresses: Vec<String>,
    /// Refresh the manifest's workbooks and data sources whose content file or connections changed since this git
    /// revision (or that it does not have), instead of naming them.
    #[arg(long, value_name = "REF", conflicts_with_all = ["addresses", "changed_by_apply"])]
    pub changed_since: Option<String>,
    /// Refresh the workbooks and data sources the last apply recorded in the audit log published or repointed the
    /// connections of, instead of naming them.
    #[arg(long, conflicts_with = "addresses")]
    pub changed_by_apply: bool,
    #[command(flatten)]
    pub manifest: ManifestArgs,
    #[command(flatten)]
    pub site: SiteArgs,
    /// Poll each refresh job until it finishes (or --timeout passes) and report how it ended.
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits for all jobs, e.g. `30m`, `90s`, `1h30m`.
    #[arg(long, default_value = "30m", value_parser = parse_duration)]
    pub timeout: Duration,
    /// The fixed interval between polls of a job, e.g. `15s`, `500ms`.
    #[arg(long, default_value = "15s", value_parser = parse_duration)]
    pub poll: Duration,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// The audit log recording every refresh started (default: `audit.jsonl` in the state directory).
    #[arg(long, env = "TABOPS_AUDIT_LOG")]
    pub audit_log: Option<PathBuf>,
}

/// `tabops refresh`, resolved.
pub struct RefreshSettings {
    pub manifest: ManifestSource,
    pub site: SiteOptions,
    pub addresses: Vec<String>,
    pub changed_since: Option<String>,
    pub changed_by_apply: bool,
    pub options: RefreshOptions,
    pub format: Format,
    pub audit_log: PathBuf,
}

impl RefreshArgs {
    pub fn settings(self) -> RefreshSettings {
        let site = self.site.options(&self.manifest.file, self.manifest.repo.as_deref());
        RefreshSettings {
            manifest: self.manifest.source(),
            audit_log: settings::audit_log(self.audit_log, &site.state_dir),
            site,
            addresses: self.addresses,
            changed_since: self.changed_since,
            changed_by_apply: self.changed_by_apply,
            options: RefreshOptions { wait: self.wait, timeout: self.timeout, poll: self.poll },
            format: self.format,
        }
    }
}

/// `30m`, `15s`, `500ms`, `1h30m` (humantime's syntax), longer than zero.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text.trim())
        .map_err(|err| format!("'{text}' is not a duration such as 30m, 15s, 500ms or 1h30m ({err})"))?;
    if duration.is_zero() { Err(format!("'{text}' must be longer than zero")) } else { Ok(duration) }
}

fn refresh_error(err: RefreshError) -> anyhow::Error {
    Hint::maybe(err.to_string(), err.hint())
}

pub async fn run(settings: RefreshSettings) -> anyhow::Result<ExitStatus> {
    let safety = Safety {
        max_deletes: None,
        allow_empty_project: true,
        allow_empty_site: true,
        base: settings.changed_since.clone(),
        ceiling: None,
        targets: Default::default(),
        allow_breaking_deletes: true,
    };
    let prepared = output::prepare(&settings.manifest, &settings.site, &safety, Session::KeepToRefresh).await?;
    let result = refresh(&settings, &prepared).await;
    prepared.site.close().await;
    let report = result?;
    let text = match settings.format {
        Format::Text => report.render_text(),
        Format::Markdown => report.render_markdown(),
        Format::Json => report.render_json(),
    };
    let mut out = anstream::stdout().lock();
    write!(out, "{text}")?;
    out.flush()?;
    Ok(if report.has_failures() {
        ExitStatus::Error
    } else if report.has_timeouts() {
        ExitStatus::TimedOut
    } else {
        ExitStatus::Success
    })
}

async fn refresh(
    settings: &RefreshSettings,
    prepared: &tabops_reconcile::Prepared,
) -> anyhow::Result<refresh_now::Report> {
    let addresses = match &prepared.base {
        Some((base, _)) => refresh_now::changed_since(&prepared.loaded.desired, &base.desired),
        None if settings.changed_by_apply => {
            refresh_now::changed_by_last_apply(&settings.audit_log).map_err(refresh_error)?
        }
        None => settings.addresses.clone(),
    };
    let selected = if settings.changed_since.is_some() || settings.changed_by_apply {
        refresh_now::select_changed(&prepared.inventory, &addresses)
    } else {
        refresh_now::select_named(&prepared.inventory, &addresses)
    };
    let targets = selected.map_err(refresh_error)?;
    let environment = std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
        .collect();
    let audit = tabops_reconcile::audit::open(&settings.audit_log, &prepared.plan, &environment)?;
    refresh_now::run(&prepared.site.client, &targets, &settings.options, &audit).await.map_err(refresh_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_the_flags_document_them() {
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("15s"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("0s").is_err());
    }
}
