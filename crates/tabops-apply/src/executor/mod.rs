//! Applying a plan: waves in dependency order, bounded concurrency inside a wave, one audit record before and
//! after every write.
//!
//! Failure policy: a failed action never stops independent ones; actions that depend on it (directly or through a
//! chain) are skipped and say why. Re-running converges: every operation is either idempotent on the site
//! (overwrite publishes, deletes that find nothing, memberships that already exist) or, for creates whose outcome
//! is ambiguous (request sent, response lost), read back before it is retried, so nothing is created twice.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use serde::Serialize;
use serde_json::json;

use tabops_manifest::model::ContentKind;
use tabops_plan::plan::{ObjectRef, Operation, ParentChange};
use tabops_plan::{Action, Plan, PlannedAction};
use tabops_tableau as api;

use crate::audit::{AuditError, AuditLog};
use crate::error::{ActionError, ApplyError};
use crate::refresh_tasks;
use crate::wire;

mod content;
mod members;
mod permissions;
mod subscriptions;
mod units;
mod webhooks;

/// How to run a plan.
#[derive(Debug, Clone)]
pub struct ExecuteOptions {
    /// Actions of one wave in flight at once (the client bounds requests separately).
    pub concurrency: usize,
    /// Longest wait for an asynchronous job (publish accepted as a job).
    pub job_timeout: Duration,
    /// The environment, for `${env:NAME}` connection passwords in saved plans.
    pub environment: BTreeMap<String, String>,
}

impl Default for ExecuteOptions {
    fn default() -> Self {
        ExecuteOptions { concurrency: 8, job_timeout: Duration::from_secs(600), environment: BTreeMap::new() }
    }
}

