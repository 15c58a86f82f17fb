//! The i64 routines' specifications: WebAssembly's 64-bit operators on
//! 64-bit vectors `concat(hi, lo)` of the operand words.

use tvm_dsl::isa::trap_code;
use tvm_frontend::lower::routine::Routine;

use std::collections::{BTreeMap, HashMap};

use super::{
    BvOp, CmpOp, EntryLemma, Expected, Id, IntegerLemma, Lemma, LemmaProof, Locals, Node, Terms,
    signed_division,
};

/// `INT64_MIN`.
const INT64_MIN: u64 = 1 << 63;

/// wasm's result of the i64 routine `op` on the operand words `args`
/// (each i64 operand its low word then its high word; `MulWide`'s two
/// operands are words), as two result words, low first.
pub(super) fn expected(t: &mut Terms, op: Routine, args: &[Id]) -> Expected {
    let operand = |t: &mut Terms, i: usize| t.concat(args[2 * i + 1], args[2 * i]);
    let zero = t.konst64(0);
    let mut traps = Vec::new();
    let value = match op {
        Routine::MulWide => {
            let (x, y) = (t.zext(args[0]), t.zext(args[1]));
            t.bin(BvOp::Mul, x, y)
        }
        Routine::Mul64 => {
            let (a, b) = (operand(t, 0), operand(t, 1));
            t.bin(BvOp::Mul, a, b)
        }
        Routine::DivU64 | Routine::RemU64 | Routine::DivS64 | Routine::RemS64 => {
            let (a, b) = (operand(t, 0), operand(t, 1));
            let b_zero = t.eq(b, zero);
            traps.push((b_zero, trap_code::DIVIDE_BY_ZERO));
            match op {
                Routine::DivU64 => t.bin(BvOp::Udiv, a, b),
                Routine::RemU64 => t.bin(BvOp::Urem, a, b),
                Routine::DivS64 => {
                    let (min, minus_one) = (t.konst64(INT64_MIN), t.konst64(u64::MAX));
                    let a_min = t.eq(a, min);
                    let b_m1 = t.eq(b, minus_one);
                    let overflow = t.all(&[a_min, b_m1]);
                    traps.push((overflow, trap_code::OVERFLOW));
                    signed_division(t, a, b, false)
                }
                _ => signed_division(t, a, b, true),
            }
        }
        Routine::Shl64 | Routine::ShrU64 | Routine::ShrS64 | Routine::Rotl64 | Routine::Rotr64 => {
            let (a, b) = (operand(t, 0), operand(t, 1));
            let sixty_three = t.konst64(63);
            let k = t.bin(BvOp::And, b, sixty_three);
            match op {
                Routine::Shl64 => t.bin(BvOp::Shl, a, k),
                Routine::ShrU64 => t.bin(BvOp::Lshr, a, k),
                Routine::ShrS64 => t.bin(BvOp::Ashr, a, k),
                _ => {
                    let sixty_four = t.konst64(64);
                    let back = t.sub(sixty_four, k);
                    let (first, second) = if op == Routine::Rotl64 {
                        (BvOp::Shl, BvOp::Lshr)
                    } else {
                        (BvOp::Lshr, BvOp::Shl)
                    };
                    let x = t.bin(first, a, k);
                    let y = t.bin(second, a, back);
                    t.bin(BvOp::Or, x, y)
                }
            }
        }
        Routine::Clz64 => {
            let a = operand(t, 0);
            let mut e = t.konst64(64);
            for i in 0..64 {
                let bit = t.bit(i, a);
                let count = t.konst64(u64::from(63 - i));
                e = t.ite(bit, count, e);
            }
            e
        }
        Routine::Ctz64 => {
            let a = operand(t, 0);
            let mut e = t.konst64(64);
            for i in (0..64).rev() {
                let bit = t.bit(i, a);
                let count = t.konst64(u64::from(i));
                e = t.ite(bit, count, e);
            }
            e
        }
        Routine::Popcnt64 => {
            // The number of set bits (at most 64, so counted exactly in a
            // word), zero-extended.
            let a = operand(t, 0);
            let mut sum = t.konst(0);
            for i in (0..64).rev() {
                let bit = t.bit(i, a);
                let one = t.bool_to_bv(bit);
                sum = t.add(sum, one);
            }
            t.zext(sum)
        }
        _ => {
            // Not an i64 routine: never asked (see `super::expected`).
            zero
        }
    };
    Expected {
        traps,
        value: t.words(value),
    }
}

