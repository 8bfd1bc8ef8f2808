//! `settings.preview`: where `tabops preview` publishes, and who may see it.

use super::Cx;
use crate::raw::Located;

/// `settings.preview`: the project template must contain `{id}`, so every preview gets its own project.
pub(super) fn settings(
    cx: &mut Cx<'_>,
    raw: &Located<crate::raw::RawPreviewSettings>,
) -> crate::model::PreviewSettings {
    let mut settings = crate::model::PreviewSettings::default();
    if let Some(project) = &raw.value.project {
        let Some(text) = cx.expand(project) else { return settings };
        if !text.contains("{id}") {
            cx.problems.push(project.problem(
                format!("`settings.preview.project` is `{text}`, without `{{id}}`"),
                Some("write `{id}` where the preview id goes, e.g. `Previews/{id}`, so each preview has its own project".into()),
            ));
        }
        settings.project = text;
    }
    settings.reviewers = cx.expand_opt(&raw.value.reviewers);
    settings
}
