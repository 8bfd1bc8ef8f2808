//! Publishing and in-place updates of workbooks and data sources: the content half of the executor.

use tabops_manifest::model::ContentKind;
use tabops_plan::connections::plan_connections;
use tabops_plan::plan::{ConnectionUpdateOp, PlannedConnection, PublishOp, UpdateContentOp};
use tabops_tableau as api;

use serde_json::json;

use super::{Executor, error_chain, ignore_missing};
use crate::error::ActionError;

impl Executor<'_> {
    /// Publishes with `overwrite=true` always: the planner decided the item should hold this content, so a publish
    /// repeated after a lost response lands on the same item instead of failing or duplicating it.
    pub(super) async fn publish(&self, op: &PublishOp) -> Result<String, ActionError> {
        let project_id = self.resolve(&op.project)?;
        if let (Some(existing), Some(relocate)) = (&op.existing, &op.relocate) {
            let project = self.resolve_opt(relocate.project.as_ref())?;
            self.update_item(op.kind, existing, relocate.name.clone(), project, None, None, None).await?;
        }
        let request = api::PublishRequest {
            file: op.file.path.clone(),
            file_type: None,
            name: op.name.clone(),
            project_id: project_id.clone(),
            show_tabs: op.show_tabs.unwrap_or(false),
            description: op.description.clone(),
            hidden_views: op.hidden_views.clone(),
            connections: self.connections(&op.connections)?,
            mode: api::PublishMode::Overwrite,
            as_job: false,
            // Only the planned bytes are published: the client hashes the file while it streams it and cuts the
            // upload off if it changed since the plan (a plan from an older tabops, without the digest, is refused
            // before it gets here).
            expected: Some(api::ExpectedFile { size: op.file.size, sha256: op.file.file_sha256.clone() }),
        };
        // Tableau makes the publisher the owner of an overwritten item. When the plan keeps the owner, remember it
        // and give it back after the publish, or every replace would drift the owner to the signed-in user.
        let mut owner = self.resolve_opt(op.owner.as_ref())?;
        let before = match &op.existing {
            Some(existing) => self.item_before(op.kind, existing).await?,
            None => None,
        };
        let previous_owner = if owner.is_none() { before.as_ref().and_then(|b| b.owner.clone()) } else { None };
        let published = self.publish_once_or_again(op.kind, &request).await?;
        let id = published.id.clone();
        if owner.is_none() && previous_owner.is_some() && published.owner != previous_owner {
            owner = previous_owner;
        }
        if owner.is_some() {
            self.update_item(op.kind, &id, None, None, None, None, owner).await?;
        }
        self.point_connections(op.kind, &id, &op.connections).await?;
        let (add, remove) = republished_tags(op, before.as_ref(), published.tags.as_deref());
        self.tag_published(op.kind, &id, add, &remove, published.tags.as_deref()).await?;
        Ok(id)
    }

    /// Tags a published item in one request (Add Tags takes a list; Publish takes no tags: TSC's publish request
    /// has none): its tags and checksum marker and, from a git commit, the commit marker, so `drift` can name the
    /// commit that last published it. Then drops the planned removals and the commit markers of earlier publishes,
    /// which only an item that kept its tags through the overwrite still holds. `after`: the tags the publish
    /// response showed (`None` when it showed none).
    async fn tag_published(
        &self,
        kind: ContentKind,
        id: &str,
        mut add: Vec<String>,
        remove: &[String],
        after: Option<&[String]>,
    ) -> Result<(), ActionError> {
        let target = match kind {
            ContentKind::Workbook => api::TagTarget::Workbook,
            ContentKind::Datasource => api::TagTarget::Datasource,
        };
        let has = |list: &[String], tag: &str| list.iter().any(|t| t.eq_ignore_ascii_case(tag));
        if let Some(marker) = &self.commit_marker
            && !has(&add, marker)
            && !after.is_some_and(|after| has(after, marker))
        {
            add.push(marker.clone());
        }
        let held = if add.is_empty() {
            after.map(<[String]>::to_vec).unwrap_or_default()
        } else {
            self.client.add_tags(target, id, &add).await?
        };
        for label in remove {
            ignore_missing(self.client.delete_tag(target, id, label).await)?;
        }
        let Some(marker) = &self.commit_marker else { return Ok(()) };
        let prefix = tabops_plan::marker::COMMIT_MARKER_PREFIX;
        for old in held.iter().filter(|t| {
            t.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix))
                && !t.eq_ignore_ascii_case(marker)
                && !has(remove, t)
        }) {
            ignore_missing(self.client.delete_tag(target, id, old).await)?;
        }
        Ok(())
    }

    /// The owner and tags of a live content item before it is overwritten (`None` when the item is gone).
    async fn item_before(&self, kind: ContentKind, id: &str) -> Result<Option<ItemState>, ActionError> {
        let item = match kind {
            ContentKind::Workbook => ignore_missing(
                self.client
                    .workbook(id)
                    .await
                    .map(|w| Some(ItemState { id: w.id, owner: w.owner_id, tags: Some(w.tags) })),
            )?,
            ContentKind::Datasource => ignore_missing(
                self.client
                    .datasource(id)
                    .await
                    .map(|d| Some(ItemState { id: d.id, owner: d.owner_id, tags: Some(d.tags) })),
            )?,
        };
        Ok(item)
    }

    /// Publishes and returns the item's id and, when the response names them, its owner and tags after the publish.
    async fn publish_once_or_again(
        &self,
        kind: ContentKind,
        request: &api::PublishRequest,
    ) -> Result<ItemState, ActionError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = match kind {
                ContentKind::Workbook => self.client.publish_workbook(request).await.map(|p| match p {
                    api::PublishedItem::Item(w) => Ok(ItemState { id: w.id, owner: w.owner_id, tags: Some(w.tags) }),
                    api::PublishedItem::Job(job) => Err(job),
                }),
                ContentKind::Datasource => self.client.publish_datasource(request).await.map(|p| match p {
                    api::PublishedItem::Item(d) => Ok(ItemState { id: d.id, owner: d.owner_id, tags: Some(d.tags) }),
                    api::PublishedItem::Job(job) => Err(job),
                }),
            };
            match result {
                Ok(Ok(published)) => return Ok(published),
                Ok(Err(job)) => {
                    let done = self.client.wait_for_job(&job.id, self.options.job_timeout).await?;
                    let id = match kind {
                        ContentKind::Workbook => done.workbook_id,
                        ContentKind::Datasource => done.datasource_id,
                    };
                    return id
                        .map(|id| ItemState { id, owner: None, tags: None })
                        .ok_or(ActionError::PublishLost { job: job.id });
                }
                Err(err) if err.is_ambiguous() && attempt == 1 => {
                    tracing::info!(name = %request.name, "publish response lost; publishing again with overwrite");
                    self.audit.append(
                        "action_retry",
                        json!({
                            "name": request.name,
                            "operation": "publish again with overwrite",
                            "reason": error_chain(&err.into()),
                        }),
                    )?;
                }
                Err(err) => return Err(err.into()),
            }
        }
    }

    /// Points the connections of a just-published item at the manifest's servers. The publish request's
    /// `serverAddress` only matched credentials to the file's connections (the file's own server is what Tableau
    /// publishes), so the item's connections are read back (their ids are new after every publish) and each one
    /// that differs is updated with Update Workbook/Data Source Connection.
    async fn point_connections(
        &self,
        kind: ContentKind,
        id: &str,
        planned: &[PlannedConnection],
    ) -> Result<(), ActionError> {
        if planned.is_empty() {
            return Ok(());
        }
        let live = match kind {
            ContentKind::Workbook => self.client.workbook_connections(id).await?,
            ContentKind::Datasource => self.client.datasource_connections(id).await?,
        };
        let live: Vec<_> = live.into_iter().map(crate::inventory::live_connection).collect();
        for diff in plan_connections(planned, &live).diffs {
            self.update_connection(kind, id, &diff.update).await?;
        }
        Ok(())
    }

    async fn update_connection(&self, kind: ContentKind, id: &str, op: &ConnectionUpdateOp) -> Result<(), ActionError> {
        let c = &op.connection;
        let password = match c.password.as_ref().filter(|_| c.embed) {
            Some(secret) => {
                let lookup = |name: &str| self.options.environment.get(name).cloned();
                let resolved = secret
                    .resolve(lookup)
                    .ok_or_else(|| ActionError::MissingSecret { reference: secret.reference() })?;
                Some(api::Secret::from(resolved.expose()))
            }
            None => None,
        };
        let update = api::ConnectionUpdate {
            server_address: c.server.clone(),
            server_port: c.port.map(|p| p.to_string()),
            user_name: c.username.clone(),
            password,
            embed_password: Some(c.embed),
        };
        let kind = match kind {
            ContentKind::Workbook => api::ContentKind::Workbook,
            ContentKind::Datasource => api::ContentKind::Datasource,
        };
        self.client.update_connection(kind, id, &op.id, &update).await?;
        Ok(())
    }

    fn connections(&self, planned: &[PlannedConnection]) -> Result<Vec<api::ConnectionCredentials>, ActionError> {
        planned
            .iter()
            .enumerate()
            .filter(|(_, c)| c.username.is_some() || c.password.is_some())
            .map(|(index, c)| {
                let server_address =
                    c.server.clone().ok_or(ActionError::IncompleteConnection { index, field: "server" })?;
                let username =
                    c.username.clone().ok_or(ActionError::IncompleteConnection { index, field: "username" })?;
                let password = match &c.password {
                    Some(secret) => {
                        let lookup = |name: &str| self.options.environment.get(name).cloned();
                        let resolved = secret
                            .resolve(lookup)
                            .ok_or_else(|| ActionError::MissingSecret { reference: secret.reference() })?;
                        api::Secret::from(resolved.expose())
                    }
                    None => api::Secret::default(),
                };
                Ok(api::ConnectionCredentials {
                    server_address,
                    server_port: c.port.map(|p| p.to_string()),
                    username,
                    password,
                    embed: c.embed,
                })
            })
            .collect()
    }

    pub(super) async fn update_content(&self, op: &UpdateContentOp) -> Result<String, ActionError> {
        let project = self.resolve_opt(op.project.as_ref())?;
        let owner = self.resolve_opt(op.owner.as_ref())?;
        let changes_fields = op.name.is_some()
            || project.is_some()
            || op.description.is_some()
            || op.show_tabs.is_some()
            || owner.is_some();
        if changes_fields {
            self.update_item(op.kind, &op.item, op.name.clone(), project, op.description.clone(), op.show_tabs, owner)
                .await?;
        }
        for connection in &op.connections {
            self.update_connection(op.kind, &op.item, connection).await?;
        }
        self.retag(op.kind, &op.item, &op.tags_add, &op.tags_remove).await?;
        Ok(op.item.clone())
    }

    #[allow(clippy::too_many_arguments)]
    async fn update_item(
        &self,
        kind: ContentKind,
        id: &str,
        name: Option<String>,
        project_id: Option<String>,
        description: Option<String>,
        show_tabs: Option<bool>,
        owner_id: Option<String>,
    ) -> Result<(), ActionError> {
        match kind {
            ContentKind::Workbook => {
                let update = api::WorkbookUpdate { name, description, show_tabs, project_id, owner_id };
                self.client.update_workbook(id, &update).await?;
            }
            ContentKind::Datasource => {
                let update = api::DatasourceUpdate { name, description, project_id, owner_id, ..Default::default() };
                self.client.update_datasource(id, &update).await?;
            }
        }
        Ok(())
    }

    async fn retag(&self, kind: ContentKind, id: &str, add: &[String], remove: &[String]) -> Result<(), ActionError> {
        let target = match kind {
            ContentKind::Workbook => api::TagTarget::Workbook,
            ContentKind::Datasource => api::TagTarget::Datasource,
        };
        if !add.is_empty() {
            self.client.add_tags(target, id, add).await?;
        }
        for label in remove {
            ignore_missing(self.client.delete_tag(target, id, label).await)?;
        }
        Ok(())
    }
}

