//! `tabops-bench export`: adopting tabops on a large site. The synthetic site (the populated state the generator
//! writes, its content files served back by the emulator) is exported by the real `tabops export --out DIR` (a
//! child process, whole-process wall time, best of `--runs`) against an in-process emulator with injected latency;
//! its requests are counted per endpoint at the emulator and set against the fewest an export of that site needs
//! ([`minimum_export_requests`]), the wall time against the round-trip bound those imply
//! ([`report::lower_bound_ms`]). Also reported: peak RSS, the content bytes downloaded and the emulator's own CPU
//! time. The correctness check: the exported directory is a manifest that a second `tabops plan
//! --detailed-exitcode -f DIR` against the same site finds nothing to change in.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use tabops_emulator::{Emulator, EmulatorConfig};

use crate::generate::{self, Generated, Scale, SyntheticSite};
use crate::harness::{HarnessError, Machine, log, work_dir};
use crate::measure::{EmulatorDelta, cpu_time};
use crate::report::{self, PAGE_SIZE};
use crate::tabops_process::{self, TabopsSpawnError};

/// What an export run does.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub scale_factor: f64,
    pub seed: u64,
    pub latency: Duration,
    /// The export's `--concurrency` (requests in flight).
    pub concurrency: usize,
    /// The `tabops` binary to measure.
    pub tabops: PathBuf,
    /// Exports to run; the fastest is reported.
    pub runs: usize,
    /// Pass `--with-permissions` to the export (explicit and default rules of every project and item).
    pub with_permissions: bool,
    /// Pass `--with-refresh` to the export (the tasks it already reads, written as `refresh:` keys).
    pub with_refresh: bool,
    /// Keep generated files here instead of a temporary directory.
    pub work_dir: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportBenchError {
    #[error(transparent)]
    Harness(#[from] HarnessError),
    #[error(transparent)]
    Spawn(#[from] TabopsSpawnError),
    #[error("`tabops {what}` of the synthetic site exited with {code:?}: {output}")]
    Tabops { what: String, code: Option<i32>, output: String },
    #[error("failed to give the emulator the content file {} to serve", path.display())]
    Serve { path: PathBuf, source: std::io::Error },
    #[error("failed to add the content files to the emulator state {}", path.display())]
    State { path: PathBuf, source: serde_json::Error },
    #[error("failed to remove the previous run's export {}", path.display())]
    Clear { path: PathBuf, source: std::io::Error },
    #[error("failed to measure the exported content in {}", path.display())]
    Measure { path: PathBuf, source: std::io::Error },
}

impl ExportBenchError {
    /// What to do about it.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            ExportBenchError::Spawn(err) => Some(err.hint()),
            ExportBenchError::Tabops { .. } => Some("run the same command by hand with --work-dir to keep its files"),
            ExportBenchError::Serve { .. } | ExportBenchError::Clear { .. } | ExportBenchError::Measure { .. } => {
                Some("check the free space and permissions of the work directory (--work-dir)")
            }
            _ => None,
        }
    }
}

/// One `tabops export` run.
#[derive(Debug, Clone, Serialize)]
pub struct ExportRun {
    /// Spawn to exit, ms.
    pub wall_ms: f64,
    /// Sampled from `/proc` while it ran (see [`crate::tabops_process`]).
    pub peak_rss_kib: Option<u64>,
    /// The requests the emulator received from the export, per endpoint.
    pub emulator: EmulatorDelta,
    /// CPU time the in-process emulator (this process) used while it served the export, ms.
    pub emulator_cpu_ms: Option<f64>,
}

/// One endpoint's request counts.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointCount {
    /// Method and route template, as the emulator counts them (`GET /sites/{id}/workbooks/{id}/content`).
    pub endpoint: String,
    pub tabops: u64,
    pub minimum: u64,
}

/// Everything an export run measured.
#[derive(Debug, Clone, Serialize)]
pub struct ExportResults {
    pub machine: Machine,
    pub scale_factor: f64,
    pub scale: Scale,
    pub seed: u64,
    pub latency_ms: f64,
    pub concurrency: usize,
    pub with_permissions: bool,
    pub with_refresh: bool,
    /// Every run's wall time, ms, in order.
    pub runs_wall_ms: Vec<f64>,
    /// The fastest run.
    pub tabops: ExportRun,
    pub minimum_requests: u64,
    /// Two round trips, then the rest of the minimum at `concurrency` in flight (the plan's formula).
    pub lower_bound_ms: f64,
    /// Best wall time over the bound (none without latency: the bound is then 0).
    pub vs_bound: Option<f64>,
    /// Bytes of the content files the export wrote (its downloads), and of the generated files they came from.
    pub content_bytes: u64,
    pub generated_content_bytes: u64,
    /// The second `tabops plan --detailed-exitcode -f OUT` found nothing to change (the correctness check).
    pub second_plan_clean: bool,
    pub second_plan_ms: f64,
    pub endpoints: Vec<EndpointCount>,
}

