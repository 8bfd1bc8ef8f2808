//! Loading real manifests from `fixtures/manifests`: the valid one resolves to the expected desired state, every
//! invalid one is refused with at least one positioned diagnostic.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tabops_manifest::model::{Capability, Every, Frequency, Grantee, Mode, MonthDay, ProjectPath, Server};
use tabops_manifest::{LoadError, LoadOptions, load};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/manifests")
}

fn options(env: Option<&str>) -> LoadOptions {
    let environment = BTreeMap::from([
        ("ORDERS_DB_PASSWORD".to_owned(), "orders-secret".to_owned()),
        ("PROD_DB_PASSWORD".to_owned(), "prod-secret".to_owned()),
    ]);
    LoadOptions { env: env.map(str::to_owned), environment, hash_content: true, ..Default::default() }
}

#[test]
fn the_full_fixture_resolves() {
    let loaded = load(&fixtures().join("valid/full"), &options(None)).unwrap();
    let d = &loaded.desired;
    assert_eq!(loaded.summary(), "4 projects, 2 groups, 3 users, 1 data source, 2 workbooks, 3 refresh tasks");
    assert_eq!(d.site.server, Server::Local);
    assert_eq!(d.site.api_version.as_deref(), Some("3.25"));
    let paths: Vec<String> = d.projects.iter().map(|p| p.path.to_string()).collect();
    assert_eq!(paths, ["Sales", "Sales/A\\/B testing", "Sales/EMEA", "Sales/EMEA/EMEA Archive"]);
    let sales = &d.projects[0];
    let rules = sales.permissions.as_ref().unwrap();
    let leads = rules.iter().find(|r| r.grantee == Grantee::Group("Sales Leads".into())).unwrap();
    assert_eq!(leads.capabilities.get(&Capability::Write), Some(&Mode::Deny));
    assert_eq!(leads.capabilities.get(&Capability::Read), Some(&Mode::Allow));
    let members = d.groups[0].members.as_ref().unwrap();
    assert!(members.contains("bob@acme.com"), "members use the declared spelling: {members:?}");

    let orders = &d.datasources[0];
    assert_eq!(orders.connections[0].server.as_deref(), Some("dev-db.acme.com"));
    assert_eq!(orders.connections[0].password.as_ref().map(|s| s.expose()), Some("orders-secret"));
    let refresh = orders.refresh.as_ref().expect("`refresh:` is present");
    assert_eq!(refresh.len(), 3);
    let hourly = &refresh[1].schedule;
    assert_eq!((hourly.frequency, hourly.every), (Frequency::Hourly, Some(Every::Minutes(30))));
    assert!(refresh[2].schedule.month_days.contains(&MonthDay::LastDay));
    assert_eq!(orders.file.sha256.len(), 64);

    let pipeline = d.workbooks.iter().find(|w| w.name == "Pipeline").unwrap();
    assert_eq!(pipeline.project, ProjectPath::new(vec!["Sales".into(), "A/B testing".into()]));
    assert_eq!(pipeline.file.display, "content/pipeline.twb");
    assert_eq!(pipeline.refresh, None, "no `refresh:` key: the item's live tasks are not managed");
    let revenue = d.workbooks.iter().find(|w| w.name == "Revenue").unwrap();
    assert_eq!(revenue.description.as_deref(), Some("Revenue by region, costs ${not_a_var}"));
    assert_eq!(revenue.address(), "workbook:Sales/EMEA/Revenue");
    assert_eq!(d.manifest_digest.len(), 64);
    // Secrets never reach Debug output.
    assert!(!format!("{d:?}").contains("orders-secret"));
}

#[test]
fn an_environment_overrides_site_vars_and_connections() {
    let loaded = load(&fixtures().join("valid/full"), &options(Some("prod"))).unwrap();
    let d = &loaded.desired;
    assert_eq!(d.site.server, Server::Url("https://10ax.online.tableau.com".into()));
    assert_eq!(d.site.content_url, "acme-prod");
    let conn = &d.datasources[0].connections[0];
    assert_eq!(conn.server.as_deref(), Some("db.acme.com"));
    assert_eq!(conn.username.as_deref(), Some("svc_tableau_prod"));
    assert_eq!(conn.password.as_ref().and_then(|s| s.env_var()), Some("PROD_DB_PASSWORD"));
    assert_eq!(conn.port, Some(5432));
}

