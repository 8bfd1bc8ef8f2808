//! Round trips for projects, workbooks, data sources, views, connections, tags, downloads and upload sessions.

use tabops_testkit::site as common;

use tabops_tableau::{
    Client, ConnectionCredentials, ContentKind, DatasourceUpdate, NewProject, ProjectUpdate, PublishMode,
    PublishRequest, PublishedItem, Secret, Workbook, WorkbookUpdate,
};

async fn publish_wb(client: &Client, request: &PublishRequest) -> Workbook {
    match client.publish_workbook(request).await.expect("publish workbook") {
        PublishedItem::Item(wb) => wb,
        PublishedItem::Job(job) => panic!("unexpected job {job:?}"),
    }
}

#[tokio::test]
async fn project_crud_nesting_conflicts_and_not_found() {
    let emu = common::emulator().await;
    let client = common::client(&emu).await;
    let sales = client
        .create_project(&NewProject {
            name: "Sales & Marketing".into(),
            description: Some("Analyst's \"corner\" <main>".into()),
            content_permissions: Some("LockedToProject".into()),
            parent_id: None,
        })
        .await
        .expect("create");
    assert_eq!(sales.name, "Sales & Marketing");
    assert_eq!(sales.description.as_deref(), Some("Analyst's \"corner\" <main>"));
    let emea = client
        .create_project(&NewProject { name: "EMEA".into(), parent_id: Some(sales.id.clone()), ..Default::default() })
        .await
        .expect("nested");
    assert_eq!(emea.parent_id.as_deref(), Some(sales.id.as_str()));

    let dup = client.create_project(&NewProject { name: "sales & marketing".into(), ..Default::default() }).await;
    let err = dup.expect_err("case-insensitive name conflict");
    assert_eq!(err.code(), Some("409006"), "{err}");
    assert!(err.is_conflict());
    assert!(err.to_string().contains("create project 'sales & marketing'"), "{err}");

    let updated = client
        .update_project(&emea.id, &ProjectUpdate { description: Some("Europe".into()), ..Default::default() })
        .await
        .expect("update");
    assert_eq!(updated.description.as_deref(), Some("Europe"));
    let moved = client
        .update_project(&emea.id, &ProjectUpdate { parent_id: Some(String::new()), ..Default::default() })
        .await
        .expect("move to top level");
    assert_eq!(moved.parent_id, None);

    client.delete_project(&emea.id).await.expect("delete");
    let err = client.delete_project(&emea.id).await.expect_err("already gone");
    assert!(err.is_not_found(), "{err}");
    let err = client
        .update_project("00000000-0000-0000-0000-000000000000", &ProjectUpdate::default())
        .await
        .expect_err("404");
    assert_eq!(err.code(), Some("404005"), "{err}");
    let names: Vec<String> = client.projects().await.expect("list").into_iter().map(|p| p.name).collect();
    assert!(names.contains(&"Sales & Marketing".to_owned()) && !names.contains(&"EMEA".to_owned()), "{names:?}");
}

#[tokio::test]
async fn workbook_publish_views_tags_update_download_delete() {
    let emu = common::emulator().await;
    let client = common::client(&emu).await;
    let project = common::default_project(&client).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = common::write_twb(dir.path(), "Revenue.twb", &["Overview", "Scratch", "Detail"]);
    let request = PublishRequest {
        file: file.clone(),
        name: "Revenue".into(),
        project_id: project.clone(),
        show_tabs: true,
        description: Some("Quarterly revenue".into()),
        hidden_views: vec!["Scratch".into()],
        connections: vec![ConnectionCredentials {
            server_address: "db.acme.com".into(),
            server_port: Some("5432".into()),
            username: "svc".into(),
            password: Secret::new("db-password"),
            embed: true,
        }],
        ..Default::default()
    };
    let wb = publish_wb(&client, &request).await;
    assert_eq!(wb.name, "Revenue");
    assert_eq!(wb.project_id.as_deref(), Some(project.as_str()));
    assert!(wb.show_tabs);

    // Name conflict without overwrite, then overwrite.
    let err = client.publish_workbook(&request).await.expect_err("exists");
    assert_eq!(err.status(), Some(403), "{err}");
    assert!(err.to_string().contains("publish workbook 'Revenue'"), "{err}");
    let again = publish_wb(&client, &PublishRequest { mode: PublishMode::Overwrite, ..request.clone() }).await;
    assert_eq!(again.id, wb.id, "overwrite keeps the LUID");

    let views = client.workbook_views(&wb.id).await.expect("views");
    let view_names: Vec<&str> = views.iter().map(|v| v.name.as_str()).collect();
    assert!(view_names.contains(&"Overview") && view_names.contains(&"Detail"), "{view_names:?}");
    let site_views = client.views().await.expect("site views");
    assert!(site_views.iter().any(|v| v.name == "Overview" && v.workbook_id.as_deref() == Some(wb.id.as_str())));
    assert!(!site_views.iter().any(|v| v.name == "Scratch"), "hidden views are not listed: {site_views:?}");

    let connections = client.workbook_connections(&wb.id).await.expect("connections");
    assert!(!connections.is_empty());

    let tags = client
        .add_tags(ContentKind::Workbook, &wb.id, &["finance".into(), "two words".into(), "tabops.sha256.ab12".into()])
        .await
        .expect("tags");
    assert!(tags.contains(&"two words".to_owned()), "{tags:?}");
    client.delete_tag(ContentKind::Workbook, &wb.id, "two words").await.expect("delete tag");
    let err = client.delete_tag(ContentKind::Workbook, &wb.id, "never-there").await.expect_err("tag missing");
    assert!(err.is_not_found(), "{err}");

    let renamed = client
        .update_workbook(
            &wb.id,
            &WorkbookUpdate { name: Some("Revenue 2".into()), show_tabs: Some(false), ..Default::default() },
        )
        .await
        .expect("update");
    assert_eq!(renamed.name, "Revenue 2");
    assert!(!renamed.show_tabs);

    let listed = client.workbooks().await.expect("list");
    let item = listed.iter().find(|w| w.id == wb.id).expect("listed");
    let mut listed_tags = item.tags.clone();
    listed_tags.sort();
    assert_eq!(listed_tags, vec!["finance", "tabops.sha256.ab12"]);
    assert_eq!(item.description.as_deref(), Some("Quarterly revenue"));

    let out = dir.path().join("download.twb");
    let n = client.download_workbook(&wb.id, &out).await.expect("download");
    assert_eq!(std::fs::read(&out).expect("read"), std::fs::read(&file).expect("read"));
    assert_eq!(n, std::fs::metadata(&file).expect("meta").len());

    client.delete_workbook(&wb.id).await.expect("delete");
    assert!(client.workbook(&wb.id).await.expect_err("gone").is_not_found());
}

