//! The audit trail in git (`apply --audit-log git:REF`, `audit verify git:REF`), end to end: real repositories
//! built with git2 in temp dirs, a bare repository as the remote every "CI runner" clones from and pushes to, the
//! real binary, and one emulator per test on 127.0.0.1.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use git2::{Oid, Repository};
use tabops_testkit as support;

use support::{Harness, Run};

const TRAIL: &str = "refs/tabops/audit/acme";
const TARGET: &str = "git:refs/tabops/audit/acme";

/// The remote every runner clones: a bare repository holding the quickstart under `tabops/` on `main`.
fn remote(site: &Harness) -> PathBuf {
    let work = site.dir.path().join("author");
    let repo = support::init_repo(&work);
    support::copy_dir(&support::workspace().join("examples/quickstart"), &work.join("tabops"));
    support::commit_all(&repo, &["tabops"], "quickstart");
    let bare = site.dir.path().join("remote.git");
    let remote = Repository::init_bare(&bare).unwrap();
    let mut origin = repo.remote("origin", support::path_str(&bare)).unwrap();
    let head = repo.head().unwrap().name().unwrap().to_owned();
    origin.push(&[format!("{head}:refs/heads/main")], None).unwrap();
    remote.set_head("refs/heads/main").unwrap();
    bare
}

/// A fresh runner: a clone of the remote (its `origin`), with its own state directory (`.tabops` in the clone).
fn clone(site: &Harness, bare: &Path, name: &str) -> PathBuf {
    let dir = site.dir.path().join(name);
    Repository::clone(support::path_str(bare), &dir).unwrap();
    support::init_repo(&dir);
    dir
}

/// `tabops ARGS` in `cwd` as a CI job runs it, state in the checkout's `.tabops` (a fresh runner's).
fn command(site: &Harness, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = site.ci_command(support::path_str(&support::tabops_bin()), cwd);
    cmd.env_remove("TABOPS_DIR").args(args).envs(env.iter().copied());
    cmd
}

fn apply_args() -> Vec<&'static str> {
    vec!["apply", "-f", "tabops", "--auto-approve", "--audit-log", TARGET]
}

#[track_caller]
fn apply(site: &Harness, cwd: &Path, env: &[(&str, &str)]) -> Run {
    Run::of(&mut command(site, cwd, &apply_args(), env)).expect(0)
}

/// Gives the manifest of `clone` a change, so its apply has something to do (and so something to record).
fn change(clone: &Path, description: &str) {
    support::edit(&clone.join("tabops/manifest.yaml"), "description: Open opportunities by stage", description);
}

fn verify(site: &Harness, repo: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["audit", "verify", TARGET];
    args.extend_from_slice(extra);
    Run::of(&mut command(site, repo, &args, &[]))
}

/// `Audit head: HEX` from an apply's output.
fn printed_head(run: &Run) -> String {
    run.stdout
        .lines()
        .find_map(|line| line.strip_prefix("Audit head: "))
        .unwrap_or_else(|| panic!("no audit head in\n{}", run.stdout))
        .to_owned()
}

/// The trail's commits, oldest first.
fn history(repo: &Path) -> Vec<Oid> {
    let repo = Repository::open(repo).unwrap();
    let mut walk = repo.revwalk().unwrap();
    walk.push_ref(TRAIL).unwrap();
    walk.simplify_first_parent().unwrap();
    let mut ids: Vec<Oid> = walk.map(Result::unwrap).collect();
    ids.reverse();
    ids
}

/// The run files of the trail's head, in order.
fn run_files(repo: &Path) -> Vec<String> {
    let repo = Repository::open(repo).unwrap();
    let tree = repo.find_reference(TRAIL).unwrap().peel_to_tree().unwrap();
    let runs = repo.find_tree(tree.get_name("runs").unwrap().id()).unwrap();
    runs.iter().map(|e| e.name().unwrap().to_owned()).collect()
}

