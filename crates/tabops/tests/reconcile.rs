//! `plan`, `apply` and `drift` end to end: the real binary against an emulator started in
//! the test process, with state, audit log and edited manifest copies in temp dirs. Requests are counted with the
//! emulator's stats, so "no changes" means no writes on the wire, not just a message.

use tabops_testkit as support;

use std::io::{Read, Write};
use std::path::Path;

use support::{Harness, action, changes, content_writes, edit, path_str, route};
use tabops_emulator::EmulatorConfig;

const PUBLISH_WORKBOOK: &str = "POST /sites/{id}/workbooks";
const PUBLISH_DATASOURCE: &str = "POST /sites/{id}/datasources";

fn enterprise() -> std::path::PathBuf {
    support::workspace().join("examples/enterprise")
}

/// 1. Applying the enterprise example twice: the second run plans nothing and sends nothing.
#[test]
fn enterprise_apply_is_idempotent() {
    let h = Harness::start();
    let manifest = enterprise();
    let first = h.apply(&manifest);
    assert!(first.stdout.contains("Apply complete"), "{}", first.stdout);
    let after_first = h.stats();
    assert!(content_writes(&after_first) > 100, "the first apply wrote only {after_first:?}");
    assert_eq!(route(&after_first, PUBLISH_WORKBOOK), 8);
    assert_eq!(route(&after_first, PUBLISH_DATASOURCE), 5);

    let plan = h.tabops(&["plan", "-f", path_str(&manifest)]).expect(0);
    assert!(plan.stdout.contains("No changes."), "{}", plan.stdout);

    let before = h.stats();
    let second = h.apply(&manifest);
    assert!(second.stdout.contains("No changes."), "{}", second.stdout);
    let after = h.stats();
    assert_eq!(content_writes(&after), content_writes(&before), "second apply wrote: {after:?}");
    assert_eq!(route(&after, PUBLISH_WORKBOOK), route(&before, PUBLISH_WORKBOOK));
    assert_eq!(route(&after, PUBLISH_DATASOURCE), route(&before, PUBLISH_DATASOURCE));
    // Only the sign-in request has a body: far less than the smallest content file.
    let uploaded = after.bytes_received - before.bytes_received;
    assert!(uploaded < 1024, "second apply uploaded {uploaded} bytes");
}

/// Rewrites a zip archive with its entries in reverse order and other timestamps; the entry bytes are unchanged.
fn rezip(path: &Path) {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut entries = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        entries.push((entry.name().to_owned(), data));
    }
    assert!(entries.len() >= 2, "{} has too few entries to reorder", path.display());
    entries.reverse();
    let original = std::fs::read(path).unwrap();
    let mut writer = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::from_date_and_time(2031, 7, 14, 9, 26, 53).unwrap());
    for (name, data) in entries {
        writer.start_file(name, options).unwrap();
        writer.write_all(&data).unwrap();
    }
    writer.finish().unwrap();
    assert_ne!(std::fs::read(path).unwrap(), original, "the re-zipped archive must differ byte-wise");
}

/// 2. Publishing is skipped when the content is the same (even re-zipped), and happens once when one byte changes.
#[test]
fn checksum_skips_unchanged_content_and_publishes_a_changed_file() {
    let h = Harness::start();
    let manifest = h.copy_example("enterprise", "ent");
    h.apply(&manifest);

    rezip(&manifest.join("content/revenue.twbx"));
    let plan = h.plan_json(&manifest);
    assert_eq!(changes(&plan), Vec::<(String, String)>::new(), "a re-zipped .twbx must not be republished");
    let before = h.stats();
    h.apply(&manifest);
    let after = h.stats();
    assert_eq!(route(&after, PUBLISH_WORKBOOK), route(&before, PUBLISH_WORKBOOK));
    assert_eq!(content_writes(&after), content_writes(&before));

    let file = manifest.join("content/pipeline.twb");
    edit(&file, "<!-- build 20242.24.0910.0334", "<!-- build 20243.24.0910.0334");
    let size = std::fs::metadata(&file).unwrap().len();
    let plan = h.plan_json(&manifest);
    assert_eq!(changes(&plan), vec![("workbook:Sales/Americas/Pipeline".to_owned(), "replace".to_owned())]);
    let before = h.stats();
    h.apply(&manifest);
    let after = h.stats();
    assert_eq!(route(&after, PUBLISH_WORKBOOK) - route(&before, PUBLISH_WORKBOOK), 1);
    assert_eq!(route(&after, PUBLISH_DATASOURCE), route(&before, PUBLISH_DATASOURCE));
    let received = after.bytes_received - before.bytes_received;
    assert!(received >= size && received < size + 8 * 1024, "received {received} bytes for a {size}-byte workbook");
    h.assert_converged(&manifest);
}