// ---------------------------------------------------------------------------
// MulWide's loop
// ---------------------------------------------------------------------------

/// `MulWide`'s `Inv_n` over a state's locals `l` (`v`: the lemma's
/// variables `X, Y, S, lo, hi`, for the ghost multiplier `Y`): `S = Y << (32
/// − n) ∧ (hi, lo) = X · (Y >> n)`, the product over 64 bits of the words
/// zero-extended.
pub(super) fn mul_invariant(t: &mut Terms, n: u32, l: &dyn Fn(u32) -> Id, v: &[Id]) -> Id {
    let y = v[1];
    let back = t.konst(32 - n);
    let s = t.bin(BvOp::Shl, y, back);
    let eq_s = t.eq(l(1), s);
    let k = t.konst(n);
    let q = t.bin(BvOp::Lshr, y, k);
    let (x, q) = (t.zext(l(0)), t.zext(q));
    let product = t.bin(BvOp::Mul, x, q);
    let acc = t.concat(l(3), l(2));
    let eq_p = t.eq(acc, product);
    t.all(&[eq_s, eq_p])
}

/// What one `MulWide` iteration from counter `n` does, without a
/// multiplication: with the head state `X`, `S`, `(hi, lo)` and the ghost
/// `Y` (`vars`), if `S = Y << (32 − n)`, the next head has `X` unchanged,
/// `S' = Y << (33 − n)`, `(hi', lo') = 2·(hi, lo) + (b ? X : 0)` over 64 bits
/// for `b` bit `n − 1` of `Y`, and `Y >> (n − 1) = ((Y >> n) << 1) + b`.
/// With `Inv_n` these give `Inv_(n−1)` by [`MUL_WIDE_RINGS`] (for `q = Y >>
/// n < 2³¹`): the step lemma.
pub(super) fn mul_step_facts(t: &mut Terms, n: u32, after: &Locals, vars: &[Id]) -> Id {
    let (x, y, s, lo, hi) = (vars[0], vars[1], vars[2], vars[3], vars[4]);
    let zero = t.konst(0);
    let one = t.konst(1);
    let local = |i: u32| after.get(&(0, i)).copied().unwrap_or(zero);
    let back = t.konst(32 - n);
    let s_n = t.bin(BvOp::Shl, y, back);
    let premise = t.eq(s, s_n);
    let bit = t.bit(n - 1, y);
    let addend = t.ite(bit, x, zero);
    let addend = t.zext(addend);
    let acc = t.concat(hi, lo);
    let one64 = t.konst64(1);
    let doubled = t.bin(BvOp::Shl, acc, one64);
    let acc_next = t.add(doubled, addend);
    let b = t.ite(bit, one, zero);
    let k = t.konst(n);
    let q = t.bin(BvOp::Lshr, y, k);
    let q2 = t.bin(BvOp::Shl, q, one);
    let q_next = t.add(q2, b);
    let k1 = t.konst(n - 1);
    let y_next = t.bin(BvOp::Lshr, y, k1);
    let back1 = t.konst(33 - n);
    let s_next = t.bin(BvOp::Shl, y, back1);
    let acc_after = t.concat(local(3), local(2));
    let facts = [
        t.eq(local(0), x),
        t.eq(local(1), s_next),
        t.eq(acc_after, acc_next),
        t.eq(y_next, q_next),
    ];
    let facts = t.all(&facts);
    t.implies(premise, facts)
}

/// The identity behind `MulWide`'s step lemmas, over the integers with
/// SMT-LIB's definitions of `bvmul`, `bvadd`, `bvshl` and `zero_extend`
/// (the product, sum and doubling of the unsigned values, modulo 2⁶⁴): for
/// `X < 2³²`, `q = Y >> n < 2³¹` and the bit `b` of `Y` below it,
/// `X·(2q + b) ≡ 2·(X·q mod 2⁶⁴) + b·X (mod 2⁶⁴)`.
pub(super) const MUL_WIDE_RINGS: [IntegerLemma; 1] = [IntegerLemma {
    suffix: "ring",
    what: "X·(2q + b) ≡ 2·(X·q mod 2⁶⁴) + b·X (mod 2⁶⁴) for X < 2³², q < 2³¹, the identity each \
           step lemma's multiplication-free part needs (SMT-LIB's bvmul, bvadd, bvshl and \
           zero_extend are these operations on the unsigned values, modulo 2⁶⁴)",
    script: "(declare-const X Int)\n(declare-const q Int)\n(declare-const b Int)\n\
(assert (and (<= 0 X 4294967295) (<= 0 q 2147483647) (or (= b 0) (= b 1))))\n\
(assert (not (= (mod (* X (+ (* 2 q) b)) 18446744073709551616) \
(mod (+ (mod (* 2 (mod (* X q) 18446744073709551616)) 18446744073709551616) (* b X)) \
18446744073709551616))))\n",
}];

