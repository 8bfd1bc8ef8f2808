//! Client configuration: server URL policy, credentials (PAT or connected app), retries and limits.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// Default REST API version used in paths.
pub const DEFAULT_API_VERSION: &str = "3.25";
/// Default number of requests in flight per client.
pub const DEFAULT_CONCURRENCY: usize = 16;
/// Hard upper bound on requests in flight per client.
pub const MAX_CONCURRENCY: usize = 16;
/// Files of at least this size are published through upload sessions.
pub const DEFAULT_UPLOAD_THRESHOLD: u64 = 64 * 1024 * 1024;
/// Largest chunk appended to an upload session.
pub const DEFAULT_CHUNK_SIZE: u64 = 64 * 1024 * 1024;

/// Largest content file downloaded: 25 GiB, the size Tableau Cloud says an individual workbook or data source
/// should not exceed ("Capacity Set at the Site", help.tableau.com/current/online/en-us/cloud_manager_capacity_site.htm).
/// A server streaming more is cut off instead of filling the disk.
pub const DEFAULT_MAX_DOWNLOAD_BYTES: u64 = 25 * 1024 * 1024 * 1024;
/// How long one request may take by default before it counts as failed.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// How the client signs in.
#[derive(Clone, Debug)]
pub enum Credentials {
    /// A personal access token.
    Pat {
        /// Token name.
        name: String,
        /// Token secret.
        secret: Secret,
    },
    /// A connected app (direct trust): the client signs an HS256 JWT per sign-in.
    ConnectedApp {
        /// Connected app client id (JWT `iss`).
        client_id: String,
        /// Secret id (JWT header `kid`).
        secret_id: String,
        /// Secret value (HMAC key).
        secret_value: Secret,
        /// The user to sign in as (JWT `sub`).
        username: String,
        /// Scopes (JWT `scp`), e.g. `tableau:content:read`.
        scopes: Vec<String>,
    },
}

impl Credentials {
    /// Reads credentials from the environment: `TABLEAU_PAT_NAME` + `TABLEAU_PAT_SECRET`, or
    /// `TABLEAU_CONNECTED_APP_CLIENT_ID` + `_SECRET_ID` + `_SECRET_VALUE` + `TABLEAU_USERNAME` (scopes from
    /// `TABLEAU_CONNECTED_APP_SCOPES`, comma-separated, defaulting to the scopes tabops needs).
    pub fn from_env() -> Result<Credentials> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Like [`Credentials::from_env`], but a connected app asks only for the scopes `access` needs (least
    /// privilege: a `plan` or `drift` job's token cannot write) unless `TABLEAU_CONNECTED_APP_SCOPES` is set.
    pub fn from_env_for(access: Access) -> Result<Credentials> {
        Self::from_lookup_for(|key| std::env::var(key).ok(), access)
    }

    /// Like [`Credentials::from_env`] with an explicit variable lookup (for tests and embedding).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Credentials> {
        Self::lookup_with_default(lookup, default_scopes)
    }

    /// Like [`Credentials::from_env_for`] with an explicit variable lookup.
    pub fn from_lookup_for(lookup: impl Fn(&str) -> Option<String>, access: Access) -> Result<Credentials> {
        Self::lookup_with_default(lookup, || access.scopes())
    }

    /// The variables still missing for a sign-in when some, but not all, of one method's variables are set (a PAT
    /// name without its secret, a connected app without its secret value...): what to tell a user whose
    /// credentials are incomplete. Empty when nothing is set at all, or when a method is complete. An empty value
    /// counts as unset, as it does for [`Credentials::from_env`].
    pub fn missing_variables(lookup: impl Fn(&str) -> Option<String>) -> Vec<&'static str> {
        let set = |key: &str| lookup(key).is_some_and(|v| !v.is_empty());
        let missing = |keys: &[&'static str]| keys.iter().copied().filter(|k| !set(k)).collect::<Vec<_>>();
        let pat = missing(PAT_VARIABLES);
        let app = missing(CONNECTED_APP_VARIABLES);
        if pat.is_empty() || app.is_empty() {
            return Vec::new();
        }
        // `TABLEAU_USERNAME` alone says nothing about a connected app: a shell may set it for other tools.
        let app_started = CONNECTED_APP_VARIABLES[..3].iter().any(|k| set(k));
        if pat.len() < PAT_VARIABLES.len() {
            pat
        } else if app_started {
            app
        } else {
            Vec::new()
        }
    }

