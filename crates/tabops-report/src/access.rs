//! Effective access: what every user can do on every project, workbook and data source, computed with Tableau's
//! evaluation order from the site's inventory (the explicit rules of every object and the members of every group).
//!
//! The order, from help.tableau.com "Effective permissions" (permission_effective.htm, "Evaluate permission
//! rules"), and what each step answers here:
//!
//! 1. **Site role**: a capability the role does not permit is denied ([`Ceiling`]). Site administrators are
//!    allowed everything.
//! 2. **User scenarios**: the owner of the item's project (or of a project above it) and a project leader there
//!    are allowed everything the role permits; the content owner too, except setting permissions on content whose
//!    rules a locked project controls (only administrators, project owners and project leaders set permissions
//!    there).
//! 3. **User rules**: the user's own Deny, then the user's own Allow.
//! 4. **Group rules**: a Deny in any of the user's groups, then an Allow in any of them.
//! 5. Anything else is denied.
//!
//! Locked projects need no step of their own: for an object whose rules a locked project controls, Tableau's
//! permission responses already carry the locking project's rules (and name it as `<parent>`), so the rules read
//! are the rules that apply. Default permissions matter only when content is published (they are copied then), so
//! they are not read.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use serde::Serialize;
use tabops_manifest::address::Address;
use tabops_manifest::model::{Capability, ContentKind, Mode, PermissionTarget, ProjectPath};
use tabops_plan::inventory::{GranteeKind, Inventory, LiveRule, LiveUser};

use crate::error::ReportError;
use crate::site_roles::Ceiling;

/// Whether a user has a capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    Allowed,
    Denied,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allowed => "allowed",
            Effect::Denied => "denied",
        }
    }
}

/// The step of the evaluation that decided a capability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Reason {
    /// The user is a site administrator.
    SiteAdministrator,
    /// The site role does not permit the capability, which a rule or a user scenario would otherwise allow.
    SiteRole { site_role: String },
    /// The user owns the project the object is in (or a project above it, or the project itself).
    ProjectOwner { project: String },
    /// The user is a project leader of the project the object is in (or of a project above it).
    ProjectLeader { project: String },
    /// The user owns the item.
    ContentOwner,
    /// Setting permissions on an object whose rules a locked project controls is reserved to administrators,
    /// project owners and project leaders.
    LockedProject { project: String },
    /// The user's own rule.
    UserRule { mode: Mode },
    /// Rules of the user's groups (those that decided: every denying group, or every allowing one).
    GroupRule { mode: Mode, groups: Vec<String> },
    /// No rule allows it.
    NoRule,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::SiteAdministrator => write!(f, "site administrator"),
            Reason::SiteRole { site_role } => write!(f, "site role {site_role} does not permit it"),
            Reason::ProjectOwner { project } => write!(f, "owner of project {project}"),
            Reason::ProjectLeader { project } => write!(f, "project leader of {project}"),
            Reason::ContentOwner => write!(f, "content owner"),
            Reason::LockedProject { project } => {
                write!(f, "locked by project {project}: only administrators, project owners and leaders")
            }
            Reason::UserRule { mode } => write!(f, "user rule {}", mode.as_str()),
            Reason::GroupRule { mode, groups } => write!(f, "group rule {} ({})", mode.as_str(), groups.join(", ")),
            Reason::NoRule => write!(f, "no rule allows it"),
        }
    }
}

/// One capability of one user on one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessRow {
    /// The object's address (`project:Sales/EMEA`, `workbook:Sales/EMEA/Revenue`).
    pub object: String,
    /// The user's sign-in name.
    pub user: String,
    pub site_role: String,
    pub capability: Capability,
    pub effect: Effect,
    pub reason: Reason,
    /// The locked project whose rules apply to the object, when one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules_from: Option<String>,
}

/// Which rows a report keeps. Empty lists and `None` keep everything.
#[derive(Debug, Clone, Default)]
pub struct AccessFilter {
    /// Only these users (sign-in names, case-insensitive).
    pub users: Vec<String>,
    /// Only members of these groups (names, case-insensitive).
    pub groups: Vec<String>,
    /// Only this project, the projects below it and the content in all of them.
    pub project: Option<ProjectPath>,
    /// Only this object (`workbook:Sales/EMEA/Revenue`, `datasource:…`, `project:…`).
    pub item: Option<String>,
    /// Only this capability.
    pub capability: Option<Capability>,
}

/// The access report: allowed capabilities, and denied ones where a rule or the site role decided (a capability
/// that no rule mentions is denied for everyone and not listed).
#[derive(Debug, Clone, Default, Serialize)]
pub struct AccessReport {
    pub rows: Vec<AccessRow>,
    /// Users and objects the report covers (after the filters).
    pub users: usize,
    pub objects: usize,
    /// Requests the read of the site made (set by [`crate::read`]).
    pub requests: u64,
}

/// An object rules are evaluated on.
struct Object<'a> {
    target: PermissionTarget,
    id: &'a str,
    address: String,
    owner: Option<&'a str>,
    /// The project itself (for a project) or the item's project, then every project above it.
    projects: Vec<&'a str>,
}

