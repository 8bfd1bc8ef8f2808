//! Extract-refresh tasks of managed content items.
//!
//! Desired tasks are matched to the item's live tasks by (type, schedule) equality first (schedules are normalised,
//! so equal schedules compare equal); the remaining ones are paired by type in order, which turns a schedule change
//! into an update of the task; whatever is left is created or deleted. An item without a `refresh:` key does not
//! manage its tasks: they are left alone and listed as unmanaged, like any other object the manifest does not name.

use std::collections::HashMap;

use tabops_manifest::model::{RefreshSpec, Schedule};

use crate::inventory::LiveRefreshTask;
use crate::origin::content_digest;
use crate::plan::{Action, Aspect, FieldChange, ObjectKind, ObjectRef, Operation, Origin, PlannedAction};

use super::content::Contents;
use super::{Ctx, Draft, Pair, val};

/// Extract-refresh tasks of every manifest content item.
pub(super) fn plan_refresh<'a>(cx: &Ctx<'a>, contents: &Contents<'a>, draft: &mut Draft) {
    Phase { cx, contents, draft }.plan_refresh();
}

/// The refresh phase's inputs.
struct Phase<'p, 'a> {
    cx: &'p Ctx<'a>,
    contents: &'p Contents<'a>,
    draft: &'p mut Draft,
}

fn slug(refresh: &RefreshSpec) -> String {
    schedule_slug(&refresh.schedule, refresh.refresh_type == tabops_manifest::model::RefreshType::Incremental)
}

fn schedule_slug(schedule: &Schedule, incremental: bool) -> String {
    let mut s = format!("{}-{}", schedule.frequency.as_str().to_lowercase(), schedule.start);
    if incremental {
        s.push_str("-incremental");
    }
    s
}

/// The address suffix of a live task: its schedule, or its id when the schedule cannot be read.
pub(super) fn live_slug(task: &LiveRefreshTask) -> String {
    match &task.schedule {
        Some(s) => schedule_slug(s, task.refresh_type == tabops_manifest::model::RefreshType::Incremental),
        None => format!("task-{}", task.id),
    }
}

/// Make addresses unique within one item: `#daily-06:00`, `#daily-06:00-2`.
fn unique(used: &mut HashMap<String, usize>, base: String) -> String {
    let n = used.entry(base.clone()).or_insert(0);
    *n += 1;
    if *n == 1 { base } else { format!("{base}-{n}") }
}

/// Pairs an item's desired tasks with its live ones: equal (type, schedule) first, which need nothing; then each
/// remaining desired task with a remaining live task of its type (its schedule changed); then what is left on either
/// side. Returns each pair that needs an action with its address suffix (`#daily-06:00`), in the order of the plan.
fn pair_tasks<'r, 'a>(
    desired: &'r [RefreshSpec],
    mut live: Vec<&'a LiveRefreshTask>,
    used: &mut HashMap<String, usize>,
) -> Vec<(String, Pair<&'r RefreshSpec, &'a LiveRefreshTask>)> {
    let mut unmatched: Vec<&RefreshSpec> = Vec::new();
    for wanted in desired {
        let exact = live
            .iter()
            .position(|t| t.refresh_type == wanted.refresh_type && t.schedule.as_ref() == Some(&wanted.schedule));
        match exact {
            Some(i) => {
                live.remove(i);
                unique(used, slug(wanted));
            }
            None => unmatched.push(wanted),
        }
    }
    let mut pairs = Vec::new();
    for wanted in unmatched {
        let suffix = unique(used, slug(wanted));
        let same_type = live.iter().position(|t| t.refresh_type == wanted.refresh_type).map(|i| live.remove(i));
        pairs.push((suffix, Pair::of(wanted, same_type)));
    }
    for task in live {
        pairs.push((unique(used, live_slug(task)), Pair::Live(task)));
    }
    pairs
}

impl<'a> Phase<'_, 'a> {
    fn plan_refresh(&mut self) {
        let contents = self.contents;
        for state in &contents.states {
            let (spec, address) = (state.spec, &state.address);
            let origin = Origin {
                address: address.clone(),
                aspect: Aspect::Refresh,
                digest: Some(content_digest(spec, Aspect::Refresh)),
            };
            let mut live_tasks: Vec<&'a LiveRefreshTask> = state
                .live
                .and_then(|c| self.cx.idx.tasks_by_item.get(&(spec.kind, c.id.as_str())))
                .cloned()
                .unwrap_or_default();
            live_tasks.sort_by(|a, b| a.id.cmp(&b.id));
            for task in &live_tasks {
                self.draft.record_row(&task.id, *task);
            }
            let mut used = HashMap::new();
            let Some(desired_tasks) = spec.refresh.as_ref() else {
                // No `refresh:` key: the item's live tasks are not managed.
                for task in live_tasks {
                    let id = format!("refresh:{address}#{}", unique(&mut used, live_slug(task)));
                    self.draft.unmanaged(ObjectKind::RefreshTask, id, &task.id);
                }
                continue;
            };
            let dep = state.changed.then(|| address.to_string());
            for (suffix, pair) in pair_tasks(desired_tasks, live_tasks, &mut used) {
                let id = format!("refresh:{address}#{suffix}");
                let action = match pair {
                    Pair::Desired(wanted) => {
                        let mut depends_on: Vec<String> = dep.clone().into_iter().collect();
                        if let ObjectRef::Planned(a) = &state.object {
                            depends_on.push(a.clone());
                        }
                        depends_on.dedup();
                        PlannedAction {
                            id,
                            kind: ObjectKind::RefreshTask,
                            action: Action::Create,
                            reason: "refresh task in the manifest".into(),
                            changes: vec![
                                FieldChange::new("type", None, val(wanted.refresh_type)),
                                FieldChange::new("schedule", None, val(wanted.schedule.to_string())),
                            ],
                            depends_on,
                            live_id: None,
                            origin: origin.clone(),
                            operation: Operation::CreateRefreshTask {
                                kind: spec.kind,
                                item: state.object.clone(),
                                refresh_type: wanted.refresh_type,
                                schedule: wanted.schedule.clone(),
                            },
                        }
                    }
                    Pair::Both(wanted, task) => PlannedAction {
                        id,
                        kind: ObjectKind::RefreshTask,
                        action: Action::Update,
                        reason: format!(
                            "schedule changed from '{}' to '{}'",
                            task.describe_schedule(),
                            wanted.schedule
                        ),
                        changes: vec![FieldChange::new(
                            "schedule",
                            val(task.describe_schedule()),
                            val(wanted.schedule.to_string()),
                        )],
                        depends_on: dep.clone().into_iter().collect(),
                        live_id: Some(task.id.clone()),
                        origin: origin.clone(),
                        operation: Operation::UpdateRefreshTask {
                            task: task.id.clone(),
                            kind: spec.kind,
                            // The task's item: the live item it was listed under.
                            item: task.target.id.clone(),
                            refresh_type: wanted.refresh_type,
                            schedule: wanted.schedule.clone(),
                        },
                    },
                    Pair::Live(task) => PlannedAction {
                        id,
                        kind: ObjectKind::RefreshTask,
                        action: Action::Delete,
                        reason: "not in the manifest's refresh list for this item".into(),
                        changes: vec![FieldChange::new("schedule", val(task.describe_schedule()), None)],
                        depends_on: vec![],
                        live_id: Some(task.id.clone()),
                        origin: origin.clone(),
                        operation: Operation::DeleteRefreshTask { task: task.id.clone() },
                    },
                };
                self.draft.push(action);
            }
        }
    }
}
