//! The live site snapshot the planner diffs against.
//!
//! This is plain data: the executor's fetcher fills it from the REST client, tests build it by hand. It speaks the
//! manifest's normalised vocabulary (capabilities, schedules) so that the diff compares like with like. Permissions
//! and group members are only fetched for objects the manifest manages, so an absent entry means "not fetched",
//! never "empty".
//!
//! Each row can be digested ([`row_digest`]); a saved plan records the digests of the rows it depends on so that
//! applying it later can refuse a plan whose inputs changed on the site ([`crate::Plan::check_fresh`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tabops_manifest::model::{Capability, ContentKind, ContentPermissions, Mode, RefreshType, Schedule};
use tabops_manifest::site_settings::SettingValue;

/// The signed-in site.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveSite {
    pub id: String,
    pub content_url: String,
    /// The site's settings (Get Site), by manifest key (`revision_limit`); `None` when not read (the manifest
    /// manages no site setting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<BTreeMap<String, SettingValue>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveProject {
    pub id: String,
    pub name: String,
    /// `None` for a top-level project.
    pub parent_id: Option<String>,
    pub description: Option<String>,
    pub content_permissions: Option<ContentPermissions>,
    pub owner_id: Option<String>,
    pub updated_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveUser {
    pub id: String,
    /// Sign-in name.
    pub name: String,
    /// The site role as the server spells it (it may be a role the manifest cannot express, e.g. `ServerAdministrator`).
    pub site_role: String,
    pub auth_setting: Option<String>,
    pub full_name: Option<String>,
    pub email: Option<String>,
    /// The authentication configuration the user signs in with (`idpConfigurationId`, API 3.24+ on Cloud).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp_configuration_id: Option<String>,
}

/// One of the site's authentication configurations (`GET /sites/{site}/site-auth-configurations`, API 3.24+).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveIdentityProvider {
    /// `idpConfigurationId`.
    pub id: String,
    /// `idpConfigurationName`, the name the manifest uses.
    pub name: String,
    /// `authSetting`, e.g. `SAML`, `OIDC`.
    pub auth_setting: Option<String>,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveGroup {
    pub id: String,
    pub name: String,
    /// As the server spells it.
    pub minimum_site_role: Option<String>,
    /// Member user ids; `None` when not fetched (membership not managed for this group).
    pub members: Option<Vec<String>>,
}

/// A published workbook or data source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveContent {
    pub id: String,
    pub name: String,
    pub project_id: String,
    pub description: Option<String>,
    pub owner_id: Option<String>,
    /// Every tag, marker tags included.
    pub tags: Vec<String>,
    /// Workbooks only.
    pub show_tabs: Option<bool>,
    pub updated_at: Option<String>,
    pub size: Option<u64>,
    pub content_url: Option<String>,
    /// Workbooks only: names of the views that are not hidden; `None` when not fetched.
    pub visible_views: Option<Vec<String>>,
    /// Whether the item holds an extract (`hasExtracts`); `None` when the server did not say. Tableau refuses
    /// refreshes of content without one (409090).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_extracts: Option<bool>,
    /// The item's connections, read only for items whose manifest entry lists `connections:`; `None` when not
    /// fetched (left out of the row digest then, so items without managed connections digest as before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connections: Option<Vec<LiveConnection>>,
}

/// One connection of a published workbook or data source, as `GET …/connections` answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveConnection {
    pub id: String,
    /// Connection type (`postgres`, `hyper`, `sqlproxy`, …).
    pub connection_type: Option<String>,
    pub server: String,
    pub port: Option<String>,
    pub username: Option<String>,
    pub embed_password: bool,
}

/// The item an extract-refresh task refreshes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TaskTarget {
    pub kind: ContentKind,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveRefreshTask {
    pub id: String,
    pub target: TaskTarget,
    pub refresh_type: RefreshType,
    /// The normalised schedule; `None` when the server's schedule cannot be expressed in the manifest.
    pub schedule: Option<Schedule>,
    /// The schedule as the server described it, for display.
    pub schedule_text: String,
}

impl LiveRefreshTask {
    /// The schedule in the manifest's words when it can be expressed there (so before/after read alike), else as
    /// the server described it.
    pub fn describe_schedule(&self) -> String {
        self.schedule.as_ref().map(ToString::to_string).unwrap_or_else(|| self.schedule_text.clone())
    }
}

