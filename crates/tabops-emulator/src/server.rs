//! The HTTP server: binds the listener, wraps every connection so a fault can drop it without a response,
//! applies latency/fault/stats hooks around the API dispatcher, and owns start-up, persistence and shutdown.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::{ConnectInfo, Connected};
use axum::extract::{DefaultBodyLimit, State as AxumState};
use axum::serve::{IncomingStream, Listener};
use http::{Request, Response, StatusCode};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use crate::auth::Sessions;
use crate::config::EmulatorConfig;
use crate::faults::{Fault, Faults};
use crate::handlers::{self, uploads::Uploads};
use crate::stats::{Stats, StatsRecorder};
use crate::store::{self, State};

/// Errors starting the emulator.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("failed to bind the emulator to {addr}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("failed to load the emulator state")]
    Load(#[from] store::LoadError),
    #[error(
        "refusing to listen on {addr}, which is not a loopback address, with the well-known default token: the \
         emulator is a test server; pass a PAT of your own (--pat NAME:SECRET) to serve other hosts"
    )]
    PublicWithDefaultToken { addr: SocketAddr },
    #[error("failed to create the emulator content directory {}", path.display())]
    ContentDir { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    WireLog(#[from] crate::wire_log::WireLogError),
}

/// Everything request handlers share.
pub struct Shared {
    pub config: EmulatorConfig,
    pub state: Mutex<State>,
    pub sessions: Sessions,
    pub uploads: Uploads,
    pub stats: StatsRecorder,
    pub faults: Faults,
    pub dirty: AtomicBool,
    /// Test hook `metadata/disable`: the Metadata API answers 404, as on a Tableau Server where it is not enabled.
    pub metadata_disabled: AtomicBool,
    /// Where large uploads spill: the state's blob directory, or a private temp directory.
    pub spill_dir: PathBuf,
    temp_dir: Option<PathBuf>,
}

impl Shared {
    pub fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn mark_dirty(&self) {
        self.dirty.store(true, Ordering::SeqCst);
    }

    /// Save the state if it changed (blocking IO).
    fn save_if_dirty(&self) {
        let Some(path) = &self.config.state_file else { return };
        if !self.dirty.swap(false, Ordering::SeqCst) {
            return;
        }
        let snapshot = {
            let mut state = self.lock();
            if let Err(err) = state.persist_blobs(&self.spill_dir) {
                tracing::error!(error = %err, "failed to write emulator content files");
            }
            state.clone()
        };
        if let Err(err) = store::save(path, &snapshot) {
            self.mark_dirty();
            tracing::error!(error = %err, path = %path.display(), "failed to save emulator state");
        }
    }
}

/// A running emulator. Dropping it stops serving (and saves the state).
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::watch::Sender<bool>>,
    server: Option<tokio::task::JoinHandle<()>>,
    saver: Option<tokio::task::JoinHandle<()>>,
}

