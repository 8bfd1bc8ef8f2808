//! The pipeline the CLI and the benchmark share, against the emulator over real HTTP on 127.0.0.1: the phases it
//! reports, the request counters of the read before the early sign-out, and refusals that send nothing.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use tabops_emulator::{Emulator, EmulatorConfig};
use tabops_reconcile::{ErrorKind, ManifestSource, Observer, Phase, Safety, Session, SiteOptions};
use tabops_tableau::{Client, Credentials};

fn quickstart() -> ManifestSource {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/quickstart");
    ManifestSource { file, env: None, git_ref: None, repo: None, vars: Default::default() }
}

fn site(emulator: &Emulator, content_url: &str) -> SiteOptions {
    SiteOptions {
        server: Some(emulator.url()),
        site: Some(content_url.to_owned()),
        credentials: Some(Credentials::Pat {
            name: tabops_emulator::DEFAULT_PAT_NAME.to_owned(),
            secret: tabops_emulator::DEFAULT_PAT_SECRET.into(),
        }),
        ..SiteOptions::default()
    }
}

/// Everything the pipeline reported, in order.
#[derive(Default)]
struct Recorded {
    phases: Mutex<Vec<Phase>>,
    read_requests: Mutex<Vec<u64>>,
}

impl Observer for Recorded {
    fn phase(&self, phase: Phase, _elapsed: Duration) {
        self.phases.lock().unwrap().push(phase);
    }

    fn site_read(&self, client: &Client) {
        self.read_requests.lock().unwrap().push(client.stats().requests);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepare_reports_each_phase_once_in_order_and_the_read_before_signing_out() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.expect("emulator");
    let recorded = Recorded::default();
    let prepared = tabops_reconcile::prepare(
        &quickstart(),
        &site(&emulator, "acme"),
        &Safety::default(),
        Session::SignOutAfterRead,
        &recorded,
    )
    .await
    .expect("prepare");
    assert_eq!(*recorded.phases.lock().unwrap(), [Phase::Load, Phase::SignIn, Phase::Fetch, Phase::Plan]);
    let read = recorded.read_requests.lock().unwrap().clone();
    assert_eq!(read.len(), 1, "site_read is called once");
    // The read's counters: sign-in and the inventory reads, and nothing after (the sign-out comes later).
    let at_emulator = emulator.stats().requests_total;
    assert!(read[0] > 1 && read[0] <= at_emulator, "read {read:?}, emulator saw {at_emulator}");
    // A fresh site: the quickstart's objects are all to be created, and the plan can be applied.
    assert!(prepared.plan.applyable && prepared.plan.has_changes());
    assert_eq!(prepared.loaded.desired.site.content_url, "acme");
    prepared.site.close().await;
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_content_url_is_refused_with_a_hint_before_anything_is_sent() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.expect("emulator");
    let recorded = Recorded::default();
    let result = tabops_reconcile::prepare(
        &quickstart(),
        &site(&emulator, "../../etc"),
        &Safety::default(),
        Session::SignOutAfterRead,
        &recorded,
    )
    .await;
    let err = result.err().expect("an invalid content URL is refused");
    assert!(matches!(err.kind(), ErrorKind::InvalidContentUrl(url) if url == "../../etc"), "{err:?}");
    assert!(err.to_string().contains("nothing was sent"), "{err}");
    assert!(err.hint().is_some_and(|hint| hint.contains("--site")), "{:?}", err.hint());
    assert_eq!(emulator.stats().requests_total, 0, "nothing reached the site");
    assert_eq!(*recorded.phases.lock().unwrap(), [Phase::Load], "the manifest was loaded, nothing more");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_manifest_says_where_it_looked_and_how_to_point_at_one() {
    let missing = ManifestSource { file: PathBuf::from("/nonexistent/tabops"), ..quickstart() };
    let err = tabops_reconcile::load(&missing).await.expect("load runs").expect_err("nothing there");
    let err = tabops_reconcile::unreadable(&missing.file, err);
    assert!(matches!(err.kind(), ErrorKind::NoManifest { .. }), "{err:?}");
    assert_eq!(err.to_string(), "there is no manifest at `/nonexistent/tabops`");
    assert!(err.hint().is_some_and(|hint| hint.starts_with("pass -f PATH")), "{:?}", err.hint());
}
