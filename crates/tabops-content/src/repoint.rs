//! Repointing a workbook at other published data sources: a workbook names a published data source by its content
//! URL, in the `dbname` of a `sqlproxy` connection and the `id` of the data source's `repository-location`.
//! [`repoint`] writes a copy of a `.twb` (or a `.twbx` package, whose `.twb` entries are rewritten and every other
//! entry copied as it is) with those content URLs replaced; everything else is written byte for byte as read, so
//! the same file and mapping always give the same bytes.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, Writer};

use crate::FileType;
use crate::package::{self, PackageError};

fn io_err(path: &Path) -> impl Fn(io::Error) -> RepointError + '_ {
    move |source| RepointError::Io { path: path.to_owned(), source }
}

/// Why a workbook could not be repointed.
#[derive(Debug, thiserror::Error)]
pub enum RepointError {
    #[error("repoint `{path}`: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("repoint `{path}`: {source}")]
    Package { path: PathBuf, source: PackageError },
    #[error("repoint `{path}`: not well-formed XML: {message}")]
    Xml { path: PathBuf, message: String },
    #[error("repoint `{path}`: only a .twb or .twbx workbook names published data sources")]
    NotAWorkbook { path: PathBuf },
}

impl RepointError {
    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            RepointError::Io { .. } => {
                Some("check that the file is readable and the temporary directory writable".into())
            }
            RepointError::Package { .. } | RepointError::Xml { .. } => {
                Some("open and save the workbook in Tableau Desktop, then run again".into())
            }
            RepointError::NotAWorkbook { .. } => None,
        }
    }
}

/// Writes `src` (a `.twb` or `.twbx`) to `dest` with every published data source of `map` (content URL → content
/// URL) repointed. Returns how many references were rewritten (zero: `dest` holds the same document).
pub fn repoint(src: &Path, dest: &Path, map: &BTreeMap<String, String>) -> Result<usize, RepointError> {
    let ext = src.extension().and_then(|e| e.to_str()).unwrap_or_default();
    match FileType::from_extension(ext) {
        Some(FileType::Twb) => {
            let doc = std::fs::read(src).map_err(io_err(src))?;
            let (out, count) =
                rewrite(&doc, map).map_err(|message| RepointError::Xml { path: src.to_owned(), message })?;
            std::fs::write(dest, out).map_err(io_err(dest))?;
            Ok(count)
        }
        Some(FileType::Twbx) => repoint_package(src, dest, map),
        _ => Err(RepointError::NotAWorkbook { path: src.to_owned() }),
    }
}

fn repoint_package(src: &Path, dest: &Path, map: &BTreeMap<String, String>) -> Result<usize, RepointError> {
    let package_err = |source: PackageError| RepointError::Package { path: src.to_owned(), source };
    let file = File::open(src).map_err(io_err(src))?;
    let mut archive = zip::ZipArchive::new(BufReader::new(file)).map_err(|e| package_err(e.into()))?;
    // Untrusted input: the bounds every package reader goes through, before anything is inflated.
    package::survey(&mut archive).map_err(package_err)?;
    let out = File::create(dest).map_err(io_err(dest))?;
    let mut writer = zip::ZipWriter::new(BufWriter::new(out));
    let mut count = 0;
    for index in 0..archive.len() {
        let name = archive.by_index_raw(index).map_err(|e| package_err(e.into()))?.name().to_owned();
        if !name.to_lowercase().ends_with(".twb") {
            let entry = archive.by_index_raw(index).map_err(|e| package_err(e.into()))?;
            writer.raw_copy_file(entry).map_err(|e| package_err(e.into()))?;
            continue;
        }
        let entry = archive.by_index(index).map_err(|e| package_err(e.into()))?;
        let declared = entry.size();
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(entry.compression())
            .last_modified_time(entry.last_modified().unwrap_or_default());
        let mut doc = Vec::new();
        package::bounded(entry, &name, declared).read_to_end(&mut doc).map_err(io_err(src))?;
        let (rewritten, n) =
            rewrite(&doc, map).map_err(|message| RepointError::Xml { path: src.to_owned(), message })?;
        count += n;
        writer.start_file(name, options).map_err(|e| package_err(e.into()))?;
        writer.write_all(&rewritten).map_err(io_err(dest))?;
    }
    writer.finish().map_err(|e| package_err(e.into()))?.flush().map_err(io_err(dest))?;
    Ok(count)
}

