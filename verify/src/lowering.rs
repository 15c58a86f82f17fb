//! Lowering proofs: each lowered operator's routine (native-opcode code,
//! [`Routine`]) equals the WebAssembly operator it replaces, for all
//! operands, traps included: the i32 operators over 32-bit operands, the
//! i64 ones over 64-bit operands given as pairs of words (see "i64
//! routines" below).
//!
//! # Method
//!
//! The routine's instructions are executed symbolically, following the
//! reference machine (`tvm_engine::reference`) instruction by instruction:
//! the operand stack holds 32-bit terms, locals are keyed by `(call depth,
//! index)` and keep their values across returns (a local never written reads
//! as a free variable `stale.dD.lI`, so the proof holds whatever an earlier
//! activation left there), `SELECT` is an `ite`, comparisons are 0 or 1,
//! `BR_IF` pops its condition. Terms are hash-consed and constant-folded, so
//! loop counters and constants stay concrete and every loop whose counter is
//! concrete unrolls. A branch on a symbolic condition forks the path, after
//! z3 has confirmed that both sides are reachable under the path condition
//! (an unreachable side is dropped, its negation kept in the path condition),
//! so a loop over a symbolic count (a shift by `b mod 32`, the leading zeros
//! of an operand) unrolls exactly as far as it can run. Every routine loop
//! runs at most 64 times; a path longer than [`STEP_LIMIT`] steps is an
//! [`LoweringError::StepLimit`].
//!
//! A `CALL` to another lowered routine is replaced by that routine's
//! specification (its wasm operator, traps included): the callee's own
//! obligations prove it meets it, for all operands, so `DIV_S` is proven
//! modulo `DIV_U`, `OR` modulo `AND`, and so on. A `CALL` to any other code is
//! executed inline.
//!
//! # The claim
//!
//! With `pc_i` the path conditions and `ok_i` "the path ends as wasm says"
//! (it returns exactly one value, no trap applies, and the value is the
//! operator's; or it halts with trap code `c` and wasm traps with `c` on
//! these operands), the main obligation states
//!
//! ```text
//! H  ⇒  (pc_1 ∨ … ∨ pc_n)  ∧  (pc_1 ⇒ ok_1)  ∧ … ∧  (pc_n ⇒ ok_n)
//! ```
//!
//! negated, over the operands `a` (first, deepest) and `b`. The first
//! conjunct re-proves that the paths cover every input. `H` is the
//! conjunction of *instances* of step lemmas (below), empty for most
//! routines. Scripts are QF_BV, with one `define-fun` per shared sub-term, so
//! their size is linear in the code executed; the same routine always gives
//! the same bytes.
//!
//! # Step lemmas (MUL, DIV_U, REM_U)
//!
//! A solver that bit-blasts cannot relate 32 unrolled shift-and-add steps to
//! `bvmul` (or restoring division to `bvudiv`) in reasonable time: that is
//! multiplier equivalence. These routines get a loop invariant instead, one
//! per value `n` of the loop counter at the loop head (`Inv_n`: `r = X ·
//! (Y >> n)` for MUL, `q = (A >> n) / B ∧ r = (A >> n) mod B` for division).
//! The step lemma `n` is obtained by executing one iteration of the loop
//! body, symbolically, from a head state whose values are free variables:
//!
//! ```text
//! ∀ vars:  Inv_n(head state)  ⇒  Inv_(n−1)(state at the next head, or at RETURN)
//! ```
//!
//! and is its own obligation (`MUL.step17`, …), which a solver decides in a
//! fraction of a second. The main obligation assumes the lemma instantiated
//! at each head state the unrolled execution reaches (a valid formula: an
//! instance of a proven `∀`); the chain of instances is then propositional,
//! and only the invariant at the loop's entry (an operand shifted to zero)
//! and the exit (`Inv_0` is the operator) are left to the solver. The claim
//! about the routine's result is still stated against `bvmul`, `bvudiv` and
//! `bvurem` themselves. If a lemma does not hold (a broken loop body) its
//! obligation fails with a counterexample over the lemma's variables.
//!
//! MUL's step lemmas are written as their multiplication-free part
//! (`MUL.stepNN`: one iteration keeps `X`, `Y`, doubles `r` and adds `X`
//! when bit `n − 1` of `Y` is set, and `Y >> (n−1) = ((Y >> n) << 1) + b`)
//! and one ring identity over the integers (`MUL.ring`, QF_NIA, with
//! SMT-LIB's own definitions of `bvmul`/`bvadd`/`bvshl` as operations
//! modulo 2³²), from which each `Inv_n ⇒ Inv_(n−1)` follows by one
//! substitution. Stated over bit-vectors, a step lemma relates two 32-bit
//! multipliers, which z3 decides by rewriting but cvc5 (which re-checks
//! every certificate) does not decide in 300 s; split, both decide each
//! part in milliseconds.
//!
//! Signed division is stated with the SMT-LIB definition of `bvsdiv` and
//! `bvsrem` (four cases on the signs, each one `bvudiv`/`bvurem` of
//! magnitudes), and its proof splits on the operands' signs (the routine's
//! `SELECT`s that compute the magnitudes fork instead of becoming `ite`s),
//! so each path's unsigned division is literally one of the definition's.
//!
//! # i64 routines
//!
//! An i64 operand is two words on the stack, low then high (`a.lo`,
//! `a.hi`); the result is two words. The specification is WebAssembly's
//! i64 operator on the 64-bit vectors `concat(a.hi, a.lo)`, … (shift counts
//! `b & 63`, division traps on `b = 0` and `INT64_MIN / −1`, bit counts
//! zero-extended), and the claim compares each returned word with the
//! matching word of the result. `MulWide` (`MUL_WIDE_U`) is `zext(a) ·
//! zext(b)` over 64 bits. Callees are replaced by their specifications as
//! above, wide ones included (`DIV_S64` calls `DIV_U64`, `ROTL64` calls
//! `SHL64` and `SHR_U64`, `MUL64` calls `MUL_WIDE_U` and `MUL`). Terms of
//! 64 bits are built like the 32-bit ones, with `concat` and the two
//! `extract`s of a word between the widths (`lowering/wide.rs`).
//!
//! The loops of `MulWide` and of 64-bit unsigned division branch around
//! their conditional add (subtract) instead of using `SELECT`: inside the
//! loop body a forward branch is *merged* (`Machine::merge`): the
//! fall-through side runs to the target and every value becomes `ite(c,
//! taken, fallen through)`, so an iteration is one path and the step
//! lemmas have the shape above. Their invariants: `S = Y << (32 − n) ∧ (hi,
//! lo) = X·(Y >> n)` for `MulWide` (`Y` the multiplier operand, `S` its
//! shifted copy; the entry is `Inv_32` itself), and `B ≠ 0 ∧ D = A << (64 −
//! n) ∧ q = (A >> n) / B ∧ r = (A >> n) mod B` over 64 bits for division
//! (`D` the shifted dividend; the entries `base64`, and `base32` for a
//! dividend below 2³², which starts at counter 32).
//!
//! Their step lemmas are split like MUL's: `MUL_WIDE_U.stepNN` is the
//! multiplication-free part and `MUL_WIDE_U.ring` the identity modulo 2⁶⁴;
//! for division, `DIV_U64.body` states what one iteration computes from any
//! head state over 64 bits (checked against the code once), `stepNN` what
//! the counter changes (shifts of `A`), and `euclid`, `ring` and `unique`
//! (QF_NIA) the integer facts that make these a restoring-division step
//! (see `wide::DIV64_RINGS` for the argument). Stated over bit-vectors, a
//! 64-bit division step lemma takes cvc5 seconds each, and a file of 64 of
//! them minutes.
//!
//! Facts across widths are lemmas over the integers too, each stated over
//! the operands (its own instance in the main claim): `MUL64.words` (the
//! 64-bit product from `MulWide`'s and the two cross products) and
//! `DIV_U64.narrow` (operands below 2³²: the routine's `i32.div_u` path).
//! `MUL_WIDE_U.zero` (a product by zero) is a bit-vector lemma. For these
//! routines every product, quotient and remainder of the main claim becomes
//! a free variable, the spec's own too; `DIV_S64` and `REM_S64` add the
//! congruences "equal operands give equal quotients" between them
//! (Ackermann's reduction), which relate the magnitudes the routine divides
//! to the definition's `bvneg`s without a divider.
//!
//! The shifts reduce their count modulo 64 by 26 conditional subtractions;
//! `modJJ` lemmas (`x = k & (2^(j+1) − 1) ⇒ ite(x <u 2^j, x, x − 2^j) = k &
//! (2^j − 1)`), instantiated at each link of the chain, let cvc5 see that
//! the chain computes `k & 63`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use tvm_dsl::isa::{Instr, MAX_CALL_DEPTH, Opcode, trap_code};
use tvm_frontend::lower::asm::Asm;
use tvm_frontend::lower::routine::Routine;
use z3::ast::{BV, Bool, Dynamic};

use crate::obligation::{Kind, Obligation, Smt};

mod wide;

/// Most instructions one path may execute before the prover gives up on it
/// (every routine path runs a few hundred).
pub const STEP_LIMIT: u64 = 20_000;

/// Most paths one obligation may have (MUL, the largest, has 66).
pub const PATH_LIMIT: usize = 4_096;

/// Why an obligation could not be stated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoweringError {
    /// The code uses an instruction the prover does not model (memory,
    /// globals, output: no routine needs them).
    #[error("{name}: instruction {pc} ({instr}) is not supported by the lowering prover")]
    Unsupported {
        /// The obligation.
        name: String,
        /// Where.
        pc: u32,
        /// The instruction.
        instr: String,
    },
    /// An instruction popped an empty operand stack.
    #[error("{name}: instruction {pc} pops an empty operand stack")]
    StackUnderflow {
        /// The obligation.
        name: String,
        /// Where.
        pc: u32,
    },
    /// Control reached a pc outside the code.
    #[error("{name}: control left the code (pc {pc})")]
    PcOutOfRange {
        /// The obligation.
        name: String,
        /// The pc reached.
        pc: u32,
    },
    /// A path ran longer than [`STEP_LIMIT`]: a loop the prover cannot bound.
    #[error("{name}: a path runs more than {limit} steps (a loop without a bound)")]
    StepLimit {
        /// The obligation.
        name: String,
        /// The limit.
        limit: u64,
    },
    /// More than [`PATH_LIMIT`] paths.
    #[error("{name}: more than {limit} paths")]
    PathLimit {
        /// The obligation.
        name: String,
        /// The limit.
        limit: usize,
    },
    /// Calls nest deeper than the machine allows.
    #[error("{name}: calls nest deeper than {limit}")]
    CallDepth {
        /// The obligation.
        name: String,
        /// The limit.
        limit: u32,
    },
    /// The routine could not be assembled.
    #[error("{name}: the routine does not assemble: {message}")]
    Assembly {
        /// The obligation.
        name: String,
        /// Why.
        message: String,
    },
    /// The code does not have the loop shape its step lemmas describe.
    #[error("{name}: the loop does not fit its step lemma: {message}")]
    Loop {
        /// The obligation.
        name: String,
        /// What does not fit.
        message: String,
    },
    /// The operator or spec cannot be stated for this code.
    #[error("{name}: {message}")]
    Spec {
        /// The obligation.
        name: String,
        /// Why.
        message: String,
    },
}

/// What a piece of code must compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Spec {
    /// The operator on the operands the code finds on the stack (first
    /// operand deepest), as a routine is called.
    Operator(Routine),
    /// `x op constant`, `x` the one operand on the stack.
    ConstantOperand {
        /// The operator.
        op: Routine,
        /// Its second operand.
        constant: u32,
    },
}

impl Spec {
    /// How many operands the code finds on the stack.
    pub fn arity(self) -> u32 {
        match self {
            Spec::Operator(r) => r.arity(),
            Spec::ConstantOperand { .. } => 1,
        }
    }

    fn operator(self) -> Routine {
        match self {
            Spec::Operator(r) | Spec::ConstantOperand { op: r, .. } => r,
        }
    }
}

/// The obligation name of a routine: its wasm operator without the type,
/// upper case, with `64` appended for an i64 operator: `MUL`, `DIV_U`,
/// `EXTEND8_S`, `MUL64`, `DIV_U64`, `POPCNT64`, `MUL_WIDE_U` (the
/// u32 × u32 → u64 product).
pub fn routine_name(r: Routine) -> String {
    let name = r.wasm_name();
    match name.strip_prefix("i64.") {
        Some(op) => format!("{}64", op.to_ascii_uppercase()),
        None => name
            .strip_prefix("i32.")
            .unwrap_or(name)
            .to_ascii_uppercase(),
    }
}

/// A routine's code as the lowering lays it out: the routine at pc 0, then
/// the routines it calls (transitively), each once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoutineCode {
    /// The instructions; execution starts at pc 0. Targets are absolute.
    pub instrs: Vec<Instr>,
    /// Entry pc of each routine the code calls; a `CALL` to one of them is
    /// replaced by the routine's specification.
    pub callees: Vec<(u32, Routine)>,
}

/// Assembles `routine` and the routines it calls.
pub fn routine_code(routine: Routine) -> Result<RoutineCode, LoweringError> {
    let mut deps = BTreeSet::new();
    let mut pending = vec![routine];
    while let Some(r) = pending.pop() {
        for &d in r.calls() {
            if d != routine && deps.insert(d) {
                pending.push(d);
            }
        }
    }
    let mut asm = Asm::default();
    routine.emit(&mut asm);
    let mut callees = Vec::new();
    for d in deps {
        callees.push((asm.pc(), d));
        d.emit(&mut asm);
    }
    let instrs = asm
        .finish(
            |_| None,
            |r| {
                if r == routine {
                    Some(0)
                } else {
                    callees.iter().find(|(_, x)| *x == r).map(|(pc, _)| *pc)
                }
            },
        )
        .map_err(|message| LoweringError::Assembly {
            name: routine_name(routine),
            message,
        })?;
    Ok(RoutineCode { instrs, callees })
}

