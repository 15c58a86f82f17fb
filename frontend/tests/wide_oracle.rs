//! i64, `call_indirect` and `memory.grow` against wasmi: the same module's
//! exports called with the same arguments, on the reference machine
//! (through [`tvm_frontend::invoke`]) and on wasmi (through
//! [`tvm_oracle::invoke`]), must give the same results and the same traps.

use proptest::prelude::*;
use tvm_engine::reference::{self, CountTokens, RunError, TrapKind};
use tvm_frontend::invoke::{Invoke, Value, lower_invokes, read_results};
use tvm_frontend::program::Input;

/// How a sequence of calls went on one machine: results per call that
/// returned, then the trap that stopped it (by the spec's name).
#[derive(Debug, PartialEq, Eq)]
struct Calls {
    results: Vec<Vec<u64>>,
    trap: Option<String>,
}

fn raw(v: &Value) -> u64 {
    match *v {
        Value::I32(x) => u64::from(x),
        Value::I64(x) => x,
    }
}

fn on_tvm(wasm: &[u8], calls: &[Invoke]) -> Calls {
    let inv = lower_invokes(wasm, calls).expect("module lowers");
    let run = reference::run(
        &inv.program,
        &Input::default(),
        50_000_000,
        &mut CountTokens(0),
    );
    let values = read_results(&inv.results, &run.output);
    let trap = match run.result {
        Ok(0) => None,
        Ok(status) => panic!("exit {status}"),
        Err(RunError::Trap { kind, .. }) => Some(kind.to_string()),
        Err(e) => panic!("{e}"),
    };
    Calls {
        results: values.iter().map(|r| r.iter().map(raw).collect()).collect(),
        trap,
    }
}

fn on_wasmi(wasm: &[u8], calls: &[Invoke]) -> Calls {
    let calls: Vec<tvm_oracle::Call> = calls
        .iter()
        .map(|c| {
            tvm_oracle::Call::new(
                &c.export,
                c.args
                    .iter()
                    .map(|v| match *v {
                        Value::I32(x) => tvm_oracle::Value::I32(x),
                        Value::I64(x) => tvm_oracle::Value::I64(x),
                    })
                    .collect(),
            )
        })
        .collect();
    let out = tvm_oracle::invoke(wasm, &calls, None).expect("wasmi runs");
    Calls {
        results: out
            .results
            .iter()
            .map(|r| {
                r.iter()
                    .map(|v| match *v {
                        tvm_oracle::Value::I32(x) => u64::from(x),
                        tvm_oracle::Value::I64(x) => x,
                    })
                    .collect()
            })
            .collect(),
        trap: out.trap.map(|t| t.name().to_owned()),
    }
}

/// Runs `calls` on both, restarting after each trap (and every 500 calls,
/// to keep programs small), and compares.
fn agree(wasm: &[u8], calls: &[Invoke]) {
    let mut from = 0;
    while from < calls.len() {
        let rest = &calls[from..calls.len().min(from + 500)];
        let (tvm, wasmi) = (on_tvm(wasm, rest), on_wasmi(wasm, rest));
        assert_eq!(
            tvm,
            wasmi,
            "calls from {:?} differ",
            rest.first().map(|c| (&c.export, &c.args))
        );
        let done = tvm.results.len() + usize::from(tvm.trap.is_some());
        assert!(done > 0 || rest.is_empty(), "no call completed");
        from += done;
    }
}

const EDGES64: [u64; 12] = [
    0,
    1,
    2,
    3,
    0xffff_ffff,
    0x1_0000_0000,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    0xffff_ffff_ffff_ffff,
    0xffff_ffff_ffff_fffe,
    0x1234_5678_9abc_def0,
    63,
];

const BINARY: [&str; 15] = [
    "add", "sub", "mul", "div_s", "div_u", "rem_s", "rem_u", "and", "or", "xor", "shl", "shr_s",
    "shr_u", "rotl", "rotr",
];
const COMPARE: [&str; 10] = [
    "eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u",
];
const UNARY: [&str; 6] = [
    "clz",
    "ctz",
    "popcnt",
    "extend8_s",
    "extend16_s",
    "extend32_s",
];

