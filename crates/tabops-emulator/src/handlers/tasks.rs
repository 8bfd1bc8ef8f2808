//! Tableau Cloud extract-refresh tasks (create/list/get/update via POST/delete/runNow) and background jobs
//! (running, then completed with a finishCode after a short delay or a few polls; cancel).

use http::StatusCode;

use super::render;
use super::{Ctx, Reply};
use crate::config::EmulatorConfig;
use crate::error::{ApiError, ApiResult};
use crate::query;
use crate::schedule::Schedule;
use crate::store::{self, Job, State, TargetKind, Task};
use crate::xml::{Elem, Node};

pub fn new_job(job_type: &str, target: Option<(TargetKind, String, String)>) -> Job {
    Job {
        id: store::new_id(),
        job_type: job_type.to_owned(),
        created_at: store::now(),
        completed_at: None,
        finish_code: 0,
        target,
        polls: 0,
        created_ms: store::now_ms(),
        notes: None,
        fails: false,
        announced_start: false,
        announced_end: false,
    }
}

/// What a failed refresh says in its notes (Tableau puts the engine's error there).
const FAILED_REFRESH_NOTES: &str = "com.tableausoftware.nativeapi.dll.DataSourceException: the emulator was asked to fail this refresh \
     (POST /_emulator/jobs/fail-next)";

/// Complete the job if it is old enough or has been polled enough.
fn settle(config: &EmulatorConfig, job: &mut Job) {
    if job.completed_at.is_some() {
        return;
    }
    let age = store::now_ms().saturating_sub(job.created_ms);
    if job.polls >= config.job_polls || age >= config.job_duration.as_millis() {
        job.completed_at = Some(store::now());
        job.finish_code = if job.fails { 1 } else { 0 };
        if job.fails {
            job.notes = Some(FAILED_REFRESH_NOTES.to_owned());
        }
    }
}

/// Refreshing content that holds no extract: Tableau answers 409090 "Bad Request", "Extract operation for the
/// workbook '…' is not allowed." (tableauserverclient issue #1531, a workbook refreshed through
/// `server.workbooks.refresh`). The data-source wording and the same answer to creating a refresh task for such
/// content are inferred.
pub fn no_extracts(kind: TargetKind, name: &str) -> ApiError {
    let what = if kind == TargetKind::Workbook { "workbook" } else { "data source" };
    ApiError::new(
        409090,
        "Bad Request",
        format!(
            "Extract operation for the {what} '{name}' is not allowed.. (Extract operation for the {what} is not allowed.)"
        ),
    )
}

/// Queue a refresh job for a workbook or data source; 409093 if one is already running for it.
pub fn queue_refresh(
    config: &EmulatorConfig,
    state: &mut State,
    kind: TargetKind,
    id: &str,
    name: &str,
) -> ApiResult<Elem> {
    for job in state.jobs.iter_mut() {
        settle(config, job);
    }
    let running = state.jobs.iter().any(|j| {
        j.completed_at.is_none() && j.job_type == "RefreshExtract" && j.target.as_ref().is_some_and(|t| t.1 == id)
    });
    if running {
        let what = if kind == TargetKind::Workbook { "workbook" } else { "datasource" };
        return Err(ApiError::conflict(
            409093,
            format!("Job for {what} '{name}' is already queued. Not queuing a duplicate."),
        ));
    }
    let mut job = new_job("RefreshExtract", Some((kind, id.to_owned(), name.to_owned())));
    if state.failing_refreshes > 0 {
        state.failing_refreshes -= 1;
        job.fails = true;
    }
    let elem = render::job(&job);
    state.jobs.push(job);
    Ok(elem)
}

fn target_of(state: &State, node: &Node) -> ApiResult<(TargetKind, String, String)> {
    if let Some(id) = node.child("workbook").and_then(|w| w.attr("id")) {
        let w = state
            .workbooks
            .iter()
            .find(|w| w.content.id == id)
            .ok_or_else(|| ApiError::not_found(404006, "Workbook", id))?;
        if !w.content.has_extracts {
            return Err(no_extracts(TargetKind::Workbook, &w.content.name));
        }
        return Ok((TargetKind::Workbook, id.to_owned(), w.content.name.clone()));
    }
    if let Some(id) = node.child("datasource").and_then(|d| d.attr("id")) {
        let d = state
            .datasources
            .iter()
            .find(|d| d.content.id == id)
            .ok_or_else(|| ApiError::not_found(404004, "Datasource", id))?;
        if !d.content.has_extracts {
            return Err(no_extracts(TargetKind::Datasource, &d.content.name));
        }
        return Ok((TargetKind::Datasource, id.to_owned(), d.content.name.clone()));
    }
    Err(ApiError::bad_request("The extract refresh needs a workbook or datasource."))
}

fn refresh_type(node: &Node, default: &str) -> ApiResult<String> {
    match node.attr("type").unwrap_or(default) {
        t @ ("FullRefresh" | "IncrementalRefresh") => Ok(t.to_owned()),
        other => Err(ApiError::bad_request(format!("Invalid extract refresh type '{other}'."))),
    }
}

fn task_index(state: &State, id: &str) -> ApiResult<usize> {
    state.tasks.iter().position(|t| t.id == id).ok_or_else(|| ApiError::not_found(404026, "Task", id))
}

