//! Executes one logical REST call: bounded concurrency, retries with backon, error mapping, stats and the
//! one-time transparent re-sign-in on 401002.
//!
//! Retry rules: 429 and 503 (the server refused before applying anything) are retried for every request;
//! 500/502/504, timeouts and broken connections only for requests that are safe to repeat (GET, idempotent
//! PUT/DELETE). Connection failures before the request was sent are always retried. A non-idempotent write that
//! got no usable response becomes [`Error::Ambiguous`] so the caller reads back before retrying.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use bytes::Bytes;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};

use super::Client;
use super::multipart;
use super::slots::{Priority, Slot};
use crate::error::{Error, Result};
use crate::models::ApiErrorDoc;
use crate::xml::{self, Element};

/// A request body that can be rebuilt for every attempt.
#[derive(Debug, Clone)]
pub(crate) enum CallBody {
    Empty,
    Xml(String),
    /// A JSON document (the Metadata API's GraphQL request).
    Json(String),
    /// A body that contains secrets (sign-in); never logged.
    SecretXml(crate::secret::Secret),
    Multipart(MultipartSpec),
}

/// `multipart/mixed` body: the `request_payload` part, then an optional file part streamed from disk.
#[derive(Debug, Clone)]
pub(crate) struct MultipartSpec {
    pub(crate) payload: crate::secret::Secret,
    pub(crate) file: Option<FilePart>,
}

/// A byte range of a file on disk sent as one multipart part.
#[derive(Debug, Clone)]
pub(crate) struct FilePart {
    pub(crate) field: &'static str,
    pub(crate) filename: String,
    pub(crate) path: PathBuf,
    pub(crate) offset: u64,
    pub(crate) len: u64,
    /// Hashes the bytes as they are streamed (and, on the file's last part, refuses to finish a body whose bytes
    /// do not hash to the planned digest).
    pub(crate) digest: Option<super::multipart::DigestTap>,
}

/// One logical REST call.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) method: Method,
    /// Path after `/api/{v}/`, e.g. `sites/{luid}/projects`.
    pub(crate) path: String,
    /// Route template for stats, e.g. `/sites/{site}/projects/{id}`.
    pub(crate) route: &'static str,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: CallBody,
    /// Human description used in errors.
    pub(crate) operation: String,
    /// Safe to send twice.
    pub(crate) idempotent: bool,
    /// Send the session token.
    pub(crate) authenticated: bool,
    /// Which queue it waits in for a request slot.
    pub(crate) priority: Priority,
    /// The client's first contact with the server: a refused connection or a host name that does not resolve is
    /// reported at once ([`Error::Unreachable`]) instead of being retried, since nothing has ever answered there.
    pub(crate) first_contact: bool,
}

impl Call {
    pub(crate) fn new(method: Method, path: String, route: &'static str, operation: impl Into<String>) -> Self {
        let idempotent = matches!(method, Method::GET | Method::PUT | Method::DELETE | Method::HEAD);
        Call {
            method,
            path,
            route,
            query: Vec::new(),
            body: CallBody::Empty,
            operation: operation.into(),
            idempotent,
            authenticated: true,
            priority: Priority::Normal,
            first_contact: false,
        }
    }

    pub(crate) fn xml(mut self, body: String) -> Self {
        self.body = CallBody::Xml(body);
        self
    }

    pub(crate) fn query(mut self, key: &str, value: impl Into<String>) -> Self {
        self.query.push((key.to_owned(), value.into()));
        self
    }

    pub(crate) fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }
}

