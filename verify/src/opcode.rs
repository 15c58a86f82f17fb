//! Opcode proofs: the machine graph's computation of each opcode's value
//! bytes equals the opcode's semantics, for all operands.
//!
//! # The claim
//!
//! For one opcode `o`, at every position of one of its steps — the op token
//! (`k = 0`) and the value-byte tokens after it (`k = 1 ..= width`) — with
//! the step's flags `is(o) = 1` and `is(o') = 0` for every other opcode:
//!
//! 1. `emit_byte` is 1 exactly while `k` is below the number of value bytes
//!    the reference machine writes for the step (which for BR_IF, HALT and
//!    the loads and stores depends on the operand, the immediate and the
//!    memory size), and `width` is that number;
//! 2. each emitted `byte` is the spec's byte `k` of the 32-bit value (WebAssembly's
//!    semantics for the ALU operators, the reference machine's value for
//!    data movement), and `carry` is the carry (ADD) or borrow (SUB) out of
//!    that byte — 0 for every other opcode;
//! 3. `end` is 1 exactly at the step's last position when the step stops
//!    the trace (HALT, an out-of-bounds load or store).
//!
//! The token at `k ≥ 1` is the value byte `k − 1`, a [`Token::Carry`]
//! exactly when the spec says that byte carried or borrowed: that is the
//! value the graph's `carry` feature reads.
//!
//! # Ports
//!
//! The [`Ports`] of the graph are its free inputs: every operand, local,
//! global, loaded, immediate, return-address and memory-size byte is one
//! free 8-bit variable for the whole step (readable names: `b0..b3` the top
//! of the stack, `a0..a3` the value below it, `t0..t3` the one below that,
//! `l`, `g`, `m`, `i`, `r`, `s` for local, global, loaded, immediate, return
//! address and memory size; `n` the byte tokens before the step), whether
//! or not the opcode reads it — so the proof also shows that the sources of
//! other opcodes do not leak into this one's bytes. The per-opcode features
//! of the step (`is(o)`, the fixed width, …) are constants read from the
//! graph's own token tables at the op token, after checking that each is a
//! lookup of token features at the latest op token.
//!
//! Everything else the outputs read is evaluated symbolically from the
//! graph's nodes (`Input`, `ReGLU`, `Persist`); a `LookUp` or `CumSum` that
//! is not a port is an [`OpcodeError`], so the graph passed in is the one
//! proven: a mutated neuron makes the proof fail.
//!
//! # The script
//!
//! Declarations (`(declare-const b0 (_ BitVec 8))`, …, `n`), then the spec
//! over them: the 32-bit words `A` (second), `B` (top), `T`, `L`, `G`, `M`,
//! `I`, `S`; `R`, the value whose bytes the step writes; `count`, how many
//! it writes (8-bit); `stops`; `cy0..cy3`, the carry or borrow out of each
//! byte (false but for ADD and SUB); `oob` for loads and stores. Then the
//! DSL's values `v…` at the positions, each position's claim `claim.kK`,
//! and the assertion of their negation.
//!
//! # Encoding (QF_BV, exact)
//!
//! DSL values are integers (integer inputs, integer coefficients — checked,
//! [`OpcodeError::NonInteger`] otherwise), kept as affine forms over atoms
//! (the free variables and one named term per neuron), so linear algebra
//! is exact and cancels before any solver sees it (`k = (n + k) − n` is a
//! constant). Interval analysis, exact over the inputs' ranges and
//! tightened by splitting on the signs of a form's `relu` terms, bounds
//! every value; the script's bit-vectors are `W` bits wide, `W` the
//! two's-complement width of the widest value the claims read (at least
//! 9, so bytes compare; at most [`MAX_WIDTH`], else
//! [`OpcodeError::Range`]). This is exact: addition, negation and
//! multiplication modulo 2^W are a ring homomorphism from ℤ, so sums and
//! products are right modulo 2^W whatever their intermediate size; the one
//! non-ring operation, the sign test of `relu(b)·a = (ite (bvsgt b 0) (bvmul
//! b a) 0)`, and the final equalities are exact because every value lies in
//! `[−2^(W−1), 2^(W−1))`. Products are computed in the fewest bits their
//! factors and result need, then sign-extended (exact for the same
//! reason), which keeps the solver's multipliers small.
//!
//! Constants fold: a neuron whose gate is a non-positive constant (another
//! opcode's byte, another `k`) is 0 and one whose gate is never negative is
//! its gate times its value, exactly; only the terms the claims read are
//! written out.
//!
//! Solvers bit-blast, and are poor at algebra over bits (relating
//! `relu(x) − relu(x − 1)` to `[x ≥ 1]`, or `B + I − S + 4 > 0` to `B + I +
//! 4 > S`, over 37-bit sums took cvc5 tens of seconds), so each form is
//! *written* in an equal shape that needs none: the DSL's step functions
//! `c·relu(g) − c·relu(g − 1)` as `c·[g ≥ 1]`; a multiple of a form
//! already named as that name (`x − 1` as `v35 − 1`); a word's bytes
//! `Σ 256^j·b_j` as the spec's own word `B`; and the spec's out-of-bounds
//! test as the sign of the integer `base + I + width − S`, the shape the
//! DSL computes. With these every obligation of the machine graph takes
//! z3 and cvc5 well under a second.

use std::collections::HashMap;
use std::fmt::Write as _;

use num_bigint::BigInt;
use num_traits::{One, Signed, Zero};
use thiserror::Error;
use tvm_dsl::expr::{Dim, Expr};
use tvm_dsl::graph::{Graph, Input, Node, Tie};
use tvm_dsl::isa::Opcode;
use tvm_dsl::machine::Ports;
use tvm_dsl::token::Token;

use crate::obligation::{Kind, Obligation, Smt};

/// The logic of every opcode obligation.
pub const LOGIC: &str = "QF_BV";

/// The widest bit-vectors a script may use to encode DSL values (see the
/// module docs); the machine graph needs 40 (signed comparisons).
pub const MAX_WIDTH: u64 = 128;

/// Bits of `n`, the byte tokens before the step: positions stay below
/// [`tvm_dsl::isa::MAX_POSITION`] = 2²².
const POSITION_BITS: u32 = 22;

/// Why an opcode's obligation could not be built.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum OpcodeError {
    /// A port is not one dimension of the graph (`1·d`), or two ports are
    /// the same dimension.
    #[error("port `{port}` is not a dimension of the graph of its own: {reason}")]
    Port {
        /// Which port.
        port: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The outputs read a node the proof cannot give a value: a lookup or
    /// running sum that is not a port, or the position.
    #[error("{opcode}: the outputs read {at}, a {kind} that is not a port")]
    NotAPort {
        /// The opcode being proven.
        opcode: Opcode,
        /// The dimension (`d12 (name)`).
        at: String,
        /// Its primitive.
        kind: &'static str,
    },
    /// A step-feature port (`is(o)`, the fixed width, …) is not a lookup of
    /// token features at the latest op token.
    #[error(
        "{opcode}: step-feature port {at} is not a lookup of token features at the latest op token ({reason})"
    )]
    NotAStepFeature {
        /// The opcode being proven.
        opcode: Opcode,
        /// The dimension.
        at: String,
        /// What does not fit.
        reason: String,
    },
    /// A token feature read at a value-byte token depends on the byte's
    /// value, which the proof does not model.
    #[error("{opcode}: token feature `{feature}` depends on the value of a byte token")]
    ByteFeature {
        /// The opcode being proven.
        opcode: Opcode,
        /// The feature's name.
        feature: String,
    },
    /// A feature index or table entry the graph does not have.
    #[error(
        "{opcode}: {at} reads token feature {index}, which the graph does not define for every token"
    )]
    MissingFeature {
        /// The opcode being proven.
        opcode: Opcode,
        /// Where.
        at: String,
        /// The feature index.
        index: u32,
    },
    /// A coefficient that is not an integer.
    #[error("{opcode}: {at} has the non-integer coefficient {coefficient}")]
    NonInteger {
        /// The opcode being proven.
        opcode: Opcode,
        /// Where.
        at: String,
        /// The coefficient.
        coefficient: String,
    },
    /// A value whose range needs more than [`MAX_WIDTH`] bits.
    #[error("{opcode}: {at} ranges over [{lo}, {hi}], beyond {MAX_WIDTH}-bit bit-vectors")]
    Range {
        /// The opcode being proven.
        opcode: Opcode,
        /// Where.
        at: String,
        /// Lower bound.
        lo: String,
        /// Upper bound.
        hi: String,
    },
    /// A node reads a dimension at or after itself (the graph is not in
    /// topological order).
    #[error("{opcode}: {at} reads {read}, which is not computed before it")]
    Order {
        /// The opcode being proven.
        opcode: Opcode,
        /// The reading dimension.
        at: String,
        /// The dimension read.
        read: String,
    },
}

