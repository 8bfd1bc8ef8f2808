//! The emulated site's state (users, groups, projects, content, tasks, jobs, permissions) and its persistence:
//! one JSON document written atomically (temp file + rename), blobs as files in a sibling directory.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::blob::Blob;
use crate::schedule::Schedule;

pub const STATE_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    pub site: Site,
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    pub projects: Vec<Project>,
    pub workbooks: Vec<Workbook>,
    pub datasources: Vec<Datasource>,
    pub tasks: Vec<Task>,
    pub jobs: Vec<Job>,
    pub permissions: Vec<Rule>,
    /// E-mail subscriptions (a state saved before they were emulated has none).
    #[serde(default)]
    pub subscriptions: Vec<Subscription>,
    /// Test hook (`POST /_emulator/jobs/fail-next`): how many of the next extract-refresh jobs will fail.
    #[serde(default)]
    pub failing_refreshes: u32,
    /// The site's webhooks (`/webhooks`); a state saved before they were emulated has none.
    #[serde(default)]
    pub webhooks: Vec<Webhook>,
    /// Where each user is in `users`, by id (see [`State::user`]); rebuilt by [`State::index_users`].
    #[serde(skip)]
    user_rows: HashMap<String, usize>,
}

/// A webhook: a trigger event (its API event name, `DatasourceRefreshFailed`) and the URL its payload goes to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Webhook {
    pub id: String,
    pub name: String,
    pub event: String,
    pub url: String,
    pub enabled: bool,
    pub owner_id: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Site {
    pub id: String,
    pub name: String,
    pub content_url: String,
    /// The site's authentication configurations (API 3.24+ on Cloud). A state saved before they were emulated
    /// gets the defaults.
    #[serde(default = "default_auth_configurations")]
    pub auth_configurations: Vec<AuthConfiguration>,
    /// The site's settings as `<site>` attributes (`revisionLimit` -> `25`); a state saved before they were
    /// emulated gets the defaults.
    #[serde(default = "crate::site_settings::defaults")]
    pub settings: BTreeMap<String, String>,
}

/// One authentication configuration of a site (`siteAuthConfiguration`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthConfiguration {
    pub id: String,
    pub name: String,
    /// As Tableau lists it on the configuration: `SAML`, `OIDC`, `TableauIDWithMFA`.
    pub auth_setting: String,
    pub enabled: bool,
    pub known_provider_alias: Option<String>,
}

impl AuthConfiguration {
    /// The `authSetting` a user signing in with this configuration lists (users say `OpenID` where the
    /// configuration says `OIDC`; TSC's `UserItem.Auth` and `SiteAuthConfiguration`).
    pub fn user_auth_setting(&self) -> &str {
        if self.auth_setting.eq_ignore_ascii_case("OIDC") { "OpenID" } else { &self.auth_setting }
    }
}

