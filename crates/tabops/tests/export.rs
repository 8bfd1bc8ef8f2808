//! `tabops export` end to end: a real emulator on loopback started in the test, the real binary, temp dirs.
//! The acceptance is the round trip: apply a manifest (or seed a site by other means), export it, and a plan of
//! the export against the same site has no changes.

use std::path::{Path, PathBuf};

use tabops_testkit as support;

use support::{Harness, Run, path_str, regex_escape, transcript_step};

/// The harness's commands for this file: apply, export and the no-changes plan of a manifest.
trait ExportSite {
    fn path(&self, name: &str) -> PathBuf;
    fn apply_example(&self, name: &str);
    fn export(&self, out: &Path, extra: &[&str]) -> Run;
    /// `plan --detailed-exitcode` of `manifest`: exit 0 and "No changes" when the site matches.
    fn plan(&self, manifest: &Path) -> Run;
}

impl ExportSite for Harness {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn apply_example(&self, name: &str) {
        self.apply(&example(name));
    }

    fn export(&self, out: &Path, extra: &[&str]) -> Run {
        let mut args = vec!["export", "--out", path_str(out)];
        args.extend_from_slice(extra);
        self.tabops(&args)
    }

    fn plan(&self, manifest: &Path) -> Run {
        self.tabops(&["plan", "-f", path_str(manifest), "--detailed-exitcode"])
    }
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples").join(name)
}

/// Every exported manifest file, in path order, as one text.
fn manifest_text(dir: &Path) -> String {
    let mut files: Vec<PathBuf> = ["site.yaml", "people.yaml"].iter().map(|f| dir.join(f)).collect();
    let mut projects: Vec<PathBuf> =
        std::fs::read_dir(dir.join("projects")).unwrap().map(|e| e.unwrap().path()).collect();
    projects.sort();
    files.extend(projects);
    files
        .iter()
        .map(|f| {
            let name = f.strip_prefix(dir).unwrap().display().to_string();
            format!("--- {name}\n{}", std::fs::read_to_string(f).unwrap())
        })
        .collect()
}

fn content_files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &dir.join("content"), &mut out);
    out.sort();
    out
}

#[test]
fn enterprise_site_round_trips_through_export() {
    let site = Harness::start();
    site.apply_example("enterprise");
    let out = site.path("exported");
    let run = site.export(&out, &["--with-permissions", "--with-refresh", "--adopt"]).expect(0);
    assert!(run.stdout.contains("Checked: a plan of"), "{}", run.stdout);
    // Data sources with a database user: the warning lists them for `password: ${env:...}`.
    assert!(run.stderr.contains("password: \"${env:NAME}\""), "{}", run.stderr);
    assert!(run.stderr.contains("  - datasource:Sales/Orders\n"), "{}", run.stderr);
    // The API does not return a connection's database, so the exported connections (and with them the publish
    // fingerprints) differ from the applied manifest's: every item is re-tagged with its export's marker.
    assert!(run.stderr.contains("Adopted 13 item(s)"), "{}", run.stderr);

    let plan = site.plan(&out).expect(0);
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);

    let text = manifest_text(&out);
    assert!(text.contains("name: Pricing A/B Tests"), "{text}");
    assert!(text.contains("template: ProjectLeader"), "{text}");
    assert!(text.contains("hidden_views:"), "{text}");
    assert!(text.contains("frequency: hourly"), "{text}");
    assert!(!text.contains("tabops.sha256"), "marker tags are never exported:\n{text}");
    assert!(content_files(&out).contains(&"content/Sales/EMEA/Revenue.twbx".to_owned()));
    assert!(content_files(&out).contains(&"content/Sales/Pricing A_B Tests/Price Test Results.twb".to_owned()));
}

#[test]
fn content_tabops_never_published_is_adopted_with_a_recorded_tag_write() {
    let site = Harness::start();
    site.apply_example("quickstart");
    // Strip the markers, as if the content had been published by hand.
    let seeded = site.path("seed");
    site.export(&seeded, &["--with-refresh"]).expect(0);
    strip_markers(&site);

    let out = site.path("exported");
    let before = site.plan(&seeded);
    assert_eq!(before.code, 2, "unmarked items are republished without adoption:\n{}", before.stdout);
    assert!(before.stdout.contains("no tabops marker"), "{}", before.stdout);
    // Configured as in CI: the audit log named by TABOPS_AUDIT_LOG.
    let audit_log = site.path("adoption-audit.jsonl");
    let run = Run::of(
        site.ci_command(env!("CARGO_BIN_EXE_tabops"), site.dir.path())
            .args(["export", "--out", path_str(&out), "--with-permissions", "--with-refresh", "--adopt"])
            .env("TABOPS_AUDIT_LOG", &audit_log),
    )
    .expect(0);
    assert!(run.stderr.contains("Adopted 3 item(s)"), "{}", run.stderr);
    assert!(run.stdout.contains("Checked: a plan of"), "{}", run.stdout);
    site.plan(&out).expect(0);
    let audit = std::fs::read_to_string(&audit_log).unwrap();
    assert!(audit.contains("\"adopt_start\"") && audit.contains("\"adopt_complete\""), "{audit}");
    let report = tabops_apply::audit::verify(&audit_log).unwrap();
    assert!(report.is_ok(), "{report:?}");
}

