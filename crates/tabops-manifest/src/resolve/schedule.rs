//! Tableau Cloud schedules (of extract-refresh tasks and of subscriptions), checked against Cloud's rules before
//! anything reaches a site.

use std::collections::BTreeSet;

use crate::diag::did_you_mean;
use crate::model::{Every, Frequency, MonthDay, RefreshSpec, RefreshType, Schedule, TimeOfDay, Weekday};
use crate::raw::{Located, Problem, RawEvery, RawMonthDay, RawRefresh, RawSchedule};

/// The schedule keys of a refresh task or a subscription's `schedule:`, borrowed.
pub struct ScheduleKeys<'a> {
    pub frequency: &'a Located<String>,
    pub at: &'a Option<Located<String>>,
    pub until: &'a Option<Located<String>>,
    pub every: &'a Option<Located<RawEvery>>,
    pub weekdays: &'a Option<Located<Vec<Located<String>>>>,
    pub month_days: &'a Option<Located<Vec<Located<RawMonthDay>>>>,
}

impl<'a> From<&'a RawSchedule> for ScheduleKeys<'a> {
    fn from(s: &'a RawSchedule) -> Self {
        ScheduleKeys {
            frequency: &s.frequency,
            at: &s.at,
            until: &s.until,
            every: &s.every,
            weekdays: &s.weekdays,
            month_days: &s.month_days,
        }
    }
}

/// Resolve one refresh task; `None` (with problems) when Tableau Cloud would reject it.
pub fn resolve_refresh(task: &Located<RawRefresh>, problems: &mut Vec<Problem>) -> Option<RefreshSpec> {
    let raw = &task.value;
    let refresh_type = match raw.refresh_type.value.to_ascii_lowercase().as_str() {
        "full" => Some(RefreshType::Full),
        "incremental" => Some(RefreshType::Incremental),
        other => {
            problems.push(raw.refresh_type.problem(
                format!("unknown refresh type `{other}`; expected `full` or `incremental`"),
                did_you_mean(other, ["full", "incremental"]),
            ));
            None
        }
    };
    let keys = ScheduleKeys {
        frequency: &raw.frequency,
        at: &raw.at,
        until: &raw.until,
        every: &raw.every,
        weekdays: &raw.weekdays,
        month_days: &raw.month_days,
    };
    let schedule = resolve_schedule(&task.map(|_| ()), keys, problems);
    Some(RefreshSpec { refresh_type: refresh_type?, schedule: schedule? })
}

