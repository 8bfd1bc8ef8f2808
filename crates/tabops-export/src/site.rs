//! Reading the live site for an export through the inventory fetch a plan uses (`tabops_apply::inventory`): the
//! lists once ([`read_lists`]), then the per-object details (group members, permissions, connections) only for what
//! is exported ([`read_details`]), and the project hierarchy, checked ([`check_hierarchy`]) and then walked
//! ([`Tree`]) with projects named by the planner's own path index (`tabops_plan`'s `LiveIndex`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use futures::future::try_join_all;
use tabops_apply::ApplyError;
use tabops_apply::inventory::{self, Detail};
use tabops_manifest::model::{ContentKind, ContentPermissions, ProjectPath};
use tabops_manifest::site_settings::SettingValue;
use tabops_plan::inventory::{Inventory, LiveProject};
use tabops_plan::planner::index::LiveIndex;
use tabops_tableau as api;

use crate::ExportError;

/// The per-object reads of the exported objects, as the server answered them.
#[derive(Default)]
pub struct Details {
    /// Group id -> member user ids.
    pub members: HashMap<String, Vec<String>>,
    /// Object id -> explicit rules (projects, workbooks, data sources), as the server answered them.
    pub permissions: HashMap<String, Vec<api::GranteeCapabilities>>,
    /// (project id, kind) -> default rules, as the server answered them.
    pub defaults: HashMap<(String, ContentKind), Vec<api::GranteeCapabilities>>,
    /// Item id -> connections, as the server answered them.
    pub connections: HashMap<String, Vec<api::Connection>>,
    /// Workbook id (workbooks without tabs, with permissions exported) -> its views as `(sheet name, view id)`;
    /// each view's rules are in `permissions`.
    pub views: HashMap<String, Vec<(String, String)>>,
}

/// The lists: one paged request per kind, all at once, views included (for `hidden_views`).
pub async fn read_lists(client: &api::Client) -> Result<Inventory, ExportError> {
    inventory::read_lists(client, true).await.map_err(|err| ExportError::Fetch(Box::new(err)))
}

/// The site's settings `site.settings:` can manage (one Get Site), by manifest key.
pub async fn read_site_settings(client: &api::Client) -> Result<BTreeMap<String, SettingValue>, ExportError> {
    inventory::read_site_settings(client).await.map_err(|err| ExportError::Fetch(Box::new(err)))
}

/// The site's webhooks: one request.
pub async fn read_webhooks(client: &api::Client) -> Result<Vec<tabops_plan::inventory::LiveWebhook>, ExportError> {
    inventory::read_webhooks(client).await.map_err(|err| ExportError::Fetch(Box::new(err)))
}

/// Which objects the details are needed for.
pub struct DetailRequest<'a> {
    pub groups: Vec<&'a str>,
    pub projects: Vec<&'a str>,
    pub items: Vec<(ContentKind, &'a str)>,
    pub with_permissions: bool,
    /// Workbooks that do not show tabs: with permissions, their views' rules are read too (one request for the
    /// views and one per view; workbooks showing tabs have no view rules of their own).
    pub untabbed: Vec<&'a str>,
}

/// Reads members, permissions and connections for the exported objects (concurrency is bounded by the client).
pub async fn read_details(client: &api::Client, request: DetailRequest<'_>) -> Result<Details, ExportError> {
    let mut details = Details::default();
    let mut wanted: Vec<Detail> = request.groups.iter().map(|g| Detail::Members((*g).to_owned())).collect();
    for (kind, id) in &request.items {
        wanted.push(Detail::Connections(*kind, (*id).to_owned()));
    }
    if request.with_permissions {
        for project in &request.projects {
            let id = (*project).to_owned();
            wanted.push(Detail::Permissions(api::PermissionTarget::Project(id.clone()), id.clone()));
            wanted.push(Detail::Defaults(id.clone(), ContentKind::Workbook));
            wanted.push(Detail::Defaults(id, ContentKind::Datasource));
        }
        for (kind, id) in &request.items {
            let id = (*id).to_owned();
            let target = match kind {
                ContentKind::Workbook => api::PermissionTarget::Workbook(id.clone()),
                ContentKind::Datasource => api::PermissionTarget::Datasource(id.clone()),
            };
            wanted.push(Detail::Permissions(target, id));
        }
        let listed =
            try_join_all(request.untabbed.iter().map(|id| client.workbook_views(id))).await.map_err(|source| {
                ExportError::Fetch(Box::new(ApplyError::Fetch { what: "list workbook views".into(), source }))
            })?;
        for (workbook, views) in request.untabbed.iter().zip(listed) {
            for view in &views {
                wanted.push(Detail::Permissions(api::PermissionTarget::View(view.id.clone()), view.id.clone()));
            }
            details.views.insert((*workbook).to_owned(), views.into_iter().map(|v| (v.name, v.id)).collect());
        }
    }
    for read in inventory::read_details(client, wanted).await.map_err(|err| ExportError::Fetch(Box::new(err)))? {
        match read.detail {
            Detail::Members(group) => {
                details.members.insert(group, read.members);
            }
            Detail::Permissions(_, id) => {
                details.permissions.insert(id, read.rules);
            }
            Detail::Defaults(project, kind) => {
                details.defaults.insert((project, kind), read.rules);
            }
            Detail::Connections(_, id) => {
                details.connections.insert(id, read.connections);
            }
        }
    }
    Ok(details)
}

