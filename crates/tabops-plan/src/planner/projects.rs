//! Projects: create (parents first), update in place, move and rename via `renamed_from`.

use std::fmt::Display;

use tabops_manifest::model::{Address, ProjectPath};

use crate::origin::project_digest;
use crate::plan::{
    Action, Aspect, FieldChange, ObjectKind, ObjectRef, Operation, Origin, ParentChange, PlanErrorKind, PlannedAction,
};

use super::{Ctx, ProjectState, deps_of, val};

impl<'a> Ctx<'a> {
    pub(super) fn plan_projects(&mut self) {
        let desired = self.desired;
        for spec in &desired.projects {
            let address = Address::project(&spec.path);
            let origin = Origin {
                address: address.clone(),
                aspect: Aspect::Fields,
                digest: Some(project_digest(spec, Aspect::Fields)),
            };
            let is_default = spec.path.depth() == 1 && spec.path.name().eq_ignore_ascii_case("default");
            let unclaimed = |path: &ProjectPath| {
                self.idx.projects_by_path.get(&path.key()).copied().filter(|p| !self.claimed.contains(p.id.as_str()))
            };
            let by_path = unclaimed(&spec.path);
            let by_old = spec.renamed_from.as_ref().and_then(unclaimed);
            if let (Some(new), Some(old)) = (by_path, by_old)
                && new.id != old.id
            {
                self.rename_conflict(&address, &spec.path, &self.idx.path_of(&old.id));
            }
            let live = by_path.or(by_old);
            let parent = match spec.path.parent() {
                None => None,
                Some(parent_path) => match self.project_ref(&parent_path) {
                    Some(r) => Some(r),
                    None => {
                        self.error(
                            PlanErrorKind::MissingProject,
                            &address,
                            format!("parent project '{parent_path}' is neither in the manifest nor on the site"),
                            None,
                        );
                        continue;
                    }
                },
            };
            let owner = self.owner_ref(spec.owner.as_deref(), &address);
            let Some(live) = live else {
                let mut changes = vec![FieldChange::new("name", None, val(spec.path.name()))];
                for (field, value) in [
                    ("description", val(&spec.description)),
                    ("content_permissions", val(spec.content_permissions)),
                    ("owner", spec.owner.as_ref().and_then(val)),
                ] {
                    if value.as_ref().is_some_and(|v| !v.is_null()) {
                        changes.push(FieldChange::new(field, None, value));
                    }
                }
                let object = ObjectRef::Planned(address.to_string());
                self.project_refs.insert(spec.path.key(), object.clone());
                self.push(PlannedAction {
                    id: address.to_string(),
                    kind: ObjectKind::Project,
                    action: Action::Create,
                    reason: "not on the site".into(),
                    changes,
                    depends_on: deps_of([parent.as_ref(), owner.as_ref()]),
                    live_id: None,
                    origin,
                    operation: Operation::CreateProject {
                        name: spec.path.name().to_string(),
                        parent,
                        description: spec.description.clone(),
                        content_permissions: spec.content_permissions,
                        owner,
                    },
                });
                self.projects.push(ProjectState { spec, live: None, object, address });
                continue;
            };
            self.claimed.insert(&live.id);
            self.record_row(&live.id, live);
            let object = ObjectRef::Live(live.id.clone());
            self.project_refs.insert(spec.path.key(), object.clone());
            let live_path = self.idx.path_of(&live.id);

            let mut changes = Vec::new();
            let mut reasons = Vec::new();
            let name = (!is_default && live.name != spec.path.name()).then(|| spec.path.name().to_string());
            if let Some(n) = &name {
                changes.push(FieldChange::new("name", val(&live.name), val(n)));
                if !live.name.eq_ignore_ascii_case(n) {
                    reasons.push(format!("renamed from '{}'", live.name));
                }
            }
            let same_parent = match (&parent, &live.parent_id) {
                (None, None) => true,
                (Some(ObjectRef::Live(id)), Some(live_parent)) => id == live_parent,
                _ => false,
            };
            let parent_change = if same_parent || is_default {
                None
            } else {
                let before = live_path.parent().map(|p| p.to_string());
                let after = spec.path.parent().map(|p| p.to_string());
                changes.push(FieldChange::new("parent", val(&before), val(&after)));
                reasons.push(format!(
                    "moved from '{}' to '{}'",
                    before.as_deref().unwrap_or("(top level)"),
                    after.as_deref().unwrap_or("(top level)")
                ));
                if let Some(p) = live.parent_id.as_deref().and_then(|id| self.idx.projects_by_id.get(id)) {
                    self.moved_out.entry(p.id.as_str()).or_default().push(address.to_string());
                }
                Some(match &parent {
                    None => ParentChange::TopLevel,
                    Some(r) => ParentChange::Project(r.clone()),
                })
            };
            let description =
                spec.description.clone().filter(|d| live.description.as_deref().unwrap_or("") != d.as_str());
            if let Some(d) = &description {
                changes.push(FieldChange::new("description", val(&live.description), val(d)));
            }
            let content_permissions = spec.content_permissions.filter(|c| live.content_permissions != Some(*c));
            if let Some(c) = content_permissions {
                changes.push(FieldChange::new("content_permissions", val(live.content_permissions), val(c)));
            }
            let owner = owner.filter(|o| match o {
                ObjectRef::Live(id) => live.owner_id.as_deref() != Some(id.as_str()),
                ObjectRef::Planned(_) => true,
            });
            if owner.is_some() {
                let before = live.owner_id.as_deref().map(|id| self.user_display(id));
                changes.push(FieldChange::new("owner", val(before), spec.owner.as_ref().and_then(val)));
            }
            if !changes.is_empty() {
                if reasons.is_empty() {
                    reasons.push("site differs from the manifest".into());
                }
                let mut depends_on = deps_of([owner.as_ref()]);
                if let Some(ParentChange::Project(p)) = &parent_change {
                    depends_on.extend(deps_of([Some(p)]));
                }
                self.push(PlannedAction {
                    id: address.to_string(),
                    kind: ObjectKind::Project,
                    action: Action::Update,
                    reason: reasons.join("; "),
                    changes,
                    depends_on,
                    live_id: Some(live.id.clone()),
                    origin,
                    operation: Operation::UpdateProject {
                        project: live.id.clone(),
                        name,
                        parent: parent_change,
                        description,
                        content_permissions,
                        owner,
                    },
                });
            }
            self.projects.push(ProjectState { spec, live: Some(live), object, address });
        }
    }

    /// Both the new name and the `renamed_from` name exist: the rename cannot be applied, and the old object would
    /// otherwise be treated as unmanaged (and possibly pruned).
    pub(super) fn rename_conflict(&mut self, address: &Address, new: &dyn Display, old: &dyn Display) {
        self.error(
            PlanErrorKind::Conflict,
            address,
            format!("both '{new}' and its renamed_from '{old}' exist on the site"),
            Some("remove `renamed_from` once the rename is done, or delete one of the two objects"),
        );
    }

    /// A user's name for display, from a live id.
    pub(super) fn user_display(&self, id: &str) -> String {
        self.idx.users_by_id.get(id).map_or_else(|| format!("<user {id}>"), |u| u.name.clone())
    }
}
