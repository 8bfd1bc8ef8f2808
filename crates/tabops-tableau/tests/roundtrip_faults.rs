//! Retries under the emulator's seeded fault injection (429 with Retry-After, 500, 503, connection resets, writes
//! applied with the response lost): reads always succeed, writes never duplicate, exhaustion surfaces an error.
//! On tokio's paused clock (as in roundtrip_limits.rs): the injected 429s ask for a 1 s wait each, which the
//! client honours with tokio timers, so the file spent about 5 s of wall time waiting; nothing here asserts a
//! duration, so the clock only changes how long the run takes.

use tabops_testkit::site as common;

use std::time::Duration;

use tabops_emulator::EmulatorConfig;
use tabops_tableau::{Client, Error, NewProject, RetryPolicy};

fn faulty(rate: f64, seed: u64) -> EmulatorConfig {
    EmulatorConfig { fault_rate: rate, fault_seed: seed, ..Default::default() }
}

fn patient(emu: &tabops_emulator::Emulator) -> tabops_tableau::ClientConfig {
    let mut config = common::config(emu);
    config.retry = RetryPolicy {
        max_attempts: 10,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
        ..RetryPolicy::default()
    };
    config
}

#[tokio::test(start_paused = true)]
async fn reads_succeed_through_injected_faults() {
    let emu = common::emulator_with(faulty(0.3, 42)).await;
    let client = Client::sign_in(patient(&emu)).await.expect("sign-in is retried through 429/503");
    for _ in 0..40 {
        let projects = client.projects().await.expect("list retried until it succeeds");
        assert!(projects.iter().any(|p| p.name == "default"));
    }
    let stats = client.stats();
    assert!(stats.retries > 0, "faults were injected and retried: {stats:?}");
    assert_eq!(stats.requests, 41 + stats.retries, "every retry is one extra request: {stats:?}");
    assert_eq!(emu.stats().requests_total, stats.requests);
}

#[tokio::test(start_paused = true)]
async fn non_idempotent_writes_are_never_duplicated() {
    let emu = common::emulator_with(faulty(0.35, 7)).await;
    let client = Client::sign_in(patient(&emu)).await.expect("sign in");
    let mut ambiguous = 0;
    for i in 0..30 {
        let name = format!("P{i}");
        loop {
            match client.create_project(&NewProject { name: name.clone(), ..Default::default() }).await {
                Ok(_) => break,
                Err(e) if e.is_ambiguous() => {
                    ambiguous += 1;
                    // Read back before retrying, as the executor does.
                    if client.projects().await.expect("read back").iter().any(|p| p.name == name) {
                        break;
                    }
                }
                Err(e) if e.is_conflict() => panic!("a retried create hit its own earlier success: {e}"),
                Err(e) if e.is_retryable() => {}
                Err(e) => panic!("unexpected error: {e}"),
            }
        }
    }
    let projects = client.projects().await.expect("list");
    for i in 0..30 {
        let n = projects.iter().filter(|p| p.name == format!("P{i}")).count();
        assert_eq!(n, 1, "P{i} exists exactly once");
    }
    assert!(ambiguous > 0, "the seed produces at least one lost response or reset on a create");
}

#[tokio::test(start_paused = true)]
async fn idempotent_deletes_survive_lost_responses() {
    let emu = common::emulator_with(faulty(0.4, 99)).await;
    let client = Client::sign_in(patient(&emu)).await.expect("sign in");
    let mut ids = Vec::new();
    for i in 0..20 {
        let name = format!("D{i}");
        loop {
            match client.create_project(&NewProject { name: name.clone(), ..Default::default() }).await {
                Ok(p) => {
                    ids.push(p.id);
                    break;
                }
                Err(e) if e.is_ambiguous() || e.is_retryable() => {
                    if let Some(p) = client.projects().await.expect("read back").into_iter().find(|p| p.name == name) {
                        ids.push(p.id);
                        break;
                    }
                }
                Err(e) => panic!("unexpected: {e}"),
            }
        }
    }
    for id in &ids {
        client.delete_project(id).await.expect("delete is retried; a retry finding it gone counts as done");
    }
    let left = client.projects().await.expect("list");
    assert!(left.iter().all(|p| !p.name.starts_with('D')), "{left:?}");
}

#[tokio::test(start_paused = true)]
async fn exhausted_retries_surface_the_last_error() {
    let emu = common::emulator_with(faulty(1.0, 1)).await;
    let mut config = common::config(&emu);
    config.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        ..RetryPolicy::default()
    };
    let err = Client::sign_in(config).await.expect_err("every attempt fails");
    assert!(matches!(err.status(), Some(429 | 503)), "{err}");
    assert!(err.is_retryable());
    assert_eq!(emu.stats().requests_total, 3, "max_attempts bounds the requests");
}

/// Nothing listens at the address on the first contact (the sign-in): reported at once, naming the address, and
/// not retried, since nothing has ever answered there. Later refusals, mid-session, stay retryable `Http` errors.
#[tokio::test(start_paused = true)]
async fn a_refused_first_connection_fails_at_once_naming_the_address() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let mut config = tabops_tableau::ClientConfig::new(
        format!("http://{addr}").parse().expect("url"),
        "acme",
        tabops_tableau::Credentials::Pat { name: "n".into(), secret: tabops_tableau::Secret::new("s") },
    );
    config.retry = RetryPolicy {
        max_attempts: 5,
        base_delay: Duration::from_secs(60),
        max_delay: Duration::from_secs(60),
        ..RetryPolicy::default()
    };
    let started = tokio::time::Instant::now();
    let err = Client::sign_in(config).await.expect_err("nothing listens");
    let Error::Unreachable { address, reason, .. } = &err else { panic!("{err:?}") };
    assert_eq!(address, &addr.to_string());
    assert_eq!(reason, "connection refused");
    assert!(!err.is_retryable());
    // The paused clock advances only through backoff sleeps: none were taken.
    assert!(started.elapsed() < Duration::from_secs(60), "retried: {:?}", started.elapsed());
}
