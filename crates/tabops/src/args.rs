//! Arguments several commands share (clap derive): which manifest, which site, the planner's safety switches and
//! the report format, each with its conversion into the library's plain options.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, ValueEnum};
use tabops_manifest::model::Address;
use tabops_plan::render;
use tabops_reconcile::{ManifestSource, Safety, SiteOptions};

/// `--concurrency`'s default and upper bound: the client's own (Tableau Cloud expects no more of one client).
const DEFAULT_CONCURRENCY: u8 = narrow(tabops_tableau::DEFAULT_CONCURRENCY);
const MAX_CONCURRENCY: i64 = narrow(tabops_tableau::MAX_CONCURRENCY) as i64;

/// A concurrency limit as the flag's type; the build fails if a limit no longer fits in it.
const fn narrow(limit: usize) -> u8 {
    assert!(limit >= 1 && limit <= u8::MAX as usize);
    limit as u8
}

/// Which manifest, and which environment of it.
#[derive(Debug, Clone, Args)]
pub struct ManifestArgs {
    /// The manifest: one YAML file or a directory of them.
    #[arg(short = 'f', long = "file", env = "TABOPS_MANIFEST", default_value = "tabops")]
    pub file: PathBuf,
    /// Select an environment defined under `environments:`.
    #[arg(long, env = "TABOPS_ENV")]
    pub env: Option<String>,
    /// Read the manifest and its content files from this git revision (branch, tag, commit) instead of the work
    /// tree; `-f` then names the manifest path inside the repository.
    #[arg(long, value_name = "REF")]
    pub git_ref: Option<String>,
    /// The git repository (default: discovered from the current directory); with it, `-f` is relative to its root.
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// Set a manifest variable (repeatable; the last value of a name wins). Above the `--env` environment's
    /// `vars` and the manifest's; the variable must be defined under `vars:`.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
}

/// `--var NAME=VALUE`: split at the first `=`; the name may not be empty.
fn parse_var(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => Ok((name.trim().to_owned(), value.to_owned())),
        _ => Err(format!("expected NAME=VALUE, got `{text}`")),
    }
}

impl ManifestArgs {
    pub fn source(&self) -> ManifestSource {
        ManifestSource {
            file: self.file.clone(),
            env: self.env.clone(),
            git_ref: self.git_ref.clone(),
            repo: self.repo.clone(),
            vars: self.vars.iter().cloned().collect(),
        }
    }
}

/// Safety switches of the planner.
#[derive(Debug, Clone, Args)]
pub struct SafetyArgs {
    /// Refuse a plan that deletes more than this many objects (default: the manifest's `settings.max_deletes`,
    /// else 10).
    #[arg(long)]
    pub max_deletes: Option<u32>,
    /// Allow a plan that deletes every content item of a project.
    #[arg(long)]
    pub allow_empty_project: bool,
    /// Allow a plan that deletes every project or every content item of the site.
    #[arg(long)]
    pub allow_empty_site: bool,
    /// Allow a plan that deletes a data source that workbooks the manifest does not manage use (the plan's impact
    /// section lists them; those workbooks stop working).
    #[arg(long)]
    pub allow_breaking_deletes: bool,
    /// The manifest at this git revision: what it protects stays protected, even where this manifest no longer
    /// lists it (a pull request's base branch, or on merge the commit applied before). `plan` also shows what
    /// changed since it. Protection thus lives in git history, so every runner computes the same plan.
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    /// Plan (and apply) only this object and what it depends on (repeatable), e.g. `workbook:Sales/Revenue`.
    /// The plan is partial and says so; for exceptional situations, such as recovering from an error.
    #[arg(long = "target", value_name = "ADDRESS", value_parser = parse_target)]
    pub targets: Vec<Address>,
}

/// `--target ADDRESS`: an object's address (`KIND:NAME`, `KIND:PROJECT/NAME`).
fn parse_target(text: &str) -> Result<Address, String> {
    Address::parse(text).map_err(|err| err.to_string())
}

impl SafetyArgs {
    /// The pipeline's safety options (no ceiling: `apply PLAN` sets the saved plan's).
    pub fn safety(&self) -> Safety {
        Safety {
            max_deletes: self.max_deletes,
            allow_empty_project: self.allow_empty_project,
            allow_empty_site: self.allow_empty_site,
            base: self.base.clone(),
            ceiling: None,
            targets: self.targets.iter().cloned().collect(),
            allow_breaking_deletes: self.allow_breaking_deletes,
        }
    }
}

/// Output format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people: colour on a terminal (respects NO_COLOR).
    Text,
    /// For a pull-request comment.
    Markdown,
    /// For machines; versioned (`format_version`).
    Json,
}

