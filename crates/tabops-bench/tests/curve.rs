//! The cost curve at two tiny scales, through the real `tabops-bench curve` (plans in child processes against an
//! emulator on loopback): one point per scale, each plan at the minimum request count, and the table with growth.

#[test]
fn the_curve_measures_each_scale_at_the_minimum_request_count() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("curve.json");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_tabops-bench"))
        .args(["curve", "--scales", "0.006,0.003", "--latency-ms", "0", "--plan-runs", "1", "--out"])
        .arg(&out)
        .output()
        .expect("tabops-bench runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
    let points: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let points = points.as_array().expect("a list of points");
    assert_eq!(points.len(), 2);
    assert_eq!(points[0]["scale_factor"], 0.003, "smallest first");
    assert!(points[0]["objects"].as_u64() < points[1]["objects"].as_u64());
    for p in points {
        assert_eq!(p["requests"].as_u64(), p["minimum_requests"].as_u64(), "{p}");
        assert!(p["plan_wall_ms"].as_f64().unwrap() > 0.0);
    }
    let rows: Vec<&str> = stdout.lines().filter(|l| l.starts_with("| 0.00")).collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    // Growth is measured between neighbouring scales: none for the first row, ms and MB per 1,000 for the next.
    assert!(rows[0].ends_with("|  |"), "{}", rows[0]);
    assert!(rows[1].contains(" ms, ") && rows[1].ends_with(" MB |"), "{}", rows[1]);
}

/// `--drift`: the real `tabops drift` runs at each scale against the generated site, which matches its manifest, and
/// reads what a plan reads; its figures go in a second table.
#[test]
fn the_curve_measures_the_real_drift_at_each_scale() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("curve.json");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_tabops-bench"))
        .args(["curve", "--scales", "0.004", "--latency-ms", "0", "--plan-runs", "1", "--drift", "--tabops"])
        .arg(tabops_testkit::run::tabops_bin())
        .arg("--out")
        .arg(&out)
        .output()
        .expect("tabops-bench runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
    let points: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let point = &points[0];
    let drift = &point["drift"];
    assert_eq!(drift["drifted"], false, "{point}");
    assert_eq!(drift["requests"].as_u64(), point["minimum_requests"].as_u64(), "{point}");
    assert!(drift["wall_ms"].as_f64().unwrap() > 0.0);
    assert!(stdout.contains("| scale | drift (whole process) |"), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("| 0.004× S |") && l.ends_with("| matches |")), "{stdout}");
}
