//! Background jobs (refreshes, async publishes) and their terminal states.

use crate::xml::Element;

use super::opt;

/// A job as returned by `GET /jobs/{id}`, refresh-now, run-now and async publish.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Job {
    /// LUID.
    pub id: String,
    /// e.g. `RefreshExtract`, `PublishWorkbook`.
    pub job_type: Option<String>,
    /// `Asynchronous`.
    pub mode: Option<String>,
    /// 0..=100.
    pub progress: Option<u32>,
    /// Creation time.
    pub created_at: Option<String>,
    /// Start time.
    pub started_at: Option<String>,
    /// Completion time; absent while running.
    pub completed_at: Option<String>,
    /// 0 success, 1 failed, 2 cancelled (3 is also success for TSC).
    pub finish_code: Option<i32>,
    /// Failure notes.
    pub notes: Option<String>,
    /// Workbook the job concerns.
    pub workbook_id: Option<String>,
    /// Data source the job concerns.
    pub datasource_id: Option<String>,
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Not completed yet.
    Running,
    /// Completed successfully.
    Succeeded,
    /// Completed with an error.
    Failed,
    /// Cancelled.
    Cancelled,
}

impl Job {
    /// Parses a `job` element.
    pub fn from_element(e: &Element) -> Option<Job> {
        let refresh = e.child("extractRefreshJob");
        let notes = refresh.and_then(|r| r.child("notes")).or_else(|| e.find("notes")).map(|n| n.text.clone());
        let target_id = |name: &str| {
            refresh.and_then(|r| r.child_id(name)).or_else(|| e.find(name).and_then(|w| w.attr_string("id")))
        };
        Some(Job {
            id: e.attr_string("id")?,
            job_type: opt(e, "type"),
            mode: opt(e, "mode"),
            progress: e.attr_num("progress"),
            created_at: opt(e, "createdAt"),
            started_at: opt(e, "startedAt"),
            completed_at: opt(e, "completedAt"),
            finish_code: e.attr_num("finishCode"),
            notes,
            workbook_id: target_id("workbook"),
            datasource_id: target_id("datasource"),
        })
    }

    /// The job's state: running until `completedAt` appears, then by `finishCode`.
    pub fn state(&self) -> JobState {
        if self.completed_at.is_none() {
            return JobState::Running;
        }
        match self.finish_code {
            Some(0) | Some(3) => JobState::Succeeded,
            Some(2) => JobState::Cancelled,
            _ => JobState::Failed,
        }
    }
}
