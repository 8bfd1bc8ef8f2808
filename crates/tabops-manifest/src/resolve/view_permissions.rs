//! `view_permissions:` of a workbook resolved: per sheet, the complete explicit rules of that view. Tableau applies
//! permissions to single views only when the workbook does not show its sheets as tabs (help: permissions on
//! views); a workbook that shows tabs, or does not say (`show_tabs` unset leaves the site's value, which may be
//! tabs), gets a problem at `view_permissions`, with the fix as its hint.

use std::collections::BTreeMap;

use super::Cx;
use super::permissions::resolve_rules;
use crate::model::{GranteeRules, PermissionTarget};
use crate::raw::{Located, RawViewPermissions};

pub fn view_permissions(
    cx: &mut Cx<'_>,
    raw: Option<&Located<RawViewPermissions>>,
    show_tabs: Option<&Located<bool>>,
) -> BTreeMap<String, Vec<GranteeRules>> {
    let Some(raw) = raw else { return BTreeMap::new() };
    match show_tabs.map(|b| b.value) {
        Some(false) => {}
        Some(true) => cx.problems.push(raw.problem(
            "view permissions on a workbook that shows its sheets as tabs: Tableau ignores them (the workbook's rules apply)",
            Some("set `show_tabs: false` on the workbook, or write the rules under its `permissions`".into()),
        )),
        None => cx.problems.push(raw.problem(
            "view permissions need a workbook that does not show tabs, and this one does not say",
            Some("add `show_tabs: false` to the workbook (Tableau applies view permissions only then)".into()),
        )),
    }
    let mut out = BTreeMap::new();
    for (sheet, rules) in &raw.value {
        if sheet.trim().is_empty() {
            cx.problems.push(raw.problem("a view in `view_permissions` has an empty sheet name", None));
            continue;
        }
        out.insert(sheet.clone(), resolve_rules(cx, rules, PermissionTarget::View));
    }
    out
}
