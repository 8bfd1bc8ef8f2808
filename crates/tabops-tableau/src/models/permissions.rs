//! Permission rules (`granteeCapabilities`) for projects, workbooks and data sources, and default permissions.

use crate::xml::{Element, XmlWriter};

/// What kind of principal a rule is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GranteeKind {
    /// A user.
    User,
    /// A group.
    Group,
    /// A group set.
    GroupSet,
}

impl GranteeKind {
    /// Element name (`user`, `group`, `groupSet`).
    pub fn element(self) -> &'static str {
        match self {
            GranteeKind::User => "user",
            GranteeKind::Group => "group",
            GranteeKind::GroupSet => "groupSet",
        }
    }

    /// Path segment in delete URLs (`users`, `groups`, `groupSets`).
    pub fn segment(self) -> &'static str {
        match self {
            GranteeKind::User => "users",
            GranteeKind::Group => "groups",
            GranteeKind::GroupSet => "groupSets",
        }
    }
}

/// A principal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Grantee {
    /// User, group or group set.
    pub kind: GranteeKind,
    /// LUID.
    pub id: String,
}

/// Allow or Deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CapabilityMode {
    /// Granted.
    Allow,
    /// Denied.
    Deny,
}

impl CapabilityMode {
    /// Wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            CapabilityMode::Allow => "Allow",
            CapabilityMode::Deny => "Deny",
        }
    }
}

/// One capability with its mode.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Capability {
    /// e.g. `Read`, `ExportXml`.
    pub name: String,
    /// Allow or Deny.
    pub mode: CapabilityMode,
}

/// The rules for one grantee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GranteeCapabilities {
    /// Who.
    pub grantee: Grantee,
    /// What.
    pub capabilities: Vec<Capability>,
}

impl GranteeCapabilities {
    /// Parses a `granteeCapabilities` element; the grantee is the last `user`/`group`/`groupSet` child with an id.
    pub fn from_element(e: &Element) -> Option<GranteeCapabilities> {
        let grantee = e
            .children
            .iter()
            .filter_map(|c| {
                let kind = match c.name.as_str() {
                    "user" => GranteeKind::User,
                    "group" => GranteeKind::Group,
                    "groupSet" => GranteeKind::GroupSet,
                    _ => return None,
                };
                Some(Grantee { kind, id: c.attr_string("id")? })
            })
            .next_back()?;
        let capabilities = e
            .child("capabilities")
            .map(|caps| {
                caps.children_named("capability")
                    .filter_map(|c| {
                        let mode = match c.attr("mode")? {
                            m if m.eq_ignore_ascii_case("allow") => CapabilityMode::Allow,
                            m if m.eq_ignore_ascii_case("deny") => CapabilityMode::Deny,
                            _ => return None,
                        };
                        Some(Capability { name: c.attr_string("name")?, mode })
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(GranteeCapabilities { grantee, capabilities })
    }

    /// Parses all rules inside a `permissions` element.
    pub fn list_from(permissions: &Element) -> Vec<GranteeCapabilities> {
        permissions.children_named("granteeCapabilities").filter_map(GranteeCapabilities::from_element).collect()
    }

    /// One Add Permissions request body for every rule set in `rules`: Tableau takes any number of
    /// `granteeCapabilities` in one request (ts-api_3_29.xsd, `permissionsType`; TSC's `PermissionRequest` writes
    /// one per rule it is given).
    pub(crate) fn request_xml(rules: &[GranteeCapabilities]) -> String {
        let mut w = XmlWriter::new();
        w.start("tsRequest", &[]).start("permissions", &[]);
        for rule in rules {
            w.start("granteeCapabilities", &[]);
            w.empty(rule.grantee.kind.element(), &[("id", Some(&rule.grantee.id))]);
            w.start("capabilities", &[]);
            for c in &rule.capabilities {
                w.empty("capability", &[("name", Some(&c.name)), ("mode", Some(c.mode.as_str()))]);
            }
            w.end("capabilities").end("granteeCapabilities");
        }
        w.end("permissions").end("tsRequest");
        w.finish()
    }
}

/// The object whose explicit permissions are read or written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PermissionTarget {
    /// A project LUID.
    Project(String),
    /// A workbook LUID.
    Workbook(String),
    /// A data source LUID.
    Datasource(String),
    /// A view LUID (a sheet of a workbook that does not show tabs).
    View(String),
}

impl PermissionTarget {
    pub(crate) fn path(&self) -> (String, &'static str) {
        match self {
            PermissionTarget::Project(id) => (format!("projects/{id}"), "projects"),
            PermissionTarget::Workbook(id) => (format!("workbooks/{id}"), "workbooks"),
            PermissionTarget::Datasource(id) => (format!("datasources/{id}"), "datasources"),
            PermissionTarget::View(id) => (format!("views/{id}"), "views"),
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            PermissionTarget::Project(id) => format!("project {id}"),
            PermissionTarget::Workbook(id) => format!("workbook {id}"),
            PermissionTarget::Datasource(id) => format!("data source {id}"),
            PermissionTarget::View(id) => format!("view {id}"),
        }
    }
}

/// Which default-permission set of a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DefaultPermissionKind {
    /// Defaults for workbooks.
    Workbooks,
    /// Defaults for data sources.
    Datasources,
}

impl DefaultPermissionKind {
    /// Path segment.
    pub fn segment(self) -> &'static str {
        match self {
            DefaultPermissionKind::Workbooks => "workbooks",
            DefaultPermissionKind::Datasources => "datasources",
        }
    }
}
