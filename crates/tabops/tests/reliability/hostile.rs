//! Scenario 4, hostile input through the CLI: manifests that are alias bombs, 100 MB, nested too deep, invalid
//! UTF-8, or name content files outside the repository (`..`, absolute, symlinks) are refused by `plan` and `apply`
//! with a clear `file:line:column` error, and nothing at all is sent to the site given as `--server`.

use std::time::{Duration, Instant};

use crate::support::{Harness, path_str, workspace};

/// `(fixture, phrase the error must contain)`.
const HOSTILE_FIXTURES: [(&str, &str); 6] = [
    ("alias-bomb", "alias bomb"),
    ("too-deep-nesting", "nesting is deeper than 64 levels"),
    ("invalid-utf8", "invalid UTF-8"),
    ("path-traversal", "leaves the manifest root"),
    ("absolute-path", "is an absolute path"),
    ("symlink-outside-root", "outside the manifest root"),
];

#[track_caller]
fn assert_refused_without_requests(harness: &Harness, manifest: &str, phrase: &str) {
    for command in [&["plan", "-f", manifest][..], &["apply", "-f", manifest, "--auto-approve"][..]] {
        let started = Instant::now();
        let run = harness.tabops(command);
        assert_eq!(run.code, 1, "{command:?} must refuse {manifest}\n{}\n{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(phrase), "{command:?} on {manifest}: expected `{phrase}` in:\n{}", run.stderr);
        assert!(run.stderr.contains("error"), "{}", run.stderr);
        assert!(started.elapsed() < Duration::from_secs(20), "refusal must be fast, took {:?}", started.elapsed());
    }
    let stats = harness.stats();
    assert_eq!(stats.requests_total, 0, "nothing may be sent for {manifest}: {:?}", stats.by_route);
}

#[test]
fn hostile_manifests_are_refused_and_nothing_is_sent() {
    let harness = Harness::start();
    for (fixture, phrase) in HOSTILE_FIXTURES {
        let dir = workspace().join("fixtures/manifests/invalid").join(fixture);
        assert_refused_without_requests(&harness, path_str(&dir), phrase);
    }
    assert!(!harness.audit_log().exists(), "a refused apply writes no audit records");
}

/// A 100 MB manifest is refused from its size (before it is read), quickly and without a request.
#[test]
fn hostile_100mb_manifest_is_refused_and_nothing_is_sent() {
    let harness = Harness::start();
    let path = harness.dir.path().join("huge.yaml");
    let mut text = String::from("version: 1\nsite: { server: local, content_url: acme }\nusers:\n");
    let line = "  - { name: someone@acme.com, site_role: Viewer }   # padding padding padding padding padding\n";
    while text.len() < 100 * 1024 * 1024 {
        text.push_str(line);
    }
    std::fs::write(&path, text).unwrap();
    assert_refused_without_requests(&harness, path_str(&path), "the limit is 16 MiB");
}

/// Content reached through a symlinked directory that points outside the manifest root is refused too (the
/// fixture covers a symlinked file).
#[test]
fn hostile_symlinked_directory_escape_is_refused_and_nothing_is_sent() {
    let harness = Harness::start();
    let root = harness.dir.path().join("repo");
    let outside = harness.dir.path().join("outside");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::copy(workspace().join("fixtures/content/orders.tds"), outside.join("orders.tds")).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("content")).unwrap();
    std::fs::write(
        root.join("manifest.yaml"),
        "version: 1\nsite: { server: local, content_url: acme }\nprojects:\n  - name: Sales\n\
         datasources:\n  - { name: Orders, project: Sales, file: content/orders.tds }\n",
    )
    .unwrap();
    assert_refused_without_requests(&harness, path_str(&root), "outside the manifest root");
}

/// Regression (found by this suite): a block mapping 200 levels deep crashed `tabops` with a stack overflow
/// (SIGABRT) instead of a diagnostic. Now: a positioned error, exit 1, nothing sent.
#[test]
fn hostile_deep_block_nesting_is_refused_and_nothing_is_sent() {
    let harness = Harness::start();
    let dir = harness.dir.path().join("deep");
    std::fs::create_dir_all(&dir).unwrap();
    let mut yaml = String::from("version: 1\nsite:\n");
    for depth in 1..200 {
        yaml.push_str(&format!("{}k{depth}:\n", "  ".repeat(depth)));
    }
    std::fs::write(dir.join("manifest.yaml"), yaml).unwrap();
    assert_refused_without_requests(&harness, path_str(&dir), "nesting is deeper than 64 levels");
}
