//! The planner: `plan(desired, live, options) -> Plan`, a pure function.
//!
//! It matches manifest objects to live objects by name (case-insensitively) or by `renamed_from`, decides one
//! [`Action`] per object and aspect, and records why. A content item it creates whose content a live item it does
//! not match already holds is said to look like a move or rename (`moves`), with the `renamed_from` to add. The
//! order of the result is deterministic: site settings, users, projects (parents first), groups, memberships, data
//! sources, workbooks, permissions, refresh tasks, webhooks; deletes come last, in reverse. Every live lookup goes
//! through hash maps built once (`index::LiveIndex`), so planning is O(n log n) in the size of the site and manifest.
//!
//! Normalisation: an empty description equals an absent one (the server reports `""` or omits the attribute);
//! names of users, groups, projects and content, tags and site roles compare case-insensitively when matching, but
//! a case-only rename is still applied.
//!
//! [`plan`] runs one phase per kind of object, in one visible order. A phase is a function: it reads the inputs
//! (`Ctx`) and what earlier phases produced (passed to it by name), appends its actions, errors and unmanaged
//! objects to the plan under construction (`Draft`), and returns what later phases need (references to the objects
//! it planned, the live objects it matched). Each decision is an exhaustive match over what the manifest says and
//! what the site has for one object (`Pair`: users, groups, permission grantees, refresh tasks); projects and content
//! match on the live object they found, and the prune phase decides for the live ones the manifest does not list.
//! Running the planner again after a successful apply yields no changes (idempotency, tested).

mod content;
pub mod index;
mod moves;
mod ownership;
mod permissions;
mod principals;
mod projects;
mod prune;
mod refresh;
mod safety;
mod site_settings;
pub mod subscriptions;
mod target;
mod webhooks;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Display;

use serde::Serialize;
use tabops_manifest::model::{Address, ContentSpec, Desired, ProjectPath, ProjectSpec};

use crate::inventory::{GranteeKind, Inventory, LiveContent, LiveProject, row_digest};
use crate::plan::{
    Action, ContentInput, FORMAT_VERSION, Inputs, ObjectKind, ObjectRef, Plan, PlanError, PlanErrorKind, PlanSite,
    PlannedAction, SafetyLimits, Summary, UnmanagedObject,
};
use index::LiveIndex;

/// The deletion limit when neither the CLI nor the manifest sets one.
pub const DEFAULT_MAX_DELETES: u32 = 10;

/// Safety and behaviour switches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// Refuse plans deleting more objects than this (CLI `--max-deletes`); `None` = `settings.max_deletes` from the
    /// manifest, else [`DEFAULT_MAX_DELETES`]. A deleted project counts with everything inside it.
    pub max_deletes: Option<u32>,
    /// Allow a plan that deletes every content item of a managed project.
    pub allow_empty_project: bool,
    /// Allow a plan that deletes every content item or every project of the site.
    pub allow_empty_site: bool,
    /// Do not revoke explicit rules the site gives an object's owner when the manifest does not list them.
    pub ignore_owner_permissions: bool,
    /// Delete top-level projects that the manifest does not list (never `default`).
    pub prune_top_level_projects: bool,
    /// Addresses protected in addition to the manifest's `protect:` flags, e.g. from the manifest last applied
    /// (see [`protected_addresses`]), so removing a protected object from the manifest cannot delete it.
    pub protected: BTreeSet<Address>,
    /// Limits the plan may not be looser than, whatever the options above say: a saved plan's, when it is planned
    /// again to be applied, so a plan file can tighten the apply job's limits but never loosen them.
    pub ceiling: Option<SafetyLimits>,
    /// `--target`: plan only these objects and what they depend on (empty: everything). The plan is partial.
    pub targets: BTreeSet<Address>,
}

/// The addresses a manifest marks `protect: true` (for [`PlanOptions::protected`]).
pub fn protected_addresses(desired: &Desired) -> BTreeSet<Address> {
    let projects = desired.projects.iter().filter(|p| p.protect).map(|p| Address::project(&p.path));
    let groups = desired.groups.iter().filter(|g| g.protect).map(|g| Address::group(g.name.as_str()));
    let content = desired.datasources.iter().chain(&desired.workbooks).filter(|c| c.protect).map(ContentSpec::address);
    projects.chain(groups).chain(content).collect()
}

