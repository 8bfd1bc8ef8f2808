//! Renderer snapshots for a realistic plan (text, verbose text, Markdown, JSON), Markdown splitting, and drift
//! classification with and without a baseline manifest.

use tabops_testkit::model as common;

use common::*;
use tabops_manifest::model::*;
use tabops_plan::drift::{self, classify};
use tabops_plan::inventory::*;
use tabops_plan::plan::Action;
use tabops_plan::render::{MarkdownOptions, UnmanagedMode};
use tabops_plan::{Plan, PlanOptions, plan, render};

/// The enterprise manifest against a site that drifted in every way the planner handles.
fn realistic() -> (Desired, Inventory, Plan) {
    use Capability::*;
    let desired = enterprise();
    let mut live = converged(&desired);
    // EMEA and its workbook do not exist yet.
    live.projects.retain(|p| p.name != "EMEA");
    live.workbooks.retain(|w| w.name != "Revenue");
    live.permissions.retain(|id, _| !id.contains("revenue"));
    // bob's role was changed on the site; Sales' description too.
    live.users.iter_mut().find(|u| u.name == "bob@acme.com").unwrap().site_role = "Explorer".into();
    live.projects.iter_mut().find(|p| p.name == "Sales").unwrap().description = Some("Sales".into());
    // Orders was published from an older file.
    let orders = live.datasources.iter_mut().find(|d| d.name == "Orders").unwrap();
    for tag in orders.tags.iter_mut().filter(|t| t.starts_with("tabops.sha256.")) {
        *tag = "tabops.sha256.3fa90000000000000000000000000000".into();
    }
    // Stray content under the pruning Sales project; unmanaged content under Finance.
    live.workbooks.push(live_content("wb-stray", "Scratchpad", "p-sales"));
    live.workbooks.push(live_content("wb-fin", "Forecast", "p-finance"));
    // Sales Leads' Write was flipped to Deny on the site.
    let leads =
        live.permissions.get_mut("p-sales").unwrap().iter_mut().find(|r| r.grantee.id == "g-sales_leads").unwrap();
    leads.capabilities.insert(Write, Mode::Deny);
    // The refresh schedule was moved to 07:00.
    live.refresh_tasks[0].schedule = Some(daily(7, &weekdays()));
    live.refresh_tasks[0].schedule_text = "daily at 07:00 on Mon,Tue,Wed,Thu,Fri".into();
    let p = plan(&desired, &live, &PlanOptions::default());
    (desired, live, p)
}

#[test]
fn text_snapshot() {
    let (_, _, p) = realistic();
    assert!(p.applyable, "{:?}", p.errors);
    insta::assert_snapshot!("text", render::text(&p, false, false));
    insta::assert_snapshot!("text_verbose", render::text(&p, false, true));
    assert!(render::text(&p, true, false).contains("\u{1b}["), "colour codes when asked");
    assert!(!render::text(&p, false, false).contains("\u{1b}["));
}

#[test]
fn markdown_snapshot() {
    let (_, _, p) = realistic();
    insta::assert_snapshot!("markdown", render::markdown(&p, &MarkdownOptions::default()));
    let listed = MarkdownOptions { unmanaged: UnmanagedMode::List, ..Default::default() };
    assert!(render::markdown(&p, &listed).contains("workbook:Finance/Forecast (id wb-fin)"));
    let hidden = MarkdownOptions { unmanaged: UnmanagedMode::Hide, ..Default::default() };
    assert!(!render::markdown(&p, &hidden).contains("Unmanaged"));
}

#[test]
fn json_snapshot() {
    let (_, _, p) = realistic();
    let json = render::json(&p);
    assert!(json.starts_with("{\n  \"format_version\": 1,"));
    insta::assert_snapshot!("json", json);
}

#[test]
fn empty_plan_says_no_changes() {
    let desired = enterprise();
    let p = plan(&desired, &converged(&desired), &PlanOptions::default());
    assert_eq!(render::text(&p, false, false), "No changes. The site matches the manifest.\n");
    assert!(
        render::markdown(&p, &MarkdownOptions::default()).contains("**No changes. The site matches the manifest.**")
    );
}