/// The obligations of every opcode, in [`Opcode::ALL`] order.
pub fn all_obligations(graph: &Graph, ports: &Ports) -> Result<Vec<Obligation>, OpcodeError> {
    Opcode::ALL
        .iter()
        .map(|&op| obligation(graph, ports, op))
        .collect()
}

/// The claim that `graph`'s value bytes for `op` are `op`'s semantics (see
/// the module docs), as one QF_BV script asserting its negation.
pub fn obligation(graph: &Graph, ports: &Ports, op: Opcode) -> Result<Obligation, OpcodeError> {
    let roles = roles(graph, ports)?;
    let outputs = [
        &ports.emit_byte,
        &ports.width,
        &ports.byte,
        &ports.carry_out,
        &ports.end,
    ];
    let needed = cone(graph, &roles, &outputs, op)?;
    let spec = Spec::of(op);
    let mut script = Script::default();
    script.header(op, &spec, ports);
    let tables = FeatureTables::new(graph, op, &needed, &roles)?;
    for k in 0..=op.value_width() {
        let carry_in = script.carry_in(op, k);
        let walk = Walk {
            graph,
            roles: &roles,
            tables: &tables,
            op,
            k,
            carry_in,
        };
        let mut vals: Vec<Option<Val>> = vec![None; graph.dims().len()];
        for &d in &needed {
            let v = walk.node(&mut script, d, &vals)?;
            vals[d.index()] = Some(v);
        }
        let out = |script: &mut Script, e: &Expr, name: &str| {
            walk.expr(script, e, &vals, &format!("output `{name}`"))
        };
        let emit = out(&mut script, &ports.emit_byte, "emit_byte")?;
        let width = out(&mut script, &ports.width, "width")?;
        // A value has 4 bytes: past them, only the counts are claimed.
        let (byte, carry) = if k < 4 {
            (
                Some(out(&mut script, &ports.byte, "byte")?),
                Some(out(&mut script, &ports.carry_out, "carry")?),
            )
        } else {
            (None, None)
        };
        let end = out(&mut script, &ports.end, "end")?;
        script.claim(
            k,
            Outputs {
                emit,
                width,
                byte,
                carry,
                end,
            },
        );
    }
    Ok(Obligation {
        kind: Kind::Opcode,
        name: op.name().to_owned(),
        layer: None,
        smt: Smt {
            logic: LOGIC,
            script: script.finish(),
        },
    })
}

/// A bit-vector literal's value: `#x…`, `#b…` or `(_ bvN W)`, as solvers
/// print a model's constants (`None` for anything else or above 64 bits).
pub fn bit_vector_value(text: &str) -> Option<u64> {
    let text = text.trim();
    if let Some(hex) = text.strip_prefix("#x") {
        return u64::from_str_radix(hex, 16).ok();
    }
    if let Some(bin) = text.strip_prefix("#b") {
        return u64::from_str_radix(bin, 2).ok();
    }
    let inner = text.strip_prefix("(_ bv")?.strip_suffix(')')?;
    inner.split_whitespace().next()?.parse().ok()
}

// ---------------------------------------------------------------------------
// Ports.

/// What a port dimension stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Role {
    /// A free byte variable, by name.
    Free(String),
    /// The byte tokens so far: `n + k`.
    Bytes,
    /// The byte tokens at the step's op token: `n`.
    BytesAtOp,
    /// 1 at every step position.
    Run,
    /// A per-opcode constant read at the op token.
    StepFeature,
    /// The token's carry flag.
    Carry,
}

/// The free byte variables: (port name, variable prefix, the port's bytes).
fn free_bytes(ports: &Ports) -> [(&'static str, &'static str, &[Expr]); 9] {
    [
        ("top", "b", &ports.top),
        ("second", "a", &ports.second),
        ("third", "t", &ports.third),
        ("local", "l", &ports.local),
        ("global", "g", &ports.global),
        ("loaded", "m", &ports.loaded),
        ("return_address", "r", &ports.return_address),
        ("immediate", "i", &ports.immediate),
        ("memory_size", "s", &ports.memory_size),
    ]
}

/// The role of each dimension that is a port (`None` elsewhere).
fn roles(graph: &Graph, ports: &Ports) -> Result<Vec<Option<Role>>, OpcodeError> {
    let mut roles: Vec<Option<Role>> = vec![None; graph.dims().len()];
    let mut assign = |port: String, e: &Expr, role: Role| -> Result<(), OpcodeError> {
        let bad = |reason: &str| OpcodeError::Port {
            port: port.clone(),
            reason: reason.to_owned(),
        };
        let d = match e.terms() {
            [(d, c)] if c.is_one() && e.constant_term().is_zero() => *d,
            _ => return Err(bad(&format!("it is `{e}`"))),
        };
        let slot = roles
            .get_mut(d.index())
            .ok_or_else(|| bad(&format!("d{} is not in the graph", d.0)))?;
        if slot.is_some() {
            return Err(bad(&format!("d{} is already another port", d.0)));
        }
        *slot = Some(role);
        Ok(())
    };
    for (name, var, bytes) in free_bytes(ports) {
        for (j, e) in bytes.iter().enumerate() {
            assign(format!("{name}[{j}]"), e, Role::Free(format!("{var}{j}")))?;
        }
    }
    assign("bytes".into(), &ports.bytes, Role::Bytes)?;
    assign("bytes_at_op".into(), &ports.bytes_at_op, Role::BytesAtOp)?;
    assign("run".into(), &ports.run, Role::Run)?;
    assign("carry".into(), &ports.carry, Role::Carry)?;
    if ports.cur_is.len() != Opcode::ALL.len() {
        return Err(OpcodeError::Port {
            port: "cur_is".into(),
            reason: format!(
                "{} flags for {} opcodes",
                ports.cur_is.len(),
                Opcode::ALL.len()
            ),
        });
    }
    for (o, e) in Opcode::ALL.iter().zip(&ports.cur_is) {
        assign(format!("cur_is[{o}]"), e, Role::StepFeature)?;
    }
    for (j, e) in ports.step_features.iter().enumerate() {
        assign(format!("step_features[{j}]"), e, Role::StepFeature)?;
    }
    Ok(roles)
}

/// `d12 (name)`: how errors name a dimension.
fn site(graph: &Graph, d: Dim) -> String {
    if d.index() < graph.dims().len() {
        format!("d{} ({})", d.0, graph.label(d))
    } else {
        format!("d{}", d.0)
    }
}

