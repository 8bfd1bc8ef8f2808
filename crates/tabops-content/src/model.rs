//! The semantic model of one Tableau document: the parts a reviewer cares about (sheets, dashboards, data
//! sources, calculated fields, parameters, connections) keyed by the identifiers Tableau keeps stable across
//! edits, with everything else (ids, thumbnails, window geometry, zone layout, build stamps) left out.

use std::collections::{BTreeMap, BTreeSet};

/// Whether the document is a workbook (`<workbook>`) or a data source (`<datasource>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DocumentKind {
    Workbook,
    Datasource,
}

/// One `.twb` or `.tds`, reduced to what matters for a review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Document {
    pub kind: DocumentKind,
    /// Worksheet names in document order.
    pub worksheets: Vec<String>,
    /// Each worksheet's `<simple-id uuid>` (the identifier Tableau writes as the last child of a `<worksheet>`),
    /// by worksheet name: a sheet with a new name and the same id is the same sheet, renamed.
    pub worksheet_ids: BTreeMap<String, String>,
    /// Dashboards (and stories) in document order.
    pub dashboards: Vec<Dashboard>,
    /// Data sources by internal name (`federated.…`); the `Parameters` pseudo data source is not one.
    pub datasources: BTreeMap<String, Datasource>,
    /// Calculated fields by (data source internal name, field internal name such as `[Calculation_1]`).
    pub calculations: BTreeMap<(String, String), Calculation>,
    /// Parameters by internal name (`[Parameter 1]`).
    pub parameters: BTreeMap<String, Parameter>,
    /// Connections by (data source internal name, connection key: the named connection's name, or `connection`,
    /// `connection#2`, … for plain connections).
    pub connections: BTreeMap<(String, String), Connection>,
}

impl Document {
    pub(crate) fn new(kind: DocumentKind) -> Self {
        Document {
            kind,
            worksheets: Vec::new(),
            worksheet_ids: BTreeMap::new(),
            dashboards: Vec::new(),
            datasources: BTreeMap::new(),
            calculations: BTreeMap::new(),
            parameters: BTreeMap::new(),
            connections: BTreeMap::new(),
        }
    }

    /// The display label of a data source: its caption, else its internal name.
    pub(crate) fn datasource_label(&self, key: &str) -> String {
        self.datasources.get(key).map(|d| d.label().to_string()).unwrap_or_else(|| key.to_string())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dashboard {
    pub name: String,
    /// Names of the sheets its zones show (layout, ids and positions are not kept).
    pub sheets: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Datasource {
    pub name: String,
    pub caption: Option<String>,
}

impl Datasource {
    pub(crate) fn label(&self) -> &str {
        self.caption.as_deref().filter(|c| !c.is_empty()).unwrap_or(&self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Calculation {
    /// Internal name, `[Calculation_1]`.
    pub name: String,
    pub caption: Option<String>,
    pub datatype: Option<String>,
    /// The formula with line endings normalised to `\n`.
    pub formula: String,
}

impl Calculation {
    pub(crate) fn label(&self) -> String {
        label_of(self.caption.as_deref(), &self.name)
    }
}

/// The attributes of a parameter that a review compares, in display order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Parameter {
    pub name: String,
    pub caption: Option<String>,
    pub fields: BTreeMap<&'static str, String>,
    pub allowed_values: Vec<String>,
}

impl Parameter {
    pub(crate) fn label(&self) -> String {
        label_of(self.caption.as_deref(), &self.name)
    }
}

/// The parameter attributes kept, as (XML attribute on `<column>` or `<range>`, field name in the review).
pub(crate) const PARAMETER_FIELDS: &[(&str, &str)] = &[
    ("caption", "caption"),
    ("datatype", "datatype"),
    ("value", "value"),
    ("param-domain-type", "domain"),
    ("min", "min"),
    ("max", "max"),
    ("granularity", "step"),
];

/// The connection attributes kept (credentials other than the user name are never read).
pub(crate) const CONNECTION_FIELDS: &[&str] =
    &["class", "server", "port", "dbname", "schema", "warehouse", "username", "authentication"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Connection {
    /// Data source internal name.
    pub datasource: String,
    pub fields: BTreeMap<&'static str, String>,
}

impl Connection {
    pub(crate) fn class(&self) -> &str {
        self.fields.get("class").map(String::as_str).unwrap_or("connection")
    }
}

/// `Profit Ratio` for a captioned field, `Calculation_1` for `[Calculation_1]`.
fn label_of(caption: Option<&str>, name: &str) -> String {
    match caption.filter(|c| !c.is_empty()) {
        Some(c) => c.to_string(),
        None => name.strip_prefix('[').and_then(|n| n.strip_suffix(']')).unwrap_or(name).to_string(),
    }
}
