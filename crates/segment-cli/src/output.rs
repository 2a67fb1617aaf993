//! Everything the program prints goes through here: results on stdout, the final error line on
//! stderr. (Logs go through `tracing`, see `logging`.)

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write as _;

/// Prints a result line (or block) on stdout.
pub(crate) fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    // A closed stdout (e.g. `| head`) is not worth failing over.
    let _ = writeln!(stdout, "{text}");
    let _ = stdout.flush();
}

/// Prints a JSON value on stdout (pretty, one document).
pub(crate) fn out_json(value: &serde_json::Value) {
    out(&serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string()));
}

/// Prints the one-line error on stderr.
pub(crate) fn error_line(message: &str) {
    eprintln!("error: {message}");
}
