//! What tabops prints where it goes, through the real binary against the emulator, each scenario a transcript
//! snapshot: a stale saved plan and a delete protected only by `--base` say what changed and what to do;
//! `audit verify` reads as English; logs carry no colour into a file; `apply --yes`; every `--format json` command
//! prints exactly one JSON document, errors included; and an apply without a terminal records every action.

use std::path::Path;

use tabops_testkit as support;

use support::{Harness, Run, edit, path_str, regex_escape, transcript_step};

fn filters(root: &Path) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&regex_escape(&root.display().to_string()), "[TMP]");
    settings.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]");
    settings.add_filter(r"\b[0-9a-f]{64}\b", "[HEX]");
    settings.add_filter(r"HEAD [0-9a-f]{12}\b", "HEAD [COMMIT]");
    settings.add_filter(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "[UUID]");
    settings.add_filter(r"\(\d+ ms\)|\(\d+\.\d s\)", "([TIME])");
    settings.add_filter(r"after \d+ ms|after \d+\.\d s", "after [TIME]");
    settings.add_filter(r#""duration_ms": \d+"#, r#""duration_ms": [N]"#);
    settings
}

/// Removes the YAML list item starting at `start` (up to the blank line after it) from `file`.
fn remove_block(file: &Path, start: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    let from = text.find(start).unwrap();
    let to = text[from..].find("\n\n").map(|i| from + i + 2).unwrap();
    std::fs::write(file, format!("{}{}", &text[..from], &text[to..])).unwrap();
}

/// Removes the quick start's subscription (the last block of its manifest), which names the Pipeline workbook.
fn remove_subscription(file: &Path) {
    let text = std::fs::read_to_string(file).unwrap();
    let from = text.find("\n# Carol gets").unwrap();
    std::fs::write(file, &text[..from + 1]).unwrap();
}

/// An apply's stdout from its summary line on (the plan before it left out).
fn from_summary(stdout: &str) -> String {
    stdout.lines().skip_while(|l| !l.starts_with("Apply ")).map(|l| format!("{l}\n")).collect()
}

/// Plan a change and save it; someone then changes the same project on the site and deletes a workbook the plan
/// depends on. Applying the saved plan is refused, naming each object by its address (not a debug dump of live
/// ids and digests) and saying what to do.
#[test]
fn a_stale_saved_plan_names_what_changed_on_the_site_and_what_to_do() {
    let h = Harness::start();
    let manifest = h.copy_example("quickstart", "quickstart");
    h.apply(&manifest);
    edit(&manifest.join("manifest.yaml"), "description: Europe, Middle East and Africa", "description: EMEA (planned)");
    let plan_file = h.dir.path().join("plan.json");
    h.tabops(&["plan", "-f", path_str(&manifest), "--out", path_str(&plan_file)]).expect(0);

    // Another manifest, applied by someone else: the same project's description, and the workbook gone.
    let other = h.copy_example("quickstart", "other");
    let other_file = other.join("manifest.yaml");
    edit(&other_file, "description: Europe, Middle East and Africa", "description: changed by hand");
    edit(&other_file, "  - name: Sales\n    description:", "  - name: Sales\n    prune: true\n    description:");
    remove_block(&other_file, "  - name: Pipeline\n");
    remove_subscription(&other_file);
    h.apply(&other);

    let stale = h.tabops(&["apply", path_str(&plan_file), "-f", path_str(&manifest)]).expect(1);
    assert!(!stale.stderr.contains("StaleRow"), "{}", stale.stderr);
    assert!(stale.stderr.contains("project:Sales/EMEA changed"), "{}", stale.stderr);
    assert!(stale.stderr.contains("workbook:Sales/Pipeline is no longer on the site"), "{}", stale.stderr);
    let text =
        transcript_step(&["apply", "plan.json", "-f", "quickstart", "(the site changed since the plan)"], &stale);
    filters(h.dir.path()).bind(|| insta::assert_snapshot!("stale_saved_plan", text));
}

