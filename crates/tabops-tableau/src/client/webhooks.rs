//! Webhooks: list, create, update, delete and test (REST API 3.6; update 3.8). Paths and shapes: Tableau's webhook
//! reference and tableauserverclient's `Webhooks` endpoint, whose list is one page (it builds its pagination with
//! `PaginationItem.from_single_page_list`).

use reqwest::Method;

use super::transport::Call;
use super::{Client, missing};
use crate::error::Result;
use crate::models::{Webhook, WebhookRequest, WebhookTestResult};

impl Client {
    /// Every webhook of the site (one request: the list is not paged).
    pub async fn webhooks(&self) -> Result<Vec<Webhook>> {
        let call =
            Call::new(Method::GET, self.site_path("webhooks"), "/sites/{site}/webhooks", "list webhooks".to_owned());
        let root = self.call_xml(&call).await?;
        let list = root.child("webhooks").ok_or_else(|| missing(&call, "webhooks"))?;
        Ok(list.children_named("webhook").filter_map(Webhook::from_element).collect())
    }

    /// Creates a webhook.
    pub async fn create_webhook(&self, webhook: &WebhookRequest) -> Result<Webhook> {
        let call = Call::new(
            Method::POST,
            self.site_path("webhooks"),
            "/sites/{site}/webhooks",
            format!("create webhook '{}'", webhook.name),
        )
        .xml(webhook.to_xml());
        self.expect_one(&call, "webhook", Webhook::from_element).await
    }

    /// Updates a webhook in place (name, event, destination, enabled).
    pub async fn update_webhook(&self, id: &str, webhook: &WebhookRequest) -> Result<Webhook> {
        let call = Call::new(
            Method::PUT,
            self.site_path(&format!("webhooks/{id}")),
            "/sites/{site}/webhooks/{id}",
            format!("update webhook '{}'", webhook.name),
        )
        .xml(webhook.to_xml());
        self.expect_one(&call, "webhook", Webhook::from_element).await
    }

    /// Deletes a webhook.
    pub async fn delete_webhook(&self, id: &str) -> Result<()> {
        self.delete(format!("webhooks/{id}"), "/sites/{site}/webhooks/{id}", format!("delete webhook {id}")).await
    }

    /// Has Tableau send a test request to the webhook's destination and answers what the destination replied.
    pub async fn test_webhook(&self, id: &str) -> Result<WebhookTestResult> {
        let call = Call::new(
            Method::GET,
            self.site_path(&format!("webhooks/{id}/test")),
            "/sites/{site}/webhooks/{id}/test",
            format!("test webhook {id}"),
        );
        let root = self.call_xml(&call).await?;
        let result = root.child("webhookTestResult").ok_or_else(|| missing(&call, "webhookTestResult"))?;
        Ok(WebhookTestResult::from_element(result))
    }
}
