//! Data sources and workbooks: project references, content files (kind, containment, existence), connections
//! with environment overrides and secrets, permissions and refresh schedules.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use super::locks::{PermissionSite, Subject};
use super::permissions::resolve_rules;
use super::projects::{project_ref, undefined_project};
use super::schedule::resolve_refresh;
use super::vars::Vars;
use super::{Context, Cx};
use crate::model::{
    Address, ConnectionSpec, ContentFile, ContentKind, ContentSpec, Desired, FileType, PermissionTarget, ProjectPath,
    ProjectSpec,
};
use crate::raw::{
    Located, RawConnection, RawConnectionOverride, RawContentRename, RawDatasource, RawProjectRef, RawRefresh, RawRule,
    RawViewPermissions, RawWorkbook,
};
use crate::source::PathProblem;

/// The fields data sources and workbooks share, borrowed from either raw type.
struct View<'a> {
    kind: ContentKind,
    name: &'a Located<String>,
    project: &'a Located<RawProjectRef>,
    file: &'a Located<String>,
    description: &'a Option<Located<String>>,
    tags: &'a Option<Vec<Located<String>>>,
    owner: &'a Option<Located<String>>,
    show_tabs: Option<&'a Located<bool>>,
    hidden_views: Option<&'a Vec<Located<String>>>,
    connections: &'a Option<Vec<Located<RawConnection>>>,
    permissions: &'a Option<Vec<Located<RawRule>>>,
    view_permissions: Option<&'a Located<RawViewPermissions>>,
    refresh: &'a Option<Vec<Located<RawRefresh>>>,
    protect: &'a Option<Located<bool>>,
    renamed_from: &'a Option<Located<RawContentRename>>,
}

impl<'a> From<&'a RawDatasource> for View<'a> {
    fn from(d: &'a RawDatasource) -> Self {
        View {
            kind: ContentKind::Datasource,
            name: &d.name,
            project: &d.project,
            file: &d.file,
            description: &d.description,
            tags: &d.tags,
            owner: &d.owner,
            show_tabs: None,
            hidden_views: None,
            connections: &d.connections,
            permissions: &d.permissions,
            view_permissions: None,
            refresh: &d.refresh,
            protect: &d.protect,
            renamed_from: &d.renamed_from,
        }
    }
}

impl<'a> From<&'a RawWorkbook> for View<'a> {
    fn from(w: &'a RawWorkbook) -> Self {
        View {
            kind: ContentKind::Workbook,
            name: &w.name,
            project: &w.project,
            file: &w.file,
            description: &w.description,
            tags: &w.tags,
            owner: &w.owner,
            show_tabs: w.show_tabs.as_ref(),
            hidden_views: w.hidden_views.as_ref(),
            connections: &w.connections,
            permissions: &w.permissions,
            view_permissions: w.view_permissions.as_ref(),
            refresh: &w.refresh,
            protect: &w.protect,
            renamed_from: &w.renamed_from,
        }
    }
}

/// `(datasources, workbooks)`, each sorted by project path then name. Content files are located, not hashed.
pub fn content(
    cx: &mut Cx<'_>,
    input: &Context<'_>,
    projects: &[ProjectSpec],
    overrides: &[&Located<RawConnectionOverride>],
) -> (Vec<ContentSpec>, Vec<ContentSpec>) {
    let known: Vec<String> = projects.iter().map(|p| p.path.to_string()).collect();
    // Paths compare case-insensitively; the value is the spelling the project was defined with.
    let projects: HashMap<&ProjectPath, &ProjectPath> = projects.iter().map(|p| (&p.path, &p.path)).collect();
    let mut seen = HashMap::new();
    let mut datasources = Vec::new();
    let mut workbooks = Vec::new();
    for file in input.files {
        for d in file.raw.datasources.iter().flatten() {
            if let Some(spec) =
                item(cx, input, &file.dir, View::from(&d.value), &projects, &known, overrides, &mut seen)
            {
                datasources.push(spec);
            }
        }
        for w in file.raw.workbooks.iter().flatten() {
            if let Some(spec) =
                item(cx, input, &file.dir, View::from(&w.value), &projects, &known, overrides, &mut seen)
            {
                workbooks.push(spec);
            }
        }
    }
    let order = |c: &ContentSpec| (c.project.key(), c.name.to_lowercase());
    datasources.sort_by_cached_key(order);
    workbooks.sort_by_cached_key(order);
    (datasources, workbooks)
}

