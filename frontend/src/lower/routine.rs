//! Lowered-operator routines: the WebAssembly i32 operators the machine has
//! no opcode for, written once per program as functions over the 35 native
//! opcodes and reached by `CALL`.
//!
//! Each routine takes its operands on the stack (first operand deepest),
//! pops them into locals 0 and 1, and returns one value. Every loop runs at
//! most 32 times (once per bit), so each routine costs O(32) steps whatever
//! its operands. The algorithms use only ADD, SUB, comparisons and SELECT:
//!
//! - the top bit of `x` is `x <s 0`, and `x + x` shifts left by one;
//! - AND builds its result from the top bit down; OR and XOR follow from
//!   `a | b = a + b - (a & b)` and `a ^ b = a + b - 2 (a & b)` (mod 2^32);
//! - MUL is shift-and-add over the smaller operand's bits;
//! - unsigned DIV/REM is restoring division, one quotient bit per step;
//!   signed DIV/REM divide magnitudes and fix the signs; division by zero and
//!   `INT_MIN / -1` halt with the matching trap code;
//! - shift and rotate counts are reduced mod 32 first, as WebAssembly
//!   requires.
//!
//! Exactness against WebAssembly is tested on random and edge operands
//! against wasmi.

use super::asm::Asm;
use tvm_dsl::isa::{Opcode::*, trap_code};

/// A lowered operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Routine {
    /// `i32.mul`
    Mul,
    /// `i32.div_u`
    DivU,
    /// `i32.rem_u`
    RemU,
    /// `i32.div_s`
    DivS,
    /// `i32.rem_s`
    RemS,
    /// `i32.and`
    And,
    /// `i32.or`
    Or,
    /// `i32.xor`
    Xor,
    /// `i32.shl`
    Shl,
    /// `i32.shr_u`
    ShrU,
    /// `i32.shr_s`
    ShrS,
    /// `i32.rotl`
    Rotl,
    /// `i32.rotr`
    Rotr,
    /// `i32.clz`
    Clz,
    /// `i32.ctz`
    Ctz,
    /// `i32.popcnt`
    Popcnt,
    /// `i32.extend8_s`
    Extend8S,
    /// `i32.extend16_s`
    Extend16S,
    /// The full 64-bit product of two unsigned 32-bit words (the building
    /// block of `i64.mul`; no wasm operator of its own).
    MulWide,
    /// `i64.mul`
    Mul64,
    /// `i64.div_u`
    DivU64,
    /// `i64.rem_u`
    RemU64,
    /// `i64.div_s`
    DivS64,
    /// `i64.rem_s`
    RemS64,
    /// `i64.shl`
    Shl64,
    /// `i64.shr_u`
    ShrU64,
    /// `i64.shr_s`
    ShrS64,
    /// `i64.rotl`
    Rotl64,
    /// `i64.rotr`
    Rotr64,
    /// `i64.clz`
    Clz64,
    /// `i64.ctz`
    Ctz64,
    /// `i64.popcnt`
    Popcnt64,
}

impl Routine {
    /// Every routine.
    pub const ALL: [Routine; 18] = [
        Routine::Mul,
        Routine::DivU,
        Routine::RemU,
        Routine::DivS,
        Routine::RemS,
        Routine::And,
        Routine::Or,
        Routine::Xor,
        Routine::Shl,
        Routine::ShrU,
        Routine::ShrS,
        Routine::Rotl,
        Routine::Rotr,
        Routine::Clz,
        Routine::Ctz,
        Routine::Popcnt,
        Routine::Extend8S,
        Routine::Extend16S,
    ];

    /// The routines over i64 operands (two words each, low word first),
    /// returning an i64 (low word, then high word).
    pub const WIDE: [Routine; 14] = [
        Routine::MulWide,
        Routine::Mul64,
        Routine::DivU64,
        Routine::RemU64,
        Routine::DivS64,
        Routine::RemS64,
        Routine::Shl64,
        Routine::ShrU64,
        Routine::ShrS64,
        Routine::Rotl64,
        Routine::Rotr64,
        Routine::Clz64,
        Routine::Ctz64,
        Routine::Popcnt64,
    ];

    /// Whether it returns two words (an i64).
    pub const fn is_wide(self) -> bool {
        self.result_words() == 2
    }

    /// Words it returns: 2 for the [`Routine::WIDE`] ones, else 1.
    pub const fn result_words(self) -> u32 {
        let mut i = 0;
        while i < Routine::WIDE.len() {
            if Routine::WIDE[i] as u8 == self as u8 {
                return 2;
            }
            i += 1;
        }
        1
    }

