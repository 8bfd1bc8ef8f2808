//! Reads the lineage of the data sources a plan changes or deletes: which workbooks use them, whoever manages
//! them and wherever they are. One Metadata API query per page for all of them at once; where the Metadata API is
//! unavailable (HTTP 404 or 403, or a GraphQL error saying it is disabled), each workbook's connections from the
//! REST API instead, and the plan says so.
//!
//! The query's field and type names are Tableau's Metadata API reference's (help.tableau.com/current/api/
//! metadata_api/en-us/reference: `Query.publishedDatasourcesConnection`, `PublishedDatasource_Filter.luidWithin`,
//! `PublishedDatasource.downstreamWorkbooks`, `Workbook.projectName`/`owner`, `TableauUser.username`,
//! `PageInfo.hasNextPage`/`endCursor`); the paging with `first`/`after` variables is TSC's
//! `samples/metadata_paginated_query.py`.

use std::collections::BTreeMap;

use futures::StreamExt;
use serde_json::{Value, json};
use tabops_plan::Inventory;
use tabops_plan::impact::{AffectedDatasource, DownstreamWorkbook, Lineage, LineageSource};
use tabops_tableau::Client;

use crate::{Error, ErrorKind};

/// The lineage query: one page of the affected data sources with the workbooks downstream of each.
pub const LINEAGE_QUERY: &str = "query tabopsLineage($luids: [String], $first: Int, $after: String) {
  publishedDatasourcesConnection(filter: {luidWithin: $luids}, first: $first, after: $after) {
    nodes {
      luid
      downstreamWorkbooks { luid name projectName owner { username } }
    }
    pageInfo { hasNextPage endCursor }
  }
}";

/// Data sources per page (TSC's default page size for Metadata API queries).
const PAGE: usize = 100;
/// Pages read at most: far more than any plan's data sources need, so a server that never ends paging stops.
const MAX_PAGES: usize = 10_000;
/// Workbook connection lists read at once in the REST fallback (the client bounds it further).
const FALLBACK_CONCURRENCY: usize = 16;

/// Reads the lineage of `affected` (not empty) from the site `label` names.
pub async fn read(
    client: &Client,
    label: &str,
    affected: &[AffectedDatasource],
    live: &Inventory,
) -> Result<Lineage, Error> {
    let before = client.stats().requests;
    let luids: Vec<&str> = affected.iter().map(|a| a.id.as_str()).collect();
    let mut lineage = match from_metadata_api(client, label, &luids).await? {
        Ok(downstream) => {
            Lineage { source: LineageSource::MetadataApi, fallback_reason: None, requests: 0, downstream }
        }
        Err(reason) => {
            tracing::info!(%reason, "the Metadata API is unavailable; reading workbook connections instead");
            let downstream = from_workbook_connections(client, label, affected, live).await?;
            Lineage { source: LineageSource::RestConnections, fallback_reason: Some(reason), requests: 0, downstream }
        }
    };
    lineage.requests = client.stats().requests.saturating_sub(before);
    Ok(lineage)
}

