//! Extract refreshes run now (`tabops refresh`, `apply --refresh changed`): which items to refresh (named by
//! address; those whose content or connections changed since a base manifest; or those an apply published or
//! repointed, from its outcome or from the audit log's last apply), starting each refresh (`POST /workbooks/{id}/refresh`,
//! `POST /datasources/{id}/refresh`), polling the jobs at a fixed interval until they finish or a timeout passes,
//! recording every refresh started in the audit log, and the report in text, Markdown and JSON.
//!
//! Job outcomes follow the REST reference's "Query Job": a job is running until `completedAt` appears, then
//! `finishCode` 0 is success, 1 failure (the engine's message in `extractRefreshJob/notes`) and 2 cancelled.
//! Tableau answers 409093 when a refresh of the item is already queued (reported as such, not as a failure) and
//! 409090 for an item without an extract (a failure, with Tableau's message).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use tabops_manifest::model::{Address, ContentKind, ContentSpec, Desired};
use tabops_plan::plan::Operation;
use tabops_plan::planner::index::LiveIndex;
use tabops_plan::{Inventory, Plan};
use tabops_tableau::{Client, Job, JobState};

use crate::audit::{AuditError, AuditLog};

/// Tableau's code for a refresh of an item that already has one queued.
const ALREADY_QUEUED: &str = "409093";

/// Why the items to refresh could not be chosen.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// An argument is not an address at all.
    #[error("refresh: '{given}' is not a workbook or data source address: {reason}")]
    BadAddress { given: String, reason: String },
    /// An address that names something other than a workbook or data source.
    #[error("refresh: {address} is not a workbook or data source")]
    NotContent { address: String },
    /// The item is not on the site.
    #[error("refresh: {address} is not on the site")]
    NotOnSite { address: String },
    /// Nothing was named and no selection flag was given.
    #[error("refresh: no items to refresh were named")]
    NothingNamed,
    /// The audit log to find the last apply in could not be read.
    #[error("refresh: cannot tell what the last apply changed from the audit log {}: {reason}", path.display())]
    AuditLog { path: PathBuf, reason: String },
    /// The audit log could not be written; no refresh is started without its record.
    #[error("refresh: the audit log could not be written")]
    Audit(#[from] AuditError),
}

impl RefreshError {
    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            RefreshError::BadAddress { .. } | RefreshError::NotContent { .. } => Some(
                "name items as plan prints them, e.g. workbook:Sales/EMEA/Revenue or datasource:Sales/Orders".into(),
            ),
            RefreshError::NotOnSite { .. } => {
                Some("apply the manifest first, or check the project path and name as plan prints them".into())
            }
            RefreshError::NothingNamed => {
                Some("name items (workbook:PROJECT/NAME), or pass --changed-since REF to refresh what changed".into())
            }
            RefreshError::AuditLog { .. } => Some(
                "pass the audit log apply wrote (--audit-log, TABOPS_AUDIT_LOG), or name the items to refresh".into(),
            ),
            RefreshError::Audit(_) => Some("check that the audit log's directory is writable".into()),
        }
    }
}

/// One item to refresh: its address and its id on the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub address: String,
    pub kind: ContentKind,
    pub id: String,
}

/// Finds the named items on the site, in the order given (duplicates once).
pub fn select_named(live: &Inventory, addresses: &[String]) -> Result<Vec<Target>, RefreshError> {
    if addresses.is_empty() {
        return Err(RefreshError::NothingNamed);
    }
    let index = LiveIndex::new(live);
    let mut targets: Vec<Target> = Vec::new();
    for given in addresses {
        let address = Address::parse(given)
            .map_err(|e| RefreshError::BadAddress { given: given.clone(), reason: e.to_string() })?;
        let kind = address.kind().content().ok_or_else(|| RefreshError::NotContent { address: given.clone() })?;
        let item = live
            .content(kind)
            .iter()
            .find(|item| index.content_address(kind, item) == address)
            .ok_or_else(|| RefreshError::NotOnSite { address: address.to_string() })?;
        if !targets.iter().any(|t| t.id == item.id) {
            targets.push(Target { address: index.content_address(kind, item).to_string(), kind, id: item.id.clone() });
        }
    }
    Ok(targets)
}