/// `git ARGS` in `cwd`: the attacker's and the auditor's tool (tabops itself never runs git), hermetic.
#[track_caller]
fn git(cwd: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(cwd)
        .args(["-c", "user.name=Mallory", "-c", "user.email=mallory@example.com"])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A copy of the remote to tamper with.
fn copy_of(bare: &Path, name: &str) -> PathBuf {
    let to = bare.with_file_name(name);
    support::copy_dir(bare, &to);
    to
}

/// A commit like `like` (message, author) with `tree` on `parent`.
fn recommit(repo: &Repository, like: Oid, tree: Oid, parent: Option<Oid>) -> Oid {
    let like = repo.find_commit(like).unwrap();
    let tree = repo.find_tree(tree).unwrap();
    let parents: Vec<git2::Commit<'_>> = parent.map(|p| repo.find_commit(p).unwrap()).into_iter().collect();
    let parents: Vec<&git2::Commit<'_>> = parents.iter().collect();
    repo.commit(None, &like.author(), &like.committer(), like.message().unwrap(), &tree, &parents).unwrap()
}

/// `tree` with `runs/<name>` replaced by `content` (or removed with `None`).
fn with_run_file(repo: &Repository, tree: Oid, name: &str, content: Option<&[u8]>) -> Oid {
    let tree = repo.find_tree(tree).unwrap();
    let runs = repo.find_tree(tree.get_name("runs").unwrap().id()).unwrap();
    let mut builder = repo.treebuilder(Some(&runs)).unwrap();
    match content {
        Some(bytes) => {
            builder.insert(name, repo.blob(bytes).unwrap(), 0o100644).unwrap();
        }
        None => builder.remove(name).unwrap(),
    }
    let runs = builder.write().unwrap();
    let mut root = repo.treebuilder(Some(&tree)).unwrap();
    root.insert("runs", runs, 0o040000).unwrap();
    root.write().unwrap()
}

#[test]
fn three_applies_from_three_fresh_clones_make_one_chain_that_verifies_and_tampering_is_detected() {
    let site = Harness::start();
    let bare = remote(&site);
    let github = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_REPOSITORY", "acme/analytics"),
        ("GITHUB_RUN_ID", "7"),
        ("GITHUB_RUN_ATTEMPT", "1"),
        ("GITHUB_ACTOR", "octocat"),
        ("GITHUB_EVENT_NAME", "pull_request"),
        ("GITHUB_REF", "refs/pull/42/merge"),
    ];
    let mut heads = Vec::new();
    for (n, description) in
        ["description: Open opportunities by stage", "description: v2", "description: v3"].into_iter().enumerate()
    {
        let runner = clone(&site, &bare, &format!("runner-{n}"));
        change(&runner, description);
        let run = apply(&site, &runner, if n == 1 { &github } else { &[] });
        assert!(
            run.stdout.contains(&format!(
                "Audit log: {TARGET} ({}, pushed to origin)",
                if n == 0 { "1 run".to_owned() } else { format!("{} runs", n + 1) }
            )),
            "{}",
            run.stdout
        );
        heads.push(printed_head(&run));
    }
    let commits = history(&bare);
    assert_eq!(commits.len(), 3, "one commit per run");
    let files = run_files(&bare);
    assert_eq!(files.len(), 3);
    assert!(files.iter().enumerate().all(|(i, f)| f.starts_with(&format!("{:06}-", i + 1))), "{files:?}");

    let ok = verify(&site, &bare, &[]).expect(0);
    assert!(ok.stdout.contains("ok: 3 runs,"), "{}", ok.stdout);
    assert!(ok.stdout.contains(&format!("head: {}", heads[2])), "the head the last apply printed\n{}", ok.stdout);
    verify(&site, &bare, &["--expect-head", &heads[0]]).expect(0);

    // Who and why: the run applied in the pull request's pipeline names it, in the records and the commit.
    let repo = Repository::open(&bare).unwrap();
    let message = repo.find_commit(commits[1]).unwrap().message().unwrap().to_owned();
    assert!(
        message.contains("Tabops-CI-Run: https://github.com/acme/analytics/actions/runs/7/attempts/1"),
        "{message}"
    );
    assert!(message.contains("Tabops-Pull-Request: 42") && message.contains("Tabops-CI-Actor: octocat"), "{message}");
    assert!(message.contains("Tabops-Manifest-Commit: ") && message.contains("Tabops-Manifest-Author: Test Author"));
    let tree = repo.find_commit(commits[1]).unwrap().tree().unwrap();
    let blob = tree.get_path(Path::new(&format!("runs/{}", files[1]))).unwrap().to_object(&repo).unwrap();
    let first: serde_json::Value =
        serde_json::from_slice(blob.as_blob().unwrap().content().split(|&b| b == b'\n').next().unwrap()).unwrap();
    assert_eq!(first["type"], "apply_start");
    assert_eq!(first["data"]["ci"]["pull_request"], "42");
    assert_eq!(first["prev"], heads[0], "the run links to the previous run's last record");

    // A deleted middle run, by an attacker with git and push rights: run 3 rebased onto run 1, force-pushed.
    let deleted = copy_of(&bare, "deleted.git");
    {
        let attacker = site.dir.path().join("attacker-delete");
        git(site.dir.path(), &["clone", "-q", support::path_str(&deleted), support::path_str(&attacker)]);
        git(&attacker, &["fetch", "-q", "origin", TRAIL]);
        git(&attacker, &["checkout", "-q", "-b", "trail", "FETCH_HEAD"]);
        git(&attacker, &["rebase", "-q", "--onto", &commits[0].to_string(), &commits[1].to_string()]);
        git(&attacker, &["push", "-q", "--force", "origin", &format!("trail:{TRAIL}")]);
        assert_eq!(history(&deleted).len(), 2, "the remote lost a run");
        let run = verify(&site, &deleted, &[]).expect(1);
        let forged = history(&deleted)[1];
        assert!(
            run.stdout.contains(&format!("commit {forged} adds run 3 (runs/{}) where run 2 belongs", files[2])),
            "{}",
            run.stdout
        );
    }

    // An edited record, with the history rebuilt around it so every commit still adds one file.
    let edited = copy_of(&bare, "edited.git");
    {
        let repo = Repository::open(&edited).unwrap();
        let original = repo.find_commit(commits[1]).unwrap();
        let blob = original.tree().unwrap().get_path(Path::new(&format!("runs/{}", files[1]))).unwrap().id();
        let text = String::from_utf8(repo.find_blob(blob).unwrap().content().to_vec()).unwrap();
        let forged_text = text.replacen("\"octocat\"", "\"mallory\"", 1);
        assert_ne!(text, forged_text);
        let tree2 = with_run_file(&repo, original.tree_id(), &files[1], Some(forged_text.as_bytes()));
        let second = recommit(&repo, commits[1], tree2, Some(commits[0]));
        let tree3 = with_run_file(
            &repo,
            repo.find_commit(commits[2]).unwrap().tree_id(),
            &files[1],
            Some(forged_text.as_bytes()),
        );
        let third = recommit(&repo, commits[2], tree3, Some(second));
        repo.reference(TRAIL, third, true, "tamper").unwrap();
        let run = verify(&site, &edited, &[]).expect(1);
        assert!(run.stdout.contains("chain broken"), "{}", run.stdout);

        // The same edit as a new commit on top: named as a change to an earlier run's file.
        let tree4 = with_run_file(
            &repo,
            repo.find_commit(commits[2]).unwrap().tree_id(),
            &files[1],
            Some(forged_text.as_bytes()),
        );
        let fourth = recommit(&repo, commits[2], tree4, Some(commits[2]));
        repo.reference(TRAIL, fourth, true, "tamper").unwrap();
        let run = verify(&site, &edited, &[]).expect(1);
        assert!(run.stdout.contains(&format!("commit {fourth} changes runs/{}", files[1])), "{}", run.stdout);
    }

    // A force-push back to an older head (git push --force of run 2's commit): the chain is valid but shorter. An
    // auditor's clone fetches the trail as docs/git.md says; the head the last apply printed is no longer in it.
    let reset = copy_of(&bare, "reset.git");
    {
        let attacker = site.dir.path().join("attacker-reset");
        git(site.dir.path(), &["clone", "-q", support::path_str(&reset), support::path_str(&attacker)]);
        git(&attacker, &["fetch", "-q", "origin", &format!("{TRAIL}:{TRAIL}")]);
        git(&attacker, &["push", "-q", "--force", "origin", &format!("{}:{TRAIL}", commits[1])]);
        let auditor = site.dir.path().join("auditor");
        git(site.dir.path(), &["clone", "-q", support::path_str(&reset), support::path_str(&auditor)]);
        git(&auditor, &["fetch", "-q", "origin", &format!("{TRAIL}:{TRAIL}")]);
        let shorter = verify(&site, &auditor, &[]).expect(0);
        assert!(shorter.stdout.contains("ok: 2 runs,"), "{}", shorter.stdout);
        let run = verify(&site, &auditor, &["--expect-head", &heads[2]]).expect(1);
        assert!(
            run.stdout.contains(&format!("the head {} recorded earlier is not in the chain", heads[2])),
            "{}",
            run.stdout
        );
        verify(&site, &auditor, &["--expect-head", &heads[1]]).expect(0);
    }
}

