//! Explicit permissions (projects, workbooks, data sources, views) and project default permissions: query, add
//! (validating capability names per content kind), delete one capability.

use super::{Ctx, Reply};
use crate::error::{ApiError, ApiResult};
use crate::store::{Rule, State};
use crate::xml::Elem;

/// Capability names per content kind, all from the schema's `capabilityType` (ts-api_3_29.xsd); names outside it
/// (e.g. `CreateRefreshMetrics`) are rejected as Tableau Cloud does.
const WORKBOOK_CAPS: &[&str] = &[
    "AddComment",
    "ChangeHierarchy",
    "ChangePermissions",
    "Delete",
    "ExportData",
    "ExportImage",
    "ExportXml",
    "Filter",
    "Read",
    "ShareView",
    "ViewComments",
    "ViewUnderlyingData",
    "WebAuthoring",
    "Write",
    "RunExplainData",
    "ExtractRefresh",
    "VizqlDataApiAccess",
];
const DATASOURCE_CAPS: &[&str] = &[
    "ChangePermissions",
    "Connect",
    "Delete",
    "ExportXml",
    "Read",
    "Write",
    "SaveAs",
    "ExtractRefresh",
    "VizqlDataApiAccess",
    "PulseMetricDefine",
    "ChangeHierarchy",
];
const PROJECT_CAPS: &[&str] = &["Read", "Write", "ProjectLeader"];
/// The workbook capabilities that act on one view (Tableau help, permissions_capabilities.htm: View, Filter,
/// comments, downloads, Share Customized, Web Edit, Delete, Set Permissions); tableauserverclient's
/// test/assets/view_populate_permissions.xml holds a view rule of this kind.
const VIEW_CAPS: &[&str] = &[
    "AddComment",
    "ChangePermissions",
    "Delete",
    "ExportData",
    "ExportImage",
    "Filter",
    "Read",
    "ShareView",
    "ViewComments",
    "ViewUnderlyingData",
    "WebAuthoring",
];

fn valid_caps(resource: &str) -> &'static [&'static str] {
    match resource {
        "projects" => PROJECT_CAPS,
        "views" => VIEW_CAPS,
        "workbooks" | "default:workbooks" => WORKBOOK_CAPS,
        _ => DATASOURCE_CAPS,
    }
}

/// The workbook a view belongs to.
pub(crate) fn view_workbook<'s>(state: &'s State, view_id: &str) -> Option<&'s crate::store::Workbook> {
    state.workbooks.iter().find(|w| w.views.iter().any(|v| v.id == view_id))
}

fn resource_elem(state: &State, resource: &str, id: &str) -> Option<Elem> {
    if resource == "views" {
        let workbook = view_workbook(state, id)?;
        let view = workbook.views.iter().find(|v| v.id == id)?;
        return Some(
            Elem::new("view")
                .attr("id", id)
                .attr("name", &view.name)
                .child(Elem::new("owner").attr("id", &workbook.content.owner_id)),
        );
    }
    let (name, owner) = match resource {
        "workbooks" => {
            state.workbooks.iter().find(|w| w.content.id == id).map(|w| (&w.content.name, &w.content.owner_id))?
        }
        "datasources" => {
            state.datasources.iter().find(|d| d.content.id == id).map(|d| (&d.content.name, &d.content.owner_id))?
        }
        _ => state.project(id).map(|p| (&p.name, &p.owner_id))?,
    };
    let tag = match resource {
        "workbooks" => "workbook",
        "datasources" => "datasource",
        _ => "project",
    };
    Some(Elem::new(tag).attr("id", id).attr("name", name).child(Elem::new("owner").attr("id", owner)))
}

