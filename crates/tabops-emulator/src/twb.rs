//! Reads published content: the worksheets and dashboards of a .twb (or the .twb inside a .twbx zip) become the
//! workbook's views, and the `<connection class=…>` elements of a .twb/.tds give connection types. Files that
//! are not valid XML or zip are accepted as opaque content (no views, no connections).

use std::io::{Read, Seek};

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::blob::Blob;

/// A view found in a workbook file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetInfo {
    pub name: String,
    pub sheet_type: &'static str,
    /// Worksheets: the fields the sheet uses (`column-instance` `column`s, brackets removed), in document order.
    pub fields: Vec<String>,
}

/// A data connection found in a workbook or data source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionInfo {
    pub class: String,
    pub server: String,
    /// The database: two data sources of one workbook on the same server but different databases are two
    /// connections on the site (as Tableau lists a workbook's connections, one per data source).
    pub dbname: String,
    pub port: String,
    pub username: String,
    /// The caption (or name) of the `<datasource>` of the workbook the connection belongs to.
    pub datasource_caption: String,
}

#[derive(Debug, Default, Clone)]
pub struct Analysis {
    pub sheets: Vec<SheetInfo>,
    pub connections: Vec<ConnectionInfo>,
    pub has_extracts: bool,
    /// The caption (or name) of the `<datasources><datasource>` being read (parse state).
    current_datasource: String,
}

/// Largest embedded .twb/.tds we read.
const MAX_DOC: u64 = 256 * 1024 * 1024;
/// Package entries looked at (for the root document and extracts); real packages have far fewer.
const MAX_ENTRIES: usize = 10_000;
/// Attributes looked at on one element: Tableau's carry a few dozen. Those past this are ignored, so one element
/// with 200,000 attributes costs no more than one with 256.
const MAX_ATTRIBUTES: usize = 256;

/// Analyse a stored file (blocking: call from `spawn_blocking`).
pub fn analyze(blob: &Blob, ext: &str) -> Analysis {
    let result = match blob {
        Blob::Memory(bytes) => analyze_reader(std::io::Cursor::new(bytes.to_vec()), ext),
        Blob::File { path, .. } => match std::fs::File::open(path) {
            Ok(file) => analyze_reader(std::io::BufReader::new(file), ext),
            Err(_) => None,
        },
    };
    result.unwrap_or_default()
}

fn analyze_reader<R: Read + Seek>(mut reader: R, ext: &str) -> Option<Analysis> {
    let mut magic = [0u8; 4];
    let n = reader.read(&mut magic).ok()?;
    reader.rewind().ok()?;
    if n == 4 && magic == *b"PK\x03\x04" {
        let mut archive = zip::ZipArchive::new(reader).ok()?;
        let mut has_extracts = false;
        let mut doc_index = None;
        for i in 0..archive.len().min(MAX_ENTRIES) {
            let entry = archive.by_index_raw(i).ok()?;
            let name = entry.name().to_lowercase();
            if name.ends_with(".hyper") || name.ends_with(".tde") {
                has_extracts = true;
            }
            if doc_index.is_none() && (name.ends_with(".twb") || name.ends_with(".tds")) && entry.size() <= MAX_DOC {
                doc_index = Some(i);
            }
        }
        let mut doc = Vec::new();
        if let Some(i) = doc_index {
            // The declared size is only a claim: read at most one byte past it (and past MAX_DOC), and a document
            // that inflates further is opaque content (a 1,000-byte .twb that inflates to 1 GiB cost 1.09 GB).
            let entry = archive.by_index(i).ok()?;
            let declared = entry.size().min(MAX_DOC);
            entry.take(declared + 1).read_to_end(&mut doc).ok()?;
            if doc.len() as u64 > declared {
                doc.clear();
            }
        }
        let mut analysis = analyze_xml(&doc).unwrap_or_default();
        analysis.has_extracts |= has_extracts;
        return Some(analysis);
    }
    if matches!(ext, "hyper" | "tde") {
        return Some(Analysis { has_extracts: true, ..Analysis::default() });
    }
    let mut doc = Vec::new();
    reader.take(MAX_DOC).read_to_end(&mut doc).ok()?;
    analyze_xml(&doc)
}

