//! The git side of the pipeline: loading a manifest from a commit (`--git-ref`), the provenance recorded in plans
//! and the audit log, and the manifest at `--base`, whose protections stay in force and whose difference from the
//! head is the pull request's review.

use std::path::{Path, PathBuf};

use tabops_manifest::git::{self, GitSource, Located};
use tabops_manifest::model::Desired;
use tabops_manifest::{LoadError, LoadOptions, Loaded};
use tabops_plan::plan::GitInfo;
use tabops_plan::review::{ContentChange, Review};

use crate::pipeline::ManifestSource;
use crate::{Error, ErrorKind, Observer};

/// Where materialised content blobs live, inside the repository's work tree: in its default state directory
/// (ignored by the dirty check, and by git through the state directory's `.gitignore`).
pub const BLOB_DIR: &str = ".tabops/git-blobs";

/// Loads the manifest at `reference` of the repository (`--repo`, else discovered from the current directory).
pub fn load_at(
    args: &ManifestSource,
    reference: &str,
    options: &LoadOptions,
) -> Result<Result<Loaded, LoadError>, Error> {
    let located = git::locate(args.repo.as_deref(), &args.file)?;
    crate::site::ensure_state_dir(&located.workdir.join(crate::site::STATE_DIR))?;
    let source = GitSource::open(&located.workdir, reference, located.workdir.join(BLOB_DIR))?;
    let mut loaded = match tabops_manifest::load_from(&source, &located.manifest, options) {
        Ok(loaded) => loaded,
        Err(err) => return Ok(Err(err)),
    };
    source.use_materialised_paths(&mut loaded.desired).map_err(|source| ErrorKind::Materialise {
        reference: reference.to_owned(),
        dir: BLOB_DIR,
        source,
    })?;
    Ok(Ok(loaded))
}

/// The provenance of the manifest the command reads: of `--git-ref`, or of HEAD with the dirty flag. `None` when
/// the manifest is not inside a git repository (and no `--git-ref` asks for one).
pub fn git_info(args: &ManifestSource) -> Result<Option<GitInfo>, Error> {
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

/// The manifest at `--base REF`, loaded and hashed like the head, with its commit id.
///
/// The first pull request of a repository has no manifest at its base: a base commit without the manifest path,
/// or the all-zero id CI systems pass for "no previous commit", is an empty manifest (`head_site` stands in for
/// its `site` block), said in one note to the observer. A revision missing from a shallow clone says how to fetch
/// it.
pub async fn load_base(
    args: &ManifestSource,
    reference: &str,
    head_site: &tabops_manifest::model::SiteTarget,
    observer: &dyn Observer,
) -> Result<(Loaded, String), Error> {
    let empty = |commit: String, why: String| {
        observer.note(&format!(
            "the base `{reference}` {why}: comparing with an empty manifest (everything in this one is new)"
        ));
        let desired = Desired {
            site: head_site.clone(),
            site_settings: Default::default(),
            settings: Default::default(),
            projects: Vec::new(),
            groups: Vec::new(),
            users: Vec::new(),
            datasources: Vec::new(),
            workbooks: Vec::new(),
            subscriptions: Vec::new(),
            webhooks: Vec::new(),
            manifest_digest: String::new(),
            locations: Default::default(),
        };
        let loaded = Loaded {
            desired,
            sources: Vec::new(),
            root: args.file.clone(),
            unset_secrets: Default::default(),
            skipped: Vec::new(),
        };
        Ok((loaded, commit))
    };
    if git::is_null_commit(reference) {
        return empty(reference.to_owned(), "is the all-zero commit id (there is no previous commit)".to_owned());
    }
    // The base may not define a variable `--var` sets yet.
    let options = LoadOptions { ignore_undefined_vars: true, ..args.load_options(true) };
    let (task_args, task_ref) = (args.clone(), reference.to_owned());
    let loaded = tokio::task::spawn_blocking(move || load_at(&task_args, &task_ref, &options)).await??;
    let located = git::locate(args.repo.as_deref(), &args.file)?;
    let commit = || git::provenance(&located, Some(reference)).map(|p| p.commit);
    let loaded = match loaded {
        Ok(loaded) => loaded,
        Err(LoadError::Invalid(diagnostics)) => {
            return Err(ErrorKind::InvalidBase {
                file: args.file.clone(),
                reference: reference.to_owned(),
                diagnostics,
            }
            .into());
        }
        Err(LoadError::Io { path, source })
            if source.kind() == std::io::ErrorKind::NotFound && path == located.manifest =>
        {
            let commit = commit()?;
            let short = commit.get(..12).unwrap_or(&commit).to_owned();
            return empty(commit, format!("(commit {short}) has no manifest at `{}`", located.manifest.display()));
        }
        Err(LoadError::NoManifestFiles { path, .. }) if path == located.manifest => {
            let commit = commit()?;
            let short = commit.get(..12).unwrap_or(&commit).to_owned();
            return empty(commit, format!("(commit {short}) has no manifest files in `{}`", path.display()));
        }
        Err(source) => return Err(ErrorKind::LoadBase { reference: reference.to_owned(), source }.into()),
    };
    Ok((loaded, commit()?))
}

/// The review of head against the base loaded by [`load_base`].
pub fn review(args: &ManifestSource, reference: &str, base: &(Loaded, String), head: &Desired) -> Review {
    Review {
        base: reference.to_owned(),
        base_commit: base.1.clone(),
        head: args.git_ref.clone().unwrap_or_else(|| "working tree".to_owned()),
        changes: tabops_plan::review::diff(&base.0.desired, head)
            .into_iter()
            .map(|mut change| {
                if let Some(content) = &mut change.content {
                    attach_semantic(content);
                }
                change
            })
            .collect(),
    }
}

/// Attaches the semantic workbook/data-source diff (`tabops-content`) to a changed content file: worksheets,
/// dashboards, calculated fields, parameters and connections that changed, with XML noise left out. Nothing when
/// either version is missing (an added or removed file) or only noise changed; the reason when a file cannot be
/// read or parsed.
pub fn attach_semantic(change: &mut ContentChange) {
    let (Some(before), Some(after)) = (change.before_path.as_ref(), change.after_path.as_ref()) else { return };
    let Some(file_type) =
        after.extension().and_then(|e| e.to_str()).and_then(tabops_manifest::model::FileType::from_extension)
    else {
        return;
    };
    let read = |path: &PathBuf| std::fs::read(path).map_err(|err| format!("cannot read {}: {err}", path.display()));
    let review = read(before)
        .and_then(|old| read(after).map(|new| (old, new)))
        .and_then(|(old, new)| tabops_content::review(&old, &new, file_type).map_err(|err| err.to_string()));
    match review {
        Ok(review) if review.is_empty() => {}
        Ok(review) => change.semantic = Some(review),
        Err(err) => change.semantic_unavailable = Some(err),
    }
}
