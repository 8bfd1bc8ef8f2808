//! Round trips for users, groups and membership, and paging over more than 1000 items.

use tabops_testkit::site as common;

use tabops_tableau::{GroupUpdate, NewGroup, NewUser, UserUpdate};

#[tokio::test]
async fn users_add_update_remove() {
    let emu = common::emulator().await;
    let client = common::client(&emu).await;
    let alice = client
        .add_user(&NewUser {
            name: "alice@acme.com".into(),
            site_role: "Explorer".into(),
            auth_setting: Some("SAML".into()),
            idp_configuration_id: None,
        })
        .await
        .expect("add");
    assert_eq!(alice.site_role.as_deref(), Some("Explorer"));
    let err = client
        .add_user(&NewUser {
            name: "alice@acme.com".into(),
            site_role: "Viewer".into(),
            auth_setting: None,
            idp_configuration_id: None,
        })
        .await
        .expect_err("duplicate");
    assert_eq!(err.code(), Some("409000"), "{err}");
    let err = client
        .add_user(&NewUser {
            name: "bob@acme.com".into(),
            site_role: "Emperor".into(),
            auth_setting: None,
            idp_configuration_id: None,
        })
        .await
        .expect_err("bad role");
    assert_eq!(err.code(), Some("400013"), "{err}");

    let updated = client
        .update_user(
            &alice.id,
            &UserUpdate { site_role: Some("Creator".into()), full_name: Some("Alice A".into()), ..Default::default() },
        )
        .await
        .expect("update");
    assert_eq!(updated.id, alice.id);
    assert_eq!(updated.site_role.as_deref(), Some("Creator"));
    let read = client.user(&alice.id).await.expect("get");
    assert_eq!(read.full_name.as_deref(), Some("Alice A"));

    let users = client.users().await.expect("list");
    assert!(users.iter().any(|u| u.name == "alice@acme.com"));
    client.remove_user(&alice.id).await.expect("remove");
    assert!(client.user(&alice.id).await.expect_err("gone").is_not_found());
}

#[tokio::test]
async fn groups_crud_and_membership() {
    let emu = common::emulator().await;
    let client = common::client(&emu).await;
    let group = client
        .create_group(&NewGroup { name: "Sales Analysts".into(), minimum_site_role: Some("Viewer".into()) })
        .await
        .expect("create");
    let err = client
        .create_group(&NewGroup { name: "sales analysts".into(), minimum_site_role: None })
        .await
        .expect_err("dup");
    assert_eq!(err.code(), Some("409009"), "{err}");
    let renamed = client
        .update_group(&group.id, &GroupUpdate { name: Some("Sales Team".into()), ..Default::default() })
        .await
        .expect("update");
    assert_eq!(renamed.name, "Sales Team");

    let bob = client
        .add_user(&NewUser {
            name: "bob@acme.com".into(),
            site_role: "Viewer".into(),
            auth_setting: None,
            idp_configuration_id: None,
        })
        .await
        .expect("bob");
    let added = client.add_group_member(&group.id, &bob.id).await.expect("add member");
    assert_eq!(added.id, bob.id);
    let err = client.add_group_member(&group.id, &bob.id).await.expect_err("already member");
    assert_eq!(err.code(), Some("409011"), "{err}");
    let members = client.group_members(&group.id).await.expect("members");
    assert_eq!(members.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), vec![bob.id.as_str()]);
    client.remove_group_member(&group.id, &bob.id).await.expect("remove member");
    assert!(client.group_members(&group.id).await.expect("members").is_empty());

    let groups = client.groups().await.expect("list");
    assert!(groups.iter().any(|g| g.name == "Sales Team"));
    client.delete_group(&group.id).await.expect("delete");
    let err = client.delete_group(&group.id).await.expect_err("gone");
    assert_eq!(err.code(), Some("404012"), "{err}");
}

#[tokio::test]
async fn paging_over_more_than_one_thousand_items_fetches_all_pages() {
    let emu = common::emulator().await;
    let client = common::client(&emu).await;
    let created =
        futures::future::try_join_all(
            (0..1105).map(|i| {
                let client = client.clone();
                async move {
                    client.create_group(&NewGroup { name: format!("group-{i:04}"), minimum_site_role: None }).await
                }
            }),
        )
        .await
        .expect("create groups");
    assert_eq!(created.len(), 1105);

    let before = client.stats().count("GET /sites/{site}/groups");
    let groups = client.groups().await.expect("list all");
    let mut names: Vec<String> = groups.iter().map(|g| g.name.clone()).filter(|n| n.starts_with("group-")).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 1105, "every group exactly once");
    assert_eq!(client.stats().count("GET /sites/{site}/groups") - before, 2, "two pages of 1000");
    assert!(emu.stats().by_route.keys().any(|k| k.contains("groups")));
}
