//! Reading the live site into the planner's [`Inventory`] with the fewest requests the API allows.
//!
//! One paged list per object kind (pageSize 1000, later pages fetched concurrently by the client), all kinds at
//! once. Per-object requests only where Tableau has no list form (permissions, default permissions, group
//! members), and only for the objects the manifest manages: an object whose permissions the manifest does not
//! mention is never asked about. Site-wide views are listed only when some workbook hides views or the manifest
//! declares (or prunes) subscriptions, which also list the site's subscriptions; an item's connections are read
//! only when its manifest entry lists `connections:`; the site itself (Get Site, for its settings) only when the
//! manifest manages site settings.
//!
//! `tabops export` reads the site through the same functions: [`read_lists`] for the lists (converted as for a
//! plan) and [`read_details`] for the per-object reads of what it exports.

use std::collections::{BTreeMap, HashMap};

use futures::future::try_join_all;
use tabops_manifest::model::{ContentKind, ContentPermissions, Desired, ProjectPath};
use tabops_manifest::site_settings::{SITE_SETTINGS, SettingValue};
use tabops_plan::inventory::{
    Inventory, LiveConnection, LiveContent, LiveGroup, LiveIdentityProvider, LiveProject, LiveRefreshTask, LiveSite,
    LiveSubscription, LiveUser, LiveView, LiveWebhook, TaskTarget,
};
use tabops_tableau as api;

use crate::error::ApplyError;
use crate::wire;

/// Fetches everything the planner needs to diff `desired` against the site `client` is signed in to.
///
/// The per-object reads start as soon as the list they depend on has arrived: project permissions after the
/// project list, group members after the group list, while the (longer) workbook and data-source lists are still
/// paging. Only content permissions wait for the content lists. At scale this keeps the fetch within a round trip
/// or two of the lower bound (requests x latency / concurrency).
pub async fn fetch(client: &api::Client, desired: &Desired) -> Result<Inventory, ApplyError> {
    // Subscriptions (and the view ids they name) are read only when the manifest declares or prunes them.
    let wants_subscriptions = tabops_plan::planner::subscriptions::wanted(desired);
    let wants_views = desired.workbooks.iter().any(|w| !w.hidden_views.is_empty()) || wants_subscriptions;
    let renames = project_renames(desired);
    let projects = async {
        let projects: Vec<LiveProject> =
            read("list projects", client.projects()).await?.into_iter().map(live_project).collect();
        let tree = ProjectTree::new(&projects);
        let rows = read_details(client, project_details(desired, &tree, &renames)).await?;
        Ok::<_, ApplyError>((projects, tree, rows))
    };
    let groups = async {
        let groups: Vec<LiveGroup> = read("list groups", client.groups()).await?.into_iter().map(live_group).collect();
        let rows = read_details(client, member_details(desired, &groups)).await?;
        Ok::<_, ApplyError>((groups, rows))
    };
    let views = async { if wants_views { client.views().await.map(Some) } else { Ok(None) } };
    let subscriptions = async { if wants_subscriptions { client.subscriptions().await.map(Some) } else { Ok(None) } };
    // Only a manifest that names an identity provider needs the site's authentication configurations (an API
    // 3.24+, Cloud-only call): other plans make exactly the requests they made before.
    let wants_idps = desired.users.iter().any(|u| u.identity_provider.is_some());
    let idps = async {
        if wants_idps {
            let configurations = client.auth_configurations().await?;
            Ok(Some(configurations.into_iter().map(live_identity_provider).collect::<Vec<_>>()))
        } else {
            Ok(None)
        }
    };
    // Only a manifest that manages site settings reads the site (Get Site, one request).
    let settings =
        async { if desired.site_settings.is_empty() { Ok(None) } else { read_site_settings(client).await.map(Some) } };
    // Webhooks: one list, read only when the manifest declares or prunes them.
    let wants_webhooks = !desired.webhooks.is_empty() || desired.settings.prune_webhooks;
    let webhooks = async { if wants_webhooks { read_webhooks(client).await.map(Some) } else { Ok(None) } };
    let (
        (projects, tree, project_rows),
        (groups, member_rows),
        users,
        workbooks,
        datasources,
        tasks,
        views,
        idps,
        subs,
        settings,
        webhooks,
    ) = tokio::try_join!(
        projects,
        groups,
        read("list users", client.users()),
        read("list workbooks", client.workbooks()),
        read("list data sources", client.datasources()),
        read("list extract-refresh tasks", client.refresh_tasks()),
        read("list views", views),
        read("list authentication configurations", idps),
        read("list subscriptions", subscriptions),
        settings,
        webhooks,
    )?;

    let live_views: Option<Vec<LiveView>> = wants_subscriptions.then(|| {
        views
            .iter()
            .flatten()
            .filter_map(|v| {
                Some(LiveView { id: v.id.clone(), workbook_id: v.workbook_id.clone()?, name: v.name.clone() })
            })
            .collect()
    });
    let subscriptions = subs.map(|list| {
        let views = live_views.as_deref().unwrap_or_default();
        list.into_iter().map(|s| live_subscription(s, views)).collect()
    });
    let mut visible = visible_views(views);
    let workbooks = workbooks
        .into_iter()
        .map(|w| {
            let views = wants_views.then(|| visible.remove(&w.id).unwrap_or_default());
            live_workbook(w, views)
        })
        .collect();
    let mut inventory = Inventory {
        site: LiveSite { id: client.site_id().to_owned(), content_url: client.config().site.clone(), settings },
        projects,
        users: users.into_iter().map(live_user).collect(),
        groups,
        workbooks,
        datasources: datasources.into_iter().map(live_datasource).collect(),
        refresh_tasks: tasks.into_iter().filter_map(live_task).collect(),
        permissions: Default::default(),
        default_permissions: Default::default(),
        controlled: Default::default(),
        view_ids: Default::default(),
        identity_providers: idps,
        subscriptions,
        views: live_views,
        webhooks,
    };
    let content_rows = read_details(client, content_details(desired, &tree, &renames, &inventory)).await?;
    let view_rows = read_view_details(client, desired, &tree, &renames, &mut inventory).await?;
    for rows in [project_rows, member_rows, content_rows, view_rows] {
        record(&mut inventory, rows);
    }
    Ok(inventory)
}