/// 3. Every kind of change, planned as the right action and converging after apply; refusals exit 1.
#[test]
fn every_kind_of_change_plans_applies_and_converges() {
    let h = Harness::start();
    let manifest = h.copy_example("enterprise", "ent");
    h.apply(&manifest);
    let sales = manifest.join("projects/sales.yaml");
    let finance = manifest.join("projects/finance.yaml");
    let operations = manifest.join("projects/operations.yaml");

    // Update in place.
    edit(&sales, "description: Europe, Middle East and Africa", "description: Europe, the Middle East and Africa");
    // Grant Executives and revoke Sales Leads on Sales/Americas.
    edit(
        &sales,
        "          - { group: Sales Leads, template: Publisher }\n        projects:\n          - name: Forecasts",
        "          - { group: Executives, template: Viewer }\n        projects:\n          - name: Forecasts",
    );
    // Schedule change.
    edit(&sales, "at: \"05:30\"", "at: \"06:15\"");
    // Prune delete: Sales/Americas/Forecasts has `prune: true`.
    let text = std::fs::read_to_string(&sales).unwrap();
    let start = text.find("  - name: Sales Forecast").unwrap();
    let end = text.find("  - name: Price Test Results").unwrap();
    std::fs::write(&sales, format!("{}{}", &text[..start], &text[end..])).unwrap();
    // Rename in place.
    edit(
        &operations,
        "          - name: Warehouses\n",
        "          - name: Distribution Centers\n            renamed_from: Operations/Supply Chain/Warehouses\n",
    );
    edit(
        &operations,
        "project: Operations/Supply Chain/Warehouses",
        "project: Operations/Supply Chain/Distribution Centers",
    );
    // Move: Finance/Planning goes under Finance/Reporting.
    edit(&finance, "      - name: Planning\n        description: Budget and forecast models\n", "");
    edit(
        &finance,
        "\ndatasources:",
        "  - name: Planning\n    parent: Finance/Reporting\n    renamed_from: Finance/Planning\n    \
         description: Budget and forecast models\n\ndatasources:",
    );
    edit(&finance, "project: Finance/Planning", "project: Finance/Reporting/Planning");

    // Removing its only workbook empties Sales/Americas/Forecasts, which needs the flag.
    let plan = h.plan_json_with(&manifest, &["--allow-empty-project"]);
    let found = changes(&plan);
    let emea = action(&plan, "project:Sales/EMEA");
    assert_eq!(emea["action"], "update");
    assert_eq!(emea["changes"][0]["field"], "description");
    assert_eq!(emea["changes"][0]["after"], "Europe, the Middle East and Africa");
    assert_eq!(action(&plan, "project:Finance/Reporting/Planning")["action"], "update");
    assert_eq!(action(&plan, "project:Operations/Supply Chain/Distribution Centers")["action"], "update");
    assert_eq!(action(&plan, "workbook:Sales/Americas/Forecasts/Sales Forecast")["action"], "delete");
    assert_eq!(action(&plan, "permissions:project:Sales/Americas/group:Executives")["action"], "create");
    assert_eq!(action(&plan, "permissions:project:Sales/Americas/group:Sales Leads")["action"], "delete");
    // Nothing is created but the one grant: a rename or a move keeps the objects (and the rules on their content).
    let created: Vec<_> = found.iter().filter(|(_, a)| a == "create").collect();
    assert_eq!(created.len(), 1, "{found:?}");
    assert_eq!(found.iter().filter(|(_, a)| a == "delete").count(), 2, "{found:?}");
    let text = serde_json::to_string(&plan["actions"]).unwrap();
    assert!(text.contains("05:30") && text.contains("06:15"), "no schedule change in {found:?}");
    assert!(found.len() >= 6, "{found:?}");

    h.tabops(&["plan", "-f", path_str(&manifest)]).expect(1);
    let applied = h.tabops(&["apply", "-f", path_str(&manifest), "--auto-approve", "--allow-empty-project"]).expect(0);
    assert!(applied.stdout.contains("Apply complete"), "{}", applied.stdout);
    h.assert_converged(&manifest);

    // A protected project disappears from a pruned tree. Protection lives in git history: with the commit that
    // protected it as --base, plan and apply refuse (exit 1) and nothing is written.
    let archive = "      - name: Archive\n        description: Closed deals\n        protect: true\n";
    edit(&sales, "      - name: Pricing A/B Tests", &format!("{archive}      - name: Pricing A/B Tests"));
    h.apply(&manifest);
    h.assert_converged(&manifest);
    support::commit_all(&support::init_repo(h.dir.path()), &["ent"], "protect the archive");
    edit(&sales, archive, "");
    let before = h.stats();
    let refused = h.tabops(&["plan", "-f", path_str(&manifest), "--base", "HEAD"]).expect(1);
    let output = format!("{}{}", refused.stdout, refused.stderr);
    assert!(output.contains("Sales/Archive") && output.contains("protect"), "{output}");
    h.tabops(&["apply", "-f", path_str(&manifest), "--base", "HEAD", "--auto-approve"]).expect(1);
    assert_eq!(content_writes(&h.stats()), content_writes(&before));
    // Without the base, the manifest alone no longer protects it: the plan deletes it (and says why).
    let plan = h.plan_json(&manifest);
    assert_eq!(action(&plan, "project:Sales/Archive")["action"], "delete");
    edit(&sales, "      - name: Pricing A/B Tests", &format!("{archive}      - name: Pricing A/B Tests"));
    h.assert_converged(&manifest);

    // A delete over --max-deletes 0: refused by plan and apply; allowed without the flag.
    let text = std::fs::read_to_string(&sales).unwrap();
    let start = text.find("  - name: Customers").unwrap();
    let end = text.find("\nworkbooks:").unwrap();
    std::fs::write(&sales, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let refused = h.tabops(&["plan", "-f", path_str(&manifest), "--max-deletes", "0"]).expect(1);
    assert!(format!("{}{}", refused.stdout, refused.stderr).contains("delete"), "{refused:?}");
    let before = h.stats();
    h.tabops(&["apply", "-f", path_str(&manifest), "--auto-approve", "--max-deletes", "0"]).expect(1);
    assert_eq!(content_writes(&h.stats()), content_writes(&before));
    let plan = h.plan_json(&manifest);
    assert_eq!(changes(&plan), vec![("datasource:Sales/Customers".to_owned(), "delete".to_owned())]);
    h.apply(&manifest);
    h.assert_converged(&manifest);
}

/// 4. A saved plan applies exactly; a stale one is refused without writing.
#[test]
fn saved_plan_applies_and_stale_plan_is_refused() {
    let h = Harness::start();
    let manifest = h.copy_example("enterprise", "ent");
    h.apply(&manifest);
    let sales = manifest.join("projects/sales.yaml");
    edit(&sales, "description: Europe, Middle East and Africa", "description: EMEA (saved plan)");
    let plan_file = h.dir.path().join("plan.json");
    h.tabops(&["plan", "-f", path_str(&manifest), "--out", path_str(&plan_file)]).expect(0);
    let saved: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&plan_file).unwrap()).unwrap();
    assert_eq!(changes(&saved), vec![("project:Sales/EMEA".to_owned(), "update".to_owned())]);
    let before = h.stats();
    h.tabops(&["apply", path_str(&plan_file), "-f", path_str(&manifest)]).expect(0);
    assert_eq!(route(&h.stats(), "PUT /sites/{id}/projects/{id}") - route(&before, "PUT /sites/{id}/projects/{id}"), 1);
    h.assert_converged(&manifest);

    // Plan a change, then someone else changes the same project before the plan is applied.
    edit(&sales, "description: EMEA (saved plan)", "description: EMEA (second plan)");
    h.tabops(&["plan", "-f", path_str(&manifest), "--out", path_str(&plan_file)]).expect(0);
    let other = h.copy_example("enterprise", "other");
    edit(
        &other.join("projects/sales.yaml"),
        "description: Europe, Middle East and Africa",
        "description: changed by hand",
    );
    h.apply(&other);
    let before = h.stats();
    let stale = h.tabops(&["apply", path_str(&plan_file), "-f", path_str(&manifest)]).expect(1);
    assert!(stale.stderr.contains("stale"), "{}", stale.stderr);
    assert_eq!(content_writes(&h.stats()), content_writes(&before), "a stale plan must write nothing");
}

