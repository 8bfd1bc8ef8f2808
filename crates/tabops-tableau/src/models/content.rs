//! Projects, workbooks, data sources, views and connections, plus their write requests.

use crate::secret::Secret;
use crate::xml::{Element, XmlWriter};

use super::opt;

/// A project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// LUID.
    pub id: String,
    /// Name (unique among siblings, case-insensitively).
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Parent project LUID; `None` for top-level projects.
    pub parent_id: Option<String>,
    /// `ManagedByOwner`, `LockedToProject` or `LockedToProjectWithoutNested`.
    pub content_permissions: Option<String>,
    /// Owner LUID.
    pub owner_id: Option<String>,
    /// Creation time, `YYYY-MM-DDTHH:MM:SSZ`.
    pub created_at: Option<String>,
    /// Last update time.
    pub updated_at: Option<String>,
}

impl Project {
    /// Parses a `project` element; `None` without `id`/`name`.
    pub fn from_element(e: &Element) -> Option<Project> {
        Some(Project {
            id: e.attr_string("id")?,
            name: e.attr_string("name")?,
            description: opt(e, "description"),
            parent_id: opt(e, "parentProjectId").filter(|p| !p.is_empty()),
            content_permissions: opt(e, "contentPermissions"),
            owner_id: e.child_id("owner"),
            created_at: opt(e, "createdAt"),
            updated_at: opt(e, "updatedAt"),
        })
    }
}

/// Body of `POST /projects`.
#[derive(Debug, Clone, Default)]
pub struct NewProject {
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Parent LUID (`None` = top level).
    pub parent_id: Option<String>,
    /// Content permissions mode.
    pub content_permissions: Option<String>,
}

impl NewProject {
    pub(crate) fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.start("tsRequest", &[])
            .empty(
                "project",
                &[
                    ("name", Some(&self.name)),
                    ("description", self.description.as_deref()),
                    ("contentPermissions", self.content_permissions.as_deref()),
                    ("parentProjectId", self.parent_id.as_deref()),
                ],
            )
            .end("tsRequest");
        w.finish()
    }
}

/// Body of `PUT /projects/{id}`; unset fields are left unchanged.
#[derive(Debug, Clone, Default)]
pub struct ProjectUpdate {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New content permissions mode.
    pub content_permissions: Option<String>,
    /// New parent: `Some("")` moves to top level.
    pub parent_id: Option<String>,
    /// New owner LUID.
    pub owner_id: Option<String>,
}

impl ProjectUpdate {
    pub(crate) fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        let attrs = [
            ("name", self.name.as_deref()),
            ("description", self.description.as_deref()),
            ("contentPermissions", self.content_permissions.as_deref()),
            ("parentProjectId", self.parent_id.as_deref()),
        ];
        w.start("tsRequest", &[]);
        match &self.owner_id {
            Some(owner) => {
                w.start("project", &attrs).empty("owner", &[("id", Some(owner))]).end("project");
            }
            None => {
                w.empty("project", &attrs);
            }
        }
        w.end("tsRequest");
        w.finish()
    }
}

/// A workbook as listed or returned by publish/update.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Workbook {
    /// LUID.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// contentUrl.
    pub content_url: Option<String>,
    /// Browser URL.
    pub webpage_url: Option<String>,
    /// Views shown as tabs.
    pub show_tabs: bool,
    /// Size as reported (MB on Cloud).
    pub size: Option<u64>,
    /// Creation time.
    pub created_at: Option<String>,
    /// Last update time.
    pub updated_at: Option<String>,
    /// Containing project LUID.
    pub project_id: Option<String>,
    /// Containing project name.
    pub project_name: Option<String>,
    /// Owner LUID.
    pub owner_id: Option<String>,
    /// Owner name (with `fields=_all_`).
    pub owner_name: Option<String>,
    /// Tag labels.
    pub tags: Vec<String>,
    /// Views, when the response includes them (get-by-id, publish).
    pub views: Vec<View>,
    /// Default view LUID.
    pub default_view_id: Option<String>,
    /// Whether the workbook contains extracts.
    pub has_extracts: Option<bool>,
}