/// Every obligation of `routine`: the main claim (named like the routine,
/// first) and its step lemmas, if any. The routine is proven when all hold
/// and the obligations of the routines it calls hold.
pub fn obligations(routine: Routine) -> Result<Vec<Obligation>, LoweringError> {
    let code = routine_code(routine)?;
    obligations_for_code(&routine_name(routine), &code, Spec::Operator(routine))
}

/// One self-contained obligation for `routine`: the main claim with its
/// lemmas conjoined, each as the bit-vector formula the main claim assumes
/// (no assumption left to other scripts of this routine). Equivalent to
/// [`obligations`] but slower to decide for MUL, DIV_U and REM_U (one
/// solver run over all lemmas at once), and out of a bit-blasting solver's
/// reach for the i64 routines whose lemmas [`obligations`] states over the
/// integers (multiplier and divider equivalences).
pub fn obligation(routine: Routine) -> Result<Obligation, LoweringError> {
    let code = routine_code(routine)?;
    let name = routine_name(routine);
    let proof = prove(&name, &code, Spec::Operator(routine))?;
    Ok(proof.combined(&name))
}

/// Every obligation of every routine, the i32 ones ([`Routine::ALL`]) then
/// the i64 ones ([`Routine::WIDE`]), in that order.
pub fn all_obligations() -> Result<Vec<Obligation>, LoweringError> {
    let mut out = Vec::new();
    for r in Routine::ALL.into_iter().chain(Routine::WIDE) {
        out.extend(obligations(r)?);
    }
    Ok(out)
}

/// The inline constant-operand forms proven for every constant they stand
/// for, each as `(operator, constant)`: shifts left by 0–31 (the form, and
/// `x << c`, depend only on `c mod 32`), the identities and annihilators
/// (`x · 0`, `x & 0`, `x & ~0`, `x | 0`, `x ^ 0`, `x / 1`), and the shifts
/// and rotations by a multiple of 32 (no code). Not here: multiplication
/// by other constants (one form per constant: proven only as tested) and
/// the forms through the scratch buffer (memory, which the executor does
/// not model); the trusted base names them.
pub fn inline_forms() -> Vec<(Routine, u32)> {
    let mut forms = vec![
        (Routine::Mul, 0),
        (Routine::And, 0),
        (Routine::And, u32::MAX),
        (Routine::Or, 0),
        (Routine::Xor, 0),
        (Routine::DivU, 1),
        (Routine::ShrU, 0),
        (Routine::ShrS, 0),
        (Routine::Rotl, 0),
        (Routine::Rotr, 0),
    ];
    forms.extend((0..32).map(|k| (Routine::Shl, k)));
    forms
}

/// An inline form's item name: `SHL_BY_5`, `AND_BY_4294967295`.
pub fn inline_name(r: Routine, c: u32) -> String {
    format!("{}_BY_{c}", routine_name(r))
}

/// The constants an inline item covers, in words.
pub fn inline_constants(r: Routine, c: u32) -> String {
    match r {
        Routine::Shl | Routine::ShrU | Routine::ShrS | Routine::Rotl | Routine::Rotr => {
            format!("every c ≡ {} (mod 32)", c % 32)
        }
        _ => format!("c = {c}"),
    }
}

/// The inline form of `x op c` as code: `x` on the stack, the form (its
/// scratch locals 0 and 1, no scratch buffer), `RETURN`.
pub fn inline_code(r: Routine, c: u32) -> Result<RoutineCode, LoweringError> {
    let name = inline_name(r, c);
    let mut asm = Asm::default();
    let emitted = tvm_frontend::lower::inline::InlineForm {
        a: &mut asm,
        t: 0,
        acc: 1,
        scratch: None,
    }
    .emit(r, c);
    if !emitted {
        return Err(LoweringError::Spec {
            name,
            message: format!(
                "{} has no inline form for {c} without memory",
                r.wasm_name()
            ),
        });
    }
    asm.plain(Opcode::Return);
    let instrs = asm
        .finish(|_| None, |_| None)
        .map_err(|message| LoweringError::Assembly { name, message })?;
    Ok(RoutineCode {
        instrs,
        callees: Vec::new(),
    })
}

/// The obligations of an inline form: its code computes `x op c`.
pub fn inline_obligations(r: Routine, c: u32) -> Result<Vec<Obligation>, LoweringError> {
    let code = inline_code(r, c)?;
    obligations_for_code(
        &inline_name(r, c),
        &code,
        Spec::ConstantOperand { op: r, constant: c },
    )
}

/// The obligations stating that `code` computes `spec`: the main claim,
/// named `name`, first, then the lemmas (`name.stepNN`, …). Step lemmas
/// apply when the spec is MUL, DIV_U, REM_U, `MulWide`, DIV_U64 or REM_U64
/// and the code has a counted loop (see the module documentation).
pub fn obligations_for_code(
    name: &str,
    code: &RoutineCode,
    spec: Spec,
) -> Result<Vec<Obligation>, LoweringError> {
    let proof = prove(name, code, spec)?;
    Ok(proof.split(name))
}

// ---------------------------------------------------------------------------
// Terms
// ---------------------------------------------------------------------------

/// A hash-consed term. Invariant: a node's children have smaller ids, so
/// id order is a topological order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Id(u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum BvOp {
    Add,
    Sub,
    Mul,
    Udiv,
    Urem,
    And,
    Or,
    Xor,
    Shl,
    Lshr,
    Ashr,
}

