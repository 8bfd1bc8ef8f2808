//! `multipart/mixed` publish and append bodies, parsed by part `name=` (with or without `form-data;` and
//! `filename=`). The file part is streamed into a [`Blob`] so large uploads spill to disk.

use std::sync::Arc;

use axum::body::Body;
use bytes::Bytes;
use futures::StreamExt;

use crate::blob::{Blob, BlobWriter};
use crate::error::{ApiError, ApiResult};
use crate::server::Shared;

/// The parts of a publish/append request (no `Debug`: payloads can carry connection passwords).
#[derive(Default)]
pub struct Parts {
    pub payload: Option<Bytes>,
    pub file: Option<(String, Blob)>,
}

fn boundary(content_type: &str) -> Option<String> {
    let (mime, params) = content_type.split_once(';')?;
    if !mime.trim().to_ascii_lowercase().starts_with("multipart/") {
        return None;
    }
    params.split(';').find_map(|param| {
        let (key, value) = param.split_once('=')?;
        (key.trim().eq_ignore_ascii_case("boundary")).then(|| value.trim().trim_matches('"').to_owned())
    })
}

fn multipart_error(err: multer::Error) -> ApiError {
    match err {
        multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
            ApiError::new(413000, "Payload Too Large", "The request body is too large.")
        }
        other => ApiError::new(400019, "Bad Request", format!("Error parsing the multipart request: {other}")),
    }
}

/// Read a multipart body; counts bytes into the stats as they arrive.
pub async fn read(shared: &Arc<Shared>, content_type: Option<&str>, body: Body) -> ApiResult<Parts> {
    let boundary = content_type
        .and_then(boundary)
        .ok_or_else(|| ApiError::new(400000, "Bad Request", "The request must be multipart/mixed with a boundary."))?;
    let counter = Arc::clone(shared);
    let stream = body.into_data_stream().map(move |chunk| {
        if let Ok(bytes) = &chunk {
            counter.stats.add_bytes(bytes.len() as u64);
        }
        chunk
    });
    // The same cap as every other body (`max_body_bytes`): a publish is the largest request, not an unlimited one.
    let limit = shared.config.max_body_bytes;
    let constraints = multer::Constraints::new().size_limit(multer::SizeLimit::new().whole_stream(limit));
    let mut multipart = multer::Multipart::with_constraints(stream, boundary, constraints);
    let mut parts = Parts::default();
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "request_payload" {
            let bytes = field.bytes().await.map_err(multipart_error)?;
            parts.payload = Some(bytes);
            continue;
        }
        let file_name = field.file_name().unwrap_or("file").to_owned();
        let mut writer = BlobWriter::new(shared.spill_dir.clone());
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    if let Err(err) = writer.write(&chunk).await {
                        writer.discard();
                        return Err(ApiError::new(500000, "Internal Server Error", format!("storing upload: {err}")));
                    }
                }
                Ok(None) => break,
                Err(err) => {
                    writer.discard();
                    return Err(multipart_error(err));
                }
            }
        }
        let blob = writer
            .finish()
            .await
            .map_err(|err| ApiError::new(500000, "Internal Server Error", format!("storing upload: {err}")))?;
        if let Some((_, old)) = parts.file.replace((file_name, blob)) {
            old.remove_file();
        }
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::boundary;

    #[test]
    fn boundary_from_mixed_and_quoted() {
        assert_eq!(boundary("multipart/mixed; boundary=abc123").as_deref(), Some("abc123"));
        assert_eq!(boundary("multipart/form-data; charset=x; boundary=\"q\"").as_deref(), Some("q"));
        assert_eq!(boundary("text/xml"), None);
    }
}