/// The changed items to refresh: [`select_named`], leaving out the items the site reports without an extract (a
/// live connection has nothing to refresh, and Tableau would refuse it with 409090).
pub fn select_changed(live: &Inventory, addresses: &[String]) -> Result<Vec<Target>, RefreshError> {
    if addresses.is_empty() {
        return Ok(Vec::new());
    }
    let targets = select_named(live, addresses)?;
    let extract_less = |t: &Target| live.content(t.kind).iter().any(|c| c.id == t.id && c.has_extracts == Some(false));
    Ok(targets.into_iter().filter(|t| !extract_less(t)).collect())
}

/// The manifest's workbooks and data sources whose content file or connections differ from the base manifest's (or
/// that the base does not have), data sources first (a workbook may extract from one), as addresses.
pub fn changed_since(desired: &Desired, base: &Desired) -> Vec<String> {
    let changed = |spec: &ContentSpec, before: &[ContentSpec]| {
        let address = spec.address();
        match before.iter().find(|b| b.address() == address) {
            None => true,
            Some(b) => b.file.sha256 != spec.file.sha256 || b.connections != spec.connections,
        }
    };
    desired
        .datasources
        .iter()
        .filter(|d| changed(d, &base.datasources))
        .chain(desired.workbooks.iter().filter(|w| changed(w, &base.workbooks)))
        .map(|spec| spec.address().to_string())
        .collect()
}

/// The workbooks and data sources an apply published or repointed the connections of (its completed actions),
/// data sources first: what `apply --refresh changed` refreshes.
pub fn changed_by_apply(plan: &Plan, outcome: &crate::Outcome) -> Vec<String> {
    let completed: BTreeSet<&str> = outcome
        .actions
        .iter()
        .filter(|a| a.status == crate::executor::Status::Completed)
        .map(|a| a.address.as_str())
        .collect();
    let mut changed: Vec<(bool, String)> = plan
        .changes()
        .filter(|action| completed.contains(action.id.as_str()))
        .filter_map(|action| match &action.operation {
            Operation::Publish(op) => Some((op.kind == ContentKind::Workbook, action.id.clone())),
            Operation::UpdateContent(op) if !op.connections.is_empty() => {
                Some((op.kind == ContentKind::Workbook, action.id.clone()))
            }
            _ => None,
        })
        .collect();
    changed.sort();
    changed.into_iter().map(|(_, address)| address).collect()
}

/// The same items for the last apply recorded in the audit log at `path` (`refresh --changed-by-apply`): the
/// content actions of its run that completed and either published a file (`sent`) or repointed connections.
pub fn changed_by_last_apply(path: &Path) -> Result<Vec<String>, RefreshError> {
    let unreadable = |reason: String| RefreshError::AuditLog { path: path.to_owned(), reason };
    let text = std::fs::read_to_string(path).map_err(|e| unreadable(e.to_string()))?;
    let records: Vec<crate::audit::Record> =
        text.lines().filter(|l| !l.trim().is_empty()).filter_map(|l| serde_json::from_str(l).ok()).collect();
    let run = records
        .iter()
        .rev()
        .find(|r| r.kind == "apply_start")
        .map(|r| r.run_id.clone())
        .ok_or_else(|| unreadable("it records no apply".to_owned()))?;
    let in_run = || records.iter().filter(|r| r.run_id == run);
    let address = |r: &crate::audit::Record| r.data["address"].as_str().map(str::to_owned);
    let repointed: BTreeSet<String> = in_run()
        .filter(|r| r.kind == "action_start" && r.data.get("connections").is_some())
        .filter_map(address)
        .collect();
    let mut changed: Vec<(bool, String)> = in_run()
        .filter(|r| r.kind == "action_complete")
        .filter_map(address)
        .filter(|a| a.starts_with("workbook:") || a.starts_with("datasource:"))
        .filter(|a| {
            repointed.contains(a)
                || in_run().any(|r| {
                    r.kind == "action_complete" && r.data["address"] == a.as_str() && r.data.get("sent").is_some()
                })
        })
        .map(|a| (a.starts_with("workbook:"), a))
        .collect();
    changed.sort();
    changed.dedup();
    Ok(changed.into_iter().map(|(_, address)| address).collect())
}

