//! What Terraform users reach for, through the real binary against the emulator: `show` renders a saved plan
//! without touching the site, `--target` limits plan and apply to named objects (and what they depend on) with a
//! warning that the result is partial, and `--var` sets manifest variables above `--env` and the file. Each is a
//! transcript snapshot: the command lines, their exit codes and what they print.

use std::path::Path;

use tabops_testkit as support;

use support::run::tabops_command;
use support::{Harness, Run, edit, path_str, transcript_step};

fn filters(root: &Path) -> insta::Settings {
    let mut settings = tabops_testkit::transcript_filters(root);
    // apply's per-action lines end with how long the action took.
    settings.add_filter(r"\((\d+ ms|\d+(\.\d+)? s)\)", "([TIME])");
    settings
}

/// `tabops ARGS` in `cwd` with nothing but PATH, NO_COLOR and `env` (no site flags, no token).
fn offline(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    Run::of(tabops_command(cwd).envs(env.iter().copied()).args(args))
}

#[test]
fn show_renders_a_saved_plan_without_the_site_or_the_manifest() {
    let site = Harness::start();
    let repo = site.copy_example("quickstart", "repo");
    let manifest = repo.join("manifest.yaml");
    let dir = site.dir.path();
    let planned = site.tabops(&["plan", "-f", path_str(&manifest), "--out", "plan.json"]).expect(0);
    // The manifest is gone and no site is named: show reads the file alone.
    std::fs::remove_dir_all(&repo).unwrap();
    let requests = site.stats().requests_total;
    let mut transcript = String::new();
    // `stdout` replaces the output in the transcript where it is checked in full below (the whole plan, twice).
    let mut step = |args: &[&str], env: &[(&str, &str)], code: i32, stdout: Option<&str>| {
        let run = offline(dir, args, env);
        assert_eq!(run.code, code, "{args:?}\n{}\n{}", run.stdout, run.stderr);
        let shown = Run {
            code: run.code,
            stdout: stdout.map_or_else(|| run.stdout.clone(), |s| format!("{s}\n")),
            stderr: run.stderr.clone(),
        };
        transcript.push_str(&transcript_step(args, &shown));
        run
    };

    let text = step(&["show", "plan.json"], &[], 0, Some("(what `plan` printed, byte for byte)"));
    assert_eq!(text.stdout, planned.stdout, "show prints what plan printed");
    let json = step(&["show", "plan.json", "--format", "json"], &[], 0, Some("(the saved plan's JSON)"));
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("plan.json")).unwrap()).unwrap();
    assert_eq!(serde_json::from_str::<serde_json::Value>(&json.stdout).unwrap(), saved);
    let markdown = step(&["show", "plan.json", "--format", "markdown", "--max-bytes", "2048"], &[], 0, None);
    assert!(markdown.stdout.len() <= 2048, "{}", markdown.stdout.len());
    assert!(markdown.stdout.contains("The whole plan is in plan.json (the saved plan)."), "{}", markdown.stdout);
    let changes = step(&["show", "plan.json", "--detailed-exitcode"], &[], 2, Some("(the same plan)"));
    assert_eq!(changes.stdout, planned.stdout);
    assert_eq!(site.stats().requests_total, requests, "show sent nothing to the site");

    // A signed plan is checked like `apply PLAN` checks it.
    let key = "k".repeat(40);
    let signed = site.tabops_env(
        &["plan", "-f", path_str(&site.copy_example("quickstart", "repo")), "--out", "signed.json"],
        &[("TABOPS_PLAN_KEY", &key)],
    );
    assert_eq!(signed.code, 0, "{}", signed.stderr);
    step(&["show", "signed.json"], &[], 1, None);
    let checked = step(&["show", "signed.json", "--format", "json"], &[("TABOPS_PLAN_KEY", &key)], 0, Some("(JSON)"));
    assert!(checked.stdout.contains("\"format_version\""));
    let text = std::fs::read_to_string(dir.join("signed.json")).unwrap();
    std::fs::write(dir.join("signed.json"), text.replacen("Sales", "Saless", 1)).unwrap();
    step(&["show", "signed.json"], &[("TABOPS_PLAN_KEY", &key)], 1, None);
    step(&["show", "missing.json"], &[], 1, None);

    filters(dir).bind(|| insta::assert_snapshot!("show_a_saved_plan", transcript));
}

