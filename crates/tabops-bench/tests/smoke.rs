//! Smoke test of the benchmark suite at a tiny scale: the generator's manifest and emulator state load, a plan of
//! the generated site against a real emulator (HTTP on 127.0.0.1) is a no-op, a no-op apply makes zero writes, and
//! after changing one content file an apply republishes exactly that file and nothing else.

use tabops_bench::generate::{self, Scale, SyntheticSite};
use tabops_bench::measure::EmulatorDelta;
use tabops_bench::reconcile::{self, ReconcileOptions};
use tabops_emulator::{Emulator, EmulatorConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_site_plans_as_noop_and_noop_apply_makes_zero_writes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let scale = Scale::scaled(0.005);
    let site = SyntheticSite::new(scale, 7);
    let generated = generate::write(&site, dir.path()).expect("generate");
    assert!(generated.state_file.exists());

    let config = EmulatorConfig { state_file: Some(generated.state_file.clone()), ..EmulatorConfig::default() };
    let emulator = Emulator::start(config).await.expect("emulator loads the generated state");
    let server = url::Url::parse(&emulator.url()).expect("url");
    let mut options = ReconcileOptions {
        server,
        site: generate::SITE.to_owned(),
        manifest: generated.manifest_dir.clone(),
        concurrency: 8,
        apply: None,
    };

    let before = emulator.stats();
    let plan = reconcile::run(&options).await.expect("plan");
    assert_eq!(plan.changes, 0, "the generated state matches the manifest: {:?}", plan.change_sample);
    assert_eq!(plan.plan_requests as usize, tabops_bench::report::minimum_plan_requests(&scale));
    let plan_delta = EmulatorDelta::between(&before, &emulator.stats());
    assert_eq!(plan_delta.writes, 0);
    assert_eq!(
        plan_delta.by_route.get("GET /sites/{id}/projects/{id}/permissions").copied(),
        Some(scale.projects as u64)
    );

    options.apply = Some(dir.path().join("audit.jsonl"));
    let before = emulator.stats();
    let noop = reconcile::run(&options).await.expect("no-op apply");
    let delta = EmulatorDelta::between(&before, &emulator.stats());
    assert_eq!(noop.changes, 0);
    assert_eq!(delta.writes, 0, "a no-op apply must not write: {:?}", delta.by_route);
    assert_eq!(delta.content_requests, 0);

    let changed = &site.workbooks[0];
    let body = generate::workbook_file(&changed.name, 1);
    std::fs::write(generated.manifest_dir.join(&changed.file), &body).expect("change one file");
    let before = emulator.stats();
    let applied = reconcile::run(&options).await.expect("apply one change");
    let delta = EmulatorDelta::between(&before, &emulator.stats());
    assert_eq!(applied.changes, 1, "{:?}", applied.change_sample);
    assert_eq!(applied.failed, 0);
    assert_eq!(delta.content_requests, 1, "{:?}", delta.by_route);
    assert!(delta.bytes_received >= body.len() as u64);

    options.apply = None;
    let replan = reconcile::run(&options).await.expect("plan after apply");
    assert_eq!(replan.changes, 0, "{:?}", replan.change_sample);
    emulator.shutdown().await;
}
