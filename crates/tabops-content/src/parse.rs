//! Streaming parse of a Tableau XML document into the semantic [`Document`] model.
//!
//! quick-xml reads events; a stack of element names tells where each element sits, so only the elements that
//! matter are looked at (top-level data sources and their direct `<column>`s, connections, worksheets,
//! dashboards and their zones). Namespace prefixes are ignored (local names only). Malformed input is an error,
//! never a panic.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;

use crate::file_type::FileType;
use quick_xml::Reader;
use quick_xml::encoding::Decoder;
use quick_xml::events::{BytesStart, Event};

use crate::error::{ContentError, Side};
use crate::model::{
    CONNECTION_FIELDS, Calculation, Connection, Dashboard, Datasource, Document, DocumentKind, PARAMETER_FIELDS,
    Parameter,
};

/// The name of the pseudo data source that holds a workbook's parameters.
const PARAMETERS_DATASOURCE: &str = "Parameters";

type Attrs = BTreeMap<String, String>;

/// Most attributes one element may carry. Tableau's elements carry a few dozen at most; the cap bounds the work
/// one hostile element can cause.
const MAX_ATTRIBUTES: usize = 1024;

/// A `<column>` being read (its children carry the formula, range and members).
#[derive(Debug)]
struct PendingColumn {
    depth: usize,
    datasource: String,
    in_parameters: bool,
    attrs: Attrs,
    formula: Option<String>,
    range: Attrs,
    members: Vec<String>,
}

/// A top-level data source being read.
#[derive(Debug)]
struct OpenDatasource {
    depth: usize,
    key: String,
    is_parameters: bool,
    plain_connections: usize,
}

struct Parser {
    side: Side,
    file_type: FileType,
    decoder: Decoder,
    position: u64,
    doc: Option<Document>,
    stack: Vec<String>,
    datasource: Option<OpenDatasource>,
    column: Option<PendingColumn>,
    dashboard: Option<usize>,
    extract: Option<usize>,
    named_connection: Option<(usize, String)>,
}

/// Deepest element nesting read (real workbooks nest about 20 deep). Bounds the element stack a hostile document
/// can make the parser hold: without it, 256 MB of `<a>` would be 85 million open elements.
pub const MAX_DEPTH: usize = 256;

