//! Tableau Cloud extract-refresh tasks and their wire-level schedules.
//!
//! List/get responses nest `<schedule>` inside `<extractRefresh>` (wrapped in `<task>`); create/update send and
//! receive the schedule as a sibling of `<extractRefresh>` (reference §3.9). Schedules are kept as on the wire;
//! callers normalise them.

use crate::xml::{Element, XmlWriter};

use super::opt;

/// Schedule frequency.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Frequency {
    /// Every N hours/minutes within a window on chosen weekdays.
    Hourly,
    /// Once a day on chosen weekdays.
    Daily,
    /// On chosen weekdays.
    Weekly,
    /// On chosen month days.
    Monthly,
    /// Anything else the server sent.
    Other(String),
}

impl Frequency {
    /// Parses a wire value.
    pub fn parse(value: &str) -> Frequency {
        match value {
            "Hourly" => Frequency::Hourly,
            "Daily" => Frequency::Daily,
            "Weekly" => Frequency::Weekly,
            "Monthly" => Frequency::Monthly,
            other => Frequency::Other(other.to_owned()),
        }
    }

    /// Wire value.
    pub fn as_str(&self) -> &str {
        match self {
            Frequency::Hourly => "Hourly",
            Frequency::Daily => "Daily",
            Frequency::Weekly => "Weekly",
            Frequency::Monthly => "Monthly",
            Frequency::Other(s) => s,
        }
    }
}

/// One `<interval>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Interval {
    /// `hours="N"` (1, 2, 4, 6, 8, 12, 24).
    Hours(u32),
    /// `minutes="N"` (15, 30).
    Minutes(u32),
    /// `weekDay="Monday"`.
    WeekDay(String),
    /// `monthDay="15"` or `LastDay`.
    MonthDay(String),
}

impl Interval {
    fn from_element(e: &Element) -> Option<Interval> {
        if let Some(d) = e.attr("weekDay") {
            return Some(Interval::WeekDay(d.to_owned()));
        }
        if let Some(d) = e.attr("monthDay") {
            return Some(Interval::MonthDay(d.to_owned()));
        }
        if let Some(m) = e.attr_num("minutes") {
            return Some(Interval::Minutes(m));
        }
        e.attr_num("hours").map(Interval::Hours)
    }

    fn write(&self, w: &mut XmlWriter) {
        let (key, value) = match self {
            Interval::Hours(h) => ("hours", h.to_string()),
            Interval::Minutes(m) => ("minutes", m.to_string()),
            Interval::WeekDay(d) => ("weekDay", d.clone()),
            Interval::MonthDay(d) => ("monthDay", d.clone()),
        };
        w.empty("interval", &[(key, Some(&value))]);
    }
}

/// A schedule as on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Frequency.
    pub frequency: Frequency,
    /// Start time `HH:MM:SS`.
    pub start: String,
    /// End time `HH:MM:SS` (Hourly).
    pub end: Option<String>,
    /// Intervals.
    pub intervals: Vec<Interval>,
    /// Next run (responses only).
    pub next_run_at: Option<String>,
}

impl Schedule {
    /// Parses a `schedule` element with `frequencyDetails`.
    pub fn from_element(e: &Element) -> Option<Schedule> {
        let details = e.child("frequencyDetails")?;
        Some(Schedule {
            frequency: Frequency::parse(e.attr("frequency")?),
            start: details.attr_string("start")?,
            end: opt(details, "end"),
            intervals: details
                .child("intervals")
                .map(|i| i.children_named("interval").filter_map(Interval::from_element).collect())
                .unwrap_or_default(),
            next_run_at: opt(e, "nextRunAt"),
        })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        w.start("schedule", &[("frequency", Some(self.frequency.as_str()))]);
        w.start("frequencyDetails", &[("start", Some(&self.start)), ("end", self.end.as_deref())]);
        w.start("intervals", &[]);
        for i in &self.intervals {
            i.write(w);
        }
        w.end("intervals").end("frequencyDetails").end("schedule");
    }
}

/// What a task refreshes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TaskTarget {
    /// A workbook LUID.
    Workbook(String),
    /// A data source LUID.
    Datasource(String),
}

impl TaskTarget {
    fn write(&self, w: &mut XmlWriter) {
        match self {
            TaskTarget::Workbook(id) => w.empty("workbook", &[("id", Some(id))]),
            TaskTarget::Datasource(id) => w.empty("datasource", &[("id", Some(id))]),
        };
    }
}