/// The locked project that controls the rules of `resource`/`id`, and the rules it applies there: content of a
/// project locked either way, or under an ancestor `LockedToProject`, has that project's default rules for its kind;
/// a project nested under `LockedToProject` (its rules and its defaults) has the locking project's (Tableau help,
/// permissions_project_lock.htm; enterprisetableau.com 2018-02 "Lock Project Permission").
fn controller(state: &State, resource: &str, id: &str) -> Option<(String, String)> {
    let locked = |project_id: &str, nested_too: bool| {
        state.project(project_id).is_some_and(|p| {
            p.content_permissions == "LockedToProject"
                || (!nested_too && p.content_permissions == "LockedToProjectWithoutNested")
        })
    };
    let ancestor_locked = |project_id: &str| {
        let mut parent = state.project(project_id).and_then(|p| p.parent_id.clone());
        for _ in 0..64 {
            let ancestor = parent?;
            if locked(&ancestor, true) {
                return Some(ancestor);
            }
            parent = state.project(&ancestor).and_then(|p| p.parent_id.clone());
        }
        None
    };
    match resource {
        // A view's rules are locked with its workbook's (permissions_project_lock.htm: "applied to all
        // workbooks, views, and data sources in the hierarchy").
        "views" => {
            let workbook = view_workbook(state, id)?;
            controller(state, "workbooks", &workbook.content.id)
        }
        "workbooks" | "datasources" => {
            let project = match resource {
                "workbooks" => state.workbooks.iter().find(|w| w.content.id == id).map(|w| &w.content.project_id),
                _ => state.datasources.iter().find(|d| d.content.id == id).map(|d| &d.content.project_id),
            }?;
            let locker = if locked(project, false) { Some(project.clone()) } else { ancestor_locked(project) }?;
            Some((locker, format!("default:{resource}")))
        }
        _ => ancestor_locked(id).map(|locker| (locker, resource.to_owned())),
    }
}

/// Replaces the stored rules of every object under `project_id` (the project itself, its nested projects and their
/// default rules, and the content in all of them) that a locked project controls with the rules the lock applies
/// there. Tableau does this when a project is locked: "no matter what permissions each content had before, all
/// content permission will be changed to the same as default from project level", and when it is unlocked "all
/// workbooks and data source permissions remain the same" as they were under the lock (enterprisetableau.com
/// 2018-02, "Lock Project Permission"; help permissions_project_lock.htm: "the top-level project's permissions
/// settings are applied to all workbooks, views, and data sources in the hierarchy"); nested projects under
/// `LockedToProject` "have same permissions as parent project has" (community.tableau.com thread 261974). Called
/// before and after a project's lock or place changes, so what a lock showed is what its objects keep.
pub(crate) fn settle_locked_rules(state: &mut State, project_id: &str) {
    let mut projects = vec![project_id.to_owned()];
    let mut i = 0;
    while i < projects.len() {
        let parent = projects[i].clone();
        projects.extend(
            state.projects.iter().filter(|p| p.parent_id.as_deref() == Some(parent.as_str())).map(|p| p.id.clone()),
        );
        i += 1;
    }
    let inside: std::collections::HashSet<&str> = projects.iter().map(String::as_str).collect();
    let mut targets: Vec<(String, String)> = Vec::new();
    for project in &projects {
        for resource in ["projects", "default:workbooks", "default:datasources"] {
            targets.push((resource.to_owned(), project.clone()));
        }
    }
    let workbooks = state.workbooks.iter().map(|w| ("workbooks", &w.content));
    let datasources = state.datasources.iter().map(|d| ("datasources", &d.content));
    for (resource, content) in workbooks.chain(datasources) {
        if inside.contains(content.project_id.as_str()) {
            targets.push((resource.to_owned(), content.id.clone()));
        }
    }
    settle(state, &targets);
}

/// [`settle_locked_rules`] for one workbook or data source (`resource` = `workbooks`/`datasources`), around a move.
pub(crate) fn settle_locked_item(state: &mut State, resource: &str, id: &str) {
    settle(state, &[(resource.to_owned(), id.to_owned())]);
}

fn settle(state: &mut State, targets: &[(String, String)]) {
    let mut replaced = std::collections::HashSet::new();
    let mut copies = Vec::new();
    for (resource, id) in targets {
        let Some((locker, applied)) = controller(state, resource, id) else { continue };
        copies.extend(
            state.permissions.iter().filter(|r| r.resource == applied && r.resource_id == locker).map(|r| Rule {
                resource: resource.clone(),
                resource_id: id.clone(),
                ..r.clone()
            }),
        );
        replaced.insert((resource.as_str(), id.as_str()));
    }
    if replaced.is_empty() {
        return;
    }
    state.permissions.retain(|r| !replaced.contains(&(r.resource.as_str(), r.resource_id.as_str())));
    state.permissions.extend(copies);
}

