//! The benchmark's results: the minimum request count the API allows for a plan at a scale, the lower bound on
//! plan wall time it implies, the targets with PASS/MISS (reported, never enforced on wall-clock), the
//! correctness checks (enforced), and the human-readable summary.

use std::fmt::Write as _;

use serde::Serialize;

use crate::generate::Scale;

/// Largest page Tableau serves.
pub const PAGE_SIZE: usize = 1000;

/// List requests that open the fetch (one first page per kind, sent together after sign-in).
pub const FIRST_PAGES: usize = 6;

fn pages(n: usize) -> usize {
    n.div_ceil(PAGE_SIZE).max(1)
}

/// The fewest requests a plan of the synthetic site at `scale` can make: sign-in; every page of projects (plus the
/// `default` project), users (plus the admin), groups, workbooks and data sources at pageSize 1000; the (unpaged)
/// extract-refresh task list; one permissions read per project; one members page per group. The site has no list
/// form for permissions or members, so those per-object reads are the minimum.
pub fn minimum_plan_requests(scale: &Scale) -> usize {
    1 + pages(scale.projects + 1)
        + pages(scale.users + 1)
        + pages(scale.groups)
        + pages(scale.workbooks)
        + pages(scale.datasources)
        + 1
        + scale.projects
        + scale.groups * pages(scale.members_per_group)
}

/// Lower bound of the network part of a plan (ms): the sequential chain of sign-in then the first pages (two round
/// trips), then every other request at `concurrency` in flight.
pub fn lower_bound_ms(min_requests: usize, latency_ms: f64, concurrency: usize) -> f64 {
    let rest = min_requests.saturating_sub(1 + FIRST_PAGES) as f64;
    2.0 * latency_ms + rest * latency_ms / concurrency.max(1) as f64
}

/// One target of the issue.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub name: String,
    pub measured: String,
    pub target: String,
    pub pass: bool,
}

impl Target {
    pub fn new(name: &str, measured: String, target: &str, pass: bool) -> Target {
        Target { name: name.to_owned(), measured, target: target.to_owned(), pass }
    }
}

/// One correctness check; any failure makes the run fail.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub pass: bool,
    pub detail: String,
}

impl Check {
    pub fn new(name: &str, pass: bool, detail: String) -> Check {
        Check { name: name.to_owned(), pass, detail }
    }
}

/// Renders targets and checks as a table for the terminal.
pub fn render_verdicts(targets: &[Target], checks: &[Check]) -> String {
    let mut out = String::from("\nTargets (reported, not enforced):\n");
    for t in targets {
        let verdict = if t.pass { "PASS" } else { "MISS" };
        let _ = writeln!(out, "  [{verdict}] {:<44} {:>22}   target {}", t.name, t.measured, t.target);
    }
    out.push_str("\nCorrectness checks (enforced):\n");
    for c in checks {
        let verdict = if c.pass { "ok  " } else { "FAIL" };
        let _ = writeln!(out, "  [{verdict}] {:<44} {}", c.name, c.detail);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimum_requests_at_scale_s() {
        // 1 sign-in + 1 + 3 + 1 + 10 + 2 pages + 1 task list + 500 permissions + 300 member pages
        assert_eq!(minimum_plan_requests(&Scale::DEFAULT), 819);
        // 2 round trips, then 812 requests 8 at a time at 50 ms
        assert!((lower_bound_ms(819, 50.0, 8) - (100.0 + 812.0 * 50.0 / 8.0)).abs() < 1e-9);
        let tiny = Scale::scaled(0.01);
        assert_eq!(minimum_plan_requests(&tiny), 1 + 5 + 1 + tiny.projects + tiny.groups);
    }
}
