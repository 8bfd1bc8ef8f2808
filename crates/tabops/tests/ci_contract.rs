//! The CI contract, through the real binary: usage errors exit 1 (never 2, which means "changes present"), the
//! first pull request plans against a base without a manifest, plan, drift and validate need no connection secrets
//! while apply names each missing one before its first write, and a republish reads as the in-place change it is,
//! naming the digest `sha256sum` prints. Each scenario is a transcript snapshot: the command lines, their exit
//! codes and what they print.

use std::path::{Path, PathBuf};

use tabops_testkit::run::tabops_command;

use tabops_testkit as support;

use support::{Harness, Run, regex_escape, transcript_step};

/// What CI variables for "no previous commit" hold (GitHub `event.before` on a new branch, GitLab
/// `CI_COMMIT_BEFORE_SHA` in merge-request pipelines).
const NULL_COMMIT: &str = "0000000000000000000000000000000000000000";

/// `tabops ARGS` in `cwd` with nothing but PATH, NO_COLOR and `env` set (no site flags: for commands that take
/// none, and for usage errors).
fn tabops_plain(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    Run::of(tabops_command(cwd).envs(env.iter().copied()).args(args))
}

fn filters(root: &Path) -> insta::Settings {
    let mut settings = tabops_testkit::transcript_filters(root);
    settings.add_filter(&regex_escape(&support::workspace().display().to_string()), "[ROOT]");
    settings.add_filter(r"/tmp/[^\s)`']+", "[TMP]");
    settings.add_filter(r"tabops \d+\.\d+\.\d+", "tabops [VERSION]");
    settings
}

/// The subcommands `tabops --help` lists (besides `help`), so a new one cannot escape the usage-error test.
fn subcommands(cwd: &Path) -> Vec<String> {
    let help = tabops_plain(cwd, &["--help"], &[]);
    assert_eq!(help.code, 0, "{}", help.stderr);
    help.stdout
        .lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .filter(|line| line.starts_with("  ") && !line.starts_with("   ")) // not a wrapped description
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn usage_errors_exit_1_not_the_changes_code_and_help_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let commands = subcommands(dir.path());
    for expected in ["validate", "plan", "apply", "drift", "audit", "emulator", "export", "report"] {
        assert!(commands.iter().any(|c| c == expected), "`{expected}` missing from --help: {commands:?}");
    }
    // The issue's two examples, every subcommand with a flag it does not have, and the other kinds of usage error.
    let mut cases: Vec<Vec<String>> =
        vec![vec!["drift".into(), "--formt".into(), "markdown".into()], vec!["plan".into(), "extra-arg".into()]];
    cases.extend(commands.iter().map(|c| vec![c.clone(), "--no-such-flag".into()]));
    cases.extend([
        vec!["audit".into(), "verify".into(), "--no-such-flag".into()],
        vec!["report".into(), "access".into(), "--no-such-flag".into()],
        vec!["report".into(), "usage".into(), "--stale-days".into(), "soon".into()],
        vec!["report".into(), "access".into(), "--capability".into(), "Fly".into()],
        vec!["plan".into(), "--concurrency".into(), "99".into()],
        vec!["drift".into(), "--format".into(), "yaml".into()],
        vec!["audit".into()],
        vec!["no-such-command".into()],
        vec![],
    ]);
    let mut transcript = String::new();
    for case in &cases {
        let args: Vec<&str> = case.iter().map(String::as_str).collect();
        let run = tabops_plain(dir.path(), &args, &[]);
        assert_eq!(run.code, 1, "`tabops {}` must exit 1 (invalid input)\n{}", args.join(" "), run.stderr);
        assert!(run.stdout.is_empty() && !run.stderr.is_empty(), "usage errors go to stderr: {run:?}");
        // A missing subcommand prints the help text (other commands' descriptions): keep its usage line only.
        let shown = if run.stderr.starts_with("error:") {
            run
        } else {
            let usage = run.stderr.lines().find(|l| l.starts_with("Usage:")).unwrap_or_default();
            Run { stderr: format!("[help text]\n{usage}\n[help text]\n"), ..run }
        };
        transcript.push_str(&transcript_step(&args, &shown));
    }
    filters(dir.path()).bind(|| insta::assert_snapshot!("usage_errors_exit_1", transcript));

    // Asking for help or the version is not an error.
    let mut asked: Vec<Vec<&str>> =
        vec![vec!["--help"], vec!["-h"], vec!["--version"], vec!["-V"], vec!["help", "plan"]];
    asked.extend(commands.iter().map(|c| vec![c.as_str(), "--help"]));
    for args in asked {
        let run = tabops_plain(dir.path(), &args, &[]);
        assert_eq!(run.code, 0, "`tabops {}` must exit 0\n{}", args.join(" "), run.stderr);
        assert!(!run.stdout.is_empty() && run.stderr.is_empty(), "help and version go to stdout: {run:?}");
    }
}