/// For each live workbook whose manifest entry has `view_permissions:`: its views (one request), and the rules of
/// each view the manifest names (one request each). Nothing for a manifest without view permissions.
async fn read_view_details(
    client: &api::Client,
    desired: &Desired,
    tree: &ProjectTree,
    renames: &HashMap<Vec<String>, &ProjectPath>,
    inventory: &mut Inventory,
) -> Result<Vec<DetailRead>, ApplyError> {
    let ids: HashMap<(&str, String), &str> =
        inventory.workbooks.iter().map(|c| ((c.project_id.as_str(), c.name.to_lowercase()), c.id.as_str())).collect();
    let mut wanted: Vec<(String, Vec<&str>)> = Vec::new();
    for spec in desired.workbooks.iter().filter(|s| !s.view_permissions.is_empty()) {
        let current = (spec.project.clone(), spec.name.clone());
        let found = std::iter::once(&current).chain(spec.renamed_from.as_ref()).find_map(|(path, name)| {
            let project = tree.resolve_desired(renames, path)?;
            ids.get(&(project.as_str(), name.to_lowercase())).map(|id| (*id).to_owned())
        });
        if let Some(id) = found {
            wanted.push((id, spec.view_permissions.keys().map(String::as_str).collect()));
        }
    }
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let listed =
        try_join_all(wanted.iter().map(|(id, _)| read("list workbook views", client.workbook_views(id)))).await?;
    let mut details = Vec::new();
    for ((workbook, sheets), views) in wanted.iter().zip(listed) {
        let by_name: BTreeMap<String, String> = views.into_iter().map(|v| (v.name, v.id)).collect();
        for sheet in sheets {
            let id = by_name
                .get(*sheet)
                .or_else(|| by_name.iter().find(|(name, _)| name.eq_ignore_ascii_case(sheet)).map(|(_, id)| id));
            if let Some(id) = id {
                details.push(Detail::Permissions(api::PermissionTarget::View(id.clone()), id.clone()));
            }
        }
        inventory.view_ids.insert(workbook.clone(), by_name);
    }
    read_details(client, details).await
}