/// Removes every `tabops.*` tag from the site's content through the REST API, as a site whose content was
/// published by other tools looks.
fn strip_markers(site: &Harness) {
    let client = site.client();
    site.block_on(async {
        for w in client.workbooks().await.unwrap() {
            for tag in w.tags.iter().filter(|t| t.starts_with("tabops.")) {
                client.delete_tag(tabops_tableau::TagTarget::Workbook, &w.id, tag).await.unwrap();
            }
        }
        for d in client.datasources().await.unwrap() {
            for tag in d.tags.iter().filter(|t| t.starts_with("tabops.")) {
                client.delete_tag(tabops_tableau::TagTarget::Datasource, &d.id, tag).await.unwrap();
            }
        }
        let _ = client.sign_out().await;
    });
}

#[test]
fn export_refuses_a_non_empty_directory_unless_forced() {
    let site = Harness::start();
    site.apply_example("quickstart");
    let out = site.path("exported");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "keep me").unwrap();
    let refused = site.export(&out, &[]).expect(1);
    assert!(refused.stderr.contains("not empty"), "{}", refused.stderr);
    assert!(!out.join("site.yaml").exists());
    site.export(&out, &["--force"]).expect(0);
    site.export(&out, &["--force", "--with-refresh", "--adopt"]).expect(0);
    assert_eq!(std::fs::read_to_string(out.join("notes.txt")).unwrap(), "keep me");
    site.plan(&out).expect(0);
}

#[test]
fn a_project_subtree_exports_with_its_ancestors_named_only() {
    let site = Harness::start();
    site.apply_example("enterprise");
    let out = site.path("emea");
    site.export(&out, &["--project", "Sales/EMEA", "--with-permissions", "--with-refresh", "--adopt"]).expect(0);
    let text = manifest_text(&out);
    assert!(text.contains("- name: Sales\n"), "{text}");
    assert!(text.contains("name: EMEA"), "{text}");
    assert!(!text.contains("name: Americas"), "{text}");
    let files: Vec<_> = std::fs::read_dir(out.join("projects")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(files, vec![std::ffi::OsString::from("sales.yaml")]);
    assert_eq!(content_files(&out), vec!["content/Sales/EMEA/Revenue.twbx".to_owned()]);
    site.plan(&out).expect(0);
    let missing = site.export(&site.path("none"), &["--project", "No Such/Project"]).expect(1);
    assert!(missing.stderr.contains("no such project"), "{}", missing.stderr);
}

#[test]
fn exported_yaml_of_a_small_site() {
    let site = Harness::start();
    site.apply_example("quickstart");
    let out = site.path("exported");
    site.export(&out, &["--with-permissions", "--with-refresh"]).expect(0);
    let text = manifest_text(&out);
    let url = site.url();
    insta::with_settings!({ filters => vec![(regex_escape(&url).as_str(), "[SERVER]")] }, {
        insta::assert_snapshot!("quickstart_export", text);
    });
    assert_eq!(
        content_files(&out),
        vec!["content/Sales/EMEA/Revenue.twbx", "content/Sales/Orders.tds", "content/Sales/Pipeline.twb"]
    );
}

/// A Daily schedule that repeats every 2 hours within 12:00-20:00 (as PSTableauREST's Cloud integration test creates
/// it) and an incremental task survive apply, export and plan: the export writes `every` and `until`, and a plan of
/// it against the same site has no changes (before, the interval and the end were dropped, so the export said "daily
/// at 12:00" and an incremental task read back as full).
#[test]
fn daily_every_n_hours_and_incremental_tasks_round_trip_through_export() {
    let site = Harness::start();
    let src = site.path("src");
    std::fs::create_dir_all(src.join("content")).unwrap();
    // A data source with an extract: Tableau refuses refresh tasks of content without one (409090).
    std::fs::copy(example("enterprise").join("content/orders.tdsx"), src.join("content/orders.tdsx")).unwrap();
    let manifest = src.join("manifest.yaml");
    std::fs::write(
        &manifest,
        r#"version: 1
site: { server: local, content_url: acme }
projects:
  - name: Sales
datasources:
  - name: Orders
    project: Sales
    file: content/orders.tdsx
    refresh:
      - { type: full, frequency: daily, every: 2, at: "12:00", until: "20:00", weekdays: [Sun, Mon] }
      - { type: incremental, frequency: hourly, every: 4, at: "06:00", until: "18:00", weekdays: [Tue] }
"#,
    )
    .unwrap();
    site.apply(&manifest);
    let again = site.plan(&manifest).expect(0);
    assert!(again.stdout.contains("No changes"), "the applied tasks read back equal:\n{}", again.stdout);

    let out = site.path("exported");
    site.export(&out, &["--with-refresh", "--adopt"]).expect(0);
    let plan = site.plan(&out).expect(0);
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);
    let text = manifest_text(&out);
    let daily = text.lines().position(|l| l.contains("frequency: daily")).unwrap_or_else(|| panic!("{text}"));
    let task: String = text.lines().skip(daily.saturating_sub(3)).take(9).collect::<Vec<_>>().join("\n");
    assert!(task.contains("every: 2") && task.contains("20:00"), "{task}\n---\n{text}");
    assert!(text.contains("type: incremental"), "{text}");
}