/// Largest XML response body read (success): 16 MiB. An honest 1,000-item list page is 0.7-2 MB (the
/// benchmark's workbook page is 682 KB), and a project's permissions with thousands of rules a few MB; a server
/// sending more is refused instead of held (a 300 MB body was read whole: 2.3 GB resident). With 16 requests in
/// flight, at most 256 MiB of bodies are buffered at once.
pub(crate) const MAX_RESPONSE_BODY: usize = 16 * 1024 * 1024;
/// Largest error body read (non-2xx): only the error document and an excerpt are needed.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Reads a body of at most `limit` bytes: refused from its `Content-Length` before reading when that is larger,
/// and otherwise cut off as soon as it grows past the limit. `Ok(Err(read))` means over the limit, with the bytes
/// read so far (at most `limit`).
async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> std::result::Result<std::result::Result<Bytes, Bytes>, reqwest::Error> {
    if response.content_length().is_some_and(|len| len > limit as u64) {
        return Ok(Err(Bytes::new()));
    }
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            body.extend_from_slice(&chunk[..limit - body.len()]);
            return Ok(Err(body.freeze()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Ok(body.freeze()))
}

fn body_too_large(operation: &str, limit: usize) -> Error {
    Error::Limit {
        operation: operation.to_owned(),
        message: format!(
            "the response body is larger than {} MiB, the most tabops reads from one response",
            limit / (1024 * 1024)
        ),
    }
}

/// Bodies at least this big are parsed off the calling task (see [`Client::call_xml`]).
const PARSE_INLINE_BYTES: usize = 64 * 1024;

fn parse_body(bytes: &[u8], operation: &str) -> Result<Element> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| Error::Xml { operation: operation.to_owned(), message: format!("body is not UTF-8: {e}") })?;
    xml::parse(text).map_err(|message| Error::Xml { operation: operation.to_owned(), message })
}

/// A successful reply.
pub(crate) enum Reply {
    Buffered(Bytes),
    /// The response plus the concurrency permit, held until the body has been consumed.
    Stream(reqwest::Response, Slot),
    /// A retried DELETE found the resource already gone: the first attempt was applied.
    GoneAfterRetry,
}

/// An attempt's failure plus the retry decision.
struct AttemptError {
    error: Error,
    retry: bool,
    retry_after: Option<Duration>,
}

impl Client {
    /// Runs a call and returns its buffered body.
    pub(crate) async fn call_bytes(&self, call: &Call) -> Result<Bytes> {
        match self.execute(call, false).await? {
            Reply::Buffered(bytes) => Ok(bytes),
            Reply::Stream(resp, _permit) => match read_limited(resp, MAX_RESPONSE_BODY).await {
                Ok(Ok(bytes)) => Ok(bytes),
                Ok(Err(_)) => Err(body_too_large(&call.operation, MAX_RESPONSE_BODY)),
                Err(source) => Err(Error::Http { operation: call.operation.clone(), source }),
            },
            Reply::GoneAfterRetry => Ok(Bytes::new()),
        }
    }

    /// Runs a call and parses its XML body. Large bodies (1,000-item list pages) are parsed on a blocking thread:
    /// a read's calls share one task, and a 10 ms parse there would hold up every other response and request.
    pub(crate) async fn call_xml(&self, call: &Call) -> Result<Element> {
        let bytes = self.call_bytes(call).await?;
        if bytes.len() < PARSE_INLINE_BYTES {
            return parse_body(&bytes, &call.operation);
        }
        let operation = call.operation.clone();
        match tokio::task::spawn_blocking(move || parse_body(&bytes, &operation)).await {
            Ok(parsed) => parsed,
            // A panic in the parser stays a panic, as it would be parsing inline.
            Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
            Err(err) => Err(Error::Xml {
                operation: call.operation.clone(),
                message: format!("the parser task was cancelled: {err}"),
            }),
        }
    }

    /// Runs a call whose response body is ignored.
    pub(crate) async fn call_unit(&self, call: &Call) -> Result<()> {
        self.call_bytes(call).await.map(|_| ())
    }

    /// Runs a call and hands back the streaming response (downloads) with the concurrency permit to hold while
    /// reading it.
    pub(crate) async fn call_stream(&self, call: &Call) -> Result<(reqwest::Response, Slot)> {
        match self.execute(call, true).await? {
            Reply::Stream(resp, permit) => Ok((resp, permit)),
            Reply::Buffered(_) | Reply::GoneAfterRetry => Err(Error::Xml {
                operation: call.operation.clone(),
                message: "expected a streamed response".to_owned(),
            }),
        }
    }

