//! `tabops report access` and `tabops report usage` on the enterprise example, applied to the emulator and read
//! back over HTTP by the real binary. The expected rows are written by hand from the example's manifest and
//! Tableau's documented evaluation order (docs/reports.md), not taken from the report's output.

use tabops_testkit as support;

use std::collections::BTreeMap;

use serde_json::Value;
use support::Harness;
use support::harness::hook;
use tabops_emulator::EmulatorConfig;
use tabops_tableau as api;

fn enterprise() -> Harness {
    let h = Harness::start_with(
        EmulatorConfig { test_hooks: true, ..EmulatorConfig::default() },
        tabops_emulator::DEFAULT_PAT_SECRET,
    );
    let dir = h.copy_example("enterprise", "enterprise");
    h.apply(&dir);
    h
}

fn json(h: &Harness, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let run = h.tabops(&all).expect(0);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("report JSON does not parse: {e}\n{}", run.stdout))
}

/// `user object capability` → (effect, reason as `by` and its fields) of every row.
fn decisions(report: &Value) -> BTreeMap<(String, String, String), (String, String)> {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let user = row["user"].as_str().unwrap().trim_end_matches("@acme.com").to_owned();
            let key =
                (user, row["object"].as_str().unwrap().to_owned(), row["capability"].as_str().unwrap().to_owned());
            let reason = &row["reason"];
            let mut why = reason["by"].as_str().unwrap().to_owned();
            for field in ["mode", "groups", "site_role", "project"] {
                match &reason[field] {
                    Value::Null => {}
                    Value::String(text) => why.push_str(&format!(" {text}")),
                    other => why.push_str(&format!(" {}", other.to_string().replace('"', ""))),
                }
            }
            (key, (row["effect"].as_str().unwrap().to_owned(), why))
        })
        .collect()
}

fn id_of(list: &[(String, String)], name: &str) -> String {
    list.iter().find(|(_, n)| n == name).unwrap_or_else(|| panic!("no {name}")).0.clone()
}

