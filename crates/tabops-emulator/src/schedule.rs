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
        if start % 300 != 0 {
            return Err(invalid("Schedule times must be on a 5-minute boundary with zero seconds."));
        }
        let end = match &self.end {
            Some(end) => Some(parse_time(end).ok_or_else(|| invalid(format!("Invalid end time '{end}'.")))?),
            None => None,
        };
        if self.intervals.len() > 8 {
            return Err(invalid("A schedule can have at most 7 intervals."));
        }
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
        }
        match self.frequency.as_str() {
            "Hourly" => {
                let end = end.ok_or_else(|| invalid("Hourly schedules must have an end time."))?;
                if end <= start || end % 3600 != start % 3600 {
                    return Err(invalid(
                        "The end time of an hourly schedule must be after the start time, on the same minute.",
                    ));
                }
                if self.count("hours") + self.count("minutes") == 0 {
                    return Err(invalid("Hourly schedules must have an hours or minutes interval."));
                }
                if self.count("weekDay") == 0 {
                    return Err(invalid("Hourly and Daily schedules must have at least one weekDay interval"));
                }
            }
            "Daily" => {
                if self.count("weekDay") == 0 {
                    return Err(invalid("Hourly and Daily schedules must have at least one weekDay interval"));
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
}