    async fn execute(&self, call: &Call, stream: bool) -> Result<Reply> {
        // A connected app's JWT that lacks the method's scope makes Tableau answer 401002 (the same code as an
        // expired session): say which scope is missing instead of signing in again and failing the same way.
        if let Some(scope) = crate::auth::missing_scope(&self.inner.config.credentials, &call.method, call.route) {
            return Err(Error::MissingScope { operation: call.operation.clone(), scope: scope.to_owned() });
        }
        let mut re_signed = false;
        loop {
            let generation = self.inner.session.read().await.generation;
            match self.execute_with_retries(call, stream).await {
                Err(e) if e.is_invalid_token() && call.authenticated && !re_signed => {
                    re_signed = true;
                    tracing::info!(operation = %call.operation, "session token rejected (401002); signing in again");
                    crate::retries::notify(
                        &call.operation,
                        "session token rejected (401002); signed in again".to_owned(),
                        Duration::ZERO,
                    );
                    Box::pin(self.re_sign_in(generation)).await?;
                }
                other => return other,
            }
        }
    }

    async fn execute_with_retries(&self, call: &Call, stream: bool) -> Result<Reply> {
        let policy = &self.inner.config.retry;
        let backoff = ExponentialBuilder::default()
            .with_min_delay(policy.base_delay)
            .with_max_delay(policy.max_delay)
            .with_max_times(policy.max_attempts.saturating_sub(1))
            .with_jitter();
        let attempts = AtomicUsize::new(0);
        // Server-requested waits are honoured exactly while they fit in the budget; a wait that does not fit
        // stops the call (recorded here, turned into `Error::Throttled` below) instead of retrying too early.
        let budget = policy.max_retry_wait;
        // (waited so far, the wait that did not fit)
        let waits = std::sync::Mutex::new((Duration::ZERO, None::<Duration>));
        let result = (|| async { self.attempt(call, stream, attempts.fetch_add(1, Ordering::SeqCst) + 1).await })
            .retry(backoff)
            .when(|e: &AttemptError| e.retry)
            .adjust(|e: &AttemptError, delay| match (delay, e.retry_after) {
                (Some(_), Some(asked)) => {
                    let mut waits = waits.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    let total = waits.0.saturating_add(asked);
                    if total > budget {
                        waits.1 = Some(asked);
                        None
                    } else {
                        waits.0 = total;
                        Some(asked)
                    }
                }
                (delay, _) => delay,
            })
            .notify(|e: &AttemptError, delay| {
                self.inner.stats.retry();
                crate::retries::notify(&call.operation, e.error.to_string(), delay);
                tracing::debug!(operation = %call.operation, ?delay, error = %e.error, "retrying after transient failure");
            })
            .await;
        let (waited, refused) = *waits.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        result.map_err(|e| match refused {
            Some(wait) => Error::Throttled {
                operation: call.operation.clone(),
                wait,
                budget: budget.saturating_sub(waited),
                source: Box::new(e.error),
            },
            None => e.error,
        })
    }