impl ExportResults {
    /// Whether the export is correct: its manifest plans no changes and every content byte was downloaded.
    pub fn correct(&self) -> bool {
        self.second_plan_clean && self.content_bytes == self.generated_content_bytes
    }
}

fn pages(n: usize) -> u64 {
    n.div_ceil(PAGE_SIZE).max(1) as u64
}

/// The fewest requests a whole-site `tabops export` of the synthetic `site` can make, per endpoint (REST only).
///
/// Lists, every page at Tableau's largest page size (1,000): projects (with the `default` project), users (with the
/// administrator), groups (with `All Users`), workbooks, data sources, and the site's views (one sheet per synthetic
/// workbook; they name the hidden views a manifest writes as `hidden_views`); the extract-refresh task list
/// (unpaged); the site itself (Get Site, for `site.settings`) and its webhooks, one request each. Per object, as the
/// API has no list form for them: one members page per group other than `All Users` (up to 1,000 members); one
/// connections read per workbook and data source (their server, port, user and embed settings, which the manifest
/// writes and the content file does not carry; the Metadata API is another API and not counted); one download per
/// workbook and data source. Sign-in and sign-out.
///
/// With permissions, also one read per project (the `default` project too) of its rules and of its default rules
/// for workbooks and for data sources; one read of each workbook's and data source's rules; and one of each view's
/// rules where the workbook does not show tabs (every synthetic workbook: their views have rules of their own).
///
/// Where tabops is above this minimum, and why:
/// - The check after the export (`export::verify`, the "Checked: a plan of DIR ..." line) is a plan of the written
///   manifest against the site, with its own inventory read: the lists (not the views), Get Site, every group's
///   members and, with permissions, the project, default and item rules again. The export read all of it moments
///   before; the check re-reads it so it plans against the site as it is after the export, not as the export saw it.
/// - With permissions, one Query Views for Workbook per workbook that does not show tabs, although the site-wide
///   views list already read names each view's workbook (`viewType` has a `workbook` element in ts-api_3_29.xsd).
///   By our inference that list is enough whenever it holds as many views of a workbook as its downloaded file
///   has sheets (`tabops-tableau` notes that Tableau leaves hidden views out of the site-wide list).
pub fn minimum_export_requests(site: &SyntheticSite, with_permissions: bool) -> BTreeMap<String, u64> {
    let scale = &site.scale;
    let n = |k: usize| k as u64;
    let projects = scale.projects + 1;
    let mut minimum: Vec<(&str, u64)> = vec![
        ("POST /auth/signin", 1),
        ("POST /auth/signout", 1),
        ("GET /sites/{id}", 1),
        ("GET /sites/{id}/projects", pages(projects)),
        ("GET /sites/{id}/users", pages(scale.users + 1)),
        ("GET /sites/{id}/groups", pages(scale.groups + 1)),
        ("GET /sites/{id}/workbooks", pages(scale.workbooks)),
        ("GET /sites/{id}/datasources", pages(scale.datasources)),
        ("GET /sites/{id}/views", pages(scale.workbooks)),
        ("GET /sites/{id}/tasks/extractRefreshes", 1),
        ("GET /sites/{id}/webhooks", 1),
        ("GET /sites/{id}/groups/{id}/users", n(scale.groups) * pages(scale.members_per_group)),
        ("GET /sites/{id}/workbooks/{id}/connections", n(scale.workbooks)),
        ("GET /sites/{id}/datasources/{id}/connections", n(scale.datasources)),
        ("GET /sites/{id}/workbooks/{id}/content", n(scale.workbooks)),
        ("GET /sites/{id}/datasources/{id}/content", n(scale.datasources)),
    ];
    if with_permissions {
        minimum.extend([
            ("GET /sites/{id}/projects/{id}/permissions", n(projects)),
            ("GET /sites/{id}/projects/{id}/default-permissions/workbooks", n(projects)),
            ("GET /sites/{id}/projects/{id}/default-permissions/datasources", n(projects)),
            ("GET /sites/{id}/workbooks/{id}/permissions", n(scale.workbooks)),
            ("GET /sites/{id}/datasources/{id}/permissions", n(scale.datasources)),
            ("GET /sites/{id}/views/{id}/permissions", n(scale.workbooks)),
        ]);
    }
    minimum.into_iter().map(|(route, count)| (route.to_owned(), count)).collect()
}

