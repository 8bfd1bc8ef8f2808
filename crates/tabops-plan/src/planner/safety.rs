//! Deletion safety: protection, the deletion limit, and refusing to empty a project or the whole site. Violations
//! become plan errors: the plan is still rendered but is not applyable.
//!
//! A project is emptied when the plan deletes every content item it has and puts none there: an item the manifest
//! places in it (kept, created or moved in) means the project keeps content, as after a rename planned as a delete
//! and a create.

use std::collections::HashSet;

use tabops_manifest::model::Address;

use crate::plan::{Action, ObjectKind, ObjectRef, PlanErrorKind, SafetyLimits};

use super::content::Contents;
use super::projects::Projects;
use super::prune::Pruned;
use super::{Ctx, DEFAULT_MAX_DELETES, Draft};

/// Refuses deletes of protected objects, more deletes than the limit, and emptying a project or the site. Returns
/// the limits the plan was checked against.
pub(super) fn check_safety<'a>(
    cx: &Ctx<'a>,
    projects: &Projects<'a>,
    contents: &Contents<'a>,
    pruned: &Pruned,
    draft: &mut Draft,
) -> SafetyLimits {
    Phase { cx, projects, contents, pruned, draft }.check_safety()
}

/// The safety phase's inputs.
struct Phase<'p, 'a> {
    cx: &'p Ctx<'a>,
    projects: &'p Projects<'a>,
    contents: &'p Contents<'a>,
    pruned: &'p Pruned,
    draft: &'p mut Draft,
}

