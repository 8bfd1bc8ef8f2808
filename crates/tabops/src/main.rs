//! The `tabops` command line: parses arguments, sets up logging, runs one command and maps its outcome to an
//! exit code. All domain work lives in the library crates; see `crates/README.md`.

// The doc comments of the argument structs are clap's `--help` text, printed as written, not rustdoc Markdown: a
// bare address there is what the user should read, not a link to make.
#![allow(rustdoc::bare_urls)]

mod args;
mod cli;
mod commands;
mod errors;
mod settings;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc, not the system allocator: glibc's per-thread arenas held on to what the reading threads freed, so a
/// plan's peak memory was half again its live heap (BENCHMARKS.md, "Memory").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return errors::usage(&err, errors::json_requested(&std::env::args_os().collect::<Vec<_>>())),
    };
    // `--format json`: stdout holds exactly one JSON document, the command's or, when it fails, the error's.
    let json = cli.json_output();
    errors::init_logging(cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => return errors::report(&anyhow::Error::new(err).context("failed to start the async runtime"), json),
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(status) => status.into(),
        Err(err) => errors::report(&err, json),
    }
}
