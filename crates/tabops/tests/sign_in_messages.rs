//! What a user sees when tabops cannot connect or Tableau refuses the sign-in, through the real binary against the
//! emulator; and how a server address typed or pasted into `TABLEAU_SERVER` is read. Each scenario is a transcript snapshot (command, exit code, output).
//!
//! Tableau's sign-in error: one code, 401001 "Signin Error" / "Error signing in to Tableau Server", for a wrong
//! token name or secret and an expired or revoked token (Salesforce Help article 001496614 "Error 401001 Occurs
//! When Attempting to Authenticate Using the REST API With Personal Access Tokens"; the body as captured in
//! tableauserverclient `test/assets/auth_sign_in_error.xml`); the same code for an unknown site content URL is
//! inferred. A connected app's refusal appends its error number to the detail (docs/tableau-cloud.md).

use std::path::Path;

use tabops_testkit as support;

use support::{Harness, Run, path_str, regex_escape, transcript_step};

fn filters(root: &Path) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&regex_escape(&root.display().to_string()), "[TMP]");
    settings.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]");
    settings
}

fn transcript(steps: &[(&[&str], Run)]) -> String {
    steps.iter().map(|(args, run)| transcript_step(args, run)).collect()
}

/// A wrong secret, a wrong site, a PAT name without its secret, and a connected app the site does not know: each
/// says what to check, and no secret appears in the output.
#[test]
fn a_refused_sign_in_says_what_to_check_and_a_half_set_pat_names_the_missing_variable() {
    let h = Harness::start();
    let manifest = h.copy_example("quickstart", "quickstart");
    let plan = ["plan", "-f", path_str(&manifest)];

    let wrong_secret = h.tabops_env(&plan, &[("TABLEAU_PAT_SECRET", "not-the-secret-value")]);
    assert_eq!(wrong_secret.code, 1);
    assert!(!wrong_secret.stderr.contains("not-the-secret-value"), "the secret is never printed");
    assert!(wrong_secret.stderr.contains("TABLEAU_PAT_SECRET"), "{}", wrong_secret.stderr);

    let mut wrong_site_cmd = h.ci_command(path_str(&support::tabops_bin()), h.dir.path());
    wrong_site_cmd.env("TABLEAU_SITE", "acme-typo").args(plan);
    let wrong_site = Run::of(&mut wrong_site_cmd);
    assert_eq!(wrong_site.code, 1);
    assert!(wrong_site.stderr.contains("'acme-typo'"), "{}", wrong_site.stderr);

    let name_only = h.tabops_env(&plan, &[("TABLEAU_PAT_SECRET", "")]);
    assert_eq!(name_only.code, 1);
    assert!(name_only.stderr.contains("TABLEAU_PAT_SECRET not set"), "{}", name_only.stderr);

    let app = h.tabops_env(
        &plan,
        &[
            ("TABLEAU_PAT_NAME", ""),
            ("TABLEAU_PAT_SECRET", ""),
            ("TABLEAU_CONNECTED_APP_CLIENT_ID", "unknown-app"),
            ("TABLEAU_CONNECTED_APP_SECRET_ID", "some-secret-id"),
            ("TABLEAU_CONNECTED_APP_SECRET_VALUE", "connected-app-secret-value"),
            ("TABLEAU_USERNAME", "admin@tabops.local"),
        ],
    );
    assert_eq!(app.code, 1);
    assert!(!app.stderr.contains("connected-app-secret-value"));
    assert!(app.stderr.contains("'unknown-app'"), "{}", app.stderr);

    let app_half = h.tabops_env(
        &plan,
        &[
            ("TABLEAU_PAT_NAME", ""),
            ("TABLEAU_PAT_SECRET", ""),
            ("TABLEAU_CONNECTED_APP_CLIENT_ID", "ci-client"),
            ("TABLEAU_USERNAME", "admin@tabops.local"),
        ],
    );
    assert_eq!(app_half.code, 1);

    let text = transcript(&[
        (&["plan", "-f", "quickstart", "(TABLEAU_PAT_SECRET wrong)"], wrong_secret),
        (&["plan", "-f", "quickstart", "(TABLEAU_SITE=acme-typo)"], wrong_site),
        (&["plan", "-f", "quickstart", "(TABLEAU_PAT_SECRET unset)"], name_only),
        (&["plan", "-f", "quickstart", "(a connected app the site does not know)"], app),
        (&["plan", "-f", "quickstart", "(a connected app without its secrets)"], app_half),
    ]);
    filters(h.dir.path()).bind(|| insta::assert_snapshot!("refused_sign_ins", text));
}