/// Gives the emulator the generated content files to serve: the generator's state names no stored content (a plan
/// never downloads), so each workbook and data source gets its manifest file as its blob, linked (or copied) into
/// the state file's blob directory under the name the emulator accepts there (`<id>.bin`, the item's UUID).
fn serve_content(site: &SyntheticSite, generated: &Generated) -> Result<(), ExportBenchError> {
    let state_file = &generated.state_file;
    let files: HashMap<&str, PathBuf> = site
        .workbooks
        .iter()
        .chain(&site.datasources)
        .map(|c| (c.id.as_str(), generated.manifest_dir.join(&c.file)))
        .collect();
    let text = std::fs::read_to_string(state_file)
        .map_err(|source| ExportBenchError::Serve { path: state_file.clone(), source })?;
    let mut state: serde_json::Value =
        serde_json::from_str(&text).map_err(|source| ExportBenchError::State { path: state_file.clone(), source })?;
    // Where the emulator keeps a persisted state's blobs, and the only place it serves them from: `{state}.blobs/`.
    let mut blob_dir_name = state_file.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    blob_dir_name.push(".blobs");
    let blob_dir = state_file.with_file_name(blob_dir_name);
    std::fs::create_dir_all(&blob_dir).map_err(|source| ExportBenchError::Serve { path: blob_dir.clone(), source })?;
    for kind in ["workbooks", "datasources"] {
        let Some(items) = state.get_mut(kind).and_then(serde_json::Value::as_array_mut) else { continue };
        for item in items {
            let content = &mut item["content"];
            let Some(file) = content["id"].as_str().and_then(|id| files.get(id)) else { continue };
            let blob = blob_dir.join(format!("{}.bin", content["id"].as_str().unwrap_or_default()));
            if std::fs::hard_link(file, &blob).is_err() {
                std::fs::copy(file, &blob).map_err(|source| ExportBenchError::Serve { path: file.clone(), source })?;
            }
            let len = std::fs::metadata(&blob)
                .map_err(|source| ExportBenchError::Serve { path: blob.clone(), source })?
                .len();
            content["blob"] = serde_json::json!({ "File": { "path": blob, "len": len } });
        }
    }
    let json =
        serde_json::to_vec(&state).map_err(|source| ExportBenchError::State { path: state_file.clone(), source })?;
    std::fs::write(state_file, json).map_err(|source| ExportBenchError::Serve { path: state_file.clone(), source })
}

