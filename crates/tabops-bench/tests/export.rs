//! The export benchmark end to end at a tiny scale, through the real `tabops-bench export`: the real `tabops export`
//! binary exports the synthetic site from an emulator over loopback HTTP (the generated content files served back as
//! downloads), the requests per endpoint are set against the fewest an export needs, and a second `tabops plan` of
//! the exported directory against the same site finds nothing to change. Timings are reported, never asserted.

use serde_json::Value;
use tabops_bench::export::minimum_export_requests;
use tabops_bench::generate::{Scale, SyntheticSite};

fn export(extra: &[&str]) -> (Value, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("export.json");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_tabops-bench"))
        .args(["export", "--scale", "0.005", "--latency-ms", "0", "--runs", "2", "--tabops"])
        .arg(tabops_testkit::run::tabops_bin())
        .args(extra)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("tabops-bench runs");
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(run.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
    (serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap(), stdout)
}

fn count(results: &Value, route: &str) -> u64 {
    results["tabops"]["emulator"]["by_route"][route].as_u64().unwrap_or(0)
}

/// Routes the export's own check re-reads (a plan of the written manifest, with its own inventory read): tabops
/// sends each exactly twice the minimum.
const CHECKED_LISTS: [&str; 8] = [
    "GET /sites/{id}",
    "GET /sites/{id}/projects",
    "GET /sites/{id}/users",
    "GET /sites/{id}/groups",
    "GET /sites/{id}/workbooks",
    "GET /sites/{id}/datasources",
    "GET /sites/{id}/tasks/extractRefreshes",
    "GET /sites/{id}/groups/{id}/users",
];

fn assert_common(results: &Value, stdout: &str, minimum: &std::collections::BTreeMap<String, u64>) {
    let scale = Scale::scaled(0.005);
    // The correctness check: the export is a manifest that plans no changes against the site it came from, and it
    // holds every byte of the content the site serves (the generated files).
    assert_eq!(results["second_plan_clean"], true, "{stdout}");
    assert!(stdout.contains("Plan of the export against the same site: no changes"), "{stdout}");
    assert!(results["generated_content_bytes"].as_u64().is_some_and(|b| b > 0));
    assert_eq!(results["content_bytes"], results["generated_content_bytes"]);

    // At the minimum: one download and one connections read per workbook and data source, one page of views,
    // webhooks read once, one sign-in and one sign-out.
    let items = (scale.workbooks + scale.datasources) as u64;
    let downloads = count(results, "GET /sites/{id}/workbooks/{id}/content")
        + count(results, "GET /sites/{id}/datasources/{id}/content");
    assert_eq!(downloads, items, "{stdout}");
    for route in [
        "GET /sites/{id}/workbooks/{id}/content",
        "GET /sites/{id}/datasources/{id}/content",
        "GET /sites/{id}/workbooks/{id}/connections",
        "GET /sites/{id}/datasources/{id}/connections",
        "GET /sites/{id}/views",
        "GET /sites/{id}/webhooks",
        "POST /auth/signin",
        "POST /auth/signout",
    ] {
        assert_eq!(count(results, route), minimum[route], "{route}\n{stdout}");
    }
    for route in CHECKED_LISTS {
        assert_eq!(count(results, route), 2 * minimum[route], "{route}\n{stdout}");
    }
    // Never below the minimum on any endpoint (else the minimum is not one), and nothing the minimum does not name
    // beyond the per-workbook views lists (counted as above the minimum).
    for endpoint in results["endpoints"].as_array().unwrap() {
        let (tabops, least) = (endpoint["tabops"].as_u64().unwrap(), endpoint["minimum"].as_u64().unwrap());
        assert!(tabops >= least, "{endpoint}");
        assert!(least > 0 || endpoint["endpoint"] == "GET /sites/{id}/workbooks/{id}/views", "{endpoint}");
    }

    // The JSON carries every figure the table shows, and the table has a row per endpoint.
    assert_eq!(results["minimum_requests"].as_u64(), Some(minimum.values().sum::<u64>()));
    let by_route: u64 =
        results["tabops"]["emulator"]["by_route"].as_object().unwrap().values().filter_map(Value::as_u64).sum();
    assert_eq!(results["tabops"]["emulator"]["requests"].as_u64(), Some(by_route));
    assert_eq!(results["runs_wall_ms"].as_array().map(Vec::len), Some(2));
    assert!(results["tabops"]["wall_ms"].as_f64().is_some_and(|ms| ms > 0.0));
    assert!(results["second_plan_ms"].as_f64().is_some_and(|ms| ms > 0.0));
    // No latency: the bound is zero and the ratio not given.
    assert_eq!(results["lower_bound_ms"].as_f64(), Some(0.0));
    assert!(results["vs_bound"].is_null());
    for field in ["peak_rss_kib", "emulator_cpu_ms"] {
        assert!(results["tabops"].get(field).is_some(), "{field}");
    }
    for route in minimum.keys() {
        assert!(stdout.contains(&format!("| `{route}` |")), "{route} missing from the table\n{stdout}");
    }
    assert!(stdout.contains("| tabops export (whole process) |"), "{stdout}");
}

#[test]
fn export_of_the_synthetic_site_downloads_each_item_once_and_plans_no_changes() {
    let (results, stdout) = export(&[]);
    let minimum = minimum_export_requests(&SyntheticSite::new(Scale::scaled(0.005), 42), false);
    assert_common(&results, &stdout, &minimum);
    // Without --with-permissions no rule is read.
    assert!(!stdout.contains("/permissions"), "{stdout}");
}

#[test]
fn export_with_permissions_reads_each_rule_set_it_writes() {
    let (results, stdout) = export(&["--with-permissions", "--with-refresh"]);
    let scale = Scale::scaled(0.005);
    let minimum = minimum_export_requests(&SyntheticSite::new(scale, 42), true);
    assert_common(&results, &stdout, &minimum);
    // Each view's rules once (no synthetic workbook shows tabs, so every view has rules of its own).
    let views = "GET /sites/{id}/views/{id}/permissions";
    assert_eq!(count(&results, views), minimum[views], "{stdout}");
    // The project, default and item rules are read by the export and again by its check.
    for route in [
        "GET /sites/{id}/projects/{id}/permissions",
        "GET /sites/{id}/projects/{id}/default-permissions/workbooks",
        "GET /sites/{id}/projects/{id}/default-permissions/datasources",
        "GET /sites/{id}/workbooks/{id}/permissions",
        "GET /sites/{id}/datasources/{id}/permissions",
    ] {
        assert_eq!(count(&results, route), 2 * minimum[route], "{route}\n{stdout}");
    }
    // Above the minimum: one views list per workbook, which the site-wide views list already answers.
    assert_eq!(count(&results, "GET /sites/{id}/workbooks/{id}/views"), scale.workbooks as u64, "{stdout}");
}
