//! Converging one grantee's explicit or default permissions on one object.

use std::collections::BTreeMap;

use tabops_manifest::model::{Address, Capability, ContentKind, Mode, PermissionTarget};
use tabops_plan::PlannedAction;
use tabops_plan::plan::{GranteeRef, KeptRules, ObjectRef, Operation};
use tabops_tableau as api;

use super::{ActionOutcome, Executor, ignore_missing};
use crate::error::{ActionError, ApplyError};
use crate::wire;

fn api_target(target: PermissionTarget, object_id: &str) -> api::PermissionTarget {
    match target {
        PermissionTarget::Project => api::PermissionTarget::Project(object_id.to_owned()),
        PermissionTarget::Workbook => api::PermissionTarget::Workbook(object_id.to_owned()),
        PermissionTarget::Datasource => api::PermissionTarget::Datasource(object_id.to_owned()),
        PermissionTarget::View => api::PermissionTarget::View(object_id.to_owned()),
    }
}

fn default_kind(kind: ContentKind) -> api::DefaultPermissionKind {
    match kind {
        ContentKind::Workbook => api::DefaultPermissionKind::Workbooks,
        ContentKind::Datasource => api::DefaultPermissionKind::Datasources,
    }
}

impl Executor<'_> {
    /// The live id of the object a permission set is on. A view of a workbook this apply published is named by
    /// its address (`view:PROJECT/WORKBOOK/SHEET`): its id is found among the published workbook's views.
    async fn resolve_permission_object(
        &self,
        target: PermissionTarget,
        object: &ObjectRef,
    ) -> Result<String, ActionError> {
        let ObjectRef::Planned(address) = object else { return self.resolve(object) };
        let view = Address::parse(address).ok().filter(|_| target == PermissionTarget::View);
        let Some((view, workbook)) = view.and_then(|v| v.view_workbook().map(|w| (v, w))) else {
            return self.resolve(object);
        };
        let workbook_id = self.resolve(&ObjectRef::Planned(workbook.to_string()))?;
        let views = self.client.workbook_views(&workbook_id).await?;
        let sheet = view.name();
        views
            .iter()
            .find(|v| v.name == sheet)
            .or_else(|| views.iter().find(|v| v.name.eq_ignore_ascii_case(sheet)))
            .map(|v| v.id.clone())
            .ok_or_else(|| ActionError::MissingReference(address.clone()))
    }

    /// Read back the rules Tableau copied onto an object created in this apply and delete every rule the
    /// manifest's complete set does not hold with the same mode (a copied Allow where the manifest says Deny goes
    /// too: Tableau ignores an added rule whose capability the grantee already holds in the other mode).
    pub(super) async fn revoke_copied_permissions(
        &self,
        target: PermissionTarget,
        object: &ObjectRef,
        default_for: Option<ContentKind>,
        keep: &[KeptRules],
    ) -> Result<(), ActionError> {
        let object_id = self.resolve_permission_object(target, object).await?;
        let api_target = api_target(target, &object_id);
        let mut kept: Vec<(api::Grantee, &BTreeMap<Capability, Mode>)> = Vec::with_capacity(keep.len());
        for rules in keep {
            kept.push((wire::grantee(rules.grantee.kind, self.resolve(&rules.grantee.object)?), &rules.capabilities));
        }
        let live = match default_for {
            Some(kind) => self.client.default_permissions(&object_id, default_kind(kind)).await?,
            None => self.client.permissions(&api_target).await?,
        };
        for rules in live {
            let wanted = kept.iter().find(|(g, _)| *g == rules.grantee).map(|(_, caps)| *caps);
            for cap in rules.capabilities {
                let stays = wanted
                    .is_some_and(|caps| caps.iter().any(|(c, m)| c.as_str() == cap.name && wire::mode(*m) == cap.mode));
                if stays {
                    continue;
                }
                let result = match default_for {
                    Some(kind) => {
                        self.client
                            .delete_default_permission(
                                &object_id,
                                default_kind(kind),
                                &rules.grantee,
                                &cap.name,
                                cap.mode,
                            )
                            .await
                    }
                    None => self.client.delete_permission(&api_target, &rules.grantee, &cap.name, cap.mode).await,
                };
                ignore_missing(result)?;
            }
        }
        Ok(())
    }

    pub(super) async fn set_permissions(
        &self,
        target: PermissionTarget,
        object: &ObjectRef,
        default_for: Option<ContentKind>,
        grantee: &GranteeRef,
        grant: &BTreeMap<Capability, Mode>,
        revoke: &BTreeMap<Capability, Mode>,
    ) -> Result<(), ActionError> {
        let object_id = self.resolve_permission_object(target, object).await?;
        let who = wire::grantee(grantee.kind, self.resolve(&grantee.object)?);
        let defaults = default_for.map(default_kind);
        let api_target = api_target(target, &object_id);
        for (capability, mode) in revoke {
            let result = match defaults {
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
            self.add_rules(target, &object_id, default_for, &[rules(who, grant)]).await?;
        }
        Ok(())
    }

    /// One Add Permissions request with the rules of every grantee in `rules`.
    async fn add_rules(
        &self,
        target: PermissionTarget,
        object_id: &str,
        default_for: Option<ContentKind>,
        rules: &[api::GranteeCapabilities],
    ) -> Result<(), ActionError> {
        match default_for {
            Some(kind) => self.client.add_default_permissions(object_id, default_kind(kind), rules).await?,
            None => self.client.add_permissions(&api_target(target, object_id), rules).await?,
        };
        Ok(())
    }

    /// Runs the grant-only changes of one permission set to several grantees (see `units`): one request adding
    /// every grantee's rules, or, when it is refused or its outcome is unknown, each action on its own (adding a
    /// rule the grantee already holds changes nothing, so a resend is safe).
    pub(super) async fn run_grants(&self, actions: &[&PlannedAction]) -> Vec<Result<ActionOutcome, ApplyError>> {
        let mut results = Vec::with_capacity(actions.len());
        let started = self.start_batch(
            actions,
            |action| {
                let Operation::SetPermissions { grantee, grant, .. } = &action.operation else {
                    unreachable!("only permission grants are batched")
                };
                Ok(rules(wire::grantee(grantee.kind, self.resolve(&grantee.object)?), grant))
            },
            &mut results,
        );
        let (started, batch): (Vec<_>, Vec<_>) =
            started.into_iter().map(|(action, began, rules)| ((action, began), rules)).unzip();
        let Some((first, _)) = started.first() else { return results };
        let Operation::SetPermissions { target, object, default_for, .. } = &first.operation else {
            unreachable!("only permission grants are batched")
        };
        let (shared, retries) = api::record_retries(async {
            let object_id = self.resolve_permission_object(*target, object).await?;
            self.add_rules(*target, &object_id, *default_for, &batch).await
        })
        .await;
        match shared {
            Ok(()) => {
                for (action, began) in &started {
                    results.push(self.finish(action, Ok(None), began.elapsed(), &retries).map_err(ApplyError::from));
                }
            }
            Err(err) => {
                tracing::info!(set = %first.id, error = %err, "batched grant refused; one request per grantee");
                for (action, began) in &started {
                    let (result, mut own) = api::record_retries(self.perform(action)).await;
                    own.splice(0..0, retries.iter().cloned());
                    results.push(self.finish(action, result, began.elapsed(), &own).map_err(ApplyError::from));
                }
            }
        }
        results
    }
}

/// A grantee's rules on the wire.
fn rules(grantee: api::Grantee, grant: &BTreeMap<Capability, Mode>) -> api::GranteeCapabilities {
    api::GranteeCapabilities {
        grantee,
        capabilities: grant
            .iter()
            .map(|(c, m)| api::Capability { name: c.as_str().to_owned(), mode: wire::mode(*m) })
            .collect(),
    }
}