fn operators_module() -> Vec<u8> {
    let mut text = String::from("(module\n");
    for op in BINARY {
        text += &format!(
            "(func (export \"{op}\") (param i64 i64) (result i64) (i64.{op} (local.get 0) (local.get 1)))\n"
        );
    }
    for op in COMPARE {
        text += &format!(
            "(func (export \"{op}\") (param i64 i64) (result i32) (i64.{op} (local.get 0) (local.get 1)))\n"
        );
    }
    for op in UNARY {
        text += &format!(
            "(func (export \"{op}\") (param i64) (result i64) (i64.{op} (local.get 0)))\n"
        );
    }
    text += r#"
      (func (export "eqz") (param i64) (result i32) (i64.eqz (local.get 0)))
      (func (export "wrap") (param i64) (result i32) (i32.wrap_i64 (local.get 0)))
      (func (export "extend_s") (param i32) (result i64) (i64.extend_i32_s (local.get 0)))
      (func (export "extend_u") (param i32) (result i64) (i64.extend_i32_u (local.get 0)))
      (func (export "select") (param i64 i64 i32) (result i64)
        (select (local.get 0) (local.get 1) (local.get 2)))
    )"#;
    wat::parse_str(&text).expect("operators module parses")
}

fn call(export: &str, args: Vec<Value>) -> Invoke {
    Invoke {
        export: export.to_owned(),
        args,
    }
}

#[test]
fn i64_operators_on_edge_operands_agree_with_wasmi() {
    let wasm = operators_module();
    let mut calls = Vec::new();
    for &a in &EDGES64 {
        for &b in &EDGES64 {
            for op in BINARY.iter().chain(&COMPARE) {
                calls.push(call(op, vec![Value::I64(a), Value::I64(b)]));
            }
        }
        for op in UNARY.iter().chain(&["eqz", "wrap"]) {
            calls.push(call(op, vec![Value::I64(a)]));
        }
        calls.push(call("extend_s", vec![Value::I32(a as u32)]));
        calls.push(call("extend_u", vec![Value::I32(a as u32)]));
        calls.push(call(
            "select",
            vec![Value::I64(a), Value::I64(!a), Value::I32(a as u32 & 1)],
        ));
    }
    agree(&wasm, &calls);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn i64_operators_on_random_operands_agree_with_wasmi(
        pairs in prop::collection::vec((any::<u64>(), any::<u64>(), 0u32..70), 8)
    ) {
        let wasm = operators_module();
        let mut calls = Vec::new();
        for &(a, b, k) in &pairs {
            // Small shift counts and small divisors matter as much as big ones.
            for b in [b, u64::from(k), b >> (k % 64)] {
                for op in BINARY.iter().chain(&COMPARE) {
                    calls.push(call(op, vec![Value::I64(a), Value::I64(b)]));
                }
            }
            for op in UNARY.iter().chain(&["eqz", "wrap"]) {
                calls.push(call(op, vec![Value::I64(a)]));
            }
        }
        agree(&wasm, &calls);
    }
}

#[test]
fn i64_memory_locals_globals_and_blocks_agree_with_wasmi() {
    let wasm = wat::parse_str(
        r#"(module
          (memory 1 3)
          (global $g (mut i64) (i64.const -7))
          (func (export "store_load") (param i32 i64) (result i64 i64 i64 i64)
            (i64.store offset=3 (local.get 0) (local.get 1))
            (i64.load offset=3 (local.get 0))
            (i64.load8_s offset=3 (local.get 0))
            (i64.load16_u offset=4 (local.get 0))
            (i64.load32_s offset=5 (local.get 0)))
          (func (export "narrow") (param i32 i64) (result i64)
            (i64.store8 (local.get 0) (local.get 1))
            (i64.store16 offset=1 (local.get 0) (local.get 1))
            (i64.store32 offset=3 (local.get 0) (local.get 1))
            (i64.load (local.get 0)))
          (func (export "global") (param i64) (result i64)
            (global.set $g (i64.add (global.get $g) (local.get 0)))
            (global.get $g))
          (func (export "blocks") (param i64 i32) (result i64 i32)
            (local $t i64)
            (local.set $t (local.get 0))
            (block (result i64 i32)
              (local.get $t) (local.get 1)
              (br_if 0 (i32.eqz (local.get 1)))
              (drop) (drop)
              (local.get $t)
              (loop (param i64) (result i64)
                (i64.add (i64.const 3))
                (local.tee $t)
                (br_if 0 (i64.lt_u (local.get $t) (i64.const 20))))
              (i32.const 99)))
          (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
          (func (export "size") (result i32) (memory.size))
          (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0))))"#,
    )
    .unwrap();
    let mut calls = Vec::new();
    for (addr, v) in [
        (0u32, 0x0123_4567_89ab_cdefu64),
        (100, u64::MAX),
        (65520, 0x8000_0000_0000_0080),
    ] {
        calls.push(call("store_load", vec![Value::I32(addr), Value::I64(v)]));
        calls.push(call("narrow", vec![Value::I32(addr), Value::I64(v)]));
        calls.push(call("global", vec![Value::I64(v)]));
    }
    calls.push(call("blocks", vec![Value::I64(5), Value::I32(0)]));
    calls.push(call("blocks", vec![Value::I64(5), Value::I32(1)]));
    calls.push(call(
        "blocks",
        vec![Value::I64(u64::MAX - 1), Value::I32(1)],
    ));
    calls.push(call("size", vec![]));
    calls.push(call("peek", vec![Value::I32(65536)])); // traps before growing
    calls.push(call("grow", vec![Value::I32(1)]));
    calls.push(call("size", vec![]));
    calls.push(call("peek", vec![Value::I32(65536)]));
    calls.push(call("peek", vec![Value::I32(131071)]));
    calls.push(call("peek", vec![Value::I32(131072)])); // traps
    calls.push(call("grow", vec![Value::I32(2)])); // past the maximum: -1
    calls.push(call("grow", vec![Value::I32(1)]));
    calls.push(call("size", vec![]));
    calls.push(call("narrow", vec![Value::I32(196600), Value::I64(1)])); // partly out: traps
    agree(&wasm, &calls);
}

