//! Differential tests of every lowered operator: the original WebAssembly
//! operator on wasmi against its lowering on the reference machine, on random
//! and edge operands (0, 1, -1, INT_MIN, INT_MAX, shift counts ≥ 32), through
//! every lowering path: the routine (both operands unknown), the inline
//! constant-operand forms, and the `__tvm_scratch` forms.

use proptest::prelude::*;
use tvm_engine::reference::{self, CountTokens, RunError, TrapKind};
use tvm_frontend::program::Input;
use tvm_oracle::Status;

const BINARY: [&str; 15] = [
    "mul", "div_s", "div_u", "rem_s", "rem_u", "and", "or", "xor", "shl", "shr_s", "shr_u", "rotl",
    "rotr", // natively supported, as a control
    "add", "sub",
];
const UNARY: [&str; 5] = ["clz", "ctz", "popcnt", "extend8_s", "extend16_s"];

/// How the second operand reaches the operator.
#[derive(Clone, Copy, Debug)]
enum Path {
    /// From a mutable global: the lowering cannot see it (routine call).
    Global,
    /// As an `i32.const` right before the operator (inline forms).
    Const,
    /// As a constant, in a module that exports a scratch buffer.
    ConstScratch,
}

fn module(op: &str, a: u32, b: Option<u32>, path: Path) -> Vec<u8> {
    let scratch = match path {
        Path::ConstScratch => r#"(global (export "__tvm_scratch") i32 (i32.const 32))"#,
        _ => "",
    };
    let body = match (b, path) {
        (None, _) => format!("global.get $a i32.{op}"),
        (Some(_), Path::Global) => format!("global.get $a global.get $b i32.{op}"),
        (Some(b), _) => format!("global.get $a i32.const {} i32.{op}", b as i32),
    };
    let text = format!(
        r#"(module (memory 1)
             (global $a (mut i32) (i32.const {a}))
             (global $b (mut i32) (i32.const {b}))
             {scratch}
             (func (export "main") (result i32) {body}))"#,
        a = a as i32,
        b = b.unwrap_or(0) as i32,
    );
    wat::parse_str(text).expect("test module is valid WAT")
}

fn trap_name(kind: TrapKind) -> String {
    kind.to_string()
}

/// Runs both sides and returns (oracle, machine) outcomes as comparable text.
fn both(wasm: &[u8]) -> (String, String) {
    let oracle = tvm_oracle::run(wasm, "case", &[], None).expect("oracle runs the module");
    let expected = match oracle.status {
        Status::Exited(v) => format!("exit {:#010x}", v as u32),
        Status::Trapped(kind) => format!("trap {}", kind.name()),
    };
    let program = tvm_frontend::lower_wasm(wasm).expect("module lowers");
    let run = reference::run(
        &program,
        &Input::default(),
        1_000_000,
        &mut CountTokens::default(),
    );
    let actual = match run.result {
        Ok(v) => format!("exit {:#010x}", v as u32),
        Err(RunError::Trap { kind, .. }) => format!("trap {}", trap_name(kind)),
        Err(e) => format!("error {e}"),
    };
    assert!(
        run.steps < 5_000,
        "lowering took {} steps: not O(32)",
        run.steps
    );
    (expected, actual)
}

fn operand() -> impl Strategy<Value = u32> {
    prop_oneof![
        3 => any::<u32>(),
        1 => prop::sample::select(vec![
            0u32, 1, u32::MAX, 0x8000_0000, 0x7fff_ffff, 2, 7, 8, 15, 16, 24, 31, 32, 33, 63, 64, 255,
            256, 0xffff, 0x1_0000, 0xff00_0000, 10, u32::MAX - 1, 0x100_0000, 0x8000, 0x7fff, 0xfff
        ]),
        1 => 0u32..64,
    ]
}

fn check_binary(op: &str, a: u32, b: u32) -> Result<(), TestCaseError> {
    for path in [Path::Global, Path::Const, Path::ConstScratch] {
        let (expected, actual) = both(&module(op, a, Some(b), path));
        prop_assert_eq!(
            &expected,
            &actual,
            "i32.{} {:#x} {:#x} via {:?}",
            op,
            a,
            b,
            path
        );
    }
    Ok(())
}

macro_rules! binary_tests {
    ($($name:ident => $op:literal,)*) => {$(
        proptest! {
            #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]
            #[test]
            fn $name(a in operand(), b in operand()) {
                check_binary($op, a, b)?;
            }
        }
    )*};
}

binary_tests! {
    mul => "mul",
    div_s => "div_s",
    div_u => "div_u",
    rem_s => "rem_s",
    rem_u => "rem_u",
    and => "and",
    or => "or",
    xor => "xor",
    shl => "shl",
    shr_s => "shr_s",
    shr_u => "shr_u",
    rotl => "rotl",
    rotr => "rotr",
    add => "add",
    sub => "sub",
}

