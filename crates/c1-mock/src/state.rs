//! The fake tenant's state: issued tokens, the scripted task queue, fault knobs, every call
//! received, and every rule the connector broke (a strict tenant records a violation and
//! answers with an error; tests assert there are none).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use c1_proto::baton::{BatonServiceFinishTaskRequest, BatonServiceHelloRequest, Task};

/// One call the tenant received, in arrival order.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Call {
    /// POST /auth/v1/token; `issued` when a token was returned.
    Token {
        /// Whether a token was issued.
        issued: bool,
    },
    /// Hello.
    Hello(Box<BatonServiceHelloRequest>),
    /// GetTask; the id of the task handed out, if any.
    GetTask {
        /// The task handed out.
        task_id: Option<String>,
    },
    /// Heartbeat for a task.
    Heartbeat {
        /// The task.
        task_id: String,
        /// Whether a fault knob failed it.
        failed: bool,
    },
    /// A finished UploadAsset stream.
    Upload {
        /// The task.
        task_id: String,
        /// Bytes received.
        bytes: usize,
        /// Data messages received.
        chunks: usize,
        /// Whether the upload was accepted (framing, checksum, c1z content).
        accepted: bool,
        /// From the metadata message to the end of the stream.
        took: std::time::Duration,
    },
    /// FinishTask.
    FinishTask(Box<BatonServiceFinishTaskRequest>),
}

/// A c1z the tenant accepted, with what it found inside.
#[derive(Debug, Clone)]
pub struct Uploaded {
    /// The raw file.
    pub bytes: Vec<u8>,
    /// `sync_type` of its single finished sync.
    pub sync_type: String,
    /// Resource types in it.
    pub resource_types: u64,
    /// Resources in it.
    pub resources: u64,
    /// Entitlements in it.
    pub entitlements: u64,
    /// Grants in it.
    pub grants: u64,
}

/// Mutable state behind one lock.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) tokens: HashSet<String>,
    pub(crate) queue: VecDeque<Task>,
    /// Tasks handed out and not finished: id -> is a sync task.
    pub(crate) outstanding: HashMap<String, bool>,
    pub(crate) host_id: Option<String>,
    pub(crate) calls: Vec<(Instant, Call)>,
    pub(crate) violations: Vec<String>,
    pub(crate) uploads: HashMap<String, Uploaded>,
    pub(crate) knobs: Knobs,
}

/// Fault knobs and timing the tests script.
#[derive(Debug)]
pub(crate) struct Knobs {
    pub(crate) refuse_tokens: bool,
    pub(crate) expires_in: i64,
    pub(crate) next_poll: Duration,
    pub(crate) next_heartbeat: Duration,
    pub(crate) fail_hello: VecDeque<tonic::Code>,
    pub(crate) fail_get_task: VecDeque<tonic::Code>,
    pub(crate) fail_heartbeats: u32,
    pub(crate) cancel: HashSet<String>,
    pub(crate) break_uploads: u32,
}

impl Default for Knobs {
    fn default() -> Self {
        Self {
            refuse_tokens: false,
            expires_in: 3600,
            next_poll: Duration::from_millis(100),
            next_heartbeat: Duration::from_secs(1),
            fail_hello: VecDeque::new(),
            fail_get_task: VecDeque::new(),
            fail_heartbeats: 0,
            cancel: HashSet::new(),
            break_uploads: 0,
        }
    }
}

/// The shared state.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) inner: Mutex<Inner>,
    pub(crate) client_id: String,
    pub(crate) audience: String,
    pub(crate) public_key: Vec<u8>,
}

impl State {
    pub(crate) fn new(client_id: String, audience: String, public_key: Vec<u8>) -> Self {
        Self {
            inner: Mutex::new(Inner {
                tokens: HashSet::new(),
                queue: VecDeque::new(),
                outstanding: HashMap::new(),
                host_id: None,
                calls: Vec::new(),
                violations: Vec::new(),
                uploads: HashMap::new(),
                knobs: Knobs::default(),
            }),
            client_id,
            audience,
            public_key,
        }
    }

    /// Runs `f` on the locked state (a poisoned lock is taken over: tests want the record).
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        let mut guard = match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    pub(crate) fn record(&self, call: Call) {
        self.with(|s| s.calls.push((Instant::now(), call)));
    }

    pub(crate) fn violation(&self, what: String) {
        tracing::warn!(violation = %what, "c1-mock: the connector broke a rule");
        self.with(|s| s.violations.push(what));
    }
}
