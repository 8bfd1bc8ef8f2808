//! The wire-shape guard: the table derived from the official schema (`wire/ts-api-3.29.shapes`, from
//! `ts-api_3_29.xsd` in tableau/rest-api-samples) holds every XML body the emulator records. The checker's own
//! tests use hand-written documents; the recording test drives a real emulator over HTTP; and the ignored test is
//! the final step of `scripts/test`, which checks everything the whole integration suite sent and received.

#![allow(clippy::print_stderr, reason = "the recording tests print the guard's counts (checked, violations)")]

use std::path::{Path, PathBuf};

use tabops_emulator::wire_shapes::{Report, ShapeTable};
use tabops_emulator::{DEFAULT_PAT_NAME, DEFAULT_PAT_SECRET, Emulator, EmulatorConfig};

fn table() -> ShapeTable {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("wire/ts-api-3.29.shapes");
    ShapeTable::load(&path).expect("the shape table loads")
}

fn response_violations(xml: &str) -> Report {
    let mut report = Report::default();
    table().check_document(xml, "test", false, &mut report);
    report
}

fn messages(report: &Report) -> Vec<String> {
    report.violations.keys().cloned().collect()
}

const NS: &str = r#"xmlns="http://tableau.com/api""#;

#[test]
fn shape_table_names_schema_3_29_and_defines_every_type_it_references() {
    let table = table();
    assert_eq!(table.version, "3.29");
}

#[test]
fn shape_table_with_a_child_of_an_undefined_type_is_rejected() {
    let err = ShapeTable::parse("schema 3.29 http://tableau.com/api x\nroot tsResponse tsResponse\ntype tsResponse\n  child project projectType\n")
        .expect_err("projectType is not defined");
    assert!(err.to_string().contains("undefined type projectType"), "{err}");
}

#[test]
fn a_schema_conformant_project_list_has_no_violations() {
    let xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><tsResponse {NS}><pagination pageNumber="1" pageSize="100" totalAvailable="1"/><projects><project id="a" name="Sales" contentPermissions="ManagedByOwner"><owner id="u"/></project></projects></tsResponse>"#
    );
    let report = response_violations(&xml);
    assert_eq!(report.violation_count(), 0, "{report}");
}

