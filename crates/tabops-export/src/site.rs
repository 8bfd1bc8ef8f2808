//! Reading the live site for an export: every list once, then the per-object details (group members,
//! permissions, connections) only for what is exported, and a project tree to turn ids into paths.

use std::collections::{BTreeSet, HashMap};

use futures::future::try_join_all;
use tabops_manifest::model::{ContentKind, ProjectPath};
use tabops_tableau as api;

use crate::ExportError;

/// Everything read from the site.
pub struct Snapshot {
    pub projects: Vec<api::Project>,
    pub users: Vec<api::User>,
    pub groups: Vec<api::Group>,
    pub workbooks: Vec<api::Workbook>,
    pub datasources: Vec<api::Datasource>,
    pub tasks: Vec<api::RefreshTask>,
    pub views: Vec<api::View>,
    /// Group id -> member user ids.
    pub members: HashMap<String, Vec<String>>,
    /// Object id -> explicit rules (projects, workbooks, data sources).
    pub permissions: HashMap<String, Vec<api::GranteeCapabilities>>,
    /// (project id, kind) -> default rules.
    pub defaults: HashMap<(String, ContentKind), Vec<api::GranteeCapabilities>>,
    /// Item id -> connections.
    pub connections: HashMap<String, Vec<api::Connection>>,
}

fn fetch_err(what: &str) -> impl FnOnce(api::Error) -> ExportError + '_ {
    move |source| ExportError::Fetch { what: what.to_owned(), source: Box::new(source) }
}

/// The lists: one paged request per kind, all at once.
pub async fn read_lists(client: &api::Client) -> Result<Snapshot, ExportError> {
    let (projects, users, groups, workbooks, datasources, tasks, views) = tokio::try_join!(
        async { client.projects().await.map_err(fetch_err("list projects")) },
        async { client.users().await.map_err(fetch_err("list users")) },
        async { client.groups().await.map_err(fetch_err("list groups")) },
        async { client.workbooks().await.map_err(fetch_err("list workbooks")) },
        async { client.datasources().await.map_err(fetch_err("list data sources")) },
        async { client.refresh_tasks().await.map_err(fetch_err("list extract-refresh tasks")) },
        async { client.views().await.map_err(fetch_err("list views")) },
    )?;
    Ok(Snapshot {
        projects,
        users,
        groups,
        workbooks,
        datasources,
        tasks,
        views,
        members: HashMap::new(),
        permissions: HashMap::new(),
        defaults: HashMap::new(),
        connections: HashMap::new(),
    })
}

/// One per-object read.
enum Detail {
    Members(String),
    Permissions(api::PermissionTarget, String),
    Defaults(String, ContentKind),
    Connections(ContentKind, String),
}

enum Answer {
    Users(Vec<api::User>),
    Rules(Vec<api::GranteeCapabilities>),
    Connections(Vec<api::Connection>),
}

/// Which objects the details are needed for.
pub struct DetailRequest<'a> {
    pub groups: Vec<&'a str>,
    pub projects: Vec<&'a str>,
    pub items: Vec<(ContentKind, &'a str)>,
    pub with_permissions: bool,
}

/// Reads members, permissions and connections for the exported objects (concurrency is bounded by the client).
pub async fn read_details(
    client: &api::Client,
    snapshot: &mut Snapshot,
    request: DetailRequest<'_>,
) -> Result<(), ExportError> {
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
    }
    let answers = try_join_all(wanted.into_iter().map(|detail| async move {
        let answer = match &detail {
            Detail::Members(group) => {
                Answer::Users(client.group_members(group).await.map_err(fetch_err("list group members"))?)
            }
            Detail::Permissions(target, _) => {
                Answer::Rules(client.permissions(target).await.map_err(fetch_err("read permissions"))?)
            }
            Detail::Defaults(project, kind) => {
                let which = match kind {
                    ContentKind::Workbook => api::DefaultPermissionKind::Workbooks,
                    ContentKind::Datasource => api::DefaultPermissionKind::Datasources,
                };
                let rules =
                    client.default_permissions(project, which).await.map_err(fetch_err("read default permissions"))?;
                Answer::Rules(rules)
            }
            Detail::Connections(kind, id) => {
                let connections = match kind {
                    ContentKind::Workbook => client.workbook_connections(id).await,
                    ContentKind::Datasource => client.datasource_connections(id).await,
                };
                Answer::Connections(connections.map_err(fetch_err("list connections"))?)
            }
        };
        Ok::<_, ExportError>((detail, answer))
    }))
    .await?;
    for (detail, answer) in answers {
        match (detail, answer) {
            (Detail::Members(group), Answer::Users(users)) => {
                snapshot.members.insert(group, users.into_iter().map(|u| u.id).collect());
            }
            (Detail::Permissions(_, id), Answer::Rules(rules)) => {
                snapshot.permissions.insert(id, rules);
            }
            (Detail::Defaults(project, kind), Answer::Rules(rules)) => {
                snapshot.defaults.insert((project, kind), rules);
            }
            (Detail::Connections(_, id), Answer::Connections(connections)) => {
                snapshot.connections.insert(id, connections);
            }
            _ => {}
        }
    }
    Ok(())
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
pub fn check_hierarchy(projects: &[api::Project]) -> Result<(), ExportError> {
    let by_id: HashMap<&str, &api::Project> = projects.iter().map(|p| (p.id.as_str(), p)).collect();
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

/// The live project hierarchy.
pub struct Tree<'a> {
    pub by_id: HashMap<&'a str, &'a api::Project>,
    /// Parent id -> children, sorted by name.
    pub children: HashMap<&'a str, Vec<&'a api::Project>>,
    /// Top-level projects, sorted by name.
    pub roots: Vec<&'a api::Project>,
}

