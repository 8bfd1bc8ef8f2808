//! Webhook writes: create (adopting a webhook of the same name that an ambiguous or conflicting create left on the
//! site, so a retried apply never adds a second one), update in place, delete.

use tabops_manifest::model::WebhookEvent;
use tabops_tableau as api;

use super::{find_by_name, ignore_missing};
use crate::error::ActionError;

fn request(name: &str, event: WebhookEvent, url: &str, enabled: bool) -> api::WebhookRequest {
    api::WebhookRequest { name: name.to_owned(), event: event.as_str().to_owned(), url: url.to_owned(), enabled }
}

pub(super) async fn create(
    client: &api::Client,
    name: &str,
    event: WebhookEvent,
    url: &str,
    enabled: bool,
) -> Result<Option<String>, ActionError> {
    match client.create_webhook(&request(name, event, url, enabled)).await {
        Ok(created) => Ok(Some(created.id)),
        Err(err) if err.is_conflict() || err.is_ambiguous() => {
            let found = find_by_name(client.webhooks().await?, name, |w| &w.name).ok_or(err)?;
            Ok(Some(found.id))
        }
        Err(err) => Err(err.into()),
    }
}

pub(super) async fn update(
    client: &api::Client,
    id: &str,
    name: &str,
    event: WebhookEvent,
    url: &str,
    enabled: bool,
) -> Result<Option<String>, ActionError> {
    client.update_webhook(id, &request(name, event, url, enabled)).await?;
    Ok(Some(id.to_owned()))
}

pub(super) async fn delete(client: &api::Client, id: &str) -> Result<Option<String>, ActionError> {
    ignore_missing(client.delete_webhook(id).await).map(|()| None)
}