/// The site as the evaluation needs it.
struct Site<'a> {
    inventory: &'a Inventory,
    paths: HashMap<&'a str, ProjectPath>,
    parents: HashMap<&'a str, Option<&'a str>>,
    owners: HashMap<&'a str, Option<&'a str>>,
    group_names: HashMap<&'a str, &'a str>,
    groups_of: HashMap<&'a str, Vec<&'a str>>,
    /// (user id, project id) where the user is a project leader by the project's own rules.
    leaders: HashSet<(&'a str, &'a str)>,
}

impl<'a> Site<'a> {
    fn new(inventory: &'a Inventory) -> Site<'a> {
        let parents: HashMap<&str, Option<&str>> =
            inventory.projects.iter().map(|p| (p.id.as_str(), p.parent_id.as_deref())).collect();
        let paths = crate::tree::project_paths(&inventory.projects);
        let mut groups_of: HashMap<&str, Vec<&str>> = HashMap::new();
        for group in &inventory.groups {
            for member in group.members.iter().flatten() {
                groups_of.entry(member.as_str()).or_default().push(group.id.as_str());
            }
        }
        let mut site = Site {
            inventory,
            paths,
            parents,
            owners: inventory.projects.iter().map(|p| (p.id.as_str(), p.owner_id.as_deref())).collect(),
            group_names: inventory.groups.iter().map(|g| (g.id.as_str(), g.name.as_str())).collect(),
            groups_of,
            leaders: HashSet::new(),
        };
        let mut leaders = HashSet::new();
        for user in &inventory.users {
            if !Ceiling::of(&user.site_role).permits(PermissionTarget::Project, Capability::ProjectLeader) {
                continue;
            }
            for project in &inventory.projects {
                let decided = site.rules(&project.id, &user.id, Capability::ProjectLeader);
                if matches!(decided, Some((Effect::Allowed, _))) {
                    leaders.insert((user.id.as_str(), project.id.as_str()));
                }
            }
        }
        site.leaders = leaders;
        site
    }

    fn path(&self, project_id: &str) -> String {
        self.paths.get(project_id).map(ToString::to_string).unwrap_or_else(|| project_id.to_owned())
    }

    /// The project and every project above it.
    fn chain(&self, project_id: &'a str) -> Vec<&'a str> {
        let mut chain = vec![project_id];
        let mut parent = self.parents.get(project_id).copied().flatten();
        while let Some(id) = parent {
            if chain.contains(&id) {
                break;
            }
            chain.push(id);
            parent = self.parents.get(id).copied().flatten();
        }
        chain
    }

    fn objects(&self) -> Vec<Object<'a>> {
        let inventory = self.inventory;
        let mut objects = Vec::new();
        for project in &inventory.projects {
            let path = self.paths[project.id.as_str()].clone();
            objects.push(Object {
                target: PermissionTarget::Project,
                id: &project.id,
                address: Address::project(&path).to_string(),
                owner: project.owner_id.as_deref(),
                projects: self.chain(&project.id),
            });
        }
        for (kind, items) in
            [(ContentKind::Workbook, &inventory.workbooks), (ContentKind::Datasource, &inventory.datasources)]
        {
            let target = match kind {
                ContentKind::Workbook => PermissionTarget::Workbook,
                ContentKind::Datasource => PermissionTarget::Datasource,
            };
            for item in items.iter() {
                let project =
                    self.paths.get(item.project_id.as_str()).cloned().unwrap_or_else(|| ProjectPath::new(Vec::new()));
                objects.push(Object {
                    target,
                    id: &item.id,
                    address: Address::content(kind, &project, item.name.clone()).to_string(),
                    owner: item.owner_id.as_deref(),
                    projects: self.chain(&item.project_id),
                });
            }
        }
        objects
    }

    /// Steps 3 and 4: the user's own rule, then the rules of the user's groups; `None` when no rule mentions the
    /// capability.
    fn rules(&self, object_id: &str, user_id: &str, capability: Capability) -> Option<(Effect, Reason)> {
        let rules: &[LiveRule] = self.inventory.permissions.get(object_id).map(Vec::as_slice).unwrap_or_default();
        let mode_of = |kind: GranteeKind, id: &str| {
            rules
                .iter()
                .filter(|r| r.grantee.kind == kind && r.grantee.id == id)
                .find_map(|r| r.capabilities.get(&capability).copied())
        };
        match mode_of(GranteeKind::User, user_id) {
            Some(Mode::Deny) => return Some((Effect::Denied, Reason::UserRule { mode: Mode::Deny })),
            Some(Mode::Allow) => return Some((Effect::Allowed, Reason::UserRule { mode: Mode::Allow })),
            None => {}
        }
        let mut by_mode: BTreeMap<Mode, Vec<String>> = BTreeMap::new();
        for group in self.groups_of.get(user_id).into_iter().flatten() {
            if let Some(mode) = mode_of(GranteeKind::Group, group) {
                by_mode.entry(mode).or_default().push(self.group_names[group].to_owned());
            }
        }
        for (mode, effect) in [(Mode::Deny, Effect::Denied), (Mode::Allow, Effect::Allowed)] {
            if let Some(mut groups) = by_mode.remove(&mode) {
                groups.sort();
                return Some((effect, Reason::GroupRule { mode, groups }));
            }
        }
        None
    }

    /// Steps 2 to 5, without the site role.
    fn without_role(&self, object: &Object<'a>, user_id: &str, capability: Capability) -> (Effect, Reason) {
        for project in &object.projects {
            if self.owners.get(project).copied().flatten() == Some(user_id) {
                return (Effect::Allowed, Reason::ProjectOwner { project: self.path(project) });
            }
        }
        for project in &object.projects {
            if self.leaders.contains(&(user_id, *project)) {
                return (Effect::Allowed, Reason::ProjectLeader { project: self.path(project) });
            }
        }
        let locker = self.inventory.controlled.get(object.id);
        if capability == Capability::ChangePermissions
            && let Some(locker) = locker
        {
            return (Effect::Denied, Reason::LockedProject { project: self.path(locker) });
        }
        if object.target != PermissionTarget::Project && object.owner == Some(user_id) {
            return (Effect::Allowed, Reason::ContentOwner);
        }
        self.rules(object.id, user_id, capability).unwrap_or((Effect::Denied, Reason::NoRule))
    }

    /// Every step: the site role first.
    fn decide(&self, object: &Object<'a>, user: &LiveUser, capability: Capability) -> (Effect, Reason) {
        let ceiling = Ceiling::of(&user.site_role);
        if ceiling == Ceiling::Administrator {
            return (Effect::Allowed, Reason::SiteAdministrator);
        }
        let decided = self.without_role(object, &user.id, capability);
        if ceiling.permits(object.target, capability) {
            return decided;
        }
        match decided {
            (Effect::Allowed, _) => (Effect::Denied, Reason::SiteRole { site_role: user.site_role.clone() }),
            denied => denied,
        }
    }
}

/// The effective access of the users and objects `filter` selects.
pub fn evaluate(inventory: &Inventory, filter: &AccessFilter) -> Result<AccessReport, ReportError> {
    let site = Site::new(inventory);
    let users = select_users(inventory, filter)?;
    let mut objects = site.objects();
    if let Some(item) = &filter.item {
        let wanted = Address::parse(item).map_err(|_| ReportError::UnknownItem { item: item.clone() })?.to_string();
        objects.retain(|o| o.address.eq_ignore_ascii_case(&wanted));
        if objects.is_empty() {
            return Err(ReportError::UnknownItem { item: item.clone() });
        }
    }
    if let Some(project) = &filter.project {
        let id = site
            .paths
            .iter()
            .find(|(_, path)| path.key() == project.key())
            .map(|(id, _)| *id)
            .ok_or_else(|| ReportError::UnknownProject { project: project.to_string() })?;
        objects.retain(|o| o.projects.contains(&id));
    }
    let capabilities: Vec<Capability> =
        Capability::ALL.into_iter().filter(|c| filter.capability.is_none_or(|wanted| wanted == *c)).collect();
    let mut rows = Vec::new();
    for object in &objects {
        let rules_from = inventory.controlled.get(object.id).map(|locker| site.path(locker));
        for user in &users {
            for capability in capabilities.iter().copied().filter(|c| c.valid_for(object.target)) {
                let (effect, reason) = site.decide(object, user, capability);
                if effect == Effect::Denied && reason == Reason::NoRule {
                    continue;
                }
                rows.push(AccessRow {
                    object: object.address.clone(),
                    user: user.name.clone(),
                    site_role: user.site_role.clone(),
                    capability,
                    effect,
                    reason,
                    rules_from: rules_from.clone(),
                });
            }
        }
    }
    rows.sort_by(|a, b| {
        (a.object.to_lowercase(), a.user.to_lowercase(), a.capability.as_str()).cmp(&(
            b.object.to_lowercase(),
            b.user.to_lowercase(),
            b.capability.as_str(),
        ))
    });
    Ok(AccessReport { rows, users: users.len(), objects: objects.len(), requests: 0 })
}

fn select_users<'a>(inventory: &'a Inventory, filter: &AccessFilter) -> Result<Vec<&'a LiveUser>, ReportError> {
    let mut users: Vec<&LiveUser> = inventory.users.iter().collect();
    if !filter.users.is_empty() {
        for name in &filter.users {
            if !users.iter().any(|u| u.name.eq_ignore_ascii_case(name)) {
                return Err(ReportError::UnknownUser { user: name.clone() });
            }
        }
        users.retain(|u| filter.users.iter().any(|n| u.name.eq_ignore_ascii_case(n)));
    }
    if !filter.groups.is_empty() {
        let mut members: HashSet<&str> = HashSet::new();
        for name in &filter.groups {
            let group = inventory
                .groups
                .iter()
                .find(|g| g.name.eq_ignore_ascii_case(name))
                .ok_or_else(|| ReportError::UnknownGroup { group: name.clone() })?;
            members.extend(group.members.iter().flatten().map(String::as_str));
        }
        users.retain(|u| members.contains(u.id.as_str()));
    }
    Ok(users)
}
