//! Runs the TSC scripts (`bench/tsc_baseline.py`, the read side; `bench/tsc_bootstrap.py`, the write side) against
//! an emulator, as a child process, and parses the JSON they print.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What the baseline script reported (its own timing; the harness counts its requests at the emulator).
pub type BaselineReport = serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("no Python with tableauserverclient at {} (create it with scripts/test's logic)", path.display())]
    NoPython { path: PathBuf },
    #[error("failed to run {}", path.display())]
    Spawn { path: PathBuf, source: std::io::Error },
    #[error("the TSC baseline failed ({status}): {stderr}")]
    Failed { status: std::process::ExitStatus, stderr: String },
    #[error("the TSC baseline printed no JSON")]
    Output(#[source] serde_json::Error),
}

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..")
}

/// The default interpreter: the repository's `.venv`, as `scripts/test` creates it.
pub fn default_python() -> PathBuf {
    workspace_root().join(".venv").join("bin").join("python")
}

/// Runs the baseline against `server`.
pub fn run(python: &Path, server: &str, site: &str) -> Result<BaselineReport, BaselineError> {
    run_script(python, "tsc_baseline.py", server, site, &[])
}

/// Runs `bench/SCRIPT --server SERVER --site SITE EXTRA...` with `python` and parses the JSON it prints.
pub fn run_script(
    python: &Path,
    script: &str,
    server: &str,
    site: &str,
    extra: &[std::ffi::OsString],
) -> Result<BaselineReport, BaselineError> {
    if !python.exists() {
        return Err(BaselineError::NoPython { path: python.to_owned() });
    }
    let script = workspace_root().join("bench").join(script);
    let out = Command::new(python)
        .arg(&script)
        .args(["--server", server, "--site", site])
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| BaselineError::Spawn { path: python.to_owned(), source })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: String =
            stderr.lines().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join(" | ");
        return Err(BaselineError::Failed { status: out.status, stderr: tail });
    }
    serde_json::from_slice(&out.stdout).map_err(BaselineError::Output)
}