    /// The WebAssembly operator it implements, like `i32.mul`.
    pub const fn wasm_name(self) -> &'static str {
        match self {
            Routine::MulWide => "i32.mul_wide_u",
            Routine::Mul64 => "i64.mul",
            Routine::DivU64 => "i64.div_u",
            Routine::RemU64 => "i64.rem_u",
            Routine::DivS64 => "i64.div_s",
            Routine::RemS64 => "i64.rem_s",
            Routine::Shl64 => "i64.shl",
            Routine::ShrU64 => "i64.shr_u",
            Routine::ShrS64 => "i64.shr_s",
            Routine::Rotl64 => "i64.rotl",
            Routine::Rotr64 => "i64.rotr",
            Routine::Clz64 => "i64.clz",
            Routine::Ctz64 => "i64.ctz",
            Routine::Popcnt64 => "i64.popcnt",
            Routine::Mul => "i32.mul",
            Routine::DivU => "i32.div_u",
            Routine::RemU => "i32.rem_u",
            Routine::DivS => "i32.div_s",
            Routine::RemS => "i32.rem_s",
            Routine::And => "i32.and",
            Routine::Or => "i32.or",
            Routine::Xor => "i32.xor",
            Routine::Shl => "i32.shl",
            Routine::ShrU => "i32.shr_u",
            Routine::ShrS => "i32.shr_s",
            Routine::Rotl => "i32.rotl",
            Routine::Rotr => "i32.rotr",
            Routine::Clz => "i32.clz",
            Routine::Ctz => "i32.ctz",
            Routine::Popcnt => "i32.popcnt",
            Routine::Extend8S => "i32.extend8_s",
            Routine::Extend16S => "i32.extend16_s",
        }
    }

    /// The name of its function in listings: `lowered.mul` for i32
    /// operators, `lowered.i64.mul` for i64 ones.
    pub fn function_name(self) -> String {
        let name = self.wasm_name();
        match name.strip_prefix("i32.") {
            Some(rest) if !self.is_wide() => format!("lowered.{rest}"),
            _ => format!("lowered.{name}"),
        }
    }

    /// Number of operand words: 1 or 2 for i32 operators, 2 or 4 for i64
    /// ones (2 for `MulWide`).
    pub const fn arity(self) -> u32 {
        match self {
            Routine::Clz
            | Routine::Ctz
            | Routine::Popcnt
            | Routine::Extend8S
            | Routine::Extend16S => 1,
            Routine::MulWide | Routine::Clz64 | Routine::Ctz64 | Routine::Popcnt64 => 2,
            Routine::Mul64
            | Routine::DivU64
            | Routine::RemU64
            | Routine::DivS64
            | Routine::RemS64
            | Routine::Shl64
            | Routine::ShrU64
            | Routine::ShrS64
            | Routine::Rotl64
            | Routine::Rotr64 => 4,
            _ => 2,
        }
    }

    /// Routines this one calls.
    pub const fn calls(self) -> &'static [Routine] {
        match self {
            Routine::DivS => &[Routine::DivU],
            Routine::RemS => &[Routine::RemU],
            Routine::Or | Routine::Xor => &[Routine::And],
            Routine::Extend8S | Routine::Extend16S => &[Routine::Shl, Routine::ShrS],
            Routine::Mul64 => &[Routine::MulWide, Routine::Mul],
            Routine::DivU64 => &[Routine::DivU],
            Routine::RemU64 => &[Routine::RemU],
            Routine::DivS64 => &[Routine::DivU64],
            Routine::RemS64 => &[Routine::RemU64],
            Routine::Shl64 => &[Routine::Shl, Routine::ShrU],
            Routine::ShrU64 => &[Routine::Shl, Routine::ShrU],
            Routine::ShrS64 => &[Routine::Shl, Routine::ShrU, Routine::ShrS],
            Routine::Rotl64 | Routine::Rotr64 => &[Routine::Shl64, Routine::ShrU64],
            Routine::Clz64 => &[Routine::Clz],
            Routine::Ctz64 => &[Routine::Ctz],
            Routine::Popcnt64 => &[Routine::Popcnt],
            _ => &[],
        }
    }

    /// Emits the routine's body at the current position of `asm`.
    pub fn emit(self, a: &mut Asm) {
        // Prologue: pop the operands into locals 0 (first) and 1 (second).
        for i in (0..self.arity()).rev() {
            a.set(i);
        }
        match self {
            Routine::Mul => mul(a),
            Routine::DivU => div_u(a, 2),
            Routine::RemU => div_u(a, 3),
            Routine::DivS => div_s(a, true),
            Routine::RemS => div_s(a, false),
            Routine::And => and(a),
            Routine::Or | Routine::Xor => {
                // a + b - (a & b), minus (a & b) once more for XOR.
                a.get(0);
                a.get(1);
                a.call_routine(Routine::And);
                a.set(2);
                a.get(0);
                a.get(1);
                a.plain(Add);
                a.get(2);
                a.plain(Sub);
                if self == Routine::Xor {
                    a.get(2);
                    a.plain(Sub);
                }
                a.plain(Return);
            }
            Routine::Shl => {
                count_mod(a, 1, 5);
                let (done, top) = (a.label(), a.label());
                a.get(1);
                a.plain(Eqz);
                a.br_if(done);
                a.place(top);
                a.get(0);
                a.get(0);
                a.plain(Add);
                a.set(0);
                decrement_and_loop(a, 1, top);
                a.place(done);
                a.get(0);
                a.plain(Return);
            }
            Routine::ShrU | Routine::ShrS => shift_right(a, self == Routine::ShrS),
            Routine::MulWide
            | Routine::Mul64
            | Routine::DivU64
            | Routine::RemU64
            | Routine::DivS64
            | Routine::RemS64
            | Routine::Shl64
            | Routine::ShrU64
            | Routine::ShrS64
            | Routine::Rotl64
            | Routine::Rotr64
            | Routine::Clz64
            | Routine::Ctz64
            | Routine::Popcnt64 => super::wide_routine::emit(self, a),
            Routine::Rotl | Routine::Rotr => rotate(a, self == Routine::Rotr),
            Routine::Clz => {
                let (zero, top, done) = (a.label(), a.label(), a.label());
                a.get(0);
                a.plain(Eqz);
                a.br_if(zero);
                a.konst(0);
                a.set(1);
                a.place(top);
                top_bit(a, 0);
                a.br_if(done);
                double(a, 0);
                a.get(1);
                a.konst(1);
                a.plain(Add);
                a.set(1);
                a.br(top);
                a.place(done);
                a.get(1);
                a.plain(Return);
                a.place(zero);
                a.konst(32);
                a.plain(Return);
            }
            Routine::Ctz => {
                // Count the doublings that make x zero: 32 - ctz(x).
                let (zero, top) = (a.label(), a.label());
                a.get(0);
                a.plain(Eqz);
                a.br_if(zero);
                a.konst(0);
                a.set(1);
                a.place(top);
                a.get(1);
                a.konst(1);
                a.plain(Add);
                a.set(1);
                a.get(0);
                a.get(0);
                a.plain(Add);
                a.tee(0);
                a.br_if(top);
                a.konst(32);
                a.get(1);
                a.plain(Sub);
                a.plain(Return);
                a.place(zero);
                a.konst(32);
                a.plain(Return);
            }
            Routine::Popcnt => {
                let (top, done) = (a.label(), a.label());
                a.konst(0);
                a.set(1);
                a.get(0);
                a.plain(Eqz);
                a.br_if(done);
                a.place(top);
                a.get(1);
                top_bit(a, 0);
                a.plain(Add);
                a.set(1);
                a.get(0);
                a.get(0);
                a.plain(Add);
                a.tee(0);
                a.br_if(top);
                a.place(done);
                a.get(1);
                a.plain(Return);
            }
            Routine::Extend8S | Routine::Extend16S => {
                let bits = if self == Routine::Extend8S { 24 } else { 16 };
                a.get(0);
                a.konst(bits);
                a.call_routine(Routine::Shl);
                a.konst(bits);
                a.call_routine(Routine::ShrS);
                a.plain(Return);
            }
        }
    }
}