/// Diff the desired state against the live site: one phase per kind of object, in this order (each phase's inputs
/// and outputs are in its signature).
pub fn plan(desired: &Desired, live: &Inventory, options: &PlanOptions) -> Plan {
    let cx = Ctx { desired, live, options, idx: LiveIndex::new(live) };
    let mut draft = Draft::default();
    // Every content item gets an action, a no-op when unchanged: sized once, not grown by doubling (at 5x S the
    // workbooks' list would otherwise pass through room for 32,768 and 65,536 actions of 440 bytes).
    for (kind, items) in
        [(ObjectKind::Workbook, desired.workbooks.len()), (ObjectKind::Datasource, desired.datasources.len())]
    {
        draft.actions.entry(kind).or_default().reserve(items);
    }
    site_settings::plan_site_settings(&cx, &mut draft);
    let users = principals::plan_users(&cx, &mut draft);
    let groups = principals::plan_groups(&cx, &mut draft);
    let principals = Principals { users, groups };
    let projects = projects::plan_projects(&cx, &principals, &mut draft);
    principals::plan_memberships(&cx, &principals, &mut draft);
    let contents = content::plan_content(&cx, &principals, &projects, &mut draft);
    let pruned = prune::plan_prune(&cx, &projects, &contents, &mut draft);
    moves::suggest_renames(&cx, &contents, &mut draft);
    permissions::plan_permissions(&cx, &principals, &projects, &contents, &mut draft);
    refresh::plan_refresh(&cx, &contents, &mut draft);
    subscriptions::plan_subscriptions(&cx, &principals, &contents, &mut draft);
    webhooks::plan_webhooks(&cx, &mut draft);
    ownership::plan_ownership(&cx, &principals, &contents, &pruned, &mut draft);
    target::limit_to_targets(&cx, &mut draft);
    let safety = safety::check_safety(&cx, &projects, &contents, &pruned, &mut draft);
    draft.finish(&cx, contents.inputs, safety)
}

/// One object on both sides of the diff: only in the manifest, on both, or only on the site. Every decision is an
/// exhaustive match over it (there is no "on neither side").
pub(crate) enum Pair<D, L> {
    /// In the manifest, not on the site: create it.
    Desired(D),
    /// In the manifest and on the site: update it, or nothing.
    Both(D, L),
    /// On the site, not in the manifest: delete it (prune) or report it as unmanaged.
    Live(L),
}

impl<D, L> Pair<D, L> {
    /// The pair of a manifest object and what it matched on the site.
    pub fn of(desired: D, live: Option<L>) -> Self {
        match live {
            Some(l) => Pair::Both(desired, l),
            None => Pair::Desired(desired),
        }
    }
}

/// What every phase reads: the manifest, the site, the options, and lookup tables over the site.
pub(crate) struct Ctx<'a> {
    pub desired: &'a Desired,
    pub live: &'a Inventory,
    pub options: &'a PlanOptions,
    pub idx: LiveIndex<'a>,
}

/// The plan under construction: what the phases append to.
#[derive(Default)]
pub(crate) struct Draft {
    pub actions: BTreeMap<ObjectKind, Vec<PlannedAction>>,
    pub deletes: BTreeMap<ObjectKind, Vec<PlannedAction>>,
    pub errors: Vec<PlanError>,
    pub unmanaged: Vec<UnmanagedObject>,
    /// Digests of the live rows the plan was made from (a saved plan is stale when one changes).
    pub rows: BTreeMap<String, String>,
}

/// A desired project and what it matched.
pub(crate) struct ProjectState<'a> {
    pub spec: &'a ProjectSpec,
    pub live: Option<&'a LiveProject>,
    pub object: ObjectRef,
    pub address: Address,
}

/// A desired content item and what it matched.
pub(crate) struct ContentState<'a> {
    pub spec: &'a ContentSpec,
    pub live: Option<&'a LiveContent>,
    pub object: ObjectRef,
    pub address: Address,
    /// Whether this plan creates, publishes or updates the item (dependents wait for it).
    pub changed: bool,
}

