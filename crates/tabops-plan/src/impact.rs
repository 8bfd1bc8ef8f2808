//! Impact analysis: which workbooks use the published data sources a plan republishes, repoints or deletes,
//! including workbooks the manifest does not manage and workbooks in other projects, with their owners.
//!
//! Pure, like the planner: the reconcile pipeline asks the plan which data sources it touches
//! ([`affected_datasources`]), reads their lineage from the site (the Metadata API, or each workbook's
//! connections when that is unavailable) into a [`Lineage`], and [`attach`] puts the answer on the plan. A delete
//! of a data source that unmanaged workbooks use is refused like a prune guard ([`PlanErrorKind::BreaksWorkbooks`],
//! lifted by `--allow-breaking-deletes`), with the workbooks named.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tabops_manifest::model::{Address, ContentKind, ProjectPath};

use crate::inventory::Inventory;
use crate::plan::{Action, ObjectKind, Operation, Plan, PlanError, PlanErrorKind, Summary};
use crate::planner::index::LiveIndex;

/// What the plan does to a data source that workbooks may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatasourceChange {
    /// New content published over it.
    Republish,
    /// Its connections repointed (server, port, user name or embedded credentials).
    Connection,
    /// Removed from the site.
    Delete,
}

impl DatasourceChange {
    pub fn as_str(self) -> &'static str {
        match self {
            DatasourceChange::Republish => "republish",
            DatasourceChange::Connection => "connection change",
            DatasourceChange::Delete => "delete",
        }
    }
}

/// A live data source the plan changes or deletes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffectedDatasource {
    pub address: String,
    /// Its LUID.
    pub id: String,
    pub change: DatasourceChange,
}

/// The data sources whose downstream workbooks the plan can break, in plan order. Empty: no lineage is read.
pub fn affected_datasources(plan: &Plan) -> Vec<AffectedDatasource> {
    plan.actions
        .iter()
        .filter(|a| a.kind == ObjectKind::Datasource)
        .filter_map(|a| {
            let change = match (&a.action, &a.operation) {
                (Action::Delete, _) => DatasourceChange::Delete,
                (Action::Republish, _) => DatasourceChange::Republish,
                (Action::Update, Operation::Publish(op)) if op.overwrite => DatasourceChange::Republish,
                (Action::Update, Operation::UpdateContent(op)) if !op.connections.is_empty() => {
                    DatasourceChange::Connection
                }
                _ => return None,
            };
            Some(AffectedDatasource { address: a.id.clone(), id: a.live_id.clone()?, change })
        })
        .collect()
}

/// Where the lineage was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineageSource {
    /// The Metadata API's published-datasource → downstream-workbooks relationship.
    MetadataApi,
    /// Each workbook's connections (REST, Query Workbook Connections), the Metadata API being unavailable: a
    /// workbook is matched to a published data source by the name its connection carries.
    RestConnections,
}

/// A workbook that uses a data source, as the site reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownstreamWorkbook {
    /// Its LUID.
    pub id: String,
    pub name: String,
    /// The name of its project (the Metadata API's `projectName`), when known.
    pub project: Option<String>,
    /// Its owner's user name, when known.
    pub owner: Option<String>,
}

/// The lineage of the affected data sources, as read from the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lineage {
    pub source: LineageSource,
    /// Why the Metadata API was not used (with [`LineageSource::RestConnections`]).
    pub fallback_reason: Option<String>,
    /// Requests the read took.
    pub requests: u64,
    /// Downstream workbooks by data source LUID.
    pub downstream: BTreeMap<String, Vec<DownstreamWorkbook>>,
}

/// The impact section of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Impact {
    pub source: LineageSource,
    /// Why the lineage comes from workbook connections, and what that misses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Requests reading the lineage took (on top of the inventory's).
    pub requests: u64,
    pub datasources: Vec<ImpactedDatasource>,
}

/// One changed or deleted data source and the workbooks that use it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImpactedDatasource {
    pub address: String,
    pub id: String,
    pub change: DatasourceChange,
    pub workbooks: Vec<ImpactedWorkbook>,
}