/// The dimensions the outputs read, stopping at ports, in index order.
fn cone(
    graph: &Graph,
    roles: &[Option<Role>],
    outputs: &[&Expr],
    op: Opcode,
) -> Result<Vec<Dim>, OpcodeError> {
    let n = graph.dims().len();
    let mut needed = vec![false; n];
    for e in outputs {
        for d in e.dims() {
            let slot = needed
                .get_mut(d.index())
                .ok_or_else(|| OpcodeError::Order {
                    opcode: op,
                    at: "an output".into(),
                    read: site(graph, d),
                })?;
            *slot = true;
        }
    }
    for i in (0..n).rev() {
        if !needed[i] || roles[i].is_some() {
            continue;
        }
        for e in graph.dims()[i].node.operands() {
            for d in e.dims() {
                if d.index() >= i {
                    return Err(OpcodeError::Order {
                        opcode: op,
                        at: site(graph, Dim(i as u32)),
                        read: site(graph, d),
                    });
                }
                needed[d.index()] = true;
            }
        }
    }
    Ok((0..n)
        .filter(|&i| needed[i])
        .map(|i| Dim(i as u32))
        .collect())
}

// ---------------------------------------------------------------------------
// Token features.

/// What the graph's token tables say at one opcode's step, for the
/// dimensions the outputs read (by dimension index).
struct FeatureTables<'g> {
    graph: &'g Graph,
    /// A step-feature port's value.
    step: Vec<Option<BigInt>>,
    /// A token feature's values on plain and on carry byte tokens, or why
    /// it has none (an error only if a byte position reads it).
    bytes: Vec<Option<Result<(i64, i64), OpcodeError>>>,
}

impl FeatureTables<'_> {
    /// The tables for `op`'s step at the dimensions `needed`.
    fn new<'g>(
        graph: &'g Graph,
        op: Opcode,
        needed: &[Dim],
        roles: &[Option<Role>],
    ) -> Result<FeatureTables<'g>, OpcodeError> {
        let n = graph.dims().len();
        let mut tables = FeatureTables {
            graph,
            step: vec![None; n],
            bytes: vec![None; n],
        };
        for &d in needed {
            let role = roles.get(d.index()).and_then(Option::as_ref);
            if role == Some(&Role::StepFeature) {
                tables.step[d.index()] = Some(tables.step_feature(op, d)?);
            } else if role.is_none()
                && let Some(Node::Input(Input::Feature(i))) =
                    graph.dims().get(d.index()).map(|x| &x.node)
            {
                let at = site(graph, d);
                tables.bytes[d.index()] = Some(tables.on_bytes(op, &at, *i));
            }
        }
        Ok(tables)
    }

    /// Feature `index` at token id `id`.
    fn at(&self, op: Opcode, at: &str, index: u32, id: u16) -> Result<i64, OpcodeError> {
        self.graph
            .features()
            .get(index as usize)
            .and_then(|f| f.values.get(usize::from(id)))
            .copied()
            .ok_or_else(|| OpcodeError::MissingFeature {
                opcode: op,
                at: at.to_owned(),
                index,
            })
    }

    /// Feature `index` on byte tokens: its value on plain bytes and on
    /// carry bytes, which must not depend on the byte.
    fn on_bytes(&self, op: Opcode, at: &str, index: u32) -> Result<(i64, i64), OpcodeError> {
        let class = |make: fn(u8) -> Token| -> Result<i64, OpcodeError> {
            let first = self.at(op, at, index, make(0).id())?;
            for b in 1..=u8::MAX {
                if self.at(op, at, index, make(b).id())? != first {
                    return Err(OpcodeError::ByteFeature {
                        opcode: op,
                        feature: self
                            .graph
                            .features()
                            .get(index as usize)
                            .map_or_else(|| index.to_string(), |f| f.name.clone()),
                    });
                }
            }
            Ok(first)
        };
        Ok((class(Token::Byte)?, class(Token::Carry)?))
    }

    /// An expression over `one` and token features, at token id `id`.
    fn expr_at(&self, op: Opcode, at: &str, e: &Expr, id: u16) -> Result<BigInt, String> {
        let mut acc = integer(e.constant_term()).ok_or("a non-integer constant")?;
        for (d, c) in e.terms() {
            let c = integer(c).ok_or("a non-integer coefficient")?;
            let x = match self.graph.dims().get(d.index()).map(|x| &x.node) {
                Some(Node::Input(Input::One)) => 1,
                Some(Node::Input(Input::Feature(i))) => {
                    self.at(op, at, *i, id).map_err(|e| e.to_string())?
                }
                _ => {
                    return Err(format!(
                        "it reads {}, not a token feature",
                        site(self.graph, *d)
                    ));
                }
            };
            acc += c * x;
        }
        Ok(acc)
    }

    /// The value of a step-feature port for opcode `op`: the port must be
    /// `LookUp { query = key = constant, active, value, Latest }` with
    /// `active` 1 on `op`'s token and 0 on every byte token (so at every
    /// position of the step the latest active position is its op token),
    /// and `value` over token features.
    fn step_feature(&self, op: Opcode, d: Dim) -> Result<BigInt, OpcodeError> {
        let at = site(self.graph, d);
        let bad = |reason: String| OpcodeError::NotAStepFeature {
            opcode: op,
            at: at.clone(),
            reason,
        };
        let Some(Node::LookUp(l)) = self.graph.dims().get(d.index()).map(|x| &x.node) else {
            return Err(bad("not a lookup".into()));
        };
        if l.tie != Tie::Latest {
            return Err(bad("the earliest match wins".into()));
        }
        if !(l.query.is_constant() && l.key.is_constant() && l.query == l.key) {
            return Err(bad("its query and key are not one constant".into()));
        }
        let op_id = Token::Op(op).id();
        if self.expr_at(op, &at, &l.active, op_id).map_err(&bad)? != BigInt::one() {
            return Err(bad(format!("`active` is not 1 on the {op} token")));
        }
        for b in 0..=u8::MAX {
            for t in [Token::Byte(b), Token::Carry(b)] {
                if !self
                    .expr_at(op, &at, &l.active, t.id())
                    .map_err(&bad)?
                    .is_zero()
                {
                    return Err(bad(format!("`active` is not 0 on the byte token {t}")));
                }
            }
        }
        self.expr_at(op, &at, &l.value, op_id).map_err(bad)
    }
}

/// The integer a rational is, if it is one.
fn integer(r: &tvm_dsl::expr::Rational) -> Option<BigInt> {
    r.is_integer().then(|| r.to_integer())
}

// ---------------------------------------------------------------------------
// Values.

/// A DSL value at one position, as an affine form `c₀ + Σ cᵢ·atomᵢ` over
/// the script's atoms (free variables and named nonlinear terms), so that
/// linear arithmetic is exact and cancels (`k = (n + k) − n` is the
/// constant `k`); only neurons make new atoms. Terms are sorted by atom id,
/// without zero coefficients.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Val {
    constant: BigInt,
    terms: Vec<(usize, BigInt)>,
}

impl Val {
    fn constant(c: BigInt) -> Val {
        Val {
            constant: c,
            terms: Vec::new(),
        }
    }

    fn int(v: i64) -> Val {
        Val::constant(BigInt::from(v))
    }

    fn atom(id: usize) -> Val {
        Val {
            constant: BigInt::zero(),
            terms: vec![(id, BigInt::one())],
        }
    }

    /// The constant it is, if it has no atom.
    fn as_constant(&self) -> Option<&BigInt> {
        self.terms.is_empty().then_some(&self.constant)
    }

    /// The atom it is, if it is exactly one (`1·atom + 0`).
    fn as_atom(&self) -> Option<usize> {
        match self.terms.as_slice() {
            [(id, c)] if c.is_one() && self.constant.is_zero() => Some(*id),
            _ => None,
        }
    }

