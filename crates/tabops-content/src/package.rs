//! Bounds for reading a `.twbx`/`.tdsx` zip package, which is untrusted input: a package is written by whoever can
//! push to the repository or publish to the site. A zip's central directory only *declares* what each entry holds,
//! and nothing makes the declaration true, so every reader of a package here first calls [`survey`] and then reads
//! each entry through [`bounded`]:
//!
//! - an entry that inflates to more than it declares is refused as soon as the first byte past its declared size
//!   comes out (a 1,000-byte `.twb` that inflates to 1 GiB costs 1,001 bytes);
//! - entries that share compressed data (one stream listed 2,000 times) are refused before anything is inflated;
//! - the declared sizes may add up to at most [`MAX_PACKAGE_INFLATED_BYTES`], and there may be at most
//!   [`MAX_PACKAGE_ENTRIES`] entries.
//!
//! Together: the bytes inflated out of one package are at most the sum of the declared sizes, which is capped, and
//! every compressed byte is inflated once.

use std::io::{self, Read, Seek};

/// Most entries a package may have. A real workbook package holds its `.twb`, its extracts and its images, a
/// handful to a few hundred; the cap keeps the central directory walk and the overlap check cheap.
pub const MAX_PACKAGE_ENTRIES: usize = 10_000;

/// Most bytes the entries of one package may declare, together. Tableau Cloud's largest workbook or data source is
/// 25 GB (15 GB without Advanced Management; "Tableau Cloud Capacity" in Tableau's help); 64 GiB leaves room for
/// such a package inflating to more than twice its size, and bounds the time a hostile one can cost.
pub const MAX_PACKAGE_INFLATED_BYTES: u64 = 64 * 1024 * 1024 * 1024;

/// Why a package is refused before (or while) it is read.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("the package has {found} entries, more than the {limit} allowed")]
    TooManyEntries { found: usize, limit: usize },
    #[error("the package's entries declare more than {limit} bytes in total")]
    TooLarge { limit: u64 },
    #[error("entries `{first}` and `{second}` of the package share compressed data (a zip bomb)")]
    Overlapping { first: String, second: String },
    #[error("entry `{name}` of the package inflates to more than the {declared} bytes it declares (a zip bomb)")]
    Inflates { name: String, declared: u64 },
    #[error("not a valid zip package: {0}")]
    Zip(#[from] zip::result::ZipError),
}

impl From<PackageError> for io::Error {
    fn from(err: PackageError) -> io::Error {
        match err {
            PackageError::Zip(zip::result::ZipError::Io(err)) => err,
            other => io::Error::new(io::ErrorKind::InvalidData, other.to_string()),
        }
    }
}

/// Checks a package's central directory before any entry is inflated: the entry count, the total of the declared
/// sizes, and that no two entries (local header and data) share bytes of the file.
pub fn survey<R: Read + Seek>(archive: &mut zip::ZipArchive<R>) -> Result<(), PackageError> {
    if archive.len() > MAX_PACKAGE_ENTRIES {
        return Err(PackageError::TooManyEntries { found: archive.len(), limit: MAX_PACKAGE_ENTRIES });
    }
    let mut total = 0u64;
    let mut spans: Vec<(u64, u64, usize)> = Vec::with_capacity(archive.len());
    for index in 0..archive.len() {
        let entry = archive.by_index_raw(index)?;
        total = total.saturating_add(entry.size());
        if total > MAX_PACKAGE_INFLATED_BYTES {
            return Err(PackageError::TooLarge { limit: MAX_PACKAGE_INFLATED_BYTES });
        }
        let end = entry.data_start().saturating_add(entry.compressed_size());
        spans.push((entry.header_start(), end, index));
    }
    spans.sort_unstable();
    if let Some(pair) = spans.windows(2).find(|pair| pair[1].0 < pair[0].1) {
        let name = |archive: &mut zip::ZipArchive<R>, index: usize| {
            archive.by_index_raw(index).map(|e| e.name().to_owned()).unwrap_or_else(|_| format!("#{index}"))
        };
        let (first, second) = (name(archive, pair[0].2), name(archive, pair[1].2));
        return Err(PackageError::Overlapping { first, second });
    }
    Ok(())
}

