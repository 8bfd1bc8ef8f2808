//! Tableau's permission templates (Viewer, Explorer, Publisher, ...) as capability sets per object kind: expanded
//! when a manifest is read, and matched when a live site is exported, so both directions use one table.

use std::collections::BTreeMap;

use crate::model::{Capability, Mode, PermissionTarget};

/// Tableau's permission templates, in the order preferred when several are equal (`Viewer` before `Explorer`
/// on projects, where both grant only `Read`).
pub const TEMPLATES: [&str; 6] = ["Viewer", "Explorer", "Publisher", "ProjectLeader", "Administrator", "Denied"];

/// The capabilities a template grants on `target`; `None` when the template is not defined for it.
pub fn template(name: &str, target: PermissionTarget) -> Option<BTreeMap<Capability, Mode>> {
    use Capability::*;
    let all = |mode| {
        Capability::ALL.into_iter().filter(|c| c.valid_for(target) && *c != ProjectLeader).map(|c| (c, mode)).collect()
    };
    let allow = |caps: &[Capability]| caps.iter().map(|c| (*c, Mode::Allow)).collect();
    let wb_viewer = [Read, Filter, ViewComments, AddComment, ExportImage, ExportData];
    let wb_explorer = [&wb_viewer[..], &[ShareView, ViewUnderlyingData, WebAuthoring, RunExplainData]].concat();
    let ds_explorer = [Read, Connect, ExportXml];
    Some(match (name, target) {
        ("Viewer", PermissionTarget::Project) | ("Explorer", PermissionTarget::Project) => allow(&[Read]),
        ("Publisher", PermissionTarget::Project) | ("Administrator", PermissionTarget::Project) => {
            allow(&[Read, Write])
        }
        ("ProjectLeader", PermissionTarget::Project) => allow(&[Read, Write, ProjectLeader]),
        ("Viewer", PermissionTarget::Workbook | PermissionTarget::View) => allow(&wb_viewer),
        ("Explorer", PermissionTarget::View) => {
            allow(&[&wb_viewer[..], &[ShareView, ViewUnderlyingData, WebAuthoring]].concat())
        }
        ("Explorer", PermissionTarget::Workbook) => allow(&wb_explorer),
        ("Publisher", PermissionTarget::Workbook) => allow(&[&wb_explorer[..], &[ExportXml, Write]].concat()),
        ("Viewer", PermissionTarget::Datasource) => allow(&[Read, Connect]),
        ("Explorer", PermissionTarget::Datasource) => allow(&ds_explorer),
        ("Publisher", PermissionTarget::Datasource) => allow(&[&ds_explorer[..], &[Write, SaveAs]].concat()),
        ("Administrator", _) => all(Mode::Allow),
        ("Denied", _) => all(Mode::Deny),
        _ => return None,
    })
}
