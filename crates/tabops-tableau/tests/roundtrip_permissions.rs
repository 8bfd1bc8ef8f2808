//! Round trips for explicit and default permissions on projects, workbooks and data sources.

use tabops_testkit::site as common;

use tabops_tableau::{
    Capability, CapabilityMode, DefaultPermissionKind, Grantee, GranteeCapabilities, GranteeKind, NewGroup, NewProject,
    NewUser, PermissionTarget, PublishRequest, PublishedItem,
};

fn rule(kind: GranteeKind, id: &str, caps: &[(&str, CapabilityMode)]) -> GranteeCapabilities {
    GranteeCapabilities {
        grantee: Grantee { kind, id: id.to_owned() },
        capabilities: caps.iter().map(|(n, m)| Capability { name: (*n).to_owned(), mode: *m }).collect(),
    }
}

#[tokio::test]
async fn project_and_workbook_permissions_round_trip() {
    let emu = common::emulator().await;
    let client = common::client(&emu).await;
    let project =
        client.create_project(&NewProject { name: "Secured".into(), ..Default::default() }).await.expect("project");
    let group =
        client.create_group(&NewGroup { name: "Readers".into(), minimum_site_role: None }).await.expect("group");
    let user = client
        .add_user(&NewUser {
            name: "carol@acme.com".into(),
            site_role: "Viewer".into(),
            auth_setting: None,
            idp_configuration_id: None,
        })
        .await
        .expect("user");
    let target = PermissionTarget::Project(project.id.clone());

    // Both grantees in one request, as TSC's `update_permissions` sends a list of rules (one
    // `granteeCapabilities` each; `permissionsType` in ts-api_3_29.xsd allows any number).
    let result = client
        .add_permissions(
            &target,
            &[
                rule(
                    GranteeKind::Group,
                    &group.id,
                    &[("Read", CapabilityMode::Allow), ("Write", CapabilityMode::Deny)],
                ),
                rule(GranteeKind::User, &user.id, &[("Read", CapabilityMode::Allow)]),
            ],
        )
        .await
        .expect("add group and user rules");
    assert!(result.iter().any(|r| r.grantee.id == group.id) && result.iter().any(|r| r.grantee.id == user.id));
    let rules = client.permissions(&target).await.expect("query");
    let g = rules
        .iter()
        .find(|r| r.grantee == Grantee { kind: GranteeKind::Group, id: group.id.clone() })
        .expect("group rule");
    let mut caps = g.capabilities.clone();
    caps.sort();
    assert_eq!(
        caps,
        vec![
            Capability { name: "Read".into(), mode: CapabilityMode::Allow },
            Capability { name: "Write".into(), mode: CapabilityMode::Deny }
        ]
    );
    assert!(rules.iter().any(|r| r.grantee.kind == GranteeKind::User && r.grantee.id == user.id));

    let grantee = Grantee { kind: GranteeKind::Group, id: group.id.clone() };
    client.delete_permission(&target, &grantee, "Write", CapabilityMode::Deny).await.expect("delete");
    let err =
        client.delete_permission(&target, &grantee, "Write", CapabilityMode::Deny).await.expect_err("not assigned");
    assert!(err.is_not_found(), "{err}");
    let rules = client.permissions(&target).await.expect("query");
    let g = rules.iter().find(|r| r.grantee == grantee).expect("group rule");
    assert_eq!(g.capabilities, vec![Capability { name: "Read".into(), mode: CapabilityMode::Allow }]);

    // Workbook-level rules.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = common::write_twb(dir.path(), "Perm.twb", &["S"]);
    let PublishedItem::Item(wb) = client
        .publish_workbook(&PublishRequest {
            file,
            name: "Perm".into(),
            project_id: project.id.clone(),
            ..Default::default()
        })
        .await
        .expect("publish")
    else {
        panic!("expected item")
    };
    let wb_target = PermissionTarget::Workbook(wb.id.clone());
    client
        .add_permissions(&wb_target, &[rule(GranteeKind::Group, &group.id, &[("ExportData", CapabilityMode::Allow)])])
        .await
        .expect("workbook rule");
    let rules = client.permissions(&wb_target).await.expect("workbook rules");
    assert!(rules.iter().any(|r| r.grantee.id == group.id && r.capabilities.iter().any(|c| c.name == "ExportData")));
}

#[tokio::test]
async fn default_permissions_round_trip() {
    let emu = common::emulator().await;
    let client = common::client(&emu).await;
    let project =
        client.create_project(&NewProject { name: "Defaults".into(), ..Default::default() }).await.expect("project");
    let group =
        client.create_group(&NewGroup { name: "Analysts".into(), minimum_site_role: None }).await.expect("group");
    for kind in [DefaultPermissionKind::Workbooks, DefaultPermissionKind::Datasources] {
        client
            .add_default_permissions(
                &project.id,
                kind,
                &[rule(GranteeKind::Group, &group.id, &[("Read", CapabilityMode::Allow)])],
            )
            .await
            .expect("add default");
        let rules = client.default_permissions(&project.id, kind).await.expect("query default");
        assert!(rules.iter().any(|r| r.grantee.id == group.id), "{kind:?}: {rules:?}");
        let grantee = Grantee { kind: GranteeKind::Group, id: group.id.clone() };
        client
            .delete_default_permission(&project.id, kind, &grantee, "Read", CapabilityMode::Allow)
            .await
            .expect("delete default");
        let rules = client.default_permissions(&project.id, kind).await.expect("query default");
        assert!(!rules.iter().any(|r| r.grantee.id == group.id && !r.capabilities.is_empty()), "{kind:?}: {rules:?}");
    }
}
