//! The Metadata API: one GraphQL request, `POST /api/metadata/graphql` with the JSON body `{"query", "variables"}`
//! and the session's `X-Tableau-Auth` header (Tableau's Metadata API docs, "How to Authenticate"; TSC's
//! `server.metadata.query`). The endpoint sits beside the versioned REST API, not under it. The client sends the
//! query and returns the response document as it came (`data` and/or `errors`): what to ask and how to read the
//! answer is the caller's business. A read, so it is retried like a GET.

use reqwest::Method;

use super::Client;
use super::transport::{Call, CallBody};
use crate::error::{Error, Result};

impl Client {
    /// Sends one GraphQL query to the Metadata API and returns the response document (`{"data": …}` or
    /// `{"errors": […]}`, both with HTTP 200). HTTP errors (404 where the Metadata API is not enabled, 403) are
    /// errors as for any call.
    pub async fn metadata_query(&self, query: &str, variables: serde_json::Value) -> Result<serde_json::Value> {
        let body = serde_json::json!({ "query": query, "variables": variables }).to_string();
        let mut call = Call::new(
            Method::POST,
            "../metadata/graphql".to_owned(),
            "/api/metadata/graphql",
            "query the Metadata API",
        )
        .idempotent(true);
        call.body = CallBody::Json(body);
        let bytes = self.call_bytes(&call).await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::Json { operation: call.operation.clone(), message: e.to_string() })
    }
}
