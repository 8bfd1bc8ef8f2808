//! `site.settings:` resolved: each written setting checked against what Tableau accepts for it (the revision
//! limit's range), into the map the planner compares with the site's.

use std::collections::BTreeMap;

use super::Cx;
use crate::raw::{Located, RawSite};
use crate::site_settings::{SettingValue, by_key};

/// The settings `raw` writes, by manifest key; a value Tableau would refuse is a problem at that value.
pub fn site_settings(cx: &mut Cx<'_>, raw: &Located<RawSite>) -> BTreeMap<String, SettingValue> {
    let mut out = BTreeMap::new();
    let Some(settings) = &raw.value.settings else { return out };
    for (key, value) in settings.value.values() {
        // Every raw key is in the catalogue (a unit test keeps them equal).
        let Some(setting) = by_key(key) else { continue };
        match setting.check(value.value) {
            Some((message, hint)) => cx.problems.push(value.problem(message, Some(hint))),
            None => {
                out.insert(key.to_owned(), value.value);
            }
        }
    }
    out
}
