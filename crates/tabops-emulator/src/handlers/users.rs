//! Users (list/get/add/update/remove, groups of a user) and groups (CRUD, membership single and bulk).

use http::StatusCode;

use super::render;
use super::{Ctx, Reply};
use crate::error::{ApiError, ApiResult};
use crate::query;
use crate::store::{self, Group, State, User};
use crate::xml::Elem;

/// The schema's `siteRoleType` (ts-api_3_29.xsd). The legacy roles that older schemas listed (SiteAdministrator,
/// Interactor, Publisher, ReadOnly, UnlicensedWithPublish, ViewerWithPublish) are not in it, and Tableau Cloud
/// rejects them.
const SITE_ROLES: &[&str] = &[
    "Creator",
    "Explorer",
    "ExplorerCanPublish",
    "Guest",
    "ServerAdministrator",
    "SiteAdministratorCreator",
    "SiteAdministratorExplorer",
    "SupportUser",
    "Unlicensed",
    "Viewer",
];
const AUTH_SETTINGS: &[&str] = &["ServerDefault", "SAML", "OpenID", "TableauIDWithMFA"];

fn check_role(role: &str) -> ApiResult<()> {
    if SITE_ROLES.contains(&role) {
        Ok(())
    } else {
        Err(ApiError::new(400013, "Bad Request", format!("Invalid site role '{role}'.")))
    }
}

fn check_auth(auth: &str) -> ApiResult<()> {
    if AUTH_SETTINGS.contains(&auth) {
        Ok(())
    } else {
        Err(ApiError::new(400000, "Bad Request", format!("Invalid authSetting '{auth}'.")))
    }
}

/// How a user added or updated with these attributes signs in: `(authSetting, idpConfigurationId)`. Tableau
/// takes one or the other (TSC `UserRequest.import_from_csv_req`: "User cannot have both authSetting and
/// idpConfigurationId"; TSC PR #1601 leaves the check to the server, whose answer is inferred: 400). A
/// configuration id must be one of the site's; the user then signs in as that configuration says.
fn sign_in_with<'a>(
    state: &'a State,
    auth: Option<&'a str>,
    idp: Option<&str>,
) -> ApiResult<(Option<&'a str>, Option<String>)> {
    match (auth, idp) {
        (Some(_), Some(_)) => {
            Err(ApiError::new(400000, "Bad Request", "A user cannot have both authSetting and idpConfigurationId."))
        }
        (Some(auth), None) => check_auth(auth).map(|()| (Some(auth), None)),
        (None, Some(id)) => {
            let configuration =
                state.site.auth_configurations.iter().find(|c| c.id.eq_ignore_ascii_case(id)).ok_or_else(|| {
                    ApiError::new(400000, "Bad Request", format!("Invalid idpConfigurationId '{id}'."))
                })?;
            Ok((Some(configuration.user_auth_setting()), Some(configuration.id.clone())))
        }
        (None, None) => Ok((None, None)),
    }
}

/// `GET /sites/{site}/site-auth-configurations` (API 3.24): every configuration, not paged. Shape: TSC
/// `SiteAuthConfiguration.from_response` and its asset `site_auth_configurations.xml`.
pub fn auth_configurations(ctx: &Ctx) -> ApiResult<Reply> {
    let state = ctx.shared.lock();
    let list = state.site.auth_configurations.iter().map(|c| {
        Elem::new("siteAuthConfiguration")
            .attr("authSetting", &c.auth_setting)
            .attr("enabled", if c.enabled { "true" } else { "false" })
            .attr("idpConfigurationId", &c.id)
            .attr("idpConfigurationName", &c.name)
            .opt_attr("knownProviderAlias", c.known_provider_alias.as_ref())
    });
    Reply::ok(vec![Elem::new("siteAuthConfigurations").children(list.collect::<Vec<_>>())])
}

fn user_mut<'a>(state: &'a mut State, id: &str) -> ApiResult<&'a mut User> {
    state.users.iter_mut().find(|u| u.id == id).ok_or_else(|| ApiError::not_found(404002, "User", id))
}

fn group_index(state: &State, id: &str) -> ApiResult<usize> {
    state.groups.iter().position(|g| g.id == id).ok_or_else(|| ApiError::not_found(404012, "Group", id))
}

