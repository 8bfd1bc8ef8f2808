//! Workbooks and data sources (they share most behaviour): list, get, update, delete, download, views,
//! connections, tags, refresh-now and permissions; publishing lives in `publish`.

use axum::body::Body;
use futures::StreamExt;
use http::{Response, StatusCode};
use tokio::io::AsyncReadExt;

use super::render::{self, ContentRow};
use super::{Ctx, Reply, permissions, tasks};
use crate::blob::Blob;
use crate::error::{ApiError, ApiResult};
use crate::query::{self, Field, Queryable};
use crate::store::{self, Content, State, TargetKind};
use crate::xml::Elem;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Workbook,
    Datasource,
}

impl Kind {
    pub fn element(self) -> &'static str {
        match self {
            Kind::Workbook => "workbook",
            Kind::Datasource => "datasource",
        }
    }
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Workbook => "workbook",
            Kind::Datasource => "data source",
        }
    }
    fn collection(self) -> &'static str {
        match self {
            Kind::Workbook => "workbooks",
            Kind::Datasource => "datasources",
        }
    }
    fn not_found(self, id: &str) -> ApiError {
        match self {
            Kind::Workbook => ApiError::not_found(404006, "Workbook", id),
            Kind::Datasource => ApiError::not_found(404004, "Datasource", id),
        }
    }
    fn target(self) -> TargetKind {
        match self {
            Kind::Workbook => TargetKind::Workbook,
            Kind::Datasource => TargetKind::Datasource,
        }
    }
    pub fn find_by_name(self, state: &State, name: &str, project_id: &str) -> Option<String> {
        let matches = |c: &Content| c.project_id == project_id && c.name.eq_ignore_ascii_case(name);
        match self {
            Kind::Workbook => state.workbooks.iter().map(|w| &w.content).find(|c| matches(c)).map(|c| c.id.clone()),
            Kind::Datasource => state.datasources.iter().map(|d| &d.content).find(|c| matches(c)).map(|c| c.id.clone()),
        }
    }
    fn content<'a>(self, state: &'a State, id: &str) -> ApiResult<&'a Content> {
        let found = match self {
            Kind::Workbook => state.workbooks.iter().map(|w| &w.content).find(|c| c.id == id),
            Kind::Datasource => state.datasources.iter().map(|d| &d.content).find(|c| c.id == id),
        };
        found.ok_or_else(|| self.not_found(id))
    }
    fn content_mut<'a>(self, state: &'a mut State, id: &str) -> ApiResult<&'a mut Content> {
        let found = match self {
            Kind::Workbook => state.workbooks.iter_mut().map(|w| &mut w.content).find(|c| c.id == id),
            Kind::Datasource => state.datasources.iter_mut().map(|d| &mut d.content).find(|c| c.id == id),
        };
        found.ok_or_else(|| self.not_found(id))
    }
    fn render(self, state: &State, id: &str) -> ApiResult<Elem> {
        match self {
            Kind::Workbook => state
                .workbooks
                .iter()
                .find(|w| w.content.id == id)
                .map(|w| render::workbook(state, w, true))
                .ok_or_else(|| self.not_found(id)),
            Kind::Datasource => state
                .datasources
                .iter()
                .find(|d| d.content.id == id)
                .map(|d| render::datasource(state, d))
                .ok_or_else(|| self.not_found(id)),
        }
    }
}

pub use super::publish::publish;

pub fn list(ctx: &Ctx, kind: Kind) -> ApiResult<Reply> {
    let state = ctx.shared.lock();
    let rows: Vec<ContentRow<'_>> = match kind {
        Kind::Workbook => state
            .workbooks
            .iter()
            .enumerate()
            .map(|(index, w)| ContentRow { state: &state, content: &w.content, kind_type: "", index })
            .collect(),
        Kind::Datasource => state
            .datasources
            .iter()
            .enumerate()
            .map(|(index, d)| ContentRow { state: &state, content: &d.content, kind_type: &d.ds_type, index })
            .collect(),
    };
    let rows = query::filter_sort(rows, &ctx.query)?;
    let (page, pagination) = query::paginate(rows, &ctx.query)?;
    let items: Vec<Elem> = page
        .iter()
        .map(|row| match kind {
            Kind::Workbook => render::workbook(&state, &state.workbooks[row.index], false),
            Kind::Datasource => render::datasource(&state, &state.datasources[row.index]),
        })
        .collect();
    Reply::ok(vec![pagination, Elem::new(kind.collection()).children(items)])
}

struct ViewRow<'a> {
    view: &'a store::View,
    workbook_id: &'a str,
    workbook_name: &'a str,
}