/// A workbook that uses a changed or deleted data source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImpactedWorkbook {
    /// `workbook:Project/Path/Name` as a plan names it.
    pub address: String,
    pub id: String,
    pub owner: Option<String>,
    /// Whether the manifest manages it (a workbook the plan keeps, publishes or updates).
    pub managed: bool,
}

impl Impact {
    /// Workbooks counted once per data source.
    pub fn workbook_count(&self) -> usize {
        self.datasources.iter().map(|d| d.workbooks.len()).sum()
    }

    /// Workbooks the manifest does not manage.
    pub fn unmanaged_count(&self) -> usize {
        self.datasources.iter().flat_map(|d| &d.workbooks).filter(|w| !w.managed).count()
    }

    /// Where the lineage came from, for a sentence: "the Metadata API, 1 request".
    pub fn source_line(&self) -> String {
        let requests = if self.requests == 1 { "1 request".to_owned() } else { format!("{} requests", self.requests) };
        match self.source {
            LineageSource::MetadataApi => format!("lineage from the Metadata API, {requests}"),
            LineageSource::RestConnections => format!("lineage from each workbook's connections (REST), {requests}"),
        }
    }
}

/// Puts the impact of `affected` (per `lineage`) on the plan and, unless `allow_breaking_deletes`, refuses each
/// delete of a data source that workbooks the manifest does not manage use.
pub fn attach(
    plan: &mut Plan,
    affected: &[AffectedDatasource],
    lineage: &Lineage,
    live: &Inventory,
    allow_breaking_deletes: bool,
) {
    let idx = LiveIndex::new(live);
    let workbooks_by_id: BTreeMap<&str, _> = live.workbooks.iter().map(|w| (w.id.as_str(), w)).collect();
    // Workbooks the plan keeps or changes are managed; a workbook it deletes goes with the data source.
    let mut acted_on: BTreeMap<&str, bool> = BTreeMap::new();
    for action in plan.actions.iter().filter(|a| a.kind == ObjectKind::Workbook) {
        if let Some(id) = &action.live_id {
            acted_on.insert(id.as_str(), action.action != Action::Delete);
        }
    }
    let mut datasources = Vec::new();
    let mut refusals = Vec::new();
    for item in affected {
        let mut workbooks: Vec<ImpactedWorkbook> = lineage
            .downstream
            .get(&item.id)
            .into_iter()
            .flatten()
            .filter(|w| acted_on.get(w.id.as_str()) != Some(&false))
            .map(|w| {
                let live = workbooks_by_id.get(w.id.as_str());
                let address = match live {
                    Some(live) => idx.content_address(ContentKind::Workbook, live),
                    None => {
                        let project = ProjectPath::new(vec![w.project.clone().unwrap_or_else(|| "?".to_owned())]);
                        Address::content(ContentKind::Workbook, &project, w.name.as_str())
                    }
                };
                let owner = w.owner.clone().or_else(|| {
                    let owner_id = live.and_then(|l| l.owner_id.as_deref())?;
                    idx.users_by_id.get(owner_id).map(|u| u.name.clone())
                });
                ImpactedWorkbook {
                    address: address.to_string(),
                    id: w.id.clone(),
                    owner,
                    managed: acted_on.get(w.id.as_str()) == Some(&true),
                }
            })
            .collect();
        workbooks.sort_by(|a, b| a.address.to_lowercase().cmp(&b.address.to_lowercase()).then(a.id.cmp(&b.id)));
        workbooks.dedup_by(|a, b| a.id == b.id);
        let unmanaged: Vec<&ImpactedWorkbook> = workbooks.iter().filter(|w| !w.managed).collect();
        if item.change == DatasourceChange::Delete && !unmanaged.is_empty() && !allow_breaking_deletes {
            let names: Vec<String> = unmanaged
                .iter()
                .map(|w| match &w.owner {
                    Some(owner) => format!("{} (owner {owner})", w.address),
                    None => w.address.clone(),
                })
                .collect();
            let count = if unmanaged.len() == 1 {
                "1 workbook the manifest does not manage uses it".to_owned()
            } else {
                format!("{} workbooks the manifest does not manage use it", names.len())
            };
            refusals.push(PlanError {
                kind: PlanErrorKind::BreaksWorkbooks,
                address: item.address.clone(),
                message: format!("refusing to delete {}: {count}: {}", item.address, names.join(", ")),
                hint: Some(
                    "pass --allow-breaking-deletes if this is intended (those workbooks stop working), or repoint \
                     them first"
                        .to_owned(),
                ),
            });
        }
        datasources.push(ImpactedDatasource {
            address: item.address.clone(),
            id: item.id.clone(),
            change: item.change,
            workbooks,
        });
    }
    let note = match lineage.source {
        LineageSource::MetadataApi => None,
        LineageSource::RestConnections => Some(format!(
            "the Metadata API is unavailable ({}); workbooks were matched to data sources by the name their \
             connection carries, so a workbook that renamed its copy of a data source is missed",
            lineage.fallback_reason.as_deref().unwrap_or("no reason given")
        )),
    };
    plan.impact = Some(Impact { source: lineage.source, note, requests: lineage.requests, datasources });
    if !refusals.is_empty() {
        plan.errors.extend(refusals);
        plan.errored = true;
        plan.applyable = false;
        plan.summary = Summary::compute(&plan.actions, plan.unmanaged.len(), plan.errors.len());
    }
}