#[test]
fn access_on_the_enterprise_example_decides_the_tricky_cases_as_documented() {
    let h = enterprise();
    let before = h.stats().requests_total;
    let report = json(&h, &["report", "access"]);
    let made = h.stats().requests_total - before;
    // Every request the report counts reached the site; sign-in and sign-out are the two it does not count.
    assert_eq!(report["requests"].as_u64().unwrap() + 2, made, "{}", report["requests"]);
    let got = decisions(&report);

    let pipeline = "workbook:Sales/Americas/Pipeline";
    let gl = "datasource:Finance/Reporting/GL Entries";
    // (user, object, capability) → (effect, the step that decided), from the manifest in examples/enterprise.
    let table = [
        // Emma (Explorer) is in Sales Leads (Publisher on Pipeline): her site role takes Write away.
        (("emma.schmidt", pipeline, "Write"), ("denied", "site_role Explorer")),
        // Dev's own Deny beats Sales Analysts' Allow (the Explorer template).
        (("dev.patel", pipeline, "ExportData"), ("denied", "user_rule Deny")),
        (("dev.patel", pipeline, "WebAuthoring"), ("allowed", "group_rule Allow [Sales Analysts]")),
        // Kofi is a Viewer; Operations has the Publisher template on Supply Chain.
        (("kofi.mensah", "project:Operations/Supply Chain", "Write"), ("denied", "site_role Viewer")),
        (("kofi.mensah", "project:Operations/Supply Chain", "Read"), ("allowed", "group_rule Allow [Operations]")),
        // Finance is locked with its nested projects: Sales Leads' Read Deny beats Executives' Allow for Emma, on
        // Finance and on the nested Finance/Reporting, whose rules are Finance's.
        (("emma.schmidt", "project:Finance", "Read"), ("denied", "group_rule Deny [Sales Leads]")),
        (("emma.schmidt", "project:Finance/Reporting", "Read"), ("denied", "group_rule Deny [Sales Leads]")),
        // Content in a nested project of the locked Finance has Finance's data-source defaults.
        (("hana.kim", gl, "Read"), ("allowed", "group_rule Allow [Executives]")),
        (("hana.kim", gl, "Connect"), ("denied", "group_rule Deny [Executives]")),
        // Owners of the project (or of one above it), the content owner, administrators.
        (("ben.okafor", pipeline, "Delete"), ("allowed", "project_owner Sales")),
        (
            ("farah.haddad", "workbook:Finance/Reporting/Board/Board Pack", "ChangePermissions"),
            ("allowed", "project_owner Finance"),
        ),
        (("chloe.martin", "datasource:Sales/Customers", "Write"), ("allowed", "content_owner")),
        // Sales is locked (without nested): its content's owner cannot set permissions there.
        (("chloe.martin", "datasource:Sales/Customers", "ChangePermissions"), ("denied", "locked_project Sales")),
        (("ana.alvarez", gl, "ChangePermissions"), ("allowed", "site_administrator")),
        (("lena.berg", "project:Finance", "Write"), ("allowed", "site_administrator")),
    ];
    let mut wrong = Vec::new();
    for ((user, object, capability), (effect, why)) in table {
        let key = (user.to_owned(), object.to_owned(), capability.to_owned());
        match got.get(&key) {
            Some((e, w)) if e == effect && w == why => {}
            other => wrong.push(format!("{key:?}: expected {effect} by {why}, got {other:?}")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Marco is unlicensed: nothing is allowed to him anywhere.
    assert!(!got.iter().any(|((user, ..), (effect, _))| user == "marco.silva" && effect == "allowed"));
    let locked_row = report["rows"].as_array().unwrap().iter().find(|r| r["object"] == gl).unwrap();
    assert_eq!(locked_row["rules_from"], "Finance");

    // A user rule of Emma's own on Finance beats Sales Leads' Deny.
    let client = h.client();
    let projects = h.block_on(client.projects()).unwrap();
    let users = h.block_on(client.users()).unwrap();
    let finance = projects.iter().find(|p| p.name == "Finance" && p.parent_id.is_none()).unwrap().id.clone();
    let emma = users.iter().find(|u| u.name == "emma.schmidt@acme.com").unwrap().id.clone();
    let rule = api::GranteeCapabilities {
        grantee: api::Grantee { kind: api::GranteeKind::User, id: emma },
        capabilities: vec![api::Capability { name: "Read".into(), mode: api::CapabilityMode::Allow }],
    };
    h.block_on(client.add_permissions(&api::PermissionTarget::Project(finance), &[rule])).unwrap();
    let after = json(
        &h,
        &["report", "access", "--item", "project:Finance", "--capability", "Read", "--user", "emma.schmidt@acme.com"],
    );
    let got = decisions(&after);
    assert_eq!(
        got.into_iter().collect::<Vec<_>>(),
        [(
            ("emma.schmidt".into(), "project:Finance".into(), "Read".into()),
            ("allowed".into(), "user_rule Allow".into())
        )]
    );
}

#[test]
fn who_can_see_the_board_pack_transcript() {
    let h = enterprise();
    // Board Pack sits in Finance/Reporting/Board, under the locked Finance: Finance's workbook defaults apply.
    // Allowed: the administrators (Ana, Lena and the site's own), Farah (owns Finance), George (Finance), Hana (Executives).
    // Denied: Ben and Emma, Sales Leads (the Denied template), whatever Executives allows Emma.
    let args = ["report", "access", "--item", "workbook:Finance/Reporting/Board/Board Pack", "--capability", "Read"];
    let csv = h.tabops(&[&args[..], &["--format", "csv"]].concat()).expect(0).stdout;
    let users: Vec<(&str, &str)> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[1].trim_end_matches("@acme.com"), cells[4])
        })
        .collect();
    assert_eq!(
        users,
        [
            // The emulator's own administrator, whose token the binary signs in with.
            ("admin@tabops.local", "allowed"),
            ("ana.alvarez", "allowed"),
            ("ben.okafor", "denied"),
            ("emma.schmidt", "denied"),
            ("farah.haddad", "allowed"),
            ("george.nakamura", "allowed"),
            ("hana.kim", "allowed"),
            ("lena.berg", "allowed"),
        ],
        "{csv}"
    );
    let run = h.tabops(&args).expect(0);
    let transcript = support::transcript_step(&args, &run);
    support::transcript_filters(h.dir.path()).bind(|| insta::assert_snapshot!("report_access_who_can_see", transcript));

    // CSV: a header, then one record per row (names with spaces stay one field).
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("object,user,site_role,capability,effect,reason,rules_from"));
    assert_eq!(
        lines.find(|l| l.contains("hana.kim")),
        Some(
            "workbook:Finance/Reporting/Board/Board Pack,hana.kim@acme.com,Viewer,Read,allowed,group rule Allow \
             (Executives),Finance"
        )
    );

    // Markdown: a heading, the table, the summary with the request count.
    let markdown = h.tabops(&[&args[..], &["--format", "markdown"]].concat()).expect(0).stdout;
    assert!(markdown.starts_with("### Effective access\n\n| object | user | site_role |"), "{markdown}");
    assert!(
        markdown.contains(
            "| workbook:Finance/Reporting/Board/Board Pack | emma.schmidt@acme.com | Explorer | Read | denied | group \
             rule Deny (Sales Leads) | Finance |"
        ),
        "{markdown}"
    );
    assert!(markdown.trim_end().ends_with("the site was read with 12 request(s)."), "{markdown}");

    // Filters naming what the site does not have fail with a hint; with --format json, as the one error document.
    let run = h.tabops(&["report", "access", "--user", "nobody@acme.com"]).expect(1);
    assert!(run.stderr.contains("the site has no user 'nobody@acme.com'"), "{}", run.stderr);
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
    let run = h.tabops(&["report", "access", "--group", "Nobody", "--format", "json"]).expect(1);
    let error: Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(error["error"]["causes"].to_string().contains("the site has no group 'Nobody'"), "{error}");
    assert!(error["error"]["hint"].is_string(), "{error}");
}

