//! Traffic recording for the wire-shape guard: when [`crate::EmulatorConfig::wire_log`] names a directory (the
//! `TABOPS_EMULATOR_WIRE_LOG` environment variable by default), every XML or JSON request body the emulator receives
//! and every XML or JSON response body it sends is appended, as one JSON line, to a file of its own in that directory. The
//! bodies are copied while they stream through (no extra buffering, no change to what the handlers see), and
//! [`crate::wire_shapes`] checks them afterwards against the table derived from the official schema.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::State;
use axum::middleware::Next;
use http::{HeaderMap, Request, Response};
use http_body_util::BodyExt;
use serde::{Deserialize, Serialize};

/// The environment variable that turns recording on for every emulator a process starts.
pub const ENV_VAR: &str = "TABOPS_EMULATOR_WIRE_LOG";

/// Most bytes of one body that are kept. XML bodies are far smaller; a multipart publish keeps its leading
/// `request_payload` part and as much of the file as fits.
const CAPTURE_LIMIT: usize = 256 * 1024;

/// One recorded body, as written to the log (one JSON object per line).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WireRecord {
    /// `request` or `response`.
    pub kind: String,
    pub method: String,
    /// The route template, e.g. `/api/{v}/sites/{}/projects`.
    pub route: String,
    /// The response status; for a request, the status it was answered with (absent if the body outlived the
    /// exchange).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `User-Agent` of the request (for a response: of the request it answers).
    #[serde(default)]
    pub user_agent: String,
    pub content_type: String,
    /// Whether the whole body was seen and kept (false if it was cut off or larger than the capture limit).
    pub complete: bool,
    /// The body, decoded as UTF-8 (lossily; only the XML parts matter).
    pub body: String,
}

/// Errors opening the wire log.
#[derive(Debug, thiserror::Error)]
#[error("failed to open the emulator wire log in {}", dir.display())]
pub struct WireLogError {
    pub dir: PathBuf,
    pub source: std::io::Error,
}

/// One emulator's log file.
struct WireLog {
    file: Mutex<File>,
    path: PathBuf,
}

impl WireLog {
    fn append(&self, record: &WireRecord) {
        let mut line = match serde_json::to_vec(record) {
            Ok(line) => line,
            Err(err) => {
                tracing::error!(error = %err, "failed to serialise a wire-log record");
                return;
            }
        };
        line.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Err(err) = file.write_all(&line) {
            tracing::error!(error = %err, path = %self.path.display(), "failed to append to the wire log");
        }
    }
}

/// Add the recording layer to `router`, logging into a new file in `dir`.
pub(crate) fn install(router: Router, dir: &Path) -> Result<Router, WireLogError> {
    let fail = |source| WireLogError { dir: dir.to_owned(), source };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let path = dir.join(format!("wire-{}-{}.jsonl", std::process::id(), uuid::Uuid::new_v4()));
    let file = OpenOptions::new().create(true).append(true).open(&path).map_err(fail)?;
    let log = Arc::new(WireLog { file: Mutex::new(file), path });
    Ok(router.layer(axum::middleware::from_fn_with_state(log, record)))
}

/// Whether a body with these headers is recorded: XML, JSON (checked through Tableau's JSON mapping), or multipart
/// (a publish whose `request_payload` part is XML or JSON).
fn recorded_content_type(headers: &HeaderMap) -> Option<String> {
    let content_type = headers.get(http::header::CONTENT_TYPE)?.to_str().ok()?;
    let lower = content_type.to_ascii_lowercase();
    (lower.contains("xml") || lower.contains("json") || lower.starts_with("multipart/"))
        .then(|| content_type.to_owned())
}

async fn record(State(log): State<Arc<WireLog>>, request: Request<Body>, next: Next) -> Response<Body> {
    let path = request.uri().path();
    // Test hooks are not Tableau's; the Metadata API is GraphQL, outside the REST XSD the guard is derived from (its
    // queries are checked field by field against the served schema by `metadata.rs` instead).
    if path.starts_with("/_emulator/") || path.eq_ignore_ascii_case("/api/metadata/graphql") {
        return next.run(request).await;
    }
    let method = request.method().as_str().to_owned();
    let route = crate::handlers::route_template(path);
    let user_agent =
        request.headers().get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let template = WireRecord {
        kind: "request".into(),
        method,
        route,
        status: None,
        user_agent,
        content_type: String::new(),
        complete: false,
        body: String::new(),
    };
    let pending = Arc::new(Mutex::new(Pending::default()));
    let request = match recorded_content_type(request.headers()) {
        Some(content_type) => {
            let expected = request
                .headers()
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            let meta = WireRecord { content_type, ..template.clone() };
            let (parts, body) = request.into_parts();
            let capture = Capture::new(Arc::clone(&log), meta, expected, Some(Arc::clone(&pending)));
            Request::from_parts(parts, tee(body, capture))
        }
        None => request,
    };
    let response = next.run(request).await;
    pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner).answer(&log, response.status().as_u16());
    match recorded_content_type(response.headers()) {
        Some(content_type) => {
            let expected = response.body().size_hint().exact();
            let meta = WireRecord {
                kind: "response".into(),
                status: Some(response.status().as_u16()),
                content_type,
                ..template
            };
            let (parts, body) = response.into_parts();
            Response::from_parts(parts, tee(body, Capture::new(log, meta, expected, None)))
        }
        None => response,
    }
}

/// Where a request's record and its response status meet: whichever of the two arrives second writes the record,
/// so a request is logged with the status it was answered with.
#[derive(Default)]
struct Pending {
    record: Option<WireRecord>,
    status: Option<u16>,
}

impl Pending {
    fn answer(&mut self, log: &WireLog, status: u16) {
        match self.record.take() {
            Some(mut record) => {
                record.status = Some(status);
                log.append(&record);
            }
            None => self.status = Some(status),
        }
    }

    fn finish(&mut self, log: &WireLog, mut record: WireRecord) {
        match self.status {
            Some(status) => {
                record.status = Some(status);
                log.append(&record);
            }
            None => self.record = Some(record),
        }
    }
}

/// A copy of a body in flight, logged when the body is dropped (after it was read or abandoned): a response at once,
/// a request through its [`Pending`] exchange.
struct Capture {
    log: Arc<WireLog>,
    meta: WireRecord,
    bytes: Vec<u8>,
    seen: u64,
    expected: Option<u64>,
    pending: Option<Arc<Mutex<Pending>>>,
}

impl Capture {
    fn new(
        log: Arc<WireLog>,
        meta: WireRecord,
        expected: Option<u64>,
        pending: Option<Arc<Mutex<Pending>>>,
    ) -> Capture {
        Capture { log, meta, bytes: Vec::new(), seen: 0, expected, pending }
    }

    fn push(&mut self, data: &[u8]) {
        self.seen += data.len() as u64;
        let room = CAPTURE_LIMIT.saturating_sub(self.bytes.len());
        self.bytes.extend_from_slice(&data[..data.len().min(room)]);
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let mut record = std::mem::take(&mut self.meta);
        record.complete = self.expected == Some(self.seen) && self.bytes.len() as u64 == self.seen;
        record.body = String::from_utf8_lossy(&self.bytes).into_owned();
        match &self.pending {
            Some(pending) => {
                pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner).finish(&self.log, record);
            }
            None => self.log.append(&record),
        }
    }
}

fn tee(body: Body, mut capture: Capture) -> Body {
    Body::new(body.map_frame(move |frame| {
        if let Some(data) = frame.data_ref() {
            capture.push(data);
        }
        frame
    }))
}