impl Workbook {
    /// Parses a `workbook` element.
    pub fn from_element(e: &Element) -> Option<Workbook> {
        let project = e.child("project");
        let owner = e.child("owner");
        Some(Workbook {
            id: e.attr_string("id")?,
            name: e.attr_string("name")?,
            description: opt(e, "description"),
            content_url: opt(e, "contentUrl"),
            webpage_url: opt(e, "webpageUrl"),
            show_tabs: e.attr_bool("showTabs").unwrap_or(false),
            size: e.attr_num("size"),
            created_at: opt(e, "createdAt"),
            updated_at: opt(e, "updatedAt"),
            project_id: project.and_then(|p| p.attr_string("id")),
            project_name: project.and_then(|p| p.attr_string("name")),
            owner_id: owner.and_then(|o| o.attr_string("id")),
            owner_name: owner.and_then(|o| o.attr_string("name")),
            tags: e.tag_labels(),
            views: e
                .child("views")
                .map(|v| v.children_named("view").filter_map(View::from_element).collect())
                .unwrap_or_default(),
            default_view_id: opt(e, "defaultViewId"),
            has_extracts: e.attr_bool("hasExtracts"),
        })
    }
}

/// A data source.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Datasource {
    /// LUID.
    pub id: String,
    /// Name.
    pub name: String,
    /// Connection type, e.g. `postgres`, `dataengine`.
    pub datasource_type: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// contentUrl.
    pub content_url: Option<String>,
    /// Size as reported.
    pub size: Option<u64>,
    /// Creation time.
    pub created_at: Option<String>,
    /// Last update time.
    pub updated_at: Option<String>,
    /// Containing project LUID.
    pub project_id: Option<String>,
    /// Containing project name.
    pub project_name: Option<String>,
    /// Owner LUID.
    pub owner_id: Option<String>,
    /// Tag labels.
    pub tags: Vec<String>,
    /// Whether it has extracts.
    pub has_extracts: Option<bool>,
    /// Certified flag.
    pub is_certified: Option<bool>,
    /// Certification note.
    pub certification_note: Option<String>,
    /// Extract encryption flag.
    pub encrypt_extracts: Option<String>,
}

impl Datasource {
    /// Parses a `datasource` element.
    pub fn from_element(e: &Element) -> Option<Datasource> {
        let project = e.child("project");
        Some(Datasource {
            id: e.attr_string("id")?,
            name: e.attr_string("name")?,
            datasource_type: opt(e, "type"),
            description: opt(e, "description"),
            content_url: opt(e, "contentUrl"),
            size: e.attr_num("size"),
            created_at: opt(e, "createdAt"),
            updated_at: opt(e, "updatedAt"),
            project_id: project.and_then(|p| p.attr_string("id")),
            project_name: project.and_then(|p| p.attr_string("name")),
            owner_id: e.child_id("owner"),
            tags: e.tag_labels(),
            has_extracts: e.attr_bool("hasExtracts"),
            is_certified: e.attr_bool("isCertified"),
            certification_note: opt(e, "certificationNote"),
            encrypt_extracts: opt(e, "encryptExtracts"),
        })
    }
}

