//! The commands for the shell and the package: `tabops completions SHELL`, `tabops man` and `tabops schema`. Each
//! prints something generated from tabops' own definitions (clap's generators for the command line, the manifest
//! crate's schema), so they cannot drift from `--help` or from what the loader accepts.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, CommandFactory};

use super::ExitStatus;
use crate::cli::Cli;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for. Install, e.g.: bash `tabops completions bash > ~/.local/share/bash-completion/completions/tabops`;
    /// zsh `tabops completions zsh > "${fpath[1]}/_tabops"`; fish `tabops completions fish >
    /// ~/.config/fish/completions/tabops.fish`; PowerShell `tabops completions powershell >> $PROFILE`.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write one page per command (`tabops.1`, `tabops-plan.1`, ...) into this directory instead of printing
    /// `tabops.1` on stdout.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// The command-line definition as clap sees it, named as the binary is.
fn command() -> clap::Command {
    Cli::command().bin_name("tabops")
}

pub fn completions(args: CompletionsArgs) -> anyhow::Result<ExitStatus> {
    let mut out = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut command(), "tabops", &mut out);
    out.flush()?;
    Ok(ExitStatus::Success)
}

pub fn man(args: ManArgs) -> anyhow::Result<ExitStatus> {
    match args.out_dir {
        None => {
            let mut out = std::io::stdout().lock();
            clap_mangen::Man::new(command()).render(&mut out).context("failed to write the man page")?;
            out.flush()?;
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("failed to create the man page directory {}", dir.display()))?;
            clap_mangen::generate_to(command(), &dir)
                .with_context(|| format!("failed to write the man pages into {}", dir.display()))?;
        }
    }
    Ok(ExitStatus::Success)
}

pub fn schema() -> anyhow::Result<ExitStatus> {
    let text = serde_json::to_string_pretty(&tabops_manifest::json_schema())?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    out.flush()?;
    Ok(ExitStatus::Success)
}
