//! Objects on the site that the manifest does not mention: deleted under a project with `prune: true` (or at top
//! level when the options say so), otherwise reported as unmanaged and left alone.

use std::collections::{HashMap, HashSet};

use tabops_manifest::model::{Address, ContentKind};

use crate::inventory::{LiveContent, LiveProject};
use crate::plan::{Action, Aspect, FieldChange, ObjectKind, Operation, Origin, PlannedAction};

use super::content::Contents;
use super::projects::Projects;
use super::{Ctx, DeleteWeight, Draft, MovedOut, Referenced, val};

/// What the prune phase produces.
#[derive(Default)]
pub(crate) struct Pruned {
    /// Action id of each delete -> what it takes with it.
    pub weights: HashMap<String, DeleteWeight>,
}

/// Live projects and content the manifest does not list: each deleted (under a pruning project, or at the top level
/// when the options say so) or reported as unmanaged.
pub(super) fn plan_prune<'a>(
    cx: &Ctx<'a>,
    projects: &Projects<'a>,
    contents: &Contents<'a>,
    draft: &mut Draft,
) -> Pruned {
    let claimed = projects.claimed.union(&contents.claimed).copied().collect();
    let referenced = projects.referenced.union(&contents.referenced).copied().collect();
    let mut moved_out: MovedOut<'a> = projects.moved_out.clone();
    for (project, ids) in &contents.moved_out {
        moved_out.entry(project).or_default().extend(ids.iter().cloned());
    }
    let mut phase = Phase { cx, projects, claimed, referenced, moved_out, draft, out: Pruned::default() };
    phase.plan_prune();
    phase.out
}

/// What becomes of a live project the manifest does not list.
enum Fate {
    /// Passed over without a report.
    Ignored,
    /// Reported as unmanaged and left alone.
    Unmanaged,
    /// Deleted, for this reason.
    Deleted(String),
}

/// The prune phase's inputs and what it has produced so far.
struct Phase<'p, 'a> {
    cx: &'p Ctx<'a>,
    projects: &'p Projects<'a>,
    /// Live projects and content matched by the manifest.
    claimed: HashSet<&'a str>,
    /// Live projects the manifest uses as containers without listing them: never pruned.
    referenced: Referenced<'a>,
    moved_out: MovedOut<'a>,
    draft: &'p mut Draft,
    out: Pruned,
}

fn kind_of(kind: ContentKind) -> ObjectKind {
    match kind {
        ContentKind::Workbook => ObjectKind::Workbook,
        ContentKind::Datasource => ObjectKind::Datasource,
    }
}

