//! The site settings the emulated site keeps: what Update Site (`PUT /sites/{id}`) changes and Get Site reports,
//! as `<site>` attributes. The emulator's own table (it shares no types with the client): the attributes are
//! `siteType`'s in ts-api_3_29.xsd that a site administrator can change on Tableau Cloud (docs/tableau-cloud.md,
//! "Site settings"); the revision limit's range (2 to 10000, or -1 for no limit) is tableauserverclient's
//! (`SiteItem.revision_limit`). Booleans are read case-insensitively, because tableauserverclient writes
//! `dataAlertsEnabled` with Python's spelling (`True`, `server/request_factory.py`); they are stored and reported
//! in lower case, as Tableau writes them.

use std::collections::BTreeMap;

use crate::error::{ApiError, ApiResult};
use crate::xml::Node;

#[derive(Clone, Copy)]
enum Kind {
    Bool,
    RevisionLimit,
}

/// (attribute, kind, value of a new site).
const SETTINGS: &[(&str, Kind, &str)] = &[
    ("revisionHistoryEnabled", Kind::Bool, "true"),
    ("revisionLimit", Kind::RevisionLimit, "25"),
    ("disableSubscriptions", Kind::Bool, "false"),
    ("subscribeOthersEnabled", Kind::Bool, "true"),
    ("allowSubscriptionAttachments", Kind::Bool, "true"),
    ("commentingEnabled", Kind::Bool, "true"),
    ("commentingMentionsEnabled", Kind::Bool, "true"),
    ("dataAlertsEnabled", Kind::Bool, "true"),
    ("requestAccessEnabled", Kind::Bool, "true"),
    ("runNowEnabled", Kind::Bool, "true"),
    ("sheetImageEnabled", Kind::Bool, "true"),
    ("namedSharingEnabled", Kind::Bool, "true"),
    ("mobileBiometricsEnabled", Kind::Bool, "false"),
    ("webExtractionEnabled", Kind::Bool, "true"),
    ("catalogingEnabled", Kind::Bool, "true"),
    ("derivedPermissionsEnabled", Kind::Bool, "false"),
    ("editingFlowsEnabled", Kind::Bool, "true"),
    ("schedulingFlowsEnabled", Kind::Bool, "true"),
    ("flowAutoSaveEnabled", Kind::Bool, "true"),
    ("notifySiteAdminsOnThrottle", Kind::Bool, "false"),
    ("attributeCaptureEnabled", Kind::Bool, "false"),
    ("autoSuspendRefreshEnabled", Kind::Bool, "true"),
];

/// The settings of a new site (also of a state saved before settings were emulated).
pub fn defaults() -> BTreeMap<String, String> {
    SETTINGS.iter().map(|(attribute, _, value)| ((*attribute).to_owned(), (*value).to_owned())).collect()
}

/// The settings an Update Site body asks for, checked; every one valid or none applied. Attributes that are not
/// settings (the site's name and content URL, Server-only attributes tableauserverclient sends back as it read
/// them) are not looked at here.
pub fn update(current: &BTreeMap<String, String>, site: &Node) -> ApiResult<BTreeMap<String, String>> {
    let mut next = current.clone();
    for (attribute, kind, _) in SETTINGS {
        let Some(value) = site.attr(attribute) else { continue };
        let value = value.trim();
        let stored = match kind {
            Kind::Bool if value.eq_ignore_ascii_case("true") => "true".to_owned(),
            Kind::Bool if value.eq_ignore_ascii_case("false") => "false".to_owned(),
            Kind::Bool => {
                return Err(ApiError::bad_request(format!(
                    "'{value}' is not a valid value for {attribute}: use true or false."
                )));
            }
            Kind::RevisionLimit => match value.parse::<i64>() {
                Ok(n) if n == -1 || (2..=10000).contains(&n) => n.to_string(),
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "'{value}' is not a valid value for {attribute}: use a number from 2 to 10000, or -1 for no limit."
                    )));
                }
            },
        };
        next.insert((*attribute).to_owned(), stored);
    }
    Ok(next)
}

/// The settings in the order the table lists them (Get Site writes them so).
pub fn ordered(settings: &BTreeMap<String, String>) -> impl Iterator<Item = (&'static str, &str)> + '_ {
    SETTINGS.iter().filter_map(|(attribute, _, _)| settings.get(*attribute).map(|v| (*attribute, v.as_str())))
}