/// The reads an export makes, by route: each list once, each exported object's details once, then the verifying
/// plan's reads. Pinned, so a change to how export reads the site cannot quietly make it read more.
#[test]
fn export_reads_each_list_once_and_each_exported_objects_details_once() {
    let site = Harness::start();
    site.apply_example("enterprise");
    let before = site.stats();
    site.export(&site.path("exported"), &["--with-permissions", "--with-refresh"]).expect(0);
    let after = site.stats();
    let reads: std::collections::BTreeMap<String, u64> = after
        .by_route
        .iter()
        .filter(|(route, _)| route.starts_with("GET "))
        .map(|(route, n)| (route.clone(), n - before.by_route.get(route).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect();
    insta::assert_yaml_snapshot!(reads);
}

/// Filters for a transcript: the temp dir, the emulator's address, ids and digests.
fn filters(root: &Path) -> insta::Settings {
    tabops_testkit::transcript_filters(root)
}

/// Requests other than GET (and other than signing in and out) the emulator received between two snapshots.
fn writes_between(before: &tabops_emulator::Stats, after: &tabops_emulator::Stats) -> Vec<String> {
    after
        .by_route
        .iter()
        .filter(|(route, _)| {
            !route.starts_with("GET ") && !route.ends_with("/auth/signin") && !route.ends_with("/auth/signout")
        })
        .filter(|(route, n)| **n > before.by_route.get(*route).copied().unwrap_or(0))
        .map(|(route, _)| route.clone())
        .collect()
}

/// Without `--adopt`, export writes nothing to the site (the emulator received no request but GETs and the
/// sign-in/out), and its output lists each item the next plan republishes because it carries no marker of its
/// exported file; that plan then republishes exactly those items and nothing else. `export --adopt` tags them
/// (announced, audit-logged), and the plan after it has no changes.
#[test]
fn export_is_read_only_and_says_what_the_next_plan_republishes_unless_adopted() {
    let site = Harness::start();
    site.apply_example("quickstart");
    strip_markers(&site);
    let out = site.path("exported");
    let mut transcript = String::new();
    let mut step = |args: &[&str], code: i32| {
        let run = site.tabops(args).expect(code);
        transcript.push_str(&transcript_step(args, &run));
        run
    };

    let before = site.stats();
    let exported = step(&["export", "--out", path_str(&out), "--with-permissions", "--with-refresh"], 0);
    let after = site.stats();
    assert_eq!(writes_between(&before, &after), Vec::<String>::new(), "a read-only export wrote to the site");
    assert!(!exported.stderr.contains("Adopted"), "{}", exported.stderr);
    let listed: Vec<&str> =
        exported.stderr.lines().filter_map(|l| l.strip_prefix("  ~ ")).map(|l| l.split(" (").next().unwrap()).collect();
    assert_eq!(listed.len(), 3, "{}", exported.stderr);

    // The next plan republishes exactly the items the export listed.
    let plan = site.plan_json(&out);
    let mut republished: Vec<String> = support::changes(&plan).into_iter().map(|(id, _)| id).collect();
    republished.sort();
    assert_eq!(republished, listed, "{plan}");
    step(&["plan", "-f", path_str(&out), "--detailed-exitcode"], 2);

    let before = site.stats();
    step(&["export", "--out", path_str(&out), "--with-permissions", "--with-refresh", "--force", "--adopt"], 0);
    let after = site.stats();
    assert!(!writes_between(&before, &after).is_empty(), "--adopt tags the items");
    let plan = step(&["plan", "-f", path_str(&out), "--detailed-exitcode"], 0);
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);
    filters(site.dir.path()).bind(|| insta::assert_snapshot!("export_is_read_only_unless_adopted", transcript));
}

/// A whole-site export writes every user, also one nobody references (no owner, member or grantee): a user of
/// export expects the site in git, and a plan of it then manages that user too instead of listing it as unmanaged.
#[test]
fn a_whole_site_export_includes_users_nobody_references() {
    let site = Harness::start();
    site.apply_example("enterprise");
    let out = site.path("exported");
    let run = site.export(&out, &["--with-permissions", "--with-refresh", "--adopt"]).expect(0);
    let people = std::fs::read_to_string(out.join("people.yaml")).unwrap();
    // Unlicensed, in no group, owning nothing.
    assert!(people.contains("marco.silva@acme.com"), "{people}");
    assert!(!run.stderr.contains("not exported"), "{}", run.stderr);
    let plan = site.plan_json(&out);
    assert_eq!(support::changes(&plan), Vec::<(String, String)>::new(), "{plan}");
    let unmanaged = plan["unmanaged"].as_array().unwrap();
    assert!(unmanaged.iter().all(|u| u["kind"] != "user" && u["kind"] != "group"), "{plan}");
}

/// `--project` exports the groups and users the exported projects reference (permission grantees, members of
/// those groups, owners) and no others; the output lists what it left out, and a plan of the export has no
/// changes (the others are unmanaged and left alone). Only the named groups' members are read.
#[test]
fn a_project_export_has_only_the_groups_and_users_its_projects_reference() {
    let site = Harness::start();
    site.apply_example("enterprise");
    let out = site.path("emea");
    let before = site.stats();
    let run = site.export(&out, &["--project", "Sales/EMEA", "--with-permissions", "--adopt"]).expect(0);
    let after = site.stats();
    let people = std::fs::read_to_string(out.join("people.yaml")).unwrap();
    let project = std::fs::read_to_string(out.join("projects/sales.yaml")).unwrap();
    let manifest = tabops_manifest::load(&out, &Default::default()).unwrap().desired;
    let groups: Vec<&str> = manifest.groups.iter().map(|g| g.name.as_str()).collect();
    for group in &groups {
        assert!(project.contains(&format!("group: {group}")), "{group} is exported but not referenced:\n{project}");
    }
    assert!(!groups.is_empty() && !groups.contains(&"Finance"), "{groups:?}\n{people}");
    assert!(!people.contains("marco.silva@acme.com"), "{people}");
    assert!(run.stderr.contains("group(s) not exported: no exported project references them"), "{}", run.stderr);
    assert!(run.stderr.contains("group:Finance"), "{}", run.stderr);
    assert!(run.stderr.contains("user(s) not exported"), "{}", run.stderr);
    // Members are read for the exported groups only (the export's reads, then the verifying plan's).
    let member_reads = support::route(&after, "GET /sites/{id}/groups/{id}/users")
        - support::route(&before, "GET /sites/{id}/groups/{id}/users");
    assert_eq!(member_reads as usize, 2 * groups.len(), "{groups:?}");
    let plan = site.plan(&out).expect(0);
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);
}

