//! Converging one grantee's explicit or default permissions on one object.

use std::collections::BTreeMap;

use tabops_manifest::model::{Capability, ContentKind, Mode, PermissionTarget};
use tabops_plan::plan::{GranteeRef, ObjectRef};
use tabops_tableau as api;

use super::{Executor, ignore_missing};
use crate::error::ActionError;
use crate::wire;

impl Executor<'_> {
    pub(super) async fn set_permissions(
        &self,
        target: PermissionTarget,
        object: &ObjectRef,
        default_for: Option<ContentKind>,
        grantee: &GranteeRef,
        grant: &BTreeMap<Capability, Mode>,
        revoke: &BTreeMap<Capability, Mode>,
    ) -> Result<(), ActionError> {
        let object_id = self.resolve(object)?;
        let who = wire::grantee(grantee.kind, self.resolve(&grantee.object)?);
        let default_kind = default_for.map(|kind| match kind {
            ContentKind::Workbook => api::DefaultPermissionKind::Workbooks,
            ContentKind::Datasource => api::DefaultPermissionKind::Datasources,
        });
        let api_target = match target {
            PermissionTarget::Project => api::PermissionTarget::Project(object_id.clone()),
            PermissionTarget::Workbook => api::PermissionTarget::Workbook(object_id.clone()),
            PermissionTarget::Datasource => api::PermissionTarget::Datasource(object_id.clone()),
        };
        for (capability, mode) in revoke {
            let result = match default_kind {
                Some(kind) => {
                    self.client
                        .delete_default_permission(&object_id, kind, &who, capability.as_str(), wire::mode(*mode))
                        .await
                }
                None => self.client.delete_permission(&api_target, &who, capability.as_str(), wire::mode(*mode)).await,
            };
            ignore_missing(result)?;
        }
        if !grant.is_empty() {
            let rules = api::GranteeCapabilities {
                grantee: who.clone(),
                capabilities: grant
                    .iter()
                    .map(|(c, m)| api::Capability { name: c.as_str().to_owned(), mode: wire::mode(*m) })
                    .collect(),
            };
            match default_kind {
                Some(kind) => {
                    self.client.add_default_permissions(&object_id, kind, &rules).await?;
                }
                None => {
                    self.client.add_permissions(&api_target, &rules).await?;
                }
            }
        }
        Ok(())
    }
}
