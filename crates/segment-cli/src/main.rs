//! The `segment-cli` binary: see the library crate (`segment_cli`) and `segment-cli --help`.

fn main() -> std::process::ExitCode {
    segment_cli::main()
}