/// How much of a plan Markdown shows (`plan` and `show`).
#[derive(Debug, Clone, Args)]
pub struct MarkdownArgs {
    /// Markdown: the largest output in bytes (a GitHub comment holds 65,536 characters). Every error, delete and
    /// replace is shown first; what does not fit is counted in a note that says where the whole plan is.
    #[arg(long, value_name = "BYTES", default_value_t = render::DEFAULT_MAX_BYTES,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(render::MIN_MAX_BYTES as u64..))]
    pub max_bytes: usize,
    /// Markdown: how to show objects on the site that the manifest does not manage.
    #[arg(long, value_enum, default_value_t = Unmanaged::Summary)]
    pub unmanaged: Unmanaged,
}

/// `--unmanaged`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Unmanaged {
    /// Each object on its own line.
    List,
    /// A count per kind.
    Summary,
    /// Not shown.
    Hide,
}

impl MarkdownArgs {
    /// The renderer's options; `full_plan` names where the whole plan is when the Markdown leaves some out.
    pub fn options(&self, full_plan: Option<String>) -> render::MarkdownOptions {
        render::MarkdownOptions {
            max_bytes: self.max_bytes,
            unmanaged: match self.unmanaged {
                Unmanaged::List => render::UnmanagedMode::List,
                Unmanaged::Summary => render::UnmanagedMode::Summary,
                Unmanaged::Hide => render::UnmanagedMode::Hide,
            },
            full_plan,
        }
    }
}

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
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY, value_parser = clap::value_parser!(u8).range(1..=MAX_CONCURRENCY), global = true)]
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
    /// A PEM file of CA certificates to trust beside the system's roots, e.g. the CA of a proxy that inspects TLS.
    /// `SSL_CERT_FILE` is read as well. (Proxies come from HTTPS_PROXY/HTTP_PROXY/ALL_PROXY and NO_PROXY.)
    #[arg(long, value_name = "FILE", env = "TABOPS_CA_CERT", global = true)]
    pub ca_cert: Option<PathBuf>,
    /// Directory for local state: the embedded site and the default audit log. Default: `.tabops` at the root of
    /// the manifest's git repository, else beside the manifest.
    #[arg(long, env = "TABOPS_DIR", global = true)]
    pub state_dir: Option<PathBuf>,
}

/// The state directory: the one given (`--state-dir`, `TABOPS_DIR`), else the one the manifest's place implies
/// ([`tabops_reconcile::default_state_dir`]). One rule for every command that reads or writes local state.
pub fn state_dir(explicit: Option<&Path>, manifest: &Path, repo: Option<&Path>) -> PathBuf {
    explicit.map(Path::to_path_buf).unwrap_or_else(|| tabops_reconcile::default_state_dir(manifest, repo))
}

impl SiteArgs {
    /// The pipeline's site options: flags and environment, with the manifest's `site:` block left to fill the rest.
    /// A `--server` value that is a pasted browser address or has no scheme is read as
    /// [`tabops_manifest::ServerAddress`] says, with a `note:` on stderr saying what was taken or assumed.
    /// Without `--state-dir`/`TABOPS_DIR`, the state directory is found from `manifest` (and `repo`, if given).
    pub fn options(&self, manifest: &Path, repo: Option<&Path>) -> SiteOptions {
        let (server, site) = match self.server.as_deref().map(str::trim) {
            Some(raw) if !raw.eq_ignore_ascii_case("local") => match tabops_manifest::ServerAddress::parse(raw) {
                Ok(address) => {
                    for note in &address.notes {
                        let _ = writeln!(anstream::stderr(), "note: {note}");
                    }
                    if let (Some(flag), Some(pasted)) = (&self.site, &address.site)
                        && flag != pasted
                    {
                        let _ = writeln!(
                            anstream::stderr(),
                            "note: using the site '{flag}' from --site (TABLEAU_SITE), not '{pasted}' from the address"
                        );
                    }
                    (Some(address.url), self.site.clone().or(address.site))
                }
                // Not a URL even with a scheme: the connection reports it, with its hint.
                Err(_) => (Some(raw.to_owned()), self.site.clone()),
            },
            _ => (self.server.clone(), self.site.clone()),
        };
        SiteOptions {
            server,
            site,
            allow_insecure_http: self.allow_insecure_http,
            concurrency: usize::from(self.concurrency),
            request_timeout: Duration::from_secs(self.request_timeout),
            max_download_bytes: self.max_download_mib * 1024 * 1024,
            max_retry_wait: Duration::from_secs(self.max_retry_wait),
            state_dir: state_dir(self.state_dir.as_deref(), manifest, repo),
            credentials: None,
            ca_certs: ca_certs(self.ca_cert.as_deref(), std::env::var_os("SSL_CERT_FILE").as_deref()),
        }
    }
}

/// The CA files to trust beside the system's roots: `--ca-cert` (`TABOPS_CA_CERT`), then `SSL_CERT_FILE` (read
/// here too, since only some platforms' system roots read it), each once.
fn ca_certs(flag: Option<&Path>, ssl_cert_file: Option<&std::ffi::OsStr>) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = flag.map(Path::to_path_buf).into_iter().collect();
    if let Some(file) = ssl_cert_file.filter(|f| !f.is_empty()).map(PathBuf::from)
        && !files.contains(&file)
    {
        files.push(file);
    }
    files
}
