//! The hashing benchmark: a multi-file content tree of N bytes (2 GiB by default) listed in a manifest as `.hyper`
//! data sources, hashed by tabops' manifest loader (parallel, streamed) and by `sha256sum` over the same files.
//! Both run on a warm page cache (one untimed `sha256sum` pass first) and the best of the repetitions counts, so
//! the comparison is CPU against CPU, not disk against disk.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde::Serialize;

/// Files in the tree: enough for both cores to stay busy to the end.
pub const FILES: usize = 64;

#[derive(Debug, Clone, Serialize)]
pub struct HashReport {
    pub files: usize,
    pub bytes: u64,
    pub tabops_s: Vec<f64>,
    pub sha256sum_s: Vec<f64>,
    pub tabops_mb_per_s: f64,
    pub sha256sum_mb_per_s: f64,
    /// sha256sum's best time over tabops' best time.
    pub speedup: f64,
    /// Both computed the same digests.
    pub digests_agree: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("failed to write the hashing tree under {}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("failed to run sha256sum")]
    Sha256sum(#[source] std::io::Error),
    #[error("sha256sum exited with {0}")]
    Sha256sumStatus(std::process::ExitStatus),
    #[error("failed to load the hashing manifest {}", path.display())]
    Load { path: PathBuf, source: tabops_manifest::LoadError },
}

/// Writes `FILES` files totalling `bytes` plus a manifest listing them; returns the file paths.
pub fn write_tree(dir: &Path, bytes: u64, seed: u64) -> Result<Vec<PathBuf>, HashError> {
    let content = dir.join("content");
    std::fs::create_dir_all(&content).map_err(|source| HashError::Write { path: content.clone(), source })?;
    let per_file = (bytes / FILES as u64).max(1);
    let mut manifest = String::from(
        "version: 1\nsite: { server: local, content_url: acme }\nprojects:\n  - name: Hash\ndatasources:\n",
    );
    let mut files = Vec::with_capacity(FILES);
    for i in 0..FILES {
        let path = content.join(format!("{i:03}.hyper"));
        crate::rng::write_random_file(&path, per_file, seed.wrapping_add(i as u64))
            .map_err(|source| HashError::Write { path: path.clone(), source })?;
        let _ = writeln!(manifest, "  - {{ name: \"Hash {i:03}\", project: Hash, file: content/{i:03}.hyper }}");
        files.push(path);
    }
    let path = dir.join("hash.yaml");
    std::fs::write(&path, manifest).map_err(|source| HashError::Write { path: path.clone(), source })?;
    Ok(files)
}

fn sha256sum(files: &[PathBuf]) -> Result<(f64, Vec<String>), HashError> {
    let start = Instant::now();
    let out = Command::new("sha256sum").args(files).stderr(Stdio::inherit()).output().map_err(HashError::Sha256sum)?;
    let seconds = start.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(HashError::Sha256sumStatus(out.status));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut digests: Vec<String> =
        text.lines().filter_map(|l| l.split_whitespace().next()).map(str::to_owned).collect();
    digests.sort();
    Ok((seconds, digests))
}

fn tabops(dir: &Path) -> Result<(f64, Vec<String>), HashError> {
    let manifest = dir.join("hash.yaml");
    let options = tabops_manifest::LoadOptions { hash_content: true, ..Default::default() };
    let start = Instant::now();
    let loaded = tabops_manifest::load(&manifest, &options)
        .map_err(|source| HashError::Load { path: manifest.clone(), source })?;
    let seconds = start.elapsed().as_secs_f64();
    let mut digests: Vec<String> = loaded.desired.datasources.iter().map(|d| d.file.sha256.clone()).collect();
    digests.sort();
    Ok((seconds, digests))
}

/// Times both hashers `runs` times each (alternating) on the tree in `dir`.
pub fn run(dir: &Path, files: &[PathBuf], runs: usize) -> Result<HashReport, HashError> {
    let bytes: u64 = files.iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum();
    let (_, reference) = sha256sum(files)?; // warms the page cache
    let (mut tabops_s, mut sha_s) = (Vec::new(), Vec::new());
    let mut agree = true;
    for _ in 0..runs.max(1) {
        let (s, digests) = sha256sum(files)?;
        sha_s.push(s);
        agree &= digests == reference;
        let (t, digests) = tabops(dir)?;
        tabops_s.push(t);
        agree &= digests == reference;
    }
    let best = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let mb = bytes as f64 / 1e6;
    Ok(HashReport {
        files: files.len(),
        bytes,
        tabops_mb_per_s: mb / best(&tabops_s),
        sha256sum_mb_per_s: mb / best(&sha_s),
        speedup: best(&sha_s) / best(&tabops_s),
        tabops_s,
        sha256sum_s: sha_s,
        digests_agree: agree,
    })
}
