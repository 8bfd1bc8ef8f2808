//! Getting at the reviewable parts of a content file: the XML document of a `.twb`/`.tds`, the `.twb`/`.tds` at the
//! root of a `.twbx`/`.tdsx` package plus digests of its other entries (extracts, images), and the digest of a
//! `.hyper` file, which has no semantic content of its own.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Cursor, Read, Seek};

use crate::file_type::FileType;
use crate::package;
use sha2::{Digest, Sha256};

use crate::error::{ContentError, Side};

/// The largest XML document read out of a package (decompressed): far above any real workbook.
pub(crate) const MAX_DOCUMENT_BYTES: u64 = 256 * 1024 * 1024;

/// Size and sha256 of a byte stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Digest256 {
    pub size: u64,
    pub sha256: String,
}

impl Digest256 {
    pub(crate) fn of(bytes: &[u8]) -> Self {
        Digest256 { size: bytes.len() as u64, sha256: hex::encode(Sha256::digest(bytes)) }
    }
}

/// What a content file holds for the review.
#[derive(Debug)]
pub(crate) struct Unpacked<'a> {
    /// The Tableau XML document; `None` for `.hyper`.
    pub document: Option<Cow<'a, [u8]>>,
    /// For packages: every entry except the root document, by name (empty unless entries were asked for).
    pub entries: BTreeMap<String, Digest256>,
    /// Digest of the whole file.
    pub whole: Digest256,
}

/// The extension of the root document a package carries.
fn root_extension(file_type: FileType) -> &'static str {
    match file_type {
        FileType::Twbx => "twb",
        _ => "tds",
    }
}

/// Split a content file into its document and (for packages, when `with_entries`) its other entries.
pub(crate) fn unpack(
    bytes: &[u8],
    file_type: FileType,
    side: Side,
    with_entries: bool,
) -> Result<Unpacked<'_>, ContentError> {
    let whole = Digest256::of(bytes);
    match file_type {
        FileType::Twb | FileType::Tds => {
            Ok(Unpacked { document: Some(Cow::Borrowed(bytes)), entries: BTreeMap::new(), whole })
        }
        FileType::Hyper => Ok(Unpacked { document: None, entries: BTreeMap::new(), whole }),
        FileType::Twbx | FileType::Tdsx => {
            let (document, entries) = unpack_package(bytes, file_type, side, with_entries)?;
            Ok(Unpacked { document: Some(Cow::Owned(document)), entries, whole })
        }
    }
}

type PackageParts = (Vec<u8>, BTreeMap<String, Digest256>);

fn unpack_package(
    bytes: &[u8],
    file_type: FileType,
    side: Side,
    with_entries: bool,
) -> Result<PackageParts, ContentError> {
    let ft = file_type.as_str();
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|source| ContentError::Zip { side, file_type: ft, source })?;
    let (root, names) = package_root(&mut archive, file_type, side)?;
    let mut document = Vec::new();
    let mut entries = BTreeMap::new();
    for (i, name) in names {
        let entry_err =
            |source: zip::result::ZipError| ContentError::ZipEntry { side, file_type: ft, entry: name.clone(), source };
        if i == root {
            let file = archive.by_index(i).map_err(entry_err)?;
            let declared = file.size();
            if declared > MAX_DOCUMENT_BYTES {
                return Err(ContentError::TooLarge { side, file_type: ft, entry: name, limit: MAX_DOCUMENT_BYTES });
            }
            // Reserved from the declaration (capped above), read through a reader that fails past it.
            document.reserve_exact(usize::try_from(declared).unwrap_or(0));
            package::bounded(file, &name, declared).read_to_end(&mut document).map_err(|e| entry_err(e.into()))?;
        } else if with_entries {
            let file = archive.by_index(i).map_err(entry_err)?;
            let declared = file.size();
            let mut hasher = Sha256::new();
            let size = std::io::copy(&mut package::bounded(file, &name, declared), &mut hasher)
                .map_err(|e| entry_err(e.into()))?;
            entries.insert(name, Digest256 { size, sha256: hex::encode(hasher.finalize()) });
        }
    }
    Ok((document, entries))
}

/// Surveys a package (the [`package`] bounds, before anything is inflated) and finds its root document: the one
/// `.twb` (`.twbx`) or `.tds` (`.tdsx`) at its top level. Returns its index and every file entry's index and name.
fn package_root<R: Read + Seek>(
    archive: &mut zip::ZipArchive<R>,
    file_type: FileType,
    side: Side,
) -> Result<(usize, Vec<(usize, String)>), ContentError> {
    let ft = file_type.as_str();
    let expected = root_extension(file_type);
    // A package is untrusted: entry count, declared total and overlapping entries are checked before inflating.
    package::survey(archive).map_err(|source| ContentError::Package { side, file_type: ft, source })?;
    let suffix = format!(".{expected}");
    let mut roots: Vec<usize> = Vec::new();
    let mut names: Vec<(usize, String)> = Vec::new();
    for i in 0..archive.len() {
        let file = archive.by_index_raw(i).map_err(|source| ContentError::ZipEntry {
            side,
            file_type: ft,
            entry: format!("#{i}"),
            source,
        })?;
        if file.is_dir() {
            continue;
        }
        let name = file.name().to_string();
        if !name.contains('/') && !name.contains('\\') && name.to_ascii_lowercase().ends_with(&suffix) {
            roots.push(i);
        }
        names.push((i, name));
    }
    let root = match roots.as_slice() {
        [] => return Err(ContentError::NoRootDocument { side, file_type: ft, expected }),
        [one] => *one,
        many => {
            let listed: Vec<&str> =
                many.iter().filter_map(|i| names.iter().find(|(j, _)| j == i).map(|(_, n)| n.as_str())).collect();
            return Err(ContentError::AmbiguousRootDocument {
                side,
                file_type: ft,
                expected,
                names: listed.join(", "),
            });
        }
    };
    Ok((root, names))
}

/// Reads the XML document of a content file as a stream and hands it to `read`: a `.twb`/`.tds` as it is (at most
/// [`MAX_DOCUMENT_BYTES`]), the root document of a `.twbx`/`.tdsx` through the [`package`] bounds. A `.hyper` has
/// no document: `Ok(None)`.
pub(crate) fn with_document<R: Read + Seek, T>(
    input: R,
    file_type: FileType,
    side: Side,
    read: impl FnOnce(&mut dyn BufRead) -> Result<T, ContentError>,
) -> Result<Option<T>, ContentError> {
    let ft = file_type.as_str();
    match file_type {
        FileType::Hyper => Ok(None),
        FileType::Twb | FileType::Tds => read(&mut BufReader::new(input.take(MAX_DOCUMENT_BYTES))).map(Some),
        FileType::Twbx | FileType::Tdsx => {
            let mut archive =
                zip::ZipArchive::new(input).map_err(|source| ContentError::Zip { side, file_type: ft, source })?;
            let (root, names) = package_root(&mut archive, file_type, side)?;
            let name = names.into_iter().find(|(i, _)| *i == root).map(|(_, n)| n).unwrap_or_default();
            let file = archive.by_index(root).map_err(|source| ContentError::ZipEntry {
                side,
                file_type: ft,
                entry: name.clone(),
                source,
            })?;
            let declared = file.size();
            if declared > MAX_DOCUMENT_BYTES {
                return Err(ContentError::TooLarge { side, file_type: ft, entry: name, limit: MAX_DOCUMENT_BYTES });
            }
            read(&mut BufReader::new(package::bounded(file, &name, declared))).map(Some)
        }
    }
}
