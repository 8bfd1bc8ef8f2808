//! The client's typed errors.
//!
//! Every variant names the operation it belongs to ("publish workbook 'Revenue'"); API errors carry Tableau's
//! code, summary and detail. Secrets never appear here: request bodies and headers are not captured.

use std::path::PathBuf;
use std::time::Duration;

/// Errors returned by the Tableau REST client.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Tableau answered with an error document (`<error code=…>`).
    #[error("{operation}: Tableau returned HTTP {status}, error {code} ({summary}): {detail}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Tableau error code, e.g. `409006`.
        code: String,
        /// The `<summary>` text.
        summary: String,
        /// The `<detail>` text.
        detail: String,
        /// What the client was doing.
        operation: String,
        /// How long the server asked us to wait (429 `Retry-After` or detail text).
        retry_after: Option<Duration>,
    },
    /// Tableau asked to wait longer than the retry budget allows (429 with a long `Retry-After`): the call was
    /// stopped instead of being retried before the server would accept it.
    #[error(
        "{operation}: Tableau is throttling requests and asked to retry after {} (more than the retry budget of {}); \
         stopped instead of retrying early. Run again later, or raise --max-retry-wait (TABOPS_MAX_RETRY_WAIT) to wait",
        human_duration(*wait),
        human_duration(*budget)
    )]
    Throttled {
        /// What the client was doing.
        operation: String,
        /// The wait Tableau asked for.
        wait: Duration,
        /// The budget that it exceeds (what remained of [`crate::RetryPolicy::max_retry_wait`]).
        budget: Duration,
        /// The 429 response.
        #[source]
        source: Box<Error>,
    },
    /// The connected app's JWT does not grant a scope the call needs (Tableau would answer 401002).
    #[error(
        "{operation}: the connected-app scopes do not include '{scope}', which this call needs; add it to \
         TABLEAU_CONNECTED_APP_SCOPES (and to the connected app's allowed scopes), or leave that variable unset to \
         request the scopes tabops needs"
    )]
    MissingScope {
        /// What the client was doing.
        operation: String,
        /// The scope Tableau requires for this method.
        scope: String,
    },
    /// The server answered with a status and a body that is not a Tableau error document.
    #[error("{operation}: unexpected HTTP {status} response: {body_excerpt}")]
    UnexpectedStatus {
        /// What the client was doing.
        operation: String,
        /// HTTP status.
        status: u16,
        /// The first bytes of the body.
        body_excerpt: String,
    },
    /// The request could not be sent, or the response could not be read, and retrying is safe or exhausted.
    #[error("{operation}: HTTP request failed")]
    Http {
        /// What the client was doing.
        operation: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The server's TLS certificate was refused (not retried: trying again cannot change it).
    #[error("{operation}: the server's TLS certificate is not trusted: {reason}")]
    UntrustedCertificate {
        /// What the client was doing.
        operation: String,
        /// What is wrong with the certificate (the transport error's chain says no more).
        reason: String,
    },
    /// A file of extra CA certificates ([`crate::ClientConfig::ca_certs`]) cannot be used.
    #[error("cannot use the CA certificates in {}: {message}", path.display())]
    CaCert {
        /// The PEM file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The first connection to the server failed in a way retrying would not fix: refused (nothing listens at
    /// the address) or a host name that does not resolve. Reported at once, not retried.
    #[error("{operation}: cannot connect to {address}: {reason}")]
    Unreachable {
        /// What the client was doing.
        operation: String,
        /// `host:port` it tried.
        address: String,
        /// `connection refused`, or that the host name does not resolve.
        reason: String,
    },
    /// A non-idempotent write was sent but no usable response came back: it may or may not have been applied.
    /// Read the resource back before retrying.
    #[error("{operation}: the request was sent but no response arrived ({reason}); it may have been applied")]
    Ambiguous {
        /// What the client was doing.
        operation: String,
        /// Why the outcome is unknown.
        reason: String,
    },
    /// An operation (a request or a job wait) took longer than allowed.
    #[error("{operation}: timed out after {after:?}")]
    Timeout {
        /// What the client was doing.
        operation: String,
        /// The limit that was exceeded.
        after: Duration,
    },
    /// A plain-HTTP URL to a non-loopback host without `allow_insecure_http`.
    #[error(
        "refusing to send credentials over plain HTTP to {url}: use https://, a loopback address, or allow insecure HTTP explicitly"
    )]
    InsecureUrl {
        /// The rejected server URL.
        url: String,
    },
    /// The configuration is unusable.
    #[error("invalid client configuration: {message}")]
    Config {
        /// What is wrong.
        message: String,
    },
    /// A response body was not the XML the client expected.
    #[error("{operation}: could not read the response XML: {message}")]
    Xml {
        /// What the client was doing.
        operation: String,
        /// Parser message or the missing element.
        message: String,
    },
    /// A Metadata API (GraphQL) response was not the JSON document the client expected.
    #[error("{operation}: could not read the response JSON: {message}")]
    Json {
        /// What the client was doing.
        operation: String,
        /// Parser message.
        message: String,
    },
    /// A server answered with more than tabops will hold: a body over its size limit, a list that claims more
    /// pages or items than a site can have, or one that delivers fewer than it claims.
    #[error("{operation}: {message}")]
    Limit {
        /// What the client was doing.
        operation: String,
        /// Which limit, and what the server sent.
        message: String,
    },
    /// Reading or writing a local file failed.
    #[error("{operation}: file I/O failed on {}", path.display())]
    Io {
        /// What the client was doing.
        operation: String,
        /// The file involved.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file's bytes, as they were being uploaded, did not hash to the digest the publish was planned with (the
    /// file changed on disk since). The upload was cut off before it completed, so nothing was published.
    #[error(
        "{operation}: {} changed since it was planned: its bytes hash to sha256 {actual}, the plan expects {expected}; the upload was aborted",
        path.display()
    )]
    ContentChanged {
        /// What the client was doing.
        operation: String,
        /// The file being uploaded.
        path: PathBuf,
        /// The planned sha256 (hex).
        expected: String,
        /// What the bytes read hashed to (hex), or a size mismatch.
        actual: String,
    },
    /// Building the connected-app JWT failed.
    #[error("sign in: could not sign the connected-app JWT")]
    Jwt {
        /// The signing error.
        #[source]
        source: jsonwebtoken::errors::Error,
    },
    /// A background job finished with finishCode 1.
    #[error("job {job_id} ({job_type}) failed: {notes}")]
    JobFailed {
        /// Job LUID.
        job_id: String,
        /// Job type, e.g. `RefreshExtract`.
        job_type: String,
        /// The job's notes (failure reason) if any.
        notes: String,
    },
    /// A background job finished with finishCode 2.
    #[error("job {job_id} ({job_type}) was cancelled")]
    JobCancelled {
        /// Job LUID.
        job_id: String,
        /// Job type.
        job_type: String,
    },
}

