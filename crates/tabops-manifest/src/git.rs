//! Manifests read from a git commit instead of the working tree (`--git-ref`, `plan --base`), and the provenance
//! of a manifest (commit, branch, author, dirty work tree) for plans and the audit log.
//!
//! [`GitSource`] implements [`Source`] over a commit's tree: manifest files and content files are read from the
//! object database, never from a checkout. Publishing needs a real file, so every content blob the loader resolves
//! is materialised once into `<blob dir>/<blob id>/<file name>` (content-addressed, written atomically, reused by
//! later runs) and digests are computed from those bytes with the same functions as for the working tree, so a
//! manifest at a commit and the same manifest checked out hash identically. Symlinks in the tree are followed
//! inside the manifest root only, like on disk; one that leads outside is refused.

use std::collections::BTreeMap;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use git2::{ObjectType, Oid, Repository, StatusOptions, Tree};

use crate::model::{Desired, FileType};
use crate::source::{PathProblem, Source, below_root};

/// How many symlinks are followed for one path before giving up (loops).
const MAX_SYMLINKS: usize = 16;
const MODE_SYMLINK: i32 = 0o120000;

/// Why a git operation failed.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("no git repository at or above `{}`", path.display())]
    Discover {
        path: PathBuf,
        #[source]
        source: git2::Error,
    },
    #[error("the git repository `{}` has no work tree (bare repositories need --repo with a checkout)", path.display())]
    Bare { path: PathBuf },
    #[error("the manifest path `{}` is outside the git repository `{}`", manifest.display(), repo.display())]
    OutsideRepository { manifest: PathBuf, repo: PathBuf },
    #[error("cannot resolve the git revision `{reference}` to a commit")]
    Resolve {
        reference: String,
        #[source]
        source: git2::Error,
    },
    /// The revision names nothing in this repository. In a shallow clone (CI checkouts fetch one commit by
    /// default) the base branch or the commit before a push is usually just not fetched.
    #[error("{}", not_found_message(reference, *shallow))]
    NotFound { reference: String, shallow: bool },
    #[error("cannot read {what} from the git repository")]
    Read {
        what: String,
        #[source]
        source: git2::Error,
    },
    #[error("cannot inspect the current directory")]
    CurrentDir(#[source] io::Error),
}

impl GitError {
    /// Advice for the user, shown on its own line after the error: how to fetch a revision the clone lacks (a
    /// shallow CI checkout is the usual cause).
    pub fn hint(&self) -> Option<String> {
        match self {
            GitError::NotFound { shallow: true, .. } => Some(
                "fetch the full history: `fetch-depth: 0` on actions/checkout (GitHub), `GIT_DEPTH: \"0\"` (GitLab), \
                 or `git fetch --unshallow`"
                    .to_owned(),
            ),
            GitError::NotFound { shallow: false, reference } => Some(format!(
                "fetch it first (`git fetch origin BRANCH`) and pass the remote branch, e.g. `--base origin/main`; \
                 `{reference}` must be a branch, tag or commit of this clone"
            )),
            _ => None,
        }
    }
}

/// Where a manifest came from in git.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// Full hex id of the commit.
    pub commit: String,
    /// The branch, when known (the named branch, or HEAD's branch when the commit is HEAD).
    pub branch: Option<String>,
    /// `Name <email>` of the commit's author.
    pub author: Option<String>,
    /// Whether the work tree differs from the commit under the manifest root (always false for `--git-ref`).
    pub dirty: bool,
}

impl Provenance {
    /// The value of the `tabops.commit.*` marker: the first 12 hex characters of the commit.
    pub fn short_commit(&self) -> &str {
        self.commit.get(..12).unwrap_or(&self.commit)
    }
}

/// A repository and a manifest path inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The repository's work tree.
    pub workdir: PathBuf,
    /// The manifest path relative to the work tree, `.` for the root.
    pub manifest: PathBuf,
}