/// The document with the mapped content URLs replaced, and how many attributes changed.
fn rewrite(doc: &[u8], map: &BTreeMap<String, String>) -> Result<(Vec<u8>, usize), String> {
    let mut reader = Reader::from_reader(doc);
    let mut writer = Writer::new(Vec::with_capacity(doc.len()));
    let mut count = 0;
    loop {
        let event = reader.read_event().map_err(|e| e.to_string())?;
        let event = match event {
            Event::Eof => break,
            Event::Start(e) => Event::Start(repointed(e, map, &mut count)),
            Event::Empty(e) => Event::Empty(repointed(e, map, &mut count)),
            other => other,
        };
        writer.write_event(event).map_err(|e| e.to_string())?;
    }
    Ok((writer.into_inner(), count))
}

/// `e` unchanged, or rebuilt with the mapped attribute replaced: a `sqlproxy` `connection`'s `dbname`, a
/// `repository-location`'s `id`.
fn repointed<'a>(e: BytesStart<'a>, map: &BTreeMap<String, String>, count: &mut usize) -> BytesStart<'a> {
    let key: &[u8] = match e.local_name().as_ref() {
        b"connection" if attr(&e, b"class").as_deref() == Some("sqlproxy") => b"dbname",
        b"repository-location" => b"id",
        _ => return e,
    };
    let Some(to) = attr(&e, key).and_then(|from| map.get(&from)) else { return e };
    *count += 1;
    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
    let mut out = BytesStart::new(name);
    for a in e.attributes().with_checks(false).flatten() {
        if a.key.as_ref() == key {
            out.push_attribute((key, quick_xml::escape::escape(to.as_str()).as_bytes()));
        } else {
            out.push_attribute(a);
        }
    }
    out
}

