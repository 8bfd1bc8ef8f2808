//! `tabops-bench run`: one run of the whole suite against in-process emulators with injected latency. tabops runs
//! in child processes (this binary's hidden `child` commands) so each reported peak RSS is tabops' own; the TSC
//! baseline runs as a Python child against the same emulator. Request counts come from both sides: the client's
//! own counters and the emulator's `/_emulator/stats` counters.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;
use tabops_emulator::{Emulator, EmulatorConfig};

use crate::generate::{self, Scale, SyntheticSite};
use crate::hashing::HashReport;
use crate::listpage::ListPageReport;
use crate::measure::EmulatorDelta;
use crate::reconcile::ReconcileReport;
use crate::report::{self, Check, Target};
use crate::upload::UploadReport;

/// What a run does.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub scale_factor: f64,
    pub seed: u64,
    pub latency: Duration,
    pub concurrency: usize,
    pub hash_bytes: u64,
    pub hash_runs: usize,
    pub upload_bytes: u64,
    pub plan_runs: usize,
    /// Python with tableauserverclient; `None` skips the baseline.
    pub python: Option<PathBuf>,
    /// Keep generated files here instead of a temporary directory.
    pub work_dir: Option<PathBuf>,
    /// This binary, for the child processes.
    pub exe: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("failed to create the work directory {}", path.display())]
    WorkDir { path: PathBuf, source: std::io::Error },
    #[error("failed to generate the synthetic site")]
    Generate(#[from] generate::StateError),
    #[error("failed to start the emulator")]
    Emulator(#[from] tabops_emulator::EmulatorError),
    #[error("failed to run the child `{what}`")]
    ChildSpawn { what: String, source: std::io::Error },
    #[error("the child `{what}` failed: {stderr}")]
    ChildFailed { what: String, stderr: String },
    #[error("the child `{what}` printed no report")]
    ChildOutput { what: String, source: serde_json::Error },
    #[error("failed to copy {}", path.display())]
    Copy { path: PathBuf, source: std::io::Error },
    #[error("failed to modify content file {}", path.display())]
    Modify { path: PathBuf, source: std::io::Error },
    #[error("hashing benchmark failed")]
    Hash(#[from] crate::hashing::HashError),
    #[error("list page benchmark failed")]
    ListPage(#[from] crate::listpage::ListPageError),
    #[error("upload benchmark failed")]
    Upload(#[from] crate::upload::UploadError),
    #[error("a benchmark task failed")]
    Join(#[from] tokio::task::JoinError),
    #[error("invalid emulator URL {url}")]
    Url { url: String, source: url::ParseError },
}

/// A measured tabops plan/apply run, with the emulator's view of it.
#[derive(Debug, Clone, Serialize)]
pub struct Measured {
    pub tabops: ReconcileReport,
    pub wall_ms: f64,
    pub emulator: EmulatorDelta,
}

/// The TSC baseline run.
#[derive(Debug, Clone, Serialize)]
pub struct Baseline {
    pub wall_ms: f64,
    pub script: serde_json::Value,
    pub emulator: EmulatorDelta,
}

/// The 1%-changed apply.
#[derive(Debug, Clone, Serialize)]
pub struct ChangedApply {
    pub changed_files: usize,
    pub changed_bytes: u64,
    pub run: Measured,
    /// Request-body bytes the emulator received beyond the changed files' bytes (XML, multipart framing, tags).
    pub envelope_bytes: i64,
    pub replan_changes: usize,
}

/// Everything one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub machine: Machine,
    pub scale_factor: f64,
    pub scale: Scale,
    pub seed: u64,
    pub latency_ms: f64,
    pub concurrency: usize,
    pub generate_s: f64,
    pub content_bytes: u64,
    pub plans: Vec<Measured>,
    pub minimum_requests: usize,
    pub lower_bound_ms: f64,
    pub baseline: Option<Baseline>,
    pub baseline_error: Option<String>,
    pub noop_apply: Measured,
    pub changed_apply: ChangedApply,
    pub list_page: ListPageReport,
    pub hashing: HashReport,
    pub upload: UploadReport,
    /// Request-body bytes the emulator received during the upload.
    pub upload_received: u64,
    pub targets: Vec<Target>,
    pub checks: Vec<Check>,
}

/// The machine the numbers come from.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub load_average: String,
    pub memory: String,
}

impl Machine {
    pub fn probe() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .map_or_else(|| "unknown".to_owned(), |s| s.trim().to_owned());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory = meminfo.lines().next().unwrap_or("").split_whitespace().skip(1).collect::<Vec<_>>().join(" ");
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            load_average: std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim().to_owned(),
            memory,
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn child<T: DeserializeOwned>(exe: &Path, what: &str, args: &[String]) -> Result<(T, f64), HarnessError> {
    let start = Instant::now();
    let out = tokio::process::Command::new(exe)
        .arg("child")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|source| HarnessError::ChildSpawn { what: what.to_owned(), source })?;
    let wall = ms(start.elapsed());
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        return Err(HarnessError::ChildFailed { what: what.to_owned(), stderr });
    }
    let report = serde_json::from_slice(&out.stdout)
        .map_err(|source| HarnessError::ChildOutput { what: what.to_owned(), source })?;
    Ok((report, wall))
}

/// Runs a plan (or apply, with `audit`) in a child and measures it at the emulator too.
async fn reconcile(
    options: &RunOptions,
    emulator: &Emulator,
    manifest: &Path,
    audit: Option<&Path>,
) -> Result<Measured, HarnessError> {
    reconcile_in_child(&options.exe, options.concurrency, emulator, manifest, audit).await
}

/// [`reconcile`] for any caller: `exe` is this binary, run as `child reconcile`.
pub(crate) async fn reconcile_in_child(
    exe: &Path,
    concurrency: usize,
    emulator: &Emulator,
    manifest: &Path,
    audit: Option<&Path>,
) -> Result<Measured, HarnessError> {
    let mut args = vec![
        "reconcile".to_owned(),
        "--server".to_owned(),
        emulator.url(),
        "--manifest".to_owned(),
        manifest.display().to_string(),
        "--concurrency".to_owned(),
        concurrency.to_string(),
    ];
    if let Some(audit) = audit {
        args.extend(["--apply".to_owned(), audit.display().to_string()]);
    }
    let before = emulator.stats();
    let (tabops, wall_ms) = child::<ReconcileReport>(exe, "reconcile", &args).await?;
    let emulator = EmulatorDelta::between(&before, &emulator.stats());
    Ok(Measured { tabops, wall_ms, emulator })
}

/// Rewrites every 100th workbook's file (1%) with new bytes; returns (files, bytes).
fn change_one_percent(site: &SyntheticSite, manifest: &Path) -> Result<(usize, u64), HarnessError> {
    let (mut files, mut bytes) = (0, 0);
    for wb in site.workbooks.iter().step_by(100) {
        let path = manifest.join(&wb.file);
        let body = generate::workbook_file(&wb.name, 1);
        std::fs::write(&path, &body).map_err(|source| HarnessError::Modify { path: path.clone(), source })?;
        files += 1;
        bytes += body.len() as u64;
    }
    Ok((files, bytes))
}

pub(crate) fn log(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "==> {line}");
}

/// The directory generated files go in: `dir` (created), or a temporary one removed when the returned guard drops.
pub(crate) fn work_dir(dir: Option<&Path>) -> Result<(PathBuf, Option<tempfile::TempDir>), HarnessError> {
    match dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|source| HarnessError::WorkDir { path: dir.to_owned(), source })?;
            Ok((dir.to_owned(), None))
        }
        None => {
            let temp = tempfile::tempdir().map_err(|source| HarnessError::WorkDir { path: "tmp".into(), source })?;
            Ok((temp.path().to_owned(), Some(temp)))
        }
    }
}

