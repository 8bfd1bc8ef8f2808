//! The resolved desired state: what the manifest means, after variables are substituted, environments applied,
//! templates expanded, project paths resolved and content files hashed.
//!
//! This is the contract between the manifest loader (which produces a [`Desired`]) and the planner (which diffs it
//! against the live inventory). The vocabulary types here (capabilities, site roles, schedules, project paths) are
//! also used by the planner's inventory model, so both sides of a diff speak the same normalised language: two
//! values that Tableau treats as equal must compare equal here.
//!
//! Nothing in this module does I/O.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use crate::address::{Address, AddressKind};
pub use crate::preview::PreviewSettings;
pub use crate::subscriptions::{
    PAGE_SIZES, PageOrientation, SubscriptionContent, SubscriptionFields, SubscriptionSpec, identity_key,
    schedule_slug, subscription_address,
};
pub use crate::webhook::{WebhookEvent, WebhookSpec};

/// Where the site lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "url")]
pub enum Server {
    /// The embedded emulator site, persisted under `.tabops/` next to the manifest.
    Local,
    /// A Tableau Cloud (or Server) base URL, e.g. `https://10ax.online.tableau.com`.
    Url(String),
}

/// The site a manifest targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteTarget {
    pub server: Server,
    /// The site's content URL (the `acme` in `/#/site/acme/`).
    pub content_url: String,
    /// REST API version to use; `None` lets the client pick its default.
    pub api_version: Option<String>,
}

/// Policy knobs from the manifest's `settings:` block.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Settings {
    /// Delete groups that exist on the site but not in the manifest.
    pub prune_groups: bool,
    /// Remove users that exist on the site but not in the manifest.
    pub prune_users: bool,
    /// Refuse a plan that deletes more than this many objects (CLI `--max-deletes` overrides).
    pub max_deletes: Option<u32>,
    /// The user who receives what a removed user owns (Remove User from Site `mapAssetsTo`); without one, removing
    /// a user who owns content is a plan error, since Tableau would refuse and leave them Unlicensed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reassign_content_to: Option<String>,
    /// Delete subscriptions to the manifest's workbooks and their views that the manifest does not list.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub prune_subscriptions: bool,
    /// `settings.preview`: where `tabops preview` publishes and who may see it; `None` = the defaults. Skipped
    /// when unset, so the digests of manifests without it are what they were before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<PreviewSettings>,
    /// Delete webhooks that exist on the site but not in the manifest.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub prune_webhooks: bool,
}

/// A project's location: the names from the top-level project down to the project itself.
///
/// Segments are compared case-insensitively, as Tableau compares names. In text, segments are joined with `/`;
/// a `/` inside a name is written `\/` (and a `\` as `\\`), so every path has one unambiguous spelling.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProjectPath(pub Vec<String>);

impl ProjectPath {
    pub fn new(segments: Vec<String>) -> Self {
        Self(segments)
    }
    pub fn segments(&self) -> &[String] {
        &self.0
    }
    /// The project's own name (the last segment).
    pub fn name(&self) -> &str {
        self.0.last().map(String::as_str).unwrap_or("")
    }
    /// The parent project's path, or `None` for a top-level project.
    pub fn parent(&self) -> Option<ProjectPath> {
        (self.0.len() > 1).then(|| ProjectPath(self.0[..self.0.len() - 1].to_vec()))
    }
    pub fn child(&self, name: impl Into<String>) -> ProjectPath {
        let mut segments = self.0.clone();
        segments.push(name.into());
        ProjectPath(segments)
    }
    pub fn depth(&self) -> usize {
        self.0.len()
    }
    /// A key that is equal for paths Tableau considers the same (case-insensitive names).
    pub fn key(&self) -> Vec<String> {
        self.0.iter().map(|s| s.to_lowercase()).collect()
    }
    /// Parse the textual form (`Sales/EMEA`, with `\/` for a slash inside a name).
    pub fn parse(text: &str) -> ProjectPath {
        let mut segments = Vec::new();
        let mut current = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let Some(next) = chars.next() {
                        current.push(next);
                    }
                }
                '/' => segments.push(std::mem::take(&mut current)),
                other => current.push(other),
            }
        }
        segments.push(current);
        ProjectPath(segments)
    }
}