/// What deleting an object takes with it.
pub(crate) struct DeleteWeight {
    pub count: usize,
    /// Addresses of everything deleted along with it, for protection checks.
    pub contained: Vec<Address>,
    pub content_ids: Vec<String>,
    pub project_ids: Vec<String>,
}

/// What the user phase (or the group phase) produces.
#[derive(Default)]
pub(crate) struct Named {
    /// Lower-case name -> the principal's ref (live, or created by this plan) and address.
    pub refs: HashMap<String, (ObjectRef, Address)>,
    /// Principals deleted by this plan: their rules go with them, no revoke is planned.
    pub removed: HashSet<(GranteeKind, String)>,
}

/// Users and groups, as the later phases refer to them.
pub(crate) struct Principals {
    pub users: Named,
    pub groups: Named,
}

impl Principals {
    /// A user by name: the manifest's (live or to be created) or any live user. Returns the ref and its address.
    pub fn user(&self, idx: &LiveIndex<'_>, name: &str) -> Option<(ObjectRef, Address)> {
        let key = name.to_lowercase();
        self.users.refs.get(&key).cloned().or_else(|| {
            idx.users_by_name.get(&key).map(|u| (ObjectRef::Live(u.id.clone()), Address::user(u.name.as_str())))
        })
    }

    /// A group by name: the manifest's (live or to be created) or any live group.
    pub fn group(&self, idx: &LiveIndex<'_>, name: &str) -> Option<(ObjectRef, Address)> {
        let key = name.to_lowercase();
        self.groups.refs.get(&key).cloned().or_else(|| {
            idx.groups_by_name.get(&key).map(|g| (ObjectRef::Live(g.id.clone()), Address::group(g.name.as_str())))
        })
    }

    /// The owner an object of `address` should have: `None` when the manifest does not manage it, or (with a plan
    /// error) when the user is neither in the manifest nor on the site.
    pub fn owner(
        &self,
        idx: &LiveIndex<'_>,
        draft: &mut Draft,
        owner: Option<&str>,
        address: &Address,
    ) -> Option<ObjectRef> {
        let name = owner?;
        match self.user(idx, name) {
            Some((reference, _)) => Some(reference),
            None => {
                draft.error(
                    PlanErrorKind::MissingUser,
                    address,
                    format!("owner '{name}' is neither in the manifest nor on the site"),
                    None,
                );
                None
            }
        }
    }
}

/// Live projects the manifest uses as containers without listing them (never pruned).
pub(crate) type Referenced<'a> = HashSet<&'a str>;

/// Live project id -> ids of actions moving objects out of it (a delete of the project waits for them).
pub(crate) type MovedOut<'a> = HashMap<&'a str, Vec<String>>;

/// A project by path: the manifest's (`planned`, by [`ProjectPath::key`]), or a live one, which is then recorded in
/// `referenced` with its ancestors.
pub(crate) fn project_ref<'a>(
    idx: &LiveIndex<'a>,
    planned: &HashMap<Vec<String>, ObjectRef>,
    referenced: &mut Referenced<'a>,
    path: &ProjectPath,
) -> Option<ObjectRef> {
    let key = path.key();
    if let Some(r) = planned.get(&key) {
        return Some(r.clone());
    }
    let live = *idx.projects_by_path.get(&key)?;
    let mut cursor = Some(live.id.as_str());
    while let Some(id) = cursor {
        if !referenced.insert(id) {
            break;
        }
        cursor = idx.projects_by_id.get(id).and_then(|p| p.parent_id.as_deref());
    }
    Some(ObjectRef::Live(live.id.clone()))
}

impl Draft {
    pub fn push(&mut self, action: PlannedAction) {
        let bucket = if action.action == Action::Delete { &mut self.deletes } else { &mut self.actions };
        bucket.entry(action.kind).or_default().push(action);
    }

    pub fn error(&mut self, kind: PlanErrorKind, address: impl Display, message: String, hint: Option<&str>) {
        self.errors.push(PlanError { kind, address: address.to_string(), message, hint: hint.map(str::to_string) });
    }

