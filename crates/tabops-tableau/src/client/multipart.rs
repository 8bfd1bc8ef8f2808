//! Streams `multipart/mixed` bodies the way TSC builds them: a `request_payload` part (`text/xml`) and an
//! optional file part read from disk in 64 KiB pieces, so memory does not grow with the file size.

use bytes::Bytes;
use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use super::transport::MultipartSpec;
use crate::error::{Error, Result};

const READ_BUFFER: usize = 64 * 1024;

fn header_safe(name: &str) -> String {
    name.chars().map(|c| if c == '"' || c == '\r' || c == '\n' { '_' } else { c }).collect()
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
    let mut handle = tokio::fs::File::open(&file.path).await.map_err(io_err)?;
    handle.seek(std::io::SeekFrom::Start(file.offset)).await.map_err(io_err)?;
    let reader = handle.take(file.len);
    let len = head.len() as u64 + file.len + tail.len() as u64;
    let stream = futures::stream::once(async move { Ok::<Bytes, std::io::Error>(Bytes::from(head)) })
        .chain(ReaderStream::with_capacity(reader, READ_BUFFER))
        .chain(futures::stream::once(async move { Ok(Bytes::from(tail)) }));
    Ok((reqwest::Body::wrap_stream(stream), len, content_type))
}