/// How long to wait and how often to look.
#[derive(Debug, Clone, Copy)]
pub struct RefreshOptions {
    /// Poll the jobs until they finish (otherwise report them queued).
    pub wait: bool,
    /// How long to wait for all jobs, from the first refresh started.
    pub timeout: Duration,
    /// The fixed interval between polls.
    pub poll: Duration,
}

/// What became of one refresh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Started; not waited for.
    Queued { job_id: String },
    /// The job finished with finishCode 0.
    Succeeded { job_id: String },
    /// Tableau refused to start it, or the job finished with finishCode 1 or 2; `message` is Tableau's.
    Failed { job_id: Option<String>, message: String },
    /// Still running when the timeout passed.
    TimedOut { job_id: String },
    /// Tableau answered 409093: a refresh of the item is already queued.
    AlreadyQueued { message: String },
}

/// One item's refresh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemReport {
    pub address: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// Every refresh of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub items: Vec<ItemReport>,
}

impl Report {
    /// Any refresh failed.
    pub fn has_failures(&self) -> bool {
        self.items.iter().any(|i| matches!(i.outcome, Outcome::Failed { .. }))
    }

    /// Any job was still running at the timeout.
    pub fn has_timeouts(&self) -> bool {
        self.items.iter().any(|i| matches!(i.outcome, Outcome::TimedOut { .. }))
    }

    /// One line per item.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        if self.items.is_empty() {
            out.push_str("Nothing to refresh.\n");
        }
        for item in &self.items {
            out.push_str(&format!("{}: {}\n", item.address, describe(&item.outcome)));
        }
        out.push_str(&format!("\n{}\n", self.summary()));
        out
    }

    /// A table for a pull request or a chat post.
    pub fn render_markdown(&self) -> String {
        let mut out = String::from("### Extract refreshes\n\n");
        if self.items.is_empty() {
            out.push_str("Nothing to refresh.\n");
            return out;
        }
        out.push_str("| item | result |\n|---|---|\n");
        for item in &self.items {
            let text = describe(&item.outcome).replace('|', "\\|").replace('\n', " ");
            out.push_str(&format!("| `{}` | {} |\n", item.address, text));
        }
        out.push_str(&format!("\n{}\n", self.summary()));
        out
    }

    /// One JSON document: `{"items": [{"address", "status", "job_id"?, "message"?}], "summary": {...}}`.
    pub fn render_json(&self) -> String {
        let count = |f: fn(&Outcome) -> bool| self.items.iter().filter(|i| f(&i.outcome)).count();
        let value = serde_json::json!({
            "items": self.items,
            "summary": {
                "succeeded": count(|o| matches!(o, Outcome::Succeeded { .. })),
                "failed": count(|o| matches!(o, Outcome::Failed { .. })),
                "timed_out": count(|o| matches!(o, Outcome::TimedOut { .. })),
                "already_queued": count(|o| matches!(o, Outcome::AlreadyQueued { .. })),
                "queued": count(|o| matches!(o, Outcome::Queued { .. })),
            }
        });
        let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
        text.push('\n');
        text
    }

    fn summary(&self) -> String {
        let mut parts = Vec::new();
        for (label, n) in [
            ("succeeded", self.items.iter().filter(|i| matches!(i.outcome, Outcome::Succeeded { .. })).count()),
            ("failed", self.items.iter().filter(|i| matches!(i.outcome, Outcome::Failed { .. })).count()),
            ("timed out", self.items.iter().filter(|i| matches!(i.outcome, Outcome::TimedOut { .. })).count()),
            (
                "already queued",
                self.items.iter().filter(|i| matches!(i.outcome, Outcome::AlreadyQueued { .. })).count(),
            ),
            ("queued", self.items.iter().filter(|i| matches!(i.outcome, Outcome::Queued { .. })).count()),
        ] {
            if n > 0 {
                parts.push(format!("{n} {label}"));
            }
        }
        if parts.is_empty() { "No refreshes.".to_owned() } else { format!("Refreshes: {}.", parts.join(", ")) }
    }
}

fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Queued { job_id } => format!("queued (job {job_id})"),
        Outcome::Succeeded { job_id } => format!("succeeded (job {job_id})"),
        Outcome::Failed { job_id: Some(job_id), message } => format!("failed (job {job_id}): {message}"),
        Outcome::Failed { job_id: None, message } => format!("failed: {message}"),
        Outcome::TimedOut { job_id } => format!("timed out (job {job_id} still running)"),
        Outcome::AlreadyQueued { message } => format!("already queued: {message}"),
    }
}

/// Starts a refresh of every target (each recorded in the audit log before and after Tableau answers), then, with
/// `wait`, polls the started jobs every `poll` until each finishes or `timeout` passes.
pub async fn run(
    client: &Client,
    targets: &[Target],
    options: &RefreshOptions,
    audit: &AuditLog,
) -> Result<Report, RefreshError> {
    let deadline = tokio::time::Instant::now() + options.timeout;
    let mut items = Vec::new();
    let mut running: Vec<(usize, String)> = Vec::new();
    for target in targets {
        let record = |extra: serde_json::Value| {
            let mut data = serde_json::json!({"address": target.address, "id": target.id});
            if let (Some(data), Some(extra)) = (data.as_object_mut(), extra.as_object()) {
                data.extend(extra.clone());
            }
            data
        };
        audit.append("refresh_start", record(serde_json::json!({})))?;
        let answer = match target.kind {
            ContentKind::Workbook => client.refresh_workbook(&target.id).await,
            ContentKind::Datasource => client.refresh_datasource(&target.id).await,
        };
        let outcome = match answer {
            Ok(job) => {
                audit.append("refresh_started", record(serde_json::json!({"job_id": job.id})))?;
                running.push((items.len(), job.id.clone()));
                Outcome::Queued { job_id: job.id }
            }
            Err(tabops_tableau::Error::Api { code, detail, .. }) if code == ALREADY_QUEUED => {
                audit.append("refresh_refused", record(serde_json::json!({"code": code, "message": detail})))?;
                Outcome::AlreadyQueued { message: detail }
            }
            Err(error) => {
                let message = match &error {
                    tabops_tableau::Error::Api { code, detail, .. } => format!("error {code}: {detail}"),
                    other => other.to_string(),
                };
                audit.append("refresh_refused", record(serde_json::json!({"message": message})))?;
                Outcome::Failed { job_id: None, message }
            }
        };
        items.push(ItemReport { address: target.address.clone(), outcome });
    }
    if options.wait {
        while !running.is_empty() {
            let mut still = Vec::new();
            for (at, job_id) in running {
                let finished = match client.get_job(&job_id).await {
                    Ok(job) => finished(job),
                    Err(error) => Some(Outcome::Failed { job_id: Some(job_id.clone()), message: error.to_string() }),
                };
                match finished {
                    Some(outcome) => {
                        audit.append(
                            "refresh_complete",
                            serde_json::json!({"address": items[at].address, "job_id": job_id, "outcome": outcome}),
                        )?;
                        items[at].outcome = outcome;
                    }
                    None => still.push((at, job_id)),
                }
            }
            running = still;
            if running.is_empty() {
                break;
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                for (at, job_id) in &running {
                    items[*at].outcome = Outcome::TimedOut { job_id: job_id.clone() };
                }
                break;
            }
            tokio::time::sleep(options.poll.min(deadline - now)).await;
        }
    }
    Ok(Report { items })
}

/// The outcome of a finished job, `None` while it runs.
fn finished(job: Job) -> Option<Outcome> {
    let job_id = job.id.clone();
    match job.state() {
        JobState::Running => None,
        JobState::Succeeded => Some(Outcome::Succeeded { job_id }),
        JobState::Failed => Some(Outcome::Failed {
            job_id: Some(job_id),
            message: job.notes.filter(|n| !n.is_empty()).unwrap_or_else(|| "the job failed (finishCode 1)".into()),
        }),
        JobState::Cancelled => Some(Outcome::Failed { job_id: Some(job_id), message: "the job was cancelled".into() }),
    }
}
