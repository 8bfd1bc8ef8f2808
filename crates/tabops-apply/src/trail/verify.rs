//! `tabops audit verify git:REF`: the whole trail, every run, checked end to end.
//!
//! The history must be a first-parent line of commits without merges, where each commit adds exactly one file,
//! `runs/<seq>-<run_id>.jsonl` with the next sequence number, and changes nothing else. Each run's records must
//! form a valid chain (as in a file log) whose first record links to the previous run's last record. So a deleted
//! run breaks the link of the run after it, an edited record breaks the chain inside its run, and an edit or delete
//! of an earlier run's file in a later commit is named with that commit. What a valid chain cannot show is that it
//! was cut back to an older head and pushed over (a force-push): `expect_head` checks that a head recorded
//! earlier (printed by every apply and every verify) is still in the chain.

use std::path::Path;

use git2::{Delta, Repository};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{RUNS_DIR, TrailError, parse_run_file_name};
use crate::audit::{GENESIS, Record, verify_from};

/// What [`verify_ref`] found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrailReport {
    /// Runs (commits) checked.
    pub runs: usize,
    /// Records checked (torn lines acknowledged by a recovery record not counted).
    pub records: usize,
    /// Torn lines that a `log_recovered` record acknowledges.
    pub recovered_lines: usize,
    /// sha256 of the last record: the value to keep for a later `--expect-head`.
    pub head: String,
    /// The head commit.
    pub commit: String,
    /// The first problem: the commit it is in and why.
    pub first_error: Option<(String, String)>,
    /// With `expect_head`: whether that record is in the chain.
    pub expected_head_found: Option<bool>,
}

impl TrailReport {
    pub fn is_ok(&self) -> bool {
        self.first_error.is_none() && self.expected_head_found != Some(false)
    }
}

/// Verifies the trail on `reference` in the repository at or above `repo_dir`.
pub fn verify_ref(repo_dir: &Path, reference: &str, expect_head: Option<&str>) -> Result<TrailReport, TrailError> {
    let repo = Repository::discover(repo_dir)
        .map_err(|source| TrailError::Repository { path: repo_dir.to_path_buf(), source })?;
    let read =
        |source| TrailError::Git { operation: "read the trail".to_owned(), reference: reference.to_owned(), source };
    let head = repo
        .find_reference(reference)
        .map_err(|_| TrailError::NotFound { reference: reference.to_owned() })?
        .peel_to_commit()
        .map_err(read)?;
    let mut report = TrailReport {
        runs: 0,
        records: 0,
        recovered_lines: 0,
        head: GENESIS.to_owned(),
        commit: head.id().to_string(),
        first_error: None,
        expected_head_found: None,
    };
    let mut chain = Vec::new();
    let mut commit = head;
    loop {
        if commit.parent_count() > 1 {
            report.first_error = Some((commit.id().to_string(), "is a merge: the trail is one line of runs".into()));
            return Ok(report);
        }
        let parent = commit.parent(0).ok();
        chain.push(commit);
        match parent {
            Some(parent) => commit = parent,
            None => break,
        }
    }
    chain.reverse();
    let expected = expect_head.map(str::to_ascii_lowercase);
    let mut found = false;
    let mut prev = GENESIS.to_owned();
    for (index, commit) in chain.iter().enumerate() {
        let id = commit.id().to_string();
        let parent_tree = match commit.parent(0) {
            Ok(parent) => Some(parent.tree().map_err(read)?),
            Err(_) => None,
        };
        let tree = commit.tree().map_err(read)?;
        let diff = repo.diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), None).map_err(read)?;
        let deltas: Vec<_> = diff.deltas().collect();
        let path_of = |delta: &git2::DiffDelta<'_>| {
            delta.new_file().path().or(delta.old_file().path()).map(|p| p.display().to_string()).unwrap_or_default()
        };
        if let Some(changed) = deltas.iter().find(|d| d.status() != Delta::Added) {
            let verb = if changed.status() == Delta::Deleted { "deletes" } else { "changes" };
            let what = format!("{verb} {}, which an earlier run wrote", path_of(changed));
            report.first_error = Some((id, what));
            return Ok(report);
        }
        if deltas.len() != 1 {
            let what = format!("adds {} files; a run's commit adds exactly one", deltas.len());
            report.first_error = Some((id, what));
            return Ok(report);
        }
        let path = path_of(&deltas[0]);
        let name = path.strip_prefix(&format!("{RUNS_DIR}/")).unwrap_or("");
        match parse_run_file_name(name) {
            Some((seq, _)) if seq == index as u64 + 1 => {}
            Some((seq, _)) => {
                let what = format!("adds run {seq} ({path}) where run {} belongs: a run is missing", index + 1);
                report.first_error = Some((id, what));
                return Ok(report);
            }
            None => {
                report.first_error = Some((id, format!("adds {path}, which is not a run file")));
                return Ok(report);
            }
        }
        let blob = repo.find_blob(deltas[0].new_file().id()).map_err(read)?;
        let content = blob.content();
        let run = verify_from(content, &prev).map_err(|e| TrailError::Corrupt {
            reference: reference.to_owned(),
            commit: id.clone(),
            reason: e.to_string(),
        })?;
        if let Some((line, reason)) = run.first_error {
            report.first_error = Some((id, format!("{path}:{line}: hash chain broken: {reason}")));
            return Ok(report);
        }
        let records = run.lines - run.recovered.len();
        if records == 0 {
            report.first_error = Some((id, format!("{path} holds no record")));
            return Ok(report);
        }
        if let Some(expected) = &expected {
            found |= content
                .split(|&b| b == b'\n')
                .filter(|line| serde_json::from_slice::<Record>(line).is_ok())
                .any(|line| hex::encode(Sha256::digest(line)) == *expected);
        }
        report.runs += 1;
        report.records += records;
        report.recovered_lines += run.recovered.len();
        prev = run.head;
    }
    report.head = prev;
    report.expected_head_found = expected.map(|_| found);
    Ok(report)
}
