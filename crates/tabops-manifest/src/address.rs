//! Addresses: how plans, errors and reports name one object of a site (`project:Sales/EMEA`,
//! `workbook:Sales/EMEA/Revenue`, `group:Sales Analysts`, `user:alice@acme.com`).
//!
//! An [`Address`] is the object's kind, the project path it sits in and its name. It owns the written form:
//! parsing, display and the escaping of `/` in project and content names (`\/`, with `\` written `\\`), so every
//! object has one unambiguous spelling. User and group names are written as they are: they are never split.
//!
//! Tableau compares the names of users, groups, projects and content case-insensitively, so two addresses that
//! differ only in case name the same object: `Eq`, `Ord` and `Hash` fold case, while `Display` keeps the case the
//! address was made with. An address serialises as its written form, the same string plans have always held.
//! (The shape follows kube's `ObjectRef`: a typed reference with one `Display`/`FromStr` pair.)

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::{ContentKind, ProjectPath, folded, write_escaped};

/// The kind of object an [`Address`] names: the part before the first `:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AddressKind {
    User,
    Group,
    Project,
    Datasource,
    Workbook,
    /// The site itself (`site:acme`, by content URL): its settings.
    Site,
    /// One view (sheet) of a workbook: `view:PROJECT/WORKBOOK/SHEET`.
    View,
    /// A webhook, by name: `webhook:NAME`.
    Webhook,
}

impl AddressKind {
    pub const ALL: [AddressKind; 8] = [
        AddressKind::User,
        AddressKind::Group,
        AddressKind::Project,
        AddressKind::Datasource,
        AddressKind::Workbook,
        AddressKind::Site,
        AddressKind::View,
        AddressKind::Webhook,
    ];

    /// The written prefix (`workbook`).
    pub fn as_str(self) -> &'static str {
        match self {
            AddressKind::User => "user",
            AddressKind::Group => "group",
            AddressKind::Project => "project",
            AddressKind::Datasource => "datasource",
            AddressKind::Workbook => "workbook",
            AddressKind::Site => "site",
            AddressKind::View => "view",
            AddressKind::Webhook => "webhook",
        }
    }

    /// The content kind, for workbooks and data sources.
    pub fn content(self) -> Option<ContentKind> {
        match self {
            AddressKind::Workbook => Some(ContentKind::Workbook),
            AddressKind::Datasource => Some(ContentKind::Datasource),
            AddressKind::User
            | AddressKind::Group
            | AddressKind::Project
            | AddressKind::Site
            | AddressKind::View
            | AddressKind::Webhook => None,
        }
    }
}

impl From<ContentKind> for AddressKind {
    fn from(kind: ContentKind) -> Self {
        match kind {
            ContentKind::Workbook => AddressKind::Workbook,
            ContentKind::Datasource => AddressKind::Datasource,
        }
    }
}

impl fmt::Display for AddressKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a string is not an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error(
        "parse address `{address}`: it has no `KIND:` prefix (user, group, project, datasource, workbook, site, view, \
         webhook)"
    )]
    NoKind { address: String },
    #[error(
        "parse address `{address}`: `{kind}` is not a kind of object (user, group, project, datasource, workbook, site, \
         view, webhook)"
    )]
    UnknownKind { address: String, kind: String },
    #[error("parse address `{address}`: it names no object (the name is empty)")]
    EmptyName { address: String },
    #[error("parse address `{address}`: a {kind} address needs the project it is in (`{kind}:PROJECT/NAME`)")]
    NoProject { address: String, kind: AddressKind },
}

/// The address of one object of a site: kind, project path, name. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct Address {
    kind: AddressKind,
    /// Where the object sits: a content item's project, a project's parent (empty at the top level); empty for
    /// users and groups.
    project: ProjectPath,
    name: String,
}

impl Address {
    /// `user:NAME`.
    pub fn user(name: impl Into<String>) -> Address {
        Address { kind: AddressKind::User, project: ProjectPath::new(Vec::new()), name: name.into() }
    }

    /// `group:NAME`.
    pub fn group(name: impl Into<String>) -> Address {
        Address { kind: AddressKind::Group, project: ProjectPath::new(Vec::new()), name: name.into() }
    }

    /// `site:CONTENT_URL`: the site itself.
    pub fn site(content_url: impl Into<String>) -> Address {
        Address { kind: AddressKind::Site, project: ProjectPath::new(Vec::new()), name: content_url.into() }
    }

    /// `view:PROJECT/WORKBOOK/SHEET`: one view of a workbook.
    pub fn view(project: &ProjectPath, workbook: &str, sheet: impl Into<String>) -> Address {
        Address { kind: AddressKind::View, project: project.child(workbook.to_owned()), name: sheet.into() }
    }

    /// The workbook a view address names a sheet of; `None` unless the address names a view.
    pub fn view_workbook(&self) -> Option<Address> {
        if self.kind != AddressKind::View {
            return None;
        }
        let mut segments = self.project.segments().to_vec();
        let workbook = segments.pop()?;
        Some(Address::content(ContentKind::Workbook, &ProjectPath::new(segments), workbook))
    }

