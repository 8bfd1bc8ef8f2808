//! `--target ADDRESS`: the plan limited to the named objects and what they depend on, as Terraform's `-target`.
//!
//! An object is targeted with every aspect of it (its fields and content, a group's members, its permissions and
//! default permissions, its refresh tasks: every action whose origin is its address); the actions those depend on
//! are kept too, transitively (the project a new workbook goes into, the user a new owner is). Everything else is
//! left out: other actions, their errors, unmanaged objects not targeted. The safety checks then run on what is
//! left, so a deletion limit counts only the targeted deletes. The plan records its targets and every renderer
//! warns that it is partial.

use std::collections::{BTreeSet, HashMap, HashSet};

use tabops_manifest::model::Address;

use crate::plan::PlannedAction;

use super::{Ctx, Draft};

/// Drops from `draft` every action, error and unmanaged object outside the targets and their dependencies.
pub(super) fn limit_to_targets(cx: &Ctx<'_>, draft: &mut Draft) {
    let targets = &cx.options.targets;
    if targets.is_empty() {
        return;
    }
    let all: Vec<&PlannedAction> = draft.actions.values().chain(draft.deletes.values()).flatten().collect();
    let by_id: HashMap<&str, &PlannedAction> = all.iter().map(|a| (a.id.as_str(), *a)).collect();
    let mut kept: HashSet<String> = HashSet::new();
    let mut stack: Vec<&PlannedAction> = all.iter().copied().filter(|a| targets.contains(&a.origin.address)).collect();
    while let Some(action) = stack.pop() {
        if !kept.insert(action.id.clone()) {
            continue;
        }
        stack.extend(action.depends_on.iter().filter_map(|id| by_id.get(id.as_str()).copied()));
    }
    // What an error or an unmanaged object may be named by: a kept action's id, a kept object's address.
    let kept_objects: BTreeSet<String> = all
        .iter()
        .filter(|a| kept.contains(&a.id))
        .map(|a| a.origin.address.to_string())
        .chain(targets.iter().map(Address::to_string))
        .collect();
    let named = |address: &str| {
        kept.contains(address)
            || kept_objects.contains(address)
            || Address::parse(address).is_ok_and(|a| targets.contains(&a))
    };
    for bucket in draft.actions.values_mut().chain(draft.deletes.values_mut()) {
        bucket.retain(|a| kept.contains(&a.id));
    }
    draft.errors.retain(|e| named(&e.address));
    draft.unmanaged.retain(|u| named(&u.address));
}
