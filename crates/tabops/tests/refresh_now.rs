//! `tabops refresh`: extract refreshes run now, through the real binary against the emulator. The scenario is a
//! transcript snapshot (commands, exit codes, output): a refresh that succeeds with `--wait`; one made to fail with
//! the emulator's fail-next hook, which exits 1 naming the item and Tableau's message (the job's `notes`); a
//! workbook without an extract, which Tableau refuses with 409090; `--changed-since REF` picking only the item whose
//! content changed since REF; JSON as one document; and the audit log holding a record of every refresh started.
//! A second test holds a job running past `--timeout` (exit 3) and shows Tableau's 409093 for a duplicate.
//!
//! Wire facts (docs/tableau-cloud.md, "Refresh now"): `POST /sites/{site}/workbooks/{id}/refresh` and
//! `…/datasources/{id}/refresh` answer 202 with a `job` (tableauserverclient `workbooks.refresh`,
//! `datasources.refresh`, test asset `datasource_refresh.xml`); a job is running until `completedAt` appears, then
//! `finishCode` 0 is success, 1 failure, 2 cancelled (REST reference "Query Job"; TSC `jobs.wait_for_job`).

use std::path::Path;
use std::time::Duration;

use tabops_emulator::EmulatorConfig;
use tabops_testkit as support;

use support::harness::hook;
use support::{Harness, Run, commit_all, edit, init_repo, path_str, transcript_step};

const SITE: &str = r#"version: 1
site: { server: local, content_url: acme }
projects:
  - name: Sales
datasources:
  - name: Orders
    project: Sales
    file: content/orders.tdsx
  - name: Returns
    project: Sales
    file: content/orders.tdsx
workbooks:
  - name: Pipeline
    project: Sales
    file: content/pipeline.twb
"#;

/// The manifest and its content under `src/` in a git repository at the test's root (where the binary runs, and
/// where `--changed-since` finds the repository), committed once; returns the repository and the manifest's path.
fn manifest_repo(site: &Harness) -> (git2::Repository, std::path::PathBuf) {
    let src = site.dir.path().join("src");
    std::fs::create_dir_all(src.join("content")).unwrap();
    let content = support::workspace().join("examples/enterprise/content");
    for file in ["orders.tdsx", "budget.tdsx", "pipeline.twb"] {
        std::fs::copy(content.join(file), src.join("content").join(file)).unwrap();
    }
    std::fs::write(src.join("manifest.yaml"), SITE).unwrap();
    let repo = init_repo(site.dir.path());
    commit_all(&repo, &["src"], "Sales content");
    (repo, src)
}

fn filters(root: &Path) -> insta::Settings {
    let mut settings = tabops_testkit::transcript_filters(root);
    settings.add_filter(r"job [0-9a-f-]{36}", "job [JOB]");
    settings
}

