//! One module per command. Each exposes an `Args` struct (clap) and `run(args) -> Result<ExitStatus>`.

pub mod apply;
pub mod audit;
mod audit_trail;
pub mod drift;
pub mod emulator;
pub mod export;
mod output;
pub mod plan;
mod progress;
pub mod validate;

use crate::cli::{Cli, Command};

/// The documented, stable exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: success; for `plan`/`drift`, no changes.
    Success,
    /// 1: an error (bad input, a failed request, a refused plan).
    Error,
    /// 2: changes present (`plan --detailed-exitcode`, `drift`).
    Changes,
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        match status {
            ExitStatus::Success => std::process::ExitCode::SUCCESS,
            ExitStatus::Error => std::process::ExitCode::from(1),
            ExitStatus::Changes => std::process::ExitCode::from(2),
        }
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::Validate(args) => validate::run(args, &cli.global).await,
        Command::Plan(args) => plan::run(args, &cli.global).await,
        Command::Apply(args) => apply::run(args, &cli.global).await,
        Command::Drift(args) => drift::run(args, &cli.global).await,
        Command::Audit(args) => audit::run(args, &cli.global).await,
        Command::Emulator(args) => emulator::run(args, &cli.global).await,
        Command::Export(args) => export::run(args, &cli.global).await,
    }
}
