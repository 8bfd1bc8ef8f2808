//! Renderer snapshots for a realistic plan (text, verbose text, Markdown, JSON), Markdown splitting, content
//! reviews placed under their actions, and drift classification with and without a baseline manifest.

use tabops_testkit::model as common;

use std::collections::BTreeMap;

use common::*;
use tabops_manifest::model::*;
use tabops_plan::drift::{self, classify};
use tabops_plan::inventory::*;
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
    let parts = render::markdown(&p);
    assert_eq!(parts.len(), 1);
    insta::assert_snapshot!("markdown", parts[0]);
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
    assert!(render::markdown(&p)[0].contains("**No changes. The site matches the manifest.**"));
}

#[test]
fn large_markdown_is_split_into_self_contained_parts() {
    let mut desired = empty_desired();
    desired.projects.push(project("Big"));
    for i in 0..400 {
        let mut wb = content(ContentKind::Workbook, &format!("Workbook number {i}"), "Big", file("w.twb", "aa", 1));
        wb.description = Some("x".repeat(40));
        desired.workbooks.push(wb);
    }
    let p = plan(&desired, &Inventory::default(), &PlanOptions::default());
    let limit = 8_000;
    let parts = render::markdown_with_limit(&p, limit);
    assert!(parts.len() > 3, "{} parts", parts.len());
    let n = parts.len();
    for (i, part) in parts.iter().enumerate() {
        assert!(part.len() <= limit, "part {i} is {} chars", part.len());
        assert!(part.starts_with(&format!("## tabops plan: site `acme` (part {} of {n})", i + 1)));
        assert!(part.contains("**Plan: 401 to add, 0 to change, 0 to destroy.**"));
        assert_eq!(part.matches("<details>").count(), part.matches("</details>").count());
        assert_eq!(part.matches("```").count() % 2, 0);
    }
    let all = parts.concat();
    for i in 0..400 {
        assert!(all.contains(&format!("+ workbook:Big/Workbook number {i}\n")), "workbook {i} missing");
    }
    // The default limit applies the same way.
    assert!(render::markdown(&p).iter().all(|part| part.len() <= render::MARKDOWN_PART_LIMIT));
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

/// What tabops-content renders for a changed formula and a changed connection (written out here: tabops-plan does
/// not depend on tabops-content).
const ORDERS_REVIEW: &str = "- Calculated field changed: `Profit Ratio`
  ```diff
  @@ -1 +1 @@
  -SUM([Profit])/SUM([Sales])
  +ZN(SUM([Profit]))/SUM([Sales])
  ```
- Connection changed: `postgres`: server `pg-dev.acme.internal` -> `pg-sales.acme.internal`
";

fn balanced(part: &str) {
    assert_eq!(part.matches("<details>").count(), part.matches("</details>").count(), "{part}");
    assert_eq!(part.matches("```").count() % 2, 0, "{part}");
}

#[test]
fn markdown_with_reviews_places_each_review_under_its_action() {
    let (_, _, p) = realistic();
    let mut reviews = BTreeMap::new();
    reviews.insert("datasource:Sales/Orders".to_string(), ORDERS_REVIEW.to_string());
    reviews.insert("workbook:Sales/EMEA/Revenue".to_string(), "- Worksheet added: `Discount Impact`\n".to_string());
    reviews.insert("workbook:Nowhere/Ghost".to_string(), "- Worksheet added: `Ghost`\n".to_string());
    let parts = render::markdown_with_reviews(&p, &reviews, render::MARKDOWN_PART_LIMIT);
    assert_eq!(parts.len(), 1);
    let md = &parts[0];
    balanced(md);
    assert!(!md.contains("Ghost"), "a review for an address not in the plan is ignored");
    // The review sits inside the Data sources block, right after the action's lines.
    let ds_block = md.split("<details><summary>Data sources").nth(1).unwrap().split("</details>").next().unwrap();
    assert!(ds_block.contains(
        "~     marker: \"tabops.sha256.3fa90000000000000000000000000000\" -> \"tabops.sha256.b47d951b5e458dd6133164da29f8837b\"\n```\n\n**Content review** of `datasource:Sales/Orders`:\n\n- Calculated field changed: `Profit Ratio`\n"
    ), "{ds_block}");
    // In the workbooks block the fence reopens after the review for the next action.
    let wb_block = md.split("<details><summary>Workbooks").nth(1).unwrap().split("</details>").next().unwrap();
    assert!(
        wb_block.contains("- Worksheet added: `Discount Impact`\n\n```diff\n- workbook:Sales/Scratchpad\n"),
        "{wb_block}"
    );
    insta::assert_snapshot!("markdown_with_reviews", md);
}

#[test]
fn markdown_without_reviews_is_unchanged() {
    let (_, _, p) = realistic();
    let none = BTreeMap::new();
    assert_eq!(render::markdown_with_reviews(&p, &none, render::MARKDOWN_PART_LIMIT), render::markdown(&p));
    assert_eq!(render::markdown_with_reviews(&p, &none, 8_000), render::markdown_with_limit(&p, 8_000));
}

#[test]
fn oversized_review_is_cut_with_its_fence_closed() {
    let (_, _, p) = realistic();
    let mut review = String::from("- Calculated field changed: `Huge`\n  ```diff\n");
    for i in 0..2_000 {
        review.push_str(&format!("  +IF [Field {i}] > {i} THEN 'over' ELSE 'under' END\n"));
    }
    review.push_str("  ```\n");
    let mut reviews = BTreeMap::new();
    reviews.insert("workbook:Sales/EMEA/Revenue".to_string(), review);
    let limit = 8_000;
    let parts = render::markdown_with_reviews(&p, &reviews, limit);
    for part in &parts {
        assert!(part.len() <= limit, "part is {} chars", part.len());
        balanced(part);
    }
    let all = parts.concat();
    assert!(all.contains("_(review truncated to fit the comment)_"));
    assert!(all.contains("  +IF [Field 0] > 0 THEN 'over' ELSE 'under' END\n"));
    assert!(!all.contains("[Field 1999]"));
    // Every action is still there.
    for a in p.actions.iter().filter(|a| a.action != tabops_plan::Action::NoOp) {
        assert!(all.contains(&a.id), "{} missing", a.id);
    }
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
    let part = render::markdown(&hostile()).concat();
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
