//! Preview deployments: the desired state of a pull request's preview, and of its removal, as plain data the
//! planner takes like any manifest's (so checksum skip, idempotence and the executor's audit log come with it).
//!
//! A preview holds the workbooks and data sources a pull request adds or changes (by [`changed_content`]), moved
//! into one preview project (`settings.preview.project`, default `Previews/{id}`) with the manifest's names, files,
//! connections (from the environment the manifest was loaded with), tags and descriptions. Nothing else of the
//! manifest comes along: no groups, users, owners, refresh tasks or production grants. The preview project and
//! every item in it grant the Viewer template to the reviewers group (`settings.preview.reviewers`) and nothing
//! else; the preview project prunes, so an item the pull request no longer changes leaves the preview.
//!
//! Markers. Every preview item carries the tag `tabops-preview.<id>` (a managed tag, unlike the `tabops.` checksum
//! markers of [`crate::marker`], so the planner keeps it in place), and the preview project's description ends
//! with `[tabops-preview.<id>]`; a parent project that a preview created says `[tabops-preview]`. Removing a preview
//! ([`removal`]) refuses anything that does not carry its marker.

use std::collections::{BTreeMap, BTreeSet};

use tabops_manifest::model::{
    Address, ContentKind, ContentSpec, DefaultPermissions, Desired, Grantee, GranteeRules, PermissionSet,
    PermissionTarget, PreviewSettings, ProjectPath, ProjectSpec, Settings,
};
use tabops_manifest::templates::template;

use crate::inventory::{Inventory, LiveContent, LiveProject};
use crate::marker::publish_fingerprint;

/// The prefix of the tag every preview item carries: `tabops-preview.<id>`.
pub const PREVIEW_TAG_PREFIX: &str = "tabops-preview.";
/// What the description of a parent project created for previews ends with.
pub const PARENT_MARKER: &str = "[tabops-preview]";
/// The template the reviewers group gets.
pub const REVIEWER_TEMPLATE: &str = "Viewer";
/// The longest preview id accepted (it becomes part of a tag and a project name).
pub const MAX_ID_LEN: usize = 64;

/// Why a preview cannot be made or removed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreviewError {
    #[error("preview id `{id}` is not valid: {why}")]
    InvalidId { id: String, why: &'static str },
    #[error("preview project `{path}` is not valid: {why}")]
    InvalidProject { path: String, why: String },
    #[error("preview `{id}`: {first} and {second} would both be `{name}` in the preview project")]
    NameClash { id: String, name: String, first: String, second: String },
    #[error("refusing to remove preview `{id}`: {what} does not carry the preview marker `{marker}`")]
    NotAPreview { id: String, what: String, marker: String },
}

impl PreviewError {
    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            PreviewError::InvalidId { .. } => {
                format!("use letters, digits, `-`, `_` and `.` (at most {MAX_ID_LEN}), e.g. `PR-123` or `mr-45`")
            }
            PreviewError::InvalidProject { .. } => {
                "set `settings.preview.project` to a path whose last segment holds `{id}`, e.g. `Previews/{id}`".into()
            }
            PreviewError::NameClash { .. } => {
                "a preview project is flat: rename one of the two items, or preview them in separate pull requests"
                    .into()
            }
            PreviewError::NotAPreview { .. } => {
                "only what `tabops preview` published is removed; move or delete the item by hand, then run again"
                    .into()
            }
        })
    }
}

/// The tag every item of preview `id` carries.
pub fn preview_tag(id: &str) -> String {
    format!("{PREVIEW_TAG_PREFIX}{id}")
}

/// The marker at the end of a preview project's description.
pub fn project_marker(id: &str) -> String {
    format!("[{}]", preview_tag(id))
}

/// The preview id a project's description names with [`project_marker`], if any.
pub fn id_of_project(project: &LiveProject) -> Option<String> {
    let description = project.description.as_deref()?.trim_end();
    let start = description.rfind(&format!("[{PREVIEW_TAG_PREFIX}"))?;
    let inner = description[start + 1..].strip_suffix(']')?;
    let id = inner.strip_prefix(PREVIEW_TAG_PREFIX)?;
    check_id(id).ok().map(|()| id.to_owned())
}