    /// The integer `s ≠ 0` such that `self` contains `s·u`'s terms exactly
    /// (every atom of `u` with `s` times its coefficient), if any.
    fn multiple_of(&self, u: &Val) -> Option<BigInt> {
        let (first, c) = u.terms.first()?;
        let x = self.coefficient(*first)?;
        if !(&x % c).is_zero() {
            return None;
        }
        let s = x / c;
        u.terms
            .iter()
            .all(|(id, c)| self.coefficient(*id) == Some(&s * c))
            .then_some(s)
    }

    /// The coefficient of atom `id`, if present.
    fn coefficient(&self, id: usize) -> Option<BigInt> {
        self.terms
            .binary_search_by_key(&id, |(x, _)| *x)
            .ok()
            .map(|i| self.terms[i].1.clone())
    }

    /// `c · self`.
    fn scale(&self, c: &BigInt) -> Val {
        if c.is_zero() {
            return Val::int(0);
        }
        Val {
            constant: &self.constant * c,
            terms: self.terms.iter().map(|(id, x)| (*id, x * c)).collect(),
        }
    }

    /// `self + other`.
    fn add(&self, other: &Val) -> Val {
        let mut terms: Vec<(usize, BigInt)> =
            Vec::with_capacity(self.terms.len() + other.terms.len());
        let (mut i, mut j) = (0, 0);
        while i < self.terms.len() || j < other.terms.len() {
            match (self.terms.get(i), other.terms.get(j)) {
                (Some((a, x)), Some((b, y))) if a == b => {
                    let s = x + y;
                    if !s.is_zero() {
                        terms.push((*a, s));
                    }
                    i += 1;
                    j += 1;
                }
                (Some((a, x)), Some((b, _))) if a < b => {
                    terms.push((*a, x.clone()));
                    i += 1;
                }
                (Some(_), Some((b, y))) | (None, Some((b, y))) => {
                    terms.push((*b, y.clone()));
                    j += 1;
                }
                (Some((a, x)), None) => {
                    terms.push((*a, x.clone()));
                    i += 1;
                }
                (None, None) => break,
            }
        }
        Val {
            constant: &self.constant + &other.constant,
            terms,
        }
    }
}

/// A `w`-bit literal: `v` modulo 2^w.
fn literal(v: &BigInt, w: u64) -> String {
    let modulus = BigInt::one() << w;
    let r = ((v % &modulus) + &modulus) % &modulus;
    format!("(_ bv{r} {w})")
}

/// The bits `v` needs as a two's-complement number.
fn signed_bits(v: &BigInt) -> u64 {
    if v.is_negative() {
        (-v - 1u32).bits() + 1
    } else {
        v.bits() + 1
    }
}

/// The smallest and largest of some integers.
fn hull(xs: [BigInt; 4]) -> (BigInt, BigInt) {
    let [a, b, c, d] = xs;
    let lo = a.clone().min(b.clone()).min(c.clone()).min(d.clone());
    let hi = a.max(b).max(c).max(d);
    (lo, hi)
}

// ---------------------------------------------------------------------------
// Evaluation of the graph at one position.

/// One position of a step: what the walk gives each node.
struct Walk<'a> {
    graph: &'a Graph,
    roles: &'a [Option<Role>],
    tables: &'a FeatureTables<'a>,
    op: Opcode,
    k: u32,
    /// The token's carry flag (0 at the op token).
    carry_in: Val,
}

impl Walk<'_> {
    /// `v`, after checking that the integer it denotes fits
    /// [`MAX_WIDTH`]-bit two's complement.
    fn checked(&self, script: &Script, v: Val, at: &str) -> Result<Val, OpcodeError> {
        let fits = |(lo, hi): &(BigInt, BigInt)| signed_bits(lo).max(signed_bits(hi)) <= MAX_WIDTH;
        // The plain interval is wider than the split one, and cheaper.
        if fits(&script.interval(&v)) {
            return Ok(v);
        }
        let (lo, hi) = script.bounds(&v);
        if !fits(&(lo.clone(), hi.clone())) {
            return Err(OpcodeError::Range {
                opcode: self.op,
                at: at.to_owned(),
                lo: lo.to_string(),
                hi: hi.to_string(),
            });
        }
        Ok(v)
    }

    /// `Σ cᵢ·dᵢ + c₀` over the values computed so far.
    fn expr(
        &self,
        script: &Script,
        e: &Expr,
        vals: &[Option<Val>],
        at: &str,
    ) -> Result<Val, OpcodeError> {
        let whole = |r: &tvm_dsl::expr::Rational| {
            integer(r).ok_or_else(|| OpcodeError::NonInteger {
                opcode: self.op,
                at: at.to_owned(),
                coefficient: r.to_string(),
            })
        };
        let mut acc = Val::constant(whole(e.constant_term())?);
        for (d, c) in e.terms() {
            let c = whole(c)?;
            let v = vals
                .get(d.index())
                .and_then(Option::as_ref)
                .ok_or_else(|| OpcodeError::Order {
                    opcode: self.op,
                    at: at.to_owned(),
                    read: site(self.graph, *d),
                })?;
            acc = acc.add(&v.scale(&c));
        }
        self.checked(script, acc, at)
    }

    /// `relu(b) · a`: exact folds where `b`'s sign or either side is
    /// known, a new atom otherwise.
    fn reglu(&self, script: &mut Script, a: &Val, b: &Val) -> Val {
        let zero = BigInt::zero();
        let (blo, bhi) = script.bounds(b);
        if bhi <= zero || a.as_constant().is_some_and(Zero::is_zero) {
            return Val::int(0);
        }
        if let Some(c) = b.as_constant() {
            return a.scale(c);
        }
        // b ≥ 0: relu(b) = b.
        let nonnegative = blo >= zero;
        if let Some(c) = a.as_constant()
            && nonnegative
        {
            return b.scale(c);
        }
        // Where the product matters, b lies in [plo, bhi].
        let plo = if nonnegative {
            blo.clone()
        } else {
            BigInt::one()
        };
        let (alo, ahi) = script.bounds(a);
        let (mlo, mhi) = hull([&plo * &alo, &plo * &ahi, &bhi * &alo, &bhi * &ahi]);
        let gate = script.operand(b);
        let (product, positive) = match a.as_constant() {
            Some(c) => (Product::Scaled(c.clone(), gate.clone()), false),
            // b is an integer in [.., 1]: relu(b) is 0 or 1.
            None if bhi.is_one() => (Product::Of(script.operand(a)), false),
            None => {
                let bits = [&plo, &bhi, &alo, &ahi, &mlo, &mhi]
                    .into_iter()
                    .map(signed_bits)
                    .max()
                    .unwrap_or(MAX_WIDTH);
                let y = script.operand(a);
                let product = Product::Mul {
                    x: gate.clone(),
                    y,
                    bits,
                };
                (product, nonnegative)
            }
        };
        let bounds = if positive {
            (mlo, mhi)
        } else {
            (mlo.min(zero.clone()), mhi.max(zero))
        };
        let scale = match &product {
            Product::Scaled(c, _) if !positive => Some(c.clone()),
            _ => None,
        };
        let body = Body::Relu {
            gate,
            product,
            positive,
        };
        let id = script.define(body, bounds);
        if let (Some(scale), Some(atom)) = (scale, script.atoms.get_mut(id)) {
            atom.relu = Some(ScaledRelu {
                gate: b.clone(),
                scale,
                lo: blo,
                hi: bhi,
            });
        }
        Val::atom(id)
    }

    /// The value of dimension `d` at this position.
    fn node(&self, script: &mut Script, d: Dim, vals: &[Option<Val>]) -> Result<Val, OpcodeError> {
        let at = site(self.graph, d);
        if let Some(role) = self.roles.get(d.index()).and_then(Option::as_ref) {
            return Ok(match role {
                Role::Free(name) => {
                    let id = script.variable(name).ok_or_else(|| OpcodeError::Port {
                        port: name.clone(),
                        reason: "no such variable".into(),
                    })?;
                    Val::atom(id)
                }
                Role::Bytes => Val::atom(script.n).add(&Val::int(i64::from(self.k))),
                Role::BytesAtOp => Val::atom(script.n),
                Role::Run => Val::int(1),
                Role::Carry => self.carry_in.clone(),
                Role::StepFeature => match self.tables.step.get(d.index()) {
                    Some(Some(v)) => Val::constant(v.clone()),
                    _ => Val::constant(self.tables.step_feature(self.op, d)?),
                },
            });
        }
        let not_a_port = |kind| OpcodeError::NotAPort {
            opcode: self.op,
            at: at.clone(),
            kind,
        };
        let node = &self.graph.dims()[d.index()].node;
        let v = match node {
            Node::Input(Input::One) => Val::int(1),
            Node::Input(Input::Position) => return Err(not_a_port("position input")),
            Node::Input(Input::PositionSquared) => return Err(not_a_port("position² input")),
            Node::Input(Input::Feature(i)) => {
                if self.k == 0 {
                    let x = self.tables.at(self.op, &at, *i, Token::Op(self.op).id())?;
                    Val::int(x)
                } else {
                    // plain + (carried − plain)·carry, the token's flag.
                    let (plain, carried) = match self.tables.bytes.get(d.index()) {
                        Some(Some(known)) => known.clone()?,
                        _ => self.tables.on_bytes(self.op, &at, *i)?,
                    };
                    let delta = self.carry_in.scale(&(BigInt::from(carried) - plain));
                    Val::int(plain).add(&delta)
                }
            }
            Node::ReGLU { a, b } => {
                let a = self.expr(script, a, vals, &format!("{at}, its a"))?;
                let b = self.expr(script, b, vals, &format!("{at}, its b"))?;
                self.reglu(script, &a, &b)
            }
            Node::Persist(e) => self.expr(script, e, vals, &at)?,
            Node::LookUp(_) => return Err(not_a_port("LookUp")),
            Node::CumSum(_) => return Err(not_a_port("CumSum")),
        };
        self.checked(script, v, &at)
    }
}

