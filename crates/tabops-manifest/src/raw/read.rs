//! Reading [`Node`] trees into the raw types, collecting every structural problem (wrong type, unknown key,
//! missing field) instead of stopping at the first, each with its position, field path and a hint.

use std::collections::BTreeMap;

use super::content::{
    RawConnection, RawContentRename, RawDatasource, RawEvery, RawMonthDay, RawMovedFrom, RawRefresh, RawWorkbook,
};
use super::subscription::{RawSchedule, RawSubscription};
use super::*;
use crate::diag::did_you_mean;
use crate::node::{Node, Pos, Value};

/// Reads one file's nodes, recording problems.
pub struct Reader {
    pub file: usize,
    pub problems: Vec<Problem>,
}

impl Reader {
    pub fn new(file: usize) -> Self {
        Self { file, problems: Vec::new() }
    }
    pub fn pos(&self, node: &Node) -> Pos {
        Pos { file: self.file, line: node.line, column: node.column }
    }
    pub fn report(&mut self, node: &Node, field: &str, message: impl Into<String>, hint: Option<String>) {
        let pos = self.pos(node);
        self.problems.push(Problem { pos, field: field.to_owned(), message: message.into(), hint });
    }
    fn wrong_type(&mut self, node: &Node, field: &str, expected: &str) {
        let hint = match (&node.value, expected) {
            (Value::Int(_) | Value::Float(_) | Value::Bool(_), "a string") => {
                Some("quote the value to make it a string, e.g. \"2024\"".to_owned())
            }
            (Value::Map(_), "a list") => Some("start each list item with `- `".to_owned()),
            _ => None,
        };
        self.report(node, field, format!("expected {expected}, found {}", node.value.describe()), hint);
    }

    /// Open a mapping whose keys must be among `keys`; reports unknown keys (with "did you mean").
    pub fn map<'n>(&mut self, node: &'n Node, field: &str, what: &str, keys: &[&str]) -> Option<MapNode<'n>> {
        let Value::Map(entries) = &node.value else {
            self.wrong_type(node, field, &format!("a map ({what})"));
            return None;
        };
        let mut known = Vec::new();
        for (key, value) in entries {
            let Value::Str(name) = &key.value else {
                self.report(
                    key,
                    field,
                    format!("keys in {what} must be strings, found {}", key.value.describe()),
                    None,
                );
                continue;
            };
            if keys.contains(&name.as_str()) {
                known.push((name.as_str(), value));
            } else {
                let hint = did_you_mean(name, keys.iter().copied())
                    .or_else(|| Some(format!("valid keys: {}", keys.join(", "))));
                self.report(key, &join(field, name), format!("unknown key `{name}` in {what}"), hint);
            }
        }
        Some(MapNode { node, field: field.to_owned(), what: what.to_owned(), entries: known })
    }
}

/// `a.b`, or `b` at the top.
pub fn join(field: &str, key: &str) -> String {
    if field.is_empty() { key.to_owned() } else { format!("{field}.{key}") }
}

/// A mapping being read into a struct.
pub struct MapNode<'n> {
    node: &'n Node,
    field: String,
    what: String,
    entries: Vec<(&'n str, &'n Node)>,
}

impl<'n> MapNode<'n> {
    fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
    /// An optional key. An explicit `null` counts as absent.
    pub fn opt<T: FromNode>(&self, r: &mut Reader, key: &str) -> Option<T> {
        let node = self.get(key)?;
        if node.value == Value::Null {
            return None;
        }
        T::from_node(node, r, &join(&self.field, key))
    }
    /// A required key; reports it missing at the map.
    pub fn req<T: FromNode>(&self, r: &mut Reader, key: &str) -> Option<T> {
        match self.get(key) {
            Some(node) if node.value != Value::Null => T::from_node(node, r, &join(&self.field, key)),
            Some(node) => {
                r.report(node, &join(&self.field, key), format!("`{key}` in {} must have a value", self.what), None);
                None
            }
            None => {
                r.report(self.node, &self.field, format!("missing required key `{key}` in {}", self.what), None);
                None
            }
        }
    }
}

/// Conversion from a located node, reporting problems to the reader. `None` when the node is unusable.
pub trait FromNode: Sized {
    fn from_node(node: &Node, r: &mut Reader, field: &str) -> Option<Self>;
}