    fn lookup_with_default(
        lookup: impl Fn(&str) -> Option<String>,
        default: impl FnOnce() -> Vec<String>,
    ) -> Result<Credentials> {
        let get = |key: &str| lookup(key).filter(|v| !v.is_empty());
        if let (Some(name), Some(secret)) = (get("TABLEAU_PAT_NAME"), get("TABLEAU_PAT_SECRET")) {
            return Ok(Credentials::Pat { name, secret: Secret::new(secret) });
        }
        let app = (
            get("TABLEAU_CONNECTED_APP_CLIENT_ID"),
            get("TABLEAU_CONNECTED_APP_SECRET_ID"),
            get("TABLEAU_CONNECTED_APP_SECRET_VALUE"),
            get("TABLEAU_USERNAME"),
        );
        if let (Some(client_id), Some(secret_id), Some(secret_value), Some(username)) = app {
            let scopes = get("TABLEAU_CONNECTED_APP_SCOPES")
                .map(|s| s.split(',').map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect())
                .unwrap_or_else(default);
            return Ok(Credentials::ConnectedApp {
                client_id,
                secret_id,
                secret_value: Secret::new(secret_value),
                username,
                scopes,
            });
        }
        Err(Error::Config {
            message: "no Tableau credentials: set TABLEAU_PAT_NAME and TABLEAU_PAT_SECRET, or \
                      TABLEAU_CONNECTED_APP_CLIENT_ID, TABLEAU_CONNECTED_APP_SECRET_ID, \
                      TABLEAU_CONNECTED_APP_SECRET_VALUE and TABLEAU_USERNAME"
                .to_owned(),
        })
    }
}

/// The variables of a personal-access-token sign-in.
pub const PAT_VARIABLES: &[&str] = &["TABLEAU_PAT_NAME", "TABLEAU_PAT_SECRET"];
/// The variables of a connected-app sign-in (scopes are optional and not listed).
pub const CONNECTED_APP_VARIABLES: &[&str] = &[
    "TABLEAU_CONNECTED_APP_CLIENT_ID",
    "TABLEAU_CONNECTED_APP_SECRET_ID",
    "TABLEAU_CONNECTED_APP_SECRET_VALUE",
    "TABLEAU_USERNAME",
];

/// Connected-app scopes that `tabops plan` and `tabops drift` need: the reads of the site inventory
/// (`validate` is offline and needs none). The table of every scope, its methods and the command that needs it is
/// in `docs/tableau-cloud.md`.
pub const READ_SCOPES: &[&str] = &[
    "tableau:content:read",
    "tableau:users:read",
    "tableau:groups:read",
    "tableau:tasks:read",
    "tableau:permissions:read",
];

/// What `tabops export` needs beyond [`READ_SCOPES`]: downloading the content files.
pub const EXPORT_SCOPES: &[&str] = &["tableau:workbooks:download", "tableau:datasources:download"];

/// What `tabops export` needs beyond [`EXPORT_SCOPES`] when it adopts the site (the default): writing and replacing
/// the checksum marker tags.
pub const ADOPT_SCOPES: &[&str] = &[
    "tableau:workbook_tags:update",
    "tableau:workbook_tags:delete",
    "tableau:datasource_tags:update",
    "tableau:datasource_tags:delete",
];

