//! Renderers: human text (Terraform-like), Markdown for a pull-request comment, and versioned JSON.
//!
//! All three are built from the [`Plan`] value alone, so a saved plan renders exactly like a fresh one.

mod markdown;
mod text;

pub use markdown::{DEFAULT_MAX_BYTES, MIN_MAX_BYTES, MarkdownOptions, UnmanagedMode, markdown};
pub use text::text;

use serde_json::Value;

use crate::plan::{FieldChange, Plan};

/// The plan as pretty JSON (stable key order, `format_version` first), ending with a newline.
pub fn json(plan: &Plan) -> String {
    let mut out = serde_json::to_string_pretty(plan).unwrap_or_else(|_| "{}".to_string());
    out.push('\n');
    out
}

/// `text` with every character that could act on a terminal or a Markdown layout instead of being shown made
/// visible as a `\u{..}` escape: control characters (ESC starts terminal sequences; newlines would end a line or
/// a code fence early) and the bidirectional overrides that make text read other than it is. Names and messages
/// come from the site and the manifest, so a renderer never prints them raw.
pub fn visible(text: &str) -> std::borrow::Cow<'_, str> {
    let hostile = |c: char| c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    if !text.chars().any(hostile) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hostile(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The warning a plan limited with `--target` carries (Terraform's "Resource targeting is in effect"): its title
/// and its text, or `None` for a whole plan.
pub fn partial_warning(plan: &Plan) -> Option<(String, String)> {
    if plan.targets.is_empty() {
        return None;
    }
    let targets: Vec<String> = plan.targets.iter().map(|t| visible(t).into_owned()).collect();
    Some((
        format!("targeting is in effect (--target {})", targets.join(", --target ")),
        "This plan is limited to the targeted objects and what they depend on, so it may not be all the changes the \
         manifest asks for. --target is not for routine use: it is for exceptional situations, such as recovering \
         from errors or mistakes."
            .to_owned(),
    ))
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
