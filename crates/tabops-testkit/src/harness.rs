//! The end-to-end harness: an emulator running in the test process (on its own multi-thread runtime, so it keeps
//! serving while the test blocks on the real `tabops` binary), commands pointed at it with temp-dir state and
//! audit log, copies of the example manifests the tests may edit, raw test-hook calls, and applies spawned in the
//! background (for crash and concurrency scenarios).

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use tabops_emulator::{Emulator, EmulatorConfig, Stats};

use crate::run::{Run, copy_dir, path_str, tabops_bin, workspace};

/// Dummy database passwords the enterprise example needs.
pub const DB_PASSWORDS: [(&str, &str); 3] =
    [("SALES_DB_PASSWORD", "dev-sales"), ("FINANCE_DB_PASSWORD", "dev-finance"), ("OPS_DB_PASSWORD", "dev-ops")];

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
        let mut cmd = Command::new(tabops_bin());
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
        let binary = tabops_bin();
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
        Run::of(self.ci_command(path_str(&tabops_bin()), cwd).args(args))
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

/// `POST /_emulator/<hook>` over a raw HTTP/1.1 connection (no HTTP client, so the bytes sent are exactly these).
pub fn hook(base_url: &str, hook_and_query: &str) -> u16 {
    raw_request(base_url, "POST", &format!("/_emulator/{hook_and_query}"), &[], b"").0
}

/// Sends one HTTP/1.1 request and returns the status and body.
pub fn raw_request(base_url: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let authority = base_url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(authority).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
    for (name, value) in headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    let _ = write!(head, "Content-Length: {}\r\n\r\n", body.len());
    stream.write_all(head.as_bytes()).unwrap();
    // A server may answer (413) and close before reading an oversized body: a failed write is fine then.
    let _ = stream.write_all(body);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

/// Signs in with the default PAT (`POST /auth/signin`) and returns `(token, site_id)`. Ends the session of any
/// other client signed in with the same PAT (one session per PAT, as on Tableau Cloud).
pub fn sign_in(base_url: &str, secret: &str) -> (String, String) {
    let body = format!(
        r#"<tsRequest><credentials personalAccessTokenName="{}" personalAccessTokenSecret="{secret}"><site contentUrl="acme"/></credentials></tsRequest>"#,
        tabops_emulator::DEFAULT_PAT_NAME
    );
    let (status, text) =
        raw_request(base_url, "POST", "/api/3.25/auth/signin", &[("Content-Type", "application/xml")], body.as_bytes());
    assert_eq!(status, 200, "sign-in failed: {text}");
    let attr = |name: &str, after: &str| -> String {
        let from = text.find(after).unwrap_or(0);
        let rest = &text[from..];
        let start = rest.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        rest[start..start + rest[start..].find('"').unwrap()].to_owned()
    };
    (attr("token", "<credentials"), attr("id", "<site"))
}

/// `tabops audit verify LOG`.
pub fn audit_verify(harness: &Harness) -> Run {
    let output = Command::new(tabops_bin())
        .env_clear()
        .env("NO_COLOR", "1")
        .args(["audit", "verify"])
        .arg(harness.audit_log())
        .output()
        .unwrap();
    Run::from_output(output)
}

/// The audit log's records (a torn last line is skipped).
pub fn audit_events(harness: &Harness) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(harness.audit_log()).unwrap_or_default();
    text.lines().filter_map(|line| serde_json::from_str(line).ok()).collect()
}

/// The `type` field of each record (`action_start`, `action_retry`, ...).
pub fn event_name(record: &serde_json::Value) -> &str {
    record["type"].as_str().unwrap_or_default()
}

/// Starts `tabops apply -f MANIFEST --auto-approve EXTRA...` against the harness's emulator without waiting for it
/// (same environment as `Harness::tabops`), with stdout and stderr piped.
pub fn spawn_apply(harness: &Harness, manifest: &Path, extra: &[&str]) -> Child {
    spawn_apply_as(harness, manifest, extra, tabops_emulator::DEFAULT_PAT_NAME, &harness.pat_secret)
}

/// [`spawn_apply`] signing in with another PAT.
pub fn spawn_apply_as(harness: &Harness, manifest: &Path, extra: &[&str], pat_name: &str, pat_secret: &str) -> Child {
    Command::new(tabops_bin())
        .current_dir(harness.dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .env("TABLEAU_PAT_NAME", pat_name)
        .env("TABLEAU_PAT_SECRET", pat_secret)
        .envs(harness.env.iter().map(|(k, v)| (k, v)))
        .args(["apply", "-f", path_str(manifest), "--auto-approve"])
        .args(extra)
        .args(["--server", &harness.url(), "--site", "acme", "--state-dir"])
        .arg(harness.state_dir())
        .arg("--audit-log")
        .arg(harness.audit_log())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for a spawned run and collects its output.
pub fn finish(child: Child) -> Run {
    Run::from_output(child.wait_with_output().unwrap())
}

/// The number of complete lines in the audit log.
pub fn audit_lines(harness: &Harness) -> usize {
    std::fs::read(harness.audit_log()).map(|b| b.iter().filter(|c| **c == b'\n').count()).unwrap_or(0)
}