/// A view (sheet or dashboard) of a workbook.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct View {
    /// LUID.
    pub id: String,
    /// Name.
    pub name: String,
    /// contentUrl (`Workbook/sheets/View`).
    pub content_url: Option<String>,
    /// URL name.
    pub view_url_name: Option<String>,
    /// `worksheet`, `dashboard` or `story`, when given.
    pub sheet_type: Option<String>,
    /// Workbook LUID (site-wide list).
    pub workbook_id: Option<String>,
    /// Owner LUID.
    pub owner_id: Option<String>,
    /// Project LUID.
    pub project_id: Option<String>,
    /// Tag labels.
    pub tags: Vec<String>,
    /// Creation time.
    pub created_at: Option<String>,
    /// Last update time.
    pub updated_at: Option<String>,
    /// `hidden="true"`: a sheet the site does not show. The schema's `viewType` has the attribute
    /// (ts-api_3_29.xsd); whether Cloud lists hidden sheets with it or leaves them out is not settled, so callers
    /// treat a listed view with `hidden="true"` as not shown.
    pub hidden: bool,
    /// `<usage totalViewCount="N"/>`: how often the view was viewed, present when the list was asked for with
    /// `includeUsageStatistics=true` (TSC `test/assets/view_get_usage.xml`; ts-api_3_29.xsd `viewType.usage`).
    pub total_view_count: Option<u64>,
}

impl View {
    /// Parses a `view` element.
    pub fn from_element(e: &Element) -> Option<View> {
        Some(View {
            id: e.attr_string("id")?,
            name: e.attr_string("name")?,
            content_url: opt(e, "contentUrl"),
            view_url_name: opt(e, "viewUrlName"),
            sheet_type: opt(e, "sheetType"),
            workbook_id: e.child_id("workbook"),
            owner_id: e.child_id("owner"),
            project_id: e.child_id("project"),
            tags: e.tag_labels(),
            created_at: opt(e, "createdAt"),
            updated_at: opt(e, "updatedAt"),
            hidden: e.attr_bool("hidden").unwrap_or(false),
            total_view_count: e.child("usage").and_then(|u| u.attr_num("totalViewCount")),
        })
    }
}

/// A connection of a workbook or data source.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Connection {
    /// LUID.
    pub id: String,
    /// Connection type, e.g. `postgres`.
    pub connection_type: Option<String>,
    /// Server address.
    pub server_address: Option<String>,
    /// Server port.
    pub server_port: Option<String>,
    /// Database user name.
    pub user_name: Option<String>,
    /// Whether a password is embedded.
    pub embed_password: Option<bool>,
    /// The published data source the connection uses, if any.
    pub datasource_id: Option<String>,
    /// That data source's name.
    pub datasource_name: Option<String>,
}

impl Connection {
    /// Parses a `connection` element.
    pub fn from_element(e: &Element) -> Option<Connection> {
        let ds = e.child("datasource");
        Some(Connection {
            id: e.attr_string("id")?,
            connection_type: opt(e, "type"),
            server_address: opt(e, "serverAddress"),
            server_port: opt(e, "serverPort"),
            user_name: opt(e, "userName"),
            embed_password: e.attr_bool("embedPassword"),
            datasource_id: ds.and_then(|d| d.attr_string("id")),
            datasource_name: ds.and_then(|d| d.attr_string("name")),
        })
    }
}

/// Credentials for one connection of a published file.
#[derive(Debug, Clone, Default)]
pub struct ConnectionCredentials {
    /// Server address the credentials apply to.
    pub server_address: String,
    /// Server port.
    pub server_port: Option<String>,
    /// User name.
    pub username: String,
    /// Password (redacted in Debug).
    pub password: Secret,
    /// Embed the password in the published content.
    pub embed: bool,
}

/// Update body for one connection (`PUT /{workbooks|datasources}/{id}/connections/{connection-id}`, Update Workbook
/// Connection / Update Data Source Connection). The shape is TSC's `RequestFactory.Connection.update_req`: a
/// `connection` element with `serverAddress`, `serverPort`, `userName`, `password` and `embedPassword` attributes,
/// each only when set. This is the documented way to point a published connection at another server: the
/// `serverAddress` of a publish request only selects which connection of the file credentials belong to.
#[derive(Debug, Clone, Default)]
pub struct ConnectionUpdate {
    /// New server address.
    pub server_address: Option<String>,
    /// New server port.
    pub server_port: Option<String>,
    /// New database user name.
    pub user_name: Option<String>,
    /// New password (redacted in Debug).
    pub password: Option<Secret>,
    /// Whether to embed the password.
    pub embed_password: Option<bool>,
}