/// `Ok(Err(reason))`: the Metadata API is unavailable on this site.
async fn from_metadata_api(
    client: &Client,
    label: &str,
    luids: &[&str],
) -> Result<Result<BTreeMap<String, Vec<DownstreamWorkbook>>, String>, Error> {
    let mut downstream: BTreeMap<String, Vec<DownstreamWorkbook>> = BTreeMap::new();
    let mut after = Value::Null;
    for _ in 0..MAX_PAGES {
        let variables = json!({ "luids": luids, "first": PAGE, "after": after });
        let answer = match client.metadata_query(LINEAGE_QUERY, variables).await {
            Ok(answer) => answer,
            Err(err) if matches!(err.status(), Some(404 | 403)) => {
                return Ok(Err(format!("HTTP {}", err.status().unwrap_or_default())));
            }
            Err(source) => return Err(ErrorKind::Lineage { label: label.to_owned(), source }.into()),
        };
        if let Some(errors) = answer.get("errors").and_then(Value::as_array).filter(|e| !e.is_empty()) {
            let messages: Vec<&str> = errors.iter().filter_map(|e| e.get("message").and_then(Value::as_str)).collect();
            let message = messages.join("; ");
            let lower = message.to_lowercase();
            if lower.contains("disabled") || lower.contains("not enabled") {
                return Ok(Err(format!("the Metadata API answered: {message}")));
            }
            return Err(ErrorKind::LineageQuery { label: label.to_owned(), message }.into());
        }
        let connection = &answer["data"]["publishedDatasourcesConnection"];
        for node in connection["nodes"].as_array().into_iter().flatten() {
            let Some(luid) = node["luid"].as_str() else { continue };
            let workbooks = node["downstreamWorkbooks"].as_array().into_iter().flatten().filter_map(|w| {
                Some(DownstreamWorkbook {
                    id: w["luid"].as_str()?.to_owned(),
                    name: w["name"].as_str().unwrap_or_default().to_owned(),
                    project: w["projectName"].as_str().map(str::to_owned),
                    owner: w["owner"]["username"].as_str().map(str::to_owned),
                })
            });
            downstream.entry(luid.to_owned()).or_default().extend(workbooks);
        }
        let page = &connection["pageInfo"];
        if page["hasNextPage"].as_bool() != Some(true) || page["endCursor"].is_null() {
            return Ok(Ok(downstream));
        }
        after = page["endCursor"].clone();
    }
    Ok(Ok(downstream))
}

/// The REST fallback: every workbook's connections (Query Workbook Connections), a `sqlproxy` connection naming an
/// affected data source counting as a use of it. The name is the workbook's caption of the data source (TSC issues
/// #247 and #825: the connection's data source id is not the published data source's), so this matches by name.
async fn from_workbook_connections(
    client: &Client,
    label: &str,
    affected: &[AffectedDatasource],
    live: &Inventory,
) -> Result<BTreeMap<String, Vec<DownstreamWorkbook>>, Error> {
    let names: Vec<(String, &str)> = affected
        .iter()
        .filter_map(|a| live.datasources.iter().find(|d| d.id == a.id).map(|d| (d.name.to_lowercase(), a.id.as_str())))
        .collect();
    let users: BTreeMap<&str, &str> = live.users.iter().map(|u| (u.id.as_str(), u.name.as_str())).collect();
    let projects: BTreeMap<&str, &str> = live.projects.iter().map(|p| (p.id.as_str(), p.name.as_str())).collect();
    let mut reads = futures::stream::iter(&live.workbooks)
        .map(|w| async move { (w, client.workbook_connections(&w.id).await) })
        .buffer_unordered(FALLBACK_CONCURRENCY);
    let mut downstream: BTreeMap<String, Vec<DownstreamWorkbook>> = BTreeMap::new();
    while let Some((workbook, connections)) = reads.next().await {
        let connections = match connections {
            Ok(connections) => connections,
            // Deleted since the inventory was read.
            Err(err) if err.status() == Some(404) => continue,
            Err(source) => return Err(ErrorKind::Lineage { label: label.to_owned(), source }.into()),
        };
        for connection in connections {
            if !connection.connection_type.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("sqlproxy")) {
                continue;
            }
            let Some(name) = connection.datasource_name.as_deref().map(str::to_lowercase) else { continue };
            for (_, id) in names.iter().filter(|(n, _)| *n == name) {
                let uses = downstream.entry((*id).to_owned()).or_default();
                if uses.iter().all(|u| u.id != workbook.id) {
                    uses.push(DownstreamWorkbook {
                        id: workbook.id.clone(),
                        name: workbook.name.clone(),
                        project: projects.get(workbook.project_id.as_str()).map(|p| (*p).to_owned()),
                        owner: workbook.owner_id.as_deref().and_then(|o| users.get(o)).map(|u| (*u).to_owned()),
                    });
                }
            }
        }
    }
    Ok(downstream)
}
