//! Projects, workbooks, data sources, views, connections, tags, refresh-now and downloads.

use std::path::{Path, PathBuf};

use futures::StreamExt;
use reqwest::Method;
use tokio::io::AsyncWriteExt;

use super::paging::ListSpec;
use super::transport::Call;
use super::{Client, encode_segment, missing};
use crate::error::{Error, Result};
use crate::models::{
    Connection, ConnectionUpdate, ContentKind, Datasource, DatasourceUpdate, Job, NewProject, Project, ProjectUpdate,
    View, Workbook, WorkbookUpdate, tags_xml,
};
use crate::xml::{Element, XmlWriter};

/// Content that can carry tags.
pub type TagTarget = ContentKind;

impl Client {
    // ---- projects ------------------------------------------------------------------------------------------

    /// All projects (paged).
    pub async fn projects(&self) -> Result<Vec<Project>> {
        self.list_all(ListSpec {
            path: self.site_path("projects"),
            route: "/sites/{site}/projects",
            query: Vec::new(),
            list_element: "projects",
            item_element: "project",
            parse: Project::from_element,
            operation: "list projects".to_owned(),
        })
        .await
    }

    /// Creates a project (`POST`, not retried after an ambiguous failure).
    pub async fn create_project(&self, project: &NewProject) -> Result<Project> {
        let call = Call::new(
            Method::POST,
            self.site_path("projects"),
            "/sites/{site}/projects",
            format!("create project '{}'", project.name),
        )
        .xml(project.to_xml());
        self.expect_one(&call, "project", Project::from_element).await
    }

    /// Updates a project.
    pub async fn update_project(&self, id: &str, update: &ProjectUpdate) -> Result<Project> {
        let call = Call::new(
            Method::PUT,
            self.site_path(&format!("projects/{id}")),
            "/sites/{site}/projects/{id}",
            format!("update project {id}"),
        )
        .xml(update.to_xml());
        self.expect_one(&call, "project", Project::from_element).await
    }

    /// Deletes a project and everything in it.
    pub async fn delete_project(&self, id: &str) -> Result<()> {
        self.delete(format!("projects/{id}"), "/sites/{site}/projects/{id}", format!("delete project {id}")).await
    }

    // ---- workbooks and data sources -----------------------------------------------------------------------

    /// All workbooks (paged), with project, owner, tags, showTabs, size, updatedAt and description.
    pub async fn workbooks(&self) -> Result<Vec<Workbook>> {
        self.list_all(ListSpec {
            path: self.site_path("workbooks"),
            route: "/sites/{site}/workbooks",
            query: Vec::new(),
            list_element: "workbooks",
            item_element: "workbook",
            parse: Workbook::from_element,
            operation: "list workbooks".to_owned(),
        })
        .await
    }

    /// One workbook, including its views.
    pub async fn workbook(&self, id: &str) -> Result<Workbook> {
        let call = Call::new(
            Method::GET,
            self.site_path(&format!("workbooks/{id}")),
            "/sites/{site}/workbooks/{id}",
            format!("read workbook {id}"),
        );
        self.expect_one(&call, "workbook", Workbook::from_element).await
    }

    /// All data sources (paged).
    pub async fn datasources(&self) -> Result<Vec<Datasource>> {
        self.list_all(ListSpec {
            path: self.site_path("datasources"),
            route: "/sites/{site}/datasources",
            query: Vec::new(),
            list_element: "datasources",
            item_element: "datasource",
            parse: Datasource::from_element,
            operation: "list data sources".to_owned(),
        })
        .await
    }

    /// One data source.
    pub async fn datasource(&self, id: &str) -> Result<Datasource> {
        let call = Call::new(
            Method::GET,
            self.site_path(&format!("datasources/{id}")),
            "/sites/{site}/datasources/{id}",
            format!("read data source {id}"),
        );
        self.expect_one(&call, "datasource", Datasource::from_element).await
    }

