//! Turns a run's [`Results`] into the targets (PASS/MISS, reported only) and the correctness checks
//! (enforced), and renders the summary printed at the end of a run.

use std::fmt::Write as _;

use crate::harness::{Measured, Results};
use crate::report::{Check, Target};

const MB: f64 = 1e6;

/// The fastest of the plan runs (the others are in the JSON).
pub fn best_plan(results: &Results) -> Option<&Measured> {
    results.plans.iter().min_by(|a, b| a.tabops.plan_total_ms.total_cmp(&b.tabops.plan_total_ms))
}

fn network_ms(m: &Measured) -> f64 {
    m.tabops.sign_in_ms + m.tabops.fetch_ms
}

fn peak_plan_rss_mb(results: &Results) -> f64 {
    results.plans.iter().filter_map(|p| p.tabops.peak_rss_kib).max().unwrap_or(0) as f64 * 1024.0 / MB
}

pub fn targets(r: &Results) -> Vec<Target> {
    let mut out = Vec::new();
    if let Some(plan) = best_plan(r) {
        if let Some(baseline) = &r.baseline {
            let ratio = baseline.wall_ms / plan.tabops.plan_total_ms;
            out.push(Target::new("plan vs TSC baseline (speed-up)", format!("{ratio:.1}x"), ">= 15x", ratio >= 15.0));
        }
        let lb = network_ms(plan) / r.lower_bound_ms;
        out.push(Target::new(
            "plan network time vs lower bound",
            format!("{lb:.2}x ({:.0} ms)", network_ms(plan)),
            "<= 1.5x",
            lb <= 1.5,
        ));
        let total = plan.tabops.plan_total_ms / r.lower_bound_ms;
        out.push(Target::new(
            "plan wall time (incl. manifest load) vs bound",
            format!("{total:.2}x ({:.0} ms)", plan.tabops.plan_total_ms),
            "<= 1.5x",
            total <= 1.5,
        ));
        let excess = plan.tabops.plan_requests as f64 / r.minimum_requests as f64 - 1.0;
        out.push(Target::new(
            "plan requests above the minimum",
            format!("{:+.1}% ({}/{})", excess * 100.0, plan.tabops.plan_requests, r.minimum_requests),
            "<= +5%",
            excess <= 0.05,
        ));
        out.push(Target::new("concurrency at or below 16", format!("{}", r.concurrency), "<= 16", r.concurrency <= 16));
    }
    let rss = peak_plan_rss_mb(r);
    out.push(Target::new("plan peak RSS", format!("{rss:.0} MB"), "< 250 MB", rss < 250.0));
    let noop = &r.noop_apply.emulator;
    out.push(Target::new(
        "no-op apply writes / content uploads",
        format!("{} / {}", noop.writes, noop.content_requests),
        "0 / 0",
        noop.writes == 0 && noop.content_requests == 0,
    ));
    let upload_rss = r.upload.peak_rss_kib.unwrap_or(0) as f64 * 1024.0 / MB;
    out.push(Target::new(
        &format!("upload {} MiB peak RSS", r.upload.bytes >> 20),
        format!("{upload_rss:.0} MB"),
        "< 100 MB",
        upload_rss < 100.0,
    ));
    out.push(Target::new(
        "hashing vs sha256sum",
        format!("{:.2}x", r.hashing.speedup),
        ">= 1.6x",
        r.hashing.speedup >= 1.6,
    ));
    out.push(Target::new(
        "emulator 1,000-item list page (median)",
        format!("{:.1} ms", r.list_page.median_ms),
        "< 20 ms",
        r.list_page.median_ms < 20.0,
    ));
    out
}

pub fn checks(r: &Results) -> Vec<Check> {
    let mut out = Vec::new();
    for (i, plan) in r.plans.iter().enumerate() {
        out.push(Check::new(
            &format!("plan {} of the generated site is a no-op", i + 1),
            plan.tabops.changes == 0,
            format!(
                "{} change(s) {:?}",
                plan.tabops.changes,
                plan.tabops.change_sample.iter().take(3).collect::<Vec<_>>()
            ),
        ));
    }
    let noop = &r.noop_apply;
    out.push(Check::new(
        "no-op apply makes zero writes",
        noop.emulator.writes == 0 && noop.tabops.changes == 0,
        format!("{} write(s), {} content request(s)", noop.emulator.writes, noop.emulator.content_requests),
    ));
    let c = &r.changed_apply;
    let publishes_ok = c.run.tabops.changes == c.changed_files
        && c.run.emulator.content_requests as usize == c.changed_files
        && c.run.tabops.failed == 0;
    out.push(Check::new(
        "1% apply republishes exactly the changed files",
        publishes_ok,
        format!(
            "{} changed, {} planned, {} publish request(s), {} failed",
            c.changed_files, c.run.tabops.changes, c.run.emulator.content_requests, c.run.tabops.failed
        ),
    ));
    let per_write = c.envelope_bytes as f64 / c.run.emulator.writes.max(1) as f64;
    out.push(Check::new(
        "1% apply uploads the changed bytes (+ framing)",
        c.envelope_bytes >= 0 && per_write < 4096.0,
        format!(
            "changed files {} B, request bodies {} B, framing {} B over {} write(s)",
            c.changed_bytes, c.run.emulator.bytes_received, c.envelope_bytes, c.run.emulator.writes
        ),
    ));
    out.push(Check::new(
        "plan after the 1% apply is a no-op",
        c.replan_changes == 0,
        format!("{} change(s)", c.replan_changes),
    ));
    out.push(Check::new(
        "tabops and sha256sum digests agree",
        r.hashing.digests_agree,
        format!("{} files", r.hashing.files),
    ));
    let framing = r.upload_received as i64 - r.upload.bytes as i64;
    out.push(Check::new(
        "upload sends the file once (+ framing)",
        (0..64 * 1024).contains(&framing),
        format!("{} request-body bytes for a {}-byte file", r.upload_received, r.upload.bytes),
    ));
    out
}

