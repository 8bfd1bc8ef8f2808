//! Translation between the manifest's normalised vocabulary and the REST client's wire types.
//!
//! The planner compares normalised values (a `Daily` schedule has no `hours="24"` interval, weekdays are a set);
//! the wire carries what Tableau Cloud accepts and returns. Both directions live here so that a schedule tabops
//! creates reads back as the same normalised value: `normalize_schedule(&to_wire_schedule(s)) == Some(s)`.

use std::collections::BTreeSet;

use tabops_manifest::model::{
    Capability, ContentKind, Every, Frequency, Mode, MonthDay, RefreshType, Schedule, TimeOfDay, Weekday,
};
use tabops_plan::inventory::GranteeKind;
use tabops_tableau as api;

/// A wire schedule in the manifest's normal form, or `None` when it cannot be expressed there.
pub fn normalize_schedule(wire: &api::Schedule) -> Option<Schedule> {
    let frequency = match wire.frequency {
        api::Frequency::Hourly => Frequency::Hourly,
        api::Frequency::Daily => Frequency::Daily,
        api::Frequency::Weekly => Frequency::Weekly,
        api::Frequency::Monthly => Frequency::Monthly,
        api::Frequency::Other(_) => return None,
    };
    let start = TimeOfDay::parse(&wire.start)?;
    let mut weekdays = BTreeSet::new();
    let mut month_days = BTreeSet::new();
    let mut every = None;
    for interval in &wire.intervals {
        match interval {
            api::Interval::WeekDay(day) => {
                weekdays.insert(Weekday::parse(day)?);
            }
            api::Interval::MonthDay(day) if day.eq_ignore_ascii_case("LastDay") => {
                month_days.insert(MonthDay::LastDay);
            }
            api::Interval::MonthDay(day) => {
                month_days.insert(MonthDay::Day(day.parse().ok()?));
            }
            api::Interval::Hours(24) => {}
            api::Interval::Hours(hours) => every = Some(Every::Hours(u8::try_from(*hours).ok()?)),
            api::Interval::Minutes(minutes) => every = Some(Every::Minutes(u8::try_from(*minutes).ok()?)),
        }
    }
    let schedule = match frequency {
        Frequency::Hourly => Schedule {
            frequency,
            start,
            end: Some(TimeOfDay::parse(wire.end.as_deref()?)?),
            every: Some(every.unwrap_or(Every::Hours(1))),
            weekdays,
            month_days: BTreeSet::new(),
        },
        // A Daily schedule that repeats every N hours has an end; `hours="24"` (every = None) is once a day, and its
        // `end`, which Cloud may echo as the start (TSC asset `tasks_with_interval.xml`), means nothing.
        Frequency::Daily => match every {
            Some(every @ Every::Hours(_)) => Schedule {
                frequency,
                start,
                end: Some(TimeOfDay::parse(wire.end.as_deref()?)?),
                every: Some(every),
                weekdays,
                month_days: BTreeSet::new(),
            },
            Some(Every::Minutes(_)) => return None,
            None => Schedule { frequency, start, end: None, every: None, weekdays, month_days: BTreeSet::new() },
        },
        Frequency::Weekly => {
            Schedule { frequency, start, end: None, every: None, weekdays, month_days: BTreeSet::new() }
        }
        Frequency::Monthly => {
            Schedule { frequency, start, end: None, every: None, weekdays: BTreeSet::new(), month_days }
        }
    };
    Some(schedule)
}

/// The wire form Tableau Cloud accepts for a normalised schedule.
pub fn to_wire_schedule(schedule: &Schedule) -> api::Schedule {
    let weekdays = || schedule.weekdays.iter().map(|d| api::Interval::WeekDay(d.as_str().to_owned()));
    let intervals: Vec<api::Interval> = match schedule.frequency {
        Frequency::Hourly => {
            let every = match schedule.every.unwrap_or(Every::Hours(1)) {
                Every::Hours(h) => api::Interval::Hours(u32::from(h)),
                Every::Minutes(m) => api::Interval::Minutes(u32::from(m)),
            };
            std::iter::once(every).chain(weekdays()).collect()
        }
        // Once a day is `hours="24"`: without it Cloud runs a Daily task every hour (tableau-migration-sdk issue #89).
        Frequency::Daily => {
            let hours = match schedule.every {
                Some(Every::Hours(h)) => u32::from(h),
                _ => 24,
            };
            std::iter::once(api::Interval::Hours(hours)).chain(weekdays()).collect()
        }
        Frequency::Weekly => weekdays().collect(),
        Frequency::Monthly => schedule
            .month_days
            .iter()
            .map(|d| match d {
                MonthDay::Day(n) => api::Interval::MonthDay(n.to_string()),
                MonthDay::LastDay => api::Interval::MonthDay("LastDay".to_owned()),
            })
            .collect(),
    };
    api::Schedule {
        frequency: match schedule.frequency {
            Frequency::Hourly => api::Frequency::Hourly,
            Frequency::Daily => api::Frequency::Daily,
            Frequency::Weekly => api::Frequency::Weekly,
            Frequency::Monthly => api::Frequency::Monthly,
        },
        start: schedule.start.to_wire(),
        end: match schedule.frequency {
            Frequency::Hourly | Frequency::Daily => schedule.end.map(TimeOfDay::to_wire),
            Frequency::Weekly | Frequency::Monthly => None,
        },
        intervals,
        next_run_at: None,
    }
}