/// Deepest project nesting an export accepts (a top-level project is depth 1). A manifest holds at most 64 levels
/// of YAML nesting, and each project level takes two of them (the project and its `projects:` list) with up to five
/// more below the deepest project (permission rules and their capabilities), so a manifest can express projects
/// about 29 deep; 24 is the limit with room to spare. Tableau sites nest a handful of levels in practice.
pub const MAX_PROJECT_DEPTH: usize = 24;

/// Checks the project hierarchy the site reports before anything walks it: parents that form a cycle (a broken or
/// hostile server: walking up from such a project never reaches the top, and `export` overflowed its stack on
/// one) and nesting deeper than [`MAX_PROJECT_DEPTH`] are refused, naming the projects. Linear: each project's
/// depth is computed once.
pub fn check_hierarchy(projects: &[LiveProject]) -> Result<(), ExportError> {
    let by_id: HashMap<&str, &LiveProject> = projects.iter().map(|p| (p.id.as_str(), p)).collect();
    let mut depth: HashMap<&str, usize> = HashMap::with_capacity(projects.len());
    for project in projects {
        let mut chain: Vec<&str> = Vec::new();
        let mut on_chain: std::collections::HashSet<&str> = std::collections::HashSet::new();
        let mut cursor = Some(project.id.as_str());
        let mut base = 0;
        while let Some(id) = cursor {
            if let Some(known) = depth.get(id) {
                base = *known;
                break;
            }
            let Some(p) = by_id.get(id) else { break };
            if !on_chain.insert(id) {
                let start = chain.iter().position(|c| *c == id).unwrap_or(0);
                let names: Vec<String> = chain[start..]
                    .iter()
                    .filter_map(|c| by_id.get(c).map(|p| format!("'{}' ({})", p.name, p.id)))
                    .collect();
                return Err(ExportError::ProjectCycle { projects: names.join(" -> ") });
            }
            chain.push(id);
            // A parent that is not listed makes the project top level (as `Tree` treats it).
            cursor = p.parent_id.as_deref().filter(|parent| by_id.contains_key(parent));
        }
        for id in chain.into_iter().rev() {
            base += 1;
            depth.insert(id, base);
            if base > MAX_PROJECT_DEPTH {
                let name = by_id.get(id).map(|p| p.name.as_str()).unwrap_or_default();
                return Err(ExportError::TooDeep { project: format!("'{name}' ({id})"), depth: base });
            }
        }
    }
    Ok(())
}

/// The live project hierarchy, walked from the top (children sorted by name); paths come from the planner's index.
pub struct Tree<'a> {
    /// The planner's index of the same inventory: project paths (and item addresses) as a plan names them.
    pub index: LiveIndex<'a>,
    /// Parent id -> children, sorted by name.
    pub children: HashMap<&'a str, Vec<&'a LiveProject>>,
    /// Top-level projects, sorted by name.
    pub roots: Vec<&'a LiveProject>,
}

impl<'a> Tree<'a> {
    /// Whether a locked project controls the permissions of the content of project `id` (`content: true`: `id`
    /// itself locked either way, or an ancestor `LockedToProject`) or of project `id` itself (`content: false`: an
    /// ancestor `LockedToProject`). Such rules are the locking project's defaults (Tableau help,
    /// permissions_project_lock.htm), so they are not written where `validate` refuses them.
    pub fn locked_over(&self, id: &str, content: bool) -> bool {
        use ContentPermissions::{LockedToProject, LockedToProjectWithoutNested};
        let Some(project) = self.project(id) else { return false };
        if content && matches!(project.content_permissions, Some(LockedToProject | LockedToProjectWithoutNested)) {
            return true;
        }
        // The hierarchy was checked for cycles and depth before export reads it; the bound is a second guard.
        let mut parent = project.parent_id.as_deref();
        for _ in 0..64 {
            let Some(ancestor) = parent.and_then(|p| self.project(p)) else { return false };
            if ancestor.content_permissions == Some(LockedToProject) {
                return true;
            }
            parent = ancestor.parent_id.as_deref();
        }
        false
    }

