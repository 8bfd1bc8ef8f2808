//! Explicit and default permissions, managed as complete sets per (object, grantee): missing capabilities are
//! granted, rules the manifest does not contain are revoked, and a mode flip is a revoke of the old rule plus a
//! grant of the new one, so one apply converges.

use std::collections::{BTreeMap, HashMap, HashSet};

use tabops_manifest::model::{
    Address, AddressKind, Capability, ContentKind, ContentPermissions, Grantee, GranteeRules, Mode, PermissionTarget,
};

use crate::inventory::{
    GranteeKind, LiveGrantee, LiveRule, default_permissions_row_key, permissions_row_key, rules_by_grantee,
};
use crate::origin::{content_digest, project_digest};
use crate::plan::{
    Action, Aspect, FieldChange, GranteeRef, KeptRules, ObjectKind, ObjectRef, Operation, Origin, PlanErrorKind,
    PlannedAction,
};

use super::content::Contents;
use super::projects::Projects;
use super::{Ctx, Draft, Pair, Principals, ProjectState, deps_of, val};

/// Permissions and default permissions of every manifest project and content item that manages them, then the
/// orders Tableau's copying of rules and locking of projects impose on them.
pub(super) fn plan_permissions<'a>(
    cx: &Ctx<'a>,
    principals: &Principals,
    projects: &Projects<'a>,
    contents: &Contents<'a>,
    draft: &mut Draft,
) {
    let removed = principals.users.removed.union(&principals.groups.removed).cloned().collect();
    let mut phase = Phase { cx, principals, projects, contents, removed, draft };
    phase.plan_permissions();
    phase.publish_after_default_permissions();
    phase.order_nested_creates_and_parent_permissions();
    phase.permissions_after_lock_changes();
}

/// The permission phase's inputs.
struct Phase<'p, 'a> {
    cx: &'p Ctx<'a>,
    principals: &'p Principals,
    projects: &'p Projects<'a>,
    contents: &'p Contents<'a>,
    /// Grantees deleted by this plan: their rules go with them, no revoke is planned.
    removed: HashSet<(GranteeKind, String)>,
    draft: &'p mut Draft,
}

/// One permission set to converge.
struct SetTarget<'s> {
    object_address: &'s Address,
    target: PermissionTarget,
    object: ObjectRef,
    default_for: Option<ContentKind>,
    desired: &'s [GranteeRules],
    /// Live rules (`None` = object is new or rules were not fetched: nothing to revoke).
    live: Option<&'s Vec<LiveRule>>,
    owner_id: Option<&'s str>,
    origin: Origin,
    /// The object's own action, when this plan changes the object.
    object_dep: Option<String>,
}

