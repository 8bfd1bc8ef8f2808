//! `tabops report access` and `tabops report usage`: governance reports over a live site (tabops-report). Reads
//! the site with the client plan uses, shows a progress bar on a terminal while it reads, prints the report on
//! stdout as text, Markdown, JSON or CSV. Read-only: nothing is written to the site.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use tabops_manifest::model::{Capability, ProjectPath};
use tabops_reconcile::{SiteOptions, site};
use tabops_report::access::AccessFilter;
use tabops_report::read::{self, Progress};
use tabops_tableau::Access;

use super::ExitStatus;
use crate::args::SiteArgs;

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub report: Report,
}

#[derive(Debug, Subcommand)]
pub enum Report {
    /// Effective permissions of every user on every project, workbook and data source, as Tableau evaluates them
    /// (site role, administrators, owners, project leaders, user rules, group rules).
    Access(AccessArgs),
    /// Every workbook, view and data source with view counts, owner, project, size, times and whether tabops
    /// manages it; `--stale-days N` lists what was not updated in N days and views never viewed.
    Usage(UsageArgs),
}

/// How a report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Aligned columns, for a terminal.
    Text,
    /// A table for a pull request or wiki page.
    Markdown,
    /// For machines; versioned (`format_version`).
    Json,
    /// For a spreadsheet: a header row, RFC 4180 quoting.
    Csv,
}

/// What both reports share: where the site is and how to print.
#[derive(Debug, Args)]
pub struct ReportCommon {
    #[command(flatten)]
    pub site: SiteArgs,
    /// A manifest: when it exists, its `site:` block says which site to report on (flags and environment win), and
    /// its state directory holds the embedded `local` site. Nothing else of it is read.
    #[arg(short = 'f', long = "file", env = "TABOPS_MANIFEST", default_value = "tabops")]
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct AccessArgs {
    /// Only this user ("what can Y do"), by sign-in name. Repeatable.
    #[arg(long = "user", value_name = "NAME")]
    pub users: Vec<String>,
    /// Only the members of this group. Repeatable.
    #[arg(long = "group", value_name = "NAME")]
    pub groups: Vec<String>,
    /// Only this project, the projects below it and their content (`Sales/EMEA`, `\/` for a `/` in a name).
    #[arg(long, value_name = "PATH")]
    pub project: Option<String>,
    /// Only this item ("who can see X" with `--capability Read`): `workbook:Sales/EMEA/Revenue`,
    /// `datasource:Sales/Orders`, `project:Sales`.
    #[arg(long, value_name = "ADDRESS")]
    pub item: Option<String>,
    /// Only this capability (REST name: Read, Write, ExportData, Connect, ProjectLeader, ...).
    #[arg(long, value_parser = parse_capability)]
    pub capability: Option<Capability>,
    #[command(flatten)]
    pub common: ReportCommon,
}

#[derive(Debug, Args)]
pub struct UsageArgs {
    /// Only workbooks and data sources not updated in this many days, and views never viewed.
    #[arg(long, value_name = "N")]
    pub stale_days: Option<u32>,
    #[command(flatten)]
    pub common: ReportCommon,
}

fn parse_capability(text: &str) -> Result<Capability, String> {
    Capability::ALL.into_iter().find(|c| c.as_str().eq_ignore_ascii_case(text)).ok_or_else(|| {
        let names: Vec<&str> = Capability::ALL.iter().map(|c| c.as_str()).collect();
        format!("'{text}' is not a capability; one of: {}", names.join(", "))
    })
}

impl ReportArgs {
    /// The format the report prints in, for the one-JSON-document rule of errors.
    pub fn format(&self) -> ReportFormat {
        match &self.report {
            Report::Access(args) => args.common.format,
            Report::Usage(args) => args.common.format,
        }
    }
}

impl ReportCommon {
    fn options(&self) -> SiteOptions {
        self.site.options(&self.file, None)
    }
}

/// A progress bar on stderr while the site is read, on a terminal only.
struct Bar(ProgressBar);

impl Bar {
    fn new() -> Bar {
        let bar = if std::io::stderr().is_terminal() { ProgressBar::new(0) } else { ProgressBar::hidden() };
        if let Ok(style) = ProgressStyle::with_template("{spinner} reading the site [{bar:30}] {pos}/{len} requests") {
            bar.set_style(style.progress_chars("=> "));
        }
        Bar(bar)
    }
}

impl Progress for Bar {
    fn planned(&self, reads: u64) {
        self.0.inc_length(reads);
    }

    fn finished(&self) {
        self.0.inc(1);
    }
}

pub async fn run(args: ReportArgs) -> anyhow::Result<ExitStatus> {
    let format = args.format();
    let output = match args.report {
        Report::Access(args) => {
            let filter = AccessFilter {
                users: args.users,
                groups: args.groups,
                project: args.project.as_deref().map(ProjectPath::parse),
                item: args.item,
                capability: args.capability,
            };
            with_site(&args.common, |client, bar| async move {
                let report = read::access(&client, &filter, &bar).await?;
                Ok(match format {
                    ReportFormat::Text => report.render_text(),
                    ReportFormat::Markdown => report.render_markdown(),
                    ReportFormat::Json => report.render_json(),
                    ReportFormat::Csv => report.render_csv(),
                })
            })
            .await?
        }
        Report::Usage(args) => {
            let stale_days = args.stale_days;
            with_site(&args.common, |client, bar| async move {
                let now = time::OffsetDateTime::now_utc();
                let report = read::usage(&client, now, stale_days, &bar).await?;
                Ok(match format {
                    ReportFormat::Text => report.render_text(),
                    ReportFormat::Markdown => report.render_markdown(),
                    ReportFormat::Json => report.render_json(),
                    ReportFormat::Csv => report.render_csv(),
                })
            })
            .await?
        }
    };
    let mut out = anstream::stdout().lock();
    write!(out, "{output}")?;
    out.flush()?;
    Ok(ExitStatus::Success)
}

/// Connects, runs the read with a progress bar, signs out.
async fn with_site<F, Fut>(common: &ReportCommon, read: F) -> anyhow::Result<String>
where
    F: FnOnce(tabops_tableau::Client, Bar) -> Fut,
    Fut: std::future::Future<Output = Result<String, tabops_report::ReportError>>,
{
    let options = common.options();
    let manifest_site = manifest_site(&common.file).await;
    let target = site::resolve_target(&options, manifest_site.as_ref());
    let site = site::connect(&options, &target, Access::Read).await?;
    let bar = Bar::new();
    let progress = bar.0.clone();
    let result = read(site.client.clone(), bar).await;
    progress.finish_and_clear();
    let label = site.label.clone();
    site.close().await;
    result.map_err(|err| anyhow::Error::new(err).context(format!("failed to make the report of {label}")))
}

/// The `site:` block of the manifest at `file`, when one is there and loads (without hashing its content files).
async fn manifest_site(file: &std::path::Path) -> Option<tabops_manifest::model::SiteTarget> {
    if !file.exists() {
        return None;
    }
    let options = tabops_manifest::LoadOptions::from_process(None, false);
    let path = file.to_path_buf();
    match tokio::task::spawn_blocking(move || tabops_manifest::load(&path, &options)).await {
        Ok(Ok(loaded)) => Some(loaded.desired.site),
        _ => {
            let _ = writeln!(
                anstream::stderr(),
                "note: the manifest at {} does not load; the site comes from --server/--site (or the defaults)",
                file.display()
            );
            None
        }
    }
}
