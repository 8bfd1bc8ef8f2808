//! What the executor's tests share: planning a manifest directory against a site as `tabops plan` does.

use std::path::Path;

use tabops_plan::{Plan, PlanOptions};
use tabops_tableau::Client;

/// Loads the manifest, reads the site with the inventory fetch and plans, as `tabops plan` does.
pub async fn plan(client: &Client, dir: &Path) -> Plan {
    let options = tabops_manifest::LoadOptions { hash_content: true, ..Default::default() };
    let loaded = tabops_manifest::load(dir, &options).expect("the manifest loads");
    let live = tabops_apply::inventory::fetch(client, &loaded.desired).await.expect("the inventory is read");
    let plan = tabops_plan::plan(&loaded.desired, &live, &PlanOptions::default());
    assert!(plan.applyable, "{:?}", plan.errors);
    plan
}
