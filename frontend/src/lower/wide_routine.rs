//! The i64 routines: WebAssembly's 64-bit operators over pairs of 32-bit
//! words, for the machine's 32-bit opcodes.
//!
//! Calling convention (as for the i32 routines): the operands are on the
//! stack, each i64 as its low word then its high word; the prologue (in
//! [`Routine::emit`]) pops them into locals `0..arity`, so an i64 operand
//! `a` is locals 0 (low) and 1 (high), `b` locals 2 and 3. The routine
//! returns the low word then the high word.
//!
//! - `MulWide`: the full 64-bit product of two words, shift-and-add over the
//!   multiplier's 32 bits with a 64-bit accumulator (the carry out of the low
//!   word is `lo' <u addend`); `i64.mul` is `MulWide(a_lo, b_lo)` plus the
//!   two cross products (`i32.mul`) in the high word.
//! - unsigned division: restoring division, one quotient bit per step over
//!   64 bits (32 when the dividend's high word is zero), remainder kept with
//!   the carry out of its doubling; both halves zero goes to `i32.div_u`.
//!   Signed division divides magnitudes and fixes the signs; division by
//!   zero and `INT64_MIN / -1` halt with the matching trap codes.
//! - shifts by `k mod 64` split at 32 into i32 shifts of the halves (the
//!   bits moved across the halves are disjoint, so they combine by ADD);
//!   rotates are a left and a right shift added.
//! - bit counts combine the halves' i32 counts.
//!
//! Every loop runs at most 64 times, so each routine costs O(64) steps.

use super::asm::{Asm, Label};
use super::routine::{Routine, count_mod, decrement_and_loop, trap};
use tvm_dsl::isa::{Opcode::*, trap_code};

/// Emits the body of an i64 routine (after its prologue).
pub(super) fn emit(r: Routine, a: &mut Asm) {
    match r {
        Routine::MulWide => mul_wide(a),
        Routine::Mul64 => mul64(a),
        Routine::DivU64 => div_u64(a, false),
        Routine::RemU64 => div_u64(a, true),
        Routine::DivS64 => div_s64(a, false),
        Routine::RemS64 => div_s64(a, true),
        Routine::Shl64 => shift(a, Shift::Left),
        Routine::ShrU64 => shift(a, Shift::RightU),
        Routine::ShrS64 => shift(a, Shift::RightS),
        Routine::Rotl64 => rotate(a, false),
        Routine::Rotr64 => rotate(a, true),
        Routine::Clz64 => count(a, Routine::Clz, 1, 0),
        Routine::Ctz64 => count(a, Routine::Ctz, 0, 1),
        Routine::Popcnt64 => {
            a.get(0);
            a.call_routine(Routine::Popcnt);
            a.get(1);
            a.call_routine(Routine::Popcnt);
            a.plain(Add);
            a.konst(0);
            a.plain(Return);
        }
        _ => {
            // Not an i64 routine: never called with one.
            trap(a, trap_code::UNREACHABLE);
        }
    }
}

/// Pushes `x <s 0` for local `x`.
fn sign(a: &mut Asm, x: u32) {
    a.get(x);
    a.konst(0);
    a.plain(LtS);
}

/// `(lo, hi) = 2 · (lo, hi)` for locals `lo`, `hi`.
fn double64(a: &mut Asm, lo: u32, hi: u32) {
    a.get(hi);
    a.get(hi);
    a.plain(Add);
    sign(a, lo);
    a.plain(Add);
    a.set(hi);
    a.get(lo);
    a.get(lo);
    a.plain(Add);
    a.set(lo);
}

fn mul_wide(a: &mut Asm) {
    // Locals: 0 = x, 1 = y (shifted left as its bits are used), 2 = lo,
    // 3 = hi, 4 = bits left.
    let (top, skip, zero) = (a.label(), a.label(), a.label());
    a.konst(0);
    a.set(2);
    a.konst(0);
    a.set(3);
    a.get(1);
    a.plain(Eqz);
    a.br_if(zero);
    a.konst(32);
    a.set(4);
    a.place(top);
    double64(a, 2, 3);
    sign(a, 1);
    a.plain(Eqz);
    a.br_if(skip);
    // (lo, hi) += x, the carry out of lo being lo' <u x.
    a.get(2);
    a.get(0);
    a.plain(Add);
    a.set(2);
    a.get(3);
    a.get(2);
    a.get(0);
    a.plain(LtU);
    a.plain(Add);
    a.set(3);
    a.place(skip);
    a.get(1);
    a.get(1);
    a.plain(Add);
    a.set(1);
    decrement_and_loop(a, 4, top);
    a.place(zero);
    a.get(2);
    a.get(3);
    a.plain(Return);
}

fn mul64(a: &mut Asm) {
    // Locals: a = 0, 1; b = 2, 3; product = 4, 5.
    a.get(0);
    a.get(2);
    a.call_routine(Routine::MulWide);
    a.set(5);
    a.set(4);
    a.get(0);
    a.get(3);
    a.call_routine(Routine::Mul);
    a.get(1);
    a.get(2);
    a.call_routine(Routine::Mul);
    a.plain(Add);
    a.get(5);
    a.plain(Add);
    a.set(5);
    a.get(4);
    a.get(5);
    a.plain(Return);
}

