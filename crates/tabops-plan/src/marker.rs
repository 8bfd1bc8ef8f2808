//! Checksum markers: how a published item remembers what was published.
//!
//! The executor tags every item it publishes with `tabops.sha256.<first 32 hex of the publish fingerprint>`. The
//! fingerprint covers the content file's digest and every publish-time setting that cannot be changed without
//! publishing again (file type, hidden views, connections without their passwords). Tags are returned by list
//! endpoints, so a fresh runner with no local state sees the marker and skips an unchanged item with zero upload.
//!
//! Every tag starting with `tabops.` is a marker (the executor may also write `tabops.commit.<12 hex>`): markers
//! are never part of a managed tag set and never removed as unmanaged tags.

use sha2::{Digest, Sha256};
use tabops_manifest::model::ContentSpec;

/// The prefix shared by every tag tabops writes for itself.
pub const MARKER_PREFIX: &str = "tabops.";
/// The prefix of the publish-fingerprint marker.
pub const SHA_MARKER_PREFIX: &str = "tabops.sha256.";
/// The prefix of the commit marker the executor may add.
pub const COMMIT_MARKER_PREFIX: &str = "tabops.commit.";
/// Hex characters of the fingerprint kept in the marker tag.
pub const MARKER_HEX_LEN: usize = 32;

/// sha256 (hex) over the content digest and the publish-time settings. Passwords are never part of it (a password
/// rotation is not a content change, and the fingerprint must not leak anything about a secret).
pub fn publish_fingerprint(spec: &ContentSpec) -> String {
    let mut hasher = Sha256::new();
    let mut field = |name: &str, value: &str| {
        hasher.update(name.as_bytes());
        hasher.update([0u8]);
        hasher.update((value.len() as u64).to_le_bytes());
        hasher.update(value.as_bytes());
    };
    field("fingerprint", "v1");
    field("sha256", &spec.file.sha256);
    field("file_type", spec.file.file_type.as_str());
    // BTreeSet: already sorted, but compare case-insensitively as Tableau does.
    let mut hidden: Vec<String> = spec.hidden_views.iter().map(|v| v.to_lowercase()).collect();
    hidden.sort();
    hidden.dedup();
    for view in &hidden {
        field("hidden_view", view);
    }
    for c in &spec.connections {
        field("connection", "");
        field("server", c.server.as_deref().unwrap_or(""));
        field("port", &c.port.map(|p| p.to_string()).unwrap_or_default());
        field("database", c.database.as_deref().unwrap_or(""));
        field("username", c.username.as_deref().unwrap_or(""));
        field("embed", if c.embed { "true" } else { "false" });
    }
    hex::encode(hasher.finalize())
}

/// The marker tag for a fingerprint (full or already shortened).
pub fn marker_tag(fingerprint: &str) -> String {
    let short: String = fingerprint.chars().take(MARKER_HEX_LEN).collect();
    format!("{SHA_MARKER_PREFIX}{short}")
}

/// Whether a tag is one of tabops' own markers.
pub fn is_marker(tag: &str) -> bool {
    has_prefix(tag, MARKER_PREFIX)
}

/// The fingerprint markers (`tabops.sha256.*`) among a live item's tags, sorted.
pub fn sha_markers(tags: &[String]) -> Vec<String> {
    let mut out: Vec<String> = tags
        .iter()
        .filter(|t| t.len() > SHA_MARKER_PREFIX.len() && has_prefix(t, SHA_MARKER_PREFIX))
        .cloned()
        .collect();
    out.sort();
    out
}

/// The hex part of a marker, shortened for display (`3fa9…`).
pub fn short_marker(tag: &str) -> String {
    let hex = tag.get(SHA_MARKER_PREFIX.len()..).unwrap_or(tag);
    let head: String = hex.chars().take(4).collect();
    format!("{head}…")
}

fn has_prefix(tag: &str, prefix: &str) -> bool {
    tag.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_recognised_case_insensitively_and_safely() {
        assert!(is_marker("tabops.sha256.abc"));
        assert!(is_marker("TabOps.commit.0123456789ab"));
        assert!(!is_marker("finance"));
        assert!(!is_marker("tabo"));
        assert!(!is_marker("tabopé.x")); // multi-byte character across the prefix boundary
        let tags =
            vec!["z".to_string(), "tabops.sha256.bb".into(), "tabops.commit.1".into(), "tabops.sha256.aa".into()];
        assert_eq!(sha_markers(&tags), vec!["tabops.sha256.aa".to_string(), "tabops.sha256.bb".into()]);
        assert_eq!(short_marker("tabops.sha256.3fa9abcdef"), "3fa9…");
        assert_eq!(
            marker_tag(&"0123456789abcdef".repeat(4)),
            format!("tabops.sha256.{}", "0123456789abcdef".repeat(2))
        );
    }
}
