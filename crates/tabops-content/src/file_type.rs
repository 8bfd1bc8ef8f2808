//! What kind of content a file holds: a workbook or a data source ([`ContentKind`]), and its file type from its
//! extension ([`FileType`]).

use serde::{Deserialize, Serialize};

/// The kind of a content item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentKind {
    Workbook,
    Datasource,
}

impl ContentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ContentKind::Workbook => "workbook",
            ContentKind::Datasource => "datasource",
        }
    }
}

/// The file type of a content file, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileType {
    Twb,
    Twbx,
    Tds,
    Tdsx,
    Hyper,
}

impl FileType {
    pub fn from_extension(ext: &str) -> Option<FileType> {
        match ext.to_ascii_lowercase().as_str() {
            "twb" => Some(FileType::Twb),
            "twbx" => Some(FileType::Twbx),
            "tds" => Some(FileType::Tds),
            "tdsx" => Some(FileType::Tdsx),
            "hyper" => Some(FileType::Hyper),
            _ => None,
        }
    }
    /// The value of the `workbookType` / `datasourceType` publish parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            FileType::Twb => "twb",
            FileType::Twbx => "twbx",
            FileType::Tds => "tds",
            FileType::Tdsx => "tdsx",
            FileType::Hyper => "hyper",
        }
    }
    pub fn kind(self) -> ContentKind {
        match self {
            FileType::Twb | FileType::Twbx => ContentKind::Workbook,
            FileType::Tds | FileType::Tdsx | FileType::Hyper => ContentKind::Datasource,
        }
    }
    /// Zip packages get a canonical digest (entries sorted, timestamps ignored).
    pub fn is_package(self) -> bool {
        matches!(self, FileType::Twbx | FileType::Tdsx)
    }
}