fn rules_elem(state: &State, resource: &str, id: &str) -> Elem {
    // Rules a locked project controls are its own, and the response names it as the `parent`
    // (the schema's `permissionsType` has a `parent` of `type="Project"`; its use here is inferred).
    if let Some((locker, applied)) = controller(state, resource, id) {
        let head = if resource.starts_with("default:") { None } else { resource_elem(state, resource, id) };
        let rules = grantee_blocks(state, &applied, &locker);
        return Elem::new("permissions")
            .opt_child(head)
            .child(Elem::new("parent").attr("id", &locker).attr("type", "Project"))
            .children(rules);
    }
    let head = if resource.starts_with("default:") { None } else { resource_elem(state, resource, id) };
    // A view of a workbook that shows its sheets as tabs has the workbook's rules: Tableau applies permissions to
    // such views through the workbook (help: permissions_view.htm, "Permissions on views").
    if let Some(workbook) = tabbed_workbook(state, resource, id) {
        return Elem::new("permissions").opt_child(head).children(grantee_blocks(state, "workbooks", &workbook));
    }
    Elem::new("permissions").opt_child(head).children(grantee_blocks(state, resource, id))
}

/// The id of the workbook whose rules a view follows because the workbook shows tabs.
fn tabbed_workbook(state: &State, resource: &str, id: &str) -> Option<String> {
    if resource != "views" {
        return None;
    }
    view_workbook(state, id).filter(|w| w.show_tabs).map(|w| w.content.id.clone())
}

fn grantee_blocks(state: &State, resource: &str, id: &str) -> Vec<Elem> {
    let rules: Vec<&Rule> =
        state.permissions.iter().filter(|r| r.resource == resource && r.resource_id == id).collect();
    let mut grantees: Vec<(&str, &str)> = Vec::new();
    for rule in &rules {
        let key = (rule.grantee_kind.as_str(), rule.grantee_id.as_str());
        if !grantees.contains(&key) {
            grantees.push(key);
        }
    }
    grantees
        .into_iter()
        .map(|(kind, gid)| {
            let caps = rules
                .iter()
                .filter(|r| r.grantee_kind == kind && r.grantee_id == gid)
                .map(|r| Elem::new("capability").attr("name", &r.capability).attr("mode", &r.mode));
            Elem::new("granteeCapabilities")
                .child(Elem::new(kind).attr("id", gid))
                .child(Elem::new("capabilities").children(caps))
        })
        .collect()
}

/// Tableau refuses changing rules a locked project controls: 403004 "User does not have permission for action.
/// (LOCKED_CHILD_PROJECT_CANNOT_BE_CHANGED)" (kb.tableau.com, "403004 Error Returned Using Rest API").
fn refuse_if_locked(state: &State, resource: &str, id: &str) -> ApiResult<()> {
    match controller(state, resource, id) {
        Some(_) => Err(ApiError::new(
            403004,
            "Forbidden",
            "User does not have permission for action.(LOCKED_CHILD_PROJECT_CANNOT_BE_CHANGED)",
        )),
        None => Ok(()),
    }
}

fn check_grantee(state: &State, kind: &str, id: &str) -> ApiResult<()> {
    match kind {
        "group" if state.groups.iter().any(|g| g.id == id) => Ok(()),
        "group" => Err(ApiError::not_found(404012, "Group", id)),
        "user" if state.users.iter().any(|u| u.id == id) => Ok(()),
        "user" => Err(ApiError::not_found(404002, "User", id)),
        _ => Err(ApiError::bad_request(format!("Unknown grantee type '{kind}'."))),
    }
}

