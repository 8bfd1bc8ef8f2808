//! Subscriptions: list (paged), create, update, delete.

use reqwest::Method;

use super::Client;
use super::paging::ListSpec;
use super::transport::Call;
use crate::error::Result;
use crate::models::{NewSubscription, Subscription, SubscriptionUpdate};

impl Client {
    /// Every subscription of the site (one paged list).
    pub async fn subscriptions(&self) -> Result<Vec<Subscription>> {
        self.list_all(ListSpec {
            path: self.site_path("subscriptions"),
            route: "/sites/{site}/subscriptions",
            query: Vec::new(),
            list_element: "subscriptions",
            item_element: "subscription",
            parse: Subscription::from_element,
            operation: "list subscriptions".to_owned(),
        })
        .await
    }

    /// Creates a subscription (Cloud: the schedule inline).
    pub async fn create_subscription(&self, new: &NewSubscription) -> Result<Subscription> {
        let call = Call::new(
            Method::POST,
            self.site_path("subscriptions"),
            "/sites/{site}/subscriptions",
            "create subscription",
        )
        .xml(new.to_xml());
        self.expect_one(&call, "subscription", Subscription::from_element).await
    }

    /// Updates a subscription (every field is sent, so it is safe to repeat).
    pub async fn update_subscription(&self, id: &str, update: &SubscriptionUpdate) -> Result<Subscription> {
        let call = Call::new(
            Method::PUT,
            self.site_path(&format!("subscriptions/{id}")),
            "/sites/{site}/subscriptions/{id}",
            format!("update subscription {id}"),
        )
        .xml(update.to_xml());
        self.expect_one(&call, "subscription", Subscription::from_element).await
    }

    /// Deletes a subscription.
    pub async fn delete_subscription(&self, id: &str) -> Result<()> {
        self.delete(
            format!("subscriptions/{id}"),
            "/sites/{site}/subscriptions/{id}",
            format!("delete subscription {id}"),
        )
        .await
    }
}
