//! Explicit permissions (projects, workbooks, data sources) and project default permissions: query, add
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

fn valid_caps(resource: &str) -> &'static [&'static str] {
    match resource {
        "projects" => PROJECT_CAPS,
        "workbooks" | "default:workbooks" => WORKBOOK_CAPS,
        _ => DATASOURCE_CAPS,
    }
}

fn resource_elem(state: &State, resource: &str, id: &str) -> Option<Elem> {
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

fn rules_elem(state: &State, resource: &str, id: &str) -> Elem {
    let rules: Vec<&Rule> =
        state.permissions.iter().filter(|r| r.resource == resource && r.resource_id == id).collect();
    let mut grantees: Vec<(&str, &str)> = Vec::new();
    for rule in &rules {
        let key = (rule.grantee_kind.as_str(), rule.grantee_id.as_str());
        if !grantees.contains(&key) {
            grantees.push(key);
        }
    }
    let blocks = grantees.into_iter().map(|(kind, gid)| {
        let caps = rules
            .iter()
            .filter(|r| r.grantee_kind == kind && r.grantee_id == gid)
            .map(|r| Elem::new("capability").attr("name", &r.capability).attr("mode", &r.mode));
        Elem::new("granteeCapabilities")
            .child(Elem::new(kind).attr("id", gid))
            .child(Elem::new("capabilities").children(caps))
    });
    let head = if resource.starts_with("default:") { None } else { resource_elem(state, resource, id) };
    Elem::new("permissions").opt_child(head).children(blocks)
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
    let mut new_rules = Vec::new();
    for child in &perms.children {
        match child.name.as_str() {
            "project" | "workbook" | "datasource" if resource.starts_with("default:") && child.name != "project" => {
                return Err(ApiError::new(400042, "Bad Request", "Default permissions cannot name a content item."));
            }
            "project" | "workbook" | "datasource" if child.attr("id").is_some_and(|cid| cid != id) => {
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
    for rule in new_rules {
        // One mode per capability and grantee: a new Allow replaces a Deny and vice versa.
        state.permissions.retain(|r| {
            !(r.resource == rule.resource
                && r.resource_id == rule.resource_id
                && r.grantee_kind == rule.grantee_kind
                && r.grantee_id == rule.grantee_id
                && r.capability == rule.capability)
        });
        state.permissions.push(rule);
    }
    Reply::ok(vec![rules_elem(&state, resource, id)])
}
