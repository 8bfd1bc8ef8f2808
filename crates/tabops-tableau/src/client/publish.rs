//! Publishing workbooks and data sources: one streamed multipart request for small files, upload sessions
//! (initiate, append chunks, commit) for files at or above the configured threshold (64 MiB by default).

use std::path::{Path, PathBuf};

use reqwest::Method;
use sha2::{Digest, Sha256};

use super::multipart::DigestTap;
use super::transport::{Call, CallBody, FilePart, MultipartSpec};
use super::{Client, missing};
use crate::error::{Error, Result};
use crate::models::{ConnectionCredentials, ContentKind, Datasource, FileUpload, Job, Workbook, bool_str};
use crate::secret::Secret;
use crate::xml::XmlWriter;

/// File type of published content (the `workbookType`/`datasourceType` query value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishFileType {
    /// Workbook XML.
    Twb,
    /// Packaged workbook (zip).
    Twbx,
    /// Data source XML.
    Tds,
    /// Packaged data source.
    Tdsx,
    /// Hyper extract.
    Hyper,
    /// Legacy extract.
    Tde,
    /// Parquet file.
    Parquet,
}

impl PublishFileType {
    /// Wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            PublishFileType::Twb => "twb",
            PublishFileType::Twbx => "twbx",
            PublishFileType::Tds => "tds",
            PublishFileType::Tdsx => "tdsx",
            PublishFileType::Hyper => "hyper",
            PublishFileType::Tde => "tde",
            PublishFileType::Parquet => "parquet",
        }
    }

    /// Derives the type from a file extension.
    pub fn from_path(path: &Path) -> Option<PublishFileType> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "twb" => PublishFileType::Twb,
            "twbx" => PublishFileType::Twbx,
            "tds" => PublishFileType::Tds,
            "tdsx" => PublishFileType::Tdsx,
            "hyper" => PublishFileType::Hyper,
            "tde" => PublishFileType::Tde,
            "parquet" => PublishFileType::Parquet,
            _ => return None,
        })
    }

    fn is_workbook(self) -> bool {
        matches!(self, PublishFileType::Twb | PublishFileType::Twbx)
    }
}

/// What to do when an item of that name exists in the project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PublishMode {
    /// Fail with a conflict if it exists.
    #[default]
    CreateNew,
    /// Replace it.
    Overwrite,
}

/// A publish of a workbook or data source file from disk.
#[derive(Debug, Clone, Default)]
pub struct PublishRequest {
    /// The file to stream.
    pub file: PathBuf,
    /// Its type; derived from the extension when `None`.
    pub file_type: Option<PublishFileType>,
    /// Name on the site.
    pub name: String,
    /// Target project LUID.
    pub project_id: String,
    /// Workbooks: show views as tabs.
    pub show_tabs: bool,
    /// Description.
    pub description: Option<String>,
    /// Workbooks: names of views to hide.
    pub hidden_views: Vec<String>,
    /// Connection credentials to embed.
    pub connections: Vec<ConnectionCredentials>,
    /// Create or overwrite.
    pub mode: PublishMode,
    /// Publish asynchronously (returns a job).
    pub as_job: bool,
    /// The file as planned: the upload is aborted unless the bytes sent are exactly these.
    pub expected: Option<ExpectedFile>,
}

/// What a file must be for its upload to complete: its size and the sha256 of its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedFile {
    /// Size in bytes.
    pub size: u64,
    /// Hex sha256 of the bytes.
    pub sha256: String,
}

/// The result of a publish: the item, or the job when published with `as_job`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishedItem<T> {
    /// Published synchronously.
    Item(T),
    /// Accepted as a background job.
    Job(Box<Job>),
}

impl Client {
    /// Publishes a workbook (`.twb`/`.twbx`).
    pub async fn publish_workbook(&self, request: &PublishRequest) -> Result<PublishedItem<Workbook>> {
        let root = self.publish(ContentKind::Workbook, request).await?;
        let (root, call) = root;
        if let Some(job) = root.child("job").and_then(Job::from_element) {
            return Ok(PublishedItem::Job(Box::new(job)));
        }
        root.child("workbook")
            .and_then(Workbook::from_element)
            .map(PublishedItem::Item)
            .ok_or_else(|| missing(&call, "workbook"))
    }

    /// Publishes a data source (`.tds`/`.tdsx`/`.hyper`/…).
    pub async fn publish_datasource(&self, request: &PublishRequest) -> Result<PublishedItem<Datasource>> {
        let (root, call) = self.publish(ContentKind::Datasource, request).await?;
        if let Some(job) = root.child("job").and_then(Job::from_element) {
            return Ok(PublishedItem::Job(Box::new(job)));
        }
        root.child("datasource")
            .and_then(Datasource::from_element)
            .map(PublishedItem::Item)
            .ok_or_else(|| missing(&call, "datasource"))
    }