/// 5. Drift: none right after apply (exit 0), an out-of-band change is named (exit 2).
#[test]
fn drift_detects_an_out_of_band_change() {
    let h = Harness::start();
    let manifest = enterprise();
    h.apply(&manifest);
    let clean = h.tabops(&["drift", "-f", path_str(&manifest)]).expect(0);
    assert!(!clean.stdout.contains("Operations/Quality"), "{}", clean.stdout);

    let other = h.copy_example("enterprise", "other");
    edit(
        &other.join("projects/operations.yaml"),
        "description: Inspections and defect tracking",
        "description: edited in the web UI",
    );
    h.apply(&other);
    let drift = h.tabops(&["drift", "-f", path_str(&manifest)]).expect(2);
    assert!(drift.stdout.contains("Operations/Quality"), "{}", drift.stdout);
    let json = h.tabops(&["drift", "-f", path_str(&manifest), "--format", "json"]).expect(2);
    assert!(json.stdout.contains("Operations/Quality"), "{}", json.stdout);
    assert!(!json.stdout.contains("Sales/EMEA"), "only the changed project drifted: {}", json.stdout);

    // `plan` and `drift` sign out while they plan and print; every session still ends.
    h.tabops(&["plan", "-f", path_str(&manifest)]).expect(0);
    let stats = h.stats();
    assert_eq!(route(&stats, "POST /auth/signin"), 6, "{:?}", stats.by_route);
    assert_eq!(route(&stats, "POST /auth/signout"), 6, "{:?}", stats.by_route);
}

