//! `tabops validate`: load and check a manifest offline. Errors go to stderr (every one, with position, field and
//! hint) and exit 1; success prints one summary line on stdout. Never touches the network.

use std::io::Write;

use clap::Args;
use tabops_manifest::LoadError;

use super::ExitStatus;
use super::reconcile::{self, ManifestArgs};
use crate::cli::GlobalArgs;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub manifest: ManifestArgs,
}

pub async fn run(args: ValidateArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let loaded = reconcile::load_or_diagnose(&args.manifest).await?;
    match loaded {
        Ok(loaded) => {
            let mut out = anstream::stdout().lock();
            if global.verbose > 0 {
                for item in loaded.desired.datasources.iter().chain(&loaded.desired.workbooks) {
                    writeln!(
                        out,
                        "{}  {:>10}  {}  {}",
                        item.file.sha256,
                        item.file.size,
                        item.file.display,
                        item.address()
                    )?;
                }
            }
            writeln!(out, "ok: {}", loaded.summary())?;
            Ok(ExitStatus::Success)
        }
        Err(LoadError::Invalid(diagnostics)) => {
            let mut err = anstream::stderr().lock();
            write!(err, "{diagnostics}")?;
            let n = diagnostics.len();
            writeln!(
                err,
                "\nvalidate: found {n} error{} in `{}`",
                if n == 1 { "" } else { "s" },
                args.manifest.file.display()
            )?;
            Ok(ExitStatus::Error)
        }
        Err(other) => Err(reconcile::unreadable(&args.manifest, other)),
    }
}
