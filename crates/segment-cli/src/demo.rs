//! `sync --demo`: a generated workspace served in-process by segment-mock. Only in builds with
//! the (default) `demo` feature; without it the product binary does not contain segment-mock
//! and `--demo` is refused with one line.

use crate::connect::Target;

/// The in-process demo server and what it serves.
#[cfg(feature = "demo")]
#[derive(Debug)]
pub(crate) struct Demo {
    server: segment_mock::MockServer,
    seed: u64,
    workspace_name: String,
}

#[cfg(feature = "demo")]
impl Demo {
    /// Starts the server; returns it with the target to sync from.
    pub(crate) async fn start() -> anyhow::Result<(Self, Target)> {
        use anyhow::Context as _;
        let spec = segment_mock::GenSpec::default();
        let workspace = segment_mock::generate(&spec);
        let workspace_name = workspace.name.clone();
        let server = segment_mock::MockServer::start(segment_mock::MockConfig::new(workspace))
            .await
            .context("cannot start the demo server (segment-mock)")?;
        let target = Target {
            base_url: server.base_url(),
            token: segment_api::Token::new(server.token()),
        };
        let demo = Self {
            server,
            seed: spec.seed,
            workspace_name,
        };
        Ok((demo, target))
    }

    /// The `demo` object of the JSON summary.
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "base_url": self.server.base_url(),
            "workspace": self.workspace_name,
            "seed": self.seed,
        })
    }

    /// The first line of the text summary.
    pub(crate) fn describe(&self) -> String {
        format!(
            "Demo: synced the generated workspace {:?} (segment-mock, seed {}, served in-process \
             at {} for this run only)",
            self.workspace_name,
            self.seed,
            self.server.base_url()
        )
    }

    /// Stops the server.
    pub(crate) async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

/// Uninhabited: this build has no demo.
#[cfg(not(feature = "demo"))]
#[derive(Debug)]
pub(crate) enum Demo {}

#[cfg(not(feature = "demo"))]
impl Demo {
    pub(crate) async fn start() -> anyhow::Result<(Self, Target)> {
        anyhow::bail!(
            "this segment-cli was built without the `demo` feature: --demo is not available"
        )
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        match *self {}
    }

    pub(crate) fn describe(&self) -> String {
        match *self {}
    }

    pub(crate) async fn shutdown(self) {
        match self {}
    }
}
