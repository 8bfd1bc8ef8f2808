//! Users, groups and group memberships.

use std::collections::{BTreeSet, HashSet};

use tabops_manifest::model::{Address, GroupSpec, UserSpec};

use crate::inventory::{GranteeKind, LiveGroup, LiveIdentityProvider, LiveUser};
use crate::origin::{group_digest, user_digest};
use crate::plan::{
    Action, Aspect, FieldChange, ObjectKind, ObjectRef, Operation, Origin, PlanErrorKind, PlannedAction,
};

use super::{Ctx, Draft, Named, Pair, Principals, deps_of, rename_conflict, val};

/// The built-in group every site has; never deleted, never reported.
const ALL_USERS: &str = "all users";

fn differs(live: Option<&str>, desired: &str) -> bool {
    !live.is_some_and(|l| l.eq_ignore_ascii_case(desired))
}

/// Users: each manifest user matched by name, then the live users the manifest does not list.
pub(super) fn plan_users(cx: &Ctx<'_>, draft: &mut Draft) -> Named {
    let mut out = Named::default();
    let mut claimed: HashSet<&str> = HashSet::new();
    for spec in &cx.desired.users {
        // A user naming an authentication configuration the site does not have is not planned at all (and the
        // live user of that name is not matched).
        let idp = match spec.identity_provider.as_deref() {
            Some(name) => match identity_provider(cx, draft, name, &Address::user(spec.name.as_str())) {
                Some(idp) => Some(idp),
                None => continue,
            },
            None => None,
        };
        let live = cx.idx.users_by_name.get(&spec.name.to_lowercase()).copied();
        if let Some(l) = live {
            claimed.insert(&l.id);
        }
        plan_user(cx, draft, &mut out, Pair::of(spec, live), idp);
    }
    let mut extra: Vec<&LiveUser> = cx.live.users.iter().filter(|u| !claimed.contains(u.id.as_str())).collect();
    extra.sort_by_cached_key(|u| u.name.to_lowercase());
    for user in extra {
        plan_user(cx, draft, &mut out, Pair::Live(user), None);
    }
    out
}

