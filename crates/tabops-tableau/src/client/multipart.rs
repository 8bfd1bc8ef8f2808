//! Streams `multipart/mixed` bodies the way TSC builds them: a `request_payload` part (`text/xml`) and an
//! optional file part read from disk in 64 KiB pieces, so memory does not grow with the file size.
//!
//! A file part can carry a [`DigestTap`]: the bytes are hashed as they stream, and a body whose bytes do not hash
//! to the planned digest is cut off before its last byte, so the server never receives a complete upload of a file
//! that changed after it was planned (hashing first and uploading after would leave that window open).

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use super::transport::MultipartSpec;
use crate::error::{Error, Result};

const READ_BUFFER: usize = 64 * 1024;

fn header_safe(name: &str) -> String {
    name.chars().map(|c| if c == '"' || c == '\r' || c == '\n' { '_' } else { c }).collect()
}

/// The running sha256 of a file being uploaded in one or more parts (upload-session chunks are sent in order).
#[derive(Debug, Clone)]
pub(crate) struct DigestTap {
    /// The hash of the file's bytes before this part; every attempt at sending the part starts again from it.
    start: Box<Sha256>,
    /// Set on the part that ends the file: the planned sha256 (hex) the whole file must hash to.
    expected: Option<String>,
    /// The hash after the part was streamed whole, or the mismatch found at its end.
    outcome: Arc<Mutex<Option<TapOutcome>>>,
}

#[derive(Debug, Clone)]
enum TapOutcome {
    Streamed(Sha256),
    Mismatch(String),
}

impl DigestTap {
    /// A tap for a part that starts where `start` left off; `expected` only on the file's last part.
    pub(crate) fn new(start: Sha256, expected: Option<String>) -> DigestTap {
        DigestTap { start: Box::new(start), expected, outcome: Arc::default() }
    }

    /// The running hash once the part was streamed whole.
    pub(crate) fn streamed(&self) -> Option<Sha256> {
        match &*self.outcome.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(TapOutcome::Streamed(hash)) => Some(hash.clone()),
            _ => None,
        }
    }

    /// The planned digest, on the file's last part.
    pub(crate) fn expected(&self) -> Option<&str> {
        self.expected.as_deref()
    }

    /// What the bytes hashed to when they did not match the planned digest.
    pub(crate) fn mismatch(&self) -> Option<String> {
        match &*self.outcome.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(TapOutcome::Mismatch(actual)) => Some(actual.clone()),
            _ => None,
        }
    }

    fn finish(&self, hash: Sha256) -> std::result::Result<(), String> {
        let mut outcome = self.outcome.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(expected) = &self.expected {
            let actual = hex::encode(hash.clone().finalize());
            if !actual.eq_ignore_ascii_case(expected) {
                *outcome = Some(TapOutcome::Mismatch(actual.clone()));
                return Err(actual);
            }
        }
        *outcome = Some(TapOutcome::Streamed(hash));
        Ok(())
    }

    fn changed(&self, path: &std::path::Path, actual: String) -> Error {
        Error::ContentChanged {
            operation: String::new(),
            path: path.to_path_buf(),
            expected: self.expected.clone().unwrap_or_default(),
            actual,
        }
    }
}

/// Builds the streaming body; returns it with its exact length and the Content-Type header value.
pub(crate) async fn body(spec: &MultipartSpec) -> Result<(reqwest::Body, u64, String)> {
    let boundary = uuid::Uuid::new_v4().simple().to_string();
    let mut head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"request_payload\"; filename=\"\"\r\nContent-Type: text/xml\r\n\r\n{}\r\n",
        spec.payload.expose()
    );
    let content_type = format!("multipart/mixed; boundary={boundary}");
    let Some(file) = &spec.file else {
        head.push_str(&format!("--{boundary}--\r\n"));
        let len = head.len() as u64;
        return Ok((reqwest::Body::from(head), len, content_type));
    };
    head.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
        file.field,
        header_safe(&file.filename)
    ));
    let tail = format!("\r\n--{boundary}--\r\n");
    let io_err = |source| Error::Io { operation: String::new(), path: file.path.clone(), source };
    if let Some(tap) = &file.digest
        && let Some(actual) = tap.mismatch()
    {
        // An earlier attempt found the file changed: do not upload it again.
        return Err(tap.changed(&file.path, actual));
    }
    let mut handle = tokio::fs::File::open(&file.path).await.map_err(io_err)?;
    handle.seek(std::io::SeekFrom::Start(file.offset)).await.map_err(io_err)?;
    let reader = handle.take(file.len);
    let len = head.len() as u64 + file.len + tail.len() as u64;
    let content = ReaderStream::with_capacity(reader, READ_BUFFER);
    let content = match file.digest.clone() {
        None => content.boxed(),
        Some(tap) => hashed(content, tap, file.len).boxed(),
    };
    let stream = futures::stream::once(async move { Ok::<Bytes, std::io::Error>(Bytes::from(head)) })
        .chain(content)
        .chain(futures::stream::once(async move { Ok(Bytes::from(tail)) }));
    Ok((reqwest::Body::wrap_stream(stream), len, content_type))
}

/// Passes `content` through while hashing it; at its end, checks the length and (on a file's last part) the
/// digest, and ends the stream with an error instead of the last bytes on a mismatch.
fn hashed(
    content: impl futures::Stream<Item = std::io::Result<Bytes>> + Send + 'static,
    tap: DigestTap,
    len: u64,
) -> impl futures::Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    let state = (content.boxed(), (*tap.start).clone(), 0u64, tap, false);
    futures::stream::unfold(state, move |(mut content, mut hash, mut seen, tap, done)| async move {
        if done {
            return None;
        }
        match content.next().await {
            Some(Ok(bytes)) => {
                hash.update(&bytes);
                seen += bytes.len() as u64;
                // Hold back the file's last piece until the digest is known to be right.
                if seen == len {
                    return Some(match tap.finish(hash.clone()) {
                        Ok(()) => (Ok(bytes), (content, hash, seen, tap, false)),
                        Err(actual) => (Err(mismatch_error(&actual)), (content, hash, seen, tap, true)),
                    });
                }
                Some((Ok(bytes), (content, hash, seen, tap, false)))
            }
            Some(Err(err)) => Some((Err(err), (content, hash, seen, tap, true))),
            None if seen == len && len == 0 => match tap.finish(hash.clone()) {
                Ok(()) => None,
                Err(actual) => Some((Err(mismatch_error(&actual)), (content, hash, seen, tap, true))),
            },
            None if seen == len => None,
            None => {
                // The file is shorter than planned: never a complete body.
                let actual = format!("a file of {seen} bytes at this offset, not {len}");
                let _ = tap.outcome.lock().map(|mut o| *o = Some(TapOutcome::Mismatch(actual.clone())));
                Some((Err(mismatch_error(&actual)), (content, hash, seen, tap, true)))
            }
        }
    })
}

fn mismatch_error(actual: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, format!("the file changed while it was uploaded ({actual})"))
}