    pub fn new(inventory: &'a Inventory) -> Tree<'a> {
        let index = LiveIndex::new(inventory);
        let mut children: HashMap<&str, Vec<&LiveProject>> = HashMap::new();
        let mut roots = Vec::new();
        for project in &inventory.projects {
            // A parent that is not listed (unreadable) makes the project a root rather than losing it.
            match project.parent_id.as_deref().filter(|p| index.projects_by_id.contains_key(p)) {
                Some(parent) => children.entry(parent).or_default().push(project),
                None => roots.push(project),
            }
        }
        let by_name = |a: &&LiveProject, b: &&LiveProject| {
            a.name.to_lowercase().cmp(&b.name.to_lowercase()).then(a.id.cmp(&b.id))
        };
        for list in children.values_mut() {
            list.sort_by(by_name);
        }
        roots.sort_by(by_name);
        Tree { index, children, roots }
    }

    pub fn project(&self, id: &str) -> Option<&'a LiveProject> {
        self.index.projects_by_id.get(id).copied()
    }

    pub fn parent(&self, id: &str) -> Option<&'a str> {
        let project = self.project(id)?;
        project.parent_id.as_deref().filter(|p| self.index.projects_by_id.contains_key(p))
    }

    pub fn children_of<'s>(&'s self, id: Option<&str>) -> &'s [&'a LiveProject] {
        match id {
            None => &self.roots,
            Some(id) => self.children.get(id).map(Vec::as_slice).unwrap_or_default(),
        }
    }

    /// The names from the top-level project down to `id` (the planner's path); empty for a project not listed.
    pub fn path(&self, id: &str) -> ProjectPath {
        self.index.project_paths.get(id).cloned().unwrap_or_else(|| ProjectPath::new(Vec::new()))
    }

    /// The project at `path` (names compare case-insensitively).
    pub fn resolve(&self, path: &ProjectPath) -> Option<&'a str> {
        self.index.projects_by_path.get(&path.key()).map(|p| p.id.as_str())
    }

    /// `id` and every project below it.
    pub fn subtree(&self, id: &'a str, out: &mut BTreeSet<&'a str>) {
        if !out.insert(id) {
            return;
        }
        for child in self.children_of(Some(id)) {
            self.subtree(child.id.as_str(), out);
        }
    }

    /// The top-level ancestor of `id` (itself when top level).
    pub fn root_of(&self, id: &'a str) -> &'a str {
        let mut current = id;
        let mut guard = 0;
        while let Some(parent) = self.parent(current) {
            current = parent;
            guard += 1;
            if guard > 256 {
                break;
            }
        }
        current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(id: &str, parent: Option<&str>) -> LiveProject {
        LiveProject {
            id: id.to_owned(),
            name: format!("P{id}"),
            description: None,
            parent_id: parent.map(str::to_owned),
            content_permissions: None,
            owner_id: None,
            updated_at: None,
        }
    }

    #[test]
    fn a_cycle_of_parents_is_refused_naming_its_projects() {
        // 1 is top level; 2 -> 3 -> 4 -> 2 is a cycle; 5 hangs below the cycle.
        let projects = vec![
            project("1", None),
            project("2", Some("4")),
            project("3", Some("2")),
            project("4", Some("3")),
            project("5", Some("3")),
        ];
        let err = check_hierarchy(&projects).unwrap_err();
        let ExportError::ProjectCycle { projects: names } = &err else { panic!("{err:?}") };
        for id in ["2", "3", "4"] {
            assert!(names.contains(&format!("'P{id}' ({id})")), "{names}");
        }
        assert!(!names.contains("(1)") && !names.contains("(5)"), "{names}");
        // A project that is its own parent.
        assert!(matches!(check_hierarchy(&[project("x", Some("x"))]), Err(ExportError::ProjectCycle { .. })));
    }

    #[test]
    fn nesting_up_to_the_limit_is_accepted_and_deeper_is_refused() {
        let chain = |depth: usize| -> Vec<LiveProject> {
            (0..depth).map(|i| project(&i.to_string(), i.checked_sub(1).map(|p| p.to_string()).as_deref())).collect()
        };
        assert!(check_hierarchy(&chain(MAX_PROJECT_DEPTH)).is_ok());
        let err = check_hierarchy(&chain(MAX_PROJECT_DEPTH + 1)).unwrap_err();
        assert!(matches!(err, ExportError::TooDeep { depth, .. } if depth == MAX_PROJECT_DEPTH + 1), "{err:?}");
        // A 100,000-deep chain is refused without walking it recursively, and a parent that is not listed makes
        // a project top level.
        assert!(matches!(check_hierarchy(&chain(100_000)), Err(ExportError::TooDeep { .. })));
        assert!(check_hierarchy(&[project("a", Some("unlisted"))]).is_ok());
    }
}