/// A reader of one entry that fails with [`PackageError::Inflates`] (as an `InvalidData` I/O error) as soon as
/// more than `declared` bytes come out of it.
pub fn bounded<R: Read>(entry: R, name: &str, declared: u64) -> Bounded<R> {
    Bounded { inner: entry, name: name.to_owned(), declared, read: 0 }
}

/// See [`bounded`].
pub struct Bounded<R> {
    inner: R,
    name: String,
    declared: u64,
    read: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Ask for at most one byte past the declaration: enough to tell a lie, never more.
        let allowed = self.declared.saturating_sub(self.read).saturating_add(1);
        let want = buf.len().min(usize::try_from(allowed).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.read += n as u64;
        if self.read > self.declared {
            return Err(PackageError::Inflates { name: self.name.clone(), declared: self.declared }.into());
        }
        Ok(n)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::{Cursor, Write};

    use zip::write::SimpleFileOptions;

    use super::*;

    /// A zip package holding `entries` (name, bytes), stored as written: what the readers' tests build packages
    /// with, here and in the other modules of this crate.
    pub(crate) fn package(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, bytes) in entries {
            zip.start_file(*name, SimpleFileOptions::default()).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn an_honest_package_passes_and_reads_whole() {
        let bytes = package(&[("a.twb", b"<workbook/>"), ("Data/x.csv", &[7u8; 5000])]);
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        survey(&mut archive).unwrap();
        let entry = archive.by_index(1).unwrap();
        let size = entry.size();
        let mut out = Vec::new();
        bounded(entry, "Data/x.csv", size).read_to_end(&mut out).unwrap();
        assert_eq!(out, vec![7u8; 5000]);
    }

    /// A stored zip whose central directory lists `names`, every entry pointing at the one local header at 0.
    fn overlapping(names: &[&str], data: &[u8]) -> Vec<u8> {
        let header = |out: &mut Vec<u8>, name: &str| {
            out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0]); // version, flags, stored, time, date
            out.extend_from_slice(&0u32.to_le_bytes()); // crc (never checked: nothing is inflated)
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        };
        let mut out = 0x0403_4b50u32.to_le_bytes().to_vec();
        header(&mut out, names[0]);
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(names[0].as_bytes());
        out.extend_from_slice(data);
        let start = out.len() as u32;
        for name in names {
            out.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            out.extend_from_slice(&20u16.to_le_bytes());
            header(&mut out, name);
            out.extend_from_slice(&[0u8; 12]);
            out.extend_from_slice(&0u32.to_le_bytes());
            out.extend_from_slice(name.as_bytes());
        }
        let len = out.len() as u32 - start;
        out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        out.extend_from_slice(&[0u8; 4]);
        out.extend_from_slice(&(names.len() as u16).to_le_bytes());
        out.extend_from_slice(&(names.len() as u16).to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&start.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }

    #[test]
    fn entries_sharing_one_stream_are_refused_before_inflating() {
        let one = overlapping(&["a.twb"], b"<workbook/>");
        survey(&mut zip::ZipArchive::new(Cursor::new(one)).unwrap()).unwrap();
        let two = overlapping(&["a.twb", "b.hyper"], b"<workbook/>");
        let err = survey(&mut zip::ZipArchive::new(Cursor::new(two)).unwrap()).unwrap_err();
        assert!(
            matches!(&err, PackageError::Overlapping { first, second } if first == "a.twb" && second == "b.hyper"),
            "{err}"
        );
    }

    #[test]
    fn too_many_entries_are_refused() {
        let names: Vec<String> = (0..=MAX_PACKAGE_ENTRIES).map(|i| format!("e{i}")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        let bytes = package(&entries);
        let err = survey(&mut zip::ZipArchive::new(Cursor::new(bytes)).unwrap()).unwrap_err();
        assert!(matches!(err, PackageError::TooManyEntries { found, .. } if found == MAX_PACKAGE_ENTRIES + 1), "{err}");
    }

    #[test]
    fn an_entry_that_inflates_past_its_declaration_is_refused() {
        let mut out = Vec::new();
        let err = bounded(Cursor::new(vec![0u8; 10_000]), "big.twb", 1000).read_to_end(&mut out).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("`big.twb`") && err.to_string().contains("1000 bytes"), "{err}");
        assert!(out.len() <= 1001, "read {} bytes", out.len());
    }
}