/// Case-insensitive character stream of one name, for comparisons that must not allocate: paths are compared and
/// hashed inside every sort and map lookup of the planner, tens of thousands of times at scale.
pub(crate) fn folded(name: &str) -> impl Iterator<Item = char> + '_ {
    name.chars().flat_map(char::to_lowercase)
}

/// Writes one name as a path segment: `/` as `\/` and `\` as `\\` (the one place this escaping is written).
pub(crate) fn write_escaped(f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
    let mut rest = name;
    while let Some(i) = rest.find(['/', '\\']) {
        f.write_str(&rest[..i])?;
        f.write_str(if rest.as_bytes()[i] == b'/' { "\\/" } else { "\\\\" })?;
        rest = &rest[i + 1..];
    }
    f.write_str(rest)
}

impl PartialEq for ProjectPath {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len() && self.0.iter().zip(&other.0).all(|(a, b)| folded(a).eq(folded(b)))
    }
}
impl Eq for ProjectPath {}
impl std::hash::Hash for ProjectPath {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        for segment in &self.0 {
            for c in folded(segment) {
                state.write_u32(c as u32);
            }
            // A separator that no character folds to, so ["ab"] and ["a", "b"] hash apart.
            state.write_u32(u32::MAX);
        }
    }
}
impl PartialOrd for ProjectPath {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ProjectPath {
    /// The order of [`ProjectPath::key`]: segment by segment, case-insensitively.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        for (a, b) in self.0.iter().zip(&other.0) {
            match folded(a).cmp(folded(b)) {
                std::cmp::Ordering::Equal => continue,
                unequal => return unequal,
            }
        }
        self.0.len().cmp(&other.0.len())
    }
}

impl fmt::Display for ProjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("/")?;
            }
            write_escaped(f, segment)?;
        }
        Ok(())
    }
}

/// A secret value (a connection password). Never printed, never serialised in clear.
///
/// A secret remembers where it came from (`${env:NAME}`), and serialises as that reference, so a saved plan can be
/// applied later (the executor reads the variable again) without the plan file ever holding the value.
///
/// A secret whose variable is not set when the manifest is loaded is *unresolved*: it has its reference but no
/// value. Planning never needs the value (passwords are not part of any comparison or marker), so `plan`, `drift`
/// and `validate` work without connection secrets; `apply` checks that every secret it will send is set before
/// its first write.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    value: Option<String>,
    env_var: Option<String>,
}

impl Secret {
    /// A secret read from the environment variable `env_var`.
    pub fn from_env(env_var: impl Into<String>, value: impl Into<String>) -> Self {
        Self { value: Some(value.into()), env_var: Some(env_var.into()) }
    }
    /// A reference to the environment variable `env_var`, which was not set when the manifest was loaded.
    pub fn unresolved(env_var: impl Into<String>) -> Self {
        Self { value: None, env_var: Some(env_var.into()) }
    }
    /// A secret with no known source (tests, interactive input). Serialises as `<redacted>`.
    pub fn new(value: impl Into<String>) -> Self {
        Self { value: Some(value.into()), env_var: None }
    }
    /// Whether the value is known (false for [`Secret::unresolved`]).
    pub fn is_resolved(&self) -> bool {
        self.value.is_some()
    }
    /// The clear value, for the one place that must send it (the publish request). Empty for an unresolved
    /// secret: resolve it first (`SecretRef::resolve` in the planner does, and fails when the variable is unset).
    pub fn expose(&self) -> &str {
        self.value.as_deref().unwrap_or_default()
    }
    /// The environment variable the value came from.
    pub fn env_var(&self) -> Option<&str> {
        self.env_var.as_deref()
    }
    /// Re-read a secret from its serialised reference (`${env:NAME}`) using `lookup`.
    pub fn resolve(reference: &str, lookup: impl Fn(&str) -> Option<String>) -> Option<Secret> {
        let name = reference.strip_prefix("${env:")?.strip_suffix('}')?;
        lookup(name).map(|value| Secret::from_env(name, value))
    }
}
impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.env_var {
            Some(var) => write!(f, "Secret(${{env:{var}}})"),
            None => f.write_str("Secret(<redacted>)"),
        }
    }
}
impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.env_var {
            Some(var) => serializer.serialize_str(&format!("${{env:{var}}}")),
            None => serializer.serialize_str("<redacted>"),
        }
    }
}

