//! The audit trail in git: one continuous, tamper-evident chain of every apply on a site, kept on a ref of the
//! manifest's repository (`--audit-log git:REF`) and pushed to its remote, so it outlives the CI runner.
//!
//! Layout: every run is ONE commit on REF that adds exactly one file, `runs/<seq>-<run_id>.jsonl` (`seq` counts
//! from 000001), holding that run's audit records. The records are chained across runs: the first record's `prev`
//! is the sha256 of the previous run's last record line ([`GENESIS`] for the first run), so the whole trail is one
//! hash chain, and [`verify_ref`] checks it end to end together with the shape of the history (first-parent, no
//! merges, each commit adds one run file and changes nothing else).
//!
//! During the run nothing changes: the executor appends fsync'd records to a spool file, an ordinary
//! [`AuditLog`] under the state directory (`<state>/audit-spool/<ref>/<run_id>.jsonl`), so every write is on disk
//! before it is sent, exactly as with a file log. After the run (success or failure) [`Trail::publish`] turns the
//! spool into the run's commit on the local REF, re-chaining its records onto the trail's last record, removes the
//! spool, and pushes.
//!
//! Races: two applies on the same site push concurrently. The one that loses (its push is refused because the
//! remote ref moved) fetches the remote head into a tracking ref of its own (`refs/tabops-remote/<remote>/...`;
//! the local REF is never overwritten by a fetch: it may hold runs not pushed yet), rebuilds its unpushed runs on
//! top of the new head (re-chained, renumbered), and pushes again, with bounded, jittered retries. A run is known
//! by its run id (the file name), not by its commit id, which changes when it is rebuilt, so nothing is pushed
//! twice and nothing is lost.
//!
//! Recovery: [`Trail::recover`] runs at the start of every apply with a git trail. A spool file a crashed run left
//! (it never became a commit) is committed now: a `run_recovered` record is appended to it first (torn lines
//! become one `log_recovered` record, as [`AuditLog`] always does) and the commit says the run was interrupted.
//! Local commits never pushed (a kill between the commit and the push) are pushed with this run's. A spool file
//! whose run is already in the trail is removed. A spool file another live apply on this machine still holds
//! (its lock file is locked) is left alone.
//!
//! Differences from a plain design, and why:
//! - No remote (`--audit-push` not given, the checked-out branch has no upstream and there is no `origin`): the
//!   trail is kept in the local repository only, with a warning, rather than refusing to apply. A local trail is
//!   still a continuous, verifiable chain (an operator's workstation), and a CI checkout always has `origin`.
//!   An explicit `--audit-push` that names no remote is an error.
//! - REF must not be the branch checked out in the work tree: commits there would make the manifest's work tree
//!   look changed. A dedicated ref (`refs/tabops/audit/<site>`) is recommended: it is not fetched by default
//!   clones, so it costs the manifest's users nothing, and branch protection rules do not apply to it.
//! - Pushing to a local (path or `file://`) remote moves the remote ref with a compare-and-swap of our own,
//!   because libgit2's local transport force-updates refs (see the `remote` module).

pub mod ci;
mod remote;
mod verify;

pub use verify::{TrailReport, verify_ref};

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use backon::{BlockingRetryable, ExponentialBuilder};
use git2::{Commit, Oid, Repository, Signature, Tree};
use sha2::{Digest, Sha256};

use crate::audit::{AuditError, AuditLog, GENESIS, Record};

/// The directory of run files in the trail's tree.
pub const RUNS_DIR: &str = "runs";

