//! tabops-content: what tabops knows about Tableau content files (`.twb`, `.twbx`, `.tds`, `.tdsx`, `.hyper`).
//! A leaf crate: no other tabops crate below it.
//!
//! - [`FileType`] and [`ContentKind`]: a file's type from its extension, and whether it is a workbook or a data
//!   source;
//! - [`hash`]: content digests, canonical for zip packages (re-zipping the same entries hashes the same);
//! - [`package`]: the bounds every reader of an untrusted zip package goes through (entry count, declared total,
//!   overlapping entries, entries that inflate past their declaration);
//! - [`repoint`]: a workbook's copy with its published data sources (`sqlproxy` connections) pointed elsewhere;
//! - [`review`]: the semantic review of a changed file, for pull-request comments;
//! - [`sheets`]: the worksheet and dashboard names of a workbook;
//! - [`sniff`]: the file type of a downloaded file, from its first bytes.
//!
//! [`review`] compares two versions of a `.twb`, `.twbx`, `.tds`, `.tdsx` or `.hyper` and reports what a reviewer
//! cares about: worksheets and dashboards added or removed, calculated fields added, removed or changed (with a
//! unified diff of the formula), parameters and connections changed, data sources renamed, package entries
//! (extracts) changed. Raw XML noise (ids, thumbnails, window geometry, zone layout, build stamps, zip timestamps
//! and entry order) is never part of the model, so a noise-only change gives an empty [`Review`].
//!
//! The review and the sheet listing are pure (bytes in, values out); [`hash`] reads files. Malformed input gives
//! an error, never a panic.

mod diff;
mod error;
mod file_type;
pub mod hash;
mod model;
pub mod package;
mod parse;
mod render;
pub mod repoint;
mod sniff;
mod source;

pub use diff::{
    BinaryChange, CalculationChange, ChangeKind, ConnectionChange, DashboardChange, DatasourceChange, EntryChange,
    FieldChange, ParameterChange, Review, SheetChange,
};
pub use error::{ContentError, Side};
pub use file_type::{ContentKind, FileType};
pub use render::NO_SEMANTIC_CHANGES;
pub use sniff::sniff;

use std::io::{Read, Seek};

use source::unpack;

/// Compare two versions of a content file of type `file_type`.
///
/// Packages are opened and the `.twb`/`.tds` at their root is compared semantically; their other entries are
/// compared by content digest (timestamps and entry order do not matter). A `.hyper` has no semantic content:
/// only a change of its size or digest is reported.
pub fn review(old: &[u8], new: &[u8], file_type: FileType) -> Result<Review, ContentError> {
    let old_parts = unpack(old, file_type, Side::Old, true)?;
    let new_parts = unpack(new, file_type, Side::New, true)?;
    let mut review = Review::empty(file_type);
    if let (Some(o), Some(n)) = (&old_parts.document, &new_parts.document) {
        let old_doc = parse::parse(&o[..], file_type, Side::Old)?;
        let new_doc = parse::parse(&n[..], file_type, Side::New)?;
        diff::diff_documents(&mut review, &old_doc, &new_doc);
    }
    diff::diff_files(&mut review, &old_parts, &new_parts);
    Ok(review)
}

/// The worksheet names, then the dashboard (and story) names, of a workbook, in document order. A data source
/// or `.hyper` file has no sheets.
///
/// The one sheet listing (export uses it for `hidden_views`), with the parser the review uses. The document is read
/// as a stream (memory bounded by its nesting, at most 256 elements deep, not by its size), a package through the
/// [`package`] bounds.
pub fn sheets<R: Read + Seek>(input: R, file_type: FileType) -> Result<Vec<String>, ContentError> {
    let doc = source::with_document(input, file_type, Side::Input, |document| {
        parse::parse(document, file_type, Side::Input)
    })?;
    Ok(doc
        .map(|doc| doc.worksheets.into_iter().chain(doc.dashboards.into_iter().map(|d| d.name)).collect())
        .unwrap_or_default())
}
