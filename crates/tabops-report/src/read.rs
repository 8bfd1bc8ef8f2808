//! Reading the site for a report, with the client plan uses (its bounded concurrency, paging and retries), and
//! counting the requests made.
//!
//! Access reads the lists as plan does (`tabops_apply::inventory::read_lists_with`, without the refresh tasks), then the explicit permissions of
//! every object the report covers (with `--item` or `--project`, only those and the projects above them, whose
//! owners and leaders count), then the members of only the groups those rules name (and of the `--group` groups).
//! Usage reads five lists and nothing per object: projects, users, workbooks, data sources, and the views with
//! their counts.

use std::collections::BTreeSet;

use futures::future::try_join_all;
use tabops_apply::inventory::{Detail, DetailRead, read_details, read_lists_with};
use tabops_apply::wire;
use tabops_manifest::model::{ContentKind, ProjectPath};
use tabops_plan::inventory::{Inventory, LiveProject, LiveUser};
use tabops_tableau as api;
use time::OffsetDateTime;

use crate::access::{self, AccessFilter, AccessReport};
use crate::error::ReportError;
use crate::usage::{self, Item, UsageInput, UsageReport, View};

/// Told how far a read has got, for a progress bar.
pub trait Progress: Sync {
    /// `reads` more reads are planned.
    fn planned(&self, reads: u64);
    /// One read finished.
    fn finished(&self);
}

/// No progress shown.
pub struct Quiet;

impl Progress for Quiet {
    fn planned(&self, _: u64) {}
    fn finished(&self) {}
}

/// Reads what the access report needs and evaluates it.
pub async fn access(
    client: &api::Client,
    filter: &AccessFilter,
    progress: &dyn Progress,
) -> Result<AccessReport, ReportError> {
    let before = client.stats().requests;
    let inventory = read_access(client, filter, progress).await?;
    let mut report = access::evaluate(&inventory, filter)?;
    report.requests = client.stats().requests.saturating_sub(before);
    Ok(report)
}

/// The inventory with the permissions and group members the filter's report needs.
pub async fn read_access(
    client: &api::Client,
    filter: &AccessFilter,
    progress: &dyn Progress,
) -> Result<Inventory, ReportError> {
    progress.planned(1);
    let mut inventory = read_lists_with(client, false, false).await.map_err(|e| ReportError::Read(Box::new(e)))?;
    progress.finished();

    let wanted = objects_to_read(&inventory, filter);
    let rows = read_each(client, wanted, progress).await?;
    let mut groups: BTreeSet<String> = BTreeSet::new();
    for row in &rows {
        let named = row.rules.iter().filter(|r| r.grantee.kind == api::GranteeKind::Group);
        groups.extend(named.map(|r| r.grantee.id.clone()));
    }
    for name in &filter.groups {
        groups.extend(inventory.groups.iter().filter(|g| g.name.eq_ignore_ascii_case(name)).map(|g| g.id.clone()));
    }
    let members = read_each(client, groups.into_iter().map(Detail::Members).collect(), progress).await?;
    for row in rows.into_iter().chain(members) {
        match row.detail {
            Detail::Permissions(_, id) => {
                if let Some(locker) = row.controller {
                    inventory.controlled.insert(id.clone(), locker);
                }
                inventory.permissions.insert(id, wire::live_rules(&row.rules));
            }
            Detail::Members(group) => {
                if let Some(g) = inventory.groups.iter_mut().find(|g| g.id == group) {
                    g.members = Some(row.members);
                }
            }
            Detail::Defaults(..) | Detail::Connections(..) => {}
        }
    }
    Ok(inventory)
}

/// One request per detail, all at once (the client bounds how many are in flight), each counted as it finishes.
async fn read_each(
    client: &api::Client,
    wanted: Vec<Detail>,
    progress: &dyn Progress,
) -> Result<Vec<DetailRead>, ReportError> {
    progress.planned(wanted.len() as u64);
    let reads = try_join_all(wanted.into_iter().map(|detail| async move {
        let read = read_details(client, vec![detail]).await.map_err(|e| ReportError::Read(Box::new(e)));
        progress.finished();
        read
    }))
    .await?;
    Ok(reads.into_iter().flatten().collect())
}

