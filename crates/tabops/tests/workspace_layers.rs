//! The workspace's layering, as `crates/README.md` states it, holds in every crate's `Cargo.toml`: each crate's
//! normal dependencies on other tabops crates are exactly the ones the table lists, and all sit in lower layers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `crate -> (layer, dependencies)` from the Layers table of `crates/README.md`.
fn documented_layers() -> BTreeMap<String, (u32, BTreeSet<String>)> {
    let readme = std::fs::read_to_string(workspace().join("crates/README.md")).unwrap();
    let table = readme.split("## Layers").nth(1).expect("crates/README.md has a Layers section");
    let mut layers = BTreeMap::new();
    for row in table.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| layer")) {
        let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
        let [layer, name, deps] = cells[..] else { panic!("a Layers row has three cells: {row}") };
        let name = names(name).next().unwrap_or_else(|| panic!("no crate in {row}"));
        layers.insert(name, (layer.parse().unwrap(), names(deps).collect()));
    }
    layers
}

/// The crate names in a table cell (`` `tabops-a`, `tabops-b` `` or `—`).
fn names(cell: &str) -> impl Iterator<Item = String> + '_ {
    cell.split(',').map(|d| d.trim().trim_matches('`').to_owned()).filter(|d| d.starts_with("tabops"))
}

/// The tabops crates named in the `[dependencies]` section of a crate's `Cargo.toml` (not dev or build ones).
fn normal_dependencies(manifest: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(manifest).unwrap();
    let mut in_dependencies = false;
    let mut deps = BTreeSet::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]";
        } else if in_dependencies && line.starts_with("tabops") {
            deps.insert(line.split(|c: char| c == '=' || c.is_whitespace() || c == '.').next().unwrap().to_owned());
        }
    }
    deps
}

#[test]
fn every_crate_depends_only_on_the_lower_layers_crates_readme_lists() {
    let layers = documented_layers();
    let mut crates = BTreeSet::new();
    for entry in std::fs::read_dir(workspace().join("crates")).unwrap() {
        let dir = entry.unwrap().path();
        if dir.join("Cargo.toml").exists() {
            crates.insert(dir.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    assert_eq!(crates, layers.keys().cloned().collect(), "crates/README.md's Layers table names every crate");
    for (name, (layer, documented)) in &layers {
        let actual = normal_dependencies(&workspace().join("crates").join(name).join("Cargo.toml"));
        assert_eq!(&actual, documented, "{name}'s [dependencies] against crates/README.md");
        for dep in &actual {
            assert!(layers[dep].0 < *layer, "{name} (layer {layer}) reaches up to {dep} (layer {})", layers[dep].0);
        }
    }
}
