//! Parsers never panic: token files, certificates (manifest, e-graph
//! explanation files, explanation steps), `.wast` scripts and catalog
//! manifests get truncated, mutated and random inputs and must answer with
//! a value or a typed error. (Model files and wasm binaries have the same
//! tests beside their parsers: `weights/tests/model_file.rs`,
//! `engine/tests/rejects.rs`.)
//!
//! The case count is proptest's: `PROPTEST_CASES=100000 cargo test
//! --release --test parsers` is the long run.

use proptest::prelude::*;
use std::sync::OnceLock;

/// A valid token file: hello's prefix with its input.
fn token_text() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let wat = r#"(module (import "tvm" "output" (func $o (param i32))) (memory 1)
            (data (i32.const 16) "hi")
            (func (export "main") (param i32 i32) (result i32)
              (call $o (i32.load8_u (i32.const 16))) (local.get 0)))"#;
        let wasm = wat::parse_str(wat).expect("test WAT parses");
        let program = tvm_frontend::lower_wasm(&wasm).expect("lowers");
        let input = tvm_frontend::program::Input::from_args("t", &["a b", "c"])
            .expect("fits")
            .with_stdin(b"in\n".to_vec());
        program.prefix_text(&input)
    })
}

const WAST: &str = r#"(module
  (memory 1)
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "wide") (param i64) (result i64) (i64.mul (local.get 0) (i64.const 3)))
  (func (export "div") (param i32) (result i32) (i32.div_u (i32.const 7) (local.get 0))))
(assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 3))
(assert_return (invoke "wide" (i64.const -5)) (i64.const -15))
(assert_trap (invoke "div" (i32.const 0)) "integer divide by zero")
(assert_invalid (module (func (result i32))) "type mismatch")
"#;

const MANIFEST: &str = r#"[[program]]
name = "demo"
source = "demo.c"
args = "1 2"
expected_output = "demo.out"
exit = 0
description = "a demo"

[[program]]
name = "trapper"
source = "demo.c"
expected_output = "demo.out"
trap = "unreachable"
long = true
stdin = "demo.in"
description = "traps"
"#;

const CERT_MANIFEST: &str = r#"{"format": "tvm-certificates", "version": 1, "model_digest": "ab12",
  "files": [
    {"type": "smt", "path": "smt/neuron/l0.smt2", "kind": "neuron", "group": "l0", "logic": "QF_LRA",
     "sha256": "00ff", "obligations": [{"name": "n0", "expect": "unsat"}]},
    {"type": "explanations", "path": "egg/neuron/l0.txt", "kind": "neuron", "group": "l0",
     "sha256": "11ee", "names": ["n0"]}]}"#;

const EGG: &str = "; explanations\nexplanation n0\nlhs (+ a b)\nrhs (+ b a)\nstep (+ a b)\nstep (Rewrite=> comm (+ b a))\nend\n";

/// Text mutations: truncation, a replaced byte, an inserted or removed
/// span, repeated.
fn mutate(text: &str, edits: &[(usize, u8, u8)]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for &(at, kind, byte) in edits {
        if bytes.is_empty() {
            bytes.push(byte);
            continue;
        }
        let at = at % bytes.len();
        match kind % 4 {
            0 => bytes.truncate(at),
            1 => bytes[at] = byte,
            2 => bytes.insert(at, byte),
            _ => {
                let end = (at + usize::from(byte % 16)).min(bytes.len());
                bytes.drain(at..end);
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn edits() -> impl Strategy<Value = Vec<(usize, u8, u8)>> {
    prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..5)
}

fn wast_options() -> tvm_catalog::wast::Options<'static> {
    tvm_catalog::wast::Options {
        engine: tvm_catalog::wast::WastEngine::Reference,
        fuel: 100_000,
    }
}

#[test]
fn the_unmutated_inputs_parse() {
    assert!(tvm_frontend::program::TokenFile::parse(token_text()).is_ok());
    let report = tvm_catalog::wast::run_script("t.wast", WAST, &wast_options());
    assert_eq!((report.passed, report.failed()), (4, 0), "{report:?}");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("demo.c"), "int main(void){return 0;}").expect("write");
    assert!(tvm_catalog::Manifest::parse(MANIFEST, dir.path()).is_ok());
    assert!(tvm_proofs::egg_file::parse(EGG).is_ok());
    assert!(tvm_proofs::manifest::Manifest::from_text(CERT_MANIFEST).is_ok());
}

proptest! {
    #[test]
    fn token_files_never_panic(e in edits()) {
        let text = mutate(token_text(), &e);
        if let Ok(file) = tvm_frontend::program::TokenFile::parse(&text) {
            // What parses also runs (or fails) without panicking.
            let _ = tvm_engine::reference::run(
                &file.program,
                &file.input,
                1_000,
                &mut tvm_engine::reference::CountTokens(0),
            );
        }
    }

    #[test]
    fn wast_scripts_never_panic(e in edits()) {
        let report = tvm_catalog::wast::run_script("t.wast", &mutate(WAST, &e), &wast_options());
        prop_assert!(report.passed + report.failed() + report.skipped() < 1_000);
    }

    #[test]
    fn catalog_manifests_never_panic(e in edits()) {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("demo.c"), "int main(void){return 0;}").expect("write");
        let _ = tvm_catalog::Manifest::parse(&mutate(MANIFEST, &e), dir.path());
    }

    #[test]
    fn certificate_files_never_panic(e in edits(), lhs in "[-+*() a-z0-9]{0,30}", rhs in "[-+*() a-z0-9]{0,30}") {
        let _ = tvm_proofs::manifest::Manifest::from_text(&mutate(CERT_MANIFEST, &e));
        let _ = tvm_proofs::egg_file::parse(&mutate(EGG, &e));
        let step = mutate("(Rewrite=> comm (+ b a))", &e);
        let _ = tvm_proofs::explanation::check_explanation(&lhs, &rhs, &[step]);
    }

    #[test]
    fn random_text_never_panics(text in "\\PC{0,200}") {
        let _ = tvm_frontend::program::TokenFile::parse(&text);
        let _ = tvm_proofs::manifest::Manifest::from_text(&text);
        let _ = tvm_proofs::egg_file::parse(&text);
        let _ = tvm_catalog::Manifest::parse(&text, ".");
        let _ = tvm_catalog::wast::run_script("r.wast", &text, &wast_options());
    }
}
