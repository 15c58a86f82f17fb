//! `tvm`: compile programs into a token machine, run them, and (in later
//! stages) into transformer weights. A thin layer over the workspace crates:
//! argument parsing, files and reporting only.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
