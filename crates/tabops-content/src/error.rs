//! Errors of the content review: which document (old or new) could not be read, and why.
//!
//! Messages name the operation and the document; the underlying cause (XML, zip or I/O error) is the `source`.

use std::fmt;

use crate::file_type::FileType;

/// Which of the two documents of a review an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The document before the change.
    Old,
    /// The document after the change.
    New,
    /// The single document given to [`crate::sheets`].
    Input,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Old => "old",
            Side::New => "new",
            Side::Input => "input",
        })
    }
}

/// Why a content file could not be reviewed.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    #[error("cannot parse the {side} {file_type} document as XML (near byte {position})")]
    Xml {
        side: Side,
        file_type: &'static str,
        position: u64,
        #[source]
        source: quick_xml::Error,
    },
    #[error(
        "the {side} {file_type} document has more than {limit} attributes on one <{element}> (near byte {position})"
    )]
    TooManyAttributes { side: Side, file_type: &'static str, position: u64, element: String, limit: usize },
    #[error(
        "the {side} {file_type} document repeats attribute `{attribute}` on one <{element}> (near byte {position})"
    )]
    DuplicateAttribute { side: Side, file_type: &'static str, position: u64, element: String, attribute: String },
    #[error("the {side} {file_type} document has no XML root element")]
    NoRoot { side: Side, file_type: &'static str },
    #[error("the {side} {file_type} document is not a Tableau {expected}: its root element is <{found}>")]
    WrongRoot { side: Side, file_type: &'static str, expected: &'static str, found: String },
    #[error("the {side} {file_type} document ends before its <{open}> element is closed")]
    Truncated { side: Side, file_type: &'static str, open: String },
    #[error("cannot open the {side} {file_type} package as a zip archive")]
    Zip {
        side: Side,
        file_type: &'static str,
        #[source]
        source: zip::result::ZipError,
    },
    #[error("cannot read entry `{entry}` of the {side} {file_type} package")]
    ZipEntry {
        side: Side,
        file_type: &'static str,
        entry: String,
        #[source]
        source: zip::result::ZipError,
    },
    #[error("the {side} {file_type} package has no .{expected} file at its root")]
    NoRootDocument { side: Side, file_type: &'static str, expected: &'static str },
    #[error("the {side} {file_type} package has several .{expected} files at its root: {names}")]
    AmbiguousRootDocument { side: Side, file_type: &'static str, expected: &'static str, names: String },
    #[error("refusing the {side} {file_type} package")]
    Package {
        side: Side,
        file_type: &'static str,
        #[source]
        source: crate::package::PackageError,
    },
    #[error("the {side} {file_type} document nests elements more than {limit} deep")]
    TooDeep { side: Side, file_type: &'static str, limit: usize },
    #[error("cannot read the {side} {file_type} document")]
    Read {
        side: Side,
        file_type: &'static str,
        #[source]
        source: std::sync::Arc<std::io::Error>,
    },
    #[error("entry `{entry}` of the {side} {file_type} package is larger than {limit} bytes")]
    TooLarge { side: Side, file_type: &'static str, entry: String, limit: u64 },
}

impl ContentError {
    pub(crate) fn xml(side: Side, file_type: FileType, position: u64, source: quick_xml::Error) -> Self {
        match source {
            // A streamed document that cannot be read (an I/O error, or a package entry inflating past its
            // declared size) is not an XML problem.
            quick_xml::Error::Io(source) => ContentError::Read { side, file_type: file_type.as_str(), source },
            source => ContentError::Xml { side, file_type: file_type.as_str(), position, source },
        }
    }
}