    fn url(&self, call: &Call) -> Result<url::Url> {
        let mut url = self.inner.api_base.join(&call.path).map_err(|e| Error::Config {
            message: format!("{}: cannot build URL for path {}: {e}", call.operation, call.path),
        })?;
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(call.query.iter());
        }
        Ok(url)
    }

    async fn attempt(&self, call: &Call, stream: bool, attempt: usize) -> std::result::Result<Reply, AttemptError> {
        let fatal = |error: Error| AttemptError { error, retry: false, retry_after: None };
        let permit = self
            .inner
            .slots
            .acquire(call.priority)
            .await
            .map_err(|_| fatal(Error::Config { message: format!("{}: client is shut down", call.operation) }))?;
        let url = self.url(call).map_err(fatal)?;
        let mut request = self.inner.http.request(call.method.clone(), url);
        if call.authenticated && !self.inner.session.read().await.token.is_empty() {
            let session = self.inner.session.read().await;
            let mut value = HeaderValue::from_str(session.token.expose()).map_err(|_| {
                fatal(Error::Config {
                    message: format!("{}: session token is not a valid header value", call.operation),
                })
            })?;
            value.set_sensitive(true);
            request = request.header("X-Tableau-Auth", value);
        }
        let mut long_running = stream;
        let bytes_up = match &call.body {
            CallBody::Empty => {
                if call.method != Method::GET && call.method != Method::DELETE {
                    request = request.header(CONTENT_TYPE, "text/xml").header(CONTENT_LENGTH, 0);
                }
                0
            }
            CallBody::Xml(body) => {
                let len = body.len() as u64;
                request = request.header(CONTENT_TYPE, "text/xml").body(body.clone());
                len
            }
            CallBody::Json(body) => {
                let len = body.len() as u64;
                request = request.header(CONTENT_TYPE, "application/json").body(body.clone());
                len
            }
            CallBody::SecretXml(body) => {
                let len = body.expose().len() as u64;
                request = request.header(CONTENT_TYPE, "text/xml").body(body.expose().to_owned());
                len
            }
            CallBody::Multipart(spec) => {
                long_running = true;
                let (body, len, content_type) =
                    multipart::body(spec).await.map_err(|error| fatal(error.with_operation(&call.operation)))?;
                request = request.header(CONTENT_TYPE, content_type).header(CONTENT_LENGTH, len).body(body);
                len
            }
        };
        if !long_running {
            request = request.timeout(self.inner.config.timeout);
        }
        self.inner.stats.request(call.method.as_str(), call.route, bytes_up);
        tracing::trace!(operation = %call.operation, method = %call.method, route = call.route, attempt, bytes_up, "sending request");

        let sent = std::time::Instant::now();
        let response = match request.send().await {
            Ok(response) => response,
            Err(source) => return Err(self.transport_failure(call, source)),
        };
        let status = response.status();
        tracing::trace!(operation = %call.operation, status = status.as_u16(), attempt, "response received");
        // One line per request for `tabops -v`: the operation, the route template (no ids), the status and the time;
        // never a body, a header or a token.
        tracing::info!(
            target: REQUEST_LOG,
            "{}: {} {} -> {} ({} ms)",
            call.operation,
            call.method,
            call.route,
            status.as_u16(),
            sent.elapsed().as_millis()
        );
        if status.is_success() {
            if stream {
                return Ok(Reply::Stream(response, permit));
            }
            return match read_limited(response, MAX_RESPONSE_BODY).await {
                Ok(Ok(bytes)) => {
                    self.inner.stats.bytes_down(bytes.len() as u64);
                    Ok(Reply::Buffered(bytes))
                }
                // Not retried: the same server would send the same body again.
                Ok(Err(read)) => {
                    self.inner.stats.bytes_down(read.len() as u64);
                    Err(fatal(body_too_large(&call.operation, MAX_RESPONSE_BODY)))
                }
                Err(source) => Err(self.transport_failure(call, source)),
            };
        }
        if status.is_redirection() {
            let location =
                response.headers().get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("");
            return Err(fatal(Error::Config {
                message: format!(
                    "{}: the server redirected (HTTP {}) to '{location}'; configure that URL as the server \
                     (Tableau Cloud needs the pod host, e.g. https://prod-useast-a.online.tableau.com)",
                    call.operation,
                    status.as_u16()
                ),
            }));
        }
        drop(permit);
        let header_wait =
            response.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(parse_retry_after_header);
        let body = match read_limited(response, MAX_ERROR_BODY).await {
            Ok(Ok(body) | Err(body)) => body,
            Err(_) => Bytes::new(),
        };
        self.inner.stats.bytes_down(body.len() as u64);
        if call.method == Method::DELETE && status == StatusCode::NOT_FOUND && attempt > 1 {
            tracing::debug!(operation = %call.operation, "retried DELETE found the resource gone; treating as applied");
            return Ok(Reply::GoneAfterRetry);
        }
        let error = api_error(&call.operation, status, &body, header_wait);
        let retry_after = match &error {
            Error::Api { retry_after, .. } => *retry_after,
            _ => None,
        };
        let code = status.as_u16();
        let (retry, error) = match code {
            429 | 503 => (true, error),
            500 | 502 | 504 if call.idempotent => (true, error),
            502 | 504 => (
                false,
                Error::Ambiguous { operation: call.operation.clone(), reason: format!("gateway answered HTTP {code}") },
            ),
            _ => (false, error),
        };
        Err(AttemptError { error, retry, retry_after })
    }

    fn transport_failure(&self, call: &Call, source: reqwest::Error) -> AttemptError {
        // Refused during the TLS handshake: nothing was sent, and another attempt would be refused the same way.
        if let Some(reason) = super::tls::untrusted_certificate(&source) {
            let error = Error::UntrustedCertificate { operation: call.operation.clone(), reason };
            return AttemptError { error, retry: false, retry_after: None };
        }
        if call.first_contact
            && source.is_connect()
            && let Some(reason) = unreachable_reason(&source)
        {
            let url = &self.inner.config.server;
            let address = match (url.host_str(), url.port_or_known_default()) {
                (Some(host), Some(port)) => format!("{host}:{port}"),
                _ => url.to_string(),
            };
            return AttemptError {
                error: Error::Unreachable { operation: call.operation.clone(), address, reason },
                retry: false,
                retry_after: None,
            };
        }
        if source.is_connect() {
            // The request never reached the server: repeating it cannot duplicate a write.
            return AttemptError {
                error: Error::Http { operation: call.operation.clone(), source },
                retry: true,
                retry_after: None,
            };
        }
        if !call.idempotent {
            return AttemptError {
                error: Error::Ambiguous { operation: call.operation.clone(), reason: transport_reason(&source) },
                retry: false,
                retry_after: None,
            };
        }
        let error = if source.is_timeout() {
            Error::Timeout { operation: call.operation.clone(), after: self.inner.config.timeout }
        } else {
            Error::Http { operation: call.operation.clone(), source }
        };
        AttemptError { error, retry: true, retry_after: None }
    }
}

