//! Round trips for webhooks against the emulator over HTTP: create (both event forms on the wire), list, get back,
//! update, test, delete; the request forms Tableau's webhook reference allows and refuses; and delivery of the
//! documented payload to a loopback receiver when a refresh job fails or succeeds.

use std::time::Duration;

use tabops_emulator::{DEFAULT_PAT_NAME, DEFAULT_PAT_SECRET, DEFAULT_SITE, Emulator, EmulatorConfig};
use tabops_tableau::{Client, JobState, PublishRequest, PublishedItem, WebhookRequest};
use tabops_testkit::receiver::WebhookReceiver;
use tabops_testkit::site as common;

fn request(name: &str, event: &str, url: &str) -> WebhookRequest {
    WebhookRequest { name: name.into(), event: event.into(), url: url.into(), enabled: true }
}

async fn publish_extract(client: &Client, dir: &std::path::Path) -> String {
    let project = common::default_project(client).await;
    let file = dir.join("Orders.tds");
    let xml = "<?xml version='1.0' encoding='utf-8' ?>\n<datasource formatted-name='Orders' version='18.1'><connection class='postgres' server='db.acme.com' port='5432' username='svc' dbname='sales'/><extract enabled='true'/></datasource>\n";
    std::fs::write(&file, xml).expect("write tds");
    let request = PublishRequest { file, name: "Orders".into(), project_id: project, ..Default::default() };
    match client.publish_datasource(&request).await.expect("publish") {
        PublishedItem::Item(ds) => ds.id,
        PublishedItem::Job(job) => panic!("unexpected job {job:?}"),
    }
}

#[tokio::test]
async fn webhook_create_list_update_test_delete() {
    let emu = common::emulator().await;
    let client = common::client(&emu).await;
    let receiver = WebhookReceiver::start();
    assert!(client.webhooks().await.expect("empty list").is_empty());

    let created = client
        .create_webhook(&request("Orders failed", "DatasourceRefreshFailed", &receiver.url("hook")))
        .await
        .expect("create");
    assert_eq!(created.name, "Orders failed");
    assert_eq!(created.event.as_deref(), Some("DatasourceRefreshFailed"));
    assert_eq!(created.url.as_deref(), Some(receiver.url("hook").as_str()));
    assert!(created.enabled);
    assert!(created.owner_id.is_some(), "the creator owns it");

    let listed = client.webhooks().await.expect("list");
    assert_eq!(listed, vec![created.clone()]);

    let mut changed = request("Orders failed", "WorkbookRefreshFailed", "https://hooks.example.com/tableau");
    changed.enabled = false;
    let updated = client.update_webhook(&created.id, &changed).await.expect("update");
    assert_eq!(updated.event.as_deref(), Some("WorkbookRefreshFailed"));
    assert_eq!(updated.url.as_deref(), Some("https://hooks.example.com/tableau"));
    assert!(!updated.enabled);

    // Test Webhook sends an empty POST and answers what the destination replied.
    let back = request("Orders failed", "DatasourceRefreshFailed", &receiver.url("probe"));
    client.update_webhook(&created.id, &back).await.expect("point back at the receiver");
    let result = client.test_webhook(&created.id).await.expect("test");
    assert_eq!(result.status, Some(200));
    assert_eq!(result.body, "received");
    let got = receiver.wait_for(1, Duration::from_secs(5));
    assert_eq!((got[0].method.as_str(), got[0].path.as_str(), got[0].body.as_str()), ("POST", "/probe", ""));

    client.delete_webhook(&created.id).await.expect("delete");
    assert!(client.webhooks().await.expect("list").is_empty());
    let err = client.delete_webhook(&created.id).await.expect_err("gone");
    assert!(err.is_not_found(), "{err}");
}

