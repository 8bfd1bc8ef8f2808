//! tabops-export: `tabops export`, adopting tabops on an existing site by writing its live state as a manifest.
//!
//! The site is read once, through the inventory fetch a plan uses (`tabops_apply::inventory`: the lists, then the
//! exported objects' details; `site`), with projects named by the planner's path index; the exported subtrees'
//! content is downloaded (the one export-only read, on `tabops-tableau`; files named by `content`); the documents
//! are built (`build`) and written with `tabops_manifest::write`, split by project (`site.yaml`, `people.yaml`, `projects/<slug>.yaml`,
//! `content/<project path>/<name>.<ext>`), and the written manifest is loaded back with `tabops_manifest`: the
//! export is only reported as done when its own output is a valid manifest.
//!
//! Export is read-only unless asked to adopt (`adopt_log`); without it, the items a plan of the export would
//! republish are returned in `unadopted`. Why adoption writes to the site: the planner republishes any item whose
//! `tabops.sha256.*` marker tag does not match the publish fingerprint of its manifest file, and content tabops
//! never published has no marker. Rather
//! than teaching the planner to trust unmarked items (which would also hide real content changes), export tags
//! each exported item with the exact marker a plan of the exported manifest computes (`adopt`): one tag write
//! per item, announced and recorded in the audit log. Then `tabops plan -f DIR` against the same site reports no
//! changes, and a later edit of an exported file is seen as a change and published.

mod adopt;
mod build;
mod content;
mod site;
mod webhooks;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use futures::future::try_join_all;
use tabops_apply::ApplyError;
use tabops_apply::audit::{AuditError, AuditLog};
use tabops_manifest::model::{ContentKind, Desired, ProjectPath, Server, SiteTarget};
use tabops_manifest::site_settings::SettingValue;
use tabops_manifest::write::{self as doc, Lit, SettingsDoc, SiteDoc, SiteFile};
use tabops_manifest::{LoadError, LoadOptions};
use tabops_plan::inventory::{Inventory, LiveContent};
use tabops_tableau as api;

pub use adopt::{Adopted, Pending};

use adopt::{ItemKey, LiveItem};
use build::Downloaded;
use content::UniqueNames;

/// The schema file editors are pointed at, relative to the repository root.
pub const SCHEMA_PATH: &str = "schemas/tabops.schema.json";

/// What to export and how.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// The directory to write; must be empty (or missing) unless `force`.
    pub out: PathBuf,
    /// Export only these project subtrees (their ancestors are written with names only); empty = every project.
    pub projects: Vec<ProjectPath>,
    /// Explicit and default permissions of projects and items.
    pub with_permissions: bool,
    /// Extract-refresh schedules.
    pub with_refresh: bool,
    /// Subscriptions to the exported workbooks and their views.
    pub with_subscriptions: bool,
    /// Write into a non-empty directory, replacing `site.yaml`, `people.yaml`, `projects/` and `content/`.
    pub force: bool,
    /// The site target written to `site.yaml`.
    pub site: SiteTarget,
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("refusing to export into `{}`: the directory is not empty (pass --force to replace an export)", dir.display())]
    NotEmpty { dir: PathBuf },
    #[error("cannot export project `{path}`: there is no such project on the site")]
    UnknownProject { path: String },
    /// A read of the site failed (through the inventory fetch a plan uses).
    #[error(transparent)]
    Fetch(Box<ApplyError>),
    #[error(
        "cannot export: the site's project parents form a cycle: {projects} (a project cannot be its own ancestor; \
         the server's project list is broken)"
    )]
    ProjectCycle { projects: String },
    #[error(
        "cannot export: project {project} is nested {depth} levels deep; a manifest can express at most {} levels",
        site::MAX_PROJECT_DEPTH
    )]
    TooDeep { project: String, depth: usize },
    #[error("cannot download the content of {address}")]
    Download { address: String, source: Box<api::Error> },
    #[error("cannot write the export to `{}`", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot write `{file}` as YAML")]
    Yaml { file: String, source: serde_saphyr::SerializeError },
    #[error("the exported manifest in `{}` does not load back (a bug in tabops export)", dir.display())]
    Reload { dir: PathBuf, source: LoadError },
    #[error("cannot tag {address} with its checksum marker")]
    Adopt { address: String, source: Box<api::Error> },
    #[error("cannot record the adoption in the audit log")]
    Audit(#[from] AuditError),
}