pub async fn route_users(ctx: &mut Ctx, method: &str, seg: &[&str]) -> ApiResult<Reply> {
    match (method, seg) {
        ("GET", [_]) => {
            let state = ctx.shared.lock();
            let users = query::filter_sort(state.users.clone(), &ctx.query)?;
            let (page, pagination) = query::paginate(users, &ctx.query)?;
            Reply::ok(vec![pagination, Elem::new("users").children(page.iter().map(render::user).collect::<Vec<_>>())])
        }
        ("POST", [_]) => add_user(ctx).await,
        ("GET", [_, id]) => {
            let mut state = ctx.shared.lock();
            Reply::ok(vec![render::user(user_mut(&mut state, id)?)])
        }
        ("PUT", [_, id]) => update_user(ctx, id).await,
        ("DELETE", [_, id]) => remove_user(ctx, id),
        ("GET", [_, id, groups]) if groups.eq_ignore_ascii_case("groups") => {
            let state = ctx.shared.lock();
            if !state.users.iter().any(|u| u.id == *id) {
                return Err(ApiError::not_found(404002, "User", id));
            }
            let groups: Vec<Group> =
                state.groups.iter().filter(|g| g.members.iter().any(|m| m == id)).cloned().collect();
            let (page, pagination) = query::paginate(groups, &ctx.query)?;
            Reply::ok(vec![
                pagination,
                Elem::new("groups").children(page.iter().map(render::group).collect::<Vec<_>>()),
            ])
        }
        _ => Err(ApiError::method_not_allowed(method, "users")),
    }
}

async fn add_user(ctx: &mut Ctx) -> ApiResult<Reply> {
    let root = ctx.xml().await?;
    let node = root.child("user").ok_or_else(|| ApiError::bad_request("Missing user element."))?;
    let name = node
        .attr("name")
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request("A user name is required."))?;
    let role = node.attr("siteRole").ok_or_else(|| ApiError::new(400013, "Bad Request", "A site role is required."))?;
    check_role(role)?;
    let mut state = ctx.shared.lock();
    let (auth, idp) = sign_in_with(&state, node.attr("authSetting"), node.attr("idpConfigurationId"))?;
    let auth = auth.unwrap_or("ServerDefault").to_owned();
    if state.users.iter().any(|u| u.name.eq_ignore_ascii_case(name)) {
        return Err(ApiError::conflict(409000, format!("User '{name}' already exists on the site.")));
    }
    let user = User {
        id: store::new_id(),
        name: name.to_owned(),
        full_name: None,
        email: name.contains('@').then(|| name.to_owned()),
        site_role: role.to_owned(),
        auth_setting: auth,
        last_login: None,
        idp_configuration_id: idp,
    };
    let elem = render::user(&user);
    let id = user.id.clone();
    state.push_user(user);
    state.join_all_users(&id);
    Reply::created(elem)
}

async fn update_user(ctx: &mut Ctx, id: &str) -> ApiResult<Reply> {
    let root = ctx.xml().await?;
    let node = root.child("user").ok_or_else(|| ApiError::bad_request("Missing user element."))?;
    let mut state = ctx.shared.lock();
    let (auth, idp) = sign_in_with(&state, node.attr("authSetting"), node.attr("idpConfigurationId"))?;
    let auth = auth.map(str::to_owned);
    let user = user_mut(&mut state, id)?;
    if let Some(role) = node.attr("siteRole") {
        check_role(role)?;
        user.site_role = role.to_owned();
    }
    if let Some(auth) = auth {
        user.auth_setting = auth;
        user.idp_configuration_id = idp;
    }
    if let Some(full_name) = node.attr("fullName") {
        user.full_name = Some(full_name.to_owned());
    }
    if let Some(email) = node.attr("email") {
        user.email = Some(email.to_owned());
    }
    Reply::ok(vec![render::user(user)])
}