/// How one action ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "detail")]
pub enum Status {
    Completed,
    Failed(String),
    Skipped(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct ActionOutcome {
    pub address: String,
    pub action: Action,
    #[serde(flatten)]
    pub status: Status,
    pub duration_ms: u64,
    pub uploaded_bytes: u64,
}

/// The result of an apply.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Outcome {
    pub actions: Vec<ActionOutcome>,
}

impl Outcome {
    pub fn completed(&self) -> usize {
        self.actions.iter().filter(|a| a.status == Status::Completed).count()
    }
    pub fn failed(&self) -> usize {
        self.actions.iter().filter(|a| matches!(a.status, Status::Failed(_))).count()
    }
    pub fn skipped(&self) -> usize {
        self.actions.iter().filter(|a| matches!(a.status, Status::Skipped(_))).count()
    }
    pub fn uploaded_bytes(&self) -> u64 {
        self.actions.iter().map(|a| a.uploaded_bytes).sum()
    }
    /// `Apply complete: 3 completed, 1 failed, 2 skipped.`
    pub fn summary_line(&self) -> String {
        if self.failed() == 0 && self.skipped() == 0 {
            format!("Apply complete: {} action(s) completed.", self.completed())
        } else {
            format!(
                "Apply finished with errors: {} completed, {} failed, {} skipped.",
                self.completed(),
                self.failed(),
                self.skipped()
            )
        }
    }
}

/// Observes an apply as it runs (a progress display, say). The audit log is not a hook: it must be written, and a
/// failure to write it stops the apply, while a hook can only watch.
pub trait Hook: Sync {
    /// The apply is about to run `actions` changes.
    fn apply_started(&self, _actions: usize) {}
    /// One action is about to be sent.
    fn action_started(&self, _action: &PlannedAction) {}
    /// One action ended (completed, failed or skipped).
    fn action_finished(&self, _outcome: &ActionOutcome) {}
}

/// The hook that watches nothing.
struct NoHook;
impl Hook for NoHook {}

/// Applies `plan` through `client`, recording every step in `audit`.
pub async fn execute(
    plan: &Plan,
    client: &api::Client,
    audit: &AuditLog,
    options: &ExecuteOptions,
) -> Result<Outcome, ApplyError> {
    execute_with_hook(plan, client, audit, options, &NoHook).await
}

/// [`execute`], telling `hook` about every action as it starts and ends.
pub async fn execute_with_hook(
    plan: &Plan,
    client: &api::Client,
    audit: &AuditLog,
    options: &ExecuteOptions,
    hook: &dyn Hook,
) -> Result<Outcome, ApplyError> {
    if !plan.applyable {
        let reasons: Vec<String> = plan.errors.iter().map(|e| format!("{}: {}", e.address, e.message)).collect();
        return Err(ApplyError::NotApplyable(reasons.join("; ")));
    }
    let started = Instant::now();
    let mut start = json!({
            "site": plan.site.content_url,
            "site_id": plan.site.id,
            "plan_digest": plan.digest(),
            "manifest_digest": plan.inputs.manifest_digest,
            "git": plan.inputs.git,
            "actions": plan.changes().count(),
    });
    // The pipeline run and pull request behind this apply, when CI says (see `trail::ci`).
    if let Some(ci) = crate::trail::ci::context(&options.environment) {
        start["ci"] = ci;
    }
    audit.append("apply_start", start)?;
    let executor = Executor {
        client,
        audit,
        options,
        ids: Mutex::new(HashMap::new()),
        failed: Mutex::new(HashSet::new()),
        commit_marker: commit_marker(plan),
        adoptable_tasks: refresh_tasks::adoptable_creates(plan),
        tasks: refresh_tasks::TaskBook::default(),
    };
    let mut outcome = Outcome::default();
    hook.apply_started(plan.changes().count());
    for wave in plan.waves() {
        let changes: Vec<&PlannedAction> = wave.into_iter().filter(|a| a.action != Action::NoOp).collect();
        // The refresh tasks created so far are settled once, at the end, unless an action of this wave needs one.
        if changes.iter().any(|a| a.depends_on.iter().any(|d| executor.tasks.is_unsettled(d))) {
            executor.settle_tasks(&mut outcome).await?;
        }
        let units = units::units(changes, client.supports_bulk_membership());
        let results: Vec<Vec<Result<ActionOutcome, ApplyError>>> = stream::iter(units)
            .map(|unit| async {
                let actions = unit.actions();
                for action in &actions {
                    hook.action_started(action);
                }
                let results = match unit {
                    units::Unit::One(action) => vec![executor.run(action).await],
                    units::Unit::Members { add, actions } => executor.run_members(add, &actions).await,
                    units::Unit::Grants(actions) => executor.run_grants(&actions).await,
                };
                for done in results.iter().flatten() {
                    hook.action_finished(done);
                }
                results
            })
            .buffer_unordered(options.concurrency.max(1))
            .collect()
            .await;
        for result in results.into_iter().flatten() {
            outcome.actions.push(result?);
        }
    }
    executor.settle_tasks(&mut outcome).await?;
    outcome.actions.sort_by(|a, b| a.address.cmp(&b.address));
    audit.append(
        "apply_complete",
        json!({
            "completed": outcome.completed(),
            "failed": outcome.failed(),
            "skipped": outcome.skipped(),
            "uploaded_bytes": outcome.uploaded_bytes(),
            "duration_ms": started.elapsed().as_millis() as u64,
        }),
    )?;
    Ok(outcome)
}

struct Executor<'a> {
    client: &'a api::Client,
    audit: &'a AuditLog,
    options: &'a ExecuteOptions,
    /// Address -> live id of everything this apply created (or found already created).
    ids: Mutex<HashMap<String, String>>,
    /// Addresses of actions that failed or were skipped.
    failed: Mutex<HashSet<String>>,
    /// `tabops.commit.<12 hex>` of the plan's git commit, set on every item this apply publishes.
    commit_marker: Option<String>,
    /// Refresh-task creates that adopt an equal live task instead of adding a duplicate (see `refresh_tasks`).
    adoptable_tasks: HashSet<String>,
    /// The site's task list as this apply reads it (once), and the tasks it created, settled once they all are.
    tasks: refresh_tasks::TaskBook,
}