/// Human-readable form of a wire schedule, for tasks the manifest cannot express.
pub fn describe_schedule(wire: &api::Schedule) -> String {
    let intervals: Vec<String> = wire
        .intervals
        .iter()
        .map(|i| match i {
            api::Interval::Hours(h) => format!("hours={h}"),
            api::Interval::Minutes(m) => format!("minutes={m}"),
            api::Interval::WeekDay(d) => d.clone(),
            api::Interval::MonthDay(d) => format!("day {d}"),
        })
        .collect();
    let end = wire.end.as_deref().map(|e| format!("-{e}")).unwrap_or_default();
    format!("{} at {}{end} [{}]", wire.frequency.as_str(), wire.start, intervals.join(", "))
}

/// Full or incremental, from a task in any of the forms Tableau sends (see [`api::RefreshTask::is_incremental`]).
pub fn refresh_type(task: &api::RefreshTask) -> RefreshType {
    if task.is_incremental() { RefreshType::Incremental } else { RefreshType::Full }
}

pub fn task_target(kind: ContentKind, id: String) -> api::TaskTarget {
    match kind {
        ContentKind::Workbook => api::TaskTarget::Workbook(id),
        ContentKind::Datasource => api::TaskTarget::Datasource(id),
    }
}

pub fn mode(mode: Mode) -> api::CapabilityMode {
    match mode {
        Mode::Allow => api::CapabilityMode::Allow,
        Mode::Deny => api::CapabilityMode::Deny,
    }
}

pub fn grantee(kind: GranteeKind, id: String) -> api::Grantee {
    let kind = match kind {
        GranteeKind::Group => api::GranteeKind::Group,
        GranteeKind::User => api::GranteeKind::User,
    };
    api::Grantee { kind, id }
}