/// Finds the repository (from `repo`, else the current directory) and the manifest path inside it. Without
/// `repo`, `manifest` is relative to the current directory; with it, relative to the repository's root.
pub fn locate(repo: Option<&Path>, manifest: &Path) -> Result<Located, GitError> {
    let cwd = std::env::current_dir().map_err(GitError::CurrentDir)?;
    let start = repo.map(Path::to_path_buf).unwrap_or_else(|| cwd.clone());
    let found = Repository::discover(&start).map_err(|source| GitError::Discover { path: start.clone(), source })?;
    let workdir = found.workdir().ok_or_else(|| GitError::Bare { path: start.clone() })?;
    let workdir = workdir.canonicalize().unwrap_or_else(|_| workdir.to_path_buf());
    let base = if repo.is_some() { workdir.clone() } else { cwd.canonicalize().unwrap_or(cwd) };
    let joined = if manifest.is_absolute() { manifest.to_path_buf() } else { base.join(manifest) };
    let normal = lexical(&joined);
    let relative = normal
        .strip_prefix(&workdir)
        .map_err(|_| GitError::OutsideRepository { manifest: manifest.to_path_buf(), repo: workdir.clone() })?;
    let relative = if relative.as_os_str().is_empty() { PathBuf::from(".") } else { relative.to_path_buf() };
    Ok(Located { workdir, manifest: relative })
}

/// The work tree of the git repository that holds `path` (a file or directory, absolute or relative to the current
/// directory, which need not exist: the search starts at its nearest existing ancestor), canonicalised; `None`
/// outside any repository and for a bare one.
pub fn work_tree_of(path: &Path) -> Option<PathBuf> {
    let absolute = lexical(&std::env::current_dir().ok()?.join(path));
    let start = absolute.ancestors().find(|p| p.is_dir())?;
    let repo = Repository::discover(start).ok()?;
    let workdir = repo.workdir()?;
    Some(workdir.canonicalize().unwrap_or_else(|_| workdir.to_path_buf()))
}

/// Provenance of the manifest at `located`: of `reference` when given (never dirty), else of HEAD with the work
/// tree compared to it under the manifest root (untracked files count; `.tabops/` state does not).
pub fn provenance(located: &Located, reference: Option<&str>) -> Result<Provenance, GitError> {
    let repo = open(&located.workdir)?;
    let rev = reference.unwrap_or("HEAD");
    let commit = resolve(&repo, rev)?;
    let head_branch = repo.head().ok().filter(|h| h.is_branch()).and_then(|h| h.shorthand().map(str::to_owned));
    let head_commit = repo.head().ok().and_then(|h| h.target());
    let branch = match reference {
        None => head_branch,
        Some(name) if repo.find_branch(name, git2::BranchType::Local).is_ok() => Some(name.to_owned()),
        Some(name) if repo.find_branch(name, git2::BranchType::Remote).is_ok() => Some(name.to_owned()),
        Some(_) if head_commit == Some(commit.id()) => head_branch,
        Some(_) => None,
    };
    let author = commit.author();
    let author = match (author.name(), author.email()) {
        (Some(name), Some(email)) if !email.is_empty() => Some(format!("{name} <{email}>")),
        (Some(name), _) => Some(name.to_owned()),
        (None, Some(email)) => Some(format!("<{email}>")),
        (None, None) => None,
    };
    let dirty = reference.is_none() && is_dirty(&repo, &located.manifest)?;
    Ok(Provenance { commit: commit.id().to_string(), branch, author, dirty })
}

fn is_dirty(repo: &Repository, manifest: &Path) -> Result<bool, GitError> {
    let mut options = StatusOptions::new();
    options.include_untracked(true).recurse_untracked_dirs(true).include_ignored(false);
    let spec = manifest.to_string_lossy().replace('\\', "/");
    if spec != "." {
        options.pathspec(spec);
    }
    let statuses = repo
        .statuses(Some(&mut options))
        .map_err(|source| GitError::Read { what: "the work tree status".into(), source })?;
    Ok(statuses.iter().any(|entry| {
        let path = entry.path().unwrap_or("");
        !path.split('/').any(|part| part == ".tabops") && entry.status() != git2::Status::CURRENT
    }))
}

