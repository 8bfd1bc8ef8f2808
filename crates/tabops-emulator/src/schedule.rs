//! Tableau Cloud extract-refresh schedules: parsing `<schedule>` request elements, the validation Cloud applies
//! (errors 409004), and rendering.

use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::xml::{Elem, Node};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    pub frequency: String,
    pub start: String,
    pub end: Option<String>,
    /// `(attribute, value)` pairs: `hours`, `minutes`, `weekDay` or `monthDay`.
    pub intervals: Vec<(String, String)>,
}

const WEEK_DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/// The most weekDay or monthDay intervals a schedule carries (the schema's `maxOccurs="7"`).
const MAX_DAY_INTERVALS: usize = 7;

/// Tableau Cloud's 409004 detail, as tableau-migration-sdk issue #41 quotes it.
const WEEKDAY_REQUIRED: &str = "Hourly and Daily schedules must have at least one weekDay interval. Valid values for weekDay are 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', or 'Sunday'.";

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::conflict(409004, detail)
}

/// Seconds since midnight of an `HH:MM:SS` time.
fn parse_time(value: &str) -> Option<u32> {
    let mut parts = value.split(':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || h.len() != 2 || m.len() != 2 || s.len() != 2 {
        return None;
    }
    let (h, m, s): (u32, u32, u32) = (h.parse().ok()?, m.parse().ok()?, s.parse().ok()?);
    (h < 24 && m < 60 && s < 60).then_some(h * 3600 + m * 60 + s)
}

impl Schedule {
    /// Parse and validate a `<schedule>` element against Tableau Cloud's rules.
    pub fn from_node(node: &Node) -> ApiResult<Schedule> {
        let frequency = node.attr("frequency").ok_or_else(|| invalid("The schedule frequency is missing."))?;
        if !matches!(frequency, "Hourly" | "Daily" | "Weekly" | "Monthly") {
            return Err(invalid(format!("Invalid schedule frequency '{frequency}'.")));
        }
        let details =
            node.child("frequencyDetails").ok_or_else(|| invalid("The schedule frequencyDetails are missing."))?;
        let start = details.attr("start").ok_or_else(|| invalid("The schedule start time is missing."))?;
        let end = details.attr("end").map(str::to_owned);
        let mut intervals = Vec::new();
        if let Some(list) = details.child("intervals") {
            for interval in list.children_named("interval") {
                for (key, value) in &interval.attrs {
                    intervals.push((key.clone(), value.clone()));
                }
            }
        }
        let schedule = Schedule { frequency: frequency.to_owned(), start: start.to_owned(), end, intervals };
        schedule.validate()?;
        Ok(schedule)
    }

    fn count(&self, key: &str) -> usize {
        self.intervals.iter().filter(|(k, _)| k == key).count()
    }

    fn validate(&self) -> ApiResult<()> {
        let start = parse_time(&self.start).ok_or_else(|| invalid(format!("Invalid start time '{}'.", self.start)))?;
        let end = match &self.end {
            Some(end) => Some(parse_time(end).ok_or_else(|| invalid(format!("Invalid end time '{end}'.")))?),
            None => None,
        };
        if start % 300 != 0 || end.is_some_and(|e| e % 300 != 0) {
            return Err(invalid("Schedule times must be on a 5-minute boundary with zero seconds."));
        }
        // The schema allows 7 `interval` elements (ts-api_3_29.xsd `frequencyDetailsType`). A once-a-day schedule on
        // every weekday needs `hours="24"` beside its seven weekDay intervals (without it Cloud runs the task every
        // hour: tableau-migration-sdk issue #89), so the seven count the day intervals, and the one hours/minutes
        // interval of an Hourly or Daily schedule comes on top (inferred).
        let days = self.count("weekDay") + self.count("monthDay");
        let repeats = self.count("hours") + self.count("minutes");
        if days > MAX_DAY_INTERVALS || repeats > 1 {
            return Err(invalid(format!(
                "A schedule can have at most {MAX_DAY_INTERVALS} weekDay or monthDay intervals and one hours or minutes interval."
            )));
        }
        let mut seen = std::collections::HashSet::new();
        for (key, value) in &self.intervals {
            let ok = match key.as_str() {
                "hours" => matches!(value.as_str(), "1" | "2" | "4" | "6" | "8" | "12" | "24"),
                "minutes" => matches!(value.as_str(), "15" | "30" | "60"),
                "weekDay" => WEEK_DAYS.contains(&value.as_str()),
                "monthDay" => value == "LastDay" || value.parse::<u8>().is_ok_and(|d| (1..=31).contains(&d)),
                _ => false,
            };
            if !ok {
                return Err(invalid(format!("Invalid schedule interval {key}='{value}'.")));
            }
            if !seen.insert((key.as_str(), value.as_str())) {
                return Err(invalid(format!("Duplicate schedule interval {key}='{value}'.")));
            }
        }
        let hours = self.intervals.iter().find(|(k, _)| k == "hours").map(|(_, v)| v.as_str());
        // Hourly windows, and Daily schedules that repeat every N hours, need an end after the start on the same
        // minute (tableau-mcp `updateCloudExtractRefreshScheduleSchema`: "must share the same minute").
        let windowed = self.frequency == "Hourly" || (self.frequency == "Daily" && hours.is_some_and(|h| h != "24"));
        if windowed {
            let end = end.ok_or_else(|| {
                invalid(format!("{} schedules that repeat within a day must have an end time.", self.frequency))
            })?;
            if end <= start || end % 3600 != start % 3600 {
                return Err(invalid(
                    "The end time of an hourly schedule must be after the start time, on the same minute.",
                ));
            }
        }
        match self.frequency.as_str() {
            "Hourly" | "Daily" => {
                if self.frequency == "Hourly" && repeats == 0 {
                    return Err(invalid("Hourly schedules must have an hours or minutes interval."));
                }
                if self.count("weekDay") == 0 {
                    return Err(invalid(WEEKDAY_REQUIRED));
                }
            }
            "Weekly" => {
                if self.count("weekDay") == 0 {
                    return Err(invalid("Weekly schedules must have at least one weekDay interval."));
                }
            }
            _ => {
                if self.count("monthDay") == 0 {
                    return Err(invalid("Monthly schedules must have at least one monthDay interval."));
                }
            }
        }
        Ok(())
    }

