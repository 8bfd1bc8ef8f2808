//! Packages (`.twbx`, `.tdsx`) and `.hyper` files: the root document is compared semantically, other entries by
//! digest; zip timestamps and entry order are noise. Also the data-source (`.tds`) flavour of the review and
//! `sheets`.

use std::io::Cursor;
use std::io::Write;
use std::path::PathBuf;

use tabops_content::{ChangeKind, FileType, review, sheets};
use zip::write::SimpleFileOptions;

fn fixture(rel: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/content").join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Build a zip from (name, bytes) entries in the given order with the given timestamp.
fn zip_of(entries: &[(&str, &[u8])], year: u16) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let time = zip::DateTime::from_date_and_time(year, 3, 14, 15, 9, 26).unwrap();
    let opts =
        SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated).last_modified_time(time);
    for (name, bytes) in entries {
        w.start_file(*name, opts).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn hyper() -> Vec<u8> {
    fixture("src/revenue.twbx.d/Data/Extracts/orders.hyper")
}

#[test]
fn rezipped_unchanged_package_is_empty() {
    let committed = fixture("revenue.twbx");
    let twb = fixture("src/revenue.twbx.d/revenue.twb");
    // Other entry order, other timestamps, other compressor.
    let rezipped = zip_of(&[("revenue.twb", &twb), ("Data/Extracts/orders.hyper", &hyper())], 2026);
    assert_ne!(committed, rezipped);
    let r = review(&committed, &rezipped, FileType::Twbx).unwrap();
    assert!(r.is_empty(), "{r:#?}");
}

#[test]
fn package_with_changed_inner_workbook() {
    let committed = fixture("revenue.twbx");
    let twb = String::from_utf8(fixture("src/revenue.twbx.d/revenue.twb")).unwrap();
    let changed = twb.replace("formula='SUM([Profit])/SUM([Sales])'", "formula='ZN(SUM([Profit]))/SUM([Sales])'");
    assert_ne!(twb, changed);
    let new = zip_of(&[("Data/Extracts/orders.hyper", &hyper()), ("revenue.twb", changed.as_bytes())], 1980);
    let r = review(&committed, &new, FileType::Twbx).unwrap();
    assert_eq!(r.calculated_fields.len(), 1, "{r:#?}");
    assert_eq!(r.calculated_fields[0].name, "Profit Ratio");
    assert_eq!(r.calculated_fields[0].change, ChangeKind::Changed);
    assert!(r.package_entries.is_empty());
    assert!(r.worksheets.is_empty() && r.connections.is_empty());
}

#[test]
fn package_extract_change_is_reported_by_digest() {
    let committed = fixture("revenue.twbx");
    let twb = fixture("src/revenue.twbx.d/revenue.twb");
    let mut data = hyper();
    data.extend_from_slice(b"more rows");
    let new = zip_of(&[("revenue.twb", &twb), ("Data/Extracts/orders.hyper", &data), ("Image/logo.png", b"png")], 1980);
    let r = review(&committed, &new, FileType::Twbx).unwrap();
    let paths: Vec<(&str, ChangeKind)> = r.package_entries.iter().map(|e| (e.path.as_str(), e.change)).collect();
    assert_eq!(paths, vec![("Data/Extracts/orders.hyper", ChangeKind::Changed), ("Image/logo.png", ChangeKind::Added)]);
    assert_eq!(r.package_entries[0].size_before, Some(4096));
    assert_eq!(r.package_entries[0].size_after, Some(4105));
    assert!(
        r.render_markdown().contains("- Package entry changed: `Data/Extracts/orders.hyper` (4096 -> 4105 bytes)\n")
    );
}

#[test]
fn tdsx_connection_change_has_no_datasource_label() {
    let committed = fixture("orders.tdsx");
    let tds = String::from_utf8(fixture("src/orders.tdsx.d/orders.tds")).unwrap();
    let changed = tds.replace("server='pg-dev.acme.internal'", "server='pg-prod.acme.internal'");
    assert_ne!(tds, changed);
    let new = zip_of(&[("orders.tds", changed.as_bytes()), ("Data/Extracts/orders.hyper", &hyper())], 1980);
    let r = review(&committed, &new, FileType::Tdsx).unwrap();
    assert_eq!(r.connections.len(), 1, "{r:#?}");
    assert_eq!(r.render_text(), "Connection changed: postgres: server pg-dev.acme.internal -> pg-prod.acme.internal\n");
}

#[test]
fn tds_calculated_field_change() {
    let tds = String::from_utf8(fixture("orders.tds")).unwrap();
    let changed = tds.replace("SUM([Profit])/SUM([Sales])", "SUM([Profit])/NULLIF(SUM([Sales]), 0)");
    assert_ne!(tds, changed);
    let r = review(tds.as_bytes(), changed.as_bytes(), FileType::Tds).unwrap();
    assert_eq!(r.calculated_fields.len(), 1, "{r:#?}");
    assert_eq!(r.render_text().lines().next(), Some("Calculated field changed: Profit Ratio"));
    assert!(review(tds.as_bytes(), tds.as_bytes(), FileType::Tds).unwrap().is_empty());
}

#[test]
fn hyper_reports_size_and_digest_only() {
    let old = hyper();
    let mut new = old.clone();
    new[100] ^= 0xff;
    let r = review(&old, &new, FileType::Hyper).unwrap();
    let b = r.binary.as_ref().expect("binary change");
    assert_eq!((b.size_before, b.size_after), (4096, 4096));
    assert_ne!(b.sha256_before, b.sha256_after);
    assert_eq!(b.sha256_before.len(), 64);
    assert!(review(&old, &old, FileType::Hyper).unwrap().is_empty());
}

#[test]
fn package_without_root_document_is_an_error() {
    let no_root = zip_of(&[("Data/revenue.twb", b"<workbook/>")], 1980);
    let err = review(&no_root, &no_root, FileType::Twbx).unwrap_err();
    assert_eq!(err.to_string(), "the old twbx package has no .twb file at its root");
    let two = zip_of(&[("a.twb", b"<workbook/>"), ("b.twb", b"<workbook/>")], 1980);
    let err = review(&fixture("revenue.twbx"), &two, FileType::Twbx).unwrap_err();
    assert_eq!(err.to_string(), "the new twbx package has several .twb files at its root: a.twb, b.twb");
}

#[test]
fn sheets_lists_worksheets_then_dashboards() {
    let names = sheets(Cursor::new(&fixture("revenue.twbx")), FileType::Twbx).unwrap();
    assert_eq!(names, vec!["Revenue by Region", "Monthly Trend", "Top Customers", "Revenue Overview"]);
    let names = sheets(Cursor::new(&fixture("diff/dashboard_added.twb")), FileType::Twb).unwrap();
    assert_eq!(names.last().map(String::as_str), Some("Customer Focus"));
    assert!(sheets(Cursor::new(&fixture("orders.tds")), FileType::Tds).unwrap().is_empty());
    assert!(sheets(Cursor::new(&hyper()), FileType::Hyper).unwrap().is_empty());
    assert!(sheets(Cursor::new(b"not xml at all"), FileType::Twb).is_err());
}

#[test]
fn every_content_file_in_the_repository_parses() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut seen = 0;
    for dir in ["examples/enterprise/content", "examples/quickstart/content", "fixtures/content"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let Some(ft) = path.extension().and_then(|e| e.to_str()).and_then(FileType::from_extension) else {
                continue;
            };
            let bytes = std::fs::read(&path).unwrap();
            let r = review(&bytes, &bytes, ft).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(r.is_empty(), "{}: {r:#?}", path.display());
            let names = sheets(Cursor::new(&bytes), ft).unwrap();
            let is_workbook = matches!(ft, FileType::Twb | FileType::Twbx);
            assert_eq!(!names.is_empty(), is_workbook, "{}: {names:?}", path.display());
            seen += 1;
        }
    }
    assert!(seen >= 15, "only {seen} content files found");
}

/// Export lists the sheets of a downloaded workbook straight from the file on disk (streamed, not read whole);
/// names are unescaped, and a file that is not a workbook is an error, not an empty list.
#[test]
fn sheets_of_a_workbook_file_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.twb");
    std::fs::write(
        &path,
        "<?xml version='1.0'?><workbook><worksheets><worksheet name='A &amp; B'/><worksheet name='C'/></worksheets>\
         <dashboards><dashboard name='D'/></dashboards></workbook>",
    )
    .unwrap();
    let open = || std::fs::File::open(&path).unwrap();
    assert_eq!(sheets(open(), FileType::Twb).unwrap(), vec!["A & B", "C", "D"]);
    std::fs::write(&path, "not xml <<<").unwrap();
    assert!(sheets(open(), FileType::Twb).is_err());
    let packaged = dir.path().join("w.twbx");
    std::fs::write(&packaged, fixture("revenue.twbx")).unwrap();
    let names = sheets(std::fs::File::open(&packaged).unwrap(), FileType::Twbx).unwrap();
    assert_eq!(names, vec!["Revenue by Region", "Monthly Trend", "Top Customers", "Revenue Overview"]);
}
