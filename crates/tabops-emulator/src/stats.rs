//! Request counters behind `GET /_emulator/stats`, so tests and benchmarks can count calls, routes and bytes.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;

/// A snapshot of the request counters (also the JSON of `GET /_emulator/stats`).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Stats {
    /// API requests received (test-hook requests under `/_emulator` are not counted).
    pub requests_total: u64,
    /// Requests per HTTP method.
    pub by_method: BTreeMap<String, u64>,
    /// Requests per templated route, e.g. `GET /sites/{id}/workbooks`.
    pub by_route: BTreeMap<String, u64>,
    /// Request body bytes read.
    pub bytes_received: u64,
    /// Requests with a write method (POST, PUT, PATCH, DELETE), but for the Metadata API's queries (reads sent as
    /// POST).
    pub writes_total: u64,
    /// Injected faults (`fault_rate`), in total ...
    pub faults_total: u64,
    /// ... and per kind: `429`, `500`, `503`, `reset`, `lost_response`.
    pub faults_by_kind: BTreeMap<String, u64>,
}

#[derive(Debug, Default)]
pub struct StatsRecorder {
    inner: Mutex<Stats>,
}

impl StatsRecorder {
    pub fn record_request(&self, method: &str, route: &str) {
        let mut stats = self.lock();
        stats.requests_total += 1;
        *stats.by_method.entry(method.to_owned()).or_default() += 1;
        *stats.by_route.entry(format!("{method} {route}")).or_default() += 1;
        if matches!(method, "POST" | "PUT" | "PATCH" | "DELETE") && !is_metadata_query(route) {
            stats.writes_total += 1;
        }
    }
    pub fn record_fault(&self, kind: &str) {
        let mut stats = self.lock();
        stats.faults_total += 1;
        *stats.faults_by_kind.entry(kind.to_owned()).or_default() += 1;
    }
    pub fn add_bytes(&self, bytes: u64) {
        self.lock().bytes_received += bytes;
    }
    pub fn snapshot(&self) -> Stats {
        self.lock().clone()
    }
    pub fn reset(&self) {
        *self.lock() = Stats::default();
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, Stats> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The Metadata API's GraphQL endpoint: a POST that only reads.
pub fn is_metadata_query(route: &str) -> bool {
    route == "/api/metadata/graphql"
}