/// Push attempts before giving up when other applies keep moving the remote ref.
const MAX_PUSH_ATTEMPTS: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum TrailError {
    #[error("no git repository at or above {} for the audit trail", path.display())]
    Repository {
        path: PathBuf,
        #[source]
        source: git2::Error,
    },
    #[error("`{reference}` is not a valid git ref name for the audit trail")]
    InvalidRef { reference: String },
    #[error("the audit trail `{reference}` is the branch checked out in the work tree")]
    CheckedOut { reference: String },
    #[error("the audit trail remote `{remote}` is neither a remote of the repository nor a URL")]
    NoRemote { remote: String },
    #[error("the audit trail `{reference}` does not exist in this repository")]
    NotFound { reference: String },
    #[error("cannot {operation} (audit trail `{reference}`)")]
    Git {
        operation: String,
        reference: String,
        #[source]
        source: git2::Error,
    },
    #[error(
        "gave up pushing the audit trail `{reference}` to `{remote}` after {attempts} attempts: other applies kept moving it"
    )]
    Contended { reference: String, remote: String, attempts: usize },
    #[error("the audit trail `{reference}` at commit {commit} is not a tabops trail: {reason}")]
    Corrupt { reference: String, commit: String, reason: String },
    #[error("cannot use the audit spool {}", path.display())]
    Spool {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Audit(#[from] AuditError),
}

/// The ref a `--audit-log` value names when it is `git:REF`, or `None` for a file path. REF is a full ref
/// (`refs/tabops/audit/acme`) or a branch name (`audit` → `refs/heads/audit`).
pub fn parse_target(text: &str) -> Option<Result<String, TrailError>> {
    let name = text.strip_prefix("git:")?;
    let full = if name.starts_with("refs/") { name.to_owned() } else { format!("refs/heads/{name}") };
    Some(if git2::Reference::is_valid_name(&full) && full.matches('/').count() >= 2 {
        Ok(full)
    } else {
        Err(TrailError::InvalidRef { reference: name.to_owned() })
    })
}

/// What one publication left: the trail's head record and commit, and where it went.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    /// sha256 of the trail's last record ([`GENESIS`] for an empty trail): the value for `--expect-head`.
    pub head: String,
    /// The trail's head commit, if any.
    pub commit: Option<String>,
    /// Runs in the trail.
    pub runs: usize,
    /// The remote pushed to, `None` for a local-only trail.
    pub remote: Option<String>,
}

/// What [`Trail::recover`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct Recovered {
    /// Spool files of interrupted runs committed now.
    pub interrupted_runs: usize,
    /// The trail after publishing them (and any local commits never pushed).
    pub published: Published,
}

/// The audit trail on one ref of one repository.
pub struct Trail {
    repo: Repository,
    reference: String,
    remote: Option<remote::Remote>,
    spool_dir: PathBuf,
    /// The lock file of the run in progress, held until it is published.
    run_lock: Option<(PathBuf, std::fs::File)>,
}

impl std::fmt::Debug for Trail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trail").field("reference", &self.reference).field("spool_dir", &self.spool_dir).finish()
    }
}

impl Trail {
    /// The trail on `reference` (a full ref name, see [`parse_target`]) in the repository at or above `repo_dir`,
    /// pushed to `push` (a remote name or URL; `None`: the checked-out branch's upstream remote, else `origin`),
    /// spooling under `state_dir`.
    pub fn open(repo_dir: &Path, reference: &str, push: Option<&str>, state_dir: &Path) -> Result<Trail, TrailError> {
        let repo = Repository::discover(repo_dir)
            .map_err(|source| TrailError::Repository { path: repo_dir.to_path_buf(), source })?;
        if repo.head().ok().is_some_and(|head| head.is_branch() && head.name() == Some(reference)) {
            return Err(TrailError::CheckedOut { reference: reference.to_owned() });
        }
        let remote = remote::resolve(&repo, push)?;
        let spool_dir = state_dir.join("audit-spool").join(file_safe(reference));
        Ok(Trail { repo, reference: reference.to_owned(), remote, spool_dir, run_lock: None })
    }

    pub fn reference(&self) -> &str {
        &self.reference
    }

    /// The remote the trail is pushed to (`None`: kept in the local repository only).
    pub fn remote(&self) -> Option<&str> {
        self.remote.as_ref().map(|r| r.name.as_str())
    }

    fn spool_path(&self, run_id: &str) -> PathBuf {
        self.spool_dir.join(format!("{run_id}.jsonl"))
    }

    fn lock_path(&self, run_id: &str) -> PathBuf {
        self.spool_dir.join(format!("{run_id}.lock"))
    }