    async fn publish(&self, kind: ContentKind, request: &PublishRequest) -> Result<(crate::xml::Element, Call)> {
        let operation = format!("publish {} '{}'", kind.element(), request.name);
        let file_type = request.file_type.or_else(|| PublishFileType::from_path(&request.file)).ok_or_else(|| {
            Error::Config { message: format!("{operation}: cannot tell the file type of {}", request.file.display()) }
        })?;
        if file_type.is_workbook() != (kind == ContentKind::Workbook) {
            return Err(Error::Config {
                message: format!("{operation}: {} is not a {} file", request.file.display(), kind.element()),
            });
        }
        let size = tokio::fs::metadata(&request.file)
            .await
            .map_err(|source| Error::Io { operation: operation.clone(), path: request.file.clone(), source })?
            .len();
        if let Some(expected) = &request.expected
            && expected.size != size
        {
            return Err(Error::ContentChanged {
                operation,
                path: request.file.clone(),
                expected: expected.sha256.clone(),
                actual: format!("a file of {size} bytes, not the planned {}", expected.size),
            });
        }
        let expected = request.expected.as_ref().map(|e| e.sha256.clone());
        let payload = Secret::new(match kind {
            ContentKind::Workbook => workbook_payload(request),
            ContentKind::Datasource => datasource_payload(request),
        });
        let (type_param, route, file_field) = match kind {
            ContentKind::Workbook => ("workbookType", "/sites/{site}/workbooks", "tableau_workbook"),
            ContentKind::Datasource => ("datasourceType", "/sites/{site}/datasources", "tableau_datasource"),
        };
        let mut call = Call::new(Method::POST, self.site_path(kind.segment()), route, &operation)
            .query(type_param, file_type.as_str());
        if request.mode == PublishMode::Overwrite {
            call = call.query("overwrite", "true");
        }
        if request.as_job {
            call = call.query("asJob", "true");
        }
        let filename =
            request.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".to_owned());
        let file_part = if size >= self.inner.config.upload_threshold {
            let session = self.upload_file(&request.file, size, expected, &operation).await?;
            call = call.query("uploadSessionId", session);
            None
        } else {
            let digest = expected.map(|expected| DigestTap::new(Sha256::new(), Some(expected)));
            Some(FilePart { field: file_field, filename, path: request.file.clone(), offset: 0, len: size, digest })
        };
        call.body = CallBody::Multipart(MultipartSpec { payload, file: file_part.clone() });
        match self.call_xml(&call).await {
            Ok(root) => Ok((root, call)),
            Err(err) => Err(changed(file_part.as_ref(), &operation).unwrap_or(err)),
        }
    }

    /// Uploads a file through an upload session in chunks; returns the session id to commit with. With `expected`,
    /// the chunks are hashed as they stream, and the last one is cut off (the session is never committed) unless
    /// the whole file hashes to it.
    async fn upload_file(&self, path: &Path, size: u64, expected: Option<String>, operation: &str) -> Result<String> {
        let init = Call::new(
            Method::POST,
            self.site_path("fileUploads"),
            "/sites/{site}/fileUploads",
            format!("{operation}: start upload session"),
        )
        .idempotent(true);
        let root = self.call_xml(&init).await?;
        let session =
            root.child("fileUpload").and_then(FileUpload::from_element).ok_or_else(|| missing(&init, "fileUpload"))?;
        let chunk = self.inner.config.chunk_size.max(1);
        let mut offset = 0u64;
        let mut index = 0u64;
        let mut running = Sha256::new();
        while offset < size {
            let len = chunk.min(size - offset);
            index += 1;
            let last = offset + len == size;
            let digest = expected.as_ref().map(|e| DigestTap::new(running.clone(), last.then(|| e.clone())));
            let mut append = Call::new(
                Method::PUT,
                self.site_path(&format!("fileUploads/{}", session.upload_session_id)),
                "/sites/{site}/fileUploads/{id}",
                format!("{operation}: append chunk {index} ({len} bytes)"),
            )
            // Appending the same chunk twice would corrupt the file: never retried after an ambiguous failure.
            .idempotent(false);
            append.body = CallBody::Multipart(MultipartSpec {
                payload: Secret::default(),
                file: Some(FilePart {
                    field: "tableau_file",
                    filename: "file".to_owned(),
                    path: path.to_path_buf(),
                    offset,
                    len,
                    digest: digest.clone(),
                }),
            });
            if let Err(err) = self.call_unit(&append).await {
                let part = digest.map(|digest| FilePart {
                    field: "tableau_file",
                    filename: String::new(),
                    path: path.to_path_buf(),
                    offset,
                    len,
                    digest: Some(digest),
                });
                return Err(changed(part.as_ref(), operation).unwrap_or(err));
            }
            if let Some(streamed) = digest.as_ref().and_then(DigestTap::streamed) {
                running = streamed;
            }
            offset += len;
        }
        tracing::debug!(operation, chunks = index, bytes = size, "upload session complete");
        Ok(session.upload_session_id)
    }
}

