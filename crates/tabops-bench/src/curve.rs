//! `tabops-bench curve`: how plan cost grows with the site. One synthetic site per scale, the same emulator
//! latency and concurrency, the plan run as a child process (wall time, requests, peak RSS), and the emulator's own
//! CPU time while it served the plan, so a slow emulator cannot pass for a slow tabops. With `--drift`, the real
//! `tabops drift` runs against the same site too (whole process, best of the same number of runs), in a second
//! table.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use tabops_emulator::{Emulator, EmulatorConfig};

use crate::generate::{self, Scale, SyntheticSite};
use crate::harness::{HarnessError, log, reconcile_in_child, work_dir};
use crate::measure::{EmulatorDelta, cpu_time};
use crate::report;

/// What a curve run does.
#[derive(Debug, Clone)]
pub struct CurveOptions {
    /// Scale factors of S, smallest first.
    pub scales: Vec<f64>,
    pub seed: u64,
    pub latency: Duration,
    pub concurrency: usize,
    /// Plans per scale; the best is reported.
    pub plan_runs: usize,
    /// Keep generated files here instead of a temporary directory.
    pub work_dir: Option<PathBuf>,
    /// This binary, for the plan's child process.
    pub exe: PathBuf,
    /// `Some(tabops binary)`: also measure `tabops drift` at each scale, as a whole process.
    pub drift: Option<PathBuf>,
}

/// One scale's figures.
#[derive(Debug, Clone, Serialize)]
pub struct CurvePoint {
    pub scale_factor: f64,
    pub scale: Scale,
    /// Live objects the plan reads: projects, workbooks, data sources, users, groups and refresh tasks.
    pub objects: usize,
    /// Best whole-process plan wall time (the child's start to its exit), ms.
    pub plan_wall_ms: f64,
    /// The same plan's load + sign-in + fetch + plan, ms (without process start and exit).
    pub plan_total_ms: f64,
    /// Its phases, ms: the manifest load, sign-in, the inventory fetch (content hashing overlapped), the planner.
    pub load_ms: f64,
    pub sign_in_ms: f64,
    pub fetch_ms: f64,
    pub planner_ms: f64,
    pub requests: u64,
    pub minimum_requests: usize,
    pub lower_bound_ms: f64,
    /// CPU time the in-process emulator used while it served the best plan, ms.
    pub emulator_cpu_ms: Option<f64>,
    pub peak_rss_kib: Option<u64>,
    /// The real `tabops drift` at this scale (with `--drift`).
    pub drift: Option<DriftPoint>,
}

/// The best of one scale's `tabops drift` runs.
#[derive(Debug, Clone, Serialize)]
pub struct DriftPoint {
    /// Spawn to exit, ms.
    pub wall_ms: f64,
    /// Requests the emulator received, sign-in counted and sign-out not, as the plan's are (drift reads what a
    /// plan reads).
    pub requests: u64,
    pub emulator_cpu_ms: Option<f64>,
    /// Sampled from `/proc` while it ran (see [`crate::tabops_process`]).
    pub peak_rss_kib: Option<u64>,
    /// Exit 2: the site differed from the manifest (the generated site matches it, so this should stay false).
    pub drifted: bool,
}

impl CurvePoint {
    /// Plan wall time over the round-trip bound.
    pub fn vs_bound(&self) -> f64 {
        self.plan_wall_ms / self.lower_bound_ms
    }

    /// Peak RSS per live object, bytes.
    pub fn rss_bytes_per_object(&self) -> Option<f64> {
        self.peak_rss_kib.map(|kib| kib as f64 * 1024.0 / self.objects.max(1) as f64)
    }
}

/// The live objects a plan of `scale` reads.
pub fn objects(scale: &Scale) -> usize {
    scale.projects + scale.workbooks + scale.datasources + scale.users + scale.groups + scale.refresh_tasks
}

/// Measures each scale in turn.
pub async fn run(options: &CurveOptions) -> Result<Vec<CurvePoint>, HarnessError> {
    let (work, _temp) = work_dir(options.work_dir.as_deref())?;
    let latency_ms = options.latency.as_secs_f64() * 1000.0;
    let mut points = Vec::new();
    for &factor in &options.scales {
        let scale = Scale::scaled(factor);
        log(&format!("curve: generating scale {factor} ({} objects)", objects(&scale)));
        let site = SyntheticSite::new(scale, options.seed);
        let dir = work.join(format!("scale-{factor}"));
        let generated = tokio::task::spawn_blocking(move || generate::write(&site, &dir)).await??;
        let config = EmulatorConfig {
            state_file: Some(generated.state_file.clone()),
            latency: options.latency,
            ..EmulatorConfig::default()
        };
        let emulator = Emulator::start(config).await?;
        let mut best: Option<(crate::harness::Measured, Option<f64>)> = None;
        for i in 0..options.plan_runs.max(1) {
            log(&format!("curve: scale {factor}, plan {} of {}", i + 1, options.plan_runs.max(1)));
            let cpu_before = cpu_time();
            let measured =
                reconcile_in_child(&options.exe, options.concurrency, &emulator, &generated.manifest_dir, None).await?;
            let cpu = cpu_before.zip(cpu_time()).map(|(before, after)| (after - before).as_secs_f64() * 1000.0);
            if best.as_ref().is_none_or(|(b, _)| measured.wall_ms < b.wall_ms) {
                best = Some((measured, cpu));
            }
        }
        let drift = match &options.drift {
            Some(tabops) => Some(drift(options, tabops, &emulator, &generated.manifest_dir, &dir_state(&work)).await?),
            None => None,
        };
        emulator.shutdown().await;
        let _ = std::fs::remove_dir_all(work.join(format!("scale-{factor}")));
        let Some((measured, emulator_cpu_ms)) = best else { continue };
        let minimum_requests = report::minimum_plan_requests(&scale);
        points.push(CurvePoint {
            scale_factor: factor,
            scale,
            objects: objects(&scale),
            plan_wall_ms: measured.wall_ms,
            plan_total_ms: measured.tabops.plan_total_ms,
            load_ms: measured.tabops.load_ms,
            sign_in_ms: measured.tabops.sign_in_ms,
            fetch_ms: measured.tabops.fetch_ms,
            planner_ms: measured.tabops.plan_ms,
            requests: measured.tabops.plan_requests,
            minimum_requests,
            lower_bound_ms: report::lower_bound_ms(minimum_requests, latency_ms, options.concurrency),
            emulator_cpu_ms,
            peak_rss_kib: measured.tabops.peak_rss_kib,
            drift,
        });
    }
    Ok(points)
}

