//! A connected app with the scopes each command requests by default (its own calls' scopes, no more) runs the
//! whole workflow (apply, drift, export, refresh) against an emulator that validates the JWT and enforces each method's scope as Tableau Cloud does;
//! a connected app limited to the read scopes can plan and drift, and its apply stops naming the missing scope.

use std::path::Path;

use tabops_testkit as support;

use support::{Harness, path_str};
use tabops_emulator::EmulatorConfig;

const SECRET: &str = "connected-app-secret-value-for-tests";

fn harness() -> Harness {
    Harness::start_with(
        EmulatorConfig {
            jwt_secret: Some(SECRET.into()),
            jwt_client_id: Some("ci-client".into()),
            jwt_secret_id: Some("ci-secret-id".into()),
            ..EmulatorConfig::default()
        },
        tabops_emulator::DEFAULT_PAT_SECRET,
    )
}

/// The connected-app environment (the PAT variables blanked so the app is used).
fn app_env(scopes: Option<&str>) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("TABLEAU_PAT_NAME", String::new()),
        ("TABLEAU_PAT_SECRET", String::new()),
        ("TABLEAU_CONNECTED_APP_CLIENT_ID", "ci-client".to_owned()),
        ("TABLEAU_CONNECTED_APP_SECRET_ID", "ci-secret-id".to_owned()),
        ("TABLEAU_CONNECTED_APP_SECRET_VALUE", SECRET.to_owned()),
        ("TABLEAU_USERNAME", "admin@tabops.local".to_owned()),
    ];
    if let Some(scopes) = scopes {
        env.push(("TABLEAU_CONNECTED_APP_SCOPES", scopes.to_owned()));
    }
    env
}

fn run(h: &Harness, args: &[&str], env: &[(&'static str, String)]) -> support::Run {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    h.tabops_env(args, &env)
}

#[test]
fn the_default_scopes_cover_apply_drift_and_export_and_no_more_is_needed() {
    let h = harness();
    let manifest = h.copy_example("enterprise", "enterprise");
    let env = app_env(None);
    run(&h, &["apply", "-f", path_str(&manifest), "--auto-approve"], &env).expect(0);
    let drift = run(&h, &["drift", "-f", path_str(&manifest)], &env);
    assert_eq!(drift.code, 0, "converged, read with the default scopes\n{}\n{}", drift.stdout, drift.stderr);
    let out = h.dir.path().join("exported");
    run(&h, &["export", "--out", path_str(&out), "--adopt"], &env).expect(0);
    assert!(Path::new(&out).join("site.yaml").exists());
    assert!(h.stats().by_route.keys().any(|k| k.ends_with("/content")), "export downloaded content");
}

#[test]
fn read_scopes_are_enough_to_plan_and_an_apply_names_the_scope_it_lacks() {
    let h = harness();
    let manifest = h.copy_example("quickstart", "quickstart");
    let read_only = tabops_tableau::READ_SCOPES.join(",");
    let env = app_env(Some(&read_only));
    let plan = run(&h, &["plan", "-f", path_str(&manifest), "--detailed-exitcode"], &env);
    assert_eq!(plan.code, 2, "a plan of changes, read with the read scopes only\n{}", plan.stderr);
    let apply = run(&h, &["apply", "-f", path_str(&manifest), "--auto-approve"], &env);
    assert_eq!(apply.code, 1, "{}\n{}", apply.stdout, apply.stderr);
    let all = format!("{}{}", apply.stdout, apply.stderr);
    assert!(all.contains("do not include 'tableau:") && all.contains(":create'"), "names the scope: {all}");
    assert!(all.contains("TABLEAU_CONNECTED_APP_SCOPES"), "says where to add it: {all}");
}

/// A default export is read-only, so the read and download scopes are enough; `--adopt` writes tags and, without
/// the tag scopes, fails naming the scope it lacks.
#[test]
fn a_read_only_export_needs_no_write_scope_and_adopt_names_the_tag_scope_it_lacks() {
    let h = harness();
    let manifest = h.copy_example("quickstart", "quickstart");
    run(&h, &["apply", "-f", path_str(&manifest), "--auto-approve"], &app_env(None)).expect(0);
    let read_only: Vec<&str> =
        tabops_tableau::READ_SCOPES.iter().chain(tabops_tableau::EXPORT_SCOPES).copied().collect();
    let env = app_env(Some(&read_only.join(",")));
    let out = h.dir.path().join("exported");
    run(&h, &["export", "--out", path_str(&out)], &env).expect(0);
    let adopt = run(&h, &["export", "--out", path_str(&h.dir.path().join("adopted")), "--adopt"], &env);
    let all = format!("{}{}", adopt.stdout, adopt.stderr);
    assert_eq!(adopt.code, 1, "{all}");
    assert!(all.contains("do not include 'tableau:datasource_tags:update'"), "names the tag scope: {all}");
}

/// `refresh` asks a connected app for the read scopes and the two it needs to start a refresh and read its job
/// (`tableau:tasks:run`, `tableau:jobs:read`), and that is enough: the emulator enforces each method's scope.
#[test]
fn refresh_needs_only_the_read_scopes_and_those_of_starting_a_refresh_and_reading_its_job() {
    let h = harness();
    let manifest = h.copy_example("enterprise", "enterprise");
    let env = app_env(None);
    run(&h, &["apply", "-f", path_str(&manifest), "--auto-approve"], &env).expect(0);
    let args = ["refresh", "datasource:Sales/Orders", "-f", path_str(&manifest), "--wait", "--poll", "100ms"];
    let refreshed = run(&h, &args, &env).expect(0);
    assert!(refreshed.stdout.contains("datasource:Sales/Orders: succeeded"), "{}", refreshed.stdout);

    // Without `tableau:jobs:read` the wait stops, naming the scope it lacks.
    let mut scopes: Vec<&str> = tabops_tableau::READ_SCOPES.to_vec();
    scopes.push("tableau:tasks:run");
    let env = app_env(Some(&scopes.join(",")));
    let refreshed = run(&h, &args, &env);
    assert_eq!(refreshed.code, 1, "{}\n{}", refreshed.stdout, refreshed.stderr);
    assert!(refreshed.stdout.contains("tableau:jobs:read"), "names the scope: {}", refreshed.stdout);
}