    fn spool_err(path: &Path) -> impl FnOnce(std::io::Error) -> TrailError + '_ {
        move |source| TrailError::Spool { path: path.to_path_buf(), source }
    }

    fn git_err(&self, operation: &str) -> impl FnOnce(git2::Error) -> TrailError + '_ {
        let operation = operation.to_owned();
        move |source| TrailError::Git { operation, reference: self.reference.clone(), source }
    }

    /// Starts the run `run_id`: the audit log the executor appends to (the spool), locked against
    /// [`Trail::recover`] in other processes until [`Trail::publish`].
    pub fn begin(&mut self, run_id: &str) -> Result<AuditLog, TrailError> {
        if !is_run_id(run_id) {
            return Err(TrailError::InvalidRef { reference: format!("run id {run_id}") });
        }
        std::fs::create_dir_all(&self.spool_dir).map_err(Self::spool_err(&self.spool_dir))?;
        let lock_path = self.lock_path(run_id);
        let lock = std::fs::File::create(&lock_path).map_err(Self::spool_err(&lock_path))?;
        lock.lock().map_err(Self::spool_err(&lock_path))?;
        self.run_lock = Some((lock_path, lock));
        Ok(AuditLog::open(self.spool_path(run_id), run_id)?)
    }

    /// Publishes what earlier runs left behind: spool files of runs that never became a commit, and local commits
    /// never pushed. Fails (before anything is applied) when the remote cannot be read or written.
    pub fn recover(&self) -> Result<Recovered, TrailError> {
        let mut interrupted_runs = 0;
        let mut leftovers: Vec<(std::time::SystemTime, String)> = Vec::new();
        if let Ok(entries) = std::fs::read_dir(&self.spool_dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let Some(run_id) = name.strip_suffix(".jsonl").filter(|id| is_run_id(id)) else { continue };
                let modified = entry.metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH);
                leftovers.push((modified, run_id.to_owned()));
            }
        }
        leftovers.sort();
        for (_, run_id) in leftovers {
            let lock_path = self.lock_path(&run_id);
            let lock = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock_path)
                .map_err(Self::spool_err(&lock_path))?;
            if lock.try_lock().is_err() {
                continue; // a live apply on this machine
            }
            let spool = self.spool_path(&run_id);
            if !self.local_run_ids()?.contains(&run_id) {
                let log = AuditLog::open(&spool, run_id.as_str())?;
                log.append(
                    "run_recovered",
                    serde_json::json!({
                        "reason": "the run stopped before its records were committed to the audit trail; a later \
                                   apply committed them"
                    }),
                )?;
                self.commit_spool(&spool, &run_id)?;
                interrupted_runs += 1;
            }
            std::fs::remove_file(&spool).map_err(Self::spool_err(&spool))?;
            let _ = std::fs::remove_file(&lock_path);
        }
        Ok(Recovered { interrupted_runs, published: self.sync()? })
    }

    /// Ends the run started with [`Trail::begin`]: its records become one commit on the local ref, then the trail
    /// is pushed (with this run's and any earlier unpushed runs).
    pub fn publish(&mut self, run_id: &str) -> Result<Published, TrailError> {
        let spool = self.spool_path(run_id);
        // A run that recorded nothing (stopped before `apply_start`) adds no run: an empty run file would only
        // break the trail.
        let records = std::fs::read(&spool).map_err(Self::spool_err(&spool))?;
        if records.split(|&b| b == b'\n').any(|line| serde_json::from_slice::<Record>(line).is_ok()) {
            self.commit_spool(&spool, run_id)?;
        }
        std::fs::remove_file(&spool).map_err(Self::spool_err(&spool))?;
        debug_pause("after-audit-commit");
        let published = self.sync();
        if let Some((path, lock)) = self.run_lock.take() {
            drop(lock);
            let _ = std::fs::remove_file(path);
        }
        published
    }

    /// The local ref's commit, if the ref exists.
    fn local_head(&self) -> Option<Oid> {
        self.repo.find_reference(&self.reference).ok().and_then(|r| r.target())
    }

    fn local_run_ids(&self) -> Result<BTreeSet<String>, TrailError> {
        match self.local_head() {
            None => Ok(BTreeSet::new()),
            Some(id) => {
                let commit = self.repo.find_commit(id).map_err(self.git_err("read the local trail"))?;
                Ok(run_files(&self.repo, &commit.tree().map_err(self.git_err("read the local trail"))?)
                    .into_iter()
                    .map(|(_, _, run_id, _)| run_id)
                    .collect())
            }
        }
    }

    /// Commits the spool file of `run_id` on the local ref, retrying when another process moves the ref.
    /// Idempotent: a run already on the local ref is not committed again.
    fn commit_spool(&self, spool: &Path, run_id: &str) -> Result<(), TrailError> {
        if self.local_run_ids()?.contains(run_id) {
            return Ok(());
        }
        let bytes = std::fs::read(spool).map_err(Self::spool_err(spool))?;
        for _ in 0..MAX_PUSH_ATTEMPTS {
            let parent = self.local_head();
            let parent_commit = match parent {
                Some(id) => Some(self.repo.find_commit(id).map_err(self.git_err("read the local trail"))?),
                None => None,
            };
            let new = self.append_run(parent_commit.as_ref(), run_id, &bytes)?;
            if self.move_local(parent, new)? {
                return Ok(());
            }
        }
        Err(TrailError::Contended {
            reference: self.reference.clone(),
            remote: "the local repository".to_owned(),
            attempts: MAX_PUSH_ATTEMPTS,
        })
    }

    /// A commit on `parent` that adds `run_id`'s records, re-chained onto `parent`'s last record.
    fn append_run(&self, parent: Option<&Commit<'_>>, run_id: &str, records: &[u8]) -> Result<Oid, TrailError> {
        let read_err = self.git_err("read the trail");
        let (prev, seq, base_tree) = match parent {
            None => (GENESIS.to_owned(), 1, None),
            Some(commit) => {
                let tree = commit.tree().map_err(read_err)?;
                let runs = run_files(&self.repo, &tree);
                let prev = self.last_record(commit, &runs)?;
                (prev, runs.len() + 1, Some(tree))
            }
        };
        let (content, head) = rechain(records, &prev);
        let write = |source| TrailError::Git {
            operation: "write the run's commit".to_owned(),
            reference: self.reference.clone(),
            source,
        };
        let blob = self.repo.blob(&content).map_err(write)?;
        let runs_tree = base_tree
            .as_ref()
            .and_then(|t| t.get_name(RUNS_DIR).map(|e| e.id()))
            .and_then(|id| self.repo.find_tree(id).ok());
        let mut runs = self.repo.treebuilder(runs_tree.as_ref()).map_err(write)?;
        runs.insert(run_file_name(seq, run_id), blob, 0o100644).map_err(write)?;
        let runs = runs.write().map_err(write)?;
        let mut root = self.repo.treebuilder(base_tree.as_ref()).map_err(write)?;
        root.insert(RUNS_DIR, runs, 0o040000).map_err(write)?;
        let tree = self.repo.find_tree(root.write().map_err(write)?).map_err(write)?;
        let signature =
            self.repo.signature().or_else(|_| Signature::now("tabops", "tabops@localhost")).map_err(write)?;
        let message = commit_message(run_id, seq, &content, &head);
        let parents: Vec<&Commit<'_>> = parent.into_iter().collect();
        self.repo.commit(None, &signature, &signature, &message, &tree, &parents).map_err(write)
    }

    /// The sha256 of the last record of the last run at `commit`.
    fn last_record(&self, commit: &Commit<'_>, runs: &[(u64, String, String, Oid)]) -> Result<String, TrailError> {
        let Some((_, name, _, blob)) = runs.last() else { return Ok(GENESIS.to_owned()) };
        let corrupt = |reason: String| TrailError::Corrupt {
            reference: self.reference.clone(),
            commit: commit.id().to_string(),
            reason,
        };
        let blob = self.repo.find_blob(*blob).map_err(|e| corrupt(format!("cannot read {RUNS_DIR}/{name}: {e}")))?;
        blob.content()
            .split(|&b| b == b'\n')
            .rev()
            .find(|line| serde_json::from_slice::<Record>(line).is_ok())
            .map(|line| hex::encode(Sha256::digest(line)))
            .ok_or_else(|| corrupt(format!("{RUNS_DIR}/{name} holds no record")))
    }

    /// Moves the local ref from `old` to `new`; `false` when it was no longer at `old` (another process).
    fn move_local(&self, old: Option<Oid>, new: Oid) -> Result<bool, TrailError> {
        let message = "tabops audit trail";
        let result = match old {
            Some(old) => self.repo.reference_matching(&self.reference, new, true, old, message).map(|_| ()),
            None => self.repo.reference(&self.reference, new, false, message).map(|_| ()),
        };
        match result {
            Ok(()) => Ok(true),
            // Another process moved the ref, or holds its lock file while it does: look again.
            Err(err)
                if matches!(
                    err.code(),
                    git2::ErrorCode::Modified | git2::ErrorCode::Exists | git2::ErrorCode::Locked
                ) =>
            {
                Ok(false)
            }
            Err(source) => Err(TrailError::Git {
                operation: "update the local trail ref".to_owned(),
                reference: self.reference.clone(),
                source,
            }),
        }
    }

    fn published(&self, head: Option<Oid>) -> Result<Published, TrailError> {
        let remote = self.remote.as_ref().map(|r| r.name.clone());
        let Some(id) = head else { return Ok(Published { head: GENESIS.to_owned(), commit: None, runs: 0, remote }) };
        let commit = self.repo.find_commit(id).map_err(self.git_err("read the trail"))?;
        let runs = run_files(&self.repo, &commit.tree().map_err(self.git_err("read the trail"))?);
        Ok(Published {
            head: self.last_record(&commit, &runs)?,
            commit: Some(id.to_string()),
            runs: runs.len(),
            remote,
        })
    }

    /// Brings the remote and the local ref together: fetch, rebuild unpushed runs on the remote head when it
    /// moved, push; again (bounded, with backoff) while another apply wins the race.
    fn sync(&self) -> Result<Published, TrailError> {
        let Some(remote) = &self.remote else { return self.published(self.local_head()) };
        let tracking = format!(
            "refs/tabops-remote/{}/{}",
            file_safe(&remote.name),
            self.reference.strip_prefix("refs/").unwrap_or(&self.reference)
        );
        let attempt = || -> Result<Option<Oid>, Attempt> {
            let theirs = remote::fetch(&self.repo, remote, &self.reference, &tracking).map_err(|source| {
                Attempt::Failed(TrailError::Git {
                    operation: format!("fetch the trail from `{}`", remote.name),
                    reference: self.reference.clone(),
                    source,
                })
            })?;
            let ours = self.local_head();
            let descends = |a: Oid, b: Oid| self.repo.graph_descendant_of(a, b).unwrap_or(false);
            let new = match (ours, theirs) {
                (None, None) => return Ok(None),
                (Some(o), Some(t)) if o == t => return Ok(Some(o)),
                (None, Some(t)) => {
                    return if self.move_local(None, t)? { Ok(Some(t)) } else { Err(Attempt::Stale) };
                }
                (Some(o), Some(t)) if descends(t, o) => {
                    return if self.move_local(Some(o), t)? { Ok(Some(t)) } else { Err(Attempt::Stale) };
                }
                (Some(o), None) => o,
                (Some(o), Some(t)) if descends(o, t) => o,
                (Some(o), Some(t)) => {
                    let rebuilt = self.rebuild(o, t)?;
                    if !self.move_local(Some(o), rebuilt)? {
                        return Err(Attempt::Stale);
                    }
                    rebuilt
                }
            };
            match remote::push(&self.repo, remote, &self.reference, new, theirs) {
                Ok(remote::Pushed::Done) => {
                    let _ = self.repo.reference(&tracking, new, true, "tabops audit trail: pushed");
                    Ok(Some(new))
                }
                Ok(remote::Pushed::Stale) => Err(Attempt::Stale),
                Err(source) => Err(Attempt::Failed(TrailError::Git {
                    operation: format!("push the trail to `{}`", remote.name),
                    reference: self.reference.clone(),
                    source,
                })),
            }
        };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(20))
            .with_max_delay(Duration::from_millis(500))
            .with_max_times(MAX_PUSH_ATTEMPTS - 1)
            .with_jitter();
        let head =
            attempt.retry(backoff).sleep(std::thread::sleep).when(|err| matches!(err, Attempt::Stale)).call().map_err(
                |err| match err {
                    Attempt::Failed(err) => err,
                    Attempt::Stale => TrailError::Contended {
                        reference: self.reference.clone(),
                        remote: remote.name.clone(),
                        attempts: MAX_PUSH_ATTEMPTS,
                    },
                },
            )?;
        self.published(head)
    }

    /// The runs of `ours` that `theirs` does not hold (by run id), rebuilt one by one on top of `theirs`.
    fn rebuild(&self, ours: Oid, theirs: Oid) -> Result<Oid, TrailError> {
        let read = |source| TrailError::Git {
            operation: "read the trail".to_owned(),
            reference: self.reference.clone(),
            source,
        };
        let their_commit = self.repo.find_commit(theirs).map_err(read)?;
        let their_ids: BTreeSet<String> =
            run_files(&self.repo, &their_commit.tree().map_err(read)?).into_iter().map(|(_, _, id, _)| id).collect();
        let stop = self.repo.merge_base(ours, theirs).ok();
        let mut pending = Vec::new();
        let mut commit = self.repo.find_commit(ours).map_err(read)?;
        loop {
            if Some(commit.id()) == stop {
                break;
            }
            let parent = commit.parent(0).ok();
            let parent_tree = match &parent {
                Some(p) => Some(p.tree().map_err(read)?),
                None => None,
            };
            let before: BTreeSet<String> = parent_tree
                .as_ref()
                .map(|t| run_files(&self.repo, t).into_iter().map(|(_, name, _, _)| name).collect())
                .unwrap_or_default();
            for (_, name, run_id, blob) in run_files(&self.repo, &commit.tree().map_err(read)?) {
                if !before.contains(&name)
                    && !their_ids.contains(&run_id)
                    && !pending.iter().any(|(id, _)| *id == run_id)
                {
                    pending.push((run_id, blob));
                }
            }
            match parent {
                Some(p) => commit = p,
                None => break,
            }
        }
        pending.reverse();
        let mut base = their_commit;
        for (run_id, blob) in pending {
            let content = self.repo.find_blob(blob).map_err(read)?.content().to_vec();
            let id = self.append_run(Some(&base), &run_id, &content)?;
            base = self.repo.find_commit(id).map_err(read)?;
        }
        Ok(base.id())
    }
}

