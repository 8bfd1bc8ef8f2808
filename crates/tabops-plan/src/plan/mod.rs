//! The plan: the value the planner returns, the renderers print, `plan --out` saves and `apply plan.json` loads.
//!
//! A plan is bound to its inputs (manifest digest, content digests, the live rows it depends on, the git commit),
//! so a saved plan can be refused when the site changed since it was made ([`Plan::check_fresh`]). Its JSON form is
//! versioned ([`FORMAT_VERSION`]) and its order is deterministic: the same inputs give the same bytes.

mod action;
pub mod file;
mod operation;

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use action::{
    Action, Aspect, FieldChange, ObjectKind, Origin, PlanError, PlanErrorKind, PlannedAction, UnmanagedObject,
};
pub(crate) use operation::tag_list;
pub use operation::{
    ConnectionUpdateOp, GranteeRef, KeptRules, ObjectRef, Operation, ParentChange, PlannedConnection, PublishOp,
    Relocate, SecretRef, UpdateContentOp,
};

use crate::inventory::Inventory;

/// Version of the plan's JSON format. Bumped on any incompatible change.
pub const FORMAT_VERSION: u32 = 1;

/// The site a plan was made for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSite {
    pub content_url: String,
    /// The live site's LUID.
    pub id: String,
}

/// Where the manifest came from; filled by the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitInfo {
    pub commit: String,
    pub branch: Option<String>,
    pub author: Option<String>,
    pub dirty: bool,
}

/// One content file the plan publishes or checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentInput {
    pub address: String,
    pub sha256: String,
    pub size: u64,
}

/// The deletion limits a plan was checked against, as in force (flags, else the manifest's settings, else the
/// defaults). `apply PLAN` plans again with limits no looser than these ([`SafetyLimits::tightest`]), so an edited
/// plan file cannot loosen them. A plan file without them reads as the strictest limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafetyLimits {
    pub max_deletes: u32,
    pub allow_empty_project: bool,
    pub allow_empty_site: bool,
}

impl SafetyLimits {
    /// The stricter of two limits, field by field.
    pub fn tightest(self, other: SafetyLimits) -> SafetyLimits {
        SafetyLimits {
            max_deletes: self.max_deletes.min(other.max_deletes),
            allow_empty_project: self.allow_empty_project && other.allow_empty_project,
            allow_empty_site: self.allow_empty_site && other.allow_empty_site,
        }
    }
}

/// What the plan was computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inputs {
    pub manifest_digest: String,
    pub content: Vec<ContentInput>,
    /// Live id (or permission row key) -> row digest, for every live row the plan depends on.
    pub inventory_rows: BTreeMap<String, String>,
    /// The deletion limits it was checked against.
    #[serde(default)]
    pub safety: SafetyLimits,
    pub git: Option<GitInfo>,
}

/// Add/change/destroy counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
}

impl Counts {
    pub fn total(&self) -> usize {
        self.add + self.change + self.destroy
    }
    fn count(&mut self, action: Action) {
        match action {
            Action::Create => self.add += 1,
            Action::Update | Action::Republish => self.change += 1,
            Action::Delete => self.destroy += 1,
            Action::NoOp => {}
        }
    }
}

/// Totals, and per kind. A `Republish` (publish over an existing item, same id) counts as a change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
    pub no_op: usize,
    pub unmanaged: usize,
    pub errors: usize,
    /// Bytes that applying the plan uploads.
    pub upload_bytes: u64,
    pub by_kind: BTreeMap<ObjectKind, Counts>,
}

impl Summary {
    pub fn compute(actions: &[PlannedAction], unmanaged: usize, errors: usize) -> Summary {
        let mut totals = Counts::default();
        let mut summary = Summary { unmanaged, errors, ..Summary::default() };
        for a in actions {
            totals.count(a.action);
            if a.action == Action::NoOp {
                summary.no_op += 1;
            } else {
                summary.by_kind.entry(a.kind).or_default().count(a.action);
            }
            if let Operation::Publish(p) = &a.operation {
                summary.upload_bytes += p.file.size;
            }
        }
        summary.add = totals.add;
        summary.change = totals.change;
        summary.destroy = totals.destroy;
        summary
    }

    /// The stable summary line.
    pub fn line(&self) -> String {
        if self.add + self.change + self.destroy == 0 {
            "No changes. The site matches the manifest.".to_string()
        } else {
            format!("Plan: {} to add, {} to change, {} to destroy.", self.add, self.change, self.destroy)
        }
    }
}