/// The objects whose permissions the report needs: all of them, or with `--item`/`--project` the selected ones and
/// the projects above them.
fn objects_to_read(inventory: &Inventory, filter: &AccessFilter) -> Vec<Detail> {
    let paths = crate::tree::project_paths(&inventory.projects);
    let parent = |id: &str| inventory.projects.iter().find(|p| p.id == id).and_then(|p| p.parent_id.clone());
    let chain = |project: &str| {
        let mut chain = vec![project.to_owned()];
        while let Some(next) = parent(chain.last().map(String::as_str).unwrap_or_default()) {
            if chain.contains(&next) {
                break;
            }
            chain.push(next);
        }
        chain
    };
    let selected_project = filter
        .project
        .as_ref()
        .and_then(|wanted| paths.iter().find(|(_, path)| path.key() == wanted.key()).map(|(id, _)| (*id).to_owned()));
    let item = filter.item.as_deref().and_then(|a| tabops_manifest::address::Address::parse(a).ok());
    let item = item.map(|a| a.to_string().to_lowercase());
    let mut wanted: BTreeSet<(u8, String)> = BTreeSet::new();
    let mut add = |kind: u8, id: &str, project: &str, address: String| {
        let in_project = selected_project.as_deref().is_none_or(|p| chain(project).iter().any(|c| c == p));
        let is_item = item.as_deref().is_none_or(|i| i == address.to_lowercase());
        if in_project && is_item {
            wanted.insert((kind, id.to_owned()));
            for ancestor in chain(project) {
                wanted.insert((0, ancestor));
            }
        }
    };
    let empty = ProjectPath::new(Vec::new());
    for p in &inventory.projects {
        let path = paths.get(p.id.as_str()).unwrap_or(&empty);
        add(0, &p.id, &p.id, tabops_manifest::address::Address::project(path).to_string());
    }
    for (code, kind, items) in
        [(1, ContentKind::Workbook, &inventory.workbooks), (2, ContentKind::Datasource, &inventory.datasources)]
    {
        for c in items {
            let path = paths.get(c.project_id.as_str()).unwrap_or(&empty);
            add(
                code,
                &c.id,
                &c.project_id,
                tabops_manifest::address::Address::content(kind, path, c.name.clone()).to_string(),
            );
        }
    }
    wanted
        .into_iter()
        .map(|(kind, id)| {
            let target = match kind {
                0 => api::PermissionTarget::Project(id.clone()),
                1 => api::PermissionTarget::Workbook(id.clone()),
                _ => api::PermissionTarget::Datasource(id.clone()),
            };
            Detail::Permissions(target, id)
        })
        .collect()
}

/// Reads what the usage report needs and computes it as of `now`.
pub async fn usage(
    client: &api::Client,
    now: OffsetDateTime,
    stale_days: Option<u32>,
    progress: &dyn Progress,
) -> Result<UsageReport, ReportError> {
    let before = client.stats().requests;
    progress.planned(5);
    let list = |what: &'static str| {
        move |source| ReportError::Read(Box::new(tabops_apply::ApplyError::Fetch { what: what.to_owned(), source }))
    };
    let (projects, users, workbooks, datasources, views) = futures::try_join!(
        async { counted(progress, client.projects().await).map_err(list("list projects")) },
        async { counted(progress, client.users().await).map_err(list("list users")) },
        async { counted(progress, client.workbooks().await).map_err(list("list workbooks")) },
        async { counted(progress, client.datasources().await).map_err(list("list data sources")) },
        async { counted(progress, client.views_with_usage().await).map_err(list("list views with usage statistics")) },
    )?;
    let input = UsageInput {
        projects: projects
            .into_iter()
            .map(|p| LiveProject {
                id: p.id,
                name: p.name,
                parent_id: p.parent_id.filter(|id| !id.is_empty()),
                description: None,
                content_permissions: None,
                owner_id: p.owner_id,
                updated_at: p.updated_at,
            })
            .collect(),
        users: users
            .into_iter()
            .map(|u| LiveUser {
                id: u.id,
                name: u.name,
                site_role: u.site_role.unwrap_or_default(),
                auth_setting: None,
                full_name: None,
                email: None,
                idp_configuration_id: None,
            })
            .collect(),
        workbooks: workbooks
            .into_iter()
            .map(|w| Item {
                id: w.id,
                name: w.name,
                project_id: w.project_id.unwrap_or_default(),
                owner_id: w.owner_id,
                size: w.size,
                created_at: w.created_at,
                updated_at: w.updated_at,
                tags: w.tags,
            })
            .collect(),
        datasources: datasources
            .into_iter()
            .map(|d| Item {
                id: d.id,
                name: d.name,
                project_id: d.project_id.unwrap_or_default(),
                owner_id: d.owner_id,
                size: d.size,
                created_at: d.created_at,
                updated_at: d.updated_at,
                tags: d.tags,
            })
            .collect(),
        views: views
            .into_iter()
            .filter_map(|v| {
                Some(View {
                    workbook_id: v.workbook_id?,
                    id: v.id,
                    name: v.name,
                    created_at: v.created_at,
                    updated_at: v.updated_at,
                    total_view_count: v.total_view_count,
                })
            })
            .collect(),
    };
    let mut report = usage::usage(&input, now, stale_days);
    report.requests = client.stats().requests.saturating_sub(before);
    Ok(report)
}

/// Counts a finished read.
fn counted<T>(progress: &dyn Progress, result: T) -> T {
    progress.finished();
    result
}
