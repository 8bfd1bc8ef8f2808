//! Bounded concurrency and honouring the server's 429 wait, measured against the emulator's latency and fault
//! injection.
//!
//! On tokio's paused clock: the emulator and the scripted server run in the test's runtime and wait with tokio
//! timers, as do the client's backoff and `Retry-After` waits, so the clock jumps from one timer to the next when
//! everything is idle. The durations below are exact (no scheduler noise, so the upper bounds hold on a loaded
//! machine) and cost no wall time. Loopback sockets are fine here: a write on them is readable before the runtime
//! next looks for work, so the clock never jumps while a response is on its way.

use tabops_testkit::site as common;

use std::time::Duration;

use tabops_emulator::EmulatorConfig;
use tabops_tableau::{Client, Error, RetryPolicy};
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn requests_in_flight_are_bounded_by_the_semaphore() {
    let emu = common::emulator_with(EmulatorConfig { latency: Duration::from_millis(150), ..Default::default() }).await;
    let mut config = common::config(&emu);
    config.concurrency = 2;
    let client = Client::sign_in(config).await.expect("sign in");
    let started = Instant::now();
    futures::future::try_join_all((0..8).map(|_| client.groups())).await.expect("reads");
    let elapsed = started.elapsed();
    // 8 requests, 2 at a time, 150 ms each: 4 rounds, not fewer and not a fifth.
    assert!(elapsed >= Duration::from_millis(600) && elapsed < Duration::from_millis(750), "{elapsed:?}");

    let mut config = common::config(&emu);
    config.concurrency = 8;
    let client = Client::sign_in(config).await.expect("sign in");
    let started = Instant::now();
    futures::future::try_join_all((0..8).map(|_| client.groups())).await.expect("reads");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(150) && elapsed < Duration::from_millis(300),
        "8 in parallel: {elapsed:?}"
    );
}

/// With every request failing, sign-in sees 429 (Retry-After: 1) or 503 (no wait asked) first, depending on
/// the seed. The wait before the retry is the server's when it asked for one, the backoff otherwise.
#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured_in_full_within_the_budget() {
    let mut honoured = 0;
    let mut quick = 0;
    for seed in 0..6 {
        let emu =
            common::emulator_with(EmulatorConfig { fault_rate: 1.0, fault_seed: seed, ..Default::default() }).await;
        let mut config = common::config(&emu);
        config.retry = RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_secs(3),
            ..RetryPolicy::default()
        };
        let started = Instant::now();
        let err = Client::sign_in(config).await.expect_err("all attempts fault");
        let elapsed = started.elapsed();
        assert!(matches!(err.status(), Some(429 | 503)), "{err}");
        if elapsed >= Duration::from_millis(950) {
            honoured += 1;
        } else {
            quick += 1;
        }
        assert!(elapsed < Duration::from_millis(1100), "never more than the asked 1 s: {elapsed:?}");
    }
    assert!(honoured > 0 && quick > 0, "both fault kinds seen: honoured={honoured} quick={quick}");

    // The backoff cap does not shorten a wait the server asked for: it is honoured in full within the budget.
    let started = Instant::now();
    let server = scripted(vec![throttled("2", "Please retry after 2 seconds."), signed_in()]).await;
    let mut config = server.config();
    config.retry.max_delay = Duration::from_millis(100);
    Client::sign_in(config).await.expect("sign-in succeeds after the asked wait");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_secs(2) && elapsed < Duration::from_millis(2100),
        "waited the asked 2 s, not the 100 ms backoff cap: {elapsed:?}"
    );
    assert_eq!(server.requests(), 2);
}

/// Tableau Cloud answers a rate-limited call with 429 and a wait of many minutes (TSC's captured detail text:
/// "Please retry after 29 minutes."). Retrying after a capped minute only earns another 429: the client stops at
/// once, with an error that names the wait and the flag that raises the budget.
#[tokio::test(start_paused = true)]
async fn a_retry_after_beyond_the_budget_stops_at_once_naming_the_wait() {
    let server = scripted(vec![throttled(
        "1740",
        "Too many requests for 'api.rest.refresh_extracts'. Please retry after 29 minutes.",
    )])
    .await;
    let started = Instant::now();
    let err = Client::sign_in(server.config()).await.expect_err("throttled");
    assert!(started.elapsed() < Duration::from_millis(100), "no waiting, no early retries: {:?}", started.elapsed());
    assert_eq!(server.requests(), 1, "one request, no retry that Tableau would refuse anyway");
    match &err {
        Error::Throttled { wait, budget, .. } => {
            assert_eq!(*wait, Duration::from_secs(1740));
            assert_eq!(*budget, tabops_tableau::DEFAULT_MAX_RETRY_WAIT);
        }
        other => panic!("expected Throttled, got {other:?}"),
    }
    let message = err.to_string();
    assert!(message.contains("retry after 29 min") && message.contains("--max-retry-wait"), "{message}");
    assert_eq!(err.status(), Some(429));

    // The same wait from the detail text alone (no header) is recognised too; a budget that covers the wait is
    // spent on it (checked with a short wait so the test stays fast).
    let server = scripted(vec![throttled("", "Please retry after 3 minutes.")]).await;
    let mut config = server.config();
    config.retry.max_retry_wait = Duration::from_secs(60);
    let err = Client::sign_in(config).await.expect_err("throttled");
    assert!(matches!(&err, Error::Throttled { wait, .. } if *wait == Duration::from_secs(180)), "{err:?}");
    assert!(err.to_string().contains("3 min"), "{err}");
}