/// The client's permission rows in the planner's vocabulary. Capabilities the manifest cannot name (newer ones,
/// group sets) are dropped: tabops neither manages nor revokes what it cannot express.
pub fn live_rules(rows: &[api::GranteeCapabilities]) -> Vec<tabops_plan::inventory::LiveRule> {
    rows.iter()
        .filter_map(|row| {
            let kind = match row.grantee.kind {
                api::GranteeKind::Group => GranteeKind::Group,
                api::GranteeKind::User => GranteeKind::User,
                api::GranteeKind::GroupSet => return None,
            };
            let capabilities = row
                .capabilities
                .iter()
                .filter_map(|c| {
                    let mode = match c.mode {
                        api::CapabilityMode::Allow => Mode::Allow,
                        api::CapabilityMode::Deny => Mode::Deny,
                    };
                    Capability::parse(&c.name).map(|cap| (cap, mode))
                })
                .collect();
            Some(tabops_plan::inventory::LiveRule {
                grantee: tabops_plan::inventory::LiveGrantee { kind, id: row.grantee.id.clone() },
                capabilities,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(frequency: Frequency) -> Schedule {
        Schedule {
            frequency,
            start: TimeOfDay { hour: 6, minute: 0 },
            end: None,
            every: None,
            weekdays: BTreeSet::new(),
            month_days: BTreeSet::new(),
        }
    }

    #[test]
    fn every_frequency_round_trips_through_the_wire_form() {
        let weekdays: BTreeSet<_> = [Weekday::Monday, Weekday::Friday].into();
        let cases = vec![
            Schedule {
                end: Some(TimeOfDay { hour: 18, minute: 0 }),
                every: Some(Every::Hours(4)),
                weekdays: weekdays.clone(),
                ..schedule(Frequency::Hourly)
            },
            Schedule {
                end: Some(TimeOfDay { hour: 20, minute: 0 }),
                every: Some(Every::Minutes(30)),
                weekdays: weekdays.clone(),
                ..schedule(Frequency::Hourly)
            },
            Schedule { weekdays: weekdays.clone(), ..schedule(Frequency::Daily) },
            Schedule {
                end: Some(TimeOfDay { hour: 20, minute: 0 }),
                every: Some(Every::Hours(2)),
                weekdays: weekdays.clone(),
                ..schedule(Frequency::Daily)
            },
            Schedule { weekdays, ..schedule(Frequency::Weekly) },
            Schedule { month_days: [MonthDay::Day(1), MonthDay::LastDay].into(), ..schedule(Frequency::Monthly) },
        ];
        for case in cases {
            assert_eq!(normalize_schedule(&to_wire_schedule(&case)), Some(case.clone()), "{case}");
        }
    }

    #[test]
    fn daily_hours_24_is_implied_and_weekday_order_does_not_matter() {
        let wire = api::Schedule {
            frequency: api::Frequency::Daily,
            start: "06:00:00".into(),
            end: None,
            intervals: vec![
                api::Interval::WeekDay("Tuesday".into()),
                api::Interval::Hours(24),
                api::Interval::WeekDay("Monday".into()),
            ],
            next_run_at: Some("2026-12-01T06:00:00Z".into()),
        };
        let expected = Schedule { weekdays: [Weekday::Monday, Weekday::Tuesday].into(), ..schedule(Frequency::Daily) };
        assert_eq!(normalize_schedule(&wire), Some(expected));
    }

    #[test]
    fn schedules_the_manifest_cannot_express_are_none() {
        let wire = api::Schedule {
            frequency: api::Frequency::Other("Yearly".into()),
            start: "06:00:00".into(),
            end: None,
            intervals: vec![],
            next_run_at: None,
        };
        assert_eq!(normalize_schedule(&wire), None);
        let odd_seconds = api::Schedule { frequency: api::Frequency::Weekly, start: "06:00:30".into(), ..wire };
        assert_eq!(normalize_schedule(&odd_seconds), None);
    }

    /// Daily every 2 hours from 12:00 to 20:00 (the schedule PSTableauREST's Cloud integration test creates) is not
    /// "daily at 12:00": interval and end survive the round trip, so drift sees the difference.
    #[test]
    fn daily_every_n_hours_keeps_its_interval_and_end() {
        let wire = api::Schedule {
            frequency: api::Frequency::Daily,
            start: "12:00:00".into(),
            end: Some("20:00:00".into()),
            intervals: vec![
                api::Interval::Hours(2),
                api::Interval::WeekDay("Sunday".into()),
                api::Interval::WeekDay("Monday".into()),
            ],
            next_run_at: None,
        };
        let normal = normalize_schedule(&wire).expect("expressible");
        assert_eq!(normal.every, Some(Every::Hours(2)));
        assert_eq!(normal.end, Some(TimeOfDay { hour: 20, minute: 0 }));
        let once = Schedule {
            start: TimeOfDay { hour: 12, minute: 0 },
            weekdays: [Weekday::Sunday, Weekday::Monday].into(),
            ..schedule(Frequency::Daily)
        };
        assert_ne!(normal, once);
        let sent = to_wire_schedule(&normal);
        assert_eq!(sent.intervals[0], api::Interval::Hours(2));
        assert_eq!(normalize_schedule(&sent), Some(normal.clone()));
        assert_eq!(to_wire_schedule(&normal).end.as_deref(), Some("20:00:00"));
    }

    /// TSC asset `tasks_with_interval.xml`: Cloud lists a once-a-day task with `hours="24"` and `end` equal to the
    /// start; that is plain daily.
    #[test]
    fn daily_hours_24_with_an_echoed_end_is_once_a_day() {
        let wire = api::Schedule {
            frequency: api::Frequency::Daily,
            start: "18:20:00".into(),
            end: Some("18:20:00".into()),
            intervals: vec![api::Interval::Hours(24), api::Interval::WeekDay("Tuesday".into())],
            next_run_at: None,
        };
        let normal = normalize_schedule(&wire).expect("expressible");
        assert_eq!((normal.every, normal.end), (None, None));
        assert_eq!(to_wire_schedule(&normal).end, None);
    }
}
