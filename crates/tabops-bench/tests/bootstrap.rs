//! The write-path benchmark end to end at a tiny scale, through the real `tabops-bench bootstrap`: the real
//! `tabops` binary applies the synthetic manifest to an empty emulator site over loopback HTTP, a second plan finds
//! nothing to change, and the TSC script (`bench/tsc_bootstrap.py`) publishes the same site to a fresh empty site.
//! The TSC half runs when the repository's Python clients are installed (`scripts/test` creates `.venv`, or
//! `TABOPS_VENV` names it); timings are reported, never asserted.

use std::path::PathBuf;

use serde_json::Value;
use tabops_bench::bootstrap::minimum_bootstrap_requests;
use tabops_bench::generate::{Scale, SyntheticSite};

fn python() -> Option<PathBuf> {
    let python = match std::env::var_os("TABOPS_VENV") {
        Some(venv) => PathBuf::from(venv).join("bin").join("python"),
        None => tabops_bench::baseline::default_python(),
    };
    python.exists().then_some(python)
}

fn count(side: &Value, route: &str) -> u64 {
    side["emulator"]["by_route"][route].as_u64().unwrap_or(0)
}

#[test]
fn bootstrap_applies_the_synthetic_site_to_an_empty_site_and_counts_requests_per_endpoint() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("bootstrap.json");
    let tabops = tabops_testkit::run::tabops_bin();
    let python = python();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tabops-bench"));
    cmd.args(["bootstrap", "--scale", "0.005", "--latency-ms", "0", "--concurrency", "8", "--tabops"])
        .arg(&tabops)
        .arg("--out")
        .arg(&out);
    match &python {
        Some(python) => cmd.arg("--python").arg(python),
        // No Python clients (.venv or TABOPS_VENV): the TSC half is skipped, and the JSON says so (checked below).
        None => cmd.arg("--no-baseline"),
    };
    let run = cmd.output().expect("tabops-bench runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
    let results: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let scale = Scale::scaled(0.005);
    let minimum = minimum_bootstrap_requests(&SyntheticSite::new(scale, 42));

    // The apply created every object exactly once, and the site then matched the manifest.
    let tabops = &results["tabops"];
    assert_eq!(tabops["second_plan_clean"], true, "{stdout}");
    for route in [
        "POST /sites/{id}/users",
        "POST /sites/{id}/groups",
        "POST /sites/{id}/projects",
        "POST /sites/{id}/datasources",
        "POST /sites/{id}/workbooks",
        "POST /sites/{id}/tasks/extractRefreshes",
    ] {
        assert_eq!(count(tabops, route), minimum[route], "{route}\n{stdout}");
    }
    assert_eq!(count(tabops, "POST /sites/{id}/workbooks"), scale.workbooks as u64);
    // Members go in one bulk add per group (API 3.21), not one request per member.
    assert_eq!(count(tabops, "POST /sites/{id}/groups/{id}/users"), scale.groups as u64, "{stdout}");
    // Every project's grantees in one permissions write, and only the copied rules no order could avoid revoked:
    // the `All Users` rule, unless a nested project keeps all of its parent's rules and copies those.
    assert_eq!(count(tabops, "PUT /sites/{id}/projects/{id}/permissions"), scale.projects as u64, "{stdout}");
    let copied = "DELETE /sites/{id}/projects/{id}/permissions/groups/{id}/{id}/{id}";
    assert_eq!(count(tabops, copied), minimum[copied], "{stdout}");
    // The task list: the plan's read, the lookup before the first create, and one settling read after the creates.
    assert_eq!(count(tabops, "GET /sites/{id}/tasks/extractRefreshes"), 3, "{stdout}");
    let by_route: u64 = tabops["emulator"]["by_route"].as_object().unwrap().values().filter_map(Value::as_u64).sum();
    assert_eq!(tabops["emulator"]["requests"].as_u64(), Some(by_route));
    assert_eq!(results["minimum_requests"].as_u64(), Some(minimum.values().sum::<u64>()));
    assert!(tabops["wall_ms"].as_f64().unwrap() > 0.0);

    // Every endpoint either side used, or the minimum names, has a row in the JSON and in the Markdown table.
    let endpoints = results["endpoints"].as_array().unwrap();
    for route in minimum.keys() {
        assert!(endpoints.iter().any(|e| e["endpoint"] == route.as_str()), "{route} has no row");
        assert!(stdout.contains(&format!("| `{route}` |")), "{route} missing from the table\n{stdout}");
    }

    if python.is_some() {
        // The script published the same site serially: one member per request, every object once.
        let tsc = &results["tsc"];
        assert!(tsc.is_object(), "TSC half: {}", results["tsc_error"]);
        let members: u64 = (scale.groups * scale.members_per_group) as u64;
        assert_eq!(tsc["script"]["members"].as_u64(), Some(members));
        assert_eq!(count(tsc, "POST /sites/{id}/groups/{id}/users"), members);
        for (route, objects) in [
            ("POST /sites/{id}/users", scale.users),
            ("POST /sites/{id}/projects", scale.projects),
            ("PUT /sites/{id}/projects/{id}/permissions", scale.projects),
            ("POST /sites/{id}/datasources", scale.datasources),
            ("PUT /sites/{id}/datasources/{id}/tags", scale.datasources),
            ("POST /sites/{id}/workbooks", scale.workbooks),
            ("PUT /sites/{id}/workbooks/{id}/tags", scale.workbooks),
            ("POST /sites/{id}/tasks/extractRefreshes", scale.refresh_tasks),
        ] {
            assert_eq!(count(tsc, route), objects as u64, "{route}");
        }
        assert!(results["speedup"].as_f64().is_some_and(|s| s > 0.0));
        assert!(stdout.contains("TSC / tabops: "), "{stdout}");
    } else {
        assert!(results["tsc"].is_null());
    }
}
