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
    Elem::new("site")
        .attr("id", &s.id)
        .attr("name", &s.name)
        .attr("contentUrl", &s.content_url)
        .attr("adminMode", "ContentAndUsers")
        .attr("state", "Active")
        .attr("revisionHistoryEnabled", true)
        .attr("revisionLimit", 25)
        .attr("timeZone", "UTC")
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
