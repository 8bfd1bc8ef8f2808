//! The planner: `plan(desired, live, options) -> Plan`, a pure function.
//!
//! It matches manifest objects to live objects by name (case-insensitively) or by `renamed_from`, decides one
//! [`Action`] per object and aspect, and records why. The order of the result is deterministic: users, projects
//! (parents first), groups, memberships, data sources, workbooks, permissions, refresh tasks; deletes come last, in
//! reverse. Every live lookup goes through hash maps built once (`index::LiveIndex`), so planning is
//! O(n log n) in the size of the site and manifest.
//!
//! Normalisation: an empty description equals an absent one (the server reports `""` or omits the attribute);
//! names of users, groups, projects and content, tags and site roles compare case-insensitively when matching, but
//! a case-only rename is still applied.
//!
//! Each `plan_*` step is a plain match over "what the manifest says" × "what the site has" for one kind; running
//! the planner again after a successful apply yields no changes (idempotency, tested).

mod content;
pub mod index;
mod ownership;
mod permissions;
mod principals;
mod projects;
mod prune;
mod refresh;
mod safety;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::Serialize;
use tabops_manifest::model::{ContentSpec, Desired, ProjectPath, ProjectSpec};

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
    pub protected: BTreeSet<String>,
    /// Limits the plan may not be looser than, whatever the options above say: a saved plan's, when it is planned
    /// again to be applied, so a plan file can tighten the apply job's limits but never loosen them.
    pub ceiling: Option<SafetyLimits>,
}

/// The addresses a manifest marks `protect: true`, lower-cased (for [`PlanOptions::protected`]).
pub fn protected_addresses(desired: &Desired) -> BTreeSet<String> {
    let projects = desired.projects.iter().filter(|p| p.protect).map(|p| format!("project:{}", p.path));
    let groups = desired.groups.iter().filter(|g| g.protect).map(|g| format!("group:{}", g.name));
    let content = desired.datasources.iter().chain(&desired.workbooks).filter(|c| c.protect).map(ContentSpec::address);
    projects.chain(groups).chain(content).map(|a| a.to_lowercase()).collect()
}

/// Diff the desired state against the live site.
pub fn plan(desired: &Desired, live: &Inventory, options: &PlanOptions) -> Plan {
    let mut ctx = Ctx::new(desired, live, options);
    ctx.plan_users();
    ctx.plan_groups();
    ctx.plan_projects();
    ctx.plan_memberships();
    ctx.plan_content();
    ctx.plan_prune();
    ctx.plan_permissions();
    ctx.plan_refresh();
    ctx.plan_ownership();
    ctx.check_safety();
    ctx.finish()
}

/// A desired project and what it matched.
pub(crate) struct ProjectState<'a> {
    pub spec: &'a ProjectSpec,
    pub live: Option<&'a LiveProject>,
    pub object: ObjectRef,
    pub address: String,
}

/// A desired content item and what it matched.
pub(crate) struct ContentState<'a> {
    pub spec: &'a ContentSpec,
    pub live: Option<&'a LiveContent>,
    pub object: ObjectRef,
    pub address: String,
    /// Whether this plan creates, publishes or updates the item (dependents wait for it).
    pub changed: bool,
}

/// What deleting an object takes with it.
pub(crate) struct DeleteWeight {
    pub count: usize,
    /// Addresses of everything deleted along with it (lower-case), for protection checks.
    pub contained: Vec<String>,
    pub content_ids: Vec<String>,
    pub project_ids: Vec<String>,
}

pub(crate) struct Ctx<'a> {
    pub desired: &'a Desired,
    pub live: &'a Inventory,
    pub options: &'a PlanOptions,
    pub idx: LiveIndex<'a>,
    pub actions: BTreeMap<ObjectKind, Vec<PlannedAction>>,
    pub deletes: BTreeMap<ObjectKind, Vec<PlannedAction>>,
    pub errors: Vec<PlanError>,
    pub unmanaged: Vec<UnmanagedObject>,
    pub rows: BTreeMap<String, String>,
    pub content_inputs: Vec<ContentInput>,
    pub user_refs: HashMap<String, (ObjectRef, String)>,
    pub group_refs: HashMap<String, (ObjectRef, String)>,
    pub project_refs: HashMap<Vec<String>, ObjectRef>,
    pub claimed: HashSet<&'a str>,
    /// Live projects the manifest uses as containers without listing them: never pruned.
    pub referenced_projects: HashSet<&'a str>,
    /// Grantees deleted by this plan: their rules go with them, no revoke is planned.
    pub removed_grantees: HashSet<(GranteeKind, String)>,
    /// Live project id -> addresses of actions moving objects out of it (a delete of the project waits for them).
    pub moved_out: HashMap<&'a str, Vec<String>>,
    pub projects: Vec<ProjectState<'a>>,
    pub contents: Vec<ContentState<'a>>,
    pub delete_weights: HashMap<String, DeleteWeight>,
    /// The deletion limits the plan was checked against (set by `check_safety`).
    pub safety: SafetyLimits,
}