/// A plan over the comment budget: one document within `max_bytes` that keeps the summary, every error, every delete
/// and replace, fills the rest with what fits, and counts what it left out.
#[test]
fn markdown_over_its_budget_keeps_errors_deletes_and_replaces_and_says_what_it_left_out() {
    let mut desired = empty_desired();
    desired.projects.push(project("Big"));
    desired.projects.last_mut().unwrap().prune = true;
    for i in 0..400 {
        let mut wb = content(ContentKind::Workbook, &format!("Workbook number {i}"), "Big", file("w.twb", "aa", 1));
        wb.description = Some("x".repeat(40));
        desired.workbooks.push(wb);
    }
    let mut live = converged(&desired);
    // 30 workbooks the manifest does not have (pruned: deletes), 20 whose file changed (replaces), 300 missing from
    // the site (creates) and 600 unmanaged users.
    for i in 0..30 {
        let mut extra = live.workbooks[0].clone();
        extra.id = format!("extra-{i}");
        extra.name = format!("Old workbook {i}");
        live.workbooks.push(extra);
    }
    for w in live.workbooks.iter_mut().filter(|w| w.name.starts_with("Workbook number 1")).take(20) {
        w.tags.retain(|t| !t.starts_with("tabops."));
        w.tags.push("tabops.sha256.00000000000000000000000000000000".into());
    }
    live.workbooks.retain(|w| !w.name.starts_with("Workbook number 2") && !w.name.starts_with("Workbook number 3"));
    for i in 0..600 {
        live.users.push(tabops_plan::inventory::LiveUser {
            id: format!("u{i}"),
            name: format!("someone{i}@acme.com"),
            site_role: "Viewer".into(),
            auth_setting: None,
            full_name: None,
            email: None,
            idp_configuration_id: None,
        });
    }
    let p = plan(&desired, &live, &PlanOptions { max_deletes: Some(1_000), ..Default::default() });
    let deletes = p.actions.iter().filter(|a| a.action == Action::Delete).count();
    let replaces = p.actions.iter().filter(|a| a.action == Action::Republish).count();
    let creates = p.actions.iter().filter(|a| a.action == Action::Create).count();
    assert!(deletes == 30 && replaces == 20 && creates > 100, "{deletes} {replaces} {creates}");

    let options = MarkdownOptions {
        max_bytes: 20_000,
        full_plan: Some("the `tabops-plan` artifact".into()),
        ..Default::default()
    };
    let md = render::markdown(&p, &options);
    assert!(md.len() <= 20_000, "{} bytes", md.len());
    assert!(md.contains(&format!("**{}**", p.summary.line())), "{md}");
    for a in p.actions.iter().filter(|a| matches!(a.action, Action::Delete | Action::Republish)) {
        assert!(md.contains(&format!(" {}\n", a.id)), "{} is not shown:\n{md}", a.id);
    }
    let shown_creates =
        p.actions.iter().filter(|a| a.action == Action::Create && md.contains(&format!("+ {}\n", a.id))).count();
    assert!(shown_creates > 0 && shown_creates < creates, "{shown_creates} of {creates} creates shown");
    let note = format!("> {} action(s) not shown", creates - shown_creates);
    assert!(md.contains(&note), "{note}\n{md}");
    assert!(md.contains("the \\`tabops-plan\\` artifact"), "{md}");
    assert!(md.contains("Unmanaged objects, left alone: 600 users"), "{md}");
    assert_eq!(md.matches("<details>").count(), md.matches("</details>").count());
    assert_eq!(md.matches("```").count() % 2, 0);
    // The default budget fits a GitHub comment; without a limit problem nothing is left out.
    let md = render::markdown(&p, &MarkdownOptions::default());
    assert!(md.len() <= render::DEFAULT_MAX_BYTES && md.len() < 65_536);
    let small = render::markdown(&plan(&desired, &converged(&desired), &PlanOptions::default()), &options);
    assert!(!small.contains("not shown"), "{small}");
}

#[test]
fn drift_with_baseline_separates_git_from_site_changes() {
    let (desired, live, _) = realistic();
    // Since the last apply (the baseline), git changed Sales' description; the site changed bob's role.
    let mut baseline = desired.clone();
    baseline.projects.iter_mut().find(|p| p.path == path("Sales")).unwrap().description = Some("Sales".into());
    let mut site = converged(&baseline);
    site.users.iter_mut().find(|u| u.name == "bob@acme.com").unwrap().site_role = "Explorer".into();
    let p = plan(&desired, &site, &PlanOptions::default());
    let report = classify(&p, Some(&baseline));
    let git: Vec<&str> = report.pending_from_git.iter().map(|i| i.address.as_str()).collect();
    let on_site: Vec<&str> = report.changed_on_site.iter().map(|i| i.address.as_str()).collect();
    assert_eq!(git, vec!["project:Sales"]);
    assert_eq!(on_site, vec!["user:bob@acme.com"]);
    assert!(report.has_drift());
    let _ = live;
}