impl<'a> Phase<'_, 'a> {
    fn plan_permissions(&mut self) {
        let live = self.cx.live;
        let projects: Vec<_> =
            self.projects.states.iter().map(|s| (s.spec, s.live, s.object.clone(), s.address.clone())).collect();
        for (spec, live_project, object, address) in projects {
            let object_dep = matches!(object, ObjectRef::Planned(_)).then(|| address.to_string());
            let owner_id = live_project.and_then(|p| p.owner_id.as_deref());
            if let Some(rules) = &spec.permissions {
                let live_rules = live_project.and_then(|p| live.permissions.get(&p.id));
                if let (Some(p), Some(r)) = (live_project, live_rules) {
                    self.draft.record_row(&permissions_row_key(&p.id), r);
                }
                self.plan_set(SetTarget {
                    object_address: &address,
                    target: PermissionTarget::Project,
                    object: object.clone(),
                    default_for: None,
                    desired: rules,
                    live: live_rules,
                    owner_id,
                    origin: Origin {
                        address: address.clone(),
                        aspect: Aspect::Permissions,
                        digest: Some(project_digest(spec, Aspect::Permissions)),
                    },
                    object_dep: object_dep.clone(),
                });
            }
            for (kind, set, aspect) in [
                (ContentKind::Workbook, &spec.default_permissions.workbooks, Aspect::DefaultWorkbookPermissions),
                (ContentKind::Datasource, &spec.default_permissions.datasources, Aspect::DefaultDatasourcePermissions),
            ] {
                let Some(rules) = set else { continue };
                let live_rules =
                    live_project.and_then(|p| live.default_permissions.get(&p.id)).and_then(|d| match kind {
                        ContentKind::Workbook => d.workbooks.as_ref(),
                        ContentKind::Datasource => d.datasources.as_ref(),
                    });
                if let (Some(p), Some(r)) = (live_project, live_rules) {
                    self.draft.record_row(&default_permissions_row_key(&p.id, kind), r);
                }
                self.plan_set(SetTarget {
                    object_address: &address,
                    target: PermissionTarget::Project,
                    object: object.clone(),
                    default_for: Some(kind),
                    desired: rules,
                    live: live_rules,
                    owner_id: None,
                    origin: Origin { address: address.clone(), aspect, digest: Some(project_digest(spec, aspect)) },
                    object_dep: object_dep.clone(),
                });
            }
        }
        let contents: Vec<_> = self
            .contents
            .states
            .iter()
            .map(|s| (s.spec, s.live, s.object.clone(), s.address.clone(), s.changed))
            .collect();
        for (spec, live_item, object, address, changed) in contents {
            let Some(rules) = &spec.permissions else { continue };
            let live_rules = live_item.and_then(|c| live.permissions.get(&c.id));
            if let (Some(c), Some(r)) = (live_item, live_rules) {
                self.draft.record_row(&permissions_row_key(&c.id), r);
            }
            let target = match spec.kind {
                ContentKind::Workbook => PermissionTarget::Workbook,
                ContentKind::Datasource => PermissionTarget::Datasource,
            };
            self.plan_set(SetTarget {
                object_address: &address,
                target,
                object,
                default_for: None,
                desired: rules,
                live: live_rules,
                owner_id: live_item.and_then(|c| c.owner_id.as_deref()),
                origin: Origin {
                    address: address.clone(),
                    aspect: Aspect::Permissions,
                    digest: Some(content_digest(spec, Aspect::Permissions)),
                },
                object_dep: changed.then(|| address.to_string()),
            });
        }
        self.plan_view_permissions();
    }

    /// `view_permissions:` of each workbook: one permission set per named view, like the workbook's own. A view
    /// is named by sheet; its live id comes from the workbook's views as read. When this plan publishes the
    /// workbook, the view is referred to by its address (`view:PROJECT/WORKBOOK/SHEET`) and the executor finds
    /// its id among the published workbook's views, after the publish. A sheet the live workbook has no view for,
    /// with no publish in this plan, is a plan error.
    fn plan_view_permissions(&mut self) {
        let live = self.cx.live;
        let workbooks: Vec<_> = self
            .contents
            .states
            .iter()
            .filter(|s| !s.spec.view_permissions.is_empty())
            .map(|s| (s.spec, s.live, s.address.clone(), s.changed))
            .collect();
        for (spec, live_item, workbook_address, changed) in workbooks {
            let views = live_item.and_then(|c| live.view_ids.get(&c.id));
            for (sheet, rules) in &spec.view_permissions {
                let address = Address::view(&spec.project, &spec.name, sheet.as_str());
                let view_id = views.and_then(|v| {
                    v.get(sheet)
                        .or_else(|| v.iter().find(|(name, _)| name.eq_ignore_ascii_case(sheet)).map(|(_, id)| id))
                });
                let (object, live_rules) = match (view_id, changed) {
                    (Some(id), false) => (ObjectRef::Live(id.clone()), live.permissions.get(id)),
                    (Some(id), true) => (ObjectRef::Planned(address.to_string()), live.permissions.get(id)),
                    (None, true) => (ObjectRef::Planned(address.to_string()), None),
                    (None, false) => {
                        self.draft.error(
                            PlanErrorKind::MissingView,
                            format!("permissions:{address}"),
                            format!("workbook '{}' on the site has no view named '{sheet}'", spec.name),
                            Some("`view_permissions` names views by sheet name, as the workbook file spells them"),
                        );
                        continue;
                    }
                };
                if let (Some(id), Some(r)) = (view_id, live_rules) {
                    self.draft.record_row(&permissions_row_key(id), r);
                }
                self.plan_set(SetTarget {
                    object_address: &address,
                    target: PermissionTarget::View,
                    object,
                    default_for: None,
                    desired: rules,
                    live: live_rules,
                    owner_id: live_item.and_then(|c| c.owner_id.as_deref()),
                    origin: Origin {
                        address: workbook_address.clone(),
                        aspect: Aspect::ViewPermissions,
                        digest: Some(content_digest(spec, Aspect::ViewPermissions)),
                    },
                    object_dep: changed.then(|| workbook_address.to_string()),
                });
            }
        }
    }

    /// Tableau refuses changing rules a locked project controls (403004), and locking replaces them: when this plan
    /// changes a project's `content_permissions`, every permission change below it (its content, its nested
    /// projects and their content) waits for that change. An unlock leaves the objects under the project with the
    /// rules the lock applied at that moment (its defaults, its own rules for nested projects), which is what this
    /// plan read as their live rules; so the project's own rule changes wait for the unlock too, or the objects
    /// would keep the new rules where the plan revokes the old ones.
    fn permissions_after_lock_changes(&mut self) {
        let unlocked: Vec<String> = self
            .draft
            .actions
            .get(&ObjectKind::Project)
            .into_iter()
            .flatten()
            .filter(|a| {
                a.action == Action::Update
                    && a.changes.iter().any(|c| {
                        c.field == "content_permissions"
                            && c.before.as_ref().and_then(|v| v.as_str()).is_some_and(|b| b.starts_with("LockedTo"))
                    })
            })
            .map(|a| a.id.clone())
            .collect();
        let changed: Vec<(String, Vec<String>)> = self
            .draft
            .actions
            .get(&ObjectKind::Project)
            .into_iter()
            .flatten()
            // A created project is locked as it is created, and everything below it waits for it already.
            .filter(|a| a.action == Action::Update && a.changes.iter().any(|c| c.field == "content_permissions"))
            .filter_map(|a| {
                let state = self.projects.states.iter().find(|p| p.address.to_string() == a.id)?;
                Some((a.id.clone(), state.spec.path.key()))
            })
            .collect();
        if changed.is_empty() {
            return;
        }
        let under = |key: &[String], strictly: bool| -> Vec<String> {
            changed
                .iter()
                .filter(|(_, root)| key.starts_with(root) && (!strictly || key.len() > root.len()))
                .map(|(id, _)| id.clone())
                .collect()
        };
        // Permission sets (by the prefix of their action ids) and the lock changes they wait for.
        let mut waits: Vec<(String, Vec<String>)> = Vec::new();
        for content in &self.contents.states {
            let ids = under(&content.spec.project.key(), false);
            if !ids.is_empty() {
                waits.push((format!("permissions:{}", content.address), ids));
            }
        }
        for project in &self.projects.states {
            let mut ids = under(&project.spec.path.key(), true);
            let address = project.address.to_string();
            if unlocked.contains(&address) {
                ids.push(address);
            }
            if !ids.is_empty() {
                for prefix in ["permissions", "default_permissions:workbooks", "default_permissions:datasources"] {
                    waits.push((format!("{prefix}:{}", project.address), ids.clone()));
                }
            }
        }
        // Revoking every rule of a grantee is a delete, kept apart from the other actions: both wait.
        for kind in [ObjectKind::Permissions, ObjectKind::DefaultPermissions] {
            let actions = self.draft.actions.get_mut(&kind).into_iter().flatten();
            for action in actions.chain(self.draft.deletes.get_mut(&kind).into_iter().flatten()) {
                for (prefix, ids) in &waits {
                    if in_set(&action.id, prefix) {
                        wait_for(action, ids);
                    }
                }
            }
        }
    }

    /// Tableau copies a parent's permissions and default permissions onto a nested project when it is created
    /// (Tableau help, permissions_projects.htm), so a nested create and this plan's changes to its parent's rules
    /// are ordered, never raced (a race copies an unpredictable mix). Per rule set, the order that leaves the new
    /// project fewer copied rules to revoke:
    /// - the create waits for the parent's changes, and so copies the parent's new rules, when the nested project
    ///   keeps every one of them (nothing to revoke), does not manage that set (it inherits the manifest's rules),
    ///   or the parent is on the site already or locked (its rules before this plan are not what we order against);
    /// - otherwise, for a parent this plan creates too, the parent's changes wait for the nested create, which then
    ///   copies only what the new parent copied itself. Creating a whole new tree before any grant, as a bootstrap
    ///   does, costs one revoke per copied rule instead of one per parent rule the nested project does not keep.
    fn order_nested_creates_and_parent_permissions(&mut self) {
        let sets: Vec<String> = [ObjectKind::Permissions, ObjectKind::DefaultPermissions]
            .iter()
            .flat_map(|kind| self.draft.actions.get(kind).into_iter().chain(self.draft.deletes.get(kind)))
            .flatten()
            .map(|a| a.id.clone())
            .collect();
        if sets.is_empty() {
            return;
        }
        // Nested creates waiting for parent sets, and parent sets waiting for nested creates.
        let mut create_waits: Vec<(String, Vec<String>)> = Vec::new();
        let mut set_waits: Vec<(String, String)> = Vec::new();
        let by_key: HashMap<Vec<String>, &ProjectState<'_>> =
            self.projects.states.iter().map(|s| (s.spec.path.key(), s)).collect();
        for child in self.projects.states.iter().filter(|p| matches!(p.object, ObjectRef::Planned(_))) {
            let Some(parent_path) = child.spec.path.parent() else { continue };
            let parent = by_key.get(&parent_path.key()).copied();
            let parent_address = Address::project(&parent_path);
            let mut waits = Vec::new();
            for (prefix, child_rules, parent_rules) in [
                (format!("permissions:{parent_address}"), &child.spec.permissions, parent.map(|p| &p.spec.permissions)),
                (
                    format!("default_permissions:workbooks:{parent_address}"),
                    &child.spec.default_permissions.workbooks,
                    parent.map(|p| &p.spec.default_permissions.workbooks),
                ),
                (
                    format!("default_permissions:datasources:{parent_address}"),
                    &child.spec.default_permissions.datasources,
                    parent.map(|p| &p.spec.default_permissions.datasources),
                ),
            ] {
                let ids: Vec<&String> = sets.iter().filter(|id| in_set(id, &prefix)).collect();
                if ids.is_empty() {
                    continue;
                }
                let copy_before_changes = parent.is_some_and(|p| {
                    matches!(p.object, ObjectRef::Planned(_))
                        && p.spec.content_permissions.is_none_or(|c| c == ContentPermissions::ManagedByOwner)
                }) && match (child_rules, parent_rules) {
                    (Some(child_rules), Some(Some(parent_rules))) => !keeps_all(child_rules, parent_rules),
                    _ => false,
                };
                if copy_before_changes {
                    set_waits.extend(ids.into_iter().map(|id| (id.clone(), child.address.to_string())));
                } else {
                    waits.extend(ids.into_iter().cloned());
                }
            }
            if !waits.is_empty() {
                create_waits.push((child.address.to_string(), waits));
            }
        }
        for action in self.draft.actions.get_mut(&ObjectKind::Project).into_iter().flatten() {
            if !matches!(action.operation, Operation::CreateProject { .. }) {
                continue;
            }
            if let Some((_, ids)) = create_waits.iter().find(|(address, _)| *address == action.id) {
                wait_for(action, ids);
            }
        }
        if set_waits.is_empty() {
            return;
        }
        for kind in [ObjectKind::Permissions, ObjectKind::DefaultPermissions] {
            let actions = self.draft.actions.get_mut(&kind).into_iter().flatten();
            for action in actions.chain(self.draft.deletes.get_mut(&kind).into_iter().flatten()) {
                let creates: Vec<String> =
                    set_waits.iter().filter(|(id, _)| *id == action.id).map(|(_, create)| create.clone()).collect();
                wait_for(action, &creates);
            }
        }
    }

    /// Tableau copies a project's default permissions onto content when it is published there (Tableau help,
    /// permissions_project_defaults.htm): a publish must wait for this plan's changes to its project's defaults for
    /// its kind, or it copies the old ones (and, racing them, an unpredictable mix).
    fn publish_after_default_permissions(&mut self) {
        let kind = ObjectKind::DefaultPermissions;
        let defaults: Vec<String> = self
            .draft
            .actions
            .get(&kind)
            .into_iter()
            .chain(self.draft.deletes.get(&kind))
            .flatten()
            .map(|a| a.id.clone())
            .collect();
        if defaults.is_empty() {
            return;
        }
        let waits: Vec<(String, Vec<String>)> = self
            .contents
            .states
            .iter()
            .filter(|c| c.changed)
            .map(|c| {
                let prefix =
                    format!("default_permissions:{}s:{}", c.spec.kind.as_str(), Address::project(&c.spec.project));
                (c.address.to_string(), defaults.iter().filter(|id| in_set(id, &prefix)).cloned().collect())
            })
            .filter(|(_, ids): &(String, Vec<String>)| !ids.is_empty())
            .collect();
        for kind in [ObjectKind::Workbook, ObjectKind::Datasource] {
            for action in self.draft.actions.get_mut(&kind).into_iter().flatten() {
                if !action.operation.uploads() {
                    continue;
                }
                if let Some((_, ids)) = waits.iter().find(|(address, _)| *address == action.id) {
                    wait_for(action, ids);
                }
            }
        }
    }

    /// The locked project that controls an existing object's explicit rules on the site (as its permission response
    /// named it), unless this plan changes that project's lock (the rule changes then wait for it).
    fn locked_on_site(&self, set: &SetTarget<'_>) -> Option<String> {
        if set.default_for.is_some() {
            return None;
        }
        let ObjectRef::Live(id) = &set.object else { return None };
        let locker = self.cx.live.controlled.get(id)?;
        let relocks = self.draft.actions.get(&ObjectKind::Project).into_iter().flatten().any(|a| {
            a.live_id.as_deref() == Some(locker.as_str()) && a.changes.iter().any(|c| c.field == "content_permissions")
        });
        (!relocks).then(|| locker.clone())
    }

    /// A live grantee's address, by name (by `<id>` when the site does not list it).
    fn grantee_address(&self, grantee: &LiveGrantee) -> Address {
        match grantee.kind {
            GranteeKind::Group => Address::group(
                self.cx
                    .idx
                    .groups_by_id
                    .get(grantee.id.as_str())
                    .map_or_else(|| format!("<{}>", grantee.id), |g| g.name.clone()),
            ),
            GranteeKind::User => Address::user(
                self.cx
                    .idx
                    .users_by_id
                    .get(grantee.id.as_str())
                    .map_or_else(|| format!("<{}>", grantee.id), |u| u.name.clone()),
            ),
        }
    }

    fn plan_set(&mut self, set: SetTarget<'_>) {
        let prefix = match set.default_for {
            None => format!("permissions:{}", set.object_address),
            Some(kind) => format!("default_permissions:{}s:{}", kind.as_str(), set.object_address),
        };
        if let Some(locker) = self.locked_on_site(&set) {
            let path = self.cx.idx.path_of(&locker);
            self.draft.error(
                PlanErrorKind::LockedByProject,
                prefix,
                format!(
                    "the permissions of {} are controlled by project '{path}', whose content permissions are locked \
                     on the site (Tableau refuses changing them: 403004)",
                    set.object_address
                ),
                Some(&format!(
                    "remove these rules and set `default_permissions:` on '{path}', or set its `content_permissions: \
                     ManagedByOwner` in the manifest"
                )),
            );
            return;
        }
        let kind = if set.default_for.is_some() { ObjectKind::DefaultPermissions } else { ObjectKind::Permissions };
        let mut live_rules = set.live.map(|r| rules_by_grantee(r)).unwrap_or_default();

        // Desired grantees, resolved, in a stable order.
        let mut wanted: Vec<(&GranteeRules, GranteeRef)> = Vec::new();
        let mut sorted: Vec<&GranteeRules> = set.desired.iter().collect();
        sorted.sort_by_cached_key(|r| r.grantee.key());
        for rule in sorted {
            let resolved = match &rule.grantee {
                Grantee::Group(name) => self.principals.group(&self.cx.idx, name).map(|(r, _)| (GranteeKind::Group, r)),
                Grantee::User(name) => self.principals.user(&self.cx.idx, name).map(|(r, _)| (GranteeKind::User, r)),
            };
            let Some((gkind, object)) = resolved else {
                let (error_kind, what) = match &rule.grantee {
                    Grantee::Group(_) => (PlanErrorKind::MissingGroup, "group"),
                    Grantee::User(_) => (PlanErrorKind::MissingUser, "user"),
                };
                self.draft.error(
                    error_kind,
                    format!("{prefix}/{}", rule.grantee),
                    format!(
                        "grantee {what} '{}' is neither in the manifest nor on the site",
                        grantee_name(&rule.grantee)
                    ),
                    None,
                );
                continue;
            };
            wanted.push((rule, GranteeRef { kind: gkind, object }));
        }
        let revoke_copied = self.plan_revoke_copied(&set, &prefix, kind, &wanted);
        // Each grantee on both sides of the diff: the manifest's (with the rules the site gives them), then the
        // site's others.
        let mut pairs = Vec::new();
        for (rule, grantee) in wanted {
            let live_caps = match &grantee.object {
                ObjectRef::Live(id) => live_rules.remove_entry(&LiveGrantee { kind: grantee.kind, id: id.clone() }),
                ObjectRef::Planned(_) => None,
            };
            pairs.push(Pair::of((rule, grantee), live_caps));
        }
        pairs.extend(live_rules.into_iter().map(Pair::Live));
        for pair in pairs {
            match pair {
                Pair::Desired((rule, grantee)) => {
                    self.converge_grantee(&set, kind, &prefix, rule, grantee, &BTreeMap::new(), &revoke_copied)
                }
                Pair::Both((rule, grantee), (_, live_caps)) => {
                    self.converge_grantee(&set, kind, &prefix, rule, grantee, &live_caps, &revoke_copied)
                }
                // A live grantee the manifest does not list: revoke everything, unless the plan deletes the
                // grantee (its rules go with it) or it is the owner and owners' rules are left alone.
                Pair::Live((grantee, caps)) => {
                    if self.removed.contains(&(grantee.kind, grantee.id.clone())) {
                        continue;
                    }
                    if self.cx.options.ignore_owner_permissions
                        && grantee.kind == GranteeKind::User
                        && set.owner_id == Some(grantee.id.as_str())
                    {
                        continue;
                    }
                    let address = format!("{prefix}/{}", self.grantee_address(&grantee));
                    let gref = GranteeRef { kind: grantee.kind, object: ObjectRef::Live(grantee.id.clone()) };
                    let depends_on = set.object_dep.clone().into_iter().collect();
                    self.push_set_action(&set, kind, address, gref, &BTreeMap::new(), &caps, depends_on);
                }
            }
        }
    }

    /// A grantee the manifest lists: grant what the site lacks, revoke what the manifest's complete set does not
    /// contain (`live` = the rules the site gives the grantee).
    #[allow(clippy::too_many_arguments)]
    fn converge_grantee(
        &mut self,
        set: &SetTarget<'_>,
        kind: ObjectKind,
        prefix: &str,
        rule: &GranteeRules,
        grantee: GranteeRef,
        live: &BTreeMap<Capability, Mode>,
        revoke_copied: &Option<String>,
    ) {
        let address = format!("{prefix}/{}", rule.grantee);
        let mut depends_on = deps_of([Some(&set.object), Some(&grantee.object)]);
        depends_on.extend(set.object_dep.clone());
        depends_on.extend(revoke_copied.clone());
        self.push_set_action(set, kind, address, grantee, &rule.capabilities, live, depends_on);
    }

    /// For an object this plan creates, Tableau copies rules onto it (a new top-level project gets the default
    /// project's permissions and default permissions, a nested one its parent's, new content its project's default
    /// permissions for its type): plan one action that reads them back and revokes what the manifest's complete set
    /// does not contain. Returns its id, which the set's grant actions depend on.
    fn plan_revoke_copied(
        &mut self,
        set: &SetTarget<'_>,
        prefix: &str,
        kind: ObjectKind,
        wanted: &[(&GranteeRules, GranteeRef)],
    ) -> Option<String> {
        if set.live.is_some() || !matches!(set.object, ObjectRef::Planned(_)) {
            return None;
        }
        let source = match (set.target, set.default_for) {
            (PermissionTarget::Project, _) if set.object_address.project_path().is_some() => "its parent project's",
            (PermissionTarget::Project, None) => "the default project's",
            (PermissionTarget::Project, Some(_)) => "the default project's default",
            (PermissionTarget::View, _) => "its workbook's",
            _ => "its project's default",
        };
        // A grantee created in this plan is resolved when the kept rules are compared, so it must exist by then.
        let mut depends_on =
            deps_of(std::iter::once(Some(&set.object)).chain(wanted.iter().map(|(_, g)| Some(&g.object))));
        depends_on.extend(set.object_dep.clone());
        depends_on.sort();
        depends_on.dedup();
        let keep = wanted
            .iter()
            .map(|(rule, grantee)| KeptRules { grantee: grantee.clone(), capabilities: rule.capabilities.clone() })
            .collect();
        let id = prefix.to_owned();
        self.draft.push(PlannedAction {
            id: id.clone(),
            kind,
            // Not a delete of anything the plan knows of: it converges rules that appear with the object.
            action: Action::Update,
            reason: format!(
                "created by this plan, Tableau copies {source} permissions onto it: revoke those not in the \
                 manifest's complete set"
            ),
            changes: Vec::new(),
            depends_on,
            live_id: None,
            origin: set.origin.clone(),
            operation: Operation::RevokeCopiedPermissions {
                target: set.target,
                object: set.object.clone(),
                default_for: set.default_for,
                keep,
            },
        });
        Some(id)
    }

    #[allow(clippy::too_many_arguments)]
    fn push_set_action(
        &mut self,
        set: &SetTarget<'_>,
        kind: ObjectKind,
        address: String,
        grantee: GranteeRef,
        desired: &BTreeMap<Capability, Mode>,
        live: &BTreeMap<Capability, Mode>,
        mut depends_on: Vec<String>,
    ) {
        let grant: BTreeMap<Capability, Mode> =
            desired.iter().filter(|(c, m)| live.get(c) != Some(m)).map(|(c, m)| (*c, *m)).collect();
        let revoke: BTreeMap<Capability, Mode> =
            live.iter().filter(|(c, m)| desired.get(c) != Some(m)).map(|(c, m)| (*c, *m)).collect();
        if grant.is_empty() && revoke.is_empty() {
            return;
        }
        let mut changed: Vec<Capability> = grant.keys().chain(revoke.keys()).copied().collect();
        changed.sort();
        changed.dedup();
        let changes = changed
            .into_iter()
            .map(|c| {
                FieldChange::new(
                    c.as_str(),
                    live.get(&c).and_then(|m| val(m.as_str())),
                    grant.get(&c).and_then(|m| val(m.as_str())),
                )
            })
            .collect();
        let (action, reason) = if live.is_empty() {
            (Action::Create, "granted in the manifest".to_string())
        } else if desired.is_empty() {
            (Action::Delete, "not in the manifest's complete permission set: revoke".to_string())
        } else {
            let flips = grant.keys().filter(|c| revoke.contains_key(c)).count();
            let mut parts = Vec::new();
            if grant.len() > flips {
                parts.push(format!("grant {}", grant.len() - flips));
            }
            if flips > 0 {
                parts.push(format!("flip mode of {flips}"));
            }
            if revoke.len() > flips {
                parts.push(format!("revoke {}", revoke.len() - flips));
            }
            (Action::Update, format!("capabilities differ: {}", parts.join(", ")))
        };
        depends_on.sort();
        depends_on.dedup();
        let live_id = match &set.object {
            ObjectRef::Live(id) => Some(id.clone()),
            ObjectRef::Planned(_) => None,
        };
        self.draft.push(PlannedAction {
            id: address,
            kind,
            action,
            reason,
            changes,
            depends_on,
            live_id,
            origin: set.origin.clone(),
            operation: Operation::SetPermissions {
                target: set.target,
                object: set.object.clone(),
                default_for: set.default_for,
                grantee,
                grant,
                revoke,
            },
        });
    }
}

