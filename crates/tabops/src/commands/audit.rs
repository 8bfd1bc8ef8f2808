//! `tabops audit verify`: check the audit log's hash chain.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::ExitStatus;
use crate::cli::GlobalArgs;

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check that every line links to the one before it; report the first line that does not.
    Verify {
        /// The audit log (JSON Lines).
        #[arg(default_value = ".tabops/audit.jsonl")]
        file: PathBuf,
    },
}

pub async fn run(args: AuditArgs, _global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let AuditCommand::Verify { file } = args.command;
    let report = tabops_apply::audit::verify(&file)?;
    let mut out = anstream::stdout().lock();
    for line in &report.recovered {
        writeln!(out, "note: line {line} was torn by an interrupted write and recovered by the next run")?;
    }
    match &report.first_error {
        None => {
            writeln!(out, "ok: {} lines, {} runs, hash chain intact", report.lines, report.runs)?;
            // The chain cannot vouch for its own end; a head kept elsewhere can (see VerifyReport::head).
            writeln!(out, "head: {}", report.head)?;
            Ok(ExitStatus::Success)
        }
        Some((line, reason)) => {
            writeln!(out, "{}:{line}: chain broken: {reason}", file.display())?;
            Ok(ExitStatus::Error)
        }
    }
}