/// Runs the whole suite.
pub async fn run(options: &RunOptions) -> Result<Results, HarnessError> {
    let (work, _temp) = work_dir(options.work_dir.as_deref())?;
    let machine = Machine::probe();
    let scale = Scale::scaled(options.scale_factor);
    log(&format!("generating the synthetic site at scale {} (seed {}): {scale:?}", options.scale_factor, options.seed));
    let start = Instant::now();
    let site = SyntheticSite::new(scale, options.seed);
    let site_dir = work.join("site");
    let generated = {
        let site = site.clone();
        let dir = site_dir.clone();
        tokio::task::spawn_blocking(move || generate::write(&site, &dir)).await??
    };
    let generate_s = start.elapsed().as_secs_f64();
    let latency_ms = ms(options.latency);

    let list_state = work.join("list-state.json");
    std::fs::copy(&generated.state_file, &list_state)
        .map_err(|source| HarnessError::Copy { path: generated.state_file.clone(), source })?;

    let config = EmulatorConfig {
        state_file: Some(generated.state_file.clone()),
        latency: options.latency,
        ..EmulatorConfig::default()
    };
    let emulator = Emulator::start(config).await?;
    let manifest = &generated.manifest_dir;

    let mut plans = Vec::new();
    for i in 0..options.plan_runs.max(1) {
        log(&format!("plan {} of {} (child process)", i + 1, options.plan_runs.max(1)));
        plans.push(reconcile(options, &emulator, manifest, None).await?);
    }

    let (baseline, baseline_error) = match &options.python {
        None => (None, Some("skipped (--no-baseline)".to_owned())),
        Some(python) => {
            log("TSC baseline (Python child)");
            let before = emulator.stats();
            let start = Instant::now();
            let (python, url) = (python.clone(), emulator.url());
            let result =
                tokio::task::spawn_blocking(move || crate::baseline::run(&python, &url, generate::SITE)).await?;
            let wall_ms = ms(start.elapsed());
            let delta = EmulatorDelta::between(&before, &emulator.stats());
            match result {
                Ok(script) => (Some(Baseline { wall_ms, script, emulator: delta }), None),
                Err(err) => (None, Some(format!("{err}"))),
            }
        }
    };

    log("no-op apply");
    let audit = work.join("audit.jsonl");
    let noop_apply = reconcile(options, &emulator, manifest, Some(&audit)).await?;

    log("apply with 1% of the content changed");
    let (changed_files, changed_bytes) = change_one_percent(&site, manifest)?;
    let run = reconcile(options, &emulator, manifest, Some(&audit)).await?;
    let envelope_bytes = run.emulator.bytes_received as i64 - changed_bytes as i64;
    let replan = reconcile(options, &emulator, manifest, None).await?;
    let changed_apply =
        ChangedApply { changed_files, changed_bytes, run, envelope_bytes, replan_changes: replan.tabops.changes };
    emulator.shutdown().await;

    log("emulator list page (no latency)");
    let list_emulator =
        Emulator::start(EmulatorConfig { state_file: Some(list_state), ..EmulatorConfig::default() }).await?;
    let list_page = crate::listpage::run(&list_emulator.url(), generate::SITE, 30).await?;
    list_emulator.shutdown().await;

    log(&format!("hashing {:.2} GB: tabops vs sha256sum", options.hash_bytes as f64 / 1e9));
    let hash_dir = work.join("hash");
    let (hash_bytes, seed, runs) = (options.hash_bytes, options.seed, options.hash_runs);
    let hashing = tokio::task::spawn_blocking(move || {
        let files = crate::hashing::write_tree(&hash_dir, hash_bytes, seed)?;
        let report = crate::hashing::run(&hash_dir, &files, runs);
        let _ = std::fs::remove_dir_all(&hash_dir);
        report
    })
    .await??;

    log(&format!("upload of {} MiB through upload sessions (child process)", options.upload_bytes >> 20));
    let upload_file = work.join("upload.hyper");
    let (bytes, seed) = (options.upload_bytes, options.seed);
    let path = upload_file.clone();
    tokio::task::spawn_blocking(move || crate::upload::write_file(&path, bytes, seed)).await??;
    let upload_emulator =
        Emulator::start(EmulatorConfig { latency: options.latency, ..EmulatorConfig::default() }).await?;
    let args = vec![
        "upload".to_owned(),
        "--server".to_owned(),
        upload_emulator.url(),
        "--file".to_owned(),
        upload_file.display().to_string(),
    ];
    let before = upload_emulator.stats();
    let (upload, _) = child::<UploadReport>(&options.exe, "upload", &args).await?;
    let upload_received = EmulatorDelta::between(&before, &upload_emulator.stats()).bytes_received;
    upload_emulator.shutdown().await;
    let _ = std::fs::remove_file(&upload_file);

    let minimum_requests = report::minimum_plan_requests(&scale);
    let lower_bound_ms = report::lower_bound_ms(minimum_requests, latency_ms, tabops_tableau::DEFAULT_CONCURRENCY);
    let mut results = Results {
        machine,
        scale_factor: options.scale_factor,
        scale,
        seed: options.seed,
        latency_ms,
        concurrency: options.concurrency,
        generate_s,
        content_bytes: generated.content_bytes,
        plans,
        minimum_requests,
        lower_bound_ms,
        baseline,
        baseline_error,
        noop_apply,
        changed_apply,
        list_page,
        hashing,
        upload,
        upload_received,
        targets: Vec::new(),
        checks: Vec::new(),
    };
    results.targets = crate::verdict::targets(&results);
    results.checks = crate::verdict::checks(&results);
    Ok(results)
}
