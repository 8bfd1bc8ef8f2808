//! Writes a [`SyntheticSite`] as the emulator's persisted state (the JSON `tabops-emulator` loads from
//! `EmulatorConfig::state_file`). The emulator keeps its state types private, so this module mirrors their serde
//! format (crates/tabops-emulator/src/store.rs, format version 1); the smoke test proves the emulator loads it and
//! that a plan against it is a no-op. Checksum marker tags are computed with the planner's own fingerprint
//! function over the loaded manifest, exactly as the executor would have tagged the items when publishing them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use tabops_manifest::model::ContentKind;

use super::manifest::{WEEKDAYS, refresh_slot};
use super::{GenContent, SyntheticSite};

/// Format version of the emulator state this module writes.
const STATE_VERSION: u32 = 1;
const CREATED: &str = "2026-01-01T00:00:00Z";

/// Generating the site failed.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("failed to write {}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("failed to load the generated manifest {}", path.display())]
    Load { path: PathBuf, source: tabops_manifest::LoadError },
    #[error("the generated manifest has no {kind} named `{name}`")]
    Missing { kind: &'static str, name: String },
    #[error("failed to serialise the emulator state")]
    Serialise(#[source] serde_json::Error),
}

#[derive(Serialize)]
struct State<'a> {
    version: u32,
    site: Site<'a>,
    users: Vec<User>,
    groups: Vec<Group>,
    projects: Vec<Project>,
    workbooks: Vec<Workbook>,
    datasources: Vec<Datasource>,
    tasks: Vec<Task>,
    jobs: Vec<()>,
    permissions: Vec<Rule>,
}

#[derive(Serialize)]
struct Site<'a> {
    id: &'a str,
    name: &'a str,
    content_url: &'a str,
}

#[derive(Serialize)]
struct User {
    id: String,
    name: String,
    full_name: Option<String>,
    email: Option<String>,
    site_role: String,
    auth_setting: String,
    last_login: Option<String>,
}

#[derive(Serialize)]
struct Group {
    id: String,
    name: String,
    minimum_site_role: Option<String>,
    members: Vec<String>,
}

#[derive(Serialize)]
struct Project {
    id: String,
    name: String,
    description: String,
    parent_id: Option<String>,
    content_permissions: String,
    owner_id: String,
    created_at: String,
    updated_at: String,
}

#[derive(Serialize)]
struct View {
    id: String,
    name: String,
    content_url: String,
    sheet_type: String,
    hidden: bool,
}

#[derive(Serialize)]
struct Content {
    id: String,
    name: String,
    description: String,
    content_url: String,
    project_id: String,
    owner_id: String,
    tags: Vec<String>,
    connections: Vec<()>,
    file_name: String,
    file_ext: String,
    size: u64,
    blob: Option<()>,
    created_at: String,
    updated_at: String,
    has_extracts: bool,
}

#[derive(Serialize)]
struct Workbook {
    content: Content,
    show_tabs: bool,
    views: Vec<View>,
}

#[derive(Serialize)]
struct Datasource {
    content: Content,
    ds_type: String,
    is_certified: bool,
    certification_note: Option<String>,
    encrypt_extracts: Option<String>,
    use_remote_query_agent: bool,
}

#[derive(Serialize)]
struct Schedule {
    frequency: String,
    start: String,
    end: Option<String>,
    intervals: Vec<(String, String)>,
}

#[derive(Serialize)]
struct Task {
    id: String,
    refresh_type: String,
    target_kind: &'static str,
    target_id: String,
    schedule: Schedule,
    priority: u32,
    created_at: String,
}

#[derive(Serialize)]
struct Rule {
    resource: String,
    resource_id: String,
    grantee_kind: String,
    grantee_id: String,
    capability: String,
    mode: String,
}

/// `(marker tag, size)` of every content item, computed from the loaded manifest.
type Markers = HashMap<(ContentKind, String), (String, u64)>;

fn markers(manifest_dir: &Path) -> Result<Markers, StateError> {
    let options = tabops_manifest::LoadOptions { hash_content: true, ..Default::default() };
    let loaded = tabops_manifest::load(manifest_dir, &options)
        .map_err(|source| StateError::Load { path: manifest_dir.to_owned(), source })?;
    let desired = loaded.desired;
    Ok(desired
        .workbooks
        .iter()
        .chain(&desired.datasources)
        .map(|spec| {
            let tag = tabops_plan::marker_tag(&tabops_plan::publish_fingerprint(spec));
            ((spec.kind, spec.name.clone()), (tag, spec.file.size))
        })
        .collect())
}

fn content(site: &SyntheticSite, c: &GenContent, kind: ContentKind, markers: &Markers) -> Result<Content, StateError> {
    let (tag, size) = markers
        .get(&(kind, c.name.clone()))
        .ok_or_else(|| StateError::Missing { kind: kind.as_str(), name: c.name.clone() })?;
    let file_name = c.file.rsplit('/').next().unwrap_or(&c.file).to_owned();
    let file_ext = file_name.rsplit('.').next().unwrap_or_default().to_owned();
    Ok(Content {
        id: c.id.clone(),
        name: c.name.clone(),
        description: format!("Synthetic {}", c.name.to_lowercase()),
        content_url: c.name.chars().filter(|ch| ch.is_ascii_alphanumeric()).collect(),
        project_id: site.projects[c.project].id.clone(),
        owner_id: site.admin_id.clone(),
        tags: vec!["bench".to_owned(), format!("team-{}", c.team), tag.clone()],
        connections: Vec::new(),
        file_name,
        file_ext,
        size: *size,
        blob: None,
        created_at: CREATED.to_owned(),
        updated_at: CREATED.to_owned(),
        has_extracts: kind == ContentKind::Datasource,
    })
}

