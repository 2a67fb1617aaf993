//! The service loop (docs/c1-service-mode.md §7.1, §7.2): startup Hello with backoff, GetTask
//! polling with bounded concurrency, and graceful shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use c1_proto::baton::task::TaskType;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::client::BatonClient;
use crate::clock::{Clock, Wait};
use crate::config::{MAX_TASK_CONCURRENCY, ServiceConfig};
use crate::connector::Connector;
use crate::credentials::{ClientId, ClientSecret};
use crate::task::{self, TaskContext};
use crate::{ServiceError, health};

/// Longest wait between polls the server may ask for.
const MAX_POLL: Duration = Duration::from_secs(300);
/// Longest GetTask backoff.
const MAX_POLL_BACKOFF: Duration = Duration::from_secs(60);
/// First and longest startup-Hello backoff.
const HELLO_BACKOFF_START: Duration = Duration::from_secs(1);
const HELLO_BACKOFF_MAX: Duration = Duration::from_secs(300);

/// Hello errors that end the process instead of being retried (§7.1).
const FATAL_HELLO_CODES: &[tonic::Code] = &[
    tonic::Code::Unauthenticated,
    tonic::Code::PermissionDenied,
    tonic::Code::InvalidArgument,
    tonic::Code::Unimplemented,
    tonic::Code::FailedPrecondition,
    tonic::Code::NotFound,
];

