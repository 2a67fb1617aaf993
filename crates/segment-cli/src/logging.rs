//! Logging through `tracing` to stderr, as baton connectors do: `--log-level` and
//! `--log-format` (`console`, or `json` lines).

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

use crate::cli::{LogFormat, LogLevel};

/// The format used when `--log-format` is absent: baton's rule, console when stdout is a
/// terminal, else json.
pub(crate) fn default_format() -> LogFormat {
    if std::io::stdout().is_terminal() {
        LogFormat::Console
    } else {
        LogFormat::Json
    }
}

/// The filter for a level: our crates at `level`; the HTTP stack and the in-process mock
/// server (demo) one notch quieter so that `--log-level debug` stays readable.
fn filter(level: LogLevel) -> EnvFilter {
    let ours = match level {
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
        LogLevel::Warn => "warn",
        LogLevel::Error => "error",
    };
    let deps = match level {
        LogLevel::Debug | LogLevel::Info | LogLevel::Warn => "warn",
        LogLevel::Error => "error",
    };
    let directives = format!(
        "{ours},hyper={deps},hyper_util={deps},reqwest={deps},h2={deps},rustls={deps},\
         tower={deps},axum={deps},segment_mock={deps}"
    );
    EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new(ours))
}

/// Installs the global subscriber (once per process; later calls are no-ops).
pub(crate) fn init(level: LogLevel, format: Option<LogFormat>) {
    let format = format.unwrap_or_else(default_format);
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter(level));
    // `try_init` fails only when a subscriber is already installed (tests run `main` more than
    // once in a process); the first one stays.
    let _ = match format {
        LogFormat::Json => builder.json().with_current_span(false).try_init(),
        LogFormat::Console => builder
            .with_ansi(std::io::stderr().is_terminal())
            .with_target(false)
            .try_init(),
    };
}