impl ConnectionUpdate {
    pub(crate) fn to_xml(&self) -> String {
        let embed = self.embed_password.map(bool_str);
        let mut w = XmlWriter::new();
        w.start("tsRequest", &[]).empty(
            "connection",
            &[
                ("serverAddress", self.server_address.as_deref()),
                ("serverPort", self.server_port.as_deref()),
                ("userName", self.user_name.as_deref()),
                ("password", self.password.as_ref().map(|p| p.expose())),
                ("embedPassword", embed),
            ],
        );
        w.end("tsRequest");
        w.finish()
    }
}

/// Update body for workbooks (`PUT /workbooks/{id}`).
#[derive(Debug, Clone, Default)]
pub struct WorkbookUpdate {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// Show views as tabs.
    pub show_tabs: Option<bool>,
    /// Move to project.
    pub project_id: Option<String>,
    /// Change owner.
    pub owner_id: Option<String>,
}

impl WorkbookUpdate {
    pub(crate) fn to_xml(&self) -> String {
        let show_tabs = self.show_tabs.map(bool_str);
        let mut w = XmlWriter::new();
        w.start("tsRequest", &[]).start(
            "workbook",
            &[("name", self.name.as_deref()), ("showTabs", show_tabs), ("description", self.description.as_deref())],
        );
        if let Some(p) = &self.project_id {
            w.empty("project", &[("id", Some(p))]);
        }
        if let Some(o) = &self.owner_id {
            w.empty("owner", &[("id", Some(o))]);
        }
        w.end("workbook").end("tsRequest");
        w.finish()
    }
}

/// Update body for data sources (`PUT /datasources/{id}`).
#[derive(Debug, Clone, Default)]
pub struct DatasourceUpdate {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// Move to project.
    pub project_id: Option<String>,
    /// Change owner.
    pub owner_id: Option<String>,
    /// Certification flag.
    pub is_certified: Option<bool>,
    /// Certification note.
    pub certification_note: Option<String>,
}

impl DatasourceUpdate {
    pub(crate) fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.start("tsRequest", &[]).start(
            "datasource",
            &[
                ("name", self.name.as_deref()),
                ("description", self.description.as_deref()),
                ("isCertified", self.is_certified.map(bool_str)),
                ("certificationNote", self.certification_note.as_deref()),
            ],
        );
        if let Some(p) = &self.project_id {
            w.empty("project", &[("id", Some(p))]);
        }
        if let Some(o) = &self.owner_id {
            w.empty("owner", &[("id", Some(o))]);
        }
        w.end("datasource").end("tsRequest");
        w.finish()
    }
}

/// Which kind of content a tag or refresh call targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentKind {
    /// A workbook.
    Workbook,
    /// A published data source.
    Datasource,
}

impl ContentKind {
    /// Plural path segment (`workbooks` / `datasources`).
    pub fn segment(self) -> &'static str {
        match self {
            ContentKind::Workbook => "workbooks",
            ContentKind::Datasource => "datasources",
        }
    }

    /// Singular element name (`workbook` / `datasource`).
    pub fn element(self) -> &'static str {
        match self {
            ContentKind::Workbook => "workbook",
            ContentKind::Datasource => "datasource",
        }
    }
}

pub(crate) fn bool_str(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// Encodes a tag label as TSC does: labels containing a space or comma are wrapped in double quotes, because
/// the server splits unquoted labels on those characters.
pub fn encode_tag_label(label: &str) -> String {
    if label.contains(' ') || label.contains(',') { format!("\"{label}\"") } else { label.to_owned() }
}

pub(crate) fn tags_xml(labels: &[String]) -> String {
    let mut w = XmlWriter::new();
    w.start("tsRequest", &[]).start("tags", &[]);
    for label in labels {
        w.empty("tag", &[("label", Some(&encode_tag_label(label)))]);
    }
    w.end("tags").end("tsRequest");
    w.finish()
}
