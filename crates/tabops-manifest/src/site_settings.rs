//! The site settings `site.settings:` manages: the attributes of a Tableau Cloud site that a site administrator
//! can change through Update Site (`PUT /api/{v}/sites/{site-id}`), each with its manifest key, its attribute on
//! the wire (`<site revisionLimit="25" …/>`) and its type.
//!
//! Sources (see docs/tableau-cloud.md, "Site settings"): the attributes are `siteType`'s in ts-api_3_29.xsd
//! (tableau/rest-api-samples) and those tableauserverclient sends in `SiteRequest.update_req`
//! (`server/request_factory.py`); attributes the REST reference marks Tableau Server only (`adminMode`,
//! `userQuota`, `storageQuota`, `guestAccessEnabled`, `cacheWarmupEnabled`, `dataAccelerationMode`,
//! `extractEncryptionMode`, the `tier*Capacity` licence counts) and the site's identity and state (`name`,
//! `contentUrl`, `state`) are left out. The revision limit's range is tableauserverclient's
//! (`SiteItem.revision_limit`: 2 to 10000, or -1 for no limit).

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a setting holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingType {
    /// `true` / `false`.
    Bool,
    /// A number of revisions: 2 to 10000, or -1 for no limit.
    RevisionLimit,
}

/// One managed site setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SiteSetting {
    /// The key under `site.settings:` (`revision_limit`).
    pub key: &'static str,
    /// The `site` attribute on the wire (`revisionLimit`).
    pub attribute: &'static str,
    pub kind: SettingType,
}

const fn flag(key: &'static str, attribute: &'static str) -> SiteSetting {
    SiteSetting { key, attribute, kind: SettingType::Bool }
}

/// Every setting `site.settings:` accepts, in the order the docs list them.
pub const SITE_SETTINGS: &[SiteSetting] = &[
    flag("revision_history_enabled", "revisionHistoryEnabled"),
    SiteSetting { key: "revision_limit", attribute: "revisionLimit", kind: SettingType::RevisionLimit },
    flag("disable_subscriptions", "disableSubscriptions"),
    flag("subscribe_others_enabled", "subscribeOthersEnabled"),
    flag("allow_subscription_attachments", "allowSubscriptionAttachments"),
    flag("commenting_enabled", "commentingEnabled"),
    flag("commenting_mentions_enabled", "commentingMentionsEnabled"),
    flag("data_alerts_enabled", "dataAlertsEnabled"),
    flag("request_access_enabled", "requestAccessEnabled"),
    flag("run_now_enabled", "runNowEnabled"),
    flag("sheet_image_enabled", "sheetImageEnabled"),
    flag("named_sharing_enabled", "namedSharingEnabled"),
    flag("mobile_biometrics_enabled", "mobileBiometricsEnabled"),
    flag("web_extraction_enabled", "webExtractionEnabled"),
    flag("cataloging_enabled", "catalogingEnabled"),
    flag("derived_permissions_enabled", "derivedPermissionsEnabled"),
    flag("editing_flows_enabled", "editingFlowsEnabled"),
    flag("scheduling_flows_enabled", "schedulingFlowsEnabled"),
    flag("flow_auto_save_enabled", "flowAutoSaveEnabled"),
    flag("notify_site_admins_on_throttle", "notifySiteAdminsOnThrottle"),
    flag("attribute_capture_enabled", "attributeCaptureEnabled"),
    flag("auto_suspend_refresh_enabled", "autoSuspendRefreshEnabled"),
];

/// The revision limit meaning "keep every revision".
pub const UNLIMITED_REVISIONS: i64 = -1;
/// The smallest and largest finite revision limit.
pub const REVISION_LIMIT_RANGE: (i64, i64) = (2, 10000);

/// The setting with this manifest key.
pub fn by_key(key: &str) -> Option<&'static SiteSetting> {
    SITE_SETTINGS.iter().find(|s| s.key == key)
}

/// The setting with this wire attribute.
pub fn by_attribute(attribute: &str) -> Option<&'static SiteSetting> {
    SITE_SETTINGS.iter().find(|s| s.attribute == attribute)
}

/// A setting's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SettingValue {
    Bool(bool),
    Int(i64),
}

impl SettingValue {
    /// The attribute value on the wire (`true`, `25`).
    pub fn wire(self) -> String {
        match self {
            SettingValue::Bool(b) => b.to_string(),
            SettingValue::Int(i) => i.to_string(),
        }
    }
}

impl fmt::Display for SettingValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.wire())
    }
}

impl SiteSetting {
    /// A wire value read back from Get Site (`true`/`True`, `25`); `None` when it is not one of this setting's.
    pub fn parse_wire(&self, text: &str) -> Option<SettingValue> {
        match self.kind {
            SettingType::Bool => match text.trim().to_ascii_lowercase().as_str() {
                "true" => Some(SettingValue::Bool(true)),
                "false" => Some(SettingValue::Bool(false)),
                _ => None,
            },
            SettingType::RevisionLimit => text.trim().parse().ok().map(SettingValue::Int),
        }
    }

    /// Why `value` is not a value of this setting; `None` when it is.
    pub fn check(&self, value: SettingValue) -> Option<(String, String)> {
        match (self.kind, value) {
            (SettingType::Bool, SettingValue::Bool(_)) => None,
            (SettingType::Bool, SettingValue::Int(i)) => {
                Some((format!("`{}` is `true` or `false`, not {i}", self.key), "write `true` or `false`".into()))
            }
            (SettingType::RevisionLimit, SettingValue::Int(i)) => {
                let (min, max) = REVISION_LIMIT_RANGE;
                (i != UNLIMITED_REVISIONS && !(min..=max).contains(&i)).then(|| {
                    (
                        format!("`{}` is {i}, outside what Tableau accepts", self.key),
                        format!("a revision limit is {min} to {max}, or {UNLIMITED_REVISIONS} to keep every revision"),
                    )
                })
            }
            (SettingType::RevisionLimit, SettingValue::Bool(b)) => Some((
                format!("`{}` is a number of revisions, not `{b}`", self.key),
                format!("write a number from {} to {}, or -1", REVISION_LIMIT_RANGE.0, REVISION_LIMIT_RANGE.1),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_attributes_are_unique_and_found_both_ways() {
        for s in SITE_SETTINGS {
            assert_eq!(by_key(s.key), Some(s));
            assert_eq!(by_attribute(s.attribute), Some(s));
        }
    }

    #[test]
    fn revision_limits_follow_the_documented_range() {
        let limit = by_key("revision_limit").unwrap();
        for ok in [-1, 2, 25, 10000] {
            assert_eq!(limit.check(SettingValue::Int(ok)), None, "{ok}");
        }
        for bad in [-2, 0, 1, 10001] {
            assert!(limit.check(SettingValue::Int(bad)).is_some(), "{bad}");
        }
    }

    #[test]
    fn wire_values_parse_as_tableau_and_tsc_write_them() {
        let flag = by_key("data_alerts_enabled").unwrap();
        // tableauserverclient writes dataAlertsEnabled with Python's spelling (`True`).
        assert_eq!(flag.parse_wire("True"), Some(SettingValue::Bool(true)));
        assert_eq!(flag.parse_wire("false"), Some(SettingValue::Bool(false)));
        assert_eq!(flag.parse_wire("yes"), None);
        assert_eq!(by_key("revision_limit").unwrap().parse_wire("25"), Some(SettingValue::Int(25)));
    }
}
