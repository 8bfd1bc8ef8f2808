//! The CI recipes in `examples/ci/` cannot rot: every command line marked `# tabops-recipe` runs verbatim (through
//! `sh -c`, with the CI's variables set) against an emulator on 127.0.0.1, inside a real temporary git repository
//! holding the quickstart as `tabops/` with a pull-request commit on top of `origin/main`.

use std::path::{Path, PathBuf};
use std::process::Command;

use tabops_emulator::{Emulator, EmulatorConfig};

mod support;

const MARKER: &str = "# tabops-recipe";

/// The command lines ending in the marker, in order, with YAML list dashes and the marker stripped.
fn recipe_commands(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap();
    text.lines()
        .filter_map(|line| line.trim_end().strip_suffix(MARKER))
        .map(|line| line.trim().trim_start_matches("- ").trim().to_owned())
        .collect()
}

/// A clone-like repository: `origin/main` at the quickstart, HEAD one pull-request commit ahead.
fn repository(dir: &Path) {
    let repo = support::init_repo(dir);
    support::copy_dir(&support::workspace().join("examples/quickstart"), &dir.join("tabops"));
    let base = support::commit_all(&repo, &["tabops"], "quickstart");
    repo.reference("refs/remotes/origin/main", base, true, "fetched").unwrap();
    let manifest = dir.join("tabops/manifest.yaml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("Open opportunities by stage", "Open opportunities by stage (PR)")).unwrap();
    support::commit_all(&repo, &["tabops"], "pull request");
}

struct Ci {
    emulator: Option<Emulator>,
    runtime: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
}

impl Ci {
    fn start() -> Ci {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let emulator = runtime.block_on(Emulator::start(EmulatorConfig::default())).unwrap();
        let dir = tempfile::tempdir().unwrap();
        repository(&dir.path().join("repo"));
        Ci { emulator: Some(emulator), runtime, dir }
    }

    /// Runs one recipe line with `sh -c` in the repository; returns the exit code.
    fn run(&self, recipe: &str, line: &str) -> i32 {
        // GitHub expressions the runner would substitute: the PR's base branch, and on push the commit before it.
        let line = line.replace("${{ github.base_ref }}", "main").replace("${{ github.event.before }}", "HEAD~1");
        let binary = PathBuf::from(env!("CARGO_BIN_EXE_tabops"));
        let path = std::env::join_paths(
            std::iter::once(binary.parent().unwrap().to_path_buf())
                .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
        )
        .unwrap();
        let home = self.dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let url = self.emulator.as_ref().unwrap().url();
        let output = Command::new("sh")
            .arg("-c")
            .arg(&line)
            .current_dir(self.dir.path().join("repo"))
            .env_clear()
            .env("PATH", path)
            .env("HOME", &home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1")
            .env("TABLEAU_SERVER", url)
            .env("TABLEAU_SITE", "acme")
            .env("TABLEAU_PAT_NAME", "tabops")
            .env("TABLEAU_PAT_SECRET", "tabops-local-secret")
            .env("TABOPS_MANIFEST", "tabops")
            .env("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "main")
            .env("CI_COMMIT_BEFORE_SHA", "HEAD~1")
            .output()
            .unwrap();
        let code = output.status.code().unwrap_or(-1);
        let accepted = if line.contains("drift") || line.contains("--detailed-exitcode") { [0, 2] } else { [0, 0] };
        assert!(
            accepted.contains(&code),
            "{recipe}: `{line}` exited {code}\n--- stdout\n{}\n--- stderr\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        code
    }

    fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join("repo").join(name)).unwrap_or_default()
    }
}

impl Drop for Ci {
    fn drop(&mut self) {
        if let Some(emulator) = self.emulator.take() {
            self.runtime.block_on(emulator.shutdown());
        }
    }
}

/// Runs the recipes of one CI system in pipeline order and checks what they leave behind.
fn run_pipeline(recipes: &[&str]) {
    let ci = Ci::start();
    let mut ran = 0;
    for recipe in recipes {
        let file = support::workspace().join("examples/ci").join(recipe);
        let commands = recipe_commands(&file);
        assert!(!commands.is_empty(), "{recipe} has no `{MARKER}` lines");
        for line in &commands {
            assert!(line.starts_with("tabops "), "{recipe}: only tabops commands are marked: `{line}`");
            let code = ci.run(recipe, line);
            ran += 1;
            if line.starts_with("tabops plan --base") {
                let plan = ci.file("plan.md");
                assert!(plan.contains("## Changes in this pull request"), "{plan}");
                assert!(plan.contains("Open opportunities by stage (PR)"), "{plan}");
            }
            if line.starts_with("tabops drift") {
                assert_eq!(code, 0, "after the apply recipe the site matches the manifest:\n{}", ci.file("drift.md"));
                assert!(ci.file("drift.md").contains("No drift"), "{}", ci.file("drift.md"));
            }
        }
    }
    assert!(ran >= 5, "too few recipe commands ran: {ran}");
    let audit = ci.file("audit.jsonl");
    assert!(audit.contains("apply_start"), "the apply recipe wrote the audit log");
}

#[test]
fn github_actions_recipes_run_against_the_emulator() {
    run_pipeline(&["github/pull-request.yml", "github/apply.yml", "github/drift.yml"]);
}

#[test]
fn gitlab_recipe_runs_against_the_emulator() {
    run_pipeline(&["gitlab-ci.yml"]);
}

#[test]
fn recipe_lines_are_found_and_cleaned() {
    let commands = recipe_commands(&support::workspace().join("examples/ci/gitlab-ci.yml"));
    assert!(commands.iter().all(|c| c.starts_with("tabops ") && !c.contains(MARKER)), "{commands:?}");
    assert!(commands.iter().any(|c| c.contains("--base \"origin/$CI_MERGE_REQUEST_TARGET_BRANCH_NAME\"")));
}