#[allow(clippy::too_many_arguments)]
fn item(
    cx: &mut Cx<'_>,
    input: &Context<'_>,
    dir: &Path,
    v: View<'_>,
    projects: &HashMap<&ProjectPath, &ProjectPath>,
    known: &[String],
    overrides: &[&Located<RawConnectionOverride>],
    seen: &mut HashMap<String, crate::node::Pos>,
) -> Option<ContentSpec> {
    let name = cx.expand(v.name);
    let project = project_ref(cx, v.project).and_then(|path| match projects.get(&path) {
        Some(found) => Some((*found).clone()),
        None => {
            cx.problems.push(undefined_project(&v.project.map(|_| path), known));
            None
        }
    });
    if let (Some(name), Some(project)) = (&name, &project) {
        let key = format!("{}\u{0}{}\u{0}{}", v.kind.as_str(), project.key().join("\u{0}"), name.to_lowercase());
        let what = format!(
            "{} in project `{project}`",
            if v.kind == ContentKind::Workbook { "workbook" } else { "data source" }
        );
        if !cx.unique(seen, key, v.name, &what) {
            return None;
        }
    }
    let file = content_file(cx, input, dir, v.kind, v.file);
    let target = match v.kind {
        ContentKind::Workbook => PermissionTarget::Workbook,
        ContentKind::Datasource => PermissionTarget::Datasource,
    };
    let permissions = v.permissions.as_ref().map(|rules| resolve_rules(cx, rules, target));
    let view_permissions = super::view_permissions::view_permissions(cx, v.view_permissions, v.show_tabs);
    let owner = v.owner.as_ref().and_then(|o| cx.user(o));
    let tags = v.tags.as_ref().map(|tags| tags.iter().filter_map(|t| cx.expand(t)).collect::<BTreeSet<_>>());
    let hidden_views = v.hidden_views.map(|h| h.iter().filter_map(|t| cx.expand(t)).collect()).unwrap_or_default();
    let connections = v.connections.iter().flatten().filter_map(|c| connection(cx, c, overrides)).collect::<Vec<_>>();
    // `None` (no `refresh:` key) leaves the item's live tasks alone; `refresh: []` means none.
    let refresh =
        v.refresh.as_ref().map(|list| list.iter().filter_map(|t| resolve_refresh(t, &mut cx.problems)).collect());
    let renamed_from = match v.renamed_from {
        None => None,
        Some(r) => match &r.value {
            RawContentRename::Name(old) => Some((project.clone()?, cx.expand(&r.map(|_| old.clone()))?)),
            RawContentRename::Moved(moved) => {
                let old_project = project_ref(cx, &r.map(|_| moved.project.clone()))?;
                Some((old_project, cx.expand(&r.map(|_| moved.name.clone()))?))
            }
        },
    };
    let name = name?;
    let project = project?;
    let address = Address::content(v.kind, &project, name.as_str());
    if let (Some(_), Some(at)) = (&owner, v.owner) {
        cx.check_owner(at, &address);
    }
    let first_view_rule = v.view_permissions.and_then(|m| m.value.values().flatten().next());
    if let Some(first) = v.permissions.iter().flatten().next().or(first_view_rule) {
        let subject = Subject::Content { kind: v.kind, project: project.clone(), name: name.clone() };
        cx.permission_sites.push(PermissionSite { subject, pos: first.pos, field: first.field.clone() });
    }
    if let Some(first) = v.refresh.iter().flatten().next() {
        let at = cx.at(first.pos);
        cx.locations.insert(Desired::refresh_key(&address), at);
    }
    Some(ContentSpec {
        kind: v.kind,
        name,
        project,
        file: file?,
        description: cx.expand_opt(v.description),
        tags,
        owner,
        show_tabs: v.show_tabs.map(|b| b.value),
        hidden_views,
        connections,
        permissions,
        view_permissions,
        refresh,
        protect: v.protect.as_ref().is_some_and(|b| b.value),
        renamed_from,
    })
}