/// What `tabops apply` needs beyond [`READ_SCOPES`]: every write the executor can make, and reading and
/// cancelling the refresh jobs it starts.
pub const APPLY_SCOPES: &[&str] = &[
    "tableau:projects:create",
    "tableau:projects:update",
    "tableau:projects:delete",
    "tableau:workbooks:create",
    "tableau:workbooks:update",
    "tableau:workbooks:delete",
    "tableau:datasources:create",
    "tableau:datasources:update",
    "tableau:datasources:delete",
    "tableau:file_uploads:create",
    "tableau:workbook_tags:update",
    "tableau:workbook_tags:delete",
    "tableau:datasource_tags:update",
    "tableau:datasource_tags:delete",
    "tableau:users:create",
    "tableau:users:update",
    "tableau:users:delete",
    "tableau:groups:create",
    "tableau:groups:update",
    "tableau:groups:delete",
    "tableau:tasks:create",
    "tableau:tasks:update",
    "tableau:tasks:delete",
    "tableau:tasks:run",
    "tableau:jobs:read",
    "tableau:jobs:update",
    "tableau:permissions:update",
    "tableau:permissions:delete",
];

/// What `tabops refresh` needs beyond [`READ_SCOPES`]: starting extract refreshes now and reading their jobs.
pub const REFRESH_SCOPES: &[&str] = &["tableau:tasks:run", "tableau:jobs:read"];

/// The connected-app scopes tabops requests when `TABLEAU_CONNECTED_APP_SCOPES` is not set: exactly the scopes
/// of the methods it calls (plan, drift, apply and export), no wildcards. To narrow a connected app further
/// (e.g. a drift-only job), set the variable to [`READ_SCOPES`]; a call outside the scopes then fails with
/// [`crate::Error::MissingScope`] naming the scope.
pub fn default_scopes() -> Vec<String> {
    READ_SCOPES.iter().chain(EXPORT_SCOPES).chain(APPLY_SCOPES).map(|s| (*s).to_owned()).collect()
}

/// What a command does to a site, and so which connected-app scopes it asks for by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `plan`, `drift` and `report`: [`READ_SCOPES`].
    Read,
    /// `export` (read-only, the default): [`READ_SCOPES`] and [`EXPORT_SCOPES`].
    Export,
    /// `export --adopt`: [`READ_SCOPES`], [`EXPORT_SCOPES`] and [`ADOPT_SCOPES`].
    ExportAndAdopt,
    /// `apply`: [`READ_SCOPES`] and [`APPLY_SCOPES`].
    Apply,
    /// `refresh`: [`READ_SCOPES`] and [`REFRESH_SCOPES`].
    Refresh,
}

impl Access {
    /// The scopes of every method this kind of command calls, no more.
    pub fn scopes(self) -> Vec<String> {
        let extra: &[&[&str]] = match self {
            Access::Read => &[],
            Access::Export => &[EXPORT_SCOPES],
            Access::ExportAndAdopt => &[EXPORT_SCOPES, ADOPT_SCOPES],
            Access::Apply => &[APPLY_SCOPES],
            Access::Refresh => &[REFRESH_SCOPES],
        };
        READ_SCOPES.iter().chain(extra.iter().copied().flatten()).map(|s| (*s).to_owned()).collect()
    }
}

/// Default budget for the waits Tableau asks for with `Retry-After` during one call (5 minutes).
pub const DEFAULT_MAX_RETRY_WAIT: Duration = Duration::from_secs(5 * 60);

/// Retry behaviour for transient failures.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Total attempts, including the first (1 = no retries).
    pub max_attempts: usize,
    /// First backoff delay.
    pub base_delay: Duration,
    /// Largest backoff delay (for failures that do not say how long to wait).
    pub max_delay: Duration,
    /// Budget for the waits the server asks for (429 `Retry-After` or "retry after N minutes") during one call.
    /// A wait within the budget is honoured exactly, never shortened; one that would exceed it stops the call
    /// at once with [`crate::Error::Throttled`] naming the wait, instead of retrying early for nothing.
    pub max_retry_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
            max_retry_wait: DEFAULT_MAX_RETRY_WAIT,
        }
    }
}