fn remove_user(ctx: &Ctx, id: &str) -> ApiResult<Reply> {
    let mut state = ctx.shared.lock();
    user_mut(&mut state, id)?;
    let map_to = ctx.query.get("mapAssetsTo").cloned();
    if let Some(target) = &map_to
        && !state.users.iter().any(|u| &u.id == target)
    {
        return Err(ApiError::not_found(404002, "User", target));
    }
    let owns = state.projects.iter().any(|p| p.owner_id == id)
        || state.workbooks.iter().any(|w| w.content.owner_id == id)
        || state.datasources.iter().any(|d| d.content.owner_id == id);
    if owns {
        let Some(target) = map_to else {
            // Tableau refuses to remove a user who still owns content: it answers 409 and changes their site role to
            // Unlicensed instead (Okta's Tableau Cloud connector, Remove User from Site; the code 409003 is
            // inferred). docs/tableau-cloud.md, "Effects of calls on a site".
            if let Ok(user) = user_mut(&mut state, id) {
                user.site_role = "Unlicensed".to_owned();
            }
            drop(state);
            ctx.shared.mark_dirty();
            return Err(ApiError::conflict(
                409003,
                format!("User '{id}' owns content on the site; the site role was changed to Unlicensed instead."),
            ));
        };
        for p in state.projects.iter_mut().filter(|p| p.owner_id == id) {
            p.owner_id = target.clone();
        }
        let State { workbooks, datasources, .. } = &mut *state;
        for c in workbooks.iter_mut().map(|w| &mut w.content).chain(datasources.iter_mut().map(|d| &mut d.content)) {
            if c.owner_id == id {
                c.owner_id = target.clone();
            }
        }
    }
    state.users.retain(|u| u.id != id);
    state.index_users();
    for group in &mut state.groups {
        group.members.retain(|m| m != id);
    }
    state.permissions.retain(|r| !(r.grantee_kind == "user" && r.grantee_id == id));
    // A removed user's subscriptions go with them (inferred, docs/tableau-cloud.md).
    state.subscriptions.retain(|s| s.user_id != id);
    drop(state);
    ctx.shared.sessions.close_user(id);
    Ok(Reply::NoContent)
}

pub async fn route_groups(ctx: &mut Ctx, method: &str, seg: &[&str], low: &[&str]) -> ApiResult<Reply> {
    match (method, low) {
        ("GET", [_]) => {
            let state = ctx.shared.lock();
            let groups = query::filter_sort(state.groups.clone(), &ctx.query)?;
            let (page, pagination) = query::paginate(groups, &ctx.query)?;
            Reply::ok(vec![
                pagination,
                Elem::new("groups").children(page.iter().map(render::group).collect::<Vec<_>>()),
            ])
        }
        ("POST", [_]) => create_group(ctx).await,
        ("PUT", [_, _]) => update_group(ctx, seg[1]).await,
        ("DELETE", [_, _]) => {
            let mut state = ctx.shared.lock();
            let index = group_index(&state, seg[1])?;
            refuse_all_users(&state, seg[1], "deleted")?;
            let group = state.groups.remove(index);
            state.permissions.retain(|r| !(r.grantee_kind == "group" && r.grantee_id == group.id));
            Ok(Reply::NoContent)
        }
        ("GET", [_, _, "users"]) => {
            let state = ctx.shared.lock();
            let group = &state.groups[group_index(&state, seg[1])?];
            let members: Vec<&User> = group.members.iter().filter_map(|m| state.user(m)).collect();
            let (page, pagination) = query::paginate(members, &ctx.query)?;
            Reply::ok(vec![
                pagination,
                Elem::new("users").children(page.iter().map(|u| render::user(u)).collect::<Vec<_>>()),
            ])
        }
        ("POST", [_, _, "users"]) => add_members(ctx, seg[1]).await,
        ("PUT", [_, _, "users", "remove"]) => remove_members(ctx, seg[1], &seg.join("/")).await,
        ("DELETE", [_, _, "users", _]) => {
            let mut state = ctx.shared.lock();
            let index = group_index(&state, seg[1])?;
            refuse_all_users(&state, seg[1], "edited")?;
            let user = seg[3];
            if !state.users.iter().any(|u| u.id == user) {
                return Err(ApiError::not_found(404002, "User", user));
            }
            let group = &mut state.groups[index];
            if !group.members.iter().any(|m| m == user) {
                return Err(ApiError::not_found(404002, "User in group", user));
            }
            group.members.retain(|m| m != user);
            Ok(Reply::NoContent)
        }
        _ => Err(ApiError::method_not_allowed(method, "groups")),
    }
}