/// Pushes `x <s 0` (the top bit of local `x`).
pub(super) fn top_bit(a: &mut Asm, x: u32) {
    a.get(x);
    a.konst(0);
    a.plain(LtS);
}

/// `x = x + x` (shift local `x` left by one).
pub(super) fn double(a: &mut Asm, x: u32) {
    a.get(x);
    a.get(x);
    a.plain(Add);
    a.set(x);
}

/// `n = n - 1; if n != 0 goto top`.
pub(super) fn decrement_and_loop(a: &mut Asm, n: u32, top: super::asm::Label) {
    a.get(n);
    a.konst(1);
    a.plain(Sub);
    a.tee(n);
    a.br_if(top);
}

/// `k = k mod 2^bits` for local `k` (`bits` 5 for i32 shift counts, 6 for
/// i64), by subtracting 2^31 … 2^bits where they fit (skipped when `k <
/// 2^bits` already, the common case).
pub(super) fn count_mod(a: &mut Asm, k: u32, bits: u32) {
    let done = a.label();
    a.get(k);
    a.konst(1 << bits);
    a.plain(LtU);
    a.br_if(done);
    for bit in (bits..32).rev() {
        let p = 1u32 << bit;
        a.get(k);
        a.konst(p);
        a.plain(Sub);
        a.get(k);
        a.get(k);
        a.konst(p);
        a.plain(GeU);
        a.plain(Select);
        a.set(k);
    }
    a.place(done);
}

