//! Typed async client for the Tableau Cloud REST API (XML wire format).
//!
//! The crate knows nothing about manifests or plans: it offers reads shaped for an inventory fetcher (paged list
//! endpoints at `pageSize=1000`, pages 2..n fetched concurrently) and writes for an executor (create, update,
//! delete, publish with streaming uploads and upload sessions, permissions, tags, refresh tasks, jobs).
//!
//! Cross-cutting behaviour lives in one place ([`Client`]'s transport): bounded concurrency ([`DEFAULT_CONCURRENCY`]
//! requests in flight, at most [`MAX_CONCURRENCY`]),
//! retries with exponential backoff and jitter through `backon` (429 honouring `Retry-After` or the detail text,
//! 5xx, connection failures; non-idempotent writes are never blindly retried after an ambiguous failure, see
//! [`Error::Ambiguous`]; a sign-in's refused connection or unknown host name fails at once, [`Error::Unreachable`]), one transparent re-sign-in on `401002`, request statistics, and secret redaction.

mod auth;
mod client;
mod config;
mod error;
pub mod models;
mod retries;
mod secret;
mod stats;
pub mod xml;

pub use client::{
    Client, ExpectedFile, MAX_BULK_MEMBERS, MAX_LIST_ITEMS, MAX_LIST_PAGES, PublishFileType, PublishMode,
    PublishRequest, PublishedItem, REQUEST_LOG, TagTarget,
};
pub use config::{
    ADOPT_SCOPES, APPLY_SCOPES, Access, CONNECTED_APP_VARIABLES, ClientConfig, Credentials, DEFAULT_API_VERSION,
    DEFAULT_CHUNK_SIZE, DEFAULT_CONCURRENCY, DEFAULT_MAX_DOWNLOAD_BYTES, DEFAULT_MAX_RETRY_WAIT,
    DEFAULT_REQUEST_TIMEOUT, DEFAULT_UPLOAD_THRESHOLD, EXPORT_SCOPES, MAX_CONCURRENCY, PAT_VARIABLES, READ_SCOPES,
    REFRESH_SCOPES, RetryPolicy, check_server_url, default_scopes,
};
pub use error::{Error, Result};
pub use models::*;
pub use retries::{RetryNotice, record_retries};
pub use secret::Secret;
pub use stats::RequestStats;
