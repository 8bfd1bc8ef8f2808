//! Content digests: a streamed sha256 of a file, and for `.twbx`/`.tdsx` packages a canonical digest over the
//! decompressed entries, so re-zipping the same content (new timestamps, compression, entry order, extra fields)
//! hashes the same and the planner does not republish unchanged content.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

const BUFFER: usize = 1024 * 1024;

/// `(size in bytes, hex sha256)` of a file, read in 1 MiB chunks (constant memory). Equals `sha256sum`.
pub fn file_digest(path: &Path) -> io::Result<(u64, String)> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let size = stream(&mut file, &mut hasher)?;
    Ok((size, hex::encode(hasher.finalize())))
}

/// What a content file hashes to: its size, the digest the planner compares (canonical for packages), and the
/// sha256 of its bytes as uploaded, which the client checks while it streams them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    pub size: u64,
    /// The canonical digest for packages ([`package_digest`]), else equal to `file_sha256`.
    pub sha256: String,
    /// sha256 of the file's bytes, exactly as `sha256sum` prints it.
    pub file_sha256: String,
}

/// Both digests of a content file. A package is read twice (its raw bytes, then its entries); a plain file once.
pub fn content_digests(path: &Path, package: bool) -> io::Result<Digests> {
    let (size, file_sha256) = file_digest(path)?;
    let sha256 = if package { package_digest(path)? } else { file_sha256.clone() };
    Ok(Digests { size, sha256, file_sha256 })
}

/// The canonical digest of a zip package: sha256 over the file entries sorted by name, each contributing
/// `len(name) as u64 LE`, the name bytes, `len(content) as u64 LE` and the decompressed content. Directory
/// entries, timestamps, compression, entry order and extra fields do not count.
pub fn package_digest(path: &Path) -> io::Result<String> {
    let file = File::open(path)?;
    let mut archive = zip::ZipArchive::new(io::BufReader::new(file)).map_err(to_io)?;
    // A package is untrusted: entry count, declared total and overlapping entries are checked before inflating.
    crate::package::survey(&mut archive)?;
    let mut entries: Vec<(String, usize)> = Vec::with_capacity(archive.len());
    for index in 0..archive.len() {
        let entry = archive.by_index_raw(index).map_err(to_io)?;
        if !entry.is_dir() {
            entries.push((entry.name().to_owned(), index));
        }
    }
    entries.sort();
    if let Some(pair) = entries.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("duplicate zip entry `{}`", pair[0].0)));
    }
    let mut hasher = Sha256::new();
    for (name, index) in entries {
        let entry = archive.by_index(index).map_err(to_io)?;
        let declared = entry.size();
        hasher.update((name.len() as u64).to_le_bytes());
        hasher.update(name.as_bytes());
        hasher.update(declared.to_le_bytes());
        // Never more than the declared size comes out (a lying entry fails one byte past it).
        let read = stream(&mut crate::package::bounded(entry, &name, declared), &mut hasher)?;
        if read != declared {
            return Err(io::Error::new(io::ErrorKind::InvalidData, format!("zip entry `{name}` has a wrong size")));
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

thread_local! {
    /// One read buffer per hashing thread, reused across files: a site has thousands of small content files, and
    /// zeroing a fresh 1 MiB buffer for each cost more than hashing them.
    static READ_BUFFER: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0u8; BUFFER]);
}

fn stream(reader: &mut impl Read, hasher: &mut Sha256) -> io::Result<u64> {
    READ_BUFFER.with(|buffer| match buffer.try_borrow_mut() {
        Ok(mut buffer) => stream_with(reader, hasher, &mut buffer),
        // Re-entered on this thread (not done today): fall back to a buffer of its own.
        Err(_) => stream_with(reader, hasher, &mut vec![0u8; BUFFER]),
    })
}

fn stream_with(reader: &mut impl Read, hasher: &mut Sha256, buffer: &mut [u8]) -> io::Result<u64> {
    let mut total = 0u64;
    loop {
        let n = match reader.read(buffer) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        hasher.update(&buffer[..n]);
        total += n as u64;
    }
}

fn to_io(err: zip::result::ZipError) -> io::Error {
    match err {
        zip::result::ZipError::Io(err) => err,
        other => io::Error::new(io::ErrorKind::InvalidData, format!("not a valid zip package: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use zip::write::SimpleFileOptions;

    use super::*;

    fn write_zip(path: &Path, entries: &[(&str, &[u8])], time: (u16, u8, u8), method: zip::CompressionMethod) {
        let file = File::create(path).unwrap();
        let mut zip = zip::ZipWriter::new(file);
        let time = zip::DateTime::from_date_and_time(time.0, time.1, time.2, 10, 20, 30).unwrap();
        let options = SimpleFileOptions::default().compression_method(method).last_modified_time(time);
        zip.add_directory("Data/", options).unwrap();
        for (name, bytes) in entries {
            zip.start_file(*name, options).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap();
    }

    #[test]
    fn rezipped_package_hashes_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.twbx");
        let b = dir.path().join("b.twbx");
        write_zip(
            &a,
            &[("book.twb", b"<workbook/>"), ("Data/x.csv", b"1,2\n")],
            (2020, 1, 1),
            zip::CompressionMethod::Deflated,
        );
        write_zip(
            &b,
            &[("Data/x.csv", b"1,2\n"), ("book.twb", b"<workbook/>")],
            (2024, 6, 30),
            zip::CompressionMethod::Stored,
        );
        assert_ne!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        assert_eq!(package_digest(&a).unwrap(), package_digest(&b).unwrap());
    }

    #[test]
    fn one_changed_byte_changes_the_digest() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.tdsx");
        let b = dir.path().join("b.tdsx");
        write_zip(&a, &[("ds.tds", b"<datasource a='1'/>")], (2020, 1, 1), zip::CompressionMethod::Deflated);
        write_zip(&b, &[("ds.tds", b"<datasource a='2'/>")], (2020, 1, 1), zip::CompressionMethod::Deflated);
        assert_ne!(package_digest(&a).unwrap(), package_digest(&b).unwrap());
        // Moving bytes between name and content must not collide either.
        let c = dir.path().join("c.tdsx");
        let d = dir.path().join("d.tdsx");
        write_zip(&c, &[("ab", b"c")], (2020, 1, 1), zip::CompressionMethod::Stored);
        write_zip(&d, &[("a", b"bc")], (2020, 1, 1), zip::CompressionMethod::Stored);
        assert_ne!(package_digest(&c).unwrap(), package_digest(&d).unwrap());
    }

    #[test]
    fn plain_digest_equals_sha256sum() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.twb");
        std::fs::write(&path, b"abc").unwrap();
        let (size, digest) = file_digest(&path).unwrap();
        assert_eq!(size, 3);
        // `printf abc | sha256sum`
        assert_eq!(digest, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        let big = dir.path().join("big.hyper");
        let bytes: Vec<u8> = (0..3 * BUFFER + 17).map(|i| (i % 251) as u8).collect();
        std::fs::write(&big, &bytes).unwrap();
        assert_eq!(file_digest(&big).unwrap().1, hex::encode(Sha256::digest(&bytes)));
        if let Ok(out) = std::process::Command::new("sha256sum").arg(&big).output() {
            let text = String::from_utf8_lossy(&out.stdout);
            assert_eq!(text.split_whitespace().next(), Some(file_digest(&big).unwrap().1.as_str()));
        }
    }

    #[test]
    fn a_broken_package_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.twbx");
        std::fs::write(&path, b"not a zip").unwrap();
        assert_eq!(package_digest(&path).unwrap_err().kind(), io::ErrorKind::InvalidData);
    }
}