/// The plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub site: PlanSite,
    pub inputs: Inputs,
    /// `--target`: the addresses the plan was limited to (with what they depend on). Not empty = a partial plan,
    /// which may not be everything the manifest asks for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// In execution order: users, projects (parents first), groups, memberships, data sources, workbooks,
    /// permissions, refresh tasks; then deletes in reverse. No-ops are included (for verbose output).
    pub actions: Vec<PlannedAction>,
    pub unmanaged: Vec<UnmanagedObject>,
    pub errors: Vec<PlanError>,
    /// `false` when `errors` is not empty: the plan is shown but must not be applied.
    pub applyable: bool,
    /// `true` when at least one refusal was recorded.
    pub errored: bool,
    pub summary: Summary,
    /// The workbooks that use the data sources the plan republishes, repoints or deletes (`None`: the plan touches
    /// no data source, so no lineage was read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<crate::impact::Impact>,
}

/// A live row that changed since the plan was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaleRow {
    pub key: String,
    pub planned: String,
    /// `None` when the row is gone.
    pub live: Option<String>,
}

/// Loading a saved plan failed.
#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    #[error("failed to parse the saved plan")]
    Parse(#[source] serde_json::Error),
    #[error("the saved plan has format version {found}, this tabops reads version {FORMAT_VERSION}")]
    FormatVersion { found: u64 },
    #[error("the plan key (TABOPS_PLAN_KEY) is {length} bytes long; at least {} are needed", file::MIN_KEY_BYTES)]
    WeakKey { length: usize },
    #[error("the saved plan is not signed, and TABOPS_PLAN_KEY requires a signed plan")]
    Unsigned,
    #[error("the saved plan is signed, but TABOPS_PLAN_KEY is not set, so its signature cannot be checked")]
    SignedWithoutKey,
    #[error(
        "the saved plan's signature does not match: the file was changed after it was signed, or signed with another key"
    )]
    BadSignature,
}

impl PlanFileError {
    /// Advice for the user, shown on its own line after the error.
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            PlanFileError::WeakKey { .. } => {
                "generate one with `openssl rand -hex 32` and keep it in the CI secret store"
            }
            PlanFileError::SignedWithoutKey => "set TABOPS_PLAN_KEY to the key the plan job signed with",
            PlanFileError::Unsigned | PlanFileError::BadSignature => {
                "apply only the plan your own plan job wrote and signed; run `tabops plan --out` again"
            }
            PlanFileError::Parse(_) | PlanFileError::FormatVersion { .. } => {
                "run `tabops plan --out` again with this version of tabops"
            }
        };
        Some(hint.to_owned())
    }
}

impl Plan {
    /// Whether applying the plan changes anything.
    pub fn has_changes(&self) -> bool {
        self.actions.iter().any(|a| a.action != Action::NoOp)
    }

    /// The actions that change something (no-ops left out).
    pub fn changes(&self) -> impl Iterator<Item = &PlannedAction> {
        self.actions.iter().filter(|a| a.action != Action::NoOp)
    }

    /// Groups of actions whose dependencies all lie in earlier groups; the executor may run one group
    /// concurrently. No-ops are left out; dependencies on addresses not in the plan are already satisfied.
    pub fn waves(&self) -> Vec<Vec<&PlannedAction>> {
        let index: HashMap<&str, usize> = self
            .actions
            .iter()
            .enumerate()
            .filter(|(_, a)| a.action != Action::NoOp)
            .map(|(i, a)| (a.id.as_str(), i))
            .collect();
        let mut level: Vec<Option<usize>> = vec![None; self.actions.len()];
        let mut max_level = 0;
        for start in 0..self.actions.len() {
            if self.actions[start].action == Action::NoOp || level[start].is_some() {
                continue;
            }
            // Iterative DFS; a node on the stack is provisionally level 0, which breaks (invalid) cycles.
            let mut stack = vec![(start, 0usize)];
            let mut on_stack = vec![false; 0];
            on_stack.resize(self.actions.len(), false);
            on_stack[start] = true;
            while let Some(&(node, next_dep)) = stack.last() {
                let deps = &self.actions[node].depends_on;
                if next_dep < deps.len() {
                    if let Some(last) = stack.last_mut() {
                        last.1 += 1;
                    }
                    if let Some(&dep) = index.get(deps[next_dep].as_str())
                        && level[dep].is_none()
                        && !on_stack[dep]
                    {
                        on_stack[dep] = true;
                        stack.push((dep, 0));
                    }
                    continue;
                }
                let l = deps
                    .iter()
                    .filter_map(|d| index.get(d.as_str()))
                    .filter_map(|&d| level[d])
                    .map(|l| l + 1)
                    .max()
                    .unwrap_or(0);
                level[node] = Some(l);
                max_level = max_level.max(l);
                on_stack[node] = false;
                stack.pop();
            }
        }
        let mut waves: Vec<Vec<&PlannedAction>> = vec![Vec::new(); max_level + 1];
        for (i, a) in self.actions.iter().enumerate() {
            if let Some(l) = level[i] {
                waves[l].push(a);
            }
        }
        waves.retain(|w| !w.is_empty());
        waves
    }

