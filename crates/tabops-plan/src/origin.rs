//! Digests of the parts ("aspects") of manifest objects.
//!
//! Every planned action records which aspect of which manifest object it comes from, with that aspect's digest in
//! the desired state. Drift classification recomputes the digest in a baseline manifest (the one last applied): equal
//! digests mean the manifest did not change there, so the difference was made on the site.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};
use tabops_manifest::model::{Address, ContentSpec, Desired, GroupSpec, ProjectSpec, UserSpec, WebhookSpec};
use tabops_manifest::site_settings::SettingValue;

use crate::marker::publish_fingerprint;
use crate::plan::Aspect;

/// sha256 (hex) of a value's JSON, serialised straight into the hasher (it is an `io::Write`).
fn digest_of<T: Serialize + ?Sized>(value: &T) -> String {
    let mut hasher = Sha256::new();
    // Writing into a hasher cannot fail, and these values have string keys only.
    let _ = serde_json::to_writer(&mut hasher, value);
    hex::encode(hasher.finalize())
}

pub fn user_digest(spec: &UserSpec) -> String {
    digest_of(spec)
}

// The `Fields` digests below destructure their spec exhaustively: a field added to a spec does not compile until
// it is given to an aspect here, so no change can go unnoticed by drift classification.

pub fn group_digest(spec: &GroupSpec, aspect: Aspect) -> String {
    let GroupSpec { name, minimum_site_role, members, protect, renamed_from } = spec;
    match aspect {
        Aspect::Members => digest_of(members),
        _ => digest_of(&(name, minimum_site_role, protect, renamed_from)),
    }
}

pub fn project_digest(spec: &ProjectSpec, aspect: Aspect) -> String {
    let ProjectSpec {
        path,
        description,
        content_permissions,
        owner,
        prune,
        protect,
        renamed_from,
        permissions,
        default_permissions,
    } = spec;
    match aspect {
        Aspect::Permissions => digest_of(permissions),
        Aspect::DefaultWorkbookPermissions => digest_of(&default_permissions.workbooks),
        Aspect::DefaultDatasourcePermissions => digest_of(&default_permissions.datasources),
        _ => digest_of(&(path, description, content_permissions, owner, prune, protect, renamed_from)),
    }
}

pub fn content_digest(spec: &ContentSpec, aspect: Aspect) -> String {
    let ContentSpec {
        kind,
        name,
        project,
        file: _,         // Content
        connections: _,  // Content
        hidden_views: _, // Content
        description,
        tags,
        owner,
        show_tabs,
        permissions,
        view_permissions,
        refresh,
        protect,
        renamed_from,
    } = spec;
    match aspect {
        Aspect::Content => publish_fingerprint(spec),
        Aspect::Permissions => digest_of(permissions),
        Aspect::ViewPermissions => digest_of(view_permissions),
        Aspect::Refresh => digest_of(refresh),
        _ => digest_of(&(kind, name, project, description, tags, owner, show_tabs, protect, renamed_from)),
    }
}

/// The digest of the manifest's subscriptions to one workbook and its views (in manifest order).
pub fn subscriptions_digest(desired: &Desired, workbook: &Address) -> String {
    let on: Vec<_> = desired
        .subscriptions
        .iter()
        .filter(|s| {
            Address::content(
                tabops_manifest::model::ContentKind::Workbook,
                &s.content.project,
                s.content.workbook.as_str(),
            ) == *workbook
        })
        .collect();
    digest_of(&on)
}

/// The digest of the settings `site.settings:` manages.
pub fn site_settings_digest(settings: &BTreeMap<String, SettingValue>) -> String {
    digest_of(settings)
}

pub fn webhook_digest(spec: &WebhookSpec) -> String {
    let WebhookSpec { name, event, url, enabled } = spec;
    digest_of(&(name, event, url, enabled))
}

/// Every (address, aspect) digest of a desired state, for comparing with a plan's origins (addresses compare
/// case-insensitively, as Tableau compares names).
pub fn aspect_digests(desired: &Desired) -> BTreeMap<(Address, Aspect), String> {
    let mut out = BTreeMap::new();
    if !desired.site_settings.is_empty() {
        let address = Address::site(desired.site.content_url.as_str());
        out.insert((address, Aspect::SiteSettings), site_settings_digest(&desired.site_settings));
    }
    for u in &desired.users {
        out.insert((Address::user(u.name.as_str()), Aspect::Fields), user_digest(u));
    }
    for g in &desired.groups {
        let address = Address::group(g.name.as_str());
        for aspect in [Aspect::Fields, Aspect::Members] {
            out.insert((address.clone(), aspect), group_digest(g, aspect));
        }
    }
    for p in &desired.projects {
        let address = Address::project(&p.path);
        for aspect in [
            Aspect::Fields,
            Aspect::Permissions,
            Aspect::DefaultWorkbookPermissions,
            Aspect::DefaultDatasourcePermissions,
        ] {
            out.insert((address.clone(), aspect), project_digest(p, aspect));
        }
    }
    for c in desired.datasources.iter().chain(&desired.workbooks) {
        let address = c.address();
        for aspect in [Aspect::Fields, Aspect::Content, Aspect::Permissions, Aspect::Refresh, Aspect::ViewPermissions] {
            out.insert((address.clone(), aspect), content_digest(c, aspect));
        }
    }
    for w in &desired.workbooks {
        let address = w.address();
        out.insert((address.clone(), Aspect::Subscriptions), subscriptions_digest(desired, &address));
    }
    for w in &desired.webhooks {
        out.insert((Address::webhook(w.name.as_str()), Aspect::Fields), webhook_digest(w));
    }
    out
}
