//! The fake `c1.connectorapi.baton.v1.BatonService` (docs/c1-service-mode.md §15.1): bearer
//! token, host id and task ids checked on every call; Hello fields, upload framing, checksum
//! and c1z content, and the FinishTask oneof checked strictly.

use std::sync::Arc;

use c1_proto::baton::baton_service_finish_task_request::FinalState;
use c1_proto::baton::baton_service_server::BatonService;
use c1_proto::baton::baton_service_upload_asset_request::Msg;
use c1_proto::baton::task::TaskType;
use c1_proto::baton::*;
use tonic::{Request, Response, Status};

use crate::state::{Call, State, Uploaded};

/// Largest `data` message (1 MiB).
const MAX_CHUNK: usize = 1024 * 1024;

/// The service, sharing the tenant's state.
#[derive(Debug, Clone)]
pub(crate) struct Service {
    pub(crate) state: Arc<State>,
}

fn duration(d: std::time::Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: d.as_secs() as i64,
        nanos: d.subsec_nanos() as i32,
    }
}

/// A task id as ConductorOne issues them: 27 alphanumerics.
pub(crate) fn valid_task_id(id: &str) -> bool {
    id.len() == 27 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

impl Service {
    /// A rule broken by the connector: recorded, answered with `code`.
    fn reject(&self, code: tonic::Code, what: String) -> Status {
        self.state.violation(what.clone());
        Status::new(code, what)
    }

    fn authorize<T>(&self, rpc: &str, request: &Request<T>) -> Result<(), Status> {
        let header = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let known = header
            .strip_prefix("Bearer ")
            .is_some_and(|t| self.state.with(|s| s.tokens.contains(t)));
        if known {
            Ok(())
        } else {
            Err(self.reject(
                tonic::Code::Unauthenticated,
                format!("{rpc}: no valid bearer token"),
            ))
        }
    }

    fn check_host(&self, rpc: &str, host_id: &str) -> Result<(), Status> {
        if host_id.is_empty() || host_id.len() > 256 {
            return Err(self.reject(
                tonic::Code::InvalidArgument,
                format!("{rpc}: host_id must be 1-256 chars"),
            ));
        }
        let first = self
            .state
            .with(|s| s.host_id.get_or_insert_with(|| host_id.to_owned()).clone());
        if first != host_id {
            return Err(self.reject(
                tonic::Code::InvalidArgument,
                format!("{rpc}: host_id changed from {first:?} to {host_id:?}"),
            ));
        }
        Ok(())
    }

    /// `task_id` must be a task handed out and not finished; returns whether it is a sync.
    fn check_outstanding(&self, rpc: &str, task_id: &str) -> Result<bool, Status> {
        match self.state.with(|s| s.outstanding.get(task_id).copied()) {
            Some(is_sync) => Ok(is_sync),
            None => Err(self.reject(
                tonic::Code::NotFound,
                format!("{rpc}: task {task_id:?} is not outstanding"),
            )),
        }
    }

    fn check_hello(&self, req: &BatonServiceHelloRequest) -> Result<(), Status> {
        self.check_host("Hello", &req.host_id)?;
        if !req.task_id.is_empty() {
            if !valid_task_id(&req.task_id) {
                return Err(self.reject(
                    tonic::Code::InvalidArgument,
                    "Hello: malformed task_id".into(),
                ));
            }
            self.check_outstanding("Hello", &req.task_id)?;
            self.state.with(|s| s.outstanding.remove(&req.task_id));
        }
        let mut missing = Vec::new();
        match &req.connector_metadata {
            None => missing.push("connector_metadata"),
            Some(m) => {
                if m.display_name.is_empty() {
                    missing.push("connector_metadata.display_name");
                }
                if m.capabilities.is_none() {
                    missing.push("connector_metadata.capabilities");
                }
            }
        }
        match &req.build_info {
            None => missing.push("build_info"),
            Some(b) => {
                for (name, v) in [
                    ("lang_version", &b.lang_version),
                    ("package", &b.package),
                    ("package_version", &b.package_version),
                ] {
                    if v.is_empty() {
                        missing.push(name);
                    }
                }
            }
        }
        match &req.os_info {
            None => missing.push("os_info"),
            Some(o) => {
                for (name, v) in [
                    ("hostname", &o.hostname),
                    ("os", &o.os),
                    ("platform", &o.platform),
                    ("platform_version", &o.platform_version),
                    ("platform_family", &o.platform_family),
                    ("kernel_version", &o.kernel_version),
                    ("kernel_arch", &o.kernel_arch),
                    ("virtualization_system", &o.virtualization_system),
                ] {
                    if v.is_empty() {
                        missing.push(name);
                    }
                }
            }
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(self.reject(
                tonic::Code::InvalidArgument,
                format!("Hello: empty {}", missing.join(", ")),
            ))
        }
    }

    async fn receive_upload(
        &self,
        mut stream: tonic::Streaming<BatonServiceUploadAssetRequest>,
    ) -> Result<(String, Vec<u8>, usize, std::time::Instant), Status> {
        let first = stream.message().await?;
        let Some(BatonServiceUploadAssetRequest {
            msg: Some(Msg::Metadata(meta)),
        }) = first
        else {
            return Err(self.reject(
                tonic::Code::InvalidArgument,
                "UploadAsset: the first message is not metadata".into(),
            ));
        };
        self.check_host("UploadAsset", &meta.host_id)?;
        if !self.check_outstanding("UploadAsset", &meta.task_id)? {
            return Err(self.reject(
                tonic::Code::InvalidArgument,
                "UploadAsset: not a sync task".into(),
            ));
        }
        let task_id = meta.task_id;
        let started = std::time::Instant::now();
        let mut bytes = Vec::new();
        let mut chunks = 0usize;
        let mut hasher = ring::digest::Context::new(&ring::digest::SHA256);
        loop {
            let Some(message) = stream.message().await? else {
                return Err(self.reject(
                    tonic::Code::InvalidArgument,
                    "UploadAsset: the stream ended without eof".into(),
                ));
            };
            match message.msg {
                Some(Msg::Data(data)) => {
                    if data.data.is_empty() || data.data.len() > MAX_CHUNK {
                        return Err(self.reject(
                            tonic::Code::InvalidArgument,
                            format!("UploadAsset: a data message of {} bytes", data.data.len()),
                        ));
                    }
                    let broken = self.state.with(|s| {
                        let broken = s.knobs.break_uploads > 0;
                        if broken {
                            s.knobs.break_uploads -= 1;
                        }
                        broken
                    });
                    if broken {
                        self.state.record(Call::Upload {
                            task_id,
                            bytes: bytes.len(),
                            chunks,
                            accepted: false,
                            took: started.elapsed(),
                        });
                        return Err(Status::unavailable("upload stream broken (fault knob)"));
                    }
                    hasher.update(&data.data);
                    bytes.extend_from_slice(&data.data);
                    chunks += 1;
                }
                Some(Msg::Eof(eof)) => {
                    if eof.sha256_checksum.len() != 32
                        || eof.sha256_checksum != hasher.finish().as_ref()
                    {
                        return Err(self.reject(
                            tonic::Code::InvalidArgument,
                            "UploadAsset: eof checksum is not the SHA-256 of the data".into(),
                        ));
                    }
                    if stream.message().await?.is_some() {
                        return Err(self.reject(
                            tonic::Code::InvalidArgument,
                            "UploadAsset: messages after eof".into(),
                        ));
                    }
                    return Ok((task_id, bytes, chunks, started));
                }
                Some(Msg::Metadata(_)) | None => {
                    return Err(self.reject(
                        tonic::Code::InvalidArgument,
                        "UploadAsset: metadata or empty message after the first".into(),
                    ));
                }
            }
        }
    }
}

/// Opens an uploaded c1z with baton-c1z: magic, one finished sync, counts.
fn inspect(bytes: &[u8]) -> Result<Uploaded, String> {
    if !bytes.starts_with(&baton_c1z::C1Z_V1_MAGIC) {
        return Err("not a v1 c1z (no C1ZF magic)".into());
    }
    let mut file = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    std::io::Write::write_all(&mut file, bytes).map_err(|e| e.to_string())?;
    let reader = baton_c1z::C1zReader::open(file.path(), baton_c1z::ReaderOptions::default())
        .map_err(|e| e.to_string())?;
    let runs = reader.sync_runs().map_err(|e| e.to_string())?;
    let [run] = runs.as_slice() else {
        return Err(format!("{} sync runs instead of one", runs.len()));
    };
    if !run.is_finished() {
        return Err("the sync run is not finished".into());
    }
    let view = reader.sync(&run.sync_id).map_err(|e| e.to_string())?;
    let stats = view.stats().map_err(|e| e.to_string())?;
    Ok(Uploaded {
        bytes: bytes.to_vec(),
        sync_type: run.sync_type.clone(),
        resource_types: stats.resource_types,
        resources: stats.resources,
        entitlements: stats.entitlements,
        grants: stats.grants,
    })
}

#[tonic::async_trait]
impl BatonService for Service {
    async fn hello(
        &self,
        request: Request<BatonServiceHelloRequest>,
    ) -> Result<Response<BatonServiceHelloResponse>, Status> {
        self.authorize("Hello", &request)?;
        let req = request.into_inner();
        self.state.record(Call::Hello(Box::new(req.clone())));
        if let Some(code) = self.state.with(|s| s.knobs.fail_hello.pop_front()) {
            return Err(Status::new(code, "Hello failed (fault knob)"));
        }
        self.check_hello(&req)?;
        Ok(Response::new(BatonServiceHelloResponse::default()))
    }

    async fn get_task(
        &self,
        request: Request<BatonServiceGetTaskRequest>,
    ) -> Result<Response<BatonServiceGetTaskResponse>, Status> {
        self.authorize("GetTask", &request)?;
        let req = request.into_inner();
        self.check_host("GetTask", &req.host_id)?;
        if let Some(code) = self.state.with(|s| s.knobs.fail_get_task.pop_front()) {
            self.state.record(Call::GetTask { task_id: None });
            return Err(Status::new(code, "GetTask failed (fault knob)"));
        }
        let (task, next_poll, next_heartbeat) = self.state.with(|s| {
            let task = s.queue.pop_front();
            if let Some(t) = &task
                && !matches!(t.task_type, Some(TaskType::None(_)))
            {
                s.outstanding.insert(
                    t.id.clone(),
                    matches!(t.task_type, Some(TaskType::SyncFull(_))),
                );
            }
            (task, s.knobs.next_poll, s.knobs.next_heartbeat)
        });
        self.state.record(Call::GetTask {
            task_id: task.as_ref().map(|t| t.id.clone()),
        });
        Ok(Response::new(BatonServiceGetTaskResponse {
            task,
            next_poll: Some(duration(next_poll)),
            next_heartbeat: Some(duration(next_heartbeat)),
            annotations: Vec::new(),
        }))
    }

    async fn get_tasks(
        &self,
        request: Request<BatonServiceGetTasksRequest>,
    ) -> Result<Response<BatonServiceGetTasksResponse>, Status> {
        self.authorize("GetTasks", &request)?;
        Err(Status::unimplemented(
            "GetTasks is not offered by this fake tenant",
        ))
    }

    async fn heartbeat(
        &self,
        request: Request<BatonServiceHeartbeatRequest>,
    ) -> Result<Response<BatonServiceHeartbeatResponse>, Status> {
        self.authorize("Heartbeat", &request)?;
        let req = request.into_inner();
        self.check_host("Heartbeat", &req.host_id)?;
        if !self.check_outstanding("Heartbeat", &req.task_id)? {
            return Err(self.reject(
                tonic::Code::InvalidArgument,
                "Heartbeat for a task that is not a sync".into(),
            ));
        }
        let (fail, cancelled, next) = self.state.with(|s| {
            let fail = s.knobs.fail_heartbeats > 0;
            if fail {
                s.knobs.fail_heartbeats -= 1;
            }
            (
                fail,
                s.knobs.cancel.contains(&req.task_id),
                s.knobs.next_heartbeat,
            )
        });
        self.state.record(Call::Heartbeat {
            task_id: req.task_id.clone(),
            failed: fail,
        });
        if fail {
            return Err(Status::unavailable("heartbeat failed (fault knob)"));
        }
        Ok(Response::new(BatonServiceHeartbeatResponse {
            next_heartbeat: Some(duration(next)),
            cancelled,
            ..Default::default()
        }))
    }

    async fn finish_task(
        &self,
        request: Request<BatonServiceFinishTaskRequest>,
    ) -> Result<Response<BatonServiceFinishTaskResponse>, Status> {
        self.authorize("FinishTask", &request)?;
        let req = request.into_inner();
        self.check_host("FinishTask", &req.host_id)?;
        self.state.record(Call::FinishTask(Box::new(req.clone())));
        self.check_outstanding("FinishTask", &req.task_id)?;
        match (&req.final_state, &req.status) {
            (None, _) => {
                return Err(self.reject(
                    tonic::Code::InvalidArgument,
                    "FinishTask: final_state unset".into(),
                ));
            }
            (Some(FinalState::Error(_)), None) => {
                return Err(self.reject(
                    tonic::Code::InvalidArgument,
                    "FinishTask: error without status".into(),
                ));
            }
            (Some(FinalState::Error(_)), Some(s)) if s.code == 0 => {
                return Err(self.reject(
                    tonic::Code::InvalidArgument,
                    "FinishTask: error with status OK".into(),
                ));
            }
            (Some(FinalState::Success(_)), Some(_)) => {
                return Err(self.reject(
                    tonic::Code::InvalidArgument,
                    "FinishTask: success with a status".into(),
                ));
            }
            _ => {}
        }
        self.state.with(|s| s.outstanding.remove(&req.task_id));
        Ok(Response::new(BatonServiceFinishTaskResponse::default()))
    }

    async fn upload_asset(
        &self,
        request: Request<tonic::Streaming<BatonServiceUploadAssetRequest>>,
    ) -> Result<Response<BatonServiceUploadAssetResponse>, Status> {
        self.authorize("UploadAsset", &request)?;
        let (task_id, bytes, chunks, started) = self.receive_upload(request.into_inner()).await?;
        let size = bytes.len();
        let took = started.elapsed();
        let inspected = tokio::task::spawn_blocking(move || inspect(&bytes))
            .await
            .map_err(|e| Status::internal(e.to_string()))?;
        match inspected {
            Ok(uploaded) => {
                self.state.record(Call::Upload {
                    task_id: task_id.clone(),
                    bytes: size,
                    chunks,
                    accepted: true,
                    took,
                });
                self.state.with(|s| s.uploads.insert(task_id, uploaded));
                Ok(Response::new(BatonServiceUploadAssetResponse::default()))
            }
            Err(why) => {
                self.state.record(Call::Upload {
                    task_id,
                    bytes: size,
                    chunks,
                    accepted: false,
                    took,
                });
                Err(self.reject(tonic::Code::InvalidArgument, format!("UploadAsset: {why}")))
            }
        }
    }

    async fn start_debugging(
        &self,
        _request: Request<StartDebuggingRequest>,
    ) -> Result<Response<StartDebuggingResponse>, Status> {
        Err(Status::unimplemented(
            "StartDebugging is never called by connectors",
        ))
    }
}