/// Routes under `/tasks/extractRefreshes`; `seg` starts after it.
pub async fn route_tasks(ctx: &mut Ctx, method: &str, seg: &[&str], low: &[&str]) -> ApiResult<Reply> {
    match (method, low) {
        ("GET", []) => {
            let state = ctx.shared.lock();
            Reply::ok(vec![Elem::new("tasks").children(state.tasks.iter().map(render::task).collect::<Vec<_>>())])
        }
        ("POST", []) => create(ctx).await,
        ("GET", [_]) => {
            let state = ctx.shared.lock();
            Reply::ok(vec![render::task(&state.tasks[task_index(&state, seg[0])?])])
        }
        ("POST", [_]) => update(ctx, seg[0]).await,
        ("DELETE", [_]) => {
            let mut state = ctx.shared.lock();
            let index = task_index(&state, seg[0])?;
            state.tasks.remove(index);
            Ok(Reply::NoContent)
        }
        ("POST", [_, "runnow"]) => {
            let mut state = ctx.shared.lock();
            let task = state.tasks[task_index(&state, seg[0])?].clone();
            let target = match task.target_kind {
                TargetKind::Workbook => {
                    state.workbooks.iter().find(|w| w.content.id == task.target_id).map(|w| &w.content)
                }
                TargetKind::Datasource => {
                    state.datasources.iter().find(|d| d.content.id == task.target_id).map(|d| &d.content)
                }
            };
            let name = target.map(|c| c.name.clone()).unwrap_or_default();
            // Content republished without its extract since the task was created.
            if target.is_some_and(|c| !c.has_extracts) {
                return Err(no_extracts(task.target_kind, &name));
            }
            let job = queue_refresh(&ctx.shared.config, &mut state, task.target_kind, &task.target_id, &name)?;
            Reply::ok(vec![job])
        }
        _ => Err(ApiError::method_not_allowed(method, "tasks/extractRefreshes")),
    }
}

async fn create(ctx: &mut Ctx) -> ApiResult<Reply> {
    let root = ctx.xml().await?;
    let refresh =
        root.child("extractRefresh").ok_or_else(|| ApiError::bad_request("Missing extractRefresh element."))?;
    let schedule_node = root.child("schedule").or_else(|| refresh.child("schedule")).ok_or_else(|| {
        ApiError::conflict(409004, "A schedule is required for an extract refresh task on Tableau Cloud.")
    })?;
    let schedule = Schedule::from_node(schedule_node)?;
    let mut state = ctx.shared.lock();
    let (kind, id, _) = target_of(&state, refresh)?;
    let task = Task {
        id: store::new_id(),
        refresh_type: refresh_type(refresh, "FullRefresh")?,
        target_kind: kind,
        target_id: id,
        schedule,
        priority: 50,
        created_at: store::now(),
    };
    let elems = render::task_siblings(&task);
    state.tasks.push(task);
    Ok(Reply::Xml(StatusCode::OK, elems))
}

async fn update(ctx: &mut Ctx, id: &str) -> ApiResult<Reply> {
    let root = ctx.xml().await?;
    let refresh = root.child("extractRefresh");
    let schedule = match root.child("schedule").or_else(|| refresh.and_then(|r| r.child("schedule"))) {
        Some(node) => Some(Schedule::from_node(node)?),
        None => None,
    };
    let mut state = ctx.shared.lock();
    let index = task_index(&state, id)?;
    let mut task = state.tasks[index].clone();
    if let Some(refresh) = refresh {
        task.refresh_type = refresh_type(refresh, &task.refresh_type)?;
        if refresh.child("workbook").is_some() || refresh.child("datasource").is_some() {
            let (kind, target, _) = target_of(&state, refresh)?;
            task.target_kind = kind;
            task.target_id = target;
        }
    }
    if let Some(schedule) = schedule {
        task.schedule = schedule;
    }
    let elems = render::task_siblings(&task);
    state.tasks[index] = task;
    Reply::ok(elems)
}

/// Routes under `/jobs`; `seg` starts after it.
pub fn route_jobs(ctx: &mut Ctx, method: &str, seg: &[&str]) -> ApiResult<Reply> {
    let config = ctx.shared.config.clone();
    let mut state = ctx.shared.lock();
    match (method, seg) {
        ("GET", []) => {
            for job in state.jobs.iter_mut() {
                settle(&config, job);
            }
            let jobs = query::filter_sort(state.jobs.clone(), &ctx.query)?;
            let (page, pagination) = query::paginate(jobs, &ctx.query)?;
            let items = page.iter().map(render::background_job).collect::<Vec<_>>();
            Reply::ok(vec![pagination, Elem::new("backgroundJobs").children(items)])
        }
        ("GET", [id]) => {
            let job =
                state.jobs.iter_mut().find(|j| j.id == *id).ok_or_else(|| ApiError::not_found(404018, "Job", id))?;
            job.polls += 1;
            settle(&config, job);
            Reply::ok(vec![render::job(job)])
        }
        ("PUT", [id]) => {
            let job =
                state.jobs.iter_mut().find(|j| j.id == *id).ok_or_else(|| ApiError::not_found(404018, "Job", id))?;
            settle(&config, job);
            if job.completed_at.is_some() {
                return Err(ApiError::new(403091, "Forbidden", format!("Job '{id}' has already completed.")));
            }
            job.completed_at = Some(store::now());
            job.finish_code = 2;
            Reply::ok(vec![render::job(job)])
        }
        _ => Err(ApiError::method_not_allowed(method, "jobs")),
    }
}
