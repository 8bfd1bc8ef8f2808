//! The large-upload benchmark: one file of N bytes (1 GiB by default) published as a `.hyper` data source, which
//! the client sends through an upload session in 64 MiB appends. Runs in a child process so its peak RSS is the
//! client's alone.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tabops_tableau::{PublishMode, PublishRequest, PublishedItem};

/// Result of one upload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadReport {
    pub bytes: u64,
    pub seconds: f64,
    pub mib_per_s: f64,
    /// Requests the client sent (sign-in, project list, initiate, appends, commit).
    pub requests: u64,
    pub by_route: std::collections::BTreeMap<String, u64>,
    /// Size the site reports for the published data source (Tableau reports it in MB).
    pub published_size_mb: Option<u64>,
    pub peak_rss_kib: Option<u64>,
}

/// Uploading failed.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("failed to write the upload test file {}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("failed to {what}")]
    Api { what: &'static str, source: Box<tabops_tableau::Error> },
    #[error("the site has no `default` project to publish into")]
    NoProject,
}

/// Writes the upload test file: `bytes` pseudo-random (incompressible) bytes.
pub fn write_file(path: &Path, bytes: u64, seed: u64) -> Result<(), UploadError> {
    crate::rng::write_random_file(path, bytes, seed)
        .map_err(|source| UploadError::Write { path: path.to_owned(), source })
}

/// Publishes `file` (a `.hyper`) into the site's `default` project and measures it.
pub async fn run(server: &url::Url, site: &str, file: &Path) -> Result<UploadReport, UploadError> {
    let client = crate::reconcile::sign_in(server, site, tabops_tableau::DEFAULT_CONCURRENCY)
        .await
        .map_err(|source| UploadError::Api { what: "sign in", source: Box::new(source) })?;
    let projects = client
        .projects()
        .await
        .map_err(|source| UploadError::Api { what: "list projects", source: Box::new(source) })?;
    let project = projects.into_iter().find(|p| p.name == "default").ok_or(UploadError::NoProject)?;
    let (bytes, planned_sha256) = tabops_manifest::hash::file_digest(file)
        .map_err(|source| UploadError::Write { path: file.to_owned(), source })?;
    let request = PublishRequest {
        file: file.to_owned(),
        file_type: None,
        name: "Upload benchmark".to_owned(),
        project_id: project.id,
        show_tabs: false,
        description: None,
        hidden_views: Vec::new(),
        connections: Vec::new(),
        mode: PublishMode::Overwrite,
        as_job: false,
        // As the executor publishes: the bytes are hashed while they stream, so the figure includes that cost.
        expected: Some(tabops_tableau::ExpectedFile { size: bytes, sha256: planned_sha256 }),
    };
    let start = Instant::now();
    let published = client
        .publish_datasource(&request)
        .await
        .map_err(|source| UploadError::Api { what: "publish the upload benchmark file", source: Box::new(source) })?;
    let seconds = start.elapsed().as_secs_f64();
    let published_size_mb = match published {
        PublishedItem::Item(ds) => ds.size,
        PublishedItem::Job(_) => None,
    };
    let stats = client.stats();
    let _ = client.sign_out().await;
    Ok(UploadReport {
        bytes,
        seconds,
        mib_per_s: bytes as f64 / (1024.0 * 1024.0) / seconds.max(1e-9),
        requests: stats.requests,
        by_route: stats.by_route,
        published_size_mb,
        peak_rss_kib: crate::measure::peak_rss_kib(),
    })
}