    /// `webhook:NAME`.
    pub fn webhook(name: impl Into<String>) -> Address {
        Address { kind: AddressKind::Webhook, project: ProjectPath::new(Vec::new()), name: name.into() }
    }

    /// `project:PATH`, for the project at `path`.
    pub fn project(path: &ProjectPath) -> Address {
        let parent = path.parent().unwrap_or_else(|| ProjectPath::new(Vec::new()));
        Address { kind: AddressKind::Project, project: parent, name: path.name().to_owned() }
    }

    /// `workbook:PROJECT/NAME` or `datasource:PROJECT/NAME`.
    pub fn content(kind: ContentKind, project: &ProjectPath, name: impl Into<String>) -> Address {
        Address { kind: kind.into(), project: project.clone(), name: name.into() }
    }

    pub fn kind(&self) -> AddressKind {
        self.kind
    }

    /// The object's own name (a project's last path segment).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The project the object sits in: a content item's project, a project's parent; `None` for users, groups
    /// and top-level projects.
    pub fn project_path(&self) -> Option<&ProjectPath> {
        (!self.project.segments().is_empty()).then_some(&self.project)
    }

    /// A project's own path (its parent's path and its name); `None` unless the address names a project.
    pub fn path(&self) -> Option<ProjectPath> {
        (self.kind == AddressKind::Project).then(|| self.project.child(self.name.clone()))
    }

    /// Parse the written form; the inverse of `Display`.
    pub fn parse(text: &str) -> Result<Address, AddressError> {
        let Some((prefix, rest)) = text.split_once(':') else {
            return Err(AddressError::NoKind { address: text.to_owned() });
        };
        let Some(kind) = AddressKind::ALL.into_iter().find(|k| k.as_str() == prefix) else {
            return Err(AddressError::UnknownKind { address: text.to_owned(), kind: prefix.to_owned() });
        };
        if rest.is_empty() {
            return Err(AddressError::EmptyName { address: text.to_owned() });
        }
        match kind {
            AddressKind::User | AddressKind::Group | AddressKind::Site | AddressKind::Webhook => {
                Ok(Address { kind, project: ProjectPath::new(Vec::new()), name: rest.to_owned() })
            }
            AddressKind::Project => Ok(Address::project(&ProjectPath::parse(rest))),
            AddressKind::Datasource | AddressKind::Workbook | AddressKind::View => {
                let mut segments = ProjectPath::parse(rest).0;
                let name = segments.pop().unwrap_or_default();
                let least = if kind == AddressKind::View { 2 } else { 1 };
                if segments.len() < least {
                    return Err(AddressError::NoProject { address: text.to_owned(), kind });
                }
                Ok(Address { kind, project: ProjectPath::new(segments), name })
            }
        }
    }

    /// The identity Tableau compares: kind, then the path and name case-folded.
    fn folded_name(&self) -> impl Iterator<Item = char> + '_ {
        folded(&self.name)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.as_str())?;
        f.write_str(":")?;
        match self.kind {
            AddressKind::User | AddressKind::Group | AddressKind::Site | AddressKind::Webhook => {
                f.write_str(&self.name)
            }
            AddressKind::Project => {
                if self.project_path().is_some() {
                    write!(f, "{}/", self.project)?;
                }
                write_escaped(f, &self.name)
            }
            AddressKind::Datasource | AddressKind::Workbook | AddressKind::View => {
                write!(f, "{}/", self.project)?;
                write_escaped(f, &self.name)
            }
        }
    }
}

impl FromStr for Address {
    type Err = AddressError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Address::parse(text)
    }
}

impl PartialEq for Address {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.project == other.project && self.folded_name().eq(other.folded_name())
    }
}
impl Eq for Address {}

impl Hash for Address {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.kind.hash(state);
        self.project.hash(state);
        for c in self.folded_name() {
            state.write_u32(c as u32);
        }
    }
}

impl PartialOrd for Address {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Address {
    /// By kind, then project path, then name, each case-insensitively (consistent with `Eq`).
    fn cmp(&self, other: &Self) -> Ordering {
        self.kind
            .cmp(&other.kind)
            .then_with(|| self.project.cmp(&other.project))
            .then_with(|| self.folded_name().cmp(other.folded_name()))
    }
}

/// An address equals a string that parses to the same object (case-insensitively, like `Eq`).
impl PartialEq<str> for Address {
    fn eq(&self, other: &str) -> bool {
        Address::parse(other).is_ok_and(|o| *self == o)
    }
}
impl PartialEq<&str> for Address {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Address::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> ProjectPath {
        ProjectPath::parse(text)
    }