impl<'a> Phase<'_, 'a> {
    fn check_safety(&mut self) -> SafetyLimits {
        let mut protected: HashSet<&Address> = self.cx.options.protected.iter().collect();
        let in_manifest = super::protected_addresses(self.cx.desired);
        protected.extend(&in_manifest);

        let mut total = 0usize;
        let mut deleted_content: HashSet<String> = HashSet::new();
        let mut deleted_projects: HashSet<String> = HashSet::new();
        let mut refusals = Vec::new();
        for actions in self.draft.deletes.values() {
            for action in actions.iter().filter(|a| a.action == Action::Delete) {
                let counted = matches!(
                    action.kind,
                    ObjectKind::User
                        | ObjectKind::Project
                        | ObjectKind::Group
                        | ObjectKind::Datasource
                        | ObjectKind::Workbook
                        | ObjectKind::RefreshTask
                        | ObjectKind::Subscription
                        | ObjectKind::Webhook
                );
                if !counted {
                    continue;
                }
                let weight = self.pruned.weights.get(&action.id);
                total += weight.map_or(1, |w| w.count);
                if let Some(w) = weight {
                    deleted_content.extend(w.content_ids.iter().cloned());
                    deleted_projects.extend(w.project_ids.iter().cloned());
                }
                // Where the protection comes from decides the advice: a `protect: true` line still in the manifest
                // can be removed; one only the `--base` revision has is already gone from the manifest.
                let by_base = |address: &Address| !in_manifest.contains(address);
                // Deletes of users, groups, projects and content are named by the object's address.
                if let Some(address) = Address::parse(&action.id).ok().filter(|a| protected.contains(a)) {
                    let message = if by_base(&address) {
                        format!("refusing to delete {}: the manifest at the base revision protects it", action.id)
                    } else {
                        format!("refusing to delete protected {}", action.id)
                    };
                    refusals.push((action.id.clone(), message, by_base(&address)));
                }
                for inner in weight.map(|w| w.contained.as_slice()).unwrap_or_default() {
                    if protected.contains(inner) {
                        // The contained object is named in lower case, as it always was (pinned by the tests).
                        let shown = inner.to_string().to_lowercase();
                        let message = if by_base(inner) {
                            format!(
                                "refusing to delete {}: it contains {shown}, which the manifest at the base revision \
                                 protects",
                                action.id
                            )
                        } else {
                            format!("refusing to delete {}: it contains protected {shown}", action.id)
                        };
                        refusals.push((action.id.clone(), message, by_base(inner)));
                    }
                }
            }
        }
        for (address, message, by_base) in refusals {
            let hint = if by_base {
                // docs/git.md, "Protection lives in git history".
                "protection lives in git history: to delete it, first merge a change that sets `protect: false` on \
                 it, then remove it in a later change (or add it back to the manifest to keep it)"
            } else {
                "remove `protect: true` (or add the object back to the manifest) to allow this"
            };
            self.draft.error(PlanErrorKind::Protected, address, message, Some(hint));
        }

        let mut limits = SafetyLimits {
            max_deletes: self
                .cx
                .options
                .max_deletes
                .or(self.cx.desired.settings.max_deletes)
                .unwrap_or(DEFAULT_MAX_DELETES),
            allow_empty_project: self.cx.options.allow_empty_project,
            allow_empty_site: self.cx.options.allow_empty_site,
        };
        if let Some(ceiling) = self.cx.options.ceiling {
            limits = limits.tightest(ceiling);
        }
        let limit = limits.max_deletes;
        if total > limit as usize {
            self.draft.error(
                PlanErrorKind::TooManyDeletes,
                "site",
                format!("the plan deletes {total} objects, more than the limit of {limit}"),
                Some("raise --max-deletes (or settings.max_deletes) if this is intended"),
            );
        }

        if !limits.allow_empty_project {
            let kept = self.projects_with_content();
            let mut emptied = Vec::new();
            for state in &self.projects.states {
                let Some(live) = state.live else { continue };
                let items = self.cx.idx.content_in_project.get(live.id.as_str()).map_or(&[][..], Vec::as_slice);
                if !items.is_empty()
                    && items.iter().all(|(_, c)| deleted_content.contains(&c.id))
                    && !kept.contains(live.id.as_str())
                {
                    emptied.push(state.address.clone());
                }
            }
            for address in emptied {
                self.draft.error(
                    PlanErrorKind::EmptiesProject,
                    &address,
                    format!("the plan deletes every content item of {address}"),
                    Some("pass --allow-empty-project if this is intended"),
                );
            }
        }

        if !limits.allow_empty_site {
            let content_total = self.cx.live.workbooks.len() + self.cx.live.datasources.len();
            let projects: Vec<&str> = self
                .cx
                .live
                .projects
                .iter()
                .filter(|p| !(p.parent_id.is_none() && p.name.eq_ignore_ascii_case("default")))
                .map(|p| p.id.as_str())
                .collect();
            let all_content = content_total > 0 && deleted_content.len() >= content_total;
            let all_projects = !projects.is_empty() && projects.iter().all(|id| deleted_projects.contains(*id));
            if all_content || all_projects {
                self.draft.error(
                    PlanErrorKind::EmptiesSite,
                    "site",
                    "the plan deletes every content item or project of the site".to_string(),
                    Some("pass --allow-empty-site if this is intended"),
                );
            }
        }
        limits
    }
}

impl Phase<'_, '_> {
    /// Live projects that hold a manifest content item after the plan: one already there, or one the plan creates
    /// or moves there (an action a `--target` left out puts nothing anywhere).
    fn projects_with_content(&self) -> HashSet<String> {
        let planned: HashSet<&str> = self.draft.actions.values().flatten().map(|a| a.id.as_str()).collect();
        self.contents
            .states
            .iter()
            .filter_map(|state| {
                let key = state.spec.project.key();
                let destination = match self.projects.refs.get(&key) {
                    Some(ObjectRef::Live(id)) => Some(id.as_str()),
                    Some(ObjectRef::Planned(_)) => None,
                    None => self.cx.idx.projects_by_path.get(&key).map(|p| p.id.as_str()),
                }?;
                let there = state.live.is_some_and(|live| live.project_id == destination);
                (there || planned.contains(state.address.to_string().as_str())).then(|| destination.to_owned())
            })
            .collect()
    }
}