/// A content item as a read or a publish response shows it: its owner and tags (`None` = not known, as after an
/// asynchronous publish).
struct ItemState {
    id: String,
    owner: Option<String>,
    tags: Option<Vec<String>>,
}

/// Tags to add and remove after publishing `op`. An overwrite publish clears the item's tags (tableau-migration-sdk's
/// simulator clears them and the SDK writes them again after every publish; inferred for Cloud), so the tags the
/// item had before are given back, except those the plan removes and old commit markers (`tag_published` writes the new
/// one). Tags the publish response already holds are not sent again, and removals of tags it no longer holds are
/// skipped; when the response does not show tags, everything is sent (adding a held tag is harmless, removing a
/// missing one is ignored).
fn republished_tags(
    op: &PublishOp,
    before: Option<&ItemState>,
    after: Option<&[String]>,
) -> (Vec<String>, Vec<String>) {
    let has = |list: &[String], tag: &str| list.iter().any(|t| t.eq_ignore_ascii_case(tag));
    let prefix = tabops_plan::marker::COMMIT_MARKER_PREFIX;
    let is_commit_marker = |t: &str| t.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix));
    let mut add = op.tags_add.clone();
    for tag in before.and_then(|b| b.tags.as_deref()).unwrap_or_default() {
        if !is_commit_marker(tag) && !has(&op.tags_remove, tag) && !has(&add, tag) {
            add.push(tag.clone());
        }
    }
    let mut remove = op.tags_remove.clone();
    if let Some(after) = after {
        add.retain(|t| !has(after, t));
        remove.retain(|t| has(after, t));
    }
    (add, remove)
}
