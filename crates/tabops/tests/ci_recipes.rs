//! The CI recipes in `examples/ci/` cannot rot: every command line marked `# tabops-recipe` runs verbatim (through
//! `sh -c`, with the CI's variables set) against an emulator on 127.0.0.1, inside a real temporary git repository
//! holding the quickstart as `tabops/` with a pull-request commit on top of `origin/main`. Each pipeline also runs
//! as the repository's first pull request (no manifest on `origin/main`, the all-zero "before" commit on merge).
//! The manifest's data source reads its connection password from `${env:ORDERS_DB_PASSWORD}`, which only the
//! apply jobs get, as the recipes say: the pull-request and drift jobs run without it.

use std::path::Path;

use tabops_testkit as support;

use support::{Harness, Run};

const MARKER: &str = "# tabops-recipe";

/// The connection password the test manifest reads, and the jobs that get it (the apply jobs: a GitHub workflow
/// file, or a GitLab job).
const DB_PASSWORD: (&str, &str) = ("ORDERS_DB_PASSWORD", "dev-orders-secret");
const JOBS_WITH_SECRETS: [(&str, &str); 2] = [("github/apply.yml", "apply"), ("gitlab-ci.yml", "tabops-apply")];

/// How the apply recipe prefers the reviewed plan it downloaded: it plans only when there is none.
const REVIEWED_PLAN_GUARD: &str = "[ -f plan.json ] || ";

/// GitHub's `event.before` and GitLab's `CI_COMMIT_BEFORE_SHA` when there is no previous commit.
const NULL_COMMIT: &str = "0000000000000000000000000000000000000000";

/// The command lines ending in the marker, in order, with YAML list dashes and the marker stripped, each with its
/// job (the last key indented by two spaces under `jobs:` on GitHub, the last top-level key on GitLab).
fn recipe_jobs(file: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(file).unwrap();
    let mut job = String::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let key = |indent: usize| {
            let body = line.strip_prefix(&" ".repeat(indent))?;
            let name = body.strip_suffix(':')?;
            (!name.starts_with([' ', '-', '#']) && !name.contains(' ')).then(|| name.to_owned())
        };
        if let Some(name) = key(0).filter(|n| n != "jobs").or_else(|| key(2).filter(|_| text.contains("\njobs:"))) {
            job = name;
        }
        if let Some(command) = line.trim_end().strip_suffix(MARKER) {
            out.push((job.clone(), command.trim().trim_start_matches("- ").trim().to_owned()));
        }
    }
    out
}

fn recipe_commands(file: &Path) -> Vec<String> {
    recipe_jobs(file).into_iter().map(|(_, command)| command).collect()
}

/// The quickstart with a connection password read from the environment, as `dir/tabops`.
fn manifest_with_a_secret(dir: &Path) {
    support::copy_dir(&support::workspace().join("examples/quickstart"), &dir.join("tabops"));
    support::edit(
        &dir.join("tabops/manifest.yaml"),
        "    file: content/orders.tds\n",
        "    file: content/orders.tds\n    connections:\n      - { server: db.acme.com, username: svc, password: \
         \"${env:ORDERS_DB_PASSWORD}\", embed: true }\n",
    );
}