/// Pushes whether the i64 in locals `lo`, `hi` is zero: `hi == 0 ? lo ==
/// 0 : 0`.
fn is_zero64(a: &mut Asm, lo: u32, hi: u32) {
    a.get(lo);
    a.plain(Eqz);
    a.konst(0);
    a.get(hi);
    a.plain(Eqz);
    a.plain(Select);
}

fn div_u64(a: &mut Asm, remainder: bool) {
    // Locals: dividend 0, 1 (shifted left as its bits are used); divisor
    // 2, 3; quotient 4, 5; remainder 6, 7; steps left 8; carry 9.
    let (div0, wide, top, skip) = (a.label(), a.label(), a.label(), a.label());
    is_zero64(a, 2, 3);
    a.br_if(div0);
    // Both high words zero: one i32 division.
    a.get(1);
    a.br_if(wide);
    a.get(3);
    a.br_if(wide);
    a.get(0);
    a.get(2);
    a.call_routine(if remainder {
        Routine::RemU
    } else {
        Routine::DivU
    });
    a.konst(0);
    a.plain(Return);
    a.place(wide);
    for l in 4..8 {
        a.konst(0);
        a.set(l);
    }
    // A zero high word: start from the low word's bits (32 steps).
    let full = a.label();
    a.konst(64);
    a.set(8);
    a.get(1);
    a.br_if(full);
    a.get(0);
    a.set(1);
    a.konst(0);
    a.set(0);
    a.konst(32);
    a.set(8);
    a.place(full);
    a.place(top);
    // carry = top bit of r; r = 2r + top bit of the dividend.
    sign(a, 7);
    a.set(9);
    a.get(7);
    a.get(7);
    a.plain(Add);
    sign(a, 6);
    a.plain(Add);
    a.set(7);
    a.get(6);
    a.get(6);
    a.plain(Add);
    sign(a, 1);
    a.plain(Add);
    a.set(6);
    double64(a, 0, 1);
    double64(a, 4, 5);
    // if carry or r >=u divisor: r -= divisor, q += 1.
    a.get(6);
    a.get(2);
    a.plain(GeU);
    a.get(7);
    a.get(3);
    a.plain(GtU);
    a.get(7);
    a.get(3);
    a.plain(Eq);
    a.plain(Select);
    a.get(9);
    a.plain(Add);
    a.plain(Eqz);
    a.br_if(skip);
    a.get(7);
    a.get(3);
    a.plain(Sub);
    a.get(6);
    a.get(2);
    a.plain(LtU);
    a.plain(Sub);
    a.set(7);
    a.get(6);
    a.get(2);
    a.plain(Sub);
    a.set(6);
    a.get(4);
    a.konst(1);
    a.plain(Add);
    a.set(4);
    a.place(skip);
    decrement_and_loop(a, 8, top);
    if remainder {
        a.get(6);
        a.get(7);
    } else {
        a.get(4);
        a.get(5);
    }
    a.plain(Return);
    a.place(div0);
    trap(a, trap_code::DIVIDE_BY_ZERO);
}

/// `(lo, hi) = s ? −(lo, hi) : (lo, hi)` for locals `lo`, `hi`, `s` (0/1).
fn negate_if(a: &mut Asm, lo: u32, hi: u32, s: u32) {
    a.konst(0);
    a.get(lo);
    a.plain(Sub);
    a.get(lo);
    a.get(s);
    a.plain(Select);
    a.konst(0);
    a.get(hi);
    a.plain(Sub);
    a.get(lo);
    a.konst(0);
    a.plain(Ne);
    a.plain(Sub);
    a.get(hi);
    a.get(s);
    a.plain(Select);
    a.set(hi);
    a.set(lo);
}

