//! Emulator settings: what the `tabops emulator` flags and tests can tune (site, credentials, persistence,
//! latency, fault injection, job timing). Secrets are redacted from `Debug`.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// Content URL of the site the emulator serves unless told otherwise.
pub const DEFAULT_SITE: &str = "acme";
/// Name of the personal access token accepted when none is configured.
pub const DEFAULT_PAT_NAME: &str = "tabops";
/// Secret of the default personal access token (a local, well-known value; the emulator is loopback only).
pub const DEFAULT_PAT_SECRET: &str = "tabops-local-secret";

/// How long an idle upload session lives by default. Tableau does not document it; an hour is far longer than
/// any pause between two chunks of a healthy upload.
pub const DEFAULT_UPLOAD_IDLE: Duration = Duration::from_secs(60 * 60);

/// How an [`crate::Emulator`] is started.
#[derive(Clone)]
pub struct EmulatorConfig {
    /// Address to bind; port 0 picks a free port. Default `127.0.0.1:0`.
    pub listen: SocketAddr,
    /// Content URL of the single emulated site.
    pub site: String,
    /// Accepted personal access tokens as `(name, secret)`; empty means the default token.
    pub pats: Vec<(String, String)>,
    /// HS256 secret for connected-app JWT sign-in; `None` disables JWT sign-in.
    pub jwt_secret: Option<String>,
    /// The connected app's client id: a JWT's `iss` must equal it (`None`: any issuer is accepted).
    pub jwt_client_id: Option<String>,
    /// The id of the connected app's secret: a JWT header's `kid` must equal it (`None`: any `kid` is accepted,
    /// but one must be present).
    pub jwt_secret_id: Option<String>,
    /// JSON file the site is loaded from at start and saved to (atomically) on writes and shutdown.
    pub state_file: Option<PathBuf>,
    /// Delay added to every API request.
    pub latency: Duration,
    /// Probability (0..=1) that an API request gets an injected fault.
    pub fault_rate: f64,
    /// Seed of the fault RNG; the same seed and request sequence give the same faults.
    pub fault_seed: u64,
    /// Largest accepted request body.
    pub max_body_bytes: u64,
    /// Largest file a single-request publish (no upload session) may carry. Tableau asks for an upload session
    /// above 64 MB (REST reference, Publish Workbook/Data Source; TSC `FILESIZE_LIMIT`/`FILESIZE_LIMIT_MB` = 64 MiB).
    pub max_single_publish_bytes: u64,
    /// A job completes once it is this old ...
    pub job_duration: Duration,
    /// ... or once it has been polled this many times, whichever comes first.
    pub job_polls: u32,
    /// Directory the XML request and response bodies are appended to (one JSON-lines file per emulator), for the
    /// wire-shape guard. Defaults to the `TABOPS_EMULATOR_WIRE_LOG` environment variable; `None` records nothing.
    pub wire_log: Option<PathBuf>,
    /// Serve the state-changing test hooks (`POST /_emulator/...`: reset stats, expire sessions, stall requests,
    /// fail jobs). Off by default: anyone who can reach the emulator could use them, without a token.
    /// `GET /_emulator/stats` is always served.
    pub test_hooks: bool,
    /// An upload session (`fileUploads`) not appended to for this long is dropped with its bytes.
    pub upload_idle: Duration,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            site: DEFAULT_SITE.to_owned(),
            pats: Vec::new(),
            jwt_secret: None,
            jwt_client_id: None,
            jwt_secret_id: None,
            state_file: None,
            latency: Duration::ZERO,
            fault_rate: 0.0,
            fault_seed: 0,
            max_body_bytes: 80 * 1024 * 1024,
            max_single_publish_bytes: 64 * 1024 * 1024,
            job_duration: Duration::from_millis(300),
            job_polls: 2,
            wire_log: std::env::var_os(crate::wire_log::ENV_VAR).filter(|v| !v.is_empty()).map(PathBuf::from),
            test_hooks: false,
            upload_idle: DEFAULT_UPLOAD_IDLE,
        }
    }
}

impl EmulatorConfig {
    /// Whether signing in needs a secret that is not published in this repository: PATs are configured (so the
    /// default token is not accepted) and none of them has the default secret.
    pub(crate) fn has_private_token(&self) -> bool {
        !self.pats.is_empty() && self.pats.iter().all(|(_, secret)| secret != DEFAULT_PAT_SECRET)
    }

    /// The PATs in effect: the configured ones, or the default token.
    pub(crate) fn effective_pats(&self) -> Vec<(String, String)> {
        if self.pats.is_empty() {
            vec![(DEFAULT_PAT_NAME.to_owned(), DEFAULT_PAT_SECRET.to_owned())]
        } else {
            self.pats.clone()
        }
    }
}

impl fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pat_names: Vec<&str> = self.pats.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("EmulatorConfig")
            .field("listen", &self.listen)
            .field("site", &self.site)
            .field("pats", &pat_names)
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| "<redacted>"))
            .field("jwt_client_id", &self.jwt_client_id)
            .field("jwt_secret_id", &self.jwt_secret_id)
            .field("state_file", &self.state_file)
            .field("latency", &self.latency)
            .field("fault_rate", &self.fault_rate)
            .field("fault_seed", &self.fault_seed)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_single_publish_bytes", &self.max_single_publish_bytes)
            .field("job_duration", &self.job_duration)
            .field("job_polls", &self.job_polls)
            .field("wire_log", &self.wire_log)
            .field("test_hooks", &self.test_hooks)
            .field("upload_idle", &self.upload_idle)
            .finish()
    }
}
