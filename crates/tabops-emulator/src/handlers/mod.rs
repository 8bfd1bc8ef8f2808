//! API routing: strips the `/api/{version}/` prefix, authenticates, checks the site id, and dispatches by
//! method and path segments to the per-resource handlers. Also the request context and reply helpers.

mod content;
mod permissions;
mod projects;
mod publish;
mod render;
mod sites;
mod subscriptions;
mod tasks;
pub mod uploads;
mod users;
mod view_image;
mod webhooks;

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};

use crate::auth::Session;
use crate::error::{ApiError, ApiResult};
use crate::server::{Query, Shared};
use crate::xml::{self, Elem, Node};

/// What a handler answers.
pub enum Reply {
    Xml(StatusCode, Vec<Elem>),
    NoContent,
    Raw(Response<Body>),
}

impl Reply {
    pub fn ok(elems: Vec<Elem>) -> ApiResult<Reply> {
        Ok(Reply::Xml(StatusCode::OK, elems))
    }
    pub fn created(elem: Elem) -> ApiResult<Reply> {
        Ok(Reply::Xml(StatusCode::CREATED, vec![elem]))
    }
}

/// A request being handled.
pub struct Ctx {
    pub shared: Arc<Shared>,
    pub query: Query,
    pub headers: HeaderMap,
    pub body: Option<Body>,
    pub session: Session,
    /// The API version the request's path names (`/api/3.21/...` -> `(3, 21)`).
    pub api_version: (u32, u32),
}

impl Ctx {
    /// The whole request body (bounded by the configured limit).
    pub async fn bytes(&mut self) -> ApiResult<Bytes> {
        read_bytes(&self.shared, self.body.take()).await
    }

    /// The body parsed as a `tsRequest`; `None` when the body is empty.
    pub async fn xml_opt(&mut self) -> ApiResult<Option<Node>> {
        let bytes = self.bytes().await?;
        parse_request(&bytes)
    }

    /// The body parsed as a `tsRequest`; an empty body is a 400000.
    pub async fn xml(&mut self) -> ApiResult<Node> {
        self.xml_opt().await?.ok_or_else(|| ApiError::bad_request("The request body is missing."))
    }

    /// A boolean query parameter (`true`/`True`).
    pub fn flag(&self, key: &str) -> bool {
        self.query.get(key).is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    pub fn content_type(&self) -> Option<String> {
        self.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned)
    }
}

pub fn parse_request(bytes: &[u8]) -> ApiResult<Option<Node>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or_default();
    if bytes[start] == b'{' {
        // Tableau accepts JSON bodies (Content-Type: application/json) for every method that takes XML.
        let value: serde_json::Value = serde_json::from_slice(&bytes[start..]).map_err(|e| {
            ApiError::new(400000, "Bad Request", format!("There was a problem parsing the JSON request body: {e}"))
        })?;
        let root = xml::from_json(&value).map_err(|e| {
            ApiError::new(400000, "Bad Request", format!("There was a problem parsing the JSON request body: {e}"))
        })?;
        if let Some(detail) = crate::wire_shapes::request_structure_error(&String::from_utf8_lossy(bytes), true) {
            return Err(ApiError::new(
                400000,
                "Bad Request",
                format!("Payload is either malformed or incomplete: {detail}"),
            ));
        }
        return Ok(Some(root));
    }
    let root = xml::parse(bytes).map_err(ApiError::malformed)?;
    if root.name != "tsRequest" {
        return Err(ApiError::malformed(format!("expected a tsRequest root element, found '{}'", root.name)));
    }
    if let Some(detail) = crate::wire_shapes::request_structure_error(&String::from_utf8_lossy(bytes), false) {
        return Err(ApiError::new(
            400000,
            "Bad Request",
            format!("Payload is either malformed XML or incomplete: {detail}"),
        ));
    }
    Ok(Some(root))
}

async fn read_bytes(shared: &Shared, body: Option<Body>) -> ApiResult<Bytes> {
    let Some(body) = body else { return Ok(Bytes::new()) };
    let limit = usize::try_from(shared.config.max_body_bytes).unwrap_or(usize::MAX);
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::new(413000, "Payload Too Large", "The request body is too large."))?;
    shared.stats.add_bytes(bytes.len() as u64);
    Ok(bytes)
}

pub fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.to_ascii_lowercase().starts_with("application/json"))
}

fn render(status: StatusCode, elems: &[Elem], json: bool) -> Response<Body> {
    let (body, content_type) = if json {
        let mut map = serde_json::Map::new();
        for elem in elems {
            if let serde_json::Value::Object(obj) = elem.to_json_named() {
                map.extend(obj);
            }
        }
        (serde_json::Value::Object(map).to_string(), "application/json;charset=UTF-8")
    } else {
        (xml::document(elems), "application/xml;charset=UTF-8")
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static(content_type));
    response
}

