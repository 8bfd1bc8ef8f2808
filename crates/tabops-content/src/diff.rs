//! The review: what changed between two semantic models, as a serialisable value.
//!
//! Items are compared by the keys Tableau keeps stable across edits (sheet names, internal field and parameter
//! names, named-connection names), so a renamed calculated field shows as a caption change, not as a removal
//! plus an addition.

use std::collections::{BTreeMap, BTreeSet};

use crate::file_type::FileType;
use serde::Serialize;
use similar::TextDiff;

use crate::model::{Document, DocumentKind};
use crate::source::{Digest256, Unpacked};

/// What happened to an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// One attribute's value before and after (`None`: absent on that side).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// A worksheet added or removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SheetChange {
    pub name: String,
    pub change: ChangeKind,
}

/// A dashboard (or story) added, removed, or showing other sheets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DashboardChange {
    pub name: String,
    pub change: ChangeKind,
    /// Sheets it shows now and did not before (for an added dashboard: all its sheets).
    pub sheets_added: Vec<String>,
    /// Sheets it no longer shows.
    pub sheets_removed: Vec<String>,
}

/// A data source added, removed, or renamed (caption changed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DatasourceChange {
    /// The caption (after the change, when it still exists).
    pub name: String,
    pub change: ChangeKind,
    pub fields: Vec<FieldChange>,
}

/// A calculated field added, removed or changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalculationChange {
    /// Caption (after the change, when it still exists), else the internal name without brackets.
    pub name: String,
    /// Caption of the data source holding it.
    pub datasource: String,
    pub change: ChangeKind,
    pub formula_before: Option<String>,
    pub formula_after: Option<String>,
    /// Unified line diff of the formula (hunks only, no file header); empty when the formula did not change.
    pub formula_diff: String,
    /// Other attributes that changed (caption, datatype).
    pub fields: Vec<FieldChange>,
}

/// A parameter added, removed or changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParameterChange {
    pub name: String,
    pub change: ChangeKind,
    /// For a change: the attributes that differ; for an addition or removal: all of them.
    pub fields: Vec<FieldChange>,
}

/// A data connection added, removed or changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionChange {
    /// Caption of the data source the connection belongs to.
    pub datasource: String,
    /// Connection class (`postgres`, `sqlserver`, `sqlproxy`, …).
    pub class: String,
    pub change: ChangeKind,
    pub fields: Vec<FieldChange>,
}

/// A package entry other than the root document (an extract, an image) added, removed or changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryChange {
    pub path: String,
    pub change: ChangeKind,
    pub size_before: Option<u64>,
    pub size_after: Option<u64>,
}

/// Size and digest of a file without semantic content (`.hyper`) that changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BinaryChange {
    pub size_before: u64,
    pub size_after: u64,
    pub sha256_before: String,
    pub sha256_after: String,
}

/// The semantic difference between two versions of a content file. Empty when only noise changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Review {
    pub file_type: FileType,
    pub worksheets: Vec<SheetChange>,
    pub dashboards: Vec<DashboardChange>,
    pub datasources: Vec<DatasourceChange>,
    pub calculated_fields: Vec<CalculationChange>,
    pub parameters: Vec<ParameterChange>,
    pub connections: Vec<ConnectionChange>,
    pub package_entries: Vec<EntryChange>,
    pub binary: Option<BinaryChange>,
}

impl Review {
    pub(crate) fn empty(file_type: FileType) -> Self {
        Review {
            file_type,
            worksheets: Vec::new(),
            dashboards: Vec::new(),
            datasources: Vec::new(),
            calculated_fields: Vec::new(),
            parameters: Vec::new(),
            connections: Vec::new(),
            package_entries: Vec::new(),
            binary: None,
        }
    }

    /// True when the two versions differ in nothing a reviewer would care about.
    pub fn is_empty(&self) -> bool {
        self.worksheets.is_empty()
            && self.dashboards.is_empty()
            && self.datasources.is_empty()
            && self.calculated_fields.is_empty()
            && self.parameters.is_empty()
            && self.connections.is_empty()
            && self.package_entries.is_empty()
            && self.binary.is_none()
    }

    /// Whether the file is a data source (labels then omit the data source, which is the file itself).
    pub(crate) fn is_datasource_file(&self) -> bool {
        matches!(self.file_type, FileType::Tds | FileType::Tdsx | FileType::Hyper)
    }
}

