//! Tableau-style API errors: HTTP status + six-digit code + summary + detail, rendered as
//! `<error code><summary/><detail/></error>` (or `{"error":{…}}` for JSON clients).

use http::StatusCode;

/// An error response the emulator returns to a client.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub summary: String,
    pub detail: String,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: u32, summary: &str, detail: impl Into<String>) -> ApiError {
        let status = StatusCode::from_u16((code / 1000) as u16).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        ApiError { status, code: code.to_string(), summary: summary.to_owned(), detail: detail.into() }
    }
    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(400000, "Bad Request", detail)
    }
    pub fn malformed(detail: impl std::fmt::Display) -> ApiError {
        ApiError::new(400000, "Bad Request", format!("There was a problem parsing the XML request body: {detail}"))
    }
    pub fn not_found(code: u32, kind: &str, id: &str) -> ApiError {
        ApiError::new(code, "Resource Not Found", format!("{kind} '{id}' could not be found."))
    }
    pub fn conflict(code: u32, detail: impl Into<String>) -> ApiError {
        ApiError::new(code, "Resource Conflict", detail)
    }
    pub fn unknown_resource(path: &str) -> ApiError {
        ApiError::new(404003, "Resource Not Found", format!("Unknown resource '{path}' specified in URI."))
    }
    pub fn method_not_allowed(method: &str, path: &str) -> ApiError {
        ApiError::new(405000, "Method Not Allowed", format!("HTTP method '{method}' is not supported for '{path}'."))
    }
}