impl Error {
    /// Tableau's error code, for API errors.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// HTTP status, where one was received.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } | Error::UnexpectedStatus { status, .. } => Some(*status),
            Error::Throttled { .. } => Some(429),
            _ => None,
        }
    }

    /// True when the failure is transient (429, 5xx, connection problems, timeouts).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api { status, .. } | Error::UnexpectedStatus { status, .. } => {
                matches!(status, 429 | 500 | 502 | 503 | 504)
            }
            Error::Http { .. } | Error::Timeout { .. } | Error::Ambiguous { .. } => true,
            _ => false,
        }
    }

    /// True when a write may or may not have been applied (read back before retrying).
    pub fn is_ambiguous(&self) -> bool {
        matches!(self, Error::Ambiguous { .. })
    }

    /// True for 404 responses.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// True for 409 responses (name conflicts, already member, duplicate job, …).
    pub fn is_conflict(&self) -> bool {
        self.status() == Some(409)
    }

    /// True when the session token was rejected (401002).
    pub fn is_invalid_token(&self) -> bool {
        self.code() == Some("401002")
    }

    /// Advice for the user, shown on its own line after the error (by the CLI's error renderer).
    pub fn hint(&self) -> Option<String> {
        if let Error::UntrustedCertificate { .. } = self {
            return Some(
                "if a proxy on this network inspects TLS, trust its CA certificate: pass --ca-cert FILE (PEM) or set \
                 SSL_CERT_FILE=FILE; otherwise check the server address"
                    .to_owned(),
            );
        }
        // A token rejected even after signing in again: the usual cause is a second client using the same PAT.
        self.is_invalid_token().then(|| {
            "the session ended again right after signing in: Tableau Cloud allows one session per personal access \
             token, so another job signing in with the same token ends this one; give concurrent jobs their own tokens"
                .to_owned()
        })
    }
}

/// `29 min`, `1 h 5 min`, `45 s`: a wait as a person would say it.
pub(crate) fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 3600 {
        let (h, m) = (secs / 3600, (secs % 3600) / 60);
        if m == 0 { format!("{h} h") } else { format!("{h} h {m} min") }
    } else if secs >= 60 && secs.is_multiple_of(60) {
        format!("{} min", secs / 60)
    } else if secs >= 60 {
        format!("{} min {} s", secs / 60, secs % 60)
    } else if secs > 0 || d.is_zero() {
        format!("{secs} s")
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
