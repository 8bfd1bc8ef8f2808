//! Who owns what, checked once every other step has planned its actions.
//!
//! - An owner this plan sets must have a site role that may own the object (Tableau help, "Manage Content
//!   Ownership", owner.htm): the role the manifest gives them, else their role on the site. An owner already in
//!   place is not checked: Tableau keeps a demoted user as owner.
//! - An owner change waits for a site-role change of the same user in the same plan (a Viewer promoted to Creator
//!   can own a project only once the promotion is done).
//! - A removed user who still owns projects, workbooks or data sources: Tableau refuses the removal (409) and
//!   leaves the user Unlicensed. Their content is handed to `settings.reassign_content_to` with `mapAssetsTo`, or
//!   the plan is refused with the list of what they own. The removal waits for owner changes and deletes of the
//!   things they own, which it would otherwise race.
//! - `refresh:` on a live item whose `hasExtracts` is false is refused: Tableau answers 409090 to its refreshes.

use std::collections::HashMap;

use tabops_manifest::model::{Address, ContentKind, Desired, SiteRole};

use crate::inventory::Inventory;
use crate::plan::{Action, ObjectKind, ObjectRef, Operation, PlanErrorKind};

use super::content::Contents;
use super::prune::Pruned;
use super::{Ctx, Draft, Principals, deps_of, planned_name};

/// Owners and removed users, checked and ordered over the actions of every earlier phase.
pub(super) fn plan_ownership<'a>(
    cx: &Ctx<'a>,
    principals: &Principals,
    contents: &Contents<'a>,
    pruned: &Pruned,
    draft: &mut Draft,
) {
    Phase { cx, principals, contents, pruned, draft }.plan_ownership();
}

/// The ownership phase's inputs.
struct Phase<'p, 'a> {
    cx: &'p Ctx<'a>,
    principals: &'p Principals,
    contents: &'p Contents<'a>,
    pruned: &'p Pruned,
    draft: &'p mut Draft,
}

/// How many owned objects a plan error lists before "and N more".
const LISTED: usize = 10;

/// An action that sets an owner.
struct OwnerSet {
    kind: ObjectKind,
    index: usize,
    /// The object's address (its action's id).
    address: Address,
    /// The live object it sets the owner of; `None` for an object the plan creates.
    live: Option<String>,
    owner: ObjectRef,
    project: bool,
}

/// Whether a site role as the server spells it may own a project (or, with `project` false, content).
fn role_may_own(role: &str, project: bool) -> bool {
    if role.eq_ignore_ascii_case("ServerAdministrator") {
        return true;
    }
    match SiteRole::parse(role) {
        Some(r) if project => r.may_own_projects(),
        Some(r) => r.may_own_content(),
        // Guest, SupportUser and roles the manifest cannot express are not in owner.htm's table.
        None => false,
    }
}