/// Runs service mode until `shutdown` completes (then running tasks get
/// [`ServiceConfig::shutdown_grace`] to finish, after which they are finished as cancelled)
/// or until ConductorOne refuses the credentials.
///
/// The client id and secret are checked before any network I/O.
pub async fn run<C, S>(config: ServiceConfig, connector: C, shutdown: S) -> Result<(), ServiceError>
where
    C: Connector,
    S: Future<Output = ()> + Send + 'static,
{
    let id = ClientId::parse(&config.client_id)?;
    let secret = ClientSecret::parse(&config.client_secret)?;
    if !(1..=MAX_TASK_CONCURRENCY).contains(&config.task_concurrency) {
        return Err(ServiceError::Config(format!(
            "task concurrency must be 1 to {MAX_TASK_CONCURRENCY}, not {}",
            config.task_concurrency
        )));
    }
    if !config.temp_dir.is_dir() {
        return Err(ServiceError::TempDir {
            path: config.temp_dir.clone(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory"),
        });
    }
    let connector = Arc::new(connector);
    let client = BatonClient::new(
        id,
        secret,
        config.api_host.as_deref(),
        &config.host_id,
        config.extra_ca_pem.as_deref(),
        &config.build,
        connector.metadata(),
    )?;
    let clock = config.clock.clone();
    let ctx = Arc::new(TaskContext {
        client,
        connector: connector.clone(),
        clock: clock.clone(),
        provisioning: config.provisioning,
        skip_full_sync: config.skip_full_sync,
        temp_dir: config.temp_dir.clone(),
        sync_resource_types: config.sync_resource_types.clone(),
    });
    let ready = Arc::new(AtomicBool::new(false));
    let health = match config.health {
        Some(addr) => Some(health::serve(addr, connector.clone(), ready.clone()).await?),
        None => None,
    };
    let stop = CancellationToken::new();
    let _stop_on_return = stop.clone().drop_guard();
    let watcher = tokio::spawn({
        let stop = stop.clone();
        async move {
            tokio::select! {
                () = shutdown => stop.cancel(),
                () = stop.cancelled() => {}
            }
        }
    });
    let outcome = serve(&config, &ctx, &clock, &stop, &ready).await;
    watcher.abort();
    if let Some(h) = health {
        h.abort();
    }
    tracing::info!("stopped");
    outcome
}

/// Hello, then the poll loop until `stop`, then the graceful end of running tasks.
async fn serve<C: Connector>(
    config: &ServiceConfig,
    ctx: &Arc<TaskContext<C>>,
    clock: &Arc<dyn Clock>,
    stop: &CancellationToken,
    ready: &AtomicBool,
) -> Result<(), ServiceError> {
    // Startup Hello.
    let mut delay = HELLO_BACKOFF_START;
    loop {
        let attempt = tokio::select! {
            () = stop.cancelled() => return Ok(()),
            r = ctx.client.hello("") => r,
        };
        match attempt {
            Ok(()) => break,
            Err(status) if FATAL_HELLO_CODES.contains(&status.code()) => {
                return Err(fatal(status));
            }
            Err(status) => {
                tracing::warn!(code = ?status.code(), message = status.message(), retry_in = ?delay, "Hello failed");
                tokio::select! {
                    () = stop.cancelled() => return Ok(()),
                    () = clock.sleep(Wait::HelloBackoff, delay) => {}
                }
                delay = (delay * 2).min(HELLO_BACKOFF_MAX);
            }
        }
    }
    tracing::info!(host_id = %config.host_id, concurrency = config.task_concurrency, provisioning = config.provisioning, "connected to ConductorOne; polling for tasks");
    ready.store(true, Ordering::SeqCst);

    let slots = Arc::new(Semaphore::new(config.task_concurrency));
    let stop_tasks = CancellationToken::new();
    let mut tasks = JoinSet::new();
    let mut wait = (Wait::Poll, Duration::ZERO);
    let mut errors = 0u32;
    let mut outcome = Ok(());
    loop {
        while let Some(done) = tasks.try_join_next() {
            if let Err(e) = done {
                tracing::error!(error = %e, "a task panicked");
            }
        }
        tokio::select! {
            () = stop.cancelled() => break,
            () = clock.sleep(wait.0, wait.1) => {}
        }
        let permit = tokio::select! {
            () = stop.cancelled() => break,
            permit = slots.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        // Not interrupted by the shutdown signal: a task the tenant handed out must be
        // answered (GetTask has its own deadline).
        let polled = ctx.client.get_task().await;
        match polled {
            Err(status) => {
                drop(permit);
                if matches!(
                    status.code(),
                    tonic::Code::Unauthenticated | tonic::Code::PermissionDenied
                ) {
                    outcome = Err(fatal(status));
                    break;
                }
                errors += 1;
                let backoff = Duration::from_secs(u64::from(errors).pow(2)).min(MAX_POLL_BACKOFF);
                tracing::warn!(code = ?status.code(), message = status.message(), retry_in = ?backoff, "GetTask failed");
                wait = (Wait::PollBackoff, backoff);
            }
            Ok(response) => {
                errors = 0;
                let next = response
                    .next_poll
                    .and_then(|d| Duration::try_from(d).ok())
                    .unwrap_or(Duration::ZERO)
                    .min(MAX_POLL);
                let task = response
                    .task
                    .filter(|t| !matches!(t.task_type, Some(TaskType::None(_))));
                match task {
                    None => {
                        drop(permit);
                        wait = (Wait::Poll, next.max(config.min_poll_interval));
                    }
                    Some(task) if stop.is_cancelled() => {
                        drop(permit);
                        task::refuse_while_stopping(ctx, task).await;
                        break;
                    }
                    Some(task) => {
                        let ctx = ctx.clone();
                        let cancel = stop_tasks.child_token();
                        tasks.spawn(async move {
                            let _slot = permit;
                            task::handle(ctx, task, cancel).await;
                        });
                        wait = (Wait::Poll, next);
                    }
                }
            }
        }
    }

    // Shutdown: no more polling; running tasks get the grace period.
    if !tasks.is_empty() {
        tracing::info!(running = tasks.len(), grace = ?config.shutdown_grace, "stopping: waiting for running tasks");
        let drained = tokio::select! {
            () = drain(&mut tasks) => true,
            () = clock.sleep(Wait::Grace, config.shutdown_grace) => false,
        };
        if !drained {
            tracing::warn!(
                running = tasks.len(),
                "grace period over: cancelling running tasks"
            );
            stop_tasks.cancel();
            drain(&mut tasks).await;
        }
    }
    outcome
}

async fn drain(tasks: &mut JoinSet<()>) {
    while let Some(done) = tasks.join_next().await {
        if let Err(e) = done {
            tracing::error!(error = %e, "a task panicked");
        }
    }
}

fn fatal(status: tonic::Status) -> ServiceError {
    match status.code() {
        tonic::Code::Unauthenticated | tonic::Code::PermissionDenied => {
            ServiceError::Unauthenticated(status.message().to_owned())
        }
        code => ServiceError::HelloRejected {
            code,
            message: status.message().to_owned(),
        },
    }
}
