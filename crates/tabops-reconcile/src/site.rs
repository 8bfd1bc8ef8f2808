//! Which site a command talks to, and how it signs in: resolved from flags, the environment and the manifest's
//! `site:` block, in that order. `local` (the default) starts the embedded emulator in-process, persisted under
//! `local/` in the state directory ([`default_state_dir`]: `.tabops/` at the root of the manifest's git repository,
//! so every working directory of a checkout plans against the same site), and signs in with its built-in token.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tabops_emulator::{Emulator, EmulatorConfig};
use tabops_manifest::model::{Server, SiteTarget};
use tabops_tableau::{Access, Client, ClientConfig, Credentials};

use crate::{Error, ErrorKind, SignInMethod};

/// Where the site is and how to reach it: flags and environment, resolved by the caller. `None` server or site
/// defers to the manifest's `site:` block.
#[derive(Debug, Clone)]
pub struct SiteOptions {
    /// A server URL, or `local` for the embedded emulator site.
    pub server: Option<String>,
    /// The site's content URL.
    pub site: Option<String>,
    /// Allow plain http:// to a host that is not on loopback.
    pub allow_insecure_http: bool,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// How long one request may take.
    pub request_timeout: Duration,
    /// The largest content file a download may write.
    pub max_download_bytes: u64,
    /// How long to wait when Tableau throttles a request (429 with Retry-After).
    pub max_retry_wait: Duration,
    /// Local state: the embedded site lives in `STATE_DIR/local/` (see [`default_state_dir`]).
    pub state_dir: PathBuf,
    /// Sign in with these instead of the environment's (`TABLEAU_PAT_NAME`...), for a server URL.
    pub credentials: Option<Credentials>,
    /// PEM files of CA certificates to trust beside the system's roots (`--ca-cert`, `SSL_CERT_FILE`).
    pub ca_certs: Vec<PathBuf>,
}

/// The client's defaults, the embedded site in `.tabops` of the current directory, credentials from the
/// environment.
impl Default for SiteOptions {
    fn default() -> Self {
        SiteOptions {
            server: None,
            site: None,
            allow_insecure_http: false,
            concurrency: tabops_tableau::DEFAULT_CONCURRENCY,
            request_timeout: tabops_tableau::DEFAULT_REQUEST_TIMEOUT,
            max_download_bytes: tabops_tableau::DEFAULT_MAX_DOWNLOAD_BYTES,
            max_retry_wait: tabops_tableau::DEFAULT_MAX_RETRY_WAIT,
            state_dir: PathBuf::from(STATE_DIR),
            credentials: None,
            ca_certs: Vec::new(),
        }
    }
}

/// The state directory's name: the embedded site (`local/`), the default audit log (`audit.jsonl`).
pub const STATE_DIR: &str = ".tabops";

/// Where local state lives when neither `--state-dir` nor `TABOPS_DIR` says: `.tabops/` at the root of the git
/// repository that holds the manifest (`repo`'s, when given), else beside the manifest (in the directory that
/// holds the manifest file or directory). Either way it depends on the manifest, not on the working directory, so
/// a command run from a subdirectory finds the same embedded site and audit log.
pub fn default_state_dir(manifest: &Path, repo: Option<&Path>) -> PathBuf {
    if let Some(root) = tabops_manifest::git::work_tree_of(repo.unwrap_or(manifest)) {
        return root.join(STATE_DIR);
    }
    // Lexically normal (`tabops/.` is `tabops`, `content/..` is the manifest directory), so its parent is the
    // directory that holds the manifest.
    let absolute = std::path::absolute(manifest).unwrap_or_else(|_| manifest.to_path_buf());
    let mut normal = PathBuf::new();
    for component in absolute.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    normal.parent().unwrap_or(&normal).join(STATE_DIR)
}

