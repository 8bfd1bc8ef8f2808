//! The CI recipes in `examples/ci/` cannot rot: every command line marked `# tabops-recipe` runs verbatim (through
//! `sh -c`, with the CI's variables set) against an emulator on 127.0.0.1, inside a real temporary git repository
//! holding the quickstart as `tabops/` with a pull-request commit on top of `origin/main`.

use std::path::Path;

mod support;

use support::{Harness, Run};

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

/// The emulator site and a repository with the pull request, as the recipes see them.
struct Ci {
    site: Harness,
}

impl Ci {
    fn start() -> Ci {
        let site = Harness::start();
        repository(&site.dir.path().join("repo"));
        Ci { site }
    }

    /// Runs one recipe line with `sh -c` in the repository; returns the exit code.
    fn run(&self, recipe: &str, line: &str) -> i32 {
        // GitHub expressions the runner would substitute: the PR's base branch, and on push the commit before it.
        let line = line.replace("${{ github.base_ref }}", "main").replace("${{ github.event.before }}", "HEAD~1");
        let run = Run::of(
            self.site
                .ci_command("sh", &self.site.dir.path().join("repo"))
                .arg("-c")
                .arg(&line)
                .env_remove("TABOPS_DIR") // a CI job keeps state in the checkout's default `.tabops`
                .env("TABOPS_MANIFEST", "tabops")
                .env("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "main")
                .env("CI_COMMIT_BEFORE_SHA", "HEAD~1"),
        );
        let accepted = if line.contains("drift") || line.contains("--detailed-exitcode") { [0, 2] } else { [0, 0] };
        assert!(
            accepted.contains(&run.code),
            "{recipe}: `{line}` exited {}\n--- stdout\n{}\n--- stderr\n{}",
            run.code,
            run.stdout,
            run.stderr
        );
        run.code
    }

    fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.site.dir.path().join("repo").join(name)).unwrap_or_default()
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
