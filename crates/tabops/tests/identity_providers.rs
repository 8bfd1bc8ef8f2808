//! Sites with several identity providers (issue 20): a Tableau Cloud site can have several authentication
//! configurations (API 3.24+), and a user is then added with `idpConfigurationId` instead of `authSetting` (TSC
//! issue #1598, PR #1601). The manifest names the configuration (`identity_provider:`); tabops resolves the name
//! against `GET /sites/{site}/site-auth-configurations`, sends the id, and compares it on every plan. Each test
//! drives the real binary against the emulator, whose site has the two configurations of TSC's
//! `site_auth_configurations.xml` shape ("Initial SAML", "Initial Salesforce").

use tabops_testkit as support;

use std::path::{Path, PathBuf};

use support::{Harness, action, changes, content_writes, path_str, route};

fn manifest(h: &Harness, users: &str) -> PathBuf {
    let dir = h.dir.path().join("idp");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("manifest.yaml"),
        format!("version: 1\nsite: {{ server: {}, content_url: acme }}\nusers:\n{users}", h.url()),
    )
    .unwrap();
    dir
}

fn idp_of(h: &Harness, name: &str) -> Option<String> {
    let client = h.client();
    let users = h.block_on(client.users()).unwrap();
    users.into_iter().find(|u| u.name == name).and_then(|u| u.idp_configuration_id)
}

fn configuration_id(h: &Harness, name: &str) -> String {
    let client = h.client();
    let configurations = h.block_on(client.auth_configurations()).unwrap();
    configurations.into_iter().find(|c| c.name == name).map(|c| c.id).unwrap()
}

#[test]
fn a_user_is_added_with_the_named_identity_provider_and_converges() {
    let h = Harness::start();
    let dir = manifest(&h, "  - { name: dana@acme.com, site_role: Explorer, identity_provider: Initial SAML }\n");
    let plan = h.plan_json(&dir);
    let add = action(&plan, "user:dana@acme.com");
    let saml = configuration_id(&h, "Initial SAML");
    assert_eq!(add["operation"]["idp_configuration_id"], saml.as_str(), "{add}");
    assert!(add["operation"]["auth_setting"].is_null(), "authSetting is not sent beside an identity provider");
    assert!(
        add["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["field"] == "identity_provider" && c["after"] == "Initial SAML"),
        "the plan shows the provider by name: {add}"
    );

    h.apply(&dir);
    assert_eq!(idp_of(&h, "dana@acme.com").as_deref(), Some(saml.as_str()));
    let before = h.stats();
    h.assert_converged(&dir);
    assert_eq!(content_writes(&h.stats()), content_writes(&before), "a converged plan writes nothing");
}

#[test]
fn a_changed_identity_provider_is_an_update_by_id() {
    let h = Harness::start();
    let dir = manifest(&h, "  - { name: erin@acme.com, site_role: Viewer, identity_provider: Initial SAML }\n");
    h.apply(&dir);
    support::edit(
        &dir.join("manifest.yaml"),
        "identity_provider: Initial SAML",
        "identity_provider: initial salesforce",
    );
    let plan = h.plan_json(&dir);
    let update = action(&plan, "user:erin@acme.com");
    assert_eq!(update["action"], "update");
    let change = update["changes"].as_array().unwrap().iter().find(|c| c["field"] == "identity_provider").unwrap();
    assert_eq!(
        (change["before"].as_str(), change["after"].as_str()),
        (Some("Initial SAML"), Some("Initial Salesforce"))
    );
    let salesforce = configuration_id(&h, "Initial Salesforce");
    assert_eq!(update["operation"]["idp_configuration_id"], salesforce.as_str());

    h.apply(&dir);
    assert_eq!(idp_of(&h, "erin@acme.com").as_deref(), Some(salesforce.as_str()));
    h.assert_converged(&dir);
}

#[test]
fn an_unknown_identity_provider_is_a_plan_error_naming_the_sites_configurations() {
    let h = Harness::start();
    let dir = manifest(&h, "  - { name: finn@acme.com, site_role: Viewer, identity_provider: Okta }\n");
    let before = h.stats();
    let run = h.tabops(&["apply", "-f", path_str(&dir), "--auto-approve"]).expect(1);
    assert!(
        run.stderr.contains("identity provider 'Okta' is not one of the site's authentication configurations")
            || run.stdout.contains("identity provider 'Okta' is not one of the site's authentication configurations"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(all.contains("'Initial SAML', 'Initial Salesforce'"), "the hint lists the configurations: {all}");
    assert_eq!(content_writes(&h.stats()), content_writes(&before), "a refused plan writes nothing");
    assert_eq!(idp_of(&h, "finn@acme.com"), None);
}

#[test]
fn manifests_without_identity_providers_do_not_read_the_configurations() {
    let h = Harness::start();
    let dir = manifest(&h, "  - { name: gail@acme.com, site_role: Viewer, auth_setting: SAML }\n");
    let plan = h.plan_json(&dir);
    assert_eq!(changes(&plan), vec![("user:gail@acme.com".to_owned(), "create".to_owned())]);
    let stats = h.stats();
    assert_eq!(route(&stats, "GET /sites/{id}/site-auth-configurations"), 0, "{:?}", stats.by_route);
    let dir = manifest(&h, "  - { name: gail@acme.com, site_role: Viewer, identity_provider: Initial SAML }\n");
    h.plan_json(&dir);
    assert_eq!(route(&h.stats(), "GET /sites/{id}/site-auth-configurations"), 1, "{:?}", h.stats().by_route);
}

/// `validate` refuses both keys on one user, at the line of `auth_setting`; it never connects to a site.
#[test]
fn auth_setting_and_identity_provider_together_are_refused_by_validate() {
    let fixture = support::workspace().join("fixtures/manifests/invalid/auth-setting-and-identity-provider");
    let mut validate = std::process::Command::new(env!("CARGO_BIN_EXE_tabops"));
    validate.args(["validate", "-f", path_str(Path::new(&fixture))]);
    let run = support::Run::of(&mut validate).expect(1);
    assert!(run.stderr.contains("manifest.yaml:7:"), "{}", run.stderr);
    assert!(run.stderr.contains("sets both `auth_setting` and `identity_provider`"), "{}", run.stderr);
}