/// Reads `child`'s stderr up to the line saying it paused at `point` (see `TABOPS_DEBUG_PAUSE`), and returns the
/// rest of the stream.
fn wait_for_pause(child: &mut std::process::Child, point: &str) -> BufReader<std::process::ChildStderr> {
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let mut line = String::new();
    while !line.contains(&format!("paused at {point}")) {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "the apply ended before the pause point:\n{seen}");
        seen.push_str(&line);
    }
    stderr
}

/// Two applies race on one trail, and the race is forced: both are held (`TABOPS_DEBUG_PAUSE`) after committing
/// their run on the same remote head, then released together, so both pushes name the same old value and one is
/// refused. That one fetches, rebuilds its run on the winner's and pushes again: both land, on one verified line.
#[test]
fn two_concurrent_applies_both_land_in_one_linear_chain() {
    // Each job its own token: Tableau Cloud keeps one session per personal access token.
    let config = tabops_emulator::EmulatorConfig {
        pats: vec![(tabops_emulator::DEFAULT_PAT_NAME.into(), "secret-a".into()), ("ci-b".into(), "secret-b".into())],
        ..Default::default()
    };
    let site = Harness::start_with(config, "secret-a");
    let bare = remote(&site);
    let first = clone(&site, &bare, "first");
    apply(&site, &first, &[]);
    let runners: Vec<PathBuf> = (0..2).map(|n| clone(&site, &bare, &format!("racer-{n}"))).collect();
    // Different values of one field: whichever plans after the other applied still has a change to make.
    for (n, runner) in runners.iter().enumerate() {
        change(runner, &format!("description: raced {n}"));
    }
    let resume = site.dir.path().join("resume");
    let tokens = [(tabops_emulator::DEFAULT_PAT_NAME, "secret-a"), ("ci-b", "secret-b")];
    let mut children: Vec<_> = runners
        .iter()
        .zip(tokens)
        .map(|(runner, (name, secret))| {
            let env = [
                ("TABOPS_DEBUG_PAUSE", "after-audit-commit"),
                ("TABOPS_DEBUG_RESUME", support::path_str(&resume)),
                ("TABLEAU_PAT_NAME", name),
                ("TABLEAU_PAT_SECRET", secret),
            ];
            command(&site, runner, &apply_args(), &env).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
        })
        .collect();
    let stderrs: Vec<_> = children.iter_mut().map(|child| wait_for_pause(child, "after-audit-commit")).collect();
    for runner in &runners {
        assert_eq!(history(runner).len(), 2, "each racer committed its run on run 1, locally");
    }
    std::fs::write(&resume, "").unwrap();
    let mut runs_reported = Vec::new();
    for (mut child, mut stderr) in children.into_iter().zip(stderrs) {
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
        let mut stdout = String::new();
        std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut stdout).unwrap();
        assert!(child.wait().unwrap().success(), "{stdout}\n{rest}");
        let line = stdout.lines().find(|l| l.starts_with("Audit log: ")).unwrap_or_else(|| panic!("{stdout}"));
        runs_reported.push(line.to_owned());
    }
    runs_reported.sort();
    assert_eq!(
        runs_reported,
        [
            format!("Audit log: {TARGET} (2 runs, pushed to origin)"),
            format!("Audit log: {TARGET} (3 runs, pushed to origin)")
        ],
        "the first push landed as run 2; the refused one was rebuilt as run 3"
    );
    assert_eq!(history(&bare).len(), 3, "both runs landed, on one line");
    let run = verify(&site, &bare, &[]).expect(0);
    assert!(run.stdout.contains("ok: 3 runs,"), "{}", run.stdout);
}

