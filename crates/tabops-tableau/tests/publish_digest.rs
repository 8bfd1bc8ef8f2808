//! The client publishes only the bytes that were planned: it hashes a file while streaming it and cuts the upload
//! off before its last byte when the bytes do not hash to the expected digest, so a file changed between planning
//! and uploading is never published (single-request publishes and upload sessions alike).

use tabops_testkit::site as common;

use sha2::{Digest, Sha256};
use tabops_tableau::{Client, Error, ExpectedFile, PublishRequest};

fn expected_for(bytes: &[u8]) -> ExpectedFile {
    ExpectedFile { size: bytes.len() as u64, sha256: hex::encode(Sha256::digest(bytes)) }
}

/// A workbook, and a same-length variant whose bytes differ (as a file edited after planning would).
fn workbook_and_tampered(dir: &std::path::Path, padding: usize) -> (std::path::PathBuf, Vec<u8>, Vec<u8>) {
    let path = common::write_twb(dir, "Planned.twb", &["Sheet"]);
    let mut planned = std::fs::read(&path).expect("read");
    planned.extend_from_slice(b"<!-- ");
    planned.extend(std::iter::repeat_n(b'x', padding));
    planned.extend_from_slice(b" -->\n");
    let mut tampered = planned.clone();
    let at = tampered.len() - 10;
    tampered[at] = b'y';
    (path, planned, tampered)
}

async fn assert_refused(client: &Client, request: &PublishRequest) {
    let err = client.publish_workbook(request).await.expect_err("a changed file must not publish");
    let Error::ContentChanged { expected, actual, .. } = &err else { panic!("wrong error: {err:?}") };
    assert_ne!(expected, actual);
    assert!(err.to_string().contains("changed since it was planned"), "{err}");
    // The emulator saw the request start, but its body was cut off before the end: nothing was published.
    assert!(client.workbooks().await.expect("list").iter().all(|w| w.name != "Planned"), "nothing published");
}

#[tokio::test]
async fn a_file_changed_after_planning_is_cut_off_in_a_single_request_publish() {
    let emu = common::emulator().await;
    let client = common::client(&emu).await;
    let project = common::default_project(&client).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, planned, tampered) = workbook_and_tampered(dir.path(), 200 * 1024);
    std::fs::write(&path, &tampered).expect("write");
    let request = PublishRequest {
        file: path.clone(),
        name: "Planned".into(),
        project_id: project,
        expected: Some(expected_for(&planned)),
        ..Default::default()
    };
    assert_refused(&client, &request).await;

    // The planned bytes publish, and exactly they arrive.
    std::fs::write(&path, &planned).expect("write");
    let published = client.publish_workbook(&request).await.expect("publish");
    let tabops_tableau::PublishedItem::Item(workbook) = published else { panic!("not a job") };
    let back = dir.path().join("back.twb");
    client.download_workbook(&workbook.id, &back).await.expect("download");
    assert_eq!(std::fs::read(&back).expect("read"), planned);
}

#[tokio::test]
async fn a_file_changed_after_planning_never_completes_an_upload_session() {
    let emu = common::emulator().await;
    let mut config = common::config(&emu);
    config.upload_threshold = 64 * 1024;
    config.chunk_size = 40 * 1024;
    let client = Client::sign_in(config).await.expect("sign in");
    let project = common::default_project(&client).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, planned, tampered) = workbook_and_tampered(dir.path(), 150 * 1024);
    std::fs::write(&path, &tampered).expect("write");
    let request = PublishRequest {
        file: path.clone(),
        name: "Planned".into(),
        project_id: project,
        expected: Some(expected_for(&planned)),
        ..Default::default()
    };
    assert_refused(&client, &request).await;
    assert_eq!(client.stats().count("POST /sites/{site}/workbooks"), 0, "the session is never committed");

    std::fs::write(&path, &planned).expect("write");
    client.publish_workbook(&request).await.expect("the planned bytes publish through a session");
}

#[tokio::test]
async fn a_file_of_another_size_is_refused_before_anything_is_sent() {
    let emu = common::emulator().await;
    let client = common::client(&emu).await;
    let project = common::default_project(&client).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, planned, _) = workbook_and_tampered(dir.path(), 1024);
    std::fs::write(&path, &planned[..planned.len() - 1]).expect("write");
    let before = emu.stats().requests_total;
    let request = PublishRequest {
        file: path,
        name: "Planned".into(),
        project_id: project,
        expected: Some(expected_for(&planned)),
        ..Default::default()
    };
    let err = client.publish_workbook(&request).await.expect_err("refused");
    assert!(matches!(err, Error::ContentChanged { .. }), "{err:?}");
    assert_eq!(emu.stats().requests_total, before, "nothing sent");
}
