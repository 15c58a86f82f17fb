//! Runs a `.wasm` or `.wat` file on the oracle.
//!
//! Usage: `cargo run -p tvm-oracle --example run -- [--stdin INPUT] FILE [ARGS...]`
//!
//! With `--stdin INPUT` the program reads that file's bytes as its standard
//! input (none otherwise).
//! The program's output goes to stdout unchanged; a summary line (status or
//! trap, fuel) goes to stderr. argv[0] is the file stem. The process exits
//! with the program's exit status (low 8 bits), or 101 after a trap, or 102
//! if the module could not be run.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use tvm_oracle::{Status, run_with_stdin};

fn main() -> ExitCode {
    let mut argv = std::env::args().skip(1).peekable();
    let mut stdin = Vec::new();
    if argv.peek().is_some_and(|a| a == "--stdin") {
        argv.next();
        let Some(input) = argv.next() else {
            eprintln!("usage: run [--stdin INPUT] FILE [ARGS...]");
            return ExitCode::from(102);
        };
        stdin = match std::fs::read(&input) {
            Ok(bytes) => bytes,
            Err(e) => {
                eprintln!("cannot read {input}: {e}");
                return ExitCode::from(102);
            }
        };
    }
    let Some(file) = argv.next() else {
        eprintln!("usage: run [--stdin INPUT] FILE [ARGS...]");
        return ExitCode::from(102);
    };
    let args: Vec<String> = argv.collect();
    let path = Path::new(&file);
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("cannot read {file}: {e}");
            return ExitCode::from(102);
        }
    };
    let wasm = if path.extension().is_some_and(|e| e == "wat") {
        match wat::parse_bytes(&bytes) {
            Ok(wasm) => wasm.into_owned(),
            Err(e) => {
                eprintln!("{file}: {e}");
                return ExitCode::from(102);
            }
        }
    } else {
        bytes
    };
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match run_with_stdin(&wasm, &name, &args, &stdin, Some(u64::MAX / 2)) {
        Ok(outcome) => {
            let mut stdout = std::io::stdout();
            if stdout.write_all(&outcome.output).is_err() || stdout.flush().is_err() {
                return ExitCode::from(102);
            }
            let fuel = outcome.fuel_consumed.unwrap_or(0);
            match outcome.status {
                Status::Exited(status) => {
                    eprintln!(
                        "exit {status}, fuel {fuel}, {} output bytes",
                        outcome.output.len()
                    );
                    ExitCode::from(status.to_le_bytes()[0])
                }
                Status::Trapped(kind) => {
                    eprintln!(
                        "trap: {kind}, fuel {fuel}, {} output bytes",
                        outcome.output.len()
                    );
                    ExitCode::from(101)
                }
            }
        }
        Err(e) => {
            eprintln!("{file}: {e}");
            ExitCode::from(102)
        }
    }
}
