//! Explicit and default permissions.

use reqwest::Method;

use super::Client;
use super::transport::Call;
use crate::error::Result;
use crate::models::{CapabilityMode, DefaultPermissionKind, Grantee, GranteeCapabilities, PermissionTarget};

impl Client {
    /// Explicit permission rules on a project, workbook or data source.
    pub async fn permissions(&self, target: &PermissionTarget) -> Result<Vec<GranteeCapabilities>> {
        Ok(self.permissions_and_controller(target).await?.0)
    }

    /// The explicit rules of `target`, and the id of the locked project that controls them when the response names
    /// one (`<parent id type="Project"/>`, the schema's `permissionsType`): such rules cannot be changed (403004).
    pub async fn permissions_and_controller(
        &self,
        target: &PermissionTarget,
    ) -> Result<(Vec<GranteeCapabilities>, Option<String>)> {
        let (path, kind) = target.path();
        let call = Call::new(
            Method::GET,
            self.site_path(&format!("{path}/permissions")),
            permissions_route(kind),
            format!("read permissions of {}", target.describe()),
        );
        let root = self.call_xml(&call).await?;
        let Some(permissions) = root.child("permissions") else { return Ok((Vec::new(), None)) };
        let controller = permissions
            .child("parent")
            .filter(|p| p.attr("type").is_none_or(|t| t.eq_ignore_ascii_case("Project")))
            .and_then(|p| p.attr_string("id"));
        Ok((GranteeCapabilities::list_from(permissions), controller))
    }

    /// Adds the rules of one or more grantees in one request (existing rules for other capabilities stay);
    /// returns the resulting rules.
    pub async fn add_permissions(
        &self,
        target: &PermissionTarget,
        rules: &[GranteeCapabilities],
    ) -> Result<Vec<GranteeCapabilities>> {
        let (path, kind) = target.path();
        let call = Call::new(
            Method::PUT,
            self.site_path(&format!("{path}/permissions")),
            permissions_route(kind),
            format!("add permissions on {} for {}", target.describe(), grantees(rules)),
        )
        .xml(GranteeCapabilities::request_xml(rules));
        self.read_rules(&call).await
    }

    /// Deletes one capability rule.
    pub async fn delete_permission(
        &self,
        target: &PermissionTarget,
        grantee: &Grantee,
        capability: &str,
        mode: CapabilityMode,
    ) -> Result<()> {
        let (path, _) = target.path();
        self.delete(
            format!("{path}/permissions/{}/{}/{capability}/{}", grantee.kind.segment(), grantee.id, mode.as_str()),
            "/sites/{site}/{kind}/{id}/permissions/{grantee}/{capability}/{mode}",
            format!(
                "delete {capability}:{} on {} for {} {}",
                mode.as_str(),
                target.describe(),
                grantee.kind.element(),
                grantee.id
            ),
        )
        .await
    }

    /// Default permission rules of a project for workbooks or data sources.
    pub async fn default_permissions(
        &self,
        project_id: &str,
        kind: DefaultPermissionKind,
    ) -> Result<Vec<GranteeCapabilities>> {
        let call = Call::new(
            Method::GET,
            self.site_path(&format!("projects/{project_id}/default-permissions/{}", kind.segment())),
            "/sites/{site}/projects/{id}/default-permissions/{kind}",
            format!("read default {} permissions of project {project_id}", kind.segment()),
        );
        self.read_rules(&call).await
    }

    /// Adds default permission rules.
    pub async fn add_default_permissions(
        &self,
        project_id: &str,
        kind: DefaultPermissionKind,
        rules: &[GranteeCapabilities],
    ) -> Result<Vec<GranteeCapabilities>> {
        let call = Call::new(
            Method::PUT,
            self.site_path(&format!("projects/{project_id}/default-permissions/{}", kind.segment())),
            "/sites/{site}/projects/{id}/default-permissions/{kind}",
            format!("add default {} permissions on project {project_id} for {}", kind.segment(), grantees(rules)),
        )
        .xml(GranteeCapabilities::request_xml(rules));
        self.read_rules(&call).await
    }

    /// Deletes one default permission rule.
    pub async fn delete_default_permission(
        &self,
        project_id: &str,
        kind: DefaultPermissionKind,
        grantee: &Grantee,
        capability: &str,
        mode: CapabilityMode,
    ) -> Result<()> {
        self.delete(
            format!(
                "projects/{project_id}/default-permissions/{}/{}/{}/{capability}/{}",
                kind.segment(),
                grantee.kind.segment(),
                grantee.id,
                mode.as_str()
            ),
            "/sites/{site}/projects/{id}/default-permissions/{kind}/{grantee}/{capability}/{mode}",
            format!("delete default {} rule {capability}:{} on project {project_id}", kind.segment(), mode.as_str()),
        )
        .await
    }

    async fn read_rules(&self, call: &Call) -> Result<Vec<GranteeCapabilities>> {
        let root = self.call_xml(call).await?;
        Ok(root.child("permissions").map(GranteeCapabilities::list_from).unwrap_or_default())
    }
}

fn permissions_route(kind: &str) -> &'static str {
    match kind {
        "projects" => "/sites/{site}/projects/{id}/permissions",
        "workbooks" => "/sites/{site}/workbooks/{id}/permissions",
        "views" => "/sites/{site}/views/{id}/permissions",
        _ => "/sites/{site}/datasources/{id}/permissions",
    }
}

/// `group g1`, or `3 grantees`, for an operation's description.
fn grantees(rules: &[GranteeCapabilities]) -> String {
    match rules {
        [one] => format!("{} {}", one.grantee.kind.element(), one.grantee.id),
        many => format!("{} grantees", many.len()),
    }
}
