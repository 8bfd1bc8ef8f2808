//! Where the audit log is, through the real binary: `tabops audit verify` without a path reads the log `apply`
//! wrote, wherever the same environment put it (`TABOPS_DIR`, `TABOPS_AUDIT_LOG`), instead of a fixed
//! `.tabops/audit.jsonl`. Each scenario is a transcript snapshot: the command lines, exit codes and output.

use std::path::Path;

use tabops_testkit as support;

use support::{Harness, Run, regex_escape, transcript_step};

fn filters(root: &Path) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&regex_escape(&root.display().to_string()), "[TMP]");
    settings.add_filter(r"\b[0-9a-f]{64}\b", "[HEX]");
    settings.add_filter(r"\d+ lines?, \d+ runs?,", "[N] lines, [N] runs,");
    settings
}

/// `tabops ARGS` in `cwd` with the CI environment (`TABOPS_DIR`, `TABLEAU_*`) and `extra` on top; one transcript
/// step (of an apply, only its last two lines: the summary and where the audit log is).
fn step(site: &Harness, cwd: &Path, args: &[&str], extra: &[(&str, &str)]) -> (Run, String) {
    let mut cmd = site.ci_command(env!("CARGO_BIN_EXE_tabops"), cwd);
    cmd.envs(site.env.iter().map(|(k, v)| (k, v))).envs(extra.iter().copied()).args(args);
    // What apply printed per action is `cli_output`'s subject.
    let run = Run::of(&mut cmd).without_action_lines();
    let shown = if args[0] == "apply" {
        let lines: Vec<&str> = run.stdout.lines().collect();
        let tail = lines[lines.len().saturating_sub(2)..].join("\n");
        transcript_step(args, &Run { code: run.code, stdout: format!("[plan]\n{tail}\n"), stderr: run.stderr.clone() })
    } else {
        transcript_step(args, &run)
    };
    (run, shown)
}

#[test]
fn audit_verify_finds_the_log_apply_wrote_under_tabops_dir_or_tabops_audit_log() {
    let site = Harness::start();
    site.copy_example("quickstart", "tabops");
    let cwd = site.dir.path();
    let mut transcript = String::new();

    // TABOPS_DIR (set by the CI environment): apply writes STATE/audit.jsonl, and verify reads it from there.
    transcript.push_str(&format!("# TABOPS_DIR={}\n\n", site.state_dir().display()));
    let (apply, shown) = step(&site, cwd, &["apply", "--auto-approve"], &[]);
    transcript.push_str(&shown);
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    assert!(site.state_dir().join("audit.jsonl").is_file());
    assert!(!cwd.join(".tabops/audit.jsonl").exists(), "nothing is written to the default state directory");
    let (verify, shown) = step(&site, cwd, &["audit", "verify"], &[]);
    transcript.push_str(&shown);
    assert_eq!(verify.code, 0, "{}", verify.stderr);
    assert!(verify.stdout.contains("hash chain intact"), "{}", verify.stdout);

    // TABOPS_AUDIT_LOG wins over TABOPS_DIR, for apply and verify alike.
    let custom = cwd.join("logs/tabops-audit.jsonl");
    let custom = custom.to_str().unwrap();
    support::edit(&cwd.join("tabops/manifest.yaml"), "full_name: Carol Chen", "full_name: Carol Chen-Smith");
    transcript.push_str(&format!("# TABOPS_AUDIT_LOG={custom}, TABOPS_DIR as before\n\n"));
    let (apply, shown) = step(&site, cwd, &["apply", "--auto-approve"], &[("TABOPS_AUDIT_LOG", custom)]);
    transcript.push_str(&shown);
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    let (verify, shown) = step(&site, cwd, &["audit", "verify"], &[("TABOPS_AUDIT_LOG", custom)]);
    transcript.push_str(&shown);
    assert_eq!(verify.code, 0, "{}", verify.stderr);
    assert!(verify.stdout.contains(&format!("ok: {} lines", count_lines(custom))), "{}", verify.stdout);

    // An explicit path still wins over both.
    let state_log = site.state_dir().join("audit.jsonl");
    let (verify, shown) =
        step(&site, cwd, &["audit", "verify", state_log.to_str().unwrap()], &[("TABOPS_AUDIT_LOG", custom)]);
    transcript.push_str(&shown);
    assert_eq!(verify.code, 0, "{}", verify.stderr);
    assert!(verify.stdout.contains(&format!("ok: {} lines", count_lines(state_log.to_str().unwrap()))));

    filters(cwd).bind(|| insta::assert_snapshot!("audit_verify_follows_tabops_dir_and_tabops_audit_log", transcript));
}

fn count_lines(path: &str) -> usize {
    std::fs::read_to_string(path).unwrap().lines().count()
}