impl<'a> Ctx<'a> {
    fn new(desired: &'a Desired, live: &'a Inventory, options: &'a PlanOptions) -> Self {
        Ctx {
            desired,
            live,
            options,
            idx: LiveIndex::new(live),
            actions: BTreeMap::new(),
            deletes: BTreeMap::new(),
            errors: Vec::new(),
            unmanaged: Vec::new(),
            rows: BTreeMap::new(),
            content_inputs: Vec::new(),
            safety: SafetyLimits::default(),
            user_refs: HashMap::new(),
            group_refs: HashMap::new(),
            project_refs: HashMap::new(),
            claimed: HashSet::new(),
            referenced_projects: HashSet::new(),
            removed_grantees: HashSet::new(),
            moved_out: HashMap::new(),
            projects: Vec::new(),
            contents: Vec::new(),
            delete_weights: HashMap::new(),
        }
    }

    pub fn push(&mut self, action: PlannedAction) {
        let bucket = if action.action == Action::Delete { &mut self.deletes } else { &mut self.actions };
        bucket.entry(action.kind).or_default().push(action);
    }

    pub fn error(&mut self, kind: PlanErrorKind, address: impl Into<String>, message: String, hint: Option<&str>) {
        self.errors.push(PlanError { kind, address: address.into(), message, hint: hint.map(str::to_string) });
    }

    pub fn record_row<T: Serialize>(&mut self, key: &str, row: &T) {
        self.rows.insert(key.to_string(), row_digest(row));
    }

    /// A user by name: the manifest's (live or to be created) or any live user. Returns the ref and its address.
    /// The owner an object of `address` should have: `None` when the manifest does not manage it, or (with a plan
    /// error) when the user is neither in the manifest nor on the site.
    pub fn owner_ref(&mut self, owner: Option<&str>, address: &str) -> Option<ObjectRef> {
        let name = owner?;
        match self.user_ref(name) {
            Some((reference, _)) => Some(reference),
            None => {
                self.error(
                    PlanErrorKind::MissingUser,
                    address,
                    format!("owner '{name}' is neither in the manifest nor on the site"),
                    None,
                );
                None
            }
        }
    }

    pub fn user_ref(&self, name: &str) -> Option<(ObjectRef, String)> {
        let key = name.to_lowercase();
        self.user_refs.get(&key).cloned().or_else(|| {
            self.idx.users_by_name.get(&key).map(|u| (ObjectRef::Live(u.id.clone()), format!("user:{}", u.name)))
        })
    }

    pub fn group_ref(&self, name: &str) -> Option<(ObjectRef, String)> {
        let key = name.to_lowercase();
        self.group_refs.get(&key).cloned().or_else(|| {
            self.idx.groups_by_name.get(&key).map(|g| (ObjectRef::Live(g.id.clone()), format!("group:{}", g.name)))
        })
    }

    /// A project by path: the manifest's, or a live one (which then counts as referenced and is never pruned).
    pub fn project_ref(&mut self, path: &ProjectPath) -> Option<ObjectRef> {
        let key = path.key();
        if let Some(r) = self.project_refs.get(&key) {
            return Some(r.clone());
        }
        let live = *self.idx.projects_by_path.get(&key)?;
        let mut cursor = Some(live.id.as_str());
        while let Some(id) = cursor {
            if !self.referenced_projects.insert(id) {
                break;
            }
            cursor = self.idx.projects_by_id.get(id).and_then(|p| p.parent_id.as_deref());
        }
        Some(ObjectRef::Live(live.id.clone()))
    }

    fn finish(mut self) -> Plan {
        let mut actions = Vec::new();
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
            site: PlanSite { content_url: self.desired.site.content_url.clone(), id: self.live.site.id.clone() },
            inputs: Inputs {
                manifest_digest: self.desired.manifest_digest.clone(),
                content: self.content_inputs,
                inventory_rows: self.rows,
                safety: self.safety,
                git: None,
            },
            actions,
            unmanaged: self.unmanaged,
            errors: self.errors,
            applyable: !errored,
            errored,
            summary,
        }
    }
}

/// `Planned(address)` refs become dependencies.
pub(crate) fn deps_of<'r>(refs: impl IntoIterator<Item = Option<&'r ObjectRef>>) -> Vec<String> {
    let mut out: Vec<String> = refs
        .into_iter()
        .flatten()
        .filter_map(|r| match r {
            ObjectRef::Planned(address) => Some(address.clone()),
            ObjectRef::Live(_) => None,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// JSON value helper for field changes.
pub(crate) fn val<T: Serialize>(value: T) -> Option<serde_json::Value> {
    serde_json::to_value(value).ok()
}
