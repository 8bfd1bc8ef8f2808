//! Uploaded content bytes: small files stay in memory, files of 8 MiB or more spill to disk (the state
//! directory, or a private temp directory) so a 1 GiB upload does not hold 1 GiB in RAM.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

/// Files at least this large are kept on disk.
pub const SPILL_THRESHOLD: usize = 8 * 1024 * 1024;

/// Stored content of a workbook or data source.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Blob {
    #[serde(skip)]
    Memory(Bytes),
    File {
        path: PathBuf,
        len: u64,
    },
}

impl Blob {
    pub fn len(&self) -> u64 {
        match self {
            Blob::Memory(bytes) => bytes.len() as u64,
            Blob::File { len, .. } => *len,
        }
    }

    pub fn remove_file(&self) {
        if let Blob::File { path, .. } = self {
            let _ = std::fs::remove_file(path);
        }
    }

    /// Move in-memory bytes to a file in `dir` so the blob can be persisted.
    pub fn persist_into(&mut self, dir: &Path) -> std::io::Result<()> {
        if let Blob::Memory(bytes) = self {
            std::fs::create_dir_all(dir)?;
            let path = dir.join(format!("{}.bin", uuid::Uuid::new_v4()));
            std::fs::write(&path, &bytes[..])?;
            *self = Blob::File { path, len: bytes.len() as u64 };
        }
        Ok(())
    }
}

/// Accumulates streamed bytes into a [`Blob`], spilling to `dir` past the threshold.
#[derive(Debug)]
pub struct BlobWriter {
    dir: PathBuf,
    memory: Vec<u8>,
    file: Option<(PathBuf, tokio::fs::File)>,
    len: u64,
}

impl BlobWriter {
    pub fn new(dir: PathBuf) -> BlobWriter {
        BlobWriter { dir, memory: Vec::new(), file: None, len: 0 }
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub async fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.len += chunk.len() as u64;
        if let Some((_, file)) = &mut self.file {
            return file.write_all(chunk).await;
        }
        self.memory.extend_from_slice(chunk);
        if self.memory.len() >= SPILL_THRESHOLD {
            tokio::fs::create_dir_all(&self.dir).await?;
            let path = self.dir.join(format!("{}.bin", uuid::Uuid::new_v4()));
            let mut file = tokio::fs::File::create(&path).await?;
            file.write_all(&self.memory).await?;
            self.memory = Vec::new();
            self.file = Some((path, file));
        }
        Ok(())
    }

    pub async fn finish(self) -> std::io::Result<Blob> {
        match self.file {
            Some((path, mut file)) => {
                file.flush().await?;
                file.sync_all().await?;
                Ok(Blob::File { path, len: self.len })
            }
            None => Ok(Blob::Memory(Bytes::from(self.memory))),
        }
    }

    /// Drop the partial content (an abandoned upload).
    pub fn discard(self) {
        if let Some((path, _)) = self.file {
            let _ = std::fs::remove_file(path);
        }
    }
}