    #[test]
    fn written_forms_are_the_strings_plans_have_always_held() {
        // The old builders: `format!("user:{name}")`, `format!("group:{name}")`, `format!("project:{path}")` and
        // `format!("{kind}:{project}/{escaped name}")`.
        let cases = [
            (Address::user("alice@acme.com"), "user:alice@acme.com"),
            (Address::group("Sales/EMEA Analysts"), "group:Sales/EMEA Analysts"),
            (Address::project(&path("Sales")), "project:Sales"),
            (Address::project(&path("Sales/EMEA")), "project:Sales/EMEA"),
            (Address::project(&path("R\\/D/A\\\\B")), "project:R\\/D/A\\\\B"),
            (Address::content(ContentKind::Workbook, &path("Sales/EMEA"), "Revenue"), "workbook:Sales/EMEA/Revenue"),
            (Address::content(ContentKind::Datasource, &path("Sales"), "Q1/Q2"), "datasource:Sales/Q1\\/Q2"),
            (Address::content(ContentKind::Workbook, &path("Sales"), "back\\slash"), "workbook:Sales/back\\\\slash"),
        ];
        for (address, text) in cases {
            assert_eq!(address.to_string(), text);
            assert_eq!(serde_json::to_value(&address).unwrap(), serde_json::Value::String(text.into()));
        }
    }

    #[test]
    fn parsing_inverts_display() {
        for text in [
            "user:alice@acme.com",
            "user:a:b/c",
            "group:All Users",
            "group:Sales/EMEA",
            "project:Sales",
            "project:Sales/EMEA/Q\\/1",
            "workbook:Sales/EMEA/Revenue",
            "datasource:A\\/B/C\\\\D/E\\/F",
            "project:<project 42>",
        ] {
            let address = Address::parse(text).unwrap();
            assert_eq!(address.to_string(), text);
            let back: Address = serde_json::from_value(serde_json::Value::String(text.into())).unwrap();
            assert_eq!(back.to_string(), text);
        }
    }

    #[test]
    fn parsing_splits_kind_project_and_name() {
        let wb = Address::parse("workbook:Sales/EMEA/Q1\\/Q2").unwrap();
        assert_eq!(wb.kind(), AddressKind::Workbook);
        assert_eq!(wb.project_path().map(ProjectPath::segments), Some(&["Sales".to_owned(), "EMEA".to_owned()][..]));
        assert_eq!(wb.name(), "Q1/Q2");
        let project = Address::parse("project:Sales/A\\/B").unwrap();
        assert_eq!(project.name(), "A/B");
        assert_eq!(project.path().map(|p| p.segments().to_vec()), Some(vec!["Sales".to_owned(), "A/B".to_owned()]));
        let top = Address::parse("project:Sales").unwrap();
        assert_eq!(top.project_path(), None);
        // A user or group name is never split.
        assert_eq!(Address::parse("group:a/b").unwrap().name(), "a/b");
    }

    #[test]
    fn a_slash_in_a_name_is_not_a_project_boundary() {
        let nested = Address::content(ContentKind::Workbook, &path("A/B"), "C");
        let slashed = Address::content(ContentKind::Workbook, &path("A"), "B/C");
        assert_ne!(nested, slashed);
        assert_ne!(nested.to_string(), slashed.to_string());
        assert_eq!(Address::parse(&slashed.to_string()).unwrap(), slashed);
        assert_ne!(Address::project(&path("A/B")), Address::project(&ProjectPath::new(vec!["A/B".into()])));
    }

    #[test]
    fn addresses_compare_case_insensitively_and_display_their_case() {
        use std::hash::BuildHasher;
        let a = Address::parse("workbook:Sales/EMEA/Revenue").unwrap();
        let b = Address::parse("WORKBOOK:sales/emea/REVENUE");
        // The kind prefix is written in lower case only.
        assert!(b.is_err());
        let b = Address::parse("workbook:sales/emea/REVENUE").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.cmp(&b), Ordering::Equal);
        let hasher = std::hash::RandomState::new();
        assert_eq!(hasher.hash_one(&a), hasher.hash_one(&b));
        assert_eq!(a.to_string(), "workbook:Sales/EMEA/Revenue");
        assert_eq!(b.to_string(), "workbook:sales/emea/REVENUE");
        assert_eq!(a, "workbook:SALES/emea/revenue");
        assert_ne!(a, Address::parse("datasource:Sales/EMEA/Revenue").unwrap());
        assert_ne!(a, Address::parse("workbook:Sales/Revenue").unwrap());
        assert_eq!(Address::user("Alice@Acme.com"), Address::user("alice@acme.com"));
        assert_ne!(Address::user("alice"), Address::group("alice"));
        let set: std::collections::BTreeSet<Address> =
            [Address::group("Sales"), Address::group("SALES"), Address::group("Ops")].into_iter().collect();
        assert_eq!(set.len(), 2);
    }

    #[test]
    fn strings_that_are_not_addresses_are_refused() {
        assert!(matches!(Address::parse("Sales"), Err(AddressError::NoKind { .. })));
        assert!(matches!(Address::parse("membership:G/u"), Err(AddressError::UnknownKind { .. })));
        assert!(matches!(Address::parse("user:"), Err(AddressError::EmptyName { .. })));
        assert!(matches!(Address::parse("workbook:Revenue"), Err(AddressError::NoProject { .. })));
        assert!(serde_json::from_value::<Address>(serde_json::Value::String("refresh:x".into())).is_err());
    }
}
