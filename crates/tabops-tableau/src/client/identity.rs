//! Users, groups and group membership.

use reqwest::Method;

use super::paging::ListSpec;
use super::transport::Call;
use super::{Client, missing};
use crate::error::Result;
use crate::models::{AuthConfiguration, Group, GroupUpdate, NewGroup, NewUser, User, UserUpdate};
use crate::xml::XmlWriter;

/// The first API version with Add Users to Group and Remove Users from Group.
const BULK_MEMBERSHIP_VERSION: (u32, u32) = (3, 21);

/// Users per bulk membership request. Tableau documents no limit in the sources read (TSC sends any number); tabops
/// keeps each body near the size of a 1,000-item list page.
pub const MAX_BULK_MEMBERS: usize = 1000;

/// `<tsRequest><users><user id="..."/>...</users></tsRequest>`.
fn users_xml(user_ids: &[String]) -> String {
    let mut body = XmlWriter::new();
    body.start("tsRequest", &[]).start("users", &[]);
    for id in user_ids {
        body.empty("user", &[("id", Some(id.as_str()))]);
    }
    body.end("users").end("tsRequest");
    body.finish()
}

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

    /// Whether the API version this client speaks has the bulk membership methods (Add Users to Group and Remove
    /// Users from Group, API 3.21: TSC `Groups.add_users` / `remove_users`, `@api(version="3.21")`).
    pub fn supports_bulk_membership(&self) -> bool {
        let version = self.inner.config.api_version.as_str();
        let parsed = version
            .split_once('.')
            .and_then(|(major, minor)| Some((major.parse::<u32>().ok()?, minor.parse::<u32>().ok()?)));
        parsed.is_some_and(|v| v >= BULK_MEMBERSHIP_VERSION)
    }

    /// Adds users to a group in one request per [`MAX_BULK_MEMBERS`] (Add Users to Group, API 3.21):
    /// `POST groups/{id}/users` with `<tsRequest><users><user id/>...</users></tsRequest>`, answered with the added
    /// users (TSC `GroupRequest.add_users_req`, asset `group_add_users.xml`). Nothing in a request is added when one
    /// of its users cannot be (already a member: 409011; not on the site: 404002); callers fall back to
    /// [`Client::add_group_member`] to place the error.
    pub async fn add_group_members(&self, group_id: &str, user_ids: &[String]) -> Result<Vec<User>> {
        let mut added = Vec::with_capacity(user_ids.len());
        for chunk in user_ids.chunks(MAX_BULK_MEMBERS) {
            let call = Call::new(
                Method::POST,
                self.site_path(&format!("groups/{group_id}/users")),
                "/sites/{site}/groups/{id}/users",
                format!("add {} users to group {group_id}", chunk.len()),
            )
            .xml(users_xml(chunk));
            let root = self.call_xml(&call).await?;
            let users = root.child("users").ok_or_else(|| missing(&call, "users"))?;
            added.extend(users.children_named("user").filter_map(User::from_element));
        }
        Ok(added)
    }

    /// Removes users from a group in one request per [`MAX_BULK_MEMBERS`] (Remove Users from Group, API 3.21):
    /// `PUT groups/{id}/users/remove` with the same `<users>` body, no response body (TSC
    /// `GroupRequest.remove_users_req`). A user who is not a member refuses the request (404002).
    pub async fn remove_group_members(&self, group_id: &str, user_ids: &[String]) -> Result<()> {
        for chunk in user_ids.chunks(MAX_BULK_MEMBERS) {
            let call = Call::new(
                Method::PUT,
                self.site_path(&format!("groups/{group_id}/users/remove")),
                "/sites/{site}/groups/{id}/users/remove",
                format!("remove {} users from group {group_id}", chunk.len()),
            )
            .xml(users_xml(chunk));
            self.call_unit(&call).await?;
        }
        Ok(())
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
