//! End-to-end tests of `tvm wast` and `--invoke`: scripts and modules in,
//! tables, JSON, printed results and exit codes out. (The spec test files
//! themselves run in `catalog/tests/wast_spec.rs`.)

use std::path::Path;
use std::process::{Command, Output};

fn tvm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tvm"))
        .args(args)
        .output()
        .expect("tvm runs")
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write test file");
    path.to_string_lossy().into_owned()
}

const MODULE: &str = r#"(module
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))
  (func (export "mul64") (param i64 i64) (result i64)
    (i64.mul (local.get 0) (local.get 1)))
  (func (export "pair") (result i32 i64) (i32.const -1) (i64.const 7))
  (func (export "div") (param i32 i32) (result i32)
    (i32.div_s (local.get 0) (local.get 1))))"#;

const PASSING: &str = r#"
(module
  (memory 1)
  (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "f") (param f32) (result f32) (local.get 0)))
(invoke "store" (i32.const 8) (i32.const 42))
(assert_return (invoke "load" (i32.const 8)) (i32.const 42))
(assert_trap (invoke "load" (i32.const 65536)) "out of bounds memory access")
(assert_return (invoke "load" (i32.const 8)) (i32.const 42))
(assert_return (invoke "f" (f32.const 1)) (f32.const 1))
"#;

const FAILING: &str = r#"
(module (func (export "one") (result i32) (i32.const 1)))
(assert_return (invoke "one") (i32.const 2))
"#;

#[test]
fn wast_counts_passes_failures_and_skips() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pass = write(dir.path(), "pass.wast", PASSING);
    let fail = write(dir.path(), "fail.wast", FAILING);

    let out = tvm(&["wast", &pass]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{table}");
    assert!(table.contains("floats 1"), "{table}");

    let out = tvm(&["wast", &pass, &fail, "--json"]);
    assert_eq!(out.status.code(), Some(6));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["passed"], 4);
    assert_eq!(report["failed"], 1);
    assert_eq!(report["skipped"], 1);
    assert_eq!(report["files"][0]["skip_reasons"]["floats"], 1);
    let failure = &report["files"][1]["failures"][0];
    assert_eq!(failure["line"], 3);
    assert_eq!(failure["expected"], "i32:2");
    assert_eq!(failure["got"], "i32:1");
}

#[test]
fn invoke_prints_each_result_on_its_own_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = write(dir.path(), "m.wat", MODULE);

    let out = tvm(&["reference", &src, "--invoke", "add", "2", "-5"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"i32:-3\n");

    let out = tvm(&["reference", &src, "--invoke", "mul64", "i64:-3", "0x10"]);
    assert_eq!(out.stdout, b"i64:-48\n");

    let out = tvm(&["eval", &src, "--invoke", "pair"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"i32:-1\ni64:7\n");

    let out = tvm(&["reference", &src, "--invoke", "div", "1", "0"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("integer divide by zero"));

    let out = tvm(&["reference", &src, "--invoke", "add", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("takes 2 arguments"));

    let out = tvm(&["reference", &src, "--invoke", "add", "i64:1", "2"]);
    assert_eq!(out.status.code(), Some(1));
}
