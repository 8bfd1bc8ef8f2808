//! `tabops emulator`: run the local Tableau REST API emulator until interrupted.

use clap::Args;

use super::ExitStatus;
use crate::cli::GlobalArgs;

#[derive(Debug, Args)]
pub struct EmulatorArgs {}

pub async fn run(_args: EmulatorArgs, _global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("emulator is being built")
}
