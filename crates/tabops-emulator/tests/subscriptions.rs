//! Subscriptions over real HTTP, with hand-written XML in the shapes Tableau Cloud documents: the schedule inline
//! beside `<subscription>` on create and update (REST reference "Create Subscription", Tableau Cloud request, API
//! 3.20+), the list's `<subscription>` with `<content>`, an inline `<schedule>` and `<user>` (tableauserverclient
//! `test/assets/subscription_get.xml`; no schedule id on Cloud, TSC issue #1627), and Tableau's not-found codes for
//! unknown content and users.

mod common;

use common::{Client, attr, code, sign_in};
use tabops_emulator::{Emulator, EmulatorConfig};

/// Publishes a two-sheet workbook into `Default`: its id and its first view's.
async fn publish(site: &Client, name: &str) -> (String, String) {
    let (_, body) = site.get("/projects?filter=name:eq:Default").await;
    let project = attr(&body, "project", "id").expect("default project").to_owned();
    let twb = "<?xml version='1.0'?><workbook><worksheets><worksheet name='Sales'/></worksheets><dashboards><dashboard name='Board'/></dashboards></workbook>";
    let payload = format!("<tsRequest><workbook name=\"{name}\"><project id=\"{project}\" /></workbook></tsRequest>");
    let file = Some(("tableau_workbook", "w.twb", twb.as_bytes()));
    let (_, body) = site.multipart("/workbooks?workbookType=twb", &payload, file, true).await;
    let workbook = attr(&body, "workbook", "id").expect("workbook id").to_owned();
    let view = attr(&body, "view", "id").expect("view id").to_owned();
    (workbook, view)
}

const WEEKLY: &str = r#"<schedule frequency="Weekly"><frequencyDetails start="08:00:00"><intervals><interval weekDay="Monday" /></intervals></frequencyDetails></schedule>"#;

