//! Creating extract-refresh tasks without duplicating them. Tableau has no uniqueness rule for tasks (no 409 to
//! resolve a race with), so a create that another apply (or a lost response earlier in this one) already carried out
//! would add a second, identical task. Before creating, and after an ambiguous create, the executor looks for an
//! equal task on the item and adopts it, when the plan allows that without losing a wanted duplicate.

use std::collections::{HashMap, HashSet};

use tabops_manifest::model::{RefreshType, Schedule};
use tabops_plan::Plan;
use tabops_plan::plan::Operation;
use tabops_tableau as api;

use crate::error::ActionError;
use crate::wire;

/// Addresses of the plan's task creates that may adopt an equal live task: the first (unsuffixed) create of its
/// schedule on its item, and the only create of that schedule there. When the manifest asks for two identical tasks
/// on one item (`#daily-06:00` and `#daily-06:00-2`), neither adopts, so both get created.
pub fn adoptable_creates(plan: &Plan) -> HashSet<String> {
    let mut per_base: HashMap<&str, Vec<&str>> = HashMap::new();
    for action in &plan.actions {
        if matches!(action.operation, Operation::CreateRefreshTask { .. }) {
            per_base.entry(base_address(&action.id)).or_default().push(&action.id);
        }
    }
    per_base
        .into_values()
        .filter(|ids| ids.len() == 1 && base_address(ids[0]) == ids[0])
        .map(|ids| ids[0].to_owned())
        .collect()
}

/// `refresh:x#daily-06:00-2` -> `refresh:x#daily-06:00` (the planner's ordinal suffix removed).
fn base_address(address: &str) -> &str {
    match address.rsplit_once('-') {
        Some((base, n)) if base.contains('#') && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => base,
        _ => address,
    }
}

/// The id of a live task on `target` with this type and (normalised) schedule, if there is one.
pub async fn find_equal(
    client: &api::Client,
    target: &api::TaskTarget,
    refresh_type: RefreshType,
    schedule: &Schedule,
) -> Result<Option<String>, ActionError> {
    Ok(equal_tasks(client, target, refresh_type, schedule).await?.into_iter().next())
}

/// After creating a task: when a concurrent apply created an equal one at the same moment (both looked, found
/// none, and created), keep the one with the lowest id and delete the others. Every apply that sees the duplicates
/// makes the same choice, and the last creator to look sees all of them, so exactly one task remains.
pub async fn settle(
    client: &api::Client,
    target: &api::TaskTarget,
    refresh_type: RefreshType,
    schedule: &Schedule,
    created: String,
) -> Result<String, ActionError> {
    let mut equal = equal_tasks(client, target, refresh_type, schedule).await?;
    if equal.len() < 2 {
        return Ok(created);
    }
    let keep = equal.remove(0);
    for duplicate in equal {
        tracing::info!(task = %duplicate, kept = %keep, "deleting a refresh task a concurrent apply duplicated");
        match client.delete_refresh_task(&duplicate).await {
            Ok(()) => {}
            Err(err) if err.is_not_found() => {}
            Err(err) => return Err(err.into()),
        }
    }
    Ok(keep)
}

/// Ids of the equal tasks, lowest first.
async fn equal_tasks(
    client: &api::Client,
    target: &api::TaskTarget,
    refresh_type: RefreshType,
    schedule: &Schedule,
) -> Result<Vec<String>, ActionError> {
    let mut ids: Vec<String> = client
        .refresh_tasks()
        .await?
        .into_iter()
        .filter(|t| t.target.as_ref() == Some(target))
        .filter(|t| wire::refresh_type(t) == refresh_type)
        .filter(|t| t.schedule.as_ref().and_then(wire::normalize_schedule).as_ref() == Some(schedule))
        .map(|t| t.id)
        .collect();
    ids.sort();
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::base_address;

    #[test]
    fn ordinal_suffixes_are_removed_and_times_kept() {
        assert_eq!(base_address("refresh:datasource:A/B#daily-05:00-2"), "refresh:datasource:A/B#daily-05:00");
        assert_eq!(base_address("refresh:datasource:A/B#daily-05:00"), "refresh:datasource:A/B#daily-05:00");
        assert_eq!(
            base_address("refresh:workbook:X-1#weekly-06:00-incremental"),
            "refresh:workbook:X-1#weekly-06:00-incremental"
        );
        assert_eq!(base_address("refresh:workbook:Q-3"), "refresh:workbook:Q-3");
    }
}