/// The site's settings `site.settings:` can manage, by manifest key, from one Get Site. A setting the server does
/// not report (or reports in a form that is not the setting's) is left out.
pub async fn read_site_settings(client: &api::Client) -> Result<BTreeMap<String, SettingValue>, ApplyError> {
    let attributes = read("read site", client.site()).await?;
    Ok(site_settings_of(&attributes))
}

/// The managed settings among a `<site>` element's attributes.
pub fn site_settings_of(attributes: &BTreeMap<String, String>) -> BTreeMap<String, SettingValue> {
    SITE_SETTINGS
        .iter()
        .filter_map(|s| {
            let value = s.parse_wire(attributes.get(s.attribute)?)?;
            Some((s.key.to_owned(), value))
        })
        .collect()
}

/// The site's lists, as [`fetch`] reads and converts them, without any per-object read: projects, users, groups,
/// workbooks, data sources, extract-refresh tasks, and with `views` every workbook's visible views. One paged list
/// per kind, all at once.
pub async fn read_lists(client: &api::Client, views: bool) -> Result<Inventory, ApplyError> {
    read_lists_with(client, views, true).await
}

/// As [`read_lists`]; without `tasks`, the extract-refresh tasks are not listed (one request less for a reader that
/// has no use for them, such as `tabops report access`).
pub async fn read_lists_with(client: &api::Client, views: bool, tasks: bool) -> Result<Inventory, ApplyError> {
    let view_list = async { if views { client.views().await.map(Some) } else { Ok(None) } };
    let task_list = async { if tasks { client.refresh_tasks().await } else { Ok(Vec::new()) } };
    let (projects, users, groups, workbooks, datasources, tasks, view_list) = tokio::try_join!(
        read("list projects", client.projects()),
        read("list users", client.users()),
        read("list groups", client.groups()),
        read("list workbooks", client.workbooks()),
        read("list data sources", client.datasources()),
        read("list extract-refresh tasks", task_list),
        read("list views", view_list),
    )?;
    let mut visible = visible_views(view_list);
    Ok(Inventory {
        site: LiveSite { id: client.site_id().to_owned(), content_url: client.config().site.clone(), settings: None },
        projects: projects.into_iter().map(live_project).collect(),
        users: users.into_iter().map(live_user).collect(),
        groups: groups.into_iter().map(live_group).collect(),
        workbooks: workbooks
            .into_iter()
            .map(|w| {
                let views = views.then(|| visible.remove(&w.id).unwrap_or_default());
                live_workbook(w, views)
            })
            .collect(),
        datasources: datasources.into_iter().map(live_datasource).collect(),
        refresh_tasks: tasks.into_iter().filter_map(live_task).collect(),
        permissions: Default::default(),
        default_permissions: Default::default(),
        controlled: Default::default(),
        view_ids: Default::default(),
        identity_providers: None,
        subscriptions: None,
        views: None,
        webhooks: None,
    })
}

/// The site's webhooks (one request), as the planner sees them; `tabops export` reads them with this too.
pub async fn read_webhooks(client: &api::Client) -> Result<Vec<LiveWebhook>, ApplyError> {
    let webhooks = read("list webhooks", client.webhooks()).await?;
    Ok(webhooks
        .into_iter()
        .map(|w| LiveWebhook { id: w.id, name: w.name, event: w.event, url: w.url, enabled: w.enabled })
        .collect())
}

