//! The pipeline `plan`, `apply`, `drift` and the benchmark share: load the manifest, connect, read the inventory,
//! plan. Local work (hashing content files, git provenance) overlaps signing in and reading the site.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tabops_manifest::model::Address;
use tabops_manifest::{LoadError, LoadOptions, Loaded};
use tabops_plan::plan::{GitInfo, SafetyLimits};
use tabops_plan::{Plan, PlanOptions};
use tabops_tableau::{Access, Client};

use crate::error::load_error;
use crate::site::{self, Site, SiteOptions};
use crate::{Error, ErrorKind};

/// Which manifest, and which environment of it.
#[derive(Debug, Clone)]
pub struct ManifestSource {
    /// One YAML file or a directory of them (with `git_ref`, the path inside the repository).
    pub file: PathBuf,
    /// An environment defined under `environments:`.
    pub env: Option<String>,
    /// Read the manifest and its content files from this git revision instead of the work tree.
    pub git_ref: Option<String>,
    /// The git repository (default: discovered from the current directory).
    pub repo: Option<PathBuf>,
    /// Variables from the command line (`--var NAME=VALUE`), above the environment's and the manifest's.
    pub vars: BTreeMap<String, String>,
}

impl ManifestSource {
    /// How to load this manifest: the environment, `--var`, and the process environment for `${env:NAME}`.
    pub(crate) fn load_options(&self, hash_content: bool) -> LoadOptions {
        LoadOptions { vars: self.vars.clone(), ..LoadOptions::from_process(self.env.clone(), hash_content) }
    }
}

/// The planner's safety switches, and the revision whose protections stay in force.
#[derive(Debug, Clone, Default)]
pub struct Safety {
    /// Refuse a plan that deletes more than this many objects (default: the manifest's `settings.max_deletes`).
    pub max_deletes: Option<u32>,
    /// Allow a plan that deletes every content item of a project.
    pub allow_empty_project: bool,
    /// Allow a plan that deletes every project or every content item of the site.
    pub allow_empty_site: bool,
    /// The manifest at this git revision: what it protects stays protected, and the review compares with it.
    pub base: Option<String>,
    /// Limits no looser than which to plan (a saved plan's, when it is planned again to be applied).
    pub ceiling: Option<SafetyLimits>,
    /// `--target`: plan only these objects and what they depend on (empty: everything).
    pub targets: BTreeSet<Address>,
    /// Allow a plan that deletes a data source that workbooks the manifest does not manage use.
    pub allow_breaking_deletes: bool,
}

impl Safety {
    /// The planner's options; `protected` adds the addresses the base protects.
    fn options(&self, protected: BTreeSet<Address>) -> PlanOptions {
        PlanOptions {
            max_deletes: self.max_deletes,
            allow_empty_project: self.allow_empty_project,
            allow_empty_site: self.allow_empty_site,
            protected,
            ceiling: self.ceiling,
            targets: self.targets.clone(),
            ..PlanOptions::default()
        }
    }
}

/// A phase of [`prepare`], timed for an [`Observer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Parsing and validating the manifest (content digests of the work tree come later, overlapped).
    Load,
    /// Signing in (and starting the embedded site).
    SignIn,
    /// Reading the site's inventory.
    Fetch,
    /// Planning, after the content digests and the base are ready.
    Plan,
}

/// What [`prepare`] reports while it runs. Every method has a default that does nothing.
pub trait Observer: Sync {
    /// `phase` took `elapsed`.
    fn phase(&self, _phase: Phase, _elapsed: Duration) {}
    /// The site has been read; `client` has not signed out yet (its request counters are the read's).
    fn site_read(&self, _client: &Client) {}
    /// Something worth telling the user that is not an error (the CLI prints it as `note:` on stderr).
    fn note(&self, _text: &str) {}
}

/// Reports nothing.
impl Observer for () {}

/// Loads the manifest from the work tree or, with `git_ref`, from a commit; an invalid manifest comes back as
/// `Ok(Err(LoadError))` for the caller to report.
pub async fn load(source: &ManifestSource) -> Result<Result<Loaded, LoadError>, Error> {
    load_with(source, true).await
}

/// As [`load`]; without `hash_content`, work-tree content digests are left for [`tabops_manifest::hash_content`]
/// (a commit's content is always hashed while it is read).
async fn load_with(source: &ManifestSource, hash_content: bool) -> Result<Result<Loaded, LoadError>, Error> {
    Ok(match &source.git_ref {
        Some(reference) => {
            let options = source.load_options(true);
            let (source, reference) = (source.clone(), reference.clone());
            tokio::task::spawn_blocking(move || crate::git::load_at(&source, &reference, &options)).await??
        }
        None => {
            let options = source.load_options(hash_content);
            let file = source.file.clone();
            tokio::task::spawn_blocking(move || tabops_manifest::load(&file, &options)).await?
        }
    })
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
    /// Keep it, asking only for the scopes of starting refreshes and reading their jobs (`refresh`).
    KeepToRefresh,
    /// Sign out while planning and printing (`plan`, `drift`): nothing more is sent.
    SignOutAfterRead,
}