#[test]
fn call_indirect_calls_and_traps_as_wasmi_does() {
    let wasm = wat::parse_str(
        r#"(module
          (type $ii (func (param i64) (result i64)))
          (type $i (func (result i32)))
          (table 6 funcref)
          (elem (i32.const 0) $double $seven $double)
          (elem (i32.const 4) $negate)
          (func $double (type $ii) (i64.add (local.get 0) (local.get 0)))
          (func $negate (type $ii) (i64.sub (i64.const 0) (local.get 0)))
          (func $seven (type $i) (i32.const 7))
          (func (export "wide") (param i64 i32) (result i64)
            (call_indirect (type $ii) (local.get 0) (local.get 1)))
          (func (export "narrow") (param i32) (result i32)
            (call_indirect (type $i) (local.get 0))))"#,
    )
    .unwrap();
    let mut calls = Vec::new();
    for i in 0..8u32 {
        calls.push(call("wide", vec![Value::I64(21), Value::I32(i)]));
        calls.push(call("narrow", vec![Value::I32(i)]));
    }
    calls.push(call("wide", vec![Value::I64(1), Value::I32(u32::MAX)]));
    agree(&wasm, &calls);
}

#[test]
fn the_new_traps_have_their_own_kinds() {
    let wasm = wat::parse_str(
        r#"(module (type $t (func)) (table 2 funcref) (elem (i32.const 1) $f)
             (func $f (param i32))
             (func (export "go") (param i32) (call_indirect (type $t) (local.get 0))))"#,
    )
    .unwrap();
    let kind = |i: u32| {
        let inv = lower_invokes(&wasm, &[call("go", vec![Value::I32(i)])]).unwrap();
        match reference::run(&inv.program, &Input::default(), 10_000, &mut CountTokens(0)).result {
            Err(RunError::Trap { kind, .. }) => kind,
            other => panic!("expected a trap, got {other:?}"),
        }
    };
    assert_eq!(kind(0), TrapKind::UninitializedElement);
    assert_eq!(kind(1), TrapKind::IndirectCallTypeMismatch);
    assert_eq!(kind(2), TrapKind::UndefinedElement);
}

