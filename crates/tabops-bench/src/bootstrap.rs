//! `tabops-bench bootstrap`: the write path. The synthetic site's manifest applied to an empty site by the real
//! `tabops apply --auto-approve` (a child process, whole-process wall time) against an emulator with injected
//! latency, its requests counted per endpoint at the emulator and set against the fewest the API allows; a second
//! `tabops plan` must find nothing to change. Then the same site published to a fresh empty site serially with
//! tableauserverclient (`bench/tsc_bootstrap.py`), as a user writes it, and the two wall times compared.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;
use tabops_emulator::{Emulator, EmulatorConfig};

use crate::generate::{self, Scale, SyntheticSite};
use crate::harness::{HarnessError, Machine, log, work_dir};
use crate::measure::EmulatorDelta;
use crate::tabops_process::{self, TabopsSpawnError};

/// What a bootstrap run does.
#[derive(Debug, Clone)]
pub struct BootstrapOptions {
    pub scale_factor: f64,
    pub seed: u64,
    pub latency: Duration,
    /// `--concurrency` of the apply: requests in flight, and actions in flight (the executor caps those at 8).
    pub concurrency: usize,
    /// Python with tableauserverclient; `None` skips the TSC half.
    pub python: Option<PathBuf>,
    /// The `tabops` binary to measure.
    pub tabops: PathBuf,
    /// Keep generated files here instead of a temporary directory.
    pub work_dir: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error(transparent)]
    Harness(#[from] HarnessError),
    #[error(transparent)]
    Spawn(#[from] TabopsSpawnError),
    #[error("`tabops {what}` of the synthetic site exited with {code:?}: {output}")]
    Tabops { what: String, code: Option<i32>, output: String },
    #[error("failed to write the site description for the TSC script to {}", path.display())]
    Spec { path: PathBuf, source: std::io::Error },
}

impl BootstrapError {
    /// What to do about it.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            BootstrapError::Spawn(err) => Some(err.hint()),
            BootstrapError::Tabops { .. } => Some("run the same command by hand with --work-dir to keep its files"),
            _ => None,
        }
    }
}

/// The tabops half.
#[derive(Debug, Clone, Serialize)]
pub struct TabopsBootstrap {
    /// `tabops apply --auto-approve`, spawn to exit, ms.
    pub wall_ms: f64,
    pub peak_rss_kib: Option<u64>,
    /// The requests the emulator received from the apply, per endpoint.
    pub emulator: EmulatorDelta,
    /// The second `tabops plan` (`--detailed-exitcode`) found nothing to change.
    pub second_plan_clean: bool,
    pub second_plan_ms: f64,
}

/// The TSC half.
#[derive(Debug, Clone, Serialize)]
pub struct TscBootstrap {
    pub wall_ms: f64,
    pub script: serde_json::Value,
    pub emulator: EmulatorDelta,
}

/// One endpoint's request counts.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointCount {
    /// Method and route template, as the emulator counts them (`POST /sites/{id}/workbooks`).
    pub endpoint: String,
    pub tabops: u64,
    pub minimum: u64,
    pub tsc: Option<u64>,
}

/// Everything a bootstrap run measured.
#[derive(Debug, Clone, Serialize)]
pub struct BootstrapResults {
    pub machine: Machine,
    pub scale_factor: f64,
    pub scale: Scale,
    pub seed: u64,
    pub latency_ms: f64,
    pub concurrency: usize,
    pub tabops: TabopsBootstrap,
    pub minimum_requests: u64,
    pub tsc: Option<TscBootstrap>,
    pub tsc_error: Option<String>,
    /// TSC wall time over tabops' (the target: 6 or more).
    pub speedup: Option<f64>,
    pub endpoints: Vec<EndpointCount>,
}

