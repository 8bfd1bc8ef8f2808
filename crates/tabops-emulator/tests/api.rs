//! Wire-level tests: reqwest against a real emulator on 127.0.0.1 with hand-written XML (the reference bytes).

mod common;

use std::time::Duration;

use common::{Client, SIGN_IN, attr, code, sign_in};
use tabops_emulator::{DEFAULT_PAT_NAME, DEFAULT_PAT_SECRET, DEFAULT_SITE, Emulator, EmulatorConfig};

const TWB: &str = "<?xml version='1.0'?><workbook><worksheets><worksheet name='Sales'/><worksheet name='Hidden'/></worksheets><dashboards><dashboard name='Board'/></dashboards></workbook>";

async fn start() -> Emulator {
    Emulator::start(EmulatorConfig::default()).await.expect("emulator starts")
}

async fn default_project(c: &Client) -> String {
    let (_, body) = c.get("/projects?filter=name:eq:Default").await;
    attr(&body, "project", "id").expect("default project").to_owned()
}

#[tokio::test]
async fn auth_errors_and_single_session_per_pat() {
    let emulator = start().await;
    let http = reqwest::Client::new();
    let info = http.get(format!("{}/api/2.4/serverinfo", emulator.url())).send().await.expect("serverinfo");
    assert_eq!(info.status(), 200);
    assert!(info.text().await.expect("body").contains("<restApiVersion>"));
    let bad = SIGN_IN.replace(DEFAULT_PAT_SECRET, "wrong");
    let body =
        http.post(format!("{}/api/3.1/auth/signin", emulator.url())).body(bad).send().await.expect("bad sign in");
    assert_eq!(body.status(), 401);
    assert_eq!(code(&body.text().await.expect("body")), "401001");

    let first = sign_in(&emulator).await;
    let missing = http.get(format!("{}/sites/{}/projects", first.base, first.site)).send().await.expect("no token");
    assert_eq!(missing.status(), 401);
    assert_eq!(code(&missing.text().await.expect("body")), "401000");
    assert_eq!(first.get("/projects").await.0, 200);
    let second = sign_in(&emulator).await;
    let (status, body) = first.get("/projects").await;
    assert_eq!((status, code(&body)), (401, "401002"), "old session of the PAT ends");
    assert_eq!(second.get("/projects").await.0, 200);
    let other_site = Client { site: "00000000-0000-0000-0000-000000000000".into(), ..second };
    assert_eq!(code(&other_site.get("/projects").await.1), "404000");
    let signout = http
        .post(format!("{}/auth/signout", other_site.base))
        .header("x-tableau-auth", &other_site.token)
        .send()
        .await
        .expect("signout");
    assert_eq!(signout.status(), 204);
    assert_eq!(code(&other_site.get("/projects").await.1), "401002");
    assert!(DEFAULT_PAT_NAME == "tabops" && DEFAULT_SITE == "acme");
}