#[test]
fn memory_fill_and_copy_agree_with_wasmi() {
    let wasm = wat::parse_str(
        r#"(module
          (memory 1 2)
          (data (i32.const 10) "0123456789abcdef")
          (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
          (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
          (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
          (func (export "sum") (param i32 i32) (result i32) (local $s i32)
            (block (loop
              (br_if 1 (i32.eqz (local.get 1)))
              (local.set $s (i32.add (i32.mul (local.get $s) (i32.const 31))
                                     (i32.load8_u (local.get 0))))
              (local.set 0 (i32.add (local.get 0) (i32.const 1)))
              (local.set 1 (i32.sub (local.get 1) (i32.const 1)))
              (br 0)))
            (local.get $s)))"#,
    )
    .unwrap();
    let three = |x: u32, y: u32, z: u32| vec![Value::I32(x), Value::I32(y), Value::I32(z)];
    let calls = vec![
        call("copy", three(12, 10, 8)), // overlapping, forwards is wrong
        call("sum", vec![Value::I32(8), Value::I32(24)]),
        call("copy", three(9, 12, 8)), // overlapping the other way
        call("sum", vec![Value::I32(8), Value::I32(24)]),
        call("fill", three(20, 0x1ff, 5)),
        call("sum", vec![Value::I32(8), Value::I32(24)]),
        call("fill", three(65530, 7, 6)),
        call("sum", vec![Value::I32(65528), Value::I32(8)]),
        call("fill", three(65530, 7, 7)), // one byte past: nothing written
        call("sum", vec![Value::I32(65528), Value::I32(8)]),
        call("copy", three(65535, 10, 2)),
        call("grow", vec![Value::I32(1)]),
        call("copy", three(65535, 10, 2)),
        call("fill", three(131071, 1, 2)),
        call("copy", three(0, u32::MAX, 2)),
        call("fill", three(7, 0, 0)),
        call("fill", three(131072, 0, 0)),
        call("fill", three(131073, 0, 0)),
    ];
    agree(&wasm, &calls);
}

#[test]
fn a_memory_grows_past_the_machine_and_an_access_there_is_the_machines_limit() {
    let wasm = wat::parse_str(
        r#"(module (memory 1)
          (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
          (func (export "size") (result i32) (memory.size))
          (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0))))"#,
    )
    .unwrap();
    // Growing and sizing agree with wasmi, whatever the machine addresses.
    let calls = vec![
        call("grow", vec![Value::I32(306)]),
        call("size", vec![]),
        call("peek", vec![Value::I32(1_000_000)]),
        call("grow", vec![Value::I32(70_000)]),
        call("peek", vec![Value::I32(307 * 65536)]),
    ];
    agree(&wasm, &calls);
    // An access inside the grown memory past the machine's 1 MiB: the
    // machine's limit, not a wrong value and not a wasm trap.
    let inv = lower_invokes(
        &wasm,
        &[
            call("grow", vec![Value::I32(20)]),
            call("peek", vec![Value::I32(1 << 20)]),
        ],
    )
    .unwrap();
    let run = reference::run(
        &inv.program,
        &Input::default(),
        100_000,
        &mut CountTokens(0),
    );
    assert!(
        matches!(
            run.result,
            Err(RunError::Trap {
                kind: TrapKind::MemoryLimit,
                ..
            })
        ),
        "{:?}",
        run.result
    );
    assert_eq!(read_results(&inv.results, &run.output).len(), 1);
}

#[test]
fn i64_operators_with_constant_operands_agree_with_wasmi() {
    let counts = [0u64, 1, 8, 31, 32, 33, 40, 48, 56, 63, 64, 95, 1 << 40];
    let masks = [
        0u64,
        u64::MAX,
        0xffff_ffff,
        0xffff_ffff_0000_0000,
        0xff,
        0xffff,
        0x1234_5678_0000_ffff,
    ];
    let mut text = String::from("(module\n");
    for (i, c) in counts.iter().enumerate() {
        for op in ["shl", "shr_u", "shr_s", "rotl"] {
            text += &format!(
                "(func (export \"{op}{i}\") (param i64) (result i64) (i64.{op} (local.get 0) (i64.const {c})))\n"
            );
        }
    }
    for (i, c) in masks.iter().enumerate() {
        for op in ["and", "or", "xor"] {
            text += &format!(
                "(func (export \"{op}{i}\") (param i64) (result i64) (i64.{op} (local.get 0) (i64.const {})))\n",
                *c as i64
            );
        }
    }
    text += ")";
    let wasm = wat::parse_str(&text).unwrap();
    let mut calls = Vec::new();
    for x in EDGES64
        .iter()
        .chain(&[0x8765_4321_f0e1_d2c3, 0x0123_4567_89ab_cdef])
    {
        for i in 0..counts.len() {
            for op in ["shl", "shr_u", "shr_s", "rotl"] {
                calls.push(call(&format!("{op}{i}"), vec![Value::I64(*x)]));
            }
        }
        for i in 0..masks.len() {
            for op in ["and", "or", "xor"] {
                calls.push(call(&format!("{op}{i}"), vec![Value::I64(*x)]));
            }
        }
    }
    agree(&wasm, &calls);
}