/// One user: added, updated (or left as it is), removed or reported.
fn plan_user(
    cx: &Ctx<'_>,
    draft: &mut Draft,
    out: &mut Named,
    pair: Pair<&UserSpec, &LiveUser>,
    idp: Option<&LiveIdentityProvider>,
) {
    match pair {
        Pair::Desired(spec) => {
            let address = Address::user(spec.name.as_str());
            let Some(site_role) = spec.site_role else {
                draft.error(
                    PlanErrorKind::MissingUser,
                    &address,
                    format!("user '{}' is referenced by the manifest but does not exist on the site", spec.name),
                    Some("add a site_role to the user so tabops adds it, or add the user on the site first"),
                );
                return;
            };
            let mut changes = vec![FieldChange::new("site_role", None, val(site_role))];
            for (field, value) in [
                ("auth_setting", spec.auth_setting.map(|a| a.as_str().to_string())),
                ("full_name", spec.full_name.clone()),
                ("email", spec.email.clone()),
            ] {
                if value.is_some() {
                    changes.push(FieldChange::new(field, None, val(value)));
                }
            }
            if let Some(idp) = idp {
                changes.push(FieldChange::new("identity_provider", None, val(&idp.name)));
            }
            out.refs.insert(spec.name.to_lowercase(), (ObjectRef::Planned(address.to_string()), address.clone()));
            draft.push(PlannedAction {
                id: address.to_string(),
                kind: ObjectKind::User,
                action: Action::Create,
                reason: "not on the site".into(),
                changes,
                depends_on: vec![],
                live_id: None,
                origin: Origin { address, aspect: Aspect::Fields, digest: Some(user_digest(spec)) },
                operation: Operation::AddUser {
                    name: spec.name.clone(),
                    site_role,
                    auth_setting: spec.auth_setting,
                    idp_configuration_id: idp.map(|p| p.id.clone()),
                    full_name: spec.full_name.clone(),
                    email: spec.email.clone(),
                },
            });
        }
        Pair::Both(spec, live) => {
            let address = Address::user(spec.name.as_str());
            draft.record_row(&live.id, live);
            out.refs.insert(spec.name.to_lowercase(), (ObjectRef::Live(live.id.clone()), address.clone()));
            let mut changes = Vec::new();
            let site_role = spec.site_role.filter(|r| differs(Some(&live.site_role), r.as_str()));
            if let Some(r) = site_role {
                changes.push(FieldChange::new("site_role", val(&live.site_role), val(r)));
            }
            let auth_setting = spec.auth_setting.filter(|a| differs(live.auth_setting.as_deref(), a.as_str()));
            if let Some(a) = auth_setting {
                changes.push(FieldChange::new("auth_setting", val(&live.auth_setting), val(a)));
            }
            // Compared by id: the live user carries the configuration's id, the manifest its name.
            let idp_configuration_id = idp.filter(|p| live.idp_configuration_id.as_deref() != Some(&p.id)).map(|p| {
                let before = live.idp_configuration_id.as_deref().map(|id| identity_provider_name(cx, id));
                changes.push(FieldChange::new("identity_provider", val(before), val(&p.name)));
                p.id.clone()
            });
            let full_name = spec.full_name.clone().filter(|n| live.full_name.as_deref() != Some(n));
            if let Some(n) = &full_name {
                changes.push(FieldChange::new("full_name", val(&live.full_name), val(n)));
            }
            let email = spec.email.clone().filter(|e| differs(live.email.as_deref(), e));
            if let Some(e) = &email {
                changes.push(FieldChange::new("email", val(&live.email), val(e)));
            }
            if changes.is_empty() {
                return;
            }
            draft.push(PlannedAction {
                id: address.to_string(),
                kind: ObjectKind::User,
                action: Action::Update,
                reason: "site differs from the manifest".into(),
                changes,
                depends_on: vec![],
                live_id: Some(live.id.clone()),
                origin: Origin { address, aspect: Aspect::Fields, digest: Some(user_digest(spec)) },
                operation: Operation::UpdateUser {
                    user: live.id.clone(),
                    site_role,
                    auth_setting,
                    idp_configuration_id,
                    full_name,
                    email,
                },
            });
        }
        Pair::Live(user) => {
            let address = Address::user(user.name.as_str());
            if !cx.desired.settings.prune_users {
                draft.unmanaged(ObjectKind::User, &address, &user.id);
                return;
            }
            draft.record_row(&user.id, user);
            out.removed.insert((GranteeKind::User, user.id.clone()));
            draft.push(PlannedAction {
                id: address.to_string(),
                kind: ObjectKind::User,
                action: Action::Delete,
                reason: "not in manifest and settings.prune_users is on".into(),
                changes: vec![FieldChange::new("site_role", val(&user.site_role), None)],
                depends_on: vec![],
                live_id: Some(user.id.clone()),
                origin: Origin { address, aspect: Aspect::Fields, digest: None },
                operation: Operation::RemoveUser { user: user.id.clone(), map_assets_to: None },
            });
        }
    }
}

/// The site's authentication configuration named `name` (case-insensitively, as Tableau compares names), or
/// a plan error naming the ones the site has.
fn identity_provider<'a>(
    cx: &Ctx<'a>,
    draft: &mut Draft,
    name: &str,
    address: &Address,
) -> Option<&'a LiveIdentityProvider> {
    let providers = cx.live.identity_providers.as_deref().unwrap_or_default();
    if let Some(found) = providers.iter().find(|p| p.name.eq_ignore_ascii_case(name)) {
        return Some(found);
    }
    let known: Vec<String> = providers.iter().map(|p| format!("'{}'", p.name)).collect();
    let hint = if known.is_empty() {
        "the site lists no authentication configurations (they exist on Tableau Cloud from API 3.24); use \
         `auth_setting` instead"
            .to_owned()
    } else {
        format!("the site's authentication configurations: {}", known.join(", "))
    };
    draft.error(
        PlanErrorKind::UnknownIdentityProvider,
        address,
        format!("identity provider '{name}' is not one of the site's authentication configurations"),
        Some(&hint),
    );
    None
}