/// Bytes of every file below `dir`.
fn tree_bytes(dir: &Path) -> Result<u64, ExportBenchError> {
    let err = |source| ExportBenchError::Measure { path: dir.to_owned(), source };
    let mut total = 0;
    for entry in std::fs::read_dir(dir).map_err(err)? {
        let entry = entry.map_err(err)?;
        let kind = entry.file_type().map_err(err)?;
        if kind.is_dir() {
            total += tree_bytes(&entry.path())?;
        } else {
            total += entry.metadata().map_err(err)?.len();
        }
    }
    Ok(total)
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Generates the site, exports it `runs` times, and plans the last export against the same site.
pub async fn run(options: &ExportOptions) -> Result<ExportResults, ExportBenchError> {
    let (work, _temp) = work_dir(options.work_dir.as_deref())?;
    let machine = Machine::probe();
    let scale = Scale::scaled(options.scale_factor);
    log(&format!("export: generating the synthetic site at scale {} (seed {})", options.scale_factor, options.seed));
    let site = SyntheticSite::new(scale, options.seed);
    let generated = {
        let (site, dir) = (site.clone(), work.join("site"));
        tokio::task::spawn_blocking(move || generate::write(&site, &dir))
            .await
            .map_err(HarnessError::from)?
            .map_err(HarnessError::from)?
    };
    {
        let (site, generated) = (site.clone(), generated.clone());
        tokio::task::spawn_blocking(move || serve_content(&site, &generated)).await.map_err(HarnessError::from)??;
    }
    let config = EmulatorConfig {
        state_file: Some(generated.state_file.clone()),
        latency: options.latency,
        ..EmulatorConfig::default()
    };
    let emulator = Emulator::start(config).await.map_err(HarnessError::from)?;
    let result = measure(options, &work, &emulator).await;
    emulator.shutdown().await;
    let (runs_wall_ms, best, out, replan) = result?;

    let minimum = minimum_export_requests(&site, options.with_permissions);
    let minimum_requests: u64 = minimum.values().sum();
    let latency_ms = options.latency.as_secs_f64() * 1000.0;
    let lower_bound_ms = report::lower_bound_ms(minimum_requests as usize, latency_ms, options.concurrency);
    let mut routes: Vec<&String> = minimum.keys().chain(best.emulator.by_route.keys()).collect();
    routes.sort();
    routes.dedup();
    let endpoints = routes
        .into_iter()
        .map(|route| EndpointCount {
            endpoint: route.clone(),
            tabops: best.emulator.by_route.get(route).copied().unwrap_or(0),
            minimum: minimum.get(route).copied().unwrap_or(0),
        })
        .collect();
    let content_bytes = tree_bytes(&out.join("content"))?;
    Ok(ExportResults {
        machine,
        scale_factor: options.scale_factor,
        scale,
        seed: options.seed,
        latency_ms,
        concurrency: options.concurrency,
        with_permissions: options.with_permissions,
        with_refresh: options.with_refresh,
        runs_wall_ms,
        vs_bound: (lower_bound_ms > 0.0).then(|| best.wall_ms / lower_bound_ms),
        tabops: best,
        minimum_requests,
        lower_bound_ms,
        content_bytes,
        generated_content_bytes: generated.content_bytes,
        second_plan_clean: replan.code == Some(0),
        second_plan_ms: replan.wall_ms,
        endpoints,
    })
}

/// The export runs and the second plan, against the running `emulator`: every run's wall time, the best run, the
/// last run's output directory and the plan of it.
async fn measure(
    options: &ExportOptions,
    work: &Path,
    emulator: &Emulator,
) -> Result<(Vec<f64>, ExportRun, PathBuf, tabops_process::TabopsRun), ExportBenchError> {
    let state_dir = work.join("tabops-state");
    let out = work.join("export");
    let out_arg = out.display().to_string();
    let concurrency = options.concurrency.to_string();
    let mut args: Vec<String> =
        ["export", "--out", &out_arg, "--concurrency", &concurrency].iter().map(|s| (*s).to_owned()).collect();
    if options.with_permissions {
        args.push("--with-permissions".to_owned());
    }
    if options.with_refresh {
        args.push("--with-refresh".to_owned());
    }
    let mut runs_wall_ms = Vec::new();
    let mut best: Option<ExportRun> = None;
    let runs = options.runs.max(1);
    for i in 0..runs {
        log(&format!("export: tabops export, run {} of {runs}", i + 1));
        if out.exists() {
            std::fs::remove_dir_all(&out).map_err(|source| ExportBenchError::Clear { path: out.clone(), source })?;
        }
        let before = emulator.stats();
        let cpu_before = cpu_time();
        let export = tabops_process::run(&options.tabops, emulator, &state_dir, &args).await?;
        let emulator_cpu_ms = cpu_before.zip(cpu_time()).map(|(b, a)| (a - b).as_secs_f64() * 1000.0);
        let delta = EmulatorDelta::between(&before, &emulator.stats());
        if export.code != Some(0) {
            let output = format!("{}\n{}", tail(&export.stdout, 10), tail(&export.stderr, 10));
            return Err(ExportBenchError::Tabops { what: "export".to_owned(), code: export.code, output });
        }
        runs_wall_ms.push(export.wall_ms);
        if best.as_ref().is_none_or(|b| export.wall_ms < b.wall_ms) {
            best = Some(ExportRun {
                wall_ms: export.wall_ms,
                peak_rss_kib: export.peak_rss_kib,
                emulator: delta,
                emulator_cpu_ms,
            });
        }
    }
    log("export: tabops plan of the export against the same site");
    let plan_args: Vec<String> = ["plan", "--detailed-exitcode", "-f", &out_arg, "--concurrency", &concurrency]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let replan = tabops_process::run(&options.tabops, emulator, &state_dir, &plan_args).await?;
    if !matches!(replan.code, Some(0 | 2)) {
        let output = format!("{}\n{}", tail(&replan.stdout, 10), tail(&replan.stderr, 10));
        return Err(ExportBenchError::Tabops { what: "plan".to_owned(), code: replan.code, output });
    }
    if replan.code == Some(2) {
        log(&format!("export: the plan of the export has changes:\n{}", tail(&replan.stdout, 20)));
    }
    Ok((runs_wall_ms, best.expect("at least one export run"), out, replan))
}

/// The results as Markdown: wall time against the bound, then requests per endpoint against the minimum.
pub fn table(r: &ExportResults) -> String {
    let mut flags = String::new();
    if r.with_permissions {
        flags.push_str(" --with-permissions");
    }
    if r.with_refresh {
        flags.push_str(" --with-refresh");
    }
    let mib = |kib: Option<u64>| kib.map_or("n/a".to_owned(), |k| format!("{:.0} MB", k as f64 / 1024.0));
    let runs = r.runs_wall_ms.len();
    let mut out = format!(
        "Export at {}× S ({} workbooks, {} data sources, {} projects, {} users, {} groups of {}, {} tasks), \
         {:.0} ms latency, --concurrency {}{flags}, best of {runs}\n\n\
         | run | wall time | bound | vs bound | requests (minimum) | peak RSS | content downloaded | emulator CPU |\n\
         |---|---|---|---|---|---|---|---|\n\
         | tabops export (whole process) | {:.2} s | {:.2} s | {} | {} ({}) | {} | {} B (generated {} B) | {} |\n",
        r.scale_factor,
        r.scale.workbooks,
        r.scale.datasources,
        r.scale.projects,
        r.scale.users,
        r.scale.groups,
        r.scale.members_per_group,
        r.scale.refresh_tasks,
        r.latency_ms,
        r.concurrency,
        r.tabops.wall_ms / 1000.0,
        r.lower_bound_ms / 1000.0,
        r.vs_bound.map_or("n/a".to_owned(), |v| format!("{v:.2}×")),
        r.tabops.emulator.requests,
        r.minimum_requests,
        mib(r.tabops.peak_rss_kib),
        r.content_bytes,
        r.generated_content_bytes,
        r.tabops.emulator_cpu_ms.map_or("n/a".to_owned(), |ms| format!("{:.2} s", ms / 1000.0)),
    );
    out.push_str(&format!(
        "\nPlan of the export against the same site: {}\n\n| endpoint | tabops | minimum |\n|---|---|---|\n",
        if r.second_plan_clean { "no changes" } else { "CHANGES (see the log above)" }
    ));
    for e in &r.endpoints {
        out.push_str(&format!("| `{}` | {} | {} |\n", e.endpoint, e.tabops, e.minimum));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimum_export_requests_at_s() {
        let site = SyntheticSite::new(Scale::DEFAULT, 42);
        let minimum = minimum_export_requests(&site, false);
        // 10,000 workbooks and 2,000 data sources: one download and one connections read each.
        assert_eq!(minimum["GET /sites/{id}/workbooks/{id}/content"], 10_000);
        assert_eq!(minimum["GET /sites/{id}/datasources/{id}/connections"], 2_000);
        // Pages of 1,000: 10 of workbooks and of views, 2 of data sources, 3 of 2,001 users, 1 of 501 projects.
        assert_eq!(minimum["GET /sites/{id}/workbooks"], 10);
        assert_eq!(minimum["GET /sites/{id}/views"], 10);
        assert_eq!(minimum["GET /sites/{id}/users"], 3);
        assert_eq!(minimum["GET /sites/{id}/projects"], 1);
        // 300 groups of 50: one members page each.
        assert_eq!(minimum["GET /sites/{id}/groups/{id}/users"], 300);
        // sign-in/out, Get Site, 1 + 3 + 1 + 10 + 2 + 10 list pages, tasks, webhooks, 300 members, 2 x 12,000
        assert_eq!(minimum.values().sum::<u64>(), 2 + 1 + 27 + 1 + 1 + 300 + 24_000);

        let with = minimum_export_requests(&site, true);
        // Rules of 501 projects (three reads each), 12,000 items and 10,000 views (no workbook shows tabs).
        assert_eq!(with.values().sum::<u64>() - minimum.values().sum::<u64>(), 3 * 501 + 12_000 + 10_000);
        // The lower bound at 50 ms and 16 in flight: two round trips, then the rest 16 at a time.
        let total = minimum.values().sum::<u64>() as usize;
        let bound = report::lower_bound_ms(total, 50.0, 16);
        assert!((bound - (100.0 + (total - 7) as f64 * 50.0 / 16.0)).abs() < 1e-9);
    }
}