impl BvOp {
    fn smt(self) -> &'static str {
        match self {
            BvOp::Add => "bvadd",
            BvOp::Sub => "bvsub",
            BvOp::Mul => "bvmul",
            BvOp::Udiv => "bvudiv",
            BvOp::Urem => "bvurem",
            BvOp::And => "bvand",
            BvOp::Or => "bvor",
            BvOp::Xor => "bvxor",
            BvOp::Shl => "bvshl",
            BvOp::Lshr => "bvlshr",
            BvOp::Ashr => "bvashr",
        }
    }

    /// SMT-LIB semantics on 64-bit constants (division by zero included).
    fn eval64(self, x: u64, y: u64) -> u64 {
        match self {
            BvOp::Add => x.wrapping_add(y),
            BvOp::Sub => x.wrapping_sub(y),
            BvOp::Mul => x.wrapping_mul(y),
            BvOp::Udiv => x.checked_div(y).unwrap_or(u64::MAX),
            BvOp::Urem => x.checked_rem(y).unwrap_or(x),
            BvOp::And => x & y,
            BvOp::Or => x | y,
            BvOp::Xor => x ^ y,
            BvOp::Shl => u32::try_from(y)
                .ok()
                .and_then(|y| x.checked_shl(y))
                .unwrap_or(0),
            BvOp::Lshr => u32::try_from(y)
                .ok()
                .and_then(|y| x.checked_shr(y))
                .unwrap_or(0),
            BvOp::Ashr => ((x as i64) >> y.min(63)) as u64,
        }
    }

    /// SMT-LIB semantics on constants (division by zero included).
    fn eval(self, x: u32, y: u32) -> u32 {
        match self {
            BvOp::Add => x.wrapping_add(y),
            BvOp::Sub => x.wrapping_sub(y),
            BvOp::Mul => x.wrapping_mul(y),
            BvOp::Udiv => x.checked_div(y).unwrap_or(u32::MAX),
            BvOp::Urem => x.checked_rem(y).unwrap_or(x),
            BvOp::And => x & y,
            BvOp::Or => x | y,
            BvOp::Xor => x ^ y,
            BvOp::Shl => x.checked_shl(y).unwrap_or(0),
            BvOp::Lshr => x.checked_shr(y).unwrap_or(0),
            BvOp::Ashr => ((x as i32) >> y.min(31)) as u32,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum CmpOp {
    Eq,
    Ult,
    Slt,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Node {
    // 32-bit vectors.
    Const(u32),
    Var(String),
    /// The low `bits` bits, sign-extended.
    SignExtend(u32, Id),
    /// The high (`true`) or low word of a 64-bit vector.
    Half(bool, Id),
    // 64-bit vectors.
    Const64(u64),
    Var64(String),
    /// `hi · 2³² + lo`: the 64-bit vector of two words.
    Concat(Id, Id),
    // Either width (the operands').
    Bin(BvOp, Id, Id),
    Neg(Id),
    Ite(Id, Id, Id),
    // Booleans.
    True,
    False,
    Not(Id),
    All(Vec<Id>),
    Any(Vec<Id>),
    Implies(Id, Id),
    Cmp(CmpOp, Id, Id),
    /// Bit `i` is 1.
    Bit(u32, Id),
}

impl Node {
    fn children(&self) -> Vec<Id> {
        match self {
            Node::Const(_)
            | Node::Var(_)
            | Node::Const64(_)
            | Node::Var64(_)
            | Node::True
            | Node::False => Vec::new(),
            Node::Bin(_, x, y) | Node::Concat(x, y) | Node::Implies(x, y) | Node::Cmp(_, x, y) => {
                vec![*x, *y]
            }
            Node::Neg(x)
            | Node::SignExtend(_, x)
            | Node::Half(_, x)
            | Node::Not(x)
            | Node::Bit(_, x) => vec![*x],
            Node::Ite(c, x, y) => vec![*c, *x, *y],
            Node::All(v) | Node::Any(v) => v.clone(),
        }
    }
}

/// The term store: every term built through its constructors, which fold
/// constants and apply a few identities (`x + 0 = x`, `x + x = x << 1`,
/// `0 − x = −x`, `ite(true, x, y) = x`, the words of a concatenation, …),
/// each exact in 32-bit (64-bit) arithmetic.
#[derive(Default)]
struct Terms {
    nodes: Vec<Node>,
    /// Each node's width: 32, 64, or 0 for a Boolean.
    widths: Vec<u8>,
    index: HashMap<Node, Id>,
}

impl Terms {
    fn intern(&mut self, node: Node) -> Id {
        if let Some(&id) = self.index.get(&node) {
            return id;
        }
        let width = match &node {
            Node::Const(_) | Node::Var(_) | Node::SignExtend(..) | Node::Half(..) => 32,
            Node::Const64(_) | Node::Var64(_) | Node::Concat(..) => 64,
            Node::Bin(_, x, _) | Node::Neg(x) | Node::Ite(_, x, _) => self.widths[x.0 as usize],
            _ => 0,
        };
        let id = Id(self.nodes.len() as u32);
        self.nodes.push(node.clone());
        self.widths.push(width);
        self.index.insert(node, id);
        id
    }

    /// A vector term's width (32 or 64); 0 for a Boolean.
    fn width(&self, id: Id) -> u32 {
        u32::from(self.widths[id.0 as usize])
    }

    fn value64(&self, id: Id) -> Option<u64> {
        match self.node(id) {
            Node::Const64(v) => Some(*v),
            _ => None,
        }
    }

    fn konst64(&mut self, v: u64) -> Id {
        self.intern(Node::Const64(v))
    }

    fn var64(&mut self, name: &str) -> Id {
        self.intern(Node::Var64(name.to_owned()))
    }

    /// The 64-bit vector `hi · 2³² + lo`.
    fn concat(&mut self, hi: Id, lo: Id) -> Id {
        if let (Some(h), Some(l)) = (self.value(hi), self.value(lo)) {
            return self.konst64(u64::from(h) << 32 | u64::from(l));
        }
        if let (Node::Half(true, x), Node::Half(false, y)) = (self.node(hi), self.node(lo))
            && x == y
        {
            return *x;
        }
        self.intern(Node::Concat(hi, lo))
    }

    /// The 64-bit zero extension of a word.
    fn zext(&mut self, x: Id) -> Id {
        let zero = self.konst(0);
        self.concat(zero, x)
    }

    /// The high (`high`) or low word of a 64-bit vector.
    fn half(&mut self, high: bool, x: Id) -> Id {
        if let Some(v) = self.value64(x) {
            return self.konst(if high { (v >> 32) as u32 } else { v as u32 });
        }
        if let Node::Concat(h, l) = *self.node(x) {
            return if high { h } else { l };
        }
        self.intern(Node::Half(high, x))
    }

    /// The words of a 64-bit vector, low first.
    fn words(&mut self, x: Id) -> Vec<Id> {
        vec![self.half(false, x), self.half(true, x)]
    }

    fn bin64(&mut self, op: BvOp, x: Id, y: Id) -> Id {
        let (vx, vy) = (self.value64(x), self.value64(y));
        if let (Some(a), Some(b)) = (vx, vy) {
            return self.konst64(op.eval64(a, b));
        }
        match op {
            BvOp::Add if vx == Some(0) => return y,
            BvOp::Add | BvOp::Sub | BvOp::Or | BvOp::Xor if vy == Some(0) => return x,
            BvOp::Or | BvOp::Xor if vx == Some(0) => return y,
            BvOp::Sub if x == y => return self.konst64(0),
            BvOp::Sub if vx == Some(0) => return self.neg(y),
            BvOp::Mul | BvOp::And if vx == Some(0) || vy == Some(0) => return self.konst64(0),
            BvOp::Mul if vx == Some(1) => return y,
            BvOp::Mul if vy == Some(1) => return x,
            BvOp::Shl | BvOp::Lshr if vy.is_some_and(|k| k >= 64) || vx == Some(0) => {
                return self.konst64(0);
            }
            BvOp::Shl | BvOp::Lshr | BvOp::Ashr if vy == Some(0) => return x,
            // Shifts by a word move words.
            BvOp::Shl if vy == Some(32) => {
                let (lo, zero) = (self.half(false, x), self.konst(0));
                return self.concat(lo, zero);
            }
            BvOp::Lshr if vy == Some(32) => {
                let (hi, zero) = (self.half(true, x), self.konst(0));
                return self.concat(zero, hi);
            }
            _ => {}
        }
        let (x, y) = if matches!(op, BvOp::Mul | BvOp::And | BvOp::Or | BvOp::Xor) && y < x {
            (y, x)
        } else {
            (x, y)
        };
        self.intern(Node::Bin(op, x, y))
    }

    fn node(&self, id: Id) -> &Node {
        &self.nodes[id.0 as usize]
    }

    fn value(&self, id: Id) -> Option<u32> {
        match self.node(id) {
            Node::Const(v) => Some(*v),
            _ => None,
        }
    }

    fn truth(&self, id: Id) -> Option<bool> {
        match self.node(id) {
            Node::True => Some(true),
            Node::False => Some(false),
            _ => None,
        }
    }

    fn konst(&mut self, v: u32) -> Id {
        self.intern(Node::Const(v))
    }

    fn var(&mut self, name: &str) -> Id {
        self.intern(Node::Var(name.to_owned()))
    }

    fn boolean(&mut self, b: bool) -> Id {
        self.intern(if b { Node::True } else { Node::False })
    }

    fn bin(&mut self, op: BvOp, x: Id, y: Id) -> Id {
        if self.width(x) == 64 {
            return self.bin64(op, x, y);
        }
        let (vx, vy) = (self.value(x), self.value(y));
        if let (Some(a), Some(b)) = (vx, vy) {
            return self.konst(op.eval(a, b));
        }
        match op {
            BvOp::Add if vx == Some(0) => return y,
            BvOp::Add | BvOp::Sub | BvOp::Or | BvOp::Xor if vy == Some(0) => return x,
            BvOp::Or | BvOp::Xor if vx == Some(0) => return y,
            BvOp::Add if x == y => {
                let one = self.konst(1);
                return self.bin(BvOp::Shl, x, one);
            }
            BvOp::Sub if x == y => return self.konst(0),
            BvOp::Sub if vx == Some(0) => return self.neg(y),
            BvOp::Mul | BvOp::And if vx == Some(0) || vy == Some(0) => return self.konst(0),
            BvOp::Mul if vx == Some(1) => return y,
            BvOp::Mul if vy == Some(1) => return x,
            BvOp::Shl | BvOp::Lshr if vy.is_some_and(|k| k >= 32) || vx == Some(0) => {
                return self.konst(0);
            }
            BvOp::Shl | BvOp::Lshr | BvOp::Ashr if vy == Some(0) => return x,
            _ => {}
        }
        // Commutative products in one order, so `b · a` is `a · b`.
        let (x, y) = if matches!(op, BvOp::Mul | BvOp::And | BvOp::Or | BvOp::Xor) && y < x {
            (y, x)
        } else {
            (x, y)
        };
        self.intern(Node::Bin(op, x, y))
    }

    fn add(&mut self, x: Id, y: Id) -> Id {
        self.bin(BvOp::Add, x, y)
    }

    fn sub(&mut self, x: Id, y: Id) -> Id {
        self.bin(BvOp::Sub, x, y)
    }

    fn neg(&mut self, x: Id) -> Id {
        if let Some(v) = self.value(x) {
            return self.konst(v.wrapping_neg());
        }
        if let Some(v) = self.value64(x) {
            return self.konst64(v.wrapping_neg());
        }
        if let Node::Neg(y) = *self.node(x) {
            return y;
        }
        self.intern(Node::Neg(x))
    }

    fn ite(&mut self, c: Id, x: Id, y: Id) -> Id {
        match self.truth(c) {
            Some(true) => return x,
            Some(false) => return y,
            None => {}
        }
        if x == y {
            return x;
        }
        if let Node::Not(d) = *self.node(c) {
            return self.ite(d, y, x);
        }
        self.intern(Node::Ite(c, x, y))
    }

    fn sign_extend(&mut self, bits: u32, x: Id) -> Id {
        if let Some(v) = self.value(x) {
            let shift = 32 - bits;
            return self.konst((((v << shift) as i32) >> shift) as u32);
        }
        self.intern(Node::SignExtend(bits, x))
    }

    fn not(&mut self, c: Id) -> Id {
        if let Some(b) = self.truth(c) {
            return self.boolean(!b);
        }
        if let Node::Not(d) = *self.node(c) {
            return d;
        }
        self.intern(Node::Not(c))
    }

    fn junction(&mut self, all: bool, items: &[Id]) -> Id {
        let mut kept = Vec::new();
        let mut seen = BTreeSet::new();
        for &c in items {
            match self.truth(c) {
                Some(b) if b == all => {}
                Some(_) => return self.boolean(!all),
                None => {
                    if seen.insert(c) {
                        kept.push(c);
                    }
                }
            }
        }
        match kept.len() {
            0 => self.boolean(all),
            1 => kept[0],
            _ => self.intern(if all {
                Node::All(kept)
            } else {
                Node::Any(kept)
            }),
        }
    }

    fn all(&mut self, items: &[Id]) -> Id {
        self.junction(true, items)
    }

    fn any(&mut self, items: &[Id]) -> Id {
        self.junction(false, items)
    }

    fn implies(&mut self, p: Id, q: Id) -> Id {
        match (self.truth(p), self.truth(q)) {
            (Some(true), _) => q,
            (Some(false), _) | (_, Some(true)) => self.boolean(true),
            (_, Some(false)) => self.not(p),
            _ if p == q => self.boolean(true),
            _ => self.intern(Node::Implies(p, q)),
        }
    }

    fn cmp(&mut self, op: CmpOp, x: Id, y: Id) -> Id {
        if self.width(x) == 64 {
            return self.cmp64(op, x, y);
        }
        if let (Some(a), Some(b)) = (self.value(x), self.value(y)) {
            let r = match op {
                CmpOp::Eq => a == b,
                CmpOp::Ult => a < b,
                CmpOp::Slt => (a as i32) < (b as i32),
            };
            return self.boolean(r);
        }
        if x == y {
            return self.boolean(op == CmpOp::Eq);
        }
        // `ite(c, k1, k2) = k` is `c`, `¬c`, `true` or `false`.
        if op == CmpOp::Eq
            && let Some(k) = self.value(y)
            && let Node::Ite(c, p, q) = *self.node(x)
            && let (Some(kp), Some(kq)) = (self.value(p), self.value(q))
        {
            return match (kp == k, kq == k) {
                (true, false) => c,
                (false, true) => self.not(c),
                (same, _) => self.boolean(same),
            };
        }
        if op == CmpOp::Ult && self.value(y) == Some(0) {
            return self.boolean(false);
        }
        // `x <s 0` is the top bit.
        if op == CmpOp::Slt && self.value(y) == Some(0) {
            return self.bit(31, x);
        }
        // Constants second in equalities, so `x = k` has one form.
        let (x, y) = if op == CmpOp::Eq && self.value(x).is_some() {
            (y, x)
        } else {
            (x, y)
        };
        self.intern(Node::Cmp(op, x, y))
    }

    fn cmp64(&mut self, op: CmpOp, x: Id, y: Id) -> Id {
        if let (Some(a), Some(b)) = (self.value64(x), self.value64(y)) {
            let r = match op {
                CmpOp::Eq => a == b,
                CmpOp::Ult => a < b,
                CmpOp::Slt => (a as i64) < (b as i64),
            };
            return self.boolean(r);
        }
        if x == y {
            return self.boolean(op == CmpOp::Eq);
        }
        if op == CmpOp::Ult && self.value64(y) == Some(0) {
            return self.boolean(false);
        }
        if op == CmpOp::Slt && self.value64(y) == Some(0) {
            return self.bit(63, x);
        }
        let (x, y) = if op == CmpOp::Eq && self.value64(x).is_some() {
            (y, x)
        } else {
            (x, y)
        };
        self.intern(Node::Cmp(op, x, y))
    }

    fn eq(&mut self, x: Id, y: Id) -> Id {
        self.cmp(CmpOp::Eq, x, y)
    }

    /// `p ⇔ q`.
    fn iff(&mut self, p: Id, q: Id) -> Id {
        let pq = self.implies(p, q);
        let qp = self.implies(q, p);
        self.all(&[pq, qp])
    }

    fn bit(&mut self, i: u32, x: Id) -> Id {
        if let Some(v) = self.value(x) {
            return self.boolean(v >> i & 1 == 1);
        }
        if let Some(v) = self.value64(x) {
            return self.boolean(v >> i & 1 == 1);
        }
        // The bits of a concatenation are its words' bits, and a word's
        // bits are its vector's.
        match *self.node(x) {
            Node::Concat(h, l) => {
                return if i >= 32 {
                    self.bit(i - 32, h)
                } else {
                    self.bit(i, l)
                };
            }
            Node::Half(high, y) => return self.bit(if high { i + 32 } else { i }, y),
            Node::Bin(BvOp::Lshr, y, k) if self.width(x) == 64 => {
                if let Some(k) = self.value64(k) {
                    return if u64::from(i) + k < 64 {
                        self.bit(i + k as u32, y)
                    } else {
                        self.boolean(false)
                    };
                }
            }
            _ => {}
        }
        // Bit `i` of `y << k` is bit `i − k` of `y` (0 below `k`).
        if let Node::Bin(BvOp::Shl, y, k) = *self.node(x)
            && let Some(k) = self
                .value(k)
                .or_else(|| self.value64(k).and_then(|k| u32::try_from(k).ok()))
        {
            return if i >= k {
                self.bit(i - k, y)
            } else {
                self.boolean(false)
            };
        }
        self.intern(Node::Bit(i, x))
    }

    /// The machine's 0/1 for a condition.
    fn bool_to_bv(&mut self, c: Id) -> Id {
        let (one, zero) = (self.konst(1), self.konst(0));
        self.ite(c, one, zero)
    }

    /// Whether a 32-bit value is non-zero (what `BR_IF` and `SELECT` test).
    fn truthy(&mut self, v: Id) -> Id {
        let zero = self.konst(0);
        let z = self.eq(v, zero);
        self.not(z)
    }

    /// Every id reachable from `roots`, ascending (children first).
    fn reachable(&self, roots: &[Id]) -> Vec<Id> {
        let mut seen = vec![false; self.nodes.len()];
        let mut stack: Vec<Id> = roots.to_vec();
        let mut out = Vec::new();
        while let Some(id) = stack.pop() {
            if std::mem::replace(&mut seen[id.0 as usize], true) {
                continue;
            }
            out.push(id);
            stack.extend(self.node(id).children());
        }
        out.sort_unstable();
        out
    }

    /// Rebuilds `roots` with the terms of `map` replaced (keys by values),
    /// through the simplifying constructors.
    fn subst(&mut self, roots: &[Id], map: &HashMap<Id, Id>) -> Vec<Id> {
        if map.is_empty() {
            return roots.to_vec();
        }
        let mut new: HashMap<Id, Id> = HashMap::new();
        for id in self.reachable(roots) {
            let r = match map.get(&id) {
                Some(&m) => m,
                None => {
                    let node = self.node(id).clone();
                    let c = |x: Id| new.get(&x).copied().unwrap_or(x);
                    match node {
                        Node::Const(_)
                        | Node::Var(_)
                        | Node::Const64(_)
                        | Node::Var64(_)
                        | Node::True
                        | Node::False => id,
                        Node::Concat(h, l) => self.concat(c(h), c(l)),
                        Node::Half(high, x) => self.half(high, c(x)),
                        Node::Bin(op, x, y) => self.bin(op, c(x), c(y)),
                        Node::Neg(x) => self.neg(c(x)),
                        Node::Ite(k, x, y) => self.ite(c(k), c(x), c(y)),
                        Node::SignExtend(b, x) => self.sign_extend(b, c(x)),
                        Node::Not(x) => self.not(c(x)),
                        Node::All(v) => {
                            let v: Vec<Id> = v.into_iter().map(c).collect();
                            self.all(&v)
                        }
                        Node::Any(v) => {
                            let v: Vec<Id> = v.into_iter().map(c).collect();
                            self.any(&v)
                        }
                        Node::Implies(p, q) => self.implies(c(p), c(q)),
                        Node::Cmp(op, x, y) => self.cmp(op, c(x), c(y)),
                        Node::Bit(i, x) => self.bit(i, c(x)),
                    }
                }
            };
            new.insert(id, r);
        }
        roots
            .iter()
            .map(|r| new.get(r).copied().unwrap_or(*r))
            .collect()
    }

    fn subst_one(&mut self, root: Id, map: &HashMap<Id, Id>) -> Id {
        self.subst(&[root], map).first().copied().unwrap_or(root)
    }

    /// A term written out in full (for comments; small terms only).
    fn sexp(&self, id: Id) -> String {
        let n = |x: &Id| self.sexp(*x);
        match self.node(id) {
            Node::Const(v) => format!("#x{v:08x}"),
            Node::Const64(v) => format!("#x{v:016x}"),
            Node::Var(v) | Node::Var64(v) => v.clone(),
            Node::True => "true".to_owned(),
            Node::False => "false".to_owned(),
            Node::Concat(h, l) => format!("(concat {} {})", n(h), n(l)),
            Node::Half(high, x) => format!(
                "((_ extract {}) {})",
                if *high { "63 32" } else { "31 0" },
                n(x)
            ),
            Node::Bin(op, x, y) => format!("({} {} {})", op.smt(), n(x), n(y)),
            Node::Neg(x) => format!("(bvneg {})", n(x)),
            Node::Ite(c, x, y) => format!("(ite {} {} {})", n(c), n(x), n(y)),
            Node::SignExtend(b, x) => format!(
                "((_ sign_extend {}) ((_ extract {} 0) {}))",
                32 - b,
                b - 1,
                n(x)
            ),
            Node::Not(x) => format!("(not {})", n(x)),
            Node::All(v) | Node::Any(v) => {
                let op = if matches!(self.node(id), Node::All(_)) {
                    "and"
                } else {
                    "or"
                };
                let args: Vec<String> = v.iter().map(n).collect();
                format!("({op} {})", args.join(" "))
            }
            Node::Implies(p, q) => format!("(=> {} {})", n(p), n(q)),
            Node::Cmp(op, x, y) => {
                let op = match op {
                    CmpOp::Eq => "=",
                    CmpOp::Ult => "bvult",
                    CmpOp::Slt => "bvslt",
                };
                format!("({op} {} {})", n(x), n(y))
            }
            Node::Bit(i, x) => format!("(= ((_ extract {i} {i}) {}) #b1)", n(x)),
        }
    }

    /// The SMT-LIB2 script asserting `¬claim`: a comment, declarations (the
    /// free variables, by name), one `define-fun` per compound sub-term in
    /// topological order, the assertion.
    fn script(&self, comment: &str, claim: Id) -> String {
        let order = self.reachable(&[claim]);
        let mut names: HashMap<Id, String> = HashMap::new();
        let mut vars = BTreeMap::new();
        let mut defs = String::new();
        let mut next = 0usize;
        for &id in &order {
            let node = self.node(id);
            let name = match node {
                Node::Const(v) => format!("#x{v:08x}"),
                Node::Const64(v) => format!("#x{v:016x}"),
                Node::Var(v) | Node::Var64(v) => {
                    vars.insert(v.clone(), self.width(id));
                    v.clone()
                }
                Node::True => "true".to_owned(),
                Node::False => "false".to_owned(),
                _ => {
                    let n = |x: &Id| names.get(x).cloned().unwrap_or_default();
                    let body = match node {
                        Node::Bin(op, x, y) => format!("({} {} {})", op.smt(), n(x), n(y)),
                        Node::Neg(x) => format!("(bvneg {})", n(x)),
                        Node::Concat(h, l) => format!("(concat {} {})", n(h), n(l)),
                        Node::Half(high, x) => format!(
                            "((_ extract {}) {})",
                            if *high { "63 32" } else { "31 0" },
                            n(x)
                        ),
                        Node::Ite(c, x, y) => format!("(ite {} {} {})", n(c), n(x), n(y)),
                        Node::SignExtend(b, x) => format!(
                            "((_ sign_extend {}) ((_ extract {} 0) {}))",
                            32 - b,
                            b - 1,
                            n(x)
                        ),
                        Node::Not(x) => format!("(not {})", n(x)),
                        Node::All(v) | Node::Any(v) => {
                            let op = if matches!(node, Node::All(_)) {
                                "and"
                            } else {
                                "or"
                            };
                            let args: Vec<String> = v.iter().map(n).collect();
                            format!("({op} {})", args.join(" "))
                        }
                        Node::Implies(p, q) => format!("(=> {} {})", n(p), n(q)),
                        Node::Cmp(op, x, y) => {
                            let op = match op {
                                CmpOp::Eq => "=",
                                CmpOp::Ult => "bvult",
                                CmpOp::Slt => "bvslt",
                            };
                            format!("({op} {} {})", n(x), n(y))
                        }
                        Node::Bit(i, x) => format!("(= ((_ extract {i} {i}) {}) #b1)", n(x)),
                        Node::Const(_)
                        | Node::Var(_)
                        | Node::Const64(_)
                        | Node::Var64(_)
                        | Node::True
                        | Node::False => String::new(),
                    };
                    let sort = match self.width(id) {
                        0 => "Bool",
                        64 => "(_ BitVec 64)",
                        _ => "(_ BitVec 32)",
                    };
                    let name = format!("t{next}");
                    next += 1;
                    let _ = writeln!(defs, "(define-fun {name} () {sort} {body})");
                    name
                }
            };
            names.insert(id, name);
        }
        let mut s = String::new();
        for line in comment.lines() {
            let _ = writeln!(s, "; {line}");
        }
        for (v, width) in &vars {
            let _ = writeln!(s, "(declare-const {v} (_ BitVec {width}))");
        }
        s.push_str(&defs);
        let _ = writeln!(
            s,
            "(assert (not {}))",
            names.get(&claim).cloned().unwrap_or_default()
        );
        s
    }
}

// ---------------------------------------------------------------------------
// Reachability oracle
// ---------------------------------------------------------------------------

/// Decides whether a path condition is satisfiable (z3, in process). Used
/// only to prune: the main claim re-proves that the kept paths cover every
/// input, so a wrong answer here cannot make a false claim hold.
struct Oracle {
    solver: z3::Solver,
    memo: HashMap<Id, Dynamic>,
}

/// Per-query time limit of the oracle; a query that times out counts as
/// reachable (the path is kept).
const ORACLE_TIMEOUT_MS: u32 = 20_000;

impl Oracle {
    fn new() -> Oracle {
        let solver = z3::Solver::new();
        let mut params = z3::Params::new();
        params.set_u32("timeout", ORACLE_TIMEOUT_MS);
        solver.set_params(&params);
        Oracle {
            solver,
            memo: HashMap::new(),
        }
    }

    fn lower(&mut self, terms: &Terms, root: Id) -> Option<Dynamic> {
        for id in terms.reachable(&[root]) {
            if self.memo.contains_key(&id) {
                continue;
            }
            let bv = |m: &HashMap<Id, Dynamic>, x: &Id| m.get(x).and_then(Dynamic::as_bv);
            let bo = |m: &HashMap<Id, Dynamic>, x: &Id| m.get(x).and_then(Dynamic::as_bool);
            let m = &self.memo;
            let d: Option<Dynamic> = match terms.node(id) {
                Node::Const(v) => Some(BV::from_u64(u64::from(*v), 32).into()),
                Node::Var(v) => Some(BV::new_const(v.as_str(), 32).into()),
                Node::Const64(v) => Some(BV::from_u64(*v, 64).into()),
                Node::Var64(v) => Some(BV::new_const(v.as_str(), 64).into()),
                Node::Concat(h, l) => match (bv(m, h), bv(m, l)) {
                    (Some(h), Some(l)) => Some(h.concat(&l).into()),
                    _ => None,
                },
                Node::Half(high, x) => bv(m, x).map(|x| {
                    if *high {
                        x.extract(63, 32)
                    } else {
                        x.extract(31, 0)
                    }
                    .into()
                }),
                Node::True => Some(Bool::from_bool(true).into()),
                Node::False => Some(Bool::from_bool(false).into()),
                Node::Bin(op, x, y) => match (bv(m, x), bv(m, y)) {
                    (Some(x), Some(y)) => Some(
                        match op {
                            BvOp::Add => x.bvadd(&y),
                            BvOp::Sub => x.bvsub(&y),
                            BvOp::Mul => x.bvmul(&y),
                            BvOp::Udiv => x.bvudiv(&y),
                            BvOp::Urem => x.bvurem(&y),
                            BvOp::And => x.bvand(&y),
                            BvOp::Or => x.bvor(&y),
                            BvOp::Xor => x.bvxor(&y),
                            BvOp::Shl => x.bvshl(&y),
                            BvOp::Lshr => x.bvlshr(&y),
                            BvOp::Ashr => x.bvashr(&y),
                        }
                        .into(),
                    ),
                    _ => None,
                },
                Node::Neg(x) => bv(m, x).map(|x| x.bvneg().into()),
                Node::Ite(c, x, y) => match (bo(m, c), bv(m, x), bv(m, y)) {
                    (Some(c), Some(x), Some(y)) => Some(c.ite(&x, &y).into()),
                    _ => None,
                },
                Node::SignExtend(b, x) => {
                    bv(m, x).map(|x| x.extract(b - 1, 0).sign_ext(32 - b).into())
                }
                Node::Not(x) => bo(m, x).map(|x| x.not().into()),
                Node::All(v) | Node::Any(v) => {
                    let items: Option<Vec<Bool>> = v.iter().map(|x| bo(m, x)).collect();
                    items.map(|items| {
                        if matches!(terms.node(id), Node::All(_)) {
                            Bool::and(&items).into()
                        } else {
                            Bool::or(&items).into()
                        }
                    })
                }
                Node::Implies(p, q) => match (bo(m, p), bo(m, q)) {
                    (Some(p), Some(q)) => Some(p.implies(&q).into()),
                    _ => None,
                },
                Node::Cmp(op, x, y) => match (bv(m, x), bv(m, y)) {
                    (Some(x), Some(y)) => Some(
                        match op {
                            CmpOp::Eq => x.eq(&y),
                            CmpOp::Ult => x.bvult(&y),
                            CmpOp::Slt => x.bvslt(&y),
                        }
                        .into(),
                    ),
                    _ => None,
                },
                Node::Bit(i, x) => {
                    bv(m, x).map(|x| x.extract(*i, *i).eq(BV::from_u64(1, 1)).into())
                }
            };
            self.memo.insert(id, d?);
        }
        self.memo.get(&root).cloned()
    }

    /// Whether `conds ∧ extra` may hold (true unless z3 says `unsat`).
    fn feasible(&mut self, terms: &Terms, conds: &[Id], extra: Id) -> bool {
        let mut lowered = Vec::new();
        for &c in conds.iter().chain(std::iter::once(&extra)) {
            match self.lower(terms, c).and_then(|d| d.as_bool()) {
                Some(b) => lowered.push(b),
                None => return true,
            }
        }
        self.solver.push();
        for b in &lowered {
            self.solver.assert(b);
        }
        let result = self.solver.check();
        self.solver.pop(1);
        result != z3::SatResult::Unsat
    }
}

// ---------------------------------------------------------------------------
// Specifications
// ---------------------------------------------------------------------------

/// What wasm does on some operands: trap with a code when a condition
/// holds (conditions disjoint), else produce `value`: the result's words,
/// low first (one for an i32 result, two for an i64).
struct Expected {
    traps: Vec<(Id, u32)>,
    value: Vec<Id>,
}

const INT_MIN: u32 = 0x8000_0000;

/// The SMT-LIB definition of `bvsdiv` (`rem = false`) or `bvsrem`: four
/// cases on the operands' signs, each an unsigned operation on magnitudes.
/// For either width.
fn signed_division(t: &mut Terms, a: Id, b: Id, rem: bool) -> Id {
    let zero = if t.width(a) == 64 {
        t.konst64(0)
    } else {
        t.konst(0)
    };
    let na = t.cmp(CmpOp::Slt, a, zero);
    let nb = t.cmp(CmpOp::Slt, b, zero);
    let (pa, pb) = (t.not(na), t.not(nb));
    let (ma, mb) = (t.neg(a), t.neg(b));
    let op = if rem { BvOp::Urem } else { BvOp::Udiv };
    let pp = t.bin(op, a, b);
    let np = t.bin(op, ma, b);
    let np = t.neg(np);
    let pn = t.bin(op, a, mb);
    let pn = if rem { pn } else { t.neg(pn) };
    let nn = t.bin(op, ma, mb);
    let nn = if rem { t.neg(nn) } else { nn };
    let c_pp = t.all(&[pa, pb]);
    let c_np = t.all(&[na, pb]);
    let c_pn = t.all(&[pa, nb]);
    let inner = t.ite(c_pn, pn, nn);
    let inner = t.ite(c_np, np, inner);
    t.ite(c_pp, pp, inner)
}

/// wasm's result of `op` on the operand words `args` (each i32 operand one
/// word, each i64 operand its low word then its high word), as the routine
/// finds them on the stack.
fn expected(t: &mut Terms, op: Routine, args: &[Id]) -> Expected {
    if op.is_wide() {
        return wide::expected(t, op, args);
    }
    let a = args[0];
    let b = args.get(1).copied().unwrap_or(a);
    let e = expected_i32(t, op, a, b);
    Expected {
        traps: e.0,
        value: vec![e.1],
    }
}

fn expected_i32(t: &mut Terms, op: Routine, a: Id, b: Id) -> (Vec<(Id, u32)>, Id) {
    let zero = t.konst(0);
    let b_zero = t.eq(b, zero);
    let divide_by_zero = vec![(b_zero, trap_code::DIVIDE_BY_ZERO)];
    let thirty_one = t.konst(31);
    let k = t.bin(BvOp::And, b, thirty_one);
    let plain = |value| (Vec::new(), value);
    match op {
        Routine::Mul => plain(t.bin(BvOp::Mul, a, b)),
        Routine::DivU => (divide_by_zero, t.bin(BvOp::Udiv, a, b)),
        Routine::RemU => (divide_by_zero, t.bin(BvOp::Urem, a, b)),
        Routine::DivS => {
            let (min, minus_one) = (t.konst(INT_MIN), t.konst(u32::MAX));
            let a_min = t.eq(a, min);
            let b_m1 = t.eq(b, minus_one);
            let overflow = t.all(&[a_min, b_m1]);
            let mut traps = divide_by_zero;
            traps.push((overflow, trap_code::OVERFLOW));
            (traps, signed_division(t, a, b, false))
        }
        Routine::RemS => (divide_by_zero, signed_division(t, a, b, true)),
        Routine::And => plain(t.bin(BvOp::And, a, b)),
        Routine::Or => plain(t.bin(BvOp::Or, a, b)),
        Routine::Xor => plain(t.bin(BvOp::Xor, a, b)),
        Routine::Shl => plain(t.bin(BvOp::Shl, a, k)),
        Routine::ShrU => plain(t.bin(BvOp::Lshr, a, k)),
        Routine::ShrS => plain(t.bin(BvOp::Ashr, a, k)),
        Routine::Rotl | Routine::Rotr => {
            let thirty_two = t.konst(32);
            let back = t.sub(thirty_two, k);
            let (first, second) = if op == Routine::Rotl {
                (BvOp::Shl, BvOp::Lshr)
            } else {
                (BvOp::Lshr, BvOp::Shl)
            };
            let x = t.bin(first, a, k);
            let y = t.bin(second, a, back);
            plain(t.bin(BvOp::Or, x, y))
        }
        Routine::Clz => {
            let mut e = t.konst(32);
            for i in 0..32 {
                let bit = t.bit(i, a);
                let count = t.konst(31 - i);
                e = t.ite(bit, count, e);
            }
            plain(e)
        }
        Routine::Ctz => {
            let mut e = t.konst(32);
            for i in (0..32).rev() {
                let bit = t.bit(i, a);
                let count = t.konst(i);
                e = t.ite(bit, count, e);
            }
            plain(e)
        }
        Routine::Popcnt => {
            let mut sum = t.konst(0);
            for i in (0..32).rev() {
                let bit = t.bit(i, a);
                let one = t.bool_to_bv(bit);
                sum = t.add(sum, one);
            }
            plain(sum)
        }
        Routine::Extend8S => plain(t.sign_extend(8, a)),
        Routine::Extend16S => plain(t.sign_extend(16, a)),
        // Excluded by `expected`.
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
        | Routine::Popcnt64 => plain(zero),
    }
}

// ---------------------------------------------------------------------------
// Step lemmas
// ---------------------------------------------------------------------------

/// Locals by `(call depth, index)`, each a term.
type Locals = BTreeMap<(u32, u32), Id>;

/// The counted loop of MUL or of unsigned division, for its step lemmas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LoopKind {
    /// Locals: 0 = multiplicand `X`, 1 = multiplier shifted left `32 − n`,
    /// 2 = `r`, 3 = `n` (bits left), 4 = multiplier `Y`.
    /// `Inv_n: r = X · (Y >> n)`.
    Mul,
    /// Locals: 0 = dividend `A` shifted left `32 − n`, 1 = divisor `B`,
    /// 2 = `q`, 3 = `r`, 4 = `n`, 5 = carry `c`; `A` is the first operand.
    /// `Inv_n: q = (A >> n) / B ∧ r = (A >> n) mod B`.
    Div,
    /// `MulWide` (see [`wide`]): locals 0 = `X`, 1 = `S` (the multiplier
    /// `Y`, an operand, shifted left `32 − n`), 2, 3 = the product's words,
    /// 4 = `n`. `Inv_n: S = Y << (32 − n) ∧ (hi, lo) = X · (Y >> n)`.
    MulWide,
    /// 64-bit unsigned division (see [`wide`]): locals 0, 1 = `D` (the
    /// dividend `A`, the operand, shifted left `64 − n`), 2, 3 = `B`, 4, 5 =
    /// `q`, 6, 7 = `r`, 8 = `n`, 9 = carry. `Inv_n: B ≠ 0 ∧ D = A << (64 −
    /// n) ∧ q = (A >> n) / B ∧ r = (A >> n) mod B`, over 64 bits.
    Div64,
}

impl LoopKind {
    fn of(op: Routine) -> Option<LoopKind> {
        match op {
            Routine::Mul => Some(LoopKind::Mul),
            Routine::DivU | Routine::RemU => Some(LoopKind::Div),
            Routine::MulWide => Some(LoopKind::MulWide),
            Routine::DivU64 | Routine::RemU64 => Some(LoopKind::Div64),
            _ => None,
        }
    }

    /// The counter's largest value (its value at the loop's entry).
    fn max_counter(self) -> u32 {
        match self {
            LoopKind::Div64 => 64,
            _ => 32,
        }
    }

    /// Whether forward branches inside the loop body are merged into
    /// `ite`s (the wide loops branch around their conditional add; MUL and
    /// DIV_U use `SELECT`).
    fn merges(self) -> bool {
        matches!(self, LoopKind::MulWide | LoopKind::Div64)
    }

    /// Indices (into [`LoopKind::vars`]) of the accumulators.
    fn accumulators(self) -> &'static [usize] {
        match self {
            LoopKind::Mul => &[2],
            LoopKind::Div => &[2, 3],
            LoopKind::MulWide => &[3, 4],
            LoopKind::Div64 => &[6, 7, 8, 9],
        }
    }

    fn counter(self) -> u32 {
        match self {
            LoopKind::Mul => 3,
            LoopKind::Div => 4,
            LoopKind::MulWide => 4,
            LoopKind::Div64 => 8,
        }
    }

    fn vars(self) -> &'static [&'static str] {
        match self {
            LoopKind::Mul => &["X", "Y", "r"],
            LoopKind::Div => &["A", "B", "q", "r", "c"],
            LoopKind::MulWide => &["X", "Y", "S", "lo", "hi"],
            LoopKind::Div64 => &[
                "A.lo", "A.hi", "D.lo", "D.hi", "B.lo", "B.hi", "q.lo", "q.hi", "r.lo", "r.hi", "c",
            ],
        }
    }

    /// The head state for counter `n`, over the lemma's variables.
    fn head(self, t: &mut Terms, n: u32, v: &[Id]) -> Locals {
        let shifted = |t: &mut Terms, x: Id| (0..32 - n).fold(x, |x, _| t.add(x, x));
        let n = t.konst(n);
        let locals: Vec<Id> = match self {
            LoopKind::Mul => vec![v[0], shifted(t, v[1]), v[2], n, v[1]],
            LoopKind::Div => vec![shifted(t, v[0]), v[1], v[2], v[3], n, v[4]],
            LoopKind::MulWide => vec![v[0], v[2], v[3], v[4], n],
            LoopKind::Div64 => vec![v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], n, v[10]],
        };
        (0u32..)
            .zip(locals)
            .map(|(i, value)| ((0, i), value))
            .collect()
    }

    /// `Inv_n` of a state (`v`: the lemma's variables, for the ghost `A`).
    fn invariant(self, t: &mut Terms, n: u32, locals: &Locals, v: &[Id]) -> Id {
        let zero = t.konst(0);
        let l = |i: u32| locals.get(&(0, i)).copied().unwrap_or(zero);
        match self {
            LoopKind::Mul => {
                let n = t.konst(n);
                let y = t.bin(BvOp::Lshr, l(4), n);
                let p = t.bin(BvOp::Mul, l(0), y);
                t.eq(l(2), p)
            }
            LoopKind::Div => {
                let n = t.konst(n);
                let x = t.bin(BvOp::Lshr, v[0], n);
                let q = t.bin(BvOp::Udiv, x, l(1));
                let r = t.bin(BvOp::Urem, x, l(1));
                let eq_q = t.eq(l(2), q);
                let eq_r = t.eq(l(3), r);
                t.all(&[eq_q, eq_r])
            }
            LoopKind::MulWide => wide::mul_invariant(t, n, &l, v),
            LoopKind::Div64 => wide::div_invariant(t, n, &l, v),
        }
    }

    /// Whether a head state is the loop's entry (the accumulators still
    /// the constant 0).
    fn at_entry(self, t: &Terms, locals: &Locals) -> bool {
        let zero = |i: u32| locals.get(&(0, i)).and_then(|&v| t.value(v)) == Some(0);
        match self {
            LoopKind::Mul => zero(2),
            LoopKind::Div => zero(2) && zero(3),
            LoopKind::MulWide => zero(2) && zero(3),
            LoopKind::Div64 => (4..8).all(zero),
        }
    }

    /// The lemmas that carry the invariant, with zero accumulators, from
    /// counter 32 to the loop's entry: the routine first skips the leading
    /// zero bits of the multiplier (dividend), each one a doubling tested
    /// by `x <s 0`, and enters the loop with the counter at 32 minus their
    /// number. `skipK`: if bit `31 − K` is 0 (stated as the routine tests it,
    /// `¬(x·2^K <s 0)`), `Inv_(32−K)` implies `Inv_(31−K)`; `base` (division
    /// only): `Inv_32` holds when the divisor is not 0. Pure facts about
    /// `bvmul`, `bvudiv` and `bvurem`, each its own obligation.
    fn entry_lemmas(self, t: &mut Terms, v: &[Id]) -> Vec<EntryLemma> {
        let zero = t.konst(0);
        let mut out = Vec::new();
        let (x, accumulators): (Id, Locals) = match self {
            // The invariant at MulWide's entry (counter 32, zero product)
            // is `Y = Y ∧ 0 = 0`.
            LoopKind::MulWide => return out,
            LoopKind::Div64 => return wide::div_entry_lemmas(t, v),
            LoopKind::Mul => (
                v[1],
                [((0, 0), v[0]), ((0, 2), zero), ((0, 4), v[1])].into(),
            ),
            LoopKind::Div => (
                v[0],
                [((0, 1), v[1]), ((0, 2), zero), ((0, 3), zero)].into(),
            ),
        };
        if self == LoopKind::Div {
            let b_zero = t.eq(v[1], zero);
            let b_nonzero = t.not(b_zero);
            let inv = self.invariant(t, 32, &accumulators, v);
            out.push(EntryLemma {
                counters: 0..33,
                lemma: Lemma {
                    proof: LemmaProof::Formula,
                    suffix: "base".to_owned(),
                    what: "with a divisor B ≠ 0, q = 0 and r = 0 satisfy the invariant for \
                           counter 32"
                        .to_owned(),
                    formula: t.implies(b_nonzero, inv),
                },
            });
        }
        let mut shifted = x;
        for k in 0..32u32 {
            let top = t.cmp(CmpOp::Slt, shifted, zero);
            let clear = t.not(top);
            let before = self.invariant(t, 32 - k, &accumulators, v);
            let after = self.invariant(t, 31 - k, &accumulators, v);
            let pre = t.all(&[clear, before]);
            out.push(EntryLemma {
                counters: 0..32 - k,
                lemma: Lemma {
                    proof: LemmaProof::Formula,
                    suffix: format!("skip{k:02}"),
                    what: format!(
                        "a zero bit {} skipped with zero accumulators keeps the invariant \
                         from counter {} to {}",
                        31 - k,
                        32 - k,
                        31 - k
                    ),
                    formula: t.implies(pre, after),
                },
            });
            shifted = t.add(shifted, shifted);
        }
        out
    }

    /// The terms a head state of the main run gives the lemma's variables
    /// (a local never written is the free variable a read would give).
    fn bind(self, t: &mut Terms, locals: &Locals, operands: &[Id]) -> Vec<Id> {
        let mut l = |i: u32| match locals.get(&(0, i)) {
            Some(&v) => v,
            None => t.var(&format!("stale.d0.l{i}")),
        };
        match self {
            LoopKind::Mul => vec![l(0), l(4), l(2)],
            LoopKind::Div => vec![operands[0], l(1), l(2), l(3), l(5)],
            LoopKind::MulWide => vec![l(0), operands[1], l(1), l(2), l(3)],
            LoopKind::Div64 => vec![
                operands[0],
                operands[1],
                l(0),
                l(1),
                l(2),
                l(3),
                l(4),
                l(5),
                l(6),
                l(7),
                l(9),
            ],
        }
    }

    /// The multiplication- (division-) free part of step lemma `n`, for the
    /// kinds whose step lemmas are split (see [`Lemma::proof`]).
    fn step_facts(self, t: &mut Terms, n: u32, after: &Locals, vars: &[Id]) -> Option<StepFacts> {
        let via = |via| StepFacts { via, body: None };
        match self {
            LoopKind::Mul => Some(via(mul_step_facts(t, n, after, vars))),
            LoopKind::Div => None,
            LoopKind::MulWide => Some(via(wide::mul_step_facts(t, n, after, vars))),
            LoopKind::Div64 => {
                let body = wide::div_body_facts(t, after, vars);
                let via = wide::div_step_facts(t, n, vars);
                Some(StepFacts {
                    via,
                    body: Some(body),
                })
            }
        }
    }

    /// The integer lemmas the split step lemmas follow from (with their
    /// parts over bit-vectors): `(suffix, what, QF_NIA script)`.
    fn rings(self) -> Vec<IntegerLemma> {
        match self {
            LoopKind::Mul => vec![IntegerLemma {
                suffix: "ring",
                what: "X·(2q + b) ≡ 2·(X·q mod 2³²) + b·X (mod 2³²), the identity each step \
                       lemma's multiplication-free part needs",
                script: MUL_RING,
            }],
            LoopKind::Div => Vec::new(),
            LoopKind::MulWide => wide::MUL_WIDE_RINGS.to_vec(),
            LoopKind::Div64 => wide::DIV64_RINGS.to_vec(),
        }
    }
}