/// A configuration's name for display, or its id when the site does not list it.
fn identity_provider_name(cx: &Ctx<'_>, id: &str) -> String {
    let providers = cx.live.identity_providers.as_deref().unwrap_or_default();
    providers.iter().find(|p| p.id == id).map_or_else(|| id.to_owned(), |p| p.name.clone())
}

/// Groups: each manifest group matched by name or `renamed_from`, then the live groups the manifest does not list
/// (never `All Users`).
pub(super) fn plan_groups(cx: &Ctx<'_>, draft: &mut Draft) -> Named {
    let mut out = Named::default();
    let mut claimed: HashSet<&str> = HashSet::new();
    for spec in &cx.desired.groups {
        let unclaimed = |name: &str| {
            cx.idx.groups_by_name.get(&name.to_lowercase()).copied().filter(|g| !claimed.contains(g.id.as_str()))
        };
        let by_name = unclaimed(&spec.name);
        let by_old = spec.renamed_from.as_deref().and_then(unclaimed);
        if let (Some(new), Some(old)) = (by_name, by_old)
            && new.id != old.id
        {
            rename_conflict(draft, &Address::group(spec.name.as_str()), &new.name, &old.name);
        }
        let live = by_name.or(by_old);
        if let Some(l) = live {
            claimed.insert(&l.id);
        }
        plan_group(cx, draft, &mut out, Pair::of(spec, live));
    }
    let mut extra: Vec<&LiveGroup> = cx
        .live
        .groups
        .iter()
        .filter(|g| !claimed.contains(g.id.as_str()) && g.name.to_lowercase() != ALL_USERS)
        .collect();
    extra.sort_by_cached_key(|g| g.name.to_lowercase());
    for group in extra {
        plan_group(cx, draft, &mut out, Pair::Live(group));
    }
    out
}

/// One group: created, updated (or left as it is), deleted or reported.
fn plan_group(cx: &Ctx<'_>, draft: &mut Draft, out: &mut Named, pair: Pair<&GroupSpec, &LiveGroup>) {
    let origin = |spec: &GroupSpec, address: &Address| Origin {
        address: address.clone(),
        aspect: Aspect::Fields,
        digest: Some(group_digest(spec, Aspect::Fields)),
    };
    match pair {
        Pair::Desired(spec) => {
            let address = Address::group(spec.name.as_str());
            out.refs.insert(spec.name.to_lowercase(), (ObjectRef::Planned(address.to_string()), address.clone()));
            let mut changes = vec![FieldChange::new("name", None, val(&spec.name))];
            if let Some(r) = spec.minimum_site_role {
                changes.push(FieldChange::new("minimum_site_role", None, val(r)));
            }
            draft.push(PlannedAction {
                id: address.to_string(),
                kind: ObjectKind::Group,
                action: Action::Create,
                reason: "not on the site".into(),
                changes,
                depends_on: vec![],
                live_id: None,
                origin: origin(spec, &address),
                operation: Operation::CreateGroup {
                    name: spec.name.clone(),
                    minimum_site_role: spec.minimum_site_role,
                },
            });
        }
        Pair::Both(spec, live) => {
            let address = Address::group(spec.name.as_str());
            draft.record_row(&live.id, live);
            out.refs.insert(spec.name.to_lowercase(), (ObjectRef::Live(live.id.clone()), address.clone()));
            let mut changes = Vec::new();
            let mut reason = "site differs from the manifest".to_string();
            // `All Users` is Tableau's own and cannot be renamed: a manifest spelling it in another case is the
            // same group, not a rename.
            let name = (live.name != spec.name && live.name.to_lowercase() != ALL_USERS).then(|| spec.name.clone());
            if let Some(n) = &name {
                changes.push(FieldChange::new("name", val(&live.name), val(n)));
                if !live.name.eq_ignore_ascii_case(n) {
                    reason = format!("renamed from '{}'", live.name);
                }
            }
            let minimum_site_role =
                spec.minimum_site_role.filter(|r| differs(live.minimum_site_role.as_deref(), r.as_str()));
            if let Some(r) = minimum_site_role {
                changes.push(FieldChange::new("minimum_site_role", val(&live.minimum_site_role), val(r)));
            }
            if changes.is_empty() {
                return;
            }
            draft.push(PlannedAction {
                id: address.to_string(),
                kind: ObjectKind::Group,
                action: Action::Update,
                reason,
                changes,
                depends_on: vec![],
                live_id: Some(live.id.clone()),
                origin: origin(spec, &address),
                operation: Operation::UpdateGroup { group: live.id.clone(), name, minimum_site_role },
            });
        }
        Pair::Live(group) => {
            let address = Address::group(group.name.as_str());
            if !cx.desired.settings.prune_groups {
                draft.unmanaged(ObjectKind::Group, &address, &group.id);
                return;
            }
            draft.record_row(&group.id, group);
            out.removed.insert((GranteeKind::Group, group.id.clone()));
            draft.push(PlannedAction {
                id: address.to_string(),
                kind: ObjectKind::Group,
                action: Action::Delete,
                reason: "not in manifest and settings.prune_groups is on".into(),
                changes: vec![FieldChange::new("name", val(&group.name), None)],
                depends_on: vec![],
                live_id: Some(group.id.clone()),
                origin: Origin { address, aspect: Aspect::Fields, digest: None },
                operation: Operation::DeleteGroup { group: group.id.clone() },
            });
        }
    }
}

