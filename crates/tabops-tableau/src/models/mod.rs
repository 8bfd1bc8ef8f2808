//! Typed models of Tableau REST payloads, parsed from the namespace-resolved XML tree and serialised to
//! `tsRequest` bodies. Parsers are tolerant: unknown attributes and elements are ignored, and missing optional
//! attributes become `None`.

mod content;
mod identity;
mod jobs;
mod permissions;
mod subscriptions;
mod tasks;
mod webhooks;

pub use content::*;
pub use identity::*;
pub use jobs::*;
pub use permissions::*;
pub use subscriptions::*;
pub use tasks::*;
pub use webhooks::*;

use crate::xml::Element;

/// `<pagination pageNumber pageSize totalAvailable/>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pagination {
    /// 1-based page number.
    pub page_number: u64,
    /// Page size the server applied.
    pub page_size: u64,
    /// Total items across all pages.
    pub total_available: u64,
}

impl Pagination {
    /// Reads the `pagination` child of a response root.
    pub fn from_root(root: &Element) -> Option<Pagination> {
        let p = root.child("pagination")?;
        Some(Pagination {
            page_number: p.attr_num("pageNumber")?,
            page_size: p.attr_num("pageSize")?,
            total_available: p.attr_num("totalAvailable")?,
        })
    }
}

/// `GET /serverInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// e.g. `2025.3.0`.
    pub product_version: String,
    /// e.g. `20253.25.0911.0922`.
    pub build: Option<String>,
    /// e.g. `3.27`.
    pub rest_api_version: String,
}

impl ServerInfo {
    /// Parses the `serverInfo` element.
    pub fn from_element(e: &Element) -> Option<ServerInfo> {
        let pv = e.child("productVersion")?;
        Some(ServerInfo {
            product_version: pv.text.clone(),
            build: pv.attr_string("build"),
            rest_api_version: e.child("restApiVersion")?.text.clone(),
        })
    }
}

/// `<fileUpload uploadSessionId fileSize/>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileUpload {
    /// Session id, e.g. `7720:170fe6b1c1c7422dadff20f944d58a52-1:0`.
    pub upload_session_id: String,
    /// Cumulative size in MB as reported by the server.
    pub file_size_mb: u64,
}

impl FileUpload {
    /// Parses a `fileUpload` element.
    pub fn from_element(e: &Element) -> Option<FileUpload> {
        Some(FileUpload {
            upload_session_id: e.attr_string("uploadSessionId")?,
            file_size_mb: e.attr_num("fileSize").unwrap_or(0),
        })
    }
}

/// The `<error code><summary/><detail/></error>` document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiErrorDoc {
    /// e.g. `409006`.
    pub code: String,
    /// Summary text.
    pub summary: String,
    /// Detail text.
    pub detail: String,
}

impl ApiErrorDoc {
    /// Finds `error` as the root or a direct child of the root.
    pub fn from_root(root: &Element) -> Option<ApiErrorDoc> {
        let e = if root.name == "error" { root } else { root.child("error")? };
        Some(ApiErrorDoc {
            code: e.attr_string("code")?,
            summary: e.child("summary").map(|s| s.text.clone()).unwrap_or_default(),
            detail: e.child("detail").map(|s| s.text.clone()).unwrap_or_default(),
        })
    }
}

/// Parses a string attribute into a typed enum, keeping unknown values.
pub(crate) fn opt(e: &Element, name: &str) -> Option<String> {
    e.attr_string(name)
}

/// The site id and user id of a sign-in response (`<credentials token><site id/><user id/></credentials>`, TSC asset
/// `auth_sign_in.xml`); `None` when the token or the site id is missing.
pub fn sign_in_ids(root: &Element) -> Option<(String, Option<String>)> {
    crate::auth::parse_sign_in(root).map(|signed_in| (signed_in.site_id, signed_in.user_id))
}