/// The multiplication- (division-) free part of a step lemma.
#[derive(Clone, Copy)]
struct StepFacts {
    /// What the step lemma's obligation states.
    via: Id,
    /// What one iteration of the loop body computes whatever the counter
    /// (64-bit division): its own lemma, `via` then stating only what
    /// the counter changes.
    body: Option<Id>,
}

/// An entry lemma and the loop entries it serves.
struct EntryLemma {
    /// The counter values at loop entries that need it.
    counters: std::ops::Range<u32>,
    lemma: Lemma,
}

impl EntryLemma {
    fn applies_at(&self, n: u32) -> bool {
        self.counters.contains(&n)
    }
}

/// A lemma over the integers (QF_NIA), stated once per routine.
#[derive(Clone, Copy)]
struct IntegerLemma {
    /// Name suffix: `ring`, `euclid`, …
    suffix: &'static str,
    /// What it says, for the script's comment.
    what: &'static str,
    /// The script.
    script: &'static str,
}

/// The head of the routine's counted loop, the target of the last backward
/// `BR_IF` before the first callee, and that `BR_IF`'s pc.
fn loop_head(code: &RoutineCode) -> Option<(u32, u32)> {
    let end = code
        .callees
        .iter()
        .map(|(pc, _)| *pc as usize)
        .min()
        .unwrap_or(code.instrs.len())
        .min(code.instrs.len());
    code.instrs[..end]
        .iter()
        .enumerate()
        .filter(|(pc, i)| i.op == Opcode::BrIf && (i.imm as usize) < *pc)
        .map(|(pc, i)| (i.imm, pc as u32))
        .next_back()
}