fn open(workdir: &Path) -> Result<Repository, GitError> {
    Repository::open(workdir).map_err(|source| GitError::Discover { path: workdir.to_path_buf(), source })
}

fn resolve<'r>(repo: &'r Repository, reference: &str) -> Result<git2::Commit<'r>, GitError> {
    repo.revparse_single(reference).and_then(|object| object.peel_to_commit()).map_err(|source| {
        if source.code() == git2::ErrorCode::NotFound {
            GitError::NotFound { reference: reference.to_owned(), shallow: repo.is_shallow() }
        } else {
            GitError::Resolve { reference: reference.to_owned(), source }
        }
    })
}

fn not_found_message(reference: &str, shallow: bool) -> String {
    if shallow {
        format!(
            "the git revision `{reference}` is not in this clone, which is shallow (it holds only the latest \
             commits, so the base branch or an older commit is missing)"
        )
    } else {
        format!("the git revision `{reference}` is not in this repository (no such branch, tag or commit)")
    }
}

/// Whether `reference` is git's all-zero object id (40 or 64 zeros). CI systems use it for "no previous commit":
/// GitHub's `event.before` on the first push of a branch, GitLab's `CI_COMMIT_BEFORE_SHA` in merge-request
/// pipelines and a branch's first pipeline. It names no commit, so as a base it stands for "no manifest yet".
pub fn is_null_commit(reference: &str) -> bool {
    matches!(reference.len(), 40 | 64) && reference.bytes().all(|b| b == b'0')
}

/// A commit's tree as a manifest [`Source`]. Paths given to it are relative to the repository root.
pub struct GitSource {
    repo: Mutex<Repository>,
    commit: Oid,
    tree: Oid,
    blob_dir: PathBuf,
    /// Repository path -> materialised file.
    materialised: Mutex<BTreeMap<PathBuf, PathBuf>>,
}

impl std::fmt::Debug for GitSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitSource").field("commit", &self.commit).field("blob_dir", &self.blob_dir).finish()
    }
}

impl GitSource {
    /// The tree of `reference` (any revision git understands: `main`, `origin/main`, `HEAD~1`, a commit id) in the
    /// repository at `workdir`. Content blobs are materialised under `blob_dir`.
    pub fn open(workdir: &Path, reference: &str, blob_dir: PathBuf) -> Result<GitSource, GitError> {
        let repo = open(workdir)?;
        let (commit, tree) = {
            let commit = resolve(&repo, reference)?;
            (commit.id(), commit.tree_id())
        };
        Ok(GitSource { repo: Mutex::new(repo), commit, tree, blob_dir, materialised: Mutex::new(BTreeMap::new()) })
    }

    /// Full hex id of the commit read.
    pub fn commit(&self) -> String {
        self.commit.to_string()
    }

    /// Points every content file of `desired` at its materialised copy, so the executor streams it from disk.
    pub fn use_materialised_paths(&self, desired: &mut Desired) -> io::Result<()> {
        for item in desired.datasources.iter_mut().chain(desired.workbooks.iter_mut()) {
            item.file.path = self.materialise(&item.file.path)?;
        }
        Ok(())
    }

    /// The blob at `path`, written once to `<blob dir>/<blob id>/<file name>`.
    pub fn materialise(&self, path: &Path) -> io::Result<PathBuf> {
        if let Some(done) = self.lock_materialised().get(path) {
            return Ok(done.clone());
        }
        let (oid, bytes) = self.with_repo(|repo, tree| {
            let oid = lookup(tree, path)?;
            let blob = repo.find_blob(oid).map_err(io_error)?;
            Ok((oid, blob.content().to_vec()))
        })?;
        let name = path.file_name().map(|n| n.to_os_string()).unwrap_or_else(|| "blob".into());
        let dir = self.blob_dir.join(oid.to_string());
        let target = dir.join(&name);
        if std::fs::metadata(&target).map(|m| m.len() != bytes.len() as u64).unwrap_or(true) {
            std::fs::create_dir_all(&dir)?;
            // One temporary file per call: two items naming the same file are hashed in parallel, and a name
            // shared by both writers let one rename the file away under the other.
            static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let tmp = dir.join(format!(".{}.{}.{n}.tmp", name.to_string_lossy(), std::process::id()));
            std::fs::write(&tmp, &bytes)?;
            std::fs::rename(&tmp, &target)?;
        }
        self.lock_materialised().insert(path.to_path_buf(), target.clone());
        Ok(target)
    }

