//! Projects: list, create, update (an empty `<project/>` PUT is TSC's read), delete (with everything inside),
//! and project permissions / default permissions.

use super::render::{self, ProjectRow};
use super::{Ctx, Reply, permissions};
use crate::error::{ApiError, ApiResult};
use crate::query;
use crate::store::{self, Project, State};
use crate::xml::Node;

pub async fn route(ctx: &mut Ctx, method: &str, seg: &[&str]) -> ApiResult<Reply> {
    match (method, seg) {
        ("GET", [_]) => list(ctx),
        ("POST", [_]) => create(ctx).await,
        ("PUT", [_, id]) => update(ctx, id).await,
        ("DELETE", [_, id]) => delete(ctx, id),
        (_, [_, id, perms, rest @ ..]) if perms.eq_ignore_ascii_case("permissions") => {
            exists(ctx, id)?;
            permissions::route(ctx, method, "projects", id, rest).await
        }
        (_, [_, id, perms, kind, rest @ ..]) if perms.eq_ignore_ascii_case("default-permissions") => {
            exists(ctx, id)?;
            let kind = kind.to_ascii_lowercase();
            if !matches!(kind.as_str(), "workbooks" | "datasources") {
                return Err(ApiError::unknown_resource(&format!("default-permissions/{kind}")));
            }
            permissions::route(ctx, method, &format!("default:{kind}"), id, rest).await
        }
        _ => Err(ApiError::method_not_allowed(method, "projects")),
    }
}

fn exists(ctx: &Ctx, id: &str) -> ApiResult<()> {
    match ctx.shared.lock().project(id) {
        Some(_) => Ok(()),
        None => Err(ApiError::not_found(404005, "Project", id)),
    }
}

fn list(ctx: &Ctx) -> ApiResult<Reply> {
    let state = ctx.shared.lock();
    let rows: Vec<ProjectRow<'_>> = state.projects.iter().map(|p| ProjectRow(&state, p)).collect();
    let rows = query::filter_sort(rows, &ctx.query)?;
    let (page, pagination) = query::paginate(rows, &ctx.query)?;
    let projects = crate::xml::Elem::new("projects").children(page.iter().map(|r| render::project(&state, r.1)));
    Reply::ok(vec![pagination, projects])
}

fn check_name(state: &State, name: &str, parent: Option<&str>, except: Option<&str>) -> ApiResult<()> {
    if name.trim().is_empty() {
        return Err(ApiError::bad_request("A project name is required."));
    }
    let clash = state.projects.iter().any(|p| {
        p.parent_id.as_deref() == parent && p.name.eq_ignore_ascii_case(name) && Some(p.id.as_str()) != except
    });
    if clash {
        return Err(ApiError::conflict(409006, format!("A project already exists with the name '{name}'")));
    }
    Ok(())
}

fn content_permissions(value: &str) -> ApiResult<String> {
    match value {
        "ManagedByOwner" | "LockedToProject" | "LockedToProjectWithoutNested" => Ok(value.to_owned()),
        _ => Err(ApiError::new(400008, "Bad Request", format!("Invalid contentPermissions value '{value}'."))),
    }
}

fn parent_of(state: &State, node: &Node) -> ApiResult<Option<String>> {
    match node.attr("parentProjectId").filter(|p| !p.is_empty()) {
        None => Ok(None),
        Some(parent) if state.project(parent).is_some() => Ok(Some(parent.to_owned())),
        Some(parent) => Err(ApiError::not_found(404005, "Parent project", parent)),
    }
}

async fn create(ctx: &mut Ctx) -> ApiResult<Reply> {
    let root = ctx.xml().await?;
    let node = root.child("project").ok_or_else(|| ApiError::bad_request("Missing project element."))?;
    let mut state = ctx.shared.lock();
    let name = node.attr("name").unwrap_or_default().to_owned();
    let parent_id = parent_of(&state, node)?;
    check_name(&state, &name, parent_id.as_deref(), None)?;
    let now = store::now();
    let project = Project {
        id: store::new_id(),
        name,
        description: node.attr("description").unwrap_or_default().to_owned(),
        parent_id,
        content_permissions: content_permissions(node.attr("contentPermissions").unwrap_or("ManagedByOwner"))?,
        owner_id: ctx.session.user_id.clone(),
        created_at: now.clone(),
        updated_at: now,
    };
    let elem = render::project(&state, &project);
    let source = project.parent_id.clone().or_else(|| state.default_project_id().map(str::to_owned));
    let new_id = project.id.clone();
    state.projects.push(project);
    // "When a new top-level project is created, it inherits its default permission rules (for all content types)
    // from the Default project. When a new project is created nested inside another project, the child project
    // inherits its default permission rules from the parent project" (help: permissions_projects.htm); the
    // project's own rules come along, as GtheSheep/terraform-provider-tableau#63 saw All Users on every project.
    if let Some(source) = source {
        let mut resources: Vec<String> = state
            .permissions
            .iter()
            .filter(|r| r.resource_id == source && (r.resource == "projects" || r.resource.starts_with("default:")))
            .map(|r| r.resource.clone())
            .collect();
        resources.sort();
        resources.dedup();
        for resource in resources {
            state.copy_rules(&resource, &source, &resource, &new_id);
        }
    }
    Reply::created(elem)
}