/// A clone-like repository: `origin/main` at the quickstart (or, for the first pull request, at a commit without
/// any manifest), HEAD one pull-request commit ahead.
fn repository(dir: &Path, first_pull_request: bool) {
    let repo = support::init_repo(dir);
    let base = if first_pull_request {
        std::fs::write(dir.join("README.md"), "# BI platform\n").unwrap();
        support::commit_all(&repo, &["README.md"], "initial commit")
    } else {
        manifest_with_a_secret(dir);
        support::commit_all(&repo, &["tabops"], "quickstart")
    };
    repo.reference("refs/remotes/origin/main", base, true, "fetched").unwrap();
    // The remote the apply job pushes the audit trail to.
    let remote = dir.with_file_name("remote.git");
    git2::Repository::init_bare(&remote).unwrap();
    repo.remote("origin", support::path_str(&remote)).unwrap();
    if first_pull_request {
        manifest_with_a_secret(dir);
    }
    let manifest = dir.join("tabops/manifest.yaml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("Open opportunities by stage", "Open opportunities by stage (PR)")).unwrap();
    support::commit_all(&repo, &["tabops"], "pull request");
}

/// The pull (merge) request the pipelines' push merged, as the CI variables below name it.
const REVIEW: &str = "7";

/// The variables the CI system sets for a job of `recipe` (the ones the audit trail reads: who ran it, where, and
/// for which review). On the push that applies, GitHub names no pull request: the apply recipe looks it up and
/// exports `TABOPS_PULL_REQUEST` (through `$GITHUB_ENV`, to the later steps), when the push `merged` one; GitLab
/// runs the apply job on the merge commit, whose message (default template) references the merge request.
fn ci_variables(recipe: &str, merged: bool) -> Vec<(&'static str, String)> {
    let mut vars: Vec<(&str, String)> = Vec::new();
    if recipe.starts_with("github/") {
        let event = match recipe {
            "github/pull-request.yml" => "pull_request",
            "github/drift.yml" => "schedule",
            _ => "push",
        };
        let git_ref =
            if event == "pull_request" { format!("refs/pull/{REVIEW}/merge") } else { "refs/heads/main".into() };
        vars.extend([
            ("GITHUB_ACTIONS", "true".to_owned()),
            ("GITHUB_SERVER_URL", "https://github.com".into()),
            ("GITHUB_REPOSITORY", "acme/analytics".into()),
            ("GITHUB_RUN_ID", "4242".into()),
            ("GITHUB_RUN_ATTEMPT", "1".into()),
            ("GITHUB_ACTOR", "octocat".into()),
            ("GITHUB_EVENT_NAME", event.into()),
            ("GITHUB_REF", git_ref),
        ]);
        if recipe == "github/apply.yml" && merged {
            vars.push(("TABOPS_PULL_REQUEST", REVIEW.into()));
        }
    } else {
        vars.extend([
            ("GITLAB_CI", "true".to_owned()),
            ("CI_PROJECT_URL", "https://gitlab.com/acme/analytics".into()),
            ("CI_PROJECT_PATH", "acme/analytics".into()),
            ("CI_PIPELINE_URL", "https://gitlab.com/acme/analytics/-/pipelines/4242".into()),
            ("CI_JOB_URL", "https://gitlab.com/acme/analytics/-/jobs/99".into()),
            ("GITLAB_USER_LOGIN", "alice".into()),
            (
                "CI_COMMIT_MESSAGE",
                format!(
                    "Merge branch 'stages' into 'main'\n\nDescribe the stages\n\nSee merge request acme/analytics!{REVIEW}"
                ),
            ),
        ]);
    }
    vars
}

/// The emulator site and a repository with the pull request, as the recipes see them.
struct Ci {
    site: Harness,
    first_pull_request: bool,
    /// Whether the push the apply job runs on merged a pull request (else it was a direct push).
    merged: bool,
}

impl Ci {
    fn start(first_pull_request: bool) -> Ci {
        let mut site = Harness::start();
        site.env.clear(); // no secret unless the job gets it
        repository(&site.dir.path().join("repo"), first_pull_request);
        Ci { site, first_pull_request, merged: true }
    }

    /// Runs one recipe line of `job` with `sh -c` in the repository; returns the exit code.
    fn run(&self, recipe: &str, job: &str, line: &str) -> i32 {
        // GitHub expressions the runner would substitute: the PR's base branch, and on push the commit before it
        // (all zeros when the branch had none, which the first pull request stands for here).
        let before = if self.first_pull_request { NULL_COMMIT } else { "HEAD~1" };
        let line = line
            .replace("${{ github.base_ref }}", "main")
            .replace("${{ github.event.before }}", before)
            .replace("${{ github.event.pull_request.number }}", REVIEW);
        let mut command = self.site.ci_command("sh", &self.site.dir.path().join("repo"));
        command
            .arg("-c")
            .arg(&line)
            .env_remove("TABOPS_DIR") // a CI job keeps state in the checkout's default `.tabops`
            .env("TABOPS_MANIFEST", "tabops")
            .env("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "main")
            .env("CI_COMMIT_BEFORE_SHA", before);
        if JOBS_WITH_SECRETS.contains(&(recipe, job)) {
            command.env(DB_PASSWORD.0, DB_PASSWORD.1);
        }
        command.envs(ci_variables(recipe, self.merged));
        if recipe == "gitlab-preview.yml" {
            command.env("CI_MERGE_REQUEST_IID", REVIEW);
        }
        let run = Run::of(&mut command);
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
fn run_pipeline(recipes: &[&str], first_pull_request: bool) {
    let mut ci = Ci::start(first_pull_request);
    // Without the pull-request workflow, the GitHub apply job runs on a push no pull request belongs to.
    ci.merged = !recipes.iter().any(|r| r.starts_with("github/")) || recipes.contains(&"github/pull-request.yml");
    let mut ran = 0;
    for recipe in recipes {
        let file = support::workspace().join("examples/ci").join(recipe);
        let commands = recipe_jobs(&file);
        assert!(!commands.is_empty(), "{recipe} has no `{MARKER}` lines");
        for (job, line) in &commands {
            let reviewed_plan = line.starts_with(REVIEWED_PLAN_GUARD).then(|| ci.file("plan.json"));
            let command = line.strip_prefix(REVIEWED_PLAN_GUARD).unwrap_or(line);
            assert!(command.starts_with("tabops "), "{recipe}: only tabops commands are marked: `{line}`");
            let code = ci.run(recipe, job, line);
            ran += 1;
            match reviewed_plan.as_deref() {
                // The pull-request job's plan (the artifact the apply job downloads) is applied as it was reviewed.
                Some(reviewed) if !reviewed.is_empty() => {
                    assert_eq!(ci.file("plan.json"), reviewed, "{recipe}: the reviewed plan was replaced")
                }
                // No reviewed plan: the apply job plans afresh.
                Some(_) => assert!(ci.file("plan.json").contains("\"actions\""), "{recipe}: no plan was made"),
                None => {}
            }
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
    assert!(ran >= 2 * recipes.len(), "too few recipe commands ran: {ran}");
    let remote = ci.site.dir.path().join("remote.git");
    let audit = trail(&remote);
    assert!(audit.contains("apply_start"), "the apply recipe pushed its run to the audit trail");
    assert!(!audit.contains(DB_PASSWORD.1), "the connection password reached the audit log");
    // Who and why: the run names the manifest commit, the pipeline run and the review it came from.
    let start: serde_json::Value = audit
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .find(|record| record["type"] == "apply_start")
        .unwrap();
    let ci_context = &start["data"]["ci"];
    let head = git2::Repository::open(ci.site.dir.path().join("repo")).unwrap().head().unwrap().target().unwrap();
    assert_eq!(start["data"]["git"]["commit"], head.to_string(), "{start}");
    let (run_url, review) = if recipes[0].starts_with("github/") {
        (
            "https://github.com/acme/analytics/actions/runs/4242/attempts/1",
            format!("https://github.com/acme/analytics/pull/{REVIEW}"),
        )
    } else {
        (
            "https://gitlab.com/acme/analytics/-/pipelines/4242",
            format!("https://gitlab.com/acme/analytics/-/merge_requests/{REVIEW}"),
        )
    };
    assert_eq!(ci_context["run_url"], run_url, "{start}");
    let message = git2::Repository::open(&remote)
        .unwrap()
        .find_reference("refs/tabops/audit/acme")
        .unwrap()
        .peel_to_commit()
        .unwrap()
        .message()
        .unwrap()
        .to_owned();
    assert!(message.contains(&format!("Tabops-CI-Run: {run_url}")), "{message}");
    if ci.merged {
        assert_eq!(ci_context["review_url"], review.as_str(), "{start}");
        assert!(message.contains(&format!("Tabops-Review: {review}")), "{message}");
    } else {
        assert!(ci_context.get("review_url").is_none(), "a direct push names no review: {start}");
    }
    let published = ci.site.block_on(ci.site.client().datasources()).unwrap();
    assert!(published.iter().any(|d| d.name == "Orders"), "the apply job published the data source");
}

/// Every run file of the site's audit trail on the remote, concatenated.
fn trail(remote: &Path) -> String {
    let repo = git2::Repository::open(remote).unwrap();
    let tree = repo.find_reference("refs/tabops/audit/acme").expect("the trail was pushed").peel_to_tree().unwrap();
    let runs = repo.find_tree(tree.get_name("runs").unwrap().id()).unwrap();
    runs.iter()
        .map(|entry| String::from_utf8(repo.find_blob(entry.id()).unwrap().content().to_vec()).unwrap())
        .collect()
}

const GITHUB: [&str; 3] = ["github/pull-request.yml", "github/apply.yml", "github/drift.yml"];

#[test]
fn github_actions_recipes_run_against_the_emulator() {
    run_pipeline(&GITHUB, false);
}

#[test]
fn github_actions_recipes_run_the_first_pull_request_without_a_manifest_on_main() {
    run_pipeline(&GITHUB, true);
}

/// A push no pull request belongs to (a direct push, a manual run): no plan artifact to download, so the apply job
/// plans afresh and applies that.
#[test]
fn github_apply_recipe_plans_afresh_when_no_reviewed_plan_exists() {
    run_pipeline(&["github/apply.yml", "github/drift.yml"], false);
}

/// Every recipe installs one pinned tabops release and caches it, instead of building the tip of the repository on
/// every run; the GitHub apply job downloads the plan reviewed on the pull request.
#[test]
fn recipes_install_a_pinned_cached_tabops_and_apply_the_reviewed_plan() {
    let dir = support::workspace().join("examples/ci");
    for name in ["github/pull-request.yml", "github/apply.yml", "github/drift.yml", "gitlab-ci.yml"] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let installs: Vec<&str> = text.lines().filter(|l| l.contains("cargo install")).collect();
        assert!(!installs.is_empty(), "{name} installs tabops");
        for line in installs {
            assert!(line.contains("--locked") && line.contains("--tag \"$TABOPS_VERSION\""), "{name}: {line}");
        }
        assert!(text.contains("TABOPS_VERSION: v"), "{name} pins a release");
        assert!(text.contains("key: tabops-"), "{name} caches the built binary");
    }
    let apply = std::fs::read_to_string(dir.join("github/apply.yml")).unwrap();
    assert!(apply.contains("gh run download \"$run\" --name tabops-plan"), "apply.yml downloads the reviewed plan");
    let guarded = format!("{REVIEWED_PLAN_GUARD}tabops plan");
    assert!(apply.contains(&guarded), "apply.yml plans only when no reviewed plan was downloaded");
    let pull_request = std::fs::read_to_string(dir.join("github/pull-request.yml")).unwrap();
    assert!(pull_request.contains("name: tabops-plan") && pull_request.contains("path: plan.json"));
}

/// The apply jobs keep the audit trail in git and have what pushing it takes; the other jobs write nothing.
#[test]
fn apply_recipes_push_the_audit_trail_with_the_permissions_it_needs() {
    let dir = support::workspace().join("examples/ci");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    for name in ["github/apply.yml", "gitlab-ci.yml"] {
        let commands = recipe_commands(&dir.join(name));
        assert!(
            commands
                .iter()
                .any(|c| c.starts_with("tabops apply")
                    && c.contains("--audit-log \"git:refs/tabops/audit/$TABLEAU_SITE\"")),
            "{name}: {commands:?}"
        );
        assert!(commands.iter().any(|c| c.starts_with("tabops audit verify \"git:")), "{name} prints the trail's head");
    }
    // GitHub: pushing a ref is a write to the repository's contents; only the apply workflow may.
    let apply = read("github/apply.yml");
    assert!(apply.lines().any(|l| l.trim_start().starts_with("contents: write")), "apply.yml may push the trail");
    for name in ["github/pull-request.yml", "github/drift.yml"] {
        let text = read(name);
        assert!(text.contains("\npermissions:\n  contents: read"), "{name} declares read-only contents");
        assert!(!text.contains("contents: write"), "{name} must not be able to push");
    }
    assert!(
        apply.contains("echo \"TABOPS_PULL_REQUEST=$number\" >> \"$GITHUB_ENV\""),
        "apply.yml names the merged pull request"
    );
    // GitLab: the job token pushes only when the project allows it; otherwise a project access token does.
    let gitlab = read("gitlab-ci.yml");
    assert!(gitlab.contains("Allow Git push requests to the repository") && gitlab.contains("write_repository"));
    assert!(gitlab.contains("git remote set-url --push origin \"https://tabops:${TABOPS_AUDIT_TOKEN}@"));
}

/// A pull request that adds 1,200 groups, on a site with 600 users the manifest does not manage: the pull-request
/// recipe's Markdown stays within GitHub's 65,536-character comment limit, says what it left out and where the whole
/// plan is, and summarises the unmanaged users instead of listing them.
#[test]
fn github_pull_request_recipe_keeps_a_plan_over_the_comment_budget_postable() {
    let ci = Ci::start(false);
    let repo_dir = ci.site.dir.path().join("repo");
    let mut groups = String::from("version: 1\ngroups:\n");
    for i in 0..1_200 {
        groups.push_str(&format!("  - name: Regional readers {i:04}\n    minimum_site_role: Viewer\n"));
    }
    std::fs::write(repo_dir.join("tabops/groups-bulk.yaml"), groups).unwrap();
    let repo = git2::Repository::open(&repo_dir).unwrap();
    support::commit_all(&repo, &["tabops"], "1,200 groups");
    let client = ci.site.client();
    ci.site.block_on(async {
        for i in 0..600 {
            let user = tabops_tableau::NewUser {
                name: format!("someone{i:03}@acme.com"),
                site_role: "Viewer".into(),
                ..Default::default()
            };
            client.add_user(&user).await.unwrap();
        }
    });

    let file = support::workspace().join("examples/ci/github/pull-request.yml");
    let (job, line) = recipe_jobs(&file).into_iter().find(|(_, l)| l.contains("--format markdown")).unwrap();
    assert_eq!(ci.run("github/pull-request.yml", &job, &line), 2, "changes present");
    let md = ci.file("plan.md");
    assert!(md.chars().count() < 65_536 && md.len() <= 60_000, "{} bytes", md.len());
    assert!(md.contains("| Groups | 1201 | 0 | 0 |"), "{}", &md[md.find("## tabops plan").unwrap_or(0)..]);
    assert!(md.contains("action(s) not shown") && md.contains("plan.json (saved by this run with --out)"), "{md}");
    assert!(md.contains("users (on the site, not in the manifest"), "{md}");
    assert!(!md.contains("someone000@acme.com"), "unmanaged users are summarised, not listed");
    let plan: serde_json::Value = serde_json::from_str(&ci.file("plan.json")).unwrap();
    let groups = plan["actions"].as_array().unwrap().iter().filter(|a| a["kind"] == "group").count();
    assert_eq!(groups, 1201, "the saved plan holds every action");
}

#[test]
fn gitlab_recipe_runs_against_the_emulator() {
    run_pipeline(&["gitlab-ci.yml"], false);
}

#[test]
fn gitlab_recipe_runs_the_first_merge_request_without_a_manifest_on_main() {
    run_pipeline(&["gitlab-ci.yml"], true);
}

#[test]
fn only_the_apply_jobs_get_connection_secrets() {
    let dir = support::workspace().join("examples/ci");
    let github = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    assert!(github("github/apply.yml").contains("ORDERS_DB_PASSWORD: ${{ secrets.ORDERS_DB_PASSWORD }}"));
    for name in ["github/pull-request.yml", "github/drift.yml", "gitlab-ci.yml"] {
        assert!(!github(name).contains("ORDERS_DB_PASSWORD:"), "{name} must not hand out the password");
    }
    let jobs: Vec<String> = recipe_jobs(&dir.join("gitlab-ci.yml")).into_iter().map(|(job, _)| job).collect();
    assert!(jobs.iter().any(|j| j == "tabops-plan") && jobs.iter().any(|j| j == "tabops-apply"), "{jobs:?}");
    let jobs: Vec<String> = recipe_jobs(&dir.join("github/apply.yml")).into_iter().map(|(job, _)| job).collect();
    assert!(jobs.iter().all(|j| j == "apply"), "{jobs:?}");
}

#[test]
fn recipe_lines_are_found_and_cleaned() {
    let commands = recipe_commands(&support::workspace().join("examples/ci/gitlab-ci.yml"));
    assert!(commands.iter().all(|c| c.starts_with("tabops ") && !c.contains(MARKER)), "{commands:?}");
    assert!(commands.iter().any(|c| c.contains("--base \"origin/$CI_MERGE_REQUEST_TARGET_BRANCH_NAME\"")));
}

/// The preview recipes: on the pull request, the changed workbook is published into its own preview project with
/// the Markdown linking it and images of its views; on close, the preview is removed and nothing is left of it.
#[test]
fn preview_recipes_publish_link_and_remove_a_pull_requests_preview() {
    for (recipe, id) in [("github/preview.yml", "pr-7"), ("gitlab-preview.yml", "mr-7")] {
        let ci = Ci::start(false);
        // The quickstart applied, as production is before the pull request.
        let main = ci.site.dir.path().join("main");
        support::copy_dir(&support::workspace().join("examples/quickstart"), &main);
        ci.site.tabops_env(&["apply", "-f", support::path_str(&main), "--auto-approve"], &[DB_PASSWORD]).expect(0);
        let commands = recipe_jobs(&support::workspace().join("examples/ci").join(recipe));
        assert!(commands.iter().any(|(_, c)| c.contains("--delete")), "{recipe} removes the preview");
        for (job, line) in &commands {
            assert!(line.starts_with("tabops preview "), "{recipe}: `{line}`");
            ci.run(recipe, job, line);
            if line.contains("--base") {
                let md = ci.file("preview.md");
                assert!(md.contains(&format!("### Preview `{id}`")), "{recipe}: {md}");
                assert!(md.contains("| changed workbook | [Pipeline]("), "{recipe}: {md}");
                let images = std::fs::read_dir(ci.site.dir.path().join("repo/preview-images")).unwrap().count();
                assert!(images > 0, "{recipe}: view images were written");
                let projects = ci.site.block_on(ci.site.client().projects()).unwrap();
                assert!(projects.iter().any(|p| p.name == id), "{recipe}: the preview project exists");
            }
        }
        let projects = ci.site.block_on(ci.site.client().projects()).unwrap();
        assert!(!projects.iter().any(|p| p.name == id || p.name == "Previews"), "{recipe}: the preview is gone");
    }
}