/// Everything needed to build a [`crate::Client`].
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Server root, e.g. `https://prod-useast-a.online.tableau.com`.
    pub server: Url,
    /// Site contentUrl.
    pub site: String,
    /// REST API version for paths, e.g. `3.25`.
    pub api_version: String,
    /// Sign-in credentials.
    pub credentials: Credentials,
    /// Requests in flight (clamped to 1..=16).
    pub concurrency: usize,
    /// Allow plain HTTP to non-loopback hosts.
    pub allow_insecure_http: bool,
    /// Retry policy for transient failures.
    pub retry: RetryPolicy,
    /// Per-request timeout (uploads and downloads use it as a read-inactivity timeout instead).
    pub timeout: Duration,
    /// Default maximum wait in [`crate::Client::wait_for_job`] callers may use.
    pub job_timeout: Duration,
    /// Files at least this large are published through upload sessions.
    pub upload_threshold: u64,
    /// Chunk size for upload-session appends (at most 64 MiB).
    pub chunk_size: u64,
    /// Largest file a download may write; a longer download is stopped and its partial file removed.
    pub max_download_bytes: u64,
    /// More CA certificates to trust (PEM files, each with one or more certificates), beside the system's roots:
    /// the CA of a TLS-inspecting proxy.
    pub ca_certs: Vec<PathBuf>,
    /// Send requests through the proxy the environment names (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, lower
    /// case too, minus the hosts of `NO_PROXY`). On by default; off for a server in the same process.
    pub proxy_from_env: bool,
}

impl ClientConfig {
    /// A configuration with defaults for everything but server, site and credentials.
    pub fn new(server: Url, site: impl Into<String>, credentials: Credentials) -> Self {
        Self {
            server,
            site: site.into(),
            api_version: DEFAULT_API_VERSION.to_owned(),
            credentials,
            concurrency: DEFAULT_CONCURRENCY,
            allow_insecure_http: false,
            retry: RetryPolicy::default(),
            timeout: DEFAULT_REQUEST_TIMEOUT,
            job_timeout: Duration::from_secs(3600),
            upload_threshold: DEFAULT_UPLOAD_THRESHOLD,
            chunk_size: DEFAULT_CHUNK_SIZE,
            max_download_bytes: DEFAULT_MAX_DOWNLOAD_BYTES,
            ca_certs: Vec::new(),
            proxy_from_env: true,
        }
    }

    /// Checks the URL policy and limits.
    pub fn validate(&self) -> Result<()> {
        check_server_url(&self.server, self.allow_insecure_http)?;
        if self.chunk_size == 0 || self.chunk_size > DEFAULT_CHUNK_SIZE {
            return Err(Error::Config { message: format!("chunk size {} must be 1..=64 MiB", self.chunk_size) });
        }
        if self.retry.max_attempts == 0 {
            return Err(Error::Config { message: "retry.max_attempts must be at least 1".to_owned() });
        }
        Ok(())
    }
}