/// The fewest requests that bring an empty site to the synthetic `site`, per endpoint.
///
/// Reads: sign-in and one page each of projects, users, groups, workbooks and data sources and the task list (an
/// empty site fits in one page each; no permissions or members are read, as the site's own `default` project and
/// `All Users` are not managed). Writes: one create per user, group, project, data source and workbook (the small
/// content files publish in one request each); one bulk member add per group (Add Users to Group, API 3.21, TSC
/// `groups_endpoint.py` `add_users`); one tag write per data source and workbook (the publish request carries no
/// tags: REST reference, Publish Workbook / Publish Data Source; TSC adds them after the publish); one extract-refresh
/// task create per task (Create Cloud Extract Refresh Task has no bulk form); sign-out.
///
/// Project permissions: a new project starts with a copy of its parent's rules, or the `default` project's
/// (docs/tableau-cloud.md, "Permissions are copied at creation"), and the Create Project response does not list
/// them, so each new project costs one read of its rules; one permissions write (Add Project Permissions takes
/// every grantee's capabilities in one body); and one delete per copied rule the manifest does not hold (Delete
/// Project Permission removes one capability of one grantee). A top-level project copies the `default` project's
/// `All Users` Read: one delete. A nested project created before its parent's grants copies only that rule too (one
/// delete); one created after them copies the parent's rules, which costs nothing when it keeps all of them (its
/// Viewer group is among the parent's grantees with at least Read and the Publisher group is the same), else at
/// least one delete. So one delete per project, less the nested projects that keep all of their parent's rules.
///
/// Not counted: Import Users from CSV, a background job that could add every user in one request.
pub fn minimum_bootstrap_requests(site: &SyntheticSite) -> BTreeMap<String, u64> {
    let scale = &site.scale;
    let n = |k: usize| k as u64;
    let keeps_parents_rules = |p: &generate::GenProject| {
        p.parent.map(|i| &site.projects[i]).is_some_and(|parent| {
            parent.publisher_group == p.publisher_group
                && (parent.viewer_group == p.viewer_group || parent.viewer_group == p.publisher_group)
        })
    };
    let copied_deletes = site.projects.iter().filter(|p| !keeps_parents_rules(p)).count();
    [
        ("POST /auth/signin", 1),
        ("POST /auth/signout", 1),
        ("GET /sites/{id}/projects", 1),
        ("GET /sites/{id}/users", 1),
        ("GET /sites/{id}/groups", 1),
        ("GET /sites/{id}/workbooks", 1),
        ("GET /sites/{id}/datasources", 1),
        ("GET /sites/{id}/tasks/extractRefreshes", 1),
        ("GET /sites/{id}/projects/{id}/permissions", n(scale.projects)),
        ("DELETE /sites/{id}/projects/{id}/permissions/groups/{id}/{id}/{id}", n(copied_deletes)),
        ("POST /sites/{id}/users", n(scale.users)),
        ("POST /sites/{id}/groups", n(scale.groups)),
        ("POST /sites/{id}/groups/{id}/users", n(scale.groups)),
        ("POST /sites/{id}/projects", n(scale.projects)),
        ("PUT /sites/{id}/projects/{id}/permissions", n(scale.projects)),
        ("POST /sites/{id}/datasources", n(scale.datasources)),
        ("PUT /sites/{id}/datasources/{id}/tags", n(scale.datasources)),
        ("POST /sites/{id}/workbooks", n(scale.workbooks)),
        ("PUT /sites/{id}/workbooks/{id}/tags", n(scale.workbooks)),
        ("POST /sites/{id}/tasks/extractRefreshes", n(scale.refresh_tasks)),
    ]
    .into_iter()
    .map(|(route, count)| (route.to_owned(), count))
    .collect()
}