/// `grantLicenseMode` on a local group's request: only with a minimum site role (Update Group reference: the
/// role "is required if an import element or grantLicenseMode attribute are present"); local groups are licensed
/// on sign-in, `onSync` belongs to Active Directory imports.
fn check_license_mode(node: &crate::xml::Node, has_role: bool) -> ApiResult<()> {
    match node.attr("grantLicenseMode") {
        None => Ok(()),
        Some(_) if !has_role => {
            Err(ApiError::bad_request("minimumSiteRole is required when grantLicenseMode is present."))
        }
        Some("onLogin") => Ok(()),
        Some(other) => Err(ApiError::bad_request(format!("Invalid grantLicenseMode '{other}' for a local group."))),
    }
}

fn check_group_name(state: &State, name: &str, except: Option<&str>) -> ApiResult<()> {
    if name.trim().is_empty() {
        return Err(ApiError::bad_request("A group name is required."));
    }
    if state.groups.iter().any(|g| g.name.eq_ignore_ascii_case(name) && Some(g.id.as_str()) != except) {
        return Err(ApiError::conflict(409009, format!("A group already exists with the name '{name}'.")));
    }
    Ok(())
}

async fn create_group(ctx: &mut Ctx) -> ApiResult<Reply> {
    let root = ctx.xml().await?;
    let node = root.child("group").ok_or_else(|| ApiError::bad_request("Missing group element."))?;
    if node.child("import").is_some() {
        return Err(ApiError::new(403011, "Forbidden", "Active Directory groups are not available on Tableau Cloud."));
    }
    let name = node.attr("name").unwrap_or_default();
    let minimum = node.attr("minimumSiteRole").map(str::to_owned);
    if let Some(role) = &minimum {
        check_role(role)?;
    }
    check_license_mode(node, minimum.is_some())?;
    let mut state = ctx.shared.lock();
    check_group_name(&state, name, None)?;
    let group = Group { id: store::new_id(), name: name.to_owned(), minimum_site_role: minimum, members: Vec::new() };
    let elem = render::group(&group);
    state.groups.push(group);
    Reply::created(elem)
}

async fn update_group(ctx: &mut Ctx, id: &str) -> ApiResult<Reply> {
    let root = ctx.xml().await?;
    let node = root.child("group").ok_or_else(|| ApiError::bad_request("Missing group element."))?;
    let mut state = ctx.shared.lock();
    let index = group_index(&state, id)?;
    if let Some(name) = node.attr("name") {
        if state.is_all_users(id) && name != state.groups[index].name {
            refuse_all_users(&state, id, "renamed")?;
        }
        check_group_name(&state, name, Some(id))?;
        state.groups[index].name = name.to_owned();
    }
    if node.child("import").is_some() {
        return Err(ApiError::bad_request("A local group's update does not accept an import element."));
    }
    let role = node.attr("minimumSiteRole");
    if let Some(role) = role {
        check_role(role)?;
    }
    check_license_mode(node, role.is_some() || state.groups[index].minimum_site_role.is_some())?;
    if let Some(role) = role {
        state.groups[index].minimum_site_role = Some(role.to_owned());
    }
    Reply::ok(vec![render::group(&state.groups[index])])
}

/// `All Users` is Tableau's own: it holds every user of the site and cannot be renamed, deleted or have its
/// membership edited (help: to_add_users_groups.htm, groups_delete.htm; rename and membership inferred from "becomes a member automatically"). The REST reference names no code for it (inferred); the emulator answers 403 as for
/// the default project it equally protects.
fn refuse_all_users(state: &State, group_id: &str, what: &str) -> ApiResult<()> {
    if state.is_all_users(group_id) {
        let detail = match what {
            "edited" => "The membership of the 'All Users' group cannot be edited: it holds every user of the site.",
            "renamed" => "The 'All Users' group cannot be renamed.",
            _ => "The 'All Users' group cannot be deleted.",
        };
        return Err(ApiError::new(403000, "Forbidden", detail));
    }
    Ok(())
}