    /// All views on the site (paged); hidden views are not listed by Tableau.
    pub async fn views(&self) -> Result<Vec<View>> {
        self.list_all(ListSpec {
            path: self.site_path("views"),
            route: "/sites/{site}/views",
            query: Vec::new(),
            list_element: "views",
            item_element: "view",
            parse: View::from_element,
            operation: "list views".to_owned(),
        })
        .await
    }

    /// All views on the site with their view counts (`includeUsageStatistics=true`, as TSC's
    /// `views.get(usage=True)` asks): each view's `total_view_count` is set.
    pub async fn views_with_usage(&self) -> Result<Vec<View>> {
        self.list_all(ListSpec {
            path: self.site_path("views"),
            route: "/sites/{site}/views",
            query: vec![("includeUsageStatistics".to_owned(), "true".to_owned())],
            list_element: "views",
            item_element: "view",
            parse: View::from_element,
            operation: "list views with usage statistics".to_owned(),
        })
        .await
    }

    /// Views of one workbook.
    pub async fn workbook_views(&self, id: &str) -> Result<Vec<View>> {
        let call = Call::new(
            Method::GET,
            self.site_path(&format!("workbooks/{id}/views")),
            "/sites/{site}/workbooks/{id}/views",
            format!("list views of workbook {id}"),
        );
        let root = self.call_xml(&call).await?;
        let list = root.child("views").ok_or_else(|| missing(&call, "views"))?;
        Ok(list.children_named("view").filter_map(View::from_element).collect())
    }

    /// Connections of a workbook.
    pub async fn workbook_connections(&self, id: &str) -> Result<Vec<Connection>> {
        self.connections(ContentKind::Workbook, id).await
    }

    /// Connections of a data source.
    pub async fn datasource_connections(&self, id: &str) -> Result<Vec<Connection>> {
        self.connections(ContentKind::Datasource, id).await
    }

    async fn connections(&self, kind: ContentKind, id: &str) -> Result<Vec<Connection>> {
        let route = match kind {
            ContentKind::Workbook => "/sites/{site}/workbooks/{id}/connections",
            ContentKind::Datasource => "/sites/{site}/datasources/{id}/connections",
        };
        let call = Call::new(
            Method::GET,
            self.site_path(&format!("{}/{id}/connections", kind.segment())),
            route,
            format!("list connections of {} {id}", kind.element()),
        );
        let root = self.call_xml(&call).await?;
        let list = root.child("connections").ok_or_else(|| missing(&call, "connections"))?;
        Ok(list.children_named("connection").filter_map(Connection::from_element).collect())
    }

    /// Updates one connection of a workbook or data source (Update Workbook Connection / Update Data Source
    /// Connection) and returns it as the server answers it.
    pub async fn update_connection(
        &self,
        kind: ContentKind,
        id: &str,
        connection_id: &str,
        update: &ConnectionUpdate,
    ) -> Result<Connection> {
        let route = match kind {
            ContentKind::Workbook => "/sites/{site}/workbooks/{id}/connections/{id}",
            ContentKind::Datasource => "/sites/{site}/datasources/{id}/connections/{id}",
        };
        let call = Call::new(
            Method::PUT,
            self.site_path(&format!("{}/{id}/connections/{}", kind.segment(), encode_segment(connection_id))),
            route,
            format!("update connection {connection_id} of {} {id}", kind.element()),
        )
        .xml(update.to_xml());
        self.expect_one(&call, "connection", Connection::from_element).await
    }

    /// Updates a workbook's name, description, showTabs, project or owner.
    pub async fn update_workbook(&self, id: &str, update: &WorkbookUpdate) -> Result<Workbook> {
        let call = Call::new(
            Method::PUT,
            self.site_path(&format!("workbooks/{id}")),
            "/sites/{site}/workbooks/{id}",
            format!("update workbook {id}"),
        )
        .xml(update.to_xml());
        self.expect_one(&call, "workbook", Workbook::from_element).await
    }

