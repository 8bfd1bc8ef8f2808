//! Round trips for Cloud extract-refresh tasks, refresh-now, run-now and job waiting (success, cancel, timeout).

use tabops_testkit::site as common;

use std::time::Duration;

use tabops_emulator::EmulatorConfig;
use tabops_tableau::{
    Client, Error, Frequency, Interval, JobState, NewRefreshTask, PublishRequest, PublishedItem, RefreshTaskUpdate,
    Schedule, TaskTarget,
};

async fn publish_datasource(client: &Client, dir: &std::path::Path) -> String {
    let project = common::default_project(client).await;
    // An extract: Tableau refuses refreshes and refresh tasks for content without one (409090).
    let file = dir.join("Extract.tds");
    let xml = "<?xml version='1.0' encoding='utf-8' ?>\n<datasource formatted-name='Orders' version='18.1'><connection class='postgres' server='db.acme.com' port='5432' username='svc' dbname='sales'/><extract enabled='true'/></datasource>\n";
    std::fs::write(&file, xml).expect("write tds");
    match client
        .publish_datasource(&PublishRequest { file, name: "Extract".into(), project_id: project, ..Default::default() })
        .await
        .expect("publish")
    {
        PublishedItem::Item(ds) => ds.id,
        PublishedItem::Job(job) => panic!("unexpected job {job:?}"),
    }
}

fn weekly(start: &str, days: &[&str]) -> Schedule {
    Schedule {
        frequency: Frequency::Weekly,
        start: start.into(),
        end: None,
        intervals: days.iter().map(|d| Interval::WeekDay((*d).into())).collect(),
        next_run_at: None,
    }
}

#[tokio::test]
async fn refresh_task_create_list_get_update_run_delete() {
    let emu = common::emulator().await;
    let client = common::client(&emu).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = publish_datasource(&client, dir.path()).await;

    let task = client
        .create_refresh_task(&NewRefreshTask {
            target: TaskTarget::Datasource(ds.clone()),
            refresh_type: "FullRefresh".into(),
            schedule: weekly("02:30:00", &["Monday", "Friday"]),
        })
        .await
        .expect("create");
    assert_eq!(task.target, Some(TaskTarget::Datasource(ds.clone())));
    let schedule = task.schedule.clone().expect("create response carries the sibling schedule");
    assert_eq!(schedule.frequency, Frequency::Weekly);
    assert_eq!(schedule.intervals.len(), 2);

    let listed = client.refresh_tasks().await.expect("list");
    let found = listed.iter().find(|t| t.id == task.id).expect("listed");
    assert_eq!(found.schedule.as_ref().map(|s| s.start.as_str()), Some("02:30:00"), "nested schedule parsed");
    let got = client.refresh_task(&task.id).await.expect("get");
    assert_eq!(got.target, Some(TaskTarget::Datasource(ds.clone())));

    let daily = Schedule {
        frequency: Frequency::Daily,
        start: "06:00:00".into(),
        end: None,
        intervals: vec![Interval::Hours(24), Interval::WeekDay("Tuesday".into())],
        next_run_at: None,
    };
    let updated = client
        .update_refresh_task(&task.id, &RefreshTaskUpdate { schedule: Some(daily), ..Default::default() })
        .await
        .expect("update");
    assert_eq!(updated.schedule.as_ref().map(|s| s.frequency.clone()), Some(Frequency::Daily));

    // Cloud rules: Daily without a weekDay is rejected with 409004.
    let bad = Schedule { intervals: vec![Interval::Hours(24)], ..weekly("06:00:00", &[]) };
    let err = client
        .update_refresh_task(
            &task.id,
            &RefreshTaskUpdate {
                schedule: Some(Schedule { frequency: Frequency::Daily, ..bad }),
                ..Default::default()
            },
        )
        .await
        .expect_err("bad schedule");
    assert_eq!(err.code(), Some("409004"), "{err}");

    let job = client.run_refresh_task(&task.id).await.expect("run now");
    let done = client.wait_for_job(&job.id, Duration::from_secs(20)).await.expect("job completes");
    assert_eq!(done.state(), JobState::Succeeded);

    client.delete_refresh_task(&task.id).await.expect("delete");
    let err = client.refresh_task(&task.id).await.expect_err("gone");
    assert_eq!(err.code(), Some("404026"), "{err}");
}