async fn update(ctx: &mut Ctx, id: &str) -> ApiResult<Reply> {
    let root = ctx.xml_opt().await?;
    let mut state = ctx.shared.lock();
    let current = state.project(id).cloned().ok_or_else(|| ApiError::not_found(404005, "Project", id))?;
    let Some(node) = root.as_ref().and_then(|r| r.child("project")) else {
        return Reply::ok(vec![render::project(&state, &current)]);
    };
    let mut next = current.clone();
    if let Some(name) = node.attr("name") {
        if current.name.eq_ignore_ascii_case("default") && current.parent_id.is_none() && name != current.name {
            return Err(ApiError::new(403005, "Forbidden", "The default project cannot be renamed."));
        }
        next.name = name.to_owned();
    }
    if node.attr("parentProjectId").is_some() {
        next.parent_id = parent_of(&state, node)?;
        let mut cursor = next.parent_id.clone();
        while let Some(ancestor) = cursor {
            if ancestor == id {
                return Err(ApiError::conflict(409000, "A project cannot be moved into its own subtree."));
            }
            cursor = state.project(&ancestor).and_then(|p| p.parent_id.clone());
        }
    }
    check_name(&state, &next.name, next.parent_id.as_deref(), Some(id))?;
    if let Some(description) = node.attr("description") {
        next.description = description.to_owned();
    }
    if let Some(perms) = node.attr("contentPermissions") {
        next.content_permissions = content_permissions(perms)?;
    }
    if let Some(owner) = node.child("owner").and_then(|o| o.attr("id")) {
        if state.user_name(owner).is_none() {
            return Err(ApiError::not_found(404002, "User", owner));
        }
        next.owner_id = owner.to_owned();
    }
    next.updated_at = store::now();
    let elem = render::project(&state, &next);
    // A lock that changes (or a move into or out of a locked hierarchy) leaves every object under the project with
    // the rules the lock applied to it: taken before the change (an unlock keeps them), and after (a lock replaces).
    let relocks = next.content_permissions != current.content_permissions || next.parent_id != current.parent_id;
    if relocks {
        permissions::settle_locked_rules(&mut state, id);
    }
    if let Some(slot) = state.projects.iter_mut().find(|p| p.id == id) {
        *slot = next;
    }
    if relocks {
        permissions::settle_locked_rules(&mut state, id);
    }
    Reply::ok(vec![elem])
}

fn delete(ctx: &Ctx, id: &str) -> ApiResult<Reply> {
    let mut state = ctx.shared.lock();
    let project = state.project(id).ok_or_else(|| ApiError::not_found(404005, "Project", id))?;
    if project.name.eq_ignore_ascii_case("default") && project.parent_id.is_none() {
        return Err(ApiError::new(403003, "Forbidden", "The default project cannot be deleted."));
    }
    let mut doomed = vec![id.to_owned()];
    let mut i = 0;
    while i < doomed.len() {
        let parent = doomed[i].clone();
        doomed.extend(state.projects.iter().filter(|p| p.parent_id.as_deref() == Some(&parent)).map(|p| p.id.clone()));
        i += 1;
    }
    let mut removed_content = Vec::new();
    state.projects.retain(|p| !doomed.contains(&p.id));
    state.workbooks.retain(|w| {
        let keep = !doomed.contains(&w.content.project_id);
        if !keep {
            removed_content.push((w.content.id.clone(), w.content.blob.clone()));
        }
        keep
    });
    state.datasources.retain(|d| {
        let keep = !doomed.contains(&d.content.project_id);
        if !keep {
            removed_content.push((d.content.id.clone(), d.content.blob.clone()));
        }
        keep
    });
    for (content_id, blob) in &removed_content {
        if let Some(blob) = blob {
            blob.remove_file();
        }
        state.tasks.retain(|t| &t.target_id != content_id);
    }
    state
        .permissions
        .retain(|r| !doomed.contains(&r.resource_id) && !removed_content.iter().any(|(c, _)| c == &r.resource_id));
    Ok(Reply::NoContent)
}
