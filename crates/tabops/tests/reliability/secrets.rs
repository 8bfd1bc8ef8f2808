//! Scenario 5, secrets: a connected-app secret (and the JWTs signed with it), PAT secrets and connection
//! passwords never appear in stdout, stderr at `RUST_LOG=trace`, plan files, JSON reports, the audit log, or the
//! emulator's own trace logs. (`reconcile::secrets_never_leak` covers PAT + passwords through plan/apply; this adds
//! the JWT path and the emulator.) Also: `http://` to a non-loopback host is refused before any connection.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tabops_testkit::run::tabops_command;

use crate::support::{Run, path_str, workspace};

const JWT_SECRET: &str = "jwt-secret-value-K9-never-print";
const PAT_SECRET: &str = "pat-secret-value-P4-never-print";
const DB_PASSWORD: &str = "db-password-value-D2-never-print";

/// A JWT is base64url JSON: `{"` encodes to `eyJ`. None may be printed.
const JWT_PREFIX: &str = "eyJ";

fn tabops(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let output = tabops_command(dir).env("RUST_LOG", "trace").envs(env.iter().copied()).args(args).output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn tabops_owned(dir: &std::path::Path, args: &[String], env: &[(&str, &str)]) -> Run {
    tabops(dir, &args.iter().map(String::as_str).collect::<Vec<_>>(), env)
}

/// `tabops emulator` as its own process with a JWT secret and a PAT, logging at trace level; sign in with both
/// (connected app through plan/apply, PAT directly), then check every output for the secrets.
#[test]
fn secrets_jwt_pat_and_passwords_never_leak_including_emulator_logs() {
    let dir = tempfile::tempdir().unwrap();
    let mut emulator = Command::new(env!("CARGO_BIN_EXE_tabops"))
        .current_dir(dir.path())
        .env_clear()
        .env("RUST_LOG", "trace")
        .env("NO_COLOR", "1")
        .env("TABOPS_EMULATOR_JWT_SECRET", JWT_SECRET)
        .args(["emulator", "--listen", "127.0.0.1:0", "--pat", &format!("ci:{PAT_SECRET}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(emulator.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let url = first.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("emulator said: {first}")).to_owned();
    let stderr = emulator.stderr.take().unwrap();
    let emulator_log = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = BufReader::new(stderr).read_to_string(&mut text);
        text
    });

    // A manifest with an embedded connection password from the environment.
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join("content")).unwrap();
    std::fs::copy(workspace().join("fixtures/content/orders.tds"), repo.join("content/orders.tds")).unwrap();
    std::fs::write(
        repo.join("manifest.yaml"),
        "version: 1\nsite: { server: local, content_url: acme }\nprojects:\n  - name: Sales\ndatasources:\n  - name: Orders\n    \
         project: Sales\n    file: content/orders.tds\n    connections:\n      - { server: db.acme.internal, port: 5432, \
         username: svc, password: \"${env:DB_PASSWORD}\", embed: true }\n",
    )
    .unwrap();
    let app = [
        ("TABLEAU_CONNECTED_APP_CLIENT_ID", "client-id-1"),
        ("TABLEAU_CONNECTED_APP_SECRET_ID", "secret-id-1"),
        ("TABLEAU_CONNECTED_APP_SECRET_VALUE", JWT_SECRET),
        ("TABLEAU_USERNAME", "admin@tabops.local"),
        ("DB_PASSWORD", DB_PASSWORD),
    ];
    let manifest = path_str(&repo);
    let plan_file = dir.path().join("plan.json");
    let audit = dir.path().join("audit.jsonl");
    let site = ["--server", url.as_str(), "--site", "acme"];
    let with_site = |args: &[&str]| -> Vec<String> { args.iter().chain(site.iter()).map(|s| s.to_string()).collect() };
    let plan_args = with_site(&["plan", "-f", manifest, "--format", "json", "--out", path_str(&plan_file)]);
    let plan = tabops_owned(dir.path(), &plan_args, &app);
    assert_eq!(plan.code, 0, "JWT sign-in must work:\n{}\n{}", plan.stdout, plan.stderr);
    let apply_args =
        with_site(&["apply", "-f", manifest, "--auto-approve", "--format", "json", "--audit-log", path_str(&audit)]);
    let apply = tabops_owned(dir.path(), &apply_args, &app);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let md_args = with_site(&["plan", "-f", manifest, "--format", "markdown"]);
    let markdown = tabops_owned(dir.path(), &md_args, &app);
    // A PAT sign-in against the same emulator, with a wrong secret first (errors must not echo it either).
    let pat = [("TABLEAU_PAT_NAME", "ci"), ("TABLEAU_PAT_SECRET", PAT_SECRET), ("DB_PASSWORD", DB_PASSWORD)];
    let drift = tabops_owned(dir.path(), &with_site(&["drift", "-f", manifest]), &pat);
    let wrong = [("TABLEAU_PAT_NAME", "ci"), ("TABLEAU_PAT_SECRET", "wrong-secret-W1"), ("DB_PASSWORD", DB_PASSWORD)];
    let refused = tabops_owned(dir.path(), &with_site(&["plan", "-f", manifest]), &wrong);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(apply.stderr.contains("TRACE"), "trace logging must be on");

    // Stop the emulator (SIGTERM: it saves and exits) and collect its log.
    let _ = Command::new("kill").arg(emulator.id().to_string()).status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while emulator.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = emulator.kill();
    let _ = emulator.wait();
    let mut rest = String::new();
    let _ = stdout.read_to_string(&mut rest);
    let emulator_log = emulator_log.join().unwrap();

    let places = [
        ("plan stdout", plan.stdout),
        ("plan stderr", plan.stderr),
        ("apply JSON report", apply.stdout),
        ("apply stderr", apply.stderr),
        ("markdown plan", markdown.stdout + &markdown.stderr),
        ("PAT drift output", drift.stdout + &drift.stderr),
        ("refused sign-in output", refused.stdout + &refused.stderr),
        ("plan file", std::fs::read_to_string(&plan_file).unwrap()),
        ("audit log", std::fs::read_to_string(&audit).unwrap()),
        ("emulator log", emulator_log + &first + &rest),
    ];
    for (place, text) in &places {
        for secret in [JWT_SECRET, PAT_SECRET, DB_PASSWORD, "wrong-secret-W1", JWT_PREFIX] {
            assert!(!text.contains(secret), "`{secret}` leaked into the {place}");
        }
    }
}

/// `http://` to a host that is not on loopback is refused before any connection is attempted: exit 1, a message
/// naming the flag, and fast (192.0.2.1 is TEST-NET-1, never routed; a connection attempt would hang for seconds).
#[test]
fn secrets_plain_http_to_a_remote_host_is_refused_without_connecting() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = workspace().join("examples/quickstart");
    let pat = [("TABLEAU_PAT_NAME", "ci"), ("TABLEAU_PAT_SECRET", PAT_SECRET)];
    for command in ["plan", "drift"] {
        let started = Instant::now();
        let run = tabops(
            dir.path(),
            &[command, "-f", path_str(&manifest), "--server", "http://192.0.2.1", "--site", "acme"],
            &pat,
        );
        let elapsed = started.elapsed();
        assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
        assert!(run.stderr.contains("plain HTTP"), "{}", run.stderr);
        assert!(run.stderr.contains("--allow-insecure-http"), "the message names the flag:\n{}", run.stderr);
        assert!(elapsed < Duration::from_secs(3), "refused before connecting, took {elapsed:?}");
        assert!(!run.stderr.contains(PAT_SECRET));
    }
}
