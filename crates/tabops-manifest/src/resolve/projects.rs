//! Projects: paths (nesting and `parent:`), duplicates among siblings and across files, owners, permissions.

use std::collections::HashMap;

use super::locks::{Lock, PermissionSite, Subject};
use super::permissions::resolve_rules;
use super::{Cx, FileInput};
use crate::diag::did_you_mean;
use crate::model::{Address, ContentPermissions, DefaultPermissions, PermissionTarget, ProjectPath, ProjectSpec};
use crate::node::Pos;
use crate::raw::{Located, RawProject, RawProjectRef};

/// Parse a project reference (`A/B` or a list of names), substituting variables.
pub fn project_ref(cx: &mut Cx<'_>, raw: &Located<RawProjectRef>) -> Option<ProjectPath> {
    let path = match &raw.value {
        RawProjectRef::Path(text) => ProjectPath::parse(&cx.expand(&raw.map(|_| text.clone()))?),
        RawProjectRef::Segments(names) => {
            let mut segments = Vec::new();
            for name in names {
                segments.push(cx.expand(&raw.map(|_| name.clone()))?);
            }
            ProjectPath::new(segments)
        }
    };
    if path.segments().is_empty() || path.segments().iter().any(|s| s.trim().is_empty()) {
        cx.problems.push(raw.problem(
            format!("`{path}` is not a valid project path (empty name)"),
            Some("separate names with a single `/`; write `\\/` for a slash inside a name".into()),
        ));
        return None;
    }
    Some(path)
}

/// All projects, parents first then by path.
pub fn projects(cx: &mut Cx<'_>, files: &[FileInput]) -> Vec<ProjectSpec> {
    let mut out = Vec::new();
    let mut seen: HashMap<String, Pos> = HashMap::new();
    let mut attachments = Vec::new();
    for project in files.iter().flat_map(|f| f.raw.projects.iter().flatten()) {
        let parent = match &project.value.parent {
            Some(parent) => match project_ref(cx, parent) {
                Some(path) => {
                    attachments.push(parent.map(|_| path.clone()));
                    Some(path)
                }
                None => continue,
            },
            None => None,
        };
        walk(cx, project, parent, &mut seen, &mut out);
    }
    let known: Vec<String> = out.iter().map(|p: &ProjectSpec| p.path.to_string()).collect();
    for parent in attachments {
        if !out.iter().any(|p| p.path == parent.value) {
            cx.problems.push(undefined_project(&parent, &known));
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// The problem for a reference to a project the manifest does not define.
pub fn undefined_project(at: &Located<ProjectPath>, known: &[String]) -> crate::raw::Problem {
    let text = at.value.to_string();
    let hint = did_you_mean(&text, known.iter().map(String::as_str)).or_else(|| {
        Some(
            "projects are referenced by path from the top, e.g. `Sales/EMEA`; define the project under `projects:`"
                .into(),
        )
    });
    at.problem(format!("project `{text}` is not defined in the manifest"), hint)
}

fn walk(
    cx: &mut Cx<'_>,
    project: &Located<RawProject>,
    parent: Option<ProjectPath>,
    seen: &mut HashMap<String, Pos>,
    out: &mut Vec<ProjectSpec>,
) {
    let raw = &project.value;
    let Some(name) = cx.expand(&raw.name) else { return };
    let path = match &parent {
        Some(parent) => parent.child(name),
        None => ProjectPath::new(vec![name]),
    };
    let key = path.key().join("\u{0}");
    let shown = raw.name.map(|_| path.to_string());
    if !cx.unique(seen, key, &shown, "project") {
        return;
    }
    let content_permissions = raw.content_permissions.as_ref().and_then(|text| {
        let value = cx.expand(text)?;
        let parsed = ContentPermissions::parse(&value);
        if parsed.is_none() {
            let names = ContentPermissions::ALL.map(ContentPermissions::as_str);
            let hint = did_you_mean(&value, names).or_else(|| Some(format!("expected one of: {}", names.join(", "))));
            cx.problems.push(text.problem(format!("unknown content_permissions `{value}`"), hint));
        }
        parsed
    });
    if let (
        Some(mode @ (ContentPermissions::LockedToProject | ContentPermissions::LockedToProjectWithoutNested)),
        Some(at),
    ) = (content_permissions, &raw.content_permissions)
    {
        cx.locks.insert(path.clone(), Lock { mode, pos: at.pos });
    }
    if let Some(first) = raw.permissions.iter().flatten().next() {
        let subject = Subject::Project { path: path.clone(), default: false };
        cx.permission_sites.push(PermissionSite { subject, pos: first.pos, field: first.field.clone() });
    }
    if let Some(defaults) = &raw.default_permissions {
        let subject = Subject::Project { path: path.clone(), default: true };
        cx.permission_sites.push(PermissionSite { subject, pos: defaults.pos, field: defaults.field.clone() });
    }
    let owner = raw.owner.as_ref().and_then(|o| cx.user(o));
    if let (Some(_), Some(at)) = (&owner, &raw.owner) {
        cx.check_owner(at, &Address::project(&path));
    }
    let renamed_from = raw.renamed_from.as_ref().and_then(|r| project_ref(cx, r));
    let permissions = raw.permissions.as_ref().map(|rules| resolve_rules(cx, rules, PermissionTarget::Project));
    let default_permissions = match &raw.default_permissions {
        Some(defaults) => DefaultPermissions {
            workbooks: defaults.value.workbooks.as_ref().map(|r| resolve_rules(cx, r, PermissionTarget::Workbook)),
            datasources: defaults
                .value
                .datasources
                .as_ref()
                .map(|r| resolve_rules(cx, r, PermissionTarget::Datasource)),
        },
        None => DefaultPermissions::default(),
    };
    out.push(ProjectSpec {
        path: path.clone(),
        description: cx.expand_opt(&raw.description),
        content_permissions,
        owner,
        prune: raw.prune.as_ref().is_some_and(|b| b.value),
        protect: raw.protect.as_ref().is_some_and(|b| b.value),
        renamed_from,
        permissions,
        default_permissions,
    });
    for child in raw.projects.iter().flatten() {
        if let Some(parent) = &child.value.parent {
            cx.problems.push(parent.problem(
                "`parent` is only allowed on top-level projects",
                Some("a nested project's parent is the project it is nested in".into()),
            ));
            continue;
        }
        walk(cx, child, Some(path.clone()), seen, out);
    }
}
