//! Webhooks as declarations, through the real binary against the emulator over HTTP.
//!
//! - The lifecycle: a plan creates the manifest's webhooks, apply writes them (audit-logged), a second apply writes
//!   nothing, a webhook changed on the site (through the REST API, as TSC's `server.webhooks` would) is drift (exit
//!   2, naming it), apply puts it back, `settings.prune_webhooks` deletes one the manifest does not list, and an
//!   export of the site plans to no changes. A plan reads the site's webhooks with one request, and only when the
//!   manifest declares (or prunes) webhooks.
//! - End to end: a manifest with a webhook on a data source's refresh failing, the emulator's fail-next hook armed,
//!   `tabops refresh --wait` exits 1 naming the failed item, and the loopback receiver got Tableau's documented
//!   payload (help.tableau.com "Webhooks Events and Payloads": resource, event_type, resource_name, site_luid,
//!   resource_luid, created_at).

use std::path::PathBuf;
use std::time::Duration;

use tabops_emulator::EmulatorConfig;
use tabops_testkit as support;

use support::harness::{audit_events, hook};
use support::receiver::WebhookReceiver;
use support::{Harness, changes, content_writes, path_str, route};

const LIST: &str = "GET /sites/{id}/webhooks";

/// A manifest with the `Orders` extract in `Sales` and `webhooks` (YAML list items, indented under `webhooks:`).
fn manifest(h: &Harness, dir: &str, webhooks: &str) -> PathBuf {
    let root = h.dir.path().join(dir);
    std::fs::create_dir_all(root.join("content")).unwrap();
    let content = support::workspace().join("examples/enterprise/content/orders.tdsx");
    std::fs::copy(content, root.join("content/orders.tdsx")).unwrap();
    let mut text = String::from(
        "version: 1\nsite: { server: local, content_url: acme }\nprojects:\n  - name: Sales\ndatasources:\n  - name: Orders\n    project: Sales\n    file: content/orders.tdsx\n",
    );
    if !webhooks.is_empty() {
        text.push_str("webhooks:\n");
        text.push_str(webhooks);
    }
    std::fs::write(root.join("manifest.yaml"), text).unwrap();
    root
}

fn webhooks_on_site(h: &Harness) -> Vec<tabops_tableau::Webhook> {
    let client = h.client();
    let mut list = h.block_on(client.webhooks()).expect("list webhooks");
    list.sort_by(|a, b| a.name.cmp(&b.name));
    list
}

