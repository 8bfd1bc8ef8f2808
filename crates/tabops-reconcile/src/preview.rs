//! `tabops preview`: a pull request's changed content published into a preview project, and previews removed.
//!
//! The preview's desired state comes from `tabops_plan::preview` (the content the head adds or changes against
//! `--base`, loaded with the same git revision code as `plan --base`), and is planned against the live site like
//! any manifest: an unchanged item is skipped by its checksum marker, a second run with nothing new plans nothing.
//! Removal is a plan too: the preview project missing under a pruning parent, limited to that project. The caller
//! executes the plans with the executor, which writes the audit log.

use std::collections::BTreeSet;

use tabops_manifest::Loaded;
use tabops_manifest::model::{Address, ContentKind, Desired};
use tabops_plan::preview::{self, PreviewItem, PreviewState, Removal};
use tabops_plan::{Inventory, Plan, PlanOptions};
use tabops_tableau::Access;

use crate::error::load_error;
use crate::pipeline::ManifestSource;
use crate::preview_sources;
use crate::site::{self, Site, SiteOptions};
use crate::{Error, ErrorKind, Observer};

/// A planned preview: the head manifest, the preview's desired state, the signed-in site and the plan.
pub struct PreparedPreview {
    pub loaded: Loaded,
    pub state: PreviewState,
    pub site: Site,
    pub plan: Plan,
    pub inventory: Inventory,
    /// Whether `plan` publishes the preview's data sources only (their preview copies are not on the site yet):
    /// after it is applied, [`plan_workbooks`] plans the rest, with the workbooks pointed at the copies.
    pub datasources_first: bool,
    /// The workbook copies pointed at the preview's data sources (see `preview_sources`); removed on drop.
    files: tempfile::TempDir,
}

/// Loads the head manifest and the one at `base`, signs in for writing, reads the site and plans preview `id`.
pub async fn prepare(
    manifest: &ManifestSource,
    site_options: &SiteOptions,
    id: &str,
    base: &str,
    observer: &dyn Observer,
) -> Result<PreparedPreview, Error> {
    let loaded = load_head(manifest).await?;
    let (base_loaded, _) = crate::git::load_base(manifest, base, &loaded.desired.site, observer).await?;
    // Checked before signing in: an invalid id or project sends nothing.
    let provisional = preview::desired(&base_loaded.desired, &loaded.desired, id, None).map_err(ErrorKind::from)?;
    let site = connect(site_options, &loaded, Access::Apply).await?;
    let planned = async {
        let inventory = fetch(&site, &provisional.desired).await?;
        let mut state =
            preview::desired(&base_loaded.desired, &loaded.desired, id, Some(&inventory)).map_err(ErrorKind::from)?;
        // Nothing to preview and no preview yet: nothing is created (an existing preview is emptied instead).
        let exists = preview::project_paths(&inventory).values().any(|p| *p == state.project);
        if state.items.is_empty() && !exists {
            state.desired.projects.clear();
        }
        let files = tempfile::Builder::new()
            .prefix("tabops-preview-")
            .tempdir()
            .map_err(|source| tabops_content::repoint::RepointError::Io { path: std::env::temp_dir(), source })
            .map_err(ErrorKind::from)?;
        let first = preview_sources::datasources_first(&state, &inventory);
        let plan = if first {
            plan_preview(&preview_sources::datasources_only(&state.desired), &inventory, manifest)?
        } else {
            preview_sources::repoint(&mut state, &inventory, files.path()).await?;
            plan_preview(&state.desired, &inventory, manifest)?
        };
        Ok::<_, Error>((state, plan, inventory, first, files))
    }
    .await;
    match planned {
        Ok((state, plan, inventory, datasources_first, files)) => {
            Ok(PreparedPreview { loaded, state, site, plan, inventory, datasources_first, files })
        }
        Err(err) => {
            site.close().await;
            Err(err)
        }
    }
}

