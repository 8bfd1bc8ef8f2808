//! Hostile manifests: the loader never panics on arbitrary or mutated YAML (proptest,
//! 256 cases per property, no persisted failures), and the classic attacks are refused with a positioned
//! diagnostic rather than exhausting memory or time: alias bombs, deep nesting, invalid UTF-8, oversized files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use tabops_manifest::{LoadError, LoadOptions, load};

fn valid_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/manifests/valid/full")
}

fn options() -> LoadOptions {
    let environment = BTreeMap::from([
        ("ORDERS_DB_PASSWORD".to_owned(), "orders-secret".to_owned()),
        ("PROD_DB_PASSWORD".to_owned(), "prod-secret".to_owned()),
    ]);
    LoadOptions { env: None, environment, hash_content: true, ..Default::default() }
}

/// A copy of the valid fixture's directory whose manifest.yaml is `bytes`.
struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Workspace {
        let dir = tempfile::tempdir().expect("temp dir");
        let content = dir.path().join("content");
        std::fs::create_dir_all(&content).expect("content dir");
        for entry in std::fs::read_dir(valid_fixture().join("content")).expect("fixture content") {
            let entry = entry.expect("entry");
            std::fs::copy(entry.path(), content.join(entry.file_name())).expect("copy");
        }
        Workspace { dir }
    }

    /// Loads `bytes` as the manifest; panics propagate (that is what the properties check).
    fn load(&self, bytes: &[u8]) -> Result<(), LoadError> {
        std::fs::write(self.dir.path().join("manifest.yaml"), bytes).expect("write manifest");
        load(self.dir.path(), &options()).map(|_| ())
    }
}

fn base_manifest() -> Vec<u8> {
    std::fs::read(valid_fixture().join("manifest.yaml")).expect("fixture manifest")
}

/// YAML fragments that exercise the parser's special cases when strung together.
const TOKENS: &[&str] = &[
    "- ",
    ": ",
    "\n",
    "\n  ",
    "\n    ",
    "{",
    "}",
    "[",
    "]",
    ",",
    "&a ",
    "*a",
    "<<: *a",
    "!!binary ",
    "!tag ",
    "? ",
    "|\n  ",
    ">-\n  ",
    "'",
    "\"",
    "#",
    "---\n",
    "...\n",
    "%YAML 1.2\n",
    "name",
    "version: 1",
    "site",
    "projects",
    "workbooks",
    "file: ",
    "../",
    "/etc/passwd",
    "${env:X}",
    "${x}",
    "$${",
    "0x1F",
    "1e400",
    "~",
    "null",
    "\t",
    "\u{feff}",
    "\u{0}",
    "é",
    "permissions",
    "template: Viewer",
    "refresh",
    "every: 30m",
    "at: \"25:61\"",
];

fn edit() -> impl Strategy<Value = (u8, usize, u8)> {
    (any::<u8>(), any::<usize>(), any::<u8>())
}

fn mutate(base: &[u8], edits: &[(u8, usize, u8)]) -> Vec<u8> {
    let mut bytes = base.to_vec();
    for &(kind, at, value) in edits {
        if bytes.is_empty() {
            bytes.push(value);
            continue;
        }
        let at = at % bytes.len();
        match kind % 5 {
            0 => bytes[at] = value,
            1 => bytes.insert(at, value),
            2 => {
                bytes.remove(at);
            }
            3 => bytes.truncate(at),
            _ => {
                // Duplicate a slice: repeats keys, list items and indentation.
                let end = (at + usize::from(value)).min(bytes.len());
                let slice = bytes[at..end].to_vec();
                bytes.splice(at..at, slice);
            }
        }
    }
    bytes
}

fn config() -> ProptestConfig {
    ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config())]

    /// Byte-level mutations of a real, valid manifest.
    #[test]
    fn fuzz_mutated_manifest_never_panics(edits in prop::collection::vec(edit(), 1..8)) {
        let workspace = Workspace::new();
        let _ = workspace.load(&mutate(&base_manifest(), &edits));
    }

    /// Strings of YAML tokens: anchors, aliases, merge keys, tags, flow and block styles, odd scalars.
    #[test]
    fn fuzz_token_soup_never_panics(tokens in prop::collection::vec(prop::sample::select(TOKENS), 0..80)) {
        let workspace = Workspace::new();
        let _ = workspace.load(tokens.concat().as_bytes());
    }

    /// Arbitrary bytes, including invalid UTF-8.
    #[test]
    fn fuzz_arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let workspace = Workspace::new();
        let result = workspace.load(&bytes);
        prop_assert!(result.is_err() || bytes.is_empty() || std::str::from_utf8(&bytes).is_ok());
    }
}

#[track_caller]
fn assert_refused_quickly(bytes: &[u8], phrase: &str) {
    let workspace = Workspace::new();
    let started = Instant::now();
    let err = workspace.load(bytes).expect_err("a hostile manifest must be refused");
    let text = format!("{err}\n{err:?}");
    assert!(text.contains(phrase), "expected `{phrase}` in:\n{text}");
    assert!(started.elapsed() < Duration::from_secs(10), "refusal took {:?}", started.elapsed());
}

#[test]
fn hostile_alias_bomb_is_refused() {
    let mut yaml = String::from("version: 1\nvars:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        yaml.push_str(&format!(
            "  a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    assert_refused_quickly(yaml.as_bytes(), "alias bomb");
}

/// Regression: a block mapping nested 65..200 levels deep overflowed the stack of the thread loading it (the
/// recursive deserialiser ran out of a 2 MiB stack before the depth budget refused the file); the loader now parses
/// on a thread with a stack sized for MAX_DEPTH. This test runs on a default 2 MiB test thread.
#[test]
fn hostile_deep_nesting_is_refused() {
    let yaml = format!("version: 1\nvars: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    assert_refused_quickly(yaml.as_bytes(), "nesting is deeper");
    let mut block = String::from("version: 1\nsite:\n");
    for depth in 1..200 {
        block.push_str(&format!("{}k{depth}:\n", "  ".repeat(depth)));
    }
    assert_refused_quickly(block.as_bytes(), "nesting is deeper");
}

#[test]
fn hostile_invalid_utf8_is_refused() {
    let mut bytes = b"version: 1\nsite: { server: local, content_url: ".to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe, 0xc3]);
    bytes.extend_from_slice(b" }\n");
    assert_refused_quickly(&bytes, "invalid UTF-8");
}

#[test]
fn hostile_oversized_manifest_is_refused() {
    let mut yaml = String::from("version: 1\n");
    while yaml.len() <= 17 * 1024 * 1024 {
        yaml.push_str("# padding padding padding padding padding padding padding padding padding padding\n");
    }
    assert_refused_quickly(yaml.as_bytes(), "the limit is 16 MiB");
}