/// Exact membership for groups whose `members` the manifest lists: each listed member (added unless the live
/// group has them), then each live member the manifest does not list (removed).
pub(super) fn plan_memberships(cx: &Ctx<'_>, principals: &Principals, draft: &mut Draft) {
    for spec in &cx.desired.groups {
        let Some(members) = &spec.members else { continue };
        let Some((group, group_address)) = principals.group(&cx.idx, &spec.name) else { continue };
        let origin = Origin {
            address: group_address,
            aspect: Aspect::Members,
            digest: Some(group_digest(spec, Aspect::Members)),
        };
        let live_group = match &group {
            ObjectRef::Live(id) => cx.idx.groups_by_id.get(id.as_str()).copied(),
            ObjectRef::Planned(_) => None,
        };
        let live_members: BTreeSet<&str> = live_group
            .and_then(|g| g.members.as_ref())
            .map(|m| m.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let mut wanted: HashSet<String> = HashSet::new();
        let mut sorted: Vec<&String> = members.iter().collect();
        sorted.sort_by_cached_key(|n| n.to_lowercase());
        for name in sorted {
            let Some((user, user_address)) = principals.user(&cx.idx, name) else {
                draft.error(
                    PlanErrorKind::MissingUser,
                    format!("membership:{}/{}", spec.name, name),
                    format!(
                        "group '{}' lists member '{name}', who is neither in the manifest nor on the site",
                        spec.name
                    ),
                    Some("list the user under `users:` with a site_role"),
                );
                continue;
            };
            let already_member = match &user {
                ObjectRef::Live(id) => {
                    wanted.insert(id.clone());
                    live_members.contains(id.as_str())
                }
                ObjectRef::Planned(_) => false,
            };
            if already_member {
                continue;
            }
            let display = user_address.name();
            draft.push(PlannedAction {
                id: format!("membership:{}/{display}", spec.name),
                kind: ObjectKind::Membership,
                action: Action::Create,
                reason: format!("'{display}' is a member in the manifest"),
                changes: vec![],
                depends_on: deps_of([Some(&group), Some(&user)]),
                live_id: None,
                origin: origin.clone(),
                operation: Operation::AddMember { group: group.clone(), user },
            });
        }
        let Some(live_group) = live_group else { continue };
        for member in live_members.iter().filter(|m| !wanted.contains(**m)) {
            let display = cx.idx.users_by_id.get(member).map_or_else(|| member.to_string(), |u| u.name.clone());
            draft.push(PlannedAction {
                id: format!("membership:{}/{display}", spec.name),
                kind: ObjectKind::Membership,
                action: Action::Delete,
                reason: "not a member in the manifest (membership is exact)".into(),
                changes: vec![],
                depends_on: vec![],
                live_id: Some(member.to_string()),
                origin: origin.clone(),
                operation: Operation::RemoveMember { group: live_group.id.clone(), user: member.to_string() },
            });
        }
    }
}