/// The `tracing` target of the one line logged per request (method, route template, status, time), at info level.
pub const REQUEST_LOG: &str = "tabops_tableau::request";

/// Why a connection could not be made, when the cause means no server is there to answer: the connection was
/// refused, or the host name does not resolve. `None` for anything that may pass (a timeout, a reset).
fn unreachable_reason(source: &reqwest::Error) -> Option<String> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(source);
    while let Some(err) = cause {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return Some("connection refused".to_owned());
        }
        // hyper-util's resolver error displays as "dns error" and has no type of its own to match.
        if err.to_string() == "dns error" {
            return Some("the host name does not resolve".to_owned());
        }
        cause = err.source();
    }
    None
}

fn transport_reason(source: &reqwest::Error) -> String {
    if source.is_timeout() {
        "timed out waiting for the response".to_owned()
    } else if source.is_body() || source.is_decode() {
        "the response body was cut off".to_owned()
    } else {
        "the connection failed after the request was sent".to_owned()
    }
}

/// Maps a non-2xx response to a typed error.
pub(crate) fn api_error(operation: &str, status: StatusCode, body: &[u8], header_wait: Option<Duration>) -> Error {
    let text = String::from_utf8_lossy(body);
    match xml::parse(&text).ok().as_ref().and_then(ApiErrorDoc::from_root) {
        Some(doc) => {
            let retry_after = if status.as_u16() == 429 {
                header_wait.or_else(|| parse_retry_after(&doc.detail))
            } else {
                header_wait
            };
            Error::Api {
                status: status.as_u16(),
                code: doc.code,
                summary: doc.summary,
                detail: doc.detail,
                operation: operation.to_owned(),
                retry_after,
            }
        }
        None => Error::UnexpectedStatus {
            operation: operation.to_owned(),
            status: status.as_u16(),
            body_excerpt: text.chars().take(200).collect(),
        },
    }
}