impl Queryable for ViewRow<'_> {
    fn field(&self, name: &str) -> Option<Field> {
        let text = |s: &str| Some(Field::Text(s.to_owned()));
        match name {
            "name" | "viewUrlName" => text(&self.view.name),
            "contentUrl" => text(&self.view.content_url),
            "sheetType" => text(&self.view.sheet_type),
            "workbookId" => text(self.workbook_id),
            "workbookName" => text(self.workbook_name),
            _ => None,
        }
    }
}

/// `GET /sites/{site}/views`: every visible view on the site, paged, each with its workbook id.
pub fn site_views(ctx: &Ctx) -> ApiResult<Reply> {
    let state = ctx.shared.lock();
    let rows: Vec<ViewRow<'_>> = state
        .workbooks
        .iter()
        .flat_map(|w| {
            w.views.iter().filter(|v| !v.hidden).map(move |view| ViewRow {
                view,
                workbook_id: &w.content.id,
                workbook_name: &w.content.name,
            })
        })
        .collect();
    let rows = query::filter_sort(rows, &ctx.query)?;
    let (page, pagination) = query::paginate(rows, &ctx.query)?;
    let usage = ctx.flag("includeUsageStatistics");
    let views = page.iter().map(|r| with_usage(render::view(r.view, Some(r.workbook_id)), r.view, usage));
    Reply::ok(vec![pagination, Elem::new("views").children(views.collect::<Vec<_>>())])
}

/// A view with `<usage totalViewCount="N"/>` when the request asked for `includeUsageStatistics=true` (the shape of
/// TSC's `test/assets/view_get_usage.xml`; ts-api_3_29.xsd `viewType.usage`).
fn with_usage(elem: Elem, view: &store::View, usage: bool) -> Elem {
    if usage { elem.child(Elem::new("usage").attr("totalViewCount", view.total_view_count)) } else { elem }
}

/// Routes under `/{workbooks|datasources}/{id}`; `seg[0]` is the id.
pub async fn route(ctx: &mut Ctx, kind: Kind, method: &str, seg: &[&str], low: &[&str]) -> ApiResult<Reply> {
    let id = seg[0];
    match (method, &low[1..]) {
        ("GET", []) => Reply::ok(vec![kind.render(&ctx.shared.lock(), id)?]),
        ("PUT", []) => update(ctx, kind, id).await,
        ("DELETE", []) => delete(ctx, kind, id),
        ("GET", ["views"]) if kind == Kind::Workbook => views(ctx, id),
        ("GET", ["connections"]) => connections(ctx, kind, id),
        ("PUT", ["connections", _]) => update_connection(ctx, kind, id, seg[2]).await,
        ("GET", ["content"]) => download(ctx, kind, id).await,
        ("PUT", ["tags"]) => add_tags(ctx, kind, id).await,
        ("DELETE", ["tags", _]) => delete_tag(ctx, kind, id, seg[2]),
        ("POST", ["refresh"]) => refresh(ctx, kind, id),
        (_, ["permissions", ..]) => {
            kind.content(&ctx.shared.lock(), id)?;
            permissions::route(ctx, method, kind.collection(), id, &seg[2..]).await
        }
        _ => Err(ApiError::method_not_allowed(method, kind.collection())),
    }
}

fn views(ctx: &Ctx, id: &str) -> ApiResult<Reply> {
    let state = ctx.shared.lock();
    let workbook = state.workbooks.iter().find(|w| w.content.id == id).ok_or_else(|| Kind::Workbook.not_found(id))?;
    let usage = ctx.flag("includeUsageStatistics");
    let views = workbook.views.iter().filter(|v| !v.hidden).map(|v| with_usage(render::view(v, None), v, usage));
    Reply::ok(vec![Elem::new("views").children(views.collect::<Vec<_>>())])
}

fn connection_elem(kind: Kind, content: &Content, c: &store::Connection) -> Elem {
    // A connection to a published data source is named by the workbook's own caption of it, not by the published
    // data source's id or name (TSC issues #247 and #825: the id does not match the published data source's, and
    // the name is the caption, which may have been renamed in the workbook).
    let name = if c.kind.eq_ignore_ascii_case("sqlproxy") && !c.datasource_caption.is_empty() {
        &c.datasource_caption
    } else {
        &content.name
    };
    let ds = Elem::new("datasource").attr("id", &content.id).attr("name", name);
    let elem = Elem::new("connection")
        .attr("id", &c.id)
        .attr("type", &c.kind)
        .attr("embedPassword", c.embed_password)
        .attr("serverAddress", &c.server_address)
        .attr("serverPort", &c.server_port)
        .attr("userName", &c.user_name);
    if kind == Kind::Workbook { elem.child(ds) } else { elem }
}