impl<T: FromNode> FromNode for Located<T> {
    fn from_node(node: &Node, r: &mut Reader, field: &str) -> Option<Self> {
        let value = T::from_node(node, r, field)?;
        Some(Located { value, pos: r.pos(node), field: field.to_owned() })
    }
}

impl FromNode for String {
    fn from_node(node: &Node, r: &mut Reader, field: &str) -> Option<Self> {
        match &node.value {
            Value::Str(s) => Some(s.clone()),
            _ => {
                r.wrong_type(node, field, "a string");
                None
            }
        }
    }
}

impl FromNode for bool {
    fn from_node(node: &Node, r: &mut Reader, field: &str) -> Option<Self> {
        match &node.value {
            Value::Bool(b) => Some(*b),
            _ => {
                r.wrong_type(node, field, "`true` or `false`");
                None
            }
        }
    }
}

macro_rules! integer {
    ($t:ty) => {
        impl FromNode for $t {
            fn from_node(node: &Node, r: &mut Reader, field: &str) -> Option<Self> {
                match &node.value {
                    Value::Int(i) => match <$t>::try_from(*i) {
                        Ok(v) => Some(v),
                        Err(_) => {
                            r.report(node, field, format!("{i} is out of range ({}..={})", <$t>::MIN, <$t>::MAX), None);
                            None
                        }
                    },
                    _ => {
                        r.wrong_type(node, field, "a whole number");
                        None
                    }
                }
            }
        }
    };
}
integer!(u16);
integer!(u32);
integer!(i32);

impl<T: FromNode> FromNode for Vec<T> {
    fn from_node(node: &Node, r: &mut Reader, field: &str) -> Option<Self> {
        let Value::Seq(items) = &node.value else {
            r.wrong_type(node, field, "a list");
            return None;
        };
        Some(items.iter().enumerate().filter_map(|(i, item)| T::from_node(item, r, &format!("{field}[{i}]"))).collect())
    }
}

impl<T: FromNode> FromNode for BTreeMap<String, T> {
    fn from_node(node: &Node, r: &mut Reader, field: &str) -> Option<Self> {
        let Value::Map(entries) = &node.value else {
            r.wrong_type(node, field, "a map");
            return None;
        };
        let mut out = BTreeMap::new();
        for (key, value) in entries {
            let name = match &key.value {
                Value::Str(s) => s.clone(),
                Value::Int(i) => i.to_string(),
                other => {
                    r.report(key, field, format!("keys must be strings, found {}", other.describe()), None);
                    continue;
                }
            };
            if let Some(v) = T::from_node(value, r, &join(field, &name)) {
                out.insert(name, v);
            }
        }
        Some(out)
    }
}

impl FromNode for RawMode {
    fn from_node(node: &Node, r: &mut Reader, field: &str) -> Option<Self> {
        match &node.value {
            Value::Str(s) if s.eq_ignore_ascii_case("allow") => Some(RawMode::Allow),
            Value::Str(s) if s.eq_ignore_ascii_case("deny") => Some(RawMode::Deny),
            _ => {
                r.report(node, field, "a capability must be `Allow` or `Deny`".to_owned(), None);
                None
            }
        }
    }
}

impl FromNode for RawProjectRef {
    fn from_node(node: &Node, r: &mut Reader, field: &str) -> Option<Self> {
        match &node.value {
            Value::Str(s) => Some(RawProjectRef::Path(s.clone())),
            Value::Seq(_) => Vec::<String>::from_node(node, r, field).map(RawProjectRef::Segments),
            _ => {
                r.wrong_type(node, field, "a project path (`A/B`) or a list of names");
                None
            }
        }
    }
}

impl FromNode for RawContentRename {
    fn from_node(node: &Node, r: &mut Reader, field: &str) -> Option<Self> {
        match &node.value {
            Value::Str(s) => Some(RawContentRename::Name(s.clone())),
            Value::Map(_) => {
                let m = r.map(node, field, "renamed_from", RawMovedFrom::KEYS)?;
                let project = m.req(r, "project");
                let name = m.req(r, "name");
                Some(RawContentRename::Moved(RawMovedFrom { project: project?, name: name? }))
            }
            _ => {
                r.wrong_type(node, field, "an old name or `{ project: ..., name: ... }`");
                None
            }
        }
    }
}