/// The kill is placed exactly with a pause point that only debug builds honour (`TABOPS_DEBUG_PAUSE`, see
/// `tabops_apply::trail`): the binary says it paused on stderr, and the test SIGKILLs it for real.
#[test]
fn a_kill_between_the_local_commit_and_the_push_is_recovered_by_the_next_run() {
    let site = Harness::start();
    let bare = remote(&site);
    let runner = clone(&site, &bare, "runner");
    apply(&site, &runner, &[]);
    change(&runner, "description: killed");
    let mut child = command(&site, &runner, &apply_args(), &[("TABOPS_DEBUG_PAUSE", "after-audit-commit")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _stderr = wait_for_pause(&mut child, "after-audit-commit");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(history(&bare).len(), 1, "the killed run never reached the remote");
    assert_eq!(history(&runner).len(), 2, "but it was committed locally");
    let killed = run_files(&runner).pop().unwrap();
    let committed = history(&runner);

    // The next run (nothing left to change on the site) publishes it first.
    let next = Run::of(&mut command(&site, &runner, &apply_args(), &[])).expect(0);
    assert!(!next.stderr.contains("error"), "{}", next.stderr);
    assert_eq!(run_files(&bare).last(), Some(&killed), "the killed run is on the remote, nothing lost");
    assert_eq!(history(&bare), committed, "exactly the commit the killed run made, unchanged");
    let repo = Repository::open(&bare).unwrap();
    let tree = repo.find_reference(TRAIL).unwrap().peel_to_tree().unwrap();
    let blob = tree.get_path(Path::new(&format!("runs/{killed}"))).unwrap().to_object(&repo).unwrap();
    let records = String::from_utf8(blob.as_blob().unwrap().content().to_vec()).unwrap();
    let whole = ["\"action_complete\"", "workbook:Sales/Pipeline", "\"apply_complete\""];
    assert!(whole.iter().all(|part| records.contains(part)), "the whole run: {records}");
    verify(&site, &bare, &[]).expect(0);
}