    pub fn record_row<T: Serialize>(&mut self, key: &str, row: &T) {
        self.rows.insert(key.to_string(), row_digest(row));
    }

    pub fn unmanaged(&mut self, kind: ObjectKind, address: impl Display, id: &str) {
        self.unmanaged.push(UnmanagedObject { kind, address: address.to_string(), id: id.to_owned() });
    }

    /// The plan: actions by kind, then deletes in reverse kind order.
    fn finish(mut self, cx: &Ctx<'_>, content: Vec<ContentInput>, safety: SafetyLimits) -> Plan {
        // Sized once: a plan of 5x S holds 60,000 actions of 440 bytes, and growing by doubling would leave it with
        // room for 100,000 (18 MB unused for the plan's lifetime) after copying it all once more.
        let total = self.actions.values().chain(self.deletes.values()).map(Vec::len).sum();
        let mut actions = Vec::with_capacity(total);
        for kind in ObjectKind::ALL {
            actions.extend(self.actions.remove(&kind).unwrap_or_default());
        }
        for kind in ObjectKind::ALL.into_iter().rev() {
            let mut deletes = self.deletes.remove(&kind).unwrap_or_default();
            deletes.sort_by(|a, b| a.id.to_lowercase().cmp(&b.id.to_lowercase()).then_with(|| a.id.cmp(&b.id)));
            actions.extend(deletes);
        }
        self.unmanaged.sort();
        self.unmanaged.dedup();
        let summary = Summary::compute(&actions, self.unmanaged.len(), self.errors.len());
        let errored = !self.errors.is_empty();
        Plan {
            format_version: FORMAT_VERSION,
            site: PlanSite { content_url: cx.desired.site.content_url.clone(), id: cx.live.site.id.clone() },
            inputs: Inputs {
                manifest_digest: cx.desired.manifest_digest.clone(),
                content,
                inventory_rows: self.rows,
                safety,
                git: None,
            },
            targets: cx.options.targets.iter().map(Address::to_string).collect(),
            actions,
            unmanaged: self.unmanaged,
            errors: self.errors,
            applyable: !errored,
            errored,
            summary,
            impact: None,
        }
    }
}

/// Both the new name and the `renamed_from` name exist: the rename cannot be applied, and the old object would
/// otherwise be treated as unmanaged (and possibly pruned).
pub(crate) fn rename_conflict(draft: &mut Draft, address: &Address, new: &dyn Display, old: &dyn Display) {
    draft.error(
        PlanErrorKind::Conflict,
        address,
        format!("both '{new}' and its renamed_from '{old}' exist on the site"),
        Some("remove `renamed_from` once the rename is done, or delete one of the two objects"),
    );
}

/// A user's name for display, from a live id.
pub(crate) fn user_display(idx: &LiveIndex<'_>, id: &str) -> String {
    idx.users_by_id.get(id).map_or_else(|| format!("<user {id}>"), |u| u.name.clone())
}

/// `Planned(address)` refs become dependencies (a view's: its workbook's publish, which creates it).
pub(crate) fn deps_of<'r>(refs: impl IntoIterator<Item = Option<&'r ObjectRef>>) -> Vec<String> {
    let mut out: Vec<String> = refs
        .into_iter()
        .flatten()
        .filter_map(|r| match r {
            ObjectRef::Planned(address) => match Address::parse(address).ok().and_then(|a| a.view_workbook()) {
                Some(workbook) => Some(workbook.to_string()),
                None => Some(address.clone()),
            },
            ObjectRef::Live(_) => None,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The name in the id of an action naming an object by its address (`user:alice` -> `alice`): a user a
/// [`ObjectRef::Planned`] points to, or a user an action removes.
pub(crate) fn planned_name(id: &str) -> String {
    Address::parse(id).map_or_else(|_| id.to_owned(), |a| a.name().to_owned())
}

/// JSON value helper for field changes.
pub(crate) fn val<T: Serialize>(value: T) -> Option<serde_json::Value> {
    serde_json::to_value(value).ok()
}