#[test]
fn every_invalid_fixture_is_refused_with_positions() {
    let mut count = 0;
    for entry in std::fs::read_dir(fixtures().join("invalid")).unwrap() {
        let dir = entry.unwrap().path();
        count += 1;
        // `args.txt` holds the extra CLI arguments of a fixture (`--env NAME`).
        let args = std::fs::read_to_string(dir.join("args.txt")).unwrap_or_default();
        let env = args.split_whitespace().skip_while(|a| *a != "--env").nth(1);
        match load(&dir, &options(env)) {
            Err(LoadError::Invalid(diagnostics)) => {
                assert!(!diagnostics.is_empty(), "{}", dir.display());
            }
            // Invalid only for `validate --strict`: an unset connection password loads as a warning.
            Ok(loaded) if args.split_whitespace().any(|a| a == "--strict") => {
                assert!(!loaded.unset_secrets.is_empty(), "{}", dir.display());
            }
            other => panic!("{} should be invalid, got {other:?}", dir.display()),
        }
    }
    assert!(count >= 30, "only {count} invalid fixtures");
}

#[test]
fn oversized_manifest_files_are_refused_before_parsing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.yaml");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(tabops_manifest::MAX_FILE_BYTES + 1).unwrap();
    let started = std::time::Instant::now();
    let Err(LoadError::Invalid(diagnostics)) = load(&path, &options(None)) else { panic!("expected diagnostics") };
    assert!(diagnostics.to_string().contains("the limit is 16 MiB"), "{diagnostics}");
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
}

/// A manifest directory that also holds other tools' YAML (a CI workflow, a compose file, a top-level list): only
/// the tabops manifest is read, the rest is listed in `skipped` and none of it is an error; a
/// file with tabops' own top-level keys but no `version:` is still a manifest, refused for its missing version (so
/// its objects are never silently dropped from the desired state).
#[test]
fn a_directory_reads_only_tabops_manifest_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("site.yaml"), "version: 1\nsite: { server: local, content_url: acme }\n").unwrap();
    std::fs::create_dir_all(root.join("ci")).unwrap();
    std::fs::write(root.join("ci/build.yml"), "name: build\non: [push]\njobs:\n  test:\n    version: 3\n").unwrap();
    std::fs::write(root.join("compose.yaml"), "services:\n  db:\n    image: postgres\n").unwrap();
    std::fs::write(root.join("list.yml"), "- one\n- two: { version: 1 }\n").unwrap();
    let loaded = load(root, &options(None)).unwrap();
    let names = |files: &[PathBuf]| -> Vec<String> {
        files.iter().map(|f| f.strip_prefix(root).unwrap().display().to_string()).collect()
    };
    assert_eq!(names(&loaded.skipped), ["ci/build.yml", "compose.yaml", "list.yml"]);
    assert_eq!(names(&loaded.sources), ["site.yaml"]);
    let note = loaded.skipped_note().unwrap();
    assert!(note.starts_with("skipped 3 YAML files without a top-level `version:`"), "{note}");

    // Quoted `version` keys and a byte-order mark still declare a manifest.
    std::fs::write(root.join("people.yaml"), "\u{feff}\"version\" : 1\ngroups:\n  - name: Analysts\n").unwrap();
    let loaded = load(root, &options(None)).unwrap();
    assert_eq!(names(&loaded.sources), ["people.yaml", "site.yaml"]);
    assert_eq!(loaded.desired.groups.len(), 1);

    // `projects:` without `version:` is a tabops manifest missing its version: an error, not a skipped file.
    std::fs::write(root.join("sales.yaml"), "projects:\n  - name: Sales\n").unwrap();
    let Err(LoadError::Invalid(diagnostics)) = load(root, &options(None)) else { panic!("sales.yaml was skipped") };
    let text = diagnostics.to_string();
    assert!(text.contains("sales.yaml:1:1: error: missing required key `version`"), "{text}");
    assert_eq!(diagnostics.len(), 1, "{text}");

    // Nothing but other tools' files: one error that counts them, with a hint.
    let other = tempfile::tempdir().unwrap();
    for i in 0..40 {
        std::fs::write(other.path().join(format!("workflow{i}.yml")), "on: push\njobs: {}\n").unwrap();
    }
    let err = load(other.path(), &options(None)).unwrap_err();
    assert!(matches!(err, LoadError::NoManifestFiles { skipped: 40, .. }), "{err:?}");
    assert!(err.to_string().contains("none of its 40 YAML files has `version:` at the top"), "{err}");
    assert!(err.hint().unwrap().contains("`version: 1`"));
}