pub fn error_response(err: &ApiError, json: bool) -> Response<Body> {
    let elem = Elem::new("error")
        .attr("code", &err.code)
        .child(Elem::new("summary").text(&err.summary))
        .child(Elem::new("detail").text(&err.detail));
    render(err.status, &[elem], json)
}

const LITERALS: &[&str] = &[
    "api",
    "serverinfo",
    "auth",
    "signin",
    "signout",
    "sites",
    "projects",
    "workbooks",
    "datasources",
    "views",
    "connections",
    "content",
    "tags",
    "users",
    "groups",
    "tasks",
    "extractrefreshes",
    "runnow",
    "jobs",
    "permissions",
    "default-permissions",
    "fileuploads",
    "refresh",
    "remove",
    "revisions",
    "data",
    "flows",
    "site-auth-configurations",
    "subscriptions",
    "metadata",
    "graphql",
    "webhooks",
    "test",
];

/// The templated route of a path (ids replaced by `{id}`, version prefix dropped), for the stats.
pub fn route_template(path: &str) -> String {
    let segments =
        api_segments(path).unwrap_or_else(|| path.split('/').filter(|s| !s.is_empty()).map(str::to_owned).collect());
    let mut out = String::new();
    for segment in segments {
        out.push('/');
        if LITERALS.contains(&segment.to_ascii_lowercase().as_str()) {
            out.push_str(&segment);
        } else {
            out.push_str("{id}");
        }
    }
    if out.is_empty() { "/".to_owned() } else { out }
}

fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = segment.get(i + 1..i + 3)
            && let Ok(value) = u8::from_str_radix(hex, 16)
        {
            out.push(value);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Path segments after `/api/{2.x|3.x}/`, percent-decoded; `None` if the path is not under a versioned API.
fn api_segments(path: &str) -> Option<Vec<String>> {
    let rest = path.strip_prefix("/api/")?;
    let (version, rest) = rest.split_once('/').unwrap_or((rest, ""));
    let (major, minor) = version.split_once('.')?;
    if !matches!(major, "2" | "3") || minor.is_empty() || !minor.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(rest.split('/').filter(|s| !s.is_empty()).map(percent_decode).collect())
}

/// The `(major, minor)` version of a path under `/api/{major}.{minor}/`.
fn path_api_version(path: &str) -> Option<(u32, u32)> {
    let version = path.strip_prefix("/api/")?.split('/').next()?;
    let (major, minor) = version.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

fn parse_query(raw: Option<&str>) -> Query {
    let mut query = HashMap::new();
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        query.insert(key.into_owned(), value.into_owned());
    }
    query
}

/// Handle one API request and render the reply or error.
pub async fn dispatch(shared: Arc<Shared>, request: Request<Body>) -> Response<Body> {
    let json = wants_json(request.headers());
    match dispatch_inner(shared, request).await {
        Ok(Reply::Xml(status, elems)) => render(status, &elems, json),
        Ok(Reply::NoContent) => {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::NO_CONTENT;
            response
        }
        Ok(Reply::Raw(response)) => response,
        Err(err) => error_response(&err, json),
    }
}

async fn dispatch_inner(shared: Arc<Shared>, request: Request<Body>) -> ApiResult<Reply> {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let method = parts.method.as_str().to_owned();
    if path.eq_ignore_ascii_case("/api/metadata/graphql") {
        return metadata_graphql(shared, &method, &parts.headers, body).await;
    }
    let segments = api_segments(&path).ok_or_else(|| ApiError::unknown_resource(&path))?;
    let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
    let lower: Vec<String> = seg.iter().map(|s| s.to_ascii_lowercase()).collect();
    let low: Vec<&str> = lower.iter().map(String::as_str).collect();

    // Unauthenticated endpoints.
    match (method.as_str(), low.as_slice()) {
        ("GET", ["serverinfo"]) => return sites::server_info(),
        ("POST", ["auth", "signin"]) => {
            let bytes = read_bytes(&shared, Some(body)).await?;
            let credentials = crate::auth::sign_in(&shared, &bytes)?;
            return Reply::ok(vec![credentials]);
        }
        (_, ["serverinfo"]) | (_, ["auth", "signin"]) => return Err(ApiError::method_not_allowed(&method, &path)),
        _ => {}
    }

    let token = parts.headers.get("x-tableau-auth").and_then(|v| v.to_str().ok());
    let session = shared.sessions.check(token)?;
    if method == "POST" && low.as_slice() == ["auth", "signout"] {
        if let Some(token) = token {
            shared.sessions.close(token);
        }
        return Ok(Reply::NoContent);
    }

    let query = parse_query(parts.uri.query());
    let api_version = path_api_version(&path).unwrap_or((3, 0));
    let mut ctx = Ctx { shared, query, headers: parts.headers, body: Some(body), session, api_version };
    match low.as_slice() {
        ["sites"] if method == "GET" => return sites::list_sites(&ctx),
        ["sites", _] if method == "GET" => return sites::get_site(&ctx, seg[1]),
        ["sites", _] if method == "PUT" => return sites::update_site(&mut ctx, seg[1]).await,
        ["sites", site, ..] if *site != ctx.session.site_id.as_str() => {
            return Err(ApiError::new(404000, "Resource Not Found", format!("Site '{}' could not be found.", seg[1])));
        }
        ["sites", _, ..] => {}
        _ => return Err(ApiError::unknown_resource(&path)),
    }
    let rest = &seg[2..];
    let rest_low = &low[2..];
    crate::auth::check_scope(&ctx.session, &method, rest_low)?;
    let result = route_site(&mut ctx, &method, rest, rest_low, &path).await;
    // A request may have settled a refresh job (a poll, the job list): its webhooks go out now, without waiting.
    crate::webhooks::spawn(crate::webhooks::collect(&mut ctx.shared.lock()));
    if result.is_ok() && method != "GET" {
        ctx.shared.mark_dirty();
    }
    result
}

async fn route_site(ctx: &mut Ctx, method: &str, seg: &[&str], low: &[&str], path: &str) -> ApiResult<Reply> {
    use content::Kind::{Datasource as Ds, Workbook as Wb};
    match (method, low) {
        (_, ["projects", ..]) => projects::route(ctx, method, seg).await,
        ("GET", ["workbooks"]) => content::list(ctx, Wb),
        ("POST", ["workbooks"]) => content::publish(ctx, Wb).await,
        ("GET", ["datasources"]) => content::list(ctx, Ds),
        ("POST", ["datasources"]) => content::publish(ctx, Ds).await,
        (_, ["workbooks", _, ..]) => content::route(ctx, Wb, method, &seg[1..], &low[1..]).await,
        (_, ["datasources", _, ..]) => content::route(ctx, Ds, method, &seg[1..], &low[1..]).await,
        ("GET", ["views"]) => content::site_views(ctx),
        (_, ["views", _, "permissions", ..]) => {
            if permissions::view_workbook(&ctx.shared.lock(), seg[1]).is_none() {
                return Err(ApiError::not_found(404011, "View", seg[1]));
            }
            permissions::route(ctx, method, "views", seg[1], &seg[3..]).await
        }
        ("GET", ["views", _, "image"]) => view_image::get(ctx, seg[1]),
        ("POST", ["fileuploads"]) => uploads::initiate(ctx),
        ("PUT", ["fileuploads", _]) => uploads::append(ctx, seg[1]).await,
        (_, ["users", ..]) => users::route_users(ctx, method, seg).await,
        ("GET", ["site-auth-configurations"]) => users::auth_configurations(ctx),
        (_, ["groups", ..]) => users::route_groups(ctx, method, seg, low).await,
        (_, ["tasks", "extractrefreshes", ..]) => tasks::route_tasks(ctx, method, &seg[2..], &low[2..]).await,
        (_, ["jobs", ..]) => tasks::route_jobs(ctx, method, &seg[1..]),
        (_, ["subscriptions", ..]) => subscriptions::route(ctx, method, &seg[1..]).await,
        (_, ["webhooks", ..]) => webhooks::route(ctx, method, &seg[1..]).await,
        (_, [first, ..])
            if matches!(
                *first,
                "projects"
                    | "workbooks"
                    | "datasources"
                    | "views"
                    | "fileuploads"
                    | "users"
                    | "groups"
                    | "tasks"
                    | "jobs"
            ) =>
        {
            Err(ApiError::method_not_allowed(method, path))
        }
        _ => Err(ApiError::unknown_resource(path)),
    }
}

/// `POST /api/metadata/graphql`: the Metadata API (outside the versioned REST API, the same session token).
async fn metadata_graphql(shared: Arc<Shared>, method: &str, headers: &HeaderMap, body: Body) -> ApiResult<Reply> {
    if shared.metadata_disabled.load(std::sync::atomic::Ordering::SeqCst) {
        return Err(ApiError::unknown_resource("/api/metadata/graphql"));
    }
    if method != "POST" {
        return Err(ApiError::method_not_allowed(method, "/api/metadata/graphql"));
    }
    let token = headers.get("x-tableau-auth").and_then(|v| v.to_str().ok());
    shared.sessions.check(token)?;
    let bytes = read_bytes(&shared, Some(body)).await?;
    let answer = crate::metadata::execute(&shared.lock(), &bytes);
    let mut response = Response::new(Body::from(answer.to_string()));
    response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    Ok(Reply::Raw(response))
}
