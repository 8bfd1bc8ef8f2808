//! Permissions a locked project controls. In a project whose `content_permissions` is `LockedToProject` or
//! `LockedToProjectWithoutNested`, the content's permissions are the project's default permissions, and under
//! `LockedToProject` the nested projects' permissions are the locking project's too (Tableau help,
//! permissions_project_lock.htm; "Lock Project Permission", enterprisetableau.com 2018-02: content published or
//! moved into a locked project gets the defaults, and locking replaces every item's rules with them). Tableau
//! refuses changing them under a lock (403004 `LOCKED_CHILD_PROJECT_CANNOT_BE_CHANGED`, kb.tableau.com
//! "403004 Error Returned Using Rest API"), so rules the manifest sets there could never be applied: `validate`
//! refuses them, naming the locking project.

use crate::model::{ContentKind, ContentPermissions, ProjectPath};
use crate::node::Pos;
use crate::raw::Problem;

use super::Cx;

/// An object whose `permissions:` (or `default_permissions:`) the manifest sets, and where.
pub struct PermissionSite {
    pub subject: Subject,
    pub pos: Pos,
    pub field: String,
}

pub enum Subject {
    Content {
        kind: ContentKind,
        project: ProjectPath,
        name: String,
    },
    /// A project's `permissions:` (`default: false`) or `default_permissions:` (`default: true`).
    Project {
        path: ProjectPath,
        default: bool,
    },
}

/// A project's lock as the manifest declares it.
pub struct Lock {
    pub mode: ContentPermissions,
    pub pos: Pos,
}

/// Refuses every permission rule the manifest sets on an object a locked project controls.
pub fn check(cx: &mut Cx<'_>) {
    let sites = std::mem::take(&mut cx.permission_sites);
    for site in sites {
        let (what, controller) = match &site.subject {
            Subject::Content { kind, project, name } => {
                let noun = if *kind == ContentKind::Workbook { "workbook" } else { "data source" };
                let own = cx.locks.get(project).map(|lock| (project.clone(), lock));
                (format!("{noun} `{project}/{name}`"), own.or_else(|| locked_ancestor(cx, project)))
            }
            Subject::Project { path, default } => {
                let key = if *default { "default permissions" } else { "permissions" };
                (format!("the {key} of project `{path}`"), locked_ancestor(cx, path))
            }
        };
        let Some((locking, lock)) = controller else { continue };
        let message = match &site.subject {
            Subject::Content { .. } => format!(
                "{what} sets permissions, but project `{locking}` locks its content's permissions \
                 (`content_permissions: {}` at {})",
                lock.mode.as_str(),
                cx.at(lock.pos)
            ),
            Subject::Project { .. } => format!(
                "{what} are controlled by project `{locking}` (`content_permissions: {}` at {})",
                lock.mode.as_str(),
                cx.at(lock.pos)
            ),
        };
        let hint = match &site.subject {
            Subject::Content { .. } => format!(
                "in a locked project every item has the project's default permissions: set them under \
                 `default_permissions:` of `{locking}`, or make it `ManagedByOwner`"
            ),
            Subject::Project { .. } => format!(
                "LockedToProject locks nested projects too: remove these rules, or lock `{locking}` with \
                 `LockedToProjectWithoutNested` so nested projects set their own"
            ),
        };
        cx.problems.push(Problem { pos: site.pos, field: site.field, message, hint: Some(hint) });
    }
}

/// The nearest strict ancestor of `path` locked with `LockedToProject` (which locks nested projects too).
fn locked_ancestor<'c>(cx: &'c Cx<'_>, path: &ProjectPath) -> Option<(ProjectPath, &'c Lock)> {
    let mut current = path.parent();
    while let Some(ancestor) = current {
        if let Some(lock) = cx.locks.get(&ancestor).filter(|l| l.mode == ContentPermissions::LockedToProject) {
            return Some((ancestor, lock));
        }
        current = ancestor.parent();
    }
    None
}