impl<'a> Phase<'_, 'a> {
    fn plan_ownership(&mut self) {
        let sets = self.owner_sets();
        self.check_owner_roles(&sets);
        self.order_owner_changes(&sets);
        self.plan_user_removals(&sets);
        self.check_refresh_extracts();
    }

    fn owner_sets(&self) -> Vec<OwnerSet> {
        let mut out = Vec::new();
        for kind in [ObjectKind::Project, ObjectKind::Workbook, ObjectKind::Datasource] {
            for (index, action) in self.draft.actions.get(&kind).into_iter().flatten().enumerate() {
                let (live, owner, project) = match &action.operation {
                    Operation::CreateProject { owner: Some(o), .. } => (None, o, true),
                    Operation::UpdateProject { project, owner: Some(o), .. } => (Some(project.clone()), o, true),
                    Operation::Publish(op) => match &op.owner {
                        Some(o) => (op.existing.clone(), o, false),
                        None => continue,
                    },
                    Operation::UpdateContent(op) => match &op.owner {
                        Some(o) => (Some(op.item.clone()), o, false),
                        None => continue,
                    },
                    _ => continue,
                };
                // Project and content actions are named by their object's address.
                let Ok(address) = Address::parse(&action.id) else { continue };
                out.push(OwnerSet { kind, index, address, live, owner: owner.clone(), project });
            }
        }
        out
    }

    /// Every owner this plan sets: the site role the manifest gives them, else their role on the site, must be
    /// one that may own the object.
    fn check_owner_roles(&mut self, sets: &[OwnerSet]) {
        for set in sets {
            let (name, role) = match &set.owner {
                ObjectRef::Live(id) => {
                    let Some(user) = self.cx.idx.users_by_id.get(id.as_str()).copied() else { continue };
                    let in_manifest = self.cx.desired.users.iter().find(|u| u.name.eq_ignore_ascii_case(&user.name));
                    match in_manifest.and_then(|u| u.site_role) {
                        Some(role) => (user.name.clone(), role.as_str().to_owned()),
                        None => (user.name.clone(), user.site_role.clone()),
                    }
                }
                ObjectRef::Planned(id) => {
                    let name = planned_name(id);
                    let in_manifest = self.cx.desired.users.iter().find(|u| u.name.eq_ignore_ascii_case(&name));
                    match in_manifest.and_then(|u| u.site_role) {
                        Some(role) => (name, role.as_str().to_owned()),
                        None => continue,
                    }
                }
            };
            if role_may_own(&role, set.project) {
                continue;
            }
            let what = if set.project { "a project" } else { "a workbook or data source" };
            let roles =
                if set.project { SiteRole::project_owner_roles() } else { "any site role but Unlicensed".to_owned() };
            let at = self.cx.desired.location(&Desired::owner_key(&set.address));
            self.draft.error(
                PlanErrorKind::OwnerRole,
                &set.address,
                format!("owner '{name}' (set at {at}) has the site role {role} and may not own {what}"),
                Some(&format!(
                    "Tableau lets {roles} own {what} (help: owner.htm); change the user's site_role or choose another \
                     owner"
                )),
            );
        }
    }

    /// An owner change waits for a site-role change of the same user in this plan.
    fn order_owner_changes(&mut self, sets: &[OwnerSet]) {
        let role_changes: HashMap<String, String> = self
            .draft
            .actions
            .get(&ObjectKind::User)
            .into_iter()
            .flatten()
            .filter_map(|a| match &a.operation {
                Operation::UpdateUser { user, site_role: Some(_), .. } => Some((user.clone(), a.id.clone())),
                _ => None,
            })
            .collect();
        for set in sets {
            let ObjectRef::Live(id) = &set.owner else { continue };
            let Some(update) = role_changes.get(id) else { continue };
            if let Some(action) = self.draft.actions.get_mut(&set.kind).and_then(|v| v.get_mut(set.index))
                && !action.depends_on.contains(update)
            {
                action.depends_on.push(update.clone());
                action.depends_on.sort();
            }
        }
    }

    /// Every removed user: what they still own after this plan, handed to the heir or refused.
    fn plan_user_removals(&mut self, sets: &[OwnerSet]) {
        // Live object id -> the actions that give it another owner or delete it (with everything inside).
        let mut moves: HashMap<String, Vec<String>> = HashMap::new();
        for set in sets {
            if let Some(live) = &set.live {
                moves.entry(live.clone()).or_default().push(set.address.to_string());
            }
        }
        let mut deleted: HashMap<String, String> = HashMap::new();
        for (address, weight) in &self.pruned.weights {
            let is_planned = self.draft.deletes.values().flatten().any(|a| &a.id == address);
            if is_planned {
                for id in weight.project_ids.iter().chain(&weight.content_ids) {
                    deleted.insert(id.clone(), address.clone());
                }
            }
        }
        let live = self.cx.live;
        let heir_name = self.cx.desired.settings.reassign_content_to.clone();
        let heir = heir_name.as_deref().and_then(|name| self.principals.user(&self.cx.idx, name));
        let removals: Vec<(usize, String, String)> = self
            .draft
            .deletes
            .get(&ObjectKind::User)
            .into_iter()
            .flatten()
            .enumerate()
            .filter_map(|(i, a)| match &a.operation {
                Operation::RemoveUser { user, .. } => Some((i, user.clone(), a.id.clone())),
                _ => None,
            })
            .collect();
        for (index, user_id, address) in removals {
            // Each object the user owns: deleted by this plan (the removal waits for the delete), given another
            // owner by it (waits for that), or kept (handed to the heir, or the removal is refused).
            let mut waits: Vec<String> = Vec::new();
            let mut kept: Vec<String> = Vec::new();
            let mut keeps_projects = false;
            for (id, display, project) in self.owned_by(live, &user_id) {
                match (deleted.get(id), moves.get(id)) {
                    (Some(delete), _) => waits.push(delete.clone()),
                    (None, Some(moved)) => waits.extend(moved.iter().cloned()),
                    (None, None) => {
                        keeps_projects |= project;
                        kept.push(display);
                    }
                }
            }
            let map_assets_to = match (&heir, kept.is_empty()) {
                (_, true) => None,
                (Some((heir_ref, heir_address)), false) => {
                    if keeps_projects && let ObjectRef::Live(heir_id) = heir_ref {
                        self.check_heir_role(heir_id, heir_address);
                    }
                    waits.extend(deps_of([Some(heir_ref)]));
                    Some(heir_ref.clone())
                }
                (None, false) => {
                    self.refuse_removal(&address, kept);
                    None
                }
            };
            let heir_shown = map_assets_to.as_ref().map(|heir| match heir {
                ObjectRef::Live(id) => self.user_display_name(id),
                ObjectRef::Planned(id) => planned_name(id),
            });
            if let Some(action) = self.draft.deletes.get_mut(&ObjectKind::User).and_then(|v| v.get_mut(index)) {
                waits.retain(|w| w != &action.id);
                action.depends_on.extend(waits);
                action.depends_on.sort();
                action.depends_on.dedup();
                if let Operation::RemoveUser { map_assets_to: slot, .. } = &mut action.operation {
                    *slot = map_assets_to;
                }
                if let Some(shown) = heir_shown {
                    action.reason = format!("{}; what they own goes to '{shown}'", action.reason);
                }
            }
        }
    }

    /// What a live user owns on the site: (id, address, whether it is a project), projects first.
    fn owned_by(&self, live: &'a Inventory, user_id: &str) -> Vec<(&'a str, String, bool)> {
        let mut owned: Vec<(&str, String, bool)> = live
            .projects
            .iter()
            .filter(|p| p.owner_id.as_deref() == Some(user_id))
            .map(|p| (p.id.as_str(), self.cx.idx.project_address(&p.id).to_string(), true))
            .collect();
        for (items, kind) in [(&live.workbooks, ContentKind::Workbook), (&live.datasources, ContentKind::Datasource)] {
            owned.extend(
                items
                    .iter()
                    .filter(|c| c.owner_id.as_deref() == Some(user_id))
                    .map(|c| (c.id.as_str(), self.cx.idx.content_address(kind, c).to_string(), false)),
            );
        }
        owned
    }

    /// A removed user still owns `kept` and the manifest names no heir: Tableau would refuse the removal.
    fn refuse_removal(&mut self, address: &str, mut kept: Vec<String>) {
        let name = planned_name(address);
        kept.sort();
        let more = kept.len().saturating_sub(LISTED);
        let mut list = kept.iter().take(LISTED).cloned().collect::<Vec<_>>().join(", ");
        if more > 0 {
            list.push_str(&format!(" and {more} more"));
        }
        self.draft.error(
            PlanErrorKind::OwnsContent,
            address,
            format!(
                "user '{name}' is removed (settings.prune_users) but still owns {}: {list}; Tableau would refuse the \
                 removal and leave the user Unlicensed",
                kept.len()
            ),
            Some(
                "set `settings.reassign_content_to: USER` to hand their content to that user, give each item an \
                 `owner:` in the manifest, or list the user under `users:`",
            ),
        );
    }

    fn user_display_name(&self, id: &str) -> String {
        self.cx.idx.users_by_id.get(id).map_or_else(|| format!("<user {id}>"), |u| u.name.clone())
    }

    /// The heir of a removed user's projects must be allowed to own projects.
    fn check_heir_role(&mut self, heir_id: &str, heir_address: &Address) {
        let Some(user) = self.cx.idx.users_by_id.get(heir_id).copied() else { return };
        let manifest_role =
            self.cx.desired.users.iter().find(|u| u.name.eq_ignore_ascii_case(&user.name)).and_then(|u| u.site_role);
        let allowed = match manifest_role {
            Some(role) => role.may_own_projects(),
            None => role_may_own(&user.site_role, true),
        };
        let heir = heir_address.to_string();
        if allowed || self.draft.errors.iter().any(|e| e.kind == PlanErrorKind::OwnerRole && e.address == heir) {
            return;
        }
        let at = self.cx.desired.location("settings.reassign_content_to");
        self.draft.error(
            PlanErrorKind::OwnerRole,
            heir_address,
            format!(
                "settings.reassign_content_to at {at} names '{}', whose site role {} may not own the removed users' \
                 projects",
                user.name, user.site_role
            ),
            Some(&format!("Tableau lets {} own a project (help: owner.htm)", SiteRole::project_owner_roles())),
        );
    }

    /// `refresh:` on a live item without an extract that this plan does not republish.
    fn check_refresh_extracts(&mut self) {
        let republished: Vec<String> = [ObjectKind::Workbook, ObjectKind::Datasource]
            .iter()
            .flat_map(|k| self.draft.actions.get(k).into_iter().flatten())
            .filter(|a| a.action != Action::NoOp)
            .filter_map(|a| match &a.operation {
                Operation::Publish(op) => op.existing.clone(),
                _ => None,
            })
            .collect();
        let mut found = Vec::new();
        for state in &self.contents.states {
            let Some(live) = state.live else { continue };
            if state.spec.refresh.as_ref().is_none_or(Vec::is_empty)
                || live.has_extracts != Some(false)
                || republished.contains(&live.id)
            {
                continue;
            }
            found.push((state.address.clone(), state.spec.kind));
        }
        for (address, kind) in found {
            let at = self.cx.desired.location(&Desired::refresh_key(&address));
            let what = match kind {
                ContentKind::Workbook => "workbook",
                ContentKind::Datasource => "data source",
            };
            self.draft.error(
                PlanErrorKind::NoExtract,
                &address,
                format!(
                    "`refresh:` at {at} schedules extract refreshes, but the {what} on the site holds no extract \
                     (hasExtracts=false); Tableau refuses them (409090)"
                ),
                Some("remove `refresh:` for live connections, or publish a version of the file with an extract"),
            );
        }
    }
}