// ---------------------------------------------------------------------------
// 64-bit unsigned division's loop
// ---------------------------------------------------------------------------

/// Unsigned division's `Inv_n` over a state's locals `l` (`v`: the lemma's
/// variables, for the ghost dividend `A`): `B ≠ 0 ∧ D = A << (64 − n) ∧ q
/// = (A >> n) / B ∧ r = (A >> n) mod B`, over 64 bits.
pub(super) fn div_invariant(t: &mut Terms, n: u32, l: &dyn Fn(u32) -> Id, v: &[Id]) -> Id {
    let a = t.concat(v[1], v[0]);
    let b = t.concat(l(3), l(2));
    let zero = t.konst64(0);
    let b_zero = t.eq(b, zero);
    let b_nonzero = t.not(b_zero);
    let d = t.concat(l(1), l(0));
    let back = t.konst64(u64::from(64 - n));
    let shifted = t.bin(BvOp::Shl, a, back);
    let eq_d = t.eq(d, shifted);
    let k = t.konst64(u64::from(n));
    let p = t.bin(BvOp::Lshr, a, k);
    let quotient = t.bin(BvOp::Udiv, p, b);
    let remainder = t.bin(BvOp::Urem, p, b);
    let q = t.concat(l(5), l(4));
    let r = t.concat(l(7), l(6));
    let eq_q = t.eq(q, quotient);
    let eq_r = t.eq(r, remainder);
    t.all(&[b_nonzero, eq_d, eq_q, eq_r])
}

/// The invariant at the loop's two entries, with `q = r = 0`: counter 64
/// with `D = A` (`base64`), and counter 32 with `D = A << 32` when `A`'s
/// high word is 0 (`base32`).
pub(super) fn div_entry_lemmas(t: &mut Terms, v: &[Id]) -> Vec<EntryLemma> {
    let zero = t.konst(0);
    let b = t.concat(v[5], v[4]);
    let zero64 = t.konst64(0);
    let b_zero = t.eq(b, zero64);
    let b_nonzero = t.not(b_zero);
    let mut out = Vec::new();
    for (n, d) in [(64, [v[0], v[1]]), (32, [zero, v[0]])] {
        // Locals 0..8: D, B, q = 0, r = 0.
        let locals = [d[0], d[1], v[4], v[5], zero, zero, zero, zero];
        let l = |i: u32| locals[i as usize];
        let inv = div_invariant(t, n, &l, v);
        let (pre, what) = if n == 64 {
            (
                b_nonzero,
                "with a divisor B ≠ 0, D = A and q = r = 0 satisfy the invariant for counter 64",
            )
        } else {
            let a_hi_zero = t.eq(v[1], zero);
            (
                t.all(&[a_hi_zero, b_nonzero]),
                "with a dividend A < 2³² and a divisor B ≠ 0, D = A << 32 and q = r = 0 \
                 satisfy the invariant for counter 32",
            )
        };
        out.push(EntryLemma {
            counters: n..n + 1,
            lemma: Lemma {
                suffix: format!("base{n}"),
                what: what.to_owned(),
                formula: t.implies(pre, inv),
                proof: LemmaProof::Formula,
            },
        });
    }
    out
}