/// What an export did.
#[derive(Debug)]
pub struct ExportReport {
    /// Manifest files written, relative to the export directory.
    pub files: Vec<PathBuf>,
    pub projects: usize,
    pub users: usize,
    pub groups: usize,
    pub datasources: usize,
    pub workbooks: usize,
    pub refresh_tasks: usize,
    pub downloaded_bytes: u64,
    /// Items whose connections need `password: ${env:...}` added before they can be republished.
    pub needs_password: Vec<String>,
    /// What the manifest could not express, one line each.
    pub warnings: Vec<String>,
    /// Items tagged with their checksum marker (empty without adoption).
    pub adopted: Vec<Adopted>,
    /// Without adoption: the items whose live marker differs from their exported file's, which a plan of the
    /// export republishes (empty with adoption).
    pub unadopted: Vec<Pending>,
    /// Under `--project`: the groups and users (by name) that no exported object references, so not exported.
    pub left_out_groups: Vec<String>,
    pub left_out_users: Vec<String>,
    /// The exported manifest, loaded back.
    pub desired: Desired,
}

/// Exports the site `client` is signed in to. With `adopt_log`, tags the exported items with their checksum
/// markers and records those writes there; without it, nothing on the site changes.
pub async fn export(
    client: &api::Client,
    options: &ExportOptions,
    adopt_log: Option<&AuditLog>,
) -> Result<ExportReport, ExportError> {
    prepare_dir(&options.out, options.force)?;
    let mut inventory = site::read_lists(client).await?;
    if options.with_subscriptions {
        let (subscriptions, views) = tabops_apply::inventory::read_subscriptions(client)
            .await
            .map_err(|err| ExportError::Fetch(Box::new(err)))?;
        inventory.subscriptions = Some(subscriptions);
        inventory.views = Some(views);
    }
    // Before anything walks the tree (paths, subtrees, directories all follow parents).
    site::check_hierarchy(&inventory.projects)?;
    let tree = site::Tree::new(&inventory);

    // Which projects, groups and items are exported.
    let (full, ancestors) = {
        let mut full: BTreeSet<&str> = BTreeSet::new();
        if options.projects.is_empty() {
            full.extend(inventory.projects.iter().map(|p| p.id.as_str()));
        } else {
            for path in &options.projects {
                let id = tree.resolve(path).ok_or_else(|| ExportError::UnknownProject { path: path.to_string() })?;
                tree.subtree(id, &mut full);
            }
        }
        let mut ancestors: BTreeSet<String> = BTreeSet::new();
        for id in &full {
            let mut current = tree.parent(id);
            while let Some(parent) = current.filter(|p| !full.contains(p)) {
                if !ancestors.insert(parent.to_owned()) {
                    break;
                }
                current = tree.parent(parent);
            }
        }
        (full.into_iter().map(str::to_owned).collect::<BTreeSet<String>>(), ancestors)
    };
    let in_scope = |item: &&LiveContent| full.contains(&item.project_id);
    let item =
        |kind: ContentKind| move |c: &LiveContent| (kind, c.id.clone(), c.name.clone(), Some(c.project_id.clone()));
    let items: Vec<(ContentKind, String, String, Option<String>)> = inventory
        .workbooks
        .iter()
        .filter(in_scope)
        .map(item(ContentKind::Workbook))
        .chain(inventory.datasources.iter().filter(in_scope).map(item(ContentKind::Datasource)))
        .collect();
    // A whole-site export reads every group's members; one limited to some projects reads only the members of the
    // groups the exported permission rules name, once the builder has found them (a second, pure build).
    let scoped = !options.projects.is_empty();
    let groups: Vec<String> = if scoped {
        Vec::new()
    } else {
        inventory
            .groups
            .iter()
            .filter(|g| !g.name.eq_ignore_ascii_case(build::ALL_USERS))
            .map(|g| g.id.clone())
            .collect()
    };
    let request = site::DetailRequest {
        groups: groups.iter().map(String::as_str).collect(),
        projects: full.iter().map(String::as_str).collect(),
        items: items.iter().map(|(kind, id, _, _)| (*kind, id.as_str())).collect(),
        with_permissions: options.with_permissions,
        untabbed: inventory
            .workbooks
            .iter()
            .filter(|w| w.show_tabs == Some(false) && full.contains(&w.project_id))
            .map(|w| w.id.as_str())
            .collect(),
    };
    let mut details = site::read_details(client, request).await?;

    let (downloads, downloaded_bytes) = download_all(client, &options.out, &tree, &items).await?;
    let build = |details: &site::Details| {
        build::build(&build::Inputs {
            inventory: &inventory,
            details,
            tree: &tree,
            full: &full,
            ancestors: &ancestors,
            downloads: &downloads,
            with_permissions: options.with_permissions,
            with_refresh: options.with_refresh,
            with_subscriptions: options.with_subscriptions,
            scoped,
        })
    };
    if scoped {
        let referenced = build(&details).referenced_groups;
        let named: Vec<&str> = inventory
            .groups
            .iter()
            .filter(|g| referenced.contains(&g.id) && !g.name.eq_ignore_ascii_case(build::ALL_USERS))
            .map(|g| g.id.as_str())
            .collect();
        if !named.is_empty() {
            let request = site::DetailRequest {
                groups: named,
                projects: Vec::new(),
                items: Vec::new(),
                with_permissions: false,
                untabbed: Vec::new(),
            };
            details.members = site::read_details(client, request).await?.members;
        }
    }
    let mut built = build(&details);
    // A whole-site export also writes the site's settings and its webhooks, which belong to the site, not to a
    // project; one limited to some projects (`--project`) leaves both unmanaged.
    let site_settings = if scoped { BTreeMap::new() } else { site::read_site_settings(client).await? };
    let webhooks = match scoped {
        true => None,
        false => webhooks::document(&site::read_webhooks(client).await?, &mut built.warnings),
    };
    let files = write_documents(&options.out, &options.site, &site_settings, &built, webhooks.as_ref())?;

    let desired = reload(&options.out).await?;
    let pending = adopt::pending(&desired, &live_items(&inventory, &tree));
    let (adopted, unadopted) = match adopt_log {
        Some(log) => (adopt::adopt(client, pending, log).await?, Vec::new()),
        None => (Vec::new(), pending),
    };
    Ok(ExportReport {
        files,
        projects: desired.projects.len(),
        users: desired.users.len(),
        groups: desired.groups.len(),
        datasources: desired.datasources.len(),
        workbooks: desired.workbooks.len(),
        refresh_tasks: built.refresh_tasks,
        downloaded_bytes,
        needs_password: built.needs_password,
        warnings: built.warnings,
        adopted,
        unadopted,
        left_out_groups: built.left_out_groups,
        left_out_users: built.left_out_users,
        desired,
    })
}

