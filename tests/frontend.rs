//! The C front end as a user meets it: several sources, a header beside
//! them, `-I`/`-D`, arguments with spaces after `--`, standard input, and
//! errors that say what to do. Each program's output is compared with its
//! native build (host `cc`).

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn tvm_in(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tvm"))
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tvm runs");
    if let Some(bytes) = stdin {
        use std::io::Write as _;
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(bytes)
            .expect("writes stdin");
    }
    child.wait_with_output().expect("tvm ends")
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(path, text).expect("write test file");
}

/// A program in two files with a local header and a header in `inc/`,
/// reading a macro, its arguments and its standard input through the
/// input header at 248 (the libc-independent way).
fn two_file_program(dir: &Path) {
    write(dir, "inc/config.h", "#define GREETING \"hi\"\n");
    write(dir, "util.h", "#include \"config.h\"\nint scaled(int x);\n");
    write(
        dir,
        "util.c",
        "#include \"util.h\"\nint scaled(int x) { return x * FACTOR; }\n",
    );
    write(
        dir,
        "main.c",
        r#"#include <stdio.h>
#include "util.h"
#ifdef __wasm__
static int read_all(char *buf, int cap) {
    unsigned start = *(unsigned *)248, len = *(unsigned *)252;
    int n = 0;
    for (unsigned i = 0; i < len && n < cap; i++) buf[n++] = ((char *)start)[i];
    return n;
}
#else
static int read_all(char *buf, int cap) {
    int n = 0, c;
    while (n < cap && (c = getchar()) != EOF) buf[n++] = (char)c;
    return n;
}
#endif
int main(int argc, char **argv) {
    char buf[256];
    printf("%s %d argc=%d\n", GREETING, scaled(21), argc);
    for (int i = 1; i < argc; i++) printf("[%s]\n", argv[i]);
    int n = read_all(buf, sizeof buf);
    printf("stdin %d:", n);
    for (int i = 0; i < n; i++) putchar(buf[i]);
    return argc;
}
"#,
    );
}

#[test]
fn two_sources_a_local_header_defines_arguments_and_stdin_match_the_native_build() {
    let dir = tempfile::tempdir().expect("tempdir");
    two_file_program(dir.path());
    let stdin = b"first line\nsecond line\n";
    std::fs::write(dir.path().join("in.txt"), stdin).expect("write stdin");
    let native = dir.path().join("native");
    let cc = Command::new("cc")
        .current_dir(dir.path())
        .args(["-O2", "-Iinc", "-DFACTOR=2", "main.c", "util.c", "-o"])
        .arg(&native)
        .status()
        .expect("cc runs");
    assert!(cc.success());
    let mut child = Command::new(&native)
        .args(["arg one", "two", ""])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("native runs");
    {
        use std::io::Write as _;
        child.stdin.take().unwrap().write_all(stdin).unwrap();
    }
    let expected = child.wait_with_output().expect("native ends");
    for engine in ["reference", "run"] {
        for stdin_flag in ["in.txt", "-"] {
            let out = tvm_in(
                dir.path(),
                &[
                    engine, "main.c", "util.c", "-I", "inc", "-D", "FACTOR=2", "--stdin",
                    stdin_flag, "--", "arg one", "two", "",
                ],
                (stdin_flag == "-").then_some(stdin.as_slice()),
            );
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&expected.stdout),
                "{engine} --stdin {stdin_flag}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn clang_errors_name_the_paths_as_given_and_the_missing_header() {
    let dir = tempfile::tempdir().expect("tempdir");
    two_file_program(dir.path());
    // Without -I inc, config.h is missing.
    let out = tvm_in(dir.path(), &["reference", "main.c", "util.c"], None);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("main.c:2"), "{err}");
    assert!(err.contains("'config.h' file not found"), "{err}");
    // A function libc lacks is named as such.
    write(
        dir.path(),
        "missing.c",
        "int frobnicate(int);\nint main(void) { return frobnicate(1); }\n",
    );
    let out = tvm_in(dir.path(), &["reference", "missing.c"], None);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("frobnicate"), "{err}");
    assert!(err.contains("libc does not provide"), "{err}");
}

#[test]
fn arguments_come_from_args_or_after_dashes_not_both() {
    let dir = tempfile::tempdir().expect("tempdir");
    two_file_program(dir.path());
    let out = tvm_in(
        dir.path(),
        &[
            "reference",
            "main.c",
            "util.c",
            "-I",
            "inc",
            "-DFACTOR=1",
            "--args",
            "a b",
            "--",
            "c",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not both"));
}

#[test]
fn stderr_is_framed_in_the_output_and_split_by_the_cli() {
    // tvm.output with the frame bytes by hand: "out" FF 01 "err" FF 00 "!"
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = [b'o', b'u', b't', 0xff, 1, b'e', b'r', b'r', 0xff, 0, b'!'];
    let calls: String = bytes
        .iter()
        .map(|b| format!("(call $out (i32.const {b}))"))
        .collect();
    write(
        dir.path(),
        "frame.wat",
        &format!(
            r#"(module (import "tvm" "output" (func $out (param i32)))
                 (func (export "main") (result i32) {calls} (i32.const 0)))"#
        ),
    );
    let out = tvm_in(dir.path(), &["reference", "frame.wat"], None);
    assert_eq!(out.stdout, b"out!");
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("err"));
}