/// What the counter changes in one iteration of unsigned division from
/// counter `n`: with the head state's `D` and the ghost `A` (`vars`), if `D
/// = A << (64 − n)`, then `D << 1 = A << (65 − n)`, `D`'s top bit is bit `n
/// − 1` of `A` (`b`), and `A >> (n − 1) = ((A >> n) << 1) + b`. With
/// [`div_body_facts`] (what the iteration computes from `D`, `B`, `q`,
/// `r`), these say that the next head has `D' = A << (65 − n)`, `B`
/// unchanged, `q' = 2q + k`, `r' = k ? 2r + b − B : 2r + b` (modulo 2⁶⁴, `k
/// = r ≥ 2⁶³ ∨ (2r + b mod 2⁶⁴) ≥ B`), and that `A >> (n − 1) = 2P + b` for
/// `P = A >> n`; with `Inv_n` they give `Inv_(n−1)` by [`DIV64_RINGS`]:
/// the step lemma.
pub(super) fn div_step_facts(t: &mut Terms, n: u32, vars: &[Id]) -> Id {
    let a = t.concat(vars[1], vars[0]);
    let d = t.concat(vars[3], vars[2]);
    let back = t.konst64(u64::from(64 - n));
    let shifted = t.bin(BvOp::Shl, a, back);
    let premise = t.eq(d, shifted);
    let (zero64, one64) = (t.konst64(0), t.konst64(1));
    let bit = t.bit(n - 1, a);
    let top = t.bit(63, d);
    let b = t.ite(bit, one64, zero64);
    let k = t.konst64(u64::from(n));
    let p = t.bin(BvOp::Lshr, a, k);
    let d_next = t.bin(BvOp::Shl, d, one64);
    let back1 = t.konst64(u64::from(65 - n));
    let shifted_next = t.bin(BvOp::Shl, a, back1);
    let k1 = t.konst64(u64::from(n - 1));
    let p_next = t.bin(BvOp::Lshr, a, k1);
    let p2 = t.bin(BvOp::Shl, p, one64);
    let p2 = t.add(p2, b);
    let same_top = t.iff(top, bit);
    let facts = [t.eq(d_next, shifted_next), same_top, t.eq(p_next, p2)];
    let facts = t.all(&facts);
    t.implies(premise, facts)
}

/// What one iteration of unsigned division's loop body does from any head
/// state (`vars`: `D`, `B`, `q`, `r`), over 64 bits: `D' = D << 1`, `B' =
/// B`, and with `two = (r << 1) + (D's top bit)` and `k = r ≥ 2⁶³ ∨ two ≥
/// B`, `q' = (q << 1) + k` and `r' = k ? two − B : two` (modulo 2⁶⁴). The
/// same for every counter: proven once, it leaves each step lemma's
/// division-free part ([`div_step_facts`]) only the counter's shifts.
pub(super) fn div_body_facts(t: &mut Terms, after: &Locals, vars: &[Id]) -> Id {
    let zero = t.konst(0);
    let local = |i: u32| after.get(&(0, i)).copied().unwrap_or(zero);
    let d = t.concat(vars[3], vars[2]);
    let b = t.concat(vars[5], vars[4]);
    let q = t.concat(vars[7], vars[6]);
    let r = t.concat(vars[9], vars[8]);
    let (zero64, one64) = (t.konst64(0), t.konst64(1));
    let top = t.bit(63, d);
    let bit = t.ite(top, one64, zero64);
    let r2 = t.bin(BvOp::Shl, r, one64);
    let two = t.add(r2, bit);
    let r_top = t.bit(63, r);
    let below = t.cmp(CmpOp::Ult, two, b);
    let fits = t.not(below);
    let subtract = t.any(&[r_top, fits]);
    let d_next = t.bin(BvOp::Shl, d, one64);
    let q2 = t.bin(BvOp::Shl, q, one64);
    let inc = t.ite(subtract, one64, zero64);
    let q_next = t.add(q2, inc);
    let less = t.sub(two, b);
    let r_next = t.ite(subtract, less, two);
    let after_d = t.concat(local(1), local(0));
    let after_b = t.concat(local(3), local(2));
    let after_q = t.concat(local(5), local(4));
    let after_r = t.concat(local(7), local(6));
    let facts = [
        t.eq(after_d, d_next),
        t.eq(after_b, b),
        t.eq(after_q, q_next),
        t.eq(after_r, r_next),
    ];
    t.all(&facts)
}

