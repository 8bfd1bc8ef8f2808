//! Projects: create (parents first), update in place, move and rename via `renamed_from`. Live projects the
//! manifest does not list are the prune phase's.

use std::collections::{HashMap, HashSet};

use tabops_manifest::model::{Address, ProjectPath, ProjectSpec};

use crate::inventory::LiveProject;
use crate::origin::project_digest;
use crate::plan::{
    Action, Aspect, FieldChange, ObjectKind, ObjectRef, Operation, Origin, ParentChange, PlanErrorKind, PlannedAction,
};

use super::{
    Ctx, Draft, MovedOut, Principals, ProjectState, Referenced, deps_of, project_ref, rename_conflict, user_display,
    val,
};

/// What the project phase produces.
#[derive(Default)]
pub(crate) struct Projects<'a> {
    /// Each manifest project (parents first) and what it matched.
    pub states: Vec<ProjectState<'a>>,
    /// Manifest projects by [`ProjectPath::key`]: live, or created by this plan.
    pub refs: HashMap<Vec<String>, ObjectRef>,
    /// Live projects matched by a manifest project.
    pub claimed: HashSet<&'a str>,
    /// Live projects used as parents without being listed.
    pub referenced: Referenced<'a>,
    pub moved_out: MovedOut<'a>,
}

/// Projects: each manifest project, parents first, matched by path or `renamed_from`.
pub(super) fn plan_projects<'a>(cx: &Ctx<'a>, principals: &Principals, draft: &mut Draft) -> Projects<'a> {
    let mut out = Projects::default();
    for spec in &cx.desired.projects {
        let address = Address::project(&spec.path);
        let unclaimed = |path: &ProjectPath| {
            cx.idx.projects_by_path.get(&path.key()).copied().filter(|p| !out.claimed.contains(p.id.as_str()))
        };
        let by_path = unclaimed(&spec.path);
        let by_old = spec.renamed_from.as_ref().and_then(unclaimed);
        if let (Some(new), Some(old)) = (by_path, by_old)
            && new.id != old.id
        {
            rename_conflict(draft, &address, &spec.path, &cx.idx.path_of(&old.id));
        }
        let live = by_path.or(by_old);
        let parent = match spec.path.parent() {
            None => None,
            Some(parent_path) => match project_ref(&cx.idx, &out.refs, &mut out.referenced, &parent_path) {
                Some(r) => Some(r),
                None => {
                    draft.error(
                        PlanErrorKind::MissingProject,
                        &address,
                        format!("parent project '{parent_path}' is neither in the manifest nor on the site"),
                        None,
                    );
                    continue;
                }
            },
        };
        let owner = principals.owner(&cx.idx, draft, spec.owner.as_deref(), &address);
        let object = match live {
            None => {
                let object = ObjectRef::Planned(address.to_string());
                draft.push(create_project(spec, &address, parent, owner));
                object
            }
            Some(live) => {
                out.claimed.insert(&live.id);
                draft.record_row(&live.id, live);
                let update = update_project(cx, &mut out.moved_out, spec, live, &address, parent, owner);
                if let Some(action) = update {
                    draft.push(action);
                }
                ObjectRef::Live(live.id.clone())
            }
        };
        out.refs.insert(spec.path.key(), object.clone());
        out.states.push(ProjectState { spec, live, object, address });
    }
    out
}

fn fields_origin(spec: &ProjectSpec, address: &Address) -> Origin {
    Origin { address: address.clone(), aspect: Aspect::Fields, digest: Some(project_digest(spec, Aspect::Fields)) }
}

/// A manifest project the site does not have.
fn create_project(
    spec: &ProjectSpec,
    address: &Address,
    parent: Option<ObjectRef>,
    owner: Option<ObjectRef>,
) -> PlannedAction {
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
    PlannedAction {
        id: address.to_string(),
        kind: ObjectKind::Project,
        action: Action::Create,
        reason: "not on the site".into(),
        changes,
        depends_on: deps_of([parent.as_ref(), owner.as_ref()]),
        live_id: None,
        origin: fields_origin(spec, address),
        operation: Operation::CreateProject {
            name: spec.path.name().to_string(),
            parent,
            description: spec.description.clone(),
            content_permissions: spec.content_permissions,
            owner,
        },
    }
}

/// A manifest project the site has: what differs, or `None` when nothing does. A move is recorded in
/// `moved_out` under the project it leaves.
fn update_project<'a>(
    cx: &Ctx<'a>,
    moved_out: &mut MovedOut<'a>,
    spec: &ProjectSpec,
    live: &LiveProject,
    address: &Address,
    parent: Option<ObjectRef>,
    owner: Option<ObjectRef>,
) -> Option<PlannedAction> {
    let is_default = spec.path.depth() == 1 && spec.path.name().eq_ignore_ascii_case("default");
    let live_path = cx.idx.path_of(&live.id);
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
        if let Some(p) = live.parent_id.as_deref().and_then(|id| cx.idx.projects_by_id.get(id)) {
            moved_out.entry(p.id.as_str()).or_default().push(address.to_string());
        }
        Some(match &parent {
            None => ParentChange::TopLevel,
            Some(r) => ParentChange::Project(r.clone()),
        })
    };
    let description = spec.description.clone().filter(|d| live.description.as_deref().unwrap_or("") != d.as_str());
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
        let before = live.owner_id.as_deref().map(|id| user_display(&cx.idx, id));
        changes.push(FieldChange::new("owner", val(before), spec.owner.as_ref().and_then(val)));
    }
    if changes.is_empty() {
        return None;
    }
    if reasons.is_empty() {
        reasons.push("site differs from the manifest".into());
    }
    let mut depends_on = deps_of([owner.as_ref()]);
    if let Some(ParentChange::Project(p)) = &parent_change {
        depends_on.extend(deps_of([Some(p)]));
    }
    Some(PlannedAction {
        id: address.to_string(),
        kind: ObjectKind::Project,
        action: Action::Update,
        reason: reasons.join("; "),
        changes,
        depends_on,
        live_id: Some(live.id.clone()),
        origin: fields_origin(spec, address),
        operation: Operation::UpdateProject {
            project: live.id.clone(),
            name,
            parent: parent_change,
            description,
            content_permissions,
            owner,
        },
    })
}
