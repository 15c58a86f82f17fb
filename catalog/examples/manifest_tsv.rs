//! Prints the built-in manifest as tab-separated lines for shell scripts
//! (`regen-expected.sh`):
//!
//! `name  argv0  source  expected_output  status  args  stdin`
//!
//! (`stdin` is the standard-input file, or `-` for none)
//!
//! where paths are relative to the catalog directory and `status` is
//! `exit N` or `trap NAME`. Exits with status 1 if the manifest is invalid.

use std::process::ExitCode;

use tvm_catalog::{ExpectedStatus, Manifest};

fn main() -> ExitCode {
    let manifest = match Manifest::builtin() {
        Ok(manifest) => manifest,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    for program in &manifest {
        let status = match program.expected_status() {
            ExpectedStatus::Exit(code) => format!("exit {code}"),
            ExpectedStatus::Trap(trap) => format!("trap {trap}"),
        };
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
            program.name(),
            program.program_name(),
            program.source().display(),
            program.expected_output().display(),
            status,
            program.args().join(" "),
            program
                .stdin()
                .map_or_else(|| "-".to_owned(), |p| p.display().to_string())
        );
    }
    ExitCode::SUCCESS
}