#[test]
fn target_limits_plan_and_apply_to_named_objects_and_says_the_result_is_partial() {
    let site = Harness::start();
    let repo = site.copy_example("quickstart", "repo");
    let manifest = repo.join("manifest.yaml");
    let m = path_str(&manifest);
    site.apply(&manifest);
    // Two unrelated changes, and a new project with a workbook in it.
    edit(&manifest, "description: Open opportunities by stage", "description: Open opportunities by stage and owner");
    edit(&manifest, "description: Revenue and margin by region", "description: Revenue and margin by country");
    edit(&manifest, "\ndatasources:", "  - name: Marketing\n    description: Campaigns\n\ndatasources:");
    edit(
        &manifest,
        "\nworkbooks:\n",
        "\nworkbooks:\n  - name: Campaigns\n    project: Marketing\n    file: content/pipeline.twb\n\n",
    );
    let mut transcript = String::new();
    let mut step = |args: &[&str], code: i32| {
        let run = site.tabops(args).expect(code);
        transcript.push_str(&transcript_step(args, &run));
        run
    };

    let whole = step(&["plan", "-f", m], 0);
    assert!(whole.stdout.contains("Plan: 2 to add, 2 to change, 0 to destroy."), "{}", whole.stdout);
    assert!(!whole.stdout.contains("Warning"), "{}", whole.stdout);
    // The new workbook brings the project it goes into; the other changes are left out, and the plan says so.
    let targeted = step(&["plan", "-f", m, "--target", "workbook:Marketing/Campaigns"], 0);
    assert!(targeted.stdout.contains("+ project:Marketing\n"), "{}", targeted.stdout);
    assert!(!targeted.stdout.contains("Pipeline"), "{}", targeted.stdout);
    assert!(targeted.stdout.contains("Warning: targeting is in effect (--target workbook:Marketing/Campaigns)"));
    assert!(targeted.stdout.contains("Plan: 2 to add, 0 to change, 0 to destroy."), "{}", targeted.stdout);
    step(&["plan", "-f", m, "--target", "workbook:Campaigns"], 1);

    let applied = step(&["apply", "-f", m, "--auto-approve", "--target", "workbook:Sales/Pipeline"], 0);
    assert!(applied.stdout.contains("Apply complete: 1 action(s) completed."), "{}", applied.stdout);
    assert!(applied.stderr.contains("warning: applied changes may be incomplete"), "{}", applied.stderr);
    let rest = step(&["plan", "-f", m], 0);
    assert!(rest.stdout.contains("Plan: 2 to add, 1 to change, 0 to destroy."), "{}", rest.stdout);

    // A saved targeted plan is applied with its targets; other targets would plan another plan, which is refused.
    let saved = ["plan", "-f", m, "--target", "workbook:Sales/EMEA/Revenue", "--out", "revenue.json"];
    step(&saved, 0);
    let refused = step(&["apply", "revenue.json", "-f", m, "--target", "project:Marketing"], 1);
    assert!(refused.stderr.contains("refusing the plan revenue.json"), "{}", refused.stderr);
    let applied = step(&["apply", "revenue.json", "-f", m], 0);
    assert!(applied.stdout.contains("Apply complete: 1 action(s) completed."), "{}", applied.stdout);
    let rest = step(&["plan", "-f", m], 0);
    assert!(rest.stdout.contains("Plan: 2 to add, 0 to change, 0 to destroy."), "{}", rest.stdout);

    filters(site.dir.path()).bind(|| insta::assert_snapshot!("target_is_partial", transcript));
}

#[test]
fn var_sets_manifest_variables_above_the_environment_and_the_file() {
    let site = Harness::start();
    let manifest = site.dir.path().join("manifest.yaml");
    std::fs::write(
        &manifest,
        "version: 1\nsite: { server: local, content_url: acme }\nvars: { team: Sales }\nenvironments:\n  staging:\n    \
         vars: { team: Staging }\nprojects:\n  - name: \"${team}\"\n    description: \"${team} analytics\"\n",
    )
    .unwrap();
    let m = path_str(&manifest);
    let mut transcript = String::new();
    let mut step = |args: &[&str], code: i32| {
        let run = site.tabops(args).expect(code);
        transcript.push_str(&transcript_step(args, &run));
        run
    };
    let from_file = step(&["plan", "-f", m], 0);
    assert!(from_file.stdout.contains("+ project:Sales\n"), "{}", from_file.stdout);
    let from_env = step(&["plan", "-f", m, "--env", "staging"], 0);
    assert!(from_env.stdout.contains("+ project:Staging\n"), "{}", from_env.stdout);
    let from_flag = step(&["plan", "-f", m, "--env", "staging", "--var", "team=Ops"], 0);
    assert!(from_flag.stdout.contains("+ project:Ops\n"), "{}", from_flag.stdout);
    assert!(from_flag.stdout.contains("\"Ops analytics\""), "{}", from_flag.stdout);
    // The last value of a name wins; a value may hold `=`.
    let last = step(&["plan", "-f", m, "--var", "team=Ops", "--var", "team=R=D"], 0);
    assert!(last.stdout.contains("+ project:R=D\n"), "{}", last.stdout);
    // A name the manifest does not define is refused (a typo must not pass unnoticed), and so is no `=`.
    let typo = step(&["plan", "-f", m, "--var", "tema=Ops"], 1);
    assert!(typo.stderr.contains("variable `tema` (from --var) is not defined under `vars:`"), "{}", typo.stderr);
    step(&["plan", "-f", m, "--var", "team"], 1);
    // The same values reach apply.
    let applied = site.tabops(&["apply", "-f", m, "--var", "team=Ops", "--auto-approve"]).expect(0);
    assert!(applied.stdout.contains("Apply complete"), "{}", applied.stdout);
    let client = site.client();
    let projects = site.block_on(client.projects()).unwrap();
    assert!(projects.iter().any(|p| p.name == "Ops" && p.description.as_deref() == Some("Ops analytics")));
    step(&["plan", "-f", m, "--var", "team=Ops", "--detailed-exitcode"], 0);

    filters(site.dir.path()).bind(|| insta::assert_snapshot!("var_above_env_and_file", transcript));
}
