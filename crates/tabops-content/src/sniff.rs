//! Recognising a downloaded content file's type from its first bytes.
//!
//! The REST client streams a download straight to disk and returns only its size, so the file type is recognised
//! from the bytes (zip packages are `.twbx`/`.tdsx`, XML documents `.twb`/`.tds`, anything else a `.hyper`
//! extract); that is what the download's `Content-Disposition` file name would say for every file Tableau serves.

use std::io::Read;
use std::path::Path;

use crate::file_type::{ContentKind, FileType};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