fn grantee_name(grantee: &Grantee) -> &str {
    match grantee {
        Grantee::Group(n) | Grantee::User(n) => n,
    }
}

/// Whether action `id` belongs to the permission set `prefix` (`permissions:project:Sales`): the set's own action
/// (removing copied rules) or one of its grantees (`…/group:X`, `…/user:y`), not a nested project's set
/// (`permissions:project:Sales/EMEA/…`).
fn in_set(id: &str, prefix: &str) -> bool {
    match id.strip_prefix(prefix) {
        Some("") => true,
        Some(rest) => rest
            .strip_prefix('/')
            .and_then(|g| Address::parse(g).ok())
            .is_some_and(|g| matches!(g.kind(), AddressKind::Group | AddressKind::User)),
        None => false,
    }
}

/// Whether a rule set holds every rule (grantee, capability and mode) of `other`.
fn keeps_all(set: &[GranteeRules], other: &[GranteeRules]) -> bool {
    other.iter().all(|theirs| {
        set.iter().any(|ours| {
            ours.grantee.key() == theirs.grantee.key()
                && theirs.capabilities.iter().all(|(c, m)| ours.capabilities.get(c) == Some(m))
        })
    })
}

/// Makes `action` wait for `ids` as well (each once).
fn wait_for(action: &mut PlannedAction, ids: &[String]) {
    for id in ids {
        if !action.depends_on.contains(id) {
            action.depends_on.push(id.clone());
        }
    }
}