/// The integer facts behind unsigned division's step lemmas. SMT-LIB
/// defines `bvudiv`/`bvurem` (divisor ≠ 0) as the quotient and remainder
/// of the unsigned values, `bvshl` by 1, `bvadd`, `bvsub` as doubling, sum
/// and difference modulo 2⁶⁴, bit 63 as `x ≥ 2⁶³` and `bvult` as `<`. From
/// `Inv_n` (`B ≠ 0`, `q`, `r` the quotient and remainder of `P = A >> n <
/// 2⁶³`), `euclid` gives `P = qB + r ∧ 0 ≤ r < B`; the step lemma's
/// division-free part (with `body`) gives the next state as `ring`'s `q'`,
/// `r'`, and `A >> (n − 1)` as `2P + b`; `ring` gives `2P + b = q'B + r' ∧ 0
/// ≤ r' < B`; `unique` that `q'` is the quotient of `2P + b`, and then `r'
/// = 2P + b − q'B` is its remainder (`euclid` for `2P + b`): `Inv_(n−1)`.
pub(super) const DIV64_RINGS: [IntegerLemma; 3] = [
    IntegerLemma {
        suffix: "euclid",
        what: "the quotient q and remainder r of P by B ≠ 0 (P, B < 2⁶⁴) satisfy P = qB + r, 0 ≤ r \
               < B",
        script: "(declare-const P Int)\n(declare-const B Int)\n(declare-const q Int)\n\
(declare-const r Int)\n\
(assert (and (<= 0 P 18446744073709551615) (<= 1 B 18446744073709551615)))\n\
(assert (and (= q (div P B)) (= r (mod P B))))\n\
(assert (not (and (= P (+ (* q B) r)) (<= 0 r) (< r B))))\n",
    },
    IntegerLemma {
        suffix: "ring",
        what: "one step of restoring division: if P = qB + r, 0 ≤ r < B (P < 2⁶³, 0 < B < 2⁶⁴), \
               b ∈ {0, 1}, two = (2r + b) mod 2⁶⁴, k = (r ≥ 2⁶³ ∨ two ≥ B), q' = (2q + k) mod \
               2⁶⁴ and r' = k ? (two − B) mod 2⁶⁴ : two, then 2P + b = q'B + r', 0 ≤ r' < B",
        script: "(declare-const P Int)\n(declare-const B Int)\n(declare-const b Int)\n\
(declare-const q Int)\n(declare-const r Int)\n(declare-const two Int)\n(declare-const q2 Int)\n\
(declare-const r2 Int)\n\
(assert (and (<= 0 P 9223372036854775807) (<= 1 B 18446744073709551615) (or (= b 0) (= b 1))))\n\
(assert (and (= P (+ (* q B) r)) (<= 0 r) (< r B)))\n\
(assert (= two (mod (+ (* 2 r) b) 18446744073709551616)))\n\
(define-fun k () Bool (or (>= r 9223372036854775808) (>= two B)))\n\
(assert (= q2 (mod (+ (* 2 q) (ite k 1 0)) 18446744073709551616)))\n\
(assert (= r2 (ite k (mod (- two B) 18446744073709551616) two)))\n\
(assert (not (and (= (+ (* 2 P) b) (+ (* q2 B) r2)) (<= 0 r2) (< r2 B))))\n",
    },
    IntegerLemma {
        suffix: "unique",
        what: "if P = qB + r, 0 ≤ r < B (P, B < 2⁶⁴, B ≠ 0), q is the quotient of P by B",
        script: "(declare-const P Int)\n(declare-const B Int)\n(declare-const q Int)\n\
(declare-const r Int)\n\
(assert (and (<= 0 P 18446744073709551615) (<= 1 B 18446744073709551615)))\n\
(assert (and (= P (+ (* q B) r)) (<= 0 r) (< r B)))\n\
(assert (not (= q (div P B))))\n",
    },
];

// ---------------------------------------------------------------------------
// Lemmas about the operands
// ---------------------------------------------------------------------------

