//! Site settings as declarations (`site.settings:`), with the real binary against the emulator: plan shows each
//! setting before -> after, apply sends one Update Site, the next plan has no changes and writes nothing, a change
//! made on the site (an Update Site from another client) is drift naming the setting, and an export writes the
//! current values so that a plan of it has no changes. A manifest without settings never reads the site.

use tabops_testkit as support;

use std::path::{Path, PathBuf};

use support::harness::{raw_request, sign_in};
use support::{Harness, content_writes, path_str, route, transcript_filters, transcript_step};

const GET_SITE: &str = "GET /sites/{id}";
const PUT_SITE: &str = "PUT /sites/{id}";

fn manifest(h: &Harness, settings: &str) -> PathBuf {
    let dir = h.dir.path().join("site");
    std::fs::create_dir_all(&dir).unwrap();
    let settings = if settings.is_empty() { String::new() } else { format!("  settings:\n{settings}") };
    std::fs::write(
        dir.join("manifest.yaml"),
        format!("version: 1\nsite:\n  server: {}\n  content_url: acme\n{settings}", h.url()),
    )
    .unwrap();
    dir
}

/// An Update Site from another client (as someone changing the setting in the web UI would).
fn update_site_elsewhere(h: &Harness, attributes: &str) {
    let (token, site) = sign_in(&h.url(), &h.pat_secret);
    let body = format!("<tsRequest><site {attributes} /></tsRequest>");
    let (status, text) = raw_request(
        &h.url(),
        "PUT",
        &format!("/api/3.25/sites/{site}"),
        &[("X-Tableau-Auth", &token), ("Content-Type", "application/xml")],
        body.as_bytes(),
    );
    assert_eq!(status, 200, "{text}");
}

#[test]
fn site_settings_plan_apply_converge_and_drift() {
    let h = Harness::start();
    let dir = manifest(&h, "    revision_limit: 50\n    commenting_enabled: false\n    data_alerts_enabled: true\n");
    let m = path_str(&dir);
    let mut transcript = String::new();
    let mut step = |args: &[&str], code: i32| {
        let run = h.tabops(args).without_action_lines();
        assert_eq!(run.code, code, "{args:?}\n{}\n{}", run.stdout, run.stderr);
        transcript.push_str(&transcript_step(args, &run));
        run
    };
    step(&["plan", "-f", m], 0);
    let before = h.stats();
    step(&["apply", "-f", m, "--auto-approve"], 0);
    let applied = h.stats();
    assert_eq!(route(&applied, PUT_SITE) - route(&before, PUT_SITE), 1, "one Update Site carries every change");
    step(&["plan", "-f", m, "--detailed-exitcode"], 0);
    step(&["apply", "-f", m, "--auto-approve"], 0);
    assert_eq!(content_writes(&h.stats()), content_writes(&applied), "a converged site gets no write");

    update_site_elsewhere(&h, r#"revisionLimit="10""#);
    let drift = step(&["drift", "-f", m], 2);
    assert!(drift.stdout.contains("revision_limit"), "{}", drift.stdout);
    assert!(!drift.stdout.contains("commenting_enabled"), "only the changed setting: {}", drift.stdout);

    let settings = transcript_filters(h.dir.path());
    settings.bind(|| insta::assert_snapshot!("site_settings", transcript));
}

#[test]
fn only_a_manifest_with_site_settings_reads_the_site() {
    let h = Harness::start();
    let without = manifest(&h, "");
    let before = h.stats();
    h.plan_json(&without);
    assert_eq!(route(&h.stats(), GET_SITE), route(&before, GET_SITE), "no setting managed: the site is not read");

    let with = manifest(&h, "    request_access_enabled: false\n");
    let before = h.stats();
    let plan = h.plan_json(&with);
    assert_eq!(route(&h.stats(), GET_SITE) - route(&before, GET_SITE), 1, "one Get Site, whatever the site's size");
    let action = support::action(&plan, "site:acme");
    assert_eq!(action["kind"], "site_settings");
    assert_eq!(action["changes"][0]["field"], "request_access_enabled");
    assert_eq!(
        (action["changes"][0]["before"].clone(), action["changes"][0]["after"].clone()),
        (true.into(), false.into())
    );
    assert_eq!(action["operation"]["attributes"]["requestAccessEnabled"], "false");
}

#[test]
fn a_setting_removed_from_the_manifest_is_left_as_the_site_has_it() {
    let h = Harness::start();
    let dir = manifest(&h, "    revision_limit: 40\n    run_now_enabled: false\n");
    h.apply(&dir);
    let dir = manifest(&h, "    revision_limit: 40\n");
    h.assert_converged(&dir);
    let client = h.client();
    let site = h.block_on(client.site()).unwrap();
    assert_eq!(site.get("runNowEnabled").map(String::as_str), Some("false"), "{site:?}");
}

#[test]
fn export_writes_the_site_settings_and_plans_no_changes() {
    let h = Harness::start();
    update_site_elsewhere(&h, r#"revisionLimit="75" subscribeOthersEnabled="false""#);
    let out = h.dir.path().join("exported");
    h.tabops(&["export", "--out", path_str(&out)]).expect(0);
    let site_yaml = std::fs::read_to_string(out.join("site.yaml")).unwrap();
    assert!(site_yaml.contains("revision_limit: 75"), "{site_yaml}");
    assert!(site_yaml.contains("subscribe_others_enabled: false"), "{site_yaml}");
    h.assert_converged(Path::new(&out));
}
