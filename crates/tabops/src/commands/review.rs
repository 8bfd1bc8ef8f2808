//! The git side of the CLI: loading a manifest from a commit (`--git-ref`), the provenance recorded in plans and
//! the audit log, and `plan --base REF`, the review of what a pull request changes in the desired state (manifest
//! fields and content digests), shown separately from the live diff so a reviewer sees the change set's intent and
//! the site's drift apart.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;
use serde_json::Value;
use tabops_manifest::git::{self, GitSource, Located};
use tabops_manifest::model::Desired;
use tabops_manifest::{LoadError, LoadOptions, Loaded};
use tabops_plan::plan::GitInfo;

use super::reconcile::ManifestArgs;

/// Where materialised content blobs live, inside the repository's work tree (ignored by the dirty check).
pub const BLOB_DIR: &str = ".tabops/git-blobs";

/// Loads the manifest at `reference` of the repository (`--repo`, else discovered from the current directory).
pub fn load_at(
    args: &ManifestArgs,
    reference: &str,
    options: &LoadOptions,
) -> anyhow::Result<Result<Loaded, LoadError>> {
    let located = git::locate(args.repo.as_deref(), &args.file)?;
    let source = GitSource::open(&located.workdir, reference, located.workdir.join(BLOB_DIR))?;
    let mut loaded = match tabops_manifest::load_from(&source, &located.manifest, options) {
        Ok(loaded) => loaded,
        Err(err) => return Ok(Err(err)),
    };
    source
        .use_materialised_paths(&mut loaded.desired)
        .with_context(|| format!("failed to write content files of {reference} to {BLOB_DIR}"))?;
    Ok(Ok(loaded))
}

/// The provenance of the manifest the command reads: of `--git-ref`, or of HEAD with the dirty flag. `None` when
/// the manifest is not inside a git repository (and no `--git-ref` asks for one).
pub fn git_info(args: &ManifestArgs) -> anyhow::Result<Option<GitInfo>> {
    let located = match git::locate(args.repo.as_deref(), &args.file) {
        Ok(located) => located,
        Err(err) if args.git_ref.is_none() && args.repo.is_none() => {
            tracing::debug!(error = %err, "no git provenance");
            return Ok(None);
        }
        Err(err) => return Err(err.into()),
    };
    let scope = dirty_scope(&located);
    let provenance = match git::provenance(&scope, args.git_ref.as_deref()) {
        Ok(p) => p,
        Err(err) if args.git_ref.is_none() => {
            tracing::debug!(error = %err, "no git provenance (no commit yet?)");
            return Ok(None);
        }
        Err(err) => return Err(err.into()),
    };
    let branch = provenance.branch.clone().or_else(ci_branch);
    Ok(Some(GitInfo { commit: provenance.commit, branch, author: provenance.author, dirty: provenance.dirty }))
}

/// A manifest file's content sits next to it: the dirty check covers its directory.
fn dirty_scope(located: &Located) -> Located {
    let on_disk = located.workdir.join(&located.manifest);
    let manifest = if on_disk.is_file() {
        located.manifest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf()
    } else {
        located.manifest.clone()
    };
    Located { workdir: located.workdir.clone(), manifest }
}

