//! How errors reach the user: `error:` with the top message, `Caused by:` for each cause, and `hint:` lines: the
//! hints library errors carry as data (`hint()` on the error types of tabops-reconcile, tabops-tableau,
//! tabops-manifest and tabops-plan) and any [`Hint`] the CLI adds. This is the one place hints are printed. Also
//! the logging setup, since both decide what lands on stderr.

use std::fmt;
use std::io::Write;
use std::process::ExitCode;

use owo_colors::OwoColorize;

/// An error of the CLI's own (a refused plan, a missing confirmation) with advice on its own line.
#[derive(Debug)]
pub struct Hint {
    message: String,
    hint: Option<String>,
}

impl Hint {
    pub fn error(message: impl Into<String>, hint: impl Into<String>) -> anyhow::Error {
        Hint::maybe(message, Some(hint.into()))
    }

    /// An error whose advice, if any, came from a library error (`hint()`) that the message already quotes.
    pub fn maybe(message: impl Into<String>, hint: Option<String>) -> anyhow::Error {
        anyhow::Error::new(Hint { message: message.into(), hint })
    }
}

impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Hint {}

/// Print the error chain to stderr and return exit code 1. A closed stdout (`tabops plan | head`) is not an error.
pub fn report(err: &anyhow::Error) -> ExitCode {
    if err.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    }) {
        return ExitCode::SUCCESS;
    }
    let mut stderr = anstream::stderr().lock();
    // An invalid manifest's problems come first, each with its location; the error then says nothing was sent.
    for cause in err.chain() {
        if let Some(diagnostics) = cause.downcast_ref::<tabops_reconcile::Error>().and_then(|e| e.diagnostics()) {
            let _ = write!(stderr, "{diagnostics}");
        }
    }
    let _ = writeln!(stderr, "{} {err}", "error:".red().bold());
    for cause in err.chain().skip(1) {
        let _ = writeln!(stderr, "  {} {cause}", "Caused by:".bold());
    }
    let mut hints: Vec<String> = Vec::new();
    for hint in err.chain().filter_map(hint) {
        if !hints.contains(&hint) {
            let _ = writeln!(stderr, "{} {hint}", "hint:".cyan().bold());
            hints.push(hint);
        }
    }
    ExitCode::from(1)
}

/// The advice one error of the chain carries, if it is one of the types that carry any.
fn hint(cause: &(dyn std::error::Error + 'static)) -> Option<String> {
    if let Some(hint) = cause.downcast_ref::<Hint>() {
        hint.hint.clone()
    } else if let Some(err) = cause.downcast_ref::<tabops_reconcile::Error>() {
        err.hint()
    } else if let Some(err) = cause.downcast_ref::<tabops_tableau::Error>() {
        err.hint()
    } else if let Some(err) = cause.downcast_ref::<tabops_manifest::git::GitError>() {
        err.hint()
    } else if let Some(err) = cause.downcast_ref::<tabops_plan::plan::PlanFileError>() {
        err.hint()
    } else {
        None
    }
}

/// A command line clap could not parse (unknown flag, extra argument, bad value, missing subcommand) exits 1, the
/// documented code for invalid input, not clap's 2, which `plan --detailed-exitcode` and `drift` use for "changes
/// present": a typo in a CI job must fail it, not pass as drift. `--help` and `--version` print to stdout and exit 0.
pub fn usage(err: &clap::Error) -> ExitCode {
    // clap renders the message, the usage line and its own tip; a closed stream is not worth reporting.
    let _ = err.print();
    if err.use_stderr() { ExitCode::from(1) } else { ExitCode::SUCCESS }
}

/// Logs go to stderr; `RUST_LOG` wins over `-v`.
pub fn init_logging(verbose: u8) {
    let default = match verbose {
        0 | 1 => "warn",
        2 => "info,tabops=debug",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
