//! The manifest as written: one [`RawFile`] per YAML file, before variables, environments, templates and
//! references are resolved. Every value remembers where it was written ([`Located`]), so the resolver can point at
//! it. These types are also the source of the JSON Schema (`schemas/tabops.schema.json`).

mod content;
mod located;
mod preview;
mod read;
mod site_settings;
mod subscription;
mod webhook;

use std::collections::BTreeMap;

use schemars::JsonSchema;

pub use content::{
    RawConnection, RawContentRename, RawDatasource, RawEvery, RawMonthDay, RawMovedFrom, RawRefresh,
    RawViewPermissions, RawWorkbook,
};
pub use located::{Located, Problem};
pub use preview::RawPreviewSettings;
pub use read::{FromNode, Reader};
pub use site_settings::RawSiteSettings;
pub use subscription::{RawSchedule, RawSubscription};
pub use webhook::RawWebhook;

/// One manifest file.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields, title = "tabops manifest (version 1)")]
pub struct RawFile {
    /// Manifest format version; required in every file.
    #[schemars(extend("const" = 1))]
    pub version: Located<u32>,
    /// The target site; in exactly one file of a directory manifest.
    pub site: Option<Located<RawSite>>,
    /// Values for `${name}` substitution. Values are used literally.
    pub vars: Option<BTreeMap<String, Located<String>>>,
    /// Per-environment overrides, selected with `--env NAME`.
    pub environments: Option<BTreeMap<String, Located<RawEnvironment>>>,
    /// Policy: pruning of groups and users, deletion limit.
    pub settings: Option<Located<RawSettings>>,
    pub users: Option<Vec<Located<RawUser>>>,
    pub groups: Option<Vec<Located<RawGroup>>>,
    pub projects: Option<Vec<Located<RawProject>>>,
    pub datasources: Option<Vec<Located<RawDatasource>>>,
    pub workbooks: Option<Vec<Located<RawWorkbook>>>,
    /// E-mail subscriptions to views and workbooks the manifest publishes.
    pub subscriptions: Option<Vec<Located<RawSubscription>>>,
    /// Tableau webhooks: an event on the site, and the URL Tableau POSTs its payload to.
    pub webhooks: Option<Vec<Located<RawWebhook>>>,
}

impl RawFile {
    pub const KEYS: &'static [&'static str] = &[
        "version",
        "site",
        "vars",
        "environments",
        "settings",
        "users",
        "groups",
        "projects",
        "datasources",
        "workbooks",
        "subscriptions",
        "webhooks",
    ];
}

/// The site a manifest targets.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawSite {
    /// `local` (the embedded emulator site, the default) or a base URL such as `https://10ax.online.tableau.com`.
    pub server: Option<Located<String>>,
    /// The site's content URL (the `acme` in `/#/site/acme/`).
    pub content_url: Located<String>,
    /// REST API version, e.g. "3.25" (quoted).
    pub api_version: Option<Located<String>>,
    /// Site settings to manage (Update Site); only the settings written here are managed.
    pub settings: Option<Located<RawSiteSettings>>,
}

impl RawSite {
    pub const KEYS: &'static [&'static str] = &["server", "content_url", "api_version", "settings"];
}

/// A site override inside an environment: every key optional.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawSiteOverride {
    pub server: Option<Located<String>>,
    pub content_url: Option<Located<String>>,
    pub api_version: Option<Located<String>>,
}

impl RawSiteOverride {
    pub const KEYS: &'static [&'static str] = &["server", "content_url", "api_version"];
}

/// Overrides applied when this environment is selected with `--env`.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawEnvironment {
    pub site: Option<Located<RawSiteOverride>>,
    /// Variables that replace or add to the top-level `vars`.
    pub vars: Option<BTreeMap<String, Located<String>>>,
    /// Connection overrides, applied to every connection whose server matches `match_server`.
    pub connections: Option<Vec<Located<RawConnectionOverride>>>,
}

impl RawEnvironment {
    pub const KEYS: &'static [&'static str] = &["site", "vars", "connections"];
}

/// A connection override in an environment.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawConnectionOverride {
    /// Compared case-insensitively with each connection's `server` as resolved with the top-level `vars`.
    pub match_server: Located<String>,
    pub server: Option<Located<String>>,
    pub port: Option<Located<u16>>,
    pub database: Option<Located<String>>,
    pub username: Option<Located<String>>,
    /// Must be `${env:NAME}`.
    pub password: Option<Located<String>>,
    pub embed: Option<Located<bool>>,
}

impl RawConnectionOverride {
    pub const KEYS: &'static [&'static str] =
        &["match_server", "server", "port", "database", "username", "password", "embed"];
}