/// CI checkouts are detached: the branch comes from the CI's variables.
fn ci_branch() -> Option<String> {
    ["GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "CI_COMMIT_REF_NAME"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|value| !value.is_empty())
}

/// What a change set alters in the desired state.
#[derive(Debug, Clone, Serialize)]
pub struct Review {
    /// The base revision as given (`origin/main`) and its commit.
    pub base: String,
    pub base_commit: String,
    /// `working tree` or the `--git-ref` revision.
    pub head: String,
    pub changes: Vec<ObjectChange>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// One object added, removed or changed between base and head.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectChange {
    pub address: String,
    pub change: ChangeKind,
    /// Field-level differences (dotted paths); content digests are in `content`.
    pub fields: Vec<FieldDiff>,
    /// The content file, when its bytes changed (or the item was added/removed).
    pub content: Option<ContentChange>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FieldDiff {
    pub field: String,
    pub before: Value,
    pub after: Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContentChange {
    /// The file as written in the manifest (head, else base).
    pub file: String,
    pub before_sha256: Option<String>,
    pub after_sha256: Option<String>,
    pub before_size: Option<u64>,
    pub after_size: Option<u64>,
    /// Files on disk holding each version (for a semantic diff); not serialised.
    #[serde(skip)]
    pub before_path: Option<PathBuf>,
    #[serde(skip)]
    pub after_path: Option<PathBuf>,
}

/// Compares the desired state at `base` with the one at `head`. Objects match by address, case-insensitively.
pub fn diff(base: &Desired, head: &Desired) -> Vec<ObjectChange> {
    let before = objects(base);
    let after = objects(head);
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for key in keys {
        let (b, a) = (before.get(key), after.get(key));
        let address = a.or(b).map(|o| o.address.clone()).unwrap_or_default();
        let change = match (b, a) {
            (None, Some(_)) => ChangeKind::Added,
            (Some(_), None) => ChangeKind::Removed,
            _ => ChangeKind::Changed,
        };
        let mut fields = Vec::new();
        flatten_diff("", b.map(|o| &o.value), a.map(|o| &o.value), &mut fields);
        if change == ChangeKind::Removed {
            // A removed object's fields are all "removed"; the address says it.
            fields.clear();
        }
        let content = content_change(b, a);
        if change == ChangeKind::Changed && fields.is_empty() && content.is_none() {
            continue;
        }
        out.push(ObjectChange { address, change, fields, content });
    }
    out
}

struct Object {
    address: String,
    value: Value,
    file: Option<(String, String, u64, PathBuf)>,
}

fn objects(desired: &Desired) -> BTreeMap<String, Object> {
    let mut out = BTreeMap::new();
    let mut put = |address: String, value: Value, file: Option<(String, String, u64, PathBuf)>| {
        out.insert(address.to_lowercase(), Object { address, value, file });
    };
    put("site".into(), to_value(&desired.site), None);
    put("settings".into(), to_value(&desired.settings), None);
    for p in &desired.projects {
        put(format!("project:{}", p.path), to_value(p), None);
    }
    for g in &desired.groups {
        put(format!("group:{}", g.name), to_value(g), None);
    }
    for u in &desired.users {
        put(format!("user:{}", u.name), to_value(u), None);
    }
    for c in desired.datasources.iter().chain(&desired.workbooks) {
        let mut value = to_value(c);
        if let Some(file) = value.get_mut("file").and_then(Value::as_object_mut) {
            // Where the bytes sit differs between a commit and the work tree; the digest says whether they differ.
            for key in ["path", "sha256", "file_sha256", "size"] {
                file.remove(key);
            }
        }
        let file = (c.file.display.clone(), c.file.sha256.clone(), c.file.size, c.file.path.clone());
        put(c.address().to_string(), value, Some(file));
    }
    out
}

fn to_value(value: &impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn flatten_diff(prefix: &str, before: Option<&Value>, after: Option<&Value>, out: &mut Vec<FieldDiff>) {
    match (before, after) {
        (Some(Value::Object(b)), Some(Value::Object(a))) => {
            let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                flatten_diff(&path, b.get(key), a.get(key), out);
            }
        }
        (Some(Value::Object(b)), None) => {
            for (key, value) in b {
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                flatten_diff(&path, Some(value), None, out);
            }
        }
        (None, Some(Value::Object(a))) => {
            for (key, value) in a {
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                flatten_diff(&path, None, Some(value), out);
            }
        }
        (b, a) if b != a => {
            let is_empty = |v: Option<&Value>| {
                v.is_none_or(|v| v.is_null() || v.as_array().is_some_and(Vec::is_empty) || v == &Value::Bool(false))
            };
            if is_empty(b) && is_empty(a) {
                return;
            }
            out.push(FieldDiff {
                field: prefix.to_owned(),
                before: b.cloned().unwrap_or(Value::Null),
                after: a.cloned().unwrap_or(Value::Null),
            });
        }
        _ => {}
    }
}

fn content_change(before: Option<&Object>, after: Option<&Object>) -> Option<ContentChange> {
    let b = before.and_then(|o| o.file.as_ref());
    let a = after.and_then(|o| o.file.as_ref());
    if b.is_none() && a.is_none() || b.map(|f| &f.1) == a.map(|f| &f.1) {
        return None;
    }
    Some(ContentChange {
        file: a.or(b).map(|f| f.0.clone()).unwrap_or_default(),
        before_sha256: b.map(|f| f.1.clone()),
        after_sha256: a.map(|f| f.1.clone()),
        before_size: b.map(|f| f.2),
        after_size: a.map(|f| f.2),
        before_path: b.map(|f| f.3.clone()),
        after_path: a.map(|f| f.3.clone()),
    })
}

impl Review {
    pub fn counts(&self) -> (usize, usize, usize) {
        let n = |k: ChangeKind| self.changes.iter().filter(|c| c.change == k).count();
        (n(ChangeKind::Added), n(ChangeKind::Changed), n(ChangeKind::Removed))
    }

    fn heading(&self) -> String {
        let short = self.base_commit.get(..12).unwrap_or(&self.base_commit);
        let (add, change, remove) = self.counts();
        format!(
            "Changes in this pull request ({} {short} -> {}): {add} added, {change} changed, {remove} removed",
            self.base, self.head
        )
    }

    /// Plain text, before the live plan.
    pub fn render_text(&self) -> String {
        let mut out = format!("{}\n", self.heading());
        if self.changes.is_empty() {
            out.push_str("  The desired state is the same at both revisions.\n");
        }
        for change in &self.changes {
            let _ = writeln!(out, "  {} {}", glyph(change.change), change.address);
            for f in &change.fields {
                let _ = writeln!(out, "      {}: {} -> {}", f.field, show(&f.before), show(&f.after));
            }
            if let Some(c) = &change.content {
                let _ = writeln!(out, "      content {}: {}", c.file, content_line(c));
            }
        }
        out.push('\n');
        out
    }

    /// Markdown for the pull-request comment, before the live plan.
    pub fn render_markdown(&self) -> String {
        let mut out = format!("## {}\n\n", self.heading().replace(" -> ", " → "));
        if self.changes.is_empty() {
            out.push_str("The desired state is the same at both revisions.\n\n");
        }
        for change in &self.changes {
            let _ = writeln!(out, "- **{}** `{}`", word(change.change), change.address.replace('`', "'"));
            if !change.fields.is_empty() {
                out.push_str("\n  | field | before | after |\n  |---|---|---|\n");
                for f in &change.fields {
                    let _ = writeln!(out, "  | `{}` | {} | {} |", f.field, cell(&f.before), cell(&f.after));
                }
                out.push('\n');
            }
            if let Some(c) = &change.content {
                let _ = writeln!(out, "  - content `{}`: {}", c.file.replace('`', "'"), content_line(c));
                if let Some(semantic) = semantic_review(c) {
                    let _ = writeln!(out, "\n{}", indent(&semantic, "    "));
                }
            }
        }
        out.push('\n');
        out
    }
}

/// The semantic workbook/data-source diff (`tabops-content`) of a changed content file, as Markdown: worksheets,
/// dashboards, calculated fields, parameters and connections that changed, with XML noise left out. `None` when
/// either version is missing (an added or removed file) or the change has no semantic content.
fn semantic_review(change: &ContentChange) -> Option<String> {
    let (before, after) = (change.before_path.as_ref()?, change.after_path.as_ref()?);
    let extension = after.extension().and_then(|e| e.to_str())?;
    let file_type = tabops_manifest::model::FileType::from_extension(extension)?;
    let read = |path: &PathBuf| std::fs::read(path).map_err(|err| format!("cannot read {}: {err}", path.display()));
    let review = read(before)
        .and_then(|old| read(after).map(|new| (old, new)))
        .and_then(|(old, new)| tabops_content::review(&old, &new, file_type).map_err(|err| err.to_string()));
    match review {
        Ok(review) if review.is_empty() => None,
        Ok(review) => Some(review.render_markdown()),
        Err(err) => Some(format!("_Semantic review unavailable: {err}_")),
    }
}

fn indent(text: &str, prefix: &str) -> String {
    text.lines()
        .map(|l| if l.is_empty() { String::new() } else { format!("{prefix}{l}") })
        .collect::<Vec<_>>()
        .join("\n")
}

fn glyph(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Added => "+",
        ChangeKind::Removed => "-",
        ChangeKind::Changed => "~",
    }
}

fn word(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Added => "added",
        ChangeKind::Removed => "removed",
        ChangeKind::Changed => "changed",
    }
}

fn show(value: &Value) -> String {
    match value {
        Value::Null => "(unset)".into(),
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

fn cell(value: &Value) -> String {
    let text = show(value).replace('|', "\\|").replace('`', "'");
    format!("`{text}`")
}

fn content_line(c: &ContentChange) -> String {
    let sha = |s: &Option<String>| s.as_deref().map(|s| s.get(..12).unwrap_or(s).to_owned());
    let size = |s: Option<u64>| s.map(|s| format!("{s} bytes"));
    match (sha(&c.before_sha256), sha(&c.after_sha256)) {
        (Some(b), Some(a)) => format!(
            "sha256 {b}… -> {a}… ({} -> {})",
            size(c.before_size).unwrap_or_default(),
            size(c.after_size).unwrap_or_default()
        ),
        (None, Some(a)) => format!("new file, sha256 {a}… ({})", size(c.after_size).unwrap_or_default()),
        (Some(b), None) => format!("removed, was sha256 {b}…"),
        (None, None) => String::new(),
    }
}

/// `plan --format json --base`: the plan JSON unchanged under `plan`, the review next to it.
pub fn json_with_review(plan_json: &str, review: &Review) -> String {
    let plan: Value = serde_json::from_str(plan_json).unwrap_or(Value::Null);
    let both = serde_json::json!({ "plan": plan, "review": review });
    serde_json::to_string_pretty(&both).unwrap_or_default()
}

/// The manifest at `--base REF`, loaded and hashed like the head, with its commit id.
///
/// The first pull request of a repository has no manifest at its base: a base commit without the manifest path,
/// or the all-zero id CI systems pass for "no previous commit", is an empty manifest (`head_site` stands in for
/// its `site` block), said in one note on stderr. A revision missing from a shallow clone says how to fetch it.
pub async fn load_base(
    args: &ManifestArgs,
    reference: &str,
    head_site: &tabops_manifest::model::SiteTarget,
) -> anyhow::Result<(Loaded, String)> {
    let empty = |commit: String, why: String| {
        let note = format!(
            "note: the base `{reference}` {why}: comparing with an empty manifest (everything in this one is new)"
        );
        let _ = writeln!(anstream::stderr(), "{note}");
        let desired = Desired {
            site: head_site.clone(),
            settings: Default::default(),
            projects: Vec::new(),
            groups: Vec::new(),
            users: Vec::new(),
            datasources: Vec::new(),
            workbooks: Vec::new(),
            manifest_digest: String::new(),
            locations: Default::default(),
        };
        let loaded =
            Loaded { desired, sources: Vec::new(), root: args.file.clone(), unset_secrets: Default::default() };
        Ok((loaded, commit))
    };
    if git::is_null_commit(reference) {
        return empty(reference.to_owned(), "is the all-zero commit id (there is no previous commit)".to_owned());
    }
    let options = LoadOptions::from_process(args.env.clone(), true);
    let (task_args, task_ref) = (args.clone(), reference.to_owned());
    let loaded = tokio::task::spawn_blocking(move || load_at(&task_args, &task_ref, &options))
        .await?
        .map_err(|err| missing_revision_hint(err, reference))?;
    let located = git::locate(args.repo.as_deref(), &args.file)?;
    let commit = || git::provenance(&located, Some(reference)).map(|p| p.commit);
    let loaded = match loaded {
        Ok(loaded) => loaded,
        Err(LoadError::Invalid(diagnostics)) => {
            anyhow::bail!(
                "the manifest `{}` at the base revision `{reference}` has {} error(s):\n{diagnostics}",
                args.file.display(),
                diagnostics.len()
            )
        }
        Err(LoadError::Io { path, source })
            if source.kind() == std::io::ErrorKind::NotFound && path == located.manifest =>
        {
            let commit = commit()?;
            let short = commit.get(..12).unwrap_or(&commit).to_owned();
            return empty(commit, format!("(commit {short}) has no manifest at `{}`", located.manifest.display()));
        }
        Err(LoadError::NoManifestFiles { path }) if path == located.manifest => {
            let commit = commit()?;
            let short = commit.get(..12).unwrap_or(&commit).to_owned();
            return empty(commit, format!("(commit {short}) has no manifest files in `{}`", path.display()));
        }
        Err(other) => {
            return Err(anyhow::Error::new(other)
                .context(format!("failed to load the manifest at the base revision `{reference}`")));
        }
    };
    Ok((loaded, commit()?))
}

/// A `--base`/`--git-ref` revision that is not in the clone: say how to fetch it (a shallow CI checkout is the
/// usual cause) instead of libgit2's error codes.
pub fn missing_revision_hint(err: anyhow::Error, reference: &str) -> anyhow::Error {
    let hint = match err.downcast_ref::<git::GitError>() {
        Some(git::GitError::NotFound { shallow: true, .. }) => {
            "fetch the full history: `fetch-depth: 0` on actions/checkout (GitHub), `GIT_DEPTH: \"0\"` (GitLab), or \
             `git fetch --unshallow`"
                .to_owned()
        }
        Some(git::GitError::NotFound { shallow: false, .. }) => format!(
            "fetch it first (`git fetch origin BRANCH`) and pass the remote branch, e.g. `--base origin/main`; \
             `{reference}` must be a branch, tag or commit of this clone"
        ),
        _ => return err,
    };
    crate::errors::Hint::error(err.to_string(), hint)
}

/// The review of head against the base loaded by [`load_base`].
pub fn review(args: &ManifestArgs, reference: &str, base: &(Loaded, String), head: &Desired) -> Review {
    Review {
        base: reference.to_owned(),
        base_commit: base.1.clone(),
        head: args.git_ref.clone().unwrap_or_else(|| "working tree".to_owned()),
        changes: diff(&base.0.desired, head),
    }
}

/// Prints the plan, preceded by the review when there is one (JSON: both under one object).
pub fn print_with_review(
    review: Option<&Review>,
    plan: &tabops_plan::Plan,
    format: super::reconcile::Format,
    verbose: bool,
) -> anyhow::Result<()> {
    use super::reconcile::Format;
    let Some(review) = review else { return super::reconcile::print_plan(plan, format, verbose) };
    let mut out = anstream::stdout().lock();
    match format {
        Format::Json => writeln!(out, "{}", json_with_review(&tabops_plan::render::json(plan), review))?,
        Format::Text => write!(out, "{}", review.render_text())?,
        Format::Markdown => write!(out, "{}", review.render_markdown())?,
    }
    out.flush()?;
    drop(out);
    if format != Format::Json {
        super::reconcile::print_plan(plan, format, verbose)?;
    }
    Ok(())
}
