//! The connection passwords an apply will send. Plans are made without secrets (`plan` and `drift` only show
//! `${env:NAME}`), so an apply is the first point that needs their values, and it checks for all of them before its
//! first write.

use std::collections::{BTreeMap, BTreeSet};

use tabops_plan::Plan;
use tabops_plan::plan::Operation;

/// The variables named by the plan's connection passwords (`${env:NAME}`) that `environment` does not set, each
/// with the ids of the actions that need it. Empty counts as unset, as in the manifest loader (GitHub expands an
/// undefined secret to "").
pub fn missing_passwords(plan: &Plan, environment: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut missing: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let lookup = |name: &str| environment.get(name).filter(|value| !value.is_empty()).cloned();
    for action in plan.changes() {
        let Operation::Publish(publish) = &action.operation else { continue };
        for password in publish.connections.iter().filter_map(|c| c.password.as_ref()) {
            if password.resolve(lookup).is_none_or(|secret| secret.expose().is_empty()) {
                let reference = password.reference();
                let name = reference.strip_prefix("${env:").and_then(|r| r.strip_suffix('}')).unwrap_or(&reference);
                missing.entry(name.to_owned()).or_default().insert(action.id.clone());
            }
        }
    }
    missing
}
