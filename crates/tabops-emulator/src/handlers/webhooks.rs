//! Webhooks (`/sites/{site}/webhooks`, REST API 3.6; Update 3.8): list, get, create, update, delete and test, with
//! the shapes of the schema's `webhookType` (ts-api_3_29.xsd) and Tableau's webhook reference.
//!
//! The event may come as the `event` attribute (the API event name, preferred since Tableau 2020.3), as the older
//! `<webhook-source><webhook-source-event-…/></webhook-source>` child (what tableauserverclient sends), or both,
//! which must then agree (the reference: "If both … are specified, their events specified must match"). Responses
//! carry both forms, so TSC (which reads the source element) and `event` readers see the same event.
//!
//! Destinations: Tableau Cloud requires https ("The webhook destination URL must be https and have a valid
//! certificate"); the emulator also takes `http://` to a loopback host, for a receiver in a test. Other `http://`
//! destinations are refused with 400000. The list is one page (TSC builds its pagination from the items).

use http::StatusCode;

use super::{Ctx, Reply};
use crate::error::{ApiError, ApiResult};
use crate::store::{self, State, Webhook};
use crate::webhooks::{self as delivery, EVENTS};
use crate::xml::{Elem, Node};

/// Not found. Tableau's code for a missing webhook is not in the sources read; 404000 is the generic one.
fn missing(id: &str) -> ApiError {
    ApiError::not_found(404000, "Webhook", id)
}

fn render(state: &State, w: &Webhook) -> Elem {
    let owner = Elem::new("owner").attr("id", &w.owner_id).opt_attr("name", state.user_name(&w.owner_id));
    Elem::new("webhook")
        .attr("id", &w.id)
        .attr("name", &w.name)
        .attr("isEnabled", w.enabled)
        .attr("statusChangeReason", "")
        .attr("event", &w.event)
        .attr("createdAt", &w.created_at)
        .attr("updatedAt", &w.updated_at)
        .child(
            Elem::new("webhook-source")
                .child(Elem::new(&format!("webhook-source-event-{}", delivery::kebab(&w.event)))),
        )
        .child(
            Elem::new("webhook-destination")
                .child(Elem::new("webhook-destination-http").attr("method", "POST").attr("url", &w.url)),
        )
        .child(owner)
}

/// The event a request names: `event`, the source element, or both (equal).
fn event_of(webhook: &Node) -> ApiResult<Option<String>> {
    let attr = match webhook.attr("event") {
        Some(name) => Some(
            EVENTS
                .into_iter()
                .find(|e| e.eq_ignore_ascii_case(name))
                .ok_or_else(|| ApiError::bad_request(format!("'{name}' is not a valid webhook event.")))?,
        ),
        None => None,
    };
    let source = match webhook.child("webhook-source").and_then(|s| s.children.first()) {
        Some(element) => {
            let known = element.name.strip_prefix("webhook-source-event-").and_then(delivery::event_from_source);
            Some(known.ok_or_else(|| {
                ApiError::bad_request(format!("'{}' is not a valid webhook source event.", element.name))
            })?)
        }
        None => None,
    };
    match (attr, source) {
        (Some(a), Some(s)) if a != s => Err(ApiError::bad_request(format!(
            "The webhook's event '{a}' and its webhook-source '{s}' name different events."
        ))),
        (a, s) => Ok(a.or(s).map(str::to_owned)),
    }
}

fn url_of(webhook: &Node) -> ApiResult<Option<String>> {
    let Some(http) = webhook.child("webhook-destination").and_then(|d| d.child("webhook-destination-http")) else {
        return Ok(None);
    };
    if http.attr("method").is_some_and(|m| m != "POST") {
        return Err(ApiError::bad_request("A webhook destination's method must be POST."));
    }
    let Some(url) = http.attr("url") else { return Ok(None) };
    let https =
        url.len() > "https://".len() && url.get(..8).is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"));
    if !https && !delivery::is_loopback(url) {
        return Err(ApiError::bad_request(format!(
            "The webhook destination URL '{url}' must be https (the emulator also accepts http to a loopback host)."
        )));
    }
    Ok(Some(url.to_owned()))
}

