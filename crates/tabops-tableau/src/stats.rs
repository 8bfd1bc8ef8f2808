//! Request accounting: how many requests per method and route, bytes each way, retries and re-sign-ins.
//!
//! The inventory fetcher and the benchmarks use these numbers to prove "fewest requests" claims.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// A snapshot of a client's request counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestStats {
    /// HTTP attempts sent (including retries).
    pub requests: u64,
    /// Attempts keyed by `"METHOD route"`, e.g. `"GET /sites/{site}/workbooks"`.
    pub by_route: BTreeMap<String, u64>,
    /// Attempts keyed by method.
    pub by_method: BTreeMap<String, u64>,
    /// Request body bytes sent.
    pub bytes_up: u64,
    /// Response body bytes received.
    pub bytes_down: u64,
    /// Retries performed after transient failures.
    pub retries: u64,
    /// Transparent re-sign-ins after 401002.
    pub re_sign_ins: u64,
}

impl RequestStats {
    /// Attempts for one `"METHOD route"` key.
    pub fn count(&self, key: &str) -> u64 {
        self.by_route.get(key).copied().unwrap_or(0)
    }
}

#[derive(Debug, Default)]
pub(crate) struct StatsRecorder {
    inner: Mutex<RequestStats>,
}

impl StatsRecorder {
    fn with(&self, f: impl FnOnce(&mut RequestStats)) {
        // A poisoned lock only means another thread panicked while counting; the counters stay usable.
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard);
    }

    pub(crate) fn request(&self, method: &str, route: &str, bytes_up: u64) {
        self.with(|s| {
            s.requests += 1;
            s.bytes_up += bytes_up;
            *s.by_route.entry(format!("{method} {route}")).or_default() += 1;
            *s.by_method.entry(method.to_owned()).or_default() += 1;
        });
    }

    pub(crate) fn bytes_down(&self, n: u64) {
        self.with(|s| s.bytes_down += n);
    }

    pub(crate) fn retry(&self) {
        self.with(|s| s.retries += 1);
    }

    pub(crate) fn re_sign_in(&self) {
        self.with(|s| s.re_sign_ins += 1);
    }

    pub(crate) fn snapshot(&self) -> RequestStats {
        let mut out = RequestStats::default();
        self.with(|s| out = s.clone());
        out
    }
}