/// Names of the views each workbook shows (by workbook id). A listed view marked `hidden="true"` (the schema's
/// `viewType` attribute) is not shown.
fn visible_views(views: Option<Vec<api::View>>) -> HashMap<String, Vec<String>> {
    let mut visible: HashMap<String, Vec<String>> = HashMap::new();
    for view in views.into_iter().flatten().filter(|v| !v.hidden) {
        if let Some(workbook) = view.workbook_id {
            visible.entry(workbook).or_default().push(view.name);
        }
    }
    visible
}

async fn read<T>(
    what: &'static str,
    future: impl std::future::Future<Output = api::Result<T>>,
) -> Result<T, ApplyError> {
    future.await.map_err(|source| ApplyError::Fetch { what: what.to_owned(), source })
}

/// One per-object read: what to ask about one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detail {
    /// Explicit permissions of a project, workbook or data source (by id).
    Permissions(api::PermissionTarget, String),
    /// Default permissions of a project (by id) for one content kind.
    Defaults(String, ContentKind),
    /// Members of a group (by id).
    Members(String),
    /// Connections of a workbook or data source (by id).
    Connections(ContentKind, String),
}

/// A detail read back, as the server answered it: the rules (permissions), member ids (groups) or connections
/// (content). [`fetch`] turns them into the planner's vocabulary; export reads them as they are (it warns about
/// rules the manifest cannot express, and leaves out connections through a published data source).
#[derive(Debug)]
pub struct DetailRead {
    pub detail: Detail,
    /// The locked project that controls these rules, when the response names one.
    pub controller: Option<String>,
    pub rules: Vec<api::GranteeCapabilities>,
    pub members: Vec<String>,
    pub connections: Vec<api::Connection>,
}

/// Old paths of renamed projects, keyed by their new path.
fn project_renames(desired: &Desired) -> HashMap<Vec<String>, &ProjectPath> {
    desired.projects.iter().filter_map(|p| p.renamed_from.as_ref().map(|old| (p.path.key(), old))).collect()
}

/// Permissions and default permissions of the projects the manifest manages them for.
fn project_details(desired: &Desired, tree: &ProjectTree, renames: &HashMap<Vec<String>, &ProjectPath>) -> Vec<Detail> {
    let mut wanted = Vec::new();
    for project in &desired.projects {
        let Some(id) = tree.resolve_desired(renames, &project.path) else { continue };
        if project.permissions.is_some() {
            wanted.push(Detail::Permissions(api::PermissionTarget::Project(id.clone()), id.clone()));
        }
        if project.default_permissions.workbooks.is_some() {
            wanted.push(Detail::Defaults(id.clone(), ContentKind::Workbook));
        }
        if project.default_permissions.datasources.is_some() {
            wanted.push(Detail::Defaults(id.clone(), ContentKind::Datasource));
        }
    }
    wanted
}

/// Members of the groups whose membership the manifest manages.
fn member_details(desired: &Desired, groups: &[LiveGroup]) -> Vec<Detail> {
    let group_ids: HashMap<String, &str> = groups.iter().map(|g| (g.name.to_lowercase(), g.id.as_str())).collect();
    desired
        .groups
        .iter()
        .filter(|g| g.members.is_some())
        .filter_map(|group| {
            let names = std::iter::once(&group.name).chain(group.renamed_from.as_ref());
            names.filter_map(|n| group_ids.get(&n.to_lowercase())).next().map(|id| Detail::Members((*id).to_owned()))
        })
        .collect()
}