fn attr(e: &BytesStart<'_>, key: &[u8]) -> Option<String> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.as_ref() == key)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::tests::package;

    /// A workbook reading the published data source `Orders` (a `sqlproxy` connection and its repository location,
    /// as Tableau Desktop writes them) and a database directly.
    const TWB: &str = "<?xml version='1.0' encoding='utf-8' ?>\n<!-- build 20242 -->\n<workbook version='18.1'>\n\
<datasources><datasource name='sqlproxy.1'>\n\
  <repository-location id='Orders' path='/t/acme/datasources' site='acme' />\n\
  <connection channel='https' class='sqlproxy' dbname='Orders' port='443' server='10ax.online.tableau.com' />\n\
</datasource><datasource name='pg'>\n\
  <connection class='postgres' dbname='Orders' server='db.acme.com' />\n\
</datasource></datasources><worksheets><worksheet name='A &amp; B'/></worksheets></workbook>\n";

    /// The content URLs of the published data sources a workbook document uses (`sqlproxy` connections' `dbname`).
    fn published_sources(doc: &[u8]) -> Result<Vec<String>, String> {
        let mut reader = Reader::from_reader(doc);
        let mut out = Vec::new();
        loop {
            match reader.read_event().map_err(|e| e.to_string())? {
                Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"connection" => {
                    if attr(&e, b"class").as_deref() == Some("sqlproxy")
                        && let Some(db) = attr(&e, b"dbname")
                        && !out.contains(&db)
                    {
                        out.push(db);
                    }
                }
                Event::Eof => return Ok(out),
                _ => {}
            }
        }
    }

    fn map() -> BTreeMap<String, String> {
        BTreeMap::from([("Orders".to_owned(), "Orders_1".to_owned())])
    }

    #[test]
    fn a_twb_names_the_mapped_data_source_and_is_otherwise_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let (src, dest) = (dir.path().join("a.twb"), dir.path().join("b.twb"));
        std::fs::write(&src, TWB).unwrap();
        assert_eq!(repoint(&src, &dest, &map()).unwrap(), 2);
        let out = std::fs::read_to_string(&dest).unwrap();
        assert_eq!(published_sources(out.as_bytes()).unwrap(), ["Orders_1"]);
        assert!(out.contains(r#"id="Orders_1""#), "{out}");
        // A database connection of the same name is not a published data source.
        assert!(out.contains("<connection class='postgres' dbname='Orders' server='db.acme.com' />"), "{out}");
        // Every other line is written as read.
        let changed: Vec<(&str, &str)> = TWB.lines().zip(out.lines()).filter(|(a, b)| a != b).collect();
        assert_eq!(changed.len(), 2, "{changed:?}");
        // The same file and mapping give the same bytes; a mapping naming nothing it uses changes nothing.
        let again = dir.path().join("c.twb");
        repoint(&src, &again, &map()).unwrap();
        assert_eq!(std::fs::read(&again).unwrap(), out.as_bytes());
        let other = BTreeMap::from([("Customers".to_owned(), "Customers_1".to_owned())]);
        assert_eq!(repoint(&src, &again, &other).unwrap(), 0);
        assert_eq!(std::fs::read_to_string(&again).unwrap(), TWB);
    }

    #[test]
    fn a_twbx_has_its_workbook_rewritten_and_its_other_entries_copied() {
        let dir = tempfile::tempdir().unwrap();
        let (src, dest) = (dir.path().join("a.twbx"), dir.path().join("b.twbx"));
        let image = vec![9u8; 3000];
        std::fs::write(&src, package(&[("Book.twb", TWB.as_bytes()), ("Image/logo.png", &image)])).unwrap();
        assert_eq!(repoint(&src, &dest, &map()).unwrap(), 2);
        let mut archive = zip::ZipArchive::new(File::open(&dest).unwrap()).unwrap();
        let mut doc = Vec::new();
        archive.by_name("Book.twb").unwrap().read_to_end(&mut doc).unwrap();
        assert_eq!(published_sources(&doc).unwrap(), ["Orders_1"]);
        let mut copied = Vec::new();
        archive.by_name("Image/logo.png").unwrap().read_to_end(&mut copied).unwrap();
        assert_eq!(copied, image);
        // The canonical digest of the copy is the same on every run.
        let again = dir.path().join("c.twbx");
        repoint(&src, &again, &map()).unwrap();
        assert_eq!(crate::hash::package_digest(&dest).unwrap(), crate::hash::package_digest(&again).unwrap());
    }

    #[test]
    fn a_package_out_of_bounds_is_refused_before_anything_is_inflated() {
        let dir = tempfile::tempdir().unwrap();
        let (src, dest) = (dir.path().join("a.twbx"), dir.path().join("b.twbx"));
        let names: Vec<String> = (0..=package::MAX_PACKAGE_ENTRIES).map(|i| format!("e{i}")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        std::fs::write(&src, package(&entries)).unwrap();
        let err = repoint(&src, &dest, &map()).unwrap_err();
        assert!(matches!(err, RepointError::Package { source: PackageError::TooManyEntries { .. }, .. }), "{err}");
        assert!(err.hint().is_some());
    }

    #[test]
    fn broken_xml_and_other_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("a.twb");
        std::fs::write(&src, "<workbook><datasources></workbook>").unwrap();
        let err = repoint(&src, &dir.path().join("b.twb"), &map()).unwrap_err();
        assert!(matches!(err, RepointError::Xml { .. }), "{err}");
        let tds = dir.path().join("a.tds");
        std::fs::write(&tds, "<datasource/>").unwrap();
        assert!(matches!(repoint(&tds, &dir.path().join("b.tds"), &map()), Err(RepointError::NotAWorkbook { .. })));
    }
}
