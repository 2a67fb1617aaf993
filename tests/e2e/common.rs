//! Shared helpers: starting segment-mock, running the `segment-cli` program, reading c1z files.

use std::path::{Path, PathBuf};

use segment_mock::{MockConfig, MockServer, Workspace};

/// The token the mock accepts in these tests: distinctive, so that any leak is found.
pub(crate) const TOKEN: &str = "e2e-tok-Zq8SECRETv7Kp3";

/// `tests/fixtures/<name>`.
pub(crate) fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// The hand-written small workspace.
pub(crate) fn small_workspace() -> Workspace {
    Workspace::from_json_file(fixture_path("small-workspace.json")).unwrap()
}

/// A mock configuration with the test token and no write limit.
pub(crate) fn config(workspace: Workspace) -> MockConfig {
    MockConfig::new(workspace)
        .token(TOKEN)
        .write_limit_per_min(None)
}

/// Starts a mock serving `workspace`.
pub(crate) async fn start(workspace: Workspace) -> MockServer {
    MockServer::start(config(workspace)).await.unwrap()
}

/// What one run of the program did.
#[derive(Debug)]
pub(crate) struct Output {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Output {
    /// Panics (showing both streams) unless the exit code is `code`.
    #[track_caller]
    pub(crate) fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code {} instead of {code}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    /// stdout parsed as one JSON document.
    #[track_caller]
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\n--- stderr\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// The lines of stderr that are not JSON log records.
    pub(crate) fn stderr_plain_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| !l.trim_start().starts_with('{'))
            .collect()
    }
}

/// Arguments from string slices.
pub(crate) fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// The connection flags for `server`: base URL, token, no client-side pacing.
pub(crate) fn conn(server: &MockServer) -> Vec<String> {
    args(&[
        "--base-url",
        &server.base_url(),
        "--token",
        TOKEN,
        "--max-reads-per-minute",
        "0",
        "--max-writes-per-minute",
        "0",
    ])
}

/// `conn(server)` followed by `rest`.
pub(crate) fn with_conn(server: &MockServer, rest: &[&str]) -> Vec<String> {
    let mut all = conn(server);
    all.extend(args(rest));
    all
}

/// Runs the program in `dir` with `args` and extra environment variables (any `BATON_*`
/// variable of the test's own environment is removed first; logs are json lines unless
/// `BATON_LOG_FORMAT` or `--log-format` says otherwise).
pub(crate) async fn run_env(dir: &Path, args: &[String], envs: &[(&str, &str)]) -> Output {
    let mut cmd = command(dir);
    cmd.args(args);
    cmd.env("BATON_LOG_FORMAT", "json");
    for (key, value) in envs {
        cmd.env(key, value);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The program, to run in `dir`, without the test's own `BATON_*` variables.
pub(crate) fn command(dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_segment-cli-e2e"));
    cmd.current_dir(dir);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("BATON_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// Runs the program in `dir` with `args`.
pub(crate) async fn run(dir: &Path, args: &[String]) -> Output {
    run_env(dir, args, &[]).await
}

/// The SQLite database inside a c1z file (magic + one zstd frame).
pub(crate) fn decompressed(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..5], b"C1ZF\0", "not a v1 c1z file");
    zstd::decode_all(&bytes[5..]).unwrap()
}

/// Whether `needle` occurs in `haystack`.
pub(crate) fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