/// Tableau site roles (Tableau Cloud names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SiteRole {
    Creator,
    Explorer,
    ExplorerCanPublish,
    SiteAdministratorCreator,
    SiteAdministratorExplorer,
    Viewer,
    Unlicensed,
}

impl SiteRole {
    pub const ALL: [SiteRole; 7] = [
        SiteRole::Creator,
        SiteRole::Explorer,
        SiteRole::ExplorerCanPublish,
        SiteRole::SiteAdministratorCreator,
        SiteRole::SiteAdministratorExplorer,
        SiteRole::Viewer,
        SiteRole::Unlicensed,
    ];
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            SiteRole::Creator => "Creator",
            SiteRole::Explorer => "Explorer",
            SiteRole::ExplorerCanPublish => "ExplorerCanPublish",
            SiteRole::SiteAdministratorCreator => "SiteAdministratorCreator",
            SiteRole::SiteAdministratorExplorer => "SiteAdministratorExplorer",
            SiteRole::Viewer => "Viewer",
            SiteRole::Unlicensed => "Unlicensed",
        }
    }
    pub fn parse(text: &str) -> Option<SiteRole> {
        SiteRole::ALL.into_iter().find(|r| r.as_str().eq_ignore_ascii_case(text))
    }

    /// Whether a user of this role may be given ownership of a project. Tableau help, "Manage Content Ownership"
    /// (owner.htm), table "Who can change or be given ownership": a top-level project may be given to a server or
    /// site administrator (Creator and Explorer), a Creator or an Explorer (can publish); a nested project to "any
    /// administrator or owner, excluding Explorer and Viewer", which names the same roles.
    pub fn may_own_projects(self) -> bool {
        matches!(
            self,
            SiteRole::SiteAdministratorCreator
                | SiteRole::SiteAdministratorExplorer
                | SiteRole::Creator
                | SiteRole::ExplorerCanPublish
        )
    }

    /// Whether a user of this role may be given ownership of a workbook or data source (owner.htm: administrators,
    /// Creator, Explorer, Viewer; an Unlicensed user may not).
    pub fn may_own_content(self) -> bool {
        self != SiteRole::Unlicensed
    }

    /// The roles [`may_own_projects`](Self::may_own_projects) allows, for messages.
    pub fn project_owner_roles() -> String {
        SiteRole::ALL.into_iter().filter(|r| r.may_own_projects()).map(SiteRole::as_str).collect::<Vec<_>>().join(", ")
    }
}

/// How users sign in (Tableau Cloud `authSetting`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AuthSetting {
    ServerDefault,
    SAML,
    OpenID,
    TableauIDWithMFA,
}

impl AuthSetting {
    pub const ALL: [AuthSetting; 4] =
        [AuthSetting::ServerDefault, AuthSetting::SAML, AuthSetting::OpenID, AuthSetting::TableauIDWithMFA];
    pub fn as_str(self) -> &'static str {
        match self {
            AuthSetting::ServerDefault => "ServerDefault",
            AuthSetting::SAML => "SAML",
            AuthSetting::OpenID => "OpenID",
            AuthSetting::TableauIDWithMFA => "TableauIDWithMFA",
        }
    }
    pub fn parse(text: &str) -> Option<AuthSetting> {
        AuthSetting::ALL.into_iter().find(|a| a.as_str().eq_ignore_ascii_case(text))
    }
}

/// A project's `contentPermissions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ContentPermissions {
    ManagedByOwner,
    LockedToProject,
    LockedToProjectWithoutNested,
}

