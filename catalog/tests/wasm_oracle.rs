//! Every catalog program, compiled to wasm (C with the tvm clang command,
//! all its sources linked together; WAT with the `wat` crate) and run on
//! wasmi through `tvm-oracle` under the tvm conventions (its manifest
//! arguments and standard input), must produce exactly its expected output
//! and end with the expected exit status or trap.
//!
//! Prints the wasmi fuel of each run (≈ executed instructions; see
//! `tvm_oracle`) so the sizes of the programs are visible with
//! `cargo test -p tvm-catalog --test wasm_oracle -- --nocapture`.

mod common;

use tvm_catalog::{ExpectedStatus, Manifest};
use tvm_oracle::{Status, run, run_with_stdin};

/// Far above the largest program (the sudoku needs under a million).
const FUEL_LIMIT: u64 = 50_000_000;

#[test]
fn every_program_matches_on_the_oracle() {
    let manifest = Manifest::builtin().unwrap();
    let mut failures = Vec::new();

    for program in &manifest {
        let wasm = common::wasm_of(program);
        let args = program.args();
        let stdin = program.read_stdin().unwrap();
        let outcome = match run_with_stdin(
            &wasm,
            program.program_name(),
            &args,
            &stdin,
            Some(FUEL_LIMIT),
        ) {
            Ok(outcome) => outcome,
            Err(e) => {
                failures.push(format!("{}: {e}", program.name()));
                continue;
            }
        };
        eprintln!(
            "{:<18} fuel {:>9}  output {:>5} bytes  wasm {:>6} bytes  {:?}",
            program.name(),
            outcome.fuel_consumed.unwrap_or(0),
            outcome.output.len(),
            wasm.len(),
            outcome.status
        );

        let expected = program.read_expected_output().unwrap();
        if outcome.output != expected {
            failures.push(format!(
                "{}: output differs from {}\n--- wasmi ---\n{}\n--- expected ---\n{}",
                program.name(),
                program.expected_output().display(),
                String::from_utf8_lossy(&outcome.output),
                String::from_utf8_lossy(&expected)
            ));
        }
        let status_ok = match (&outcome.status, program.expected_status()) {
            (Status::Exited(got), ExpectedStatus::Exit(want)) => *got == want,
            (Status::Trapped(kind), ExpectedStatus::Trap(trap)) => kind.name() == trap.as_str(),
            _ => false,
        };
        if !status_ok {
            failures.push(format!(
                "{}: ended with {:?}, manifest expects {:?}",
                program.name(),
                outcome.status,
                program.expected_status()
            ));
        }
    }

    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The oracle does see a wrong expectation: a program run with other
/// arguments than the manifest's produces other output.
#[test]
fn different_arguments_give_different_output() {
    let manifest = Manifest::builtin().unwrap();
    let program = manifest.program("fibonacci").unwrap();
    let wasm = common::wasm_of(program);
    let outcome = run(&wasm, program.program_name(), &["5"], Some(FUEL_LIMIT)).unwrap();
    assert_ne!(outcome.output, program.read_expected_output().unwrap());
    assert!(outcome.output.ends_with(b"fib(5) = 5\n"));
    assert_eq!(outcome.status, Status::Exited(0));
}