/// Permissions of the workbooks and data sources the manifest manages them for (found at their old name or
/// project after a rename or move).
fn content_details(
    desired: &Desired,
    tree: &ProjectTree,
    renames: &HashMap<Vec<String>, &ProjectPath>,
    inventory: &Inventory,
) -> Vec<Detail> {
    let content_ids: HashMap<(ContentKind, &str, String), &str> = [ContentKind::Workbook, ContentKind::Datasource]
        .into_iter()
        .flat_map(|kind| {
            inventory
                .content(kind)
                .iter()
                .map(move |c| ((kind, c.project_id.as_str(), c.name.to_lowercase()), c.id.as_str()))
        })
        .collect();
    let mut wanted = Vec::new();
    let managed = |s: &&tabops_manifest::model::ContentSpec| s.permissions.is_some() || !s.connections.is_empty();
    for spec in desired.workbooks.iter().chain(&desired.datasources).filter(managed) {
        let current = (spec.project.clone(), spec.name.clone());
        let found = std::iter::once(&current).chain(spec.renamed_from.as_ref()).find_map(|(path, name)| {
            let project = tree.resolve_desired(renames, path)?;
            content_ids.get(&(spec.kind, project.as_str(), name.to_lowercase())).map(|id| (*id).to_owned())
        });
        if let Some(id) = found {
            let target = match spec.kind {
                ContentKind::Workbook => api::PermissionTarget::Workbook(id.clone()),
                ContentKind::Datasource => api::PermissionTarget::Datasource(id.clone()),
            };
            if !spec.connections.is_empty() {
                wanted.push(Detail::Connections(spec.kind, id.clone()));
            }
            if spec.permissions.is_some() {
                wanted.push(Detail::Permissions(target, id));
            }
        }
    }
    wanted
}

/// Reads the details concurrently (the client bounds how many requests are in flight), one request each.
pub async fn read_details(client: &api::Client, wanted: Vec<Detail>) -> Result<Vec<DetailRead>, ApplyError> {
    try_join_all(wanted.into_iter().map(|detail| async move {
        let mut connections = Vec::new();
        let mut controller = None;
        let (rules, members) = match &detail {
            Detail::Permissions(target, _) => {
                let (rows, locker) = read("read permissions", client.permissions_and_controller(target)).await?;
                controller = locker;
                (rows, Vec::new())
            }
            Detail::Defaults(project, kind) => {
                let which = match kind {
                    ContentKind::Workbook => api::DefaultPermissionKind::Workbooks,
                    ContentKind::Datasource => api::DefaultPermissionKind::Datasources,
                };
                let rows = read("read default permissions", client.default_permissions(project, which)).await?;
                (rows, Vec::new())
            }
            Detail::Members(group) => {
                let members = read("list group members", client.group_members(group)).await?;
                (Vec::new(), members.into_iter().map(|u| u.id).collect())
            }
            Detail::Connections(kind, id) => {
                let list = match kind {
                    ContentKind::Workbook => read("list workbook connections", client.workbook_connections(id)).await?,
                    ContentKind::Datasource => {
                        read("list data source connections", client.datasource_connections(id)).await?
                    }
                };
                connections = list;
                (Vec::new(), Vec::new())
            }
        };
        Ok::<_, ApplyError>(DetailRead { detail, controller, rules, members, connections })
    }))
    .await
}

/// Puts details read back into the inventory, in the planner's vocabulary.
fn record(inventory: &mut Inventory, rows: Vec<DetailRead>) {
    let group_index: HashMap<String, usize> =
        inventory.groups.iter().enumerate().map(|(i, g)| (g.id.clone(), i)).collect();
    for DetailRead { detail, controller, rules, members, connections } in rows {
        let rules = wire::live_rules(&rules);
        match detail {
            Detail::Permissions(_, id) => {
                if let Some(locker) = controller {
                    inventory.controlled.insert(id.clone(), locker);
                }
                inventory.permissions.insert(id, rules);
            }
            Detail::Defaults(project, kind) => {
                let entry = inventory.default_permissions.entry(project).or_default();
                match kind {
                    ContentKind::Workbook => entry.workbooks = Some(rules),
                    ContentKind::Datasource => entry.datasources = Some(rules),
                }
            }
            Detail::Members(group) => {
                if let Some(&i) = group_index.get(&group) {
                    inventory.groups[i].members = Some(members);
                }
            }
            Detail::Connections(kind, id) => {
                let items = match kind {
                    ContentKind::Workbook => &mut inventory.workbooks,
                    ContentKind::Datasource => &mut inventory.datasources,
                };
                if let Some(item) = items.iter_mut().find(|c| c.id == id) {
                    item.connections = Some(connections.into_iter().map(live_connection).collect());
                }
            }
        }
    }
}