/// After the data sources of a preview were published first: reads the site again and plans the whole preview,
/// its workbooks pointed at the data sources' preview copies.
pub async fn plan_workbooks(prepared: &mut PreparedPreview, manifest: &ManifestSource) -> Result<(), Error> {
    let inventory = fetch(&prepared.site, &prepared.state.desired).await?;
    preview_sources::repoint(&mut prepared.state, &inventory, prepared.files.path()).await?;
    prepared.plan = plan_preview(&prepared.state.desired, &inventory, manifest)?;
    prepared.inventory = inventory;
    prepared.datasources_first = false;
    Ok(())
}

fn plan_preview(desired: &Desired, inventory: &Inventory, manifest: &ManifestSource) -> Result<Plan, Error> {
    let options = PlanOptions { allow_empty_project: true, ..PlanOptions::default() };
    let mut plan = tabops_plan::plan(desired, inventory, &options);
    plan.inputs.git = crate::git::git_info(manifest)?;
    Ok(plan)
}

/// The head manifest, hashed.
pub async fn load_head(manifest: &ManifestSource) -> Result<Loaded, Error> {
    crate::pipeline::load(manifest).await?.map_err(|err| load_error(&manifest.file, err))
}

/// Signs in to the manifest's site (flags first).
pub async fn connect(site_options: &SiteOptions, loaded: &Loaded, access: Access) -> Result<Site, Error> {
    let target = site::resolve_target(site_options, Some(&loaded.desired.site));
    site::connect(site_options, &target, access).await
}

/// Reads what the planner needs for `desired`.
pub async fn fetch(site: &Site, desired: &Desired) -> Result<Inventory, Error> {
    Ok(tabops_apply::inventory::fetch(&site.client, desired)
        .await
        .map_err(|source| ErrorKind::Fetch { label: site.label.clone(), source })?)
}

/// The plan removing preview `id` from the site as it is now: `None` when the site has no such preview. Refuses
/// (an error) when the preview project or anything in it lacks the preview marker.
pub async fn plan_removal(
    site: &Site,
    loaded: &Loaded,
    id: &str,
    manifest: &ManifestSource,
) -> Result<Option<(Removal, Plan)>, Error> {
    let settings = loaded.desired.settings.preview.clone().unwrap_or_default();
    preview::project_path(&settings, id).map_err(ErrorKind::from)?;
    let inventory = fetch(site, &loaded.desired_without_content()).await?;
    let Some(removal) = preview::removal(&loaded.desired, &settings, id, &inventory).map_err(ErrorKind::from)? else {
        return Ok(None);
    };
    let options = PlanOptions {
        max_deletes: Some(removal.count),
        allow_empty_project: true,
        prune_top_level_projects: removal.top_level,
        targets: BTreeSet::from([removal.target.clone()]),
        ..PlanOptions::default()
    };
    let mut plan = tabops_plan::plan(&removal.desired, &inventory, &options);
    plan.inputs.git = crate::git::git_info(manifest)?;
    Ok(Some((removal, plan)))
}

/// The ids of the previews on the site whose newest change (`updatedAt` of the project and its items) is older
/// than `older_than`. A preview whose times the server did not give is kept.
pub async fn stale_previews(
    site: &Site,
    loaded: &Loaded,
    older_than: std::time::Duration,
) -> Result<Vec<String>, Error> {
    let cutoff = time::OffsetDateTime::now_utc() - older_than;
    let settings = loaded.desired.settings.preview.clone().unwrap_or_default();
    let inventory = fetch(site, &loaded.desired_without_content()).await?;
    let rfc3339 = time::format_description::well_known::Rfc3339;
    Ok(preview::previews_on_site(&settings, &inventory)
        .into_iter()
        .filter(|(_, newest)| {
            newest.as_deref().and_then(|t| time::OffsetDateTime::parse(t, &rfc3339).ok()).is_some_and(|t| t < cutoff)
        })
        .map(|(id, _)| id)
        .collect())
}

