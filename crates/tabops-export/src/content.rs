//! Content files: where each exported item's file goes and how the manifest refers to it. Recognising a
//! download's type and listing a workbook's sheets are `tabops-content`'s ([`tabops_content::sniff`],
//! [`tabops_content::sheets`]).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// A file-system-safe spelling of one name: separators, reserved and control characters become `_`, trailing dots
/// and spaces go, and the result is at most 100 bytes. Never empty, never `.` or `..`.
pub fn file_segment(name: &str) -> String {
    let mut out: String =
        name.chars()
            .map(|c| {
                if c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                    '_'
                } else {
                    c
                }
            })
            .collect();
    while out.ends_with(['.', ' ']) {
        out.pop();
    }
    let trimmed = out.trim_start();
    let mut out = match trimmed.strip_prefix('.') {
        Some(rest) => format!("_{rest}"),
        None => trimmed.to_owned(),
    };
    if out.len() > 100 {
        let mut end = 100;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
    }
    if out.is_empty() { "_".to_owned() } else { out }
}

/// A lowercase `a-z0-9-` slug for a manifest file name.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out.truncate(60);
    if out.is_empty() { "project".to_owned() } else { out }
}

/// Hands out names unique case-insensitively (`name`, `name-2`, ...), as case-insensitive file systems need.
#[derive(Default)]
pub struct UniqueNames {
    used: HashSet<String>,
}

impl UniqueNames {
    /// `stem` + `suffix` (e.g. `.twbx`), with `-N` before the suffix when already taken.
    pub fn claim(&mut self, scope: &str, stem: &str, suffix: &str) -> String {
        let mut n = 1;
        loop {
            let candidate = if n == 1 { format!("{stem}{suffix}") } else { format!("{stem}-{n}{suffix}") };
            if self.used.insert(format!("{scope}/{}", candidate.to_lowercase())) {
                return candidate;
            }
            n += 1;
        }
    }
}

/// `DIR/content/...` as written in a manifest under `DIR/projects/`: `../content/a/b.twbx`.
pub fn manifest_reference(relative: &Path) -> String {
    let parts: Vec<String> = relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    format!("../{}", parts.join("/"))
}

/// Where downloads land before their type is known.
pub fn staging_path(content_dir: &Path, index: usize) -> PathBuf {
    content_dir.join(format!(".download-{index}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_segments_are_safe_and_readable() {
        assert_eq!(file_segment("Revenue"), "Revenue");
        assert_eq!(file_segment("Pricing A/B Tests"), "Pricing A_B Tests");
        assert_eq!(file_segment(".."), "_");
        assert_eq!(file_segment("..hidden"), "_.hidden");
        assert_eq!(file_segment("a\\b:c*?"), "a_b_c__");
        assert_eq!(file_segment("trailing. "), "trailing");
        assert_eq!(file_segment(""), "_");
        let long = "é".repeat(80);
        assert!(file_segment(&long).len() <= 100);
    }

    #[test]
    fn slugs_and_unique_names() {
        assert_eq!(slug("Sales"), "sales");
        assert_eq!(slug("Pricing A/B Tests"), "pricing-a-b-tests");
        assert_eq!(slug("***"), "project");
        let mut names = UniqueNames::default();
        assert_eq!(names.claim("p", "sales", ".yaml"), "sales.yaml");
        assert_eq!(names.claim("p", "Sales", ".yaml"), "Sales-2.yaml");
        assert_eq!(names.claim("q", "sales", ".yaml"), "sales.yaml");
    }
}