/// One change a plan of the export against the site still has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The plan's address (`workbook:Sales/EMEA/Revenue`), or the subject of a plan error.
    pub address: String,
    pub reason: String,
    /// A republish whose only difference is the checksum marker: the same file, published again because the item
    /// was not adopted.
    pub marker_only: bool,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.address, self.reason)
    }
}

/// Plans `desired` against the site and returns every change and plan error: empty when the export round-trips.
pub async fn verify(client: &api::Client, desired: &Desired) -> Result<Vec<Change>, ApplyError> {
    let inventory = tabops_apply::inventory::fetch(client, desired).await?;
    let plan = tabops_plan::plan(desired, &inventory, &tabops_plan::PlanOptions::default());
    let mut out: Vec<Change> = plan
        .changes()
        .map(|a| Change {
            address: a.id.clone(),
            reason: a.reason.clone(),
            marker_only: a.action == tabops_plan::Action::Republish && a.changes.iter().all(|c| c.field == "marker"),
        })
        .collect();
    out.extend(plan.errors.iter().map(|e| Change {
        address: e.address.clone(),
        reason: e.message.clone(),
        marker_only: false,
    }));
    Ok(out)
}

/// The `$schema` reference for a file `depth` directories below `dir`, when `dir` is inside a checkout that has
/// the schema (a directory above it holding `schemas/tabops.schema.json`).
pub fn schema_reference(dir: &Path, depth: usize) -> Option<String> {
    let absolute = std::path::absolute(dir).ok()?;
    for (up, ancestor) in (depth..).zip(absolute.ancestors()) {
        if ancestor.join(SCHEMA_PATH).is_file() {
            return Some(format!("{}{SCHEMA_PATH}", "../".repeat(up)));
        }
    }
    None
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Io { path: path.to_path_buf(), source }
}