#[tokio::test]
async fn projects_crud_conflicts_paging_and_filters() {
    let emulator = start().await;
    let c = sign_in(&emulator).await;
    let (status, body) =
        c.post("/projects?publishSamples=False", "<tsRequest><project name=\"P1\" description=\"d\"").await;
    assert_eq!((status, code(&body)), (400, "400000"), "malformed xml");
    let (status, body) = c
        .post(
            "/projects?publishSamples=False",
            r#"<tsRequest><project name="P1" description="d" contentPermissions="LockedToProject" /></tsRequest>"#,
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let p1 = attr(&body, "project", "id").expect("id").to_owned();
    let (status, body) = c.post("/projects", r#"<tsRequest><project name="p1" /></tsRequest>"#).await;
    assert_eq!((status, code(&body)), (409, "409006"));
    let (status, _) =
        c.post("/projects", &format!(r#"<tsRequest><project name="p1" parentProjectId="{p1}" /></tsRequest>"#)).await;
    assert_eq!(status, 201, "same name under another parent is fine");
    let (status, body) =
        c.put(&format!("/projects/{p1}?publishSamples=False"), "<tsRequest><project /></tsRequest>").await;
    assert_eq!((status, attr(&body, "project", "description")), (200, Some("d")), "empty PUT is a read");
    for i in 0..5 {
        c.post("/projects", &format!(r#"<tsRequest><project name="bulk{i}" /></tsRequest>"#)).await;
    }
    let (_, body) = c.get("/projects?pageSize=3&pageNumber=2&sort=name:asc").await;
    assert!(body.find("<pagination").expect("pagination") < body.find("<projects").expect("list"));
    assert_eq!(attr(&body, "pagination", "totalAvailable"), Some("8"));
    let (status, body) = c.get("/projects?pageSize=1001").await;
    assert_eq!((status, code(&body)), (403, "403014"));
    let (status, body) = c.get("/projects?pageSize=3&pageNumber=4").await;
    assert_eq!((status, code(&body)), (400, "400006"));
    let (_, body) = c.get("/projects?filter=name:in:[bulk1,bulk3],topLevelProject:eq:true").await;
    assert_eq!(attr(&body, "pagination", "totalAvailable"), Some("2"));
    let (status, body) = c.delete("/projects/00000000-0000-0000-0000-000000000001").await;
    assert_eq!((status, code(&body)), (404, "404005"));
    let default = default_project(&c).await;
    assert_eq!(code(&c.delete(&format!("/projects/{default}")).await.1), "403003");
    assert_eq!(c.delete(&format!("/projects/{p1}")).await.0, 204);
    let (_, body) = c.get("/projects").await;
    assert_eq!(attr(&body, "pagination", "totalAvailable"), Some("6"), "child project deleted with its parent");
}

#[tokio::test]
async fn publish_views_tags_download_and_upload_sessions() {
    let emulator = start().await;
    let c = sign_in(&emulator).await;
    let project = default_project(&c).await;
    let payload = format!(
        r#"<tsRequest><workbook name="My WB" showTabs="true"><project id="{project}" /><views><view name="Hidden" hidden="true" /></views></workbook></tsRequest>"#
    );
    let (status, body) = c
        .multipart(
            "/workbooks?workbookType=twb&overwrite=true",
            &payload,
            Some(("tableau_workbook", "B.twb", TWB.as_bytes())),
            true,
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let id = attr(&body, "workbook", "id").expect("id").to_owned();
    assert!(body.contains("name=\"Sales\"") && body.contains("name=\"Board\"") && !body.contains("name=\"Hidden\""));
    let (status, body) = c
        .multipart("/workbooks?workbookType=twb", &payload, Some(("tableau_workbook", "B.twb", b"garbage")), false)
        .await;
    assert_eq!((status, code(&body)), (403, "403007"), "name exists without overwrite");
    let (_, body) = c.get("/views?pageSize=1").await;
    assert_eq!(attr(&body, "pagination", "totalAvailable"), Some("2"));
    assert_eq!(attr(&body, "workbook", "id"), Some(id.as_str()));
    let (status, body) = c
        .put(
            &format!("/workbooks/{id}/tags"),
            r#"<tsRequest><tags><tag label="x" /><tag label="&quot;two words&quot;" /></tags></tsRequest>"#,
        )
        .await;
    assert_eq!(status, 200);
    assert!(body.contains("label=\"two words\""), "{body}");
    assert_eq!(c.delete(&format!("/workbooks/{id}/tags/two%20words")).await.0, 204);
    assert_eq!(code(&c.delete(&format!("/workbooks/{id}/tags/nope")).await.1), "404007");
    let url = format!("{}/sites/{}/workbooks/{id}/content?includeExtract=False", c.base, c.site);
    let response = c.http.get(url).header("x-tableau-auth", &c.token).send().await.expect("download");
    assert_eq!(response.headers()["content-disposition"], "name=\"tableau_workbook\"; filename=\"My WB.twb\"");
    assert_eq!(response.text().await.expect("bytes"), TWB);

    // Upload session: initiate, two appends (without form-data;), commit with payload only.
    let (status, body) = c.post("/fileUploads", "").await;
    assert_eq!(status, 201);
    let session = attr(&body, "fileUpload", "uploadSessionId").expect("session").to_owned();
    let (before, after) = session.split_once('-').expect("N:hex-N:N");
    assert!(before.contains(':') && after.contains(':'));
    let chunk = vec![b'x'; 9 * 1024 * 1024];
    let (status, _) =
        c.multipart(&format!("/fileUploads/{session}"), "", Some(("tableau_file", "file", &chunk)), true).await;
    assert_eq!(status, 200);
    let (_, body) =
        c.multipart(&format!("/fileUploads/{session}"), "", Some(("tableau_file", "file", &chunk)), false).await;
    assert_eq!(attr(&body, "fileUpload", "fileSize"), Some("18"));
    let (status, body) = c
        .multipart(&format!("/fileUploads/{session}"), "<tsRequest/>", Some(("tableau_file", "file", b"x")), true)
        .await;
    assert_eq!((status, code(&body)), (400, "400019"));
    let ds_payload =
        format!(r#"<tsRequest><datasource name="Big"><project id="{project}" /></datasource></tsRequest>"#);
    let (status, body) = c
        .multipart(
            &format!("/datasources?datasourceType=hyper&createnew=true&uploadSessionId={session}"),
            &ds_payload,
            None,
            true,
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(attr(&body, "datasource", "type"), Some("hyper"));
    let ds = attr(&body, "datasource", "id").expect("ds").to_owned();
    let url = format!("{}/sites/{}/datasources/{ds}/content", c.base, c.site);
    let bytes = c
        .http
        .get(url)
        .header("x-tableau-auth", &c.token)
        .send()
        .await
        .expect("download")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(bytes.len(), 18 * 1024 * 1024);
    let (status, body) = c
        .multipart(&format!("/datasources?datasourceType=hyper&uploadSessionId={session}"), &ds_payload, None, true)
        .await;
    assert_eq!((status, code(&body)), (404, "404015"), "a committed session is gone");
}

#[tokio::test]
async fn tasks_jobs_and_permissions() {
    let emulator = Emulator::start(EmulatorConfig {
        job_polls: 2,
        job_duration: Duration::from_secs(60),
        ..EmulatorConfig::default()
    })
    .await
    .expect("start");
    let c = sign_in(&emulator).await;
    let project = default_project(&c).await;
    let payload = format!(r#"<tsRequest><datasource name="DS"><project id="{project}" /></datasource></tsRequest>"#);
    let (_, body) = c
        .multipart(
            "/datasources?datasourceType=tds",
            &payload,
            Some((
                "tableau_datasource",
                "d.tds",
                b"<datasource><connection class='postgres' server='db'/><extract enabled='true'/></datasource>",
            )),
            true,
        )
        .await;
    let ds = attr(&body, "datasource", "id").expect("ds").to_owned();
    let daily = format!(
        r#"<tsRequest><extractRefresh type="FullRefresh"><datasource id="{ds}" /></extractRefresh><schedule frequency="Daily"><frequencyDetails start="05:00:00"><intervals><interval hours="24" /></intervals></frequencyDetails></schedule></tsRequest>"#
    );
    let (status, body) = c.post("/tasks/extractRefreshes", &daily).await;
    assert_eq!((status, code(&body)), (409, "409004"));
    let weekly =
        daily.replace(r#"frequency="Daily""#, r#"frequency="Weekly""#).replace(r#"hours="24""#, r#"weekDay="Monday""#);
    let (status, body) = c.post("/tasks/extractRefreshes", &weekly).await;
    assert_eq!(status, 200, "{body}");
    let task = attr(&body, "extractRefresh", "id").expect("task").to_owned();
    let (_, body) = c.get("/tasks/extractRefreshes").await;
    assert!(body.contains("<task><extractRefresh") && body.contains("<schedule frequency=\"Weekly\""));
    let (status, body) = c.post(&format!("/tasks/extractRefreshes/{task}/runNow"), "<tsRequest />").await;
    assert_eq!(status, 200);
    let job = attr(&body, "job", "id").expect("job").to_owned();
    assert_eq!(
        code(&c.post(&format!("/datasources/{ds}/refresh"), "<tsRequest><extractRefresh /></tsRequest>").await.1),
        "409093"
    );
    let (_, body) = c.get(&format!("/jobs/{job}")).await;
    assert!(!body.contains("completedAt"), "running: {body}");
    let (_, body) = c.get(&format!("/jobs/{job}")).await;
    assert_eq!(attr(&body, "job", "finishCode"), Some("0"), "{body}");
    assert_eq!(c.delete(&format!("/tasks/extractRefreshes/{task}")).await.0, 204);
    assert_eq!(code(&c.get(&format!("/tasks/extractRefreshes/{task}")).await.1), "404026");

    let (_, body) = c.post("/groups", r#"<tsRequest><group name="G1" minimumSiteRole="Viewer" /></tsRequest>"#).await;
    let group = attr(&body, "group", "id").expect("group").to_owned();
    let rule = |cap: &str| {
        format!(
            r#"<tsRequest><permissions><granteeCapabilities><group id="{group}" /><capabilities><capability name="{cap}" mode="Allow" /></capabilities></granteeCapabilities></permissions></tsRequest>"#
        )
    };
    let (status, body) = c.put(&format!("/datasources/{ds}/permissions"), &rule("WebAuthoring")).await;
    assert_eq!((status, code(&body)), (400, "400009"), "not a data source capability");
    let (status, body) = c.put(&format!("/datasources/{ds}/permissions"), &rule("Connect")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#"<capability name="Connect" mode="Allow"/>"#));
    assert_eq!(c.delete(&format!("/datasources/{ds}/permissions/groups/{group}/Connect/Allow")).await.0, 204);
    assert_eq!(
        code(&c.delete(&format!("/datasources/{ds}/permissions/groups/{group}/Connect/Allow")).await.1),
        "404013"
    );
    let (status, _) = c.put(&format!("/projects/{project}/default-permissions/workbooks"), &rule("ExportImage")).await;
    assert_eq!(status, 200);
    let (_, body) = c.get(&format!("/projects/{project}/default-permissions/workbooks")).await;
    assert!(body.contains("ExportImage"));
}

#[tokio::test]
async fn state_persists_across_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state_file = dir.path().join("state.json");
    let config = EmulatorConfig { state_file: Some(state_file.clone()), ..EmulatorConfig::default() };
    let emulator = Emulator::start(config.clone()).await.expect("start");
    let c = sign_in(&emulator).await;
    c.post("/projects", r#"<tsRequest><project name="Kept" /></tsRequest>"#).await;
    let project = default_project(&c).await;
    let payload = format!(r#"<tsRequest><workbook name="W"><project id="{project}" /></workbook></tsRequest>"#);
    let (status, _) = c
        .multipart("/workbooks?workbookType=twb", &payload, Some(("tableau_workbook", "w.twb", TWB.as_bytes())), true)
        .await;
    assert_eq!(status, 201);
    emulator.shutdown().await;
    assert!(state_file.exists());
    let emulator = Emulator::start(config).await.expect("restart");
    let c = sign_in(&emulator).await;
    let (_, body) = c.get("/projects?filter=name:eq:Kept").await;
    assert_eq!(attr(&body, "pagination", "totalAvailable"), Some("1"));
    let (_, body) = c.get("/workbooks").await;
    let id = attr(&body, "workbook", "id").expect("workbook kept").to_owned();
    let url = format!("{}/sites/{}/workbooks/{id}/content", c.base, c.site);
    let text =
        c.http.get(url).header("x-tableau-auth", &c.token).send().await.expect("download").text().await.expect("text");
    assert_eq!(text, TWB);
}

#[tokio::test]
async fn faults_are_reproducible_and_stats_count() {
    async fn outcomes(seed: u64) -> Vec<String> {
        let emulator =
            Emulator::start(EmulatorConfig { fault_rate: 0.5, fault_seed: seed, ..EmulatorConfig::default() })
                .await
                .expect("start");
        let http = reqwest::Client::new();
        let mut out = Vec::new();
        for _ in 0..30 {
            let result = http.get(format!("{}/api/3.25/serverInfo", emulator.url())).send().await;
            out.push(match result {
                Ok(r) => {
                    let retry = r.headers().get("retry-after").is_some();
                    format!("{}{}", r.status().as_u16(), if retry { "+retry" } else { "" })
                }
                Err(_) => "dropped".to_owned(),
            });
        }
        let text = http
            .get(format!("{}/_emulator/stats", emulator.url()))
            .send()
            .await
            .expect("stats")
            .text()
            .await
            .expect("text");
        let stats: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(stats["requests_total"], 30);
        assert_eq!(stats["by_route"]["GET /serverInfo"], 30);
        out
    }
    let first = outcomes(42).await;
    assert_eq!(first, outcomes(42).await);
    assert!(first.iter().any(|o| o == "200") && first.iter().any(|o| o != "200"), "{first:?}");
    assert!(
        first.iter().any(|o| o == "429+retry")
            || first.iter().any(|o| o == "dropped")
            || first.iter().any(|o| o.starts_with('5'))
    );
    let emulator = start().await;
    let c = sign_in(&emulator).await;
    c.post("/projects", r#"<tsRequest><project name="S" /></tsRequest>"#).await;
    let stats = emulator.stats();
    assert_eq!(stats.requests_total, 2);
    assert_eq!(stats.writes_total, 2);
    assert_eq!(stats.by_route.get("POST /sites/{id}/projects"), Some(&1));
    assert!(stats.bytes_received as usize >= SIGN_IN.len());
}

/// A group's minimum site role is answered in `<import domainName siteRole grantLicenseMode/>`, where Tableau puts
/// it (TSC `models/group_item.py`, asset `group_update.xml`), never as a `minimumSiteRole` attribute; requests keep
/// TSC's `GroupRequest` form (`minimumSiteRole` on `<group>`), and a group without a role has no `import`.
#[tokio::test]
async fn group_minimum_site_role_is_answered_in_the_import_element() {
    let emulator = start().await;
    let c = sign_in(&emulator).await;
    let (status, body) =
        c.post("/groups", r#"<tsRequest><group name="Analysts" minimumSiteRole="Explorer" /></tsRequest>"#).await;
    assert_eq!(status, 201, "{body}");
    let group = attr(&body, "group", "id").expect("group").to_owned();
    assert_eq!(attr(&body, "import", "siteRole"), Some("Explorer"), "{body}");
    assert_eq!(attr(&body, "import", "grantLicenseMode"), Some("onLogin"));
    assert_eq!(attr(&body, "import", "domainName"), Some("local"));
    assert_eq!(attr(&body, "group", "minimumSiteRole"), None, "{body}");
    let (_, list) = c.get("/groups").await;
    assert!(list.contains(r#"siteRole="Explorer""#) && !list.contains("minimumSiteRole"), "{list}");
    let (status, body) = c
        .put(
            &format!("/groups/{group}"),
            r#"<tsRequest><group name="Analysts" minimumSiteRole="Viewer" /></tsRequest>"#,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(attr(&body, "import", "siteRole"), Some("Viewer"));
    // The reference lists the name of Update Group as optional (TSC always sends it): a role-only update keeps it.
    let (status, body) =
        c.put(&format!("/groups/{group}"), r#"<tsRequest><group minimumSiteRole="Creator" /></tsRequest>"#).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((attr(&body, "group", "name"), attr(&body, "import", "siteRole")), (Some("Analysts"), Some("Creator")));
    let (_, body) = c.post("/groups", r#"<tsRequest><group name="Plain" /></tsRequest>"#).await;
    assert!(!body.contains("<import"), "{body}");
    let (status, body) =
        c.post("/groups", r#"<tsRequest><group name="Bad" grantLicenseMode="onLogin" /></tsRequest>"#).await;
    assert_eq!(status, 400, "grantLicenseMode needs a minimum site role: {body}");
}

/// Tasks list and read with the repository's type names, `RefreshExtractTask` (full; TSC assets `tasks_with_*.xml`)
/// and `IncrementExtractTask` (incremental); create answers the request names `FullRefresh`/`IncrementalRefresh`
/// (TSC asset `tasks_create_extract_task.xml`); `Incremental` is not a create type (schema `extractType`).
#[tokio::test]
async fn tasks_list_with_repository_type_names_and_create_answers_request_names() {
    let emulator = start().await;
    let c = sign_in(&emulator).await;
    let project = default_project(&c).await;
    let payload = format!(r#"<tsRequest><datasource name="DS"><project id="{project}" /></datasource></tsRequest>"#);
    let file: &[u8] = b"<datasource><connection class='postgres' server='db'/><extract enabled='true'/></datasource>";
    let (_, body) = c
        .multipart("/datasources?datasourceType=tds", &payload, Some(("tableau_datasource", "d.tds", file)), true)
        .await;
    let ds = attr(&body, "datasource", "id").expect("ds").to_owned();
    let create = |kind: &str| {
        format!(
            r#"<tsRequest><extractRefresh type="{kind}"><datasource id="{ds}" /></extractRefresh><schedule frequency="Weekly"><frequencyDetails start="05:00:00"><intervals><interval weekDay="Monday" /></intervals></frequencyDetails></schedule></tsRequest>"#
        )
    };
    let (status, body) = c.post("/tasks/extractRefreshes", &create("IncrementalRefresh")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(attr(&body, "extractRefresh", "type"), Some("IncrementalRefresh"));
    let incremental = attr(&body, "extractRefresh", "id").expect("id").to_owned();
    let (_, body) = c.post("/tasks/extractRefreshes", &create("FullRefresh")).await;
    assert_eq!(attr(&body, "extractRefresh", "type"), Some("FullRefresh"));
    let full = attr(&body, "extractRefresh", "id").expect("id").to_owned();
    let (status, body) = c.post("/tasks/extractRefreshes", &create("Incremental")).await;
    assert_eq!(status, 400, "{body}");

    let (_, body) = c.get(&format!("/tasks/extractRefreshes/{incremental}")).await;
    assert_eq!(attr(&body, "extractRefresh", "type"), Some("IncrementExtractTask"), "{body}");
    assert!(!body.contains("incremental="), "{body}");
    let (_, body) = c.get(&format!("/tasks/extractRefreshes/{full}")).await;
    assert_eq!(attr(&body, "extractRefresh", "type"), Some("RefreshExtractTask"), "{body}");
    let (_, list) = c.get("/tasks/extractRefreshes").await;
    assert_eq!(list.matches(r#"type="IncrementExtractTask""#).count(), 1, "{list}");
    assert_eq!(list.matches(r#"type="RefreshExtractTask""#).count(), 1, "{list}");
}

/// Values outside the schema (ts-api_3_29.xsd) that Tableau Cloud rejects: legacy site roles (not in
/// `siteRoleType`) and the capability `CreateRefreshMetrics` (not in `capabilityType`); schedules with an end off
/// the 5-minute grid, a window whose end minute differs from the start, or more than 7 day intervals (409004).
#[tokio::test]
async fn values_cloud_rejects_are_rejected() {
    let emulator = start().await;
    let c = sign_in(&emulator).await;
    for role in
        ["SiteAdministrator", "Interactor", "Publisher", "ReadOnly", "UnlicensedWithPublish", "ViewerWithPublish"]
    {
        let (status, body) = c
            .post("/users", &format!(r#"<tsRequest><user name="{role}@acme.com" siteRole="{role}" /></tsRequest>"#))
            .await;
        assert_eq!(status, 400, "{role}: {body}");
        let (status, _) = c
            .post("/groups", &format!(r#"<tsRequest><group name="G{role}" minimumSiteRole="{role}" /></tsRequest>"#))
            .await;
        assert_eq!(status, 400, "{role} as a group's minimum");
    }
    let (status, body) =
        c.post("/users", r#"<tsRequest><user name="ok@acme.com" siteRole="ExplorerCanPublish" /></tsRequest>"#).await;
    assert_eq!(status, 201, "{body}");

    let project = default_project(&c).await;
    let payload = format!(r#"<tsRequest><workbook name="W"><project id="{project}" /></workbook></tsRequest>"#);
    let twb: &[u8] = b"<workbook><datasources><datasource><extract enabled='true'/></datasource></datasources><worksheets><worksheet name='S'/></worksheets></workbook>";
    let (_, body) =
        c.multipart("/workbooks?workbookType=twb", &payload, Some(("tableau_workbook", "w.twb", twb)), true).await;
    let wb = attr(&body, "workbook", "id").expect("workbook").to_owned();
    let (_, body) = c.post("/groups", r#"<tsRequest><group name="Readers" /></tsRequest>"#).await;
    let group = attr(&body, "group", "id").expect("group").to_owned();
    let rule = format!(
        r#"<tsRequest><permissions><granteeCapabilities><group id="{group}" /><capabilities><capability name="CreateRefreshMetrics" mode="Allow" /></capabilities></granteeCapabilities></permissions></tsRequest>"#
    );
    let (status, body) = c.put(&format!("/workbooks/{wb}/permissions"), &rule).await;
    assert_eq!(status, 400, "{body}");

    let task = |schedule: &str| {
        format!(
            r#"<tsRequest><extractRefresh type="FullRefresh"><workbook id="{wb}" /></extractRefresh>{schedule}</tsRequest>"#
        )
    };
    let cases = [
        (
            "end off the 5-minute grid",
            r#"<schedule frequency="Hourly"><frequencyDetails start="06:00:00" end="18:03:00"><intervals><interval hours="1" /><interval weekDay="Monday" /></intervals></frequencyDetails></schedule>"#.to_owned(),
        ),
        (
            "hourly end minute differs from start",
            r#"<schedule frequency="Hourly"><frequencyDetails start="06:00:00" end="18:30:00"><intervals><interval hours="2" /><interval weekDay="Monday" /></intervals></frequencyDetails></schedule>"#.to_owned(),
        ),
        (
            "8 month days",
            format!(
                r#"<schedule frequency="Monthly"><frequencyDetails start="06:00:00"><intervals>{}</intervals></frequencyDetails></schedule>"#,
                (1..=8).map(|d| format!(r#"<interval monthDay="{d}" />"#)).collect::<String>()
            ),
        ),
    ];
    for (name, schedule) in cases {
        let (status, body) = c.post("/tasks/extractRefreshes", &task(&schedule)).await;
        assert_eq!((status, code(&body)), (409, "409004"), "{name}: {body}");
    }
    let daily_window = r#"<schedule frequency="Daily"><frequencyDetails start="12:00:00" end="20:00:00"><intervals><interval hours="2" /><interval weekDay="Sunday" /><interval weekDay="Monday" /></intervals></frequencyDetails></schedule>"#;
    let (status, body) = c.post("/tasks/extractRefreshes", &task(daily_window)).await;
    assert_eq!(status, 200, "Daily every 2 hours 12:00-20:00 (PSTableauREST's Cloud test): {body}");
    assert_eq!(attr(&body, "frequencyDetails", "end"), Some("20:00:00"));
    assert!(body.contains(r#"<interval hours="2"/>"#), "{body}");
}

/// The `All Users` group's id and its members' ids.
async fn all_users(c: &Client) -> (String, String) {
    let (_, body) = c.get("/groups?filter=name:eq:All%20Users").await;
    let id = attr(&body, "group", "id").expect("All Users on a fresh site").to_owned();
    let (_, members) = c.get(&format!("/groups/{id}/users")).await;
    (id, members)
}

#[tokio::test]
async fn every_site_has_all_users_holding_every_user_as_users_come_and_go() {
    let emulator = start().await;
    let c = sign_in(&emulator).await;
    let (group, members) = all_users(&c).await;
    assert!(members.contains(r#"name="admin@tabops.local""#), "the site administrator is in it: {members}");
    let (status, body) =
        c.post("/users", r#"<tsRequest><user name="new@acme.com" siteRole="Viewer" /></tsRequest>"#).await;
    assert_eq!(status, 201, "{body}");
    let user = attr(&body, "user", "id").expect("user").to_owned();
    let (_, members) = all_users(&c).await;
    assert!(members.contains(&format!(r#"id="{user}""#)), "a new user joins All Users: {members}");
    assert_eq!(c.delete(&format!("/users/{user}")).await.0, 204);
    let (_, members) = all_users(&c).await;
    assert!(!members.contains(&format!(r#"id="{user}""#)), "a removed user leaves it: {members}");

    // It cannot be renamed, deleted or have its membership edited (help: to_add_users_groups.htm,
    // groups_delete.htm; the codes are inferred).
    let (status, body) =
        c.put(&format!("/groups/{group}"), r#"<tsRequest><group name="Everyone" /></tsRequest>"#).await;
    assert_eq!((status, code(&body)), (403, "403000"), "rename: {body}");
    let (status, body) = c.delete(&format!("/groups/{group}")).await;
    assert_eq!((status, code(&body)), (403, "403000"), "delete: {body}");
    let admin = attr(&members, "user", "id").expect("admin").to_owned();
    let (status, body) = c.delete(&format!("/groups/{group}/users/{admin}")).await;
    assert_eq!((status, code(&body)), (403, "403000"), "remove a member: {body}");
    let (status, body) =
        c.post(&format!("/groups/{group}/users"), &format!(r#"<tsRequest><user id="{admin}" /></tsRequest>"#)).await;
    assert_eq!((status, code(&body)), (403, "403000"), "add a member: {body}");
    let (_, body) = c.get("/groups?filter=name:eq:All%20Users").await;
    assert_eq!(attr(&body, "group", "id"), Some(group.as_str()), "still there, same name");
}

/// `(grantee id, capability, mode)` of every rule in a permissions response.
fn rules(body: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for block in body.split("<granteeCapabilities>").skip(1) {
        let grantee = attr(block, "group", "id").or_else(|| attr(block, "user", "id")).unwrap_or_default();
        for cap in block.split("<capability ").skip(1) {
            let tag = format!("<capability {}>", &cap[..cap.find('>').unwrap_or(cap.len())]);
            let name = attr(&tag, "capability", "name").unwrap_or_default();
            let mode = attr(&tag, "capability", "mode").unwrap_or_default();
            out.push((grantee.to_owned(), name.to_owned(), mode.to_owned()));
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn new_projects_and_published_content_start_with_copied_permissions() {
    let emulator = start().await;
    let c = sign_in(&emulator).await;
    let (all, _) = all_users(&c).await;
    let default = default_project(&c).await;
    let default_rules = rules(&c.get(&format!("/projects/{default}/permissions")).await.1);
    assert!(default_rules.iter().any(|(g, cap, _)| g == &all && cap == "Read"), "{default_rules:?}");
    let default_wb = rules(&c.get(&format!("/projects/{default}/default-permissions/workbooks")).await.1);
    let default_ds = rules(&c.get(&format!("/projects/{default}/default-permissions/datasources")).await.1);

    // A top-level project: the default project's rules and default rules (help: permissions_projects.htm).
    let (status, body) = c.post("/projects", r#"<tsRequest><project name="Top" /></tsRequest>"#).await;
    assert_eq!(status, 201, "{body}");
    let top = attr(&body, "project", "id").expect("top").to_owned();
    assert_eq!(rules(&c.get(&format!("/projects/{top}/permissions")).await.1), default_rules);
    assert_eq!(rules(&c.get(&format!("/projects/{top}/default-permissions/workbooks")).await.1), default_wb);
    assert_eq!(rules(&c.get(&format!("/projects/{top}/default-permissions/datasources")).await.1), default_ds);

    // A nested project: its parent's, as they are when it is created.
    let (_, body) = c.post("/groups", r#"<tsRequest><group name="Parent readers" /></tsRequest>"#).await;
    let readers = attr(&body, "group", "id").expect("group").to_owned();
    let grant = |cap: &str, mode: &str| {
        format!(
            r#"<tsRequest><permissions><granteeCapabilities><group id="{readers}" /><capabilities><capability name="{cap}" mode="{mode}" /></capabilities></granteeCapabilities></permissions></tsRequest>"#
        )
    };
    assert_eq!(c.put(&format!("/projects/{top}/permissions"), &grant("Write", "Allow")).await.0, 200);
    let wb_default = grant("ExportData", "Deny");
    assert_eq!(c.put(&format!("/projects/{top}/default-permissions/workbooks"), &wb_default).await.0, 200);
    let payload = format!(r#"<tsRequest><project name="Child" parentProjectId="{top}" /></tsRequest>"#);
    let (_, body) = c.post("/projects", &payload).await;
    let child = attr(&body, "project", "id").expect("child").to_owned();
    let top_rules = rules(&c.get(&format!("/projects/{top}/permissions")).await.1);
    assert!(top_rules.contains(&(readers.clone(), "Write".into(), "Allow".into())));
    assert_eq!(rules(&c.get(&format!("/projects/{child}/permissions")).await.1), top_rules);
    let top_wb = rules(&c.get(&format!("/projects/{top}/default-permissions/workbooks")).await.1);
    assert_eq!(rules(&c.get(&format!("/projects/{child}/default-permissions/workbooks")).await.1), top_wb);

    // Published content: its project's default permissions for its type (help: permissions_project_defaults.htm).
    let payload = format!(r#"<tsRequest><workbook name="Book"><project id="{top}" /></workbook></tsRequest>"#);
    let (status, body) = c
        .multipart("/workbooks?workbookType=twb", &payload, Some(("tableau_workbook", "B.twb", TWB.as_bytes())), true)
        .await;
    assert_eq!(status, 201, "{body}");
    let wb = attr(&body, "workbook", "id").expect("wb").to_owned();
    let wb_rules = rules(&c.get(&format!("/workbooks/{wb}/permissions")).await.1);
    assert_eq!(wb_rules, top_wb);
    assert!(wb_rules.contains(&(readers.clone(), "ExportData".into(), "Deny".into())), "{wb_rules:?}");
    let payload = format!(r#"<tsRequest><datasource name="DS"><project id="{top}" /></datasource></tsRequest>"#);
    let tds = b"<datasource><connection class='postgres' server='db'/></datasource>";
    let (status, body) = c
        .multipart("/datasources?datasourceType=tds", &payload, Some(("tableau_datasource", "d.tds", tds)), true)
        .await;
    assert_eq!(status, 201, "{body}");
    let ds = attr(&body, "datasource", "id").expect("ds").to_owned();
    assert_eq!(rules(&c.get(&format!("/datasources/{ds}/permissions")).await.1), default_ds);
}

#[tokio::test]
async fn a_rule_in_the_other_mode_is_ignored_until_the_held_one_is_deleted() {
    // "If a specified permission has already been granted or denied for a given user or group, the system ignores
    // it" (REST reference, Add Project/Workbook/Data Source Permissions).
    let emulator = start().await;
    let c = sign_in(&emulator).await;
    let (all, _) = all_users(&c).await;
    let (_, body) = c.post("/projects", r#"<tsRequest><project name="Modes" /></tsRequest>"#).await;
    let project = attr(&body, "project", "id").expect("project").to_owned();
    let deny = format!(
        r#"<tsRequest><permissions><granteeCapabilities><group id="{all}" /><capabilities><capability name="Read" mode="Deny" /></capabilities></granteeCapabilities></permissions></tsRequest>"#
    );
    let path = format!("/projects/{project}/permissions");
    let (status, _) = c.put(&path, &deny).await;
    assert_eq!(status, 200);
    let held = rules(&c.get(&path).await.1);
    assert!(held.contains(&(all.clone(), "Read".into(), "Allow".into())), "the copied Allow stays: {held:?}");
    assert!(!held.contains(&(all.clone(), "Read".into(), "Deny".into())), "{held:?}");
    assert_eq!(c.delete(&format!("{path}/groups/{all}/Read/Allow")).await.0, 204);
    c.put(&path, &deny).await;
    let held = rules(&c.get(&path).await.1);
    assert!(held.contains(&(all.clone(), "Read".into(), "Deny".into())), "{held:?}");
}

#[tokio::test]
async fn an_overwrite_publish_keeps_id_rules_and_tasks_and_resets_owner_tags_description_and_tabs() {
    // Kept: the item's id (TEAMSchools/teamster#5230: LUID and contentUrl stable across a dozen overwrites on a live
    // site), its permissions and its extract-refresh tasks (they belong to the item: inferred). Reset: the publisher
    // becomes the owner (help owner.htm, "When you publish ... you become its owner"; howbiworks.com 2019:
    // republishing over a workbook makes you its owner; tableau-migration-sdk's simulator sets the signed-in user as
    // owner of an overwritten item), its tags are cleared (the same simulator: inferred), description and showTabs
    // come from the request (TSC #1590; the simulator takes showTabs from the request, false when absent).
    let emulator = start().await;
    let c = sign_in(&emulator).await;
    let project = default_project(&c).await;
    let (_, body) =
        c.post("/users", r#"<tsRequest><user name="owner@acme.com" siteRole="Creator" /></tsRequest>"#).await;
    let other = attr(&body, "user", "id").expect("user").to_owned();
    let first = format!(
        r#"<tsRequest><workbook name="Kept" description="first" showTabs="true"><project id="{project}" /></workbook></tsRequest>"#
    );
    let extract: &[u8] =
        b"<workbook><datasources><datasource><extract enabled='true'/></datasource></datasources></workbook>";
    let publish = |payload: String| {
        let c = &c;
        async move {
            c.multipart(
                "/workbooks?workbookType=twb&overwrite=true",
                &payload,
                Some(("tableau_workbook", "K.twb", extract)),
                true,
            )
            .await
        }
    };
    let (status, body) = publish(first).await;
    assert_eq!(status, 201, "{body}");
    let id = attr(&body, "workbook", "id").expect("id").to_owned();
    let (_, body) = c.get(&format!("/workbooks/{id}")).await;
    let content_url = attr(&body, "workbook", "contentUrl").expect("contentUrl").to_owned();
    c.put(&format!("/workbooks/{id}/tags"), r#"<tsRequest><tags><tag label="gone" /></tags></tsRequest>"#).await;
    c.put(
        &format!("/workbooks/{id}"),
        &format!(r#"<tsRequest><workbook><owner id="{other}" /></workbook></tsRequest>"#),
    )
    .await;
    assert_eq!(attr(&c.get(&format!("/workbooks/{id}")).await.1, "owner", "id"), Some(other.as_str()));
    let rules_before = rules(&c.get(&format!("/workbooks/{id}/permissions")).await.1);
    assert!(!rules_before.is_empty(), "copied from the default project's workbook defaults");
    let task = format!(
        r#"<tsRequest><extractRefresh type="FullRefresh"><workbook id="{id}" /></extractRefresh><schedule frequency="Weekly"><frequencyDetails start="05:00:00"><intervals><interval weekDay="Monday" /></intervals></frequencyDetails></schedule></tsRequest>"#
    );
    let (status, body) = c.post("/tasks/extractRefreshes", &task).await;
    assert_eq!(status, 200, "{body}");
    let task_id = attr(&body, "extractRefresh", "id").expect("task").to_owned();

    let second = format!(r#"<tsRequest><workbook name="Kept"><project id="{project}" /></workbook></tsRequest>"#);
    let (status, body) = publish(second).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(attr(&body, "workbook", "id"), Some(id.as_str()), "same item");
    assert!(!body.contains(r#"label="gone""#), "the publish response shows the tags cleared: {body}");
    let (_, body) = c.get(&format!("/workbooks/{id}")).await;
    assert_eq!(attr(&body, "workbook", "contentUrl"), Some(content_url.as_str()), "{body}");
    assert!(!body.contains(r#"label="gone""#), "tags cleared: {body}");
    assert_ne!(attr(&body, "owner", "id"), Some(other.as_str()), "the publisher owns it now: {body}");
    assert_eq!(attr(&body, "workbook", "showTabs"), Some("false"), "{body}");
    assert!(attr(&body, "workbook", "description").is_none_or(str::is_empty), "{body}");
    assert_eq!(rules(&c.get(&format!("/workbooks/{id}/permissions")).await.1), rules_before, "rules kept");
    assert_eq!(c.get(&format!("/tasks/extractRefreshes/{task_id}")).await.0, 200, "its refresh task is kept");
}

/// A data source's certification stays with it through an overwrite publish that does not set it
/// (tableau-migration-sdk's simulator keeps `isCertified` of the item it overwrites: inferred), while its tags are
/// cleared as a workbook's are.
#[tokio::test]
async fn an_overwrite_publish_keeps_a_data_sources_certification_and_clears_its_tags() {
    let emulator = start().await;
    let c = sign_in(&emulator).await;
    let project = default_project(&c).await;
    let file: &[u8] = b"<datasource><connection class='postgres' server='db'/></datasource>";
    let payload =
        format!(r#"<tsRequest><datasource name="Certified"><project id="{project}" /></datasource></tsRequest>"#);
    let publish = || {
        let (c, payload) = (&c, &payload);
        async move {
            c.multipart(
                "/datasources?datasourceType=tds&overwrite=true",
                payload,
                Some(("tableau_datasource", "d.tds", file)),
                true,
            )
            .await
        }
    };
    let (status, body) = publish().await;
    assert_eq!(status, 201, "{body}");
    let id = attr(&body, "datasource", "id").expect("id").to_owned();
    let certify = r#"<tsRequest><datasource isCertified="true" certificationNote="Checked" /></tsRequest>"#;
    assert_eq!(c.put(&format!("/datasources/{id}"), certify).await.0, 200);
    c.put(&format!("/datasources/{id}/tags"), r#"<tsRequest><tags><tag label="gone" /></tags></tsRequest>"#).await;
    let (status, body) = publish().await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(attr(&body, "datasource", "id"), Some(id.as_str()), "same item");
    let (_, body) = c.get(&format!("/datasources/{id}")).await;
    assert_eq!(attr(&body, "datasource", "isCertified"), Some("true"), "{body}");
    assert_eq!(attr(&body, "datasource", "certificationNote"), Some("Checked"), "{body}");
    assert!(!body.contains(r#"label="gone""#), "tags cleared: {body}");
}

/// A user who owns a project and a data source, and a second user to inherit them.
async fn owner_and_heir(c: &Client) -> (String, String, String, String) {
    let (_, body) =
        c.post("/users", r#"<tsRequest><user name="leaver@acme.com" siteRole="Creator" /></tsRequest>"#).await;
    let leaver = attr(&body, "user", "id").expect("leaver").to_owned();
    let (_, body) =
        c.post("/users", r#"<tsRequest><user name="heir@acme.com" siteRole="Creator" /></tsRequest>"#).await;
    let heir = attr(&body, "user", "id").expect("heir").to_owned();
    let (_, body) = c.post("/projects", r#"<tsRequest><project name="Owned" /></tsRequest>"#).await;
    let project = attr(&body, "project", "id").expect("project").to_owned();
    let owner = format!(r#"<tsRequest><project><owner id="{leaver}" /></project></tsRequest>"#);
    assert_eq!(c.put(&format!("/projects/{project}"), &owner).await.0, 200);
    let payload =
        format!(r#"<tsRequest><datasource name="Owned DS"><project id="{project}" /></datasource></tsRequest>"#);
    let file: &[u8] = b"<datasource><connection class='postgres' server='db'/></datasource>";
    let (_, body) = c
        .multipart("/datasources?datasourceType=tds", &payload, Some(("tableau_datasource", "d.tds", file)), true)
        .await;
    let ds = attr(&body, "datasource", "id").expect("ds").to_owned();
    let owner = format!(r#"<tsRequest><datasource><owner id="{leaver}" /></datasource></tsRequest>"#);
    assert_eq!(c.put(&format!("/datasources/{ds}"), &owner).await.0, 200);
    (leaver, heir, project, ds)
}

/// Remove User from Site for a user who still owns content: Tableau answers 409 and changes the user's site role to
/// Unlicensed instead of removing them (Okta's Tableau Cloud connector reference, "Remove User from Site"; help
/// owner.htm). The error code 409003 is inferred.
#[tokio::test]
async fn removing_a_user_who_owns_content_is_refused_and_leaves_them_unlicensed() {
    let emulator = start().await;
    let c = sign_in(&emulator).await;
    let (leaver, _, project, _) = owner_and_heir(&c).await;
    let (status, body) = c.delete(&format!("/users/{leaver}")).await;
    assert_eq!((status, code(&body)), (409, "409003"), "{body}");
    let (status, body) = c.get(&format!("/users/{leaver}")).await;
    assert_eq!(status, 200, "the user is still on the site: {body}");
    assert_eq!(attr(&body, "user", "siteRole"), Some("Unlicensed"), "{body}");
    let (_, body) = c.get("/projects?filter=name:eq:Owned").await;
    assert!(body.contains(&format!(r#"<owner id="{leaver}""#)), "still the owner of {project}: {body}");
}

/// `mapAssetsTo` on Remove User from Site gives the removed user's content to another user, then removes the user
/// (REST reference, Remove User from Site; tableauserverclient `users.remove(user_id, map_to)` sends it as the
/// query parameter `mapAssetsTo`, test `test_remove_with_replacement`).
#[tokio::test]
async fn map_assets_to_moves_content_to_the_heir_and_removes_the_user() {
    let emulator = start().await;
    let c = sign_in(&emulator).await;
    let (leaver, heir, _, ds) = owner_and_heir(&c).await;
    let (status, body) = c.delete(&format!("/users/{leaver}?mapAssetsTo=no-such-user")).await;
    assert_eq!((status, code(&body)), (404, "404002"), "an unknown heir: {body}");
    let (status, body) = c.delete(&format!("/users/{leaver}?mapAssetsTo={heir}")).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(c.get(&format!("/users/{leaver}")).await.0, 404);
    let (_, body) = c.get("/projects?filter=name:eq:Owned").await;
    assert!(body.contains(&format!(r#"<owner id="{heir}""#)), "{body}");
    let (_, body) = c.get(&format!("/datasources/{ds}")).await;
    assert!(body.contains(&format!(r#"<owner id="{heir}""#)), "{body}");
}

/// Refresh now of content that holds no extract is refused with 409090 (tableauserverclient issue #1531:
/// "409090: Bad Request ... Extract operation for the workbook '...' is not allowed."); creating a refresh task for
/// it is refused the same way (inferred). Content with an extract refreshes.
#[tokio::test]
async fn refreshing_content_without_extracts_is_409090() {
    let emulator = start().await;
    let c = sign_in(&emulator).await;
    let project = default_project(&c).await;
    let publish = |name: &'static str, file: &'static [u8]| {
        let payload =
            format!(r#"<tsRequest><workbook name="{name}"><project id="{project}" /></workbook></tsRequest>"#);
        let c = &c;
        async move {
            let (_, body) = c
                .multipart("/workbooks?workbookType=twb", &payload, Some(("tableau_workbook", "w.twb", file)), true)
                .await;
            attr(&body, "workbook", "id").expect("workbook").to_owned()
        }
    };
    let live = publish("Live", TWB.as_bytes()).await;
    let (_, body) = c.get(&format!("/workbooks/{live}")).await;
    assert_eq!(attr(&body, "workbook", "hasExtracts"), Some("false"), "{body}");
    let (status, body) = c.post(&format!("/workbooks/{live}/refresh"), "<tsRequest />").await;
    assert_eq!((status, code(&body)), (409, "409090"), "{body}");
    assert!(body.contains("Extract operation for the workbook &#39;Live&#39; is not allowed"), "{body}");
    let task = format!(
        r#"<tsRequest><extractRefresh type="FullRefresh"><workbook id="{live}" /></extractRefresh><schedule frequency="Weekly"><frequencyDetails start="05:00:00"><intervals><interval weekDay="Monday" /></intervals></frequencyDetails></schedule></tsRequest>"#
    );
    let (status, body) = c.post("/tasks/extractRefreshes", &task).await;
    assert_eq!((status, code(&body)), (409, "409090"), "{body}");

    let extract = publish(
        "Extract",
        b"<workbook><datasources><datasource><extract enabled='true'/></datasource></datasources></workbook>",
    )
    .await;
    let (status, body) = c.post(&format!("/workbooks/{extract}/refresh"), "<tsRequest />").await;
    assert_eq!(status, 202, "{body}");
    let (status, body) = c.post("/tasks/extractRefreshes", &task.replace(&live, &extract)).await;
    assert_eq!(status, 200, "{body}");
    let task_id = attr(&body, "extractRefresh", "id").expect("task").to_owned();

    // Overwritten by a file without an extract, its task's run-now is refused the same way (inferred).
    let payload = format!(r#"<tsRequest><workbook name="Extract"><project id="{project}" /></workbook></tsRequest>"#);
    let (status, body) = c
        .multipart(
            "/workbooks?workbookType=twb&overwrite=true",
            &payload,
            Some(("tableau_workbook", "w.twb", TWB.as_bytes())),
            true,
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = c.post(&format!("/tasks/extractRefreshes/{task_id}/runNow"), "<tsRequest />").await;
    assert_eq!((status, code(&body)), (409, "409090"), "{body}");
}

/// A locked project controls the rules under it: its content shows the project's default rules (the response names
/// the project as `parent`) and refuses changes with 403004 (kb.tableau.com, "403004 Error Returned Using Rest
/// API": `LOCKED_CHILD_PROJECT_CANNOT_BE_CHANGED`); under `LockedToProject` nested projects do too, under
/// `LockedToProjectWithoutNested` they set their own (help: permissions_project_lock.htm).
#[tokio::test]
async fn a_locked_project_controls_the_rules_of_its_content_and_nested_projects() {
    let emulator = start().await;
    let c = sign_in(&emulator).await;
    let (_, body) = c.post("/groups", r#"<tsRequest><group name="Lock readers" /></tsRequest>"#).await;
    let readers = attr(&body, "group", "id").expect("group").to_owned();
    let grant = |cap: &str| {
        format!(
            r#"<tsRequest><permissions><granteeCapabilities><group id="{readers}" /><capabilities><capability name="{cap}" mode="Allow" /></capabilities></granteeCapabilities></permissions></tsRequest>"#
        )
    };
    let project = |name: &str, lock: &str, parent: Option<&str>| {
        let parent = parent.map(|p| format!(r#" parentProjectId="{p}""#)).unwrap_or_default();
        format!(r#"<tsRequest><project name="{name}" contentPermissions="{lock}"{parent} /></tsRequest>"#)
    };
    let (_, body) = c.post("/projects", &project("Locked", "LockedToProject", None)).await;
    let locked = attr(&body, "project", "id").expect("locked").to_owned();
    assert_eq!(c.put(&format!("/projects/{locked}/default-permissions/workbooks"), &grant("ExportData")).await.0, 200);
    let (_, body) = c.post("/projects", &project("Inner", "ManagedByOwner", Some(&locked))).await;
    let inner = attr(&body, "project", "id").expect("inner").to_owned();
    let payload = format!(r#"<tsRequest><workbook name="Locked book"><project id="{inner}" /></workbook></tsRequest>"#);
    let (status, body) = c
        .multipart("/workbooks?workbookType=twb", &payload, Some(("tableau_workbook", "B.twb", TWB.as_bytes())), true)
        .await;
    assert_eq!(status, 201, "{body}");
    let wb = attr(&body, "workbook", "id").expect("wb").to_owned();

    let (_, body) = c.get(&format!("/workbooks/{wb}/permissions")).await;
    assert_eq!(attr(&body, "parent", "id"), Some(locked.as_str()), "names the locking project: {body}");
    assert_eq!(rules(&body), rules(&c.get(&format!("/projects/{locked}/default-permissions/workbooks")).await.1));
    // A later change of the defaults reaches the content at once.
    assert_eq!(c.put(&format!("/projects/{locked}/default-permissions/workbooks"), &grant("Filter")).await.0, 200);
    assert!(rules(&c.get(&format!("/workbooks/{wb}/permissions")).await.1).iter().any(|(_, cap, _)| cap == "Filter"));

    let (status, body) = c.put(&format!("/workbooks/{wb}/permissions"), &grant("Read")).await;
    assert_eq!((status, code(&body)), (403, "403004"), "content: {body}");
    let (status, body) = c.put(&format!("/projects/{inner}/permissions"), &grant("Read")).await;
    assert_eq!((status, code(&body)), (403, "403004"), "nested project: {body}");
    let (status, body) = c.delete(&format!("/projects/{inner}/permissions/groups/{readers}/Read/Allow")).await;
    assert_eq!((status, code(&body)), (403, "403004"), "nested project delete: {body}");

    // Without nested: the nested project sets its own rules.
    let (_, body) = c.post("/projects", &project("Shallow", "LockedToProjectWithoutNested", None)).await;
    let shallow = attr(&body, "project", "id").expect("shallow").to_owned();
    let (_, body) = c.post("/projects", &project("Free", "ManagedByOwner", Some(&shallow))).await;
    let free = attr(&body, "project", "id").expect("free").to_owned();
    let (status, body) = c.put(&format!("/projects/{free}/permissions"), &grant("Read")).await;
    assert_eq!(status, 200, "{body}");
    assert!(attr(&body, "parent", "id").is_none(), "{body}");
}

/// Locking a project replaces the rules of what it controls with the lock's, and unlocking leaves them as the lock
/// applied them: content gets the project's default rules ("no matter what permissions each content had before, all
/// content permission will be changed to the same as default from project level"; after an unlock "all workbooks
/// and data source permissions remain the same": enterprisetableau.com 2018-02, "Lock Project Permission"; help
/// permissions_project_lock.htm), and under `LockedToProject` nested projects get the locking project's rules
/// ("All child projects have same permissions as parent project has": community.tableau.com thread 261974).
#[tokio::test]
async fn locking_a_project_replaces_the_rules_under_it_and_unlocking_keeps_what_the_lock_applied() {
    let emulator = start().await;
    let c = sign_in(&emulator).await;
    let (_, body) = c.post("/groups", r#"<tsRequest><group name="Own rules" /></tsRequest>"#).await;
    let own = attr(&body, "group", "id").expect("group").to_owned();
    let grant = |cap: &str| {
        format!(
            r#"<tsRequest><permissions><granteeCapabilities><group id="{own}" /><capabilities><capability name="{cap}" mode="Allow" /></capabilities></granteeCapabilities></permissions></tsRequest>"#
        )
    };
    let (_, body) = c.post("/projects", r#"<tsRequest><project name="Team" /></tsRequest>"#).await;
    let team = attr(&body, "project", "id").expect("team").to_owned();
    let (_, body) = c
        .post("/projects", &format!(r#"<tsRequest><project name="Sub" parentProjectId="{team}" /></tsRequest>"#))
        .await;
    let sub = attr(&body, "project", "id").expect("sub").to_owned();
    let payload = format!(r#"<tsRequest><workbook name="Book"><project id="{sub}" /></workbook></tsRequest>"#);
    let (_, body) = c
        .multipart("/workbooks?workbookType=twb", &payload, Some(("tableau_workbook", "B.twb", TWB.as_bytes())), true)
        .await;
    let wb = attr(&body, "workbook", "id").expect("wb").to_owned();
    // Each object gets a rule of its own before the lock.
    assert_eq!(c.put(&format!("/workbooks/{wb}/permissions"), &grant("Read")).await.0, 200);
    assert_eq!(c.put(&format!("/projects/{sub}/permissions"), &grant("Write")).await.0, 200);
    let lock = |mode: &str| format!(r#"<tsRequest><project contentPermissions="{mode}" /></tsRequest>"#);
    assert_eq!(c.put(&format!("/projects/{team}"), &lock("LockedToProject")).await.0, 200);
    // A change of the lock's rules while locked reaches what it controls.
    assert_eq!(c.put(&format!("/projects/{team}/default-permissions/workbooks"), &grant("Filter")).await.0, 200);
    assert_eq!(c.put(&format!("/projects/{team}/permissions"), &grant("ProjectLeader")).await.0, 200);
    assert_eq!(c.put(&format!("/projects/{team}"), &lock("ManagedByOwner")).await.0, 200);

    let (_, body) = c.get(&format!("/workbooks/{wb}/permissions")).await;
    assert!(attr(&body, "parent", "id").is_none(), "unlocked: {body}");
    let team_defaults = rules(&c.get(&format!("/projects/{team}/default-permissions/workbooks")).await.1);
    assert_eq!(rules(&body), team_defaults, "the content keeps the defaults the lock applied");
    assert!(!rules(&body).contains(&(own.clone(), "Read".into(), "Allow".into())), "its own rule is gone: {body}");
    assert!(rules(&body).contains(&(own.clone(), "Filter".into(), "Allow".into())), "{body}");
    let (_, body) = c.get(&format!("/projects/{sub}/permissions")).await;
    let team_rules = rules(&c.get(&format!("/projects/{team}/permissions")).await.1);
    assert_eq!(rules(&body), team_rules, "the nested project keeps the locking project's rules");
    assert!(!rules(&body).contains(&(own.clone(), "Write".into(), "Allow".into())), "{body}");
    // They are the objects' own now: a change of the project's defaults no longer reaches the content.
    assert_eq!(c.put(&format!("/projects/{team}/default-permissions/workbooks"), &grant("Delete")).await.0, 200);
    let held = rules(&c.get(&format!("/workbooks/{wb}/permissions")).await.1);
    assert!(!held.contains(&(own.clone(), "Delete".into(), "Allow".into())), "{held:?}");
    assert_eq!(c.delete(&format!("/workbooks/{wb}/permissions/groups/{own}/Filter/Allow")).await.0, 204);
}

/// Add Users to Group and Remove Users from Group (API 3.21; TSC `Groups.add_users` / `remove_users`,
/// `GroupRequest.add_users_req` / `remove_users_req`): `POST groups/{id}/users` with a `<users>` list, answered 200
/// with the added users as TSC's asset `group_add_users.xml` shows them, and `PUT groups/{id}/users/remove` with the
/// same body, answered without one. A request that cannot be carried out for one user changes nothing; before 3.21
/// the list is not in the schema (400000) and the remove method does not exist (404003); `tsRequest` holds one
/// `<user>` (a single choice in the schema), and an empty or repeated list is refused (both inferred).
#[tokio::test]
async fn bulk_membership_adds_and_removes_answer_as_tsc_reads_them_and_refuse_what_tableau_refuses() {
    let emulator = start().await;
    let c = sign_in(&emulator).await;
    let (status, body) = c.post("/groups", r#"<tsRequest><group name="Team" /></tsRequest>"#).await;
    assert_eq!(status, 201, "{body}");
    let group = attr(&body, "group", "id").expect("group").to_owned();
    let mut users = Vec::new();
    for name in ["a@acme.com", "b@acme.com", "c@acme.com"] {
        let (status, body) =
            c.post("/users", &format!(r#"<tsRequest><user name="{name}" siteRole="Viewer" /></tsRequest>"#)).await;
        assert_eq!(status, 201, "{body}");
        users.push(attr(&body, "user", "id").expect("user").to_owned());
    }
    let list = |ids: &[&String]| {
        let users: String = ids.iter().map(|id| format!(r#"<user id="{id}" />"#)).collect();
        format!("<tsRequest><users>{users}</users></tsRequest>")
    };
    let members = async |c: &Client| {
        let (_, body) = c.get(&format!("/groups/{group}/users")).await;
        body.matches("<user ").count()
    };
    let add = format!("/groups/{group}/users");
    let remove = format!("/groups/{group}/users/remove");

    let (status, body) = c.post(&add, &list(&[&users[0], &users[1]])).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<users><user "), "the added users, in a list: {body}");
    assert!(body.contains(r#"name="a@acme.com""#) && body.contains(r#"name="b@acme.com""#), "{body}");
    assert!(body.contains(r#"siteRole="Viewer""#), "{body}");
    assert_eq!(members(&c).await, 2);

    // One user already a member refuses the whole request: the other is not added.
    let (status, body) = c.post(&add, &list(&[&users[1], &users[2]])).await;
    assert_eq!((status, code(&body)), (409, "409011"), "{body}");
    assert_eq!(members(&c).await, 2, "nothing added");
    let (status, body) = c.post(&add, &list(&[&users[2], &users[2]])).await;
    assert_eq!((status, code(&body)), (400, "400000"), "an id listed twice: {body}");
    let (status, body) = c.post(&add, "<tsRequest><users /></tsRequest>").await;
    assert_eq!((status, code(&body)), (400, "400000"), "an empty list: {body}");
    let two_users = format!(r#"<tsRequest><user id="{}" /><user id="{}" /></tsRequest>"#, users[2], users[0]);
    let (status, body) = c.post(&add, &two_users).await;
    assert_eq!((status, code(&body)), (400, "400000"), "two user elements: {body}");
    assert_eq!(members(&c).await, 2, "nothing added");

    // Before API 3.21.
    let old = Client {
        http: c.http.clone(),
        base: c.base.replace("/3.25", "/3.20"),
        token: c.token.clone(),
        site: c.site.clone(),
    };
    let (status, body) = old.post(&add, &list(&[&users[2]])).await;
    assert_eq!((status, code(&body)), (400, "400000"), "no users list before 3.21: {body}");
    let (status, body) = old.put(&remove, &list(&[&users[0]])).await;
    assert_eq!((status, code(&body)), (404, "404003"), "no remove method before 3.21: {body}");
    let (status, body) = old.post(&add, &format!(r#"<tsRequest><user id="{}" /></tsRequest>"#, users[2])).await;
    assert_eq!(status, 200, "the single add is there: {body}");
    assert_eq!(members(&c).await, 3);

    // Removes: one user not in the group refuses the whole request.
    assert_eq!(c.delete(&format!("/groups/{group}/users/{}", users[2])).await.0, 204);
    let (status, body) = c.put(&remove, &list(&[&users[0], &users[2]])).await;
    assert_eq!((status, code(&body)), (404, "404002"), "{body}");
    assert_eq!(members(&c).await, 2, "nothing removed");
    let (status, body) = c.put(&remove, "<tsRequest><user id=\"x\" /></tsRequest>").await;
    assert_eq!((status, code(&body)), (400, "400000"), "the remove takes a users list: {body}");
    let (status, body) = c.put(&remove, &list(&[&users[0], &users[1]])).await;
    assert_eq!((status, body.as_str()), (204, ""), "removed, no body");
    assert_eq!(members(&c).await, 0);
}

/// The job list's `status` filter matches the status each job is listed with, so a failed refresh is found under
/// `status:eq:Failed`, not under Success (TSC `BackgroundJobItem.Status`; finishCode 1 is a failure).
#[tokio::test]
async fn the_job_lists_status_filter_tells_failed_jobs_from_successful_ones() {
    let config = EmulatorConfig { test_hooks: true, ..EmulatorConfig::default() };
    let emulator = Emulator::start(config).await.expect("start");
    let c = sign_in(&emulator).await;
    let project = default_project(&c).await;
    let payload = format!(r#"<tsRequest><datasource name="DS"><project id="{project}" /></datasource></tsRequest>"#);
    let file: &[u8] = b"<datasource><connection class='postgres' server='db'/><extract enabled='true'/></datasource>";
    let (_, body) = c
        .multipart("/datasources?datasourceType=tds", &payload, Some(("tableau_datasource", "d.tds", file)), true)
        .await;
    let ds = attr(&body, "datasource", "id").expect("ds").to_owned();
    let refresh = || async {
        let (status, body) =
            c.post(&format!("/datasources/{ds}/refresh"), "<tsRequest><extractRefresh /></tsRequest>").await;
        assert_eq!(status, 202, "{body}");
        let job = attr(&body, "job", "id").expect("job").to_owned();
        for _ in 0..20 {
            let (_, body) = c.get(&format!("/jobs/{job}")).await;
            if let Some(code) = attr(&body, "job", "finishCode") {
                return (job, code.to_owned());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("job {job} did not finish");
    };
    let (succeeded, code) = refresh().await;
    assert_eq!(code, "0");
    let armed = reqwest::Client::new()
        .post(format!("{}/_emulator/jobs/fail-next?count=1", emulator.url()))
        .send()
        .await
        .expect("hook");
    assert!(armed.status().is_success());
    let (failed, code) = refresh().await;
    assert_eq!(code, "1");

    let (_, body) = c.get("/jobs?filter=status:eq:Failed").await;
    assert!(body.contains(&failed) && !body.contains(&succeeded), "{body}");
    assert_eq!(attr(&body, "backgroundJob", "status"), Some("Failed"), "{body}");
    let (_, body) = c.get("/jobs?filter=status:eq:Success").await;
    assert!(body.contains(&succeeded) && !body.contains(&failed), "{body}");
}

/// A workbook whose data source is a connection to the published data source `content_url` (the shape Tableau
/// Desktop writes: `class='sqlproxy'`, `dbname` = the data source's content URL), captioned `caption`.
fn twb_on_published(content_url: &str, caption: &str) -> String {
    format!(
        "<?xml version='1.0'?><workbook><datasources><datasource caption='{caption}' name='sqlproxy.0a1b'>\
         <connection class='sqlproxy' dbname='{content_url}' server='localhost' port='443' username=''/>\
         </datasource></datasources><worksheets><worksheet name='Sheet 1'/></worksheets></workbook>"
    )
}

impl Client {
    async fn graphql(&self, query: &str, variables: serde_json::Value) -> (u16, serde_json::Value) {
        let url = self.base.replace("/api/3.25", "/api/metadata/graphql");
        let response = self
            .http
            .post(url)
            .header("x-tableau-auth", &self.token)
            .header("content-type", "application/json")
            .body(serde_json::json!({ "query": query, "variables": variables }).to_string())
            .send()
            .await
            .expect("graphql request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
    }
}

const LINEAGE: &str = "query lineage($luids: [String], $first: Int, $after: String) {
  publishedDatasourcesConnection(filter: {luidWithin: $luids}, first: $first, after: $after) {
    nodes { luid name downstreamWorkbooks { luid name projectName owner { username } } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}";

#[tokio::test]
async fn metadata_api_answers_lineage_from_parsed_workbooks_pages_and_rejects_unserved_fields() {
    let emulator =
        Emulator::start(EmulatorConfig { test_hooks: true, ..EmulatorConfig::default() }).await.expect("emulator");
    let c = sign_in(&emulator).await;
    let project = default_project(&c).await;
    let mut datasources = Vec::new();
    for name in ["Orders", "Returns"] {
        let payload =
            format!(r#"<tsRequest><datasource name="{name}"><project id="{project}" /></datasource></tsRequest>"#);
        let tds = "<?xml version='1.0'?><datasource><connection class='postgres' server='db' dbname='x'/></datasource>";
        let file = Some(("tableau_datasource", "d.tds", tds.as_bytes()));
        let (status, body) = c.multipart("/datasources?datasourceType=tds", &payload, file, true).await;
        assert_eq!(status, 201, "{body}");
        let id = attr(&body, "datasource", "id").expect("id").to_owned();
        let content_url = attr(&body, "datasource", "contentUrl").expect("contentUrl").to_owned();
        datasources.push((id, content_url));
    }
    let (orders, orders_url) = datasources[0].clone();
    let (returns, _) = datasources[1].clone();
    // Two workbooks on Orders (one captioning it differently), one on nothing published.
    for (name, twb) in [
        ("Revenue", twb_on_published(&orders_url, "Orders")),
        ("Ops Board", twb_on_published(&orders_url, "Orders (renamed)")),
        ("Standalone", TWB.to_owned()),
    ] {
        let payload =
            format!(r#"<tsRequest><workbook name="{name}"><project id="{project}" /></workbook></tsRequest>"#);
        let file = Some(("tableau_workbook", "w.twb", twb.as_bytes()));
        let (status, body) = c.multipart("/workbooks?workbookType=twb", &payload, file, true).await;
        assert_eq!(status, 201, "{body}");
    }

    // Both data sources, one per page: Orders' page names its two downstream workbooks with project and owner.
    let luids = serde_json::json!([orders, returns]);
    let mut pages = Vec::new();
    let mut after = serde_json::Value::Null;
    loop {
        let (status, answer) =
            c.graphql(LINEAGE, serde_json::json!({ "luids": luids, "first": 1, "after": after })).await;
        assert_eq!(status, 200, "{answer}");
        let connection = &answer["data"]["publishedDatasourcesConnection"];
        assert_eq!(connection["totalCount"], 2, "{answer}");
        pages.push(connection["nodes"].clone());
        if connection["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = connection["pageInfo"]["endCursor"].clone();
        assert!(pages.len() < 3, "pagination ends");
    }
    assert_eq!(pages.len(), 2);
    let nodes: Vec<&serde_json::Value> = pages.iter().flat_map(|p| p.as_array().expect("nodes")).collect();
    let node = |luid: &str| *nodes.iter().find(|n| n["luid"] == luid).expect("node");
    let mut downstream: Vec<(String, String, String)> = node(&orders)["downstreamWorkbooks"]
        .as_array()
        .expect("list")
        .iter()
        .map(|w| {
            let text = |v: &serde_json::Value| v.as_str().expect("string").to_owned();
            (text(&w["name"]), text(&w["projectName"]), text(&w["owner"]["username"]))
        })
        .collect();
    downstream.sort();
    let owner = "admin@tabops.local".to_owned();
    assert_eq!(
        downstream,
        [
            ("Ops Board".to_owned(), "default".to_owned(), owner.clone()),
            ("Revenue".to_owned(), "default".to_owned(), owner)
        ]
    );
    assert_eq!(node(&returns)["downstreamWorkbooks"], serde_json::json!([]));

    // Query Workbook Connections names a published-data-source connection by the workbook's caption of it.
    let (_, list) = c.get("/workbooks?filter=name:eq:Ops%20Board").await;
    let ops = attr(&list, "workbook", "id").expect("workbook").to_owned();
    let (_, connections) = c.get(&format!("/workbooks/{ops}/connections")).await;
    assert_eq!(attr(&connections, "connection", "type"), Some("sqlproxy"), "{connections}");
    assert_eq!(attr(&connections, "datasource", "name"), Some("Orders (renamed)"), "{connections}");

    // A field outside the served subset (a typo) is a GraphQL error, even where no node would carry it.
    let typo = LINEAGE.replace("downstreamWorkbooks {", "downstreamWorkbook {");
    let (status, answer) = c.graphql(&typo, serde_json::json!({ "luids": [] })).await;
    assert_eq!(status, 200);
    let message = answer["errors"][0]["message"].as_str().expect("error message");
    assert!(message.contains("'downstreamWorkbook' in type 'PublishedDatasource' is undefined"), "{answer}");
    assert!(answer.get("data").is_none(), "{answer}");
    let (_, answer) = c
        .graphql("{ publishedDatasourcesConnection(orderBy: {field: NAME}) { totalCount } }", serde_json::json!({}))
        .await;
    assert!(answer["errors"][0]["message"].as_str().expect("message").contains("orderBy"), "{answer}");
    let (_, answer) = c.graphql("{ publishedDatasourcesConnection { nodes }", serde_json::json!({})).await;
    assert!(answer["errors"][0]["message"].as_str().expect("message").contains("Invalid Syntax"), "{answer}");

    // Without a session: refused; switched off (a Server where it is not enabled): 404.
    let anonymous = reqwest::Client::new()
        .post(format!("{}/api/metadata/graphql", emulator.url()))
        .header("content-type", "application/json")
        .body(serde_json::json!({ "query": LINEAGE }).to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status().as_u16(), 401);
    let hook = reqwest::Client::new().post(format!("{}/_emulator/metadata/disable", emulator.url())).send().await;
    assert_eq!(hook.expect("hook").status().as_u16(), 204);
    let (status, _) = c.graphql(LINEAGE, serde_json::json!({ "luids": [orders] })).await;
    assert_eq!(status, 404);
}

/// Update Site (`PUT /sites/{id}`) persists the site's settings and Get Site reports them as `<site>` attributes
/// (siteType in ts-api_3_29.xsd). Booleans are read case-insensitively because tableauserverclient writes
/// `dataAlertsEnabled` as Python spells it (`True`, `SiteRequest.update_req`); the revision limit is refused
/// outside tableauserverclient's range (2..=10000 or -1, `SiteItem.revision_limit`), and a refused update changes
/// nothing. Server-only attributes a client sends back as it read them are accepted and ignored.
#[tokio::test]
async fn update_site_persists_settings_and_get_site_reports_them() {
    let emulator = start().await;
    let c = sign_in(&emulator).await;
    let (status, body) = c.get("").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(attr(&body, "site", "revisionLimit"), Some("25"), "{body}");
    assert_eq!(attr(&body, "site", "commentingEnabled"), Some("true"), "{body}");

    let update = r#"<tsRequest><site name="acme" contentUrl="acme" adminMode="ContentAndUsers" state="Active" revisionLimit="50" commentingEnabled="false" dataAlertsEnabled="False" /></tsRequest>"#;
    let (status, body) = c.put("", update).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(attr(&body, "site", "revisionLimit"), Some("50"), "the answer is the updated site: {body}");
    let (_, body) = c.get("").await;
    assert_eq!(attr(&body, "site", "revisionLimit"), Some("50"), "{body}");
    assert_eq!(attr(&body, "site", "commentingEnabled"), Some("false"), "{body}");
    assert_eq!(attr(&body, "site", "dataAlertsEnabled"), Some("false"), "stored as Tableau writes it: {body}");
    assert_eq!(attr(&body, "site", "runNowEnabled"), Some("true"), "settings not sent keep their values: {body}");

    for bad in [
        r#"<tsRequest><site revisionLimit="1" commentingEnabled="true" /></tsRequest>"#,
        r#"<tsRequest><site revisionLimit="10001" /></tsRequest>"#,
        r#"<tsRequest><site commentingEnabled="yes" /></tsRequest>"#,
    ] {
        let (status, body) = c.put("", bad).await;
        assert_eq!((status, code(&body)), (400, "400000"), "{bad}: {body}");
    }
    let (_, body) = c.get("").await;
    assert_eq!(attr(&body, "site", "revisionLimit"), Some("50"), "a refused update changes nothing: {body}");
    assert_eq!(attr(&body, "site", "commentingEnabled"), Some("false"), "{body}");

    let (status, body) = c.put("", r#"<tsRequest><site revisionLimit="-1" /></tsRequest>"#).await;
    assert_eq!((status, attr(&body, "site", "revisionLimit")), (200, Some("-1")), "-1 keeps every revision: {body}");

    let other = format!("{}/sites/{}", c.base, "00000000-0000-0000-0000-000000000000");
    let response = c
        .http
        .put(other)
        .header("x-tableau-auth", &c.token)
        .body(r#"<tsRequest><site revisionLimit="30" /></tsRequest>"#)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 404, "only the signed-in site can be updated");
}

/// View permissions (`GET/PUT /views/{id}/permissions`, `DELETE …/permissions/{groups|users}/{id}/{cap}/{mode}`):
/// the response shape is tableauserverclient's test/assets/view_populate_permissions.xml (`<permissions><view id
/// name><owner/></view><granteeCapabilities>…`). A view of a workbook published without tabs keeps rules of its own;
/// a view of a workbook showing tabs has the workbook's rules (Tableau help, permissions on views: views of a
/// tabbed workbook take the workbook's permissions), so rules written to it are accepted and not kept. A view
/// that does not exist is a 404, and a capability that is not a view's (e.g. `Write`) is refused.
#[tokio::test]
async fn view_permissions_are_kept_only_for_views_of_workbooks_without_tabs() {
    let emulator = start().await;
    let c = sign_in(&emulator).await;
    let project = default_project(&c).await;
    let (_, body) = c.post("/groups", r#"<tsRequest><group name="Viewers" /></tsRequest>"#).await;
    let group = attr(&body, "group", "id").expect("group").to_owned();
    let publish = |name: &str, tabs: bool| {
        format!(
            r#"<tsRequest><workbook name="{name}" showTabs="{tabs}"><project id="{project}" /></workbook></tsRequest>"#
        )
    };
    let mut views = Vec::new();
    for (name, tabs) in [("Untabbed", false), ("Tabbed", true)] {
        let (status, body) = c
            .multipart(
                "/workbooks?workbookType=twb",
                &publish(name, tabs),
                Some(("tableau_workbook", "B.twb", TWB.as_bytes())),
                true,
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let workbook = attr(&body, "workbook", "id").unwrap().to_owned();
        let (_, listed) = c.get(&format!("/workbooks/{workbook}/views")).await;
        views.push((workbook, attr(&listed, "view", "id").expect("a view").to_owned()));
    }
    let rule = |view: &str, cap: &str| {
        format!(
            r#"<tsRequest><permissions><view id="{view}" /><granteeCapabilities><group id="{group}" /><capabilities><capability name="{cap}" mode="Allow" /></capabilities></granteeCapabilities></permissions></tsRequest>"#
        )
    };

    let (own_wb, own) = &views[0];
    let (status, body) = c.put(&format!("/views/{own}/permissions"), &rule(own, "ExportData")).await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = c.get(&format!("/views/{own}/permissions")).await;
    assert_eq!(attr(&body, "view", "id"), Some(own.as_str()), "{body}");
    assert!(body.contains(r#"name="ExportData" mode="Allow""#), "{body}");
    let (_, workbook_rules) = c.get(&format!("/workbooks/{own_wb}/permissions")).await;
    assert!(!workbook_rules.contains(group.as_str()), "the view's rule is its own: {workbook_rules}");
    let (status, body) = c.put(&format!("/views/{own}/permissions"), &rule(own, "Write")).await;
    assert_eq!((status, code(&body)), (400, "400009"), "Write is not a view capability: {body}");
    let (status, _) = c.delete(&format!("/views/{own}/permissions/groups/{group}/ExportData/Allow")).await;
    assert_eq!(status, 204);
    let (_, body) = c.get(&format!("/views/{own}/permissions")).await;
    assert!(!body.contains("ExportData"), "{body}");

    let (tab_wb, tabbed) = &views[1];
    let (status, _) = c
        .put(
            &format!("/workbooks/{tab_wb}/permissions"),
            &format!(
                r#"<tsRequest><permissions><granteeCapabilities><group id="{group}" /><capabilities><capability name="Filter" mode="Deny" /></capabilities></granteeCapabilities></permissions></tsRequest>"#
            ),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = c.put(&format!("/views/{tabbed}/permissions"), &rule(tabbed, "ShareView")).await;
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains("ShareView"), "not kept on a tabbed workbook's view: {body}");
    let (_, body) = c.get(&format!("/views/{tabbed}/permissions")).await;
    assert!(body.contains(r#"name="Filter" mode="Deny""#), "the workbook's rules: {body}");

    let (status, body) = c.get("/views/00000000-0000-0000-0000-000000000000/permissions").await;
    assert_eq!((status, code(&body)), (404, "404011"), "{body}");
}

#[tokio::test]
async fn a_data_source_published_under_a_name_in_use_gets_a_content_url_of_its_own_and_keeps_it() {
    // Content URLs are unique on the site: a name whose URL form another item has gets `_1`, `_2`, … appended
    // (tableauandbehold.com, "Tableau Localization – Controlling the assigned contentUrl": "If any other existing
    // contentUrl is found, an underscore and numeral is appended"; Salesforce help 004577009: read the content URL
    // of a newly published item from the publish response), and an overwrite keeps the item's own.
    let emulator = start().await;
    let c = sign_in(&emulator).await;
    let default = default_project(&c).await;
    let (_, body) = c.post("/projects", r#"<tsRequest><project name="Previews" /></tsRequest>"#).await;
    let other = attr(&body, "project", "id").expect("project").to_owned();
    let tds: &[u8] = b"<datasource><connection class='postgres' server='db.acme.com' dbname='orders'/></datasource>";
    let publish = |project: String| {
        let c = &c;
        async move {
            let payload =
                format!(r#"<tsRequest><datasource name="Orders"><project id="{project}" /></datasource></tsRequest>"#);
            let (status, body) = c
                .multipart(
                    "/datasources?datasourceType=tds&overwrite=true",
                    &payload,
                    Some(("tableau_datasource", "O.tds", tds)),
                    true,
                )
                .await;
            assert_eq!(status, 201, "{body}");
            (
                attr(&body, "datasource", "id").unwrap().to_owned(),
                attr(&body, "datasource", "contentUrl").unwrap().to_owned(),
            )
        }
    };
    let (production, production_url) = publish(default.clone()).await;
    assert_eq!(production_url, "Orders");
    let (copy, copy_url) = publish(other.clone()).await;
    assert_ne!(copy, production);
    assert_eq!(copy_url, "Orders_1", "the publish response gives the copy's own content URL");
    // Overwritten, each keeps its own.
    assert_eq!(publish(other).await, (copy, copy_url));
    assert_eq!(publish(default).await, (production, production_url));
}