/// Live projects indexed for path lookups (names compare case-insensitively).
struct ProjectTree {
    children: HashMap<(Option<String>, String), String>,
}

impl ProjectTree {
    fn new(projects: &[LiveProject]) -> ProjectTree {
        let children = projects.iter().map(|p| ((p.parent_id.clone(), p.name.to_lowercase()), p.id.clone())).collect();
        ProjectTree { children }
    }

    fn resolve(&self, path: &ProjectPath) -> Option<String> {
        let mut parent: Option<String> = None;
        for segment in path.segments() {
            parent = Some(self.children.get(&(parent, segment.to_lowercase()))?.clone());
        }
        parent
    }

    /// The live id of a project path of the manifest, following `renamed_from` of the project or of any ancestor,
    /// so a renamed or moved project (and everything under it) is found at its old place.
    fn resolve_desired(&self, renames: &HashMap<Vec<String>, &ProjectPath>, path: &ProjectPath) -> Option<String> {
        if let Some(id) = self.resolve(path) {
            return Some(id);
        }
        if let Some(id) = renames.get(&path.key()).and_then(|old| self.resolve(old)) {
            return Some(id);
        }
        let parent = path.parent()?;
        let parent_id = self.resolve_desired(renames, &parent)?;
        self.children.get(&(Some(parent_id), path.name().to_lowercase())).cloned()
    }
}

/// Only the projects, workbooks and data sources (their ids, names and places), for finding items by address
/// after an apply published some of them (`apply --refresh changed`).
pub async fn fetch_content(client: &api::Client) -> Result<Inventory, ApplyError> {
    let (projects, workbooks, datasources) = tokio::try_join!(
        read("list projects", client.projects()),
        read("list workbooks", client.workbooks()),
        read("list data sources", client.datasources()),
    )?;
    Ok(Inventory {
        projects: projects.into_iter().map(live_project).collect(),
        workbooks: workbooks.into_iter().map(|w| live_workbook(w, None)).collect(),
        datasources: datasources.into_iter().map(live_datasource).collect(),
        ..Inventory::default()
    })
}

fn live_project(p: api::Project) -> LiveProject {
    LiveProject {
        id: p.id,
        name: p.name,
        parent_id: p.parent_id.filter(|id| !id.is_empty()),
        description: p.description,
        content_permissions: p.content_permissions.as_deref().and_then(ContentPermissions::parse),
        owner_id: p.owner_id,
        updated_at: p.updated_at,
    }
}

fn live_user(u: api::User) -> LiveUser {
    LiveUser {
        id: u.id,
        name: u.name,
        site_role: u.site_role.unwrap_or_default(),
        auth_setting: u.auth_setting,
        full_name: u.full_name,
        email: u.email,
        idp_configuration_id: u.idp_configuration_id,
    }
}

fn live_identity_provider(c: api::AuthConfiguration) -> LiveIdentityProvider {
    LiveIdentityProvider { id: c.id, name: c.name, auth_setting: c.auth_setting, enabled: c.enabled }
}

fn live_group(g: api::Group) -> LiveGroup {
    LiveGroup { id: g.id, name: g.name, minimum_site_role: g.minimum_site_role, members: None }
}

fn live_workbook(w: api::Workbook, visible_views: Option<Vec<String>>) -> LiveContent {
    LiveContent {
        id: w.id,
        name: w.name,
        project_id: w.project_id.unwrap_or_default(),
        description: w.description,
        owner_id: w.owner_id,
        tags: w.tags,
        show_tabs: Some(w.show_tabs),
        updated_at: w.updated_at,
        size: w.size,
        content_url: w.content_url,
        visible_views,
        has_extracts: w.has_extracts,
        connections: None,
    }
}

