//! `tabops audit verify`: check the audit log's hash chain.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::ExitStatus;
use crate::settings::AuditVerifySettings;

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check that every line links to the one before it; report the first line that does not.
    Verify {
        /// The audit log (JSON Lines). Default: the one `apply` writes with the same environment,
        /// `TABOPS_AUDIT_LOG`, else `audit.jsonl` in the state directory.
        #[arg(env = "TABOPS_AUDIT_LOG")]
        file: Option<PathBuf>,
        /// Directory for local state, where `apply` writes the audit log by default. Default: found from
        /// `--manifest` as `apply` finds it from `-f`.
        #[arg(long, env = "TABOPS_DIR")]
        state_dir: Option<PathBuf>,
        /// The manifest `apply` was given (`-f`), to find the default state directory from: `.tabops` at its git
        /// repository's root, else beside it.
        #[arg(long, value_name = "PATH", env = "TABOPS_MANIFEST", default_value = "tabops")]
        manifest: PathBuf,
    },
}

impl AuditArgs {
    /// `audit verify`'s settings.
    pub fn settings(self) -> AuditVerifySettings {
        let AuditCommand::Verify { file, state_dir, manifest } = self.command;
        AuditVerifySettings::resolve(file, &crate::args::state_dir(state_dir.as_deref(), &manifest, None))
    }
}

pub async fn run(settings: AuditVerifySettings) -> anyhow::Result<ExitStatus> {
    let file = settings.file;
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