impl ContentPermissions {
    pub const ALL: [ContentPermissions; 3] = [
        ContentPermissions::ManagedByOwner,
        ContentPermissions::LockedToProject,
        ContentPermissions::LockedToProjectWithoutNested,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ContentPermissions::ManagedByOwner => "ManagedByOwner",
            ContentPermissions::LockedToProject => "LockedToProject",
            ContentPermissions::LockedToProjectWithoutNested => "LockedToProjectWithoutNested",
        }
    }
    pub fn parse(text: &str) -> Option<ContentPermissions> {
        ContentPermissions::ALL.into_iter().find(|c| c.as_str().eq_ignore_ascii_case(text))
    }
}

/// The kind of object a permission rule set is attached to. Determines which capabilities are valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PermissionTarget {
    Project,
    Workbook,
    Datasource,
    /// One view (sheet) of a workbook that does not show tabs.
    View,
}

/// A Tableau permission capability (wire names from the REST schema).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Capability {
    AddComment,
    ChangeHierarchy,
    ChangePermissions,
    Connect,
    Delete,
    ExportData,
    ExportImage,
    ExportXml,
    ExtractRefresh,
    Filter,
    ProjectLeader,
    Read,
    RunExplainData,
    SaveAs,
    ShareView,
    ViewComments,
    ViewUnderlyingData,
    WebAuthoring,
    Write,
}

impl Capability {
    pub const ALL: [Capability; 19] = [
        Capability::AddComment,
        Capability::ChangeHierarchy,
        Capability::ChangePermissions,
        Capability::Connect,
        Capability::Delete,
        Capability::ExportData,
        Capability::ExportImage,
        Capability::ExportXml,
        Capability::ExtractRefresh,
        Capability::Filter,
        Capability::ProjectLeader,
        Capability::Read,
        Capability::RunExplainData,
        Capability::SaveAs,
        Capability::ShareView,
        Capability::ViewComments,
        Capability::ViewUnderlyingData,
        Capability::WebAuthoring,
        Capability::Write,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Capability::AddComment => "AddComment",
            Capability::ChangeHierarchy => "ChangeHierarchy",
            Capability::ChangePermissions => "ChangePermissions",
            Capability::Connect => "Connect",
            Capability::Delete => "Delete",
            Capability::ExportData => "ExportData",
            Capability::ExportImage => "ExportImage",
            Capability::ExportXml => "ExportXml",
            Capability::ExtractRefresh => "ExtractRefresh",
            Capability::Filter => "Filter",
            Capability::ProjectLeader => "ProjectLeader",
            Capability::Read => "Read",
            Capability::RunExplainData => "RunExplainData",
            Capability::SaveAs => "SaveAs",
            Capability::ShareView => "ShareView",
            Capability::ViewComments => "ViewComments",
            Capability::ViewUnderlyingData => "ViewUnderlyingData",
            Capability::WebAuthoring => "WebAuthoring",
            Capability::Write => "Write",
        }
    }

    pub fn parse(text: &str) -> Option<Capability> {
        Capability::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// Whether Tableau accepts this capability on the given kind of object.
    pub fn valid_for(self, target: PermissionTarget) -> bool {
        use Capability::*;
        match target {
            PermissionTarget::Project => matches!(self, Read | Write | ProjectLeader),
            // The workbook capabilities that act on one view (Tableau help, permissions_capabilities.htm).
            PermissionTarget::View => matches!(
                self,
                AddComment
                    | ChangePermissions
                    | Delete
                    | ExportData
                    | ExportImage
                    | Filter
                    | Read
                    | ShareView
                    | ViewComments
                    | ViewUnderlyingData
                    | WebAuthoring
            ),
            PermissionTarget::Workbook => matches!(
                self,
                AddComment
                    | ChangeHierarchy
                    | ChangePermissions
                    | Delete
                    | ExportData
                    | ExportImage
                    | ExportXml
                    | ExtractRefresh
                    | Filter
                    | Read
                    | RunExplainData
                    | ShareView
                    | ViewComments
                    | ViewUnderlyingData
                    | WebAuthoring
                    | Write
            ),
            PermissionTarget::Datasource => matches!(
                self,
                ChangePermissions | Connect | Delete | ExportXml | ExtractRefresh | Read | SaveAs | Write
            ),
        }
    }
}

/// Allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Mode {
    Allow,
    Deny,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Allow => "Allow",
            Mode::Deny => "Deny",
        }
    }
}

/// Who a permission rule applies to. Users are named by their sign-in name, groups by name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "name")]
pub enum Grantee {
    Group(String),
    User(String),
}

impl Grantee {
    /// The grantee's address: `group:NAME` or `user:NAME`.
    pub fn address(&self) -> Address {
        match self {
            Grantee::Group(n) => Address::group(n.as_str()),
            Grantee::User(n) => Address::user(n.as_str()),
        }
    }
    /// Case-insensitive identity key.
    pub fn key(&self) -> (u8, String) {
        match self {
            Grantee::Group(n) => (0, n.to_lowercase()),
            Grantee::User(n) => (1, n.to_lowercase()),
        }
    }
}

impl fmt::Display for Grantee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.address().fmt(f)
    }
}

/// The complete set of explicit capabilities one grantee has on one object (templates already expanded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GranteeRules {
    pub grantee: Grantee,
    pub capabilities: BTreeMap<Capability, Mode>,
}

/// A managed permission set. `None` where the manifest has no `permissions:` key means "not managed, leave alone";
/// `Some(vec![])` means "no explicit rules at all" (every explicit rule on the site is revoked).
pub type PermissionSet = Option<Vec<GranteeRules>>;

// The content kinds and file types live with the content files (`tabops-content`); re-exported here, where the
// model has always named them.
pub use tabops_content::{ContentKind, FileType};

/// A content file on disk, hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentFile {
    /// Absolute path on disk (or, for manifests read from git, the path inside the repository).
    pub path: PathBuf,
    /// The path as written relative to the manifest root, `/`-separated, for display.
    pub display: String,
    pub file_type: FileType,
    /// Size in bytes of the file as it will be uploaded.
    pub size: u64,
    /// Hex sha256: the canonical digest for packages, the plain file digest otherwise.
    pub sha256: String,
    /// Hex sha256 of the file's bytes as uploaded (equal to `sha256` except for packages). The client hashes the
    /// bytes while it streams them and aborts the publish unless they hash to this, so what is published is what
    /// was planned, even if the file changes on disk in between.
    #[serde(default)]
    pub file_sha256: String,
}

impl ContentFile {
    /// Records the file's digests (its upload size, canonical and raw sha256).
    pub fn set_digests(&mut self, digests: crate::hash::Digests) {
        self.size = digests.size;
        self.sha256 = digests.sha256;
        self.file_sha256 = digests.file_sha256;
    }
}

/// One data connection to embed or rewrite at publish time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionSpec {
    pub server: Option<String>,
    pub port: Option<u16>,
    pub database: Option<String>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// Embed the credentials in the published item.
    pub embed: bool,
}

/// Full or incremental extract refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshType {
    Full,
    Incremental,
}

impl RefreshType {
    /// Wire name in task create requests.
    pub fn as_wire(self) -> &'static str {
        match self {
            RefreshType::Full => "FullRefresh",
            RefreshType::Incremental => "IncrementalRefresh",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Frequency {
    Hourly,
    Daily,
    Weekly,
    Monthly,
}

impl Frequency {
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Hourly => "Hourly",
            Frequency::Daily => "Daily",
            Frequency::Weekly => "Weekly",
            Frequency::Monthly => "Monthly",
        }
    }
}

/// Day of the week, Monday first (so sorted sets read naturally).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];
    /// Wire name (`weekDay="Monday"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Weekday::Monday => "Monday",
            Weekday::Tuesday => "Tuesday",
            Weekday::Wednesday => "Wednesday",
            Weekday::Thursday => "Thursday",
            Weekday::Friday => "Friday",
            Weekday::Saturday => "Saturday",
            Weekday::Sunday => "Sunday",
        }
    }
    /// Accepts `Monday`, `monday`, `Mon`, `mon`.
    pub fn parse(text: &str) -> Option<Weekday> {
        let t = text.to_ascii_lowercase();
        Weekday::ALL.into_iter().find(|d| {
            let full = d.as_str().to_ascii_lowercase();
            t == full || (t.len() == 3 && full.starts_with(&t))
        })
    }
}

