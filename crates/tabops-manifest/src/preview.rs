//! The resolved `settings.preview` block (see `raw::RawPreviewSettings`).

use serde::{Deserialize, Serialize};

/// The preview project path when the manifest does not name one.
pub const DEFAULT_PREVIEW_PROJECT: &str = "Previews/{id}";

/// Where `tabops preview` publishes, and who may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewSettings {
    /// The preview project path with `{id}` where the preview id goes, e.g. `Previews/{id}`.
    pub project: String,
    /// The group granted the Viewer template on previews; `None`: no explicit grants at all.
    pub reviewers: Option<String>,
}

impl Default for PreviewSettings {
    fn default() -> Self {
        PreviewSettings { project: DEFAULT_PREVIEW_PROJECT.to_owned(), reviewers: None }
    }
}

impl PreviewSettings {
    /// The preview project's path, `/`-separated as a manifest writes it, for preview `id`.
    pub fn project_for(&self, id: &str) -> String {
        self.project.replace("{id}", id)
    }
}
