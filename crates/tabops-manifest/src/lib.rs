//! The tabops manifest: YAML desired state for a Tableau Cloud site.
//!
//! [`load`] reads a manifest (one file or a directory of files), validates it completely (collecting every
//! problem as a [`Diagnostic`]) and resolves it into [`model::Desired`], the planner's input. [`hash`] (from
//! `tabops-content`) computes content digests; [`json_schema`] describes the file format for editors; [`address`]
//! names objects in plans.

pub mod address;
mod diag;
pub mod git;
pub mod model;
mod node;
pub mod preview;
mod raw;
mod resolve;
mod schema;
mod server_address;
pub mod site_settings;
mod source;
mod subscriptions;
pub mod templates;
mod webhook;
pub mod write;
mod yaml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use sha2::{Digest, Sha256};

pub use diag::{Diagnostic, Diagnostics};
pub use resolve::valid_content_url;
pub use schema::json_schema;
#[doc(hidden)]
pub use schema::{schema_key_table, top_level_keys};
pub use server_address::ServerAddress;
pub use source::{FsSource, PathProblem, Source};
/// Content digests and package bounds live with the content files; re-exported where callers have always found them.
pub use tabops_content::{hash, package};
pub use webhook::is_loopback_host;
pub use yaml::{MAX_DEPTH, MAX_FILE_BYTES};

use crate::node::Pos;
use crate::raw::{FromNode, Problem, RawFile, Reader};

/// The manifest format version this build reads.
pub const MANIFEST_VERSION: u32 = 1;

/// How to load a manifest.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The environment selected with `--env`.
    pub env: Option<String>,
    /// A snapshot of the process environment, for `${env:NAME}`.
    pub environment: BTreeMap<String, String>,
    /// Compute content digests (sha256). Without it, `size` and `sha256` of content files are left empty.
    pub hash_content: bool,
    /// Variables set on the command line (`--var NAME=VALUE`): they win over the selected environment's `vars` and
    /// the manifest's. Each must be defined under `vars:` (of the manifest or the environment) ...
    pub vars: BTreeMap<String, String>,
    /// ... unless this is set: for an older revision of the manifest (`--base`), which may not define them yet.
    pub ignore_undefined_vars: bool,
}

impl LoadOptions {
    /// Options with the current process environment.
    pub fn from_process(env: Option<String>, hash_content: bool) -> Self {
        Self {
            env,
            environment: std::env::vars().collect(),
            hash_content,
            vars: BTreeMap::new(),
            ignore_undefined_vars: false,
        }
    }
}

/// A loaded, valid manifest.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub desired: model::Desired,
    /// The manifest files read, in merge order.
    pub sources: Vec<PathBuf>,
    /// The manifest root: the directory, or the file's parent directory.
    pub root: PathBuf,
    /// Connection passwords whose `${env:NAME}` was not set when loading (each is an unresolved
    /// [`model::Secret`]). Not errors: planning never needs a password; `validate` shows them as warnings (errors
    /// with `--strict`) and `apply` requires the ones it will send.
    pub unset_secrets: Diagnostics,
    /// YAML files of a manifest directory that were skipped because they do not start a tabops manifest (no
    /// top-level `version:` key: CI workflows, other tools' configuration), sorted by path.
    pub skipped: Vec<PathBuf>,
}

impl Loaded {
    /// The one note telling the user which YAML files were skipped as not being tabops manifests, if any.
    pub fn skipped_note(&self) -> Option<String> {
        skipped_note(&self.skipped)
    }