/// Accepts ids made of letters, digits, `-`, `_` and `.`: they become a tag (no spaces or commas) and a project
/// name (no `/`).
pub fn check_id(id: &str) -> Result<(), PreviewError> {
    let invalid = |why| Err(PreviewError::InvalidId { id: id.to_owned(), why });
    if id.is_empty() {
        return invalid("it is empty");
    }
    if id.len() > MAX_ID_LEN {
        return invalid("it is too long");
    }
    if !id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
        return invalid("it may hold only letters, digits, `-`, `_` and `.`");
    }
    Ok(())
}

/// The preview project of `id` under `settings` (default `Previews/{id}`).
pub fn project_path(settings: &PreviewSettings, id: &str) -> Result<ProjectPath, PreviewError> {
    check_id(id)?;
    let path = ProjectPath::parse(&settings.project_for(id));
    let invalid = |why: &str| PreviewError::InvalidProject { path: settings.project.clone(), why: why.to_owned() };
    let last = settings.project.rsplit('/').next().unwrap_or_default();
    if !last.contains("{id}") {
        return Err(invalid("its last segment must hold `{id}`"));
    }
    if path.segments().iter().any(|s| s.trim().is_empty()) {
        return Err(invalid("it has an empty segment"));
    }
    Ok(path)
}

/// The workbooks and data sources of `head` that `base` does not have, or whose published form differs: the
/// content file, hidden views or connections (the publish fingerprint), the name's spelling, the description, the
/// tags or the tabs setting. Data sources first, each kind by address.
pub fn changed_content<'a>(base: &Desired, head: &'a Desired) -> Vec<&'a ContentSpec> {
    let before: BTreeMap<Address, &ContentSpec> =
        base.datasources.iter().chain(&base.workbooks).map(|c| (c.address(), c)).collect();
    head.datasources
        .iter()
        .chain(&head.workbooks)
        .filter(|spec| match before.get(&spec.address()) {
            None => true,
            Some(old) => {
                publish_fingerprint(old) != publish_fingerprint(spec)
                    || old.name != spec.name
                    || old.description != spec.description
                    || old.tags != spec.tags
                    || old.show_tabs != spec.show_tabs
            }
        })
        .collect()
}

/// One item of a preview: where it comes from and where the preview has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewItem {
    pub kind: ContentKind,
    /// The manifest's address (`workbook:Sales/Revenue`).
    pub source: Address,
    /// The address in the preview project (`workbook:Previews/PR-123/Revenue`).
    pub preview: Address,
    /// Whether the base has the item (a changed item) or not (an added one).
    pub added: bool,
}

/// The desired state of a preview, and what it holds.
#[derive(Debug, Clone)]
pub struct PreviewState {
    pub id: String,
    pub project: ProjectPath,
    pub desired: Desired,
    pub items: Vec<PreviewItem>,
}

