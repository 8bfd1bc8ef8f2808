//! The pipeline `plan`, `apply` and `drift` share: load the manifest, connect, read the inventory, plan.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};
use tabops_manifest::{LoadError, LoadOptions, Loaded};
use tabops_plan::{Plan, PlanOptions};
use tabops_tableau::Access;

use super::site::{self, Site, SiteArgs};
use crate::errors::Hint;

/// Which manifest, and which environment of it.
#[derive(Debug, Clone, Args)]
pub struct ManifestArgs {
    /// The manifest: one YAML file or a directory of them.
    #[arg(short = 'f', long = "file", env = "TABOPS_MANIFEST", default_value = "tabops")]
    pub file: PathBuf,
    /// Select an environment defined under `environments:`.
    #[arg(long, env = "TABOPS_ENV")]
    pub env: Option<String>,
    /// Read the manifest and its content files from this git revision (branch, tag, commit) instead of the work
    /// tree; `-f` then names the manifest path inside the repository.
    #[arg(long, value_name = "REF")]
    pub git_ref: Option<String>,
    /// The git repository (default: discovered from the current directory); with it, `-f` is relative to its root.
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
}

/// Safety switches of the planner.
#[derive(Debug, Clone, Args)]
pub struct SafetyArgs {
    /// Refuse a plan that deletes more than this many objects (default: the manifest's `settings.max_deletes`,
    /// else 10).
    #[arg(long)]
    pub max_deletes: Option<u32>,
    /// Allow a plan that deletes every content item of a project.
    #[arg(long)]
    pub allow_empty_project: bool,
    /// Allow a plan that deletes every project or every content item of the site.
    #[arg(long)]
    pub allow_empty_site: bool,
    /// The manifest at this git revision: what it protects stays protected, even where this manifest no longer
    /// lists it (a pull request's base branch, or on merge the commit applied before). `plan` also shows what
    /// changed since it. Protection thus lives in git history, so every runner computes the same plan.
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    /// Addresses protected in addition to the manifest's (filled from `--base`).
    #[arg(skip)]
    pub protected: BTreeSet<tabops_manifest::model::Address>,
    /// Limits no looser than which to plan (a saved plan's, when `apply PLAN` plans it again).
    #[arg(skip)]
    pub ceiling: Option<tabops_plan::plan::SafetyLimits>,
}

impl SafetyArgs {
    pub fn options(&self) -> PlanOptions {
        PlanOptions {
            max_deletes: self.max_deletes,
            allow_empty_project: self.allow_empty_project,
            allow_empty_site: self.allow_empty_site,
            protected: self.protected.clone(),
            ceiling: self.ceiling,
            ..PlanOptions::default()
        }
    }
}

/// Output format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people: colour on a terminal (respects NO_COLOR).
    Text,
    /// For a pull-request comment.
    Markdown,
    /// For machines; versioned (`format_version`).
    Json,
}

/// Loads the manifest from the work tree or, with `--git-ref`, from a commit; invalid manifests come back as
/// `Err(LoadError)` for the caller to report.
pub async fn load_or_diagnose(args: &ManifestArgs) -> anyhow::Result<Result<Loaded, LoadError>> {
    load_with(args, true).await
}

/// As [`load_or_diagnose`]; without `hash_content`, work-tree content digests are left for
/// [`tabops_manifest::hash_content`] (a commit's content is always hashed while it is read).
async fn load_with(args: &ManifestArgs, hash_content: bool) -> anyhow::Result<Result<Loaded, LoadError>> {
    Ok(match &args.git_ref {
        Some(reference) => {
            let options = LoadOptions::from_process(args.env.clone(), true);
            let (args, reference) = (args.clone(), reference.clone());
            let shown = reference.clone();
            tokio::task::spawn_blocking(move || super::review::load_at(&args, &reference, &options))
                .await?
                .map_err(|err| super::review::missing_revision_hint(err, &shown))?
        }
        None => {
            let options = LoadOptions::from_process(args.env.clone(), hash_content);
            let file = args.file.clone();
            tokio::task::spawn_blocking(move || tabops_manifest::load(&file, &options)).await?
        }
    })
}

/// Prints an invalid manifest's diagnostics and says that nothing was sent.
fn load_error(args: &ManifestArgs, err: LoadError) -> anyhow::Error {
    match err {
        LoadError::Invalid(diagnostics) => {
            let mut stderr = anstream::stderr().lock();
            let _ = write!(stderr, "{diagnostics}");
            Hint::error(
                format!(
                    "the manifest `{}` has {} error(s); nothing was sent to the site",
                    args.file.display(),
                    diagnostics.len()
                ),
                format!("run `tabops validate -f {}` to check it offline", args.file.display()),
            )
        }
        other => unreadable(args, other),
    }
}

/// A manifest that could not be read at all; a missing one says how to point at it.
pub fn unreadable(args: &ManifestArgs, err: LoadError) -> anyhow::Error {
    match &err {
        LoadError::Io { path, source } if source.kind() == std::io::ErrorKind::NotFound && *path == args.file => {
            Hint::error(
                format!("there is no manifest at `{}`", args.file.display()),
                "pass -f PATH: a manifest file, or a directory of YAML files (the default is `tabops`)",
            )
        }
        _ => anyhow::Error::new(err),
    }
}

