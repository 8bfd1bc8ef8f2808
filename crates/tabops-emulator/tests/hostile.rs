//! The emulator as a trust boundary (RELIABILITY.md, hostile input and the emulator's own safety): requests without a valid token, for another
//! site's id, with oversized bodies or malformed multipart get the right 4xx and leave the site untouched; and
//! mutated TSC-shaped XML and multipart bodies (proptest, bounded) never make it fail with a 5xx, drop the
//! connection or stop serving.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use proptest::prelude::*;
use tabops_emulator::{Emulator, EmulatorConfig};

const SIGN_IN: &str = r#"<tsRequest><credentials personalAccessTokenName="tabops" personalAccessTokenSecret="tabops-local-secret"><site contentUrl="acme" /></credentials></tsRequest>"#;
const TWB: &str = "<?xml version='1.0'?><workbook><worksheets><worksheet name='Sales'/></worksheets></workbook>";
const BOUNDARY: &str = "8433bf7522892b9b50bce84acc83c4a2";

struct Site {
    http: reqwest::Client,
    base: String,
    token: String,
    site: String,
    project: String,
}

fn attr(body: &str, element: &str, name: &str) -> Option<String> {
    let start = body.find(&format!("<{element} "))?;
    let tag = &body[start..start + body[start..].find('>')?];
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    Some(tag[at..at + tag[at..].find('"')?].to_owned())
}

fn error_code(body: &str) -> String {
    attr(body, "error", "code").unwrap_or_default()
}