fn audit_records(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn refresh_now_reports_success_failure_and_what_changed_since_a_revision() {
    let site = Harness::start_with(
        EmulatorConfig { test_hooks: true, ..EmulatorConfig::default() },
        tabops_emulator::DEFAULT_PAT_SECRET,
    );
    let (repo, src) = manifest_repo(&site);
    site.apply(&src).expect(0);
    let base = repo.head().unwrap().peel_to_commit().unwrap().id().to_string();
    let manifest = path_str(&src).to_owned();
    let audit = site.audit_log();
    let audit_log = path_str(&audit).to_owned();

    let mut transcript = String::new();
    let mut run = |args: &[&str], code: i32| {
        let result = site.tabops(args);
        assert_eq!(result.code, code, "`tabops {}`\n{}\n{}", args.join(" "), result.stdout, result.stderr);
        let shown: Vec<&str> = args.iter().map(|a| if *a == base { "BASE" } else { a }).collect();
        transcript.push_str(&transcript_step(&shown, &result));
        result
    };
    let common = ["-f", &manifest, "--audit-log", &audit_log, "--wait", "--poll", "100ms"];
    let with = |extra: &[&'static str]| -> Vec<&str> {
        let mut args = vec!["refresh"];
        args.extend_from_slice(extra);
        args.extend(common.iter().copied());
        args
    };

    // A refresh that succeeds.
    let ok = run(&with(&["datasource:Sales/Orders"]), 0);
    assert!(ok.stdout.contains("datasource:Sales/Orders: succeeded (job "), "{}", ok.stdout);

    // The next refresh job fails: exit 1, naming the item and the message Tableau put in the job's notes.
    assert_eq!(hook(&site.url(), "jobs/fail-next?count=1"), 204);
    let failed = run(&with(&["datasource:Sales/Returns", "datasource:Sales/Orders"]), 1);
    assert!(failed.stdout.contains("datasource:Sales/Returns: failed (job "), "{}", failed.stdout);
    assert!(failed.stdout.contains("DataSourceException"), "Tableau's message: {}", failed.stdout);
    assert!(failed.stdout.contains("datasource:Sales/Orders: succeeded"), "{}", failed.stdout);

    // A workbook without an extract: Tableau refuses to start it (409090), a failure with Tableau's message.
    let refused = run(&with(&["workbook:Sales/Pipeline"]), 1);
    assert!(refused.stdout.contains("error 409090"), "{}", refused.stdout);

    // An address that is not on the site is an error before anything is started.
    let missing = run(&with(&["datasource:Sales/Nope"]), 1);
    assert!(missing.stderr.contains("datasource:Sales/Nope is not on the site"), "{}", missing.stderr);

    // Returns' content changes in git and is applied: --changed-since BASE refreshes Returns only (Orders and the
    // workbook are unchanged since BASE), and JSON is one document.
    let manifest_file = src.join("manifest.yaml");
    edit(
        &manifest_file,
        "  - name: Returns\n    project: Sales\n    file: content/orders.tdsx\n",
        "  - name: Returns\n    project: Sales\n    file: content/budget.tdsx\n",
    );
    commit_all(&repo, &["src"], "Returns reads the budget extract");
    site.apply(&src).expect(0);
    let mut args = vec!["refresh", "--changed-since", &base, "--format", "json"];
    args.extend(common.iter().copied());
    let changed = run(&args, 0);
    let json: serde_json::Value = serde_json::from_str(&changed.stdout).expect("one JSON document");
    let items = json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{json}");
    assert_eq!(items[0]["address"], "datasource:Sales/Returns");
    assert_eq!(items[0]["status"], "succeeded");
    assert_eq!(json["summary"]["succeeded"], 1);

    // Markdown for a pull request or a chat post.
    let mut args = vec!["refresh", "datasource:Sales/Orders", "--format", "markdown"];
    args.extend(common.iter().copied());
    let markdown = run(&args, 0);
    assert!(markdown.stdout.contains("| `datasource:Sales/Orders` | succeeded (job "), "{}", markdown.stdout);

    // Every refresh started is in the audit log, in the same hash chain apply writes, which still verifies.
    let records = audit_records(&audit);
    let started: Vec<&str> = records
        .iter()
        .filter(|r| r["type"] == "refresh_started")
        .map(|r| r["data"]["address"].as_str().unwrap())
        .collect();
    assert_eq!(
        started,
        [
            "datasource:Sales/Orders",
            "datasource:Sales/Returns",
            "datasource:Sales/Orders",
            "datasource:Sales/Returns",
            "datasource:Sales/Orders"
        ]
    );
    assert!(records.iter().filter(|r| r["type"] == "refresh_started").all(|r| r["data"]["job_id"].is_string()));
    let refused: Vec<&serde_json::Value> = records.iter().filter(|r| r["type"] == "refresh_refused").collect();
    assert_eq!(refused.len(), 1, "the workbook without an extract");
    assert!(records.iter().any(|r| r["type"] == "refresh_complete" && r["data"]["outcome"]["status"] == "failed"));
    let verify = Run::of(support::run::tabops_command(site.dir.path()).args(["audit", "verify", &audit_log]));
    assert_eq!(verify.code, 0, "{}\n{}", verify.stdout, verify.stderr);

    filters(site.dir.path()).bind(|| insta::assert_snapshot!("refresh_now", transcript));
}

#[test]
fn refresh_now_times_out_with_its_own_exit_code_and_reports_a_duplicate_as_already_queued() {
    // Jobs that run for an hour: the wait gives up at --timeout.
    let config = EmulatorConfig { job_duration: Duration::from_secs(3600), job_polls: u32::MAX, ..Default::default() };
    let site = Harness::start_with(config, tabops_emulator::DEFAULT_PAT_SECRET);
    let (_repo, src) = manifest_repo(&site);
    site.apply(&src).expect(0);
    let manifest = path_str(&src).to_owned();

    let mut transcript = String::new();
    let mut run = |args: &[&str], code: i32| -> Run {
        let result = site.tabops(args);
        assert_eq!(result.code, code, "`tabops {}`\n{}\n{}", args.join(" "), result.stdout, result.stderr);
        transcript.push_str(&transcript_step(args, &result));
        result
    };
    let started = std::time::Instant::now();
    let timed_out = run(
        &["refresh", "datasource:Sales/Orders", "-f", &manifest, "--wait", "--timeout", "1s", "--poll", "200ms"],
        3,
    );
    assert!(started.elapsed() >= Duration::from_secs(1), "waited for the timeout");
    assert!(timed_out.stdout.contains("timed out (job "), "{}", timed_out.stdout);

    // The job is still running on the site: a second refresh is Tableau's 409093, reported as already queued.
    let duplicate = run(&["refresh", "datasource:Sales/Orders", "-f", &manifest], 0);
    assert!(duplicate.stdout.contains("already queued: "), "{}", duplicate.stdout);

    // Without --wait, a refresh that starts is reported queued.
    let queued = run(&["refresh", "datasource:Sales/Returns", "-f", &manifest], 0);
    assert!(queued.stdout.contains("datasource:Sales/Returns: queued (job "), "{}", queued.stdout);

    filters(site.dir.path()).bind(|| insta::assert_snapshot!("refresh_now_timeout", transcript));
}

#[test]
fn apply_refreshes_what_it_changed_and_refresh_finds_the_last_apply_in_the_audit_log() {
    let site = Harness::start();
    let (_repo, src) = manifest_repo(&site);
    let manifest = path_str(&src).to_owned();
    let audit = site.audit_log();
    let audit_log = path_str(&audit).to_owned();
    let mut transcript = String::new();
    let mut run = |args: &[&str], code: i32| -> Run {
        let result = site.tabops(args).without_action_lines();
        assert_eq!(result.code, code, "`tabops {}`\n{}\n{}", args.join(" "), result.stdout, result.stderr);
        // The plan apply prints first is the plan tests' business: the transcript keeps what follows it.
        let stdout = match result.stdout.find("Apply complete") {
            Some(at) => result.stdout[at..].to_owned(),
            None => result.stdout.clone(),
        };
        transcript.push_str(&transcript_step(args, &Run { stdout, stderr: result.stderr.clone(), code: result.code }));
        result
    };

    // The first apply publishes all three; the two data sources are refreshed after it, and the workbook, which
    // the site reports without an extract, is left out (Tableau would refuse it with 409090).
    let first =
        run(&["apply", "-f", &manifest, "--auto-approve", "--refresh", "changed", "--refresh-poll", "100ms"], 0);
    assert!(first.stdout.contains("datasource:Sales/Orders: succeeded (job "), "{}", first.stdout);
    assert!(first.stdout.contains("datasource:Sales/Returns: succeeded (job "), "{}", first.stdout);
    assert!(!first.stdout.contains("workbook:Sales/Pipeline: "), "{}", first.stdout);

    // Orders' content changes: an apply with JSON output refreshes Orders only, reported in the one document.
    let manifest_file = src.join("manifest.yaml");
    let orders = "  - name: Orders\n    project: Sales\n    file: content/orders.tdsx\n";
    edit(&manifest_file, orders, &orders.replace("orders.tdsx", "budget.tdsx"));
    let args = [
        "apply",
        "-f",
        &manifest,
        "--auto-approve",
        "--format",
        "json",
        "--refresh",
        "changed",
        "--refresh-poll",
        "100ms",
    ];
    let result = site.tabops(&args);
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);
    let json: serde_json::Value = serde_json::from_str(&result.stdout).expect("one JSON document");
    let items = json["refresh"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", json["refresh"]);
    assert_eq!(items[0]["address"], "datasource:Sales/Orders");
    assert_eq!(items[0]["status"], "succeeded");
    assert_eq!(json["apply"]["completed"], 1, "{}", json["apply"]);

    // Returns' content changes and is applied without --refresh: `refresh --changed-by-apply` finds Returns in the
    // audit log's last apply, and only Returns.
    let returns = "  - name: Returns\n    project: Sales\n    file: content/orders.tdsx\n";
    edit(&manifest_file, returns, &returns.replace("orders.tdsx", "budget.tdsx"));
    run(&["apply", "-f", &manifest, "--auto-approve"], 0);
    let refreshed = run(
        &["refresh", "--changed-by-apply", "-f", &manifest, "--audit-log", &audit_log, "--wait", "--poll", "100ms"],
        0,
    );
    assert!(refreshed.stdout.starts_with("datasource:Sales/Returns: succeeded"), "{}", refreshed.stdout);
    assert!(refreshed.stdout.contains("Refreshes: 1 succeeded."), "{}", refreshed.stdout);

    // Every refresh is in the apply's audit log: two after the first apply, one after the second, one on its own.
    let started: Vec<String> = audit_records(&audit)
        .iter()
        .filter(|r| r["type"] == "refresh_started")
        .map(|r| r["data"]["address"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        started,
        ["datasource:Sales/Orders", "datasource:Sales/Returns", "datasource:Sales/Orders", "datasource:Sales/Returns"]
    );

    filters(site.dir.path()).bind(|| insta::assert_snapshot!("apply_refresh_changed", transcript));
}

#[test]
fn a_connection_repointed_by_apply_is_refreshed_after_it_and_found_in_the_audit_log() {
    let site = Harness::start();
    let manifest = site.copy_example("enterprise", "ent");
    site.apply(&manifest).expect(0);
    // Someone changes Orders' connection user on the site: the next apply repoints it, without republishing.
    let client = site.client();
    site.block_on(async {
        let orders = client.datasources().await.unwrap().into_iter().find(|d| d.name == "Orders").unwrap();
        let connection = client.datasource_connections(&orders.id).await.unwrap().remove(0);
        let update = tabops_tableau::ConnectionUpdate { user_name: Some("someone_else".into()), ..Default::default() };
        client
            .update_connection(tabops_tableau::ContentKind::Datasource, &orders.id, &connection.id, &update)
            .await
            .unwrap();
    });

    let args =
        ["apply", "-f", path_str(&manifest), "--auto-approve", "--refresh", "changed", "--refresh-poll", "100ms"];
    let applied = site.tabops(&args).expect(0);
    assert!(applied.stdout.contains("Apply complete: 1 action(s) completed."), "{}", applied.stdout);
    assert!(applied.stdout.contains("datasource:Sales/Orders: succeeded (job "), "{}", applied.stdout);
    assert!(applied.stdout.contains("Refreshes: 1 succeeded."), "only Orders: {}", applied.stdout);

    let audit = site.audit_log();
    let args = [
        "refresh",
        "--changed-by-apply",
        "-f",
        path_str(&manifest),
        "--audit-log",
        path_str(&audit),
        "--wait",
        "--poll",
        "100ms",
    ];
    let refreshed = site.tabops(&args).expect(0);
    let lines: Vec<&str> = refreshed.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "the last apply repointed Orders only: {}", refreshed.stdout);
    assert!(lines[0].starts_with("datasource:Sales/Orders: succeeded (job "), "{}", refreshed.stdout);
    assert_eq!(lines[2], "Refreshes: 1 succeeded.");
}
