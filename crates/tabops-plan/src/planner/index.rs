//! Lookup tables over the live inventory, built once per plan so every match is a hash lookup (the planner is
//! O(n log n) in the size of the site and the manifest). Export builds the same index, so it names projects and
//! items by the same paths and addresses as a plan.

use std::collections::{HashMap, HashSet};

use tabops_manifest::model::{Address, ContentKind, ProjectPath};

use crate::inventory::{Inventory, LiveContent, LiveGroup, LiveProject, LiveRefreshTask, LiveUser};

pub struct LiveIndex<'a> {
    pub users_by_name: HashMap<String, &'a LiveUser>,
    pub users_by_id: HashMap<&'a str, &'a LiveUser>,
    pub groups_by_name: HashMap<String, &'a LiveGroup>,
    pub groups_by_id: HashMap<&'a str, &'a LiveGroup>,
    pub projects_by_id: HashMap<&'a str, &'a LiveProject>,
    /// Live path of each project (by id). Projects whose parent chain is broken are treated as top-level.
    pub project_paths: HashMap<&'a str, ProjectPath>,
    pub projects_by_path: HashMap<Vec<String>, &'a LiveProject>,
    /// (kind, project id, lower-case name) -> item.
    pub content_by_location: HashMap<(ContentKind, &'a str, String), &'a LiveContent>,
    /// Items directly inside each project.
    pub content_in_project: HashMap<&'a str, Vec<(ContentKind, &'a LiveContent)>>,
    pub tasks_by_item: HashMap<(ContentKind, &'a str), Vec<&'a LiveRefreshTask>>,
}

impl<'a> LiveIndex<'a> {
    pub fn new(live: &'a Inventory) -> Self {
        let users_by_name = live.users.iter().map(|u| (u.name.to_lowercase(), u)).collect();
        let users_by_id = live.users.iter().map(|u| (u.id.as_str(), u)).collect();
        let groups_by_name = live.groups.iter().map(|g| (g.name.to_lowercase(), g)).collect();
        let groups_by_id = live.groups.iter().map(|g| (g.id.as_str(), g)).collect();
        let projects_by_id: HashMap<&str, &LiveProject> = live.projects.iter().map(|p| (p.id.as_str(), p)).collect();

        let mut project_paths: HashMap<&str, ProjectPath> = HashMap::with_capacity(live.projects.len());
        for project in &live.projects {
            // Walk up until a project whose path is known (or the top, a missing parent, a cycle), then fill the
            // chain back down. Each project is filled once, so this is linear overall.
            let mut chain: Vec<&LiveProject> = Vec::new();
            let mut seen: HashSet<&str> = HashSet::new();
            let mut base: Option<ProjectPath> = None;
            let mut cursor = Some(project.id.as_str());
            while let Some(id) = cursor {
                if let Some(known) = project_paths.get(id) {
                    base = Some(known.clone());
                    break;
                }
                let Some(p) = projects_by_id.get(id) else { break };
                if !seen.insert(id) {
                    break;
                }
                chain.push(p);
                cursor = p.parent_id.as_deref();
            }
            for p in chain.into_iter().rev() {
                let path = match &base {
                    Some(b) => b.child(p.name.clone()),
                    None => ProjectPath::new(vec![p.name.clone()]),
                };
                project_paths.insert(p.id.as_str(), path.clone());
                base = Some(path);
            }
        }
        let mut projects_by_path = HashMap::with_capacity(live.projects.len());
        for project in &live.projects {
            if let Some(path) = project_paths.get(project.id.as_str()) {
                projects_by_path.entry(path.key()).or_insert(project);
            }
        }

        let mut content_by_location = HashMap::new();
        let mut content_in_project: HashMap<&str, Vec<(ContentKind, &LiveContent)>> = HashMap::new();
        for (kind, items) in [(ContentKind::Datasource, &live.datasources), (ContentKind::Workbook, &live.workbooks)] {
            for item in items {
                content_by_location.entry((kind, item.project_id.as_str(), item.name.to_lowercase())).or_insert(item);
                content_in_project.entry(item.project_id.as_str()).or_default().push((kind, item));
            }
        }
        let mut tasks_by_item: HashMap<(ContentKind, &str), Vec<&LiveRefreshTask>> = HashMap::new();
        for task in &live.refresh_tasks {
            tasks_by_item.entry((task.target.kind, task.target.id.as_str())).or_default().push(task);
        }
        LiveIndex {
            users_by_name,
            users_by_id,
            groups_by_name,
            groups_by_id,
            projects_by_id,
            project_paths,
            projects_by_path,
            content_by_location,
            content_in_project,
            tasks_by_item,
        }
    }

    /// The live path of a project id, for display.
    pub fn path_of(&self, project_id: &str) -> ProjectPath {
        self.project_paths
            .get(project_id)
            .cloned()
            .unwrap_or_else(|| ProjectPath::new(vec![format!("<project {project_id}>")]))
    }

    /// The address of a live project: `project:Sales/EMEA`.
    pub fn project_address(&self, project_id: &str) -> Address {
        Address::project(&self.path_of(project_id))
    }

    /// The address of a live content item: `workbook:Sales/Revenue`.
    pub fn content_address(&self, kind: ContentKind, item: &LiveContent) -> Address {
        Address::content(kind, &self.path_of(&item.project_id), item.name.as_str())
    }
}