/// Replaces what varies between runs (ids, digests, times, temp paths) so a plan can be snapshotted.
fn stable(h: &Harness, text: &str) -> String {
    let root = support::workspace();
    text.replace(path_str(h.dir.path()), "[TMP]").replace(path_str(&root), "[ROOT]").replace(&h.url(), "[URL]")
}

fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", "[uuid]");
    settings.add_filter(r"\b[0-9a-f]{64}\b", "[sha256]");
    settings.add_filter(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", "[timestamp]");
    settings
}

/// 6. The plan of the enterprise example against an empty site, in every format.
#[test]
fn enterprise_plan_on_an_empty_site_snapshots() {
    let h = Harness::start();
    let manifest = enterprise();
    let text = h.tabops(&["plan", "-f", path_str(&manifest)]).expect(0);
    let markdown = h.tabops(&["plan", "-f", path_str(&manifest), "--format", "markdown"]).expect(0);
    let json = h.tabops(&["plan", "-f", path_str(&manifest), "--format", "json"]).expect(0);
    let mut plan: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    // Rows are keyed by live ids, whose order changes from run to run: keep their number.
    let rows = plan["inputs"]["inventory_rows"].as_object().map_or(0, |rows| rows.len());
    plan["inputs"]["inventory_rows"] = serde_json::json!(format!("{rows} rows"));
    assert_eq!(plan["summary"]["add"], 124, "{}", plan["summary"]);
    snapshot_settings().bind(|| {
        insta::assert_snapshot!("enterprise_plan_text", stable(&h, &text.stdout));
        insta::assert_snapshot!("enterprise_plan_markdown", stable(&h, &markdown.stdout));
        insta::assert_snapshot!("enterprise_plan_json", stable(&h, &serde_json::to_string_pretty(&plan).unwrap()));
    });
}