#[tokio::test]
async fn refresh_now_duplicate_is_409093_and_jobs_can_be_cancelled() {
    let emu = common::emulator_with(EmulatorConfig {
        job_duration: Duration::from_secs(30),
        job_polls: 1000,
        ..Default::default()
    })
    .await;
    let client = common::client(&emu).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let ds = publish_datasource(&client, dir.path()).await;

    let job = client.refresh_datasource(&ds).await.expect("refresh now");
    assert_eq!(job.state(), JobState::Running);
    let err = client.refresh_datasource(&ds).await.expect_err("duplicate");
    assert_eq!(err.code(), Some("409093"), "{err}");
    assert!(err.is_conflict());

    let err = client.wait_for_job(&job.id, Duration::from_millis(600)).await.expect_err("still running");
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");

    client.cancel_job(&job.id).await.expect("cancel");
    let err = client.wait_for_job(&job.id, Duration::from_secs(5)).await.expect_err("cancelled");
    assert!(matches!(err, Error::JobCancelled { .. }), "{err:?}");
    let err = client.get_job("00000000-0000-0000-0000-000000000000").await.expect_err("unknown job");
    assert_eq!(err.code(), Some("404018"), "{err}");
}

#[tokio::test]
async fn workbook_refresh_now_waits_to_success() {
    let emu = common::emulator().await;
    let client = common::client(&emu).await;
    let project = common::default_project(&client).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = common::write_twb(dir.path(), "R.twb", &["S"]);
    // Give it an extract: Tableau refuses refreshes of workbooks without one (409090, TSC issue #1531).
    let xml = std::fs::read_to_string(&file).expect("read twb");
    std::fs::write(&file, xml.replace("</datasource>", "<extract enabled='true'/></datasource>")).expect("write twb");
    let PublishedItem::Item(wb) = client
        .publish_workbook(&PublishRequest { file, name: "R".into(), project_id: project, ..Default::default() })
        .await
        .expect("publish")
    else {
        panic!("expected item")
    };
    let job = client.refresh_workbook(&wb.id).await.expect("refresh");
    assert_eq!(job.workbook_id.as_deref(), Some(wb.id.as_str()));
    let done = client.wait_for_job(&job.id, Duration::from_secs(20)).await.expect("done");
    assert!(done.completed_at.is_some());
}

#[tokio::test]
async fn a_failed_refresh_job_is_a_typed_error_with_the_servers_notes() {
    // `test_hooks`: the failing job is armed through a state-changing hook.
    let emu = common::emulator_with(EmulatorConfig { test_hooks: true, ..Default::default() }).await;
    let client = common::client(&emu).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let datasource = publish_datasource(&client, dir.path()).await;
    // The emulator's test hook: the next extract refresh fails (finishCode 1, with notes), as a broken one does.
    let armed = reqwest::Client::new()
        .post(format!("{}/_emulator/jobs/fail-next?count=1", emu.url()))
        .send()
        .await
        .expect("hook");
    assert_eq!(armed.status(), 204);

    let job = client.refresh_datasource(&datasource).await.expect("refresh queued");
    match client.wait_for_job(&job.id, Duration::from_secs(20)).await {
        Err(Error::JobFailed { job_id, job_type, notes }) => {
            assert_eq!(job_id, job.id);
            assert_eq!(job_type, "RefreshExtract");
            assert!(notes.contains("asked to fail"), "notes: {notes}");
        }
        other => panic!("expected a failed job, got {other:?}"),
    }
    // Only the armed job fails: the next refresh succeeds.
    let next = client.refresh_datasource(&datasource).await.expect("second refresh");
    let done = client.wait_for_job(&next.id, Duration::from_secs(20)).await.expect("succeeds");
    assert_eq!(done.state(), JobState::Succeeded);
}