/// One push attempt's failure: retried when stale, not otherwise.
enum Attempt {
    Stale,
    Failed(TrailError),
}

impl From<TrailError> for Attempt {
    fn from(err: TrailError) -> Self {
        Attempt::Failed(err)
    }
}

/// `runs/<seq>-<run_id>.jsonl`'s name.
fn run_file_name(seq: usize, run_id: &str) -> String {
    format!("{seq:06}-{run_id}.jsonl")
}

/// `(seq, file name, run id)` of a run file's name.
pub(crate) fn parse_run_file_name(name: &str) -> Option<(u64, String)> {
    let stem = name.strip_suffix(".jsonl")?;
    let (seq, run_id) = stem.split_once('-')?;
    if seq.len() < 6 || !seq.bytes().all(|b| b.is_ascii_digit()) || !is_run_id(run_id) {
        return None;
    }
    Some((seq.parse().ok()?, run_id.to_owned()))
}

/// The run files in a trail tree, by sequence number: `(seq, file name, run id, blob)`.
fn run_files(repo: &Repository, tree: &Tree<'_>) -> Vec<(u64, String, String, Oid)> {
    let Some(runs) = tree.get_name(RUNS_DIR).and_then(|e| repo.find_tree(e.id()).ok()) else { return Vec::new() };
    let mut files: Vec<_> = runs
        .iter()
        .filter_map(|entry| {
            let name = entry.name()?.to_owned();
            let (seq, run_id) = parse_run_file_name(&name)?;
            Some((seq, name, run_id, entry.id()))
        })
        .collect();
    files.sort();
    files
}

