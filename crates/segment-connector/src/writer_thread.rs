//! The c1z writer thread: `baton_c1z::C1zWriter` is synchronous (rusqlite), so it runs on a
//! blocking thread fed by a bounded channel. The async side awaits channel capacity (memory
//! stays bounded) and never blocks a runtime thread.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use baton_c1z::{C1zError, C1zWriter, WriteSummary, WriterOptions};
use baton_model::pb;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Objects in flight between the engine and the writer thread.
pub(crate) const CHANNEL_CAPACITY: usize = 1024;

/// Live counters of a running sync, for progress display. Cheap to read at any time from
/// another task or thread (e.g. the CLI's progress bar); request counts come from
/// `Session::stats()`.
#[derive(Debug, Default)]
pub struct SyncProgress {
    resource_types: AtomicU64,
    resources: AtomicU64,
    entitlements: AtomicU64,
    grants: AtomicU64,
    done: AtomicBool,
}

impl SyncProgress {
    /// A fresh progress record.
    pub fn new() -> Self {
        Self::default()
    }

    /// Resources written so far.
    pub fn resources(&self) -> u64 {
        self.resources.load(Ordering::Relaxed)
    }

    /// Entitlements written so far.
    pub fn entitlements(&self) -> u64 {
        self.entitlements.load(Ordering::Relaxed)
    }

    /// Grants written so far.
    pub fn grants(&self) -> u64 {
        self.grants.load(Ordering::Relaxed)
    }

    /// All objects written so far (resource types, resources, entitlements, grants).
    pub fn objects(&self) -> u64 {
        self.resource_types.load(Ordering::Relaxed)
            + self.resources()
            + self.entitlements()
            + self.grants()
    }

    /// Whether the sync has ended (successfully or not).
    pub fn is_done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }

    pub(crate) fn set_done(&self) {
        self.done.store(true, Ordering::Release);
    }
}

/// One message to the writer thread.
#[derive(Debug)]
pub(crate) enum Obj {
    ResourceType(pb::ResourceType),
    Resource(Box<pb::Resource>),
    Entitlement(Box<pb::Entitlement>),
    Grant(Box<pb::Grant>),
    /// Finish the sync and replace the file.
    Finish,
}

/// What the writer thread ended with.
#[derive(Debug)]
pub(crate) enum Exit {
    /// `finish` succeeded.
    Finished(WriteSummary),
    /// The channel closed without `Finish`: the sync was discarded.
    Aborted,
}

/// Handle of a started writer thread.
#[derive(Debug)]
pub(crate) struct Sink {
    pub(crate) tx: mpsc::Sender<Obj>,
    pub(crate) handle: JoinHandle<Result<Exit, C1zError>>,
}

/// Starts the writer thread and waits until the writer is open (so that disk errors surface
/// before any further API request).
pub(crate) async fn start(
    path: PathBuf,
    options: WriterOptions,
    progress: Option<Arc<SyncProgress>>,
) -> Result<Sink, C1zError> {
    let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
    let (ready_tx, ready_rx) = oneshot::channel();
    let handle =
        tokio::task::spawn_blocking(move || run(path, options, rx, ready_tx, progress.as_deref()));
    match ready_rx.await {
        Ok(Ok(())) => Ok(Sink { tx, handle }),
        Ok(Err(e)) => Err(e),
        // The thread ended without answering: it can only have panicked; report through join.
        Err(_) => match handle.await {
            Ok(Err(e)) => Err(e),
            _ => Err(C1zError::InvalidOption {
                option: "writer",
                reason: "the c1z writer thread stopped unexpectedly".into(),
            }),
        },
    }
}

fn run(
    path: PathBuf,
    options: WriterOptions,
    mut rx: mpsc::Receiver<Obj>,
    ready: oneshot::Sender<Result<(), C1zError>>,
    progress: Option<&SyncProgress>,
) -> Result<Exit, C1zError> {
    let mut writer = match C1zWriter::create(&path, options) {
        Ok(w) => w,
        Err(e) => {
            let _ = ready.send(Err(e));
            return Ok(Exit::Aborted);
        }
    };
    let _ = ready.send(Ok(()));
    let bump = |pick: fn(&SyncProgress) -> &AtomicU64| {
        if let Some(p) = progress {
            pick(p).fetch_add(1, Ordering::Relaxed);
        }
    };
    while let Some(obj) = rx.blocking_recv() {
        match obj {
            Obj::ResourceType(rt) => {
                writer.put_resource_type(&rt)?;
                bump(|p| &p.resource_types);
            }
            Obj::Resource(r) => {
                writer.put_resource(&r)?;
                bump(|p| &p.resources);
            }
            Obj::Entitlement(e) => {
                writer.put_entitlement(&e)?;
                bump(|p| &p.entitlements);
            }
            Obj::Grant(g) => {
                writer.put_grant(&g)?;
                bump(|p| &p.grants);
            }
            Obj::Finish => {
                rx.close();
                return writer.finish().map(Exit::Finished);
            }
        }
    }
    writer.abort();
    Ok(Exit::Aborted)
}
