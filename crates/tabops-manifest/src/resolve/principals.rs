//! Users and groups: duplicates, site roles, auth settings and group membership references.

use std::collections::{BTreeSet, HashMap};

use super::{Cx, FileInput};
use crate::diag::did_you_mean;
use crate::model::{AuthSetting, GroupSpec, SiteRole, UserSpec};
use crate::raw::Located;

/// Site roles of older REST schemas that the current `siteRoleType` (ts-api_3_29.xsd) no longer lists.
const LEGACY_SITE_ROLES: [&str; 6] =
    ["SiteAdministrator", "Interactor", "Publisher", "ReadOnly", "UnlicensedWithPublish", "ViewerWithPublish"];

fn site_role(cx: &mut Cx<'_>, text: &Option<Located<String>>) -> Option<SiteRole> {
    let text = text.as_ref()?;
    let value = cx.expand(text)?;
    let role = SiteRole::parse(&value);
    if role.is_none() {
        let names = SiteRole::ALL.map(SiteRole::as_str);
        if LEGACY_SITE_ROLES.iter().any(|legacy| legacy.eq_ignore_ascii_case(&value)) {
            cx.problems.push(text.problem(
                format!("`{value}` is a legacy site role that Tableau Cloud rejects"),
                Some(format!(
                    "it is not in the REST schema's siteRoleType (ts-api_3_29.xsd); use one of: {}",
                    names.join(", ")
                )),
            ));
            return None;
        }
        let hint = did_you_mean(&value, names).or_else(|| Some(format!("site roles: {}", names.join(", "))));
        cx.problems.push(text.problem(format!("unknown site role `{value}`"), hint));
    }
    role
}

/// All users, sorted by name; registers them for reference checks.
pub fn users(cx: &mut Cx<'_>, files: &[FileInput]) -> Vec<UserSpec> {
    let mut seen = HashMap::new();
    let mut out = Vec::new();
    for user in files.iter().flat_map(|f| f.raw.users.iter().flatten()) {
        let raw = &user.value;
        let Some(name) = cx.expand(&raw.name) else { continue };
        if !cx.unique(&mut seen, name.to_lowercase(), &raw.name, "user") {
            continue;
        }
        cx.users.insert(name.to_lowercase(), name.clone());
        let auth_setting = raw.auth_setting.as_ref().and_then(|text| {
            let value = cx.expand(text)?;
            let setting = AuthSetting::parse(&value);
            if setting.is_none() {
                let names = AuthSetting::ALL.map(AuthSetting::as_str);
                let hint = did_you_mean(&value, names).or_else(|| Some(format!("auth settings: {}", names.join(", "))));
                cx.problems.push(text.problem(format!("unknown auth setting `{value}`"), hint));
            }
            setting
        });
        let identity_provider = cx.expand_opt(&raw.identity_provider);
        if let (Some(auth), Some(_)) = (&raw.auth_setting, &identity_provider) {
            // Tableau Cloud takes one or the other: an identity provider already says how the user signs in
            // (TSC `UserRequest`: "User cannot have both authSetting and idpConfigurationId").
            cx.problems.push(auth.problem(
                format!("user `{name}` sets both `auth_setting` and `identity_provider`"),
                Some("keep `identity_provider` on a site with several authentication configurations, `auth_setting` otherwise".to_owned()),
            ));
        }
        let role = site_role(cx, &raw.site_role);
        if let Some(role) = role {
            cx.user_roles.insert(name.to_lowercase(), role);
        }
        out.push(UserSpec {
            name,
            site_role: role,
            auth_setting,
            identity_provider,
            full_name: cx.expand_opt(&raw.full_name),
            email: cx.expand_opt(&raw.email),
        });
    }
    out.sort_by_cached_key(|u| u.name.to_lowercase());
    out
}

/// The group every Tableau site has, holding every user of the site (compared case-insensitively).
pub const ALL_USERS: &str = "All Users";

/// All groups, sorted by name; registers them for reference checks. Call after [`users`].
pub fn groups(cx: &mut Cx<'_>, files: &[FileInput]) -> Vec<GroupSpec> {
    let mut seen = HashMap::new();
    let mut out = Vec::new();
    let all: Vec<_> = files.iter().flat_map(|f| f.raw.groups.iter().flatten()).collect();
    for group in &all {
        let Some(name) = cx.expand(&group.value.name) else { continue };
        if cx.unique(&mut seen, name.to_lowercase(), &group.value.name, "group") {
            cx.groups.insert(name.to_lowercase(), name);
        }
    }
    let mut done = HashMap::new();
    for group in all {
        let raw = &group.value;
        let Some(name) = cx.expand(&raw.name) else { continue };
        if done.insert(name.to_lowercase(), ()).is_some() {
            continue;
        }
        if name.eq_ignore_ascii_case(ALL_USERS)
            && let Some(members) = &raw.members
        {
            let at = members.first().map_or(&raw.name, |m| m);
            cx.problems.push(at.problem(
                format!("`members:` for group `{name}`: Tableau keeps it holding every user of the site"),
                Some(
                    "its membership cannot be edited (Tableau help: to_add_users_groups.htm); remove `members:` and list the group \
                     only to grant it permissions"
                        .to_owned(),
                ),
            ));
        }
        let renamed_from = cx.expand_opt(&raw.renamed_from);
        if let (Some(old), Some(at)) = (&renamed_from, &raw.renamed_from)
            && old.eq_ignore_ascii_case(ALL_USERS)
        {
            cx.problems.push(at.problem(
                format!("group `{name}` is `renamed_from: {ALL_USERS}`, which Tableau does not allow"),
                Some("the All Users group cannot be renamed (Tableau help: to_add_users_groups.htm)".to_owned()),
            ));
        }
        let members = raw.members.as_ref().map(|members| {
            let mut set = BTreeSet::new();
            for member in members {
                if let Some(user) = cx.user(member) {
                    set.insert(user);
                }
            }
            set
        });
        out.push(GroupSpec {
            name,
            minimum_site_role: site_role(cx, &raw.minimum_site_role),
            members,
            protect: raw.protect.as_ref().is_some_and(|b| b.value),
            renamed_from,
        });
    }
    out.sort_by_cached_key(|g| g.name.to_lowercase());
    out
}