/// Loads the manifest, connects to its site (`site` overrides the manifest's `site:` block), reads the site and
/// plans. On error the site is closed.
pub async fn prepare(
    manifest: &ManifestSource,
    site_options: &SiteOptions,
    safety: &Safety,
    session: Session,
    observer: &dyn Observer,
) -> Result<Prepared, Error> {
    // Content digests are only needed to plan: hash the work tree's content files while signing in and reading
    // the site (at scale, both take about as long).
    let hash_later = manifest.git_ref.is_none();
    let started = Instant::now();
    let loaded = load_with(manifest, !hash_later).await?.map_err(|err| load_error(&manifest.file, err))?;
    observer.phase(Phase::Load, started.elapsed());
    if let Some(note) = loaded.skipped_note() {
        observer.note(&note);
    }
    let overlapped = Overlapped {
        hashing: hash_later.then(|| {
            let pending = loaded.pending_digests();
            tokio::task::spawn_blocking(move || pending.compute())
        }),
        provenance: {
            let manifest = manifest.clone();
            tokio::task::spawn_blocking(move || crate::git::git_info(&manifest))
        },
    };
    let target = site::resolve_target(site_options, Some(&loaded.desired.site));
    let access = match session {
        Session::Keep => Access::Apply,
        Session::KeepToRefresh => Access::Refresh,
        Session::SignOutAfterRead => Access::Read,
    };
    let started = Instant::now();
    let mut site = site::connect(site_options, &target, access).await?;
    observer.phase(Phase::SignIn, started.elapsed());
    match read_and_plan(manifest, safety, session, &mut site, loaded, overlapped, observer).await {
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
    hashing: Option<tokio::task::JoinHandle<tabops_manifest::ContentDigests>>,
    /// Git provenance: commit, branch, author, and whether the work tree is dirty (a status walk).
    provenance: tokio::task::JoinHandle<Result<Option<GitInfo>, Error>>,
}

/// Everything of [`Prepared`] but the site.
type Planned = (Loaded, Plan, tabops_plan::Inventory, Option<(Loaded, String)>);

/// The part of [`prepare`] after signing in; on error the caller closes the site.
async fn read_and_plan(
    manifest: &ManifestSource,
    safety: &Safety,
    session: Session,
    site: &mut Site,
    mut loaded: Loaded,
    overlapped: Overlapped,
    observer: &dyn Observer,
) -> Result<Planned, Error> {
    let started = Instant::now();
    let inventory = tabops_apply::inventory::fetch(&site.client, &loaded.desired)
        .await
        .map_err(|source| ErrorKind::Fetch { label: site.label.clone(), source })?;
    observer.phase(Phase::Fetch, started.elapsed());
    observer.site_read(&site.client);
    // The site is read: the sign-out's round trip overlaps hashing's tail and planning instead of following them.
    if session == Session::SignOutAfterRead {
        site.sign_out_early();
    }
    if let Some(hashing) = overlapped.hashing {
        loaded.set_digests(hashing.await?).map_err(|err| match err {
            LoadError::Invalid(diagnostics) => {
                ErrorKind::UnhashableContent { file: manifest.file.clone(), diagnostics }
            }
            other => ErrorKind::Load(other),
        })?;
    }
    let base = match &safety.base {
        Some(reference) => Some(crate::git::load_base(manifest, reference, &loaded.desired.site, observer).await?),
        None => None,
    };
    let mut protected = BTreeSet::new();
    if let Some((base, _)) = &base {
        protected.extend(tabops_plan::protected_addresses(&base.desired));
    }
    let started = Instant::now();
    let mut plan = tabops_plan::plan(&loaded.desired, &inventory, &safety.options(protected));
    // The workbooks that use the data sources the plan republishes, repoints or deletes: read only when there are
    // any (no request otherwise). Such a plan signs in again for it, which costs one round trip where the early
    // sign-out saved one for every other plan.
    let affected = tabops_plan::impact::affected_datasources(&plan);
    if !affected.is_empty() {
        site.resume().await.map_err(|source| ErrorKind::Lineage { label: site.label.clone(), source })?;
        let lineage = crate::lineage::read(&site.client, &site.label, &affected, &inventory).await?;
        tabops_plan::impact::attach(&mut plan, &affected, &lineage, &inventory, safety.allow_breaking_deletes);
        if session == Session::SignOutAfterRead {
            site.sign_out_early();
        }
    }
    observer.phase(Phase::Plan, started.elapsed());
    plan.inputs.git = overlapped.provenance.await??;
    Ok((loaded, plan, inventory, base))
}