/// What the state directory's `.gitignore` says: everything in it is local (the embedded site's data, the audit
/// log, materialised blobs), never to be committed.
const STATE_GITIGNORE: &str = "# Written by tabops: local state (the embedded site, the audit log), not for git.\n*\n";

/// Creates the state directory, with a `.gitignore` that keeps all of it out of git (an existing `.gitignore`
/// is left as it is), before anything is written into it.
pub fn ensure_state_dir(dir: &Path) -> Result<(), Error> {
    let fail = |source| ErrorKind::StateDir { dir: dir.to_path_buf(), source };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let ignore = dir.join(".gitignore");
    match std::fs::OpenOptions::new().write(true).create_new(true).open(&ignore) {
        Ok(mut file) => std::io::Write::write_all(&mut file, STATE_GITIGNORE.as_bytes()).map_err(fail)?,
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(err) => return Err(fail(err).into()),
    }
    Ok(())
}

/// A signed-in connection. Holds the embedded emulator, if any, for as long as the command runs.
pub struct Site {
    pub client: Client,
    /// `local (acme)` or the server URL, for messages.
    pub label: String,
    emulator: Option<Emulator>,
    /// A sign-out already under way (see [`Site::sign_out_early`]).
    signing_out: Option<tokio::task::JoinHandle<()>>,
}

impl Site {
    /// Starts signing out in the background, for a command that is done with the site but still has work to do
    /// (planning, printing): the round trip overlaps that work instead of following it. [`Site::close`] waits
    /// for it.
    pub fn sign_out_early(&mut self) {
        if self.signing_out.is_none() {
            let client = self.client.clone();
            self.signing_out = Some(tokio::spawn(async move {
                let _ = client.sign_out().await;
            }));
        }
    }

    /// Signs in again after [`Site::sign_out_early`], for a command that found it needs the site after all (a plan
    /// whose impact analysis reads lineage): waits for the sign-out first, which would otherwise end the new
    /// session too.
    pub async fn resume(&mut self) -> Result<(), tabops_tableau::Error> {
        if let Some(signing_out) = self.signing_out.take() {
            let _ = signing_out.await;
            self.client.sign_in_again().await?;
        }
        Ok(())
    }

    /// Signs out (or waits for the early sign-out) and, for the embedded site, saves its state.
    pub async fn close(self) {
        match self.signing_out {
            Some(signing_out) => {
                let _ = signing_out.await;
            }
            None => {
                let _ = self.client.sign_out().await;
            }
        }
        if let Some(emulator) = self.emulator {
            emulator.shutdown().await;
        }
    }
}

/// The target after flags and environment have been applied over the manifest's (or defaults).
pub fn resolve_target(args: &SiteOptions, manifest: Option<&SiteTarget>) -> SiteTarget {
    let server = match args.server.as_deref() {
        Some(s) if s.eq_ignore_ascii_case("local") => Server::Local,
        Some(url) => Server::Url(url.to_owned()),
        None => manifest.map(|t| t.server.clone()).unwrap_or(Server::Local),
    };
    let content_url = args
        .site
        .clone()
        .or_else(|| manifest.map(|t| t.content_url.clone()))
        .unwrap_or_else(|| tabops_emulator::DEFAULT_SITE.to_owned());
    SiteTarget { server, content_url, api_version: manifest.and_then(|t| t.api_version.clone()) }
}

/// The embedded site's state file, `STATE_DIR/local/<content_url>.json`, confined to that directory: the content
/// URL (validated by the caller) must be one plain file-name segment.
fn local_state_file(state_dir: &Path, content_url: &str) -> Result<PathBuf, Error> {
    let local = state_dir.join("local");
    let state_file = local.join(format!("{}.json", content_url.to_lowercase()));
    let confined = state_file.parent() == Some(local.as_path())
        && state_file.file_name().is_some_and(|name| Path::new(name).components().count() == 1);
    if !confined {
        return Err(ErrorKind::StateFileOutside { state_file, dir: local }.into());
    }
    Ok(state_file)
}