fn live_datasource(d: api::Datasource) -> LiveContent {
    LiveContent {
        id: d.id,
        name: d.name,
        project_id: d.project_id.unwrap_or_default(),
        description: d.description,
        owner_id: d.owner_id,
        tags: d.tags,
        show_tabs: None,
        updated_at: d.updated_at,
        size: d.size,
        content_url: d.content_url,
        visible_views: None,
        has_extracts: d.has_extracts,
        connections: None,
    }
}

/// A connection as the planner compares it.
pub(crate) fn live_connection(c: api::Connection) -> LiveConnection {
    LiveConnection {
        id: c.id,
        connection_type: c.connection_type,
        server: c.server_address.unwrap_or_default(),
        port: c.server_port.filter(|p| !p.is_empty()),
        username: c.user_name.filter(|u| !u.is_empty()),
        embed_password: c.embed_password.unwrap_or(false),
    }
}

fn live_task(t: api::RefreshTask) -> Option<LiveRefreshTask> {
    let refresh_type = wire::refresh_type(&t);
    let target = match t.target? {
        api::TaskTarget::Workbook(id) => TaskTarget { kind: ContentKind::Workbook, id },
        api::TaskTarget::Datasource(id) => TaskTarget { kind: ContentKind::Datasource, id },
    };
    let (schedule, schedule_text) = match &t.schedule {
        Some(wire_schedule) => (wire::normalize_schedule(wire_schedule), wire::describe_schedule(wire_schedule)),
        None => (None, "no schedule".to_owned()),
    };
    Some(LiveRefreshTask { id: t.id, target, refresh_type, schedule, schedule_text })
}

/// A subscription in the planner's words: its content resolved to a workbook (and view name) through the views.
fn live_subscription(s: api::Subscription, views: &[LiveView]) -> LiveSubscription {
    let (workbook_id, view, is_view) = match &s.target {
        Some(api::SubscriptionTarget::Workbook(id)) => (Some(id.clone()), None, false),
        Some(api::SubscriptionTarget::View(id)) => match views.iter().find(|v| &v.id == id) {
            Some(v) => (Some(v.workbook_id.clone()), Some(v.name.clone()), true),
            None => (None, None, true),
        },
        None => (None, None, false),
    };
    let (schedule, schedule_text) = match &s.schedule {
        Some(wire_schedule) => (wire::normalize_schedule(wire_schedule), wire::describe_schedule(wire_schedule)),
        None => (None, "a Tableau Server schedule".to_owned()),
    };
    LiveSubscription {
        id: s.id,
        subject: s.subject,
        message: s.message,
        attach_image: s.attach_image.unwrap_or(true),
        attach_pdf: s.attach_pdf.unwrap_or(false),
        page_orientation: s.page_orientation,
        page_size: s.page_size,
        send_if_empty: s.send_if_view_empty.unwrap_or(true),
        suspended: s.suspended.unwrap_or(false),
        workbook_id,
        view,
        is_view,
        user_id: s.user_id,
        schedule,
        schedule_text,
    }
}

/// The site's subscriptions with their content resolved through the site's views (and those views): two paged
/// lists, read together. For `tabops export --with-subscriptions`.
pub async fn read_subscriptions(client: &api::Client) -> Result<(Vec<LiveSubscription>, Vec<LiveView>), ApplyError> {
    let (subscriptions, views) =
        tokio::try_join!(read("list subscriptions", client.subscriptions()), read("list views", client.views()))?;
    let views: Vec<LiveView> = views
        .into_iter()
        .filter_map(|v| Some(LiveView { id: v.id, workbook_id: v.workbook_id?, name: v.name }))
        .collect();
    Ok((subscriptions.into_iter().map(|s| live_subscription(s, &views)).collect(), views))
}