/// The first API version with the bulk membership methods: Add Users to Group (a `<users>` list in the body of
/// `POST groups/{id}/users`) and Remove Users from Group (`PUT groups/{id}/users/remove`). TSC marks
/// `Groups.add_users` and `Groups.remove_users` `@api(version="3.21")`.
const BULK_MEMBERSHIP_VERSION: (u32, u32) = (3, 21);

/// The user ids of a membership request: one `<user id>` (Add User to Group) or, for the bulk methods, a
/// `<users>` list (TSC `GroupRequest.add_user_req` / `add_users_req` / `remove_users_req`). `tsRequest` holds one
/// element (a single `xs:choice` in the schema), so several `<user>` siblings are refused like any body the schema
/// does not allow; so is a `<users>` list before API 3.21, whose schemas have no `users` in `tsRequest`, an empty
/// list, and an id listed twice (both inferred: the reference names no code for them).
fn member_ids(ctx: &Ctx, root: &crate::xml::Node, bulk_only: bool) -> ApiResult<Vec<String>> {
    let malformed =
        |detail: &str| ApiError::bad_request(format!("Payload is either malformed XML or incomplete: {detail}"));
    let ids: Vec<String> = match root.child("users") {
        Some(_) if ctx.api_version < BULK_MEMBERSHIP_VERSION => {
            return Err(malformed("tsRequest has no 'users' element before API 3.21"));
        }
        Some(users) => users.children_named("user").filter_map(|u| u.attr("id")).map(str::to_owned).collect(),
        None if bulk_only => return Err(malformed("a 'users' element listing the users is required")),
        None => {
            let users: Vec<&crate::xml::Node> = root.children_named("user").collect();
            if users.len() > 1 {
                return Err(malformed("tsRequest holds one 'user' element; a list goes in 'users'"));
            }
            users.iter().filter_map(|u| u.attr("id")).map(str::to_owned).collect()
        }
    };
    if ids.is_empty() {
        return Err(ApiError::bad_request("No user ids given."));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(twice) = ids.iter().find(|id| !seen.insert(id.as_str())) {
        return Err(ApiError::bad_request(format!("User '{twice}' is listed more than once.")));
    }
    Ok(ids)
}

/// Add User to Group (one `<user>`, answered with it) and Add Users to Group (a `<users>` list, API 3.21,
/// answered with the list: TSC asset `group_add_users.xml`). Nothing is added unless every user can be (inferred).
async fn add_members(ctx: &mut Ctx, group_id: &str) -> ApiResult<Reply> {
    let root = ctx.xml().await?;
    let bulk = root.child("users").is_some();
    let ids = member_ids(ctx, &root, false)?;
    let mut state = ctx.shared.lock();
    let index = group_index(&state, group_id)?;
    refuse_all_users(&state, group_id, "edited")?;
    for id in &ids {
        if !state.users.iter().any(|u| &u.id == id) {
            return Err(ApiError::not_found(404002, "User", id));
        }
        if state.groups[index].members.contains(id) {
            return Err(ApiError::conflict(409011, format!("User '{id}' is already a member of the group.")));
        }
    }
    state.groups[index].members.extend(ids.iter().cloned());
    let users: Vec<Elem> = ids.iter().filter_map(|id| state.user(id)).map(render::user).collect();
    if bulk { Reply::ok(vec![Elem::new("users").children(users)]) } else { Ok(Reply::Xml(StatusCode::OK, users)) }
}

/// Remove Users from Group (`PUT groups/{id}/users/remove`, API 3.21; TSC `Groups.remove_users`, which reads no
/// response body). Nothing is removed unless every listed user is a member (inferred).
async fn remove_members(ctx: &mut Ctx, group_id: &str, path: &str) -> ApiResult<Reply> {
    if ctx.api_version < BULK_MEMBERSHIP_VERSION {
        return Err(ApiError::unknown_resource(path));
    }
    let root = ctx.xml().await?;
    let ids = member_ids(ctx, &root, true)?;
    let mut state = ctx.shared.lock();
    let index = group_index(&state, group_id)?;
    refuse_all_users(&state, group_id, "edited")?;
    for id in &ids {
        if !state.groups[index].members.contains(id) {
            return Err(ApiError::not_found(404002, "User in group", id));
        }
    }
    state.groups[index].members.retain(|m| !ids.contains(m));
    Ok(Reply::NoContent)
}