// ---------------------------------------------------------------------------
// The spec and the script.

/// What the reference machine writes for one step of an opcode, as SMT
/// terms over the port variables (`A` second, `B` top, `T` third, `L`, `G`,
/// `M`, `I`, `S`: 32-bit).
struct Spec {
    /// The 32-bit value whose low bytes the step writes.
    value: String,
    /// How many bytes it writes (8-bit).
    count: String,
    /// Whether the trace ends after the step (Bool).
    stops: String,
    /// ADD or SUB: how byte `j`'s carry / borrow out is computed.
    carries: Option<Opcode>,
    /// A load or store: the word its address starts from and how many
    /// bytes it accesses (`count` and `stops` then read `oob`).
    access: Option<(&'static str, u32)>,
}

impl Spec {
    fn of(op: Opcode) -> Spec {
        use Opcode::*;
        let fixed = |value: &str| Spec {
            value: value.to_owned(),
            count: byte_lit(op.value_width()),
            stops: "false".into(),
            carries: None,
            access: None,
        };
        let bit = |cond: &str| fixed(&format!("(ite {cond} #x00000001 #x00000000)"));
        // An access out of bounds (`oob`, see `Script::finish`) writes no
        // byte and stops the trace.
        let access = |value: &str, base: &'static str, width: u32| Spec {
            value: value.to_owned(),
            count: format!("(ite oob {} {})", byte_lit(0), byte_lit(op.value_width())),
            stops: "oob".into(),
            carries: None,
            access: Some((base, width)),
        };
        match op {
            Halt => Spec {
                value: "B".into(),
                count: format!("(ite (= I #x00000000) {} {})", byte_lit(4), byte_lit(0)),
                stops: "true".into(),
                carries: None,
                access: None,
            },
            Return => fixed("(concat #x0000 (concat r1 r0))"),
            Call | Br => fixed("I"),
            BrIf => Spec {
                value: "I".into(),
                count: format!("(ite (= B #x00000000) {} {})", byte_lit(0), byte_lit(2)),
                stops: "false".into(),
                carries: None,
                access: None,
            },
            Drop => fixed("#x00000000"),
            Select => fixed("(ite (= B #x00000000) A T)"),
            LocalGet => fixed("L"),
            GlobalGet => fixed("G"),
            LocalSet | LocalTee | GlobalSet | Output => fixed("B"),
            Load => access("M", "B", 4),
            Load8S => access("((_ sign_extend 24) m0)", "B", 1),
            Load8U => access("((_ zero_extend 24) m0)", "B", 1),
            Load16S => access("((_ sign_extend 16) (concat m1 m0))", "B", 2),
            Load16U => access("((_ zero_extend 16) (concat m1 m0))", "B", 2),
            Store => access("B", "A", 4),
            Store8 => access("B", "A", 1),
            Store16 => access("B", "A", 2),
            Const => fixed("I"),
            Eqz => bit("(= B #x00000000)"),
            Eq => bit("(= A B)"),
            Ne => bit("(distinct A B)"),
            LtS => bit("(bvslt A B)"),
            LtU => bit("(bvult A B)"),
            GtS => bit("(bvsgt A B)"),
            GtU => bit("(bvugt A B)"),
            LeS => bit("(bvsle A B)"),
            LeU => bit("(bvule A B)"),
            GeS => bit("(bvsge A B)"),
            GeU => bit("(bvuge A B)"),
            Add => Spec {
                carries: Some(Add),
                ..fixed("(bvadd A B)")
            },
            Sub => Spec {
                carries: Some(Sub),
                ..fixed("(bvsub A B)")
            },
        }
    }
}

/// An 8-bit literal (counts and positions).
fn byte_lit(v: u32) -> String {
    format!("(_ bv{v} 8)")
}

/// The outputs' values at one position (the byte and its carry where the
/// value has a byte `k`).
struct Outputs {
    emit: Val,
    width: Val,
    byte: Option<Val>,
    carry: Option<Val>,
    end: Val,
}

impl Outputs {
    fn all(&self) -> impl Iterator<Item = &Val> {
        [
            Some(&self.emit),
            Some(&self.width),
            self.byte.as_ref(),
            self.carry.as_ref(),
            Some(&self.end),
        ]
        .into_iter()
        .flatten()
    }
}

/// A factor of a neuron's term: a constant or an atom.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Operand {
    Lit(BigInt),
    Atom(usize),
}

/// The value of `relu(b)·a` where `b > 0` (everywhere, for a `positive`
/// [`Body::Relu`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Product {
    /// `b ≤ 1`, so `b > 0` means `b = 1`: the product is `a`.
    Of(Operand),
    /// `a` is the constant: `c·b`.
    Scaled(BigInt, Operand),
    /// `x·y`, where `x`, `y` and `x·y` fit `bits`-bit two's complement.
    Mul { x: Operand, y: Operand, bits: u64 },
}

/// What an atom is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Body {
    /// A declared variable of `bits` bits, zero-extended.
    Var { name: String, bits: u64 },
    /// A Bool of the spec as 0/1.
    Flag(String),
    /// A 32-bit word of the spec (`A`, `B`, …), zero-extended: the affine
    /// form `canonical = Σ 256^j · byte_j` of its bytes.
    Word { name: String, canonical: Val },
    /// An affine form (canonical: over atoms that are not affine forms),
    /// named.
    Affine(Val),
    /// `[gate ≥ 1]`: for an integer `g`, `relu(g) − relu(g − 1)`.
    Step(Operand),
    /// `relu(gate)·a`: `product` where `gate > 0`, else 0 (`positive`: the
    /// gate is known not to be negative, and `product` is right at 0 too).
    Relu {
        gate: Operand,
        product: Product,
        positive: bool,
    },
}