/// Day of the month for monthly schedules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum MonthDay {
    Day(u8),
    LastDay,
}

/// The interval of an hourly schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Every {
    /// `hours="N"`, N in {1, 2, 4, 6, 8, 12}.
    Hours(u8),
    /// `minutes="N"`, N in {15, 30}.
    Minutes(u8),
}

/// A time of day on a 5-minute boundary, seconds always zero (Tableau Cloud's rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TimeOfDay {
    pub hour: u8,
    pub minute: u8,
}

impl TimeOfDay {
    /// Wire form `HH:MM:SS`.
    pub fn to_wire(self) -> String {
        format!("{:02}:{:02}:00", self.hour, self.minute)
    }
    /// Parses `HH:MM` or `HH:MM:SS` (seconds must be zero to be accepted by Cloud; callers validate).
    pub fn parse(text: &str) -> Option<TimeOfDay> {
        let mut parts = text.split(':');
        let hour: u8 = parts.next()?.parse().ok()?;
        let minute: u8 = parts.next()?.parse().ok()?;
        if let Some(sec) = parts.next()
            && sec.parse::<u8>().ok()? != 0
        {
            return None;
        }
        if parts.next().is_some() || hour > 23 || minute > 59 {
            return None;
        }
        Some(TimeOfDay { hour, minute })
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

/// A normalised Tableau Cloud schedule. Two schedules Tableau treats as the same compare equal:
/// - a once-a-day `Daily` carries no `every` and no `end` (the wire's `hours="24"` is implied); a `Daily` that
///   repeats every N hours carries `every` and `end`; both carry their weekday set;
/// - `Weekly`/`Daily`/`Hourly` carry weekdays as a set, `Monthly` carries month days as a set;
/// - fields that do not apply to a frequency are empty/`None`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Schedule {
    pub frequency: Frequency,
    pub start: TimeOfDay,
    /// Hourly, and Daily with `every`: the end of the daily window.
    pub end: Option<TimeOfDay>,
    /// Hourly (always set), and Daily when it repeats every N hours (2, 4, 6, 8, 12) within `start..end`.
    pub every: Option<Every>,
    pub weekdays: BTreeSet<Weekday>,
    pub month_days: BTreeSet<MonthDay>,
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = |set: &BTreeSet<Weekday>| set.iter().map(|d| &d.as_str()[..3]).collect::<Vec<_>>().join(",");
        match self.frequency {
            Frequency::Hourly => {
                let every = match self.every {
                    Some(Every::Hours(h)) => format!("{h}h"),
                    Some(Every::Minutes(m)) => format!("{m}m"),
                    None => "1h".to_string(),
                };
                let end = self.end.map(|e| e.to_string()).unwrap_or_default();
                write!(f, "hourly every {every} {}-{end} on {}", self.start, days(&self.weekdays))
            }
            Frequency::Daily => match (self.every, self.end) {
                (Some(every), Some(end)) => {
                    let every = match every {
                        Every::Hours(h) => format!("{h}h"),
                        Every::Minutes(m) => format!("{m}m"),
                    };
                    write!(f, "daily every {every} {}-{end} on {}", self.start, days(&self.weekdays))
                }
                _ => write!(f, "daily at {} on {}", self.start, days(&self.weekdays)),
            },
            Frequency::Weekly => write!(f, "weekly at {} on {}", self.start, days(&self.weekdays)),
            Frequency::Monthly => {
                let md = self
                    .month_days
                    .iter()
                    .map(|d| match d {
                        MonthDay::Day(n) => n.to_string(),
                        MonthDay::LastDay => "last".to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(",");
                write!(f, "monthly at {} on day {md}", self.start)
            }
        }
    }
}

/// One extract-refresh task for a content item.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RefreshSpec {
    pub refresh_type: RefreshType,
    pub schedule: Schedule,
}

/// A project in the desired state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectSpec {
    pub path: ProjectPath,
    /// `None` = not managed (leave whatever the site has).
    pub description: Option<String>,
    pub content_permissions: Option<ContentPermissions>,
    /// Owner's user name; `None` = not managed.
    pub owner: Option<String>,
    /// Delete content (and child projects) under this project that the manifest does not mention.
    pub prune: bool,
    /// Forbid deleting this project.
    pub protect: bool,
    /// The path this project had before a rename or move, so it is updated in place rather than recreated.
    pub renamed_from: Option<ProjectPath>,
    pub permissions: PermissionSet,
    pub default_permissions: DefaultPermissions,
}

