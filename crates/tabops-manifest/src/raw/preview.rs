//! The raw `settings.preview` block: where `tabops preview` publishes a pull request's content, and who may see it.

use schemars::JsonSchema;

use super::Located;

/// Preview deployments (`tabops preview`).
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RawPreviewSettings {
    /// The preview project's path; `{id}` is replaced by `--id` (default `Previews/{id}`). Must contain `{id}`.
    pub project: Option<Located<String>>,
    /// The group that may view previews (the Viewer template on the preview project and every item in it). Must
    /// exist on the site. Without it, only site administrators and the publisher see previews.
    pub reviewers: Option<Located<String>>,
}

impl RawPreviewSettings {
    pub const KEYS: &'static [&'static str] = &["project", "reviewers"];
}