/// A preview item as published, with its web addresses.
#[derive(Debug, Clone)]
pub struct PublishedItem {
    pub item: PreviewItem,
    /// The name it has in the preview project.
    pub name: String,
    /// The preview item's LUID and web address (`None` when the site does not list it).
    pub id: Option<String>,
    pub url: Option<String>,
    /// Workbooks: the preview's views (name, LUID, web address).
    pub views: Vec<PublishedView>,
    /// Workbooks: the production workbook's views, by name (for before/after images of a changed workbook).
    pub production_views: Vec<PublishedView>,
}

/// One view of a published workbook.
#[derive(Debug, Clone)]
pub struct PublishedView {
    pub name: String,
    pub id: String,
    pub url: Option<String>,
}

/// Reads the site after a preview was applied: each preview item's LUID and web address, and for workbooks their
/// views (and the production workbook's, when it has one).
pub async fn published(site: &Site, state: &PreviewState) -> Result<Vec<PublishedItem>, Error> {
    let inventory = fetch(site, &without_content(&state.desired)).await?;
    let paths = preview::project_paths(&inventory);
    let find = |kind: ContentKind, address: &Address| {
        inventory
            .content(kind)
            .iter()
            .find(|c| paths.get(&c.project_id).is_some_and(|p| Address::content(kind, p, c.name.as_str()) == *address))
    };
    let web = WebAddress::of(site);
    // A workbook's web address as the server gives it (`webpageUrl`: on Tableau Cloud its path holds the
    // workbook's numeric id, not the LUID), else the LUID form.
    let pages: std::collections::BTreeMap<String, String> =
        if state.items.iter().any(|i| i.kind == ContentKind::Workbook) {
            let workbooks = site.client.workbooks().await.map_err(|source| ErrorKind::Fetch {
                label: site.label.clone(),
                source: tabops_apply::ApplyError::Fetch { what: "list workbooks".to_owned(), source },
            })?;
            workbooks.into_iter().filter_map(|w| Some((w.id, w.webpage_url?))).collect()
        } else {
            Default::default()
        };
    let mut out = Vec::new();
    for item in &state.items {
        let live = find(item.kind, &item.preview);
        let (views, production_views) = match item.kind {
            ContentKind::Workbook => {
                let production = (!item.added).then(|| find(item.kind, &item.source)).flatten();
                (
                    views_of(site, &web, live.map(|c| c.id.as_str())).await?,
                    views_of(site, &web, production.map(|c| c.id.as_str())).await?,
                )
            }
            ContentKind::Datasource => (Vec::new(), Vec::new()),
        };
        out.push(PublishedItem {
            name: live.map(|c| c.name.clone()).unwrap_or_default(),
            id: live.map(|c| c.id.clone()),
            url: live.map(|c| pages.get(&c.id).cloned().unwrap_or_else(|| web.item(item.kind, &c.id))),
            item: item.clone(),
            views,
            production_views,
        });
    }
    Ok(out)
}

/// The views of workbook `id` (none without one).
async fn views_of(site: &Site, web: &WebAddress, id: Option<&str>) -> Result<Vec<PublishedView>, Error> {
    let Some(id) = id else { return Ok(Vec::new()) };
    let views = site.client.workbook_views(id).await.map_err(|source| ErrorKind::Fetch {
        label: site.label.clone(),
        source: tabops_apply::ApplyError::Fetch { what: format!("list views of workbook {id}"), source },
    })?;
    Ok(views
        .into_iter()
        .map(|v| PublishedView { url: v.content_url.as_deref().map(|u| web.view(u)), name: v.name, id: v.id })
        .collect())
}