#[test]
fn an_attribute_the_schema_does_not_define_is_a_violation() {
    let report =
        response_violations(&format!(r#"<tsResponse {NS}><project id="a" name="p" colour="red"/></tsResponse>"#));
    assert_eq!(messages(&report), ["tsResponse/project: attribute colour is not defined for projectType"]);
}

#[test]
fn an_enumeration_value_outside_the_schema_is_a_violation() {
    let report = response_violations(&format!(
        r#"<tsResponse {NS}><permissions><granteeCapabilities><group id="g"/><capabilities><capability name="Read" mode="Maybe"/></capabilities></granteeCapabilities></permissions></tsResponse>"#
    ));
    assert_eq!(report.violation_count(), 1, "{report}");
    assert!(messages(&report)[0].contains(r#"mode="Maybe" is not one of capabilityType's values"#), "{report}");
}

#[test]
fn a_child_the_parent_type_does_not_allow_is_a_violation_and_its_subtree_is_skipped() {
    let report = response_violations(&format!(
        r#"<tsResponse {NS}><project id="a"><members><user bogus="1"/></members></project></tsResponse>"#
    ));
    assert_eq!(messages(&report), ["tsResponse/project/members: <members> is not a child of projectType"]);
}

#[test]
fn a_response_outside_the_tableau_namespace_is_a_violation() {
    let report = response_violations(r#"<tsResponse xmlns="http://example.com/api"><project id="a"/></tsResponse>"#);
    assert_eq!(report.violation_count(), 1, "{report}");
    let report = response_violations(r#"<tsResponse><project id="a"/></tsResponse>"#);
    assert_eq!(report.violation_count(), 1, "an unqualified response is not Tableau's: {report}");
}

#[test]
fn an_unqualified_request_is_accepted_but_a_foreign_namespace_is_not() {
    let table = table();
    let mut report = Report::default();
    table.check_document(r#"<tsRequest><project name="p" parentProjectId="x"/></tsRequest>"#, "t", true, &mut report);
    assert_eq!(report.violation_count(), 0, "{report}");
    table.check_document(r#"<tsRequest xmlns="urn:other"><project name="p"/></tsRequest>"#, "t", true, &mut report);
    assert_eq!(report.violation_count(), 1, "{report}");
}

#[test]
fn the_prefixed_namespace_form_is_checked_by_local_names() {
    let ok = response_violations(
        r#"<ts:tsResponse xmlns:ts="http://tableau.com/api"><ts:user id="u" name="a@b" siteRole="Viewer"/></ts:tsResponse>"#,
    );
    assert_eq!(ok.violation_count(), 0, "{ok}");
    let bad = response_violations(
        r#"<ts:tsResponse xmlns:ts="http://tableau.com/api"><ts:user id="u" siteRole="Boss"/></ts:tsResponse>"#,
    );
    assert_eq!(bad.violation_count(), 1, "{bad}");
}

#[test]
fn text_inside_an_element_without_simple_content_is_a_violation() {
    let report = response_violations(&format!(r#"<tsResponse {NS}><project id="a">hello</project></tsResponse>"#));
    assert_eq!(messages(&report), ["tsResponse/project: projectType has no text content"]);
    let ok = response_violations(&format!(
        r#"<tsResponse {NS}><error code="401002"><summary>Unauthorized</summary><detail>bad token</detail></error></tsResponse>"#
    ));
    assert_eq!(ok.violation_count(), 0, "{ok}");
}

#[test]
fn malformed_xml_is_a_violation_not_a_panic() {
    for xml in
        ["", "<tsResponse", "<tsResponse xmlns=\"http://tableau.com/api\"><a></b></tsResponse>", "\u{0}\u{ffff}<<"]
    {
        let report = response_violations(xml);
        assert!(report.violation_count() >= 1, "{xml:?} passed: {report}");
    }
}

fn record(kind: &str, user_agent: &str, content_type: &str, body: &str) -> tabops_emulator::wire_log::WireRecord {
    tabops_emulator::wire_log::WireRecord {
        kind: kind.into(),
        method: "POST".into(),
        route: "/api/{v}/sites/{}/workbooks".into(),
        user_agent: user_agent.into(),
        content_type: content_type.into(),
        complete: true,
        body: body.into(),
        ..Default::default()
    }
}

#[test]
fn a_multipart_publish_is_checked_by_its_request_payload_part() {
    let table = table();
    let body = |attr: &str| {
        format!(
            "--B\r\nContent-Disposition: name=\"request_payload\"\r\nContent-Type: text/xml\r\n\r\n<tsRequest><workbook name=\"w\" {attr}><project id=\"p\"/></workbook></tsRequest>\r\n--B\r\nContent-Disposition: name=\"tableau_workbook\"; filename=\"w.twb\"\r\n\r\n<workbook/>\r\n--B--\r\n"
        )
    };
    let mut report = Report::default();
    table.check_record(
        &record("request", "tabops/1", "multipart/mixed; boundary=B", &body("showTabs=\"true\"")),
        &mut report,
    );
    assert_eq!((report.requests_checked, report.violation_count()), (1, 0), "{report}");
    table.check_record(
        &record("request", "tabops/1", "multipart/mixed; boundary=B", &body("tabColour=\"1\"")),
        &mut report,
    );
    assert_eq!((report.requests_checked, report.violation_count()), (2, 1), "{report}");
}

#[test]
fn refused_requests_and_cut_off_bodies_are_counted_not_checked() {
    let table = table();
    let mut report = Report::default();
    let mut hostile = record("request", "hostile-test", "text/xml", "<not-xml");
    hostile.status = Some(400);
    table.check_record(&hostile, &mut report);
    let mut cut = record("response", "", "application/xml", "<tsResponse xmlns=\"http://tableau.com/api\"><proj");
    cut.complete = false;
    table.check_record(&cut, &mut report);
    assert_eq!(report.rejected, 1);
    assert_eq!(report.truncated, 1);
    assert_eq!((report.requests_checked, report.responses_checked, report.violation_count()), (0, 0, 0));
    // The same malformed body, accepted (2xx), is a violation whoever sent it.
    hostile.status = Some(201);
    table.check_record(&hostile, &mut report);
    assert_eq!(report.requests_checked, 1, "{report}");
    assert!(report.violation_count() >= 1, "{report}");
}

#[test]
fn a_missing_required_attribute_is_a_violation() {
    // capabilityType's name and mode are use="required" in ts-api_3_29.xsd.
    let report = response_violations(&format!(
        r#"<tsResponse {NS}><permissions><granteeCapabilities><group id="g"/><capabilities><capability name="Read"/></capabilities></granteeCapabilities></permissions></tsResponse>"#
    ));
    assert_eq!(
        messages(&report),
        [
            "tsResponse/permissions/granteeCapabilities/capabilities/capability: required attribute mode of capabilityType is missing"
        ]
    );
    let report =
        response_violations(&format!(r#"<tsResponse {NS}><pagination pageNumber="1" pageSize="100"/></tsResponse>"#));
    assert_eq!(
        messages(&report),
        ["tsResponse/pagination: required attribute totalAvailable of paginationType is missing"]
    );
}

#[test]
fn a_required_attribute_tableau_leaves_out_passes_only_with_a_sourced_exception() {
    // TSC's captured answer group_create_ad.xml has <import> without the schema-required source.
    let report = response_violations(&format!(
        r#"<tsResponse {NS}><group id="g" name="n"><import domainName="local" siteRole="Explorer" grantLicenseMode="onLogin"/></group></tsResponse>"#
    ));
    assert_eq!(report.violation_count(), 0, "{report}");
    assert_eq!(
        report.exceptions_used.keys().filter(|k| k.contains("importDirectiveType@source left out")).count(),
        1,
        "{report}"
    );
    let report = response_violations(&format!(
        r#"<tsResponse {NS}><group id="g" name="n"><import domainName="local" grantLicenseMode="onLogin"/></group></tsResponse>"#
    ));
    assert_eq!(
        messages(&report),
        ["tsResponse/group/import: required attribute siteRole of importDirectiveType is missing"]
    );
    let err = ShapeTable::parse("schema 3.29 http://tableau.com/api x\ntype t\n  attr a required\n  optional a\n")
        .expect_err("leaving out a required attribute needs a sourced reason");
    assert!(err.to_string().contains("! reason"), "{err}");
}

#[test]
fn json_bodies_are_checked_through_tableaus_json_mapping() {
    let table = table();
    let mut report = Report::default();
    let ok = r#"{"pagination":{"pageNumber":"1","pageSize":"100","totalAvailable":"1"},"projects":{"project":[{"id":"a","name":"Sales","contentPermissions":"ManagedByOwner","owner":{"id":"u"}}]}}"#;
    assert_eq!(table.check_json_document(ok, "t", false, &mut report), 0, "{report}");
    let version = r#"{"serverInfo":{"productVersion":{"value":"2025.1.0","build":"20251.25.0101.1200"},"restApiVersion":"3.25"}}"#;
    assert_eq!(table.check_json_document(version, "t", false, &mut report), 0, "{report}");
    let error = r#"{"error":{"code":"400000","summary":"Bad Request","detail":"x"}}"#;
    assert_eq!(table.check_json_document(error, "t", false, &mut report), 0, "{report}");
    let request = r#"{"project":{"name":"p","parentProjectId":"x","contentPermissions":"LockedToProject"}}"#;
    assert_eq!(table.check_json_document(request, "t", true, &mut report), 0, "{report}");

    let unknown = r#"{"project":{"name":"p","colour":"red"}}"#;
    assert_eq!(table.check_json_document(unknown, "t", true, &mut report), 1, "{report}");
    let bad_value = r#"{"user":{"name":"u","siteRole":"Emperor"}}"#;
    assert_eq!(table.check_json_document(bad_value, "t", true, &mut report), 1, "{report}");
    let bad_child = r#"{"project":{"name":"p","members":{"user":[{"id":"u"}]}}}"#;
    assert_eq!(table.check_json_document(bad_child, "t", true, &mut report), 1, "{report}");
    let missing = r#"{"pagination":{"pageNumber":"1","pageSize":"100"}}"#;
    assert_eq!(table.check_json_document(missing, "t", false, &mut report), 1, "{report}");
}

#[test]
fn the_table_is_what_the_derivation_script_writes_and_ends_with_the_sourced_exceptions() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("wire");
    let table = std::fs::read_to_string(dir.join("ts-api-3.29.shapes")).expect("table");
    let exceptions = std::fs::read_to_string(dir.join("exceptions")).expect("exceptions");
    assert!(table.starts_with("# GENERATED by scripts/wire-shapes-from-xsd"), "regenerate the table with the script");
    let tail = format!("{}\n", exceptions.trim_end_matches('\n'));
    assert!(table.ends_with(&tail), "wire/exceptions changed: regenerate the table with scripts/wire-shapes-from-xsd");
    for line in exceptions.lines().map(str::trim).filter(|l| l.starts_with("attr") || l.starts_with("optional")) {
        let reason = line.split_once('!').map(|(_, r)| r.trim()).unwrap_or_default();
        assert!(reason.len() > 20, "an exception needs a reason and a source: {line}");
    }
}

/// Drive a real emulator with recording on, over real HTTP: the recorded bodies are the ones sent and received.
#[tokio::test]
async fn emulator_records_the_xml_it_receives_and_answers_and_it_conforms() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = EmulatorConfig { wire_log: Some(dir.path().to_owned()), ..EmulatorConfig::default() };
    let emulator = Emulator::start(config).await.expect("emulator starts");
    let http = reqwest::Client::builder().user_agent("tabops/wire-test").build().expect("client");
    let base = format!("{}/api/3.25", emulator.url());
    let sign_in = format!(
        r#"<tsRequest><credentials personalAccessTokenName="{DEFAULT_PAT_NAME}" personalAccessTokenSecret="{DEFAULT_PAT_SECRET}"><site contentUrl="acme"/></credentials></tsRequest>"#
    );
    let body = http
        .post(format!("{base}/auth/signin"))
        .header("content-type", "text/xml")
        .body(sign_in)
        .send()
        .await
        .expect("sign in")
        .text()
        .await
        .expect("body");
    let field = |name: &str, element: &str| {
        let start = body.find(&format!("<{element} ")).expect(element);
        let rest = &body[start..];
        let at = rest.find(&format!(" {name}=\"")).expect(name) + name.len() + 3;
        rest[at..at + rest[at..].find('"').expect("quote")].to_owned()
    };
    let (token, site) = (field("token", "credentials"), field("id", "site"));
    let call = |method: reqwest::Method, path: &str, xml: &str| {
        http.request(method, format!("{base}/sites/{site}{path}"))
            .header("x-tableau-auth", &token)
            .header("content-type", "text/xml")
            .body(xml.to_owned())
            .send()
    };
    let created = call(
        reqwest::Method::POST,
        "/projects",
        r#"<tsRequest><project name="Wire" contentPermissions="LockedToProject"/></tsRequest>"#,
    )
    .await
    .expect("create");
    assert_eq!(created.status(), 201);
    let _ = created.text().await;
    let listed = call(reqwest::Method::GET, "/projects", "").await.expect("list").text().await.expect("body");
    assert!(listed.contains("Wire"), "{listed}");
    // Tableau has no "get one project" method: the answer is an error document, which is checked too.
    let missing = call(reqwest::Method::GET, "/projects/00000000-0000-0000-0000-000000000000", "")
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert!(missing.contains("<error"), "{missing}");
    emulator.shutdown().await;

    let mut statuses = Vec::new();
    for entry in std::fs::read_dir(dir.path()).expect("log dir") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("log file");
        for line in text.lines() {
            let record: tabops_emulator::wire_log::WireRecord = serde_json::from_str(line).expect("a record");
            if record.kind == "request" && !record.body.is_empty() {
                statuses.push((record.route, record.status));
            }
        }
    }
    statuses.sort();
    assert_eq!(
        statuses,
        [("/auth/signin".to_owned(), Some(200)), ("/sites/{id}/projects".to_owned(), Some(201))],
        "each request is logged with the status it was answered with"
    );
    let report = table().check_dir(dir.path()).expect("the wire log reads back");
    eprintln!("{report}");
    assert_eq!(report.violation_count(), 0, "{report}");
    assert_eq!(report.requests_checked, 2, "sign-in and create: {report}");
    assert!(report.responses_checked >= 3, "sign-in, create, list and the error answer: {report}");
}

/// The final step of `scripts/test`: every XML body tabops sent and the emulator answered with while the whole
/// integration suite ran with `TABOPS_EMULATOR_WIRE_LOG=DIR`, checked against the 3.29 table.
#[test]
#[ignore = "run by scripts/test after the suite recorded its traffic into $TABOPS_EMULATOR_WIRE_LOG"]
fn recorded_integration_suite_traffic_conforms_to_the_3_29_shape_table() {
    let dir = std::env::var_os("TABOPS_EMULATOR_WIRE_LOG")
        .map(PathBuf::from)
        .expect("TABOPS_EMULATOR_WIRE_LOG names the directory the suite recorded into");
    let table = table();
    let report = table.check_dir(&dir).expect("the wire log reads back");
    eprintln!("{report}");
    assert!(report.requests_checked > 0, "no tabops request was recorded in {}: {report}", dir.display());
    assert!(report.responses_checked > 0, "no emulator response was recorded in {}: {report}", dir.display());
    assert_eq!(report.violation_count(), 0, "{report}");
}

#[test]
fn a_sourced_exception_value_passes_and_is_counted_as_an_exception() {
    let report = response_violations(&format!(
        r#"<tsResponse {NS}><users><user id="u" name="a" authSetting="TableauIDWithMFA"/><user id="v" name="b" authSetting="SAML"/></users></tsResponse>"#
    ));
    assert_eq!(report.violation_count(), 0, "{report}");
    assert_eq!(report.exceptions_used.values().sum::<usize>(), 1, "only the value beyond the XSD counts: {report}");
    let err = ShapeTable::parse("schema 3.29 http://tableau.com/api x\ntype t\n  attr a = X\n  attr a += Y\n")
        .expect_err("an extra value needs a sourced reason");
    assert!(err.to_string().contains("! reason"), "{err}");
}

#[test]
fn a_request_the_emulator_rejected_as_invalid_is_counted_not_checked() {
    let table = table();
    let mut report = Report::default();
    let mut bad =
        record("request", "tabops/1", "text/xml", r#"<tsRequest><user name="b" siteRole="Emperor"/></tsRequest>"#);
    bad.status = Some(400);
    table.check_record(&bad, &mut report);
    assert_eq!((report.rejected, report.requests_checked, report.violation_count()), (1, 0, 0), "{report}");
    bad.status = Some(201);
    table.check_record(&bad, &mut report);
    assert_eq!(
        (report.requests_checked, report.violation_count()),
        (1, 1),
        "an accepted bad value is a violation: {report}"
    );
}

/// Tableau validates request bodies against its schema: an unknown child element is refused with 400000 "Payload is
/// either malformed XML or incomplete" (tableau/rest-api-samples issue 6: `<project_id>` inside `<datasource>`). The
/// emulator refuses the same way, in XML and JSON, so a shape Tableau would refuse cannot pass the suite.
#[tokio::test]
async fn the_emulator_refuses_a_body_with_an_element_or_attribute_the_schema_does_not_allow() {
    let emulator =
        Emulator::start(EmulatorConfig { wire_log: None, ..EmulatorConfig::default() }).await.expect("starts");
    let http = reqwest::Client::new();
    let base = format!("{}/api/3.25", emulator.url());
    let sign_in = format!(
        r#"<tsRequest><credentials personalAccessTokenName="{DEFAULT_PAT_NAME}" personalAccessTokenSecret="{DEFAULT_PAT_SECRET}"><site contentUrl="acme"/></credentials></tsRequest>"#
    );
    let body = http
        .post(format!("{base}/auth/signin"))
        .body(sign_in)
        .send()
        .await
        .expect("sign in")
        .text()
        .await
        .expect("body");
    let pick = |element: &str, name: &str| {
        let rest = &body[body.find(&format!("<{element} ")).expect(element)..];
        let at = rest.find(&format!(" {name}=\"")).expect(name) + name.len() + 3;
        rest[at..at + rest[at..].find('"').expect("quote")].to_owned()
    };
    let (token, site) = (pick("credentials", "token"), pick("site", "id"));
    let post = |content_type: &'static str, body: &'static str| {
        http.post(format!("{base}/sites/{site}/projects"))
            .header("x-tableau-auth", &token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    for (content_type, body) in [
        ("text/xml", r#"<tsRequest><project name="A" colour="red"/></tsRequest>"#),
        ("text/xml", r#"<tsRequest><project name="B"><members/></project></tsRequest>"#),
        ("application/json", r#"{"project":{"name":"C","colour":"red"}}"#),
    ] {
        let response = post(content_type, body).await.expect("post");
        assert_eq!(response.status(), 400, "{body}");
        let text = response.text().await.expect("body");
        assert!(text.contains("400000") && text.contains("malformed"), "{body}: {text}");
    }
    let created =
        post("text/xml", r#"<tsRequest><project name="D" description="ok"/></tsRequest>"#).await.expect("post");
    assert_eq!(created.status(), 201, "a conformant body is still accepted");
    emulator.shutdown().await;
}