/// A loaded manifest, a signed-in site and the plan between them.
pub struct Prepared {
    pub loaded: Loaded,
    pub site: Site,
    pub plan: Plan,
    /// The live site as read for the plan.
    pub inventory: tabops_plan::Inventory,
    /// The manifest at `--base` and the revision it names.
    pub base: Option<(Loaded, String)>,
}

/// What [`prepare`] does with the session once the site has been read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Session {
    /// Keep it: the caller writes to the site next (`apply`).
    Keep,
    /// Sign out while planning and printing (`plan`, `drift`): nothing more is sent.
    SignOutAfterRead,
}

pub async fn prepare(
    manifest: &ManifestArgs,
    site_args: &SiteArgs,
    safety: &SafetyArgs,
    session: Session,
) -> anyhow::Result<Prepared> {
    // Content digests are only needed to plan: hash the work tree's content files while signing in and reading
    // the site (at scale, both take about as long).
    let hash_later = manifest.git_ref.is_none();
    let loaded = load_with(manifest, !hash_later).await?.map_err(|err| load_error(manifest, err))?;
    let overlapped = Overlapped {
        hashing: hash_later.then(|| {
            let mut owned = loaded.clone();
            tokio::task::spawn_blocking(move || tabops_manifest::hash_content(&mut owned).map(|()| owned))
        }),
        provenance: {
            let manifest = manifest.clone();
            tokio::task::spawn_blocking(move || super::review::git_info(&manifest))
        },
    };
    let target = site::resolve_target(site_args, Some(&loaded.desired.site));
    let access = match session {
        Session::Keep => Access::Apply,
        Session::SignOutAfterRead => Access::Read,
    };
    let mut site = site::connect(site_args, &target, access).await?;
    match read_and_plan(manifest, safety, session, &mut site, loaded, overlapped).await {
        Ok((loaded, plan, inventory, base)) => Ok(Prepared { loaded, site, plan, inventory, base }),
        Err(err) => {
            site.close().await;
            Err(err)
        }
    }
}

/// Local work started before signing in, to run while the site is read.
struct Overlapped {
    /// The work tree's content digests (a commit's content is hashed while it is read).
    hashing: Option<tokio::task::JoinHandle<Result<Loaded, LoadError>>>,
    /// Git provenance: commit, branch, author, and whether the work tree is dirty (a status walk).
    provenance: tokio::task::JoinHandle<anyhow::Result<Option<tabops_plan::plan::GitInfo>>>,
}

/// Everything of [`Prepared`] but the site.
type Planned = (Loaded, Plan, tabops_plan::Inventory, Option<(Loaded, String)>);

/// The part of [`prepare`] after signing in; on error the caller closes the site.
async fn read_and_plan(
    manifest: &ManifestArgs,
    safety: &SafetyArgs,
    session: Session,
    site: &mut Site,
    mut loaded: Loaded,
    overlapped: Overlapped,
) -> anyhow::Result<Planned> {
    let inventory = tabops_apply::inventory::fetch(&site.client, &loaded.desired)
        .await
        .with_context(|| format!("failed to read {}", site.label))?;
    if session == Session::SignOutAfterRead {
        site.sign_out_early();
    }
    if let Some(hashing) = overlapped.hashing {
        loaded = hashing.await?.map_err(|err| load_error(manifest, err))?;
    }
    let mut options = safety.options();
    let base = match &safety.base {
        Some(reference) => Some(super::review::load_base(manifest, reference, &loaded.desired.site).await?),
        None => None,
    };
    if let Some((base, _)) = &base {
        options.protected.extend(tabops_plan::protected_addresses(&base.desired));
    }
    let mut plan = tabops_plan::plan(&loaded.desired, &inventory, &options);
    plan.inputs.git = overlapped.provenance.await??;
    Ok((loaded, plan, inventory, base))
}

/// Colour only on a terminal and only without NO_COLOR.
pub fn use_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Writes `text` to `path` atomically (temp file + rename), so a reader never sees half a plan.
pub fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("failed to create {}", dir.display()))?;
    let tmp = dir.join(format!(".{}.tmp", path.file_name().and_then(|n| n.to_str()).unwrap_or("tabops")));
    std::fs::write(&tmp, text).with_context(|| format!("failed to write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("failed to write {}", path.display()))?;
    Ok(())
}

/// Prints a plan in the chosen format on stdout.
pub fn print_plan(plan: &Plan, format: Format, verbose: bool) -> anyhow::Result<()> {
    let mut out = anstream::stdout().lock();
    match format {
        Format::Text => write!(out, "{}", tabops_plan::render::text(plan, use_color(), verbose))?,
        Format::Json => writeln!(out, "{}", tabops_plan::render::json(plan))?,
        Format::Markdown => {
            let parts = tabops_plan::render::markdown(plan);
            let count = parts.len();
            for (i, part) in parts.into_iter().enumerate() {
                write!(out, "{part}")?;
                if i + 1 < count {
                    writeln!(out, "\n<!-- tabops: part break -->\n")?;
                }
            }
        }
    }
    out.flush()?;
    Ok(())
}