    /// Updates a data source.
    pub async fn update_datasource(&self, id: &str, update: &DatasourceUpdate) -> Result<Datasource> {
        let call = Call::new(
            Method::PUT,
            self.site_path(&format!("datasources/{id}")),
            "/sites/{site}/datasources/{id}",
            format!("update data source {id}"),
        )
        .xml(update.to_xml());
        self.expect_one(&call, "datasource", Datasource::from_element).await
    }

    /// Deletes a workbook.
    pub async fn delete_workbook(&self, id: &str) -> Result<()> {
        self.delete(format!("workbooks/{id}"), "/sites/{site}/workbooks/{id}", format!("delete workbook {id}")).await
    }

    /// Deletes a data source.
    pub async fn delete_datasource(&self, id: &str) -> Result<()> {
        self.delete(format!("datasources/{id}"), "/sites/{site}/datasources/{id}", format!("delete data source {id}"))
            .await
    }

    // ---- tags ------------------------------------------------------------------------------------------------

    /// Adds tags; returns the item's resulting tag set. Labels with spaces or commas are quoted as TSC does.
    pub async fn add_tags(&self, kind: TagTarget, id: &str, labels: &[String]) -> Result<Vec<String>> {
        let route = match kind {
            ContentKind::Workbook => "/sites/{site}/workbooks/{id}/tags",
            ContentKind::Datasource => "/sites/{site}/datasources/{id}/tags",
        };
        let call = Call::new(
            Method::PUT,
            self.site_path(&format!("{}/{id}/tags", kind.segment())),
            route,
            format!("add tags to {} {id}", kind.element()),
        )
        .xml(tags_xml(labels));
        let root = self.call_xml(&call).await?;
        let tags = root.child("tags").ok_or_else(|| missing(&call, "tags"))?;
        Ok(tags.children_named("tag").filter_map(|t| t.attr_string("label")).collect())
    }

    /// Removes one tag.
    pub async fn delete_tag(&self, kind: TagTarget, id: &str, label: &str) -> Result<()> {
        let route = match kind {
            ContentKind::Workbook => "/sites/{site}/workbooks/{id}/tags/{label}",
            ContentKind::Datasource => "/sites/{site}/datasources/{id}/tags/{label}",
        };
        self.delete(
            format!("{}/{id}/tags/{}", kind.segment(), encode_segment(label)),
            route,
            format!("delete tag '{label}' from {} {id}", kind.element()),
        )
        .await
    }

    // ---- refresh now -------------------------------------------------------------------------------------------

    /// Starts an extract refresh of a workbook now.
    pub async fn refresh_workbook(&self, id: &str) -> Result<Job> {
        self.refresh_now(ContentKind::Workbook, id).await
    }

    /// Starts an extract refresh of a data source now.
    pub async fn refresh_datasource(&self, id: &str) -> Result<Job> {
        self.refresh_now(ContentKind::Datasource, id).await
    }

    async fn refresh_now(&self, kind: ContentKind, id: &str) -> Result<Job> {
        let route = match kind {
            ContentKind::Workbook => "/sites/{site}/workbooks/{id}/refresh",
            ContentKind::Datasource => "/sites/{site}/datasources/{id}/refresh",
        };
        let mut body = XmlWriter::new();
        body.start("tsRequest", &[]).empty("extractRefresh", &[]).end("tsRequest");
        let call = Call::new(
            Method::POST,
            self.site_path(&format!("{}/{id}/refresh", kind.segment())),
            route,
            format!("refresh {} {id}", kind.element()),
        )
        .xml(body.finish());
        self.expect_one(&call, "job", Job::from_element).await
    }

    // ---- downloads ---------------------------------------------------------------------------------------------

    /// Downloads a workbook's file to `dest` (streamed); returns bytes written.
    pub async fn download_workbook(&self, id: &str, dest: &Path) -> Result<u64> {
        self.download(ContentKind::Workbook, id, dest).await
    }

