//! Creating extract-refresh tasks without duplicating them. Tableau has no uniqueness rule for tasks (no 409 to
//! resolve a race with), so a create that another apply (or a lost response earlier in this one) already carried out
//! would add a second, identical task. Before creating, and after an ambiguous create, the executor looks for an
//! equal task on the item and adopts it, when the plan allows that without losing a wanted duplicate. The task list
//! is read once per apply for those lookups and once more after the tasks are created (at the end of the apply, or
//! before a later action that needs one of them), never once per task or per wave.

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

/// The site's refresh tasks as this apply sees them: listed once, when the first adoptable create looks for an
/// equal task, instead of once per create (a full read of a list that grows with the site: quadratic in a bootstrap).
/// The tasks this apply creates are settled against one fresh read after they are created, not one per create.
#[derive(Default)]
pub struct TaskBook {
    listed: tokio::sync::OnceCell<Vec<api::RefreshTask>>,
    created: std::sync::Mutex<Vec<Created>>,
}

/// A task an adoptable create added, to be settled once it and the others are created.
struct Created {
    address: String,
    target: api::TaskTarget,
    refresh_type: RefreshType,
    schedule: Schedule,
    id: String,
}

/// A task this apply created that a concurrent apply created too: the one kept and the duplicates deleted.
pub struct Settled {
    pub address: String,
    pub created: String,
    pub kept: String,
    pub deleted: Vec<String>,
}

impl TaskBook {
    /// The id of a live task on `target` with this type and (normalised) schedule, in the apply's one listing.
    pub async fn find_equal(
        &self,
        client: &api::Client,
        target: &api::TaskTarget,
        refresh_type: RefreshType,
        schedule: &Schedule,
    ) -> Result<Option<String>, ActionError> {
        let listed = self.listed.get_or_try_init(|| client.refresh_tasks()).await?;
        Ok(equal_ids(listed, target, refresh_type, schedule).into_iter().next())
    }

    /// Remembers a task an adoptable create added, for [`TaskBook::settle`].
    pub fn created(
        &self,
        address: &str,
        target: &api::TaskTarget,
        refresh_type: RefreshType,
        schedule: &Schedule,
        id: String,
    ) {
        self.created.lock().unwrap_or_else(|e| e.into_inner()).push(Created {
            address: address.to_owned(),
            target: target.clone(),
            refresh_type,
            schedule: schedule.clone(),
            id,
        });
    }

    /// Whether `address` is a task this apply created and has not settled yet.
    pub fn is_unsettled(&self, address: &str) -> bool {
        self.created.lock().unwrap_or_else(|e| e.into_inner()).iter().any(|c| c.address == address)
    }

    /// After tasks were created: when a concurrent apply created an equal one at the same moment (both
    /// looked, found none, and created), keep the one with the lowest id and delete the others. Every apply that
    /// sees the duplicates makes the same choice, and the last creator to look sees all of them, so exactly one task
    /// remains. One read of the task list for all of them; nothing is read when no task was created.
    /// On failure, the error with the addresses of the creates it leaves unsettled.
    pub async fn settle(&self, client: &api::Client) -> Result<Vec<Settled>, (Vec<String>, ActionError)> {
        let created = std::mem::take(&mut *self.created.lock().unwrap_or_else(|e| e.into_inner()));
        if created.is_empty() {
            return Ok(Vec::new());
        }
        let addresses = || created.iter().map(|c| c.address.clone()).collect::<Vec<_>>();
        let listed = client.refresh_tasks().await.map_err(|err| (addresses(), err.into()))?;
        let mut settled = Vec::new();
        for task in created {
            let mut equal = equal_ids(&listed, &task.target, task.refresh_type, &task.schedule);
            if equal.len() < 2 {
                continue;
            }
            let kept = equal.remove(0);
            for duplicate in &equal {
                tracing::info!(task = %duplicate, %kept, "deleting a refresh task a concurrent apply duplicated");
                match client.delete_refresh_task(duplicate).await {
                    Ok(()) => {}
                    Err(err) if err.is_not_found() => {}
                    Err(err) => return Err((vec![task.address.clone()], err.into())),
                }
            }
            settled.push(Settled { address: task.address, created: task.id, kept, deleted: equal });
        }
        Ok(settled)
    }
}

/// The id of a live task on `target` with this type and (normalised) schedule, read now (after a create whose
/// outcome is unknown, the apply's listing predates it).
pub async fn find_equal_now(
    client: &api::Client,
    target: &api::TaskTarget,
    refresh_type: RefreshType,
    schedule: &Schedule,
) -> Result<Option<String>, ActionError> {
    Ok(equal_ids(&client.refresh_tasks().await?, target, refresh_type, schedule).into_iter().next())
}

/// Ids of the equal tasks, lowest first.
fn equal_ids(
    tasks: &[api::RefreshTask],
    target: &api::TaskTarget,
    refresh_type: RefreshType,
    schedule: &Schedule,
) -> Vec<String> {
    let mut ids: Vec<String> = tasks
        .iter()
        .filter(|t| t.target.as_ref() == Some(target))
        .filter(|t| wire::refresh_type(t) == refresh_type)
        .filter(|t| t.schedule.as_ref().and_then(wire::normalize_schedule).as_ref() == Some(schedule))
        .map(|t| t.id.clone())
        .collect();
    ids.sort();
    ids
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
