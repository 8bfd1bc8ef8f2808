//! All file access of the loader goes through [`Source`], so a manifest and its content files can later be read
//! from a git commit (git2) as well as from the working tree without changing the loader.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

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
    /// The digests of a content file: the canonical digest for packages, and the raw bytes' sha256.
    fn digest(&self, path: &Path, file_type: FileType) -> io::Result<crate::hash::Digests>;
    /// The sheet (view) names of a workbook file, for checking the views subscriptions name.
    fn sheets(&self, path: &Path, file_type: FileType) -> io::Result<Vec<String>> {
        let bytes = self.read(path)?;
        tabops_content::sheets(io::Cursor::new(bytes), file_type).map_err(io::Error::other)
    }
}

/// The working tree, as one load sees it.
#[derive(Debug, Default)]
pub struct FsSource {
    /// Directories below the root this load found to be real directories (not symlinks): content files share a
    /// few directories, so each then costs one `lstat` instead of one per path component (240,000 calls for a
    /// manifest of 60,000 items four levels down). Kept for one load only, as the tree may change between loads.
    real_dirs: Mutex<HashSet<PathBuf>>,
}

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
        let inside = below_root(root, base, relative)?;
        // One lstat per component below the root: a path without symlinks and without `..` cannot leave the root,
        // so only a symlink needs resolving (the root's own ancestors may be symlinks; that is not an escape).
        let mut full = root.to_path_buf();
        for (i, part) in inside.iter().enumerate() {
            full.push(part);
            let last = i + 1 == inside.len();
            if !last && self.real_dirs.lock().unwrap_or_else(|e| e.into_inner()).contains(&full) {
                continue;
            }
            let meta = match std::fs::symlink_metadata(&full) {
                Ok(meta) => meta,
                Err(err) if err.kind() == io::ErrorKind::NotFound => return Err(PathProblem::Missing),
                Err(err) => return Err(PathProblem::Unreadable(err.to_string())),
            };
            if meta.file_type().is_symlink() {
                return resolve_symlinked(root, &full, &inside[i + 1..]);
            }
            if last && !meta.is_file() {
                return Err(PathProblem::NotAFile);
            }
            if !last && meta.is_dir() {
                self.real_dirs.lock().unwrap_or_else(|e| e.into_inner()).insert(full.clone());
            }
        }
        if inside.is_empty() {
            return Err(PathProblem::NotAFile);
        }
        Ok(full)
    }
    fn digest(&self, path: &Path, file_type: FileType) -> io::Result<crate::hash::Digests> {
        crate::hash::content_digests(path, file_type.is_package())
    }
    fn sheets(&self, path: &Path, file_type: FileType) -> io::Result<Vec<String>> {
        let file = std::io::BufReader::new(std::fs::File::open(path)?);
        tabops_content::sheets(file, file_type).map_err(io::Error::other)
    }
}

/// The components of `relative` (a content path written in a manifest file in `base`) below `root`, with `.` and
/// `..` applied; refused when it is absolute or when `..` climbs out of the root. Both sources start from this.
pub(crate) fn below_root<'a>(root: &Path, base: &'a Path, relative: &'a str) -> Result<Vec<&'a OsStr>, PathProblem> {
    let rel = Path::new(relative);
    if rel.is_absolute() || relative.starts_with('/') || relative.starts_with('\\') || rel.has_root() {
        return Err(PathProblem::Absolute);
    }
    let base_rel = base.strip_prefix(root).unwrap_or(Path::new(""));
    let mut inside = Vec::new();
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
    Ok(inside)
}