/// Policy knobs.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawSettings {
    /// Delete groups on the site that the manifest does not list (default false).
    pub prune_groups: Option<Located<bool>>,
    /// Remove users on the site that the manifest does not list (default false).
    pub prune_users: Option<Located<bool>>,
    /// Refuse plans that delete more than this many objects.
    pub max_deletes: Option<Located<u32>>,
    /// A user (listed under `users:`) who receives everything a removed user owns. Without it, removing a user who
    /// owns projects, workbooks or data sources is a plan error: Tableau refuses and leaves the user Unlicensed.
    pub reassign_content_to: Option<Located<String>>,
    /// Delete subscriptions to the manifest's workbooks (and their views) that the manifest does not list
    /// (default false: they are listed as unmanaged). Subscriptions to other content are never touched.
    pub prune_subscriptions: Option<Located<bool>>,
    /// Preview deployments (`tabops preview`): the preview project and the reviewers group.
    pub preview: Option<Located<RawPreviewSettings>>,
    /// Delete webhooks on the site that the manifest does not list (default false).
    pub prune_webhooks: Option<Located<bool>>,
}

impl RawSettings {
    pub const KEYS: &'static [&'static str] = &[
        "prune_groups",
        "prune_users",
        "max_deletes",
        "reassign_content_to",
        "prune_subscriptions",
        "preview",
        "prune_webhooks",
    ];
}

/// A site user.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawUser {
    /// Sign-in name.
    pub name: Located<String>,
    /// Without it the user is a reference: it must exist, tabops won't change it.
    #[schemars(extend("enum" = ["Creator", "Explorer", "ExplorerCanPublish", "SiteAdministratorCreator", "SiteAdministratorExplorer", "Viewer", "Unlicensed"]))]
    pub site_role: Option<Located<String>>,
    #[schemars(extend("enum" = ["ServerDefault", "SAML", "OpenID", "TableauIDWithMFA"]))]
    pub auth_setting: Option<Located<String>>,
    /// On a Tableau Cloud site with several authentication configurations: the name of the one the user signs in
    /// with, as the site lists it (Settings > Authentication). Sent as its `idpConfigurationId`; excludes
    /// `auth_setting`.
    pub identity_provider: Option<Located<String>>,
    pub full_name: Option<Located<String>>,
    pub email: Option<Located<String>>,
}

impl RawUser {
    pub const KEYS: &'static [&'static str] =
        &["name", "site_role", "auth_setting", "identity_provider", "full_name", "email"];
}

/// A local group.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawGroup {
    pub name: Located<String>,
    #[schemars(extend("enum" = ["Creator", "Explorer", "ExplorerCanPublish", "SiteAdministratorCreator", "SiteAdministratorExplorer", "Viewer", "Unlicensed"]))]
    pub minimum_site_role: Option<Located<String>>,
    /// When present, the exact membership (user names listed under `users`).
    pub members: Option<Vec<Located<String>>>,
    pub protect: Option<Located<bool>>,
    /// The group's old name: rename in place.
    pub renamed_from: Option<Located<String>>,
}

impl RawGroup {
    pub const KEYS: &'static [&'static str] = &["name", "minimum_site_role", "members", "protect", "renamed_from"];
}

/// A project path: `Sales/EMEA` (with `\/` for a slash inside a name) or a list of names.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(untagged)]
pub enum RawProjectRef {
    Path(String),
    Segments(Vec<String>),
}

/// A project; `projects` nests to any depth.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawProject {
    pub name: Located<String>,
    pub description: Option<Located<String>>,
    #[schemars(extend("enum" = ["ManagedByOwner", "LockedToProject", "LockedToProjectWithoutNested"]))]
    pub content_permissions: Option<Located<String>>,
    pub owner: Option<Located<String>>,
    /// Delete unmanaged content and child projects under this project (default false).
    pub prune: Option<Located<bool>>,
    /// Never delete this project (default false).
    pub protect: Option<Located<bool>>,
    /// The old path: rename or move in place.
    pub renamed_from: Option<Located<RawProjectRef>>,
    /// Top-level projects only: attach under a project defined elsewhere.
    pub parent: Option<Located<RawProjectRef>>,
    /// When present, the complete set of explicit rules.
    pub permissions: Option<Vec<Located<RawRule>>>,
    pub default_permissions: Option<Located<RawDefaultPermissions>>,
    pub projects: Option<Vec<Located<RawProject>>>,
}

impl RawProject {
    pub const KEYS: &'static [&'static str] = &[
        "name",
        "description",
        "content_permissions",
        "owner",
        "prune",
        "protect",
        "renamed_from",
        "parent",
        "permissions",
        "default_permissions",
        "projects",
    ];
}

/// Default permissions a project applies to new content, per kind.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawDefaultPermissions {
    pub workbooks: Option<Vec<Located<RawRule>>>,
    pub datasources: Option<Vec<Located<RawRule>>>,
}

impl RawDefaultPermissions {
    pub const KEYS: &'static [&'static str] = &["workbooks", "datasources"];
}

/// One permission rule: exactly one grantee, and a template, capabilities, or both.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawRule {
    pub group: Option<Located<String>>,
    pub user: Option<Located<String>>,
    #[schemars(extend("enum" = ["Viewer", "Explorer", "Publisher", "ProjectLeader", "Administrator", "Denied"]))]
    pub template: Option<Located<String>>,
    /// Capability name to `Allow` or `Deny`; overrides the template's entry.
    pub capabilities: Option<BTreeMap<String, Located<RawMode>>>,
}

impl RawRule {
    pub const KEYS: &'static [&'static str] = &["group", "user", "template", "capabilities"];
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
pub enum RawMode {
    Allow,
    Deny,
}