/// Pair up the items of two maps: (key, old, new) for every key present on either side.
fn pairs<'a, K: Ord + Clone, V>(
    old: &'a BTreeMap<K, V>,
    new: &'a BTreeMap<K, V>,
) -> Vec<(K, Option<&'a V>, Option<&'a V>)> {
    let keys: BTreeSet<&K> = old.keys().chain(new.keys()).collect();
    keys.into_iter().map(|k| (k.clone(), old.get(k), new.get(k))).collect()
}

fn kind_of<V>(old: Option<&V>, new: Option<&V>) -> ChangeKind {
    match (old, new) {
        (None, _) => ChangeKind::Added,
        (_, None) => ChangeKind::Removed,
        _ => ChangeKind::Changed,
    }
}

/// Field changes between two attribute maps, in the order of `order` (fields not in it follow, sorted).
fn field_changes(
    old: Option<&BTreeMap<&'static str, String>>,
    new: Option<&BTreeMap<&'static str, String>>,
    order: &[&str],
) -> Vec<FieldChange> {
    let empty = BTreeMap::new();
    let (old, new) = (old.unwrap_or(&empty), new.unwrap_or(&empty));
    let mut names: Vec<&str> = order.to_vec();
    for k in old.keys().chain(new.keys()) {
        if !names.contains(k) {
            names.push(k);
        }
    }
    names
        .into_iter()
        .filter_map(|f| {
            let (b, a) = (old.get(f), new.get(f));
            (b != a).then(|| FieldChange { field: f.to_string(), before: b.cloned(), after: a.cloned() })
        })
        .collect()
}

fn opt_change(field: &str, before: Option<&String>, after: Option<&String>) -> Option<FieldChange> {
    (before != after).then(|| FieldChange { field: field.to_string(), before: before.cloned(), after: after.cloned() })
}

/// Unified line diff of two formulas: hunks only.
pub(crate) fn formula_diff(before: &str, after: &str) -> String {
    if before == after {
        return String::new();
    }
    let (b, a) = (format!("{before}\n"), format!("{after}\n"));
    TextDiff::from_lines(&b, &a).unified_diff().context_radius(3).to_string()
}