#[tokio::test]
async fn datasource_publish_update_tags_download_delete() {
    let emu = common::emulator().await;
    let client = common::client(&emu).await;
    let project = common::default_project(&client).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = common::write_tds(dir.path(), "Orders.tds");
    let request = PublishRequest {
        file: file.clone(),
        name: "Orders".into(),
        project_id: project,
        connections: vec![ConnectionCredentials {
            username: "svc".into(),
            password: Secret::new("pw"),
            embed: true,
            ..Default::default()
        }],
        ..Default::default()
    };
    let ds = match client.publish_datasource(&request).await.expect("publish") {
        PublishedItem::Item(ds) => ds,
        PublishedItem::Job(job) => panic!("unexpected job {job:?}"),
    };
    assert_eq!(ds.name, "Orders");
    let err = client.publish_datasource(&request).await.expect_err("name exists");
    assert!(err.status() == Some(409) || err.status() == Some(403), "{err}");

    let updated = client
        .update_datasource(&ds.id, &DatasourceUpdate { description: Some("All orders".into()), ..Default::default() })
        .await
        .expect("update");
    assert_eq!(updated.description.as_deref(), Some("All orders"));
    client.add_tags(ContentKind::Datasource, &ds.id, &["gold".into()]).await.expect("tag");
    let listed = client.datasources().await.expect("list");
    assert_eq!(listed.iter().find(|d| d.id == ds.id).map(|d| d.tags.clone()), Some(vec!["gold".to_owned()]));
    client.datasource_connections(&ds.id).await.expect("connections");

    let out = dir.path().join("out.tds");
    client.download_datasource(&ds.id, &out).await.expect("download");
    assert_eq!(std::fs::read(&out).expect("read"), std::fs::read(&file).expect("read"));
    client.delete_datasource(&ds.id).await.expect("delete");
    assert!(client.datasource(&ds.id).await.expect_err("gone").is_not_found());
}

#[tokio::test]
async fn large_files_go_through_upload_sessions_in_chunks() {
    let emu = common::emulator().await;
    let mut config = common::config(&emu);
    config.upload_threshold = 64 * 1024;
    config.chunk_size = 40 * 1024;
    let client = Client::sign_in(config).await.expect("sign in");
    let project = common::default_project(&client).await;
    let dir = tempfile::tempdir().expect("tempdir");
    // A .twb padded to ~150 KiB with a comment so it is still a valid workbook.
    let path = common::write_twb(dir.path(), "Big.twb", &["Only"]);
    let mut bytes = std::fs::read(&path).expect("read");
    bytes.extend_from_slice(b"<!-- ");
    bytes.extend(std::iter::repeat_n(b'x', 150 * 1024));
    bytes.extend_from_slice(b" -->\n");
    std::fs::write(&path, &bytes).expect("write");

    let wb = publish_wb(
        &client,
        &PublishRequest { file: path.clone(), name: "Big".into(), project_id: project, ..Default::default() },
    )
    .await;
    let stats = client.stats();
    assert_eq!(stats.count("POST /sites/{site}/fileUploads"), 1);
    assert_eq!(stats.count("PUT /sites/{site}/fileUploads/{id}"), 4, "150 KiB in 40 KiB chunks");
    assert_eq!(stats.count("POST /sites/{site}/workbooks"), 1);
    let out = dir.path().join("back.twb");
    client.download_workbook(&wb.id, &out).await.expect("download");
    assert_eq!(std::fs::read(&out).expect("read"), bytes, "chunks reassembled in order");
    let server = emu.stats();
    assert!(server.bytes_received >= bytes.len() as u64, "{server:?}");
}

#[tokio::test]
async fn async_publish_returns_a_job() {
    let emu = common::emulator().await;
    let client = common::client(&emu).await;
    let project = common::default_project(&client).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = common::write_twb(dir.path(), "Async.twb", &["A"]);
    let result = client
        .publish_workbook(&PublishRequest {
            file,
            name: "Async".into(),
            project_id: project,
            as_job: true,
            ..Default::default()
        })
        .await
        .expect("publish");
    let PublishedItem::Job(job) = result else { panic!("expected a job: {result:?}") };
    let done = client.wait_for_job(&job.id, std::time::Duration::from_secs(20)).await.expect("job finishes");
    assert!(done.completed_at.is_some());
}