/// 7. Secrets never reach stdout, stderr (even at trace level), the saved plan or the audit log.
#[test]
fn secrets_never_leak() {
    let pat_secret = "pat-secret-QQ7-zz";
    let config = EmulatorConfig {
        pats: vec![(tabops_emulator::DEFAULT_PAT_NAME.to_owned(), pat_secret.to_owned())],
        ..EmulatorConfig::default()
    };
    let mut h = Harness::start_with(config, pat_secret);
    let secrets = ["s3cret-sales-XYZ", "s3cret-finance-XYZ", "s3cret-ops-XYZ"];
    h.env = vec![
        ("SALES_DB_PASSWORD".into(), secrets[0].into()),
        ("FINANCE_DB_PASSWORD".into(), secrets[1].into()),
        ("OPS_DB_PASSWORD".into(), secrets[2].into()),
    ];
    let manifest = enterprise();
    let plan_file = h.dir.path().join("plan.json");
    let trace = [("RUST_LOG", "trace")];
    let plan =
        h.tabops_env(&["plan", "-f", path_str(&manifest), "--format", "json", "--out", path_str(&plan_file)], &trace);
    let plan = plan.expect(0);
    let apply = h.tabops_env(&["apply", "-f", path_str(&manifest), "--auto-approve"], &trace).expect(0);
    let apply_saved = h.tabops_env(&["apply", path_str(&plan_file), "-f", path_str(&manifest)], &trace);
    assert!(apply.stderr.contains("TRACE") || apply.stderr.contains("DEBUG"), "trace logging is not on");
    let places = [
        ("plan stdout", plan.stdout),
        ("plan stderr", plan.stderr),
        ("apply stdout", apply.stdout),
        ("apply stderr", apply.stderr),
        ("saved-plan apply stdout", apply_saved.stdout),
        ("saved-plan apply stderr", apply_saved.stderr),
        ("plan file", std::fs::read_to_string(&plan_file).unwrap()),
        ("audit log", std::fs::read_to_string(h.audit_log()).unwrap()),
    ];
    for (place, text) in &places {
        for secret in secrets.iter().chain([&pat_secret]) {
            assert!(!text.contains(secret), "`{secret}` leaked into the {place}");
        }
    }
    // The emulator did receive the passwords (so the test would see a leak if the client logged its bodies).
    assert!(h.stats().bytes_received > 0);
}

/// 8. A very short secret (a one-character password) never corrupts the audit log.
///
/// Redaction works inside string values, so every line stays valid JSON and the hash chain verifies.
#[test]
fn short_secrets_keep_the_audit_log_verifiable() {
    let h = Harness::start();
    let short = [("SALES_DB_PASSWORD", "a"), ("FINANCE_DB_PASSWORD", "1"), ("OPS_DB_PASSWORD", ":")];
    h.tabops_env(&["apply", "-f", path_str(&enterprise()), "--auto-approve"], &short).expect(0);
    let log = std::fs::read_to_string(h.audit_log()).unwrap();
    assert!(log.contains(r#""type":"apply_start""#), "{}", &log[..log.len().min(400)]);
    let verify = std::process::Command::new(env!("CARGO_BIN_EXE_tabops"))
        .args(["audit", "verify"])
        .arg(h.audit_log())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success() && stdout.contains("hash chain intact"), "{stdout}");
}