/// Run ids are what the CLI makes (UUIDs): letters, digits and dashes, so they are safe in file and ref names.
fn is_run_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// A ref or remote name as one path component.
fn file_safe(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '-' }).collect()
}

/// The run's records with their `prev` links re-computed from `prev`: the first record links to `prev`, each
/// later one to the record line before it. Unreadable lines (torn by a crash, and acknowledged by a
/// `log_recovered` record after them) are kept as they are: the recovery record names them by their own hash.
/// Returns the new content and the hash of its last record.
fn rechain(records: &[u8], prev: &str) -> (Vec<u8>, String) {
    let mut out = Vec::with_capacity(records.len() + 64);
    let mut prev = prev.to_owned();
    let body = records.strip_suffix(b"\n").unwrap_or(records);
    if records.is_empty() {
        return (out, prev);
    }
    for line in body.split(|&b| b == b'\n') {
        match serde_json::from_slice::<Record>(line) {
            Ok(mut record) => {
                record.prev = prev;
                let text = serde_json::to_string(&record).unwrap_or_default();
                prev = hex::encode(Sha256::digest(text.as_bytes()));
                out.extend_from_slice(text.as_bytes());
            }
            Err(_) => out.extend_from_slice(line),
        }
        out.push(b'\n');
    }
    (out, prev)
}