    pub fn to_elem(&self) -> Elem {
        let intervals = self.intervals.iter().map(|(k, v)| Elem::new("interval").attr(k, v));
        Elem::new("schedule").attr("frequency", &self.frequency).child(
            Elem::new("frequencyDetails")
                .attr("start", &self.start)
                .opt_attr("end", self.end.as_ref())
                .child(Elem::new("intervals").children(intervals)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse;

    fn schedule(xml: &str) -> ApiResult<Schedule> {
        let node = parse(xml.as_bytes()).expect("test xml parses");
        Schedule::from_node(&node)
    }

    #[test]
    fn accepts_tsc_weekly_and_monthly_schedules() {
        let weekly = schedule(
            r#"<schedule frequency="Weekly"><frequencyDetails start="02:30:00"><intervals><interval weekDay="Monday" /><interval weekDay="Friday" /></intervals></frequencyDetails></schedule>"#,
        );
        assert_eq!(weekly.expect("valid").intervals.len(), 2);
        assert!(schedule(r#"<schedule frequency="Monthly"><frequencyDetails start="05:00:00"><intervals><interval monthDay="1" /></intervals></frequencyDetails></schedule>"#).is_ok());
    }

    #[test]
    fn daily_without_weekday_is_409004() {
        let err = schedule(r#"<schedule frequency="Daily"><frequencyDetails start="05:00:00"><intervals><interval hours="24" /></intervals></frequencyDetails></schedule>"#).expect_err("cloud rule");
        assert_eq!(err.code, "409004");
        assert!(err.detail.contains("weekDay"));
    }

    #[test]
    fn hourly_needs_end_on_same_minute() {
        let base = r#"<schedule frequency="Hourly"><frequencyDetails start="01:00:00" END><intervals><interval hours="4" /><interval weekDay="Monday" /></intervals></frequencyDetails></schedule>"#;
        assert!(schedule(&base.replace("END", r#"end="23:00:00""#)).is_ok());
        assert!(schedule(&base.replace("END", r#"end="23:30:00""#)).is_err());
        assert!(schedule(&base.replace("END", "")).is_err());
        assert!(schedule(&base.replace("01:00:00", "01:03:00").replace("END", r#"end="23:03:00""#)).is_err());
    }

    fn daily(start: &str, end: Option<&str>, hours: &str, days: &[&str]) -> String {
        let end = end.map(|e| format!(r#" end="{e}""#)).unwrap_or_default();
        let days: String = days.iter().map(|d| format!(r#"<interval weekDay="{d}" />"#)).collect();
        format!(
            r#"<schedule frequency="Daily"><frequencyDetails start="{start}"{end}><intervals><interval hours="{hours}" />{days}</intervals></frequencyDetails></schedule>"#
        )
    }

    #[test]
    fn daily_every_two_hours_with_an_end_is_accepted_and_without_an_end_is_409004() {
        assert!(schedule(&daily("12:00:00", Some("20:00:00"), "2", &["Sunday", "Monday"])).is_ok());
        let err = schedule(&daily("12:00:00", None, "2", &["Sunday"])).expect_err("needs an end");
        assert_eq!(err.code, "409004");
        assert!(schedule(&daily("12:00:00", Some("20:30:00"), "2", &["Sunday"])).is_err(), "same minute");
    }

    #[test]
    fn once_a_day_on_every_weekday_is_accepted_with_its_hours_24_interval() {
        let all = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
        assert!(schedule(&daily("06:00:00", None, "24", &all)).is_ok());
    }

    #[test]
    fn more_than_seven_month_days_duplicates_and_two_repeat_intervals_are_409004() {
        let days: String = (1..=8).map(|d| format!(r#"<interval monthDay="{d}" />"#)).collect();
        let monthly = format!(
            r#"<schedule frequency="Monthly"><frequencyDetails start="05:00:00"><intervals>{days}</intervals></frequencyDetails></schedule>"#
        );
        assert_eq!(schedule(&monthly).expect_err("8 days").code, "409004");
        assert!(schedule(&daily("06:00:00", None, "24", &["Monday", "Monday"])).is_err(), "duplicate weekday");
        let two = r#"<schedule frequency="Hourly"><frequencyDetails start="01:00:00" end="05:00:00"><intervals><interval hours="1" /><interval minutes="30" /><interval weekDay="Monday" /></intervals></frequencyDetails></schedule>"#;
        assert!(schedule(two).is_err());
    }

    #[test]
    fn end_times_off_the_five_minute_grid_are_409004() {
        let weekly = r#"<schedule frequency="Weekly"><frequencyDetails start="02:30:00" end="02:32:00"><intervals><interval weekDay="Monday" /></intervals></frequencyDetails></schedule>"#;
        assert_eq!(schedule(weekly).expect_err("grid").code, "409004");
    }

    #[test]
    fn a_missing_weekday_answers_clouds_409004_text() {
        let err = schedule(&daily("06:00:00", None, "24", &[])).expect_err("no weekday");
        assert!(err.detail.starts_with("Hourly and Daily schedules must have at least one weekDay interval."));
    }
}
