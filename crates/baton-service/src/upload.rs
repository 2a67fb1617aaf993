//! c1z upload (docs/c1-service-mode.md §7.6): per attempt a new stream of `metadata`, 512 KiB
//! `data` chunks and `eof` with the SHA-256 of the whole file; up to 3 attempts, 0 s then
//! 1 s apart, each from byte 0.

use std::path::{Path, PathBuf};
use std::time::Duration;

use c1_proto::baton::BatonServiceUploadAssetRequest;
use c1_proto::baton::baton_service_upload_asset_request::{
    Msg, UploadData, UploadEof, UploadMetadata,
};
use tokio::io::AsyncReadExt as _;

use crate::client::BatonClient;
use crate::clock::{Clock, Wait};

/// Bytes per `data` message (the Go SDK's choice; the protocol allows 1 MiB).
pub const UPLOAD_CHUNK_SIZE: usize = 512 * 1024;
/// Upload attempts per asset.
pub const UPLOAD_ATTEMPTS: usize = 3;
/// Wait before attempt n+1 (index n).
const RETRY_WAITS: [Duration; 2] = [Duration::ZERO, Duration::from_secs(1)];

/// Uploads `path` for `task_id`, retrying from byte 0.
pub(crate) async fn upload_file(
    client: &BatonClient,
    clock: &dyn Clock,
    task_id: &str,
    path: &Path,
) -> Result<(), tonic::Status> {
    let mut last = tonic::Status::unknown("upload not attempted");
    for attempt in 0..UPLOAD_ATTEMPTS {
        if attempt > 0 {
            clock
                .sleep(Wait::UploadRetry, RETRY_WAITS[attempt - 1])
                .await;
        }
        let checksum = sha256_file(path).await.map_err(|e| {
            tonic::Status::internal(format!("reading the c1z {}: {e}", path.display()))
        })?;
        let messages = messages(
            client.host_id().to_owned(),
            task_id.to_owned(),
            path.to_owned(),
            checksum,
        );
        match client.upload(messages).await {
            Ok(()) => return Ok(()),
            Err(status) => {
                tracing::warn!(task_id, attempt = attempt + 1, code = ?status.code(), message = status.message(), "c1z upload failed");
                last = status;
            }
        }
    }
    Err(last)
}

/// SHA-256 of the whole file.
async fn sha256_file(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut file = tokio::fs::File::open(path).await?;
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buf = vec![0u8; UPLOAD_CHUNK_SIZE];
    loop {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        ctx.update(&buf[..n]);
    }
    Ok(ctx.finish().as_ref().to_vec())
}

/// The stream of one attempt. A read error ends the stream without `eof`, which fails the
/// attempt on the server side.
fn messages(
    host_id: String,
    task_id: String,
    path: PathBuf,
    checksum: Vec<u8>,
) -> impl futures::Stream<Item = BatonServiceUploadAssetRequest> + Send + 'static {
    enum State {
        Metadata,
        Data(tokio::fs::File),
        Eof,
        Done,
    }
    let first = State::Metadata;
    futures::stream::unfold(
        (first, host_id, task_id, path, checksum),
        |(state, host_id, task_id, path, checksum)| async move {
            let wrap = |msg| BatonServiceUploadAssetRequest { msg: Some(msg) };
            match state {
                State::Metadata => {
                    let next = match tokio::fs::File::open(&path).await {
                        Ok(file) => State::Data(file),
                        Err(e) => {
                            tracing::warn!(path = %path.display(), error = %e, "cannot open the c1z for upload");
                            State::Done
                        }
                    };
                    let msg = wrap(Msg::Metadata(UploadMetadata {
                        host_id: host_id.clone(),
                        task_id: task_id.clone(),
                        annotations: Vec::new(),
                    }));
                    Some((msg, (next, host_id, task_id, path, checksum)))
                }
                State::Data(mut file) => {
                    let mut chunk = vec![0u8; UPLOAD_CHUNK_SIZE];
                    let mut filled = 0;
                    while filled < UPLOAD_CHUNK_SIZE {
                        match file.read(&mut chunk[filled..]).await {
                            Ok(0) => break,
                            Ok(n) => filled += n,
                            Err(e) => {
                                tracing::warn!(path = %path.display(), error = %e, "reading the c1z for upload failed");
                                return None;
                            }
                        }
                    }
                    if filled == 0 {
                        let msg = wrap(Msg::Eof(UploadEof {
                            sha256_checksum: checksum.clone(),
                            annotations: Vec::new(),
                        }));
                        return Some((msg, (State::Done, host_id, task_id, path, checksum)));
                    }
                    chunk.truncate(filled);
                    let next = if filled < UPLOAD_CHUNK_SIZE {
                        State::Eof
                    } else {
                        State::Data(file)
                    };
                    let msg = wrap(Msg::Data(UploadData { data: chunk }));
                    Some((msg, (next, host_id, task_id, path, checksum)))
                }
                State::Eof => {
                    let msg = wrap(Msg::Eof(UploadEof {
                        sha256_checksum: checksum.clone(),
                        annotations: Vec::new(),
                    }));
                    Some((msg, (State::Done, host_id, task_id, path, checksum)))
                }
                State::Done => None,
            }
        },
    )
}