/// A `Retry-After` header value: delay-seconds, or an HTTP-date (RFC 9110 §10.2.3), as the wait from now.
pub(crate) fn parse_retry_after_header(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
    let wait = at - time::OffsetDateTime::now_utc();
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

/// Parses "Please retry after 29 minutes." / "retry after 5 seconds" from a 429 detail.
pub(crate) fn parse_retry_after(detail: &str) -> Option<Duration> {
    let lower = detail.to_ascii_lowercase();
    let rest = &lower[lower.find("retry after")? + "retry after".len()..];
    let mut words = rest.split_whitespace();
    let amount: u64 = words.next()?.parse().ok()?;
    let unit = words.next().unwrap_or("seconds");
    let secs = if unit.starts_with("minute") {
        amount * 60
    } else if unit.starts_with("hour") {
        amount * 3600
    } else {
        amount
    };
    Some(Duration::from_secs(secs))
}

impl Error {
    /// Attaches an operation to errors produced without one (file I/O while building bodies).
    pub(crate) fn with_operation(self, operation: &str) -> Error {
        match self {
            Error::Io { path, source, .. } => Error::Io { operation: operation.to_owned(), path, source },
            Error::ContentChanged { path, expected, actual, .. } => {
                Error::ContentChanged { operation: operation.to_owned(), path, expected, actual }
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_from_detail_text() {
        assert_eq!(
            parse_retry_after("Too many requests for 'api.rest.refresh_extracts'. Please retry after 29 minutes."),
            Some(Duration::from_secs(29 * 60))
        );
        assert_eq!(parse_retry_after("Retry after 7 seconds"), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("slow down"), None);
    }

    #[test]
    fn error_bodies_map_to_typed_errors() {
        let body = br#"<tsResponse xmlns="http://tableau.com/api"><error code="429000"><summary>Too Many Requests</summary><detail>Too many requests for 'api.rest.refresh_extracts'. Please retry after 29 minutes.</detail></error></tsResponse>"#;
        let e = api_error("refresh workbook w1", StatusCode::TOO_MANY_REQUESTS, body, None);
        assert!(matches!(&e, Error::Api { retry_after: Some(d), .. } if *d == Duration::from_secs(29 * 60)), "{e:?}");
        assert!(e.is_retryable());
        assert_eq!(
            e.to_string(),
            "refresh workbook w1: Tableau returned HTTP 429, error 429000 (Too Many Requests): Too many requests for 'api.rest.refresh_extracts'. Please retry after 29 minutes."
        );
        let e = api_error("x", StatusCode::TOO_MANY_REQUESTS, body, Some(Duration::from_secs(3)));
        assert!(matches!(&e, Error::Api { retry_after: Some(d), .. } if *d == Duration::from_secs(3)), "header wins");

        let conflict = br#"<ns0:tsResponse xmlns:ns0="http://tableau.com/api"><ns0:error code="409006"><ns0:summary>Resource Conflict</ns0:summary><ns0:detail>A project already exists with the name '_Test'</ns0:detail></ns0:error></ns0:tsResponse>"#;
        let e = api_error("create project '_Test'", StatusCode::CONFLICT, conflict, None);
        assert!(e.is_conflict() && !e.is_retryable());
        assert_eq!(e.code(), Some("409006"));

        let e = api_error("x", StatusCode::BAD_GATEWAY, b"<html>bad gateway</html>", None);
        assert!(matches!(e, Error::UnexpectedStatus { status: 502, .. }), "{e:?}");
        assert!(e.is_retryable());
    }
}