/// Makes sure `dir` can be written: missing or empty, or `force` (which removes what an export writes).
fn prepare_dir(dir: &Path, force: bool) -> Result<(), ExportError> {
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(io_err(dir))?;
        if entries.next().is_some() {
            if !force {
                return Err(ExportError::NotEmpty { dir: dir.to_path_buf() });
            }
            for file in ["site.yaml", "people.yaml", "webhooks.yaml"] {
                let path = dir.join(file);
                if path.exists() {
                    std::fs::remove_file(&path).map_err(io_err(&path))?;
                }
            }
            for sub in ["projects", "content"] {
                let path = dir.join(sub);
                if path.exists() {
                    std::fs::remove_dir_all(&path).map_err(io_err(&path))?;
                }
            }
        }
    }
    std::fs::create_dir_all(dir.join("projects")).map_err(io_err(dir))?;
    std::fs::create_dir_all(dir.join("content")).map_err(io_err(dir))?;
    Ok(())
}

/// Downloads every item (concurrently; the client bounds requests in flight), then names the files in a
/// deterministic order: `content/<project dirs>/<name>.<ext>`.
async fn download_all(
    client: &api::Client,
    out: &Path,
    tree: &site::Tree<'_>,
    items: &[(ContentKind, String, String, Option<String>)],
) -> Result<(HashMap<String, Downloaded>, u64), ExportError> {
    let content_dir = out.join("content");
    // Whatever happens below, no staging file outlives this function: a failed or cancelled download leaves its
    // `.download-N` (or `.part`) file, and the ones renamed into place are gone from the staging path already.
    let _staging = StagingFiles((0..items.len()).map(|index| content::staging_path(&content_dir, index)).collect());
    let staged = try_join_all(items.iter().enumerate().map(|(index, (kind, id, name, project))| {
        let stage = content::staging_path(&content_dir, index);
        let address = format!(
            "{}:{}/{name}",
            kind.as_str(),
            project.as_deref().map(|p| tree.path(p).to_string()).unwrap_or_default()
        );
        async move {
            let bytes = match kind {
                ContentKind::Workbook => client.download_workbook(id, &stage).await,
                ContentKind::Datasource => client.download_datasource(id, &stage).await,
            }
            .map_err(|source| ExportError::Download { address, source: Box::new(source) })?;
            Ok::<_, ExportError>((stage, bytes))
        }
    }))
    .await?;

    let mut dirs: HashMap<String, PathBuf> = HashMap::new();
    let mut dir_names = UniqueNames::default();
    let mut file_names = UniqueNames::default();
    let mut order: Vec<usize> = (0..items.len()).collect();
    let sort_key = |i: &usize| {
        let (kind, id, name, project) = &items[*i];
        let path = project.as_deref().map(|p| tree.path(p).key()).unwrap_or_default();
        (path, name.to_lowercase(), *kind, id.clone())
    };
    order.sort_by_cached_key(sort_key);
    let mut downloads = HashMap::new();
    let mut total = 0;
    for index in order {
        let (kind, id, name, project) = &items[index];
        let (stage, bytes) = &staged[index];
        total += bytes;
        let dir = match project {
            Some(project) => project_dir(tree, project, &mut dirs, &mut dir_names),
            None => PathBuf::new(),
        };
        let file_type = tabops_content::sniff(stage, *kind).map_err(io_err(stage))?;
        let scope = dir.to_string_lossy().into_owned();
        let file = file_names.claim(&scope, &content::file_segment(name), &format!(".{}", file_type.as_str()));
        let relative = Path::new("content").join(&dir).join(file);
        let target = out.join(&relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        std::fs::rename(stage, &target).map_err(io_err(&target))?;
        // A workbook whose sheets cannot be read is exported without `hidden_views`.
        let sheets = (*kind == ContentKind::Workbook)
            .then(|| std::fs::File::open(&target).ok().and_then(|file| tabops_content::sheets(file, file_type).ok()))
            .flatten();
        downloads.insert(id.clone(), Downloaded { relative, sheets });
    }
    Ok((downloads, total))
}

/// Staging paths removed (with their `.part` siblings) when dropped.
struct StagingFiles(Vec<PathBuf>);

impl Drop for StagingFiles {
    fn drop(&mut self) {
        for path in &self.0 {
            let mut part = path.clone().into_os_string();
            part.push(".part");
            for path in [path.as_path(), Path::new(&part)] {
                if let Err(err) = std::fs::remove_file(path)
                    && err.kind() != std::io::ErrorKind::NotFound
                {
                    tracing::warn!(path = %path.display(), error = %err, "could not remove a staged download");
                }
            }
        }
    }
}

/// The directory (below `content/`) of a project: its ancestors' directories, then its own unique name.
fn project_dir(
    tree: &site::Tree<'_>,
    project: &str,
    dirs: &mut HashMap<String, PathBuf>,
    names: &mut UniqueNames,
) -> PathBuf {
    if let Some(dir) = dirs.get(project) {
        return dir.clone();
    }
    let parent = match tree.parent(project) {
        Some(parent) => project_dir(tree, parent, dirs, names),
        None => PathBuf::new(),
    };
    let name = tree.project(project).map(|p| p.name.as_str()).unwrap_or("_");
    let own = names.claim(&parent.to_string_lossy(), &content::file_segment(name), "");
    let dir = parent.join(own);
    dirs.insert(project.to_owned(), dir.clone());
    dir
}

/// Renders and writes `site.yaml`, `people.yaml`, `webhooks.yaml` (when the site has webhooks) and
/// `projects/*.yaml`; returns their relative paths.
fn write_documents(
    out: &Path,
    target: &SiteTarget,
    site_settings: &BTreeMap<String, SettingValue>,
    built: &build::Built,
    webhooks: Option<&doc::WebhooksFile>,
) -> Result<Vec<PathBuf>, ExportError> {
    let note = "Exported by `tabops export`. Review before applying; see docs/manifest.md.";
    let yaml_err = |file: &str| {
        let file = file.to_owned();
        move |source| ExportError::Yaml { file, source }
    };
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    let site = SiteFile {
        version: 1,
        site: SiteDoc {
            server: Lit::new(match &target.server {
                Server::Local => "local".to_owned(),
                Server::Url(url) => url.clone(),
            }),
            content_url: Lit::new(target.content_url.clone()),
            api_version: target.api_version.clone().map(Lit),
            settings: site_settings.clone(),
        },
        settings: SettingsDoc { prune_groups: false, prune_users: false },
    };
    let top = doc::header(schema_reference(out, 0).as_deref(), note);
    files.push(("site.yaml".into(), doc::render(&top, &site).map_err(yaml_err("site.yaml"))?));
    files.push(("people.yaml".into(), doc::render(&top, &built.people).map_err(yaml_err("people.yaml"))?));
    if let Some(webhooks) = webhooks {
        files.push(("webhooks.yaml".into(), doc::render(&top, webhooks).map_err(yaml_err("webhooks.yaml"))?));
    }
    let nested = doc::header(schema_reference(out, 1).as_deref(), note);
    for (name, project) in &built.projects {
        let relative = format!("projects/{name}");
        files.push((relative.clone().into(), doc::render(&nested, project).map_err(yaml_err(&relative))?));
    }
    for (relative, text) in &files {
        let path = out.join(relative);
        std::fs::write(&path, text).map_err(io_err(&path))?;
    }
    Ok(files.into_iter().map(|(p, _)| p).collect())
}

/// Loads the written manifest back (content hashed), as `plan` would.
async fn reload(dir: &Path) -> Result<Desired, ExportError> {
    let dir = dir.to_path_buf();
    let options = LoadOptions { hash_content: true, ..Default::default() };
    let loaded = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || tabops_manifest::load(&dir, &options)
    })
    .await
    .map_err(|join| ExportError::Io { path: dir.clone(), source: std::io::Error::other(join.to_string()) })?;
    loaded.map(|l| l.desired).map_err(|source| ExportError::Reload { dir, source })
}

/// Live items by the identity the manifest gives them.
fn live_items(inventory: &Inventory, tree: &site::Tree<'_>) -> HashMap<ItemKey, LiveItem> {
    [ContentKind::Workbook, ContentKind::Datasource]
        .into_iter()
        .flat_map(|kind| inventory.content(kind).iter().map(move |c| (kind, c)))
        .map(|(kind, c)| {
            let key = (kind, tree.path(&c.project_id).key(), c.name.to_lowercase());
            (key, LiveItem { id: c.id.clone(), tags: c.tags.clone() })
        })
        .collect()
}