fn index(state: &State, id: &str) -> ApiResult<usize> {
    state.webhooks.iter().position(|w| w.id == id).ok_or_else(|| missing(id))
}

/// Routes under `/webhooks`; `seg` starts after it.
pub async fn route(ctx: &mut Ctx, method: &str, seg: &[&str]) -> ApiResult<Reply> {
    match (method, seg) {
        ("GET", []) => {
            let state = ctx.shared.lock();
            let items = state.webhooks.iter().map(|w| render(&state, w)).collect::<Vec<_>>();
            Reply::ok(vec![Elem::new("webhooks").children(items)])
        }
        ("POST", []) => create(ctx).await,
        ("GET", [id]) => {
            let state = ctx.shared.lock();
            let i = index(&state, id)?;
            Reply::ok(vec![render(&state, &state.webhooks[i])])
        }
        ("PUT", [id]) => update(ctx, id).await,
        ("DELETE", [id]) => {
            let mut state = ctx.shared.lock();
            let i = index(&state, id)?;
            state.webhooks.remove(i);
            Ok(Reply::NoContent)
        }
        ("GET", [id, test]) if test.eq_ignore_ascii_case("test") => {
            let url = {
                let state = ctx.shared.lock();
                state.webhooks[index(&state, id)?].url.clone()
            };
            if !delivery::is_loopback(&url) {
                return Err(ApiError::bad_request(format!(
                    "The emulator sends test requests only to loopback destinations, not to '{url}'."
                )));
            }
            let (status, body) = delivery::test(&url).await.unwrap_or((0, String::new()));
            Reply::ok(vec![
                Elem::new("webhookTestResult")
                    .attr("id", id)
                    .attr("status", status)
                    .child(Elem::new("body").text(body)),
            ])
        }
        _ => Err(ApiError::method_not_allowed(method, "webhooks")),
    }
}

async fn create(ctx: &mut Ctx) -> ApiResult<Reply> {
    let root = ctx.xml().await?;
    let node = root.child("webhook").ok_or_else(|| ApiError::bad_request("Missing webhook element."))?;
    let name = node.attr("name").filter(|n| !n.trim().is_empty());
    let name = name.ok_or_else(|| ApiError::bad_request("A webhook needs a name."))?.to_owned();
    let event = event_of(node)?.ok_or_else(|| ApiError::bad_request("A webhook needs an event."))?;
    let url = url_of(node)?.ok_or_else(|| ApiError::bad_request("A webhook needs a destination URL."))?;
    let enabled = node.attr("isEnabled").is_none_or(|v| !v.eq_ignore_ascii_case("false"));
    let mut state = ctx.shared.lock();
    let now = store::now();
    let webhook = Webhook {
        id: store::new_id(),
        name,
        event,
        url,
        enabled,
        owner_id: ctx.session.user_id.clone(),
        created_at: now.clone(),
        updated_at: now,
    };
    delivery::mark_announced(&mut state);
    let elem = render(&state, &webhook);
    state.webhooks.push(webhook);
    Ok(Reply::Xml(StatusCode::CREATED, vec![elem]))
}

async fn update(ctx: &mut Ctx, id: &str) -> ApiResult<Reply> {
    let root = ctx.xml().await?;
    let node = root.child("webhook").ok_or_else(|| ApiError::bad_request("Missing webhook element."))?;
    let event = event_of(node)?;
    let url = url_of(node)?;
    let mut state = ctx.shared.lock();
    let i = index(&state, id)?;
    let webhook = &mut state.webhooks[i];
    if let Some(name) = node.attr("name").filter(|n| !n.trim().is_empty()) {
        webhook.name = name.to_owned();
    }
    if let Some(event) = event {
        webhook.event = event;
    }
    if let Some(url) = url {
        webhook.url = url;
    }
    if let Some(enabled) = node.attr("isEnabled") {
        webhook.enabled = !enabled.eq_ignore_ascii_case("false");
    }
    webhook.updated_at = store::now();
    let webhook = webhook.clone();
    Reply::ok(vec![render(&state, &webhook)])
}