/// A repository whose `origin/main` has no manifest yet (only a README) and whose HEAD is the first pull request,
/// which adds the quickstart as `tabops/`. Returns the commit of `origin/main`.
fn first_pull_request(dir: &Path) -> git2::Oid {
    let repo = support::init_repo(dir);
    std::fs::write(dir.join("README.md"), "# BI platform\n").unwrap();
    let main = support::commit_all(&repo, &["README.md"], "initial commit");
    repo.reference("refs/remotes/origin/main", main, true, "fetched").unwrap();
    support::copy_dir(&support::workspace().join("examples/quickstart"), &dir.join("tabops"));
    support::commit_all(&repo, &["tabops"], "add the tabops manifest");
    main
}

/// A clone of `from` holding only its latest commit, as CI checkouts are by default.
fn shallow_clone(site: &Harness, from: &Path, to: &Path) {
    let url = format!("file://{}", from.display());
    let run = Run::of(site.ci_command("git", site.dir.path()).args(["clone", "-q", "--depth", "1", &url]).arg(to));
    assert_eq!(run.code, 0, "git clone failed: {}", run.stderr);
}

#[test]
fn first_pull_request_plans_against_a_base_without_a_manifest() {
    let site = Harness::start();
    let repo = site.dir.path().join("repo");
    let main = first_pull_request(&repo);
    let mut transcript = String::new();
    let mut run = |cwd: &Path, args: &[&str], code: i32| {
        let result = site.tabops_in(cwd, args);
        assert_eq!(result.code, code, "`tabops {}`\n{}\n{}", args.join(" "), result.stdout, result.stderr);
        // The plans themselves are pinned elsewhere: keep the review's heading and the summaries.
        let summary = ["Changes in this pull request", "Changed in git, not applied yet", "Plan:", "Apply complete"];
        let stdout: String = result
            .stdout
            .lines()
            .filter(|line| summary.iter().any(|s| line.starts_with(s)))
            .map(|line| format!("{line}\n"))
            .collect();
        // What apply printed per action is `cli_output`'s subject.
        let shown = Run { stdout, stderr: result.stderr.clone(), code: result.code }.without_action_lines();
        transcript.push_str(&transcript_step(args, &shown));
        result
    };

    // The base branch exists but has no manifest: an empty base, said in one note; everything is added.
    let plan = run(&repo, &["plan", "--base", "origin/main", "--detailed-exitcode"], 2);
    assert_eq!(plan.stderr.matches("note:").count(), 1, "{}", plan.stderr);
    assert!(plan.stdout.contains(" added, 0 changed, 0 removed"), "{}", plan.stdout);
    // The commit before a new branch's first push: the all-zero id, also an empty base.
    let zero = run(&repo, &["plan", "--base", NULL_COMMIT], 0);
    assert_eq!(zero.stderr.matches("note:").count(), 1, "{}", zero.stderr);
    // drift and apply take the same base.
    run(&repo, &["drift", "--base", "origin/main"], 2);
    run(&repo, &["apply", "--base", NULL_COMMIT, "--auto-approve"], 0);
    // A base that does not exist is still an error, with a hint instead of libgit2's codes.
    let missing = run(&repo, &["plan", "--base", "origin/no-such-branch"], 1);
    assert!(!missing.stderr.contains("class=") && missing.stderr.contains("hint:"), "{}", missing.stderr);

    // In a shallow clone the base commit is not there: the hint says how to fetch it.
    let shallow = site.dir.path().join("shallow");
    shallow_clone(&site, &repo, &shallow);
    let main = main.to_string();
    let cut = run(&shallow, &["plan", "--base", &main], 1);
    assert!(cut.stderr.contains("fetch-depth: 0") && !cut.stderr.contains("class="), "{}", cut.stderr);
    let cut = run(&shallow, &["plan", "--git-ref", &main], 1);
    assert!(cut.stderr.contains("fetch-depth: 0"), "--git-ref gets the same hint: {}", cut.stderr);
    filters(site.dir.path()).bind(|| insta::assert_snapshot!("first_pull_request", transcript));
}

fn enterprise() -> PathBuf {
    support::workspace().join("examples/enterprise")
}