/// A view of a workbook (read only when the manifest declares subscriptions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveView {
    pub id: String,
    pub workbook_id: String,
    pub name: String,
}

/// A subscription, with its content resolved to a workbook (and view name) through the site's view list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveSubscription {
    pub id: String,
    pub subject: String,
    pub message: Option<String>,
    pub attach_image: bool,
    pub attach_pdf: bool,
    pub page_orientation: Option<String>,
    pub page_size: Option<String>,
    pub send_if_empty: bool,
    pub suspended: bool,
    /// The workbook subscribed to, or the workbook of the view; `None` when the content is unknown.
    pub workbook_id: Option<String>,
    /// The view's name, for a subscription to a view.
    pub view: Option<String>,
    /// Whether the subscription is to a view (`type="View"`).
    pub is_view: bool,
    pub user_id: Option<String>,
    /// The normalised schedule; `None` when it cannot be expressed in the manifest.
    pub schedule: Option<Schedule>,
    /// The schedule as the server described it, for display.
    pub schedule_text: String,
}

/// Whether a permission grantee is a group or a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GranteeKind {
    Group,
    User,
}

impl GranteeKind {
    /// The path segment used by the permission endpoints (`groups` / `users`).
    pub fn path_segment(self) -> &'static str {
        match self {
            GranteeKind::Group => "groups",
            GranteeKind::User => "users",
        }
    }
}

/// A grantee as the site knows it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LiveGrantee {
    pub kind: GranteeKind,
    pub id: String,
}

/// The explicit rules on one object: grantee -> capability -> mode.
pub type LiveRules = BTreeMap<LiveGrantee, BTreeMap<Capability, Mode>>;

/// Default permissions of one project, per content kind; `None` = not fetched.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveDefaultPermissions {
    pub workbooks: Option<Vec<LiveRule>>,
    pub datasources: Option<Vec<LiveRule>>,
}

/// One grantee's capabilities (the serialisable form of a [`LiveRules`] entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveRule {
    pub grantee: LiveGrantee,
    pub capabilities: BTreeMap<Capability, Mode>,
}

/// Turn a rule list into a map keyed by grantee (later duplicates merge into earlier ones).
pub fn rules_by_grantee(rules: &[LiveRule]) -> LiveRules {
    let mut map = LiveRules::new();
    for rule in rules {
        map.entry(rule.grantee.clone()).or_default().extend(rule.capabilities.iter().map(|(c, m)| (*c, *m)));
    }
    map
}

/// Everything the planner knows about the site.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    pub site: LiveSite,
    pub projects: Vec<LiveProject>,
    pub users: Vec<LiveUser>,
    pub groups: Vec<LiveGroup>,
    pub workbooks: Vec<LiveContent>,
    pub datasources: Vec<LiveContent>,
    pub refresh_tasks: Vec<LiveRefreshTask>,
    /// Explicit permissions per object id (project, workbook or data source); absent = not fetched.
    pub permissions: BTreeMap<String, Vec<LiveRule>>,
    /// Default permissions per project id; absent = not fetched.
    pub default_permissions: BTreeMap<String, LiveDefaultPermissions>,
    /// Objects (by id) whose explicit rules a locked project controls, with that project's id, as the permission
    /// responses name it (`<parent>`); only for the objects whose rules were read.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub controlled: BTreeMap<String, String>,
    /// Workbook id -> its views' ids by sheet name, read only for the workbooks whose manifest entry has
    /// `view_permissions:` (their views' rules are in `permissions`, keyed by view id).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub view_ids: BTreeMap<String, BTreeMap<String, String>>,
    /// The site's authentication configurations; `None` when not fetched (no user in the manifest names one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_providers: Option<Vec<LiveIdentityProvider>>,
    /// The site's subscriptions; `None` when not fetched (the manifest neither declares nor prunes any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscriptions: Option<Vec<LiveSubscription>>,
    /// The site's views with their ids; `None` when not fetched (read with the subscriptions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub views: Option<Vec<LiveView>>,
    /// The site's webhooks; `None` when not fetched (the manifest neither declares nor prunes webhooks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhooks: Option<Vec<LiveWebhook>>,
}

