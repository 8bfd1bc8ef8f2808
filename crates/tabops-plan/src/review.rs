//! The pull-request review: what a change set alters in the desired state (manifest fields and content digests)
//! between a base revision and the head, shown apart from the live plan so a reviewer sees the change set's intent
//! and the site's drift separately. Pure: the caller loads both manifests and, for the Markdown renderer, supplies
//! the semantic diff of changed content files (tabops-content reads them; this crate does no I/O).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value;
use tabops_manifest::model::{Address, Desired};

/// What a change set alters in the desired state.
#[derive(Debug, Clone, Serialize)]
pub struct Review {
    /// The base revision as given (`origin/main`) and its commit.
    pub base: String,
    pub base_commit: String,
    /// `working tree` or the `--git-ref` revision.
    pub head: String,
    pub changes: Vec<ObjectChange>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// One object added, removed or changed between base and head.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectChange {
    pub address: String,
    pub change: ChangeKind,
    /// Field-level differences (dotted paths); content digests are in `content`.
    pub fields: Vec<FieldDiff>,
    /// The content file, when its bytes changed (or the item was added/removed).
    pub content: Option<ContentChange>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FieldDiff {
    pub field: String,
    pub before: Value,
    pub after: Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContentChange {
    /// The file as written in the manifest (head, else base).
    pub file: String,
    pub before_sha256: Option<String>,
    pub after_sha256: Option<String>,
    pub before_size: Option<u64>,
    pub after_size: Option<u64>,
    /// Files on disk holding each version (for a semantic diff); not serialised.
    #[serde(skip)]
    pub before_path: Option<PathBuf>,
    #[serde(skip)]
    pub after_path: Option<PathBuf>,
}

/// Compares the desired state at `base` with the one at `head`. Objects match by address, case-insensitively.
pub fn diff(base: &Desired, head: &Desired) -> Vec<ObjectChange> {
    let before = objects(base);
    let after = objects(head);
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for key in keys {
        let (b, a) = (before.get(key), after.get(key));
        let address = a.or(b).map(|o| o.address.clone()).unwrap_or_default();
        let change = match (b, a) {
            (None, Some(_)) => ChangeKind::Added,
            (Some(_), None) => ChangeKind::Removed,
            _ => ChangeKind::Changed,
        };
        let mut fields = Vec::new();
        flatten_diff("", b.map(|o| &o.value), a.map(|o| &o.value), &mut fields);
        if change == ChangeKind::Removed {
            // A removed object's fields are all "removed"; the address says it.
            fields.clear();
        }
        let content = content_change(b, a);
        if change == ChangeKind::Changed && fields.is_empty() && content.is_none() {
            continue;
        }
        out.push(ObjectChange { address, change, fields, content });
    }
    out
}

struct Object {
    address: String,
    value: Value,
    file: Option<(String, String, u64, PathBuf)>,
}

fn objects(desired: &Desired) -> BTreeMap<String, Object> {
    let mut out = BTreeMap::new();
    let mut put = |address: String, value: Value, file: Option<(String, String, u64, PathBuf)>| {
        out.insert(address.to_lowercase(), Object { address, value, file });
    };
    put("site".into(), to_value(&desired.site), None);
    put("settings".into(), to_value(&desired.settings), None);
    for p in &desired.projects {
        put(Address::project(&p.path).to_string(), to_value(p), None);
    }
    for g in &desired.groups {
        put(Address::group(g.name.as_str()).to_string(), to_value(g), None);
    }
    for u in &desired.users {
        put(Address::user(u.name.as_str()).to_string(), to_value(u), None);
    }
    for c in desired.datasources.iter().chain(&desired.workbooks) {
        let mut value = to_value(c);
        if let Some(file) = value.get_mut("file").and_then(Value::as_object_mut) {
            // Where the bytes sit differs between a commit and the work tree; the digest says whether they differ.
            for key in ["path", "sha256", "file_sha256", "size"] {
                file.remove(key);
            }
        }
        let file = (c.file.display.clone(), c.file.sha256.clone(), c.file.size, c.file.path.clone());
        put(c.address().to_string(), value, Some(file));
    }
    out
}

fn to_value(value: &impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn flatten_diff(prefix: &str, before: Option<&Value>, after: Option<&Value>, out: &mut Vec<FieldDiff>) {
    match (before, after) {
        (Some(Value::Object(b)), Some(Value::Object(a))) => {
            let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                flatten_diff(&path, b.get(key), a.get(key), out);
            }
        }
        (Some(Value::Object(b)), None) => {
            for (key, value) in b {
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                flatten_diff(&path, Some(value), None, out);
            }
        }
        (None, Some(Value::Object(a))) => {
            for (key, value) in a {
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                flatten_diff(&path, None, Some(value), out);
            }
        }
        (b, a) if b != a => {
            let is_empty = |v: Option<&Value>| {
                v.is_none_or(|v| v.is_null() || v.as_array().is_some_and(Vec::is_empty) || v == &Value::Bool(false))
            };
            if is_empty(b) && is_empty(a) {
                return;
            }
            out.push(FieldDiff {
                field: prefix.to_owned(),
                before: b.cloned().unwrap_or(Value::Null),
                after: a.cloned().unwrap_or(Value::Null),
            });
        }
        _ => {}
    }
}

fn content_change(before: Option<&Object>, after: Option<&Object>) -> Option<ContentChange> {
    let b = before.and_then(|o| o.file.as_ref());
    let a = after.and_then(|o| o.file.as_ref());
    if b.is_none() && a.is_none() || b.map(|f| &f.1) == a.map(|f| &f.1) {
        return None;
    }
    Some(ContentChange {
        file: a.or(b).map(|f| f.0.clone()).unwrap_or_default(),
        before_sha256: b.map(|f| f.1.clone()),
        after_sha256: a.map(|f| f.1.clone()),
        before_size: b.map(|f| f.2),
        after_size: a.map(|f| f.2),
        before_path: b.map(|f| f.3.clone()),
        after_path: a.map(|f| f.3.clone()),
    })
}

impl Review {
    pub fn counts(&self) -> (usize, usize, usize) {
        let n = |k: ChangeKind| self.changes.iter().filter(|c| c.change == k).count();
        (n(ChangeKind::Added), n(ChangeKind::Changed), n(ChangeKind::Removed))
    }

    fn heading(&self) -> String {
        let short = self.base_commit.get(..12).unwrap_or(&self.base_commit);
        let (add, change, remove) = self.counts();
        format!(
            "Changes in this pull request ({} {short} -> {}): {add} added, {change} changed, {remove} removed",
            self.base, self.head
        )
    }

    /// Plain text, before the live plan.
    pub fn render_text(&self) -> String {
        let mut out = format!("{}\n", self.heading());
        if self.changes.is_empty() {
            out.push_str("  The desired state is the same at both revisions.\n");
        }
        for change in &self.changes {
            let _ = writeln!(out, "  {} {}", glyph(change.change), change.address);
            for f in &change.fields {
                let _ = writeln!(out, "      {}: {} -> {}", f.field, show(&f.before), show(&f.after));
            }
            if let Some(c) = &change.content {
                let _ = writeln!(out, "      content {}: {}", c.file, content_line(c));
            }
        }
        out.push('\n');
        out
    }

    /// Markdown for the pull-request comment, before the live plan. `semantic` renders the semantic diff of a
    /// changed content file (worksheets, calculated fields, connections...), shown under its line; `None` when it
    /// has none.
    pub fn render_markdown(&self, semantic: impl Fn(&ContentChange) -> Option<String>) -> String {
        let mut out = format!("## {}\n\n", self.heading().replace(" -> ", " → "));
        if self.changes.is_empty() {
            out.push_str("The desired state is the same at both revisions.\n\n");
        }
        for change in &self.changes {
            let _ = writeln!(out, "- **{}** `{}`", word(change.change), change.address.replace('`', "'"));
            if !change.fields.is_empty() {
                out.push_str("\n  | field | before | after |\n  |---|---|---|\n");
                for f in &change.fields {
                    let _ = writeln!(out, "  | `{}` | {} | {} |", f.field, cell(&f.before), cell(&f.after));
                }
                out.push('\n');
            }
            if let Some(c) = &change.content {
                let _ = writeln!(out, "  - content `{}`: {}", c.file.replace('`', "'"), content_line(c));
                if let Some(semantic) = semantic(c) {
                    let _ = writeln!(out, "\n{}", indent(&semantic, "    "));
                }
            }
        }
        out.push('\n');
        out
    }
}

fn indent(text: &str, prefix: &str) -> String {
    text.lines()
        .map(|l| if l.is_empty() { String::new() } else { format!("{prefix}{l}") })
        .collect::<Vec<_>>()
        .join("\n")
}

fn glyph(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Added => "+",
        ChangeKind::Removed => "-",
        ChangeKind::Changed => "~",
    }
}

fn word(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Added => "added",
        ChangeKind::Removed => "removed",
        ChangeKind::Changed => "changed",
    }
}