    /// Compare the live rows the plan depends on with a fresh inventory. `Err` lists every row that changed or
    /// disappeared ("plan is stale").
    pub fn check_fresh(&self, live: &Inventory) -> Result<(), Vec<StaleRow>> {
        let now = live.row_digests();
        let stale: Vec<StaleRow> = self
            .inputs
            .inventory_rows
            .iter()
            .filter(|(key, digest)| now.get(*key) != Some(*digest))
            .map(|(key, digest)| StaleRow { key: key.clone(), planned: digest.clone(), live: now.get(key).cloned() })
            .collect();
        if stale.is_empty() { Ok(()) } else { Err(stale) }
    }

    /// sha256 (hex) of the plan's canonical JSON.
    pub fn digest(&self) -> String {
        hex::encode(Sha256::digest(serde_json::to_vec(self).unwrap_or_default()))
    }

    /// Parse a saved plan, checking its format version first.
    pub fn from_json(text: &str) -> Result<Plan, PlanFileError> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(PlanFileError::Parse)?;
        let found = value.get("format_version").and_then(serde_json::Value::as_u64).unwrap_or(0);
        if found != u64::from(FORMAT_VERSION) {
            return Err(PlanFileError::FormatVersion { found });
        }
        serde_json::from_value(value).map_err(PlanFileError::Parse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tabops_manifest::model::{Address, ProjectPath};

    fn action(id: &str, action: Action, deps: &[&str]) -> PlannedAction {
        PlannedAction {
            id: id.into(),
            kind: ObjectKind::Project,
            action,
            reason: String::new(),
            changes: vec![],
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
            live_id: None,
            origin: Origin { address: Address::project(&ProjectPath::parse(id)), aspect: Aspect::Fields, digest: None },
            operation: Operation::None,
        }
    }

    fn plan_of(actions: Vec<PlannedAction>) -> Plan {
        let summary = Summary::compute(&actions, 0, 0);
        Plan {
            format_version: FORMAT_VERSION,
            site: PlanSite { content_url: "acme".into(), id: "s".into() },
            inputs: Inputs {
                manifest_digest: String::new(),
                content: vec![],
                inventory_rows: BTreeMap::new(),
                safety: SafetyLimits::default(),
                git: None,
            },
            targets: vec![],
            actions,
            unmanaged: vec![],
            errors: vec![],
            applyable: true,
            errored: false,
            summary,
            impact: None,
        }
    }

    fn ids(waves: &[Vec<&PlannedAction>]) -> Vec<Vec<String>> {
        waves.iter().map(|w| w.iter().map(|a| a.id.clone()).collect()).collect()
    }

    #[test]
    fn waves_follow_dependencies_in_any_order_and_skip_no_ops() {
        let p = plan_of(vec![
            action("c", Action::Create, &["b"]),
            action("b", Action::Create, &["a", "outside-the-plan"]),
            action("a", Action::Create, &[]),
            action("d", Action::Update, &["noop"]),
            action("noop", Action::NoOp, &[]),
        ]);
        assert_eq!(ids(&p.waves()), vec![vec!["a", "d"], vec!["b"], vec!["c"]]);
        assert_eq!(p.summary.line(), "Plan: 3 to add, 1 to change, 0 to destroy.");
    }

    #[test]
    fn dependency_cycles_do_not_hang_and_keep_every_action() {
        let p = plan_of(vec![action("a", Action::Create, &["b"]), action("b", Action::Create, &["a"])]);
        let waves = p.waves();
        assert_eq!(waves.iter().map(Vec::len).sum::<usize>(), 2);
    }

    #[test]
    fn summary_counts_replace_as_change() {
        let p = plan_of(vec![action("a", Action::Republish, &[]), action("b", Action::Delete, &[])]);
        assert_eq!(p.summary.line(), "Plan: 0 to add, 1 to change, 1 to destroy.");
        assert_eq!(plan_of(vec![]).summary.line(), "No changes. The site matches the manifest.");
    }
}
