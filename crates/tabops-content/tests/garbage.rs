//! Malformed input gives an error, never a panic: garbage, wrong root elements, truncated and mutated fixtures.

use std::io::Cursor;
use std::path::PathBuf;

use proptest::prelude::*;
use tabops_content::{ContentError, FileType, review};

fn fixture(rel: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/content").join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

#[test]
fn garbage_is_an_error() {
    let base = fixture("diff/base.twb");
    let err = review(&base, b"\x00\x01garbage\xff<<>>", FileType::Twb).unwrap_err();
    assert!(err.to_string().starts_with("the new twb document"), "{err}");
    let err = review(b"", &base, FileType::Twb).unwrap_err();
    assert!(matches!(err, ContentError::NoRoot { .. }), "{err:?}");
    let err = review(b"not a zip", b"not a zip", FileType::Twbx).unwrap_err();
    assert_eq!(err.to_string(), "cannot open the old twbx package as a zip archive");
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn wrong_root_element_is_an_error() {
    let tds = fixture("orders.tds");
    let err = review(&tds, &tds, FileType::Twb).unwrap_err();
    assert_eq!(err.to_string(), "the old twb document is not a Tableau workbook: its root element is <datasource>");
}

#[test]
fn truncated_document_is_an_error() {
    let base = fixture("diff/base.twb");
    let cut = &base[..base.len() / 2];
    let cut = &cut[..cut.iter().rposition(|b| *b == b'>').unwrap() + 1];
    let err = review(&base, cut, FileType::Twb).unwrap_err();
    assert!(matches!(err, ContentError::Truncated { .. } | ContentError::Xml { .. }), "{err:?}");
}

#[test]
fn mismatched_end_tag_is_an_error() {
    let err = review(b"<workbook><worksheets></workbook>", b"<workbook/>", FileType::Twb).unwrap_err();
    assert!(matches!(err, ContentError::Xml { .. }), "{err:?}");
}

#[test]
fn every_truncation_of_a_package_is_handled() {
    let pkg = fixture("revenue.twbx");
    for len in (0..pkg.len()).step_by(97) {
        // Either an error or a review, never a panic.
        let _ = review(&pkg, &pkg[..len], FileType::Twbx);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mutated_workbook_never_panics(cut in 0usize..22_000, flips in prop::collection::vec((0usize..22_000, any::<u8>()), 0..8)) {
        let base = fixture("diff/base.twb");
        let mut bytes = base[..cut.min(base.len())].to_vec();
        for (at, byte) in flips {
            if let Some(b) = bytes.get_mut(at) {
                *b = byte;
            }
        }
        let _ = review(&base, &bytes, FileType::Twb);
        let _ = tabops_content::sheets(Cursor::new(&bytes), FileType::Twb);
    }

    #[test]
    fn mutated_package_never_panics(flips in prop::collection::vec((0usize..8_400, any::<u8>()), 1..6)) {
        let pkg = fixture("revenue.twbx");
        let mut bytes = pkg.clone();
        for (at, byte) in flips {
            if let Some(b) = bytes.get_mut(at) {
                *b = byte;
            }
        }
        let _ = review(&pkg, &bytes, FileType::Twbx);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = review(&bytes, &bytes, FileType::Twb);
        let _ = review(&bytes, &bytes, FileType::Tdsx);
    }
}

/// A package whose root `.twb` declares 1,000 bytes but holds 5,000 (stored, so the sizes are easy to patch): the
/// lie is caught one byte past the declaration, before the rest is read (issue 19).
#[test]
fn a_root_document_larger_than_it_declares_is_refused() {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("Book.twb", stored).unwrap();
    let body = format!("<workbook>{}</workbook>", " ".repeat(5000));
    zip.write_all(body.as_bytes()).unwrap();
    let mut bytes = zip.finish().unwrap().into_inner();
    bytes[22..26].copy_from_slice(&1000u32.to_le_bytes());
    let central = bytes.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    bytes[central + 24..central + 28].copy_from_slice(&1000u32.to_le_bytes());
    let err = tabops_content::sheets(Cursor::new(&bytes), FileType::Twbx).unwrap_err();
    let mut chain = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        chain.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    assert!(chain.contains("inflates to more than the 1000 bytes it declares"), "{chain}");
}

/// quick-xml's duplicate check is quadratic; an element with 200,000 attributes is refused in milliseconds, and a
/// duplicate attribute is still an error (issue 19).
#[test]
fn attribute_floods_and_duplicates_are_refused_quickly() {
    let mut twb = String::from("<workbook><datasources><datasource name='d'");
    for i in 0..200_000 {
        twb.push_str(&format!(" a{i}='x'"));
    }
    twb.push_str("/></datasources></workbook>");
    let started = std::time::Instant::now();
    let err = tabops_content::sheets(Cursor::new(twb.as_bytes()), FileType::Twb).unwrap_err();
    assert!(matches!(err, ContentError::TooManyAttributes { .. }), "{err:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "took {:?}", started.elapsed());
    let duplicate = b"<workbook><worksheets><worksheet name='A' name='B'/></worksheets></workbook>";
    let err = tabops_content::sheets(Cursor::new(duplicate), FileType::Twb).unwrap_err();
    assert!(matches!(err, ContentError::DuplicateAttribute { .. }), "{err:?}");
    assert!(err.to_string().contains("repeats attribute `name` on one <worksheet>"), "{err}");
}

/// A document nested deeper than any workbook (256 levels) is refused by the review and the sheet listing alike,
/// instead of holding one open element per level (export refused such workbooks before the listing was shared).
#[test]
fn a_document_nested_past_the_depth_limit_is_refused() {
    let deep = |levels: usize| format!("<workbook>{}{}</workbook>", "<a>".repeat(levels), "</a>".repeat(levels));
    let ok = deep(200);
    assert!(tabops_content::sheets(Cursor::new(ok.as_bytes()), FileType::Twb).unwrap().is_empty());
    let hostile = deep(100_000);
    let err = tabops_content::sheets(Cursor::new(hostile.as_bytes()), FileType::Twb).unwrap_err();
    assert!(matches!(err, ContentError::TooDeep { limit: 256, .. }), "{err:?}");
    let err = review(ok.as_bytes(), hostile.as_bytes(), FileType::Twb).unwrap_err();
    assert_eq!(err.to_string(), "the new twb document nests elements more than 256 deep");
}