// ---------------------------------------------------------------------------
// Symbolic execution
// ---------------------------------------------------------------------------

/// One path's machine state.
#[derive(Clone)]
struct Path {
    pc: u32,
    stack: Vec<Id>,
    /// Locals by `(depth, index)`; absent means never written.
    locals: Locals,
    /// Return pcs of the active calls; the depth is its length.
    returns: Vec<u32>,
    /// The path condition.
    conds: Vec<Id>,
    /// Facts the path condition implies, as substitutions of its atoms by
    /// `true` or `false`: used to decide later branches.
    known: HashMap<Id, Id>,
    /// The facts of `SELECT` splits only: also applied to the values the
    /// path computes (elsewhere values stay as the code computes them, so
    /// that they match the step lemmas' terms).
    rewrites: HashMap<Id, Id>,
    steps: u64,
    /// Symbolic `SELECT`s this path may still split on.
    select_splits: u32,
}

enum End {
    /// `RETURN` at depth 0, with the stack left.
    Return(Vec<Id>),
    /// `HALT` with this code.
    Halt(u32),
    /// Back at the loop head, or returning (lemma runs only), with the
    /// locals.
    Head(Locals),
}

struct Leaf {
    conds: Vec<Id>,
    end: End,
}

/// How a run treats the loop head.
#[derive(Clone, Copy)]
enum Mode {
    /// The main run: record each head state (for lemma instances); the
    /// counter (local `counter`) must be a constant in `1..=max` there.
    Main {
        head: Option<u32>,
        counter: u32,
        max: u32,
    },
    /// A lemma run: stop when back at `head`; never fork.
    Lemma { head: u32 },
}

