//! `site.settings:` as written: one optional, typed key per managed site setting (the catalogue is
//! [`crate::site_settings::SITE_SETTINGS`]; a test keeps the two lists equal).

use schemars::JsonSchema;

use super::Located;
use super::read::{FromNode, Reader};
use crate::node::Node;
use crate::site_settings::SettingValue;

macro_rules! raw_site_settings {
    ($($(#[$meta:meta])* $key:ident: $ty:ty),* $(,)?) => {
        /// Site settings a site administrator can change on Tableau Cloud (Update Site). Only the settings written
        /// here are managed; the others are left as the site has them.
        #[derive(Debug, Clone, Default, JsonSchema)]
        #[schemars(deny_unknown_fields)]
        pub struct RawSiteSettings {
            $($(#[$meta])* pub $key: Option<Located<$ty>>,)*
        }

        impl RawSiteSettings {
            pub const KEYS: &'static [&'static str] = &[$(stringify!($key)),*];

            /// The settings written, in catalogue order, with where each was written.
            pub fn values(&self) -> Vec<(&'static str, Located<SettingValue>)> {
                let mut out = Vec::new();
                $(if let Some(v) = &self.$key {
                    out.push((stringify!($key), v.map(|x| SettingValue::from(*x))));
                })*
                out
            }
        }

        impl FromNode for RawSiteSettings {
            fn from_node(node: &Node, r: &mut Reader, field: &str) -> Option<Self> {
                let m = r.map(node, field, "site settings", Self::KEYS)?;
                Some(RawSiteSettings { $($key: m.opt(r, stringify!($key)),)* })
            }
        }
    };
}

impl From<bool> for SettingValue {
    fn from(b: bool) -> Self {
        SettingValue::Bool(b)
    }
}

impl From<i32> for SettingValue {
    fn from(i: i32) -> Self {
        SettingValue::Int(i64::from(i))
    }
}

raw_site_settings! {
    /// Keep earlier versions of workbooks, data sources and flows (`revisionHistoryEnabled`).
    revision_history_enabled: bool,
    /// How many revisions to keep: 2 to 10000, or -1 for no limit (`revisionLimit`).
    #[schemars(extend("anyOf" = [{"const": -1}, {"minimum": 2, "maximum": 10000}]))]
    revision_limit: i32,
    /// Turn subscriptions off for the whole site (`disableSubscriptions`).
    disable_subscriptions: bool,
    /// Let content owners subscribe other users (`subscribeOthersEnabled`).
    subscribe_others_enabled: bool,
    /// Let subscriptions carry image and PDF attachments (`allowSubscriptionAttachments`).
    allow_subscription_attachments: bool,
    /// Comments on views (`commentingEnabled`).
    commenting_enabled: bool,
    /// @mentions in comments (`commentingMentionsEnabled`).
    commenting_mentions_enabled: bool,
    /// Data-driven alerts (`dataAlertsEnabled`).
    data_alerts_enabled: bool,
    /// Let users ask for access to content (`requestAccessEnabled`).
    request_access_enabled: bool,
    /// Let users run extract refreshes and flows now (`runNowEnabled`).
    run_now_enabled: bool,
    /// Sheet images in emails and the API (`sheetImageEnabled`).
    sheet_image_enabled: bool,
    /// Show who content is shared with by name (`namedSharingEnabled`).
    named_sharing_enabled: bool,
    /// Biometric sign-in for Tableau Mobile (`mobileBiometricsEnabled`).
    mobile_biometrics_enabled: bool,
    /// Let web authors create extracts (`webExtractionEnabled`).
    web_extraction_enabled: bool,
    /// Tableau Catalog (Data Management) on the site (`catalogingEnabled`).
    cataloging_enabled: bool,
    /// Derived permissions for Catalog metadata (`derivedPermissionsEnabled`).
    derived_permissions_enabled: bool,
    /// Flow editing in the browser (`editingFlowsEnabled`).
    editing_flows_enabled: bool,
    /// Scheduled flow runs (`schedulingFlowsEnabled`).
    scheduling_flows_enabled: bool,
    /// Auto-save of flows edited in the browser (`flowAutoSaveEnabled`).
    flow_auto_save_enabled: bool,
    /// Email site administrators when jobs are throttled (`notifySiteAdminsOnThrottle`).
    notify_site_admins_on_throttle: bool,
    /// Capture user attributes for row-level security (`attributeCaptureEnabled`).
    attribute_capture_enabled: bool,
    /// Suspend refreshes of content nobody views (`autoSuspendRefreshEnabled`).
    auto_suspend_refresh_enabled: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site_settings::SITE_SETTINGS;

    #[test]
    fn the_raw_keys_are_the_catalogue() {
        let catalogue: Vec<&str> = SITE_SETTINGS.iter().map(|s| s.key).collect();
        assert_eq!(RawSiteSettings::KEYS, catalogue.as_slice());
    }
}
