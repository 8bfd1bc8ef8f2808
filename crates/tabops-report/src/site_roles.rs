//! Site-role ceilings: the most a site role lets a user do on each kind of object, whatever the rules say.
//!
//! Tableau: "Site roles determine the maximum capabilities a user can have in that site. (For example, a user with
//! a site role of Viewer will never be able to download a data source even if that capability is explicitly
//! granted to them.)" (help.tableau.com, "Permissions, Site Roles, and Licenses", permission_license_siterole.htm,
//! and its table of the capabilities each site role can have). The rows below are that table in the REST API's
//! capability names; docs/reports.md lists them beside the documentation's names.

use tabops_manifest::model::{Capability, PermissionTarget};

/// What a site role (as the server spells it) permits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ceiling {
    /// Site and server administrators: every capability on all content, whatever the rules say.
    Administrator,
    /// Creator and Explorer (can publish): every capability, within the rules.
    Everything,
    /// Explorer: interact, download summary and full data, web-edit without saving, connect to data sources.
    Explorer,
    /// Viewer: see and interact with views, download images and summary data; no data-source connections.
    Viewer,
    /// Unlicensed, or a role tabops does not know: nothing.
    Nothing,
}

impl Ceiling {
    /// The ceiling of a site role as the REST API spells it.
    pub fn of(site_role: &str) -> Ceiling {
        match site_role {
            "SiteAdministratorCreator" | "SiteAdministratorExplorer" | "ServerAdministrator" | "SiteAdministrator" => {
                Ceiling::Administrator
            }
            "Creator" | "ExplorerCanPublish" | "Publisher" => Ceiling::Everything,
            "Explorer" | "Interactor" => Ceiling::Explorer,
            "Viewer" | "ReadOnly" | "ViewerWithPublish" => Ceiling::Viewer,
            _ => Ceiling::Nothing,
        }
    }

    /// Whether the role can have `capability` on an object of kind `target` at all.
    pub fn permits(self, target: PermissionTarget, capability: Capability) -> bool {
        use Capability::*;
        const WB_VIEWER: [Capability; 6] = [Read, Filter, ViewComments, AddComment, ExportImage, ExportData];
        const WB_EXPLORER: [Capability; 4] = [ShareView, ViewUnderlyingData, WebAuthoring, RunExplainData];
        match self {
            Ceiling::Administrator | Ceiling::Everything => true,
            Ceiling::Nothing => false,
            Ceiling::Explorer => match target {
                PermissionTarget::Project => capability == Read,
                PermissionTarget::Workbook | PermissionTarget::View => {
                    WB_VIEWER.contains(&capability) || WB_EXPLORER.contains(&capability)
                }
                PermissionTarget::Datasource => matches!(capability, Read | Connect | ExportXml),
            },
            Ceiling::Viewer => match target {
                PermissionTarget::Project => capability == Read,
                PermissionTarget::Workbook | PermissionTarget::View => WB_VIEWER.contains(&capability),
                PermissionTarget::Datasource => capability == Read,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Capability::*;
    use PermissionTarget::*;

    #[test]
    fn each_role_stops_where_the_documented_table_does() {
        // (role, kind, capability, permitted), written from the documentation's table.
        let table = [
            ("Viewer", Workbook, Read, true),
            ("Viewer", Workbook, ExportData, true),
            ("Viewer", Workbook, ViewUnderlyingData, false),
            ("Viewer", Workbook, WebAuthoring, false),
            ("Viewer", Workbook, Write, false),
            ("Viewer", Datasource, Connect, false),
            ("Viewer", Datasource, ExportXml, false),
            ("Viewer", Project, Write, false),
            ("Explorer", Workbook, ViewUnderlyingData, true),
            ("Explorer", Workbook, WebAuthoring, true),
            ("Explorer", Workbook, Write, false),
            ("Explorer", Workbook, ExportXml, false),
            ("Explorer", Datasource, Connect, true),
            ("Explorer", Datasource, Write, false),
            ("Explorer", Project, Write, false),
            ("Explorer", Project, ProjectLeader, false),
            ("ExplorerCanPublish", Workbook, Write, true),
            ("ExplorerCanPublish", Project, ProjectLeader, true),
            ("Creator", Datasource, Write, true),
            ("SiteAdministratorExplorer", Datasource, ChangePermissions, true),
            ("Unlicensed", Workbook, Read, false),
            ("SomethingNew", Workbook, Read, false),
        ];
        for (role, kind, capability, permitted) in table {
            assert_eq!(Ceiling::of(role).permits(kind, capability), permitted, "{role} {kind:?} {capability:?}");
        }
    }
}