/// The lemmas that relate the products (quotients) of `op`'s main claim
/// across widths, stated over the operands (each its own instance) and
/// proven over the integers: `i64.mul`'s product from `MulWide`'s and two
/// `i32.mul`s (`words`), and `i64.div_u` (`rem_u`) on operands below 2³²
/// as `i32.div_u` (`rem_u`) (`narrow`).
pub(super) fn operand_lemmas(t: &mut Terms, op: Routine, operands: &[Id]) -> Vec<Lemma> {
    match op {
        Routine::MulWide => {
            let (a, b) = (operands[0], operands[1]);
            let (x, y) = (t.zext(a), t.zext(b));
            let product = t.bin(BvOp::Mul, x, y);
            let zero = t.konst(0);
            let b_zero = t.eq(b, zero);
            let zero64 = t.konst64(0);
            let is_zero = t.eq(product, zero64);
            vec![Lemma {
                suffix: "zero".to_owned(),
                what: "a product with a zero multiplier is zero".to_owned(),
                formula: t.implies(b_zero, is_zero),
                proof: LemmaProof::Formula,
            }]
        }
        Routine::Mul64 => {
            let (al, ah, bl, bh) = (operands[0], operands[1], operands[2], operands[3]);
            let (a, b) = (t.concat(ah, al), t.concat(bh, bl));
            let product = t.bin(BvOp::Mul, a, b);
            let (x, y) = (t.zext(al), t.zext(bl));
            let wide = t.bin(BvOp::Mul, x, y);
            let (lo, hi) = (t.half(false, wide), t.half(true, wide));
            let cross1 = t.bin(BvOp::Mul, al, bh);
            let cross2 = t.bin(BvOp::Mul, ah, bl);
            let hi = t.add(hi, cross1);
            let hi = t.add(hi, cross2);
            let words = t.concat(hi, lo);
            vec![Lemma {
                suffix: "words".to_owned(),
                what: "a·b mod 2⁶⁴ over the words of a and b: (a.lo·b.lo) mod 2³² low, and \
                       ((a.lo·b.lo) div 2³² + a.lo·b.hi + a.hi·b.lo) mod 2³² high (over the \
                       integers, with SMT-LIB's bvmul, bvadd, concat, extract and zero_extend \
                       on the unsigned values)"
                    .to_owned(),
                formula: t.eq(product, words),
                proof: LemmaProof::Integer(MUL64_WORDS),
            }]
        }
        Routine::DivU64 | Routine::RemU64 => {
            let (al, ah, bl, bh) = (operands[0], operands[1], operands[2], operands[3]);
            let (a, b) = (t.concat(ah, al), t.concat(bh, bl));
            let (o, name) = if op == Routine::DivU64 {
                (BvOp::Udiv, "quotient")
            } else {
                (BvOp::Urem, "remainder")
            };
            let wide = t.bin(o, a, b);
            let narrow = t.bin(o, al, bl);
            let narrow = t.zext(narrow);
            let zero = t.konst(0);
            let ah_zero = t.eq(ah, zero);
            let bh_zero = t.eq(bh, zero);
            let bl_zero = t.eq(bl, zero);
            let bl_nonzero = t.not(bl_zero);
            let pre = t.all(&[ah_zero, bh_zero, bl_nonzero]);
            let same = t.eq(wide, narrow);
            vec![Lemma {
                suffix: "narrow".to_owned(),
                what: format!(
                    "the 64-bit {name} of operands below 2³² (divisor ≠ 0) is their 32-bit \
                     {name}, zero-extended (over the integers, with SMT-LIB's bvudiv, bvurem, \
                     concat and zero_extend on the unsigned values)"
                ),
                formula: t.implies(pre, same),
                proof: LemmaProof::Integer(if op == Routine::DivU64 {
                    DIV64_NARROW
                } else {
                    REM64_NARROW
                }),
            }]
        }
        _ => Vec::new(),
    }
}

/// [`operand_lemmas`]' `words` over the integers.
const MUL64_WORDS: &str = "(declare-const al Int)\n(declare-const ah Int)\n\
(declare-const bl Int)\n(declare-const bh Int)\n\
(assert (and (<= 0 al 4294967295) (<= 0 ah 4294967295) (<= 0 bl 4294967295) \
(<= 0 bh 4294967295)))\n\
(assert (not (= (mod (* (+ (* 4294967296 ah) al) (+ (* 4294967296 bh) bl)) 18446744073709551616) \
(+ (* 4294967296 (mod (+ (div (* al bl) 4294967296) (mod (* al bh) 4294967296) \
(mod (* ah bl) 4294967296)) 4294967296)) (mod (* al bl) 4294967296)))))\n";

/// [`operand_lemmas`]' `narrow` for the quotient over the integers.
const DIV64_NARROW: &str = "(declare-const al Int)\n(declare-const ah Int)\n\
(declare-const bl Int)\n(declare-const bh Int)\n\
(assert (and (<= 0 al 4294967295) (<= 0 ah 4294967295) (<= 0 bl 4294967295) \
(<= 0 bh 4294967295)))\n\
(assert (and (= ah 0) (= bh 0) (not (= bl 0))))\n\
(assert (not (= (div (+ (* 4294967296 ah) al) (+ (* 4294967296 bh) bl)) \
(+ (* 4294967296 0) (div al bl)))))\n";

