//! The real `tabops` binary as a measured child process, the way a user or CI runs it: whole-process wall time
//! (spawn to exit), its exit code and output, and its peak RSS sampled from `/proc/PID/status` while it runs
//! (`VmHWM` only grows, so the last sample is the peak up to 10 ms before exit).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tabops_emulator::Emulator;

/// A finished `tabops` run.
#[derive(Debug, Clone)]
pub struct TabopsRun {
    pub wall_ms: f64,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub peak_rss_kib: Option<u64>,
}

/// The `tabops` binary could not be run.
#[derive(Debug, thiserror::Error)]
#[error("failed to run {} {what}", path.display())]
pub struct TabopsSpawnError {
    pub path: PathBuf,
    pub what: String,
    #[source]
    pub source: std::io::Error,
}

impl TabopsSpawnError {
    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        "build it first (`cargo build -p tabops`) or pass its path with --tabops"
    }
}

/// `tabops` beside `exe` (how cargo lays out a workspace's binaries, and how a release archive ships them), else
/// the one on `PATH`.
pub fn default_tabops(exe: &Path) -> PathBuf {
    let name = format!("tabops{}", std::env::consts::EXE_SUFFIX);
    exe.parent().map(|dir| dir.join(&name)).filter(|p| p.exists()).unwrap_or_else(|| PathBuf::from(name))
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line["VmHWM:".len()..].trim().trim_end_matches("kB").trim().parse().ok()
}

/// Runs `tabops ARGS` against `emulator` (server, site and the emulator's token from the environment, as CI sets
/// them), with `state_dir` as its local state directory and nothing else from this process's environment.
pub async fn run(
    tabops: &Path,
    emulator: &Emulator,
    state_dir: &Path,
    args: &[String],
) -> Result<TabopsRun, TabopsSpawnError> {
    let what = args.first().cloned().unwrap_or_default();
    let start = Instant::now();
    let mut child = tokio::process::Command::new(tabops)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .env("TABLEAU_SERVER", emulator.url())
        .env("TABLEAU_SITE", crate::generate::SITE)
        .env("TABLEAU_PAT_NAME", tabops_emulator::DEFAULT_PAT_NAME)
        .env("TABLEAU_PAT_SECRET", tabops_emulator::DEFAULT_PAT_SECRET)
        .env("TABOPS_DIR", state_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| TabopsSpawnError { path: tabops.to_owned(), what: what.clone(), source })?;
    let pid = child.id();
    let (mut stdout_pipe, mut stderr_pipe) = (child.stdout.take(), child.stderr.take());
    let read_out = async {
        let mut buf = Vec::new();
        if let Some(pipe) = stdout_pipe.as_mut() {
            let _ = tokio::io::AsyncReadExt::read_to_end(pipe, &mut buf).await;
        }
        buf
    };
    let read_err = async {
        let mut buf = Vec::new();
        if let Some(pipe) = stderr_pipe.as_mut() {
            let _ = tokio::io::AsyncReadExt::read_to_end(pipe, &mut buf).await;
        }
        buf
    };
    let mut peak = None;
    let wait = async {
        let mut tick = tokio::time::interval(Duration::from_millis(10));
        loop {
            tokio::select! {
                status = child.wait() => break status,
                _ = tick.tick() => {
                    if let Some(kib) = pid.and_then(vm_hwm_kib) {
                        peak = Some(kib);
                    }
                }
            }
        }
    };
    let (status, stdout, stderr) = tokio::join!(wait, read_out, read_err);
    let wall_ms = start.elapsed().as_secs_f64() * 1000.0;
    let status = status.map_err(|source| TabopsSpawnError { path: tabops.to_owned(), what, source })?;
    Ok(TabopsRun {
        wall_ms,
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        peak_rss_kib: peak,
    })
}
