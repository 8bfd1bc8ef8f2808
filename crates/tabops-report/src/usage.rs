//! Usage: every workbook, its views and every data source, with view counts, owner, project, size, when each was
//! created and last updated, and whether tabops manages it; with a staleness cut-off, only what was not updated
//! in N days and the views never viewed, for capacity planning and clean-up.
//!
//! View counts are Tableau's `totalViewCount` from Query Views for Site with `includeUsageStatistics=true` (TSC
//! `views.get(usage=True)`, `test/assets/view_get_usage.xml`); a workbook's count is the sum of its views'. An
//! item is managed by tabops when it carries a checksum marker tag (`tabops.sha256.…`), which only tabops writes
//! (see `tabops_plan::marker`).

use std::collections::HashMap;

use serde::Serialize;
use tabops_manifest::address::Address;
use tabops_manifest::model::{ContentKind, ProjectPath};
use tabops_plan::inventory::{LiveProject, LiveUser};
use tabops_plan::marker::SHA_MARKER_PREFIX;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A workbook or data source as the usage report reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Item {
    pub id: String,
    pub name: String,
    pub project_id: String,
    pub owner_id: Option<String>,
    pub size: Option<u64>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub tags: Vec<String>,
}

/// One view with its count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct View {
    pub id: String,
    pub name: String,
    pub workbook_id: String,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub total_view_count: Option<u64>,
}

/// What the usage report is computed from.
#[derive(Debug, Clone, Default)]
pub struct UsageInput {
    pub projects: Vec<LiveProject>,
    pub users: Vec<LiveUser>,
    pub workbooks: Vec<Item>,
    pub datasources: Vec<Item>,
    pub views: Vec<View>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowKind {
    Workbook,
    View,
    Datasource,
}

impl RowKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RowKind::Workbook => "workbook",
            RowKind::View => "view",
            RowKind::Datasource => "datasource",
        }
    }
}

/// One workbook, view or data source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsageRow {
    pub kind: RowKind,
    /// The item's address (a view's is its workbook's).
    pub address: String,
    /// The view's name (views only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub view: Option<String>,
    pub project: String,
    /// The owner's sign-in name (a view's is its workbook's owner).
    pub owner: Option<String>,
    /// Size as the site reports it (Tableau Cloud: MB); views have none.
    pub size: Option<u64>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    /// View count (a workbook's is the sum of its views'); data sources have none.
    pub total_views: Option<u64>,
    /// Carries a tabops checksum marker (a view: its workbook does).
    pub managed: bool,
}

/// The usage report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct UsageReport {
    /// When the report was made (RFC 3339), the reference point of `stale_days`.
    pub as_of: String,
    /// `--stale-days N`: only content not updated in N days, and views never viewed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale_days: Option<u32>,
    pub rows: Vec<UsageRow>,
    /// Requests the read of the site made (set by [`crate::read`]).
    pub requests: u64,
}

/// The usage report of `input` at `now`; with `stale_days`, only workbooks and data sources last updated more
/// than that many days before `now`, and views that were never viewed.
pub fn usage(input: &UsageInput, now: OffsetDateTime, stale_days: Option<u32>) -> UsageReport {
    let paths = crate::tree::project_paths(&input.projects);
    let users: HashMap<&str, &str> = input.users.iter().map(|u| (u.id.as_str(), u.name.as_str())).collect();
    let owner = |id: &Option<String>| id.as_deref().map(|id| users.get(id).copied().unwrap_or(id).to_owned());
    let project_of =
        |item: &Item| paths.get(item.project_id.as_str()).cloned().unwrap_or_else(|| ProjectPath::new(vec![]));
    let managed = |item: &Item| item.tags.iter().any(|t| t.starts_with(SHA_MARKER_PREFIX));
    let cutoff = stale_days.map(|days| now - time::Duration::days(i64::from(days)));
    let stale = |updated: &Option<String>| match cutoff {
        None => true,
        Some(cutoff) => updated
            .as_deref()
            .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
            .is_some_and(|updated| updated < cutoff),
    };
    let mut views_of: HashMap<&str, Vec<&View>> = HashMap::new();
    for view in &input.views {
        views_of.entry(view.workbook_id.as_str()).or_default().push(view);
    }

    let mut rows = Vec::new();
    for (kind, items) in [(ContentKind::Workbook, &input.workbooks), (ContentKind::Datasource, &input.datasources)] {
        for item in items {
            let project = project_of(item);
            let address = Address::content(kind, &project, item.name.clone()).to_string();
            let views = views_of.get(item.id.as_str()).map(Vec::as_slice).unwrap_or_default();
            let total_views = (kind == ContentKind::Workbook)
                .then(|| views.iter().map(|v| v.total_view_count.unwrap_or(0)).sum::<u64>());
            if stale(&item.updated_at) {
                rows.push(UsageRow {
                    kind: if kind == ContentKind::Workbook { RowKind::Workbook } else { RowKind::Datasource },
                    address: address.clone(),
                    view: None,
                    project: project.to_string(),
                    owner: owner(&item.owner_id),
                    size: item.size,
                    created_at: item.created_at.clone(),
                    updated_at: item.updated_at.clone(),
                    total_views,
                    managed: managed(item),
                });
            }
            for view in views {
                if cutoff.is_some() && view.total_view_count.unwrap_or(0) > 0 {
                    continue;
                }
                rows.push(UsageRow {
                    kind: RowKind::View,
                    address: address.clone(),
                    view: Some(view.name.clone()),
                    project: project.to_string(),
                    owner: owner(&item.owner_id),
                    size: None,
                    created_at: view.created_at.clone(),
                    updated_at: view.updated_at.clone(),
                    total_views: Some(view.total_view_count.unwrap_or(0)),
                    managed: managed(item),
                });
            }
        }
    }
    rows.sort_by(|a, b| {
        a.address
            .to_lowercase()
            .cmp(&b.address.to_lowercase())
            .then((a.kind == RowKind::View).cmp(&(b.kind == RowKind::View)))
            .then(a.view.as_deref().map(str::to_lowercase).cmp(&b.view.as_deref().map(str::to_lowercase)))
    });
    UsageReport { as_of: now.format(&Rfc3339).unwrap_or_default(), stale_days, rows, requests: 0 }
}