/// Halts with `code` (the popped status is ignored when trapping).
pub(super) fn trap(a: &mut Asm, code: u32) {
    a.konst(0);
    a.op(Halt, code);
}

fn mul(a: &mut Asm) {
    // Locals: 0 = multiplicand (larger), 1 = multiplier (smaller), 2 = r,
    // 3 = bits left, 4 = tmp. Skipping the multiplier's leading zeros keeps
    // small multipliers cheap.
    a.get(0);
    a.get(1);
    a.get(0);
    a.get(1);
    a.plain(LtU);
    a.plain(Select);
    a.set(4); // min(a, b)
    a.get(1);
    a.get(0);
    a.get(0);
    a.get(1);
    a.plain(LtU);
    a.plain(Select);
    a.set(0); // max(a, b)
    a.get(4);
    a.set(1);
    a.konst(0);
    a.set(2);
    a.konst(32);
    a.set(3);
    let (done, skip, top) = (a.label(), a.label(), a.label());
    a.get(1);
    a.plain(Eqz);
    a.br_if(done);
    a.place(skip);
    top_bit(a, 1);
    a.br_if(top);
    double(a, 1);
    a.get(3);
    a.konst(1);
    a.plain(Sub);
    a.set(3);
    a.br(skip);
    a.place(top);
    // r = 2r + (multiplier's top bit ? multiplicand : 0)
    a.get(2);
    a.get(2);
    a.plain(Add);
    a.get(0);
    a.konst(0);
    top_bit(a, 1);
    a.plain(Select);
    a.plain(Add);
    a.set(2);
    double(a, 1);
    decrement_and_loop(a, 3, top);
    a.place(done);
    a.get(2);
    a.plain(Return);
}

/// Restoring division of local 0 by local 1; returns local `result`
/// (2 = quotient, 3 = remainder). Locals: 4 = bits left, 5 = carry.
fn div_u(a: &mut Asm, result: u32) {
    let (div0, done, skip, top) = (a.label(), a.label(), a.label(), a.label());
    a.get(1);
    a.plain(Eqz);
    a.br_if(div0);
    a.konst(0);
    a.set(2);
    a.konst(0);
    a.set(3);
    a.konst(32);
    a.set(4);
    // Leading zero bits of the dividend give zero quotient and remainder bits.
    a.get(0);
    a.plain(Eqz);
    a.br_if(done);
    a.place(skip);
    top_bit(a, 0);
    a.br_if(top);
    double(a, 0);
    a.get(4);
    a.konst(1);
    a.plain(Sub);
    a.set(4);
    a.br(skip);
    a.place(top);
    // carry = r's top bit (2r + bit overflows 32 bits: then 2r + bit > b).
    top_bit(a, 3);
    a.set(5);
    // r = 2r + top bit of a; a = 2a
    a.get(3);
    a.get(3);
    a.plain(Add);
    top_bit(a, 0);
    a.plain(Add);
    a.set(3);
    double(a, 0);
    // c = carry | (r >=u b)
    a.konst(1);
    a.get(3);
    a.get(1);
    a.plain(GeU);
    a.get(5);
    a.plain(Select);
    a.set(5);
    // r = c ? r - b : r (mod 2^32, exact because the true r - b < b)
    a.get(3);
    a.get(1);
    a.plain(Sub);
    a.get(3);
    a.get(5);
    a.plain(Select);
    a.set(3);
    // q = 2q + c
    a.get(2);
    a.get(2);
    a.plain(Add);
    a.get(5);
    a.plain(Add);
    a.set(2);
    decrement_and_loop(a, 4, top);
    a.place(done);
    a.get(result);
    a.plain(Return);
    a.place(div0);
    trap(a, trap_code::DIVIDE_BY_ZERO);
}