    /// Downloads a data source's file to `dest` (streamed); returns bytes written.
    pub async fn download_datasource(&self, id: &str, dest: &Path) -> Result<u64> {
        self.download(ContentKind::Datasource, id, dest).await
    }

    async fn download(&self, kind: ContentKind, id: &str, dest: &Path) -> Result<u64> {
        let route = match kind {
            ContentKind::Workbook => "/sites/{site}/workbooks/{id}/content",
            ContentKind::Datasource => "/sites/{site}/datasources/{id}/content",
        };
        let operation = format!("download {} {id}", kind.element());
        let call =
            Call::new(Method::GET, self.site_path(&format!("{}/{id}/content", kind.segment())), route, &operation);
        let (response, _permit) = self.call_stream(&call).await?;
        let limit = self.inner.config.max_download_bytes;
        let too_large = |what: String| Error::Limit {
            operation: operation.clone(),
            message: format!("{what}, more than the download limit of {limit} bytes"),
        };
        if let Some(len) = response.content_length().filter(|len| *len > limit) {
            return Err(too_large(format!("the server announces {len} bytes (nothing was written)")));
        }
        let partial = partial_path(dest);
        let io_err = |path: &Path| {
            let operation = operation.clone();
            let path = path.to_path_buf();
            move |source| Error::Io { operation, path, source }
        };
        let file = tokio::fs::File::create(&partial).await.map_err(io_err(&partial))?;
        // Whatever stops the download (a cut-off body, a full disk, the limit), the partial file goes with it.
        let failure = match write_body(response, file, limit).await {
            Ok(Ok(written)) => {
                tokio::fs::rename(&partial, dest).await.map_err(io_err(dest))?;
                self.inner.stats.bytes_down(written);
                return Ok(written);
            }
            Ok(Err(written)) => {
                too_large(format!("the server sent more than {written} bytes (the partial file was removed)"))
            }
            Err(BodyError::Http(source)) => Error::Http { operation: operation.clone(), source },
            Err(BodyError::Io(source)) => io_err(&partial)(source),
        };
        let _ = tokio::fs::remove_file(&partial).await;
        Err(failure)
    }

    // ---- shared helpers ----------------------------------------------------------------------------------------

    /// Runs a call and parses the first `element` child of the response root.
    pub(crate) async fn expect_one<T>(
        &self,
        call: &Call,
        element: &str,
        parse: fn(&Element) -> Option<T>,
    ) -> Result<T> {
        let root = self.call_xml(call).await?;
        root.child(element).and_then(parse).ok_or_else(|| missing(call, element))
    }

    /// `DELETE sites/{site}/{rest}`; a retried delete that finds the item gone counts as success.
    pub(crate) async fn delete(&self, rest: String, route: &'static str, operation: String) -> Result<()> {
        let call = Call::new(Method::DELETE, self.site_path(&rest), route, operation);
        self.call_unit(&call).await
    }
}

enum BodyError {
    Http(reqwest::Error),
    Io(std::io::Error),
}

/// Streams `response` into `file` and syncs it; `Ok(Err(n))` when the body grew past `limit` (after `n` bytes).
async fn write_body(
    response: reqwest::Response,
    mut file: tokio::fs::File,
    limit: u64,
) -> std::result::Result<std::result::Result<u64, u64>, BodyError> {
    let mut written = 0u64;
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(BodyError::Http)?;
        if written + chunk.len() as u64 > limit {
            return Ok(Err(written));
        }
        file.write_all(&chunk).await.map_err(BodyError::Io)?;
        written += chunk.len() as u64;
    }
    file.flush().await.map_err(BodyError::Io)?;
    file.sync_all().await.map_err(BodyError::Io)?;
    Ok(Ok(written))
}

fn partial_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".part");
    dest.with_file_name(name)
}