impl Executor<'_> {
    async fn run(&self, action: &PlannedAction) -> Result<ActionOutcome, ApplyError> {
        let began = match self.start(action)? {
            Started::Skipped(skipped) => return Ok(skipped),
            Started::Running(began) => began,
        };
        let (result, retries) = api::record_retries(self.perform(action)).await;
        Ok(self.finish(action, result, began.elapsed(), &retries)?)
    }

    /// Skips an action whose dependency did not complete, or records its start (durably, before any request).
    fn start(&self, action: &PlannedAction) -> Result<Started, AuditError> {
        let address = action.id.clone();
        let blocked = {
            let failed = self.failed.lock().unwrap_or_else(|e| e.into_inner());
            action.depends_on.iter().find(|d| failed.contains(*d)).cloned()
        };
        if let Some(dependency) = blocked {
            let why = format!("depends on {dependency}, which did not complete");
            self.audit.append("action_skipped", json!({ "address": address, "reason": why }))?;
            self.mark_failed(&address);
            return Ok(Started::Skipped(outcome(action, Status::Skipped(why), Duration::ZERO, 0)));
        }
        let mut start = json!({
            "address": address,
            "action": action.action,
            "kind": action.kind,
            "reason": action.reason,
            "live_id": action.live_id,
        });
        if let Operation::Publish(op) = &action.operation {
            start["content"] = json!({
                "file": op.file.display,
                "sha256": op.file.sha256,
                "file_sha256": op.file.file_sha256,
                "bytes": op.file.size,
            });
        }
        if let Operation::UpdateContent(op) = &action.operation
            && !op.connections.is_empty()
        {
            // The connections repointed: `refresh --changed-by-apply` refreshes the items whose connections changed.
            start["connections"] = json!(op.connections.iter().map(|c| &c.id).collect::<Vec<_>>());
        }
        self.audit.append("action_start", start)?;
        Ok(Started::Running(Instant::now()))
    }

    /// Records how a started action ended, with the retries its requests needed.
    fn finish(
        &self,
        action: &PlannedAction,
        result: Result<Option<String>, ActionError>,
        elapsed: Duration,
        retries: &[api::RetryNotice],
    ) -> Result<ActionOutcome, AuditError> {
        let address = action.id.clone();
        let uploaded = match &action.operation {
            Operation::Publish(op) => op.file.size,
            _ => 0,
        };
        for retry in retries {
            self.audit.append(
                "action_retry",
                json!({
                    "address": address,
                    "operation": retry.operation,
                    "reason": retry.reason,
                    "delay_ms": u64::try_from(retry.delay.as_millis()).unwrap_or(u64::MAX),
                }),
            )?;
        }
        match result {
            Ok(id) => {
                if let Some(id) = &id {
                    self.ids.lock().unwrap_or_else(|e| e.into_inner()).insert(address.clone(), id.clone());
                }
                let mut complete = json!({
                    "address": address,
                    "id": id,
                    "duration_ms": elapsed.as_millis() as u64,
                    "uploaded_bytes": uploaded,
                });
                if let Operation::Publish(op) = &action.operation {
                    // What was sent, not what was meant to be: the client completes an upload only when the bytes it
                    // streamed hash to this digest.
                    complete["sent"] = json!({ "file_sha256": op.file.file_sha256, "bytes": op.file.size });
                }
                self.audit.append("action_complete", complete)?;
                Ok(outcome(action, Status::Completed, elapsed, uploaded))
            }
            Err(err) => {
                let message = error_chain(&err);
                let code = match &err {
                    ActionError::Api(api_err) => api_err.code().map(str::to_owned),
                    _ => None,
                };
                tracing::info!(%address, error = %message, "action failed");
                self.audit.append(
                    "action_errored",
                    json!({ "address": address, "error": message, "code": code, "duration_ms": elapsed.as_millis() as u64 }),
                )?;
                self.mark_failed(&address);
                Ok(outcome(action, Status::Failed(message), elapsed, 0))
            }
        }
    }

    /// Settles the refresh tasks created so far against a concurrent apply's equal ones (see `refresh_tasks`).
    /// A task of this apply that gives way to a lower id is recorded as `action_settled`, with the id kept. When
    /// the settling fails, the creates it could not settle fail (`action_errored`): their tasks may be duplicated.
    async fn settle_tasks(&self, outcome: &mut Outcome) -> Result<(), ApplyError> {
        match self.tasks.settle(self.client).await {
            Ok(settled) => {
                for task in settled {
                    self.ids.lock().unwrap_or_else(|e| e.into_inner()).insert(task.address.clone(), task.kept.clone());
                    self.audit.append(
                        "action_settled",
                        json!({ "address": task.address, "id": task.kept, "created": task.created, "deleted": task.deleted }),
                    )?;
                }
            }
            Err((addresses, err)) => {
                let message = error_chain(&err);
                for address in addresses {
                    self.audit.append("action_errored", json!({ "address": address, "error": message }))?;
                    self.mark_failed(&address);
                    if let Some(done) = outcome.actions.iter_mut().find(|a| a.address == address) {
                        done.status = Status::Failed(message.clone());
                    }
                }
            }
        }
        Ok(())
    }

    fn mark_failed(&self, address: &str) {
        self.failed.lock().unwrap_or_else(|e| e.into_inner()).insert(address.to_owned());
    }

    fn resolve(&self, reference: &ObjectRef) -> Result<String, ActionError> {
        match reference {
            ObjectRef::Live(id) => Ok(id.clone()),
            ObjectRef::Planned(address) => self
                .ids
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(address)
                .cloned()
                .ok_or_else(|| ActionError::MissingReference(address.clone())),
        }
    }

    fn resolve_opt(&self, reference: Option<&ObjectRef>) -> Result<Option<String>, ActionError> {
        reference.map(|r| self.resolve(r)).transpose()
    }

    /// Performs one operation; returns the live id of the object it created or touched, when there is one.
    async fn perform(&self, action: &PlannedAction) -> Result<Option<String>, ActionError> {
        let client = self.client;
        match &action.operation {
            Operation::None => Ok(None),
            Operation::UpdateSiteSettings { attributes } => {
                client.update_site(attributes).await?;
                Ok(Some(client.site_id().to_owned()))
            }
            Operation::AddUser { name, site_role, auth_setting, idp_configuration_id, full_name, email } => {
                let new = api::NewUser {
                    name: name.clone(),
                    site_role: site_role.as_str().to_owned(),
                    auth_setting: auth_setting.map(|a| a.as_str().to_owned()),
                    idp_configuration_id: idp_configuration_id.clone(),
                };
                let user = match client.add_user(&new).await {
                    Ok(user) => user,
                    Err(err) if err.is_conflict() || err.is_ambiguous() => {
                        find_by_name(client.users().await?, name, |u| &u.name).ok_or(err)?
                    }
                    Err(err) => return Err(err.into()),
                };
                if full_name.is_some() || email.is_some() {
                    let update =
                        api::UserUpdate { full_name: full_name.clone(), email: email.clone(), ..Default::default() };
                    client.update_user(&user.id, &update).await?;
                }
                Ok(Some(user.id))
            }
            Operation::UpdateUser { user, site_role, auth_setting, idp_configuration_id, full_name, email } => {
                let update = api::UserUpdate {
                    full_name: full_name.clone(),
                    email: email.clone(),
                    site_role: site_role.map(|r| r.as_str().to_owned()),
                    auth_setting: auth_setting.map(|a| a.as_str().to_owned()),
                    idp_configuration_id: idp_configuration_id.clone(),
                };
                client.update_user(user, &update).await?;
                Ok(Some(user.clone()))
            }
            Operation::RemoveUser { user, map_assets_to: None } => {
                ignore_missing(client.remove_user(user).await).map(|()| None)
            }
            Operation::RemoveUser { user, map_assets_to: Some(heir) } => {
                let heir = self.resolve(heir)?;
                ignore_missing(client.remove_user_mapping_assets(user, &heir).await).map(|()| None)
            }
            Operation::CreateProject { name, parent, description, content_permissions, owner } => {
                let parent_id = self.resolve_opt(parent.as_ref())?;
                let new = api::NewProject {
                    name: name.clone(),
                    description: description.clone(),
                    parent_id: parent_id.clone(),
                    content_permissions: content_permissions.map(|c| c.as_str().to_owned()),
                };
                let project = match client.create_project(&new).await {
                    Ok(project) => project,
                    Err(err) if err.is_conflict() || err.is_ambiguous() => client
                        .projects()
                        .await?
                        .into_iter()
                        .find(|p| {
                            p.name.eq_ignore_ascii_case(name)
                                && p.parent_id.as_deref().filter(|s| !s.is_empty()) == parent_id.as_deref()
                        })
                        .ok_or(err)?,
                    Err(err) => return Err(err.into()),
                };
                if let Some(owner) = self.resolve_opt(owner.as_ref())? {
                    let update = api::ProjectUpdate { owner_id: Some(owner), ..Default::default() };
                    client.update_project(&project.id, &update).await?;
                }
                Ok(Some(project.id))
            }
            Operation::UpdateProject { project, name, parent, description, content_permissions, owner } => {
                let parent_id = match parent {
                    None => None,
                    Some(ParentChange::TopLevel) => Some(String::new()),
                    Some(ParentChange::Project(reference)) => Some(self.resolve(reference)?),
                };
                let update = api::ProjectUpdate {
                    name: name.clone(),
                    description: description.clone(),
                    content_permissions: content_permissions.map(|c| c.as_str().to_owned()),
                    parent_id,
                    owner_id: self.resolve_opt(owner.as_ref())?,
                };
                client.update_project(project, &update).await?;
                Ok(Some(project.clone()))
            }
            Operation::DeleteProject { project } => ignore_missing(client.delete_project(project).await).map(|()| None),
            Operation::CreateGroup { name, minimum_site_role } => {
                let new = api::NewGroup {
                    name: name.clone(),
                    minimum_site_role: minimum_site_role.map(|r| r.as_str().to_owned()),
                };
                let group = match client.create_group(&new).await {
                    Ok(group) => group,
                    Err(err) if err.is_conflict() || err.is_ambiguous() => {
                        find_by_name(client.groups().await?, name, |g| &g.name).ok_or(err)?
                    }
                    Err(err) => return Err(err.into()),
                };
                Ok(Some(group.id))
            }
            Operation::UpdateGroup { group, name, minimum_site_role } => {
                let update = api::GroupUpdate {
                    name: name.clone(),
                    minimum_site_role: minimum_site_role.map(|r| r.as_str().to_owned()),
                };
                client.update_group(group, &update).await?;
                Ok(Some(group.clone()))
            }
            Operation::DeleteGroup { group } => ignore_missing(client.delete_group(group).await).map(|()| None),
            Operation::AddMember { group, user } => {
                let (group, user) = (self.resolve(group)?, self.resolve(user)?);
                self.add_member(&group, &user).await
            }
            Operation::RemoveMember { group, user } => self.remove_member(group, user).await,
            Operation::Publish(op) => self.publish(op).await.map(Some),
            Operation::UpdateContent(op) => self.update_content(op).await.map(Some),
            Operation::DeleteContent { kind, item } => {
                let result = match kind {
                    ContentKind::Workbook => client.delete_workbook(item).await,
                    ContentKind::Datasource => client.delete_datasource(item).await,
                };
                ignore_missing(result).map(|()| None)
            }
            Operation::SetPermissions { target, object, default_for, grantee, grant, revoke } => {
                self.set_permissions(*target, object, *default_for, grantee, grant, revoke).await.map(|()| None)
            }
            Operation::RevokeCopiedPermissions { target, object, default_for, keep } => {
                self.revoke_copied_permissions(*target, object, *default_for, keep).await.map(|()| None)
            }
            Operation::CreateRefreshTask { kind, item, refresh_type, schedule } => {
                let task = api::NewRefreshTask {
                    target: wire::task_target(*kind, self.resolve(item)?),
                    refresh_type: refresh_type.as_wire().to_owned(),
                    schedule: wire::to_wire_schedule(schedule),
                };
                let adoptable = self.adoptable_tasks.contains(&action.id);
                if adoptable
                    && let Some(existing) = self.tasks.find_equal(client, &task.target, *refresh_type, schedule).await?
                {
                    // Created since the plan was made (a concurrent apply): adopt it rather than duplicate it.
                    return Ok(Some(existing));
                }
                match client.create_refresh_task(&task).await {
                    Ok(created) if adoptable => {
                        // A concurrent apply may be creating the same task now: settled once the creates are done.
                        self.tasks.created(&action.id, &task.target, *refresh_type, schedule, created.id.clone());
                        Ok(Some(created.id))
                    }
                    Ok(created) => Ok(Some(created.id)),
                    Err(err) if err.is_ambiguous() && adoptable => {
                        refresh_tasks::find_equal_now(client, &task.target, *refresh_type, schedule)
                            .await?
                            .map(Some)
                            .ok_or(err.into())
                    }
                    Err(err) => Err(err.into()),
                }
            }
            Operation::UpdateRefreshTask { task, kind, item, refresh_type, schedule } => {
                let update = api::RefreshTaskUpdate {
                    refresh_type: Some(refresh_type.as_wire().to_owned()),
                    target: Some(wire::task_target(*kind, item.clone())),
                    schedule: Some(wire::to_wire_schedule(schedule)),
                };
                client.update_refresh_task(task, &update).await?;
                Ok(Some(task.clone()))
            }
            Operation::DeleteRefreshTask { task } => {
                ignore_missing(client.delete_refresh_task(task).await).map(|()| None)
            }
            Operation::CreateSubscription { workbook, view, user, schedule, fields } => {
                let (workbook, user) = (self.resolve(workbook)?, self.resolve(user)?);
                subscriptions::create(client, &workbook, view.as_deref(), &user, schedule, fields).await.map(Some)
            }
            Operation::UpdateSubscription { subscription, fields } => {
                let update = api::SubscriptionUpdate { body: subscriptions::body(fields), schedule: None };
                client.update_subscription(subscription, &update).await?;
                Ok(Some(subscription.clone()))
            }
            Operation::DeleteSubscription { subscription } => {
                ignore_missing(client.delete_subscription(subscription).await).map(|()| None)
            }
            Operation::CreateWebhook { name, event, url, enabled } => {
                webhooks::create(client, name, *event, url, *enabled).await
            }
            Operation::UpdateWebhook { webhook, name, event, url, enabled } => {
                webhooks::update(client, webhook, name, *event, url, *enabled).await
            }
            Operation::DeleteWebhook { webhook } => webhooks::delete(client, webhook).await,
        }
    }
}

