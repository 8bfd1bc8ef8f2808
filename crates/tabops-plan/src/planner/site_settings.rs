//! Site settings: the settings `site.settings:` writes, compared with the site's (Get Site). Only the settings the
//! manifest writes are managed; one Update Site carries every one that differs. Settings are never deleted: a
//! setting removed from the manifest is no longer managed and keeps its value on the site.

use std::collections::BTreeMap;

use tabops_manifest::model::Address;

use crate::inventory::SITE_SETTINGS_ROW_KEY;
use crate::origin::site_settings_digest;
use crate::plan::{Action, Aspect, FieldChange, ObjectKind, Operation, Origin, PlannedAction};
use tabops_manifest::site_settings::by_key;

use super::{Ctx, Draft, val};

pub(super) fn plan_site_settings(cx: &Ctx<'_>, draft: &mut Draft) {
    let desired = &cx.desired.site_settings;
    if desired.is_empty() {
        return;
    }
    let empty = BTreeMap::new();
    let live = cx.live.site.settings.as_ref().unwrap_or(&empty);
    draft.record_row(SITE_SETTINGS_ROW_KEY, live);
    let mut changes = Vec::new();
    let mut attributes = BTreeMap::new();
    for (key, want) in desired {
        let have = live.get(key);
        if have == Some(want) {
            continue;
        }
        changes.push(FieldChange::new(key.clone(), have.and_then(val), val(want)));
        if let Some(setting) = by_key(key) {
            attributes.insert(setting.attribute.to_owned(), want.wire());
        }
    }
    if changes.is_empty() {
        return;
    }
    let address = Address::site(cx.desired.site.content_url.as_str());
    let names: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
    draft.push(PlannedAction {
        id: address.to_string(),
        kind: ObjectKind::SiteSettings,
        action: Action::Update,
        reason: format!("site settings differ: {}", names.join(", ")),
        changes,
        depends_on: Vec::new(),
        live_id: Some(cx.live.site.id.clone()),
        origin: Origin { address, aspect: Aspect::SiteSettings, digest: Some(site_settings_digest(desired)) },
        operation: Operation::UpdateSiteSettings { attributes },
    });
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use tabops_manifest::site_settings::SettingValue;

    use crate::inventory::{Inventory, LiveSite};
    use crate::plan::{Action, ObjectKind, Operation};
    use crate::planner::{PlanOptions, plan};

    fn desired(settings: &[(&str, SettingValue)]) -> tabops_manifest::model::Desired {
        let mut d = empty();
        d.site_settings = settings.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
        d
    }

    fn empty() -> tabops_manifest::model::Desired {
        use tabops_manifest::model::{Desired, Server, Settings, SiteTarget};
        Desired {
            site: SiteTarget { server: Server::Local, content_url: "acme".into(), api_version: None },
            site_settings: BTreeMap::new(),
            settings: Settings::default(),
            projects: vec![],
            groups: vec![],
            users: vec![],
            datasources: vec![],
            workbooks: vec![],
            subscriptions: vec![],
            webhooks: vec![],
            manifest_digest: String::new(),
            locations: BTreeMap::new(),
        }
    }

    fn live(settings: Option<&[(&str, SettingValue)]>) -> Inventory {
        let settings = settings.map(|s| s.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect());
        Inventory { site: LiveSite { id: "site-1".into(), content_url: "acme".into(), settings }, ..Default::default() }
    }

    use SettingValue::{Bool, Int};

    #[test]
    fn only_the_written_settings_that_differ_are_updated_in_one_action() {
        let d = desired(&[("revision_limit", Int(50)), ("commenting_enabled", Bool(true))]);
        let l = live(Some(&[
            ("revision_limit", Int(25)),
            ("commenting_enabled", Bool(true)),
            ("run_now_enabled", Bool(false)),
        ]));
        let p = plan(&d, &l, &PlanOptions::default());
        assert_eq!(p.actions.len(), 1, "{:#?}", p.actions);
        let a = &p.actions[0];
        assert_eq!((a.id.as_str(), a.kind, a.action), ("site:acme", ObjectKind::SiteSettings, Action::Update));
        assert_eq!(a.changes.len(), 1);
        assert_eq!(a.changes[0].field, "revision_limit");
        assert_eq!(a.changes[0].before, Some(serde_json::json!(25)));
        assert_eq!(a.changes[0].after, Some(serde_json::json!(50)));
        let Operation::UpdateSiteSettings { attributes } = &a.operation else { panic!("{:?}", a.operation) };
        assert_eq!(attributes, &BTreeMap::from([("revisionLimit".to_owned(), "50".to_owned())]));
        assert!(p.inputs.inventory_rows.contains_key("site_settings"));
    }

    #[test]
    fn equal_settings_plan_nothing_and_no_settings_read_nothing() {
        let d = desired(&[("data_alerts_enabled", Bool(false))]);
        let p = plan(&d, &live(Some(&[("data_alerts_enabled", Bool(false))])), &PlanOptions::default());
        assert!(p.actions.is_empty(), "{:#?}", p.actions);
        let none = plan(&empty(), &live(None), &PlanOptions::default());
        assert!(none.actions.is_empty());
        assert!(!none.inputs.inventory_rows.contains_key("site_settings"));
    }

    #[test]
    fn a_setting_the_site_did_not_report_is_set() {
        let d = desired(&[("request_access_enabled", Bool(true))]);
        let p = plan(&d, &live(Some(&[])), &PlanOptions::default());
        assert_eq!(p.actions.len(), 1);
        assert_eq!(p.actions[0].changes[0].before, None);
        assert_eq!(p.actions[0].changes[0].after, Some(serde_json::json!(true)));
    }
}
