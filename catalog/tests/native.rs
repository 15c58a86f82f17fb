//! Every C program of the catalog, built with the host C compiler and C
//! library (`$CC`, default `cc`, `-O2`, nothing from tvm) and run natively
//! with its manifest arguments (verbatim: one `argv` entry each) and
//! standard input, must print exactly its expected output and exit with its
//! expected status.
//!
//! This is the guarantee that expected outputs do not come from tvm: they
//! are what an ordinary C toolchain produces.

#![cfg(unix)]

use std::os::unix::process::CommandExt;
use std::process::Command;

use tvm_catalog::{ExpectedStatus, Language, Manifest};

#[test]
fn c_programs_match_their_expected_output_natively() {
    let manifest = Manifest::builtin().unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;

    for program in manifest.iter().filter(|p| p.language() == Language::C) {
        let build_dir = dir.path().join(program.name());
        std::fs::create_dir_all(&build_dir).unwrap();
        let exe = build_dir.join(program.program_name());
        // Every source, linked together; a local header is found beside
        // the source that includes it.
        let build = Command::new(&cc)
            .arg("-O2")
            .arg("-o")
            .arg(&exe)
            .args(program.source_paths())
            .output()
            .unwrap();
        assert!(
            build.status.success(),
            "{}: {cc} failed:\n{}",
            program.name(),
            String::from_utf8_lossy(&build.stderr)
        );

        // argv[0] is the program name, as in the tvm input image.
        let stdin = match program.stdin() {
            Some(file) => std::process::Stdio::from(
                std::fs::File::open(program.root_path().join(file)).unwrap(),
            ),
            None => std::process::Stdio::null(),
        };
        let run = Command::new(&exe)
            .arg0(program.program_name())
            .args(program.args())
            .stdin(stdin)
            .current_dir(&build_dir)
            .output()
            .unwrap();
        let expected = program.read_expected_output().unwrap();
        if run.stdout != expected {
            failures.push(format!(
                "{}: output differs from {}\n--- native ---\n{}\n--- expected ---\n{}",
                program.name(),
                program.expected_output().display(),
                String::from_utf8_lossy(&run.stdout),
                String::from_utf8_lossy(&expected)
            ));
        }
        match program.expected_status() {
            // The host keeps the low 8 bits of the status.
            ExpectedStatus::Exit(status) => {
                let want = i32::from(status.to_le_bytes()[0]);
                if run.status.code() != Some(want) {
                    failures.push(format!(
                        "{}: exit status {:?}, expected {want}",
                        program.name(),
                        run.status
                    ));
                }
            }
            // A trap is a signal natively (SIGILL, SIGFPE, SIGSEGV...).
            ExpectedStatus::Trap(trap) => {
                if run.status.code().is_some() {
                    failures.push(format!(
                        "{}: expected a trap ({trap}), exited with {:?}",
                        program.name(),
                        run.status
                    ));
                }
            }
        }
        checked += 1;
    }

    assert!(checked >= 10, "only {checked} C programs in the catalog");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