/// The human-readable summary of a run.
pub fn summary(r: &Results) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\ntabops-bench: scale {} ({:?}), seed {}", r.scale_factor, r.scale, r.seed);
    let _ = writeln!(
        out,
        "machine: {} x{}, {}, load {}",
        r.machine.cpu, r.machine.cores, r.machine.memory, r.machine.load_average
    );
    let _ = writeln!(out, "latency {:.0} ms per request, concurrency {}", r.latency_ms, r.concurrency);
    let _ = writeln!(out, "generated in {:.1} s ({} content bytes)", r.generate_s, r.content_bytes);
    for (i, p) in r.plans.iter().enumerate() {
        let t = &p.tabops;
        let _ = writeln!(
            out,
            "plan {}: {:.0} ms (load {:.0}, sign-in {:.0}, fetch {:.0}, plan {:.0}); {} requests; peak RSS {:.0} MB",
            i + 1,
            t.plan_total_ms,
            t.load_ms,
            t.sign_in_ms,
            t.fetch_ms,
            t.plan_ms,
            t.plan_requests,
            t.peak_rss_kib.unwrap_or(0) as f64 * 1024.0 / MB
        );
    }
    if let Some(plan) = best_plan(r) {
        let _ = writeln!(out, "requests by endpoint (client):");
        for (route, n) in &plan.tabops.plan_by_route {
            let _ = writeln!(out, "  {n:>6}  {route}");
        }
        let _ = writeln!(out, "requests by endpoint (emulator, incl. sign-out):");
        for (route, n) in &plan.emulator.by_route {
            let _ = writeln!(out, "  {n:>6}  {route}");
        }
        let _ = writeln!(
            out,
            "minimum requests {}; lower bound {:.0} ms (2 x {:.0} ms chain + {} x {:.0} ms / {}); tabops network {:.0} ms = {:.2}x",
            r.minimum_requests,
            r.lower_bound_ms,
            r.latency_ms,
            r.minimum_requests.saturating_sub(1 + crate::report::FIRST_PAGES),
            r.latency_ms,
            tabops_tableau::DEFAULT_CONCURRENCY,
            network_ms(plan),
            network_ms(plan) / r.lower_bound_ms
        );
        match &r.baseline {
            Some(b) => {
                let _ = writeln!(
                    out,
                    "TSC baseline: {:.0} ms, {} requests -> tabops is {:.1}x faster with {:.1}x fewer requests",
                    b.wall_ms,
                    b.emulator.requests,
                    b.wall_ms / plan.tabops.plan_total_ms,
                    b.emulator.requests as f64 / plan.emulator.requests.max(1) as f64
                );
            }
            None => {
                let _ = writeln!(out, "TSC baseline: not run: {}", r.baseline_error.as_deref().unwrap_or("?"));
            }
        }
    }
    let n = &r.noop_apply;
    let _ = writeln!(
        out,
        "no-op apply: {:.0} ms, {} writes, {} requests",
        n.wall_ms, n.emulator.writes, n.emulator.requests
    );
    let c = &r.changed_apply;
    let _ = writeln!(
        out,
        "1% apply: {} files / {} B changed; apply {:.0} ms; {} writes; {} request-body bytes",
        c.changed_files, c.changed_bytes, c.run.tabops.apply_ms, c.run.emulator.writes, c.run.emulator.bytes_received
    );
    let l = &r.list_page;
    let _ = writeln!(
        out,
        "emulator list page ({} items, {} B): median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        l.items_per_page, l.response_bytes, l.median_ms, l.p95_ms, l.max_ms
    );
    let h = &r.hashing;
    let _ = writeln!(
        out,
        "hashing {} files / {:.2} GB: tabops {:.0} MB/s, sha256sum {:.0} MB/s ({:.2}x)",
        h.files,
        h.bytes as f64 / 1e9,
        h.tabops_mb_per_s,
        h.sha256sum_mb_per_s,
        h.speedup
    );
    let u = &r.upload;
    let _ = writeln!(
        out,
        "upload {} MiB: {:.1} s, {:.0} MiB/s, {} requests, peak RSS {:.0} MB",
        u.bytes >> 20,
        u.seconds,
        u.mib_per_s,
        u.requests,
        u.peak_rss_kib.unwrap_or(0) as f64 * 1024.0 / MB
    );
    out.push_str(&crate::report::render_verdicts(&r.targets, &r.checks));
    out
}