#[tokio::test]
async fn subscriptions_are_created_listed_updated_and_deleted_with_the_schedule_inline() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.expect("starts");
    let site = sign_in(&emulator).await;
    let (workbook, view) = publish(&site, "Revenue").await;
    let (status, body) = site
        .call(
            reqwest::Method::POST,
            "/users",
            r#"<tsRequest><user name="bob@acme.com" siteRole="Viewer" /></tsRequest>"#,
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let user = attr(&body, "user", "id").expect("user").to_owned();

    let create = format!(
        r#"<tsRequest><subscription subject="Every Monday" message="Hello" attachImage="false" attachPdf="true" pageOrientation="Landscape" pageSizeOption="A4"><content id="{view}" type="View" sendIfViewEmpty="false" /><user id="{user}" /></subscription>{WEEKLY}</tsRequest>"#
    );
    let (status, body) = site.call(reqwest::Method::POST, "/subscriptions", &create).await;
    assert_eq!(status, 201, "{body}");
    let id = attr(&body, "subscription", "id").expect("id").to_owned();
    assert_eq!(attr(&body, "subscription", "attachPdf"), Some("true"));
    assert_eq!(attr(&body, "content", "sendIfViewEmpty"), Some("false"));
    assert_eq!(attr(&body, "schedule", "frequency"), Some("Weekly"));
    assert_eq!(attr(&body, "schedule", "id"), None, "Cloud schedules have no id");
    assert_eq!(attr(&body, "user", "name"), Some("bob@acme.com"));

    let (status, body) = site.call(reqwest::Method::GET, "/subscriptions?pageSize=1", "").await;
    assert_eq!(status, 200);
    assert_eq!(attr(&body, "pagination", "totalAvailable"), Some("1"));
    assert_eq!(attr(&body, "subscription", "pageOrientation"), Some("Landscape"));
    assert!(
        body.contains(r#"<interval weekDay="Monday"/>"#) || body.contains(r#"<interval weekDay="Monday" />"#),
        "{body}"
    );

    // tableauserverclient's update: an empty <schedule/> and a <content> with only sendIfViewEmpty leave both alone.
    let update = r#"<tsRequest><subscription subject="Renamed" suspended="true"><schedule /><content sendIfViewEmpty="true" /></subscription></tsRequest>"#;
    let (status, body) = site.call(reqwest::Method::PUT, &format!("/subscriptions/{id}"), update).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(attr(&body, "subscription", "suspended"), Some("true"));
    assert_eq!(attr(&body, "content", "id"), Some(view.as_str()));
    assert_eq!(attr(&body, "schedule", "frequency"), Some("Weekly"));
    // A Cloud update with a new schedule beside the subscription.
    let daily = r#"<schedule frequency="Daily"><frequencyDetails start="07:00:00"><intervals><interval hours="24" /><interval weekDay="Tuesday" /></intervals></frequencyDetails></schedule>"#;
    let (status, body) = site
        .call(
            reqwest::Method::PUT,
            &format!("/subscriptions/{id}"),
            &format!("<tsRequest><subscription />{daily}</tsRequest>"),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = site.call(reqwest::Method::GET, &format!("/subscriptions/{id}"), "").await;
    assert_eq!(attr(&body, "schedule", "frequency"), Some("Daily"));
    assert_eq!(attr(&body, "subscription", "subject"), Some("Renamed"));

    // A whole workbook.
    let on_workbook = format!(
        r#"<tsRequest><subscription subject="Whole workbook"><content id="{workbook}" type="Workbook" /><user id="{user}" /></subscription>{WEEKLY}</tsRequest>"#
    );
    assert_eq!(site.call(reqwest::Method::POST, "/subscriptions", &on_workbook).await.0, 201);

    assert_eq!(site.call(reqwest::Method::DELETE, &format!("/subscriptions/{id}"), "").await.0, 204);
    let (status, body) = site.call(reqwest::Method::GET, &format!("/subscriptions/{id}"), "").await;
    assert_eq!((status, code(&body)), (404, "404025"));
    emulator.shutdown().await;
}

#[tokio::test]
async fn unknown_content_users_and_cloud_schedule_mistakes_get_tableaus_errors() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.expect("starts");
    let site = sign_in(&emulator).await;
    let (workbook, view) = publish(&site, "Revenue").await;
    let (_, body) = site.call(reqwest::Method::GET, "/users", "").await;
    let user = attr(&body, "user", "id").expect("a user").to_owned();
    let missing = "00000000-0000-4000-8000-000000000000";
    let create = |content: &str, kind: &str, user: &str, schedule: &str| {
        format!(
            r#"<tsRequest><subscription subject="s"><content id="{content}" type="{kind}" /><user id="{user}" /></subscription>{schedule}</tsRequest>"#
        )
    };
    let cases = [
        (create(missing, "View", &user, WEEKLY), 404, "404011"),
        (create(missing, "Workbook", &user, WEEKLY), 404, "404006"),
        (create(&view, "View", missing, WEEKLY), 404, "404002"),
        (create(&workbook, "Datasource", &user, WEEKLY), 400, "400000"),
        (create(&view, "View", &user, ""), 409, "409004"),
        (create(&view, "View", &user, r#"<schedule id="5c0ba6d4-ba4d-4d2f-9d6c-2f3c22dd1f9a" />"#), 404, "404014"),
        // Daily without a weekDay interval: Cloud's schedule rule, as for extract refreshes.
        (
            create(
                &view,
                "View",
                &user,
                r#"<schedule frequency="Daily"><frequencyDetails start="07:00:00"><intervals><interval hours="24" /></intervals></frequencyDetails></schedule>"#,
            ),
            409,
            "409004",
        ),
    ];
    for (request, status, expected) in cases {
        let (got, body) = site.call(reqwest::Method::POST, "/subscriptions", &request).await;
        assert_eq!((got, code(&body)), (status, expected), "{request}\n{body}");
    }
    let (_, body) = site.call(reqwest::Method::GET, "/subscriptions", "").await;
    assert_eq!(attr(&body, "pagination", "totalAvailable"), Some("0"), "nothing was created");
    let (status, body) = site
        .call(reqwest::Method::PUT, &format!("/subscriptions/{missing}"), "<tsRequest><subscription /></tsRequest>")
        .await;
    assert_eq!((status, code(&body)), (404, "404025"));
    emulator.shutdown().await;
}

#[tokio::test]
async fn deleting_a_workbook_or_removing_a_user_takes_their_subscriptions_along() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.expect("starts");
    let site = sign_in(&emulator).await;
    let (kept_workbook, _) = publish(&site, "Kept").await;
    let (workbook, view) = publish(&site, "Revenue").await;
    let (_, body) = site
        .call(
            reqwest::Method::POST,
            "/users",
            r#"<tsRequest><user name="bob@acme.com" siteRole="Viewer" /></tsRequest>"#,
        )
        .await;
    let bob = attr(&body, "user", "id").expect("user").to_owned();
    let (_, body) = site.call(reqwest::Method::GET, "/users?filter=name:eq:admin@tabops.local", "").await;
    let admin = attr(&body, "user", "id").expect("admin").to_owned();
    let create = |content: &str, kind: &str, user: &str| {
        format!(
            r#"<tsRequest><subscription subject="s"><content id="{content}" type="{kind}" /><user id="{user}" /></subscription>{WEEKLY}</tsRequest>"#
        )
    };
    for request in [
        create(&view, "View", &admin),
        create(&workbook, "Workbook", &admin),
        create(&kept_workbook, "Workbook", &admin),
        create(&kept_workbook, "Workbook", &bob),
    ] {
        assert_eq!(site.call(reqwest::Method::POST, "/subscriptions", &request).await.0, 201);
    }
    assert_eq!(site.call(reqwest::Method::DELETE, &format!("/workbooks/{workbook}"), "").await.0, 204);
    assert_eq!(site.call(reqwest::Method::DELETE, &format!("/users/{bob}"), "").await.0, 204);
    let (_, body) = site.call(reqwest::Method::GET, "/subscriptions", "").await;
    assert_eq!(attr(&body, "pagination", "totalAvailable"), Some("1"), "{body}");
    assert_eq!(attr(&body, "content", "id"), Some(kept_workbook.as_str()));
    emulator.shutdown().await;
}
