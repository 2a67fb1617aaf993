//! Prints the command-line reference (`docs/CLI.md`); used by `cargo xtask codegen`.
#![allow(clippy::print_stdout)]

fn main() {
    print!("{}", segment_cli::cli_reference());
}