    /// `3 projects, 2 groups, 4 users, 2 data sources, 3 workbooks, 2 refresh tasks` (and `, 1 webhook` when the
    /// manifest declares webhooks).
    pub fn summary(&self) -> String {
        let d = &self.desired;
        let refresh: usize =
            d.datasources.iter().chain(&d.workbooks).map(|c| c.refresh.as_ref().map_or(0, Vec::len)).sum();
        let count = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        [
            count(d.projects.len(), "project", "projects"),
            count(d.groups.len(), "group", "groups"),
            count(d.users.len(), "user", "users"),
            count(d.datasources.len(), "data source", "data sources"),
            count(d.workbooks.len(), "workbook", "workbooks"),
            count(refresh, "refresh task", "refresh tasks"),
        ]
        .into_iter()
        .chain((!d.subscriptions.is_empty()).then(|| count(d.subscriptions.len(), "subscription", "subscriptions")))
        .chain((!d.webhooks.is_empty()).then(|| count(d.webhooks.len(), "webhook", "webhooks")))
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// Why a manifest could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The manifest has problems; all of them are listed.
    #[error("the manifest has {} error{}", .0.len(), if .0.len() == 1 { "" } else { "s" })]
    Invalid(Diagnostics),
    #[error("failed to read manifest `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no manifest files (`*.yaml`, `*.yml` with a top-level `version:`) in directory `{}`{}", path.display(), skipped_count(*.skipped))]
    NoManifestFiles {
        path: PathBuf,
        /// YAML files found there without a top-level `version:` (not tabops manifests).
        skipped: usize,
    },
}

impl LoadError {
    /// Advice for the user, shown after the error.
    pub fn hint(&self) -> Option<String> {
        match self {
            LoadError::NoManifestFiles { .. } => Some(
                "each file of a tabops manifest starts with `version: 1`; pass -f PATH to the manifest's own file or \
                 directory"
                    .to_owned(),
            ),
            LoadError::Io { .. } | LoadError::Invalid(_) => None,
        }
    }
}

fn skipped_count(skipped: usize) -> String {
    match skipped {
        0 => String::new(),
        1 => "; its one YAML file has no `version:` at the top, so it is not a tabops manifest".to_owned(),
        n => format!("; none of its {n} YAML files has `version:` at the top, so none is a tabops manifest"),
    }
}

/// How many skipped files a note names before it counts the rest.
const SKIPPED_NAMED: usize = 5;

fn skipped_note(skipped: &[PathBuf]) -> Option<String> {
    if skipped.is_empty() {
        return None;
    }
    let mut names: Vec<String> = skipped.iter().take(SKIPPED_NAMED).map(|f| format!("`{}`", display_path(f))).collect();
    if skipped.len() > SKIPPED_NAMED {
        names.push(format!("and {} more", skipped.len() - SKIPPED_NAMED));
    }
    let (n, files) =
        if skipped.len() == 1 { (String::new(), "file") } else { (format!("{} ", skipped.len()), "files") };
    Some(format!("skipped {n}YAML {files} without a top-level `version:` (not tabops manifests): {}", names.join(", ")))
}

/// Top-level keys only a tabops manifest has: a file with one of them but no `version:` is a manifest missing its
/// version (reported as such), never skipped, since skipping it would drop its objects from the desired state.
const OWN_KEYS: [&str; 4] = ["site", "projects", "workbooks", "datasources"];

/// Whether a YAML file of a manifest directory is (meant as) a tabops manifest: it has the top-level key `version`,
/// or one of [`OWN_KEYS`], or nothing at all (an empty file is reported as empty, with how to start it). Read as
/// text, line by line (a top-level key of a block mapping starts its line, unindented), so an unrelated file is
/// never parsed and never reported; a manifest with a syntax error still has the line, so its errors are shown.
fn is_manifest(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut lines = bytes.split(|&b| b == b'\n');
    let blank = |line: &[u8]| {
        let line = line.trim_ascii();
        line.is_empty() || line.starts_with(b"#") || line == b"---" || line == b"..."
    };
    if lines.clone().all(blank) {
        return true;
    }
    lines.any(|line| {
        top_level_key(line).is_some_and(|key| key == b"version" || OWN_KEYS.iter().any(|own| key == own.as_bytes()))
    })
}

/// The key a line starts at the top level of a block mapping (`key:` unindented, quotes removed), if any.
fn top_level_key(line: &[u8]) -> Option<&[u8]> {
    let colon = line.iter().position(|&b| b == b':')?;
    let key = line[..colon].trim_ascii_end();
    let key = match key.first()? {
        b'"' | b'\'' => key.get(1..key.len() - 1).filter(|_| key.len() >= 2 && key.last() == key.first())?,
        b' ' | b'\t' | b'#' | b'-' | b'{' | b'[' => return None,
        _ => key,
    };
    Some(key)
}

/// Load, validate and resolve the manifest at `path` (a file or a directory) from the working tree.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Loaded, LoadError> {
    load_from(&FsSource::default(), path, options)
}

