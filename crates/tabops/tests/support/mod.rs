//! Shared helpers of the end-to-end tests: an emulator running in the test process (on its own multi-thread
//! runtime, so it keeps serving while the test blocks on the real `tabops` binary), commands pointed at it with
//! temp-dir state and audit log, and copies of the example manifests the tests may edit.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use tabops_emulator::{Emulator, EmulatorConfig, Stats};

/// Dummy database passwords the enterprise example needs.
pub const DB_PASSWORDS: [(&str, &str); 3] =
    [("SALES_DB_PASSWORD", "dev-sales"), ("FINANCE_DB_PASSWORD", "dev-finance"), ("OPS_DB_PASSWORD", "dev-ops")];

/// The result of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Runs `cmd` to completion and captures its exit code and output.
    pub fn of(cmd: &mut Command) -> Run {
        let output = cmd.output().unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Panics with both streams when the exit code is not `code`.
    #[track_caller]
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(self.code, code, "unexpected exit code\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }
}

/// One emulator, a temp dir for state/audit/copied manifests, and the environment the binary runs with.
pub struct Harness {
    // Field order matters: the emulator is dropped before its runtime.
    emulator: Option<Emulator>,
    runtime: tokio::runtime::Runtime,
    pub dir: tempfile::TempDir,
    pub pat_secret: String,
    pub env: Vec<(String, String)>,
}

impl Harness {
    pub fn start() -> Harness {
        Harness::start_with(EmulatorConfig::default(), tabops_emulator::DEFAULT_PAT_SECRET)
    }

    /// Starts an emulator from `config`; `pat_secret` is what the binary signs in with (name `tabops`).
    pub fn start_with(config: EmulatorConfig, pat_secret: &str) -> Harness {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let emulator = runtime.block_on(Emulator::start(config)).unwrap();
        let env = DB_PASSWORDS.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Harness {
            emulator: Some(emulator),
            runtime,
            dir: tempfile::tempdir().unwrap(),
            pat_secret: pat_secret.to_owned(),
            env,
        }
    }

    pub fn url(&self) -> String {
        self.emulator().url()
    }

    pub fn stats(&self) -> Stats {
        self.emulator().stats()
    }

    fn emulator(&self) -> &Emulator {
        self.emulator.as_ref().expect("emulator running")
    }

    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    pub fn audit_log(&self) -> PathBuf {
        self.dir.path().join("audit.jsonl")
    }

    /// Copies `examples/<name>` into the temp dir (under `dest`) and returns the copy's path.
    pub fn copy_example(&self, name: &str, dest: &str) -> PathBuf {
        let to = self.dir.path().join(dest);
        copy_dir(&workspace().join("examples").join(name), &to);
        to
    }

    /// Runs `tabops ARGS --server URL --site acme --state-dir TMP [--audit-log TMP]` with a clean environment (the
    /// audit log for the commands that write one).
    pub fn tabops(&self, args: &[&str]) -> Run {
        self.tabops_env(args, &[])
    }

    pub fn tabops_env(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Run {
        let url = self.url();
        let state = self.state_dir();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tabops"));
        cmd.current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("NO_COLOR", "1")
            .env("TABLEAU_PAT_NAME", tabops_emulator::DEFAULT_PAT_NAME)
            .env("TABLEAU_PAT_SECRET", &self.pat_secret)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .envs(extra_env.iter().copied())
            .args(args)
            .args(["--server", &url, "--site", "acme", "--state-dir"])
            .arg(&state);
        if matches!(args.first(), Some(&"apply" | &"export")) {
            cmd.arg("--audit-log").arg(self.audit_log());
        }
        Run::of(&mut cmd)
    }

    /// `program` in `cwd`, configured the way a CI job configures tabops: the site from `TABLEAU_*` variables
    /// (no flags), a hermetic HOME and git configuration, and the built binary first on PATH. State goes under the
    /// temp dir (`TABOPS_DIR`; remove it to test the default, `.tabops` in the working directory).
    pub fn ci_command(&self, program: &str, cwd: &Path) -> Command {
        let binary = PathBuf::from(env!("CARGO_BIN_EXE_tabops"));
        let path = std::env::join_paths(
            std::iter::once(binary.parent().unwrap().to_path_buf())
                .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
        )
        .unwrap();
        let home = self.dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let mut cmd = Command::new(program);
        cmd.current_dir(cwd)
            .env_clear()
            .env("PATH", path)
            .env("HOME", &home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1")
            .env("TABLEAU_SERVER", self.url())
            .env("TABLEAU_SITE", "acme")
            .env("TABLEAU_PAT_NAME", tabops_emulator::DEFAULT_PAT_NAME)
            .env("TABLEAU_PAT_SECRET", &self.pat_secret)
            .env("TABOPS_DIR", self.state_dir());
        cmd
    }

    /// `tabops ARGS` in `cwd`, configured as in CI (see [`Harness::ci_command`]).
    pub fn tabops_in(&self, cwd: &Path, args: &[&str]) -> Run {
        Run::of(self.ci_command(env!("CARGO_BIN_EXE_tabops"), cwd).args(args))
    }

    /// `tabops ARGS` in `cwd`, expected to succeed; its standard output.
    #[track_caller]
    pub fn ok_in(&self, cwd: &Path, args: &[&str]) -> String {
        let run = self.tabops_in(cwd, args);
        assert_eq!(run.code, 0, "tabops {args:?} failed\n--- stdout\n{}\n--- stderr\n{}", run.stdout, run.stderr);
        run.stdout
    }

    /// A REST client signed in to the emulator with the harness's token, to set up or inspect the site directly.
    pub fn client(&self) -> tabops_tableau::Client {
        let url = url::Url::parse(&self.url()).unwrap();
        let credentials = tabops_tableau::Credentials::Pat {
            name: tabops_emulator::DEFAULT_PAT_NAME.to_owned(),
            secret: self.pat_secret.clone().into(),
        };
        self.block_on(tabops_tableau::Client::sign_in(tabops_tableau::ClientConfig::new(url, "acme", credentials)))
            .expect("sign in to the emulator")
    }

    /// Runs a future (a client talking to the emulator, say) on the harness's runtime.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// `apply -f MANIFEST --auto-approve`, expected to succeed.
    #[track_caller]
    pub fn apply(&self, manifest: &Path) -> Run {
        self.tabops(&["apply", "-f", path_str(manifest), "--auto-approve"]).expect(0)
    }

    /// `plan -f MANIFEST --format json`, expected to succeed; the parsed plan.
    #[track_caller]
    pub fn plan_json(&self, manifest: &Path) -> serde_json::Value {
        self.plan_json_with(manifest, &[])
    }

    /// `plan -f MANIFEST --format json EXTRA...`, expected to succeed; the parsed plan.
    #[track_caller]
    pub fn plan_json_with(&self, manifest: &Path, extra: &[&str]) -> serde_json::Value {
        let mut args = vec!["plan", "-f", path_str(manifest), "--format", "json"];
        args.extend_from_slice(extra);
        let run = self.tabops(&args).expect(0);
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("plan JSON does not parse: {e}\n{}", run.stdout))
    }

    /// Asserts that a text plan of `manifest` has no changes.
    #[track_caller]
    pub fn assert_converged(&self, manifest: &Path) {
        let run = self.tabops(&["plan", "-f", path_str(manifest), "--detailed-exitcode"]);
        assert_eq!(run.code, 0, "plan after apply still has changes:\n{}\n{}", run.stdout, run.stderr);
        assert!(run.stdout.contains("No changes."), "{}", run.stdout);
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(emulator) = self.emulator.take() {
            self.runtime.block_on(emulator.shutdown());
        }
    }
}

/// Writes to the site, not counting sign-in and sign-out.
pub fn content_writes(stats: &Stats) -> u64 {
    let auth: u64 = stats.by_route.iter().filter(|(route, _)| route.contains("/auth/")).map(|(_, count)| *count).sum();
    stats.writes_total - auth
}

/// Requests on one route (`"POST /sites/{id}/workbooks"`).
pub fn route(stats: &Stats, name: &str) -> u64 {
    stats.by_route.get(name).copied().unwrap_or(0)
}

/// The actions of a plan JSON that change something, as `(id, action)`.
pub fn changes(plan: &serde_json::Value) -> Vec<(String, String)> {
    plan["actions"]
        .as_array()
        .expect("actions array")
        .iter()
        .filter(|a| a["action"] != "no_op")
        .map(|a| (a["id"].as_str().unwrap_or_default().to_owned(), a["action"].as_str().unwrap_or_default().to_owned()))
        .collect()
}

/// The action of a plan JSON with this id.
#[track_caller]
pub fn action<'a>(plan: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    plan["actions"]
        .as_array()
        .expect("actions array")
        .iter()
        .find(|a| a["id"] == id)
        .unwrap_or_else(|| panic!("no action `{id}` in the plan; changes: {:?}", changes(plan)))
}

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Replaces exactly one occurrence of `from` in the file (panics when it is missing, so edits cannot go stale).
#[track_caller]
pub fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert_eq!(text.matches(from).count(), 1, "`{from}` must occur exactly once in {}", file.display());
    std::fs::write(file, text.replacen(from, to, 1)).unwrap();
}