/// Tableau Cloud web addresses when the server gives none: `https://HOST/#/site/SITE/workbooks/ID`, `…/datasources/ID` and
/// `…/views/WORKBOOK/SHEET` (the view's REST `contentUrl`, `WORKBOOK/sheets/SHEET`, without `sheets/`); the
/// default site (an empty content URL) has no `site/SITE` part.
struct WebAddress {
    root: String,
}

impl WebAddress {
    fn of(site: &Site) -> WebAddress {
        let config = site.client.config();
        let server = config.server.as_str().trim_end_matches('/').to_owned();
        let root =
            if config.site.is_empty() { format!("{server}/#") } else { format!("{server}/#/site/{}", config.site) };
        WebAddress { root }
    }
    fn item(&self, kind: ContentKind, id: &str) -> String {
        let segment = match kind {
            ContentKind::Workbook => "workbooks",
            ContentKind::Datasource => "datasources",
        };
        format!("{}/{segment}/{id}", self.root)
    }
    fn view(&self, content_url: &str) -> String {
        format!("{}/views/{}", self.root, content_url.replacen("/sheets/", "/", 1))
    }
}

/// `desired` with its content left out: reading the site for it lists everything but asks for no per-item detail.
fn without_content(desired: &Desired) -> Desired {
    Desired { datasources: Vec::new(), workbooks: Vec::new(), ..desired.clone() }
}

trait WithoutContent {
    fn desired_without_content(&self) -> Desired;
}

impl WithoutContent for Loaded {
    /// The manifest's desired state with no projects, groups or content: reading the site for it makes only the
    /// list requests.
    fn desired_without_content(&self) -> Desired {
        Desired { projects: Vec::new(), groups: Vec::new(), users: Vec::new(), ..without_content(&self.desired) }
    }
}

/// The before (production) and after (preview) images of one view, as written.
#[derive(Debug, Clone)]
pub struct ViewImages {
    pub workbook: String,
    pub view: String,
    /// `None` for a view production does not have (an added workbook or sheet).
    pub before: Option<std::path::PathBuf>,
    pub after: std::path::PathBuf,
}

/// Downloads the image of every view of every preview workbook (after) and of the production view of the same
/// name (before) into `dir`, as `WORKBOOK--VIEW.after.png` and `….before.png` (names reduced to letters, digits,
/// `-` and `_`).
pub async fn write_images(
    site: &Site,
    items: &[PublishedItem],
    dir: &std::path::Path,
) -> Result<Vec<ViewImages>, Error> {
    let io = |path: &std::path::Path, source: std::io::Error| ErrorKind::WriteImage { path: path.to_owned(), source };
    std::fs::create_dir_all(dir).map_err(|source| io(dir, source))?;
    let mut out = Vec::new();
    for item in items.iter().filter(|i| i.item.kind == ContentKind::Workbook) {
        for view in &item.views {
            let stem = format!("{}--{}", file_safe(&item.name), file_safe(&view.name));
            let after = dir.join(format!("{stem}.after.png"));
            download(site, &view.id, &after).await?;
            let before = match item.production_views.iter().find(|p| p.name.eq_ignore_ascii_case(&view.name)) {
                Some(production) => {
                    let path = dir.join(format!("{stem}.before.png"));
                    download(site, &production.id, &path).await?;
                    Some(path)
                }
                None => None,
            };
            out.push(ViewImages { workbook: item.name.clone(), view: view.name.clone(), before, after });
        }
    }
    Ok(out)
}

async fn download(site: &Site, view: &str, path: &std::path::Path) -> Result<(), Error> {
    let bytes = site.client.view_image(view).await.map_err(|source| ErrorKind::Fetch {
        label: site.label.clone(),
        source: tabops_apply::ApplyError::Fetch { what: format!("download the image of view {view}"), source },
    })?;
    std::fs::write(path, bytes).map_err(|source| ErrorKind::WriteImage { path: path.to_owned(), source })?;
    Ok(())
}

/// `name` reduced to letters, digits, `-` and `_` (anything else becomes `_`).
fn file_safe(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}
