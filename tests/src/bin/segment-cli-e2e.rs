//! The `segment-cli` program under test (see `Cargo.toml`): the same entry point as the
//! `segment-cli` binary.

fn main() -> std::process::ExitCode {
    segment_cli::main()
}