/// Two configurations, as in the site TSC's `site_auth_configurations.xml` was captured from: an OIDC provider
/// and the "Initial SAML" configuration every Cloud site has (TSC issue #1598). Ids are fixed so that a state file
/// and a manifest can refer to them.
pub fn default_auth_configurations() -> Vec<AuthConfiguration> {
    vec![
        AuthConfiguration {
            id: "00000000-0000-4000-8000-00000000a001".to_owned(),
            name: "Initial SAML".to_owned(),
            auth_setting: "SAML".to_owned(),
            enabled: true,
            known_provider_alias: None,
        },
        AuthConfiguration {
            id: "00000000-0000-4000-8000-00000000a002".to_owned(),
            name: "Initial Salesforce".to_owned(),
            auth_setting: "OIDC".to_owned(),
            enabled: true,
            known_provider_alias: Some("Salesforce".to_owned()),
        },
    ]
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub name: String,
    pub full_name: Option<String>,
    pub email: Option<String>,
    pub site_role: String,
    pub auth_setting: String,
    pub last_login: Option<String>,
    /// The authentication configuration the user was added with, when one was named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp_configuration_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub minimum_site_role: Option<String>,
    pub members: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub description: String,
    pub parent_id: Option<String>,
    pub content_permissions: String,
    pub owner_id: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct View {
    pub id: String,
    pub name: String,
    pub content_url: String,
    pub sheet_type: String,
    pub hidden: bool,
    /// What Query Views answers as `<usage totalViewCount>` with `includeUsageStatistics=true`; set by the
    /// `views/usage` test hook (nobody views anything on an emulator).
    #[serde(default)]
    pub total_view_count: u64,
    /// The fields the sheet uses (drawn on its emulated image).
    #[serde(default)]
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Connection {
    pub id: String,
    pub kind: String,
    pub server_address: String,
    pub server_port: String,
    pub user_name: String,
    pub embed_password: bool,
    /// The file's `dbname`: for a `sqlproxy` connection, the content URL of the published data source it uses
    /// (the Metadata API's lineage is derived from it).
    #[serde(default)]
    pub dbname: String,
    /// The caption (or name) of the workbook's data source holding the connection: what Query Workbook
    /// Connections names a published-data-source connection by.
    #[serde(default)]
    pub datasource_caption: String,
}

/// Fields shared by workbooks and data sources.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Content {
    pub id: String,
    pub name: String,
    pub description: String,
    pub content_url: String,
    pub project_id: String,
    pub owner_id: String,
    pub tags: Vec<String>,
    pub connections: Vec<Connection>,
    pub file_name: String,
    pub file_ext: String,
    pub size: u64,
    pub blob: Option<Blob>,
    pub created_at: String,
    pub updated_at: String,
    pub has_extracts: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Workbook {
    pub content: Content,
    pub show_tabs: bool,
    pub views: Vec<View>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Datasource {
    pub content: Content,
    pub ds_type: String,
    pub is_certified: bool,
    pub certification_note: Option<String>,
    pub encrypt_extracts: Option<String>,
    pub use_remote_query_agent: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TargetKind {
    Workbook,
    Datasource,
}

impl TargetKind {
    pub fn element(self) -> &'static str {
        match self {
            TargetKind::Workbook => "workbook",
            TargetKind::Datasource => "datasource",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Task {
    pub id: String,
    pub refresh_type: String,
    pub target_kind: TargetKind,
    pub target_id: String,
    pub schedule: Schedule,
    pub priority: u32,
    pub created_at: String,
}

/// A subscription: a user e-mailed a view or a workbook on a Cloud schedule.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Subscription {
    pub id: String,
    pub subject: String,
    pub message: String,
    pub attach_image: bool,
    pub attach_pdf: bool,
    pub page_orientation: Option<String>,
    pub page_size: Option<String>,
    pub suspended: bool,
    /// `Workbook` or `View`.
    pub content_type: String,
    pub content_id: String,
    pub send_if_view_empty: bool,
    pub user_id: String,
    pub schedule: Schedule,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    pub job_type: String,
    pub created_at: String,
    pub completed_at: Option<String>,
    pub finish_code: u8,
    pub target: Option<(TargetKind, String, String)>,
    pub polls: u32,
    #[serde(default)]
    pub created_ms: u128,
    pub notes: Option<String>,
    /// Completes with finishCode 1 and notes (armed by the fail-next test hook).
    #[serde(default)]
    pub fails: bool,
    /// Whether the webhooks of its start and of its end were sent (see `webhooks::collect`).
    #[serde(default)]
    pub announced_start: bool,
    #[serde(default)]
    pub announced_end: bool,
}

/// One permission rule. `resource` is `projects`, `workbooks`, `datasources` or `default:{kind}` (a project's
/// default permissions for that content kind).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub resource: String,
    pub resource_id: String,
    pub grantee_kind: String,
    pub grantee_id: String,
    pub capability: String,
    pub mode: String,
}

pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Now as `YYYY-MM-DDTHH:MM:SSZ`, the only timestamp form TSC parses.
pub fn now() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

pub fn now_ms() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)
}

/// A URL-safe content URL derived from a name.
pub fn content_url_for(name: &str) -> String {
    name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect()
}

pub const ADMIN_USER_NAME: &str = "admin@tabops.local";

/// The group every site has and every user of the site is in (Tableau help: to_add_users_groups.htm, "All Users").
pub const ALL_USERS: &str = "All Users";

/// What a new Tableau Cloud site's `default` project grants `All Users`: the Viewer template on the project, the
/// Viewer template as the default for workbooks and the Connect template as the default for data sources
/// (Tableau help: permissions_projects.htm, permissions_project_defaults.htm, permissions_capabilities.htm).
const DEFAULT_PROJECT_ALL_USERS: &[(&str, &[&str])] = &[
    ("projects", &["Read"]),
    ("default:workbooks", &["Read", "Filter", "ViewComments", "AddComment", "ExportImage", "ExportData"]),
    ("default:datasources", &["Read", "Connect"]),
];

impl State {
    /// A fresh site as on Tableau Cloud: a `default` project granting `All Users` what a new site grants it, the
    /// `All Users` group and one site administrator (the PAT owner), who is in it.
    pub fn new(site: &str) -> State {
        let now = now();
        let admin = User {
            id: new_id(),
            name: ADMIN_USER_NAME.to_owned(),
            full_name: Some("Tabops Admin".to_owned()),
            email: Some(ADMIN_USER_NAME.to_owned()),
            site_role: "SiteAdministratorCreator".to_owned(),
            auth_setting: "TableauIDWithMFA".to_owned(),
            last_login: None,
            idp_configuration_id: None,
        };
        let default_project = Project {
            id: new_id(),
            name: "default".to_owned(),
            description: "The default project that was automatically created by Tableau.".to_owned(),
            parent_id: None,
            content_permissions: "ManagedByOwner".to_owned(),
            owner_id: admin.id.clone(),
            created_at: now.clone(),
            updated_at: now,
        };
        let all_users = Group {
            id: new_id(),
            name: ALL_USERS.to_owned(),
            minimum_site_role: None,
            members: vec![admin.id.clone()],
        };
        let permissions = DEFAULT_PROJECT_ALL_USERS
            .iter()
            .flat_map(|(resource, caps)| {
                caps.iter().map(|cap| Rule {
                    resource: (*resource).to_owned(),
                    resource_id: default_project.id.clone(),
                    grantee_kind: "group".to_owned(),
                    grantee_id: all_users.id.clone(),
                    capability: (*cap).to_owned(),
                    mode: "Allow".to_owned(),
                })
            })
            .collect();
        State {
            version: STATE_VERSION,
            site: Site {
                id: new_id(),
                name: site.to_owned(),
                content_url: site.to_owned(),
                auth_configurations: default_auth_configurations(),
                settings: crate::site_settings::defaults(),
            },
            users: vec![admin],
            groups: vec![all_users],
            projects: vec![default_project],
            workbooks: Vec::new(),
            datasources: Vec::new(),
            tasks: Vec::new(),
            subscriptions: Vec::new(),
            jobs: Vec::new(),
            permissions,
            failing_refreshes: 0,
            webhooks: Vec::new(),
            user_rows: HashMap::new(),
        }
        .with_user_index()
    }

    fn with_user_index(mut self) -> State {
        self.index_users();
        self
    }

    /// Rebuilds the index [`State::user`] uses; called after `users` gains or loses a user. A group of 50 at 5x S
    /// otherwise costs 50 scans of 10,000 users under the state's lock, for every members read.
    pub fn index_users(&mut self) {
        self.user_rows = self.users.iter().enumerate().map(|(row, u)| (u.id.clone(), row)).collect();
    }

    /// Adds a user at the end of `users`, indexed.
    pub fn push_user(&mut self, user: User) {
        self.user_rows.insert(user.id.clone(), self.users.len());
        self.users.push(user);
    }

    /// The user with this id: through the index, checked, and by a scan when the index is out of date.
    pub fn user(&self, id: &str) -> Option<&User> {
        match self.user_rows.get(id).and_then(|&row| self.users.get(row)) {
            Some(user) if user.id == id => Some(user),
            _ => self.users.iter().find(|u| u.id == id),
        }
    }

    pub fn admin_id(&self) -> Option<&str> {
        self.users.iter().find(|u| u.name == ADMIN_USER_NAME).or(self.users.first()).map(|u| u.id.as_str())
    }

    pub fn user_name(&self, id: &str) -> Option<&str> {
        self.user(id).map(|u| u.name.as_str())
    }

    pub fn project(&self, id: &str) -> Option<&Project> {
        self.projects.iter().find(|p| p.id == id)
    }

    /// The top-level `default` project (Tableau compares project names case-insensitively).
    pub fn default_project_id(&self) -> Option<&str> {
        self.projects
            .iter()
            .find(|p| p.parent_id.is_none() && p.name.eq_ignore_ascii_case("default"))
            .map(|p| p.id.as_str())
    }

    /// Whether `id` is the site's `All Users` group.
    pub fn is_all_users(&self, group_id: &str) -> bool {
        self.groups.iter().any(|g| g.id == group_id && g.name.eq_ignore_ascii_case(ALL_USERS))
    }

    /// A state written without `All Users` (an older emulator, a generated site) gets it, holding every user:
    /// Tableau has it on every site.
    pub fn ensure_all_users(&mut self) {
        if !self.groups.iter().any(|g| g.name.eq_ignore_ascii_case(ALL_USERS)) {
            let members = self.users.iter().map(|u| u.id.clone()).collect();
            self.groups.push(Group { id: new_id(), name: ALL_USERS.to_owned(), minimum_site_role: None, members });
        }
    }

    /// A new user joins `All Users`, as on Tableau.
    pub fn join_all_users(&mut self, user_id: &str) {
        if let Some(group) = self.groups.iter_mut().find(|g| g.name.eq_ignore_ascii_case(ALL_USERS)) {
            group.members.push(user_id.to_owned());
        }
    }

    /// Copy the rules of `from` (resource `from_resource`) onto a newly created object: Tableau starts a new project
    /// with its parent's (or the default project's) permissions and default permissions, and published content
    /// with its project's default permissions for that content type (help: permissions_project_defaults.htm).
    pub fn copy_rules(&mut self, from_resource: &str, from_id: &str, to_resource: &str, to_id: &str) {
        let copied: Vec<Rule> = self
            .permissions
            .iter()
            .filter(|r| r.resource == from_resource && r.resource_id == from_id)
            .map(|r| Rule { resource: to_resource.to_owned(), resource_id: to_id.to_owned(), ..r.clone() })
            .collect();
        self.permissions.extend(copied);
    }

    /// Move every in-memory blob to a file under `dir` (before serialising).
    pub fn persist_blobs(&mut self, dir: &Path) -> std::io::Result<()> {
        let contents = self
            .workbooks
            .iter_mut()
            .map(|w| &mut w.content)
            .chain(self.datasources.iter_mut().map(|d| &mut d.content));
        for content in contents {
            if let Some(blob) = &mut content.blob {
                blob.persist_into(dir)?;
            }
        }
        Ok(())
    }
}

/// The directory blobs of a persisted state live in: `{state_file}.blobs/`.
pub fn blob_dir_for(state_file: &Path) -> PathBuf {
    let mut name = state_file.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".blobs");
    state_file.with_file_name(name)
}

/// Load a persisted state; `Ok(None)` if the file does not exist.
pub fn load(path: &Path) -> Result<Option<State>, LoadError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(LoadError::Read { path: path.to_owned(), source }),
    };
    let state: State =
        serde_json::from_slice(&bytes).map_err(|source| LoadError::Parse { path: path.to_owned(), source })?;
    if state.version != STATE_VERSION {
        return Err(LoadError::Version { path: path.to_owned(), found: state.version });
    }
    let mut state = state;
    confine_blobs(&mut state, path)?;
    state.ensure_all_users();
    state.index_users();
    Ok(Some(state))
}

