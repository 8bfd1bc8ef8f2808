//! Throttling seen from the command line: the real `tabops` binary against a loopback server that answers every
//! request with Tableau Cloud's 429 (error 429000, `Retry-After`, and the "Please retry after N minutes" detail
//! recorded in tableauserverclient's issue reports). A wait beyond `--max-retry-wait` stops the command at once
//! with a message naming the wait.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tabops_testkit::run::tabops_command;

/// Serves 429 with `Retry-After: {secs}` to every request; returns the base URL and the request counter.
fn throttling_server(secs: u64) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let seen = Arc::clone(&seen);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                loop {
                    let mut length = 0usize;
                    let mut line = String::new();
                    let mut started = false;
                    loop {
                        line.clear();
                        match reader.read_line(&mut line) {
                            Ok(0) | Err(_) => return,
                            Ok(_) => {}
                        }
                        if line == "\r\n" && started {
                            break;
                        }
                        started = true;
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0u8; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    seen.fetch_add(1, Ordering::SeqCst);
                    let minutes = secs / 60;
                    let detail = format!(
                        "Too many requests for 'api.rest.signin'. Please retry after {} {}.",
                        if minutes > 0 { minutes } else { secs },
                        if minutes > 0 { "minutes" } else { "seconds" }
                    );
                    let xml = format!(
                        "<?xml version='1.0' encoding='UTF-8'?><tsResponse xmlns=\"http://tableau.com/api\"><error code=\"429000\"><summary>Too Many Requests</summary><detail>{detail}</detail></error></tsResponse>"
                    );
                    let response = format!(
                        "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/xml\r\nRetry-After: {secs}\r\nContent-Length: {}\r\n\r\n{xml}",
                        xml.len()
                    );
                    if reader.get_mut().write_all(response.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, count)
}

fn tabops(url: &str, extra: &[&str], env: &[(&str, &str)]) -> (i32, String, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/quickstart");
    let started = Instant::now();
    let output = tabops_command(dir.path())
        .env("TABLEAU_PAT_NAME", "ci")
        .env("TABLEAU_PAT_SECRET", "secret")
        .envs(env.iter().copied())
        .arg("plan")
        .arg("-f")
        .arg(&manifest)
        .args(["--server", url, "--site", "acme", "--state-dir"])
        .arg(dir.path().join("state"))
        .args(extra)
        .output()
        .unwrap();
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stderr).into_owned(), started.elapsed())
}

#[test]
fn a_29_minute_retry_after_stops_the_command_at_once_naming_the_wait() {
    let (url, requests) = throttling_server(29 * 60);
    let (code, stderr, elapsed) = tabops(&url, &[], &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(elapsed < Duration::from_secs(20), "no retrying for nothing: {elapsed:?}");
    assert_eq!(requests.load(Ordering::SeqCst), 1, "one request, no early retries\n{stderr}");
    assert!(stderr.contains("retry after 29 min"), "names the wait: {stderr}");
    assert!(stderr.contains("--max-retry-wait"), "names the budget's flag: {stderr}");
}

#[test]
fn max_retry_wait_from_the_flag_or_the_environment_sets_the_budget() {
    // A 2-second wait is within the default budget (honoured, then retried), but not within a budget of 1 s.
    let (url, requests) = throttling_server(2);
    let (code, stderr, elapsed) = tabops(&url, &["--max-retry-wait", "1"], &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(requests.load(Ordering::SeqCst), 1, "{stderr}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    assert!(stderr.contains("retry after 2 s") && stderr.contains("retry budget of 1 s"), "{stderr}");

    let (url, requests) = throttling_server(2);
    let (code, stderr, _) = tabops(&url, &[], &[("TABOPS_MAX_RETRY_WAIT", "0")]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(requests.load(Ordering::SeqCst), 1, "{stderr}");
    assert!(stderr.contains("retry budget of 0 s"), "{stderr}");

    // Within the budget the wait is honoured: the second attempt comes no sooner than the asked 2 s.
    let (url, requests) = throttling_server(2);
    let (code, stderr, elapsed) = tabops(&url, &["--max-retry-wait", "3"], &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(requests.load(Ordering::SeqCst), 2, "one retry after 2 s, then 2 s more would exceed 3 s: {stderr}");
    assert!(elapsed >= Duration::from_secs(2), "{elapsed:?}");
}