#[test]
fn plans_need_no_connection_secrets_and_apply_names_each_missing_one_once() {
    // The enterprise example reads three database passwords from the environment; none is set here.
    let mut site = Harness::start();
    let secrets = std::mem::take(&mut site.env);
    let manifest = enterprise();
    let manifest = support::path_str(&manifest);
    let plan_file = site.dir.path().join("plan.json");
    let plan_file = support::path_str(&plan_file);
    let mut transcript = String::new();

    // validate: warnings, exit 0; with --strict they are errors.
    let args = ["validate", "-f", manifest];
    let validate = tabops_plain(site.dir.path(), &args, &[]);
    assert_eq!(validate.code, 0, "{}", validate.stderr);
    assert!(validate.stderr.contains("warning: environment variable `SALES_DB_PASSWORD` is not set"));
    assert_eq!(validate.stderr.matches("hint:").count(), 1, "one hint for all warnings: {}", validate.stderr);
    transcript.push_str(&transcript_step(&args, &validate));
    let args = ["validate", "-f", manifest, "--strict"];
    let strict = tabops_plain(site.dir.path(), &args, &[]);
    assert_eq!(strict.code, 1, "{}", strict.stderr);
    assert!(strict.stderr.contains("error: environment variable `SALES_DB_PASSWORD` is not set"));
    let last = strict.stderr.lines().last().unwrap_or_default();
    transcript.push_str(&format!("$ tabops {}\n[exit 1]\n--- stderr (last line)\n{last}\n\n", args.join(" ")));

    // plan and drift: no secret needed; the saved plan holds only the references.
    let plan = site.tabops(&["plan", "-f", manifest, "--out", plan_file]).expect(0);
    assert!(!plan.stderr.contains("not set"), "{}", plan.stderr);
    let saved = std::fs::read_to_string(plan_file).unwrap();
    for name in ["SALES_DB_PASSWORD", "FINANCE_DB_PASSWORD", "OPS_DB_PASSWORD"] {
        assert!(saved.contains(&format!("${{env:{name}}}")), "the plan shows the reference to {name}");
    }
    let drift = site.tabops(&["drift", "-f", manifest]);
    assert_eq!(drift.code, 2, "the empty site differs; drift needs no secret\n{}", drift.stderr);

    // apply: every variable it needs, each once, before anything is written.
    let writes_before = support::content_writes(&site.stats());
    let args = ["apply", "-f", manifest, "--auto-approve"];
    let refused = site.tabops(&args).expect(1);
    transcript.push_str(&transcript_step(&args, &Run { stdout: String::new(), ..refused }));
    // A secret a CI system expands to "" (GitHub does for one that is not defined) counts as missing.
    let args = ["apply", plan_file, "-f", manifest];
    let refused_saved = site.tabops_env(&args, &[("SALES_DB_PASSWORD", "")]).expect(1);
    assert!(refused_saved.stderr.contains("needs 3 connection password variable(s)"), "{}", refused_saved.stderr);
    assert_eq!(support::content_writes(&site.stats()), writes_before, "nothing written without the secrets");
    filters(site.dir.path()).bind(|| insta::assert_snapshot!("plans_need_no_connection_secrets", transcript));

    // The plan made without secrets is applied with them: re-planned, it is the same plan.
    let env: Vec<(&str, &str)> = secrets.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let applied = site.tabops_env(&["apply", plan_file, "-f", manifest], &env);
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    let audit = std::fs::read_to_string(site.audit_log()).unwrap();
    for (_, value) in &secrets {
        assert!(!audit.contains(value.as_str()), "a secret reached the audit log");
    }
    site.env = secrets;
    site.assert_converged(Path::new(manifest));
}

/// A changed workbook is published over the live item, which keeps its id: the plan shows it as an in-place change
/// (`~`, "republish: content changed"), never as `-/+`, and its reason names the file's digest as `sha256sum`
/// prints it, so a reviewer can check which file is going out.
#[test]
fn a_changed_workbook_is_republished_in_place_and_named_by_its_sha256sum_digest() {
    let site = Harness::start();
    let root = site.dir.path().join("repo");
    support::copy_dir(&support::workspace().join("examples/quickstart"), &root);
    let manifest = root.join("manifest.yaml");
    let manifest = support::path_str(&manifest);
    site.tabops(&["apply", "-f", manifest, "--auto-approve"]).expect(0);

    let workbook = root.join("content/pipeline.twb");
    let mut text = std::fs::read_to_string(&workbook).unwrap();
    text.push_str("<!-- edited in the pull request -->\n");
    std::fs::write(&workbook, text).unwrap();
    let sha256sum = std::process::Command::new("sha256sum").arg(&workbook).output().expect("sha256sum runs");
    let digest = String::from_utf8(sha256sum.stdout).unwrap();
    let digest = digest.split_whitespace().next().expect("sha256sum prints a digest").to_owned();

    let args = ["plan", "-f", manifest, "--detailed-exitcode"];
    let plan = site.tabops(&args).expect(2);
    assert!(plan.stdout.contains("  ~ workbook:Sales/Pipeline\n"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("-/+"), "{}", plan.stdout);
    let reason = format!("# republish: content changed (content/pipeline.twb, sha256 {}…; marker ", &digest[..12]);
    assert!(plan.stdout.contains(&reason), "{}", plan.stdout);
    let json = site.tabops(&["plan", "-f", manifest, "--format", "json"]).expect(0);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let action = json["actions"].as_array().unwrap().iter().find(|a| a["id"] == "workbook:Sales/Pipeline").unwrap();
    assert_eq!(action["action"], "replace", "plan JSON keeps its format_version 1 name");
    assert!(action["live_id"].is_string(), "published over the live item: {action}");
    let transcript = transcript_step(&args, &plan);
    filters(site.dir.path()).bind(|| insta::assert_snapshot!("republish_in_place", transcript));

    site.tabops(&["apply", "-f", manifest, "--auto-approve"]).expect(0);
    site.tabops(&["plan", "-f", manifest, "--detailed-exitcode"]).expect(0);
}
