//! `tvm`: compile programs into a token machine, build the transformer
//! that runs it, and run programs token by token. A thin layer over the
//! workspace crates: argument parsing, files and reporting only.

mod cli;

use std::process::ExitCode;

#[global_allocator]
static HEAP: cli::memory::Counting = cli::memory::Counting;

fn main() -> ExitCode {
    cli::main()
}