/// A webhook of the site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveWebhook {
    pub id: String,
    pub name: String,
    /// The API event name as the site reports it (`DatasourceRefreshFailed`); `None` when it names none.
    pub event: Option<String>,
    pub url: Option<String>,
    pub enabled: bool,
}

/// sha256 (hex) of a row's canonical JSON. Struct fields serialise in declaration order and maps are `BTreeMap`s,
/// so equal rows always give equal digests.
pub fn row_digest<T: Serialize>(row: &T) -> String {
    let mut hasher = Sha256::new();
    // Writing into a hasher cannot fail, and rows have string keys only.
    let _ = serde_json::to_writer(&mut hasher, row);
    hex::encode(hasher.finalize())
}

/// The key a permission row is recorded under in a plan's inputs.
pub fn permissions_row_key(object_id: &str) -> String {
    format!("permissions:{object_id}")
}

/// The key the site-settings row is recorded under in a plan's inputs.
pub const SITE_SETTINGS_ROW_KEY: &str = "site_settings";

/// The key a default-permission row is recorded under in a plan's inputs.
pub fn default_permissions_row_key(project_id: &str, kind: ContentKind) -> String {
    format!("default_permissions:{project_id}:{}", kind.as_str())
}

impl Inventory {
    /// Digest of every row, keyed by live id (objects) or by [`permissions_row_key`] /
    /// [`default_permissions_row_key`] (permission rows). Linear in the inventory's size.
    pub fn row_digests(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        if let Some(settings) = &self.site.settings {
            out.insert(SITE_SETTINGS_ROW_KEY.to_owned(), row_digest(settings));
        }
        for p in &self.projects {
            out.insert(p.id.clone(), row_digest(p));
        }
        for u in &self.users {
            out.insert(u.id.clone(), row_digest(u));
        }
        for g in &self.groups {
            out.insert(g.id.clone(), row_digest(g));
        }
        for c in self.workbooks.iter().chain(&self.datasources) {
            out.insert(c.id.clone(), row_digest(c));
        }
        for t in &self.refresh_tasks {
            out.insert(t.id.clone(), row_digest(t));
        }
        for s in self.subscriptions.iter().flatten() {
            out.insert(s.id.clone(), row_digest(s));
        }
        for w in self.webhooks.iter().flatten() {
            out.insert(w.id.clone(), row_digest(w));
        }
        for (id, rules) in &self.permissions {
            out.insert(permissions_row_key(id), row_digest(rules));
        }
        for (id, defaults) in &self.default_permissions {
            if let Some(rules) = &defaults.workbooks {
                out.insert(default_permissions_row_key(id, ContentKind::Workbook), row_digest(rules));
            }
            if let Some(rules) = &defaults.datasources {
                out.insert(default_permissions_row_key(id, ContentKind::Datasource), row_digest(rules));
            }
        }
        out
    }

    pub fn content(&self, kind: ContentKind) -> &[LiveContent] {
        match kind {
            ContentKind::Workbook => &self.workbooks,
            ContentKind::Datasource => &self.datasources,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: &str) -> LiveUser {
        LiveUser {
            id: "u1".into(),
            name: "alice@acme.com".into(),
            site_role: role.into(),
            auth_setting: None,
            full_name: None,
            email: None,
            idp_configuration_id: None,
        }
    }

    #[test]
    fn row_digests_change_with_any_field_and_only_then() {
        let a = Inventory { users: vec![user("Viewer")], ..Default::default() };
        let b = Inventory { users: vec![user("Viewer")], ..Default::default() };
        let c = Inventory { users: vec![user("Creator")], ..Default::default() };
        assert_eq!(a.row_digests(), b.row_digests());
        assert_ne!(a.row_digests()["u1"], c.row_digests()["u1"]);
    }

    #[test]
    fn permission_rows_are_keyed_apart_from_objects() {
        let mut inv = Inventory::default();
        inv.permissions.insert("p1".into(), vec![]);
        inv.default_permissions
            .insert("p1".into(), LiveDefaultPermissions { workbooks: Some(vec![]), datasources: None });
        let digests = inv.row_digests();
        assert!(digests.contains_key("permissions:p1"));
        assert!(digests.contains_key("default_permissions:p1:workbook"));
        assert!(!digests.contains_key("default_permissions:p1:datasource"));
    }
}