/// Signs in over raw HTTP and returns (base, token, site id), for request bodies the client never sends.
async fn raw_session(emu: &Emulator) -> (reqwest::Client, String, String, String) {
    let http = reqwest::Client::new();
    let base = format!("{}/api/3.25", emu.url());
    let body = format!(
        r#"<tsRequest><credentials personalAccessTokenName="{DEFAULT_PAT_NAME}" personalAccessTokenSecret="{DEFAULT_PAT_SECRET}"><site contentUrl="{DEFAULT_SITE}"/></credentials></tsRequest>"#
    );
    let text =
        http.post(format!("{base}/auth/signin")).body(body).send().await.expect("sign in").text().await.expect("body");
    let grab = |key: &str| {
        let at = text.find(&format!(" {key}=\"")).expect(key) + key.len() + 3;
        text[at..at + text[at..].find('"').expect("quote")].to_owned()
    };
    let (token, site) = (
        grab("token"),
        text[text.find("<site ").expect("site")..]
            .split("id=\"")
            .nth(1)
            .expect("id")
            .split('"')
            .next()
            .expect("id")
            .to_owned(),
    );
    (http, base, token, site)
}

#[tokio::test]
async fn webhook_requests_take_either_event_form_and_refuse_conflicts_and_plain_http() {
    let emu = common::emulator().await;
    let (http, base, token, site) = raw_session(&emu).await;
    let post = |body: String| {
        let request = http.post(format!("{base}/sites/{site}/webhooks")).header("x-tableau-auth", &token).body(body);
        async move {
            let response = request.send().await.expect("post");
            (response.status().as_u16(), response.text().await.expect("body"))
        }
    };
    let webhook = |attrs: &str, source: &str, url: &str| {
        format!(
            r#"<tsRequest><webhook name="w" {attrs}>{source}<webhook-destination><webhook-destination-http method="POST" url="{url}"/></webhook-destination></webhook></tsRequest>"#
        )
    };
    // tableauserverclient's form (RequestFactory.Webhook.create_req): the source element only.
    let tsc = "<webhook-source><webhook-source-event-datasource-created/></webhook-source>";
    let (status, body) = post(webhook("", tsc, "https://hooks.example.com/a")).await;
    assert_eq!(status, 201, "{body}");
    assert!(
        body.contains(r#"event="DatasourceCreated""#) && body.contains("<webhook-source-event-datasource-created"),
        "{body}"
    );
    // The `event` attribute alone (Tableau's preferred form since 2020.3).
    let (status, body) = post(webhook(r#"event="WorkbookDeleted""#, "", "https://hooks.example.com/b")).await;
    assert_eq!(status, 201, "{body}");
    assert!(body.contains("<webhook-source-event-workbook-deleted"), "{body}");
    // Both, naming different events: refused.
    let (status, body) = post(webhook(r#"event="WorkbookDeleted""#, tsc, "https://hooks.example.com/c")).await;
    assert_eq!(status, 400, "{body}");
    // Tableau Cloud requires https; plain http only to a loopback receiver (the emulator's test allowance).
    let (status, body) = post(webhook(r#"event="WorkbookDeleted""#, "", "http://hooks.example.com/d")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("must be https"), "{body}");
    let (status, body) = post(webhook(r#"event="WorkbookDeleted""#, "", "http://127.0.0.1:9/e")).await;
    assert_eq!(status, 201, "{body}");
    // A destination whose eighth byte falls inside a character: refused, not a crash of the emulator.
    let (status, body) = post(webhook(r#"event="WorkbookDeleted""#, "", "a\u{e9}\u{e9}\u{e9}\u{e9}://x")).await;
    assert_eq!(status, 400, "{body}");
    // An event the schema has no element for.
    let (status, body) = post(webhook(r#"event="UserDeleted""#, "", "https://hooks.example.com/f")).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn refresh_jobs_deliver_the_documented_payload_to_their_webhooks() {
    // `test_hooks`: the failing job is armed through a state-changing hook.
    let emu = common::emulator_with(EmulatorConfig { test_hooks: true, ..Default::default() }).await;
    let client = common::client(&emu).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = publish_extract(&client, dir.path()).await;
    let receiver = WebhookReceiver::start();
    for (name, event, path) in [
        ("failed", "DatasourceRefreshFailed", "failed"),
        ("succeeded", "DatasourceRefreshSucceeded", "succeeded"),
        ("workbooks", "WorkbookRefreshFailed", "workbooks"),
        ("started", "DatasourceRefreshStarted", "started"),
    ] {
        client.create_webhook(&request(name, event, &receiver.url(path))).await.expect("create");
    }

    assert_eq!(common::hook(&emu, "jobs/fail-next?count=1").await, 204);
    let job = client.refresh_datasource(&ds).await.expect("refresh");
    let done = client.wait_for_job(&job.id, Duration::from_secs(30)).await;
    assert!(done.is_err() || done.is_ok_and(|j| j.state() == JobState::Failed), "the armed refresh fails");
    let got = receiver.wait_for(2, Duration::from_secs(10));
    let hit = got.iter().find(|r| r.path == "/failed").unwrap_or_else(|| panic!("no failure delivery: {got:?}"));
    assert_eq!((hit.method.as_str(), hit.path.as_str()), ("POST", "/failed"));
    assert_eq!(hit.content_type.as_deref(), Some("application/json"));
    let payload = hit.json();
    assert_eq!(payload["resource"], "DATASOURCE");
    assert_eq!(payload["event_type"], "DatasourceRefreshFailed");
    assert_eq!(payload["resource_name"], "Orders");
    assert_eq!(payload["resource_luid"], ds.as_str());
    assert_eq!(payload["site_luid"], client.site_id());
    let created_at = payload["created_at"].as_str().expect("created_at");
    assert!(created_at.len() == 20 && created_at.ends_with('Z'), "{created_at}");

    let job = client.refresh_datasource(&ds).await.expect("refresh again");
    let done = client.wait_for_job(&job.id, Duration::from_secs(30)).await.expect("succeeds");
    assert_eq!(done.state(), JobState::Succeeded);
    let got = receiver.wait_for(4, Duration::from_secs(10));
    let succeeded = got.iter().find(|r| r.path == "/succeeded").unwrap_or_else(|| panic!("{got:?}"));
    assert_eq!(succeeded.json()["event_type"], "DatasourceRefreshSucceeded");
    // Each job announced its start once and its end once, to the webhooks of those events only.
    std::thread::sleep(Duration::from_millis(300));
    let mut paths: Vec<String> = receiver.received().into_iter().map(|r| r.path).collect();
    paths.sort();
    assert_eq!(paths, ["/failed", "/started", "/started", "/succeeded"]);
    let started = receiver.received().into_iter().find(|r| r.path == "/started").expect("started");
    assert_eq!(started.json()["event_type"], "DatasourceRefreshStarted");
}

/// Delivery never holds up the job or the request: a destination that accepts the connection and never answers,
/// and one where nothing listens, leave the refresh and its polls as fast as without webhooks (a delivery runs in
/// its own task with a 5-second timeout, and its failure is only logged).
#[tokio::test]
async fn a_silent_or_absent_destination_delays_and_fails_nothing() {
    let emu = common::emulator_with(EmulatorConfig { test_hooks: true, ..Default::default() }).await;
    let client = common::client(&emu).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = publish_extract(&client, dir.path()).await;
    // Accepts connections and never reads or answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_url = format!("http://{}/hook", silent.local_addr().expect("addr"));
    // Nothing listens here any more.
    let absent_url = {
        let gone = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}/hook", gone.local_addr().expect("addr"))
    };
    for (name, url) in [("silent", &silent_url), ("absent", &absent_url)] {
        client.create_webhook(&request(name, "DatasourceRefreshFailed", url)).await.expect("create");
    }
    assert_eq!(common::hook(&emu, "jobs/fail-next?count=1").await, 204);
    let started = std::time::Instant::now();
    let job = client.refresh_datasource(&ds).await.expect("refresh");
    let done = client.wait_for_job(&job.id, Duration::from_secs(30)).await;
    assert!(done.is_err() || done.is_ok_and(|j| j.state() == JobState::Failed));
    // The site still answers at once while the silent delivery hangs.
    client.webhooks().await.expect("list while a delivery hangs");
    assert!(started.elapsed() < Duration::from_secs(4), "took {:?}", started.elapsed());
    drop(silent);
}
