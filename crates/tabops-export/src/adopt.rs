//! Adoption: tagging each exported item with the checksum marker the planner computes for its exported file, so
//! that a plan of the export against the same site does not republish content tabops never published.
//!
//! The marker is computed from the manifest as written and loaded back (`publish_fingerprint` of the resolved
//! item), never from the site's own metadata, so it is exactly what the next plan compares with. Every tag write
//! is announced in the audit log before it is sent and its outcome recorded after, like an apply's actions.

use std::collections::HashMap;

use futures::future::try_join_all;
use serde_json::json;
use tabops_manifest::model::{ContentKind, Desired};
use tabops_plan::marker::{marker_tag, publish_fingerprint, sha_markers};
use tabops_tableau as api;

use tabops_apply::audit::AuditLog;

use crate::ExportError;

/// Identity of a live item as the manifest names it: kind, project path key, lowercase name.
pub type ItemKey = (ContentKind, Vec<String>, String);

/// A live item's id and tags.
pub struct LiveItem {
    pub id: String,
    pub tags: Vec<String>,
}

/// One item tagged by the adoption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adopted {
    /// `workbook:Sales/EMEA/Revenue`.
    pub address: String,
    /// The marker tag added.
    pub marker: String,
    /// Older `tabops.sha256.*` markers removed.
    pub removed: Vec<String>,
}

/// An exported item whose live marker differs from the one its exported file gives: a plan of the export
/// republishes it unless it is adopted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// `workbook:Sales/EMEA/Revenue`.
    pub address: String,
    pub kind: ContentKind,
    pub live_id: String,
    /// The marker a plan of the export computes for the item.
    pub marker: String,
    /// The item's other `tabops.sha256.*` markers (a marker from another file, or none).
    pub stale: Vec<String>,
    /// Whether the item already carries `marker` (then only stale markers are removed).
    pub has: bool,
}

/// Every item of `desired` whose live marker differs from the one its exported file gives, in address order.
/// Reads nothing: it compares the exported manifest with the tags the site listed.
pub fn pending(desired: &Desired, live: &HashMap<ItemKey, LiveItem>) -> Vec<Pending> {
    let mut work = Vec::new();
    for spec in desired.datasources.iter().chain(&desired.workbooks) {
        let key = (spec.kind, spec.project.key(), spec.name.to_lowercase());
        let Some(item) = live.get(&key) else { continue };
        let marker = marker_tag(&publish_fingerprint(spec));
        let markers = sha_markers(&item.tags);
        let stale: Vec<String> = markers.iter().filter(|m| !m.eq_ignore_ascii_case(&marker)).cloned().collect();
        let has = markers.iter().any(|m| m.eq_ignore_ascii_case(&marker));
        if has && stale.is_empty() {
            continue;
        }
        work.push(Pending {
            address: spec.address().to_string(),
            kind: spec.kind,
            live_id: item.id.clone(),
            marker,
            stale,
            has,
        });
    }
    work.sort_by(|a, b| a.address.cmp(&b.address));
    work
}

/// Tags every `pending` item with its marker (removing stale ones), each write recorded in `audit`.
pub async fn adopt(client: &api::Client, work: Vec<Pending>, audit: &AuditLog) -> Result<Vec<Adopted>, ExportError> {
    if work.is_empty() {
        return Ok(Vec::new());
    }
    audit.append(
        "adopt_start",
        json!({ "site": client.config().site, "site_id": client.site_id(), "items": work.len() }),
    )?;
    let results = try_join_all(work.into_iter().map(|item| async move {
        let Pending { address, kind, live_id: id, marker, stale: removed, has } = item;
        audit.append(
            "action_start",
            json!({ "address": address, "action": "adopt", "live_id": id, "add_tag": marker, "remove_tags": removed }),
        )?;
        let result = tag(client, kind, &id, &marker, &removed, has).await;
        match result {
            Ok(()) => {
                audit.append("action_complete", json!({ "address": address, "id": id }))?;
                Ok(Adopted { address, marker, removed })
            }
            Err(source) => {
                audit.append("action_errored", json!({ "address": address, "error": source.to_string() }))?;
                Err(ExportError::Adopt { address, source: Box::new(source) })
            }
        }
    }))
    .await?;
    audit.append("adopt_complete", json!({ "tagged": results.len() }))?;
    Ok(results)
}

async fn tag(
    client: &api::Client,
    kind: ContentKind,
    id: &str,
    marker: &str,
    removed: &[String],
    has: bool,
) -> Result<(), api::Error> {
    let target = match kind {
        ContentKind::Workbook => api::TagTarget::Workbook,
        ContentKind::Datasource => api::TagTarget::Datasource,
    };
    if !has {
        client.add_tags(target, id, &[marker.to_owned()]).await?;
    }
    for old in removed {
        client.delete_tag(target, id, old).await?;
    }
    Ok(())
}