impl Body {
    /// The atoms it reads (all made before it); an affine form's are those
    /// of its written form, given.
    fn reads(&self, form: Option<&Val>) -> Vec<usize> {
        let of = |o: &Operand| match o {
            Operand::Atom(id) => Some(*id),
            Operand::Lit(_) => None,
        };
        match self {
            Body::Var { .. } | Body::Flag(_) | Body::Word { .. } => Vec::new(),
            Body::Affine(v) => form.unwrap_or(v).terms.iter().map(|(id, _)| *id).collect(),
            Body::Step(gate) => of(gate).into_iter().collect(),
            Body::Relu { gate, product, .. } => {
                let mut reads: Vec<usize> = of(gate).into_iter().collect();
                match product {
                    Product::Of(x) | Product::Scaled(_, x) => reads.extend(of(x)),
                    Product::Mul { x, y, .. } => reads.extend(of(x).into_iter().chain(of(y))),
                }
                reads
            }
        }
    }
}

/// An atom of the affine forms, with bounds on the integer it denotes.
struct Atom {
    name: String,
    lo: BigInt,
    hi: BigInt,
    body: Body,
    /// An affine form's written form (see [`Script::written`]).
    form: Option<Val>,
    /// When the atom is `scale · relu(gate)`: that, for the bounds of
    /// forms that read it.
    relu: Option<ScaledRelu>,
}

/// `scale · relu(gate)`, with bounds `[lo, hi]` on `gate`.
struct ScaledRelu {
    gate: Val,
    scale: BigInt,
    lo: BigInt,
    hi: BigInt,
}

/// The most `relu` atoms one form may have for [`Script::bounds`] to
/// split on their signs (2^this cases).
const MAX_SPLIT: usize = 6;

/// The script being built. Atoms are made once per distinct body and
/// written out, in the order made (a definition order), only when a claim
/// reads them; the free variables are always declared.
#[derive(Default)]
struct Script {
    /// Declarations and the spec's definitions (independent of the width).
    head: String,
    atoms: Vec<Atom>,
    /// Body → the atom made for it (looked up, never iterated).
    index: HashMap<Body, usize>,
    /// Declared byte variable → its atom.
    variables: HashMap<String, usize>,
    /// The atom of `n`.
    n: usize,
    /// The affine-form atoms, in the order made.
    affine: Vec<usize>,
    /// Each position's outputs.
    claims: Vec<(u32, Outputs)>,
    /// The spec's byte count and stop condition, written after `oob`.
    count: String,
    stops: String,
    /// The spec's memory access, if any (see [`Spec::access`]).
    access: Option<(&'static str, u32)>,
}

impl Script {
    /// Declarations and the spec's definitions.
    fn header(&mut self, op: Opcode, spec: &Spec, ports: &Ports) {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "; opcode {op}: the machine graph's value bytes equal the spec's, for all operands.\n\
             ; b0..b3 top of stack, a0..a3 second, t0..t3 third, l local, g global, m loaded,\n\
             ; i immediate, r return address, s memory size (bytes, little-endian);\n\
             ; n byte tokens before the step."
        );
        for (_, var, bytes) in free_bytes(ports) {
            for j in 0..bytes.len() {
                let name = format!("{var}{j}");
                let _ = writeln!(t, "(declare-const {name} (_ BitVec 8))");
                let id = self.make(
                    format!("{name}.w"),
                    Body::Var {
                        name: name.clone(),
                        bits: 8,
                    },
                    (BigInt::zero(), BigInt::from(255)),
                );
                self.variables.insert(name, id);
            }
        }
        let _ = writeln!(t, "(declare-const n (_ BitVec {POSITION_BITS}))");
        self.n = self.make(
            "n.w".into(),
            Body::Var {
                name: "n".into(),
                bits: u64::from(POSITION_BITS),
            },
            (BigInt::zero(), (BigInt::one() << POSITION_BITS) - 1),
        );
        for (name, var) in [
            ("A", "a"),
            ("B", "b"),
            ("T", "t"),
            ("L", "l"),
            ("G", "g"),
            ("M", "m"),
            ("I", "i"),
            ("S", "s"),
        ] {
            let _ = writeln!(
                t,
                "(define-fun {name} () (_ BitVec 32) (concat {var}3 (concat {var}2 (concat {var}1 {var}0))))"
            );
            // The DSL's `number(bytes)` is this word: written so, the
            // solver shares the spec's bits.
            let mut canonical = Val::int(0);
            for j in 0..4 {
                if let Some(id) = self.variable(&format!("{var}{j}")) {
                    canonical = canonical.add(&Val::atom(id).scale(&(BigInt::one() << (8 * j))));
                }
            }
            let id = self.make(
                format!("{name}.w"),
                Body::Word {
                    name: name.into(),
                    canonical,
                },
                (BigInt::zero(), (BigInt::one() << 32) - 1),
            );
            self.affine.push(id);
        }
        let _ = writeln!(t, "(define-fun R () (_ BitVec 32) {})", spec.value);
        self.count = spec.count.clone();
        self.stops = spec.stops.clone();
        self.access = spec.access;
        for j in 0..4u32 {
            let hi = 8 * j + 7;
            let carry = match spec.carries {
                // Carry out of the low j+1 bytes of A + B: their sum wraps.
                Some(Opcode::Add) => {
                    format!("(bvult ((_ extract {hi} 0) (bvadd A B)) ((_ extract {hi} 0) A))")
                }
                // Borrow out of the low j+1 bytes of A − B: A's are below B's.
                Some(Opcode::Sub) => {
                    format!("(bvult ((_ extract {hi} 0) A) ((_ extract {hi} 0) B))")
                }
                _ => "false".into(),
            };
            let _ = writeln!(t, "(define-fun cy{j} () Bool {carry})");
        }
        self.head = t;
    }

    /// Makes an atom.
    fn make(&mut self, name: String, body: Body, (lo, hi): (BigInt, BigInt)) -> usize {
        let id = self.atoms.len();
        self.index.insert(body.clone(), id);
        self.atoms.push(Atom {
            name,
            lo,
            hi,
            body,
            form: None,
            relu: None,
        });
        id
    }

    /// The atom of a declared byte variable.
    fn variable(&self, name: &str) -> Option<usize> {
        self.variables.get(name).copied()
    }

    /// The atom for `body` (denoting an integer in `bounds`): the one made
    /// for an equal body, or a new one.
    fn define(&mut self, body: Body, bounds: (BigInt, BigInt)) -> usize {
        if let Some(&id) = self.index.get(&body) {
            return id;
        }
        let name = format!("v{}", self.atoms.len());
        self.make(name, body, bounds)
    }

    /// The carry flag of the token at `k`: that of byte `k − 1`.
    fn carry_in(&mut self, op: Opcode, k: u32) -> Val {
        if k == 0 || !matches!(op, Opcode::Add | Opcode::Sub) {
            return Val::int(0);
        }
        Val::atom(self.make(
            format!("c{k}"),
            Body::Flag(format!("cy{}", k - 1)),
            (BigInt::zero(), BigInt::one()),
        ))
    }

