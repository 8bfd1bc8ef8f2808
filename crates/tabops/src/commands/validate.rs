//! `tabops validate`: load and check a manifest offline.

use clap::Args;

use super::ExitStatus;
use crate::cli::GlobalArgs;

#[derive(Debug, Args)]
pub struct ValidateArgs {}

pub async fn run(_args: ValidateArgs, _global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("validate is being built")
}
