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
use crate::plan::{
    Action, Aspect, FieldChange, ObjectKind, ObjectRef, Operation, Origin, PlannedAction, UnmanagedObject,
};

use super::content::Contents;
use super::{Ctx, Draft, val};

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

impl<'a> Phase<'_, 'a> {
    fn plan_refresh(&mut self) {
        let contents: Vec<_> = self
            .contents
            .states
            .iter()
            .map(|s| (s.spec, s.live, s.object.clone(), s.address.clone(), s.changed))
            .collect();
        for (spec, live_item, object, address, changed) in contents {
            let origin = Origin {
                address: address.clone(),
                aspect: Aspect::Refresh,
                digest: Some(content_digest(spec, Aspect::Refresh)),
            };
            let mut live_tasks: Vec<&'a LiveRefreshTask> = live_item
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
                    self.draft.unmanaged.push(UnmanagedObject {
                        kind: ObjectKind::RefreshTask,
                        address: id,
                        id: task.id.clone(),
                    });
                }
                continue;
            };
            // 1. exact matches
            let mut unmatched_desired: Vec<&RefreshSpec> = Vec::new();
            for wanted in desired_tasks {
                let exact = live_tasks.iter().position(|t| {
                    t.refresh_type == wanted.refresh_type && t.schedule.as_ref() == Some(&wanted.schedule)
                });
                match exact {
                    Some(i) => {
                        live_tasks.remove(i);
                        unique(&mut used, slug(wanted));
                    }
                    None => unmatched_desired.push(wanted),
                }
            }
            let dep = changed.then(|| address.to_string());
            // 2. same type, different schedule: update; 3. create
            for wanted in unmatched_desired {
                let id = format!("refresh:{address}#{}", unique(&mut used, slug(wanted)));
                let same_type = live_tasks.iter().position(|t| t.refresh_type == wanted.refresh_type);
                if let (Some(i), Some(item)) = (same_type, live_item) {
                    let task = live_tasks.remove(i);
                    self.draft.push(PlannedAction {
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
                            item: item.id.clone(),
                            refresh_type: wanted.refresh_type,
                            schedule: wanted.schedule.clone(),
                        },
                    });
                    continue;
                }
                let mut depends_on: Vec<String> = dep.clone().into_iter().collect();
                if let ObjectRef::Planned(a) = &object {
                    depends_on.push(a.clone());
                }
                depends_on.dedup();
                self.draft.push(PlannedAction {
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
                        item: object.clone(),
                        refresh_type: wanted.refresh_type,
                        schedule: wanted.schedule.clone(),
                    },
                });
            }
            // 4. leftovers on the site
            for task in live_tasks {
                let id = format!("refresh:{address}#{}", unique(&mut used, live_slug(task)));
                self.draft.push(PlannedAction {
                    id,
                    kind: ObjectKind::RefreshTask,
                    action: Action::Delete,
                    reason: "not in the manifest's refresh list for this item".into(),
                    changes: vec![FieldChange::new("schedule", val(task.describe_schedule()), None)],
                    depends_on: vec![],
                    live_id: Some(task.id.clone()),
                    origin: origin.clone(),
                    operation: Operation::DeleteRefreshTask { task: task.id.clone() },
                });
            }
        }
    }
}