/// Default permissions a project applies to new content.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct DefaultPermissions {
    pub workbooks: PermissionSet,
    pub datasources: PermissionSet,
}

/// A local group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupSpec {
    pub name: String,
    pub minimum_site_role: Option<SiteRole>,
    /// Exact membership (user names); `None` = membership not managed.
    pub members: Option<BTreeSet<String>>,
    pub protect: bool,
    pub renamed_from: Option<String>,
}

/// A site user. A user with `site_role: None` is a reference only: it must exist, tabops does not change it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserSpec {
    pub name: String,
    pub site_role: Option<SiteRole>,
    pub auth_setting: Option<AuthSetting>,
    /// The name of the site's authentication configuration the user signs in with (`idpConfigurationId` on the
    /// wire, resolved against the live site by the planner). Never set together with `auth_setting`.
    /// Skipped when unset, so the digests of users that do not name one are what they were before it existed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_provider: Option<String>,
    pub full_name: Option<String>,
    pub email: Option<String>,
}

/// A workbook or published data source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContentSpec {
    pub kind: ContentKind,
    pub name: String,
    pub project: ProjectPath,
    pub file: ContentFile,
    pub description: Option<String>,
    /// Managed tags (marker tags written by tabops are never part of this set); `None` = not managed.
    pub tags: Option<BTreeSet<String>>,
    pub owner: Option<String>,
    /// Workbooks only.
    pub show_tabs: Option<bool>,
    /// Workbooks only: sheet names published as hidden.
    pub hidden_views: BTreeSet<String>,
    pub connections: Vec<ConnectionSpec>,
    pub permissions: PermissionSet,
    /// Workbooks only: the complete explicit rules of single views, by sheet name (`view_permissions:`); empty when
    /// the manifest manages no view's rules. Only for workbooks that do not show tabs (validated).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub view_permissions: BTreeMap<String, Vec<GranteeRules>>,
    /// Extract-refresh tasks; `None` (no `refresh:` key) = not managed: the item's live tasks are left alone.
    /// `Some(vec![])` (`refresh: []`) = the item has none: its live tasks are deleted.
    pub refresh: Option<Vec<RefreshSpec>>,
    pub protect: bool,
    /// Old name in the same project, or `(old project, old name)` after a move + rename.
    pub renamed_from: Option<(ProjectPath, String)>,
}

impl ContentSpec {
    /// Address used in plans: `workbook:Sales/EMEA/Revenue`.
    pub fn address(&self) -> Address {
        Address::content(self.kind, &self.project, self.name.as_str())
    }
}

/// Everything the manifest asks for, resolved. Lists are in a deterministic order: projects parents first then by
/// path, everything else by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Desired {
    pub site: SiteTarget,
    /// `site.settings:` by manifest key (`revision_limit`): only the settings the manifest manages.
    pub site_settings: BTreeMap<String, crate::site_settings::SettingValue>,
    pub settings: Settings,
    pub projects: Vec<ProjectSpec>,
    pub groups: Vec<GroupSpec>,
    pub users: Vec<UserSpec>,
    pub datasources: Vec<ContentSpec>,
    pub workbooks: Vec<ContentSpec>,
    /// E-mail subscriptions, in manifest order.
    pub subscriptions: Vec<SubscriptionSpec>,
    /// Webhooks, sorted by name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub webhooks: Vec<WebhookSpec>,
    /// sha256 over the manifest source files (sorted by path) — binds a saved plan to its inputs.
    pub manifest_digest: String,
    /// `file:line` of manifest entries that plan-time checks may blame, by key: `owner:<address>`,
    /// `refresh:<address>`, `settings.reassign_content_to`.
    #[serde(skip)]
    pub locations: BTreeMap<String, String>,
}