/// [`load`] through any [`Source`].
pub fn load_from(source: &dyn Source, path: &Path, options: &LoadOptions) -> Result<Loaded, LoadError> {
    let io = |source| LoadError::Io { path: path.to_path_buf(), source };
    let is_dir = source.is_dir(path).map_err(io)?;
    let (files, root) = if is_dir {
        let files = source.manifest_files(path).map_err(io)?;
        if files.is_empty() {
            return Err(LoadError::NoManifestFiles { path: path.to_path_buf(), skipped: 0 });
        }
        (files, path.to_path_buf())
    } else {
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        (vec![path.to_path_buf()], parent.to_path_buf())
    };
    let mut names: Vec<String> = files.iter().map(|f| display_path(f)).collect();
    names.push(display_path(path));

    // Files are read and parsed in parallel (a large site splits its manifest into many files); the manifest
    // digest and the problems are then gathered in file order, so the result does not depend on scheduling.
    let parse_all = || -> Vec<Result<ParsedFile, LoadError>> {
        files.par_iter().enumerate().map(|(index, file)| parse_file(source, &root, index, file, is_dir)).collect()
    };
    // On threads of their own, which end with the load: the parsed files are dropped once resolved (about 130 MB
    // at 5x S), and an allocator thread cache holds freed memory for as long as its thread lives and does not
    // allocate again; pool threads that go idle would keep it resident while the site is read and planned.
    let parsed = match rayon::ThreadPoolBuilder::new().thread_name(|i| format!("tabops-load-{i}")).build() {
        Ok(pool) => pool.install(parse_all),
        Err(_) => parse_all(),
    };
    let mut problems = Vec::new();
    let mut inputs = Vec::new();
    let mut digest = Sha256::new();
    let mut skipped = Vec::new();
    for (parsed, file) in parsed.into_iter().zip(&files) {
        let ParsedFile { relative, bytes, input, problems: mut found, not_a_manifest } = parsed?;
        if not_a_manifest {
            skipped.push(file.clone());
            continue;
        }
        if let Some(bytes) = &bytes {
            digest.update((relative.len() as u64).to_le_bytes());
            digest.update(relative.as_bytes());
            digest.update((bytes.len() as u64).to_le_bytes());
            digest.update(bytes);
        }
        problems.append(&mut found);
        inputs.extend(input);
    }
    // Values from `--var` change what the manifest means: a plan made with other values is another plan.
    for (name, value) in &options.vars {
        for part in ["--var", name.as_str(), value.as_str()] {
            digest.update((part.len() as u64).to_le_bytes());
            digest.update(part.as_bytes());
        }
    }
    if skipped.len() == files.len() {
        return Err(LoadError::NoManifestFiles { path: path.to_path_buf(), skipped: skipped.len() });
    }
    // Missing `version`/syntax errors drop a file; resolve what remains so its problems show too.
    let context = resolve::Context {
        files: &inputs,
        names: &names,
        root: &root,
        env: options.env.as_deref(),
        environment: &options.environment,
        cli_vars: &options.vars,
        ignore_undefined_vars: options.ignore_undefined_vars,
        source,
        complete: inputs.len() + skipped.len() == files.len(),
    };
    // Problems carry the index of their file in `names` (whole-manifest ones the last, the manifest path), so
    // files dropped or skipped before resolving shift nothing.
    let resolve::Resolved { desired, problems: mut resolve_problems, unset_secrets } = resolve::resolve(&context);
    problems.append(&mut resolve_problems);
    if !problems.is_empty() {
        return Err(LoadError::Invalid(to_diagnostics(problems, &names)));
    }
    let Some(mut desired) = desired else {
        return Err(LoadError::Invalid(Diagnostics::default()));
    };
    desired.manifest_digest = hex::encode(digest.finalize());
    if options.hash_content {
        hash_all(source, &mut desired, &names)?;
    }
    let unset_secrets = to_diagnostics(unset_secrets, &names);
    let sources = files.into_iter().filter(|file| !skipped.contains(file)).collect();
    Ok(Loaded { desired, sources, root, unset_secrets, skipped })
}