fn div_s64(a: &mut Asm, remainder: bool) {
    // Locals: a 0, 1; b 2, 3; sign of a 4, of b 5; result 6, 7; its sign 8.
    let (div0, overflow) = (a.label(), a.label());
    is_zero64(a, 2, 3);
    a.br_if(div0);
    if !remainder {
        // a = INT64_MIN and b = -1.
        a.get(0);
        a.plain(Eqz);
        a.get(1);
        a.konst(0x8000_0000);
        a.plain(Eq);
        a.plain(Add);
        a.get(2);
        a.konst(u32::MAX);
        a.plain(Eq);
        a.plain(Add);
        a.get(3);
        a.konst(u32::MAX);
        a.plain(Eq);
        a.plain(Add);
        a.konst(4);
        a.plain(Eq);
        a.br_if(overflow);
    }
    sign(a, 1);
    a.set(4);
    sign(a, 3);
    a.set(5);
    negate_if(a, 0, 1, 4);
    negate_if(a, 2, 3, 5);
    for l in 0..4 {
        a.get(l);
    }
    a.call_routine(if remainder {
        Routine::RemU64
    } else {
        Routine::DivU64
    });
    a.set(7);
    a.set(6);
    if remainder {
        a.get(4);
    } else {
        a.get(4);
        a.get(5);
        a.plain(Ne);
    }
    a.set(8);
    negate_if(a, 6, 7, 8);
    a.get(6);
    a.get(7);
    a.plain(Return);
    a.place(div0);
    trap(a, trap_code::DIVIDE_BY_ZERO);
    if !remainder {
        a.place(overflow);
        trap(a, trap_code::OVERFLOW);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shift {
    Left,
    RightU,
    RightS,
}

/// Pushes `op(x, y)` for i32 routine `op` and locals or constants.
fn call2(a: &mut Asm, op: Routine, x: impl Fn(&mut Asm), y: impl Fn(&mut Asm)) {
    x(a);
    y(a);
    a.call_routine(op);
}

fn shift(a: &mut Asm, kind: Shift) {
    // Locals: x 0, 1; k 2 (the high word 3 of the count is ignored).
    let (small, done) = (a.label(), a.label());
    count_mod(a, 2, 6);
    let k_minus_32 = |a: &mut Asm| {
        a.get(2);
        a.konst(32);
        a.plain(Sub);
    };
    let thirty_two_minus_k = |a: &mut Asm| {
        a.konst(32);
        a.get(2);
        a.plain(Sub);
    };
    let local = |l: u32| move |a: &mut Asm| a.get(l);
    a.get(2);
    a.konst(32);
    a.plain(LtU);
    a.br_if(small);
    // k >= 32: one half moves into the other.
    match kind {
        Shift::Left => {
            call2(a, Routine::Shl, local(0), k_minus_32);
            a.set(1);
            a.konst(0);
            a.set(0);
        }
        Shift::RightU => {
            call2(a, Routine::ShrU, local(1), k_minus_32);
            a.set(0);
            a.konst(0);
            a.set(1);
        }
        Shift::RightS => {
            call2(a, Routine::ShrS, local(1), k_minus_32);
            a.set(0);
            sign(a, 1);
            a.set(4);
            a.konst(0);
            a.get(4);
            a.plain(Sub);
            a.set(1);
        }
    }
    a.br(done);
    a.place(small);
    a.get(2);
    a.plain(Eqz);
    a.br_if(done);
    match kind {
        Shift::Left => {
            // hi = hi << k | lo >> (32 - k); lo = lo << k.
            call2(a, Routine::Shl, local(1), local(2));
            call2(a, Routine::ShrU, local(0), thirty_two_minus_k);
            a.plain(Add);
            a.set(1);
            call2(a, Routine::Shl, local(0), local(2));
            a.set(0);
        }
        Shift::RightU | Shift::RightS => {
            // lo = lo >> k | hi << (32 - k); hi = hi >> k.
            call2(a, Routine::ShrU, local(0), local(2));
            call2(a, Routine::Shl, local(1), thirty_two_minus_k);
            a.plain(Add);
            a.set(0);
            let op = if kind == Shift::RightS {
                Routine::ShrS
            } else {
                Routine::ShrU
            };
            call2(a, op, local(1), local(2));
            a.set(1);
        }
    }
    a.place(done);
    a.get(0);
    a.get(1);
    a.plain(Return);
}

fn rotate(a: &mut Asm, right: bool) {
    // Locals: x 0, 1; k 2; the two shifted parts 4, 5 and 6, 7.
    let done: Label = a.label();
    count_mod(a, 2, 6);
    a.get(2);
    a.plain(Eqz);
    a.br_if(done);
    let (first, second) = if right {
        (Routine::ShrU64, Routine::Shl64)
    } else {
        (Routine::Shl64, Routine::ShrU64)
    };
    a.get(0);
    a.get(1);
    a.get(2);
    a.konst(0);
    a.call_routine(first);
    a.set(5);
    a.set(4);
    a.get(0);
    a.get(1);
    a.konst(64);
    a.get(2);
    a.plain(Sub);
    a.konst(0);
    a.call_routine(second);
    a.set(7);
    a.set(6);
    // The parts' bits are disjoint: adding the halves never carries.
    a.get(4);
    a.get(6);
    a.plain(Add);
    a.set(0);
    a.get(5);
    a.get(7);
    a.plain(Add);
    a.set(1);
    a.place(done);
    a.get(0);
    a.get(1);
    a.plain(Return);
}

/// `clz`/`ctz`: the count of the `first` half, or 32 plus the count of the
/// `second` half when the first is zero.
fn count(a: &mut Asm, op: Routine, first: u32, second: u32) {
    let zero = a.label();
    a.get(first);
    a.plain(Eqz);
    a.br_if(zero);
    a.get(first);
    a.call_routine(op);
    a.konst(0);
    a.plain(Return);
    a.place(zero);
    a.get(second);
    a.call_routine(op);
    a.konst(32);
    a.plain(Add);
    a.konst(0);
    a.plain(Return);
}
