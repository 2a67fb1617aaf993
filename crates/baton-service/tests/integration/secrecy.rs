//! The client secret and the access tokens appear in no log line, error or `Debug` output.

use std::io::Write;
use std::sync::{Arc, Mutex};

use c1_mock::C1Mock;
use c1_proto::baton::task::{SyncFullTask, TaskType};

use crate::support::{Harness, WAIT};

/// A `MakeWriter` collecting everything logged.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_secret_appears_in_no_output() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    // Global, not scoped: tracing caches per-callsite interest across threads, so a scoped
    // subscriber misses events while other tests run. Other tests' logs land here too.
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let mut h = Harness::start(|_| {}).await;
    let secret = h.mock.client_secret().expose().to_owned();
    let payload = secret.rsplit(':').next().unwrap().to_owned();
    let id = h
        .mock
        .push_task(TaskType::SyncFull(SyncFullTask::default()));
    assert!(h.mock.wait_finished(&id, WAIT).await.is_some());
    h.stop().await.unwrap();

    // A refused token too: its error and logs.
    let mock = C1Mock::start().await.unwrap();
    mock.refuse_tokens(true);
    let mut refused = Harness::start_with(mock, |_| {}).await;
    let err = refused.join().await.unwrap_err();

    let config = Harness::config(&h.mock, &h.clock, h.temp.path());
    let texts = [
        String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned(),
        err.to_string(),
        format!("{err:?}"),
        format!("{config:?}"),
        format!("{:?}", h.mock.client_secret()),
        format!("{:?}", baton_service::ClientSecret::parse(&secret).unwrap()),
    ];
    assert!(
        texts[0].contains("task succeeded"),
        "logs were captured: {}",
        texts[0]
    );
    for text in &texts {
        assert!(!text.contains(&payload), "the secret leaked into: {text}");
        assert!(
            !text.to_lowercase().contains("bearer "),
            "a token leaked into: {text}"
        );
    }
}