/// Connects to `target`, starting the embedded site when it is `local`.
/// `access` says what the command does to the site: a connected app asks only for the scopes that needs.
pub async fn connect(args: &SiteOptions, target: &SiteTarget, access: Access) -> Result<Site, Error> {
    // `--site` and `TABLEAU_SITE` bypass the manifest's validation: check again before the name is used anywhere.
    if !tabops_manifest::valid_content_url(&target.content_url) {
        return Err(ErrorKind::InvalidContentUrl(target.content_url.clone()).into());
    }
    let (server_url, credentials, emulator, label) = match &target.server {
        Server::Local => {
            let state_file = local_state_file(&args.state_dir, &target.content_url)?;
            ensure_state_dir(&args.state_dir)?;
            let config = EmulatorConfig {
                site: target.content_url.clone(),
                state_file: Some(state_file.clone()),
                ..EmulatorConfig::default()
            };
            let emulator = match Emulator::start(config).await {
                Ok(emulator) => emulator,
                Err(source) => return Err(ErrorKind::StartLocal { state_file, source }.into()),
            };
            let credentials = Credentials::Pat {
                name: tabops_emulator::DEFAULT_PAT_NAME.to_owned(),
                secret: tabops_emulator::DEFAULT_PAT_SECRET.into(),
            };
            let label = format!("local site '{}' ({})", target.content_url, state_file.display());
            (emulator.url(), credentials, Some(emulator), label)
        }
        Server::Url(url) => {
            let credentials = match &args.credentials {
                Some(credentials) => credentials.clone(),
                None => Credentials::from_env_for(access).map_err(|_| ErrorKind::NoCredentials {
                    url: url.clone(),
                    missing: Credentials::missing_variables(|key| std::env::var(key).ok()),
                })?,
            };
            (url.clone(), credentials, None, format!("site '{}' on {url}", target.content_url))
        }
    };
    let url =
        url::Url::parse(&server_url).map_err(|source| ErrorKind::InvalidUrl { url: server_url.clone(), source })?;
    // Checked here, before any connection, so the refusal names the flag that overrides it.
    if let Err(refusal) = tabops_tableau::check_server_url(&url, args.allow_insecure_http) {
        return Err(ErrorKind::Insecure { refusal }.into());
    }
    let method = match (&emulator, &credentials) {
        (Some(_), _) => SignInMethod::Local,
        (None, Credentials::Pat { name, .. }) => SignInMethod::Pat { name: name.clone() },
        (None, Credentials::ConnectedApp { client_id, username, .. }) => {
            SignInMethod::ConnectedApp { client_id: client_id.clone(), username: username.clone() }
        }
    };
    let loopback = url.host_str().is_some_and(|h| {
        h.eq_ignore_ascii_case("localhost")
            || h.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
    });
    let mut config = ClientConfig::new(url, target.content_url.clone(), credentials);
    if let Some(version) = &target.api_version {
        config.api_version = version.clone();
    }
    config.concurrency = args.concurrency;
    config.allow_insecure_http = args.allow_insecure_http;
    config.job_timeout = Duration::from_secs(600);
    config.timeout = args.request_timeout;
    config.max_download_bytes = args.max_download_bytes;
    config.retry.max_retry_wait = args.max_retry_wait;
    config.ca_certs = args.ca_certs.clone();
    // The embedded site runs in this process: a proxy the environment names for the network cannot reach it.
    config.proxy_from_env = emulator.is_none();
    let client = match Client::sign_in(config).await {
        Ok(client) => client,
        Err(tabops_tableau::Error::Unreachable { reason, .. }) => {
            return Err(ErrorKind::Unreachable { url: server_url, reason, loopback }.into());
        }
        Err(source) => {
            return Err(ErrorKind::SignIn { label, method, content_url: target.content_url.clone(), source }.into());
        }
    };
    Ok(Site { client, label, emulator, signing_out: None })
}
