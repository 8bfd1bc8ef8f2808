//! serverInfo (unauthenticated) and the single emulated site (by id, contentUrl or name).

use super::{Ctx, Reply};
use crate::error::{ApiError, ApiResult};
use crate::store::Site;
use crate::xml::Elem;

pub const REST_API_VERSION: &str = "3.27";

pub fn server_info() -> ApiResult<Reply> {
    Reply::ok(vec![
        Elem::new("serverInfo")
            .child(Elem::new("productVersion").attr("build", "20253.25.0911.0922").text("2025.3.0"))
            .child(Elem::new("prepConductorVersion").text("20253.25.0911.0922"))
            .child(Elem::new("restApiVersion").text(REST_API_VERSION))
            .child(Elem::new("platform").text("linux")),
    ])
}

fn site(s: &Site) -> Elem {
    let mut elem = Elem::new("site")
        .attr("id", &s.id)
        .attr("name", &s.name)
        .attr("contentUrl", &s.content_url)
        .attr("adminMode", "ContentAndUsers")
        .attr("state", "Active");
    for (attribute, value) in crate::site_settings::ordered(&s.settings) {
        elem = elem.attr(attribute, value);
    }
    elem.attr("timeZone", "UTC")
}

/// `PUT /sites/{id}` (Update Site) on the signed-in site: its settings (checked, all or none) and its name. The
/// content URL cannot change here (a different one is refused); Server-only attributes a client sends back as it
/// read them (`adminMode`, `state`, quotas) are accepted and ignored. Answers the updated site, as Tableau does.
pub async fn update_site(ctx: &mut Ctx, key: &str) -> ApiResult<Reply> {
    if key != ctx.session.site_id {
        return Err(ApiError::new(404000, "Resource Not Found", format!("Site '{key}' could not be found.")));
    }
    let body = ctx.xml().await?;
    let node = body.child("site").ok_or_else(|| ApiError::bad_request("The request has no site element."))?;
    let mut state = ctx.shared.lock();
    if let Some(url) = node.attr("contentUrl")
        && !url.eq_ignore_ascii_case(&state.site.content_url)
    {
        return Err(ApiError::bad_request(format!(
            "The emulated site's content URL is '{}' and cannot be changed to '{url}'.",
            state.site.content_url
        )));
    }
    let settings = crate::site_settings::update(&state.site.settings, node)?;
    state.site.settings = settings;
    if let Some(name) = node.attr("name").filter(|n| !n.trim().is_empty()) {
        state.site.name = name.to_owned();
    }
    let reply = site(&state.site);
    drop(state);
    ctx.shared.mark_dirty();
    Reply::ok(vec![reply])
}

pub fn list_sites(ctx: &Ctx) -> ApiResult<Reply> {
    let state = ctx.shared.lock();
    Reply::ok(vec![
        Elem::new("pagination").attr("pageNumber", 1).attr("pageSize", 100).attr("totalAvailable", 1),
        Elem::new("sites").child(site(&state.site)),
    ])
}

pub fn get_site(ctx: &Ctx, key: &str) -> ApiResult<Reply> {
    let state = ctx.shared.lock();
    let found = match ctx.query.get("key").map(String::as_str) {
        Some("contentUrl") => state.site.content_url.eq_ignore_ascii_case(key),
        Some("name") => state.site.name.eq_ignore_ascii_case(key),
        _ => state.site.id == key,
    };
    if !found {
        return Err(ApiError::new(404000, "Resource Not Found", format!("Site '{key}' could not be found.")));
    }
    Reply::ok(vec![site(&state.site)])
}