impl<'a> Tree<'a> {
    /// Whether a locked project controls the permissions of the content of project `id` (`content: true`: `id`
    /// itself locked either way, or an ancestor `LockedToProject`) or of project `id` itself (`content: false`: an
    /// ancestor `LockedToProject`). Such rules are the locking project's defaults (Tableau help,
    /// permissions_project_lock.htm), so they are not written where `validate` refuses them.
    pub fn locked_over(&self, id: &str, content: bool) -> bool {
        let locked = |p: &api::Project, modes: &[&str]| {
            p.content_permissions.as_deref().is_some_and(|c| modes.iter().any(|m| c.eq_ignore_ascii_case(m)))
        };
        let Some(project) = self.by_id.get(id) else { return false };
        if content && locked(project, &["LockedToProject", "LockedToProjectWithoutNested"]) {
            return true;
        }
        // The hierarchy was checked for cycles and depth before export reads it; the bound is a second guard.
        let mut parent = project.parent_id.as_deref();
        for _ in 0..64 {
            let Some(ancestor) = parent.and_then(|p| self.by_id.get(p)) else { return false };
            if locked(ancestor, &["LockedToProject"]) {
                return true;
            }
            parent = ancestor.parent_id.as_deref();
        }
        false
    }

    pub fn new(projects: &'a [api::Project]) -> Tree<'a> {
        let by_id: HashMap<&str, &api::Project> = projects.iter().map(|p| (p.id.as_str(), p)).collect();
        let mut children: HashMap<&str, Vec<&api::Project>> = HashMap::new();
        let mut roots = Vec::new();
        for project in projects {
            // A parent that is not listed (unreadable) makes the project a root rather than losing it.
            match project.parent_id.as_deref().filter(|p| by_id.contains_key(p)) {
                Some(parent) => children.entry(parent).or_default().push(project),
                None => roots.push(project),
            }
        }
        let by_name = |a: &&api::Project, b: &&api::Project| {
            a.name.to_lowercase().cmp(&b.name.to_lowercase()).then(a.id.cmp(&b.id))
        };
        for list in children.values_mut() {
            list.sort_by(by_name);
        }
        roots.sort_by(by_name);
        Tree { by_id, children, roots }
    }

    pub fn parent(&self, id: &str) -> Option<&'a str> {
        let project: &'a api::Project = self.by_id.get(id)?;
        project.parent_id.as_deref().filter(|p| self.by_id.contains_key(p))
    }

    pub fn children_of<'s>(&'s self, id: Option<&str>) -> &'s [&'a api::Project] {
        match id {
            None => &self.roots,
            Some(id) => self.children.get(id).map(Vec::as_slice).unwrap_or_default(),
        }
    }

    /// The names from the top-level project down to `id`.
    pub fn path(&self, id: &str) -> ProjectPath {
        let mut segments = Vec::new();
        let mut current = Some(id);
        let mut guard = 0;
        while let Some(at) = current {
            let Some(project) = self.by_id.get(at) else { break };
            segments.push(project.name.clone());
            current = self.parent(at);
            guard += 1;
            if guard > 256 {
                break;
            }
        }
        segments.reverse();
        ProjectPath::new(segments)
    }

    /// The project at `path` (names compare case-insensitively).
    pub fn resolve(&self, path: &ProjectPath) -> Option<&'a str> {
        let mut parent: Option<&str> = None;
        for segment in path.segments() {
            let found = self.children_of(parent).iter().find(|p| p.name.to_lowercase() == segment.to_lowercase())?;
            parent = Some(found.id.as_str());
        }
        parent
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

    fn project(id: &str, parent: Option<&str>) -> api::Project {
        api::Project {
            id: id.to_owned(),
            name: format!("P{id}"),
            description: None,
            parent_id: parent.map(str::to_owned),
            content_permissions: None,
            owner_id: None,
            created_at: None,
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
        let chain = |depth: usize| -> Vec<api::Project> {
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
