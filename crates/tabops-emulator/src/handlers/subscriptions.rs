//! Tableau Cloud subscriptions (list/get/create/update/delete): a user e-mailed a view or a workbook on a schedule.
//!
//! Cloud takes the schedule inline (API 3.20+): Create and Update Subscription carry `<schedule frequency>` beside
//! `<subscription>` in the request (REST reference, "Tableau Cloud Request"; PSTableauREST `New-TableauSubscription`
//! builds it so), under the extract-refresh schedule rules (409004). A Server schedule id (`<schedule id>`) names no
//! schedule on Cloud. Lists and reads show the schedule inline too, with no id (tableauserverclient issue #1627:
//! `schedule_id` is always None on Cloud). tableauserverclient's `update_req` sends an empty `<schedule/>` and a
//! `<content>` with only `sendIfViewEmpty`: both mean "unchanged". Unknown content and users answer Tableau's
//! not-found codes (404006 workbook, 404011 view, 404002 user; 404025 subscription).

use super::{Ctx, Reply};
use crate::error::{ApiError, ApiResult};
use crate::query;
use crate::schedule::Schedule;
use crate::store::{self, State, Subscription};
use crate::xml::{Elem, Node};

/// Routes under `/subscriptions`; `seg` starts after it.
pub async fn route(ctx: &mut Ctx, method: &str, seg: &[&str]) -> ApiResult<Reply> {
    match (method, seg) {
        ("GET", []) => {
            let state = ctx.shared.lock();
            let (page, pagination) = query::paginate(state.subscriptions.clone(), &ctx.query)?;
            let items = page.iter().map(|s| render(&state, s)).collect::<Vec<_>>();
            Reply::ok(vec![pagination, Elem::new("subscriptions").children(items)])
        }
        ("GET", [id]) => {
            let state = ctx.shared.lock();
            Reply::ok(vec![render(&state, &state.subscriptions[index(&state, id)?])])
        }
        ("POST", []) => create(ctx).await,
        ("PUT", [id]) => update(ctx, id).await,
        ("DELETE", [id]) => {
            let mut state = ctx.shared.lock();
            let i = index(&state, id)?;
            state.subscriptions.remove(i);
            Ok(Reply::NoContent)
        }
        _ => Err(ApiError::method_not_allowed(method, "subscriptions")),
    }
}

fn index(state: &State, id: &str) -> ApiResult<usize> {
    state.subscriptions.iter().position(|s| s.id == id).ok_or_else(|| ApiError::not_found(404025, "Subscription", id))
}

fn bool_attr(node: &Node, key: &str) -> ApiResult<Option<bool>> {
    match node.attr(key) {
        None => Ok(None),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(v) => Err(ApiError::bad_request(format!("Invalid value '{v}' for the subscription attribute '{key}'."))),
    }
}

/// `pageOrientation` and `pageSizeOption` values (the schema types both as strings; the values are the REST
/// reference's for Create Subscription, as PSTableauREST's `New-TableauSubscription` validates them).
const ORIENTATIONS: [&str; 2] = ["Portrait", "Landscape"];
const PAGE_SIZES: [&str; 13] =
    ["A3", "A4", "A5", "B4", "B5", "Executive", "Folio", "Ledger", "Legal", "Letter", "Note", "Quarto", "Tabloid"];

fn enum_attr(node: &Node, key: &str, values: &[&str]) -> ApiResult<Option<String>> {
    match node.attr(key) {
        None => Ok(None),
        Some(v) => match values.iter().find(|x| x.eq_ignore_ascii_case(v)) {
            Some(found) => Ok(Some((*found).to_owned())),
            None => Err(ApiError::bad_request(format!("Invalid value '{v}' for the subscription attribute '{key}'."))),
        },
    }
}

/// The content a `<content id type>` names, checked: `(type, id)`.
fn content_of(state: &State, node: &Node) -> ApiResult<(String, String)> {
    let id = node.attr("id").ok_or_else(|| ApiError::bad_request("The subscription content needs an id."))?;
    match node.attr("type").map(str::to_ascii_lowercase).as_deref() {
        Some("workbook") => {
            state
                .workbooks
                .iter()
                .find(|w| w.content.id == id)
                .ok_or_else(|| ApiError::not_found(404006, "Workbook", id))?;
            Ok(("Workbook".to_owned(), id.to_owned()))
        }
        Some("view") => {
            state
                .workbooks
                .iter()
                .flat_map(|w| &w.views)
                .find(|v| v.id == id)
                .ok_or_else(|| ApiError::not_found(404011, "View", id))?;
            Ok(("View".to_owned(), id.to_owned()))
        }
        other => Err(ApiError::bad_request(format!(
            "Invalid subscription content type '{}'; expected 'Workbook' or 'View'.",
            other.unwrap_or("")
        ))),
    }
}

fn user_of(state: &State, node: &Node) -> ApiResult<String> {
    let id = node.attr("id").ok_or_else(|| ApiError::bad_request("The subscription user needs an id."))?;
    state.users.iter().find(|u| u.id == id).ok_or_else(|| ApiError::not_found(404002, "User", id))?;
    Ok(id.to_owned())
}

