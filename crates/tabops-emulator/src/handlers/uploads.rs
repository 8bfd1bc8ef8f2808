//! Chunked upload sessions (`fileUploads`): initiate, append multipart chunks (empty payload part required),
//! and hand the assembled file to a publish commit (`uploadSessionId=`). Sessions live in memory only, belong to
//! the principal that opened them and expire when idle.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::StatusCode;
use rand::Rng;

use super::{Ctx, Reply};
use crate::auth::Session;
use crate::blob::{Blob, BlobWriter};
use crate::error::{ApiError, ApiResult};
use crate::multipart;
use crate::server::Shared;
use crate::xml::Elem;

/// Largest chunk one append accepts (Tableau rejects chunks over 64 MB).
const MAX_CHUNK: u64 = 64 * 1024 * 1024;

type Writer = Arc<tokio::sync::Mutex<Option<BlobWriter>>>;

/// One upload session: its bytes so far, who opened it, and when it was last used.
struct Upload {
    writer: Writer,
    owner: String,
    last_used: Instant,
}

/// Upload sessions by id. A session belongs to the principal that opened it (another token gets 404, as for an id
/// that does not exist) and is dropped, with its bytes, once idle for `upload_idle`.
#[derive(Default)]
pub struct Uploads {
    inner: Mutex<HashMap<String, Upload>>,
}

impl Uploads {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Upload>> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Drops the sessions idle for longer than `idle` (their spilled bytes too).
    fn expire(uploads: &mut HashMap<String, Upload>, idle: Duration) {
        uploads.retain(|_, upload| {
            if upload.last_used.elapsed() <= idle {
                return true;
            }
            // A session in use right now is not idle.
            let Ok(mut writer) = upload.writer.try_lock() else { return true };
            if let Some(writer) = writer.take() {
                writer.discard();
            }
            false
        });
    }

    fn get(&self, id: &str, owner: &str, idle: Duration) -> Option<Writer> {
        let mut uploads = self.lock();
        Self::expire(&mut uploads, idle);
        let upload = uploads.get_mut(id).filter(|u| u.owner == owner)?;
        upload.last_used = Instant::now();
        Some(Arc::clone(&upload.writer))
    }

    fn remove(&self, id: &str, owner: &str, idle: Duration) -> Option<Writer> {
        let mut uploads = self.lock();
        Self::expire(&mut uploads, idle);
        if uploads.get(id).is_none_or(|u| u.owner != owner) {
            return None;
        }
        uploads.remove(id).map(|u| u.writer)
    }

    fn insert(&self, id: String, owner: String, writer: Writer, idle: Duration) {
        let mut uploads = self.lock();
        Self::expire(&mut uploads, idle);
        uploads.insert(id, Upload { writer, owner, last_used: Instant::now() });
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
    let writer = Arc::new(tokio::sync::Mutex::new(Some(BlobWriter::new(ctx.shared.spill_dir.clone()))));
    ctx.shared.uploads.insert(id.clone(), ctx.session.principal(), writer, ctx.shared.config.upload_idle);
    Ok(Reply::Xml(StatusCode::CREATED, vec![file_upload(&id, 0)]))
}

/// `PUT /fileUploads/{id}`: append the `tableau_file` part.
pub async fn append(ctx: &mut Ctx, id: &str) -> ApiResult<Reply> {
    let owner = ctx.session.principal();
    let session = ctx.shared.uploads.get(id, &owner, ctx.shared.config.upload_idle).ok_or_else(|| not_found(id))?;
    let body = ctx.body.take().ok_or_else(|| ApiError::bad_request("The request body is missing."))?;
    let parts = multipart::read(&ctx.shared, ctx.content_type().as_deref(), body).await?;
    let Some((_, chunk)) = parts.file else {
        return Err(ApiError::bad_request("The append request has no file part."));
    };
    let result = append_chunk(&session, id, &parts.payload, &chunk).await;
    chunk.remove_file();
    result
}

async fn append_chunk(session: &Writer, id: &str, payload: &Option<bytes::Bytes>, chunk: &Blob) -> ApiResult<Reply> {
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
pub async fn take(shared: &Shared, session: &Session, id: &str) -> ApiResult<Blob> {
    let owner = session.principal();
    let session = shared.uploads.remove(id, &owner, shared.config.upload_idle).ok_or_else(|| not_found(id))?;
    let writer = session.lock().await.take().ok_or_else(|| not_found(id))?;
    writer
        .finish()
        .await
        .map_err(|err| ApiError::new(500000, "Internal Server Error", format!("finishing upload: {err}")))
}
