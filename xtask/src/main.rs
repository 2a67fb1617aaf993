//! `cargo xtask`: project automation (`codegen`, `tidy`, `bench`, `release`).
//!
//! Plain `std::env::args` parsing; every subcommand lives in its own module.
//! This binary prints on purpose: it is a developer tool, not a library.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod codegen;
mod codegen_service;
mod release;
mod sync_matrix;
mod tidy;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  codegen [--check]   regenerate baton-model and c1-proto pb.rs from the .proto files
                      (--check: fail if the committed file is stale)
  tidy                check //! headers on every .rs file and the dependency rules
  bench [criterion|scale|sync-matrix|all]
                      criterion benches (default), the release-mode scale runs
                      whose figures docs/BENCHMARKS.md records, or the sync under
                      server rate limits (sync-matrix writes its table there)
  release [--dry-run] build and package segment-cli and segment-mock into dist/";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["codegen"] => codegen::run(codegen::Mode::Write),
        ["codegen", "--check"] => codegen::run(codegen::Mode::Check),
        ["tidy"] => tidy::run(),
        ["bench", rest @ ..] if rest.len() <= 1 => match bench::Which::parse(rest.first().copied())
        {
            Some(which) => bench::run(which),
            None => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        },
        ["release"] => release::run(false),
        ["release", "--dry-run"] => release::run(true),
        ["help" | "--help" | "-h"] => {
            println!("{USAGE}");
            Ok(())
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (the directory holding the root `Cargo.toml`).
pub(crate) fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(1)
        .unwrap_or_else(|| Path::new("."))
        .to_path_buf()
}
