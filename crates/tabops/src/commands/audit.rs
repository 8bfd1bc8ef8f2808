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
        /// The audit log (JSON Lines), or `git:REF` for the audit trail in git (every run on REF, in the
        /// repository of the current directory; fetch it first: `git fetch origin REF:REF`). Default: the one
        /// `apply` writes with the same environment, `TABOPS_AUDIT_LOG`, else `audit.jsonl` in the state directory.
        #[arg(env = "TABOPS_AUDIT_LOG")]
        file: Option<PathBuf>,
        /// Fail unless the chain still contains this record hash (a head printed by an earlier apply or verify):
        /// catches a log cut back, or a trail force-pushed to an older head.
        #[arg(long, value_name = "HEX")]
        expect_head: Option<String>,
        /// Directory for local state, where `apply` writes the audit log by default.
        #[arg(long, env = "TABOPS_DIR", default_value = ".tabops")]
        state_dir: PathBuf,
    },
}

impl AuditArgs {
    /// `audit verify`'s settings.
    pub fn settings(self) -> AuditVerifySettings {
        let AuditCommand::Verify { file, state_dir, expect_head } = self.command;
        AuditVerifySettings::resolve(file, &state_dir, expect_head)
    }
}

pub async fn run(settings: AuditVerifySettings) -> anyhow::Result<ExitStatus> {
    let file = settings.file;
    if let Some(reference) = file.to_str().and_then(tabops_apply::trail::parse_target) {
        return super::audit_trail::verify(&reference?, settings.expect_head.as_deref());
    }
    if let Some(expected) = &settings.expect_head
        && !tabops_apply::audit::contains_record(&file, expected)?
    {
        writeln!(
            anstream::stdout(),
            "{}: the head {expected} recorded earlier is not in the log (cut back or rewritten)",
            file.display()
        )?;
        return Ok(ExitStatus::Error);
    }
    let report = tabops_apply::audit::verify(&file)?;
    let mut out = anstream::stdout().lock();
    for line in &report.recovered {
        writeln!(out, "note: line {line} was torn by an interrupted write and recovered by the next run")?;
    }
    match &report.first_error {
        None => {
            let (lines, runs) = (count(report.lines, "line", "lines"), count(report.runs, "run", "runs"));
            writeln!(out, "ok: {lines}, {runs}, hash chain intact")?;
            // The chain cannot vouch for its own end; a head kept elsewhere can (see VerifyReport::head).
            writeln!(out, "head: {}", report.head)?;
            Ok(ExitStatus::Success)
        }
        Some((line, reason)) => {
            writeln!(out, "{}:{line}: hash chain broken: {reason}", file.display())?;
            Ok(ExitStatus::Error)
        }
    }
}

/// `1 run`, `3 runs`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
