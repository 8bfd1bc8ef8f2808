//! Content files: where each exported item's file goes, downloading it, recognising its type and listing its
//! sheets.
//!
//! The REST client streams a download straight to disk and returns only its size, so the file type is recognised
//! from the bytes (zip packages are `.twbx`/`.tdsx`, XML documents `.twb`/`.tds`, anything else a `.hyper`
//! extract); that is what the download's `Content-Disposition` file name would say for every file Tableau serves.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use tabops_manifest::model::{ContentKind, FileType};

/// Largest workbook document read to list sheets.
const MAX_DOC: u64 = 256 * 1024 * 1024;

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

/// The file type of a downloaded file of `kind`, from its first bytes.
pub fn sniff(path: &Path, kind: ContentKind) -> std::io::Result<FileType> {
    let mut head = [0u8; 64];
    let mut file = std::fs::File::open(path)?;
    let mut filled = 0;
    while filled < head.len() {
        let n = file.read(&mut head[filled..])?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    let head = &head[..filled];
    let is_zip = head.starts_with(b"PK\x03\x04");
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let is_xml = text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<');
    Ok(match (kind, is_zip, is_xml) {
        (ContentKind::Workbook, true, _) => FileType::Twbx,
        (ContentKind::Workbook, false, _) => FileType::Twb,
        (ContentKind::Datasource, true, _) => FileType::Tdsx,
        (ContentKind::Datasource, false, true) => FileType::Tds,
        (ContentKind::Datasource, false, false) => FileType::Hyper,
    })
}

/// The worksheets, dashboards and stories of a `.twb` (or the `.twb` inside a `.twbx`); `None` when the file
/// cannot be read as a workbook.
///
/// The file came from the server, so it is read as a stream of XML events (memory bounded by the nesting, not by
/// the file: a 200 MB workbook document used to be held whole and then as a tree several times its size), with
/// at most [`MAX_DOC`] bytes and [`MAX_DOC_DEPTH`] levels read.
pub fn sheets(path: &Path, file_type: FileType) -> Option<Vec<String>> {
    match file_type {
        FileType::Twb => {
            let file = std::fs::File::open(path).ok()?;
            sheet_names(std::io::BufReader::new(file.take(MAX_DOC)))
        }
        FileType::Twbx => {
            let file = std::fs::File::open(path).ok()?;
            let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file)).ok()?;
            tabops_manifest::package::survey(&mut archive).ok()?;
            let index = (0..archive.len()).find(|i| {
                archive.by_index_raw(*i).is_ok_and(|e| {
                    let name = e.name().to_lowercase();
                    name.ends_with(".twb") && !name.contains('/') && e.size() <= MAX_DOC
                })
            })?;
            let entry = archive.by_index(index).ok()?;
            sheet_names(std::io::BufReader::new(entry.take(MAX_DOC)))
        }
        _ => None,
    }
}

/// Deepest nesting read in a workbook document (real ones nest about 20 deep).
const MAX_DOC_DEPTH: usize = 256;

/// `workbook/worksheets/worksheet/@name`, then `workbook/dashboards/dashboard/@name` (elements without a prefix).
fn sheet_names(reader: impl std::io::BufRead) -> Option<Vec<String>> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(reader);
    let mut buf = Vec::new();
    let (mut worksheets, mut dashboards) = (Vec::new(), Vec::new());
    let mut depth = 0usize;
    // The list element (`worksheets`/`dashboards`) open at depth 2, if any.
    let mut list: Option<&'static str> = None;
    let mut seen_root = false;
    loop {
        let event = reader.read_event_into(&mut buf).ok()?;
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e), false),
            Event::Empty(e) => (Some(e), true),
            Event::End(_) => {
                if depth == 2 {
                    list = None;
                }
                depth = depth.checked_sub(1)?;
                (None, false)
            }
            Event::Eof => break,
            _ => (None, false),
        };
        if let Some(e) = start {
            if depth == 0 && seen_root {
                return None; // a second root: not a well-formed document
            }
            seen_root = true;
            let name = e.name();
            match depth {
                1 if !empty => {
                    list = match name.as_ref() {
                        b"worksheets" => Some("worksheet"),
                        b"dashboards" => Some("dashboard"),
                        _ => None,
                    };
                }
                2 => {
                    if let Some(item) = list.filter(|item| name.as_ref() == item.as_bytes()) {
                        let value = e
                            .try_get_attribute("name")
                            .ok()?
                            .map(|a| a.decode_and_unescape_value(reader.decoder()).map(|v| v.into_owned()))
                            .transpose()
                            .ok()?;
                        if let Some(value) = value {
                            if item == "worksheet" { worksheets.push(value) } else { dashboards.push(value) }
                        }
                    }
                }
                _ => {}
            }
            if !empty {
                depth += 1;
                if depth > MAX_DOC_DEPTH {
                    return None;
                }
            }
        }
        buf.clear();
    }
    if depth != 0 || !seen_root {
        return None;
    }
    worksheets.extend(dashboards);
    Some(worksheets)
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

    #[test]
    fn file_types_are_recognised_from_the_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            path
        };
        let zip = write("a", b"PK\x03\x04rest");
        let xml = write("b", b"\xEF\xBB\xBF  <?xml version='1.0'?><datasource/>");
        let other = write("c", b"HyPe binary");
        assert_eq!(sniff(&zip, ContentKind::Workbook).unwrap(), FileType::Twbx);
        assert_eq!(sniff(&zip, ContentKind::Datasource).unwrap(), FileType::Tdsx);
        assert_eq!(sniff(&xml, ContentKind::Datasource).unwrap(), FileType::Tds);
        assert_eq!(sniff(&xml, ContentKind::Workbook).unwrap(), FileType::Twb);
        assert_eq!(sniff(&other, ContentKind::Datasource).unwrap(), FileType::Hyper);
    }

    #[test]
    fn sheets_of_a_workbook() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.twb");
        std::fs::write(
            &path,
            "<?xml version='1.0'?><workbook><worksheets><worksheet name='A &amp; B'/><worksheet name='C'/></worksheets>\
             <dashboards><dashboard name='D'/></dashboards></workbook>",
        )
        .unwrap();
        assert_eq!(sheets(&path, FileType::Twb), Some(vec!["A & B".to_owned(), "C".into(), "D".into()]));
        std::fs::write(&path, "not xml <<<").unwrap();
        assert_eq!(sheets(&path, FileType::Twb), None);
    }
}
