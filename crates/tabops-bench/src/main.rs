//! `tabops-bench`: generate the synthetic site, or run the benchmark suite and report (see BENCHMARKS.md).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use tabops_bench::generate::{self, Scale, SyntheticSite};
use tabops_bench::harness::{self, RunOptions};

/// Benchmarks tabops against the emulator with injected latency, side by side with a TSC baseline.
#[derive(Debug, Parser)]
#[command(name = "tabops-bench")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the whole suite once and report.
    Run(RunArgs),
    /// Only write the synthetic site (manifest directory + emulator state file).
    Generate(GenerateArgs),
    /// Plan cost at several scales in one run: whole-process wall time, requests, bound, emulator CPU, peak RSS.
    Curve(CurveArgs),
    /// The write path: the real `tabops apply --auto-approve` of the synthetic manifest to an empty site, requests per
    /// endpoint against the minimum, a second plan, and a serial TSC script publishing the same site.
    Bootstrap(BootstrapArgs),
    /// The real `tabops export` of the whole synthetic site: whole-process wall time against the round-trip bound of
    /// the fewest requests an export needs, requests per endpoint, peak RSS, bytes downloaded, and a plan of the
    /// export that must find nothing to change.
    Export(ExportArgs),
    /// Internal: one measured tabops job in this process (used by `run`).
    #[command(hide = true, subcommand)]
    Child(ChildCommand),
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Scale factor of the synthetic site (1 = the S: 10,000 workbooks...).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// A tiny, fast run (< 60 s): scale 0.01, 0.05 GB hashed, 80 MiB upload, one plan.
    #[arg(long)]
    quick: bool,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Latency injected into every emulator request.
    #[arg(long, default_value_t = 50)]
    latency_ms: u64,
    /// tabops' requests in flight (its default is 8, the maximum 16).
    #[arg(long, default_value_t = tabops_tableau::DEFAULT_CONCURRENCY)]
    concurrency: usize,
    /// Size of the hashed content tree, GB.
    #[arg(long)]
    hash_gb: Option<f64>,
    /// Size of the upload, MiB (at least 64 to go through upload sessions).
    #[arg(long)]
    upload_mib: Option<u64>,
    /// How many times to run the plan.
    #[arg(long)]
    plan_runs: Option<usize>,
    /// Python with tableauserverclient (default: the repository's .venv).
    #[arg(long)]
    python: Option<PathBuf>,
    /// Skip the TSC baseline.
    #[arg(long)]
    no_baseline: bool,
    /// Write the results as JSON here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Keep generated files in this directory (default: a temporary directory, removed after the run).
    #[arg(long)]
    work_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct CurveArgs {
    /// Scale factors of S, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = [0.1, 0.3, 1.0, 3.0, 5.0])]
    scales: Vec<f64>,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Latency injected into every emulator request.
    #[arg(long, default_value_t = 50)]
    latency_ms: u64,
    /// tabops' requests in flight.
    #[arg(long, default_value_t = tabops_tableau::DEFAULT_CONCURRENCY)]
    concurrency: usize,
    /// Plans per scale (the best is reported); as many drift runs with --drift.
    #[arg(long, default_value_t = 2)]
    plan_runs: usize,
    /// Also measure the real `tabops drift` at each scale (whole process).
    #[arg(long)]
    drift: bool,
    /// The `tabops` binary for --drift (default: the one beside this executable, else on PATH).
    #[arg(long)]
    tabops: Option<PathBuf>,
    /// Write the points as JSON here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Keep generated files in this directory (default: a temporary directory).
    #[arg(long)]
    work_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct BootstrapArgs {
    /// Scale factor of S (0.1 = 1,000 workbooks, 200 data sources, 30 groups of 50, 100 tasks).
    #[arg(long, default_value_t = 0.1)]
    scale: f64,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Latency injected into every emulator request.
    #[arg(long, default_value_t = 50)]
    latency_ms: u64,
    /// The apply's `--concurrency`: requests in flight, and actions in flight (at most 8).
    #[arg(long, default_value_t = tabops_tableau::DEFAULT_CONCURRENCY)]
    concurrency: usize,
    /// The `tabops` binary (default: the one beside this executable, else on PATH).
    #[arg(long)]
    tabops: Option<PathBuf>,
    /// Python with tableauserverclient (default: the repository's .venv).
    #[arg(long)]
    python: Option<PathBuf>,
    /// Skip the TSC script.
    #[arg(long)]
    no_baseline: bool,
    /// Write the results as JSON here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Keep generated files in this directory (default: a temporary directory).
    #[arg(long)]
    work_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ExportArgs {
    /// Scale factor of S (1 = 10,000 workbooks, 2,000 data sources, 500 projects, 2,000 users, 300 groups of 50).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Latency injected into every emulator request.
    #[arg(long, default_value_t = 50)]
    latency_ms: u64,
    /// The export's `--concurrency` (requests in flight).
    #[arg(long, default_value_t = tabops_tableau::DEFAULT_CONCURRENCY)]
    concurrency: usize,
    /// Exports to run; the fastest is reported.
    #[arg(long, default_value_t = 1)]
    runs: usize,
    /// Pass --with-permissions to the export (and count the permission reads in the minimum).
    #[arg(long)]
    with_permissions: bool,
    /// Pass --with-refresh to the export.
    #[arg(long)]
    with_refresh: bool,
    /// The `tabops` binary (default: the one beside this executable, else on PATH).
    #[arg(long)]
    tabops: Option<PathBuf>,
    /// Write the results as JSON here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Keep generated files in this directory (default: a temporary directory).
    #[arg(long)]
    work_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct GenerateArgs {
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Output directory: `manifest/` and `state/acme.json` are written in it.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, Subcommand)]
enum ChildCommand {
    Reconcile {
        #[arg(long)]
        server: url::Url,
        #[arg(long, default_value = generate::SITE)]
        site: String,
        #[arg(long)]
        manifest: PathBuf,
        #[arg(long, default_value_t = tabops_tableau::DEFAULT_CONCURRENCY)]
        concurrency: usize,
        /// Apply the plan, appending to this audit log.
        #[arg(long)]
        apply: Option<PathBuf>,
    },
    Upload {
        #[arg(long)]
        server: url::Url,
        #[arg(long, default_value = generate::SITE)]
        site: String,
        #[arg(long)]
        file: PathBuf,
    },
}

/// `--out FILE`: the results as pretty JSON.
fn write_json(out: Option<&std::path::Path>, results: &impl serde::Serialize) -> anyhow::Result<()> {
    if let Some(out) = out {
        let json = serde_json::to_string_pretty(results)?;
        std::fs::write(out, json).with_context(|| format!("failed to write {}", out.display()))?;
    }
    Ok(())
}

/// A run that could not be measured: its error, and its hint on a line of its own.
fn failed(err: impl std::error::Error + Send + Sync + 'static, hint: Option<&str>) -> ExitCode {
    let hint = hint.map(|h| format!("\nhint: {h}")).unwrap_or_default();
    let _ = writeln!(std::io::stderr(), "error: {:#}{hint}", anyhow::Error::new(err));
    ExitCode::FAILURE
}

fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let quick = args.quick;
    let python =
        if args.no_baseline { None } else { Some(args.python.unwrap_or_else(tabops_bench::baseline::default_python)) };
    let options = RunOptions {
        scale_factor: if quick { 0.01 } else { args.scale },
        seed: args.seed,
        latency: Duration::from_millis(args.latency_ms),
        concurrency: args.concurrency,
        hash_bytes: (args.hash_gb.unwrap_or(if quick { 0.05 } else { 2.0 }) * 1e9) as u64,
        hash_runs: if quick { 1 } else { 2 },
        upload_bytes: args.upload_mib.unwrap_or(if quick { 80 } else { 1024 }) << 20,
        plan_runs: args.plan_runs.unwrap_or(if quick { 1 } else { 2 }),
        python,
        work_dir: args.work_dir,
        exe: std::env::current_exe().context("failed to locate the tabops-bench executable")?,
    };
    let results = harness::run(&options).await?;
    print(&tabops_bench::verdict::summary(&results))?;
    write_json(args.out.as_deref(), &results)?;
    Ok(if results.checks.iter().all(|c| c.pass) { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

async fn curve(args: CurveArgs) -> anyhow::Result<ExitCode> {
    let mut scales = args.scales;
    scales.sort_by(f64::total_cmp);
    let exe = std::env::current_exe().context("failed to locate the tabops-bench executable")?;
    let drift = args.drift.then(|| args.tabops.unwrap_or_else(|| tabops_bench::tabops_process::default_tabops(&exe)));
    let options = tabops_bench::curve::CurveOptions {
        scales,
        seed: args.seed,
        latency: Duration::from_millis(args.latency_ms),
        concurrency: args.concurrency,
        plan_runs: args.plan_runs,
        work_dir: args.work_dir,
        exe,
        drift,
    };
    let points = tabops_bench::curve::run(&options).await?;
    print(&tabops_bench::curve::table(&points))?;
    write_json(args.out.as_deref(), &points)?;
    Ok(ExitCode::SUCCESS)
}

async fn bootstrap(args: BootstrapArgs) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe().context("failed to locate the tabops-bench executable")?;
    let python =
        if args.no_baseline { None } else { Some(args.python.unwrap_or_else(tabops_bench::baseline::default_python)) };
    let options = tabops_bench::bootstrap::BootstrapOptions {
        scale_factor: args.scale,
        seed: args.seed,
        latency: Duration::from_millis(args.latency_ms),
        concurrency: args.concurrency,
        python,
        tabops: args.tabops.unwrap_or_else(|| tabops_bench::tabops_process::default_tabops(&exe)),
        work_dir: args.work_dir,
    };
    let results = match tabops_bench::bootstrap::run(&options).await {
        Ok(results) => results,
        Err(err) => {
            let hint = err.hint();
            return Ok(failed(err, hint));
        }
    };
    print(&tabops_bench::bootstrap::table(&results))?;
    write_json(args.out.as_deref(), &results)?;
    Ok(if results.tabops.second_plan_clean { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

async fn export(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe().context("failed to locate the tabops-bench executable")?;
    let options = tabops_bench::export::ExportOptions {
        scale_factor: args.scale,
        seed: args.seed,
        latency: Duration::from_millis(args.latency_ms),
        concurrency: args.concurrency,
        tabops: args.tabops.unwrap_or_else(|| tabops_bench::tabops_process::default_tabops(&exe)),
        runs: args.runs,
        with_permissions: args.with_permissions,
        with_refresh: args.with_refresh,
        work_dir: args.work_dir,
    };
    let results = match tabops_bench::export::run(&options).await {
        Ok(results) => results,
        Err(err) => {
            let hint = err.hint();
            return Ok(failed(err, hint));
        }
    };
    print(&tabops_bench::export::table(&results))?;
    write_json(args.out.as_deref(), &results)?;
    // Correctness only: the export's manifest plans no changes and holds every content byte; never timing.
    Ok(if results.correct() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

async fn child(command: ChildCommand) -> anyhow::Result<ExitCode> {
    let json = match command {
        ChildCommand::Reconcile { server, site, manifest, concurrency, apply } => {
            let options = tabops_bench::reconcile::ReconcileOptions { server, site, manifest, concurrency, apply };
            serde_json::to_string(&tabops_bench::reconcile::run(&options).await?)?
        }
        ChildCommand::Upload { server, site, file } => {
            serde_json::to_string(&tabops_bench::upload::run(&server, &site, &file).await?)?
        }
    };
    print(&json)?;
    Ok(ExitCode::SUCCESS)
}

async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run(args) => run(args).await,
        Command::Curve(args) => curve(args).await,
        Command::Bootstrap(args) => bootstrap(args).await,
        Command::Export(args) => export(args).await,
        Command::Generate(args) => {
            let site = SyntheticSite::new(Scale::scaled(args.scale), args.seed);
            let generated = generate::write(&site, &args.out)?;
            print(&format!(
                "manifest: {}\nemulator state: {}\ncontent bytes: {}\n",
                generated.manifest_dir.display(),
                generated.state_file.display(),
                generated.content_bytes
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Child(command) => child(command).await,
    }
}

/// mimalloc, not the system allocator: glibc's per-thread arenas held on to what the reading threads freed, so a
/// plan's peak memory was half again its live heap (BENCHMARKS.md, "Memory").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    match dispatch(Cli::parse()).await {
        Ok(code) => code,
        Err(err) => {
            let _ = writeln!(std::io::stderr(), "error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