#[test]
fn drift_without_baseline_uses_markers() {
    let (_, _, p) = realistic();
    let report = classify(&p, None);
    let git: Vec<&str> = report.pending_from_git.iter().map(|i| i.address.as_str()).collect();
    // Only content whose marker differs is known to come from git; a workbook missing from the site may be new in
    // git or deleted on the site.
    assert_eq!(git, vec!["datasource:Sales/Orders"]);
    assert!(report.differs.iter().any(|i| i.address == "workbook:Sales/EMEA/Revenue"));
    // Without a baseline a user's role that differs blames no one: it is neither a site change nor a git change.
    assert!(report.differs.iter().any(|i| i.address == "user:bob@acme.com"));
    assert!(report.changed_on_site.is_empty(), "{:?}", report.changed_on_site);
    assert_eq!(report.unmanaged.len(), 1);
    insta::assert_snapshot!("drift_text", drift::render_text(&report));
    insta::assert_snapshot!("drift_markdown", drift::render_markdown(&report));
    let json: serde_json::Value = serde_json::from_str(&drift::render_json(&report)).unwrap();
    assert_eq!(json["format_version"], 1);
    // A converged site has no drift.
    let desired = enterprise();
    let clean = classify(&plan(&desired, &converged(&desired), &PlanOptions::default()), Some(&desired));
    assert!(!clean.has_drift());
    assert_eq!(drift::render_text(&clean), "No drift. The site matches the manifest.\n");
}

/// A plan whose site data carries a Markdown break-out (a newline and a code fence in a project name), a terminal
/// escape sequence, and an error message with HTML and link syntax.
fn hostile() -> Plan {
    let (_, _, mut p) = realistic();
    let name = "Evil\n```\n</details>\n# pwned \u{1b}[2J\u{1b}]0;owned\u{7}";
    p.unmanaged[0].address = format!("project:{name}");
    p.actions[0].reason = format!("renamed from {name}");
    p.errors.push(tabops_plan::plan::PlanError {
        kind: tabops_plan::plan::PlanErrorKind::Protected,
        address: format!("project:{name}"),
        message: "see <img src=x onerror=alert(1)> and [docs](javascript:alert(1)) `x`".into(),
        hint: Some("**bold** _it_ | pipe".into()),
    });
    p
}

/// The lines of a Markdown document that are not inside a code fence: where a name could change the layout.
fn outside_fences(part: &str) -> Vec<&str> {
    let mut inside = false;
    let mut out = Vec::new();
    for line in part.lines() {
        if line.trim_start().starts_with("```") {
            inside = !inside;
            continue;
        }
        if !inside {
            out.push(line);
        }
    }
    assert!(!inside, "a fence was left open:\n{part}");
    out
}

#[test]
fn markdown_keeps_hostile_names_inside_their_block() {
    let part = render::markdown(&hostile(), &MarkdownOptions { unmanaged: UnmanagedMode::List, ..Default::default() });
    assert!(!part.contains('\u{1b}'), "raw escape in Markdown:\n{part}");
    let layout = outside_fences(&part);
    let opened = layout.iter().filter(|l| l.contains("<details>")).count();
    let closed = layout.iter().filter(|l| l.contains("</details>")).count();
    assert_eq!(opened, closed, "a name closed a block early:\n{part}");
    assert!(!layout.iter().any(|l| l.starts_with("# pwned")), "a name started a heading:\n{part}");
    // Inside the fence, the name is one line with its newlines and fence shown as text.
    assert!(part.contains("project:Evil\\u{a}'''\\u{a}</details>\\u{a}# pwned"), "{part}");
    assert!(part.contains("\\<img src=x onerror=alert(1)\\>"), "HTML escaped:\n{part}");
    assert!(part.contains("\\[docs\\](javascript:alert(1))"), "links escaped:\n{part}");
}

#[test]
fn text_shows_terminal_escapes_from_site_data_as_text() {
    let p = hostile();
    for color in [false, true] {
        let text = render::text(&p, color, true);
        let without_our_colours =
            if color { text.replace("\u{1b}[", "").replace('\u{1b}', "<RAW ESC>") } else { text.clone() };
        assert!(!without_our_colours.contains("<RAW ESC>") && !text.contains("\u{1b}]0;"), "{text:?}");
        assert!(!text.contains('\u{7}'), "BEL from site data: {text:?}");
        assert!(text.contains("\\u{1b}[2J"), "shown as an escape: {text:?}");
        assert!(!text.contains("Evil\n"), "a newline in a name split the line: {text:?}");
    }
}