/// The Cloud schedule of a request: `<schedule frequency>` beside `<subscription>` (or inside it). `None` for an
/// empty `<schedule/>` (tableauserverclient's update); a Server schedule id is refused.
fn schedule_of(root: &Node, subscription: &Node) -> ApiResult<Option<Schedule>> {
    let Some(node) = root.child("schedule").or_else(|| subscription.child("schedule")) else { return Ok(None) };
    if let Some(id) = node.attr("id") {
        return Err(ApiError::not_found(404014, "Schedule", id));
    }
    if node.attrs.is_empty() && node.child("frequencyDetails").is_none() {
        return Ok(None);
    }
    Schedule::from_node(node).map(Some)
}

async fn create(ctx: &mut Ctx) -> ApiResult<Reply> {
    let root = ctx.xml().await?;
    let node = root.child("subscription").ok_or_else(|| ApiError::bad_request("Missing subscription element."))?;
    let subject = node.attr("subject").ok_or_else(|| ApiError::bad_request("The subscription needs a subject."))?;
    let content = node.child("content").ok_or_else(|| ApiError::bad_request("The subscription needs content."))?;
    let user = node.child("user").ok_or_else(|| ApiError::bad_request("The subscription needs a user."))?;
    let schedule = schedule_of(&root, node)?
        .ok_or_else(|| ApiError::conflict(409004, "A schedule is required for a subscription on Tableau Cloud."))?;
    let mut state = ctx.shared.lock();
    let (content_type, content_id) = content_of(&state, content)?;
    let subscription = Subscription {
        id: store::new_id(),
        subject: subject.to_owned(),
        message: node.attr("message").unwrap_or("").to_owned(),
        attach_image: bool_attr(node, "attachImage")?.unwrap_or(true),
        attach_pdf: bool_attr(node, "attachPdf")?.unwrap_or(false),
        page_orientation: enum_attr(node, "pageOrientation", &ORIENTATIONS)?,
        page_size: enum_attr(node, "pageSizeOption", &PAGE_SIZES)?,
        suspended: false,
        content_type,
        content_id,
        send_if_view_empty: bool_attr(content, "sendIfViewEmpty")?.unwrap_or(true),
        user_id: user_of(&state, user)?,
        schedule,
    };
    let elem = render(&state, &subscription);
    state.subscriptions.push(subscription);
    Reply::created(elem)
}

async fn update(ctx: &mut Ctx, id: &str) -> ApiResult<Reply> {
    let root = ctx.xml().await?;
    let node = root.child("subscription").ok_or_else(|| ApiError::bad_request("Missing subscription element."))?;
    let schedule = schedule_of(&root, node)?;
    let mut state = ctx.shared.lock();
    let i = index(&state, id)?;
    let mut s = state.subscriptions[i].clone();
    if let Some(subject) = node.attr("subject") {
        s.subject = subject.to_owned();
    }
    if let Some(message) = node.attr("message") {
        s.message = message.to_owned();
    }
    s.attach_image = bool_attr(node, "attachImage")?.unwrap_or(s.attach_image);
    s.attach_pdf = bool_attr(node, "attachPdf")?.unwrap_or(s.attach_pdf);
    s.suspended = bool_attr(node, "suspended")?.unwrap_or(s.suspended);
    if let Some(o) = enum_attr(node, "pageOrientation", &ORIENTATIONS)? {
        s.page_orientation = Some(o);
    }
    if let Some(size) = enum_attr(node, "pageSizeOption", &PAGE_SIZES)? {
        s.page_size = Some(size);
    }
    if let Some(content) = node.child("content") {
        s.send_if_view_empty = bool_attr(content, "sendIfViewEmpty")?.unwrap_or(s.send_if_view_empty);
        if content.attr("id").is_some() {
            (s.content_type, s.content_id) = content_of(&state, content)?;
        }
    }
    if let Some(user) = node.child("user") {
        s.user_id = user_of(&state, user)?;
    }
    if let Some(schedule) = schedule {
        s.schedule = schedule;
    }
    let elem = render(&state, &s);
    state.subscriptions[i] = s;
    Reply::ok(vec![elem])
}

/// A subscription as Cloud lists it: attributes, `<content>`, the inline `<schedule>`, `<user id name>`.
pub fn render(state: &State, s: &Subscription) -> Elem {
    let user_name = state.user_name(&s.user_id).unwrap_or_default().to_owned();
    Elem::new("subscription")
        .attr("id", &s.id)
        .attr("subject", &s.subject)
        .attr("message", &s.message)
        .attr("attachImage", s.attach_image)
        .attr("attachPdf", s.attach_pdf)
        .opt_attr("pageOrientation", s.page_orientation.as_ref())
        .opt_attr("pageSizeOption", s.page_size.as_ref())
        .attr("suspended", s.suspended)
        .child(
            Elem::new("content")
                .attr("id", &s.content_id)
                .attr("type", &s.content_type)
                .attr("sendIfViewEmpty", s.send_if_view_empty),
        )
        .child(s.schedule.to_elem())
        .child(Elem::new("user").attr("id", &s.user_id).attr("name", user_name))
}
