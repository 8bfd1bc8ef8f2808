//! `tabops validate`: load and check a manifest offline. Errors go to stderr (every one, with position, field and
//! hint) and exit 1; success prints one summary line on stdout. Never touches the network.

use std::io::Write;

use clap::Args;
use tabops_manifest::LoadError;

use super::ExitStatus;
use crate::args::ManifestArgs;
use crate::settings::ValidateSettings;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub manifest: ManifestArgs,
    /// Treat warnings as errors: a connection password whose `${env:NAME}` is not set fails validation (by
    /// default it is a warning, since only `apply` needs the value).
    #[arg(long)]
    pub strict: bool,
}

pub async fn run(settings: ValidateSettings) -> anyhow::Result<ExitStatus> {
    let loaded = tabops_reconcile::load(&settings.manifest).await?;
    match loaded {
        Ok(loaded) => {
            if let Some(note) = loaded.skipped_note() {
                writeln!(anstream::stderr(), "note: {note}")?;
            }
            let unset = &loaded.unset_secrets;
            if !unset.is_empty() {
                let mut err = anstream::stderr().lock();
                for (i, diagnostic) in unset.iter().enumerate() {
                    let gap = if i > 0 { "\n" } else { "" };
                    if settings.strict {
                        writeln!(err, "{gap}{diagnostic}")?;
                    } else {
                        writeln!(err, "{gap}{}", diagnostic.as_warning())?;
                    }
                }
                let names: std::collections::BTreeSet<&str> =
                    unset.iter().filter_map(|d| d.message.split('`').nth(1)).collect();
                let names: Vec<&str> = names.into_iter().collect();
                writeln!(
                    err,
                    "\nhint: only `apply` needs {}: set {} in the apply job's environment (a CI secret); plan, drift and \
                     validate work without {}",
                    if names.len() == 1 { "this password" } else { "these passwords" },
                    names.join(", "),
                    if names.len() == 1 { "it" } else { "them" },
                )?;
                let n = unset.len();
                let plural = if n == 1 { "" } else { "s" };
                if settings.strict {
                    writeln!(
                        err,
                        "\nvalidate: found {n} error{plural} in `{}` (--strict: unset connection passwords are errors)",
                        settings.manifest.file.display()
                    )?;
                    return Ok(ExitStatus::Error);
                }
                writeln!(err)?;
            }
            let mut out = anstream::stdout().lock();
            if settings.verbose {
                // The first column is what `sha256sum` prints for the file; a package also shows the digest of its
                // entries, which is what plans compare (re-zipping the same files changes only the first).
                for item in loaded.desired.datasources.iter().chain(&loaded.desired.workbooks) {
                    let file = &item.file;
                    write!(out, "{}  {:>10}  {}  {}", file.file_sha256, file.size, file.display, item.address())?;
                    if file.sha256 != file.file_sha256 {
                        write!(out, "  (package content sha256 {})", file.sha256)?;
                    }
                    writeln!(out)?;
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
                settings.manifest.file.display()
            )?;
            Ok(ExitStatus::Error)
        }
        Err(other) => Err(tabops_reconcile::unreadable(&settings.manifest.file, other).into()),
    }
}
