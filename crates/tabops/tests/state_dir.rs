//! Where local state lives, through the real binary: without `--state-dir`/`TABOPS_DIR`, `.tabops/` (the embedded
//! site and the default audit log) is at the root of the manifest's git repository, else beside the manifest, so
//! `plan`, `apply`, `export` and `audit verify` find the same site and log from any working directory. The state
//! directory carries a `.gitignore` that keeps it out of git. Each scenario is a transcript snapshot.

use std::path::Path;

use tabops_testkit as support;

use support::run::tabops_command;
use support::{Run, commit_all, copy_dir, init_repo, regex_escape, transcript_step, workspace};

fn filters(root: &Path) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&regex_escape(&root.display().to_string()), "[TMP]");
    settings.add_filter(r"\b[0-9a-f]{64}\b", "[HEX]");
    settings.add_filter(r"\d+ lines, \d+ runs?", "[N] lines, [N] runs");
    settings.add_filter(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "[UUID]");
    settings
}

/// `tabops ARGS` in `cwd` with a clean environment (no `TABOPS_DIR`), the quickstart's one connection password
/// set; one transcript step, showing `cwd` relative to `root` and of stdout only the lines `keep` selects.
fn step(root: &Path, cwd: &Path, args: &[&str], keep: fn(&str) -> bool) -> (Run, String) {
    let mut cmd = tabops_command(cwd);
    cmd.envs(support::DB_PASSWORDS.iter().copied()).args(args);
    let run = Run::of(&mut cmd);
    let shown: String = run.stdout.lines().filter(|l| keep(l)).map(|l| format!("{l}\n")).collect();
    let at = cwd.strip_prefix(root).unwrap().display().to_string();
    let head = format!("# in {}\n", if at.is_empty() { "." } else { &at });
    // An apply's per-action lines (their order and times vary) are counted, not shown.
    let actions = run.stderr.lines().filter(|l| l.starts_with(['+', '~', '-', '!'])).count();
    let rest: String =
        run.stderr.lines().filter(|l| !l.starts_with(['+', '~', '-', '!'])).map(|l| format!("{l}\n")).collect();
    let stderr = if actions == 0 { rest } else { format!("[{actions} action lines]\n{rest}") };
    let step = transcript_step(args, &Run { code: run.code, stdout: shown, stderr });
    (run, head + &step)
}

fn all(_: &str) -> bool {
    true
}

fn summary(line: &str) -> bool {
    line.starts_with("Apply complete") || line.starts_with("Audit log") || line.starts_with("No changes")
}

/// Untracked or changed paths git sees in the repository (ignored files are not listed).
fn git_status(repo: &git2::Repository) -> Vec<String> {
    let mut options = git2::StatusOptions::new();
    options.include_untracked(true).recurse_untracked_dirs(true);
    repo.statuses(Some(&mut options)).unwrap().iter().filter_map(|e| e.path().map(str::to_owned)).collect()
}

#[test]
fn state_lives_at_the_repository_root_whatever_the_working_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    let repo_dir = root.join("repo");
    copy_dir(&workspace().join("examples/quickstart"), &repo_dir.join("tabops"));
    let repo = init_repo(&repo_dir);
    commit_all(&repo, &["*"], "the quickstart manifest");
    let subdir = repo_dir.join("tabops/content");
    let mut transcript = String::new();

    // apply from the repository's root: the embedded site and the audit log go to `.tabops/` there.
    let (run, shown) = step(&root, &repo_dir, &["apply", "-f", "tabops", "--auto-approve"], summary);
    transcript.push_str(&shown);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let state = repo_dir.join(".tabops");
    assert!(state.join("local/acme.json").is_file() && state.join("audit.jsonl").is_file());
    let ignore = std::fs::read_to_string(state.join(".gitignore")).unwrap();
    assert!(ignore.lines().any(|l| l == "*"), "{ignore}");
    assert!(git_status(&repo).is_empty(), "git sees the state: {:?}", git_status(&repo));

    // plan from a subdirectory of the checkout plans against the same site: nothing to do.
    let (run, shown) = step(&root, &subdir, &["plan", "-f", "..", "--detailed-exitcode"], all);
    transcript.push_str(&shown);
    assert_eq!(run.code, 0, "a new, empty site was planned against:\n{}{}", run.stdout, run.stderr);
    assert!(!subdir.join(".tabops").exists() && !repo_dir.join("tabops/.tabops").exists());

    // audit verify from the subdirectory reads the log apply wrote at the root.
    let (run, shown) = step(&root, &subdir, &["audit", "verify"], all);
    transcript.push_str(&shown);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("hash chain intact"), "{}", run.stdout);

    // export from the subdirectory, into the checkout, reads the same embedded site.
    let (run, shown) =
        step(&root, &subdir, &["export", "--server", "local", "--site", "acme", "--out", "../../exported"], |_| false);
    transcript.push_str(&shown);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let people = std::fs::read_to_string(repo_dir.join("exported/people.yaml")).unwrap();
    assert!(people.contains("alice@acme.com"), "export read another site:\n{people}");
    assert!(!subdir.join(".tabops").exists() && !repo_dir.join("exported/.tabops").exists());

    // Outside any repository, `.tabops/` is beside the manifest, found the same from a subdirectory.
    let plain = root.join("plain");
    copy_dir(&workspace().join("examples/quickstart"), &plain.join("site"));
    transcript.push_str("# outside git\n");
    let (run, shown) = step(&root, &plain, &["apply", "-f", "site", "--auto-approve"], summary);
    transcript.push_str(&shown);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(plain.join(".tabops/local/acme.json").is_file());
    let (run, shown) = step(&root, &plain.join("site/content"), &["plan", "-f", "..", "--detailed-exitcode"], all);
    transcript.push_str(&shown);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let (run, shown) = step(&root, &plain.join("site"), &["audit", "verify", "--manifest", "."], all);
    transcript.push_str(&shown);
    assert_eq!(run.code, 0, "{}", run.stderr);

    filters(&root).bind(|| insta::assert_snapshot!("state_lives_at_the_repository_root", transcript));
}