fn div_s(a: &mut Asm, quotient: bool) {
    let div0 = a.label();
    a.get(1);
    a.plain(Eqz);
    a.br_if(div0);
    if quotient {
        // INT_MIN / -1 overflows.
        let overflow = a.label();
        a.get(1);
        a.konst(u32::MAX);
        a.plain(Eq);
        a.konst(0);
        a.get(0);
        a.konst(0x8000_0000);
        a.plain(Eq);
        a.plain(Select);
        a.br_if(overflow);
        emit_signed_body(a, true);
        a.place(overflow);
        trap(a, trap_code::OVERFLOW);
    } else {
        emit_signed_body(a, false);
    }
    a.place(div0);
    trap(a, trap_code::DIVIDE_BY_ZERO);
}

fn emit_signed_body(a: &mut Asm, quotient: bool) {
    // 2 = a < 0, 3 = b < 0; divide |a| by |b| unsigned; fix the sign.
    top_bit(a, 0);
    a.set(2);
    top_bit(a, 1);
    a.set(3);
    for (x, sign) in [(0, 2), (1, 3)] {
        a.konst(0);
        a.get(x);
        a.plain(Sub);
        a.get(x);
        a.get(sign);
        a.plain(Select);
    }
    a.call_routine(if quotient {
        Routine::DivU
    } else {
        Routine::RemU
    });
    a.set(4);
    a.konst(0);
    a.get(4);
    a.plain(Sub);
    a.get(4);
    if quotient {
        // negative when exactly one operand is
        a.get(2);
        a.get(3);
        a.plain(Ne);
    } else {
        // the remainder takes the dividend's sign
        a.get(2);
    }
    a.plain(Select);
    a.plain(Return);
}

fn and(a: &mut Asm) {
    // Booleans first: clang computes `p && q` (and, through OR/XOR, `p || q`
    // and `p != q`) as i32.and of two comparison results. When both
    // operands are 0 or 1, a & b = a ? b : 0.
    let general = a.label();
    a.get(1);
    a.konst(0);
    a.get(0);
    a.konst(2);
    a.plain(LtU);
    a.plain(Select); // a <u 2 ? b : 0 ...
    a.konst(2);
    a.plain(GeU); // ... >=u 2: b is not boolean (or a is not, and b is 0)
    a.get(0);
    a.konst(2);
    a.plain(GeU);
    a.plain(Add);
    a.br_if(general);
    a.get(1);
    a.konst(0);
    a.get(0);
    a.plain(Select);
    a.plain(Return);
    a.place(general);
    // 2 = r, 3 = bits left; r = 2r + (a <s 0 ? b <s 0 : 0), a = 2a, b = 2b.
    a.konst(0);
    a.set(2);
    a.konst(32);
    a.set(3);
    let top = a.label();
    a.place(top);
    a.get(2);
    a.get(2);
    a.plain(Add);
    top_bit(a, 1);
    a.konst(0);
    top_bit(a, 0);
    a.plain(Select);
    a.plain(Add);
    a.set(2);
    double(a, 0);
    double(a, 1);
    decrement_and_loop(a, 3, top);
    a.get(2);
    a.plain(Return);
}

fn shift_right(a: &mut Asm, signed: bool) {
    // r starts as the sign fill (0, or -1 when signed and negative), then
    // takes the top 32 - k bits of x one at a time.
    count_mod(a, 1, 5);
    let (zero, top) = (a.label(), a.label());
    a.get(1);
    a.plain(Eqz);
    a.br_if(zero);
    a.konst(32);
    a.get(1);
    a.plain(Sub);
    a.set(3);
    if signed {
        a.konst(u32::MAX);
        a.konst(0);
        top_bit(a, 0);
        a.plain(Select);
    } else {
        a.konst(0);
    }
    a.set(2);
    a.place(top);
    a.get(2);
    a.get(2);
    a.plain(Add);
    top_bit(a, 0);
    a.plain(Add);
    a.set(2);
    double(a, 0);
    decrement_and_loop(a, 3, top);
    a.get(2);
    a.plain(Return);
    a.place(zero);
    a.get(0);
    a.plain(Return);
}

fn rotate(a: &mut Asm, right: bool) {
    count_mod(a, 1, 5);
    let (done, top) = (a.label(), a.label());
    a.get(1);
    a.plain(Eqz);
    a.br_if(done);
    if right {
        // rotr k = rotl (32 - k)
        a.konst(32);
        a.get(1);
        a.plain(Sub);
        a.set(1);
    }
    a.place(top);
    // x = 2x + top bit of x
    a.get(0);
    a.get(0);
    a.plain(Add);
    top_bit(a, 0);
    a.plain(Add);
    a.set(0);
    decrement_and_loop(a, 1, top);
    a.place(done);
    a.get(0);
    a.plain(Return);
}
