//! View permissions (`view_permissions:` on a workbook that does not show tabs), with the real binary against the
//! emulator: the first apply publishes the workbook and sets the named view's rules (found among the published
//! workbook's views by sheet name), the next plan has no changes and writes nothing, a rule changed on the site is
//! drift naming the view, and a manifest without view permissions never reads a view's rules.

use tabops_testkit as support;

use std::path::PathBuf;

use support::{Harness, content_writes, path_str, route, transcript_filters, transcript_step, workspace};

const VIEW_RULES: &str = "GET /sites/{id}/views/{id}/permissions";

fn manifest(h: &Harness, view_permissions: &str) -> PathBuf {
    let dir = h.dir.path().join("views");
    std::fs::create_dir_all(dir.join("content")).unwrap();
    std::fs::copy(workspace().join("examples/quickstart/content/pipeline.twb"), dir.join("content/pipeline.twb"))
        .unwrap();
    std::fs::write(
        dir.join("manifest.yaml"),
        format!(
            "version: 1\nsite: {{ server: {}, content_url: acme }}\ngroups:\n  - {{ name: Analysts }}\nprojects:\n  - name: Sales\nworkbooks:\n  - name: Pipeline\n    project: Sales\n    file: content/pipeline.twb\n    show_tabs: false\n{view_permissions}",
            h.url()
        ),
    )
    .unwrap();
    dir
}

const RULES: &str = "    view_permissions:\n      Win Rate:\n        - { group: Analysts, capabilities: { Read: Allow, ExportData: Deny } }\n";

#[test]
fn view_permissions_plan_apply_converge_and_drift() {
    let h = Harness::start();
    let dir = manifest(&h, RULES);
    let m = path_str(&dir);
    let mut transcript = String::new();
    let mut step = |args: &[&str], code: i32| {
        let run = h.tabops(args).without_action_lines();
        assert_eq!(run.code, code, "{args:?}\n{}\n{}", run.stdout, run.stderr);
        transcript.push_str(&transcript_step(args, &run));
        run
    };
    step(&["plan", "-f", m], 0);
    step(&["apply", "-f", m, "--auto-approve"], 0);
    let applied = h.stats();
    step(&["plan", "-f", m, "--detailed-exitcode"], 0);
    step(&["apply", "-f", m, "--auto-approve"], 0);
    assert_eq!(content_writes(&h.stats()), content_writes(&applied), "a converged site gets no write");

    // The rule on the site, read through the client as the API answers it.
    let client = h.client();
    let workbooks = h.block_on(client.workbooks()).unwrap();
    let pipeline = workbooks.iter().find(|w| w.name == "Pipeline").unwrap();
    let views = h.block_on(client.workbook_views(&pipeline.id)).unwrap();
    let win_rate = views.iter().find(|v| v.name == "Win Rate").unwrap();
    let target = tabops_tableau::PermissionTarget::View(win_rate.id.clone());
    let rules = h.block_on(client.permissions(&target)).unwrap();
    assert_eq!(rules.len(), 1, "{rules:?}");
    let mut caps: Vec<(String, &str)> =
        rules[0].capabilities.iter().map(|c| (c.name.clone(), c.mode.as_str())).collect();
    caps.sort();
    assert_eq!(caps, vec![("ExportData".to_owned(), "Deny"), ("Read".to_owned(), "Allow")]);
    let other = views.iter().find(|v| v.name == "Pipeline by Stage").unwrap();
    let untouched = h.block_on(client.permissions(&tabops_tableau::PermissionTarget::View(other.id.clone()))).unwrap();
    assert!(untouched.is_empty(), "only the named view gets rules: {untouched:?}");

    // Someone allows the export on the site.
    let grantee = rules[0].grantee.clone();
    h.block_on(client.delete_permission(&target, &grantee, "ExportData", tabops_tableau::CapabilityMode::Deny))
        .unwrap();
    let drift = step(&["drift", "-f", m], 2);
    assert!(drift.stdout.contains("view:Sales/Pipeline/Win Rate"), "{}", drift.stdout);

    let settings = transcript_filters(h.dir.path());
    settings.bind(|| insta::assert_snapshot!("view_permissions", transcript));
}

#[test]
fn a_manifest_without_view_permissions_reads_no_view_rules() {
    let h = Harness::start();
    let dir = manifest(&h, "");
    h.apply(&dir);
    let before = h.stats();
    h.assert_converged(&dir);
    assert_eq!(route(&h.stats(), VIEW_RULES), route(&before, VIEW_RULES));

    let with = manifest(&h, RULES);
    let before = h.stats();
    h.plan_json(&with);
    assert_eq!(route(&h.stats(), VIEW_RULES) - route(&before, VIEW_RULES), 1, "one read per named view");
}

#[test]
fn a_view_the_workbook_does_not_have_is_a_plan_error() {
    let h = Harness::start();
    let dir = manifest(&h, "");
    h.apply(&dir);
    let dir = manifest(&h, "    view_permissions:\n      Nope:\n        - { group: Analysts, template: Viewer }\n");
    let run = h.tabops(&["plan", "-f", path_str(&dir)]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("no view named 'Nope'") || run.stderr.contains("no view named 'Nope'"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
}

#[test]
fn export_writes_view_permissions_and_plans_no_changes() {
    let h = Harness::start();
    let dir = manifest(&h, RULES);
    h.apply(&dir);
    let out = h.dir.path().join("exported");
    h.tabops(&["export", "--out", path_str(&out), "--with-permissions"]).expect(0);
    let project = std::fs::read_dir(out.join("projects"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .find(|text| text.contains("Pipeline"))
        .expect("the Sales project file");
    assert!(project.contains("view_permissions:"), "{project}");
    assert!(project.contains("Win Rate:"), "{project}");
    assert!(!project.contains("Pipeline by Stage:"), "views without rules are left out: {project}");
    h.assert_converged(&out);
}
