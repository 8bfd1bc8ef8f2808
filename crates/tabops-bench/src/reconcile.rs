//! The measured job: what `tabops plan` / `tabops apply --auto-approve` do, through the same pipeline function
//! ([`tabops_reconcile::prepare`]: load and hash the manifest, sign in, fetch the inventory, plan), then optionally
//! execute, with each phase timed by an observer and the client's request counters captured before sign-out. Runs in-process (smoke test) or in a child process (harness, so the peak
//! RSS it reports is tabops' own and not the emulator's).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tabops_reconcile::{ManifestSource, Observer, Phase, Prepared, Safety, Session, SiteOptions};
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
    #[error(transparent)]
    Pipeline(#[from] tabops_reconcile::Error),
    #[error("the plan has errors: {0}")]
    Unapplyable(String),
    #[error("failed to open the audit log {}", path.display())]
    Audit { path: PathBuf, source: tabops_apply::audit::AuditError },
    #[error("failed to apply the plan")]
    Apply(#[source] tabops_apply::ApplyError),
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Signs in to the emulator with its built-in token.
pub async fn sign_in(server: &url::Url, site: &str, concurrency: usize) -> Result<Client, tabops_tableau::Error> {
    let mut config = ClientConfig::new(server.clone(), site, emulator_token());
    config.concurrency = concurrency;
    Client::sign_in(config).await
}

/// The emulator's built-in personal access token.
fn emulator_token() -> Credentials {
    Credentials::Pat {
        name: tabops_emulator::DEFAULT_PAT_NAME.to_owned(),
        secret: tabops_emulator::DEFAULT_PAT_SECRET.into(),
    }
}

/// Records the pipeline's phase timings and the request counters of the read, before any sign-out.
#[derive(Default)]
struct Timings(Mutex<ReconcileReport>);

impl Timings {
    fn report(&self) -> std::sync::MutexGuard<'_, ReconcileReport> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Observer for Timings {
    fn phase(&self, phase: Phase, elapsed: Duration) {
        let mut report = self.report();
        let slot = match phase {
            Phase::Load => &mut report.load_ms,
            Phase::SignIn => &mut report.sign_in_ms,
            Phase::Fetch => &mut report.fetch_ms,
            Phase::Plan => &mut report.plan_ms,
        };
        *slot = ms(elapsed);
    }

    fn site_read(&self, client: &Client) {
        let stats = client.stats();
        let mut report = self.report();
        report.plan_requests = stats.requests;
        report.plan_by_route = stats.by_route;
    }
}

/// Plans (and optionally applies) the manifest against the site through the CLI's own pipeline
/// ([`tabops_reconcile::prepare`]): a plan signs out once the site is read, an apply keeps the session.
pub async fn run(options: &ReconcileOptions) -> Result<ReconcileReport, ReconcileError> {
    let manifest = ManifestSource {
        file: options.manifest.clone(),
        env: None,
        git_ref: None,
        repo: None,
        vars: Default::default(),
    };
    let site = SiteOptions {
        server: Some(options.server.to_string()),
        site: Some(options.site.clone()),
        concurrency: options.concurrency,
        credentials: Some(emulator_token()),
        ..SiteOptions::default()
    };
    let session = if options.apply.is_some() { Session::Keep } else { Session::SignOutAfterRead };
    let timings = Timings::default();
    let start = Instant::now();
    let prepared = tabops_reconcile::prepare(&manifest, &site, &Safety::default(), session, &timings).await?;
    let mut report = std::mem::take(&mut *timings.report());
    report.plan_total_ms = ms(start.elapsed());
    let Prepared { plan, site, inventory, .. } = prepared;
    drop(inventory);

    let changes: Vec<&tabops_plan::PlannedAction> = plan.changes().collect();
    report.changes = changes.len();
    report.change_sample = changes.iter().take(20).map(|a| format!("{:?} {}", a.action, a.id)).collect();

    if let Some(audit_path) = &options.apply {
        if !plan.applyable {
            let errors: Vec<String> = plan.errors.iter().take(5).map(|e| format!("{e:?}")).collect();
            site.close().await;
            return Err(ReconcileError::Unapplyable(errors.join("; ")));
        }
        if plan.has_changes() {
            let environment: BTreeMap<String, String> = std::env::vars().collect();
            let audit = match tabops_reconcile::audit::open(audit_path, &plan, &environment) {
                Ok(audit) => audit,
                Err(source) => {
                    site.close().await;
                    return Err(ReconcileError::Audit { path: audit_path.clone(), source });
                }
            };
            let t = Instant::now();
            let in_flight = options.concurrency.min(tabops_apply::ExecuteOptions::default().concurrency);
            let execute = tabops_apply::ExecuteOptions { concurrency: in_flight, environment, ..Default::default() };
            let outcome = tabops_apply::execute(&plan, &site.client, &audit, &execute).await;
            report.apply_ms = ms(t.elapsed());
            let outcome = match outcome {
                Ok(outcome) => outcome,
                Err(err) => {
                    site.close().await;
                    return Err(ReconcileError::Apply(err));
                }
            };
            report.applied = outcome.completed();
            report.failed = outcome.failed() + outcome.skipped();
        }
    }
    let stats = site.client.stats();
    report.total_requests = stats.requests;
    report.bytes_up = stats.bytes_up;
    report.retries = stats.retries;
    site.close().await;
    report.peak_rss_kib = crate::measure::peak_rss_kib();
    Ok(report)
}