/// Resolve one schedule written at `task` (where problems of the whole schedule point); `None` (with problems) when
/// Tableau Cloud would reject it.
pub fn resolve_schedule(task: &Located<()>, raw: ScheduleKeys<'_>, problems: &mut Vec<Problem>) -> Option<Schedule> {
    let before = problems.len();
    let frequency = match raw.frequency.value.to_ascii_lowercase().as_str() {
        "hourly" => Some(Frequency::Hourly),
        "daily" => Some(Frequency::Daily),
        "weekly" => Some(Frequency::Weekly),
        "monthly" => Some(Frequency::Monthly),
        other => {
            problems.push(raw.frequency.problem(
                format!("unknown frequency `{other}`; expected hourly, daily, weekly or monthly"),
                did_you_mean(other, ["hourly", "daily", "weekly", "monthly"]),
            ));
            None
        }
    };
    let frequency = frequency?;
    let name = frequency.as_str().to_lowercase();
    let start = match &raw.at {
        Some(at) => time(at, problems),
        None => {
            problems.push(task.problem(format!("a {name} schedule needs a start time `at: \"HH:MM\"`"), None));
            None
        }
    };
    let mut end = None;
    let mut every = None;
    let mut weekdays = BTreeSet::new();
    let mut month_days = BTreeSet::new();

    let not_for = |pos: Option<(crate::node::Pos, &String)>, key: &str, problems: &mut Vec<Problem>| {
        if let Some((pos, field)) = pos {
            problems.push(Problem {
                pos,
                field: field.clone(),
                message: format!("`{key}` does not apply to a {name} schedule"),
                hint: None,
            });
        }
    };
    // Hourly schedules, and Daily ones that repeat every N hours (PSTableauREST's Cloud integration test creates
    // "Daily, every 2 hours, 12:00-20:00"), run within a window from `at` to `until`.
    let daily_repeats = frequency == Frequency::Daily && (raw.every.is_some() || raw.until.is_some());
    if frequency == Frequency::Hourly || daily_repeats {
        match &raw.until {
            Some(until) => end = time(until, problems),
            None if frequency == Frequency::Hourly => problems.push(task.problem(
                "an hourly schedule needs an end time `until: \"HH:MM\"`",
                Some("Tableau Cloud runs hourly refreshes within a daily window from `at` to `until`".into()),
            )),
            None => problems.push(task.problem(
                "a daily schedule that repeats `every` few hours needs an end time `until: \"HH:MM\"`",
                Some("Tableau Cloud runs it within a window from `at` to `until`".into()),
            )),
        }
        if let (Some(s), Some(e), Some(until)) = (start, end, &raw.until) {
            if e <= s {
                problems.push(until.problem(format!("`until` ({e}) must be after `at` ({s})"), None));
            } else if e.minute != s.minute {
                let same = TimeOfDay { hour: e.hour, minute: s.minute };
                problems.push(until.problem(
                    format!("`until` ({e}) must be on the same minute of the hour as `at` ({s})"),
                    Some(format!("Tableau Cloud rejects a window whose end minute differs from its start: use {same}")),
                ));
            }
        }
        every = match (&raw.every, frequency) {
            (Some(value), Frequency::Hourly) => Some(parse_every(value, problems).unwrap_or(Every::Hours(1))),
            (None, Frequency::Hourly) => Some(Every::Hours(1)),
            (Some(value), _) => parse_daily_every(value, problems),
            (None, _) => {
                if let Some(until) = &raw.until {
                    problems.push(until.problem(
                        "`until` on a daily schedule needs `every` (2, 4, 6, 8 or 12 hours)",
                        Some("a daily schedule without `every` runs once, at `at`".into()),
                    ));
                }
                None
            }
        };
    } else {
        not_for(raw.until.as_ref().map(|v| (v.pos, &v.field)), "until", problems);
        not_for(raw.every.as_ref().map(|v| (v.pos, &v.field)), "every", problems);
    }
    if frequency == Frequency::Monthly {
        not_for(raw.weekdays.as_ref().map(|v| (v.pos, &v.field)), "weekdays", problems);
        match raw.month_days.as_ref().filter(|d| !d.value.is_empty()) {
            Some(days) => {
                for day in &days.value {
                    if let Some(day) = parse_month_day(day, problems) {
                        month_days.insert(day);
                    }
                }
                if month_days.len() > MAX_INTERVALS {
                    problems.push(days.problem(
                        format!("{} days of the month; Tableau Cloud accepts at most {MAX_INTERVALS}", month_days.len()),
                        Some("a schedule carries at most 7 `interval` elements (ts-api_3_29.xsd `frequencyDetailsType`)".into()),
                    ));
                }
            }
            None => problems
                .push(task.problem("a monthly schedule needs at least one day in `month_days` (1-31 or `last`)", None)),
        }
    } else {
        not_for(raw.month_days.as_ref().map(|v| (v.pos, &v.field)), "month_days", problems);
        match raw.weekdays.as_ref().filter(|d| !d.value.is_empty()) {
            Some(days) => {
                for day in &days.value {
                    match Weekday::parse(&day.value) {
                        Some(d) => {
                            weekdays.insert(d);
                        }
                        None => problems.push(day.problem(
                            format!("unknown weekday `{}`", day.value),
                            Some("use Mon, Tue, Wed, Thu, Fri, Sat, Sun or full names".into()),
                        )),
                    }
                }
            }
            None => problems.push(task.problem(
                format!("a {name} schedule needs at least one day in `weekdays`"),
                Some("e.g. `weekdays: [Mon, Tue, Wed, Thu, Fri]`".into()),
            )),
        }
    }
    if problems.len() > before {
        return None;
    }
    Some(Schedule { frequency, start: start?, end, every, weekdays, month_days })
}

/// The schema's `frequencyDetailsType` allows at most 7 `<interval>` elements (ts-api_3_29.xsd).
const MAX_INTERVALS: usize = 7;

