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
    #[error("failed to start the embedded site (state in {})", state_file.display())]
    StartLocal {
        state_file: PathBuf,
        #[source]
        source: tabops_emulator::EmulatorError,
    },
    #[error("no credentials to sign in to {url}")]
    NoCredentials { url: String },
    #[error("invalid server URL `{url}`")]
    InvalidUrl {
        url: String,
        #[source]
        source: url::ParseError,
    },
    /// Plain http:// to a host that is not on loopback, refused before any connection.
    #[error("{refusal} (nothing was sent)")]
    Insecure { refusal: tabops_tableau::Error },
    #[error("failed to sign in to {label}")]
    SignIn {
        label: String,
        #[source]
        source: tabops_tableau::Error,
    },
    #[error("failed to read {label}")]
    Fetch {
        label: String,
        #[source]
        source: tabops_apply::ApplyError,
    },
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
            ErrorKind::InvalidManifest { file, .. } => {
                format!("run `tabops validate -f {}` to check it offline", file.display())
            }
            ErrorKind::NoManifest { .. } => {
                "pass -f PATH: a manifest file, or a directory of YAML files (the default is `tabops`)".to_owned()
            }
            // Transparent: the git error itself is not in the chain, so its hint is given here.
            ErrorKind::Git(err) => return err.hint(),
            ErrorKind::InvalidContentUrl(_) => {
                "the content URL is the site's id in its URLs (`/#/site/NAME/`), e.g. `--site acme`".to_owned()
            }
            ErrorKind::NoCredentials { .. } => {
                "set TABLEAU_PAT_NAME and TABLEAU_PAT_SECRET (a personal access token), or \
                                            TABLEAU_CONNECTED_APP_CLIENT_ID, _SECRET_ID, _SECRET_VALUE and \
                                            TABLEAU_USERNAME (a connected app)"
                    .to_owned()
            }
            ErrorKind::Insecure { .. } => {
                "use https://, or pass --allow-insecure-http if the network to this host is trusted".to_owned()
            }
            _ => return None,
        })
    }

    /// The problems of an invalid manifest, for the caller to show before the error itself.
    pub fn diagnostics(&self) -> Option<&Diagnostics> {
        match self.kind() {
            ErrorKind::InvalidManifest { diagnostics, .. } => Some(diagnostics),
            _ => None,
        }
    }
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