macro_rules! unary_tests {
    ($($name:ident => $op:literal,)*) => {$(
        proptest! {
            #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]
            #[test]
            fn $name(a in operand()) {
                for path in [Path::Global, Path::ConstScratch] {
                    let (expected, actual) = both(&module($op, a, None, path));
                    prop_assert_eq!(&expected, &actual, "i32.{} {:#x} via {:?}", $op, a, path);
                }
            }
        }
    )*};
}

unary_tests! {
    clz => "clz",
    ctz => "ctz",
    popcnt => "popcnt",
    extend8_s => "extend8_s",
    extend16_s => "extend16_s",
}

#[test]
fn every_operator_is_covered() {
    let covered = BINARY.len() + UNARY.len();
    // 13 lowered binary + 5 lowered unary + add/sub as controls
    assert_eq!(covered, 20);
}

#[test]
fn edge_cases_trap_like_webassembly() {
    for (op, a, b, trap) in [
        ("div_s", 1, 0, "integer divide by zero"),
        ("div_u", 1, 0, "integer divide by zero"),
        ("rem_s", 1, 0, "integer divide by zero"),
        ("rem_u", 1, 0, "integer divide by zero"),
        ("div_s", 0x8000_0000, u32::MAX, "integer overflow"),
    ] {
        for path in [Path::Global, Path::Const] {
            let (expected, actual) = both(&module(op, a, Some(b), path));
            assert_eq!(expected, format!("trap {trap}"));
            assert_eq!(actual, expected, "{op} via {path:?}");
        }
    }
    // INT_MIN % -1 is 0, not a trap.
    let (expected, actual) = both(&module("rem_s", 0x8000_0000, Some(u32::MAX), Path::Global));
    assert_eq!(
        (expected.as_str(), actual.as_str()),
        ("exit 0x00000000", "exit 0x00000000")
    );
}

/// The i64 subset (memory copies as clang emits them) against wasmi,
/// including stores that straddle the end of memory.
#[test]
fn i64_copies_match_webassembly() {
    for (dst, src) in [
        (64u32, 128u32),
        (65530, 128),
        (128, 65532),
        (65528, 65528),
        (100, 101),
    ] {
        for store in ["i64.store", "i64.store32", "i64.store16", "i64.store8"] {
            let text = format!(
                r#"(module
                     (import "tvm" "output" (func $out (param i32)))
                     (memory 1)
                     (data (i32.const 128) "\01\02\03\04\05\06\07\08\09")
                     (func (export "main") (result i32) (local i32)
                       (i32.const {dst}) (i64.const 0x1122334455667788) ({store} offset=0)
                       (i32.const {dst}) (i32.const {src}) (i64.load offset=0) ({store} offset=0)
                       ;; print the 8 bytes at dst
                       loop
                         local.get 0 i32.const {dst} i32.add i32.load8_u call $out
                         local.get 0 i32.const 1 i32.add local.tee 0 i32.const 8 i32.lt_u br_if 0
                       end
                       i32.const 0))"#
            );
            let wasm = wat::parse_str(&text).expect("valid WAT");
            let oracle = tvm_oracle::run(&wasm, "copy", &[], None).expect("oracle runs");
            let program = tvm_frontend::lower_wasm(&wasm).expect("lowers");
            let run = reference::run(
                &program,
                &Input::default(),
                100_000,
                &mut CountTokens::default(),
            );
            let ours = match run.result {
                Ok(v) => Status::Exited(v),
                Err(RunError::Trap {
                    kind: TrapKind::OutOfBoundsMemoryAccess,
                    ..
                }) => Status::Trapped(tvm_oracle::TrapKind::OutOfBoundsMemory),
                Err(e) => panic!("unexpected {e}"),
            };
            assert_eq!(
                (run.output, ours),
                (oracle.output, oracle.status),
                "{store} dst={dst} src={src}"
            );
        }
    }
}

/// The boolean fast path of AND (and so OR and XOR): every pair around it.
#[test]
fn boolean_operands_take_the_short_path_and_stay_exact() {
    let values = [0u32, 1, 2, 3, u32::MAX, 0x8000_0001];
    for op in ["and", "or", "xor"] {
        for a in values {
            for b in values {
                let (expected, actual) = both(&module(op, a, Some(b), Path::Global));
                assert_eq!(expected, actual, "i32.{op} {a:#x} {b:#x}");
            }
        }
    }
    // The short path is short.
    let program =
        tvm_frontend::lower_wasm(&module("and", 1, Some(1), Path::Global)).expect("lowers");
    let run = reference::run(
        &program,
        &Input::default(),
        1_000_000,
        &mut CountTokens::default(),
    );
    assert_eq!(run.result, Ok(1));
    assert!(run.steps < 40, "{} steps", run.steps);
}