    fn lock_materialised(&self) -> std::sync::MutexGuard<'_, BTreeMap<PathBuf, PathBuf>> {
        self.materialised.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn with_repo<T>(&self, f: impl FnOnce(&Repository, &Tree<'_>) -> io::Result<T>) -> io::Result<T> {
        let repo = self.repo.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let tree = repo.find_tree(self.tree).map_err(io_error)?;
        f(&repo, &tree)
    }

    fn entry_info(&self, path: &Path) -> io::Result<Option<(i32, Oid)>> {
        let parts = components(path).ok_or_else(|| not_found(path))?;
        if parts.is_empty() {
            return Ok(Some((0o040000, self.tree)));
        }
        self.with_repo(|_, tree| match tree.get_path(&join(&parts)) {
            Ok(entry) => Ok(Some((entry.filemode(), entry.id()))),
            Err(err) if err.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(err) => Err(io_error(err)),
        })
    }

    /// Follows symlinks lexically inside `root`; returns the final repository path.
    fn follow(&self, root: &[String], mut parts: Vec<String>) -> Result<Vec<String>, PathProblem> {
        for _ in 0..MAX_SYMLINKS {
            let path = join(&parts);
            let info = self.entry_info(&path).map_err(|e| PathProblem::Unreadable(e.to_string()))?;
            let Some((mode, oid)) = info else { return Err(PathProblem::Missing) };
            if mode != MODE_SYMLINK {
                return if mode & 0o170000 == 0o100000 { Ok(parts) } else { Err(PathProblem::NotAFile) };
            }
            let target = self
                .with_repo(|repo, _| Ok(repo.find_blob(oid).map_err(io_error)?.content().to_vec()))
                .map_err(|e| PathProblem::Unreadable(e.to_string()))?;
            let target = String::from_utf8_lossy(&target).into_owned();
            if target.starts_with('/') || Path::new(&target).has_root() {
                return Err(PathProblem::SymlinkOutside(PathBuf::from(target)));
            }
            let mut next: Vec<String> = parts[..parts.len() - 1].to_vec();
            for part in target.split('/') {
                match part {
                    "" | "." => {}
                    ".." => {
                        if next.pop().is_none() {
                            return Err(PathProblem::SymlinkOutside(PathBuf::from(target)));
                        }
                    }
                    other => next.push(other.to_owned()),
                }
            }
            if !next.starts_with(root) {
                return Err(PathProblem::SymlinkOutside(join(&next)));
            }
            parts = next;
        }
        Err(PathProblem::Unreadable(format!("more than {MAX_SYMLINKS} symlinks")))
    }
}

impl Source for GitSource {
    fn is_dir(&self, path: &Path) -> io::Result<bool> {
        match self.entry_info(path)? {
            Some((mode, _)) => Ok(mode == 0o040000),
            None => Err(not_found(path)),
        }
    }

    fn size(&self, path: &Path) -> io::Result<u64> {
        self.with_repo(|repo, tree| {
            let oid = lookup(tree, path)?;
            let odb = repo.odb().map_err(io_error)?;
            let (size, _) = odb.read_header(oid).map_err(io_error)?;
            Ok(size as u64)
        })
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.with_repo(|repo, tree| {
            let oid = lookup(tree, path)?;
            Ok(repo.find_blob(oid).map_err(io_error)?.content().to_vec())
        })
    }