/// The base revision protects a workbook; the pull request removes it together with its `protect: true` line. The
/// refusal says the protection comes from the base and that `protect: false` has to be merged first: it does not
/// tell the user to remove a line the manifest no longer has (docs/git.md, "Protection lives in git history").
#[test]
fn a_delete_protected_only_by_the_base_says_to_merge_protect_false_first() {
    let h = Harness::start();
    let repo_dir = h.dir.path().join("repo");
    let repo = support::init_repo(&repo_dir);
    support::copy_dir(&support::workspace().join("examples/quickstart"), &repo_dir.join("tabops"));
    let manifest = repo_dir.join("tabops/manifest.yaml");
    edit(&manifest, "  - name: Pipeline\n", "  - name: Pipeline\n    protect: true\n");
    edit(&manifest, "  - name: Sales\n    description:", "  - name: Sales\n    prune: true\n    description:");
    support::commit_all(&repo, &["tabops"], "protect the pipeline");
    h.ok_in(&repo_dir, &["apply", "-f", "tabops", "--auto-approve"]);
    remove_block(&manifest, "  - name: Pipeline\n");
    remove_subscription(&manifest);

    let refused = h.tabops_in(&repo_dir, &["plan", "-f", "tabops", "--base", "HEAD"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    let output = format!("{}{}", refused.stdout, refused.stderr);
    assert!(output.contains("protect: false"), "{output}");
    assert!(!output.contains("remove `protect: true`"), "{output}");
    let text = transcript_step(
        &["plan", "-f", "tabops", "--base", "HEAD", "(the workbook and its protect line removed)"],
        &refused,
    );
    filters(h.dir.path()).bind(|| insta::assert_snapshot!("delete_protected_by_base", text));
}

/// `apply --yes` is `--auto-approve`; `audit verify` says `1 run` and names a broken link once; `-vv` logs
/// redirected to a file (stderr not a terminal) hold no ANSI colour, with or without `NO_COLOR`.
#[test]
fn apply_takes_yes_audit_verify_reads_plainly_and_logs_in_a_file_have_no_colour() {
    let h = Harness::start();
    let manifest = h.copy_example("quickstart", "quickstart");
    let applied = h.tabops(&["apply", "-f", path_str(&manifest), "--yes"]).expect(0);
    assert!(applied.stdout.contains("Apply complete"), "{}", applied.stdout);

    let intact = support::harness::audit_verify(&h).expect(0);
    assert!(intact.stdout.contains(" 1 run, "), "{}", intact.stdout);

    // Rewrite the first record's time: the second record's link no longer matches.
    let log = h.audit_log();
    let text = std::fs::read_to_string(&log).unwrap();
    let (first, rest) = text.split_once('\n').unwrap();
    let mut record: serde_json::Value = serde_json::from_str(first).unwrap();
    record["time"] = serde_json::json!("2000-01-01T00:00:00Z");
    std::fs::write(&log, format!("{}\n{rest}", serde_json::to_string(&record).unwrap())).unwrap();
    let broken = support::harness::audit_verify(&h).expect(1);
    assert_eq!(broken.stdout.matches("broken").count(), 1, "{}", broken.stdout);

    // Logs on stderr redirected to a pipe, as to a file or a CI log: plain text.
    let mut cmd = h.ci_command(path_str(&support::tabops_bin()), h.dir.path());
    cmd.env_remove("NO_COLOR").args(["-vv", "plan", "-f", path_str(&manifest)]);
    let logged = Run::of(&mut cmd);
    assert_eq!(logged.code, 0, "{}", logged.stderr);
    assert!(logged.stderr.contains("DEBUG") || logged.stderr.contains("INFO"), "-vv logs: {}", logged.stderr);
    assert!(!logged.stderr.contains('\u{1b}'), "no ANSI escapes in a redirected log: {:?}", logged.stderr);

    // The plan and the action lines are other tests' subject (the lines come in any order at this concurrency).
    let applied = Run { stdout: from_summary(&applied.stdout), stderr: String::new(), ..applied };
    let text: String = [
        (&["apply", "-f", "quickstart", "--yes"][..], &applied),
        (&["audit", "verify", "audit.jsonl"][..], &intact),
        (&["audit", "verify", "audit.jsonl", "(the first record edited)"][..], &broken),
    ]
    .into_iter()
    .map(|(args, run)| transcript_step(args, run))
    .collect();
    filters(h.dir.path()).bind(|| insta::assert_snapshot!("yes_and_audit_verify", text));
}

/// Exactly one JSON document on stdout, whatever happens: `serde_json::from_str` refuses anything before or after
/// it. Successes print the command's document; failures `{"error": {...}}` with the message, the causes, the hint,
/// the exit code and an invalid manifest's diagnostics.
#[test]
fn every_json_command_prints_exactly_one_json_document_errors_included() {
    let h = Harness::start();
    let manifest = h.copy_example("quickstart", "quickstart");
    let m = path_str(&manifest);
    let document = |run: &Run| -> serde_json::Value {
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{}", run.stdout))
    };

    let plan = h.tabops(&["plan", "-f", m, "--format", "json"]).expect(0);
    assert_eq!(document(&plan)["format_version"], 1);

    let applied = h.tabops(&["apply", "-f", m, "--format", "json", "--auto-approve"]).expect(0);
    let applied = document(&applied);
    assert_eq!(applied["plan"]["format_version"], 1);
    let actions = applied["apply"]["actions"].as_array().unwrap();
    assert!(!actions.is_empty());
    assert!(actions.iter().all(|a| a["status"] == "completed"), "{actions:?}");
    assert_eq!(applied["apply"]["completed"], actions.len());
    assert_eq!(applied["apply"]["failed"], 0);

    let again = h.tabops(&["apply", "-f", m, "--format", "json", "--auto-approve"]).expect(0);
    assert_eq!(document(&again)["apply"], serde_json::Value::Null, "nothing to apply");

    let drift = h.tabops(&["drift", "-f", m, "--format", "json"]).expect(0);
    document(&drift);

    // Failures.
    edit(&manifest.join("manifest.yaml"), "description: Europe, Middle East and Africa", "description: EMEA");
    let unconfirmed = h.tabops(&["apply", "-f", m, "--format", "json"]);
    let typo = h.tabops(&["plan", "-f", m, "--format", "json", "--detailed-exit-code"]);
    std::fs::write(manifest.join("broken.yaml"), "version: 1\nprojects:\n  - name: Sales\n    colour: red\n").unwrap();
    let invalid = h.tabops(&["plan", "-f", m, "--format", "json"]);
    std::fs::remove_file(manifest.join("broken.yaml")).unwrap();
    let mut cmd = h.ci_command(path_str(&support::tabops_bin()), h.dir.path());
    cmd.env("TABLEAU_SERVER", "http://127.0.0.1:9").args(["drift", "-f", m, "--format", "json"]);
    let unreachable = Run::of(&mut cmd);

    for run in [&unconfirmed, &typo, &invalid, &unreachable] {
        assert_eq!(run.code, 1, "{run:?}");
        let error = &document(run)["error"];
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{error}");
        assert_eq!(error["exit_code"], 1);
    }
    assert!(!document(&invalid)["error"]["diagnostics"].as_array().unwrap().is_empty());

    // A plan with errors (a task delete over --max-deletes 0): the error, and the plan it is about beside it.
    let file = manifest.join("manifest.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let start = text.find("    refresh:\n").unwrap();
    std::fs::write(&file, format!("{}    refresh: []\n", &text[..start])).unwrap();
    let refused = h.tabops(&["apply", "-f", m, "--format", "json", "--auto-approve", "--max-deletes", "0"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    let refused = document(&refused);
    assert_eq!(refused["error"]["message"], "the plan has errors, so nothing was applied");
    assert_eq!(refused["plan"]["applyable"], false);
    assert_eq!(refused["plan"]["errors"][0]["kind"], "too_many_deletes", "{}", refused["plan"]["errors"]);

    let text: String = [
        (
            &["apply", "-f", "quickstart", "--format", "json", "(a change; no terminal, no --auto-approve)"][..],
            &unconfirmed,
        ),
        (&["plan", "-f", "quickstart", "--format", "json", "--detailed-exit-code"][..], &typo),
        (&["plan", "-f", "quickstart", "--format", "json", "(an invalid manifest file)"][..], &invalid),
        (&["drift", "-f", "quickstart", "--format", "json", "(TABLEAU_SERVER=http://127.0.0.1:9)"][..], &unreachable),
    ]
    .into_iter()
    .map(|(args, run)| transcript_step(args, run))
    .collect();
    filters(h.dir.path()).bind(|| insta::assert_snapshot!("json_errors", text));
}

/// Without a terminal (CI), apply prints one line per action as it finishes (address, what was done, the result
/// and the time), then the summary; `-v` adds one log line per request.
#[test]
fn apply_without_a_terminal_records_each_action_and_v_adds_the_requests() {
    let h = Harness::start();
    let manifest = h.copy_example("quickstart", "quickstart");
    let m = path_str(&manifest);
    // One action at a time, so the lines come in the plan's order.
    let applied = h.tabops(&["apply", "-f", m, "--auto-approve", "--concurrency", "1"]).expect(0);
    let plan_lines = applied.stdout.lines().filter(|l| l.contains("Plan:")).count();
    assert_eq!(plan_lines, 1, "{}", applied.stdout);
    let done: Vec<&str> = applied.stderr.lines().filter(|l| l.starts_with("+ ")).collect();
    assert!(done.len() > 5, "{}", applied.stderr);

    edit(&manifest.join("manifest.yaml"), "description: Europe, Middle East and Africa", "description: EMEA");
    let verbose = h.tabops(&["-v", "apply", "-f", m, "--auto-approve"]).expect(0);
    assert!(verbose.stderr.contains("~ project:Sales/EMEA: updated ("), "{}", verbose.stderr);
    let requests: Vec<&str> = verbose.stderr.lines().filter(|l| l.contains("tabops_tableau::request")).collect();
    assert!(requests.iter().any(|l| l.contains("PUT /sites/{site}/projects/{id} -> 200")), "{}", verbose.stderr);
    assert!(!verbose.stderr.contains(&h.pat_secret), "no secret in the request log");

    // The plan itself is other tests' subject: the record of the apply is shown.
    let applied = Run { stdout: from_summary(&applied.stdout), ..applied };
    let text = transcript_step(&["apply", "-f", "quickstart", "--auto-approve", "--concurrency", "1"], &applied);
    filters(h.dir.path()).bind(|| insta::assert_snapshot!("apply_record", text));
}

/// `tabops ARGS --server EMULATOR --site acme --state-dir TMP [--audit-log TMP]` on a terminal: a pseudo-terminal
/// from util-linux `script` (which these tests need), with `NO_COLOR` set or not. Its output is everything the
/// terminal showed, stdout and stderr together.
fn on_terminal(h: &Harness, args: &[&str], no_color: bool) -> Run {
    let mut line = format!("{} {}", path_str(&support::tabops_bin()), args.join(" "));
    line.push_str(&format!(" --server {} --site acme --state-dir {}", h.url(), path_str(&h.state_dir())));
    if args[0] == "apply" {
        line.push_str(&format!(" --audit-log {}", path_str(&h.audit_log())));
    }
    let mut script = std::process::Command::new("script");
    script
        .current_dir(h.dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TERM", "xterm")
        .env("TABLEAU_PAT_NAME", tabops_emulator::DEFAULT_PAT_NAME)
        .env("TABLEAU_PAT_SECRET", &h.pat_secret)
        .args(["-qec", &line, "/dev/null"]);
    if no_color {
        script.env("NO_COLOR", "1");
    }
    Run::of(&mut script)
}

/// On a terminal, the progress bar is drawn and the same per-action lines are printed above it, so clearing the
/// bar at the end leaves the record behind.
#[test]
fn on_a_terminal_the_progress_bar_leaves_the_same_record_behind() {
    let h = Harness::start();
    let manifest = h.copy_example("quickstart", "quickstart");
    let run = on_terminal(&h, &["apply", "-f", path_str(&manifest), "--auto-approve"], true);
    assert_eq!(run.code, 0, "{run:?}");
    // Everything the terminal showed, bar redraws included; the record is there line by line.
    let shown = run.stdout.replace('\r', "");
    for address in ["user:alice@acme.com", "project:Sales/EMEA", "workbook:Sales/EMEA/Revenue"] {
        assert!(shown.contains(&format!("+ {address}: created")), "{address} not in:\n{shown}");
    }
    assert!(shown.contains("applying ["), "the bar was drawn:\n{shown}");
    assert!(shown.contains("Apply complete: 23 action(s) completed."), "{shown}");
}

/// On a terminal, `-vv` logs are coloured, unless `NO_COLOR` is set (no-color.org): then nothing on the terminal
/// carries an ANSI escape.
#[test]
fn on_a_terminal_logs_are_coloured_unless_no_color_is_set() {
    let h = Harness::start();
    let manifest = h.copy_example("quickstart", "quickstart");
    let args = ["-vv", "plan", "-f", path_str(&manifest)];
    let coloured = on_terminal(&h, &args, false);
    assert_eq!(coloured.code, 0, "{coloured:?}");
    assert!(coloured.stdout.contains("\u{1b}["), "colour on a terminal: {:?}", coloured.stdout);
    let plain = on_terminal(&h, &args, true);
    assert_eq!(plain.code, 0, "{plain:?}");
    assert!(plain.stdout.contains("DEBUG") || plain.stdout.contains("INFO"), "-vv logs: {}", plain.stdout);
    assert!(!plain.stdout.contains('\u{1b}'), "NO_COLOR: no ANSI escapes: {:?}", plain.stdout);
}