/// How [`Executor::start`] left an action.
enum Started {
    /// Not sent: a dependency did not complete.
    Skipped(ActionOutcome),
    /// Recorded as started at this instant.
    Running(Instant),
}

fn outcome(action: &PlannedAction, status: Status, elapsed: Duration, uploaded_bytes: u64) -> ActionOutcome {
    ActionOutcome {
        address: action.id.clone(),
        action: action.action,
        status,
        duration_ms: elapsed.as_millis() as u64,
        uploaded_bytes,
    }
}

/// The commit marker for a plan made from a git commit: `tabops.commit.<first 12 hex of the commit>`.
fn commit_marker(plan: &Plan) -> Option<String> {
    let commit = &plan.inputs.git.as_ref()?.commit;
    let short: String = commit.chars().take(12).collect();
    (short.len() == 12 && short.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| format!("{}{}", tabops_plan::marker::COMMIT_MARKER_PREFIX, short.to_lowercase()))
}

/// A delete or removal whose target is already gone has reached the desired state.
fn ignore_missing<T: Default>(result: api::Result<T>) -> Result<T, ActionError> {
    match result {
        Err(err) if err.is_not_found() => Ok(T::default()),
        other => other.map_err(ActionError::from),
    }
}

fn find_by_name<T>(items: Vec<T>, name: &str, get: impl Fn(&T) -> &String) -> Option<T> {
    items.into_iter().find(|item| get(item).eq_ignore_ascii_case(name))
}

/// `message: cause: cause`, for the audit log and reports.
fn error_chain(err: &ActionError) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