/// The impact section for a terminal (empty when the plan has none): each data source, then its workbooks.
pub fn text(plan: &Plan) -> String {
    use std::fmt::Write;
    let Some(impact) = &plan.impact else { return String::new() };
    let show = |s: &str| crate::render::visible(s).into_owned();
    let mut out = format!("Impact on workbooks ({}):\n", impact.source_line());
    if let Some(note) = &impact.note {
        let _ = writeln!(out, "  note: {}", show(note));
    }
    for d in &impact.datasources {
        let used = match d.workbooks.len() {
            0 => "no workbook uses it".to_owned(),
            1 => "used by 1 workbook:".to_owned(),
            n => format!("used by {n} workbooks:"),
        };
        let _ = writeln!(out, "  {} ({}): {used}", show(&d.address), d.change.as_str());
        for w in &d.workbooks {
            let owner = w.owner.as_deref().map_or("owner unknown".to_owned(), |o| format!("owner {}", show(o)));
            let managed = if w.managed { "managed by the manifest" } else { "not managed by the manifest" };
            let _ = writeln!(out, "    {} ({owner}; {managed})", show(&w.address));
        }
    }
    out.push('\n');
    out
}

/// The impact section for a pull-request comment: a collapsible `<details>` block with one table row per workbook,
/// given as lines so the comment's budget can cut it (the first line opens the block, the last closes it).
pub fn markdown_rows(impact: &Impact, escape: impl Fn(&str) -> String) -> (String, Vec<String>, String) {
    let mut summary = format!(
        "Impact: {} workbook use(s) of the {} data source(s) this plan changes or deletes",
        impact.workbook_count(),
        impact.datasources.len()
    );
    let unmanaged = impact.unmanaged_count();
    if unmanaged > 0 {
        summary.push_str(&format!(", {unmanaged} not managed by the manifest"));
    }
    let open = format!(
        "<details><summary>{summary}</summary>\n\n| data source | change | workbook | owner | managed |\n|---|---|---|---|---|\n"
    );
    let mut rows = Vec::new();
    for d in &impact.datasources {
        if d.workbooks.is_empty() {
            rows.push(format!("| {} | {} | (none) | | |\n", escape(&d.address), d.change.as_str()));
        }
        for w in &d.workbooks {
            rows.push(format!(
                "| {} | {} | {} | {} | {} |\n",
                escape(&d.address),
                d.change.as_str(),
                escape(&w.address),
                w.owner.as_deref().map(&escape).unwrap_or_default(),
                if w.managed { "yes" } else { "**no**" }
            ));
        }
    }
    let mut close = format!("\n_{}._", escape(&impact.source_line()));
    if let Some(note) = &impact.note {
        close.push_str(&format!(" {}.", escape(note)));
    }
    close.push_str("\n\n</details>\n\n");
    (open, rows, close)
}