/// The commit message of one run: what it was and, as trailers, where it came from (the manifest commit and its
/// author, the CI run and pull request) and its last record's hash.
fn commit_message(run_id: &str, seq: usize, content: &[u8], head: &str) -> String {
    let records: Vec<Record> =
        content.split(|&b| b == b'\n').filter_map(|line| serde_json::from_slice::<Record>(line).ok()).collect();
    let start = records.iter().find(|r| r.kind == "apply_start");
    let complete = records.iter().find(|r| r.kind == "apply_complete");
    let recovered = records.iter().any(|r| r.kind == "run_recovered");
    let site = start.and_then(|r| r.data.get("site")).and_then(|s| s.as_str()).unwrap_or("?");
    let mut message = match complete {
        Some(done) => {
            let n = |key: &str| done.data.get(key).and_then(|v| v.as_u64()).unwrap_or(0);
            format!(
                "tabops apply on {site}: {} completed, {} failed, {} skipped\n",
                n("completed"),
                n("failed"),
                n("skipped")
            )
        }
        None => format!("tabops apply on {site}: interrupted\n"),
    };
    message.push_str(&format!("\nRun {seq} of the audit trail: {} records.\n", records.len()));
    if complete.is_none() {
        message.push_str("The run stopped before it finished; its records up to that point are kept.\n");
    }
    if recovered {
        message.push_str("Committed by a later apply that recovered the run's spool file.\n");
    }
    message.push_str(&format!("\nTabops-Run: {run_id}\n"));
    for (key, value) in start.map(|r| ci::trailers(&r.data)).unwrap_or_default() {
        message.push_str(&format!("{key}: {value}\n"));
    }
    if complete.is_none() {
        message.push_str("Tabops-Interrupted: true\n");
    }
    message.push_str(&format!("Tabops-Head: {head}\n"));
    message
}