fn project_rules(site: &SyntheticSite) -> Vec<Rule> {
    let rule = |project: &str, group: usize, capability: &str| Rule {
        resource: "projects".to_owned(),
        resource_id: project.to_owned(),
        grantee_kind: "group".to_owned(),
        grantee_id: site.groups[group].id.clone(),
        capability: capability.to_owned(),
        mode: "Allow".to_owned(),
    };
    site.projects
        .iter()
        .flat_map(|p| {
            [
                rule(&p.id, p.viewer_group, "Read"),
                rule(&p.id, p.publisher_group, "Read"),
                rule(&p.id, p.publisher_group, "Write"),
            ]
        })
        .collect()
}

/// Writes the emulator state for `site`, whose manifest is already in `manifest_dir`.
pub(crate) fn write(site: &SyntheticSite, manifest_dir: &Path, state_file: &Path) -> Result<(), StateError> {
    let markers = markers(manifest_dir)?;
    let admin = User {
        id: site.admin_id.clone(),
        name: "admin@tabops.local".to_owned(),
        full_name: Some("Tabops Admin".to_owned()),
        email: Some("admin@tabops.local".to_owned()),
        site_role: "SiteAdministratorCreator".to_owned(),
        auth_setting: "TableauIDWithMFA".to_owned(),
        last_login: None,
    };
    let users = std::iter::once(admin)
        .chain(site.users.iter().map(|u| User {
            id: u.id.clone(),
            name: u.name.clone(),
            full_name: None,
            email: None,
            site_role: u.site_role.to_owned(),
            auth_setting: "ServerDefault".to_owned(),
            last_login: None,
        }))
        .collect();
    let groups = site
        .groups
        .iter()
        .map(|g| Group {
            id: g.id.clone(),
            name: g.name.clone(),
            minimum_site_role: None,
            members: g.members.iter().map(|&m| site.users[m].id.clone()).collect(),
        })
        .collect();
    let project = |id: &str, name: &str, description: String, parent_id: Option<String>| Project {
        id: id.to_owned(),
        name: name.to_owned(),
        description,
        parent_id,
        content_permissions: "ManagedByOwner".to_owned(),
        owner_id: site.admin_id.clone(),
        created_at: CREATED.to_owned(),
        updated_at: CREATED.to_owned(),
    };
    let default_description = "The default project that was automatically created by Tableau.".to_owned();
    let projects = std::iter::once(project(&site.default_project_id, "default", default_description, None))
        .chain(site.projects.iter().enumerate().map(|(i, p)| {
            let parent = p.parent.map(|parent| site.projects[parent].id.clone());
            project(&p.id, &p.name, format!("Synthetic project {i}"), parent)
        }))
        .collect();
    let mut workbooks = Vec::with_capacity(site.workbooks.len());
    for (i, wb) in site.workbooks.iter().enumerate() {
        let view = View {
            id: format!("{}-v", &wb.id[..wb.id.len() - 2]),
            name: "Sheet 1".to_owned(),
            content_url: format!("Workbook{i:05}/sheets/Sheet1"),
            sheet_type: "worksheet".to_owned(),
            hidden: false,
        };
        let content = content(site, wb, ContentKind::Workbook, &markers)?;
        workbooks.push(Workbook { content, show_tabs: false, views: vec![view] });
    }
    let mut datasources = Vec::with_capacity(site.datasources.len());
    for ds in &site.datasources {
        datasources.push(Datasource {
            content: content(site, ds, ContentKind::Datasource, &markers)?,
            ds_type: "postgres".to_owned(),
            is_certified: false,
            certification_note: None,
            encrypt_extracts: None,
            use_remote_query_agent: false,
        });
    }
    let tasks = site
        .task_ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let (at, day) = refresh_slot(i);
            Task {
                id: id.clone(),
                refresh_type: "FullRefresh".to_owned(),
                target_kind: "Datasource",
                target_id: site.datasources[i].id.clone(),
                schedule: Schedule {
                    frequency: "Weekly".to_owned(),
                    start: format!("{at}:00"),
                    end: None,
                    intervals: vec![("weekDay".to_owned(), WEEKDAYS[day].1.to_owned())],
                },
                priority: 50,
                created_at: CREATED.to_owned(),
            }
        })
        .collect();
    let state = State {
        version: STATE_VERSION,
        site: Site { id: &site.site_id, name: super::SITE, content_url: super::SITE },
        users,
        groups,
        projects,
        workbooks,
        datasources,
        tasks,
        jobs: Vec::new(),
        permissions: project_rules(site),
    };
    let json = serde_json::to_vec(&state).map_err(StateError::Serialise)?;
    if let Some(parent) = state_file.parent() {
        std::fs::create_dir_all(parent).map_err(|source| StateError::Write { path: parent.to_owned(), source })?;
    }
    std::fs::write(state_file, json).map_err(|source| StateError::Write { path: state_file.to_owned(), source })
}
