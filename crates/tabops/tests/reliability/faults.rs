//! Scenario 1, faults: a plan of several hundred actions applied while the emulator injects 429 (Retry-After),
//! 500, 503, dropped connections and writes applied with the response lost, re-run until it exits 0; then the
//! site holds exactly the manifest (no duplicates, nothing lost, a following plan has no changes), the audit log
//! verifies and records the retries. Also sessions expiring mid-apply and requests outliving the client timeout.

use std::time::{Duration, Instant};

use tabops_emulator::EmulatorConfig;

use super::common::{self, Census, LARGE, MEDIUM};
use crate::support::{Harness, path_str};

/// Figures of one converged faulty run, printed for RELIABILITY.md (`--nocapture`).
struct Figures {
    seed: u64,
    runs: usize,
    requests: u64,
    faults: u64,
    audited_retries: usize,
    elapsed: Duration,
}

fn converge_under_faults(seed: u64, rate: f64) -> Figures {
    let began = Instant::now();
    let config = EmulatorConfig { fault_rate: rate, fault_seed: seed, ..EmulatorConfig::default() };
    let harness = Harness::start_with(config, tabops_emulator::DEFAULT_PAT_SECRET);
    let manifest = common::generate_manifest(harness.dir.path(), LARGE);
    let first = harness.tabops(&["plan", "-f", path_str(&manifest), "--format", "json"]);
    if first.code == 0 {
        let plan: serde_json::Value = serde_json::from_str(&first.stdout).unwrap();
        let changes = crate::support::changes(&plan).len();
        assert!(changes >= 300, "the scenario needs a plan of at least 300 actions, got {changes}");
    }

    let runs = common::apply_until_converged(&harness, &manifest, 8);
    common::assert_no_changes(&harness, &manifest);
    let census = Census::take(&harness);
    census.assert_no_duplicates();
    census.assert_complete(LARGE);

    let verify = common::audit_verify(&harness);
    assert_eq!(verify.code, 0, "audit verify failed:\n{}\n{}", verify.stdout, verify.stderr);
    let events = common::audit_events(&harness);
    let retries: Vec<&serde_json::Value> = events.iter().filter(|e| common::event_name(e) == "action_retry").collect();
    assert!(!retries.is_empty(), "a faulty apply must record its retries in the audit log");
    for retry in &retries {
        let reason = retry["data"]["reason"].as_str().unwrap_or_default();
        assert!(!reason.is_empty(), "every retry names its reason: {retry}");
    }
    let stats = harness.stats();
    Figures {
        seed,
        runs: runs.len(),
        requests: stats.requests_total,
        faults: stats.faults_total,
        audited_retries: retries.len(),
        elapsed: began.elapsed(),
    }
}

fn report(figures: &Figures) {
    eprintln!(
        "faults seed={} runs={} requests={} faults_injected={} audited_retries={} items_lost=0 duplicates=0 elapsed={:.1}s",
        figures.seed,
        figures.runs,
        figures.requests,
        figures.faults,
        figures.audited_retries,
        figures.elapsed.as_secs_f64()
    );
}

/// The CI-sized run: seeds 1, 2 and 3 at a 20% fault rate, each on its own emulator, concurrently (the runs are
/// bound by retry waits, not CPU, so three at once take about as long as one).
#[test]
fn faults_converge_at_20_percent_for_three_seeds() {
    let runs: Vec<_> = [1, 2, 3]
        .into_iter()
        .map(|seed| {
            std::thread::Builder::new().name(format!("seed-{seed}")).spawn(move || converge_under_faults(seed, 0.2))
        })
        .collect::<Result<_, _>>()
        .unwrap();
    let mut failed = Vec::new();
    for (seed, run) in [1, 2, 3].into_iter().zip(runs) {
        match run.join() {
            Ok(figures) => report(&figures),
            Err(_) => failed.push(seed),
        }
    }
    assert!(failed.is_empty(), "seeds {failed:?} did not converge (their panics are printed above)");
}

