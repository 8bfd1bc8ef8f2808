//! Why the pipeline stopped. Each variant names what it was doing and to what; advice for the user is data
//! ([`Error::hint`]) that the CLI prints on its own `hint:` line, not part of the message.

use std::path::PathBuf;

use tabops_manifest::git::GitError;
use tabops_manifest::{Diagnostics, LoadError};

/// An error of loading the manifest, connecting to the site, reading it or planning. Boxed, so results stay small;
/// [`Error::kind`] says which.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct Error(Box<ErrorKind>);

impl<E: Into<ErrorKind>> From<E> for Error {
    fn from(kind: E) -> Self {
        Error(Box::new(kind.into()))
    }
}

/// What went wrong, with what it was doing.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    /// The manifest has problems ([`Error::diagnostics`] lists them); nothing was sent.
    #[error("the manifest `{}` has {} error(s); nothing was sent to the site", file.display(), diagnostics.len())]
    InvalidManifest { file: PathBuf, diagnostics: Diagnostics },
    /// Content files that could not be hashed, found while the site was being read (work-tree files are hashed
    /// alongside the read): the site was read, nothing was written.
    #[error(
        "the manifest `{}` names {} content file(s) that cannot be read; the site was read, nothing was written to it",
        file.display(),
        diagnostics.len()
    )]
    UnhashableContent { file: PathBuf, diagnostics: Diagnostics },
    #[error("there is no manifest at `{}`", file.display())]
    NoManifest { file: PathBuf },
    #[error(transparent)]
    Load(LoadError),
    /// A git revision that cannot be read (for `NotFound`, the hint says how to fetch it).
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("failed to write content files of {reference} to {dir}")]
    Materialise {
        reference: String,
        dir: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the manifest `{}` at the base revision `{reference}` has {} error(s):\n{diagnostics}",
        file.display(),
        diagnostics.len()
    )]
    InvalidBase { file: PathBuf, reference: String, diagnostics: Diagnostics },
    #[error("failed to load the manifest at the base revision `{reference}`")]
    LoadBase {
        reference: String,
        #[source]
        source: LoadError,
    },
    /// `--site` and `TABLEAU_SITE` bypass the manifest's validation, so the content URL is checked again.
    #[error(
        "invalid site content URL `{}`: it may contain only ASCII letters, digits, `-` and `_` (nothing was sent or \
         written)",
        .0.escape_debug()
    )]
    InvalidContentUrl(String),
    #[error("the embedded site's state file {} would be outside {}", state_file.display(), dir.display())]
    StateFileOutside { state_file: PathBuf, dir: PathBuf },
    #[error("failed to create the state directory {}", dir.display())]
    StateDir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to start the embedded site (state in {})", state_file.display())]
    StartLocal {
        state_file: PathBuf,
        #[source]
        source: tabops_emulator::EmulatorError,
    },
    /// No complete set of credentials in the environment; `missing` names what a half-set method lacks.
    #[error(
        "no credentials to sign in to {url}{}",
        if missing.is_empty() { String::new() } else { format!(": {} not set", missing.join(" and ")) }
    )]
    NoCredentials { url: String, missing: Vec<&'static str> },
    #[error("invalid server URL `{url}`")]
    InvalidUrl {
        url: String,
        #[source]
        source: url::ParseError,
    },
    /// Plain http:// to a host that is not on loopback, refused before any connection.
    #[error("{refusal} (nothing was sent)")]
    Insecure { refusal: tabops_tableau::Error },
    /// Nothing answers at the server's address (refused, or the host name does not resolve): one line, no retries.
    #[error("cannot connect to {url}: {reason} (nothing was sent)")]
    Unreachable { url: String, reason: String, loopback: bool },
    #[error("failed to sign in to {label}")]
    SignIn {
        label: String,
        /// How it signed in and as whom, for the hint.
        method: SignInMethod,
        /// The site content URL it signed in to.
        content_url: String,
        #[source]
        source: tabops_tableau::Error,
    },
    /// A preview that cannot be made or removed (`tabops preview`).
    #[error(transparent)]
    Preview(#[from] tabops_plan::preview::PreviewError),
    /// A previewed workbook could not be pointed at the preview's data sources.
    #[error("failed to point a previewed workbook at the preview's data sources")]
    Repoint(#[from] tabops_content::repoint::RepointError),
    #[error("failed to write the view image {}", path.display())]
    WriteImage {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to read {label}")]
    Fetch {
        label: String,
        #[source]
        source: tabops_apply::ApplyError,
    },
    /// Reading which workbooks use the data sources the plan changes or deletes failed.
    #[error("failed to read the lineage of the changed data sources from {label}")]
    Lineage {
        label: String,
        #[source]
        source: tabops_tableau::Error,
    },
    /// The Metadata API answered the lineage query with GraphQL errors (other than being disabled).
    #[error("the Metadata API of {label} refused the lineage query: {message}")]
    LineageQuery { label: String, message: String },
    /// A background task (loading, hashing, git) panicked or was cancelled.
    #[error(transparent)]
    Task(#[from] tokio::task::JoinError),
}

impl Error {
    pub fn kind(&self) -> &ErrorKind {
        &self.0
    }

    /// Advice for the user, shown on its own line after the error.
    pub fn hint(&self) -> Option<String> {
        Some(match self.kind() {
            ErrorKind::InvalidManifest { file, .. } | ErrorKind::UnhashableContent { file, .. } => {
                format!("run `tabops validate -f {}` to check it offline", file.display())
            }
            ErrorKind::NoManifest { .. } => {
                "pass -f PATH: a manifest file, or a directory of manifest files (the default is `tabops`)".to_owned()
            }
            // Transparent: the git error itself is not in the chain, so its hint is given here.
            ErrorKind::Git(err) => return err.hint(),
            ErrorKind::Load(err) => return err.hint(),
            ErrorKind::Preview(err) => return err.hint(),
            ErrorKind::Repoint(err) => return err.hint(),
            ErrorKind::InvalidContentUrl(_) => {
                "the content URL is the site's id in its URLs (`/#/site/NAME/`), e.g. `--site acme`".to_owned()
            }
            ErrorKind::NoCredentials { missing, .. } if !missing.is_empty() => missing_hint(missing),
            ErrorKind::SignIn { method, content_url, source, .. } => return sign_in_hint(method, content_url, source),
            ErrorKind::NoCredentials { .. } => {
                "set TABLEAU_PAT_NAME and TABLEAU_PAT_SECRET (a personal access token), or \
                                            TABLEAU_CONNECTED_APP_CLIENT_ID, _SECRET_ID, _SECRET_VALUE and \
                                            TABLEAU_USERNAME (a connected app)"
                    .to_owned()
            }
            ErrorKind::Unreachable { reason, loopback, .. } => {
                if *loopback {
                    "nothing listens there: start the server (e.g. `tabops emulator --listen ADDRESS`) or fix the port; `--server local` \
                     runs the embedded site without one"
                        .to_owned()
                } else if reason.contains("resolve") {
                    "check the host name in --server (TABLEAU_SERVER) or the manifest's `site.server`; Tableau Cloud \
                     addresses look like https://10ax.online.tableau.com"
                        .to_owned()
                } else {
                    "check the host and port in --server (TABLEAU_SERVER) or the manifest's `site.server`, and that \
                     this machine may reach it"
                        .to_owned()
                }
            }
            ErrorKind::InvalidUrl { .. } => {
                "give the server as a URL, e.g. `--server https://10ax.online.tableau.com`, or `local` for the \
                 embedded site"
                    .to_owned()
            }
            ErrorKind::Insecure { refusal: tabops_tableau::Error::Config { .. } } => {
                "tabops talks to Tableau over https:// (or plain http:// to a loopback address)".to_owned()
            }
            ErrorKind::Insecure { .. } => {
                "use https://, or pass --allow-insecure-http if the network to this host is trusted".to_owned()
            }
            ErrorKind::LineageQuery { .. } => {
                "the query tabops sends is in docs/tableau-cloud.md (Metadata API); report the message with the                  site's Tableau version"
                    .to_owned()
            }
            _ => return None,
        })
    }

    /// The problems of an invalid manifest, for the caller to show before the error itself.
    pub fn diagnostics(&self) -> Option<&Diagnostics> {
        match self.kind() {
            ErrorKind::InvalidManifest { diagnostics, .. } | ErrorKind::UnhashableContent { diagnostics, .. } => {
                Some(diagnostics)
            }
            _ => None,
        }
    }
}

/// How a sign-in was attempted, with the names that are safe to show (never a secret).
#[derive(Debug, Clone)]
pub enum SignInMethod {
    /// A personal access token of this name.
    Pat { name: String },
    /// A connected app: its client id and the user it signs in as.
    ConnectedApp { client_id: String, username: String },
    /// The embedded site.
    Local,
}

/// What to set when a sign-in method's variables are only partly set.
fn missing_hint(missing: &[&str]) -> String {
    if missing.contains(&"TABLEAU_PAT_SECRET") && missing.len() == 1 {
        "set TABLEAU_PAT_SECRET to the secret shown once when the personal access token was created (My Account \
         Settings); if it is lost, create a new token"
            .to_owned()
    } else {
        format!("set {} (or unset the others to use another sign-in method)", missing.join(" and "))
    }
}

/// What to check after Tableau refused a sign-in, from its error code. Tableau gives one code, 401001 "Signin
/// Error", for a wrong token name, a wrong secret, an expired or revoked token and (inferred) a site content URL
/// it does not know, so the hint lists each of those; a connected app's refusal carries a number in the detail
/// (`Error signing in to Tableau Server (126)`) that narrows it to one. Sources in docs/tableau-cloud.md.
fn sign_in_hint(method: &SignInMethod, content_url: &str, source: &tabops_tableau::Error) -> Option<String> {
    let tabops_tableau::Error::Api { code, detail, .. } = source else { return None };
    if code != "401001" {
        return None;
    }
    let site = format!(
        "the site content URL '{content_url}' (--site, TABLEAU_SITE or the manifest's `site:`): the NAME in the \
         site's address, `/#/site/NAME/`"
    );
    Some(match method {
        SignInMethod::Pat { name } => format!(
            "Tableau refuses a sign-in with the same error (401001) for each of these, so check them in turn:\n  \
             - the token name '{name}' (TABLEAU_PAT_NAME), as listed under My Account Settings\n  \
             - its secret (TABLEAU_PAT_SECRET), as shown once when the token was created\n  \
             - {site}\n  \
             - whether the token expired (unused for 15 days, or past the site's token lifetime) or was revoked: \
             then create a new one"
        ),
        SignInMethod::ConnectedApp { client_id, username } => {
            let number = detail.trim_end().strip_suffix(')').and_then(|d| d.rsplit_once('(')).map(|(_, n)| n);
            match number {
                Some("5") => format!(
                    "Tableau did not find the user '{username}' (TABLEAU_USERNAME, error 5): it must be the exact \
                     user name (case sensitive) of a user of site '{content_url}', or the content URL is wrong"
                ),
                Some("126") => format!(
                    "Tableau did not find the connected app '{client_id}' (TABLEAU_CONNECTED_APP_CLIENT_ID, error \
                     126): check the client id, that the app is enabled, and {site}"
                ),
                Some("127") => "Tableau did not find the connected app's secret (TABLEAU_CONNECTED_APP_SECRET_ID, \
                                error 127): check the secret id and that the secret is still enabled"
                    .to_owned(),
                _ => format!(
                    "Tableau refused the connected app's token: check TABLEAU_CONNECTED_APP_SECRET_VALUE, the user \
                     '{username}' (TABLEAU_USERNAME), this machine's clock (the token is valid for minutes), and \
                     {site}"
                ),
            }
        }
        SignInMethod::Local => return None,
    })
}

/// An invalid or unreadable manifest at `file`; a missing one says how to point at it.
pub fn load_error(file: &std::path::Path, err: LoadError) -> Error {
    match err {
        LoadError::Invalid(diagnostics) => ErrorKind::InvalidManifest { file: file.to_path_buf(), diagnostics }.into(),
        other => unreadable(file, other),
    }
}

/// A manifest that could not be read at all; a missing one says how to point at it.
pub fn unreadable(file: &std::path::Path, err: LoadError) -> Error {
    match &err {
        LoadError::Io { path, source } if source.kind() == std::io::ErrorKind::NotFound && path == file => {
            ErrorKind::NoManifest { file: file.to_path_buf() }.into()
        }
        _ => ErrorKind::Load(err).into(),
    }
}
