//! End-to-end tests of the `tvm` binary: files in, bytes and exit codes out.

use std::path::Path;
use std::process::{Command, Output};
use tvm_dsl::token::Token;
use tvm_frontend::program::TokenFile;

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

const ECHO: &str = r#"(module
  (import "tvm" "output" (func $out (param i32)))
  (memory 1)
  ;; prints argv[1] followed by a newline; returns argc
  (func (export "main") (param $argc i32) (param $argv i32) (result i32)
    (local $p i32)
    local.get $argv i32.load offset=4 local.set $p
    block $done
      loop $next
        local.get $p i32.load8_u i32.eqz br_if $done
        local.get $p i32.load8_u call $out
        local.get $p i32.const 1 i32.add local.set $p
        br $next
      end
    end
    i32.const 10 call $out
    local.get $argc))"#;

#[test]
fn compile_then_run_the_token_file_gives_the_same_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = write(dir.path(), "echo.wat", ECHO);
    let tok = dir.path().join("echo.tok").to_string_lossy().into_owned();
    let out = tvm(&["compile", &src, "--args", "hello-tokens", "-o", &tok]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let direct = tvm(&["reference", &src, "--args", "hello-tokens"]);
    let via_tokens = tvm(&["reference", &tok]);
    assert_eq!(direct.stdout, b"hello-tokens\n");
    assert_eq!(via_tokens.stdout, direct.stdout);
    assert!(String::from_utf8_lossy(&direct.stderr).contains("exit status 2"));

    let json = tvm(&["compile", &src, "--json"]);
    let counts: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert!(counts["instructions"].as_u64().is_some_and(|n| n > 10));
    assert!(counts["prefix_tokens"].as_u64() > counts["instructions"].as_u64());
}

#[test]
fn the_trace_file_is_the_prefix_then_every_step() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = write(dir.path(), "echo.wat", ECHO);
    let trace = dir.path().join("echo.trace");
    let out = tvm(&[
        "reference",
        &src,
        "--args",
        "ab",
        "--trace",
        &trace.to_string_lossy(),
        "--json",
    ]);
    assert!(out.status.success());
    let stats: serde_json::Value = serde_json::from_slice(&out.stderr).expect("json stats");
    let text = std::fs::read_to_string(&trace).expect("trace written");
    let file = TokenFile::parse(&text).expect("trace parses");
    assert_eq!(
        file.steps.len() as u64,
        stats["trace_tokens"].as_u64().expect("count")
    );
    let steps = file
        .steps
        .iter()
        .filter(|t| matches!(t, Token::Op(_)))
        .count() as u64;
    assert_eq!(steps, stats["steps"].as_u64().expect("steps"));
    // The OUTPUT steps carry exactly the bytes printed.
    let printed: Vec<u8> = file
        .steps
        .windows(2)
        .filter(|w| w[0] == Token::Op(tvm_dsl::isa::Opcode::Output))
        .filter_map(|w| w[1].byte())
        .collect();
    assert_eq!(printed, b"ab\n");
    // The trace ends with HALT and the exit status (argc = 2).
    assert_eq!(
        &file.steps[file.steps.len() - 5..],
        &[
            Token::Op(tvm_dsl::isa::Opcode::Halt),
            Token::Byte(2),
            Token::Byte(0),
            Token::Byte(0),
            Token::Byte(0)
        ]
    );
}