impl Desired {
    /// `file:line` of `key` in the manifest, or the manifest itself when it is not recorded.
    pub fn location(&self, key: &str) -> String {
        self.locations.get(key).cloned().unwrap_or_else(|| "the manifest".to_owned())
    }
    /// The [`Desired::locations`] key of where the owner of `address` is named.
    pub fn owner_key(address: &Address) -> String {
        format!("owner:{address}")
    }
    /// The [`Desired::locations`] key of where the refresh tasks of `address` are listed.
    pub fn refresh_key(address: &Address) -> String {
        format!("refresh:{address}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_path_round_trips_escaped_slashes() {
        let path = ProjectPath::new(vec!["R&D".into(), "A/B".into(), "back\\slash".into()]);
        let text = path.to_string();
        assert_eq!(text, "R&D/A\\/B/back\\\\slash");
        assert_eq!(ProjectPath::parse(&text).segments(), path.segments());
    }

    #[test]
    fn project_path_order_and_hash_agree_with_the_key() {
        use std::hash::{BuildHasher, RandomState};
        let paths: Vec<ProjectPath> = ["Sales/EMEA", "sales", "Sales/emea/x", "Sal", "Ä/b", "ä/B", "a/b", "ab"]
            .iter()
            .map(|p| ProjectPath::parse(p))
            .collect();
        let hasher = RandomState::new();
        for a in &paths {
            for b in &paths {
                assert_eq!(a.cmp(b), a.key().cmp(&b.key()), "{a} vs {b}");
                assert_eq!(a == b, a.key() == b.key(), "{a} vs {b}");
                if a == b {
                    assert_eq!(hasher.hash_one(a), hasher.hash_one(b), "{a} vs {b}");
                }
            }
        }
        assert_ne!(hasher.hash_one(ProjectPath::parse("a/b")), hasher.hash_one(ProjectPath::parse("ab")));
    }

    #[test]
    fn project_paths_compare_case_insensitively() {
        assert_eq!(ProjectPath::parse("Sales/EMEA"), ProjectPath::parse("sales/emea"));
        assert_ne!(ProjectPath::parse("Sales/EMEA"), ProjectPath::parse("Sales"));
    }

    #[test]
    fn capabilities_are_checked_per_kind() {
        assert!(Capability::ProjectLeader.valid_for(PermissionTarget::Project));
        assert!(!Capability::ProjectLeader.valid_for(PermissionTarget::Workbook));
        assert!(Capability::Connect.valid_for(PermissionTarget::Datasource));
        assert!(!Capability::WebAuthoring.valid_for(PermissionTarget::Datasource));
    }

    #[test]
    fn times_parse_only_whole_minutes() {
        assert_eq!(TimeOfDay::parse("06:05"), Some(TimeOfDay { hour: 6, minute: 5 }));
        assert_eq!(TimeOfDay::parse("06:05:00").map(TimeOfDay::to_wire).as_deref(), Some("06:05:00"));
        assert_eq!(TimeOfDay::parse("06:05:30"), None);
        assert_eq!(TimeOfDay::parse("24:00"), None);
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"<redacted>\"");
        let from_env = Secret::from_env("DB_PASSWORD", "hunter2");
        assert_eq!(format!("{from_env:?}"), "Secret(${env:DB_PASSWORD})");
        let json = serde_json::to_string(&from_env).unwrap();
        assert_eq!(json, "\"${env:DB_PASSWORD}\"");
        let back = Secret::resolve("${env:DB_PASSWORD}", |name| (name == "DB_PASSWORD").then(|| "hunter2".into()));
        assert_eq!(back.as_ref().map(Secret::expose), Some("hunter2"));
    }
}
