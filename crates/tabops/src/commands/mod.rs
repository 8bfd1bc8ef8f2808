//! One module per command. Each exposes an `Args` struct (clap), which `crate::settings` resolves, and
//! `run(settings) -> Result<ExitStatus>`.

pub mod apply;
pub mod audit;
mod audit_trail;
pub mod drift;
pub mod emulator;
pub mod export;
mod output;
pub mod plan;
pub mod preview;
mod progress;
pub mod refresh;
pub mod report;
pub mod shell;
pub mod show;
pub mod validate;

use crate::cli::{Cli, Command};
use crate::settings::{ApplySettings, DriftSettings, PlanSettings, ShowSettings, ValidateSettings};

/// The documented, stable exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: success; for `plan`/`drift`, no changes.
    Success,
    /// 1: an error (bad input, a failed request, a refused plan).
    Error,
    /// 2: changes present (`plan --detailed-exitcode`, `drift`).
    Changes,
    /// 3: `refresh --wait` gave up on a job still running at `--timeout`.
    TimedOut,
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        match status {
            ExitStatus::Success => std::process::ExitCode::SUCCESS,
            ExitStatus::Error => std::process::ExitCode::from(1),
            ExitStatus::Changes => std::process::ExitCode::from(2),
            ExitStatus::TimedOut => std::process::ExitCode::from(3),
        }
    }
}

/// Resolves the command's settings, then runs it.
pub async fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    let global = &cli.global;
    match cli.command {
        Command::Validate(args) => validate::run(ValidateSettings::resolve(args, global)).await,
        Command::Plan(args) => plan::run(PlanSettings::resolve(args, global)?).await,
        Command::Show(args) => show::run(ShowSettings::resolve(args, global)?),
        Command::Apply(args) => apply::run(ApplySettings::resolve(args, global)?).await,
        Command::Drift(args) => drift::run(DriftSettings::resolve(args)).await,
        Command::Audit(args) => audit::run(args.settings()).await,
        Command::Emulator(args) => emulator::run(emulator::resolve(args)?).await,
        Command::Export(args) => export::run(args.settings()).await,
        Command::Completions(args) => shell::completions(args),
        Command::Man(args) => shell::man(args),
        Command::Schema => shell::schema(),
        Command::Refresh(args) => refresh::run(args.settings()).await,
        Command::Report(args) => report::run(args).await,
        Command::Preview(args) => preview::run(args.settings(global)).await,
    }
}