async fn start(config: EmulatorConfig) -> (Emulator, Site) {
    let emulator = Emulator::start(config).await.expect("emulator starts");
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client");
    let base = format!("{}/api/3.25", emulator.url());
    let body = http.post(format!("{base}/auth/signin")).body(SIGN_IN).send().await.expect("sign in");
    let body = body.text().await.expect("body");
    let token = attr(&body, "credentials", "token").expect("token");
    let site = attr(&body, "site", "id").expect("site id");
    let mut s = Site { http, base, token, site, project: String::new() };
    let (status, body) =
        s.send("POST", "/projects", Some(&s.token.clone()), r#"<tsRequest><project name="Base" /></tsRequest>"#).await;
    assert_eq!(status, 201, "{body}");
    s.project = attr(&body, "project", "id").expect("project id");
    (emulator, s)
}

impl Site {
    async fn send(&self, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
        self.send_raw(method, &format!("/sites/{}{path}", self.site), token, body.as_bytes().to_vec(), "text/xml").await
    }

    async fn send_raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Vec<u8>,
        content_type: &str,
    ) -> (u16, String) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request =
            self.http.request(method, format!("{}{path}", self.base)).header("content-type", content_type).body(body);
        if let Some(token) = token {
            request = request.header("x-tableau-auth", token);
        }
        let response = request.send().await.unwrap_or_else(|e| panic!("the emulator dropped {path}: {e}"));
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// Everything a client can list: the site's state as the API shows it.
    async fn snapshot(&self) -> String {
        let mut all = String::new();
        for path in ["/projects", "/users", "/groups", "/workbooks", "/datasources", "/tasks/extractRefreshes"] {
            let (status, body) = self.send("GET", path, Some(&self.token), "").await;
            assert_eq!(status, 200, "{path}: {body}");
            all.push_str(&body);
        }
        all
    }

    fn multipart_body(&self, payload: &str, file: &[u8]) -> Vec<u8> {
        let mut body = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"request_payload\"\r\nContent-Type: text/xml\r\n\r\n\
             {payload}\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"tableau_workbook\"; filename=\"w.twb\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(file);
        body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        body
    }

    fn publish_payload(&self, name: &str) -> String {
        format!(r#"<tsRequest><workbook name="{name}"><project id="{}" /></workbook></tsRequest>"#, self.project)
    }

    async fn publish(&self, body: Vec<u8>) -> (u16, String) {
        let path = format!("/sites/{}/workbooks?workbookType=twb&overwrite=true", self.site);
        let content_type = format!("multipart/mixed; boundary={BOUNDARY}");
        self.send_raw("POST", &path, Some(&self.token.clone()), body, &content_type).await
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

/// Writes of every kind without a token (401000) or with a wrong one (401002): refused, nothing changes.
#[tokio::test]
async fn boundary_requests_without_a_valid_token_change_nothing() {
    let (_emulator, s) = start(EmulatorConfig::default()).await;
    let before = s.snapshot().await;
    let project = s.project.clone();
    let writes = [
        ("POST", "/projects".to_owned(), r#"<tsRequest><project name="Evil" /></tsRequest>"#.to_owned()),
        ("POST", "/groups".to_owned(), r#"<tsRequest><group name="Evil" /></tsRequest>"#.to_owned()),
        (
            "POST",
            "/users".to_owned(),
            r#"<tsRequest><user name="evil@x.com" siteRole="Creator" /></tsRequest>"#.to_owned(),
        ),
        ("PUT", format!("/projects/{project}"), r#"<tsRequest><project name="Renamed" /></tsRequest>"#.to_owned()),
        ("DELETE", format!("/projects/{project}"), String::new()),
    ];
    for (method, path, body) in &writes {
        let (status, text) = s.send(method, path, None, body).await;
        assert_eq!((status, error_code(&text).as_str()), (401, "401000"), "{method} {path} without a token: {text}");
        let (status, text) = s.send(method, path, Some("not-a-token"), body).await;
        assert_eq!((status, error_code(&text).as_str()), (401, "401002"), "{method} {path} with a bad token: {text}");
    }
    let (status, _) = s.publish(s.multipart_body(&s.publish_payload("Evil"), TWB.as_bytes())).await;
    assert_eq!(status, 201, "the same publish with the token works (the refusals above were about the token)");
    let after = s.snapshot().await;
    assert_ne!(before, after);
    let (status, _) = s.send("DELETE", "/workbooks/none", Some(&s.token), "").await;
    assert_eq!(status, 404);
}

/// A valid token used against another site's id is refused (403 or 404 on Tableau, never a write).
#[tokio::test]
async fn boundary_another_sites_id_is_refused_and_changes_nothing() {
    let (_emulator, s) = start(EmulatorConfig::default()).await;
    let before = s.snapshot().await;
    let other = "6f1c3c3a-0000-4000-8000-000000000000";
    for (method, path, body) in [
        ("GET", format!("/sites/{other}/projects"), String::new()),
        ("POST", format!("/sites/{other}/projects"), r#"<tsRequest><project name="Cross" /></tsRequest>"#.to_owned()),
        ("DELETE", format!("/sites/{other}/projects/{}", s.project), String::new()),
    ] {
        let (status, text) = s.send_raw(method, &path, Some(&s.token.clone()), body.into_bytes(), "text/xml").await;
        assert!(matches!(status, 401 | 403 | 404), "{method} {path} for another site: {status} {text}");
        assert!(!error_code(&text).is_empty(), "a Tableau error document: {text}");
    }
    assert_eq!(before, s.snapshot().await, "state changed by a request for another site");
}

/// Bodies over `max_body_bytes` get 413, XML and multipart alike, and change nothing.
#[tokio::test]
async fn boundary_oversized_bodies_get_413_and_change_nothing() {
    let config = EmulatorConfig { max_body_bytes: 64 * 1024, ..EmulatorConfig::default() };
    let (_emulator, s) = start(config).await;
    let before = s.snapshot().await;
    let padding = "x".repeat(256 * 1024);
    let xml = format!(r#"<tsRequest><project name="Big" description="{padding}" /></tsRequest>"#);
    let (status, text) = s.send("POST", "/projects", Some(&s.token), &xml).await;
    assert_eq!(status, 413, "{text}");
    let (status, text) = s.publish(s.multipart_body(&s.publish_payload("Big"), padding.as_bytes())).await;
    assert_eq!(status, 413, "{text}");
    assert_eq!(before, s.snapshot().await);
}

/// A single-request publish whose file is over the single-request limit (64 MB on Tableau Cloud: REST reference,
/// TSC `FILESIZE_LIMIT`) gets 413 and changes nothing; one at the limit is published.
#[tokio::test]
async fn boundary_single_request_publish_over_the_limit_gets_413() {
    assert_eq!(EmulatorConfig::default().max_single_publish_bytes, 64 * 1024 * 1024);
    let config = EmulatorConfig { max_single_publish_bytes: 4096, ..EmulatorConfig::default() };
    let (_emulator, s) = start(config).await;
    let before = s.snapshot().await;
    let file = |size: usize| {
        let mut twb = TWB.to_owned();
        twb.push_str(&format!("<!--{}-->", "x".repeat(size - TWB.len() - 7)));
        assert_eq!(twb.len(), size);
        twb
    };
    let (status, text) = s.publish(s.multipart_body(&s.publish_payload("Big"), file(4097).as_bytes())).await;
    assert_eq!((status, error_code(&text).as_str()), (413, "413000"), "{text}");
    assert!(text.contains("upload session"), "{text}");
    assert_eq!(before, s.snapshot().await);
    let (status, text) = s.publish(s.multipart_body(&s.publish_payload("Fits"), file(4096).as_bytes())).await;
    assert_eq!(status, 201, "{text}");
}

/// Broken multipart publishes get 400 and change nothing.
#[tokio::test]
async fn boundary_malformed_multipart_gets_400_and_changes_nothing() {
    let (_emulator, s) = start(EmulatorConfig::default()).await;
    let before = s.snapshot().await;
    let good = s.multipart_body(&s.publish_payload("Broken"), TWB.as_bytes());
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty body", Vec::new()),
        ("no closing boundary", good[..good.len() - 8].to_vec()),
        ("garbage", b"this is not multipart at all".to_vec()),
        ("payload only", format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"request_payload\"\r\n\r\n{}\r\n--{BOUNDARY}--\r\n", s.publish_payload("Broken")).into_bytes()),
        ("file only", format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"tableau_workbook\"; filename=\"w.twb\"\r\n\r\n{TWB}\r\n--{BOUNDARY}--\r\n").into_bytes()),
        ("payload not XML", s.multipart_body("<tsRequest><workbook", TWB.as_bytes())),
        ("no headers", format!("--{BOUNDARY}\r\n\r\n\r\n--{BOUNDARY}--\r\n").into_bytes()),
    ];
    for (name, body) in cases {
        let (status, text) = s.publish(body).await;
        assert!((400..500).contains(&status), "{name}: expected a 4xx, got {status}: {text}");
    }
    let path = format!("/sites/{}/workbooks?workbookType=twb", s.site);
    let (status, text) = s.send_raw("POST", &path, Some(&s.token.clone()), good.clone(), "multipart/mixed").await;
    assert!((400..500).contains(&status), "multipart without a boundary parameter: {status} {text}");
    assert_eq!(before, s.snapshot().await);
}

/// One random edit of a byte string: flip, insert, delete or truncate.
fn mutate(base: &[u8], edits: &[(u8, usize, u8)]) -> Vec<u8> {
    let mut bytes = base.to_vec();
    for &(kind, at, value) in edits {
        if bytes.is_empty() {
            bytes.push(value);
            continue;
        }
        let at = at % bytes.len();
        match kind % 4 {
            0 => bytes[at] = value,
            1 => bytes.insert(at, value),
            2 => {
                bytes.remove(at);
            }
            _ => bytes.truncate(at),
        }
    }
    bytes
}

fn edits() -> impl Strategy<Value = Vec<(u8, usize, u8)>> {
    prop::collection::vec(
        (any::<u8>(), any::<usize>(), prop_oneof![any::<u8>(), Just(b'<'), Just(b'"'), Just(b'&')]),
        1..6,
    )
}

/// Mutated TSC-shaped XML bodies for creates and updates: always an answer, never a 5xx.
#[test]
fn fuzz_xml_request_bodies_never_fail_the_server() {
    let rt = runtime();
    let (emulator, s) = rt.block_on(start(EmulatorConfig::default()));
    let project = s.project.clone();
    let bases: Vec<(&str, String, String)> = vec![
        ("POST", "/projects".into(), r#"<tsRequest><project name="P" description="d" contentPermissions="LockedToProject" /></tsRequest>"#.into()),
        ("POST", "/groups".into(), r#"<tsRequest><group name="G" minimumSiteRole="Viewer" /></tsRequest>"#.into()),
        ("POST", "/users".into(), r#"<tsRequest><user name="u@x.com" siteRole="Viewer" authSetting="ServerDefault" /></tsRequest>"#.into()),
        ("PUT", format!("/projects/{project}"), r#"<tsRequest><project name="Base" parentProjectId="" /></tsRequest>"#.into()),
        ("PUT", format!("/projects/{project}/permissions"), r#"<tsRequest><permissions><granteeCapabilities><group id="x" /><capabilities><capability name="Read" mode="Allow" /></capabilities></granteeCapabilities></permissions></tsRequest>"#.into()),
        ("POST", "/tasks/extractRefreshes".into(), r#"<tsRequest><extractRefresh type="FullRefresh"><datasource id="x" /></extractRefresh><schedule><frequencyDetails start="05:00:00"><intervals><interval weekDay="Monday" /></intervals></frequencyDetails></schedule></tsRequest>"#.into()),
    ];
    let config = ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() };
    let cases = AtomicUsize::new(0);
    proptest!(config, |(which in 0..bases.len(), edits in edits())| {
        let (method, path, body) = &bases[which];
        let mutated = mutate(body.as_bytes(), &edits);
        let full = format!("/sites/{}{path}", s.site);
        let (status, text) = rt.block_on(s.send_raw(method, &full, Some(&s.token.clone()), mutated, "text/xml"));
        prop_assert!(status < 500, "{method} {path}: {status} {text}");
        cases.fetch_add(1, Ordering::SeqCst);
    });
    assert_eq!(cases.load(Ordering::SeqCst), 256);
    rt.block_on(s.snapshot());
    rt.block_on(emulator.shutdown());
}

/// Mutated TSC-shaped multipart publishes: always an answer, never a 5xx.
#[test]
fn fuzz_multipart_publishes_never_fail_the_server() {
    let rt = runtime();
    let (emulator, s) = rt.block_on(start(EmulatorConfig::default()));
    let base = s.multipart_body(&s.publish_payload("Fuzz"), TWB.as_bytes());
    let config = ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() };
    let (cases, refused) = (AtomicUsize::new(0), AtomicUsize::new(0));
    proptest!(config, |(edits in edits())| {
        let mutated = mutate(&base, &edits);
        let (status, text) = rt.block_on(s.publish(mutated));
        prop_assert!(status < 500, "{status} {text}");
        if status >= 400 {
            refused.fetch_add(1, Ordering::SeqCst);
        }
        cases.fetch_add(1, Ordering::SeqCst);
    });
    assert_eq!(cases.load(Ordering::SeqCst), 256);
    assert!(refused.load(Ordering::SeqCst) > 0, "mutations must reach the parser's error paths");
    rt.block_on(s.snapshot());
    rt.block_on(emulator.shutdown());
}

// ---- Issue 19 ("Security II"): the emulator is a test server, and says so. ----

/// `<tsRequest><credentials a0="x" a1="x" ...>`: one element with `n` attributes (plus the real ones).
fn many_attributes(element: &str, n: usize, real: &str, inner: &str) -> String {
    let mut attrs = String::with_capacity(n * 12);
    for i in 0..n {
        attrs.push_str(&format!(" a{i}=\"x\""));
    }
    format!("<tsRequest><{element} {real}{attrs}>{inner}</{element}></tsRequest>")
}

/// quick-xml's duplicate-attribute check is quadratic: 200,000 attributes in one element burned 23 s of CPU on an
/// unauthenticated sign-in. Now the count is capped (400 at once) and a published workbook's elements are read
/// past the cap without cost.
#[tokio::test]
async fn attributes_200000_on_one_element_cost_milliseconds() {
    let (_emulator, s) = start(EmulatorConfig::default()).await;
    let before = s.snapshot().await;
    let sign_in = many_attributes(
        "credentials",
        200_000,
        r#"personalAccessTokenName="tabops" personalAccessTokenSecret="tabops-local-secret""#,
        r#"<site contentUrl="acme" />"#,
    );
    let started = std::time::Instant::now();
    let (status, text) = s.send_raw("POST", "/auth/signin", None, sign_in.into_bytes(), "text/xml").await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("more than 256 attributes"), "{text}");
    let project = many_attributes("project", 200_000, r#"name="Wide""#, "");
    let (status, text) = s.send("POST", "/projects", Some(&s.token), &project).await;
    assert_eq!(status, 400, "{text}");
    let duplicate = r#"<tsRequest><project name="A" name="B" /></tsRequest>"#;
    let (status, text) = s.send("POST", "/projects", Some(&s.token), duplicate).await;
    assert_eq!(status, 400, "duplicate attributes are not well-formed XML: {text}");
    assert_eq!(before, s.snapshot().await, "nothing was created");
    // A workbook whose worksheet carries 200,000 attributes publishes, and its view is still found.
    let mut twb = String::from("<?xml version='1.0'?><workbook><worksheets><worksheet name='Sales'");
    for i in 0..200_000 {
        twb.push_str(&format!(" a{i}='x'"));
    }
    twb.push_str("/></worksheets></workbook>");
    let (status, text) = s.publish(s.multipart_body(&s.publish_payload("Wide"), twb.as_bytes())).await;
    assert_eq!(status, 201, "{text}");
    let elapsed = started.elapsed();
    let workbook = attr(&text, "workbook", "id").expect("workbook id");
    let (status, views) = s.send("GET", &format!("/workbooks/{workbook}/views"), Some(&s.token), "").await;
    assert_eq!(status, 200, "{views}");
    assert!(views.contains(r#"name="Sales""#), "{views}");
    assert!(elapsed < Duration::from_secs(10), "three 200,000-attribute bodies took {elapsed:?}");
}

/// Signs in with a PAT and returns the token.
async fn sign_in_as(s: &Site, name: &str, secret: &str) -> String {
    let body = format!(
        r#"<tsRequest><credentials personalAccessTokenName="{name}" personalAccessTokenSecret="{secret}"><site contentUrl="acme" /></credentials></tsRequest>"#
    );
    let (status, text) = s.send_raw("POST", "/auth/signin", None, body.into_bytes(), "text/xml").await;
    assert_eq!(status, 200, "{text}");
    attr(&text, "credentials", "token").expect("token")
}

impl Site {
    async fn initiate_upload(&self, token: &str) -> String {
        let (status, text) = self.send("POST", "/fileUploads", Some(token), "").await;
        assert_eq!(status, 201, "{text}");
        attr(&text, "fileUpload", "uploadSessionId").expect("upload session id")
    }

    async fn append(&self, token: &str, id: &str, chunk: &[u8]) -> (u16, String) {
        let mut body = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"request_payload\"\r\nContent-Type: text/xml\r\n\r\n\
             \r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"tableau_file\"; filename=\"file\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(chunk);
        body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        let path = format!("/sites/{}/fileUploads/{id}", self.site);
        self.send_raw("PUT", &path, Some(token), body, &format!("multipart/mixed; boundary={BOUNDARY}")).await
    }

    async fn commit(&self, token: &str, id: &str, name: &str) -> (u16, String) {
        let payload = self.publish_payload(name);
        let body = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"request_payload\"\r\nContent-Type: text/xml\r\n\r\n\
             {payload}\r\n--{BOUNDARY}--\r\n"
        );
        let path = format!("/sites/{}/workbooks?workbookType=twb&uploadSessionId={id}", self.site);
        let content_type = format!("multipart/mixed; boundary={BOUNDARY}");
        self.send_raw("POST", &path, Some(token), body.into_bytes(), &content_type).await
    }
}

/// An upload session belongs to the token that opened it: another PAT can neither append to it nor publish it
/// (404015, as for an id that does not exist), and the owner's upload is unharmed.
#[tokio::test]
async fn upload_session_of_another_token_is_404_and_unharmed() {
    let config = EmulatorConfig {
        pats: vec![
            ("tabops".into(), tabops_emulator::DEFAULT_PAT_SECRET.into()),
            ("intruder".into(), "intruder-secret".into()),
        ],
        ..EmulatorConfig::default()
    };
    let (_emulator, s) = start(config).await;
    let id = s.initiate_upload(&s.token).await;
    let (status, text) = s.append(&s.token, &id, &TWB.as_bytes()[..20]).await;
    assert_eq!(status, 200, "{text}");
    let intruder = sign_in_as(&s, "intruder", "intruder-secret").await;
    let before = s.snapshot().await;
    let (status, text) = s.append(&intruder, &id, b"<evil/>").await;
    assert_eq!((status, error_code(&text).as_str()), (404, "404015"), "{text}");
    let (status, text) = s.commit(&intruder, &id, "Hijacked").await;
    assert_eq!((status, error_code(&text).as_str()), (404, "404015"), "{text}");
    assert_eq!(before, s.snapshot().await, "the intruder changed nothing");
    let (status, text) = s.append(&s.token, &id, &TWB.as_bytes()[20..]).await;
    assert_eq!(status, 200, "{text}");
    let (status, text) = s.commit(&s.token, &id, "Mine").await;
    assert_eq!(status, 201, "the owner's upload completes: {text}");
    let (status, text) = s.send("GET", "/workbooks", Some(&s.token), "").await;
    assert_eq!(status, 200);
    assert!(text.contains(r#"name="Mine""#) && !text.contains("Hijacked"), "{text}");
}

/// Upload sessions expire when idle, and their spilled bytes go with them.
#[tokio::test]
async fn upload_sessions_expire_when_idle_with_their_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state_file = dir.path().join("acme.json");
    let config = EmulatorConfig {
        upload_idle: Duration::from_millis(300),
        state_file: Some(state_file.clone()),
        ..EmulatorConfig::default()
    };
    let (_emulator, s) = start(config).await;
    let blobs = dir.path().join("acme.json.blobs");
    let count = || std::fs::read_dir(&blobs).map(|d| d.count()).unwrap_or(0);
    let id = s.initiate_upload(&s.token).await;
    // Past the 8 MiB spill threshold, so the session holds a file on disk.
    let (status, text) = s.append(&s.token, &id, &vec![b'x'; 9 * 1024 * 1024]).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(count(), 1, "the session's bytes spilled to disk");
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (status, text) = s.append(&s.token, &id, b"more").await;
    assert_eq!((status, error_code(&text).as_str()), (404, "404015"), "expired: {text}");
    assert_eq!(count(), 0, "the expired session's file is deleted");
    // A session in use keeps living.
    let id = s.initiate_upload(&s.token).await;
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let (status, text) = s.append(&s.token, &id, b"chunk").await;
        assert_eq!(status, 200, "{text}");
    }
}

async fn hook(s: &Site, method: &str, hook: &str) -> (u16, String) {
    let url = s.base.replace("/api/3.25", "");
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let response = s.http.request(method, format!("{url}/_emulator/{hook}")).send().await.expect("hook answers");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

/// Without `test_hooks`, the state-changing hooks are refused (403) and change nothing; stats stay readable.
#[tokio::test]
async fn state_changing_hooks_are_off_without_test_hooks() {
    let (emulator, s) = start(EmulatorConfig::default()).await;
    for h in ["stats/reset", "sessions/expire", "stall?requests=1000&ms=60000", "jobs/fail-next?count=5"] {
        let (status, text) = hook(&s, "POST", h).await;
        assert_eq!(status, 403, "{h}: {text}");
        assert!(text.contains("--test-hooks"), "{text}");
    }
    let (status, text) = hook(&s, "GET", "stats").await;
    assert_eq!(status, 200, "{text}");
    assert!(emulator.stats().requests_total > 0, "stats were not reset");
    // Sessions were not expired, and no request is stalled.
    let started = std::time::Instant::now();
    let (status, _) = s.send("GET", "/projects", Some(&s.token), "").await;
    assert_eq!(status, 200, "the session still works");
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// With `test_hooks`, every parameter is bounded: `stall?ms=u64::MAX` would hang every later request forever.
#[tokio::test]
async fn hook_parameters_are_bounded() {
    let (_emulator, s) = start(EmulatorConfig { test_hooks: true, ..EmulatorConfig::default() }).await;
    for h in [
        format!("stall?requests=1&ms={}", u64::MAX),
        "stall?requests=1&ms=60001".to_owned(),
        format!("stall?requests={}&ms=1", u64::MAX),
        "stall?requests=1001&ms=1".to_owned(),
        format!("jobs/fail-next?count={}", u32::MAX),
        "jobs/fail-next?count=1001".to_owned(),
    ] {
        let (status, text) = hook(&s, "POST", &h).await;
        assert_eq!(status, 400, "{h}: {text}");
    }
    let started = std::time::Instant::now();
    let (status, _) = s.send("GET", "/projects", Some(&s.token), "").await;
    assert_eq!(status, 200);
    assert!(started.elapsed() < Duration::from_secs(5), "no stall was armed");
    for h in ["stall?requests=1&ms=10", "jobs/fail-next?count=1000", "jobs/fail-next?count=1000", "stats/reset"] {
        let (status, text) = hook(&s, "POST", h).await;
        assert_eq!(status, 204, "{h}: {text}");
    }
    let (status, text) = hook(&s, "POST", "sessions/expire").await;
    assert_eq!(status, 204, "{text}");
    let (status, _) = s.send("GET", "/projects", Some(&s.token), "").await;
    assert_eq!(status, 401, "the hook did expire the session");
}

/// A listen beyond loopback with the well-known default token is refused; with a private token it is allowed.
#[tokio::test]
async fn non_loopback_listen_needs_a_private_token() {
    let public: std::net::SocketAddr = "0.0.0.0:0".parse().expect("address");
    for pats in [Vec::new(), vec![("ci".to_owned(), tabops_emulator::DEFAULT_PAT_SECRET.to_owned())]] {
        let config = EmulatorConfig { listen: public, pats, ..EmulatorConfig::default() };
        let err = Emulator::start(config).await.err().expect("refused");
        assert!(err.to_string().contains("not a loopback address"), "{err}");
    }
    let config = EmulatorConfig {
        listen: public,
        pats: vec![("ci".into(), "a-private-secret".into())],
        ..EmulatorConfig::default()
    };
    let emulator = Emulator::start(config).await.expect("a private token may serve other hosts");
    emulator.shutdown().await;
}

/// A state file naming a content file outside its blob directory (or a symlink inside it) is refused at start,
/// before anything is read or deleted.
#[tokio::test]
async fn planted_state_with_foreign_blob_paths_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state_file = dir.path().join("acme.json");
    let (emulator, s) =
        start(EmulatorConfig { state_file: Some(state_file.clone()), ..EmulatorConfig::default() }).await;
    let (status, text) = s.publish(s.multipart_body(&s.publish_payload("Kept"), TWB.as_bytes())).await;
    assert_eq!(status, 201, "{text}");
    emulator.shutdown().await;
    let state = std::fs::read_to_string(&state_file).expect("state saved");
    let blob_dir = dir.path().join("acme.json.blobs");
    let blob = std::fs::read_dir(&blob_dir).expect("blobs").next().expect("one blob").expect("entry").path();
    let blob_text = blob.to_str().expect("utf-8").to_owned();
    assert!(state.contains(&blob_text), "the state names {blob_text}");
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious").expect("victim");
    let start_with = |text: String| {
        std::fs::write(&state_file, text).expect("plant");
        Emulator::start(EmulatorConfig { state_file: Some(state_file.clone()), ..EmulatorConfig::default() })
    };
    for planted in [
        victim.to_str().expect("utf-8").to_owned(),
        format!("{}/../victim.txt", blob_dir.display()),
        format!("{}/{}", dir.path().display(), blob.file_name().expect("name").to_str().expect("utf-8")),
    ] {
        let err = start_with(state.replace(&blob_text, &planted)).await.err().expect("refused");
        assert!(format!("{err:?}").contains("Blob"), "{planted}: {err:?}");
    }
    // A symlink in the blob directory, in place of our own file.
    std::fs::remove_file(&blob).expect("remove blob");
    std::os::unix::fs::symlink(&victim, &blob).expect("symlink");
    let err = start_with(state.clone()).await.err().expect("refused");
    assert!(format!("{err:?}").contains("symlink"), "{err:?}");
    assert_eq!(std::fs::read_to_string(&victim).expect("victim"), "precious");
    // Our own file, as saved, loads.
    std::fs::remove_file(&blob).expect("remove link");
    std::fs::write(&blob, TWB).expect("restore");
    let emulator = start_with(state).await.expect("an honest state loads");
    emulator.shutdown().await;
}
