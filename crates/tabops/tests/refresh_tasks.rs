//! Refresh tasks follow the same rule as everything else (issue 11, item 6), through the real binary against the
//! emulator: an item without a `refresh:` key leaves its live tasks alone (listed as unmanaged), `refresh: []`
//! means none (its tasks are deleted, and the deletes count toward `--max-deletes`), and a pruned item's delete
//! names the tasks Tableau removes with it. The scenario is a transcript snapshot: commands, exit codes, output.
//!
//! What the site does when an item is deleted: its extract-refresh tasks go with it. Inferred (no document says it
//! outright): Tableau's tasks API lists a task only with its target workbook or data source (tableauserverclient's
//! `test/assets/tasks_*.xml`), and tableau-mcp's delete-content tool treats a task as a schedule of its item. The
//! plan shows and counts them as part of the item's delete; see docs/tableau-cloud.md.

use std::path::Path;

use tabops_testkit as support;

use support::{Harness, Run, edit, path_str, transcript_step};

fn filters(root: &Path) -> insta::Settings {
    let mut settings = tabops_testkit::transcript_filters(root);
    settings.add_filter(r"/tmp/[^\s)`']+", "[TMP]");
    settings
}

/// Two data sources with extracts in a project without `prune`; Orders has one daily refresh task.
const SITE: &str = r#"version: 1
site: { server: local, content_url: acme }
projects:
  - name: Sales
datasources:
  - name: Orders
    project: Sales
    file: content/orders.tdsx
    refresh:
      - { type: full, frequency: daily, at: "06:00", weekdays: [Mon, Tue, Wed, Thu, Fri] }
  - name: Returns
    project: Sales
    file: content/orders.tdsx
"#;

#[test]
fn exported_manifest_without_refresh_keys_leaves_tasks_alone_and_empty_refresh_deletes_them() {
    let site = Harness::start();
    let src = site.dir.path().join("src");
    std::fs::create_dir_all(src.join("content")).unwrap();
    let orders = support::workspace().join("examples/enterprise/content/orders.tdsx");
    std::fs::copy(orders, src.join("content/orders.tdsx")).unwrap();
    std::fs::write(src.join("manifest.yaml"), SITE).unwrap();
    site.apply(&src);

    let mut transcript = String::new();
    let mut run = |args: &[&str], code: i32| {
        let result = site.tabops(args);
        assert_eq!(result.code, code, "`tabops {}`\n{}\n{}", args.join(" "), result.stdout, result.stderr);
        // The password warning's item list comes in no fixed order (export's business, pinned in export.rs).
        let mut stderr = String::new();
        let mut in_passwords = false;
        for line in result.stderr.split_inclusive('\n') {
            if line.starts_with("warning: the API never returns connection passwords") {
                in_passwords = true;
                stderr.push_str("warning: the API never returns connection passwords; [items]\n");
            } else if !(in_passwords && line.starts_with("  - ")) {
                in_passwords = false;
                stderr.push_str(line);
            }
        }
        transcript.push_str(&transcript_step(args, &Run { stdout: result.stdout.clone(), stderr, code: result.code }));
        result
    };

    // A default export writes no `refresh:` key (the task is not exported), and its plan leaves the task alone.
    let out = site.dir.path().join("exported");
    let exported = run(&["export", "--out", path_str(&out), "--adopt"], 0);
    assert!(exported.stderr.contains("leaves them alone"), "{}", exported.stderr);
    let sales = out.join("projects/sales.yaml");
    assert!(!std::fs::read_to_string(&sales).unwrap().contains("refresh"), "no `refresh:` key in the export");
    let plan = run(&["plan", "-f", path_str(&out), "--detailed-exitcode"], 0);
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("refresh:datasource:Sales/Orders#daily-06:00"),
        "listed as unmanaged: {}",
        plan.stdout
    );

    // Exported with its tasks, the manifest lists them: still no changes, and the task is managed.
    let with = site.dir.path().join("with-refresh");
    run(&["export", "--out", path_str(&with), "--with-refresh", "--adopt"], 0);
    let sales = with.join("projects/sales.yaml");
    let text = std::fs::read_to_string(&sales).unwrap();
    assert_eq!(text.matches("refresh:").count(), 1, "only Orders has a task:\n{text}");
    let json = site.plan_json(&with);
    assert_eq!(json["summary"]["destroy"], 0, "{json}");
    let unmanaged = json["unmanaged"].as_array().unwrap();
    assert!(unmanaged.iter().all(|u| u["kind"] != "refresh_task"), "{json}");

    // `refresh: []` means none: the task is deleted, and the delete counts toward --max-deletes.
    let block = refresh_block(&text);
    edit(&sales, &block, "  refresh: []\n");
    let plan = run(&["plan", "-f", path_str(&with), "--detailed-exitcode"], 2);
    assert!(plan.stdout.contains("0 to add, 0 to change, 1 to destroy"), "{}", plan.stdout);
    let refused = run(&["plan", "-f", path_str(&with), "--max-deletes", "0"], 1);
    assert!(refused.stdout.contains("more than the limit of 0"), "{}", refused.stdout);

    // Removing the key altogether: the task is left alone again, listed as unmanaged.
    edit(&sales, "  refresh: []\n", "");
    let plan = run(&["plan", "-f", path_str(&with), "--detailed-exitcode"], 0);
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);

    // With `prune`, an item left out of the manifest is deleted with its task, and the plan says so.
    let text = std::fs::read_to_string(&sales).unwrap();
    let orders = &text[text.find("- name: Orders\n").unwrap()..text.find("- name: Returns\n").unwrap()];
    edit(&sales, orders, "");
    edit(&sales, "- name: Sales\n", "- name: Sales\n  prune: true\n");
    let plan = run(&["plan", "-f", path_str(&with), "--detailed-exitcode"], 2);
    assert!(plan.stdout.contains("extract-refresh task(s) are deleted with it"), "{}", plan.stdout);
    let refused = run(&["plan", "-f", path_str(&with), "--max-deletes", "1"], 1);
    assert!(refused.stdout.contains("the plan deletes 2 objects"), "the task counts: {}", refused.stdout);
    filters(site.dir.path()).bind(|| insta::assert_snapshot!("refresh_tasks_follow_the_manifest", transcript));
}

/// The exported `refresh:` block of the one item that has it: the key line and the list under it.
fn refresh_block(text: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in text.split_inclusive('\n') {
        if line.starts_with("  refresh:") {
            inside = true;
        } else if inside && !(line.starts_with("  - ") || line.starts_with("    ")) {
            break;
        }
        if inside {
            out.push_str(line);
        }
    }
    out
}
