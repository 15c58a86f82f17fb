//! Machine steps each i64 operator costs on the reference machine: the
//! least and the most over edge and pseudo-random operands, measured as the
//! steps of `local.get; local.get; OP; drop…` minus the same export without
//! the operator.
//!
//! ```sh
//! cargo run --release -p tvm-frontend --example i64_costs
//! ```

use tvm_engine::reference::{self, CountTokens};
use tvm_frontend::invoke::{Invoke, Value, lower_invokes};
use tvm_frontend::program::Input;

const BINARY: [&str; 25] = [
    "add", "sub", "mul", "div_s", "div_u", "rem_s", "rem_u", "and", "or", "xor", "shl", "shr_s",
    "shr_u", "rotl", "rotr", "eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s",
    "ge_u",
];
const UNARY: [&str; 7] = [
    "clz",
    "ctz",
    "popcnt",
    "eqz",
    "extend8_s",
    "extend16_s",
    "extend32_s",
];

fn steps(wasm: &[u8], export: &str, args: Vec<Value>) -> Option<u64> {
    let inv = lower_invokes(
        wasm,
        &[Invoke {
            export: export.to_owned(),
            args,
        }],
    )
    .ok()?;
    let run = reference::run(
        &inv.program,
        &Input::default(),
        1 << 30,
        &mut CountTokens(0),
    );
    run.result.ok().map(|_| run.steps)
}

fn main() {
    let mut text = String::from("(module\n");
    text += "(func (export \"base2\") (param i64 i64) (drop (local.get 0)) (drop (local.get 1)))\n";
    text += "(func (export \"base1\") (param i64) (drop (local.get 0)))\n";
    for op in BINARY {
        text += &format!(
            "(func (export \"{op}\") (param i64 i64) (drop (i64.{op} (local.get 0) (local.get 1))))\n"
        );
    }
    for op in UNARY {
        text += &format!("(func (export \"{op}\") (param i64) (drop (i64.{op} (local.get 0))))\n");
    }
    text += ")";
    let wasm = match wat::parse_str(&text) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut operands: Vec<u64> = vec![
        0,
        1,
        7,
        0xffff_ffff,
        1 << 32,
        u64::MAX,
        1 << 63,
        (1 << 63) - 1,
    ];
    operands.extend((0..24).map(|_| next()));
    operands.extend((0..8).map(|_| next() >> 40));
    println!("{:<12} {:>7} {:>7}", "operator", "min", "max");
    for op in BINARY.iter().chain(&UNARY) {
        let binary = BINARY.contains(op);
        let (mut lo, mut hi) = (u64::MAX, 0);
        for &a in &operands {
            for &b in &operands {
                let (args, base_args, base) = if binary {
                    (
                        vec![Value::I64(a), Value::I64(b)],
                        vec![Value::I64(a), Value::I64(b)],
                        "base2",
                    )
                } else {
                    (vec![Value::I64(a)], vec![Value::I64(a)], "base1")
                };
                let (Some(s), Some(b0)) = (steps(&wasm, op, args), steps(&wasm, base, base_args))
                else {
                    continue; // a trap (division by zero, overflow)
                };
                lo = lo.min(s - b0);
                hi = hi.max(s - b0);
                if !binary {
                    break;
                }
            }
        }
        println!("i64.{op:<8} {lo:>7} {hi:>7}");
    }
}