/// Stream through a .twb/.tds document collecting views and connections.
pub fn analyze_xml(doc: &[u8]) -> Option<Analysis> {
    let mut reader = Reader::from_reader(doc);
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut analysis = Analysis::default();
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => {
                inspect(&reader, &e, &path, &mut analysis);
                path.push(e.local_name().as_ref().to_vec());
            }
            Event::Empty(e) => inspect(&reader, &e, &path, &mut analysis),
            Event::End(_) => {
                path.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let root = path.is_empty();
    root.then_some(analysis)
}

fn inspect(reader: &Reader<&[u8]>, e: &quick_xml::events::BytesStart<'_>, path: &[Vec<u8>], out: &mut Analysis) {
    // Without quick-xml's duplicate check, which compares each attribute with every earlier one (quadratic).
    let attr = |key: &[u8]| -> Option<String> {
        e.attributes()
            .with_checks(false)
            .take(MAX_ATTRIBUTES)
            .flatten()
            .find(|a| a.key.as_ref() == key)
            .and_then(|a| a.decode_and_unescape_value(reader.decoder()).ok().map(|v| v.into_owned()))
    };
    let parent = path.last().map(Vec::as_slice);
    match (e.local_name().as_ref(), parent) {
        (b"worksheet", Some(b"worksheets")) => {
            if let Some(name) = attr(b"name") {
                out.sheets.push(SheetInfo { name, sheet_type: "worksheet", fields: Vec::new() });
            }
        }
        (b"dashboard", Some(b"dashboards")) => {
            if let Some(name) = attr(b"name") {
                let story = attr(b"type").is_some_and(|t| t == "storyboard");
                let sheet_type = if story { "story" } else { "dashboard" };
                out.sheets.push(SheetInfo { name, sheet_type, fields: Vec::new() });
            }
        }
        (b"column-instance", Some(b"datasource-dependencies"))
            if path.iter().any(|p| p == b"worksheet") && path.iter().any(|p| p == b"worksheets") =>
        {
            let (Some(column), Some(sheet)) = (attr(b"column"), out.sheets.last_mut()) else { return };
            let field = column.trim_start_matches('[').trim_end_matches(']').to_owned();
            if !sheet.fields.contains(&field) {
                sheet.fields.push(field);
            }
        }
        (b"datasource", Some(b"datasources")) => {
            out.current_datasource = attr(b"caption").or_else(|| attr(b"name")).unwrap_or_default();
        }
        (b"extract", _) => out.has_extracts = true,
        (b"connection", _) => {
            let Some(class) = attr(b"class") else { return };
            if class == "federated" {
                return;
            }
            let info = ConnectionInfo {
                class,
                server: attr(b"server").unwrap_or_default(),
                dbname: attr(b"dbname").unwrap_or_default(),
                port: attr(b"port").unwrap_or_default(),
                username: attr(b"username").unwrap_or_default(),
                datasource_caption: out.current_datasource.clone(),
            };
            // One per distinct (class, server, database, port, user name): the caption does not make another.
            let key = |c: &ConnectionInfo| {
                (c.class.clone(), c.server.clone(), c.dbname.clone(), c.port.clone(), c.username.clone())
            };
            if !out.connections.iter().any(|c| key(c) == key(&info)) {
                out.connections.push(info);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWB: &str = r#"<?xml version='1.0' encoding='utf-8' ?>
<workbook version='18.1'><datasources><datasource name='Parameters'/><datasource name='ds1'>
<connection class='federated'><named-connections><named-connection name='pg'>
<connection class='postgres' server='db.example.com' port='5432' username='dbuser'/></named-connection></named-connections></connection>
</datasource></datasources>
<worksheets><worksheet name='Sales &amp; Profit'><table/></worksheet><worksheet name='Map'/></worksheets>
<dashboards><dashboard name='Overview'><zones><zone name='Map'/></zones></dashboard><dashboard name='Story 1' type='storyboard'/></dashboards>
<windows><window class='worksheet' name='Map'/></windows></workbook>"#;

    #[test]
    fn finds_worksheets_dashboards_and_connections() {
        let analysis = analyze_xml(TWB.as_bytes()).expect("valid twb");
        let names: Vec<_> = analysis.sheets.iter().map(|s| (s.name.as_str(), s.sheet_type)).collect();
        assert_eq!(
            names,
            [("Sales & Profit", "worksheet"), ("Map", "worksheet"), ("Overview", "dashboard"), ("Story 1", "story")]
        );
        assert_eq!(analysis.connections.len(), 1);
        assert_eq!(analysis.connections[0].class, "postgres");
        assert_eq!(analysis.connections[0].port, "5432");
    }

    #[test]
    fn twbx_zip_is_opened_and_garbage_is_opaque() {
        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut buf);
            let options = zip::write::SimpleFileOptions::default();
            zip.start_file("Book.twb", options).expect("zip entry");
            std::io::Write::write_all(&mut zip, TWB.as_bytes()).expect("zip write");
            zip.start_file("Data/Extracts/x.hyper", options).expect("zip entry");
            zip.finish().expect("zip finish");
        }
        let blob = Blob::Memory(bytes::Bytes::from(buf.into_inner()));
        let analysis = analyze(&blob, "twbx");
        assert_eq!(analysis.sheets.len(), 4);
        assert!(analysis.has_extracts);
        let garbage = analyze(&Blob::Memory(bytes::Bytes::from_static(b"\x00\x01not xml <<<")), "twb");
        assert!(garbage.sheets.is_empty());
    }

    #[test]
    fn a_worksheet_lists_the_fields_its_dependencies_name() {
        let doc = br#"<workbook><datasources><datasource name='d'><column name='[Sales]'/></datasource></datasources>
<worksheets><worksheet name='Map'><table><view><datasource-dependencies datasource='d'>
<column-instance column='[Region]' name='[none:Region:nk]'/><column-instance column='[Sales]' name='[sum:Sales:qk]'/>
<column-instance column='[Sales]' name='[avg:Sales:qk]'/></datasource-dependencies></view></table></worksheet>
<worksheet name='Empty'/></worksheets></workbook>"#;
        let analysis = analyze_xml(doc).unwrap();
        let fields: Vec<(&str, Vec<&str>)> =
            analysis.sheets.iter().map(|s| (s.name.as_str(), s.fields.iter().map(String::as_str).collect())).collect();
        assert_eq!(fields, [("Map", vec!["Region", "Sales"]), ("Empty", vec![])]);
    }
}