/// [`operand_lemmas`]' `narrow` for the remainder over the integers.
const REM64_NARROW: &str = "(declare-const al Int)\n(declare-const ah Int)\n\
(declare-const bl Int)\n(declare-const bh Int)\n\
(assert (and (<= 0 al 4294967295) (<= 0 ah 4294967295) (<= 0 bl 4294967295) \
(<= 0 bh 4294967295)))\n\
(assert (and (= ah 0) (= bh 0) (not (= bl 0))))\n\
(assert (not (= (mod (+ (* 4294967296 ah) al) (+ (* 4294967296 bh) bl)) \
(+ (* 4294967296 0) (mod al bl)))))\n";

// ---------------------------------------------------------------------------
// Counts reduced modulo 64
// ---------------------------------------------------------------------------

/// The conditional subtractions in `terms` reachable from `root` that
/// reduce a count modulo a power of two, `ite(x <u 2^j, x, x − 2^j)`, and
/// the lemmas that say what each computes: `modJJ`: for all `x`, `k`, if
/// `x = k & (2^(j+1) − 1)` then `ite(x <u 2^j, x, x − 2^j) = k & (2^j −
/// 1)`. Returns the lemmas (one per `j` met) and their instances along
/// each chain (`k` the chain's first input). A bit-blasting solver does not
/// see through 26 chained subtractions (cvc5 does not decide that the
/// chain computes `k mod 64` in a minute); with one instance per link it
/// propagates.
pub(super) fn mod_chains(t: &mut Terms, root: Id) -> (Vec<Lemma>, Vec<Id>) {
    let link = |t: &Terms, id: Id| -> Option<(u32, Id)> {
        let Node::Ite(c, x, y) = *t.node(id) else {
            return None;
        };
        let Node::Cmp(CmpOp::Ult, x1, p) = *t.node(c) else {
            return None;
        };
        let Node::Bin(BvOp::Sub, x2, p2) = *t.node(y) else {
            return None;
        };
        let p = t.value(p)?;
        (x1 == x && x2 == x && t.value(p2) == Some(p) && p.is_power_of_two() && p >= 2)
            .then_some((p.trailing_zeros(), x))
    };
    let links: Vec<(Id, u32, Id)> = t
        .reachable(&[root])
        .into_iter()
        .filter_map(|id| link(t, id).map(|(j, x)| (id, j, x)))
        .collect();
    let (xv, kv) = (t.var("x"), t.var("k"));
    let mut lemmas: BTreeMap<u32, Id> = BTreeMap::new();
    let mut instances = Vec::new();
    for &(_, j, x) in &links {
        let formula = match lemmas.get(&j) {
            Some(&f) => f,
            None => {
                let f = mod_lemma(t, j, xv, kv);
                lemmas.insert(j, f);
                f
            }
        };
        // The chain's first input: follow the links down.
        let mut k = x;
        while let Some((_, below)) = link(t, k) {
            k = below;
        }
        let map: HashMap<Id, Id> = [(xv, x), (kv, k)].into();
        instances.push(t.subst_one(formula, &map));
    }
    let lemmas = lemmas
        .into_iter()
        .rev()
        .map(|(j, formula)| Lemma {
            suffix: format!("mod{j:02}"),
            what: format!(
                "if x = k & (2^{} − 1), then x − 2^{j} if x ≥ 2^{j}, else x, is k & (2^{j} − 1): \
                 one conditional subtraction of a count reduced modulo a power of two",
                j + 1
            ),
            formula,
            proof: LemmaProof::Formula,
        })
        .collect();
    (lemmas, instances)
}

fn mod_lemma(t: &mut Terms, j: u32, x: Id, k: Id) -> Id {
    let mask = |t: &mut Terms, bits: u32| {
        let m = if bits >= 32 {
            u32::MAX
        } else {
            (1 << bits) - 1
        };
        let m = t.konst(m);
        t.bin(BvOp::And, k, m)
    };
    let before = mask(t, j + 1);
    let pre = t.eq(x, before);
    let p = t.konst(1 << j);
    let small = t.cmp(CmpOp::Ult, x, p);
    let less = t.sub(x, p);
    let step = t.ite(small, x, less);
    let after = mask(t, j);
    let post = t.eq(step, after);
    t.implies(pre, post)
}
