//! What one slot of a wave runs: one action, or several actions of the wave that one request can carry. Each
//! action keeps its own audit records and outcome; when the shared request is refused, the batch falls back to one
//! request per action, which places the error on the action it belongs to.
//!
//! - The member adds (or removes) of one group: Tableau's bulk Add Users to Group and Remove Users from Group (API
//!   3.21), when the client's API version has them (`members`).
//! - The grants of one permission set (one object, or one project's defaults for one content type) to several
//!   grantees: one Add Permissions request takes any number of `granteeCapabilities` (`permissions`). A bootstrap
//!   grants every project's grantees right after creating it, so this is one request per project instead of one
//!   per grantee.

use std::collections::HashMap;
use std::time::Instant;

use tabops_manifest::model::{ContentKind, PermissionTarget};
use tabops_plan::PlannedAction;
use tabops_plan::plan::{ObjectRef, Operation};

use super::{ActionOutcome, Executor, Started};
use crate::error::{ActionError, ApplyError};

pub(super) enum Unit<'p> {
    One(&'p PlannedAction),
    Members { add: bool, actions: Vec<&'p PlannedAction> },
    Grants(Vec<&'p PlannedAction>),
}

impl<'p> Unit<'p> {
    pub(super) fn actions(&self) -> Vec<&'p PlannedAction> {
        match self {
            Unit::One(action) => vec![*action],
            Unit::Members { actions, .. } | Unit::Grants(actions) => actions.clone(),
        }
    }
}

/// What batches actions together: a group's member adds, its member removes, or the grants on one permission set.
#[derive(PartialEq, Eq, Hash)]
enum Key<'p> {
    AddMembers(&'p ObjectRef),
    RemoveMembers(&'p str),
    Grants(PermissionTarget, Option<ContentKind>, &'p ObjectRef),
}

impl<'p> Key<'p> {
    /// The batch `action` belongs to, if any.
    fn of(action: &'p PlannedAction, bulk_members: bool) -> Option<Key<'p>> {
        match &action.operation {
            Operation::AddMember { group, .. } if bulk_members => Some(Key::AddMembers(group)),
            Operation::RemoveMember { group, .. } if bulk_members => Some(Key::RemoveMembers(group)),
            Operation::SetPermissions { target, object, default_for, grant, revoke, .. }
                if revoke.is_empty() && !grant.is_empty() =>
            {
                Some(Key::Grants(*target, *default_for, object))
            }
            _ => None,
        }
    }
}

/// The wave's actions as units: with `bulk_members`, the member adds of each group form one unit and its member
/// removes another; the grant-only permission changes of each permission set form one unit. A batch of one runs
/// alone; everything else runs alone.
pub(super) fn units(changes: Vec<&PlannedAction>, bulk_members: bool) -> Vec<Unit<'_>> {
    let mut units = Vec::new();
    // Key -> index of its unit in `units`.
    let mut batches: HashMap<Key<'_>, usize> = HashMap::new();
    for action in changes {
        let Some(key) = Key::of(action, bulk_members) else {
            units.push(Unit::One(action));
            continue;
        };
        match batches.get(&key) {
            Some(&index) => match &mut units[index] {
                Unit::Members { actions, .. } | Unit::Grants(actions) => actions.push(action),
                Unit::One(_) => unreachable!("batches index batch units"),
            },
            None => {
                let unit = match key {
                    Key::AddMembers(_) => Unit::Members { add: true, actions: vec![action] },
                    Key::RemoveMembers(_) => Unit::Members { add: false, actions: vec![action] },
                    Key::Grants(..) => Unit::Grants(vec![action]),
                };
                batches.insert(key, units.len());
                units.push(unit);
            }
        }
    }
    units
        .into_iter()
        .map(|unit| match unit {
            Unit::Members { actions, .. } | Unit::Grants(actions) if actions.len() == 1 => Unit::One(actions[0]),
            other => other,
        })
        .collect()
}

impl Executor<'_> {
    /// Starts each action of a batch (its audit record, or its skip when a dependency failed) and resolves what
    /// the shared request needs from it (`prepare`). Skipped actions, and those whose ids cannot be resolved, end
    /// here with their outcome in `results`; the started ones come back with their start time.
    pub(super) fn start_batch<'p, T>(
        &self,
        actions: &[&'p PlannedAction],
        prepare: impl Fn(&'p PlannedAction) -> Result<T, ActionError>,
        results: &mut Vec<Result<ActionOutcome, ApplyError>>,
    ) -> Vec<(&'p PlannedAction, Instant, T)> {
        let mut started = Vec::with_capacity(actions.len());
        for &action in actions {
            match self.start(action) {
                Ok(Started::Running(began)) => match prepare(action) {
                    Ok(prepared) => started.push((action, began, prepared)),
                    Err(err) => results.push(self.finish(action, Err(err), began.elapsed(), &[]).map_err(Into::into)),
                },
                Ok(Started::Skipped(skipped)) => results.push(Ok(skipped)),
                Err(err) => results.push(Err(err.into())),
            }
        }
        started
    }
}