/// The site as the TSC script reads it: the same generator output as the manifest, with absolute content paths.
pub fn tsc_spec(site: &SyntheticSite, manifest_dir: &Path) -> serde_json::Value {
    use serde_json::json;
    let content = |items: &[generate::GenContent]| -> Vec<serde_json::Value> {
        items
            .iter()
            .map(|c| {
                json!({
                    "name": c.name,
                    "project": c.project,
                    "file": manifest_dir.join(&c.file),
                    "description": format!("Synthetic {}", c.name.to_lowercase()),
                    "tags": ["bench".to_owned(), format!("team-{}", c.team)],
                })
            })
            .collect()
    };
    json!({
        "users": site.users.iter().map(|u| json!({"name": u.name, "site_role": u.site_role})).collect::<Vec<_>>(),
        "groups": site.groups.iter().map(|g| json!({
            "name": g.name,
            "members": g.members.iter().map(|&m| &site.users[m].name).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "projects": site.projects.iter().enumerate().map(|(i, p)| json!({
            "name": p.name,
            "parent": p.parent,
            "description": format!("Synthetic project {i}"),
            "permissions": [
                [site.groups[p.viewer_group].name, "Viewer"],
                [site.groups[p.publisher_group].name, "Publisher"],
            ],
        })).collect::<Vec<_>>(),
        "datasources": content(&site.datasources),
        "workbooks": content(&site.workbooks),
        "tasks": (0..site.scale.refresh_tasks).map(|i| {
            let (at, day) = generate::refresh_slot(i);
            json!({"datasource": i, "at": at, "weekday": generate::WEEKDAYS[day].1})
        }).collect::<Vec<_>>(),
    })
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

async fn empty_emulator(latency: Duration) -> Result<Emulator, HarnessError> {
    // No state file: the emulator's fresh site, as Tableau Cloud creates one (the `default` project, `All Users`
    // and the administrator who owns the token), not the populated state the generator writes for other runs.
    Ok(Emulator::start(EmulatorConfig { latency, ..EmulatorConfig::default() }).await?)
}

/// Runs both halves.
pub async fn run(options: &BootstrapOptions) -> Result<BootstrapResults, BootstrapError> {
    let (work, _temp) = work_dir(options.work_dir.as_deref())?;
    let machine = Machine::probe();
    let scale = Scale::scaled(options.scale_factor);
    log(&format!("bootstrap: generating the synthetic site at scale {} (seed {})", options.scale_factor, options.seed));
    let site = SyntheticSite::new(scale, options.seed);
    let generated = {
        let (site, dir) = (site.clone(), work.join("site"));
        tokio::task::spawn_blocking(move || generate::write(&site, &dir))
            .await
            .map_err(HarnessError::from)?
            .map_err(HarnessError::from)?
    };
    let manifest = generated.manifest_dir.display().to_string();
    let state_dir = work.join("tabops-state");

    log("bootstrap: tabops apply --auto-approve against an empty site");
    let emulator = empty_emulator(options.latency).await?;
    let concurrency = options.concurrency.to_string();
    let args = |command: &str, extra: &[&str]| -> Vec<String> {
        [command, "-f", &manifest, "--concurrency", &concurrency].iter().chain(extra).map(|s| (*s).to_owned()).collect()
    };
    let before = emulator.stats();
    let apply =
        tabops_process::run(&options.tabops, &emulator, &state_dir, &args("apply", &["--auto-approve"])).await?;
    let delta = EmulatorDelta::between(&before, &emulator.stats());
    if apply.code != Some(0) {
        emulator.shutdown().await;
        let output = format!("{}\n{}", tail(&apply.stdout, 10), tail(&apply.stderr, 10));
        return Err(BootstrapError::Tabops { what: "apply".to_owned(), code: apply.code, output });
    }
    log("bootstrap: second tabops plan");
    let replan =
        tabops_process::run(&options.tabops, &emulator, &state_dir, &args("plan", &["--detailed-exitcode"])).await?;
    emulator.shutdown().await;
    if !matches!(replan.code, Some(0 | 2)) {
        let output = format!("{}\n{}", tail(&replan.stdout, 10), tail(&replan.stderr, 10));
        return Err(BootstrapError::Tabops { what: "plan".to_owned(), code: replan.code, output });
    }
    if replan.code == Some(2) {
        log(&format!("bootstrap: the second plan has changes:\n{}", tail(&replan.stdout, 20)));
    }
    let tabops = TabopsBootstrap {
        wall_ms: apply.wall_ms,
        peak_rss_kib: apply.peak_rss_kib,
        emulator: delta,
        second_plan_clean: replan.code == Some(0),
        second_plan_ms: replan.wall_ms,
    };

    let (tsc, tsc_error) = match &options.python {
        None => (None, Some("skipped".to_owned())),
        Some(python) => {
            log("bootstrap: TSC script against a fresh empty site (Python child)");
            let spec_path = work.join("tsc-site.json");
            let spec = tsc_spec(&site, &generated.manifest_dir);
            std::fs::write(&spec_path, spec.to_string())
                .map_err(|source| BootstrapError::Spec { path: spec_path.clone(), source })?;
            let emulator = empty_emulator(options.latency).await?;
            let before = emulator.stats();
            let start = Instant::now();
            let (python, url) = (python.clone(), emulator.url());
            let result = tokio::task::spawn_blocking(move || {
                crate::baseline::run_script(
                    &python,
                    "tsc_bootstrap.py",
                    &url,
                    generate::SITE,
                    &["--spec".into(), spec_path.into_os_string()],
                )
            })
            .await
            .map_err(HarnessError::from)?;
            let wall_ms = start.elapsed().as_secs_f64() * 1000.0;
            let delta = EmulatorDelta::between(&before, &emulator.stats());
            emulator.shutdown().await;
            match result {
                Ok(script) => (Some(TscBootstrap { wall_ms, script, emulator: delta }), None),
                Err(err) => (None, Some(err.to_string())),
            }
        }
    };

    let minimum = minimum_bootstrap_requests(&site);
    let mut routes: Vec<&String> = minimum.keys().chain(tabops.emulator.by_route.keys()).collect();
    if let Some(tsc) = &tsc {
        routes.extend(tsc.emulator.by_route.keys());
    }
    routes.sort();
    routes.dedup();
    let endpoints = routes
        .into_iter()
        .map(|route| EndpointCount {
            endpoint: route.clone(),
            tabops: tabops.emulator.by_route.get(route).copied().unwrap_or(0),
            minimum: minimum.get(route).copied().unwrap_or(0),
            tsc: tsc.as_ref().map(|t| t.emulator.by_route.get(route).copied().unwrap_or(0)),
        })
        .collect();
    let speedup = tsc.as_ref().map(|t| t.wall_ms / tabops.wall_ms);
    Ok(BootstrapResults {
        machine,
        scale_factor: options.scale_factor,
        scale,
        seed: options.seed,
        latency_ms: options.latency.as_secs_f64() * 1000.0,
        concurrency: options.concurrency,
        minimum_requests: minimum.values().sum(),
        tabops,
        tsc,
        tsc_error,
        speedup,
        endpoints,
    })
}

/// The results as Markdown: the wall times and their ratio, then requests per endpoint.
pub fn table(r: &BootstrapResults) -> String {
    let s = |ms: f64| format!("{:.2} s", ms / 1000.0);
    let mib = |kib: Option<u64>| kib.map_or("n/a".to_owned(), |k| format!("{:.0} MB", k as f64 / 1024.0));
    let mut out = format!(
        "Bootstrap at {}× S ({} workbooks, {} data sources, {} projects, {} users, {} groups of {}, {} tasks), \
         {:.0} ms latency, --concurrency {}\n\n\
         | run | wall time | requests | peak RSS |\n|---|---|---|---|\n\
         | tabops apply --auto-approve (whole process) | {} | {} (minimum {}) | {} |\n",
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
        s(r.tabops.wall_ms),
        r.tabops.emulator.requests,
        r.minimum_requests,
        mib(r.tabops.peak_rss_kib),
    );
    match (&r.tsc, &r.tsc_error) {
        (Some(tsc), _) => out.push_str(&format!(
            "| TSC script, serial (tsc_bootstrap.py) | {} | {} | n/a |\n",
            s(tsc.wall_ms),
            tsc.emulator.requests
        )),
        (None, error) => {
            out.push_str(&format!("| TSC script | not run: {} | | |\n", error.as_deref().unwrap_or("no result")))
        }
    }
    if let Some(speedup) = r.speedup {
        out.push_str(&format!("\nTSC / tabops: {speedup:.1}× (target 6× or better)\n"));
    }
    out.push_str(&format!(
        "Second plan after the apply: {}\n\n| endpoint | tabops | minimum | TSC |\n|---|---|---|---|\n",
        if r.tabops.second_plan_clean { "no changes" } else { "CHANGES (see the log above)" }
    ));
    for e in &r.endpoints {
        let tsc = e.tsc.map_or("".to_owned(), |n| n.to_string());
        out.push_str(&format!("| `{}` | {} | {} | {tsc} |\n", e.endpoint, e.tabops, e.minimum));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimum_bootstrap_requests_at_a_tenth_of_s() {
        let site = SyntheticSite::new(Scale::scaled(0.1), 42);
        let minimum = minimum_bootstrap_requests(&site);
        // 1,000 workbooks and 200 data sources: a publish and a tag write each.
        assert_eq!(minimum["POST /sites/{id}/workbooks"], 1000);
        assert_eq!(minimum["PUT /sites/{id}/workbooks/{id}/tags"], 1000);
        // 30 groups of 50: one bulk add per group, not 1,500 single adds.
        assert_eq!(minimum["POST /sites/{id}/groups/{id}/users"], 30);
        // 50 projects: create, read the copied rules, write the grants, and revoke the copied All Users rule,
        // unless a nested project is created after its parent's grants and keeps them all.
        let per_project = ["POST /sites/{id}/projects", "GET /sites/{id}/projects/{id}/permissions"];
        assert!(per_project.iter().all(|r| minimum[*r] == 50));
        let keep = site
            .projects
            .iter()
            .filter(|p| {
                p.parent.is_some_and(|i| {
                    let parent = &site.projects[i];
                    parent.publisher_group == p.publisher_group
                        && [p.viewer_group, p.publisher_group].contains(&parent.viewer_group)
                })
            })
            .count() as u64;
        let deletes = minimum["DELETE /sites/{id}/projects/{id}/permissions/groups/{id}/{id}/{id}"];
        assert_eq!(deletes, 50 - keep);
        // sign-in/out + 6 list reads + 200 users + 30 + 30 groups + 3 x 50 projects + deletes + 2 x 200 + 2 x 1,000
        // + 100 tasks
        assert_eq!(minimum.values().sum::<u64>(), 2 + 6 + 200 + 60 + 150 + deletes + 400 + 2000 + 100);
    }
}