/// One manifest file read and parsed: its bytes (for the manifest digest), its raw content when it parsed, and the
/// problems found in it.
struct ParsedFile {
    relative: String,
    bytes: Option<Vec<u8>>,
    input: Option<resolve::FileInput>,
    problems: Vec<Problem>,
    /// A file of a directory that is not a tabops manifest (no top-level `version:`): skipped, not reported.
    not_a_manifest: bool,
}

/// Reads and parses one manifest file; `in_directory` files without a top-level `version:` are skipped (a file
/// named on its own is always read as a manifest, so its missing `version` is an error).
fn parse_file(
    source: &dyn Source,
    root: &Path,
    index: usize,
    file: &Path,
    in_directory: bool,
) -> Result<ParsedFile, LoadError> {
    let io = |e| LoadError::Io { path: file.to_path_buf(), source: e };
    let relative = file.strip_prefix(root).unwrap_or(file).to_string_lossy().replace('\\', "/");
    let mut out = ParsedFile { relative, bytes: None, input: None, problems: Vec::new(), not_a_manifest: false };
    let whole = |message: String, hint: Option<String>| Problem {
        pos: Pos { file: index, line: 0, column: 0 },
        field: String::new(),
        message,
        hint,
    };
    let size = source.size(file).map_err(io)?;
    if size > MAX_FILE_BYTES {
        let p = yaml::too_large(size);
        out.problems.push(whole(p.message, p.hint));
        return Ok(out);
    }
    let bytes = source.read(file).map_err(io)?;
    if in_directory && !is_manifest(&bytes) {
        out.not_a_manifest = true;
        return Ok(out);
    }
    let node = match yaml::parse(&bytes) {
        Ok(Some(node)) => node,
        Ok(None) => {
            out.problems
                .push(whole("the file is empty".into(), Some(format!("start it with `version: {MANIFEST_VERSION}`"))));
            out.bytes = Some(bytes);
            return Ok(out);
        }
        Err(p) => {
            out.problems.push(Problem {
                pos: Pos { file: index, line: p.line, column: p.column },
                field: String::new(),
                message: p.message,
                hint: p.hint,
            });
            out.bytes = Some(bytes);
            return Ok(out);
        }
    };
    out.bytes = Some(bytes);
    let mut reader = Reader::new(index);
    let raw = RawFile::from_node(&node, &mut reader, "");
    out.problems.append(&mut reader.problems);
    let Some(raw) = raw else { return Ok(out) };
    if raw.version.value != MANIFEST_VERSION {
        out.problems.push(raw.version.problem(
            format!("unsupported manifest version {}; this tabops reads version {MANIFEST_VERSION}", raw.version.value),
            None,
        ));
        return Ok(out);
    }
    let dir = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
    out.input = Some(resolve::FileInput { raw, dir });
    Ok(out)
}

/// Computes the content digests of a manifest loaded from the work tree without `hash_content`. To hash on another
/// thread while the manifest is in use, take [`Loaded::pending_digests`] instead.
pub fn hash_content(loaded: &mut Loaded) -> Result<(), LoadError> {
    let digests = loaded.pending_digests().compute();
    loaded.set_digests(digests)
}