fn content_file(
    cx: &mut Cx<'_>,
    input: &Context<'_>,
    dir: &Path,
    kind: ContentKind,
    file: &Located<String>,
) -> Option<ContentFile> {
    let relative = cx.expand(file)?;
    let ext = Path::new(&relative).extension().and_then(|e| e.to_str()).unwrap_or("");
    let expected = match kind {
        ContentKind::Workbook => "`.twb` or `.twbx`",
        ContentKind::Datasource => "`.tds`, `.tdsx` or `.hyper`",
    };
    let Some(file_type) = FileType::from_extension(ext).filter(|t| t.kind() == kind) else {
        let hint = match FileType::from_extension(ext) {
            Some(other) if other.kind() != kind => {
                let list = if other.kind() == ContentKind::Workbook { "workbooks" } else { "datasources" };
                Some(format!("a `.{ext}` file is a {}; list it under `{list}:`", other.kind().as_str()))
            }
            _ => None,
        };
        cx.problems
            .push(file.problem(format!("`{relative}` is not a {} file; expected {expected}", kind.as_str()), hint));
        return None;
    };
    match input.source.content_file(input.root, dir, &relative) {
        Ok(path) => {
            let display = path
                .strip_prefix(input.root)
                .map(|p| p.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"))
                .unwrap_or_else(|_| relative.clone());
            Some(ContentFile { path, display, file_type, size: 0, sha256: String::new(), file_sha256: String::new() })
        }
        Err(problem) => {
            let (message, hint) = match problem {
                PathProblem::Absolute => (
                    format!("content file `{relative}` is an absolute path"),
                    Some("write the path relative to this manifest file's directory".to_owned()),
                ),
                PathProblem::Traversal => (
                    format!("content file `{relative}` leaves the manifest root"),
                    Some("content files must live inside the manifest's directory tree".to_owned()),
                ),
                PathProblem::SymlinkOutside(target) => (
                    format!(
                        "content file `{relative}` is a symlink to `{}`, outside the manifest root",
                        target.display()
                    ),
                    Some("copy the file into the manifest's directory tree".to_owned()),
                ),
                PathProblem::Missing => (format!("content file `{relative}` does not exist"), None),
                PathProblem::NotAFile => (format!("content file `{relative}` is not a regular file"), None),
                PathProblem::Unreadable(err) => (format!("content file `{relative}` cannot be read: {err}"), None),
            };
            cx.problems.push(file.problem(message, hint));
            None
        }
    }
}

fn connection(
    cx: &mut Cx<'_>,
    raw: &Located<RawConnection>,
    overrides: &[&Located<RawConnectionOverride>],
) -> Option<ConnectionSpec> {
    let c = &raw.value;
    // Overrides match the server as written with the top-level vars, before the environment's vars apply.
    let base = Vars { vars: cx.base_vars.clone(), environment: cx.vars.environment };
    let base_server = c.server.as_ref().and_then(|s| base.expand(s).ok());
    let matched = overrides.iter().find(|o| {
        base_server
            .as_ref()
            .is_some_and(|server| base.expand(&o.value.match_server).is_ok_and(|m| m.eq_ignore_ascii_case(server)))
    });
    let pick = |field: Option<&Option<Located<String>>>, own: &Option<Located<String>>| {
        field.and_then(|f| f.clone()).or_else(|| own.clone())
    };
    let o = matched.map(|o| &o.value);
    let server = pick(o.map(|o| &o.server), &c.server);
    let database = pick(o.map(|o| &o.database), &c.database);
    let username = pick(o.map(|o| &o.username), &c.username);
    let password = pick(o.map(|o| &o.password), &c.password);
    let port = o.and_then(|o| o.port.as_ref()).or(c.port.as_ref()).map(|p| p.value);
    let embed = o.and_then(|o| o.embed.as_ref()).or(c.embed.as_ref()).is_some_and(|b| b.value);
    let server = cx.expand_opt(&server);
    let database = cx.expand_opt(&database);
    let username = cx.expand_opt(&username);
    let password = match &password {
        Some(p) => match cx.vars.secret(p) {
            Ok(secret) => {
                if let (false, Some(name)) = (secret.is_resolved(), secret.env_var()) {
                    let message = format!("environment variable `{name}` is not set (a connection password)");
                    cx.unset_secrets.push(p.problem(message, None));
                }
                Some(secret)
            }
            Err(problem) => {
                cx.problems.push(problem);
                return None;
            }
        },
        None => None,
    };
    Some(ConnectionSpec { server, port, database, username, password, embed })
}
