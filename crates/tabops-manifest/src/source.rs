//! All file access of the loader goes through [`Source`], so a manifest and its content files can later be read
//! from a git commit (git2) as well as from the working tree without changing the loader.

use std::io;
use std::path::{Component, Path, PathBuf};

use crate::model::FileType;

/// Why a content path was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathProblem {
    Absolute,
    /// `..` leads outside the manifest root.
    Traversal,
    /// The path resolves (through a symlink) to somewhere outside the manifest root.
    SymlinkOutside(PathBuf),
    Missing,
    NotAFile,
    Unreadable(String),
}

/// Read-only access to a manifest tree.
pub trait Source: Sync {
    /// Whether `path` is a directory.
    fn is_dir(&self, path: &Path) -> io::Result<bool>;
    /// Size of a file in bytes, without reading it.
    fn size(&self, path: &Path) -> io::Result<u64>;
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// Manifest files under `dir`, recursively, sorted by path: `*.yaml`/`*.yml`, skipping hidden entries and
    /// `.tabops/`.
    fn manifest_files(&self, dir: &Path) -> io::Result<Vec<PathBuf>>;
    /// Resolve `relative` (as written in a manifest file in `base`) to a content file inside `root`.
    fn content_file(&self, root: &Path, base: &Path, relative: &str) -> Result<PathBuf, PathProblem>;
    /// `(size, hex sha256)` of a content file: the canonical digest for packages.
    fn digest(&self, path: &Path, file_type: FileType) -> io::Result<(u64, String)>;
}

/// The working tree.
#[derive(Debug, Clone, Copy, Default)]
pub struct FsSource;

impl Source for FsSource {
    fn is_dir(&self, path: &Path) -> io::Result<bool> {
        Ok(std::fs::metadata(path)?.is_dir())
    }
    fn size(&self, path: &Path) -> io::Result<u64> {
        Ok(std::fs::metadata(path)?.len())
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }
    fn manifest_files(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        let mut out = Vec::new();
        walk(dir, &mut out)?;
        out.sort();
        Ok(out)
    }
    fn content_file(&self, root: &Path, base: &Path, relative: &str) -> Result<PathBuf, PathProblem> {
        let rel = Path::new(relative);
        if rel.is_absolute() || relative.starts_with('/') || relative.starts_with('\\') || rel.has_root() {
            return Err(PathProblem::Absolute);
        }
        let base_rel = base.strip_prefix(root).unwrap_or(Path::new(""));
        let mut inside: Vec<&std::ffi::OsStr> = Vec::new();
        for component in base_rel.components().chain(rel.components()) {
            match component {
                Component::Normal(part) => inside.push(part),
                Component::CurDir => {}
                Component::ParentDir => {
                    if inside.pop().is_none() {
                        return Err(PathProblem::Traversal);
                    }
                }
                Component::RootDir | Component::Prefix(_) => return Err(PathProblem::Absolute),
            }
        }
        let full = inside.iter().fold(root.to_path_buf(), |p, part| p.join(part));
        let meta = match std::fs::symlink_metadata(&full) {
            Ok(meta) => meta,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Err(PathProblem::Missing),
            Err(err) => return Err(PathProblem::Unreadable(err.to_string())),
        };
        let canonical_root = root.canonicalize().map_err(|e| PathProblem::Unreadable(e.to_string()))?;
        let canonical = match full.canonicalize() {
            Ok(path) => path,
            Err(err) if err.kind() == io::ErrorKind::NotFound && meta.file_type().is_symlink() => {
                return Err(PathProblem::Missing);
            }
            Err(err) => return Err(PathProblem::Unreadable(err.to_string())),
        };
        if !canonical.starts_with(&canonical_root) {
            return Err(PathProblem::SymlinkOutside(canonical));
        }
        if !canonical.is_file() {
            return Err(PathProblem::NotAFile);
        }
        Ok(full)
    }
    fn digest(&self, path: &Path, file_type: FileType) -> io::Result<(u64, String)> {
        if file_type.is_package() {
            let size = std::fs::metadata(path)?.len();
            Ok((size, crate::hash::package_digest(path)?))
        } else {
            crate::hash::file_digest(path)
        }
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let file_type = entry.file_type()?;
        if file_type.is_dir() {
            walk(&path, out)?;
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            out.push(path);
        }
    }
    Ok(())
}