#[test]
fn failures_have_distinct_exit_codes_and_clear_messages() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trap = write(
        dir.path(),
        "trap.wat",
        r#"(module (func (export "main") (result i32) unreachable))"#,
    );
    let out = tvm(&["reference", &trap]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("trap: unreachable"));

    let spin = write(
        dir.path(),
        "spin.wat",
        r#"(module (func (export "main") (result i32) loop br 0 end i32.const 0))"#,
    );
    let out = tvm(&["reference", &spin, "--fuel", "1000"]);
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("out of fuel"));

    let float = write(
        dir.path(),
        "float.wat",
        r#"(module (func $calc (export "main") (result i32) f32.const 1 i32.trunc_f32_s))"#,
    );
    let out = tvm(&["compile", &float]);
    assert_eq!(out.status.code(), Some(3));
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(
        message.contains("F32Const") && message.contains("calc") && message.contains("offset"),
        "{message}"
    );

    let garbage = write(dir.path(), "garbage.wasm", "not wasm at all");
    assert_eq!(tvm(&["compile", &garbage]).status.code(), Some(3));
    let bad_tokens = write(dir.path(), "bad.tok", "<program> CONST 01 02\n");
    assert_eq!(tvm(&["reference", &bad_tokens]).status.code(), Some(3));
    let missing = tvm(&["reference", "no-such-program"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no such file"));
}

#[test]
fn a_failed_trace_write_leaves_no_partial_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = write(dir.path(), "echo.wat", ECHO);
    let target = dir.path().join("missing-dir").join("out.trace");
    let out = tvm(&["reference", &src, "--trace", &target.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!target.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").collect();
    assert_eq!(leftovers.len(), 1, "only the source remains");
}

#[test]
fn eval_runs_the_machine_graph_to_the_same_output_and_trace() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = write(dir.path(), "echo.wat", ECHO);
    let (ref_trace, eval_trace) = (dir.path().join("r.trace"), dir.path().join("e.trace"));
    let reference = tvm(&[
        "reference",
        &src,
        "--args",
        "xyz",
        "--trace",
        &ref_trace.to_string_lossy(),
    ]);
    let eval = tvm(&[
        "eval",
        &src,
        "--args",
        "xyz",
        "--trace",
        &eval_trace.to_string_lossy(),
    ]);
    assert!(
        eval.status.success(),
        "{}",
        String::from_utf8_lossy(&eval.stderr)
    );
    assert_eq!(eval.stdout, b"xyz\n");
    assert_eq!(eval.stdout, reference.stdout);
    assert!(String::from_utf8_lossy(&eval.stderr).contains("exit status 2"));
    assert_eq!(
        std::fs::read(&eval_trace).expect("eval trace"),
        std::fs::read(&ref_trace).expect("ref trace")
    );

    let trap = write(
        dir.path(),
        "trap.wat",
        r#"(module (func (export "main") (result i32) unreachable))"#,
    );
    let out = tvm(&["eval", &trap]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("trap: unreachable"));
}

#[test]
fn graph_reports_the_five_primitives() {
    let out = tvm(&["graph", "--json"]);
    assert!(out.status.success());
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    for kind in ["Input", "ReGLU", "Persist", "LookUp", "CumSum"] {
        assert!(
            summary["kinds"][kind].as_u64().is_some_and(|n| n > 0),
            "{kind}"
        );
    }
    assert!(summary["groups"]["op:ADD"].as_u64().is_some_and(|n| n > 0));
    let ranges = tvm(&["graph", "--ranges"]);
    assert!(ranges.status.success());
    let lines = String::from_utf8_lossy(&ranges.stdout).lines().count() as u64;
    assert_eq!(
        lines,
        summary["dimensions"].as_u64().expect("count"),
        "one line per dimension"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let dot = dir.path().join("g.dot");
    assert!(
        tvm(&["graph", "--dot", &dot.to_string_lossy()])
            .status
            .success()
    );
    assert!(
        std::fs::read_to_string(&dot)
            .expect("dot")
            .starts_with("digraph")
    );
}

#[test]
fn build_writes_a_model_that_run_uses_in_both_engines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir
        .path()
        .join("m.safetensors")
        .to_string_lossy()
        .into_owned();
    // The greedy schedule keeps this test fast; the MILP is tested in
    // `weights` and by the catalog test.
    let out = tvm(&["build", "-o", &model, "--scheduler", "greedy", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let figures: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(figures["d_model"].as_u64().is_some_and(|d| d > 10));
    assert!(figures["layers"].as_u64().is_some_and(|l| l > 1));
    // Built twice: the same bytes.
    let again = dir
        .path()
        .join("m2.safetensors")
        .to_string_lossy()
        .into_owned();
    assert!(
        tvm(&["build", "-o", &again, "--scheduler", "greedy"])
            .status
            .success()
    );
    assert_eq!(
        std::fs::read(&model).expect("model"),
        std::fs::read(&again).expect("model")
    );

    let src = write(dir.path(), "echo.wat", ECHO);
    let reference_trace = dir.path().join("r.trace");
    let reference = tvm(&[
        "reference",
        &src,
        "--args",
        "hi",
        "--trace",
        &reference_trace.to_string_lossy(),
    ]);
    for engine in ["float", "exact"] {
        let trace = dir.path().join(format!("{engine}.trace"));
        let out = tvm(&[
            "run",
            &src,
            "--args",
            "hi",
            "--engine",
            engine,
            "--model",
            &model,
            "--trace",
            &trace.to_string_lossy(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, reference.stdout, "{engine}");
        assert_eq!(
            std::fs::read(&trace).expect("trace"),
            std::fs::read(&reference_trace).expect("trace"),
            "{engine}"
        );
    }
}

#[test]
fn a_corrupt_model_file_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("m.safetensors");
    let path = model.to_string_lossy().into_owned();
    assert!(
        tvm(&["build", "-o", &path, "--scheduler", "greedy"])
            .status
            .success()
    );
    let mut bytes = std::fs::read(&model).expect("model");
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&model, &bytes).expect("write");
    let src = write(dir.path(), "echo.wat", ECHO);
    let out = tvm(&["run", &src, "--model", &path]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("m.safetensors"), "{err}");
    assert!(out.stdout.is_empty());
}

/// Every file under `dir`, by relative path, with its bytes.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("read dir")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p
                    .strip_prefix(root)
                    .expect("inside")
                    .to_string_lossy()
                    .into_owned();
                out.push((rel, std::fs::read(&p).expect("read")));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn verify_proves_a_built_model_and_its_certificates_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir
        .path()
        .join("m.safetensors")
        .to_string_lossy()
        .into_owned();
    assert!(
        tvm(&["build", "-o", &model, "--scheduler", "greedy"])
            .status
            .success()
    );
    let certs = dir.path().join("certs").to_string_lossy().into_owned();
    let out = tvm(&["verify", "--model", &model, "--certs", &certs, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["proven"], true);
    let count = |kind: &str| {
        report["summary"]
            .as_array()
            .and_then(|s| s.iter().find(|k| k["kind"] == kind))
            .and_then(|k| k["proven"].as_u64())
            .unwrap_or(0)
    };
    assert_eq!(count("opcode"), 35);
    // 32 routines and 42 inline constant-operand forms.
    assert_eq!(count("lowering"), 74);
    assert!(
        count("neuron") > 100 && count("head") > 50,
        "{}",
        report["summary"]
    );
    // The certificates re-check with cvc5, independently of the verifier.
    let check = tvm(&["proofs", "check", &certs]);
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn certificates_are_deterministic_and_a_tampered_one_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = dir.path().join("a").to_string_lossy().into_owned();
    let b = dir.path().join("b").to_string_lossy().into_owned();
    for d in [&a, &b] {
        let out = tvm(&[
            "verify",
            "--opcode",
            "add",
            "--opcode",
            "LT_S",
            "--lowering",
            "AND",
            "--certs",
            d,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("✓ opcode   ADD"), "{text}");
        assert!(text.contains("all 3 items proven"), "{text}");
    }
    let (ta, tb) = (tree(Path::new(&a)), tree(Path::new(&b)));
    assert!(!ta.is_empty());
    assert_eq!(ta, tb, "two runs give byte-identical certificates");
    assert!(tvm(&["proofs", "check", &a]).status.success());
    // A claim weakened in place: its hash no longer matches.
    let (path, bytes) = ta
        .iter()
        .find(|(p, _)| p.ends_with("opcode.smt2"))
        .expect("the opcode certificate");
    let text = String::from_utf8_lossy(bytes).replacen("(assert", "(assert true)\n(assert", 1);
    std::fs::write(Path::new(&a).join(path), text).expect("tamper");
    let out = tvm(&["proofs", "check", &a]);
    assert_eq!(
        out.status.code(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("✗"));
    // Unknown names are a clear error.
    let out = tvm(&["verify", "--opcode", "MULL"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no opcode is named `MULL`"));
}

#[test]
fn bench_startup_reports_each_phase_before_the_first_token() {
    let out = tvm(&["bench", "startup", "hello", "--repeat", "1", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let phases = [
        "build_seconds",
        "build_cached_libc_seconds",
        "model_read_seconds",
        "engine_load_seconds",
        "prefix_to_first_token_seconds",
    ];
    let mut sum = 0.0;
    for phase in phases {
        let v = report[phase].as_f64().unwrap_or(-1.0);
        assert!(v > 0.0, "{phase}: {report}");
        if phase != "build_seconds" {
            sum += v;
        }
    }
    let total = report["before_first_token_seconds"]
        .as_f64()
        .unwrap_or(-1.0);
    assert!((total - sum).abs() < 1e-9, "{report}");
    assert!(report["prefix_tokens"].as_u64().is_some_and(|n| n > 1000));
}