/// `link` (a symlink under `root`) followed by `rest`: allowed when it resolves inside the root to a file.
fn resolve_symlinked(root: &Path, link: &Path, rest: &[&OsStr]) -> Result<PathBuf, PathProblem> {
    let full = rest.iter().fold(link.to_path_buf(), |path, part| path.join(part));
    let canonical_root = root.canonicalize().map_err(|e| PathProblem::Unreadable(e.to_string()))?;
    let canonical = match full.canonicalize() {
        Ok(path) => path,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Err(PathProblem::Missing),
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

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// `root/` holds `content/a.twb`, links inside it, and links out of it to `outside/`.
    fn tree() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("content")).unwrap();
        std::fs::create_dir_all(dir.path().join("outside")).unwrap();
        std::fs::write(root.join("content/a.twb"), "<workbook/>").unwrap();
        std::fs::write(dir.path().join("outside/b.twb"), "<workbook/>").unwrap();
        symlink(root.join("content/a.twb"), root.join("content/link.twb")).unwrap();
        symlink(root.join("content"), root.join("alias")).unwrap();
        symlink(dir.path().join("outside"), root.join("escape")).unwrap();
        symlink(dir.path().join("outside/b.twb"), root.join("content/out.twb")).unwrap();
        symlink(root.join("content/gone.twb"), root.join("content/dangling.twb")).unwrap();
        (dir, root)
    }

    fn check(root: &Path, relative: &str) -> Result<PathBuf, PathProblem> {
        FsSource::default().content_file(root, root, relative)
    }

    #[test]
    fn plain_files_and_links_that_stay_inside_are_accepted() {
        let (_dir, root) = tree();
        assert_eq!(check(&root, "content/a.twb").unwrap(), root.join("content/a.twb"));
        assert_eq!(check(&root, "./content/../content/a.twb").unwrap(), root.join("content/a.twb"));
        assert_eq!(check(&root, "content/link.twb").unwrap(), root.join("content/link.twb"));
        assert_eq!(check(&root, "alias/a.twb").unwrap(), root.join("alias/a.twb"));
    }

    /// The root itself may be reached through a symlink (a checkout under a linked home, say): that is no escape.
    #[test]
    fn a_root_reached_through_a_symlink_is_fine() {
        let (dir, root) = tree();
        let linked_root = dir.path().join("linked-root");
        symlink(&root, &linked_root).unwrap();
        assert_eq!(check(&linked_root, "content/a.twb").unwrap(), linked_root.join("content/a.twb"));
        assert_eq!(check(&linked_root, "alias/a.twb").unwrap(), linked_root.join("alias/a.twb"));
        assert!(matches!(check(&linked_root, "escape/b.twb"), Err(PathProblem::SymlinkOutside(_))));
        // A manifest file in a linked directory names its content relative to that directory.
        let in_alias = FsSource::default().content_file(&root, &root.join("alias"), "a.twb");
        assert_eq!(in_alias.unwrap(), root.join("alias/a.twb"));
    }

    /// One load checks every content path through one source, which remembers the real directories it found:
    /// the answers are those of a fresh source for each path, whatever was checked before.
    #[test]
    fn a_source_remembering_real_directories_answers_as_a_fresh_one() {
        let (_dir, root) = tree();
        let paths = [
            "content/a.twb",
            "content/link.twb",
            "alias/a.twb",
            "escape/b.twb",
            "content/out.twb",
            "content/dangling.twb",
            "content/gone.twb",
            "content",
            "content/a.twb/x.twb",
        ];
        let shared = FsSource::default();
        for _ in 0..2 {
            for path in paths {
                assert_eq!(shared.content_file(&root, &root, path), check(&root, path), "{path}");
            }
        }
        assert!(shared.real_dirs.lock().unwrap().contains(&root.join("content")));
        assert!(!shared.real_dirs.lock().unwrap().contains(&root.join("alias")), "a symlink is never remembered");
    }

    #[test]
    fn escapes_missing_files_and_directories_are_refused() {
        let (_dir, root) = tree();
        assert!(matches!(check(&root, "escape/b.twb"), Err(PathProblem::SymlinkOutside(_))));
        assert!(matches!(check(&root, "content/out.twb"), Err(PathProblem::SymlinkOutside(_))));
        assert!(matches!(check(&root, "../outside/b.twb"), Err(PathProblem::Traversal)));
        assert!(matches!(check(&root, "/etc/passwd"), Err(PathProblem::Absolute)));
        assert!(matches!(check(&root, "content/dangling.twb"), Err(PathProblem::Missing)));
        assert!(matches!(check(&root, "content/none.twb"), Err(PathProblem::Missing)));
        assert!(matches!(check(&root, "content"), Err(PathProblem::NotAFile)));
        assert!(matches!(check(&root, "alias"), Err(PathProblem::NotAFile)));
        assert!(matches!(check(&root, "."), Err(PathProblem::NotAFile)));
    }
}