/// The desired state of preview `id`: the content `head` adds or changes against `base`, retargeted into the
/// preview project. With `live`, parent projects the site lacks are created with [`PARENT_MARKER`] in their
/// description (so removing the last preview may remove them too); parents the site has are left alone.
pub fn desired(
    base: &Desired,
    head: &Desired,
    id: &str,
    live: Option<&Inventory>,
) -> Result<PreviewState, PreviewError> {
    let settings = head.settings.preview.clone().unwrap_or_default();
    let project = project_path(&settings, id)?;
    let reviewers = settings.reviewers.as_deref();
    let tag = preview_tag(id);
    let before: BTreeSet<Address> = base.datasources.iter().chain(&base.workbooks).map(ContentSpec::address).collect();

    let mut names: BTreeMap<(ContentKind, String), Address> = BTreeMap::new();
    let (mut datasources, mut workbooks, mut items) = (Vec::new(), Vec::new(), Vec::new());
    for spec in changed_content(base, head) {
        let source = spec.address();
        if let Some(first) = names.insert((spec.kind, spec.name.to_lowercase()), source.clone()) {
            return Err(PreviewError::NameClash {
                id: id.to_owned(),
                name: spec.name.clone(),
                first: first.to_string(),
                second: source.to_string(),
            });
        }
        let mut tags = spec.tags.clone().unwrap_or_default();
        tags.insert(tag.clone());
        let item = ContentSpec {
            project: project.clone(),
            tags: Some(tags),
            owner: None,
            permissions: viewer_rules(reviewers, target_of(spec.kind)),
            // The reviewers' rules only: a preview copy keeps none of the source's view rules.
            view_permissions: BTreeMap::new(),
            refresh: None,
            protect: false,
            renamed_from: None,
            ..spec.clone()
        };
        items.push(PreviewItem { kind: spec.kind, preview: item.address(), added: !before.contains(&source), source });
        match spec.kind {
            ContentKind::Datasource => datasources.push(item),
            ContentKind::Workbook => workbooks.push(item),
        }
    }

    let segments = project.segments();
    let live_paths: BTreeSet<ProjectPath> = live.map(project_paths).unwrap_or_default().into_values().collect();
    let mut projects: Vec<ProjectSpec> = (1..segments.len())
        .map(|n| {
            let path = ProjectPath::new(segments[..n].to_vec());
            let created_here = live.is_some() && !live_paths.contains(&path);
            let description = created_here.then(|| format!("Preview deployments published by tabops. {PARENT_MARKER}"));
            unmanaged_project(path, description)
        })
        .collect();
    projects.push(ProjectSpec {
        description: Some(format!("Preview `{id}` published by tabops. {}", project_marker(id))),
        prune: true,
        permissions: viewer_rules(reviewers, PermissionTarget::Project),
        default_permissions: DefaultPermissions {
            workbooks: viewer_rules(reviewers, PermissionTarget::Workbook),
            datasources: viewer_rules(reviewers, PermissionTarget::Datasource),
        },
        ..unmanaged_project(project.clone(), None)
    });

    let desired = Desired {
        site: head.site.clone(),
        // A preview manages its own project only, never the site's settings.
        site_settings: BTreeMap::new(),
        settings: Settings { max_deletes: head.settings.max_deletes, preview: Some(settings), ..Settings::default() },
        projects,
        groups: Vec::new(),
        users: Vec::new(),
        datasources,
        workbooks,
        // A preview publishes content only: the manifest's subscriptions stay with the manifest's own workbooks.
        subscriptions: Vec::new(),
        // A preview publishes content only: the site's webhooks are neither read nor changed.
        webhooks: Vec::new(),
        manifest_digest: head.manifest_digest.clone(),
        locations: BTreeMap::new(),
    };
    Ok(PreviewState { id: id.to_owned(), project, desired, items })
}

/// What removing a preview asks of the planner: a desired state in which the project to delete is missing under a
/// pruning parent, limited (`--target`) to that project.
#[derive(Debug, Clone)]
pub struct Removal {
    pub desired: Desired,
    /// The project to delete: the preview project, or the highest parent created for previews that would be
    /// left empty.
    pub target: Address,
    /// Whether the target is a top-level project (the planner prunes those only when asked).
    pub top_level: bool,
    /// Projects and items the delete removes.
    pub count: u32,
}

/// How to remove preview `id` from `live`: `Ok(None)` when the site has no such preview. Refuses when the preview
/// project, a project or an item in it does not carry the marker.
pub fn removal(
    head: &Desired,
    settings: &PreviewSettings,
    id: &str,
    live: &Inventory,
) -> Result<Option<Removal>, PreviewError> {
    let path = project_path(settings, id)?;
    let paths = project_paths(live);
    let Some(project) = live.projects.iter().find(|p| paths.get(&p.id) == Some(&path)) else { return Ok(None) };
    let refuse = |what: String, marker: String| PreviewError::NotAPreview { id: id.to_owned(), what, marker };
    if id_of_project(project).as_deref() != Some(id) {
        return Err(refuse(format!("project:{path}"), project_marker(id)));
    }
    if let Some(child) = live.projects.iter().find(|p| p.parent_id.as_deref() == Some(project.id.as_str())) {
        return Err(refuse(format!("project:{}", paths[&child.id]), project_marker(id)));
    }
    let tag = preview_tag(id);
    let inside = contents(live, &project.id);
    if let Some((kind, item)) = inside.iter().find(|(_, c)| !c.tags.iter().any(|t| t.eq_ignore_ascii_case(&tag))) {
        return Err(refuse(format!("{}:{path}/{}", kind.as_str(), item.name), tag));
    }
    let mut count = 1 + inside.len() as u32;

    // Climb while the parent was created for previews and holds nothing but what is being removed.
    let mut target = project;
    while let Some(parent) = target.parent_id.as_deref().and_then(|id| live.projects.iter().find(|p| p.id == id)) {
        let marked = parent.description.as_deref().is_some_and(|d| d.trim_end().ends_with(PARENT_MARKER));
        let only_child =
            live.projects.iter().filter(|p| p.parent_id.as_deref() == Some(parent.id.as_str())).count() == 1;
        if !(marked && only_child && contents(live, &parent.id).is_empty()) {
            break;
        }
        target = parent;
        count += 1;
    }
    let target_path = paths[&target.id].clone();
    let above = target_path.segments();
    let mut projects: Vec<ProjectSpec> =
        (1..above.len()).map(|n| unmanaged_project(ProjectPath::new(above[..n].to_vec()), None)).collect();
    if let Some(parent) = projects.last_mut() {
        parent.prune = true;
    }
    let desired = Desired {
        site: head.site.clone(),
        site_settings: BTreeMap::new(),
        settings: Settings::default(),
        projects,
        groups: Vec::new(),
        users: Vec::new(),
        datasources: Vec::new(),
        workbooks: Vec::new(),
        subscriptions: Vec::new(),
        webhooks: Vec::new(),
        manifest_digest: head.manifest_digest.clone(),
        locations: BTreeMap::new(),
    };
    Ok(Some(Removal { desired, target: Address::project(&target_path), top_level: above.len() == 1, count }))
}