struct Machine<'a> {
    name: &'a str,
    code: &'a RoutineCode,
    mode: Mode,
    /// The loop body `(head, pc of its backward BR_IF)` whose forward
    /// branches are merged rather than forked (see [`Machine::merge`]).
    merge: Option<(u32, u32)>,
    /// Where a merge's fall-through run stops.
    stop: Option<u32>,
    /// Head states seen by the main run: (counter value, locals).
    visits: Vec<(u32, Locals)>,
}

/// Where a condition can go on a path.
enum Split {
    /// One way only (the path condition now records it).
    Only(bool),
    /// Both ways: the path continues with the condition true; this is the
    /// path with it false.
    Both(Box<Path>),
    /// Neither: the path itself is unreachable.
    Dead,
}

impl Machine<'_> {
    fn pop(&self, p: &mut Path) -> Result<Id, LoweringError> {
        p.stack.pop().ok_or_else(|| LoweringError::StackUnderflow {
            name: self.name.to_owned(),
            pc: p.pc,
        })
    }

    /// Adds `fact` to the path condition; `rewrite` also simplifies the
    /// state with it (only after a `SELECT` split: elsewhere the state's
    /// terms must stay as the code computes them, so that they match the
    /// step lemmas' terms).
    fn assume(t: &mut Terms, p: &mut Path, fact: Id, rewrite: bool) {
        p.conds.push(fact);
        let mut pending = vec![fact];
        while let Some(f) = pending.pop() {
            let (atom, value) = match t.node(f).clone() {
                Node::Not(g) => (g, t.boolean(false)),
                Node::All(items) => {
                    pending.extend(items);
                    continue;
                }
                _ => (f, t.boolean(true)),
            };
            p.known.insert(atom, value);
            if rewrite {
                p.rewrites.insert(atom, value);
            }
        }
        if !rewrite {
            return;
        }
        let keys: Vec<(u32, u32)> = p.locals.keys().copied().collect();
        let mut roots: Vec<Id> = p.stack.clone();
        roots.extend(keys.iter().filter_map(|k| p.locals.get(k).copied()));
        let new = t.subst(&roots, &p.rewrites);
        let (stack, locals) = new.split_at(p.stack.len().min(new.len()));
        p.stack = stack.to_vec();
        for (k, v) in keys.iter().zip(locals) {
            p.locals.insert(*k, *v);
        }
    }

    /// Splits `p` on condition `c` (a Bool term); `rewrite` as for
    /// [`Machine::assume`].
    fn split(
        &self,
        t: &mut Terms,
        oracle: &mut Oracle,
        p: &mut Path,
        c: Id,
        rewrite: bool,
    ) -> Result<Split, LoweringError> {
        let c = t.subst_one(c, &p.known);
        if let Some(b) = t.truth(c) {
            return Ok(Split::Only(b));
        }
        let not_c = t.not(c);
        let yes = oracle.feasible(t, &p.conds, c);
        let no = oracle.feasible(t, &p.conds, not_c);
        match (yes, no) {
            (true, true) => {
                if let Mode::Lemma { .. } = self.mode {
                    return Err(LoweringError::Loop {
                        name: self.name.to_owned(),
                        message: format!(
                            "one iteration from the head branches on data at pc {}",
                            p.pc
                        ),
                    });
                }
                let mut other = p.clone();
                Self::assume(t, &mut other, not_c, rewrite);
                Self::assume(t, p, c, rewrite);
                Ok(Split::Both(Box::new(other)))
            }
            (true, false) => {
                Self::assume(t, p, c, rewrite);
                Ok(Split::Only(true))
            }
            (false, true) => {
                Self::assume(t, p, not_c, rewrite);
                Ok(Split::Only(false))
            }
            (false, false) => Ok(Split::Dead),
        }
    }

    /// Runs every path from `start`; returns the leaves in a fixed order.
    fn explore(
        &mut self,
        t: &mut Terms,
        oracle: &mut Oracle,
        start: Path,
    ) -> Result<Vec<Leaf>, LoweringError> {
        let mut work = vec![start];
        let mut leaves = Vec::new();
        let mut paths = 1usize;
        while let Some(mut p) = work.pop() {
            let before = work.len();
            self.run_path(t, oracle, &mut p, &mut work, &mut leaves)?;
            paths += work.len().saturating_sub(before);
            if paths > PATH_LIMIT {
                return Err(LoweringError::PathLimit {
                    name: self.name.to_owned(),
                    limit: PATH_LIMIT,
                });
            }
        }
        Ok(leaves)
    }

    /// Runs one path until it ends (pushing its leaf, and the leaves of
    /// trap splits), queueing the paths it forks.
    fn run_path(
        &mut self,
        t: &mut Terms,
        oracle: &mut Oracle,
        p: &mut Path,
        work: &mut Vec<Path>,
        leaves: &mut Vec<Leaf>,
    ) -> Result<(), LoweringError> {
        let leaf = |p: &Path, end: End| Leaf {
            conds: p.conds.clone(),
            end,
        };
        loop {
            let pc = p.pc;
            let depth = p.returns.len() as u32;
            match self.mode {
                Mode::Lemma { head } if depth == 0 && pc == head && p.steps > 0 => {
                    leaves.push(leaf(p, End::Head(p.locals.clone())));
                    return Ok(());
                }
                Mode::Main {
                    head: Some(head),
                    counter,
                    max,
                } if depth == 0 && pc == head => {
                    let n = p.locals.get(&(0, counter)).and_then(|&v| t.value(v));
                    match n {
                        Some(n) if (1..=max).contains(&n) => {
                            self.visits.push((n, p.locals.clone()));
                        }
                        _ => {
                            return Err(LoweringError::Loop {
                                name: self.name.to_owned(),
                                message: format!(
                                    "the counter (local {counter}) at the loop head (pc {head}) \
                                     is not a constant in 1..={max}"
                                ),
                            });
                        }
                    }
                }
                _ => {}
            }
            if depth == 0 && self.stop == Some(pc) {
                return Ok(());
            }
            let Some(&Instr { op, imm }) = self.code.instrs.get(pc as usize) else {
                return Err(LoweringError::PcOutOfRange {
                    name: self.name.to_owned(),
                    pc,
                });
            };
            p.steps += 1;
            if p.steps > STEP_LIMIT {
                return Err(LoweringError::StepLimit {
                    name: self.name.to_owned(),
                    limit: STEP_LIMIT,
                });
            }
            let mut next = pc.wrapping_add(1);
            match op {
                Opcode::Halt => {
                    self.pop(p)?;
                    leaves.push(leaf(p, End::Halt(imm)));
                    return Ok(());
                }
                Opcode::Return => match p.returns.pop() {
                    None => {
                        // A lemma run that leaves the loop ends with the
                        // locals the invariant reads.
                        let end = match self.mode {
                            Mode::Lemma { .. } => End::Head(p.locals.clone()),
                            Mode::Main { .. } => End::Return(p.stack.clone()),
                        };
                        leaves.push(leaf(p, end));
                        return Ok(());
                    }
                    Some(ret) => next = ret,
                },
                Opcode::Call => {
                    let callee = self.code.callees.iter().find(|(e, _)| *e == imm);
                    if let Some(&(_, callee)) = callee {
                        // The callee's specification stands for its code.
                        let mut args = Vec::new();
                        for _ in 0..callee.arity() {
                            args.push(self.pop(p)?);
                        }
                        args.reverse();
                        let e = expected(t, callee, &args);
                        for (cond, code) in e.traps {
                            match self.split(t, oracle, p, cond, false)? {
                                Split::Dead => return Ok(()),
                                Split::Only(true) => {
                                    leaves.push(leaf(p, End::Halt(code)));
                                    return Ok(());
                                }
                                Split::Only(false) => {}
                                Split::Both(other) => {
                                    leaves.push(leaf(p, End::Halt(code)));
                                    *p = *other;
                                }
                            }
                        }
                        for v in e.value {
                            let v = t.subst_one(v, &p.rewrites);
                            p.stack.push(v);
                        }
                    } else {
                        if depth + 1 >= MAX_CALL_DEPTH {
                            return Err(LoweringError::CallDepth {
                                name: self.name.to_owned(),
                                limit: MAX_CALL_DEPTH,
                            });
                        }
                        p.returns.push(next);
                        next = imm;
                    }
                }
                Opcode::Br => next = imm,
                Opcode::BrIf => {
                    let v = self.pop(p)?;
                    let c = t.truthy(v);
                    let merged = match self.merge {
                        Some((head, back)) => {
                            depth == 0
                                && head <= pc
                                && pc < imm
                                && imm <= back
                                && t.truth(c).is_none()
                        }
                        None => false,
                    };
                    if merged {
                        self.merge(t, oracle, p, c, next, imm)?;
                        p.pc = imm;
                        continue;
                    }
                    match self.split(t, oracle, p, c, false)? {
                        Split::Dead => return Ok(()),
                        Split::Only(taken) => {
                            if taken {
                                next = imm;
                            }
                        }
                        Split::Both(mut other) => {
                            other.pc = next;
                            work.push(*other);
                            next = imm;
                        }
                    }
                }
                Opcode::Drop => {
                    self.pop(p)?;
                }
                Opcode::Select => {
                    let c = self.pop(p)?;
                    let v2 = self.pop(p)?;
                    let v1 = self.pop(p)?;
                    let c = t.truthy(c);
                    let c = t.subst_one(c, &p.rewrites);
                    let decided = t.subst_one(c, &p.known);
                    let symbolic = t.truth(decided).is_none();
                    if symbolic && p.select_splits > 0 && matches!(self.mode, Mode::Main { .. }) {
                        p.select_splits -= 1;
                        match self.split(t, oracle, p, c, true)? {
                            Split::Dead => return Ok(()),
                            Split::Only(b) => {
                                let v = t.subst_one(if b { v1 } else { v2 }, &p.rewrites);
                                p.stack.push(v);
                            }
                            Split::Both(mut other) => {
                                let w = t.subst_one(v2, &other.rewrites);
                                other.stack.push(w);
                                other.pc = next;
                                work.push(*other);
                                let v = t.subst_one(v1, &p.rewrites);
                                p.stack.push(v);
                            }
                        }
                    } else {
                        let v = t.ite(c, v1, v2);
                        p.stack.push(v);
                    }
                }
                Opcode::LocalGet => {
                    let key = (depth, imm);
                    let v = match p.locals.get(&key) {
                        Some(&v) => v,
                        None => {
                            let v = t.var(&format!("stale.d{depth}.l{imm}"));
                            p.locals.insert(key, v);
                            v
                        }
                    };
                    p.stack.push(v);
                }
                Opcode::LocalSet | Opcode::LocalTee => {
                    let v = self.pop(p)?;
                    p.locals.insert((depth, imm), v);
                    if op == Opcode::LocalTee {
                        p.stack.push(v);
                    }
                }
                Opcode::Const => {
                    let v = t.konst(imm);
                    p.stack.push(v);
                }
                Opcode::Eqz => {
                    let v = self.pop(p)?;
                    let c = t.truthy(v);
                    let z = t.not(c);
                    let z = t.subst_one(z, &p.rewrites);
                    let r = t.bool_to_bv(z);
                    p.stack.push(r);
                }
                Opcode::Add | Opcode::Sub => {
                    let b = self.pop(p)?;
                    let a = self.pop(p)?;
                    let v = if op == Opcode::Add {
                        t.add(a, b)
                    } else {
                        t.sub(a, b)
                    };
                    p.stack.push(v);
                }
                Opcode::Eq
                | Opcode::Ne
                | Opcode::LtS
                | Opcode::LtU
                | Opcode::GtS
                | Opcode::GtU
                | Opcode::LeS
                | Opcode::LeU
                | Opcode::GeS
                | Opcode::GeU => {
                    let b = self.pop(p)?;
                    let a = self.pop(p)?;
                    // `x > y` is `y < x`; `x <= y` is `¬(y < x)`; `x >= y`
                    // is `¬(x < y)`.
                    let (cmp, x, y, negate) = match op {
                        Opcode::Eq => (CmpOp::Eq, a, b, false),
                        Opcode::Ne => (CmpOp::Eq, a, b, true),
                        Opcode::LtS => (CmpOp::Slt, a, b, false),
                        Opcode::LtU => (CmpOp::Ult, a, b, false),
                        Opcode::GtS => (CmpOp::Slt, b, a, false),
                        Opcode::GtU => (CmpOp::Ult, b, a, false),
                        Opcode::LeS => (CmpOp::Slt, b, a, true),
                        Opcode::LeU => (CmpOp::Ult, b, a, true),
                        Opcode::GeS => (CmpOp::Slt, a, b, true),
                        _ => (CmpOp::Ult, a, b, true),
                    };
                    let c = t.cmp(cmp, x, y);
                    let c = if negate { t.not(c) } else { c };
                    let c = t.subst_one(c, &p.rewrites);
                    let v = t.bool_to_bv(c);
                    p.stack.push(v);
                }
                Opcode::GlobalGet
                | Opcode::GlobalSet
                | Opcode::Load
                | Opcode::Load8S
                | Opcode::Load8U
                | Opcode::Load16S
                | Opcode::Load16U
                | Opcode::Store
                | Opcode::Store8
                | Opcode::Store16
                | Opcode::Output => {
                    return Err(LoweringError::Unsupported {
                        name: self.name.to_owned(),
                        pc,
                        instr: Instr::new(op, imm).to_string(),
                    });
                }
            }
            p.pc = next;
        }
    }

    /// If-conversion of a forward branch inside the loop body: runs the
    /// fall-through side of `p` (from `next`) to the branch target, and
    /// leaves in `p` the state at the target with every value
    /// `ite(c, taken, fallen through)`. The branch is never decided (even
    /// when the path condition decides it), so the main run and a step
    /// lemma's run build the same terms from the same head state.
    fn merge(
        &mut self,
        t: &mut Terms,
        oracle: &mut Oracle,
        p: &mut Path,
        c: Id,
        next: u32,
        target: u32,
    ) -> Result<(), LoweringError> {
        let pc = p.pc;
        let mut fall = p.clone();
        fall.pc = next;
        let (mut work, mut leaves) = (Vec::new(), Vec::new());
        let saved = self.stop.replace(target);
        let run = self.run_path(t, oracle, &mut fall, &mut work, &mut leaves);
        self.stop = saved;
        run?;
        if fall.pc != target
            || !work.is_empty()
            || !leaves.is_empty()
            || fall.conds.len() != p.conds.len()
            || fall.returns != p.returns
            || fall.stack.len() != p.stack.len()
        {
            return Err(LoweringError::Loop {
                name: self.name.to_owned(),
                message: format!(
                    "the branch at pc {pc} does not rejoin its target {target} on one \
                     straight path"
                ),
            });
        }
        let stack: Vec<Id> = p
            .stack
            .iter()
            .zip(&fall.stack)
            .map(|(&x, &y)| t.ite(c, x, y))
            .collect();
        let keys: BTreeSet<(u32, u32)> =
            p.locals.keys().chain(fall.locals.keys()).copied().collect();
        let mut locals = Locals::new();
        for key in keys {
            let mut read = |l: &Locals| match l.get(&key) {
                Some(&v) => v,
                None => t.var(&format!("stale.d{}.l{}", key.0, key.1)),
            };
            let (x, y) = (read(&p.locals), read(&fall.locals));
            locals.insert(key, t.ite(c, x, y));
        }
        p.stack = stack;
        p.locals = locals;
        p.steps = p.steps.max(fall.steps);
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Proofs
// ---------------------------------------------------------------------------

/// A lemma: a formula over its own free variables, valid on its own, whose
/// instances the main claim assumes.
struct Lemma {
    /// Name suffix: `step17`, `skip03`, `base`.
    suffix: String,
    /// What it says, for the script's comment.
    what: String,
    formula: Id,
    /// What its obligation states.
    proof: LemmaProof,
}

/// What a lemma's obligation states.
enum LemmaProof {
    /// The formula itself.
    Formula,
    /// For the step lemmas of MUL, `MulWide` and 64-bit division: the
    /// multiplication- (division-) free part of the formula, which follows
    /// from it and the loop's integer lemmas ([`LoopKind::rings`]; see
    /// [`mul_step_facts`]).
    Via(Id),
    /// The formula's statement over the integers (QF_NIA), with SMT-LIB's
    /// definitions of the bit-vector operations as operations on the
    /// operands' unsigned values: a fact about multiplication or division
    /// that a bit-blasting solver cannot decide (see [`wide`]).
    Integer(&'static str),
}

/// The ring identity behind every MUL step lemma, over the integers with
/// SMT-LIB's own definitions of `bvmul`, `bvadd` and `bvshl` (the product,
/// sum and doubling of the operands' values, modulo 2³²): for `q = Y >> n`
/// (`n ≥ 1`, so `q < 2³¹`) and the bit `b` of `Y` below it,
/// `X·(2q + b) ≡ 2·(X·q mod 2³²) + b·X (mod 2³²)`. Bit-blasting solvers
/// cannot relate two 32-bit multipliers (cvc5 does not decide one MUL step
/// lemma in 300 s); stated over integers, cvc5 and z3 decide it at once.
pub const MUL_RING: &str = "(declare-const X Int)\n(declare-const q Int)\n(declare-const b Int)\n\
(assert (and (<= 0 X 4294967295) (<= 0 q 2147483647) (or (= b 0) (= b 1))))\n\
(assert (not (= (mod (* X (+ (* 2 q) b)) 4294967296) \
(mod (+ (* 2 (mod (* X q) 4294967296)) (* b X)) 4294967296))))\n";

/// What symbolic execution established, ready to be written as scripts.
struct Proof {
    terms: Terms,
    /// The main claim, hypotheses included.
    main: Id,
    /// A one-line description of the main claim.
    what: String,
    /// The lemmas the main claim assumes instances of.
    lemmas: Vec<Lemma>,
    /// The integer lemmas the [`LemmaProof::Via`] lemmas follow from.
    rings: Vec<IntegerLemma>,
}

impl Proof {
    fn main_obligation(&self, name: &str) -> Obligation {
        obligation_of(name, self.terms.script(&self.what, self.main))
    }

    /// The main obligation, then one per lemma (a split step lemma as its
    /// multiplication-free part), then the integer lemmas, if any lemma is
    /// split.
    fn split(&self, name: &str) -> Vec<Obligation> {
        let mut out = vec![self.main_obligation(name)];
        for l in &self.lemmas {
            let full = format!("{name}.{}", l.suffix);
            let what = format!("{full}: {}", l.what);
            out.push(match l.proof {
                LemmaProof::Formula => obligation_of(&full, self.terms.script(&what, l.formula)),
                LemmaProof::Via(via) => obligation_of(&full, self.terms.script(&what, via)),
                LemmaProof::Integer(script) => integer_obligation(&full, &what, script),
            });
        }
        if self
            .lemmas
            .iter()
            .any(|l| matches!(l.proof, LemmaProof::Via(_)))
        {
            for r in &self.rings {
                let full = format!("{name}.{}", r.suffix);
                let what = format!("{full}: {}", r.what);
                out.push(integer_obligation(&full, &what, r.script));
            }
        }
        out
    }

    /// One obligation: the main claim and every lemma, conjoined.
    fn combined(mut self, name: &str) -> Obligation {
        let mut parts: Vec<Id> = self.lemmas.iter().map(|l| l.formula).collect();
        if parts.is_empty() {
            return self.main_obligation(name);
        }
        parts.push(self.main);
        let claim = self.terms.all(&parts);
        let what = format!("{} (with its lemmas)", self.what);
        obligation_of(name, self.terms.script(&what, claim))
    }
}

/// A QF_NIA obligation: the comment `what`, then `script`.
fn integer_obligation(name: &str, what: &str, script: &str) -> Obligation {
    let mut text = String::new();
    for line in what.lines() {
        let _ = writeln!(text, "; {line}");
    }
    text.push_str(script);
    Obligation {
        kind: Kind::Lowering,
        name: name.to_owned(),
        layer: None,
        smt: Smt {
            logic: "QF_NIA",
            script: text,
        },
    }
}

fn obligation_of(name: &str, script: String) -> Obligation {
    Obligation {
        kind: Kind::Lowering,
        name: name.to_owned(),
        layer: None,
        smt: Smt {
            logic: "QF_BV",
            script,
        },
    }
}

/// How many symbolic `SELECT`s a path of this spec splits on (see the
/// module documentation): MUL's `min`/`max` (one condition), signed
/// division's `INT_MIN` test and the two operand signs.
fn select_splits(spec: Spec) -> u32 {
    match spec {
        Spec::Operator(Routine::Mul) => 1,
        Spec::Operator(Routine::DivS) => 3,
        Spec::Operator(Routine::RemS) => 2,
        _ => 0,
    }
}

/// Runs [`prove_here`] on a thread of its own: z3's context is per thread,
/// and the terms the reachability oracle leaves in it would slow down every
/// later solver run of the caller's thread.
fn prove(name: &str, code: &RoutineCode, spec: Spec) -> Result<Proof, LoweringError> {
    std::thread::scope(|s| {
        s.spawn(|| prove_here(name, code, spec))
            .join()
            .unwrap_or_else(|_| {
                Err(LoweringError::Spec {
                    name: name.to_owned(),
                    message: "the prover thread panicked".to_owned(),
                })
            })
    })
}

/// The operand words' variable names: `a`, `b` for i32 operands (and
/// `MulWide`'s words), `a.lo`, `a.hi`, `b.lo`, `b.hi` for i64 operands.
fn operand_names(op: Routine) -> Vec<&'static str> {
    match (op.is_wide() && op != Routine::MulWide, op.arity()) {
        (false, 1) => vec!["a"],
        (false, _) => vec!["a", "b"],
        (true, 2) => vec!["a.lo", "a.hi"],
        (true, _) => vec!["a.lo", "a.hi", "b.lo", "b.hi"],
    }
}

/// How the main claim treats products, quotients and remainders (see
/// [`prove_here`]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Abstraction {
    /// Those of the spec's value and traps keep their meaning; every other
    /// one becomes a free variable.
    KeepSpec,
    /// Every one becomes a free variable, the spec's too: the routine's
    /// lemmas (and, with `congruence`, "equal operands give equal results")
    /// relate them.
    All { congruence: bool },
}

