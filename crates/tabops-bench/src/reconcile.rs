//! The measured job: exactly what `tabops plan` / `tabops apply --auto-approve` do (load and hash the manifest,
//! sign in, fetch the inventory, plan, optionally execute), with each phase timed and the client's request
//! counters captured before sign-out. Runs in-process (smoke test) or in a child process (harness, so the peak
//! RSS it reports is tabops' own and not the emulator's).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tabops_tableau::{Client, ClientConfig, Credentials};

/// What to run.
#[derive(Debug, Clone)]
pub struct ReconcileOptions {
    /// Server root, e.g. `http://127.0.0.1:PORT`.
    pub server: url::Url,
    pub site: String,
    pub manifest: PathBuf,
    pub concurrency: usize,
    /// `Some(audit log)`: execute the plan after planning it.
    pub apply: Option<PathBuf>,
}

/// Timings (ms), request counts and the plan's outcome.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ReconcileReport {
    pub load_ms: f64,
    pub sign_in_ms: f64,
    pub fetch_ms: f64,
    pub plan_ms: f64,
    /// Load + sign-in + fetch + plan: the wall time of `tabops plan`.
    pub plan_total_ms: f64,
    pub apply_ms: f64,
    /// Actions that change something.
    pub changes: usize,
    /// Up to 20 addresses of changing actions.
    pub change_sample: Vec<String>,
    pub applied: usize,
    pub failed: usize,
    /// Client counters after planning (sign-in included).
    pub plan_requests: u64,
    pub plan_by_route: BTreeMap<String, u64>,
    /// Client counters after applying (cumulative).
    pub total_requests: u64,
    pub bytes_up: u64,
    pub retries: u64,
    /// Peak RSS of the process that ran this, KiB.
    pub peak_rss_kib: Option<u64>,
}

/// A reconcile run failed.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("failed to load the manifest {}", path.display())]
    Load { path: PathBuf, source: tabops_manifest::LoadError },
    #[error("failed to sign in to {server}")]
    SignIn { server: String, source: tabops_tableau::Error },
    #[error("failed to read the inventory of {server}")]
    Fetch { server: String, source: tabops_apply::ApplyError },
    #[error("the plan has errors: {0}")]
    Unapplyable(String),
    #[error("failed to open the audit log {}", path.display())]
    Audit { path: PathBuf, source: tabops_apply::audit::AuditError },
    #[error("failed to apply the plan")]
    Apply(#[source] tabops_apply::ApplyError),
    #[error("the manifest loader task failed")]
    Join(#[source] tokio::task::JoinError),
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Signs in to the emulator with its built-in token.
pub async fn sign_in(server: &url::Url, site: &str, concurrency: usize) -> Result<Client, tabops_tableau::Error> {
    let credentials = Credentials::Pat {
        name: tabops_emulator::DEFAULT_PAT_NAME.to_owned(),
        secret: tabops_emulator::DEFAULT_PAT_SECRET.into(),
    };
    let mut config = ClientConfig::new(server.clone(), site, credentials);
    config.concurrency = concurrency;
    Client::sign_in(config).await
}

/// Plans (and optionally applies) the manifest against the site, as the CLI does.
pub async fn run(options: &ReconcileOptions) -> Result<ReconcileReport, ReconcileError> {
    let mut report = ReconcileReport::default();
    let start = Instant::now();
    // As the CLI does: parse, then hash content files while signing in and reading the site.
    let manifest = options.manifest.clone();
    let loaded = tokio::task::spawn_blocking(move || {
        tabops_manifest::load(&manifest, &tabops_manifest::LoadOptions::from_process(None, false))
    })
    .await
    .map_err(ReconcileError::Join)?
    .map_err(|source| ReconcileError::Load { path: options.manifest.clone(), source })?;
    report.load_ms = ms(start.elapsed());
    let hashing = {
        let mut owned = loaded.clone();
        tokio::task::spawn_blocking(move || tabops_manifest::hash_content(&mut owned).map(|()| owned))
    };

    let t = Instant::now();
    let server = options.server.to_string();
    let client = sign_in(&options.server, &options.site, options.concurrency)
        .await
        .map_err(|source| ReconcileError::SignIn { server: server.clone(), source })?;
    report.sign_in_ms = ms(t.elapsed());

    let t = Instant::now();
    let inventory = tabops_apply::inventory::fetch(&client, &loaded.desired)
        .await
        .map_err(|source| ReconcileError::Fetch { server: server.clone(), source })?;
    report.fetch_ms = ms(t.elapsed());
    let loaded = hashing
        .await
        .map_err(ReconcileError::Join)?
        .map_err(|source| ReconcileError::Load { path: options.manifest.clone(), source })?;

    let t = Instant::now();
    let plan = tabops_plan::plan(&loaded.desired, &inventory, &tabops_plan::PlanOptions::default());
    report.plan_ms = ms(t.elapsed());
    report.plan_total_ms = ms(start.elapsed());
    drop(inventory);

    let stats = client.stats();
    report.plan_requests = stats.requests;
    report.plan_by_route = stats.by_route;
    let changes: Vec<&tabops_plan::PlannedAction> = plan.changes().collect();
    report.changes = changes.len();
    report.change_sample = changes.iter().take(20).map(|a| format!("{:?} {}", a.action, a.id)).collect();

    if let Some(audit_path) = &options.apply {
        if !plan.applyable {
            let errors: Vec<String> = plan.errors.iter().take(5).map(|e| format!("{e:?}")).collect();
            let _ = client.sign_out().await;
            return Err(ReconcileError::Unapplyable(errors.join("; ")));
        }
        if plan.has_changes() {
            let audit = tabops_apply::audit::AuditLog::open(audit_path, "bench")
                .map_err(|source| ReconcileError::Audit { path: audit_path.clone(), source })?;
            let t = Instant::now();
            let in_flight = options.concurrency.min(tabops_apply::ExecuteOptions::default().concurrency);
            let execute = tabops_apply::ExecuteOptions { concurrency: in_flight, ..Default::default() };
            let outcome = tabops_apply::execute(&plan, &client, &audit, &execute).await;
            report.apply_ms = ms(t.elapsed());
            let outcome = outcome.map_err(ReconcileError::Apply)?;
            report.applied = outcome.completed();
            report.failed = outcome.failed() + outcome.skipped();
        }
    }
    let stats = client.stats();
    report.total_requests = stats.requests;
    report.bytes_up = stats.bytes_up;
    report.retries = stats.retries;
    let _ = client.sign_out().await;
    report.peak_rss_kib = crate::measure::peak_rss_kib();
    Ok(report)
}