/// The typed error for a part whose bytes did not hash as planned (the transport only saw a cut-off body).
fn changed(part: Option<&FilePart>, operation: &str) -> Option<Error> {
    let part = part?;
    let tap = part.digest.as_ref()?;
    let actual = tap.mismatch()?;
    Some(Error::ContentChanged {
        operation: operation.to_owned(),
        path: part.path.clone(),
        expected: tap.expected().unwrap_or_default().to_owned(),
        actual,
    })
}

fn connection_xml(w: &mut XmlWriter, c: &ConnectionCredentials) {
    w.empty(
        "connectionCredentials",
        &[("name", Some(&c.username)), ("password", Some(c.password.expose())), ("embed", Some(bool_str(c.embed)))],
    );
}

fn connections_xml(w: &mut XmlWriter, connections: &[ConnectionCredentials]) {
    w.start("connections", &[]);
    for c in connections {
        w.start("connection", &[("serverAddress", Some(&c.server_address)), ("serverPort", c.server_port.as_deref())]);
        connection_xml(w, c);
        w.end("connection");
    }
    w.end("connections");
}

fn workbook_payload(r: &PublishRequest) -> String {
    let mut w = XmlWriter::new();
    w.start("tsRequest", &[]).start(
        "workbook",
        &[
            ("name", Some(&r.name)),
            // Sent either way: an overwrite publish takes showTabs from the request, so leaving out `false` would
            // not keep an item's tabs hidden (the planner passes the item's own value when the manifest says none).
            ("showTabs", Some(if r.show_tabs { "true" } else { "false" })),
            ("description", r.description.as_deref()),
        ],
    );
    w.empty("project", &[("id", Some(&r.project_id))]);
    if !r.connections.is_empty() {
        connections_xml(&mut w, &r.connections);
    }
    if !r.hidden_views.is_empty() {
        w.start("views", &[]);
        for v in &r.hidden_views {
            w.empty("view", &[("name", Some(v)), ("hidden", Some("true"))]);
        }
        w.end("views");
    }
    w.end("workbook").end("tsRequest");
    w.finish()
}

fn datasource_payload(r: &PublishRequest) -> String {
    let mut w = XmlWriter::new();
    w.start("tsRequest", &[])
        .start("datasource", &[("name", Some(&r.name)), ("description", r.description.as_deref())]);
    w.empty("project", &[("id", Some(&r.project_id))]);
    match r.connections.as_slice() {
        [] => {}
        [single] if single.server_address.is_empty() => connection_xml(&mut w, single),
        many => connections_xml(&mut w, many),
    }
    w.end("datasource").end("tsRequest");
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workbook_payload_matches_tsc_shape() {
        let r = PublishRequest {
            name: "My WB".into(),
            project_id: "p1".into(),
            show_tabs: true,
            hidden_views: vec!["Sheet 2".into()],
            connections: vec![ConnectionCredentials {
                server_address: "db.example.com".into(),
                server_port: Some("5432".into()),
                username: "dbuser".into(),
                password: Secret::new("dbpass"),
                embed: true,
            }],
            ..Default::default()
        };
        assert_eq!(
            workbook_payload(&r),
            r#"<tsRequest><workbook name="My WB" showTabs="true"><project id="p1" /><connections><connection serverAddress="db.example.com" serverPort="5432"><connectionCredentials name="dbuser" password="dbpass" embed="true" /></connection></connections><views><view name="Sheet 2" hidden="true" /></views></workbook></tsRequest>"#
        );
        assert!(!format!("{r:?}").contains("dbpass"));
    }

    #[test]
    fn show_tabs_false_is_sent_on_publish() {
        // An overwrite publish takes showTabs from the request: a manifest's `show_tabs: false` must reach it.
        let r = PublishRequest { name: "W".into(), project_id: "p1".into(), show_tabs: false, ..Default::default() };
        assert_eq!(
            workbook_payload(&r),
            r#"<tsRequest><workbook name="W" showTabs="false"><project id="p1" /></workbook></tsRequest>"#
        );
    }

    #[test]
    fn file_type_from_extension() {
        assert_eq!(PublishFileType::from_path(Path::new("a/b.TWBX")), Some(PublishFileType::Twbx));
        assert_eq!(PublishFileType::from_path(Path::new("a/b.hyper")), Some(PublishFileType::Hyper));
        assert_eq!(PublishFileType::from_path(Path::new("a/b.txt")), None);
    }
}