fn dir_state(work: &std::path::Path) -> PathBuf {
    work.join("tabops-state")
}

/// The best of `plan_runs` runs of the real `tabops drift` against `emulator`.
async fn drift(
    options: &CurveOptions,
    tabops: &std::path::Path,
    emulator: &Emulator,
    manifest: &std::path::Path,
    state_dir: &std::path::Path,
) -> Result<DriftPoint, HarnessError> {
    let args: Vec<String> =
        ["drift", "-f", &manifest.display().to_string(), "--concurrency", &options.concurrency.to_string()]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
    let mut best: Option<DriftPoint> = None;
    for i in 0..options.plan_runs.max(1) {
        log(&format!("curve: drift {} of {}", i + 1, options.plan_runs.max(1)));
        let before = emulator.stats();
        let cpu_before = cpu_time();
        let run = crate::tabops_process::run(tabops, emulator, state_dir, &args)
            .await
            .map_err(|err| HarnessError::ChildSpawn { what: "tabops drift".to_owned(), source: err.source })?;
        let cpu = cpu_before.zip(cpu_time()).map(|(before, after)| (after - before).as_secs_f64() * 1000.0);
        if !matches!(run.code, Some(0 | 2)) {
            let stderr = run.stderr.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
            return Err(HarnessError::ChildFailed { what: "tabops drift".to_owned(), stderr });
        }
        let delta = EmulatorDelta::between(&before, &emulator.stats());
        let sign_outs = delta.by_route.get("POST /auth/signout").copied().unwrap_or(0);
        let point = DriftPoint {
            wall_ms: run.wall_ms,
            requests: delta.requests - sign_outs,
            emulator_cpu_ms: cpu,
            peak_rss_kib: run.peak_rss_kib,
            drifted: run.code == Some(2),
        };
        if best.as_ref().is_none_or(|b| point.wall_ms < b.wall_ms) {
            best = Some(point);
        }
    }
    Ok(best.expect("at least one drift run"))
}

/// The curve as a Markdown table, with the growth of wall time and peak RSS per 1,000 objects between
/// neighbouring scales.
pub fn table(points: &[CurvePoint]) -> String {
    let mut out = String::from(
        "| scale | objects | plan (whole process) | bound | vs bound | requests (minimum) | emulator CPU | peak RSS | RSS per object | growth per 1,000 objects |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    let mib = |kib: Option<u64>| kib.map_or("n/a".to_owned(), |k| format!("{:.0} MB", k as f64 / 1024.0));
    let mut previous: Option<&CurvePoint> = None;
    for p in points {
        let growth = previous.map_or("".to_owned(), |q| {
            let objects = (p.objects as f64 - q.objects as f64) / 1000.0;
            let wall = (p.plan_wall_ms - q.plan_wall_ms) / objects;
            let rss = p.peak_rss_kib.zip(q.peak_rss_kib).map(|(a, b)| (a as f64 - b as f64) / 1024.0 / objects);
            match rss {
                Some(rss) => format!("{wall:+.0} ms, {rss:+.1} MB"),
                None => format!("{wall:+.0} ms"),
            }
        });
        out.push_str(&format!(
            "| {}× S | {} | {:.2} s | {:.2} s | {:.2}× | {} ({}) | {} | {} | {} | {growth} |\n",
            p.scale_factor,
            p.objects,
            p.plan_wall_ms / 1000.0,
            p.lower_bound_ms / 1000.0,
            p.vs_bound(),
            p.requests,
            p.minimum_requests,
            p.emulator_cpu_ms.map_or("n/a".to_owned(), |ms| format!("{:.2} s", ms / 1000.0)),
            mib(p.peak_rss_kib),
            p.rss_bytes_per_object().map_or("n/a".to_owned(), |b| format!("{b:.0} B")),
        ));
        previous = Some(p);
    }
    if points.iter().any(|p| p.drift.is_some()) {
        out.push_str(
            "\n| scale | drift (whole process) | bound | vs bound | requests (minimum) | emulator CPU | peak RSS | site |\n\
             |---|---|---|---|---|---|---|---|\n",
        );
        for p in points {
            let Some(d) = &p.drift else { continue };
            out.push_str(&format!(
                "| {}× S | {:.2} s | {:.2} s | {:.2}× | {} ({}) | {} | {} | {} |\n",
                p.scale_factor,
                d.wall_ms / 1000.0,
                p.lower_bound_ms / 1000.0,
                d.wall_ms / p.lower_bound_ms,
                d.requests,
                p.minimum_requests,
                d.emulator_cpu_ms.map_or("n/a".to_owned(), |ms| format!("{:.2} s", ms / 1000.0)),
                mib(d.peak_rss_kib),
                if d.drifted { "drifted" } else { "matches" },
            ));
        }
    }
    out
}
