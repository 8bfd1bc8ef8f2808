//! Background jobs (get, wait with backoff polling) and Cloud extract-refresh tasks.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use reqwest::Method;

use super::transport::Call;
use super::{Client, missing};
use crate::error::{Error, Result};
use crate::models::{Job, JobState, NewRefreshTask, RefreshTask, RefreshTaskUpdate};

enum Poll {
    Pending,
    Failed(Error),
}

impl Client {
    /// `GET /jobs/{id}`.
    pub async fn get_job(&self, id: &str) -> Result<Job> {
        let call = Call::new(
            Method::GET,
            self.site_path(&format!("jobs/{id}")),
            "/sites/{site}/jobs/{id}",
            format!("read job {id}"),
        );
        self.expect_one(&call, "job", Job::from_element).await
    }

    /// Cancels a running job (`PUT /jobs/{id}`); 403091 if it already completed.
    pub async fn cancel_job(&self, id: &str) -> Result<Job> {
        let call = Call::new(
            Method::PUT,
            self.site_path(&format!("jobs/{id}")),
            "/sites/{site}/jobs/{id}",
            format!("cancel job {id}"),
        );
        let root = self.call_xml(&call).await?;
        Ok(root.child("job").and_then(Job::from_element).unwrap_or(Job { id: id.to_owned(), ..Job::default() }))
    }

    /// Polls a job with exponential backoff (200 ms ×1.5, at most 10 s apart) until it completes or `max_wait`
    /// passes. Success returns the job; finishCode 1 is [`Error::JobFailed`], 2 is [`Error::JobCancelled`].
    pub async fn wait_for_job(&self, id: &str, max_wait: Duration) -> Result<Job> {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(200))
            .with_factor(1.5)
            .with_max_delay(Duration::from_secs(10).min(max_wait.max(Duration::from_millis(200))))
            .without_max_times()
            .with_total_delay(Some(max_wait));
        let poll = || async {
            let job = self.get_job(id).await.map_err(Poll::Failed)?;
            match job.state() {
                JobState::Running => Err(Poll::Pending),
                _ => Ok(job),
            }
        };
        let timeout = || Error::Timeout { operation: format!("wait for job {id}"), after: max_wait };
        let outcome = tokio::time::timeout(
            max_wait + Duration::from_secs(1),
            poll.retry(backoff).when(|p| matches!(p, Poll::Pending)),
        )
        .await;
        let job = match outcome {
            Err(_) | Ok(Err(Poll::Pending)) => return Err(timeout()),
            Ok(Err(Poll::Failed(e))) => return Err(e),
            Ok(Ok(job)) => job,
        };
        let job_type = job.job_type.clone().unwrap_or_default();
        match job.state() {
            JobState::Succeeded | JobState::Running => Ok(job),
            JobState::Failed => {
                Err(Error::JobFailed { job_id: job.id, job_type, notes: job.notes.unwrap_or_default() })
            }
            JobState::Cancelled => Err(Error::JobCancelled { job_id: job.id, job_type }),
        }
    }

    /// All extract-refresh tasks (one response; Tableau does not page this list).
    pub async fn refresh_tasks(&self) -> Result<Vec<RefreshTask>> {
        let call = Call::new(
            Method::GET,
            self.site_path("tasks/extractRefreshes"),
            "/sites/{site}/tasks/extractRefreshes",
            "list extract refresh tasks",
        );
        let root = self.call_xml(&call).await?;
        Ok(root.child("tasks").map(RefreshTask::list_from).unwrap_or_default())
    }

    /// One extract-refresh task.
    pub async fn refresh_task(&self, id: &str) -> Result<RefreshTask> {
        let call = Call::new(
            Method::GET,
            self.site_path(&format!("tasks/extractRefreshes/{id}")),
            "/sites/{site}/tasks/extractRefreshes/{id}",
            format!("read extract refresh task {id}"),
        );
        let root = self.call_xml(&call).await?;
        let task = root.child("task").and_then(|t| t.child("extractRefresh")).or_else(|| root.child("extractRefresh"));
        task.and_then(|e| RefreshTask::from_element(e, root.child("schedule"))).ok_or_else(|| missing(&call, "task"))
    }

    /// Creates a task (Cloud: schedule inside the request, sibling of `extractRefresh`).
    pub async fn create_refresh_task(&self, task: &NewRefreshTask) -> Result<RefreshTask> {
        let call = Call::new(
            Method::POST,
            self.site_path("tasks/extractRefreshes"),
            "/sites/{site}/tasks/extractRefreshes",
            "create extract refresh task",
        )
        .xml(task.to_xml());
        self.task_response(&call).await
    }

    /// Updates a task (Cloud uses POST on the task URL). Safe to repeat, so it is retried like a PUT.
    pub async fn update_refresh_task(&self, id: &str, update: &RefreshTaskUpdate) -> Result<RefreshTask> {
        let call = Call::new(
            Method::POST,
            self.site_path(&format!("tasks/extractRefreshes/{id}")),
            "/sites/{site}/tasks/extractRefreshes/{id}",
            format!("update extract refresh task {id}"),
        )
        .xml(update.to_xml())
        .idempotent(true);
        self.task_response(&call).await
    }

    /// Deletes a task.
    pub async fn delete_refresh_task(&self, id: &str) -> Result<()> {
        self.delete(
            format!("tasks/extractRefreshes/{id}"),
            "/sites/{site}/tasks/extractRefreshes/{id}",
            format!("delete extract refresh task {id}"),
        )
        .await
    }

    /// Runs a task now; returns the job.
    pub async fn run_refresh_task(&self, id: &str) -> Result<Job> {
        let call = Call::new(
            Method::POST,
            self.site_path(&format!("tasks/extractRefreshes/{id}/runNow")),
            "/sites/{site}/tasks/extractRefreshes/{id}/runNow",
            format!("run extract refresh task {id}"),
        )
        .xml("<tsRequest />".to_owned());
        self.expect_one(&call, "job", Job::from_element).await
    }

    async fn task_response(&self, call: &Call) -> Result<RefreshTask> {
        let root = self.call_xml(call).await?;
        let task = root.child("extractRefresh").or_else(|| root.child("task").and_then(|t| t.child("extractRefresh")));
        task.and_then(|e| RefreshTask::from_element(e, root.child("schedule")))
            .ok_or_else(|| missing(call, "extractRefresh"))
    }
}