/// A git repository at `dir` (created if needed) with a pinned identity, so commits never depend on the machine's
/// git configuration.
pub fn init_repo(dir: &Path) -> git2::Repository {
    let repo = git2::Repository::open(dir).or_else(|_| git2::Repository::init(dir)).unwrap();
    let mut config = repo.config().unwrap();
    config.set_str("user.name", "Test Author").unwrap();
    config.set_str("user.email", "author@example.com").unwrap();
    repo
}

/// Commits everything under `pathspecs` (additions, changes and removals) on HEAD.
pub fn commit_all(repo: &git2::Repository, pathspecs: &[&str], message: &str) -> git2::Oid {
    let mut index = repo.index().unwrap();
    index.add_all(pathspecs, git2::IndexAddOption::DEFAULT, None).unwrap();
    index.update_all(pathspecs, None).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let signature = git2::Signature::now("Test Author", "author@example.com").unwrap();
    let parents: Vec<git2::Commit<'_>> = repo.head().ok().and_then(|h| h.peel_to_commit().ok()).into_iter().collect();
    let parents: Vec<&git2::Commit<'_>> = parents.iter().collect();
    repo.commit(Some("HEAD"), &signature, &signature, message, &tree, &parents).unwrap()
}

/// One step of a transcript test: the command line, its exit code, and the streams that are not empty.
pub fn transcript_step(args: &[&str], run: &Run) -> String {
    let mut out = format!("$ tabops {}\n[exit {}]\n", args.join(" "), run.code);
    for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        if !text.is_empty() {
            out.push_str(&format!("--- {name}\n{text}"));
            if !text.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    out.push('\n');
    out
}

/// `text` as a regular expression that matches it literally (for insta filters).
pub fn regex_escape(text: &str) -> String {
    text.chars().fold(String::new(), |mut out, c| {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
        out
    })
}