/// A loopback port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// `tabops plan -f quickstart` configured as in CI, with `TABLEAU_SERVER` set to `server` and no `TABLEAU_SITE`.
fn plan_at(h: &Harness, manifest: &Path, server: &str) -> (Run, std::time::Duration) {
    let mut cmd = h.ci_command(path_str(&support::tabops_bin()), h.dir.path());
    cmd.env("TABLEAU_SERVER", server).env_remove("TABLEAU_SITE").args(["plan", "-f", path_str(manifest)]);
    let started = std::time::Instant::now();
    let run = Run::of(&mut cmd);
    (run, started.elapsed())
}

/// A refused connection or an unknown host fails at once in one line naming the address (no retries, no `Caused by`
/// chain); a pasted browser address gives the server and the site and says so; a loopback address without a scheme
/// gets http:// and no advice about --allow-insecure-http.
#[test]
fn a_refused_connection_fails_fast_and_a_pasted_or_schemeless_address_is_understood() {
    let h = Harness::start();
    let manifest = h.copy_example("quickstart", "quickstart");
    let port = closed_port();

    let (refused, took) = plan_at(&h, &manifest, &format!("http://127.0.0.1:{port}"));
    assert_eq!(refused.code, 1);
    assert!(took < std::time::Duration::from_secs(3), "a refused connection is not retried ({took:?})");
    assert!(!refused.stderr.contains("Caused by"), "{}", refused.stderr);

    let (schemeless_refused, _) = plan_at(&h, &manifest, &format!("localhost:{port}"));
    assert_eq!(schemeless_refused.code, 1);
    assert!(!schemeless_refused.stderr.contains("allow-insecure-http"), "{}", schemeless_refused.stderr);

    // `.invalid` never resolves (RFC 6761, section 6.4): a host name typed wrong, without a scheme.
    let (unknown_host, took) = plan_at(&h, &manifest, "tableau.invalid");
    assert_eq!(unknown_host.code, 1);
    assert!(took < std::time::Duration::from_secs(3), "an unknown host is not retried ({took:?})");
    assert!(unknown_host.stderr.contains("does not resolve"), "{}", unknown_host.stderr);

    let emulator = h.url();
    let host = emulator.trim_start_matches("http://").trim_end_matches('/');
    let (pasted, _) = plan_at(&h, &manifest, &format!("{emulator}/#/site/acme/home"));
    assert!(pasted.code == 0 || pasted.code == 2, "{}", pasted.stderr);
    let (schemeless, _) = plan_at(&h, &manifest, &format!("{host}/#/site/acme/projects"));
    assert!(schemeless.code == 0 || schemeless.code == 2, "{}", schemeless.stderr);

    let port_text = port.to_string();
    let steps = [
        ("http://127.0.0.1:[CLOSED]", refused),
        ("localhost:[CLOSED]", schemeless_refused),
        ("tableau.invalid", unknown_host),
        ("http://127.0.0.1:[PORT]/#/site/acme/home", pasted),
        ("127.0.0.1:[PORT]/#/site/acme/projects", schemeless),
    ];
    let text: String = steps
        .into_iter()
        .map(|(server, run)| {
            // The plan itself is another test's subject: only what is said about the address is shown.
            let run = Run { stdout: String::new(), ..run };
            transcript_step(&["plan", "-f", "quickstart", &format!("(TABLEAU_SERVER={server})")], &run)
        })
        .collect();
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&format!(r":{port_text}\b"), ":[CLOSED]");
    settings.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]");
    settings.bind(|| insta::assert_snapshot!("server_addresses", text));
}