/// `every` of a daily schedule: 2, 4, 6, 8 or 12 hours (24 is a plain daily schedule: leave `every` out).
fn parse_daily_every(value: &Located<RawEvery>, problems: &mut Vec<Problem>) -> Option<Every> {
    let hours = match &value.value {
        RawEvery::Hours(h) => u8::try_from(*h).ok(),
        RawEvery::Text(text) => {
            let t = text.trim().to_ascii_lowercase();
            t.strip_suffix('h').unwrap_or(&t).parse::<u8>().ok()
        }
    };
    match hours {
        Some(h @ (2 | 4 | 6 | 8 | 12)) => Some(Every::Hours(h)),
        _ => {
            let shown = match &value.value {
                RawEvery::Hours(h) => h.to_string(),
                RawEvery::Text(t) => t.clone(),
            };
            problems.push(value.problem(
                format!("`every: {shown}` is not an interval Tableau Cloud supports for a daily schedule"),
                Some("use 2, 4, 6, 8 or 12 (hours); for once a day leave `every` out".into()),
            ));
            None
        }
    }
}

fn time(text: &Located<String>, problems: &mut Vec<Problem>) -> Option<TimeOfDay> {
    let Some(t) = TimeOfDay::parse(text.value.trim()) else {
        problems.push(
            text.problem(
                format!("`{}` is not a time of day", text.value),
                Some("write `HH:MM`, e.g. \"06:00\"".into()),
            ),
        );
        return None;
    };
    if t.minute % 5 != 0 {
        let down = TimeOfDay { hour: t.hour, minute: t.minute - t.minute % 5 };
        let up_minutes = u16::from(t.hour) * 60 + u16::from(t.minute - t.minute % 5) + 5;
        let up = (up_minutes < 24 * 60)
            .then_some(TimeOfDay { hour: (up_minutes / 60) as u8, minute: (up_minutes % 60) as u8 });
        let hint = match up {
            Some(up) => format!("Tableau Cloud schedules start on 5-minute boundaries: use {down} or {up}"),
            None => format!("Tableau Cloud schedules start on 5-minute boundaries: use {down}"),
        };
        problems.push(text.problem(format!("time {t} is not on a 5-minute boundary"), Some(hint)));
        return None;
    }
    Some(t)
}

fn parse_every(value: &Located<RawEvery>, problems: &mut Vec<Problem>) -> Option<Every> {
    let parsed = match &value.value {
        RawEvery::Hours(h) => u8::try_from(*h).ok().map(Every::Hours),
        RawEvery::Text(text) => {
            let t = text.trim().to_ascii_lowercase();
            if let Some(m) = t.strip_suffix('m') {
                m.parse::<u8>().ok().map(Every::Minutes)
            } else {
                t.strip_suffix('h').unwrap_or(&t).parse::<u8>().ok().map(Every::Hours)
            }
        }
    };
    match parsed {
        Some(Every::Hours(h)) if [1, 2, 4, 6, 8, 12].contains(&h) => Some(Every::Hours(h)),
        Some(Every::Minutes(m)) if [15, 30].contains(&m) => Some(Every::Minutes(m)),
        _ => {
            let shown = match &value.value {
                RawEvery::Hours(h) => h.to_string(),
                RawEvery::Text(t) => t.clone(),
            };
            problems.push(value.problem(
                format!("`every: {shown}` is not an interval Tableau Cloud supports"),
                Some("use 1, 2, 4, 6, 8 or 12 (hours), or `15m` / `30m`".into()),
            ));
            None
        }
    }
}

fn parse_month_day(day: &Located<RawMonthDay>, problems: &mut Vec<Problem>) -> Option<MonthDay> {
    match &day.value {
        RawMonthDay::Day(n @ 1..=31) => Some(MonthDay::Day(*n as u8)),
        RawMonthDay::Text(t) if t.eq_ignore_ascii_case("last") => Some(MonthDay::LastDay),
        other => {
            let shown = match other {
                RawMonthDay::Day(n) => n.to_string(),
                RawMonthDay::Text(t) => format!("`{t}`"),
            };
            problems.push(day.problem(format!("{shown} is not a day of the month"), Some("use 1-31 or `last`".into())));
            None
        }
    }
}