impl Abstraction {
    fn of(op: Routine) -> Abstraction {
        match op {
            Routine::MulWide | Routine::Mul64 | Routine::DivU64 | Routine::RemU64 => {
                Abstraction::All { congruence: false }
            }
            Routine::DivS64 | Routine::RemS64 => Abstraction::All { congruence: true },
            _ => Abstraction::KeepSpec,
        }
    }
}

fn prove_here(name: &str, code: &RoutineCode, spec: Spec) -> Result<Proof, LoweringError> {
    let mut t = Terms::default();
    let mut oracle = Oracle::new();
    let op = spec.operator();
    let names = operand_names(op);
    let operands: Vec<Id> = names[..spec.arity() as usize]
        .iter()
        .map(|v| t.var(v))
        .collect();
    let args: Vec<Id> = match spec {
        Spec::Operator(_) => operands.clone(),
        Spec::ConstantOperand { constant, .. } => vec![operands[0], t.konst(constant)],
    };
    if let Spec::ConstantOperand { .. } = spec
        && (op.arity() != 2 || op.is_wide())
    {
        return Err(LoweringError::Spec {
            name: name.to_owned(),
            message: format!("{} has no constant operand", op.wasm_name()),
        });
    }

    // Step lemmas apply to a routine with a counted loop.
    let kind = match spec {
        Spec::Operator(r) => LoopKind::of(r),
        Spec::ConstantOperand { .. } => None,
    };
    let lp = kind.and_then(|_| loop_head(code));
    let mut machine = Machine {
        name,
        code,
        mode: Mode::Main {
            head: lp.map(|(head, _)| head),
            counter: kind.map_or(0, LoopKind::counter),
            max: kind.map_or(0, LoopKind::max_counter),
        },
        merge: match (kind, lp) {
            (Some(k), Some(body)) if k.merges() => Some(body),
            _ => None,
        },
        stop: None,
        visits: Vec::new(),
    };
    let start = Path {
        pc: 0,
        stack: operands.clone(),
        locals: BTreeMap::new(),
        returns: Vec::new(),
        conds: Vec::new(),
        known: HashMap::new(),
        rewrites: HashMap::new(),
        steps: 0,
        select_splits: select_splits(spec),
    };
    let leaves = machine.explore(&mut t, &mut oracle, start)?;
    let visits = std::mem::take(&mut machine.visits);

    // The lemmas for the counter values the run met, and their instances.
    let mut lemmas: Vec<Lemma> = Vec::new();
    let mut rings = Vec::new();
    let mut hypotheses = Vec::new();
    // The accumulators' values at the loop heads and at the returns.
    let mut accumulators: BTreeSet<Id> = BTreeSet::new();
    if let (Some(kind), Some(lp)) = (kind, lp) {
        let vars: Vec<Id> = kind.vars().iter().map(|v| t.var(v)).collect();
        let mut steps: BTreeMap<u32, (Id, Option<StepFacts>)> = BTreeMap::new();
        let entry = kind.entry_lemmas(&mut t, &vars);
        let mut entry_used = vec![false; entry.len()];
        let mut seen = BTreeSet::new();
        for (n, locals) in &visits {
            let (f, _) = match steps.get(n) {
                Some(&f) => f,
                None => {
                    let (f, via) = step_lemma(name, code, &mut t, kind, lp, *n, &vars)?;
                    steps.insert(*n, (f, via));
                    (f, via)
                }
            };
            let bound = kind.bind(&mut t, locals, &operands);
            for &i in kind.accumulators() {
                if let Some(&v) = bound.get(i)
                    && t.value(v).is_none()
                {
                    accumulators.insert(v);
                }
            }
            let map: HashMap<Id, Id> = vars.iter().copied().zip(bound).collect();
            let mut instances = vec![t.subst_one(f, &map)];
            // The entry lemmas carry the invariant from the counter's
            // start over the skipped leading zeros to this entry.
            if kind.at_entry(&t, locals) {
                for (i, l) in entry.iter().enumerate() {
                    if l.applies_at(*n) {
                        entry_used[i] = true;
                        instances.push(t.subst_one(l.lemma.formula, &map));
                    }
                }
            }
            for h in instances {
                if seen.insert(h) {
                    hypotheses.push(h);
                }
            }
        }
        // The loop bodies' lemmas: one if every counter's iteration does
        // the same (`body`), else one per distinct body (`bodyNN`).
        let mut bodies: Vec<(u32, Id)> = Vec::new();
        for (&n, (_, facts)) in steps.iter().rev() {
            if let Some(StepFacts {
                body: Some(body), ..
            }) = facts
                && !bodies.iter().any(|(_, b)| b == body)
            {
                bodies.push((n, *body));
            }
        }
        let body_name = |b: Id| match &bodies[..] {
            [_] => "body".to_owned(),
            _ => {
                let n = bodies.iter().find(|(_, x)| *x == b).map_or(0, |(n, _)| *n);
                format!("body{n:02}")
            }
        };
        for (n, (f, facts)) in steps.into_iter().rev() {
            let (proof, given) = match facts {
                None => (LemmaProof::Formula, String::new()),
                Some(StepFacts { via, body: None }) => (LemmaProof::Via(via), String::new()),
                Some(StepFacts {
                    via,
                    body: Some(body),
                }) => (
                    LemmaProof::Via(via),
                    format!(" (the loop body's part: {name}.{})", body_name(body)),
                ),
            };
            lemmas.push(Lemma {
                proof,
                suffix: format!("step{n:02}"),
                what: format!(
                    "one iteration of the loop from a head state with counter {n} that \
                     satisfies the invariant reaches a state that satisfies it for {}{given}",
                    n - 1
                ),
                formula: f,
            });
        }
        for &(_, body) in &bodies {
            lemmas.push(Lemma {
                proof: LemmaProof::Formula,
                suffix: body_name(body),
                what: "what one iteration of the loop body computes from any head state, \
                       over 64 bits"
                    .to_owned(),
                formula: body,
            });
        }
        for (l, used) in entry.into_iter().zip(entry_used) {
            if used {
                lemmas.push(l.lemma);
            }
        }
        rings = kind.rings();
    }
    // Lemmas about the operands themselves (their formula is its own
    // instance).
    if let Spec::Operator(r) = spec {
        for l in wide::operand_lemmas(&mut t, r, &operands) {
            hypotheses.push(l.formula);
            lemmas.push(l);
        }
    }

    // The claim.
    let e = expected(&mut t, op, &args);
    let any_trap: Vec<Id> = e.traps.iter().map(|&(c, _)| c).collect();
    let any_trap = t.any(&any_trap);
    let no_trap = t.not(any_trap);
    let mut pcs = Vec::new();
    let mut parts = Vec::new();
    for leaf in &leaves {
        if let (Some(_), End::Return(stack)) = (kind, &leaf.end) {
            accumulators.extend(stack.iter().filter(|&&v| t.value(v).is_none()));
        }
        let pc = t.all(&leaf.conds);
        let ok = match &leaf.end {
            End::Return(stack) if stack.len() == e.value.len() => {
                let mut all = vec![no_trap];
                for (&s, &v) in stack.iter().zip(&e.value) {
                    all.push(t.eq(s, v));
                }
                t.all(&all)
            }
            End::Halt(code) => {
                let conds: Vec<Id> = e
                    .traps
                    .iter()
                    .filter(|(_, c)| c == code)
                    .map(|&(cond, _)| cond)
                    .collect();
                t.any(&conds)
            }
            End::Return(_) | End::Head(_) => t.boolean(false),
        };
        pcs.push(pc);
        parts.push(t.implies(pc, ok));
    }
    let cover = t.any(&pcs);
    parts.insert(0, cover);
    let body = t.all(&parts);
    if op.is_wide() {
        let (chain_lemmas, instances) = wide::mod_chains(&mut t, body);
        lemmas.extend(chain_lemmas);
        hypotheses.extend(instances);
    }
    let hyps = t.all(&hypotheses);
    let main = t.implies(hyps, body);

    // Generalize: every product, quotient and remainder of the invariants
    // other than the spec's own (every one, for `Abstraction::All`) becomes
    // a free variable `hK`, and every value of the loop's accumulators at a
    // loop head or a return a free variable `vK`. The claim is proven for
    // all values of these variables, so in particular for the terms they
    // stand for, which turns the assumed hypotheses back into lemma
    // instances. What is left for the solver is the path conditions and a
    // chain of implications between the instances (each one's conclusion is
    // the next one's premise, term for term): no arithmetic of the loop at
    // all.
    let abstraction = Abstraction::of(op);
    let keep: BTreeSet<Id> = match abstraction {
        Abstraction::KeepSpec => {
            let mut roots = e.value.clone();
            roots.extend(e.traps.iter().map(|&(c, _)| c));
            t.reachable(&roots).into_iter().collect()
        }
        Abstraction::All { .. } => BTreeSet::new(),
    };
    let abstracted: Vec<Id> = t
        .reachable(&[main])
        .into_iter()
        .filter(|id| {
            matches!(
                t.node(*id),
                Node::Bin(BvOp::Mul | BvOp::Udiv | BvOp::Urem, ..)
            ) && !keep.contains(id)
        })
        .collect();
    let mut legend = String::new();
    let mut map = HashMap::new();
    for (k, &id) in abstracted.iter().enumerate() {
        let name = format!("h{k}");
        let v = if t.width(id) == 64 {
            t.var64(&name)
        } else {
            t.var(&name)
        };
        let _ = write!(legend, "\nh{k} stands for {}", t.sexp(id));
        map.insert(id, v);
    }
    for (k, &id) in accumulators.iter().enumerate() {
        let v = t.var(&format!("v{k}"));
        map.insert(id, v);
    }
    let mut main = t.subst_one(main, &map);
    let mut congruences = 0;
    if abstraction == (Abstraction::All { congruence: true }) {
        // Ackermann's reduction: a product (quotient, remainder) of equal
        // operands is equal.
        let mut same = Vec::new();
        for (i, &x) in abstracted.iter().enumerate() {
            for &y in &abstracted[i + 1..] {
                if let (&Node::Bin(op1, x1, x2), &Node::Bin(op2, y1, y2)) = (t.node(x), t.node(y))
                    && op1 == op2
                    && t.width(x) == t.width(y)
                {
                    let args = t.subst(&[x1, x2, y1, y2], &map);
                    let e1 = t.eq(args[0], args[2]);
                    let e2 = t.eq(args[1], args[3]);
                    let equal_args = t.all(&[e1, e2]);
                    let equal = t.eq(map[&x], map[&y]);
                    same.push(t.implies(equal_args, equal));
                }
            }
        }
        congruences = same.len();
        let same = t.all(&same);
        main = t.implies(same, main);
    }

    let arity = spec.arity() as usize;
    let what = match spec {
        Spec::Operator(r) if r.is_wide() => format!(
            "{name}: the code equals {} for all operand words {} ({} paths, {} lemma instances \
             assumed)",
            r.wasm_name(),
            names[..arity].join(", "),
            leaves.len(),
            hypotheses.len()
        ),
        Spec::Operator(r) => format!(
            "{name}: the code equals {} for all operands a{} ({} paths, {} step-lemma instances assumed)",
            r.wasm_name(),
            if r.arity() == 2 { ", b" } else { "" },
            leaves.len(),
            hypotheses.len()
        ),
        Spec::ConstantOperand { op, constant } => format!(
            "{name}: the code equals {} with second operand {constant} for every first operand a ({} paths)",
            op.wasm_name(),
            leaves.len()
        ),
    };
    let what = if legend.is_empty() {
        what
    } else {
        let vs = if accumulators.is_empty() {
            String::new()
        } else {
            format!(
                " and v0..v{} (v: the loop's accumulators at its heads and returns)",
                accumulators.len() - 1
            )
        };
        format!(
            "{what}\nproven for all values of h0..h{}{vs}{}; with the values they stand for, the \
             hypotheses are instances of the lemmas:{legend}",
            abstracted.len().saturating_sub(1),
            if congruences > 0 {
                format!(
                    ", assuming {congruences} congruences (equal operands give equal products, \
                     quotients, remainders), which hold for these values"
                )
            } else {
                String::new()
            }
        )
    };
    Ok(Proof {
        terms: t,
        main,
        what,
        lemmas,
        rings,
    })
}