/// An extract-refresh task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTask {
    /// LUID.
    pub id: String,
    /// The `type` attribute as sent: `RefreshExtractTask`/`IncrementExtractTask` when listed or read,
    /// `FullRefresh`/`IncrementalRefresh` in create and update responses. See [`RefreshTask::is_incremental`].
    pub refresh_type: Option<String>,
    /// Incremental flag when sent as an attribute.
    pub incremental: Option<bool>,
    /// Priority (default 50).
    pub priority: Option<i32>,
    /// Consecutive failures.
    pub consecutive_failed_count: Option<u32>,
    /// Target content; `None` if the response names neither.
    pub target: Option<TaskTarget>,
    /// Schedule.
    pub schedule: Option<Schedule>,
}

impl RefreshTask {
    /// Parses an `extractRefresh` element; `sibling_schedule` is the create/update response's `<schedule>`.
    pub fn from_element(e: &Element, sibling_schedule: Option<&Element>) -> Option<RefreshTask> {
        let target = e
            .child_id("workbook")
            .map(TaskTarget::Workbook)
            .or_else(|| e.child_id("datasource").map(TaskTarget::Datasource));
        Some(RefreshTask {
            id: e.attr_string("id")?,
            refresh_type: opt(e, "type"),
            incremental: e.attr_bool("incremental"),
            priority: e.attr_num("priority"),
            consecutive_failed_count: e.attr_num("consecutiveFailedCount"),
            target,
            schedule: e.child("schedule").or(sibling_schedule).and_then(Schedule::from_element),
        })
    }

    /// Whether this is an incremental refresh, from any form Tableau uses: the listed type `IncrementExtractTask`
    /// (the repository's task type; full refreshes list as `RefreshExtractTask`, TSC assets `tasks_with_*.xml`), the
    /// create/update type `IncrementalRefresh` (TSC asset `tasks_create_extract_task.xml`, the schema's
    /// `extractType`), the lenient `Incremental`, or the schema's `incremental="true"` attribute.
    pub fn is_incremental(&self) -> bool {
        let by_type = self.refresh_type.as_deref().is_some_and(|t| {
            ["IncrementExtractTask", "IncrementalRefresh", "Incremental"]
                .iter()
                .any(|name| t.eq_ignore_ascii_case(name))
        });
        by_type || self.incremental == Some(true)
    }

    /// Parses a `tasks` list (`<task><extractRefresh/></task>*`), ignoring other task kinds.
    pub fn list_from(tasks: &Element) -> Vec<RefreshTask> {
        tasks
            .children_named("task")
            .filter_map(|t| t.child("extractRefresh"))
            .filter_map(|e| RefreshTask::from_element(e, None))
            .collect()
    }
}

/// Body of task create (`POST /tasks/extractRefreshes`).
#[derive(Debug, Clone)]
pub struct NewRefreshTask {
    /// Content to refresh.
    pub target: TaskTarget,
    /// `FullRefresh` or `IncrementalRefresh`.
    pub refresh_type: String,
    /// When.
    pub schedule: Schedule,
}

impl NewRefreshTask {
    pub(crate) fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.start("tsRequest", &[]).start("extractRefresh", &[("type", Some(&self.refresh_type))]);
        self.target.write(&mut w);
        w.end("extractRefresh");
        self.schedule.write(&mut w);
        w.end("tsRequest");
        w.finish()
    }
}

/// Body of task update (`POST /tasks/extractRefreshes/{id}`).
#[derive(Debug, Clone, Default)]
pub struct RefreshTaskUpdate {
    /// New refresh type.
    pub refresh_type: Option<String>,
    /// New target.
    pub target: Option<TaskTarget>,
    /// New schedule.
    pub schedule: Option<Schedule>,
}

impl RefreshTaskUpdate {
    pub(crate) fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.start("tsRequest", &[]);
        if self.refresh_type.is_some() || self.target.is_some() {
            w.start("extractRefresh", &[("type", self.refresh_type.as_deref())]);
            if let Some(t) = &self.target {
                t.write(&mut w);
            }
            w.end("extractRefresh");
        }
        if let Some(s) = &self.schedule {
            s.write(&mut w);
        }
        w.end("tsRequest");
        w.finish()
    }
}
