//! Which site a command talks to, and how it signs in: resolved from flags, the environment and the manifest's
//! `site:` block, in that order. `local` (the default) starts the embedded emulator in-process, persisted under
//! `.tabops/local/` in the working directory, and signs in with its built-in token.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use tabops_emulator::{Emulator, EmulatorConfig};
use tabops_manifest::model::{Server, SiteTarget};
use tabops_tableau::{Client, ClientConfig, Credentials};

use crate::errors::Hint;

/// Where the site is and how to reach it.
#[derive(Debug, Clone, Args)]
pub struct SiteArgs {
    /// Tableau server URL (e.g. https://10ax.online.tableau.com), or `local` for the embedded emulator site.
    /// Overrides the manifest's `site.server`.
    #[arg(long, env = "TABLEAU_SERVER", global = true)]
    pub server: Option<String>,
    /// Site content URL. Overrides the manifest's `site.content_url`.
    #[arg(long, env = "TABLEAU_SITE", global = true)]
    pub site: Option<String>,
    /// Allow plain http:// to a host that is not on loopback (credentials would cross the network in clear).
    #[arg(long, global = true)]
    pub allow_insecure_http: bool,
    /// Requests in flight at once (1 to 16; Tableau Cloud expects no more of one client). Writes are further
    /// limited to 8 actions in flight.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u8).range(1..=16), global = true)]
    pub concurrency: u8,
    /// Seconds one request may take before it counts as failed (reads are retried; a write whose outcome is
    /// unknown is read back first).
    #[arg(long, env = "TABOPS_REQUEST_TIMEOUT", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=3600), global = true)]
    pub request_timeout: u64,
    /// Largest content file a download (`export`) may write, in MiB; a server sending more is cut off and the
    /// partial file removed. Default 25 GiB, the most Tableau Cloud says one workbook or data source should be.
    #[arg(long, env = "TABOPS_MAX_DOWNLOAD_MIB", default_value_t = 25 * 1024, value_parser = clap::value_parser!(u64).range(1..=1024 * 1024), global = true)]
    pub max_download_mib: u64,
    /// Seconds tabops may wait, per request, when Tableau throttles it (429 with Retry-After). A longer wait
    /// stops the command with a message naming it, instead of retrying before Tableau would accept the request.
    #[arg(long, env = "TABOPS_MAX_RETRY_WAIT", default_value_t = 300, value_parser = clap::value_parser!(u64).range(0..=86_400), global = true)]
    pub max_retry_wait: u64,
    /// Directory for local state: the embedded site and the default audit log.
    #[arg(long, env = "TABOPS_DIR", default_value = ".tabops", global = true)]
    pub state_dir: PathBuf,
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
pub fn resolve_target(args: &SiteArgs, manifest: Option<&SiteTarget>) -> SiteTarget {
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
fn local_state_file(state_dir: &Path, content_url: &str) -> anyhow::Result<PathBuf> {
    let local = state_dir.join("local");
    let state_file = local.join(format!("{}.json", content_url.to_lowercase()));
    let confined = state_file.parent() == Some(local.as_path())
        && state_file.file_name().is_some_and(|name| Path::new(name).components().count() == 1);
    anyhow::ensure!(
        confined,
        "the embedded site's state file {} would be outside {}",
        state_file.display(),
        local.display()
    );
    Ok(state_file)
}

/// Connects to `target`, starting the embedded site when it is `local`.
pub async fn connect(args: &SiteArgs, target: &SiteTarget) -> anyhow::Result<Site> {
    // `--site` and `TABLEAU_SITE` bypass the manifest's validation: check again before the name is used anywhere.
    if !tabops_manifest::valid_content_url(&target.content_url) {
        return Err(Hint::error(
            format!(
                "invalid site content URL `{}`: it may contain only ASCII letters, digits, `-` and `_` (nothing was \
                 sent or written)",
                target.content_url.escape_debug()
            ),
            "the content URL is the site's id in its URLs (`/#/site/NAME/`), e.g. `--site acme`",
        ));
    }
    let (server_url, credentials, emulator, label) = match &target.server {
        Server::Local => {
            let state_file = local_state_file(&args.state_dir, &target.content_url)?;
            let config = EmulatorConfig {
                site: target.content_url.clone(),
                state_file: Some(state_file.clone()),
                ..EmulatorConfig::default()
            };
            let emulator = Emulator::start(config)
                .await
                .with_context(|| format!("failed to start the embedded site (state in {})", state_file.display()))?;
            let credentials = Credentials::Pat {
                name: tabops_emulator::DEFAULT_PAT_NAME.to_owned(),
                secret: tabops_emulator::DEFAULT_PAT_SECRET.into(),
            };
            let label = format!("local site '{}' ({})", target.content_url, state_file.display());
            (emulator.url(), credentials, Some(emulator), label)
        }
        Server::Url(url) => {
            let credentials = Credentials::from_env().map_err(|_| {
                Hint::error(
                    format!("no credentials to sign in to {url}"),
                    "set TABLEAU_PAT_NAME and TABLEAU_PAT_SECRET (a personal access token), or \
                     TABLEAU_CONNECTED_APP_CLIENT_ID, _SECRET_ID, _SECRET_VALUE and TABLEAU_USERNAME (a connected app)",
                )
            })?;
            (url.clone(), credentials, None, format!("site '{}' on {url}", target.content_url))
        }
    };
    let url = url::Url::parse(&server_url).with_context(|| format!("invalid server URL `{server_url}`"))?;
    // Checked here, before any connection, so the refusal names the flag that overrides it.
    if let Err(err) = tabops_tableau::check_server_url(&url, args.allow_insecure_http) {
        return Err(Hint::error(
            format!("{err} (nothing was sent)"),
            "use https://, or pass --allow-insecure-http if the network to this host is trusted",
        ));
    }
    let mut config = ClientConfig::new(url, target.content_url.clone(), credentials);
    if let Some(version) = &target.api_version {
        config.api_version = version.clone();
    }
    config.concurrency = usize::from(args.concurrency);
    config.allow_insecure_http = args.allow_insecure_http;
    config.job_timeout = Duration::from_secs(600);
    config.timeout = Duration::from_secs(args.request_timeout);
    config.max_download_bytes = args.max_download_mib * 1024 * 1024;
    config.retry.max_retry_wait = Duration::from_secs(args.max_retry_wait);
    let client = Client::sign_in(config).await.with_context(|| format!("failed to sign in to {label}"))?;
    Ok(Site { client, label, emulator, signing_out: None })
}
