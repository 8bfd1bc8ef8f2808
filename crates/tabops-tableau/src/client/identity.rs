//! Users, groups and group membership.

use reqwest::Method;

use super::paging::ListSpec;
use super::transport::Call;
use super::{Client, missing};
use crate::error::Result;
use crate::models::{AuthConfiguration, Group, GroupUpdate, NewGroup, NewUser, User, UserUpdate};
use crate::xml::XmlWriter;

impl Client {
    /// All site users (paged, `fields=_all_`).
    pub async fn users(&self) -> Result<Vec<User>> {
        self.list_all(ListSpec {
            path: self.site_path("users"),
            route: "/sites/{site}/users",
            query: vec![("fields".to_owned(), "_all_".to_owned())],
            list_element: "users",
            item_element: "user",
            parse: User::from_element,
            operation: "list users".to_owned(),
        })
        .await
    }

    /// One user.
    pub async fn user(&self, id: &str) -> Result<User> {
        let call = Call::new(
            Method::GET,
            self.site_path(&format!("users/{id}")),
            "/sites/{site}/users/{id}",
            format!("read user {id}"),
        );
        self.expect_one(&call, "user", User::from_element).await
    }

    /// Adds a user to the site.
    pub async fn add_user(&self, user: &NewUser) -> Result<User> {
        let call = Call::new(
            Method::POST,
            self.site_path("users"),
            "/sites/{site}/users",
            format!("add user '{}'", user.name),
        )
        .xml(user.to_xml());
        self.expect_one(&call, "user", User::from_element).await
    }

    /// Updates a user.
    pub async fn update_user(&self, id: &str, update: &UserUpdate) -> Result<User> {
        let call = Call::new(
            Method::PUT,
            self.site_path(&format!("users/{id}")),
            "/sites/{site}/users/{id}",
            format!("update user {id}"),
        )
        .xml(update.to_xml());
        let root = self.call_xml(&call).await?;
        // The update response echoes the changed fields and may omit the id.
        let element = root.child("user").ok_or_else(|| missing(&call, "user"))?;
        Ok(User::from_element_with_id(element, id))
    }

    /// The site's authentication configurations (API 3.24+, Tableau Cloud; not paged).
    pub async fn auth_configurations(&self) -> Result<Vec<AuthConfiguration>> {
        let call = Call::new(
            Method::GET,
            self.site_path("site-auth-configurations"),
            "/sites/{site}/site-auth-configurations",
            "list authentication configurations".to_owned(),
        );
        let root = self.call_xml(&call).await?;
        let list = root.child("siteAuthConfigurations").ok_or_else(|| missing(&call, "siteAuthConfigurations"))?;
        Ok(list.children_named("siteAuthConfiguration").filter_map(AuthConfiguration::from_element).collect())
    }

    /// Removes a user from the site.
    pub async fn remove_user(&self, id: &str) -> Result<()> {
        self.delete(format!("users/{id}"), "/sites/{site}/users/{id}", format!("remove user {id}")).await
    }

    /// Removes a user after giving everything they own to `heir` (`?mapAssetsTo=`, REST reference "Remove User from
    /// Site"; tableauserverclient `users.remove(user_id, map_to)`). Without a heir, Tableau refuses to remove a user
    /// who owns content (409) and changes their site role to Unlicensed instead.
    pub async fn remove_user_mapping_assets(&self, id: &str, heir: &str) -> Result<()> {
        let call = Call::new(
            Method::DELETE,
            self.site_path(&format!("users/{id}")),
            "/sites/{site}/users/{id}",
            format!("remove user {id} (content to {heir})"),
        )
        .query("mapAssetsTo", heir);
        self.call_unit(&call).await
    }

    /// All groups (paged).
    pub async fn groups(&self) -> Result<Vec<Group>> {
        self.list_all(ListSpec {
            path: self.site_path("groups"),
            route: "/sites/{site}/groups",
            query: Vec::new(),
            list_element: "groups",
            item_element: "group",
            parse: Group::from_element,
            operation: "list groups".to_owned(),
        })
        .await
    }

    /// Members of a group (paged).
    pub async fn group_members(&self, group_id: &str) -> Result<Vec<User>> {
        self.list_all(ListSpec {
            path: self.site_path(&format!("groups/{group_id}/users")),
            route: "/sites/{site}/groups/{id}/users",
            query: Vec::new(),
            list_element: "users",
            item_element: "user",
            parse: User::from_element,
            operation: format!("list members of group {group_id}"),
        })
        .await
    }

    /// Creates a local group.
    pub async fn create_group(&self, group: &NewGroup) -> Result<Group> {
        let call = Call::new(
            Method::POST,
            self.site_path("groups"),
            "/sites/{site}/groups",
            format!("create group '{}'", group.name),
        )
        .xml(group.to_xml());
        self.expect_one(&call, "group", Group::from_element).await
    }

    /// Updates a group.
    pub async fn update_group(&self, id: &str, update: &GroupUpdate) -> Result<Group> {
        let call = Call::new(
            Method::PUT,
            self.site_path(&format!("groups/{id}")),
            "/sites/{site}/groups/{id}",
            format!("update group {id}"),
        )
        .xml(update.to_xml());
        self.expect_one(&call, "group", Group::from_element).await
    }

    /// Deletes a group.
    pub async fn delete_group(&self, id: &str) -> Result<()> {
        self.delete(format!("groups/{id}"), "/sites/{site}/groups/{id}", format!("delete group {id}")).await
    }

    /// Adds a user to a group (409011 if already a member).
    pub async fn add_group_member(&self, group_id: &str, user_id: &str) -> Result<User> {
        let mut body = XmlWriter::new();
        body.start("tsRequest", &[]).empty("user", &[("id", Some(user_id))]).end("tsRequest");
        let call = Call::new(
            Method::POST,
            self.site_path(&format!("groups/{group_id}/users")),
            "/sites/{site}/groups/{id}/users",
            format!("add user {user_id} to group {group_id}"),
        )
        .xml(body.finish());
        self.expect_one(&call, "user", User::from_element).await
    }

    /// Removes a user from a group.
    pub async fn remove_group_member(&self, group_id: &str, user_id: &str) -> Result<()> {
        self.delete(
            format!("groups/{group_id}/users/{user_id}"),
            "/sites/{site}/groups/{id}/users/{user}",
            format!("remove user {user_id} from group {group_id}"),
        )
        .await
    }
}