fn show(value: &Value) -> String {
    match value {
        Value::Null => "(unset)".into(),
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

fn cell(value: &Value) -> String {
    let text = show(value).replace('|', "\\|").replace('`', "'");
    format!("`{text}`")
}

fn content_line(c: &ContentChange) -> String {
    let sha = |s: &Option<String>| s.as_deref().map(|s| s.get(..12).unwrap_or(s).to_owned());
    let size = |s: Option<u64>| s.map(|s| format!("{s} bytes"));
    match (sha(&c.before_sha256), sha(&c.after_sha256)) {
        (Some(b), Some(a)) => format!(
            "sha256 {b}… -> {a}… ({} -> {})",
            size(c.before_size).unwrap_or_default(),
            size(c.after_size).unwrap_or_default()
        ),
        (None, Some(a)) => format!("new file, sha256 {a}… ({})", size(c.after_size).unwrap_or_default()),
        (Some(b), None) => format!("removed, was sha256 {b}…"),
        (None, None) => String::new(),
    }
}

/// `plan --format json --base`: the plan JSON unchanged under `plan`, the review next to it.
pub fn json_with_review(plan_json: &str, review: &Review) -> String {
    let plan: Value = serde_json::from_str(plan_json).unwrap_or(Value::Null);
    let both = serde_json::json!({ "plan": plan, "review": review });
    serde_json::to_string_pretty(&both).unwrap_or_default()
}
