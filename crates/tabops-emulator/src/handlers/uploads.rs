//! Chunked upload sessions (`fileUploads`): initiate, append multipart chunks (empty payload part required),
//! and hand the assembled file to a publish commit (`uploadSessionId=`). Sessions live in memory only.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use http::StatusCode;
use rand::Rng;

use super::{Ctx, Reply};
use crate::blob::{Blob, BlobWriter};
use crate::error::{ApiError, ApiResult};
use crate::multipart;
use crate::server::Shared;
use crate::xml::Elem;

/// Largest chunk one append accepts (Tableau rejects chunks over 64 MB).
const MAX_CHUNK: u64 = 64 * 1024 * 1024;

type Session = Arc<tokio::sync::Mutex<Option<BlobWriter>>>;

#[derive(Default)]
pub struct Uploads {
    inner: Mutex<HashMap<String, Session>>,
}

impl Uploads {
    fn get(&self, id: &str) -> Option<Session> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(id).cloned()
    }
    fn remove(&self, id: &str) -> Option<Session> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(id)
    }
    fn insert(&self, id: String, session: Session) {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(id, session);
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(404015, "Upload session", id)
}

fn megabytes(len: u64) -> u64 {
    len / (1024 * 1024)
}

fn file_upload(id: &str, len: u64) -> Elem {
    Elem::new("fileUpload").attr("uploadSessionId", id).attr("fileSize", megabytes(len))
}

/// `POST /fileUploads` → 201 with a session id shaped like Tableau's (`N:hex32-N:N`).
pub fn initiate(ctx: &Ctx) -> ApiResult<Reply> {
    let mut rng = rand::rng();
    let id =
        format!("{}:{}-{}:{}", rng.random_range(1000..99999), uuid::Uuid::new_v4().simple(), rng.random_range(1..9), 0);
    let session = Arc::new(tokio::sync::Mutex::new(Some(BlobWriter::new(ctx.shared.spill_dir.clone()))));
    ctx.shared.uploads.insert(id.clone(), session);
    Ok(Reply::Xml(StatusCode::CREATED, vec![file_upload(&id, 0)]))
}

/// `PUT /fileUploads/{id}`: append the `tableau_file` part.
pub async fn append(ctx: &mut Ctx, id: &str) -> ApiResult<Reply> {
    let session = ctx.shared.uploads.get(id).ok_or_else(|| not_found(id))?;
    let body = ctx.body.take().ok_or_else(|| ApiError::bad_request("The request body is missing."))?;
    let parts = multipart::read(&ctx.shared, ctx.content_type().as_deref(), body).await?;
    let Some((_, chunk)) = parts.file else {
        return Err(ApiError::bad_request("The append request has no file part."));
    };
    let result = append_chunk(&session, id, &parts.payload, &chunk).await;
    chunk.remove_file();
    result
}

async fn append_chunk(session: &Session, id: &str, payload: &Option<bytes::Bytes>, chunk: &Blob) -> ApiResult<Reply> {
    if payload.as_ref().is_some_and(|p| !p.iter().all(u8::is_ascii_whitespace)) {
        return Err(ApiError::new(
            400019,
            "Bad Request",
            "The XML content in the MIME multipart request is not empty.",
        ));
    }
    if chunk.len() > MAX_CHUNK {
        return Err(ApiError::new(400016, "Bad Request", "The file chunk is larger than 64 MB."));
    }
    let mut guard = session.lock().await;
    let writer = guard.as_mut().ok_or_else(|| not_found(id))?;
    let io =
        |err: std::io::Error| ApiError::new(500000, "Internal Server Error", format!("storing upload chunk: {err}"));
    match chunk {
        Blob::Memory(bytes) => writer.write(bytes).await.map_err(io)?,
        Blob::File { path, .. } => {
            use tokio::io::AsyncReadExt;
            let mut file = tokio::fs::File::open(path).await.map_err(io)?;
            let mut buf = vec![0u8; 1024 * 1024];
            loop {
                let n = file.read(&mut buf).await.map_err(io)?;
                if n == 0 {
                    break;
                }
                writer.write(&buf[..n]).await.map_err(io)?;
            }
        }
    }
    Reply::ok(vec![file_upload(id, writer.len())])
}

/// Take the assembled file of a session for a publish commit.
pub async fn take(shared: &Shared, id: &str) -> ApiResult<Blob> {
    let session = shared.uploads.remove(id).ok_or_else(|| not_found(id))?;
    let writer = session.lock().await.take().ok_or_else(|| not_found(id))?;
    writer
        .finish()
        .await
        .map_err(|err| ApiError::new(500000, "Internal Server Error", format!("finishing upload: {err}")))
}