/// A test hook, honoured only in debug builds (release builds compile it out): with `TABOPS_DEBUG_PAUSE=<point>`
/// the process says so on stderr and waits there, for at most 60 s, until the file `TABOPS_DEBUG_RESUME` names
/// exists. So a test can SIGKILL the real binary at exactly that point, or hold two applies there and release them
/// together. The one point: `after-audit-commit` (the run is committed on the local ref, not pushed yet).
fn debug_pause(point: &str) {
    #[cfg(debug_assertions)]
    if std::env::var("TABOPS_DEBUG_PAUSE").is_ok_and(|value| value == point) {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("tabops: paused at {point} (TABOPS_DEBUG_PAUSE)");
        }
        let resume = std::env::var_os("TABOPS_DEBUG_RESUME").map(PathBuf::from);
        let until = std::time::Instant::now() + Duration::from_secs(60);
        while std::time::Instant::now() < until && !resume.as_ref().is_some_and(|file| file.exists()) {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = point;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_name_full_refs_or_branches() {
        assert_eq!(parse_target("git:refs/tabops/audit/acme").unwrap().unwrap(), "refs/tabops/audit/acme");
        assert_eq!(parse_target("git:audit").unwrap().unwrap(), "refs/heads/audit");
        assert!(parse_target("audit.jsonl").is_none());
        assert!(parse_target("git:bad..name").unwrap().is_err());
        assert!(parse_target("git:refs/x").unwrap().is_err(), "a ref needs a namespace and a name");
    }

    #[test]
    fn rechained_records_link_to_the_previous_run_and_verify() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(dir.path().join("spool.jsonl"), "run-1").unwrap();
        log.append("apply_start", serde_json::json!({"site": "acme"})).unwrap();
        log.append("apply_complete", serde_json::json!({"completed": 1})).unwrap();
        let bytes = std::fs::read(log.path()).unwrap();
        let previous = "ab".repeat(32);
        let (content, head) = rechain(&bytes, &previous);
        let report = crate::audit::verify_from(&content[..], &previous).unwrap();
        assert!(report.is_ok(), "{report:?}");
        assert_eq!(report.head, head);
        assert!(!crate::audit::verify_from(&content[..], GENESIS).unwrap().is_ok(), "linked, not from genesis");
    }

    /// A bare remote with one commit on `main`, and `n` clones of it (fresh runners).
    fn remote_and_clones(dir: &Path, n: usize) -> (PathBuf, Vec<PathBuf>) {
        let bare = dir.join("remote.git");
        let remote = Repository::init_bare(&bare).unwrap();
        let signature = Signature::now("Test", "test@example.com").unwrap();
        let tree = remote.find_tree(remote.treebuilder(None).unwrap().write().unwrap()).unwrap();
        remote.commit(Some("refs/heads/main"), &signature, &signature, "init", &tree, &[]).unwrap();
        remote.set_head("refs/heads/main").unwrap();
        let clones = (0..n)
            .map(|i| {
                let path = dir.join(format!("clone-{i}"));
                Repository::clone(bare.to_str().unwrap(), &path).unwrap();
                path
            })
            .collect();
        (bare, clones)
    }

    fn run(trail: &mut Trail, run_id: &str) {
        let log = trail.begin(run_id).unwrap();
        log.append("apply_start", serde_json::json!({"site": "acme"})).unwrap();
        log.append("apply_complete", serde_json::json!({"completed": 1})).unwrap();
    }

    const REF: &str = "refs/tabops/audit/acme";

    /// The push race, made deterministic: B commits its run on the head it fetched before A pushed, so its push is
    /// refused; it fetches, rebuilds its run on A's and pushes again. Both runs land on one verified line.
    #[test]
    fn the_push_that_loses_the_race_rebuilds_on_the_new_head() {
        let dir = tempfile::tempdir().unwrap();
        let (bare, clones) = remote_and_clones(dir.path(), 2);
        let mut a = Trail::open(&clones[0], REF, None, &dir.path().join("state-a")).unwrap();
        let mut b = Trail::open(&clones[1], REF, None, &dir.path().join("state-b")).unwrap();
        assert_eq!(a.remote(), Some("origin"));
        a.recover().unwrap();
        b.recover().unwrap();
        run(&mut a, "run-a");
        run(&mut b, "run-b");
        let published_a = a.publish("run-a").unwrap();
        let published_b = b.publish("run-b").unwrap();
        assert_eq!((published_a.runs, published_b.runs), (1, 2));
        let report = verify_ref(&bare, REF, Some(&published_a.head)).unwrap();
        assert!(report.is_ok(), "{report:?}");
        assert_eq!((report.runs, report.head.as_str()), (2, published_b.head.as_str()));
        // A's clone catches up on its next recovery instead of pushing anything again.
        let again = a.recover().unwrap();
        assert_eq!((again.interrupted_runs, again.published.head), (0, published_b.head));
    }

    /// A spool file a killed run left (with a torn last line) is committed by the next run on that machine, and
    /// the trail still verifies; a spool whose run is already in the trail is only removed.
    #[test]
    fn an_uncommitted_spool_is_committed_as_an_interrupted_run() {
        let dir = tempfile::tempdir().unwrap();
        let (bare, clones) = remote_and_clones(dir.path(), 1);
        let state = dir.path().join("state");
        {
            let mut crashed = Trail::open(&clones[0], REF, None, &state).unwrap();
            let log = crashed.begin("run-1").unwrap();
            log.append("apply_start", serde_json::json!({"site": "acme"})).unwrap();
            use std::io::Write;
            let mut file = std::fs::OpenOptions::new().append(true).open(log.path()).unwrap();
            file.write_all(br#"{"type":"action_sta"#).unwrap();
        } // the process "dies": its lock is released, nothing was committed
        let next = Trail::open(&clones[0], REF, None, &state).unwrap();
        let recovered = next.recover().unwrap();
        assert_eq!((recovered.interrupted_runs, recovered.published.runs), (1, 1));
        let report = verify_ref(&bare, REF, None).unwrap();
        assert!(report.is_ok(), "{report:?}");
        assert_eq!(report.recovered_lines, 1);
        let repo = Repository::open(&bare).unwrap();
        let message = repo.find_reference(REF).unwrap().peel_to_commit().unwrap().message().unwrap().to_owned();
        assert!(message.contains("interrupted") && message.contains("Tabops-Interrupted: true"), "{message}");
        assert_eq!(std::fs::read_dir(state.join("audit-spool").join(file_safe(REF))).unwrap().count(), 0);
    }

    #[test]
    fn a_live_runs_spool_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let (_bare, clones) = remote_and_clones(dir.path(), 1);
        let state = dir.path().join("state");
        let mut live = Trail::open(&clones[0], REF, None, &state).unwrap();
        run(&mut live, "run-live");
        let other = Trail::open(&clones[0], REF, None, &state).unwrap();
        assert_eq!(other.recover().unwrap().interrupted_runs, 0);
        assert_eq!(live.publish("run-live").unwrap().runs, 1);
    }

    /// libgit2's local transport would force the ref: the compare-and-swap refuses a push made on a stale view of
    /// the remote instead of overwriting the run another apply pushed.
    #[test]
    fn a_push_over_a_moved_remote_ref_is_refused_not_forced() {
        let dir = tempfile::tempdir().unwrap();
        let (bare, clones) = remote_and_clones(dir.path(), 2);
        let mut a = Trail::open(&clones[0], REF, None, &dir.path().join("state-a")).unwrap();
        run(&mut a, "run-a");
        let pushed = a.publish("run-a").unwrap().commit.unwrap();
        let mut b = Trail::open(&clones[1], REF, None, &dir.path().join("state-b")).unwrap();
        run(&mut b, "run-b");
        b.commit_spool(&b.spool_path("run-b"), "run-b").unwrap();
        let ours = b.local_head().unwrap();
        let remote = b.remote.clone().unwrap();
        let first = Oid::from_str(&pushed).unwrap();
        for expected in [None, Some(ours)] {
            let result = remote::push(&b.repo, &remote, REF, ours, expected).unwrap();
            assert!(matches!(result, remote::Pushed::Stale), "expected {expected:?}");
        }
        let at = Repository::open(&bare).unwrap().find_reference(REF).unwrap().target();
        assert_eq!(at, Some(first), "the remote still holds A's run");
        // Publishing rebuilds B's run on A's and lands both.
        assert_eq!(b.publish("run-b").unwrap().runs, 2);
        assert!(verify_ref(&bare, REF, None).unwrap().is_ok());
    }

    #[test]
    fn a_run_that_recorded_nothing_adds_no_commit() {
        let dir = tempfile::tempdir().unwrap();
        let (bare, clones) = remote_and_clones(dir.path(), 1);
        let mut trail = Trail::open(&clones[0], REF, None, &dir.path().join("state")).unwrap();
        run(&mut trail, "run-1");
        trail.publish("run-1").unwrap();
        trail.begin("run-2").unwrap();
        assert_eq!(trail.publish("run-2").unwrap().runs, 1);
        assert!(verify_ref(&bare, REF, None).unwrap().is_ok());
    }

    #[test]
    fn run_file_names_round_trip() {
        let name = run_file_name(7, "0c6a-11");
        assert_eq!(name, "000007-0c6a-11.jsonl");
        assert_eq!(parse_run_file_name(&name), Some((7, "0c6a-11".to_owned())));
        assert_eq!(parse_run_file_name("7-x.jsonl"), None);
    }
}