/// Every list export prints is in a fixed order: the connection-password list is sorted by address, and two
/// exports of the same site print the same warnings.
#[test]
fn export_warnings_come_in_a_fixed_order() {
    let site = Harness::start();
    site.apply_example("enterprise");
    let first = site.export(&site.path("one"), &["--with-permissions"]).expect(0);
    let second = site.export(&site.path("two"), &["--with-permissions"]).expect(0);
    let list = |stderr: &str| -> Vec<String> {
        stderr
            .lines()
            .skip_while(|l| !l.contains("the API never returns connection passwords"))
            .skip(1)
            .take_while(|l| l.starts_with("  - "))
            .map(str::to_owned)
            .collect()
    };
    let passwords = list(&first.stderr);
    assert!(passwords.len() > 1, "{}", first.stderr);
    let mut sorted = passwords.clone();
    sorted.sort_by_key(|l| l.to_lowercase());
    assert_eq!(passwords, sorted);
    let warnings =
        |stderr: &str| stderr.lines().filter(|l| l.starts_with("warning:")).map(str::to_owned).collect::<Vec<_>>();
    let strip = |s: &str| s.replace(path_str(&site.path("one")), "DIR").replace(path_str(&site.path("two")), "DIR");
    assert_eq!(strip(&first.stderr), strip(&second.stderr));
    assert!(!warnings(&first.stderr).is_empty());
}
