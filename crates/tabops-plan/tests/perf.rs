//! The planner scales: 10,000 workbooks in 2,000 projects plan in one pass of hash lookups.
#![allow(clippy::print_stderr)] // the test prints its timing by design (no wall-clock assertion)

use tabops_testkit::model as common;

use std::time::Instant;

use common::*;
use tabops_manifest::model::*;
use tabops_plan::{PlanOptions, plan};
use tabops_testkit::synthetic::{Scale, SyntheticSite};

#[test]
fn plans_ten_thousand_workbooks_in_two_thousand_projects() {
    // The test kit's synthetic site: 2,000 projects two levels deep, 10,000 workbooks spread over them.
    let scale = Scale {
        projects: 2000,
        max_depth: 2,
        workbooks: 10_000,
        datasources: 0,
        users: 2,
        groups: 2,
        members_per_group: 1,
        refresh_tasks: 0,
    };
    let mut desired = SyntheticSite::new(scale, 42).desired();
    desired.users.push(user("owner@acme.com", Some(SiteRole::Creator)));
    desired.groups.push(group("Readers", None));
    for wb in &mut desired.workbooks {
        wb.owner = Some("owner@acme.com".into());
        wb.tags = Some(["t".to_string()].into());
        wb.permissions = Some(vec![viewer_wb("Readers")]);
        wb.description = None;
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