/// The previews on the site under the preview parent of `settings` (the projects whose description carries a
/// preview marker), with the newest `updatedAt` of the project and what it holds; `None` when the server gave none.
pub fn previews_on_site(settings: &PreviewSettings, live: &Inventory) -> Vec<(String, Option<String>)> {
    let parent: Vec<String> = {
        let template = ProjectPath::parse(&settings.project);
        let segments = template.segments();
        segments[..segments.len().saturating_sub(1)].to_vec()
    };
    let paths = project_paths(live);
    live.projects
        .iter()
        .filter(|p| paths.get(&p.id).is_some_and(|path| path.segments().len() == parent.len() + 1))
        .filter(|p| {
            let path = &paths[&p.id];
            ProjectPath::new(path.segments()[..parent.len()].to_vec()) == ProjectPath::new(parent.clone())
        })
        .filter_map(|p| {
            let id = id_of_project(p)?;
            let newest = contents(live, &p.id)
                .iter()
                .filter_map(|(_, c)| c.updated_at.clone())
                .chain(p.updated_at.clone())
                .max();
            Some((id, newest))
        })
        .collect()
}

/// The Viewer template for `reviewers` on `target`: the complete explicit rule set (nothing for anyone else).
fn viewer_rules(reviewers: Option<&str>, target: PermissionTarget) -> PermissionSet {
    let rules = reviewers.and_then(|group| {
        Some(GranteeRules {
            grantee: Grantee::Group(group.to_owned()),
            capabilities: template(REVIEWER_TEMPLATE, target)?,
        })
    });
    Some(rules.into_iter().collect())
}

fn target_of(kind: ContentKind) -> PermissionTarget {
    match kind {
        ContentKind::Workbook => PermissionTarget::Workbook,
        ContentKind::Datasource => PermissionTarget::Datasource,
    }
}

/// A project the preview needs to exist but does not manage (unless `description` is given).
fn unmanaged_project(path: ProjectPath, description: Option<String>) -> ProjectSpec {
    ProjectSpec {
        path,
        description,
        content_permissions: None,
        owner: None,
        prune: false,
        protect: false,
        renamed_from: None,
        permissions: None,
        default_permissions: DefaultPermissions::default(),
    }
}

/// Every live project's path, by id.
pub fn project_paths(live: &Inventory) -> BTreeMap<String, ProjectPath> {
    let by_id: BTreeMap<&str, &LiveProject> = live.projects.iter().map(|p| (p.id.as_str(), p)).collect();
    live.projects
        .iter()
        .map(|p| {
            let mut segments = vec![p.name.clone()];
            let mut at = p;
            while let Some(parent) = at.parent_id.as_deref().and_then(|id| by_id.get(id)) {
                segments.push(parent.name.clone());
                at = parent;
                if segments.len() > by_id.len() {
                    break;
                }
            }
            segments.reverse();
            (p.id.clone(), ProjectPath::new(segments))
        })
        .collect()
}

/// The workbooks and data sources directly in project `id`.
fn contents<'a>(live: &'a Inventory, id: &str) -> Vec<(ContentKind, &'a LiveContent)> {
    [ContentKind::Datasource, ContentKind::Workbook]
        .into_iter()
        .flat_map(|kind| live.content(kind).iter().filter(|c| c.project_id == id).map(move |c| (kind, c)))
        .collect()
}