/// Parse a `.twb` or `.tds` document into its semantic model, reading it as a stream of XML events: memory is
/// bounded by the nesting and the model, not by the document.
pub(crate) fn parse(input: impl BufRead, file_type: FileType, side: Side) -> Result<Document, ContentError> {
    let mut reader = Reader::from_reader(input);
    let mut buf = Vec::new();
    let mut p = Parser {
        side,
        file_type,
        decoder: reader.decoder(),
        position: 0,
        doc: None,
        stack: Vec::new(),
        datasource: None,
        column: None,
        dashboard: None,
        extract: None,
        named_connection: None,
    };
    loop {
        p.position = reader.buffer_position();
        buf.clear();
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| ContentError::xml(side, file_type, reader.error_position(), e))?;
        match event {
            Event::Start(e) => {
                p.open(&e)?;
                if p.stack.len() >= MAX_DEPTH {
                    return Err(ContentError::TooDeep { side, file_type: file_type.as_str(), limit: MAX_DEPTH });
                }
                p.stack.push(String::from_utf8_lossy(e.local_name().as_ref()).into_owned());
            }
            Event::Empty(e) => {
                p.open(&e)?;
                p.close(p.stack.len());
            }
            Event::End(_) => {
                p.stack.pop();
                p.close(p.stack.len());
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let ft = file_type.as_str();
    if let Some(open) = p.stack.last() {
        return Err(ContentError::Truncated { side, file_type: ft, open: open.clone() });
    }
    p.doc.ok_or(ContentError::NoRoot { side, file_type: ft })
}

impl Parser {
    fn attrs(&self, e: &BytesStart<'_>) -> Result<Attrs, ContentError> {
        let err = |source: quick_xml::Error| ContentError::xml(self.side, self.file_type, self.position, source);
        let mut out = Attrs::new();
        // quick-xml's own duplicate check compares each attribute with every earlier one (200,000 attributes took
        // 49 s); the set below does it in n log n, and the count is capped.
        let mut seen: BTreeSet<&[u8]> = BTreeSet::new();
        for attr in e.attributes().with_checks(false) {
            let attr = attr.map_err(|e| err(e.into()))?;
            let element = || String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
            if seen.len() >= MAX_ATTRIBUTES {
                return Err(ContentError::TooManyAttributes {
                    side: self.side,
                    file_type: self.file_type.as_str(),
                    position: self.position,
                    element: element(),
                    limit: MAX_ATTRIBUTES,
                });
            }
            if !seen.insert(attr.key.into_inner()) {
                return Err(ContentError::DuplicateAttribute {
                    side: self.side,
                    file_type: self.file_type.as_str(),
                    position: self.position,
                    element: element(),
                    attribute: String::from_utf8_lossy(attr.key.as_ref()).into_owned(),
                });
            }
            let key = String::from_utf8_lossy(attr.key.local_name().as_ref()).into_owned();
            let value = attr.decode_and_unescape_value(self.decoder).map_err(err)?;
            out.insert(key, value.into_owned());
        }
        Ok(out)
    }

    /// An element opens at depth `self.stack.len()` (its parent is the top of the stack).
    fn open(&mut self, e: &BytesStart<'_>) -> Result<(), ContentError> {
        let depth = self.stack.len();
        if self.doc.is_none() {
            return if depth == 0 { self.open_root(e) } else { Ok(()) };
        }
        if depth == 0 {
            // A second root element (not well-formed XML, but harmless): ignore it.
            return Ok(());
        }
        let local = e.local_name();
        let name = local.as_ref();
        let parent = self.stack.last().map(String::as_str);
        let top_level = depth == 2 && self.stack.first().is_some_and(|r| r == "workbook");
        match name {
            b"datasource" if top_level && parent == Some("datasources") => {
                let attrs = self.attrs(e)?;
                self.open_datasource(depth, attrs);
            }
            b"worksheet" if top_level && parent == Some("worksheets") => {
                let attrs = self.attrs(e)?;
                if let (Some(n), Some(doc)) = (attrs.get("name"), self.doc.as_mut()) {
                    doc.worksheets.push(n.clone());
                }
            }
            b"dashboard" if top_level && parent == Some("dashboards") => {
                let attrs = self.attrs(e)?;
                if let (Some(n), Some(doc)) = (attrs.get("name"), self.doc.as_mut()) {
                    doc.dashboards.push(Dashboard { name: n.clone(), sheets: BTreeSet::new() });
                    self.dashboard = Some(depth);
                }
            }
            b"zone" if self.dashboard.is_some() => {
                let attrs = self.attrs(e)?;
                if let (Some(n), Some(d)) = (attrs.get("name"), self.doc.as_mut().and_then(|d| d.dashboards.last_mut()))
                {
                    d.sheets.insert(n.clone());
                }
            }
            _ => self.open_in_datasource(e, depth)?,
        }
        Ok(())
    }

    fn open_root(&mut self, e: &BytesStart<'_>) -> Result<(), ContentError> {
        let found = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
        let (kind, expected) = match self.file_type {
            FileType::Twb | FileType::Twbx => (DocumentKind::Workbook, "workbook"),
            _ => (DocumentKind::Datasource, "datasource"),
        };
        if found != expected {
            return Err(ContentError::WrongRoot {
                side: self.side,
                file_type: self.file_type.as_str(),
                expected,
                found,
            });
        }
        self.doc = Some(Document::new(kind));
        if kind == DocumentKind::Datasource {
            let attrs = self.attrs(e)?;
            self.open_datasource(0, attrs);
        }
        Ok(())
    }

    fn open_datasource(&mut self, depth: usize, mut attrs: Attrs) {
        let key = attrs
            .remove("name")
            .or_else(|| attrs.remove("formatted-name"))
            .unwrap_or_else(|| attrs.get("caption").cloned().unwrap_or_default());
        let is_parameters = key == PARAMETERS_DATASOURCE;
        if !is_parameters && let Some(doc) = self.doc.as_mut() {
            let caption = attrs.remove("caption");
            doc.datasources.insert(key.clone(), Datasource { name: key.clone(), caption });
        }
        self.datasource = Some(OpenDatasource { depth, key, is_parameters, plain_connections: 0 });
    }

    fn open_in_datasource(&mut self, e: &BytesStart<'_>, depth: usize) -> Result<(), ContentError> {
        let Some(ds) = self.datasource.as_ref() else { return Ok(()) };
        let local = e.local_name();
        let name = local.as_ref();
        let parent = self.stack.last().map(String::as_str);
        if let Some(col) = self.column.as_ref() {
            let direct_child = depth == col.depth + 1;
            match name {
                b"calculation" if direct_child => {
                    let formula = self.attrs(e)?.remove("formula").map(|f| f.replace("\r\n", "\n").replace('\r', "\n"));
                    if let Some(col) = self.column.as_mut() {
                        col.formula = formula;
                    }
                }
                b"range" if direct_child => {
                    let range = self.attrs(e)?;
                    if let Some(col) = self.column.as_mut() {
                        col.range = range;
                    }
                }
                b"member" if parent == Some("members") => {
                    let value = self.attrs(e)?.remove("value");
                    if let (Some(col), Some(v)) = (self.column.as_mut(), value) {
                        col.members.push(v);
                    }
                }
                _ => {}
            }
            return Ok(());
        }
        match name {
            b"column" if depth == ds.depth + 1 => {
                let attrs = self.attrs(e)?;
                self.column = Some(PendingColumn {
                    depth,
                    datasource: ds.key.clone(),
                    in_parameters: ds.is_parameters,
                    attrs,
                    formula: None,
                    range: Attrs::new(),
                    members: Vec::new(),
                });
            }
            b"extract" => self.extract = Some(depth),
            b"named-connection" => {
                let key = self.attrs(e)?.remove("name").unwrap_or_default();
                self.named_connection = Some((depth, key));
            }
            b"connection" if self.extract.is_none() => {
                let attrs = self.attrs(e)?;
                self.add_connection(attrs, parent == Some("named-connection"));
            }
            _ => {}
        }
        Ok(())
    }

    fn add_connection(&mut self, attrs: Attrs, named: bool) {
        let (Some(ds), Some(doc)) = (self.datasource.as_mut(), self.doc.as_mut()) else { return };
        if attrs.get("class").is_some_and(|c| c == "federated") {
            return;
        }
        let key = match (&self.named_connection, named) {
            (Some((_, n)), true) => n.clone(),
            _ => {
                ds.plain_connections += 1;
                if ds.plain_connections == 1 {
                    "connection".to_string()
                } else {
                    format!("connection#{}", ds.plain_connections)
                }
            }
        };
        let fields = CONNECTION_FIELDS
            .iter()
            .filter_map(|f| attrs.get(*f).filter(|v| !v.is_empty()).map(|v| (*f, v.clone())))
            .collect();
        doc.connections.insert((ds.key.clone(), key), Connection { datasource: ds.key.clone(), fields });
    }

    /// The element that opened at `depth` has closed.
    fn close(&mut self, depth: usize) {
        if self.column.as_ref().is_some_and(|c| c.depth == depth)
            && let Some(col) = self.column.take()
        {
            self.finish_column(col);
        }
        if self.datasource.as_ref().is_some_and(|d| d.depth == depth) {
            self.datasource = None;
        }
        if self.dashboard == Some(depth) {
            self.dashboard = None;
        }
        if self.extract == Some(depth) {
            self.extract = None;
        }
        if self.named_connection.as_ref().is_some_and(|(d, _)| *d == depth) {
            self.named_connection = None;
        }
    }

    fn finish_column(&mut self, mut col: PendingColumn) {
        let Some(doc) = self.doc.as_mut() else { return };
        let Some(name) = col.attrs.remove("name") else { return };
        let is_parameter = col.in_parameters || col.attrs.contains_key("param-domain-type");
        if is_parameter {
            if col.attrs.get("value").is_none_or(|v| v.is_empty())
                && let Some(f) = col.formula.take()
            {
                col.attrs.insert("value".into(), f);
            }
            let fields = PARAMETER_FIELDS
                .iter()
                .filter_map(|(attr, field)| {
                    col.attrs.get(*attr).or_else(|| col.range.get(*attr)).map(|v| (*field, v.clone()))
                })
                .collect();
            let caption = col.attrs.remove("caption");
            doc.parameters.insert(name.clone(), Parameter { name, caption, fields, allowed_values: col.members });
        } else if let Some(formula) = col.formula {
            let calc = Calculation {
                name: name.clone(),
                caption: col.attrs.remove("caption"),
                datatype: col.attrs.remove("datatype"),
                formula,
            };
            doc.calculations.insert((col.datasource, name), calc);
        }
    }
}