impl Emulator {
    /// Bind, load state, and start serving; the emulator accepts requests when this returns.
    pub async fn start(config: EmulatorConfig) -> Result<Emulator, EmulatorError> {
        if !config.listen.ip().is_loopback() {
            if !config.has_private_token() {
                return Err(EmulatorError::PublicWithDefaultToken { addr: config.listen });
            }
            tracing::warn!(addr = %config.listen, "the emulator is a test server and listens beyond loopback");
        }
        let (state, spill_dir, temp_dir) = match &config.state_file {
            Some(path) => {
                let state = store::load(path)?.unwrap_or_else(|| State::new(&config.site));
                (state, store::blob_dir_for(path), None)
            }
            None => {
                let dir = std::env::temp_dir().join(format!("tabops-emulator-{}", uuid::Uuid::new_v4()));
                (State::new(&config.site), dir.clone(), Some(dir))
            }
        };
        let first_run = config.state_file.as_ref().is_some_and(|p| !p.exists());
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| EmulatorError::Bind { addr: config.listen, source })?;
        let addr = listener.local_addr().map_err(|source| EmulatorError::Bind { addr: config.listen, source })?;
        let shared = Arc::new(Shared {
            faults: Faults::new(config.fault_rate, config.fault_seed),
            sessions: Sessions::default(),
            uploads: Uploads::default(),
            stats: StatsRecorder::default(),
            dirty: AtomicBool::new(first_run),
            metadata_disabled: AtomicBool::new(false),
            state: Mutex::new(state),
            spill_dir,
            temp_dir,
            config,
        });
        let body_limit = usize::try_from(shared.config.max_body_bytes).unwrap_or(usize::MAX);
        let router =
            Router::new().fallback(entry).with_state(Arc::clone(&shared)).layer(DefaultBodyLimit::max(body_limit));
        let router = match &shared.config.wire_log {
            Some(dir) => crate::wire_log::install(router, dir)?,
            None => router,
        };
        let (tx, mut rx) = tokio::sync::watch::channel(false);
        let make_service = router.into_make_service_with_connect_info::<ConnKill>();
        let mut server_rx = rx.clone();
        let server = tokio::spawn(async move {
            let serve = axum::serve(KillListener(listener), make_service).with_graceful_shutdown(async move {
                let _ = server_rx.wait_for(|stop| *stop).await;
            });
            if let Err(err) = serve.await {
                tracing::error!(error = %err, "emulator server stopped");
            }
        });
        let saver_shared = Arc::clone(&shared);
        let saver = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                    _ = rx.wait_for(|stop| *stop) => break,
                }
                let shared = Arc::clone(&saver_shared);
                let _ = tokio::task::spawn_blocking(move || shared.save_if_dirty()).await;
            }
        });
        Ok(Emulator { addr, shared, shutdown: Some(tx), server: Some(server), saver: Some(saver) })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL, e.g. `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The same counters as `GET /_emulator/stats`.
    pub fn stats(&self) -> Stats {
        self.shared.stats.snapshot()
    }

    /// Stop accepting requests, let in-flight requests finish (up to 5 s), and save the state.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        if let Some(saver) = self.saver.take() {
            let _ = saver.await;
        }
        if let Some(mut server) = self.server.take()
            && tokio::time::timeout(Duration::from_secs(5), &mut server).await.is_err()
        {
            server.abort();
        }
        let shared = Arc::clone(&self.shared);
        let _ = tokio::task::spawn_blocking(move || shared.save_if_dirty()).await;
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
        if let Some(saver) = self.saver.take() {
            saver.abort();
        }
        self.shared.save_if_dirty();
        if let Some(dir) = &self.shared.temp_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A TCP stream that can be killed by a handler: once killed, writes fail (so hyper drops the connection
/// without sending the response) and the socket is closed with a reset.
struct KillableStream {
    inner: TcpStream,
    kill: Arc<AtomicBool>,
}

impl KillableStream {
    fn killed(&self) -> Option<std::io::Error> {
        if self.kill.load(Ordering::SeqCst) {
            let _ = self.inner.set_zero_linger();
            Some(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "emulator fault: connection dropped"))
        } else {
            None
        }
    }
}

impl AsyncRead for KillableStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        if let Some(err) = self.killed() {
            return Poll::Ready(Err(err));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        if let Some(err) = self.killed() {
            return Poll::Ready(Err(err));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        if let Some(err) = self.killed() {
            return Poll::Ready(Err(err));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

struct KillListener(TcpListener);

impl Listener for KillListener {
    type Io = KillableStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((stream, addr)) => {
                    let _ = stream.set_nodelay(true);
                    return (KillableStream { inner: stream, kill: Arc::new(AtomicBool::new(false)) }, addr);
                }
                Err(err) => {
                    tracing::warn!(error = %err, "emulator accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// Per-connection handle that lets a handler drop its connection.
#[derive(Clone)]
struct ConnKill(Arc<AtomicBool>);

impl Connected<IncomingStream<'_, KillListener>> for ConnKill {
    fn connect_info(stream: IncomingStream<'_, KillListener>) -> Self {
        ConnKill(Arc::clone(&stream.io().kill))
    }
}

fn plain(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
}

/// Entry point of every request: test hooks, then latency, faults and stats around the API dispatcher.
fn assert_send<T: Send>(value: T) -> T {
    value
}

async fn entry(
    AxumState(shared): AxumState<Arc<Shared>>,
    ConnectInfo(kill): ConnectInfo<ConnKill>,
    request: Request<Body>,
) -> Response<Body> {
    let path = request.uri().path().to_owned();
    if let Some(hook) = path.strip_prefix("/_emulator/") {
        return match (request.method().as_str(), hook) {
            ("GET", "stats") => match serde_json::to_vec(&shared.stats.snapshot()) {
                Ok(json) => {
                    let mut response = Response::new(Body::from(json));
                    response
                        .headers_mut()
                        .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
                    response
                }
                Err(_) => plain(StatusCode::INTERNAL_SERVER_ERROR, "stats serialisation failed"),
            },
            ("POST", _) if !shared.config.test_hooks => {
                plain(StatusCode::FORBIDDEN, "state-changing test hooks are off (start the emulator with --test-hooks)")
            }
            ("POST", "metadata/disable" | "metadata/enable") => {
                shared.metadata_disabled.store(hook == "metadata/disable", Ordering::SeqCst);
                plain(StatusCode::NO_CONTENT, "")
            }
            ("POST", "stats/reset") => {
                shared.stats.reset();
                plain(StatusCode::NO_CONTENT, "")
            }
            ("POST", "sessions/expire") => {
                let ended = shared.sessions.expire_all();
                tracing::info!(sessions = ended, "test hook: all sessions expired");
                plain(StatusCode::NO_CONTENT, "")
            }
            ("POST", "stall") => {
                let query = parse_hook_query(request.uri().query().unwrap_or_default());
                match (query.get("requests").map(|v| v.parse::<u64>()), query.get("ms").map(|v| v.parse::<u64>())) {
                    (Some(Ok(requests)), Some(Ok(ms))) if requests <= MAX_STALL_REQUESTS && ms <= MAX_STALL_MS => {
                        shared.faults.arm_stall(requests, Duration::from_millis(ms));
                        plain(StatusCode::NO_CONTENT, "")
                    }
                    _ => plain(
                        StatusCode::BAD_REQUEST,
                        "stall needs ?requests=N&ms=M, integers with N at most 1000 and M at most 60000",
                    ),
                }
            }
            ("POST", "responses/lose") => {
                let query = parse_hook_query(request.uri().query().unwrap_or_default());
                match query.get("writes").map_or(Ok(1), |v| v.parse::<u64>()) {
                    Ok(writes) if writes <= MAX_LOST_RESPONSES => {
                        shared.faults.arm_lost_responses(writes);
                        plain(StatusCode::NO_CONTENT, "")
                    }
                    _ => plain(StatusCode::BAD_REQUEST, "lose takes ?writes=N, an integer of at most 1000"),
                }
            }
            ("POST", "jobs/fail-next") => {
                let query = parse_hook_query(request.uri().query().unwrap_or_default());
                match query.get("count").map_or(Ok(1), |v| v.parse::<u32>()) {
                    Ok(count) if count <= MAX_FAILING_JOBS => {
                        let mut state = shared.lock();
                        state.failing_refreshes = state.failing_refreshes.saturating_add(count).min(MAX_FAILING_JOBS);
                        drop(state);
                        shared.mark_dirty();
                        plain(StatusCode::NO_CONTENT, "")
                    }
                    _ => plain(StatusCode::BAD_REQUEST, "fail-next takes ?count=N, an integer of at most 1000"),
                }
            }
            ("POST", "views/usage") => {
                let query = parse_hook_query(request.uri().query().unwrap_or_default());
                let count = query.get("count").map(|v| v.parse::<u64>());
                match (query.get("view"), count) {
                    (Some(view), Some(Ok(count))) => {
                        let mut state = shared.lock();
                        let found = state.workbooks.iter_mut().flat_map(|w| w.views.iter_mut()).find(|v| &v.id == view);
                        match found {
                            Some(found) => {
                                found.total_view_count = count;
                                drop(state);
                                shared.mark_dirty();
                                plain(StatusCode::NO_CONTENT, "")
                            }
                            None => plain(StatusCode::NOT_FOUND, "no view has that id"),
                        }
                    }
                    _ => plain(StatusCode::BAD_REQUEST, "usage needs ?view=ID&count=N, N an integer"),
                }
            }
            _ => plain(StatusCode::NOT_FOUND, "unknown emulator hook"),
        };
    }
    let method = request.method().as_str().to_owned();
    let route = handlers::route_template(&path);
    shared.stats.record_request(&method, &route);
    if !shared.config.latency.is_zero() {
        tokio::time::sleep(shared.config.latency).await;
    }
    if let Some(stall) = shared.faults.take_stall() {
        tokio::time::sleep(stall).await;
    }
    let is_write =
        matches!(method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE") && !crate::stats::is_metadata_query(&route);
    let is_sign_in = route.ends_with("/auth/signin");
    let fault = shared.faults.decide(is_write, is_sign_in);
    // An armed lost response comes on top of the seeded faults without changing their sequence.
    let fault = match fault {
        None if shared.faults.take_lost_response(is_write, is_sign_in) => Some(Fault::LostResponse),
        fault => fault,
    };
    if let Some(fault) = fault {
        shared.stats.record_fault(match fault {
            Fault::TooManyRequests => "429",
            Fault::Internal => "500",
            Fault::Unavailable => "503",
            Fault::Reset => "reset",
            Fault::LostResponse => "lost_response",
        });
    }
    match fault {
        None => assert_send(handlers::dispatch(shared, request)).await,
        Some(Fault::Reset) => {
            kill.0.store(true, Ordering::SeqCst);
            plain(StatusCode::INTERNAL_SERVER_ERROR, "")
        }
        Some(Fault::LostResponse) => {
            let _applied = handlers::dispatch(shared, request).await;
            kill.0.store(true, Ordering::SeqCst);
            plain(StatusCode::INTERNAL_SERVER_ERROR, "")
        }
        Some(fault) => {
            let accept_json = handlers::wants_json(request.headers());
            let (code, summary, detail) = match fault {
                Fault::TooManyRequests => (
                    429000,
                    "Too Many Requests",
                    format!("Too many requests for '{route}'. Please retry after 1 seconds."),
                ),
                Fault::Unavailable => (503000, "Service Unavailable", "The service is temporarily unavailable.".into()),
                _ => (500000, "Internal Server Error", "An unexpected error occurred on the server.".into()),
            };
            let mut response =
                handlers::error_response(&crate::error::ApiError::new(code, summary, detail), accept_json);
            if fault == Fault::TooManyRequests {
                response.headers_mut().insert(http::header::RETRY_AFTER, http::HeaderValue::from_static("1"));
            }
            response
        }
    }
}

/// Bounds of the test hooks' parameters: a stall of `u64::MAX` ms would hang every later request forever.
const MAX_STALL_REQUESTS: u64 = 1000;
const MAX_STALL_MS: u64 = 60_000;
const MAX_FAILING_JOBS: u32 = 1000;
const MAX_LOST_RESPONSES: u64 = 1000;

pub type Query = HashMap<String, String>;

/// `a=1&b=2` of a test-hook URL (values are plain integers, so no percent-decoding is needed).
fn parse_hook_query(query: &str) -> Query {
    query.split('&').filter_map(|pair| pair.split_once('=')).map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
}
