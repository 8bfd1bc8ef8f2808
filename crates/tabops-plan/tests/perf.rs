//! The planner scales: 10,000 workbooks in 2,000 projects plan in one pass of hash lookups.
#![allow(clippy::print_stderr)] // the test prints its timing by design (no wall-clock assertion)

mod common;

use std::time::Instant;

use common::*;
use tabops_manifest::model::*;
use tabops_plan::{PlanOptions, plan};

#[test]
fn plans_ten_thousand_workbooks_in_two_thousand_projects() {
    let mut desired = empty_desired();
    desired.users.push(user("owner@acme.com", Some(SiteRole::Creator)));
    desired.groups.push(group("Readers", None));
    for top in 0..40 {
        desired.projects.push(project(&format!("Dept {top}")));
    }
    for top in 0..40 {
        for sub in 0..49 {
            desired.projects.push(project(&format!("Dept {top}/Team {sub}")));
        }
    }
    desired.projects.truncate(2000);
    let leaf_paths: Vec<String> = desired.projects.iter().map(|p| p.path.to_string()).collect();
    for i in 0..10_000 {
        let p = &leaf_paths[i % leaf_paths.len()];
        let mut wb = content(
            ContentKind::Workbook,
            &format!("Workbook {i}"),
            p,
            file("w.twbx", &format!("{:02x}", i % 256), 10),
        );
        wb.owner = Some("owner@acme.com".into());
        wb.tags = Some(["t".to_string()].into());
        wb.permissions = Some(vec![viewer_wb("Readers")]);
        desired.workbooks.push(wb);
    }
    let mut live = converged(&desired);
    // Drift on 1% of the items so the plan has work to do.
    for wb in live.workbooks.iter_mut().step_by(100) {
        wb.description = Some("changed on the site".into());
    }
    let start = Instant::now();
    let p = plan(&desired, &live, &PlanOptions::default());
    let elapsed = start.elapsed();
    eprintln!("planned {} workbooks in {} projects in {elapsed:?}", desired.workbooks.len(), desired.projects.len());
    assert!(p.applyable, "{:?}", p.errors.first());
    assert_eq!(p.changes().count(), 0, "descriptions are unmanaged here, so nothing changes");
    // Now manage descriptions: exactly the drifted 1% change.
    for wb in &mut desired.workbooks {
        wb.description = Some(String::new());
    }
    let mut live = converged(&desired);
    for wb in live.workbooks.iter_mut().step_by(100) {
        wb.description = Some("changed on the site".into());
    }
    let start = Instant::now();
    let p = plan(&desired, &live, &PlanOptions::default());
    eprintln!("planned again with 100 changes in {:?}", start.elapsed());
    assert_eq!(p.changes().count(), 100);
    assert_eq!(p.waves().len(), 1);
}
