//! Impact analysis on plain values: which data source changes are affected, which downstream workbooks count as
//! managed, and the refusal of a delete that breaks workbooks the manifest does not manage.

use std::collections::BTreeMap;

use tabops_testkit::model as common;

use common::*;
use tabops_plan::impact::{self, DatasourceChange, DownstreamWorkbook, Lineage, LineageSource};
use tabops_plan::plan::PlanErrorKind;
use tabops_plan::{PlanOptions, plan};

const ORDERS: &str = "datasource:Sales/Orders";

fn lineage(orders_id: &str, workbooks: &[(&str, &str)]) -> Lineage {
    let downstream = workbooks
        .iter()
        .map(|(id, name)| DownstreamWorkbook { id: (*id).into(), name: (*name).into(), project: None, owner: None })
        .collect();
    Lineage {
        source: LineageSource::MetadataApi,
        fallback_reason: None,
        requests: 1,
        downstream: BTreeMap::from([(orders_id.to_owned(), downstream)]),
    }
}

#[test]
fn a_plan_without_data_source_changes_has_nothing_to_read() {
    let desired = enterprise();
    let live = converged(&desired);
    let p = plan(&desired, &live, &PlanOptions::default());
    assert!(impact::affected_datasources(&p).is_empty());
    assert!(p.impact.is_none());
}

#[test]
fn downstream_workbooks_are_managed_or_not_and_a_workbook_the_plan_deletes_is_left_out() {
    let mut desired = enterprise();
    let mut live = converged(&desired);
    // An unmanaged workbook in Finance (no prune there), and one in Sales, which prunes: the plan deletes it.
    live.workbooks.push(live_content("wb-ops", "Ops Board", &id_of("p", "Finance")));
    live.workbooks.push(live_content("wb-stray", "Stray", &id_of("p", "Sales")));
    let file = &mut desired.datasources[0].file;
    (file.sha256, file.file_sha256) = ("9".repeat(64), "9".repeat(64));
    let mut p = plan(&desired, &live, &PlanOptions::default());

    let affected = impact::affected_datasources(&p);
    assert_eq!(affected.len(), 1);
    assert_eq!((affected[0].address.as_str(), affected[0].change), (ORDERS, DatasourceChange::Republish));
    let revenue = id_of("workbook", "workbook:Sales/EMEA/Revenue");
    let lineage = lineage(&affected[0].id, &[("wb-ops", "Ops Board"), (&revenue, "Revenue"), ("wb-stray", "Stray")]);
    impact::attach(&mut p, &affected, &lineage, &live, false);

    let impact = p.impact.as_ref().expect("an impact section");
    let rows: Vec<(&str, bool)> =
        impact.datasources[0].workbooks.iter().map(|w| (w.address.as_str(), w.managed)).collect();
    assert_eq!(rows, [("workbook:Finance/Ops Board", false), ("workbook:Sales/EMEA/Revenue", true)]);
    // The owner comes from the inventory when the lineage does not name one.
    assert_eq!(impact.datasources[0].workbooks[1].owner.as_deref(), Some("alice@acme.com"));
    // A republish breaks nothing: no refusal.
    assert!(p.applyable, "{:?}", p.errors);
}

#[test]
fn a_delete_used_by_unmanaged_workbooks_is_refused_unless_allowed() {
    let mut desired = enterprise();
    let live = converged(&desired);
    desired.datasources.clear();
    let mut live = live;
    live.workbooks.push(live_content("wb-ops", "Ops Board", &id_of("p", "Finance")));
    let base = plan(&desired, &live, &PlanOptions::default());
    let affected = impact::affected_datasources(&base);
    assert_eq!(affected.len(), 1);
    assert_eq!(affected[0].change, DatasourceChange::Delete);
    let revenue = id_of("workbook", "workbook:Sales/EMEA/Revenue");

    // Only managed workbooks use it: nothing to refuse.
    let mut p = base.clone();
    impact::attach(&mut p, &affected, &lineage(&affected[0].id, &[(&revenue, "Revenue")]), &live, false);
    assert!(!p.errors.iter().any(|e| e.kind == PlanErrorKind::BreaksWorkbooks), "{:?}", p.errors);

    let used = lineage(&affected[0].id, &[(&revenue, "Revenue"), ("wb-ops", "Ops Board")]);
    let mut refused = base.clone();
    impact::attach(&mut refused, &affected, &used, &live, false);
    let error = refused.errors.iter().find(|e| e.kind == PlanErrorKind::BreaksWorkbooks).expect("a refusal");
    assert_eq!(error.address, ORDERS);
    assert_eq!(
        error.message,
        "refusing to delete datasource:Sales/Orders: 1 workbook the manifest does not manage uses it: \
         workbook:Finance/Ops Board"
    );
    assert!(!refused.applyable && refused.errored);
    assert_eq!(refused.summary.errors, base.summary.errors + 1);

    let mut allowed = base.clone();
    impact::attach(&mut allowed, &affected, &used, &live, true);
    assert!(!allowed.errors.iter().any(|e| e.kind == PlanErrorKind::BreaksWorkbooks));
    assert_eq!(allowed.applyable, base.applyable);
}
