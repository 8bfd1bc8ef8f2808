//! Digests of the parts ("aspects") of manifest objects.
//!
//! Every planned action records which aspect of which manifest object it comes from, with that aspect's digest in
//! the desired state. Drift classification recomputes the digest in a baseline manifest (the one last applied): equal
//! digests mean the manifest did not change there, so the difference was made on the site.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tabops_manifest::model::{ContentSpec, Desired, GroupSpec, ProjectSpec, UserSpec};

use crate::marker::publish_fingerprint;
use crate::plan::Aspect;

fn digest_value(value: &Value) -> String {
    hex::encode(Sha256::digest(serde_json::to_vec(value).unwrap_or_default()))
}

fn digest_of<T: Serialize>(value: &T) -> String {
    digest_value(&serde_json::to_value(value).unwrap_or(Value::Null))
}

fn without(value: impl Serialize, keys: &[&str]) -> String {
    let mut v = serde_json::to_value(value).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut v {
        for k in keys {
            map.remove(*k);
        }
    }
    digest_value(&v)
}

pub fn user_address(name: &str) -> String {
    format!("user:{name}")
}
pub fn group_address(name: &str) -> String {
    format!("group:{name}")
}
pub fn project_address(path: &impl std::fmt::Display) -> String {
    format!("project:{path}")
}

pub fn user_digest(spec: &UserSpec) -> String {
    digest_of(spec)
}

pub fn group_digest(spec: &GroupSpec, aspect: Aspect) -> String {
    match aspect {
        Aspect::Members => digest_of(&spec.members),
        _ => without(spec, &["members"]),
    }
}

pub fn project_digest(spec: &ProjectSpec, aspect: Aspect) -> String {
    match aspect {
        Aspect::Permissions => digest_of(&spec.permissions),
        Aspect::DefaultWorkbookPermissions => digest_of(&spec.default_permissions.workbooks),
        Aspect::DefaultDatasourcePermissions => digest_of(&spec.default_permissions.datasources),
        _ => without(spec, &["permissions", "default_permissions"]),
    }
}

pub fn content_digest(spec: &ContentSpec, aspect: Aspect) -> String {
    match aspect {
        Aspect::Content => publish_fingerprint(spec),
        Aspect::Permissions => digest_of(&spec.permissions),
        Aspect::Refresh => digest_of(&spec.refresh),
        _ => without(spec, &["file", "connections", "hidden_views", "permissions", "refresh"]),
    }
}

/// Every (address, aspect) digest of a desired state, for comparing with a plan's origins.
pub fn aspect_digests(desired: &Desired) -> BTreeMap<(String, Aspect), String> {
    let mut out = BTreeMap::new();
    for u in &desired.users {
        out.insert((user_address(&u.name).to_lowercase(), Aspect::Fields), user_digest(u));
    }
    for g in &desired.groups {
        let address = group_address(&g.name).to_lowercase();
        for aspect in [Aspect::Fields, Aspect::Members] {
            out.insert((address.clone(), aspect), group_digest(g, aspect));
        }
    }
    for p in &desired.projects {
        let address = project_address(&p.path).to_lowercase();
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
        let address = c.address().to_lowercase();
        for aspect in [Aspect::Fields, Aspect::Content, Aspect::Permissions, Aspect::Refresh] {
            out.insert((address.clone(), aspect), content_digest(c, aspect));
        }
    }
    out
}