/// `--var NAME=VALUE` wins over the selected environment's `vars` and the manifest's, changes the manifest digest
/// (a plan made with other values is another plan), and must name a variable the manifest defines.
#[test]
fn command_line_vars_win_over_the_environment_and_the_file_and_must_be_defined() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("manifest.yaml");
    std::fs::write(
        &file,
        "version: 1\nsite: { server: local, content_url: acme }\nvars: { team: Sales }\nenvironments:\n  prod:\n    \
         vars: { team: Finance }\nprojects:\n  - name: \"${team}\"\n    description: \"${team} analytics\"\n",
    )
    .unwrap();
    let with = |env: Option<&str>, vars: &[(&str, &str)]| LoadOptions {
        vars: vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..options(env)
    };
    let project = |options: &LoadOptions| {
        let loaded = load(&file, options).unwrap();
        let p = &loaded.desired.projects[0];
        (p.path.to_string(), p.description.clone().unwrap_or_default(), loaded.desired.manifest_digest.clone())
    };
    let (file_name, _, plain_digest) = project(&with(None, &[]));
    assert_eq!(file_name, "Sales");
    assert_eq!(project(&with(Some("prod"), &[])).0, "Finance");
    let (name, description, digest) = project(&with(Some("prod"), &[("team", "Ops")]));
    assert_eq!((name.as_str(), description.as_str()), ("Ops", "Ops analytics"));
    assert_ne!(digest, plain_digest);
    assert_eq!(project(&with(None, &[("team", "Ops")])).0, "Ops");

    let Err(LoadError::Invalid(diagnostics)) = load(&file, &with(None, &[("tema", "Ops")])) else {
        panic!("an undefined --var must be refused")
    };
    let shown = diagnostics.to_string();
    assert!(shown.contains("variable `tema` (from --var) is not defined under `vars:`"), "{shown}");
    assert!(shown.contains("team"), "the hint names the likely variable: {shown}");
    // An older revision (`--base`) may not define it yet: left alone there.
    let lenient = LoadOptions { ignore_undefined_vars: true, ..with(None, &[("tema", "Ops")]) };
    assert_eq!(project(&lenient).0, "Sales");
}

#[test]
fn preview_settings_resolve_with_variables_and_the_project_must_hold_the_id() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("manifest.yaml");
    let manifest = |project: &str| {
        format!(
            "version: 1\nsite: {{ server: local, content_url: acme }}\nvars: {{ team: Sales }}\nsettings:\n  \
             preview: {{ project: \"{project}\", reviewers: \"${{team}} Reviewers\" }}\n"
        )
    };
    std::fs::write(&file, manifest("${team} Previews/pr-{id}")).unwrap();
    let loaded = load(&file, &options(None)).unwrap();
    let preview = loaded.desired.settings.preview.expect("settings.preview");
    assert_eq!(preview.project_for("7"), "Sales Previews/pr-7");
    assert_eq!(preview.reviewers.as_deref(), Some("Sales Reviewers"));

    std::fs::write(&file, manifest("Previews")).unwrap();
    let Err(LoadError::Invalid(diagnostics)) = load(&file, &options(None)) else { panic!("a project without {{id}}") };
    let shown = diagnostics.to_string();
    assert!(shown.contains("`settings.preview.project` is `Previews`, without `{id}`"), "{shown}");
    assert!(shown.contains("manifest.yaml:5:"), "positioned: {shown}");
}
