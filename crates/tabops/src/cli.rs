//! Raw command-line arguments (clap derive). Each command's own arguments live in its module under `commands/`;
//! commands resolve these into settings before doing any work.

use clap::{Args, Parser, Subcommand};

use crate::commands;

/// `tabops --version`: the package version, the git commit it was built from and the build date (build.rs; the
/// commit is "unknown" for a build outside a git checkout).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("TABOPS_BUILD_COMMIT"),
    ", built ",
    env!("TABOPS_BUILD_DATE"),
    ")"
);

/// GitOps for Tableau Cloud: plan, apply and detect drift from a YAML manifest kept in git.
#[derive(Debug, Parser)]
#[command(name = "tabops", version = VERSION, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command understands.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// More output (`-v`: details, and one log line per request; `-vv`: debug logs). `RUST_LOG` overrides the log
    /// filter. Logs go to stderr, in colour only on a terminal without `NO_COLOR`.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a manifest offline: syntax, references, schedules, content files. Sends nothing to any site.
    Validate(commands::validate::ValidateArgs),
    /// Show what `apply` would change on the site, without changing anything.
    Plan(commands::plan::PlanArgs),
    /// Render a saved plan (`plan --out`) as text, Markdown or JSON, without touching the site.
    Show(commands::show::ShowArgs),
    /// Make the site match the manifest (or apply a saved plan exactly).
    Apply(commands::apply::ApplyArgs),
    /// Check whether the live site still matches the manifest: exit 0 when it does, 2 when it differs.
    Drift(commands::drift::DriftArgs),
    /// Work with the audit log.
    Audit(commands::audit::AuditArgs),
    /// Run the local Tableau REST API emulator.
    Emulator(commands::emulator::EmulatorArgs),
    /// Write the live site as a manifest directory (adopt tabops on an existing site).
    Export(commands::export::ExportArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell) on stdout.
    Completions(commands::shell::CompletionsArgs),
    /// Print the man page (roff) on stdout, or write one page per command with `--out-dir`.
    Man(commands::shell::ManArgs),
    /// Print the manifest's JSON Schema (schemas/tabops.schema.json) on stdout, for editors and CI checks.
    Schema,
    /// Run extract refreshes now (named items, or what changed since a git revision) and report how they ended.
    Refresh(commands::refresh::RefreshArgs),
    /// Governance reports over the live site: effective access, usage. Read-only.
    Report(commands::report::ReportArgs),
    /// Publish a pull request's changed workbooks and data sources into a preview project (or remove previews).
    Preview(commands::preview::PreviewArgs),
}

impl Cli {
    /// Whether the command prints JSON (`--format json`): then stdout holds one JSON document, errors included.
    pub fn json_output(&self) -> bool {
        let format = match &self.command {
            Command::Plan(args) => args.format,
            Command::Apply(args) => args.format,
            Command::Drift(args) => args.format,
            Command::Show(args) => args.format,
            Command::Refresh(args) => args.format,
            Command::Report(args) => return args.format() == commands::report::ReportFormat::Json,
            Command::Validate(_)
            | Command::Audit(_)
            | Command::Emulator(_)
            | Command::Export(_)
            | Command::Completions(_)
            | Command::Man(_)
            | Command::Schema
            | Command::Preview(_) => return false,
        };
        format == crate::args::Format::Json
    }
}