    fn manifest_files(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        let parts = components(dir).ok_or_else(|| not_found(dir))?;
        let mut out = Vec::new();
        self.with_repo(|repo, tree| {
            let start = if parts.is_empty() {
                tree.clone()
            } else {
                let entry = tree.get_path(&join(&parts)).map_err(io_error)?;
                repo.find_tree(entry.id()).map_err(io_error)?
            };
            walk(repo, &start, dir, &mut out)
        })?;
        out.sort();
        Ok(out)
    }

    fn content_file(&self, root: &Path, base: &Path, relative: &str) -> Result<PathBuf, PathProblem> {
        let inside = below_root(root, base, relative)?;
        let root_parts = components(root).ok_or(PathProblem::Traversal)?;
        let full: Vec<String> =
            root_parts.iter().cloned().chain(inside.iter().map(|part| part.to_string_lossy().into_owned())).collect();
        let resolved = self.follow(&root_parts, full)?;
        Ok(join(&resolved))
    }

    fn digest(&self, path: &Path, file_type: FileType) -> io::Result<crate::hash::Digests> {
        crate::hash::content_digests(&self.materialise(path)?, file_type.is_package())
    }
}

fn walk(repo: &Repository, tree: &Tree<'_>, prefix: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in tree.iter() {
        let Some(name) = entry.name() else { continue };
        if name.starts_with('.') {
            continue;
        }
        let path = prefix.join(name);
        match entry.kind() {
            Some(ObjectType::Tree) => {
                let sub = repo.find_tree(entry.id()).map_err(io_error)?;
                walk(repo, &sub, &path, out)?;
            }
            Some(ObjectType::Blob)
                if entry.filemode() != MODE_SYMLINK && (name.ends_with(".yaml") || name.ends_with(".yml")) =>
            {
                out.push(path);
            }
            _ => {}
        }
    }
    Ok(())
}

fn lookup(tree: &Tree<'_>, path: &Path) -> io::Result<Oid> {
    let parts = components(path).ok_or_else(|| not_found(path))?;
    let entry = tree
        .get_path(&join(&parts))
        .map_err(|err| if err.code() == git2::ErrorCode::NotFound { not_found(path) } else { io_error(err) })?;
    match entry.kind() {
        Some(ObjectType::Blob) => Ok(entry.id()),
        _ => Err(io::Error::new(io::ErrorKind::InvalidInput, format!("`{}` is not a file", path.display()))),
    }
}

/// The normal components of a repository-relative path; `None` when it climbs above the root or is absolute.
fn components(path: &Path) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => out.push(part.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

fn join(parts: &[String]) -> PathBuf {
    if parts.is_empty() { PathBuf::from(".") } else { parts.iter().collect() }
}

/// `a/./b/../c` -> `a/c`, without touching the file system.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, format!("`{}` does not exist in the commit", path.display()))
}

fn io_error(err: git2::Error) -> io::Error {
    io::Error::other(err.message().to_owned())
}

#[cfg(test)]
mod materialise_tests {
    use super::*;

    /// Items that name the same content file are hashed on several threads at once: each gets the file.
    #[test]
    fn one_blob_materialised_from_many_threads_at_once_is_written_whole() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let bytes = vec![7u8; 64 * 1024];
        std::fs::create_dir_all(dir.path().join("content")).unwrap();
        std::fs::write(dir.path().join("content/orders.tdsx"), &bytes).unwrap();
        let mut index = repo.index().unwrap();
        index.add_path(Path::new("content/orders.tdsx")).unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let signature = git2::Signature::now("t", "t@example.com").unwrap();
        repo.commit(Some("HEAD"), &signature, &signature, "content", &tree, &[]).unwrap();

        for round in 0..200 {
            let source = GitSource::open(dir.path(), "HEAD", dir.path().join(format!("blobs-{round}"))).unwrap();
            let paths: Vec<PathBuf> = std::thread::scope(|scope| {
                let workers: Vec<_> = (0..8)
                    .map(|_| scope.spawn(|| source.materialise(Path::new("content/orders.tdsx")).unwrap()))
                    .collect();
                workers.into_iter().map(|w| w.join().unwrap()).collect()
            });
            for path in paths {
                assert_eq!(std::fs::read(&path).unwrap(), bytes);
            }
        }
    }
}