impl<'a> Phase<'_, 'a> {
    fn plan_prune(&mut self) {
        let live = self.cx.live;
        let mut children: HashMap<&str, Vec<&'a LiveProject>> = HashMap::new();
        for p in &live.projects {
            if let Some(parent) = p.parent_id.as_deref() {
                children.entry(parent).or_default().push(p);
            }
        }
        // Managed projects by live id, with their prune flag and display path.
        let managed: HashMap<&str, (bool, String)> = self
            .projects
            .states
            .iter()
            .filter_map(|s| s.live.map(|l| (l.id.as_str(), (s.spec.prune, s.spec.path.to_string()))))
            .collect();

        let mut candidates: Vec<&'a LiveProject> = live
            .projects
            .iter()
            .filter(|p| !self.claimed.contains(p.id.as_str()) && !self.referenced.contains(p.id.as_str()))
            .collect();
        candidates.sort_by_cached_key(|p| self.cx.idx.path_of(&p.id).key());
        for project in candidates {
            let address = self.cx.idx.project_address(&project.id);
            match self.project_fate(project, &managed) {
                Fate::Ignored => {}
                Fate::Unmanaged => self.draft.unmanaged(ObjectKind::Project, &address, &project.id),
                Fate::Deleted(reason) => self.delete_project(project, address, reason, &children),
            }
        }

        // Content directly inside managed (or referenced) projects.
        let mut containers: Vec<(&str, Option<(bool, String)>)> =
            managed.iter().map(|(id, v)| (*id, Some(v.clone()))).collect();
        containers.extend(self.referenced.iter().filter(|id| !managed.contains_key(**id)).map(|id| (*id, None)));
        containers.sort_by(|a, b| a.0.cmp(b.0));
        for (project_id, managed_by) in containers {
            let mut items: Vec<(ContentKind, &'a LiveContent)> = self
                .cx
                .idx
                .content_in_project
                .get(project_id)
                .map(|v| v.iter().filter(|(_, c)| !self.claimed.contains(c.id.as_str())).copied().collect())
                .unwrap_or_default();
            items.sort_by_cached_key(|(k, c)| (*k, c.name.to_lowercase()));
            for (kind, item) in items {
                let address = self.cx.idx.content_address(kind, item);
                match &managed_by {
                    Some((true, path)) => self.delete_content(kind, item, address, path),
                    _ => self.draft.unmanaged(kind_of(kind), &address, &item.id),
                }
            }
        }
    }

    /// What becomes of a live project the manifest does not list: the default project and projects inside an
    /// unmanaged one are passed over (the unmanaged root is reported), one under a pruning project (or at the top
    /// level with top-level pruning) is deleted, any other is reported as unmanaged.
    fn project_fate(&self, project: &LiveProject, managed: &HashMap<&str, (bool, String)>) -> Fate {
        let parent = project.parent_id.as_deref().and_then(|id| self.cx.idx.projects_by_id.get(id)).copied();
        match parent {
            None if project.name.eq_ignore_ascii_case("default") => Fate::Ignored,
            None if self.cx.options.prune_top_level_projects => {
                Fate::Deleted("not in manifest and top-level pruning is on".to_string())
            }
            None => Fate::Unmanaged,
            Some(parent) => match managed.get(parent.id.as_str()) {
                Some((true, path)) => Fate::Deleted(format!("not in manifest and project '{path}' prunes")),
                Some((false, _)) => Fate::Unmanaged,
                // A live container the manifest uses.
                None if self.referenced.contains(parent.id.as_str()) => Fate::Unmanaged,
                // Inside an unmanaged project (reported at its root).
                None => Fate::Ignored,
            },
        }
    }

    /// A content item under a pruning project, with its extract-refresh tasks (Tableau deletes them with it: they
    /// are shown and counted).
    fn delete_content(&mut self, kind: ContentKind, item: &LiveContent, address: Address, path: &str) {
        self.draft.record_row(&item.id, item);
        let mut tasks: Vec<_> = self.cx.idx.tasks_by_item.get(&(kind, item.id.as_str())).cloned().unwrap_or_default();
        tasks.sort_by(|a, b| a.id.cmp(&b.id));
        self.out.weights.insert(
            address.to_string(),
            DeleteWeight {
                count: 1 + tasks.len(),
                contained: vec![],
                content_ids: vec![item.id.clone()],
                project_ids: vec![],
            },
        );
        let mut reason = format!("not in manifest and project '{path}' prunes");
        if !tasks.is_empty() {
            reason.push_str(&format!(" (its {} extract-refresh task(s) are deleted with it)", tasks.len()));
        }
        let mut changes = vec![FieldChange::new("name", val(&item.name), None)];
        changes.extend(tasks.iter().map(|t| FieldChange::new("refresh_task", val(t.describe_schedule()), None)));
        self.draft.push(PlannedAction {
            id: address.to_string(),
            kind: kind_of(kind),
            action: Action::Delete,
            reason,
            changes,
            depends_on: vec![],
            live_id: Some(item.id.clone()),
            origin: Origin { address, aspect: Aspect::Fields, digest: None },
            operation: Operation::DeleteContent { kind, item: item.id.clone() },
        });
    }

    fn delete_project(
        &mut self,
        project: &'a LiveProject,
        address: Address,
        reason: String,
        children: &HashMap<&str, Vec<&'a LiveProject>>,
    ) {
        // Everything inside goes with it: count it, and wait for actions moving managed objects out.
        let mut weight = DeleteWeight { count: 0, contained: vec![], content_ids: vec![], project_ids: vec![] };
        let mut depends_on = Vec::new();
        let mut stack = vec![project];
        // Each project once: the children map comes from the site's parent ids, which a broken server can make
        // cyclic, and the walk must still end.
        let mut visited: std::collections::HashSet<&str> = std::collections::HashSet::new();
        let mut contents = 0usize;
        let mut tasks = 0usize;
        while let Some(p) = stack.pop() {
            if !visited.insert(p.id.as_str()) {
                continue;
            }
            weight.count += 1;
            weight.project_ids.push(p.id.clone());
            if p.id != project.id {
                weight.contained.push(self.cx.idx.project_address(&p.id));
            }
            if let Some(moved) = self.moved_out.get(p.id.as_str()) {
                depends_on.extend(moved.iter().cloned());
            }
            for (kind, item) in self.cx.idx.content_in_project.get(p.id.as_str()).into_iter().flatten() {
                if self.claimed.contains(item.id.as_str()) {
                    continue; // managed elsewhere: moved out first
                }
                // Its extract-refresh tasks go with it (counted like the item; named in the reason).
                let item_tasks = self.cx.idx.tasks_by_item.get(&(*kind, item.id.as_str())).map_or(0, Vec::len);
                tasks += item_tasks;
                weight.count += 1 + item_tasks;
                contents += 1;
                weight.content_ids.push(item.id.clone());
                weight.contained.push(self.cx.idx.content_address(*kind, item));
            }
            stack.extend(
                children.get(p.id.as_str()).into_iter().flatten().filter(|c| !self.claimed.contains(c.id.as_str())),
            );
        }
        depends_on.sort();
        depends_on.dedup();
        self.draft.record_row(&project.id, project);
        let inside = weight.count - 1;
        let reason = if inside > 0 && tasks > 0 {
            format!(
                "{reason} (deletes {inside} object(s) inside: {contents} content item(s), {tasks} extract-refresh \
                 task(s))"
            )
        } else if inside > 0 {
            format!("{reason} (deletes {inside} object(s) inside: {} content item(s))", contents)
        } else {
            reason
        };
        self.out.weights.insert(address.to_string(), weight);
        self.draft.push(PlannedAction {
            id: address.to_string(),
            kind: ObjectKind::Project,
            action: Action::Delete,
            reason,
            changes: vec![FieldChange::new("name", val(&project.name), None)],
            depends_on,
            live_id: Some(project.id.clone()),
            origin: Origin { address, aspect: Aspect::Fields, digest: None },
            operation: Operation::DeleteProject { project: project.id.clone() },
        });
    }
}