/// The content files of a manifest loaded from the work tree without `hash_content`, to hash while the manifest is
/// used for something else (the CLI reads the live site meanwhile: at scale both take about as long). It holds the
/// files' paths, not a copy of the manifest, which at 50,000 items would double its memory for the whole read.
#[derive(Debug)]
pub struct PendingDigests(Vec<(PathBuf, tabops_content::FileType)>);

/// The result of [`PendingDigests::compute`], in the manifest's content order, for [`Loaded::set_digests`].
#[derive(Debug)]
pub struct ContentDigests(Vec<std::io::Result<hash::Digests>>);

impl PendingDigests {
    /// Hashes the files (in parallel, on rayon's pool).
    pub fn compute(self) -> ContentDigests {
        let source = FsSource::default();
        ContentDigests(self.0.par_iter().map(|(path, file_type)| source.digest(path, *file_type)).collect())
    }
}

impl Loaded {
    /// The work-tree content files whose digests [`Loaded::set_digests`] takes.
    pub fn pending_digests(&self) -> PendingDigests {
        let d = &self.desired;
        PendingDigests(
            d.datasources.iter().chain(&d.workbooks).map(|i| (i.file.path.clone(), i.file.file_type)).collect(),
        )
    }

    /// Records digests computed from [`Loaded::pending_digests`] of this manifest; a file that could not be read
    /// is an error naming its item.
    pub fn set_digests(&mut self, digests: ContentDigests) -> Result<(), LoadError> {
        // Whole-manifest problems name the manifest: its one file, or the directory of several.
        let whole = match self.sources.as_slice() {
            [file] => file,
            _ => &self.root,
        };
        let names: Vec<String> = self.sources.iter().chain([whole]).map(|f| display_path(f)).collect();
        let items = self.desired.datasources.iter_mut().chain(self.desired.workbooks.iter_mut());
        let results =
            items.zip(digests.0).map(|(item, digests)| (item.address(), digests.map(|d| item.file.set_digests(d))));
        digest_problems(results.collect(), &names)
    }
}

fn hash_all(source: &dyn Source, desired: &mut model::Desired, names: &[String]) -> Result<(), LoadError> {
    let results: Vec<(model::Address, std::io::Result<()>)> = desired
        .datasources
        .par_iter_mut()
        .chain(desired.workbooks.par_iter_mut())
        .map(|item| {
            let result = source.digest(&item.file.path, item.file.file_type);
            (item.address(), result.map(|digests| item.file.set_digests(digests)))
        })
        .collect();
    digest_problems(results, names)
}

/// Every content file that could not be hashed, as one error.
fn digest_problems(results: Vec<(model::Address, std::io::Result<()>)>, names: &[String]) -> Result<(), LoadError> {
    let problems: Vec<Diagnostic> = results
        .into_iter()
        .filter_map(|(address, result)| {
            result.err().map(|err| Diagnostic {
                file: PathBuf::from(names.last().cloned().unwrap_or_default()),
                line: 0,
                column: 0,
                field: String::new(),
                message: format!("cannot hash the content file of {address}: {err}"),
                hint: None,
            })
        })
        .collect();
    if problems.is_empty() { Ok(()) } else { Err(LoadError::Invalid(Diagnostics(problems).sorted())) }
}

fn to_diagnostics(problems: Vec<Problem>, names: &[String]) -> Diagnostics {
    Diagnostics(
        problems
            .into_iter()
            .map(|p| Diagnostic {
                file: PathBuf::from(names.get(p.pos.file).cloned().unwrap_or_default()),
                line: p.pos.line,
                column: p.pos.column,
                field: p.field,
                message: p.message,
                hint: p.hint,
            })
            .collect(),
    )
    .sorted()
}

/// `path` relative to the current directory when it is inside it.
fn display_path(path: &Path) -> String {
    if path.is_absolute()
        && let Ok(cwd) = std::env::current_dir()
        && let Ok(rel) = path.strip_prefix(&cwd)
    {
        return rel.display().to_string();
    }
    path.display().to_string()
}