/// The step lemma for counter `n`: one iteration of the loop body, executed
/// from the head state over the lemma variables `vars`; for MUL also its
/// multiplication-free part ([`mul_step_facts`]).
fn step_lemma(
    name: &str,
    code: &RoutineCode,
    t: &mut Terms,
    kind: LoopKind,
    (head, back): (u32, u32),
    n: u32,
    vars: &[Id],
) -> Result<(Id, Option<StepFacts>), LoweringError> {
    let locals = kind.head(t, n, vars);
    let mut machine = Machine {
        name,
        code,
        mode: Mode::Lemma { head },
        merge: kind.merges().then_some((head, back)),
        stop: None,
        visits: Vec::new(),
    };
    let start = Path {
        pc: head,
        stack: Vec::new(),
        locals: locals.clone(),
        returns: Vec::new(),
        conds: Vec::new(),
        known: HashMap::new(),
        rewrites: HashMap::new(),
        steps: 0,
        select_splits: 0,
    };
    let mut oracle = Oracle::new();
    let leaves = machine.explore(t, &mut oracle, start)?;
    let [leaf] = &leaves[..] else {
        return Err(LoweringError::Loop {
            name: name.to_owned(),
            message: format!("one iteration from the head ends {} ways", leaves.len()),
        });
    };
    let after = match &leaf.end {
        End::Head(l) => l.clone(),
        End::Return(_) => {
            return Err(LoweringError::Loop {
                name: name.to_owned(),
                message: "one iteration from the head returns without its locals".to_owned(),
            });
        }
        End::Halt(code) => {
            return Err(LoweringError::Loop {
                name: name.to_owned(),
                message: format!("one iteration from the head halts (code {code})"),
            });
        }
    };
    let via = kind.step_facts(t, n, &after, vars);
    let before = kind.invariant(t, n, &locals, vars);
    let after = kind.invariant(t, n - 1, &after, vars);
    Ok((t.implies(before, after), via))
}

/// What one MUL iteration from counter `n` does, without a multiplication:
/// with the head state `X`, `Y`, `r` (`vars`) and `b` bit `n − 1` of `Y`,
/// the next head has `X` and `Y` unchanged and `r' = (r << 1) + (b ? X : 0)`,
/// and `Y >> (n − 1) = ((Y >> n) << 1) + b`. With `Inv_n: r = X·(Y >> n)`
/// these give `Inv_(n−1): r' = X·(Y >> (n − 1))` by [`MUL_RING`] (for
/// `q = Y >> n`): the step lemma.
fn mul_step_facts(t: &mut Terms, n: u32, after: &Locals, vars: &[Id]) -> Id {
    let (x, y, r) = (vars[0], vars[1], vars[2]);
    let zero = t.konst(0);
    let one = t.konst(1);
    let local = |i: u32| after.get(&(0, i)).copied().unwrap_or(zero);
    let bit = t.bit(n - 1, y);
    let addend = t.ite(bit, x, zero);
    let doubled = t.bin(BvOp::Shl, r, one);
    let r_next = t.add(doubled, addend);
    let b = t.ite(bit, one, zero);
    let k = t.konst(n);
    let q = t.bin(BvOp::Lshr, y, k);
    let q2 = t.bin(BvOp::Shl, q, one);
    let q_next = t.add(q2, b);
    let k1 = t.konst(n - 1);
    let y_next = t.bin(BvOp::Lshr, y, k1);
    let facts = [
        t.eq(local(0), x),
        t.eq(local(4), y),
        t.eq(local(2), r_next),
        t.eq(y_next, q_next),
    ];
    t.all(&facts)
}