/// The waits of one call add up against the budget: two asked waits of 1 s fit in 2.5 s, a third does not.
#[tokio::test(start_paused = true)]
async fn the_retry_budget_covers_the_sum_of_the_waits_of_one_call() {
    let server = scripted(vec![
        throttled("1", "Please retry after 1 seconds."),
        throttled("1", "Please retry after 1 seconds."),
        throttled("1", "Please retry after 1 seconds."),
    ])
    .await;
    let mut config = server.config();
    config.retry.max_retry_wait = Duration::from_millis(2500);
    config.retry.max_attempts = 10;
    let started = Instant::now();
    let err = Client::sign_in(config).await.expect_err("throttled");
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_secs(2) && elapsed < Duration::from_millis(2100), "{elapsed:?}");
    assert_eq!(server.requests(), 3);
    assert!(
        matches!(&err, Error::Throttled { wait, budget, .. } if *wait == Duration::from_secs(1) && *budget == Duration::from_millis(500)),
        "{err:?}"
    );
}

/// A canned HTTP response.
#[derive(Clone)]
struct Canned {
    status: &'static str,
    headers: Vec<(String, String)>,
    body: String,
}

fn throttled(retry_after: &str, detail: &str) -> Canned {
    let mut headers = vec![("Content-Type".to_owned(), "application/xml;charset=UTF-8".to_owned())];
    if !retry_after.is_empty() {
        headers.push(("Retry-After".to_owned(), retry_after.to_owned()));
    }
    Canned {
        status: "429 Too Many Requests",
        headers,
        body: format!(
            r#"<?xml version='1.0' encoding='UTF-8'?><tsResponse xmlns="http://tableau.com/api"><error code="429000"><summary>Too Many Requests</summary><detail>{detail}</detail></error></tsResponse>"#
        ),
    }
}

fn signed_in() -> Canned {
    Canned {
        status: "200 OK",
        headers: vec![("Content-Type".to_owned(), "application/xml;charset=UTF-8".to_owned())],
        body: r#"<?xml version='1.0' encoding='UTF-8'?><tsResponse xmlns="http://tableau.com/api"><credentials token="t0k3n"><site id="9a8b7c6d-0000-4000-8000-000000000001" contentUrl="acme"/><user id="9a8b7c6d-0000-4000-8000-000000000002"/></credentials></tsResponse>"#.to_owned(),
    }
}

/// A loopback HTTP server that answers each request with the next canned response (the last one repeats).
struct Scripted {
    addr: std::net::SocketAddr,
    count: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    _task: tokio::task::JoinHandle<()>,
}

impl Scripted {
    fn requests(&self) -> usize {
        self.count.load(std::sync::atomic::Ordering::SeqCst)
    }
    fn config(&self) -> tabops_tableau::ClientConfig {
        let mut config = tabops_tableau::ClientConfig::new(
            format!("http://{}", self.addr).parse().expect("url"),
            "acme",
            tabops_tableau::Credentials::Pat { name: "n".into(), secret: tabops_tableau::Secret::new("s") },
        );
        config.retry = RetryPolicy {
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(50),
            ..RetryPolicy::default()
        };
        config
    }
}

async fn scripted(responses: Vec<Canned>) -> Scripted {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = std::sync::Arc::clone(&count);
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            let seen = std::sync::Arc::clone(&seen);
            let responses = responses.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    // Read one request: headers, then Content-Length bytes of body.
                    let mut chunk = [0u8; 4096];
                    let header_end = loop {
                        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break pos + 4;
                        }
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    while buf.len() < header_end + length {
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    buf.drain(..header_end + length);
                    let n = seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Canned { status, headers, body } = &responses[n.min(responses.len() - 1)];
                    let mut out = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len());
                    for (k, v) in headers {
                        out.push_str(&format!("{k}: {v}\r\n"));
                    }
                    out.push_str("\r\n");
                    out.push_str(body);
                    if stream.write_all(out.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Scripted { addr, count, _task: task }
}
