//! Bounded concurrency and honouring the server's 429 wait, measured against the emulator's latency and fault
//! injection.

mod common;

use std::time::{Duration, Instant};

use tabops_emulator::EmulatorConfig;
use tabops_tableau::{Client, RetryPolicy};

#[tokio::test]
async fn requests_in_flight_are_bounded_by_the_semaphore() {
    let emu = common::emulator_with(EmulatorConfig { latency: Duration::from_millis(150), ..Default::default() }).await;
    let mut config = common::config(&emu);
    config.concurrency = 2;
    let client = Client::sign_in(config).await.expect("sign in");
    let started = Instant::now();
    futures::future::try_join_all((0..8).map(|_| client.groups())).await.expect("reads");
    let elapsed = started.elapsed();
    // 8 requests, 2 at a time, 150 ms each: at least 4 rounds.
    assert!(elapsed >= Duration::from_millis(580), "{elapsed:?}");

    let mut config = common::config(&emu);
    config.concurrency = 8;
    let client = Client::sign_in(config).await.expect("sign in");
    let started = Instant::now();
    futures::future::try_join_all((0..8).map(|_| client.groups())).await.expect("reads");
    assert!(started.elapsed() < Duration::from_millis(580), "8 in parallel: {:?}", started.elapsed());
}

/// With every request failing, sign-in sees 429 (Retry-After: 1) or 503 (no wait asked) first, depending on
/// the seed. The wait before the retry is the server's when it is below the policy cap, the backoff otherwise.
#[tokio::test]
async fn retry_after_is_honoured_up_to_the_policy_cap() {
    let mut honoured = 0;
    let mut quick = 0;
    for seed in 0..6 {
        let emu =
            common::emulator_with(EmulatorConfig { fault_rate: 1.0, fault_seed: seed, ..Default::default() }).await;
        let mut config = common::config(&emu);
        config.retry =
            RetryPolicy { max_attempts: 2, base_delay: Duration::from_millis(1), max_delay: Duration::from_secs(3) };
        let started = Instant::now();
        let err = Client::sign_in(config).await.expect_err("all attempts fault");
        let elapsed = started.elapsed();
        assert!(matches!(err.status(), Some(429 | 503)), "{err}");
        if elapsed >= Duration::from_millis(950) {
            honoured += 1;
        } else {
            quick += 1;
        }
        assert!(elapsed < Duration::from_millis(2500), "never more than the asked 1 s: {elapsed:?}");
    }
    assert!(honoured > 0 && quick > 0, "both fault kinds seen: honoured={honoured} quick={quick}");

    // A cap below the asked wait wins.
    let emu = common::emulator_with(EmulatorConfig { fault_rate: 1.0, fault_seed: 0, ..Default::default() }).await;
    let mut config = common::config(&emu);
    config.retry =
        RetryPolicy { max_attempts: 3, base_delay: Duration::from_millis(1), max_delay: Duration::from_millis(100) };
    let started = Instant::now();
    Client::sign_in(config).await.expect_err("all attempts fault");
    assert!(started.elapsed() < Duration::from_millis(600), "{:?}", started.elapsed());
}
