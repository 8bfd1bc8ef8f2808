//! Renderers: human text (Terraform-like), Markdown for a pull-request comment, and versioned JSON.
//!
//! All three are built from the [`Plan`] value alone, so a saved plan renders exactly like a fresh one.

mod markdown;
mod text;

pub use markdown::{MARKDOWN_PART_LIMIT, markdown, markdown_with_limit, markdown_with_reviews};
pub use text::text;

use serde_json::Value;

use crate::plan::{FieldChange, Plan};

/// The plan as pretty JSON (stable key order, `format_version` first), ending with a newline.
pub fn json(plan: &Plan) -> String {
    let mut out = serde_json::to_string_pretty(plan).unwrap_or_else(|_| "{}".to_string());
    out.push('\n');
    out
}

/// A JSON value shown compactly (`"text"`, `true`, `["a","b"]`).
pub(crate) fn show(value: &Option<Value>) -> String {
    match value {
        None | Some(Value::Null) => "(none)".to_string(),
        Some(v) => serde_json::to_string(v).unwrap_or_default(),
    }
}

/// One change line without glyph colouring: `+ field = value`, `- field = value`, `~ field: before -> after`.
pub(crate) fn change_line(change: &FieldChange) -> (char, String) {
    let absent = |v: &Option<Value>| matches!(v, None | Some(Value::Null));
    match (absent(&change.before), absent(&change.after)) {
        (true, false) => ('+', format!("{} = {}", change.field, show(&change.after))),
        (false, true) => ('-', format!("{} = {}", change.field, show(&change.before))),
        _ => ('~', format!("{}: {} -> {}", change.field, show(&change.before), show(&change.after))),
    }
}
