//! Prints the built-in manifest for shell scripts (`regen-expected.sh`) as
//! NUL-terminated fields, so that no path or argument needs quoting (an
//! argument may hold spaces, tabs or newlines; it cannot hold a NUL). Per
//! program, in manifest order:
//!
//! `name  argv0  expected_output  status  stdin  N  source×N  M  arg×M`
//!
//! where paths are relative to the catalog directory, `status` is `exit N`
//! or `trap NAME`, `stdin` is the standard-input file or the empty string
//! for none, `N` counts the sources (in build order) and `M` the arguments
//! after argv[0] (verbatim). Read one field in bash with
//! `IFS= read -r -d '' field`. Exits with status 1 if the manifest is
//! invalid.

use std::io::Write;
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
    let mut out = Vec::new();
    let mut field = |text: &str| {
        out.extend_from_slice(text.as_bytes());
        out.push(0);
    };
    for program in &manifest {
        let status = match program.expected_status() {
            ExpectedStatus::Exit(code) => format!("exit {code}"),
            ExpectedStatus::Trap(trap) => format!("trap {trap}"),
        };
        field(program.name());
        field(program.program_name());
        field(&program.expected_output().display().to_string());
        field(&status);
        field(
            &program
                .stdin()
                .map_or_else(String::new, |p| p.display().to_string()),
        );
        field(&program.sources().len().to_string());
        for source in program.sources() {
            field(&source.display().to_string());
        }
        let args = program.args();
        field(&args.len().to_string());
        for arg in args {
            field(arg);
        }
    }
    let mut stdout = std::io::stdout().lock();
    if stdout
        .write_all(&out)
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