#[test]
fn usage_counts_views_from_the_usage_statistics_and_lists_the_never_viewed() {
    let h = enterprise();
    let client = h.client();
    let workbooks: Vec<(String, String)> =
        h.block_on(client.workbooks()).unwrap().into_iter().map(|w| (w.id, w.name)).collect();
    let views = h.block_on(client.views()).unwrap();
    let revenue = id_of(&workbooks, "Revenue");
    let pipeline = id_of(&workbooks, "Pipeline");
    let mut counted = Vec::new();
    for (workbook, count) in [(&revenue, 12), (&pipeline, 7)] {
        let view = views.iter().find(|v| v.workbook_id.as_deref() == Some(workbook.as_str())).unwrap();
        assert_eq!(hook(&h.url(), &format!("views/usage?view={}&count={count}", view.id)), 204);
        counted.push(view.name.clone());
    }
    assert_eq!(hook(&h.url(), "views/usage?view=no-such-view&count=1"), 404);
    // Pipeline loses its checksum marker: tabops no longer recognises it as its own.
    let tags = h.block_on(client.workbook(&pipeline)).unwrap().tags;
    for marker in tags.iter().filter(|t| t.starts_with("tabops.")) {
        h.block_on(client.delete_tag(api::TagTarget::Workbook, &pipeline, marker)).unwrap();
    }

    let report = json(&h, &["report", "usage"]);
    assert_eq!(report["report"], "usage");
    // Five lists, one page each at this size: projects, users, workbooks, data sources, views.
    assert_eq!(report["requests"], 5);
    let rows = report["rows"].as_array().unwrap();
    let row = |kind: &str, address: &str| {
        rows.iter()
            .find(|r| r["kind"] == kind && r["address"] == address)
            .unwrap_or_else(|| panic!("no {kind} {address}: {rows:#?}"))
    };
    let revenue_row = row("workbook", "workbook:Sales/EMEA/Revenue");
    assert_eq!(revenue_row["total_views"], 12);
    assert_eq!(revenue_row["owner"], "ben.okafor@acme.com");
    assert_eq!(revenue_row["project"], "Sales/EMEA");
    assert_eq!(revenue_row["managed"], true);
    assert!(revenue_row["created_at"].is_string() && revenue_row["updated_at"].is_string());
    let pipeline_row = row("workbook", "workbook:Sales/Americas/Pipeline");
    assert_eq!(pipeline_row["total_views"], 7);
    assert_eq!(pipeline_row["managed"], false);
    assert_eq!(row("workbook", "workbook:Finance/Reporting/Board/Board Pack")["total_views"], 0);
    let orders = row("datasource", "datasource:Sales/Orders");
    assert_eq!(orders["total_views"], Value::Null);
    assert_eq!(orders["owner"], "ben.okafor@acme.com");
    assert_eq!(rows.iter().filter(|r| r["kind"] == "workbook").count(), 8);
    assert_eq!(rows.iter().filter(|r| r["kind"] == "datasource").count(), 5);
    assert_eq!(rows.iter().filter(|r| r["kind"] == "view").count(), views.len());

    // Everything was published moments ago, so nothing is stale by date; every view but the two counted one is
    // listed as never viewed.
    let args = ["report", "usage", "--stale-days", "1", "--format", "csv"];
    let csv = h.tabops(&args).expect(0).stdout;
    let listed: Vec<&str> = csv.lines().skip(1).collect();
    assert!(listed.iter().all(|l| l.starts_with("view,")), "{csv}");
    assert_eq!(listed.len(), views.len() - 2, "{csv}");
    for name in &counted {
        assert!(!listed.iter().any(|l| l.contains(&format!(",{name},"))), "{name} was viewed: {csv}");
    }

    let args = ["report", "usage", "--stale-days", "1"];
    let run = h.tabops(&args).expect(0);
    let transcript = support::transcript_step(&args, &run);
    let mut settings = support::transcript_filters(h.dir.path());
    settings.add_filter(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z", "[TIME]");
    settings.bind(|| insta::assert_snapshot!("report_usage_stale", transcript));
}

#[test]
fn a_report_finds_its_site_in_the_manifest_named_with_f() {
    let h = enterprise();
    // The site's address and content URL only in the manifest, as plan would read them; no --server or --site.
    let manifest = h.dir.path().join("site.yaml");
    std::fs::write(&manifest, format!("version: 1\nsite: {{ server: \"{}\", content_url: acme }}\n", h.url())).unwrap();
    let run = support::Run::of(
        support::run::tabops_command(h.dir.path())
            .env("TABLEAU_PAT_NAME", tabops_emulator::DEFAULT_PAT_NAME)
            .env("TABLEAU_PAT_SECRET", &h.pat_secret)
            .args(["report", "usage", "-f", "site.yaml", "--state-dir"])
            .arg(h.state_dir())
            .args(["--format", "json"]),
    )
    .expect(0);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let workbooks = report["rows"].as_array().unwrap().iter().filter(|r| r["kind"] == "workbook").count();
    assert_eq!(workbooks, 8, "the enterprise site, not an empty local one: {}", run.stdout);
}