/// Accepts `https://` always, `http://` only to loopback hosts unless `allow_insecure` is set.
pub fn check_server_url(url: &Url, allow_insecure: bool) -> Result<()> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_insecure || is_loopback(url) => Ok(()),
        "http" => Err(Error::InsecureUrl { url: url.to_string() }),
        other => Err(Error::Config { message: format!("unsupported URL scheme '{other}' in {url}") }),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test url")
    }

    #[test]
    fn http_only_to_loopback_unless_allowed() {
        assert!(check_server_url(&url("https://example.com"), false).is_ok());
        assert!(check_server_url(&url("http://127.0.0.1:8080"), false).is_ok());
        assert!(check_server_url(&url("http://127.5.6.7"), false).is_ok());
        assert!(check_server_url(&url("http://[::1]:9"), false).is_ok());
        assert!(check_server_url(&url("http://LOCALHOST"), false).is_ok());
        let err = check_server_url(&url("http://example.com"), false).expect_err("must refuse");
        assert!(matches!(err, Error::InsecureUrl { .. }));
        assert!(err.to_string().contains("plain HTTP"));
        assert!(check_server_url(&url("http://example.com"), true).is_ok());
        assert!(check_server_url(&url("ftp://example.com"), true).is_err());
    }

    #[test]
    fn each_command_asks_a_connected_app_for_only_the_scopes_it_needs() {
        let app = |key: &str| match key {
            "TABLEAU_CONNECTED_APP_CLIENT_ID" => Some("c".to_owned()),
            "TABLEAU_CONNECTED_APP_SECRET_ID" => Some("i".to_owned()),
            "TABLEAU_CONNECTED_APP_SECRET_VALUE" => Some("v".to_owned()),
            "TABLEAU_USERNAME" => Some("u".to_owned()),
            _ => None,
        };
        let scopes = |access| match Credentials::from_lookup_for(app, access).expect("app") {
            Credentials::ConnectedApp { scopes, .. } => scopes,
            Credentials::Pat { .. } => unreachable!("no PAT variables"),
        };
        let read = scopes(Access::Read);
        assert_eq!(read, READ_SCOPES.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        assert!(read.iter().all(|s| s.ends_with(":read")), "plan and drift cannot write: {read:?}");
        let export = scopes(Access::Export);
        assert!(export.iter().all(|s| s.ends_with(":read") || s.ends_with(":download")), "{export:?}");
        let adopt = scopes(Access::ExportAndAdopt);
        assert!(adopt.iter().all(|s| export.contains(s) || s.contains("_tags:")), "adoption only tags: {adopt:?}");
        let apply = scopes(Access::Apply);
        assert!(!apply.iter().any(|s| s.ends_with(":download")), "apply downloads nothing: {apply:?}");
        let refresh = scopes(Access::Refresh);
        assert!(
            refresh.iter().all(|s| read.contains(s) || REFRESH_SCOPES.contains(&s.as_str())),
            "refresh only reads, starts refreshes and reads their jobs: {refresh:?}"
        );
        assert!(REFRESH_SCOPES.iter().all(|s| apply.contains(&(*s).to_owned())), "apply --refresh needs no more");
        let mut union: Vec<String> = adopt.into_iter().chain(apply).collect();
        union.sort();
        union.dedup();
        let mut defaults = default_scopes();
        defaults.sort();
        assert_eq!(union, defaults, "together the commands need exactly the default scopes");
        // The variable still wins.
        let narrowed = Credentials::from_lookup_for(
            |key| if key == "TABLEAU_CONNECTED_APP_SCOPES" { Some("tableau:content:read".into()) } else { app(key) },
            Access::Apply,
        );
        assert!(matches!(narrowed, Ok(Credentials::ConnectedApp { scopes, .. }) if scopes == ["tableau:content:read"]));
    }

    #[test]
    fn credentials_from_lookup() {
        let pat = Credentials::from_lookup(|k| match k {
            "TABLEAU_PAT_NAME" => Some("n".into()),
            "TABLEAU_PAT_SECRET" => Some("s3cret".into()),
            _ => None,
        })
        .expect("pat");
        assert!(matches!(&pat, Credentials::Pat { name, secret } if name == "n" && secret.expose() == "s3cret"));
        assert!(!format!("{pat:?}").contains("s3cret"));

        let app = Credentials::from_lookup(|k| match k {
            "TABLEAU_CONNECTED_APP_CLIENT_ID" => Some("cid".into()),
            "TABLEAU_CONNECTED_APP_SECRET_ID" => Some("sid".into()),
            "TABLEAU_CONNECTED_APP_SECRET_VALUE" => Some("val".into()),
            "TABLEAU_USERNAME" => Some("me@x.com".into()),
            "TABLEAU_CONNECTED_APP_SCOPES" => Some("a, b".into()),
            _ => None,
        })
        .expect("app");
        assert!(matches!(&app, Credentials::ConnectedApp { scopes, .. } if scopes == &["a", "b"]));
        assert!(Credentials::from_lookup(|_| None).is_err());
    }
}
