//! `tabops validate`: load and check a manifest offline. Errors go to stderr (every one, with position, field and
//! hint) and exit 1; success prints one summary line on stdout. Never touches the network.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use tabops_manifest::{LoadError, LoadOptions};

use super::ExitStatus;
use crate::cli::GlobalArgs;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The manifest: one YAML file or a directory of them.
    #[arg(short = 'f', long = "file", env = "TABOPS_MANIFEST", default_value = "tabops")]
    pub file: PathBuf,
    /// Select an environment defined under `environments:`.
    #[arg(long, env = "TABOPS_ENV")]
    pub env: Option<String>,
}

pub async fn run(args: ValidateArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let options = LoadOptions::from_process(args.env.clone(), true);
    let file = args.file.clone();
    let loaded = tokio::task::spawn_blocking(move || tabops_manifest::load(&file, &options)).await?;
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
                args.file.display()
            )?;
            Ok(ExitStatus::Error)
        }
        Err(other) => Err(other.into()),
    }
}