fn connections(ctx: &Ctx, kind: Kind, id: &str) -> ApiResult<Reply> {
    let state = ctx.shared.lock();
    let content = kind.content(&state, id)?;
    let items = content.connections.iter().map(|c| connection_elem(kind, content, c));
    Reply::ok(vec![Elem::new("connections").children(items.collect::<Vec<_>>())])
}

async fn update_connection(ctx: &mut Ctx, kind: Kind, id: &str, connection_id: &str) -> ApiResult<Reply> {
    let root = ctx.xml().await?;
    let node = root.child("connection").ok_or_else(|| ApiError::bad_request("Missing connection element."))?;
    let mut state = ctx.shared.lock();
    let content = kind.content_mut(&mut state, id)?;
    let connection = content
        .connections
        .iter_mut()
        .find(|c| c.id == connection_id)
        .ok_or_else(|| ApiError::not_found(404020, "Connection", connection_id))?;
    if let Some(v) = node.attr("serverAddress") {
        connection.server_address = v.to_owned();
    }
    if let Some(v) = node.attr("serverPort") {
        connection.server_port = v.to_owned();
    }
    if let Some(v) = node.attr("userName") {
        connection.user_name = v.to_owned();
    }
    if let Some(v) = node.attr("embedPassword") {
        connection.embed_password = v.eq_ignore_ascii_case("true");
    }
    let connection = connection.clone();
    let content = kind.content(&state, id)?;
    Reply::ok(vec![connection_elem(kind, content, &connection)])
}

async fn update(ctx: &mut Ctx, kind: Kind, id: &str) -> ApiResult<Reply> {
    let root = ctx.xml().await?;
    let node = root
        .child(kind.element())
        .ok_or_else(|| ApiError::bad_request(format!("Missing {} element.", kind.element())))?;
    let mut state = ctx.shared.lock();
    let current = kind.content(&state, id)?.clone();
    let project_id = match node.child("project").and_then(|p| p.attr("id")) {
        Some(pid) => {
            state.project(pid).map(|p| p.id.clone()).ok_or_else(|| ApiError::not_found(404005, "Project", pid))?
        }
        None => current.project_id.clone(),
    };
    let name = node.attr("name").unwrap_or(&current.name).to_owned();
    if kind.find_by_name(&state, &name, &project_id).is_some_and(|other| other != id) {
        let code = if kind == Kind::Workbook { 409013 } else { 409015 };
        return Err(ApiError::conflict(
            code,
            format!("A {} named '{name}' already exists in the target project.", kind.noun()),
        ));
    }
    let owner = node.child("owner").and_then(|o| o.attr("id")).map(str::to_owned);
    if let Some(owner) = &owner
        && state.user_name(owner).is_none()
    {
        return Err(ApiError::not_found(404002, "User", owner));
    }
    // Moved into a locked project, an item takes the lock's rules; moved out of one, it keeps them (help:
    // permissions_project_lock.htm, "the permissions set on the locked project are applied to that content").
    let moves = project_id != current.project_id;
    let resource = kind.collection();
    if moves {
        permissions::settle_locked_item(&mut state, resource, id);
    }
    let content = kind.content_mut(&mut state, id)?;
    content.name = name;
    content.project_id = project_id;
    if let Some(owner) = owner {
        content.owner_id = owner;
    }
    if let Some(description) = node.attr("description") {
        content.description = description.to_owned();
    }
    content.updated_at = store::now();
    if moves {
        permissions::settle_locked_item(&mut state, resource, id);
    }
    match kind {
        Kind::Workbook => {
            if let (Some(show), Some(w)) =
                (node.attr("showTabs"), state.workbooks.iter_mut().find(|w| w.content.id == id))
            {
                w.show_tabs = show.eq_ignore_ascii_case("true");
            }
        }
        Kind::Datasource => {
            if let Some(d) = state.datasources.iter_mut().find(|d| d.content.id == id) {
                if let Some(v) = node.attr("isCertified") {
                    d.is_certified = v.eq_ignore_ascii_case("true");
                }
                if let Some(v) = node.attr("certificationNote") {
                    d.certification_note = Some(v.to_owned());
                }
                if let Some(v) = node.attr("encryptExtracts") {
                    d.encrypt_extracts = Some(v.to_owned());
                }
                if let Some(v) = node.attr("useRemoteQueryAgent") {
                    d.use_remote_query_agent = v.eq_ignore_ascii_case("true");
                }
            }
        }
    }
    Reply::ok(vec![kind.render(&state, id)?])
}