/// `rest` = segments after `permissions` (or after `default-permissions/{kind}`).
pub async fn route(ctx: &mut Ctx, method: &str, resource: &str, id: &str, rest: &[&str]) -> ApiResult<Reply> {
    match (method, rest) {
        ("GET", []) => Reply::ok(vec![rules_elem(&ctx.shared.lock(), resource, id)]),
        ("PUT", []) => add(ctx, resource, id).await,
        ("DELETE", [kind, grantee, capability, mode]) => {
            let kind = match kind.to_ascii_lowercase().as_str() {
                "groups" => "group",
                "users" => "user",
                other => return Err(ApiError::unknown_resource(other)),
            };
            let mut state = ctx.shared.lock();
            refuse_if_locked(&state, resource, id)?;
            check_grantee(&state, kind, grantee)?;
            let before = state.permissions.len();
            state.permissions.retain(|r| {
                !(r.resource == resource
                    && r.resource_id == id
                    && r.grantee_kind == kind
                    && r.grantee_id == *grantee
                    && r.capability == *capability
                    && r.mode == *mode)
            });
            if state.permissions.len() == before {
                return Err(ApiError::new(
                    404013,
                    "Resource Not Found",
                    format!("Capability '{capability}:{mode}' is not assigned to {kind} '{grantee}'."),
                ));
            }
            Ok(Reply::NoContent)
        }
        _ => Err(ApiError::method_not_allowed(method, "permissions")),
    }
}

async fn add(ctx: &mut Ctx, resource: &str, id: &str) -> ApiResult<Reply> {
    let root = ctx.xml().await?;
    let perms = root.child("permissions").ok_or_else(|| ApiError::bad_request("Missing permissions element."))?;
    let mut state = ctx.shared.lock();
    refuse_if_locked(&state, resource, id)?;
    let mut new_rules = Vec::new();
    for child in &perms.children {
        match child.name.as_str() {
            "project" | "workbook" | "datasource" if resource.starts_with("default:") && child.name != "project" => {
                return Err(ApiError::new(400042, "Bad Request", "Default permissions cannot name a content item."));
            }
            "project" | "workbook" | "datasource" | "view" if child.attr("id").is_some_and(|cid| cid != id) => {
                return Err(ApiError::new(404009, "Resource Not Found", "The id in the body does not match the URI."));
            }
            "granteeCapabilities" => {
                let grantee = child
                    .children
                    .iter()
                    .find(|c| matches!(c.name.as_str(), "user" | "group"))
                    .ok_or_else(|| ApiError::bad_request("granteeCapabilities needs a user or group."))?;
                let gid = grantee.attr("id").ok_or_else(|| ApiError::bad_request("The grantee id is missing."))?;
                check_grantee(&state, &grantee.name, gid)?;
                let caps = child
                    .child("capabilities")
                    .map(|c| c.children_named("capability").collect())
                    .unwrap_or_else(Vec::new);
                for cap in caps {
                    let name = cap.attr("name").unwrap_or_default();
                    let mode = cap.attr("mode").unwrap_or_default();
                    if !valid_caps(resource).contains(&name) {
                        return Err(ApiError::new(
                            400009,
                            "Bad Request",
                            format!("The capability '{name}' is not valid for {resource}."),
                        ));
                    }
                    if !matches!(mode, "Allow" | "Deny") || (name == "ProjectLeader" && mode == "Deny") {
                        return Err(ApiError::new(
                            400009,
                            "Bad Request",
                            format!("Invalid mode '{mode}' for '{name}'."),
                        ));
                    }
                    new_rules.push(Rule {
                        resource: resource.to_owned(),
                        resource_id: id.to_owned(),
                        grantee_kind: grantee.name.clone(),
                        grantee_id: gid.to_owned(),
                        capability: name.to_owned(),
                        mode: mode.to_owned(),
                    });
                }
            }
            _ => {}
        }
    }
    if tabbed_workbook(&state, resource, id).is_some() {
        // Rules on a view of a workbook showing tabs do not apply (the workbook's do): accepted, not kept.
        new_rules.clear();
    }
    for rule in new_rules {
        // One mode per capability and grantee, and "if a specified permission has already been granted or denied
        // for a given user or group, the system ignores it" (REST reference, Add Project/Workbook/Data Source
        // Permissions): an Allow does not replace a Deny or vice versa; the old rule must be deleted first.
        let held = state.permissions.iter().any(|r| {
            r.resource == rule.resource
                && r.resource_id == rule.resource_id
                && r.grantee_kind == rule.grantee_kind
                && r.grantee_id == rule.grantee_id
                && r.capability == rule.capability
        });
        if !held {
            state.permissions.push(rule);
        }
    }
    Reply::ok(vec![rules_elem(&state, resource, id)])
}