impl FromNode for RawEvery {
    fn from_node(node: &Node, r: &mut Reader, field: &str) -> Option<Self> {
        match &node.value {
            Value::Int(_) => u32::from_node(node, r, field).map(RawEvery::Hours),
            Value::Str(s) => Some(RawEvery::Text(s.clone())),
            _ => {
                r.wrong_type(node, field, "hours (1, 2, 4, 6, 8, 12) or `15m`/`30m`");
                None
            }
        }
    }
}

impl FromNode for RawMonthDay {
    fn from_node(node: &Node, r: &mut Reader, field: &str) -> Option<Self> {
        match &node.value {
            Value::Int(_) => u32::from_node(node, r, field).map(RawMonthDay::Day),
            Value::Str(s) => Some(RawMonthDay::Text(s.clone())),
            _ => {
                r.wrong_type(node, field, "a day of the month (1-31) or `last`");
                None
            }
        }
    }
}

/// Implements [`FromNode`] for a struct read from a map with the struct's `KEYS`.
macro_rules! struct_from_node {
    ($t:ident, $what:literal, req [$($req:ident),*], opt [$($opt:ident),*] $(, rename [$($field:ident = $key:literal),*])?) => {
        impl FromNode for $t {
            fn from_node(node: &Node, r: &mut Reader, field: &str) -> Option<Self> {
                let m = r.map(node, field, $what, $t::KEYS)?;
                $(let $req = m.req(r, stringify!($req));)*
                $(let $opt = m.opt(r, stringify!($opt));)*
                $($(let $field = m.req(r, $key);)*)?
                Some($t { $($req: $req?,)* $($opt,)* $($($field: $field?,)*)? })
            }
        }
    };
}

struct_from_node!(RawFile, "the manifest", req [version], opt [site, vars, environments, settings, users, groups, projects, datasources, workbooks, subscriptions, webhooks]);
struct_from_node!(RawSite, "site", req [content_url], opt [server, api_version, settings]);
struct_from_node!(RawSiteOverride, "site", req [], opt [server, content_url, api_version]);
struct_from_node!(RawEnvironment, "environment", req [], opt [site, vars, connections]);
struct_from_node!(RawConnectionOverride, "connection override", req [match_server], opt [server, port, database, username, password, embed]);
struct_from_node!(RawSettings, "settings", req [], opt [prune_groups, prune_users, max_deletes, reassign_content_to, prune_subscriptions, preview, prune_webhooks]);
struct_from_node!(RawPreviewSettings, "preview settings", req [], opt [project, reviewers]);
struct_from_node!(RawUser, "user", req [name], opt [site_role, auth_setting, identity_provider, full_name, email]);
struct_from_node!(RawGroup, "group", req [name], opt [minimum_site_role, members, protect, renamed_from]);
struct_from_node!(RawProject, "project", req [name], opt [description, content_permissions, owner, prune, protect, renamed_from, parent, permissions, default_permissions, projects]);
struct_from_node!(RawDefaultPermissions, "default_permissions", req [], opt [workbooks, datasources]);
struct_from_node!(RawRule, "permission rule", req [], opt [group, user, template, capabilities]);
struct_from_node!(RawDatasource, "data source", req [name, project, file], opt [description, tags, owner, connections, permissions, refresh, protect, renamed_from]);
struct_from_node!(RawWorkbook, "workbook", req [name, project, file], opt [description, tags, owner, show_tabs, hidden_views, connections, permissions, view_permissions, refresh, protect, renamed_from]);
struct_from_node!(RawConnection, "connection", req [], opt [server, port, database, username, password, embed]);
struct_from_node!(RawWebhook, "webhook", req [name, event, url], opt [enabled]);
struct_from_node!(RawRefresh, "refresh task", req [frequency], opt [at, until, every, weekdays, month_days], rename [refresh_type = "type"]);
struct_from_node!(RawSubscription, "subscription", req [subject, user, project, workbook, schedule], opt [view, message, attach, page_orientation, page_size, send_if_empty, suspended]);
struct_from_node!(RawSchedule, "schedule", req [frequency], opt [at, until, every, weekdays, month_days]);
