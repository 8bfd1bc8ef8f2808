//! Moves and renames the manifest does not declare. Changing only a content item's `project:` or `name:` in git,
//! without `renamed_from`, plans a new item (a publish) and leaves the live one unmanaged, or deletes it under a
//! pruning project: a copy, or a delete and a create that lose the item's id and with it its views' URLs,
//! favourites, subscriptions and history.
//!
//! When a created item's publish fingerprint equals the checksum marker of a live item of the same kind that no
//! manifest item claims, the two hold the same published content: the create's reason (and the delete's, if the
//! plan prunes the live one) names the other side and the `renamed_from:` line that would move the live item in
//! place instead (one Update Workbook / Update Data Source with the new project id and name, no upload). A live item
//! of the same name is preferred; with several candidates and none of that name, the plan suggests nothing. It is
//! a suggestion only: two items may hold the same file on purpose, so the plan itself is not changed.

use std::collections::{HashMap, HashSet};

use tabops_manifest::model::{Address, ContentKind, ContentSpec};

use crate::inventory::LiveContent;
use crate::marker::{marker_tag, publish_fingerprint, sha_markers};
use crate::plan::{Action, ObjectKind, PlannedAction};

use super::content::Contents;
use super::{Ctx, Draft};

/// Adds "looks like a move/rename" to the reasons of the creates (and deletes) that pair up by content.
pub(super) fn suggest_renames(cx: &Ctx<'_>, contents: &Contents<'_>, draft: &mut Draft) {
    // (kind, lower-case marker) -> the live items no manifest item claims, in inventory order.
    let mut unclaimed: HashMap<(ContentKind, String), Vec<&LiveContent>> = HashMap::new();
    for (kind, items) in [(ContentKind::Datasource, &cx.live.datasources), (ContentKind::Workbook, &cx.live.workbooks)]
    {
        for item in items.iter().filter(|c| !contents.claimed.contains(c.id.as_str())) {
            for marker in sha_markers(&item.tags) {
                unclaimed.entry((kind, marker.to_lowercase())).or_default().push(item);
            }
        }
    }
    if unclaimed.is_empty() {
        return;
    }
    let mut suggested: HashSet<&str> = HashSet::new();
    for state in contents.states.iter().filter(|s| s.live.is_none()) {
        let spec = state.spec;
        let marker = marker_tag(&publish_fingerprint(spec)).to_lowercase();
        let candidates: Vec<&LiveContent> = unclaimed
            .get(&(spec.kind, marker))
            .into_iter()
            .flatten()
            .copied()
            .filter(|c| !suggested.contains(c.id.as_str()))
            .collect();
        let Some(old) = pick(spec, &candidates) else { continue };
        suggested.insert(old.id.as_str());
        let old_address = cx.idx.content_address(spec.kind, old);
        let line = renamed_from_line(cx, spec, old);
        let kind = object_kind(spec.kind);
        if let Some(create) = find(draft.actions.get_mut(&kind), &state.address, Action::Create) {
            create.reason.push_str(&format!(
                "; looks like a move/rename of {old_address} (same content): add `{line}` to move it in place and \
                 keep its id"
            ));
        }
        if let Some(delete) = find(draft.deletes.get_mut(&kind), &old_address, Action::Delete) {
            delete.reason.push_str(&format!("; looks like a move/rename to {} (same content)", state.address));
        }
    }
}

/// The live item a created one most likely was: the one of the same name, else the only candidate.
fn pick<'a>(spec: &ContentSpec, candidates: &[&'a LiveContent]) -> Option<&'a LiveContent> {
    let mut same_name = candidates.iter().filter(|c| c.name.eq_ignore_ascii_case(&spec.name));
    match (same_name.next(), same_name.next(), candidates) {
        (Some(only), None, _) => Some(*only),
        (None, _, [only]) => Some(*only),
        _ => None,
    }
}

fn find<'d>(
    actions: Option<&'d mut Vec<PlannedAction>>,
    address: &Address,
    action: Action,
) -> Option<&'d mut PlannedAction> {
    let id = address.to_string();
    actions?.iter_mut().find(|a| a.action == action && a.id == id)
}

fn object_kind(kind: ContentKind) -> ObjectKind {
    match kind {
        ContentKind::Workbook => ObjectKind::Workbook,
        ContentKind::Datasource => ObjectKind::Datasource,
    }
}

/// The manifest line naming `old`: its name alone when it is in the project the manifest puts the item in, else
/// the map with its project path (the two forms `renamed_from` takes on content).
fn renamed_from_line(cx: &Ctx<'_>, spec: &ContentSpec, old: &LiveContent) -> String {
    let old_project = cx.idx.path_of(&old.project_id);
    if old_project == spec.project {
        format!("renamed_from: {}", yaml_scalar(&old.name))
    } else {
        format!(
            "renamed_from: {{ project: {}, name: {} }}",
            yaml_scalar(&old_project.to_string()),
            yaml_scalar(&old.name)
        )
    }
}

/// A YAML scalar for a name: plain when YAML reads it back as the same string (also inside a flow map), else
/// double-quoted (a JSON string is a valid YAML double-quoted scalar).
fn yaml_scalar(text: &str) -> String {
    let safe = |c: char| c.is_alphanumeric() || " ._-()/".contains(c);
    let lower = text.to_lowercase();
    let plain = !text.is_empty()
        && text.trim() == text
        && !text.starts_with('-')
        && text.chars().all(safe)
        && text.parse::<f64>().is_err()
        && !["true", "false", "yes", "no", "on", "off", "null", "~"].contains(&lower.as_str());
    if plain { text.to_owned() } else { serde_json::Value::String(text.to_owned()).to_string() }
}

#[cfg(test)]
mod tests {
    use super::yaml_scalar;

    #[test]
    fn names_are_plain_unless_yaml_would_read_them_differently() {
        assert_eq!(yaml_scalar("Revenue (EMEA)"), "Revenue (EMEA)");
        assert_eq!(yaml_scalar("Sales/EMEA"), "Sales/EMEA");
        assert_eq!(yaml_scalar("Q3: actuals"), "\"Q3: actuals\"");
        assert_eq!(yaml_scalar("a, b"), "\"a, b\"");
        assert_eq!(yaml_scalar("2024"), "\"2024\"");
        assert_eq!(yaml_scalar("No"), "\"No\"");
        assert_eq!(yaml_scalar("- list"), "\"- list\"");
        assert_eq!(yaml_scalar(r"A\/B"), r#""A\\/B""#);
    }
}