#[test]
fn webhooks_plan_apply_reapply_drift_prune_and_export() {
    let h = Harness::start();
    let hooks = "  - name: Orders refresh failed\n    event: DatasourceRefreshFailed\n    url: https://hooks.example.com/orders\n  - name: Workbook deleted\n    event: workbook-deleted\n    url: https://hooks.example.com/deleted\n    enabled: false\n";
    let dir = manifest(&h, "site", hooks);

    let plan = h.plan_json(&dir);
    let planned = changes(&plan);
    for id in ["webhook:Orders refresh failed", "webhook:Workbook deleted"] {
        assert!(planned.contains(&(id.to_owned(), "create".to_owned())), "{planned:?}");
    }
    let text = h.tabops(&["plan", "-f", path_str(&dir)]).expect(0);
    assert!(text.stdout.contains("+ webhook:Orders refresh failed"), "{}", text.stdout);
    assert_eq!(route(&h.stats(), LIST), 2, "one list per plan: {:?}", h.stats().by_route);

    h.apply(&dir);
    let live = webhooks_on_site(&h);
    let summary: Vec<_> =
        live.iter().map(|w| (w.name.as_str(), w.event.as_deref(), w.url.as_deref(), w.enabled)).collect();
    assert_eq!(
        summary,
        vec![
            ("Orders refresh failed", Some("DatasourceRefreshFailed"), Some("https://hooks.example.com/orders"), true),
            ("Workbook deleted", Some("WorkbookDeleted"), Some("https://hooks.example.com/deleted"), false),
        ]
    );
    let mut logged: Vec<String> = audit_events(&h)
        .iter()
        .filter(|r| r["type"] == "action_complete")
        .filter_map(|r| r["data"]["address"].as_str().map(str::to_owned))
        .filter(|a| a.starts_with("webhook:"))
        .collect();
    logged.sort(); // one wave, written concurrently
    assert_eq!(logged, vec!["webhook:Orders refresh failed", "webhook:Workbook deleted"], "audit log");

    // Idempotent: a second apply writes nothing.
    let before = h.stats();
    h.tabops(&["apply", "-f", path_str(&dir), "--auto-approve"]).expect(0);
    assert_eq!(content_writes(&h.stats()), content_writes(&before), "re-apply writes: {:?}", h.stats().by_route);
    h.assert_converged(&dir);

    // Changed on the site: the destination moved and the webhook was enabled, through the REST API.
    let client = h.client();
    let orders = &live[0];
    let edited = tabops_tableau::WebhookRequest {
        name: orders.name.clone(),
        event: "DatasourceRefreshFailed".into(),
        url: "https://elsewhere.example.com/x".into(),
        enabled: true,
    };
    h.block_on(client.update_webhook(&orders.id, &edited)).expect("edit on the site");
    let drift = h.tabops(&["drift", "-f", path_str(&dir)]);
    assert_eq!(drift.code, 2, "{}\n{}", drift.stdout, drift.stderr);
    assert!(drift.stdout.contains("webhook:Orders refresh failed"), "{}", drift.stdout);
    assert!(drift.stdout.contains("https://elsewhere.example.com/x"), "{}", drift.stdout);
    assert!(!drift.stdout.contains("webhook:Workbook deleted"), "{}", drift.stdout);
    h.apply(&dir);
    assert_eq!(webhooks_on_site(&h)[0].url.as_deref(), Some("https://hooks.example.com/orders"));
    assert_eq!(webhooks_on_site(&h)[0].id, orders.id, "updated in place");

    // A webhook the manifest does not list: unmanaged, until `settings.prune_webhooks` deletes it.
    let extra = tabops_tableau::WebhookRequest {
        name: "Made by hand".into(),
        event: "ViewDeleted".into(),
        url: "https://hooks.example.com/hand".into(),
        enabled: true,
    };
    h.block_on(client.create_webhook(&extra)).expect("create by hand");
    h.assert_converged(&dir);
    let text = std::fs::read_to_string(dir.join("manifest.yaml")).unwrap();
    std::fs::write(dir.join("manifest.yaml"), format!("{text}settings: {{ prune_webhooks: true }}\n")).unwrap();
    let plan = h.plan_json(&dir);
    assert_eq!(changes(&plan), vec![("webhook:Made by hand".to_owned(), "delete".to_owned())]);
    h.apply(&dir);
    assert_eq!(webhooks_on_site(&h).len(), 2);

    // Export: webhooks.yaml, and a plan of the export against the same site has no changes.
    let out = h.dir.path().join("exported");
    let exported = h.tabops(&["export", "--out", path_str(&out), "--with-refresh", "--adopt"]).expect(0);
    assert!(
        exported.stdout.contains("Checked: a plan of") && exported.stdout.contains("has no changes.\n"),
        "{}",
        exported.stdout
    );
    let written = std::fs::read_to_string(out.join("webhooks.yaml")).expect("webhooks.yaml");
    assert!(written.contains("event: DatasourceRefreshFailed") && written.contains("enabled: false"), "{written}");
    h.assert_converged(&out);
}

#[test]
fn plans_of_manifests_without_webhooks_do_not_read_them() {
    let h = Harness::start();
    let dir = manifest(&h, "plain", "");
    h.plan_json(&dir);
    assert_eq!(route(&h.stats(), LIST), 0, "{:?}", h.stats().by_route);
}

#[test]
fn a_failed_refresh_calls_the_manifests_webhook() {
    let h = Harness::start_with(
        EmulatorConfig { test_hooks: true, ..EmulatorConfig::default() },
        tabops_emulator::DEFAULT_PAT_SECRET,
    );
    let receiver = WebhookReceiver::start();
    let hooks = format!(
        "  - name: Orders refresh failed\n    event: DatasourceRefreshFailed\n    url: {}\n  - name: Orders refreshed\n    event: DatasourceRefreshSucceeded\n    url: {}\n",
        receiver.url("failed"),
        receiver.url("succeeded")
    );
    let dir = manifest(&h, "site", &hooks);
    h.apply(&dir);

    assert_eq!(hook(&h.url(), "jobs/fail-next?count=1"), 204);
    let run = h.tabops(&["refresh", "datasource:Sales/Orders", "-f", path_str(&dir), "--wait", "--poll", "100ms"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("datasource:Sales/Orders: failed (job "), "{}", run.stdout);

    receiver.wait_for(1, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(300));
    let got = receiver.received();
    assert_eq!(got.len(), 1, "only the failure webhook is called, once: {got:?}");
    assert_eq!((got[0].method.as_str(), got[0].path.as_str()), ("POST", "/failed"));
    assert_eq!(got[0].content_type.as_deref(), Some("application/json"));
    let payload = got[0].json();
    let client = h.client();
    let orders =
        h.block_on(client.datasources()).expect("list").into_iter().find(|d| d.name == "Orders").expect("Orders");
    assert_eq!(payload["resource"], "DATASOURCE");
    assert_eq!(payload["event_type"], "DatasourceRefreshFailed");
    assert_eq!(payload["resource_name"], "Orders");
    assert_eq!(payload["resource_luid"], orders.id.as_str());
    assert_eq!(payload["site_luid"], client.site_id());
    assert!(payload["created_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{payload}");
    assert_eq!(payload.as_object().map(|o| o.len()), Some(6), "the documented fields: {payload}");
}