fn delete(ctx: &Ctx, kind: Kind, id: &str) -> ApiResult<Reply> {
    let mut state = ctx.shared.lock();
    let blob = kind.content(&state, id)?.blob.clone();
    // A workbook's views go with it, and their rules with them; so do its subscriptions (to it and to its views;
    // inferred, docs/tableau-cloud.md).
    let views: Vec<String> = state
        .workbooks
        .iter()
        .filter(|w| kind == Kind::Workbook && w.content.id == id)
        .flat_map(|w| w.views.iter().map(|v| v.id.clone()))
        .collect();
    state.subscriptions.retain(|s| s.content_id != id && !views.contains(&s.content_id));
    state.permissions.retain(|r| !(r.resource == "views" && views.contains(&r.resource_id)));
    match kind {
        Kind::Workbook => state.workbooks.retain(|w| w.content.id != id),
        Kind::Datasource => state.datasources.retain(|d| d.content.id != id),
    }
    state.tasks.retain(|t| t.target_id != id);
    state.permissions.retain(|r| r.resource_id != id);
    if let Some(blob) = blob {
        blob.remove_file();
    }
    Ok(Reply::NoContent)
}

async fn download(ctx: &mut Ctx, kind: Kind, id: &str) -> ApiResult<Reply> {
    let (file_name, blob) = {
        let state = ctx.shared.lock();
        let content = kind.content(&state, id)?;
        (content.file_name.clone(), content.blob.clone())
    };
    let body = match blob {
        None => Body::empty(),
        Some(Blob::Memory(bytes)) => Body::from(bytes),
        Some(Blob::File { path, .. }) => {
            let file = tokio::fs::File::open(&path)
                .await
                .map_err(|err| ApiError::new(500000, "Internal Server Error", format!("reading content: {err}")))?;
            let stream = futures::stream::unfold(file, |mut file| async move {
                let mut buf = vec![0u8; 256 * 1024];
                match file.read(&mut buf).await {
                    Ok(0) => None,
                    Ok(n) => {
                        buf.truncate(n);
                        Some((Ok::<_, std::io::Error>(bytes::Bytes::from(buf)), file))
                    }
                    Err(err) => Some((Err(err), file)),
                }
            });
            Body::from_stream(stream.boxed())
        }
    };
    let part = match kind {
        Kind::Workbook => "tableau_workbook",
        Kind::Datasource => "tableau_datasource",
    };
    let disposition = format!("name=\"{part}\"; filename=\"{file_name}\"");
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/octet-stream"));
    let value = http::HeaderValue::from_str(&disposition)
        .unwrap_or_else(|_| http::HeaderValue::from_static("name=\"tableau_workbook\"; filename=\"content\""));
    headers.insert(http::header::CONTENT_DISPOSITION, value);
    Ok(Reply::Raw(response))
}

/// Tag labels as the server reads them: quoted labels are kept whole, unquoted ones split on spaces and commas.
fn labels(raw: &str) -> Vec<String> {
    let raw = raw.trim();
    if raw.len() >= 2 && raw.starts_with('"') && raw.ends_with('"') {
        return vec![raw[1..raw.len() - 1].to_owned()];
    }
    raw.split([' ', ',']).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

async fn add_tags(ctx: &mut Ctx, kind: Kind, id: &str) -> ApiResult<Reply> {
    let root = ctx.xml().await?;
    let tags = root.child("tags").ok_or_else(|| ApiError::bad_request("Missing tags element."))?;
    let mut state = ctx.shared.lock();
    let content = kind.content_mut(&mut state, id)?;
    for tag in tags.children_named("tag") {
        for label in labels(tag.attr("label").unwrap_or_default()) {
            if !content.tags.iter().any(|t| t.eq_ignore_ascii_case(&label)) {
                content.tags.push(label);
            }
        }
    }
    let elems = content.tags.iter().map(|t| Elem::new("tag").attr("label", t));
    Reply::ok(vec![Elem::new("tags").children(elems.collect::<Vec<_>>())])
}

fn delete_tag(ctx: &Ctx, kind: Kind, id: &str, label: &str) -> ApiResult<Reply> {
    let mut state = ctx.shared.lock();
    let content = kind.content_mut(&mut state, id)?;
    let before = content.tags.len();
    content.tags.retain(|t| !t.eq_ignore_ascii_case(label));
    if content.tags.len() == before {
        return Err(ApiError::not_found(404007, "Tag", label));
    }
    Ok(Reply::NoContent)
}

fn refresh(ctx: &Ctx, kind: Kind, id: &str) -> ApiResult<Reply> {
    let mut state = ctx.shared.lock();
    let content = kind.content(&state, id)?;
    let name = content.name.clone();
    if !content.has_extracts {
        return Err(tasks::no_extracts(kind.target(), &name));
    }
    tasks::queue_refresh(&ctx.shared.config, &mut state, kind.target(), id, &name)
        .map(|job| Reply::Xml(StatusCode::ACCEPTED, vec![job]))
}