/// Every blob a state file names must be one of our own files in its blob directory: the file is read, served to
/// clients and deleted when its item is replaced, so a planted `"path": "/home/me/.ssh/id_rsa"` would be an
/// arbitrary read and delete. A blob's file name must be `<uuid>.bin` in a directory named after the state file
/// (so a state file moved with its blobs, or loaded through another path, still loads), and the blob is then
/// rebased onto this state file's blob directory; it must not be a symlink or anything but a regular file.
fn confine_blobs(state: &mut State, path: &Path) -> Result<(), LoadError> {
    let dir = blob_dir_for(path);
    let contents =
        state.workbooks.iter_mut().map(|w| &mut w.content).chain(state.datasources.iter_mut().map(|d| &mut d.content));
    for content in contents {
        let Some(Blob::File { path: blob, .. }) = &mut content.blob else { continue };
        let refuse = |reason: &'static str| LoadError::Blob { path: path.to_owned(), blob: blob.clone(), reason };
        let name = blob.file_name().and_then(|n| n.to_str()).ok_or_else(|| refuse("has no file name"))?;
        let own_name = name.strip_suffix(".bin").is_some_and(|stem| uuid::Uuid::try_parse(stem).is_ok());
        if !own_name {
            return Err(refuse("is not named <uuid>.bin"));
        }
        if blob.parent().and_then(Path::file_name) != dir.file_name() {
            return Err(refuse("is not in the state file's blob directory"));
        }
        let rebased = dir.join(name);
        match std::fs::symlink_metadata(&rebased) {
            Ok(meta) if !meta.file_type().is_file() => return Err(refuse("is a symlink or not a regular file")),
            _ => {}
        }
        *blob = rebased;
    }
    Ok(())
}

/// Write the state atomically: serialise to `{path}.tmp`, fsync, rename over `path`.
pub fn save(path: &Path, state: &State) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let json = serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?;
    let mut tmp_name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    {
        use std::io::Write;
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&json)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("failed to read emulator state file {}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("failed to parse emulator state file {}", path.display())]
    Parse { path: PathBuf, source: serde_json::Error },
    #[error("refusing emulator state file {}: its content file {} {reason}", path.display(), blob.display())]
    Blob { path: PathBuf, blob: PathBuf, reason: &'static str },
    #[error("emulator state file {} has format version {found}, expected {STATE_VERSION}", path.display())]
    Version { path: PathBuf, found: u32 },
}
