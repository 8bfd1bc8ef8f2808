//! Measurements that are not timings: peak resident memory from `/proc`, and the emulator's request counters
//! reduced to what a benchmark asserts (writes other than sign-in/out, publish requests, bytes received).

use std::collections::BTreeMap;

use serde::Serialize;

/// Peak resident set size (`VmHWM`) of this process in KiB, or `None` where `/proc` is unavailable.
pub fn peak_rss_kib() -> Option<u64> {
    proc_status_kib("/proc/self/status", "VmHWM:")
}

/// CPU time (user + system) this process has used, from `/proc/self/stat` (Linux; clock ticks of 1/100 s, the
/// kernel's `USER_HZ`), or `None` where it is unavailable.
pub fn cpu_time() -> Option<std::time::Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces: state is field 3, utime 14,
    // stime 15.
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(std::time::Duration::from_millis(ticks * 10))
}

fn proc_status_kib(path: &str, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(path).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].trim().trim_end_matches("kB").trim().parse().ok()
}

/// Requests the emulator received between two snapshots.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct EmulatorDelta {
    pub requests: u64,
    pub by_route: BTreeMap<String, u64>,
    pub bytes_received: u64,
    /// Write requests (POST/PUT/PATCH/DELETE) other than sign-in and sign-out.
    pub writes: u64,
    /// Requests that carried content: publishes and upload-session appends.
    pub content_requests: u64,
}

fn is_auth(route: &str) -> bool {
    route.ends_with("/auth/signin") || route.ends_with("/auth/signout")
}

fn is_write(route: &str) -> bool {
    ["POST ", "PUT ", "PATCH ", "DELETE "].iter().any(|m| route.starts_with(m))
}

/// Publishes (`POST .../workbooks` or `.../datasources` without a further segment) and upload appends.
fn is_content(route: &str) -> bool {
    (route.starts_with("POST ") && (route.ends_with("/workbooks") || route.ends_with("/datasources")))
        || (route.starts_with("PUT ") && route.contains("/fileUploads/"))
}

impl EmulatorDelta {
    /// What happened between `before` and `after`.
    pub fn between(before: &tabops_emulator::Stats, after: &tabops_emulator::Stats) -> EmulatorDelta {
        let mut by_route = BTreeMap::new();
        for (route, &count) in &after.by_route {
            let diff = count.saturating_sub(before.by_route.get(route).copied().unwrap_or(0));
            if diff > 0 {
                by_route.insert(route.clone(), diff);
            }
        }
        let writes = by_route.iter().filter(|(r, _)| is_write(r) && !is_auth(r)).map(|(_, n)| n).sum();
        let content_requests = by_route.iter().filter(|(r, _)| is_content(r)).map(|(_, n)| n).sum();
        EmulatorDelta {
            requests: after.requests_total.saturating_sub(before.requests_total),
            by_route,
            bytes_received: after.bytes_received.saturating_sub(before.bytes_received),
            writes,
            content_requests,
        }
    }

    /// Requests without sign-in and sign-out.
    pub fn requests_without_auth(&self) -> u64 {
        self.by_route.iter().filter(|(r, _)| !is_auth(r)).map(|(_, n)| n).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_peak_rss_and_classifies_routes() {
        assert!(peak_rss_kib().is_some_and(|kib| kib > 0));
        assert!(is_content("POST /api/{id}/sites/{id}/workbooks"));
        assert!(!is_content("POST /api/{id}/sites/{id}/workbooks/{id}/permissions"));
        assert!(is_content("PUT /api/{id}/sites/{id}/fileUploads/{id}"));
        assert!(is_auth("POST /api/{id}/auth/signin"));
        assert!(is_write("DELETE /x") && !is_write("GET /x"));
    }
}