/// Compare two semantic models.
pub(crate) fn diff_documents(review: &mut Review, old: &Document, new: &Document) {
    let old_ws: BTreeSet<&String> = old.worksheets.iter().collect();
    let new_ws: BTreeSet<&String> = new.worksheets.iter().collect();
    for n in new_ws.difference(&old_ws) {
        review.worksheets.push(SheetChange { name: (*n).clone(), change: ChangeKind::Added });
    }
    for n in old_ws.difference(&new_ws) {
        review.worksheets.push(SheetChange { name: (*n).clone(), change: ChangeKind::Removed });
    }
    review.worksheets.sort_by(|a, b| (a.change, &a.name).cmp(&(b.change, &b.name)));

    let old_db: BTreeMap<&String, &BTreeSet<String>> = old.dashboards.iter().map(|d| (&d.name, &d.sheets)).collect();
    let new_db: BTreeMap<&String, &BTreeSet<String>> = new.dashboards.iter().map(|d| (&d.name, &d.sheets)).collect();
    let none = BTreeSet::new();
    for (name, o, n) in pairs(&old_db, &new_db) {
        let (os, ns) = (o.copied().unwrap_or(&none), n.copied().unwrap_or(&none));
        let change = kind_of(o, n);
        let sheets_added: Vec<String> = ns.difference(os).cloned().collect();
        let sheets_removed: Vec<String> =
            if change == ChangeKind::Removed { Vec::new() } else { os.difference(ns).cloned().collect() };
        if change == ChangeKind::Changed && sheets_added.is_empty() && sheets_removed.is_empty() {
            continue;
        }
        review.dashboards.push(DashboardChange { name: name.clone(), change, sheets_added, sheets_removed });
    }

    if old.kind == DocumentKind::Workbook || new.kind == DocumentKind::Workbook {
        for (_, o, n) in pairs(&old.datasources, &new.datasources) {
            let name = n.or(o).map(|d| d.label().to_string()).unwrap_or_default();
            let fields: Vec<FieldChange> = match (o, n) {
                (Some(o), Some(n)) => {
                    opt_change("caption", o.caption.as_ref(), n.caption.as_ref()).into_iter().collect()
                }
                _ => Vec::new(),
            };
            let change = kind_of(o, n);
            if change == ChangeKind::Changed && fields.is_empty() {
                continue;
            }
            review.datasources.push(DatasourceChange { name, change, fields });
        }
    }

    for ((ds, _), o, n) in pairs(&old.calculations, &new.calculations) {
        let change = kind_of(o, n);
        let (fb, fa) = (o.map(|c| c.formula.clone()), n.map(|c| c.formula.clone()));
        let mut fields = Vec::new();
        if let (Some(o), Some(n)) = (o, n) {
            fields.extend(opt_change("caption", o.caption.as_ref(), n.caption.as_ref()));
            fields.extend(opt_change("datatype", o.datatype.as_ref(), n.datatype.as_ref()));
            if fb == fa && fields.is_empty() {
                continue;
            }
        }
        let formula_diff = match (&fb, &fa) {
            (Some(b), Some(a)) => formula_diff(b, a),
            _ => String::new(),
        };
        let label = n.or(o).map(|c| c.label()).unwrap_or_default();
        let datasource = if n.is_some() { new.datasource_label(&ds) } else { old.datasource_label(&ds) };
        review.calculated_fields.push(CalculationChange {
            name: label,
            datasource,
            change,
            formula_before: fb,
            formula_after: fa,
            formula_diff,
            fields,
        });
    }

    let order: Vec<&str> = crate::model::PARAMETER_FIELDS.iter().map(|(_, f)| *f).collect();
    for (_, o, n) in pairs(&old.parameters, &new.parameters) {
        let mut fields = field_changes(o.map(|p| &p.fields), n.map(|p| &p.fields), &order);
        let (ob, nb) = (o.map(|p| p.allowed_values.join(", ")), n.map(|p| p.allowed_values.join(", ")));
        let (ob, nb) = (ob.filter(|s| !s.is_empty()), nb.filter(|s| !s.is_empty()));
        fields.extend(opt_change("allowed values", ob.as_ref(), nb.as_ref()));
        if fields.is_empty() {
            continue;
        }
        let name = n.or(o).map(|p| p.label()).unwrap_or_default();
        review.parameters.push(ParameterChange { name, change: kind_of(o, n), fields });
    }

    for (_, o, n) in pairs(&old.connections, &new.connections) {
        let fields = field_changes(o.map(|c| &c.fields), n.map(|c| &c.fields), crate::model::CONNECTION_FIELDS);
        if fields.is_empty() {
            continue;
        }
        let Some(conn) = n.or(o) else { continue };
        let doc = if n.is_some() { new } else { old };
        review.connections.push(ConnectionChange {
            datasource: doc.datasource_label(&conn.datasource),
            class: conn.class().to_string(),
            change: kind_of(o, n),
            fields,
        });
    }
}

/// Compare the non-document parts of two unpacked files: package entries, or the whole `.hyper`.
pub(crate) fn diff_files(review: &mut Review, old: &Unpacked<'_>, new: &Unpacked<'_>) {
    for (path, o, n) in pairs(&old.entries, &new.entries) {
        if o == n {
            continue;
        }
        review.package_entries.push(EntryChange {
            path,
            change: kind_of(o, n),
            size_before: o.map(|d| d.size),
            size_after: n.map(|d| d.size),
        });
    }
    if old.document.is_none() && new.document.is_none() && old.whole != new.whole {
        let (Digest256 { size: sb, sha256: hb }, Digest256 { size: sa, sha256: ha }) = (&old.whole, &new.whole);
        review.binary = Some(BinaryChange {
            size_before: *sb,
            size_after: *sa,
            sha256_before: hb.clone(),
            sha256_after: ha.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::formula_diff;

    #[test]
    fn multi_line_formula_diff_keeps_context() {
        let before = "IF [Sales] > 1000\nTHEN 'Large'\nELSE 'Small'\nEND";
        let after = "IF [Sales] > 5000\nTHEN 'Large'\nELSE 'Small'\nEND";
        assert_eq!(
            formula_diff(before, after),
            "@@ -1,4 +1,4 @@\n-IF [Sales] > 1000\n+IF [Sales] > 5000\n THEN 'Large'\n ELSE 'Small'\n END\n"
        );
        assert_eq!(formula_diff(before, before), "");
    }
}
