//! How errors reach the user: `error:` with the top message, `Caused by:` for each cause, and `hint:` lines: the
//! hints library errors carry as data (`hint()` on the error types of tabops-reconcile, tabops-tableau,
//! tabops-manifest and tabops-plan) and any [`Hint`] the CLI adds. This is the one place hints are printed. Also
//! the logging setup, since both decide what lands on stderr.

use std::fmt;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use owo_colors::OwoColorize;

/// An error of the CLI's own (a refused plan, a missing confirmation) with advice on its own line.
#[derive(Debug)]
pub struct Hint {
    message: String,
    hint: Option<String>,
    /// With `--format json`, the plan the error is about, put beside it in the error document.
    plan: Option<Box<serde_json::Value>>,
}

impl Hint {
    pub fn error(message: impl Into<String>, hint: impl Into<String>) -> anyhow::Error {
        Hint::maybe(message, Some(hint.into()))
    }

    /// An error whose advice, if any, came from a library error (`hint()`) that the message already quotes.
    pub fn maybe(message: impl Into<String>, hint: Option<String>) -> anyhow::Error {
        anyhow::Error::new(Hint { message: message.into(), hint, plan: None })
    }

    /// An error about a plan (one that cannot be applied): `--format json` shows the plan with it.
    pub fn about_plan(message: impl Into<String>, hint: impl Into<String>, plan: &tabops_plan::Plan) -> anyhow::Error {
        let plan = serde_json::to_value(plan).ok().map(Box::new);
        anyhow::Error::new(Hint { message: message.into(), hint: Some(hint.into()), plan })
    }
}

impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Hint {}

/// The exit code of every error.
const ERROR_EXIT: u8 = 1;

/// Print the error chain to stderr and return exit code 1; with `json` (`--format json`), also the error document
/// on stdout ([`json_error`]). A closed stdout (`tabops plan | head`) is not an error.
pub fn report(err: &anyhow::Error, json: bool) -> ExitCode {
    if err.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    }) {
        return ExitCode::SUCCESS;
    }
    if json {
        print_json(&json_error(err));
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
    ExitCode::from(ERROR_EXIT)
}

/// The one JSON document a `--format json` command prints when it fails:
/// `{"error": {"message", "causes", "hint", "exit_code", "diagnostics"}}`, plus `"plan"` when the error is about a
/// plan that was made (an `apply` refusing a plan with errors). `diagnostics` lists an invalid manifest's problems
/// (`file`, `line`, `column`, `field`, `message`, `hint`), empty otherwise. Documented in README.md ("JSON output").
pub fn json_error(err: &anyhow::Error) -> serde_json::Value {
    let mut hints: Vec<String> = Vec::new();
    for hint in err.chain().filter_map(hint) {
        if !hints.contains(&hint) {
            hints.push(hint);
        }
    }
    let diagnostics: Vec<serde_json::Value> = err
        .chain()
        .filter_map(|cause| cause.downcast_ref::<tabops_reconcile::Error>().and_then(|e| e.diagnostics()))
        .flat_map(|diagnostics| diagnostics.iter())
        .map(|d| {
            serde_json::json!({
                "file": d.file, "line": d.line, "column": d.column, "field": d.field, "message": d.message,
                "hint": d.hint,
            })
        })
        .collect();
    let mut document = serde_json::json!({
        "error": {
            "message": err.to_string(),
            "causes": err.chain().skip(1).map(ToString::to_string).collect::<Vec<_>>(),
            "hint": (!hints.is_empty()).then(|| hints.join("\n")),
            "exit_code": ERROR_EXIT,
            "diagnostics": diagnostics,
        }
    });
    if let Some(plan) = err.chain().find_map(|cause| cause.downcast_ref::<Hint>().and_then(|h| h.plan.as_deref())) {
        document["plan"] = plan.clone();
    }
    document
}

/// One JSON document on stdout, pretty-printed as the plan is.
pub fn print_json(document: &serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", serde_json::to_string_pretty(document).unwrap_or_default());
    let _ = out.flush();
}

/// Whether the raw command line asks for `--format json` (`--format json` or `--format=json`), for a command line
/// clap could not parse.
pub fn json_requested(args: &[std::ffi::OsString]) -> bool {
    args.iter()
        .zip(args.iter().skip(1).map(Some).chain([None]))
        .any(|(arg, next)| arg == "--format=json" || (arg == "--format" && next.is_some_and(|next| next == "json")))
}

/// The advice one error of the chain carries, if it is one of the types that carry any.
fn hint(cause: &(dyn std::error::Error + 'static)) -> Option<String> {
    if let Some(hint) = cause.downcast_ref::<Hint>() {
        hint.hint.clone()
    } else if let Some(err) = cause.downcast_ref::<tabops_reconcile::Error>() {
        err.hint()
    } else if let Some(err) = cause.downcast_ref::<tabops_tableau::Error>() {
        err.hint()
    } else if let Some(err) = cause.downcast_ref::<tabops_report::ReportError>() {
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
/// With `--format json` on the command line, the error is also printed as the error document on stdout (clap's
/// `tip:` lines as its hint).
pub fn usage(err: &clap::Error, json: bool) -> ExitCode {
    // clap renders the message, the usage line and its own tip; a closed stream is not worth reporting.
    let _ = err.print();
    if !err.use_stderr() {
        return ExitCode::SUCCESS;
    }
    if json {
        // StyledStr's Display is the plain text, without clap's styling.
        let rendered = err.render().to_string();
        let mut lines = rendered.lines().map(str::trim).filter(|l| !l.is_empty());
        let message = lines.next().unwrap_or_default().trim_start_matches("error: ").to_owned();
        let tips: Vec<&str> = rendered.lines().filter_map(|l| l.trim().strip_prefix("tip: ")).collect();
        print_json(&serde_json::json!({
            "error": {
                "message": message,
                "causes": [],
                "hint": (!tips.is_empty()).then(|| tips.join("\n")),
                "exit_code": ERROR_EXIT,
                "diagnostics": [],
            }
        }));
    }
    ExitCode::from(ERROR_EXIT)
}

/// Logs go to stderr; `RUST_LOG` wins over `-v`. `-v` logs one line per request (the operation, method, route,
/// status and time), `-vv` debug logs. Coloured only when stderr is a terminal and `NO_COLOR` is unset
/// or empty (no-color.org), so a log redirected to a file or a CI log holds plain text.
pub fn init_logging(verbose: u8) {
    let default = match verbose {
        // The certificate verifier logs each refusal as an error; tabops' own error says it, with what to do.
        0 => "warn,rustls_platform_verifier=off".to_owned(),
        1 => format!("warn,rustls_platform_verifier=off,{}=info", tabops_tableau::REQUEST_LOG),
        2 => "info,tabops=debug".to_owned(),
        _ => "debug".to_owned(),
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi).try_init();
}