/// The soak: `TABOPS_SOAK_SEEDS=50 cargo test --release -p tabops --test reliability -- --ignored --nocapture`.
#[test]
#[ignore = "soak run; see RELIABILITY.md"]
fn faults_soak() {
    let seeds: u64 = std::env::var("TABOPS_SOAK_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(20);
    let rate: f64 = std::env::var("TABOPS_SOAK_FAULT_RATE").ok().and_then(|s| s.parse().ok()).unwrap_or(0.2);
    for seed in 100..100 + seeds {
        report(&converge_under_faults(seed, rate));
    }
}

/// Every session ends while the apply runs (as when someone signs in elsewhere with the same PAT): the client
/// signs in again once per expiry, the apply completes in one run, and the audit log names the re-sign-ins.
#[test]
fn faults_sessions_expire_mid_apply() {
    let harness = Harness::start_with(
        EmulatorConfig { test_hooks: true, ..EmulatorConfig::default() },
        tabops_emulator::DEFAULT_PAT_SECRET,
    );
    let manifest = common::generate_manifest(harness.dir.path(), MEDIUM);
    let child = common::spawn_apply(&harness, &manifest, &["--concurrency", "2"]);
    let url = harness.url();
    let mut expired = 0;
    // Expire sessions every few audit lines while the child runs; one expiry is a second sign-in with the PAT.
    let mut last = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut child = child;
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        let lines = common::audit_lines(&harness);
        if lines >= last + 15 {
            last = lines;
            if expired % 2 == 0 {
                assert_eq!(common::hook(&url, "sessions/expire"), 204);
            } else {
                common::sign_in(&url, &harness.pat_secret);
            }
            expired += 1;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let run = common::finish(child);
    assert_eq!(run.code, 0, "apply must survive expired sessions\n{}\n{}", run.stdout, run.stderr);
    assert!(expired >= 3, "the scenario must expire sessions several times mid-run, did {expired}");
    let re_sign_ins = common::audit_events(&harness)
        .iter()
        .filter(|e| common::event_name(e) == "action_retry")
        .filter(|e| e["data"]["reason"].as_str().unwrap_or_default().contains("401002"))
        .count();
    assert!(re_sign_ins >= 1, "the audit log records the re-sign-ins");
    common::assert_no_changes(&harness, &manifest);
    Census::take(&harness).assert_no_duplicates();
}

/// Some requests take longer than the client's timeout (`--request-timeout 1`, the emulator stalls them 2 s):
/// reads are retried, writes are read back, and the apply converges without duplicates.
#[test]
fn faults_requests_outlive_the_timeout() {
    let harness = Harness::start_with(
        EmulatorConfig { test_hooks: true, ..EmulatorConfig::default() },
        tabops_emulator::DEFAULT_PAT_SECRET,
    );
    let manifest = common::generate_manifest(harness.dir.path(), MEDIUM);
    let url = harness.url();
    let mut runs = 0;
    let mut stalled = 0;
    loop {
        runs += 1;
        let mut child = common::spawn_apply(&harness, &manifest, &["--request-timeout", "1"]);
        // Stall a burst of requests whenever the run has made some progress.
        let mut armed_at = common::audit_lines(&harness);
        while child.try_wait().unwrap().is_none() {
            let lines = common::audit_lines(&harness);
            if stalled < 3 && lines >= armed_at + 20 {
                assert_eq!(common::hook(&url, "stall?requests=3&ms=2000"), 204);
                armed_at = lines;
                stalled += 1;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let run = common::finish(child);
        if run.code == 0 {
            break;
        }
        assert!(runs < 6, "apply did not converge after timeouts\n{}\n{}", run.stdout, run.stderr);
    }
    assert!(stalled >= 2, "the scenario must stall requests mid-run, did {stalled}");
    common::assert_no_changes(&harness, &manifest);
    let census = Census::take(&harness);
    census.assert_no_duplicates();
    census.assert_complete(MEDIUM);
    let verify = common::audit_verify(&harness);
    assert_eq!(verify.code, 0, "{}\n{}", verify.stdout, verify.stderr);
    let timeouts = common::audit_events(&harness)
        .iter()
        .filter(|e| matches!(common::event_name(e), "action_retry" | "action_errored"))
        .filter(|e| e.to_string().to_lowercase().contains("time"))
        .count();
    assert!(timeouts >= 1, "the audit log records the timed-out requests");
}