    /// Bounds on the integer `v` denotes: the interval of its terms,
    /// tightened by splitting on the signs of the `c·relu(g)` atoms it
    /// reads (at most [`MAX_SPLIT`]). In each case every such atom is 0
    /// (`g ≤ 0`) or `c·g` (`g ≥ 1`), the form is affine again, and where
    /// it is a multiple of one of the gates plus a rest, that gate's range
    /// in the case bounds it too; cases whose bounds contradict are
    /// impossible. This is what shows `relu(x) − relu(x − 1)` to be 0 or 1
    /// (and not as wide as `x`), so that later gates fold.
    fn bounds(&self, v: &Val) -> (BigInt, BigInt) {
        let plain = self.interval(v);
        let mut linear = Val::constant(v.constant.clone());
        let mut relus: Vec<(BigInt, &ScaledRelu)> = Vec::new();
        for (id, k) in &v.terms {
            match self.atoms.get(*id).and_then(|a| a.relu.as_ref()) {
                Some(r) => relus.push((k * &r.scale, r)),
                None => linear = linear.add(&Val::atom(*id).scale(k)),
            }
        }
        if relus.is_empty() || relus.len() > MAX_SPLIT {
            return plain;
        }
        let one = BigInt::one();
        let zero = BigInt::zero();
        let mut hull: Option<(BigInt, BigInt)> = None;
        'cases: for mask in 0u32..(1 << relus.len()) {
            let mut form = linear.clone();
            let mut ranges = Vec::with_capacity(relus.len());
            for (i, (e, r)) in relus.iter().enumerate() {
                let active = mask >> i & 1 == 1;
                let range = if active {
                    form = form.add(&r.gate.scale(e));
                    (r.lo.clone().max(one.clone()), r.hi.clone())
                } else {
                    (r.lo.clone(), r.hi.clone().min(zero.clone()))
                };
                if range.0 > range.1 {
                    continue 'cases;
                }
                ranges.push(range);
            }
            let (mut lo, mut hi) = self.interval(&form);
            for ((_, r), (glo, ghi)) in relus.iter().zip(&ranges) {
                let Some(s) = form.multiple_of(&r.gate) else {
                    continue;
                };
                let (rlo, rhi) = self.interval(&form.add(&r.gate.scale(&-s.clone())));
                let (x, y) = (&s * glo, &s * ghi);
                let (slo, shi) = if s.is_negative() { (y, x) } else { (x, y) };
                lo = lo.max(slo + rlo);
                hi = hi.min(shi + rhi);
            }
            if lo > hi {
                continue;
            }
            hull = Some(match hull {
                None => (lo, hi),
                Some((a, b)) => (a.min(lo), b.max(hi)),
            });
        }
        match hull {
            Some((lo, hi)) => (lo.max(plain.0), hi.min(plain.1)),
            None => plain,
        }
    }

    /// The interval of `v`'s terms, each atom within its bounds.
    fn interval(&self, v: &Val) -> (BigInt, BigInt) {
        let (mut lo, mut hi) = (v.constant.clone(), v.constant.clone());
        for (id, c) in &v.terms {
            let Some(a) = self.atoms.get(*id) else {
                continue;
            };
            let (x, y) = (c * &a.lo, c * &a.hi);
            if c.is_negative() {
                lo += y;
                hi += x;
            } else {
                lo += x;
                hi += y;
            }
        }
        (lo, hi)
    }

    /// `v` as a factor: a literal or one atom (naming a compound form).
    fn operand(&mut self, v: &Val) -> Operand {
        if let Some(c) = v.as_constant() {
            return Operand::Lit(c.clone());
        }
        if let Some(id) = v.as_atom() {
            return Operand::Atom(id);
        }
        let body = Body::Affine(v.clone());
        if let Some(&id) = self.index.get(&body) {
            return Operand::Atom(id);
        }
        let bounds = self.bounds(v);
        let form = self.written(v);
        let id = self.define(body, bounds);
        if let Some(atom) = self.atoms.get_mut(id) {
            atom.form = Some(form);
        }
        self.affine.push(id);
        Operand::Atom(id)
    }

    /// `v` (canonical) as it is written, equal as an integer but easier
    /// for a solver (which is poor at algebra over bits):
    ///
    /// - `c·relu(g) − c·relu(g − 1)` (the DSL's step functions: `ge_zero`,
    ///   `stepglu`, `is_zero`, …) is written `c·[g ≥ 1]`, exact for integer
    ///   `g`; a coefficient is split between two such pairs where needed
    ///   (`is_zero`'s `−2·relu(x)`);
    /// - the rest in terms of the affine forms already named where it
    ///   contains a multiple of one (`x − 1` is written `v35 − 1` when `v35`
    ///   is `x`), which keeps the solver's adders shared; larger forms
    ///   first, each once.
    fn written(&mut self, v: &Val) -> Val {
        let mut rest = v.clone();
        let mut form = Val::int(0);
        // (atom, its coefficient left, scale, gate, gate operand)
        let mut relus: Vec<(usize, BigInt, BigInt, Val, Operand)> = Vec::new();
        for (id, k) in &v.terms {
            let Some(atom) = self.atoms.get(*id) else {
                continue;
            };
            if let (Some(r), Body::Relu { gate, .. }) = (&atom.relu, &atom.body) {
                relus.push((
                    *id,
                    k.clone(),
                    r.scale.clone(),
                    r.gate.clone(),
                    gate.clone(),
                ));
            }
        }
        for i in 0..relus.len() {
            for j in 0..relus.len() {
                let (ki, kj) = (&relus[i].1, &relus[j].1);
                if i == j || ki.is_zero() || kj.is_zero() || ki.is_positive() == kj.is_positive() {
                    continue;
                }
                let offset = relus[i].3.add(&relus[j].3.scale(&-BigInt::one()));
                if relus[i].2 != relus[j].2 || offset.as_constant() != Some(&BigInt::one()) {
                    continue;
                }
                let t = ki.abs().min(kj.abs()) * ki.signum();
                let step = self.define(
                    Body::Step(relus[i].4.clone()),
                    (BigInt::zero(), BigInt::one()),
                );
                form = form.add(&Val::atom(step).scale(&(&t * &relus[i].2)));
                rest = rest
                    .add(&Val::atom(relus[i].0).scale(&-t.clone()))
                    .add(&Val::atom(relus[j].0).scale(&t));
                relus[i].1 -= &t;
                relus[j].1 += &t;
            }
        }
        // A pair whose other half was folded: `relu(h + 1) = h + 1` where
        // `h ≥ −1`, so `e·relu(h) − e·(h + 1)` is `−e·[h + 1 ≥ 1]`.
        for (id, k, scale, gate, _) in &relus {
            let e = k * scale;
            let Some(lo) = self
                .atoms
                .get(*id)
                .and_then(|a| a.relu.as_ref())
                .map(|r| &r.lo)
            else {
                continue;
            };
            if e.is_zero() || *lo < -BigInt::one() || rest.multiple_of(gate) != Some(-e.clone()) {
                continue;
            }
            let next = gate.add(&Val::int(1));
            let Operand::Atom(next_atom) = self.operand(&next) else {
                continue;
            };
            let step = self.define(
                Body::Step(Operand::Atom(next_atom)),
                (BigInt::zero(), BigInt::one()),
            );
            form = form.add(&Val::atom(step).scale(&-e.clone()));
            rest = rest
                .add(&Val::atom(*id).scale(&-k.clone()))
                .add(&next.scale(&e));
        }
        let mut candidates: Vec<(usize, &Val)> = self
            .affine
            .iter()
            .filter_map(|&id| match self.atoms.get(id).map(|a| &a.body) {
                Some(Body::Affine(u) | Body::Word { canonical: u, .. }) if u.terms.len() > 1 => {
                    Some((id, u))
                }
                _ => None,
            })
            .collect();
        candidates.sort_by_key(|(id, u)| (std::cmp::Reverse(u.terms.len()), *id));
        for (id, u) in candidates {
            let Some(s) = rest.multiple_of(u) else {
                continue;
            };
            rest = rest.add(&u.scale(&-s.clone()));
            form = form.add(&Val::atom(id).scale(&s));
        }
        form.add(&rest)
    }

    /// Records the outputs at position `k`.
    fn claim(&mut self, k: u32, out: Outputs) {
        self.claims.push((k, out));
    }

    /// The whole script: declarations, the spec, the atoms the claims read
    /// (at the width the widest of them needs), the claims, and the
    /// assertion of their negation.
    fn finish(mut self) -> String {
        let mut widest = 9;
        let claims = std::mem::take(&mut self.claims);
        let mut written = Vec::with_capacity(claims.len());
        for (k, out) in &claims {
            let mut w = |v: &Val| {
                let (lo, hi) = self.bounds(v);
                widest = widest.max(signed_bits(&lo)).max(signed_bits(&hi));
                self.written(v)
            };
            let out = Outputs {
                emit: w(&out.emit),
                width: w(&out.width),
                byte: out.byte.as_ref().map(&mut w),
                carry: out.carry.as_ref().map(&mut w),
                end: w(&out.end),
            };
            written.push((*k, out));
        }
        let mut needed = vec![false; self.atoms.len()];
        for (_, out) in &written {
            for v in out.all() {
                for (id, _) in &v.terms {
                    if let Some(x) = needed.get_mut(*id) {
                        *x = true;
                    }
                }
            }
        }
        for id in (0..self.atoms.len()).rev() {
            if needed[id] {
                let atom = &self.atoms[id];
                widest = widest.max(signed_bits(&atom.lo)).max(signed_bits(&atom.hi));
                for r in atom.body.reads(atom.form.as_ref()) {
                    if let Some(x) = needed.get_mut(r) {
                        *x = true;
                    }
                }
            }
        }
        let w = widest;
        let mut out = self.head.clone();
        if let Some((base, width)) = self.access {
            // The access's end passes the memory size: the integer
            // `base + I + width − S` is positive. It lies in (−2³², 2³⁴), so
            // 35-bit two's complement holds it exactly; the DSL's width when
            // wider, so the words are the DSL's own terms.
            let v = w.max(35);
            let x = |word: &str| format!("((_ zero_extend {}) {word})", v - 32);
            let _ = writeln!(
                out,
                "(define-fun oob () Bool (bvsgt (bvsub (bvadd {} (bvadd {} (_ bv{width} {v}))) {}) (_ bv0 {v})))",
                x(base),
                x("I"),
                x("S")
            );
        }
        let _ = writeln!(out, "(define-fun count () (_ BitVec 8) {})", self.count);
        let _ = writeln!(out, "(define-fun stops () Bool {})", self.stops);
        let _ = writeln!(
            out,
            "; DSL values: {w}-bit two's complement, wide enough for every value below."
        );
        for (atom, _) in self.atoms.iter().zip(&needed).filter(|(_, n)| **n) {
            let body = match (&atom.body, &atom.form) {
                (Body::Affine(_), Some(form)) => self.render_val(form, w),
                (body, _) => self.render_body(body, w),
            };
            let _ = writeln!(out, "(define-fun {} () (_ BitVec {w}) {body})", atom.name);
        }
        let mut names = Vec::new();
        for (k, v) in &written {
            let name = format!("claim.k{k}");
            let _ = writeln!(
                out,
                "(define-fun {name} () Bool {})",
                self.render_claim(*k, v, w)
            );
            names.push(name);
        }
        let _ = writeln!(out, "(assert (not (and {})))", names.join(" "));
        out
    }

    /// An atom's name.
    fn name(&self, id: usize) -> &str {
        self.atoms.get(id).map_or("?", |a| a.name.as_str())
    }

    fn render_operand(&self, o: &Operand, w: u64) -> String {
        match o {
            Operand::Lit(c) => literal(c, w),
            Operand::Atom(id) => self.name(*id).to_owned(),
        }
    }

    /// `c₀ + Σ cᵢ·atomᵢ`.
    fn render_val(&self, v: &Val, w: u64) -> String {
        let mut parts: Vec<String> = v
            .terms
            .iter()
            .map(|(id, c)| {
                let name = self.name(*id);
                if c.is_one() {
                    name.to_owned()
                } else if *c == -BigInt::one() {
                    format!("(bvneg {name})")
                } else {
                    format!("(bvmul {} {name})", literal(c, w))
                }
            })
            .collect();
        if !v.constant.is_zero() || parts.is_empty() {
            parts.push(literal(&v.constant, w));
        }
        let mut smt = parts.pop().unwrap_or_default();
        while let Some(p) = parts.pop() {
            smt = format!("(bvadd {p} {smt})");
        }
        smt
    }

    fn render_body(&self, body: &Body, w: u64) -> String {
        match body {
            Body::Var { name, bits } => {
                format!("((_ zero_extend {}) {name})", w.saturating_sub(*bits))
            }
            Body::Flag(cond) => format!("(ite {cond} (_ bv1 {w}) (_ bv0 {w}))"),
            Body::Word { name, .. } => format!("((_ zero_extend {}) {name})", w.saturating_sub(32)),
            Body::Affine(v) => self.render_val(v, w),
            Body::Step(gate) => format!(
                "(ite (bvsgt {} (_ bv0 {w})) (_ bv1 {w}) (_ bv0 {w}))",
                self.render_operand(gate, w)
            ),
            Body::Relu {
                gate,
                product,
                positive,
            } => {
                let product = match product {
                    Product::Of(x) => self.render_operand(x, w),
                    Product::Scaled(c, x) if c.is_one() => self.render_operand(x, w),
                    Product::Scaled(c, x) => {
                        format!("(bvmul {} {})", literal(c, w), self.render_operand(x, w))
                    }
                    Product::Mul { x, y, bits } => {
                        let (x, y) = (self.render_operand(x, w), self.render_operand(y, w));
                        if *bits >= w {
                            format!("(bvmul {x} {y})")
                        } else {
                            // Exact: x, y and x·y fit `bits` bits (module docs).
                            format!(
                                "((_ sign_extend {}) (bvmul ((_ extract {hi} 0) {x}) ((_ extract {hi} 0) {y})))",
                                w - bits,
                                hi = bits - 1
                            )
                        }
                    }
                };
                if *positive {
                    product
                } else {
                    format!(
                        "(ite (bvsgt {} (_ bv0 {w})) {product} (_ bv0 {w}))",
                        self.render_operand(gate, w)
                    )
                }
            }
        }
    }

    /// The claim at position `k`: if the step has a position `k`, `emit`,
    /// `width` and `end` are the spec's, and an emitted byte and its carry
    /// are the spec's.
    fn render_claim(&self, k: u32, out: &Outputs, w: u64) -> String {
        let kk = byte_lit(k);
        let flag = |cond: &str| format!("(ite {cond} (_ bv1 {w}) (_ bv0 {w}))");
        let wide = |x: &str| format!("((_ zero_extend {}) {x})", w - 8);
        let emits = format!("(bvult {kk} count)");
        let mut parts = vec![
            format!("(= {} {})", self.render_val(&out.emit, w), flag(&emits)),
            format!("(= {} {})", self.render_val(&out.width, w), wide("count")),
            format!(
                "(= {} {})",
                self.render_val(&out.end, w),
                flag(&format!("(and (= {kk} count) stops)"))
            ),
        ];
        if let (Some(byte), Some(carry)) = (&out.byte, &out.carry) {
            let lo = 8 * k;
            parts.push(format!(
                "(=> {emits} (and (= {} {}) (= {} {})))",
                self.render_val(byte, w),
                wide(&format!("((_ extract {} {lo}) R)", lo + 7)),
                self.render_val(carry, w),
                flag(&format!("cy{k}"))
            ));
        }
        format!("(=> (bvule {kk} count) (and {}))", parts.join(" "))
    }
}
