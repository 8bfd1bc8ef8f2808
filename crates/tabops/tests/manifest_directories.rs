//! Which files of a manifest directory tabops reads, through the real binary: only tabops manifest files (a
//! top-level `version:`). Other tools' YAML in the same tree (CI workflows, compose files) is skipped with one
//! `note:` line that names a few and counts the rest, never reported file by file; a directory holding no manifest
//! at all is one error with a hint. Each scenario is a transcript snapshot: command lines, exit codes and output.

use std::path::Path;

use tabops_testkit as support;

use support::{Harness, Run, copy_dir, regex_escape, transcript_step, workspace};

fn filters(root: &Path) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&regex_escape(&root.display().to_string()), "[TMP]");
    settings.add_filter(r"127\.0\.0\.1:\d+", "[EMULATOR]");
    settings
}

/// A GitHub-style workflow file: top-level keys `name`, `on`, `jobs`, and a nested `version:` that must not count.
fn workflow(i: usize) -> String {
    format!(
        "name: job {i}\non: [push]\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: \
         actions/setup-node@v4\n        with:\n          version: 20\n"
    )
}

#[test]
fn a_manifest_directory_reads_only_tabops_manifests_and_notes_the_rest_once() {
    let site = Harness::start();
    let manifest = site.copy_example("quickstart", "tabops");
    let cwd = site.dir.path();
    // Other tools' YAML beside and below the manifest: the repository's own CI examples and 30 workflows more.
    copy_dir(&workspace().join("examples/ci"), &manifest.join("ci"));
    std::fs::create_dir_all(manifest.join("workflows")).unwrap();
    for i in 0..30 {
        std::fs::write(manifest.join(format!("workflows/job{i:02}.yml")), workflow(i)).unwrap();
    }
    let mut transcript = String::from("# tabops/: the quickstart manifest, examples/ci under ci/, 30 workflows\n\n");

    let args = ["validate", "-f", "tabops"];
    let run = Run::of(support::run::tabops_command(cwd).args(args));
    transcript.push_str(&transcript_step(&args, &run));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "one note, not one line per file: {}", run.stderr);
    assert!(run.stderr.contains("skipped 36 YAML files") && run.stderr.contains("and 31 more"), "{}", run.stderr);

    // plan says the same once, and plans the manifest as if the other files were not there.
    let args = ["plan", "-f", "tabops"];
    let run = site.tabops(&args);
    let summary = run.stdout.lines().rfind(|l| l.starts_with("Plan:")).unwrap_or_default().to_owned();
    transcript.push_str(&transcript_step(
        &args,
        &Run { code: run.code, stdout: format!("[plan]\n{summary}\n"), stderr: run.stderr.clone() },
    ));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr.matches("note: skipped").count(), 1, "{}", run.stderr);
    let alone = site.copy_example("quickstart", "alone");
    let clean = site.tabops(&["plan", "-f", alone.to_str().unwrap()]).expect(0);
    let without_note = |text: &str| text.replace(&alone.display().to_string(), "tabops");
    assert_eq!(without_note(&clean.stdout), run.stdout, "the skipped files changed the plan");

    // A directory with no tabops manifest in it (here 40 workflow files): one error, counted, with a hint.
    let other = cwd.join("not-a-manifest");
    std::fs::create_dir_all(&other).unwrap();
    for i in 0..40 {
        std::fs::write(other.join(format!("job{i:02}.yml")), workflow(i)).unwrap();
    }
    transcript.push_str("# not-a-manifest/: 40 workflow files and nothing else\n\n");
    for args in [["validate", "-f", "not-a-manifest"], ["plan", "-f", "not-a-manifest"]] {
        let run =
            if args[0] == "plan" { site.tabops(&args) } else { Run::of(support::run::tabops_command(cwd).args(args)) };
        transcript.push_str(&transcript_step(&args, &run));
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(run.stderr.lines().count() <= 3, "one error and a hint, not one per file: {}", run.stderr);
        assert!(run.stderr.contains("none of its 40 YAML files"), "{}", run.stderr);
    }

    filters(cwd).bind(|| insta::assert_snapshot!("manifest_directory_reads_only_tabops_manifests", transcript));
}
