//! The exact graph evaluator: runs a [`Graph`] over a token stream, position
//! by position, with exact arithmetic and no weights.
//!
//! Semantics (the reference the weights must match):
//! - `Input`: the token feature's value, 1, the position, its square;
//! - `ReGLU{a, b}` = `max(b, 0) · a`; `Persist(e)` = `e`;
//! - `CumSum(e)` = `Σ_{j ≤ i} e_j`;
//! - `LookUp`: among `j ≤ i` with `active_j = 1` and `key_j = query_i`, the
//!   `value` of the latest (earliest) such `j`; 0 when there is none. An
//!   `active` other than 0 or 1 is an error (the graph broke its contract).
//!
//! Lookups are answered from an index keyed by the exact key value; lookups
//! that share key, active, value and tie-break share one index.
//!
//! Numbers are generic: [`Exact`] (`BigRational`) always works; `i128` is a
//! fast path that stays exact — it refuses non-integer coefficients and
//! reports overflow instead of wrapping.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{ToPrimitive, Zero};
use rustc_hash::FxHashMap;
use std::collections::HashMap;
use std::fmt::Debug;
use std::hash::Hash;
use tvm_dsl::expr::{Expr, Rational};
use tvm_dsl::graph::{Graph, Input, Node, Tie};
use tvm_dsl::token::Token;

/// Exact rationals.
pub type Exact = BigRational;

/// Why evaluation stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// The fast path met a value it cannot hold exactly.
    #[error("not representable in the integer fast path: {0}")]
    NotInteger(String),
    /// A lookup's `active` was neither 0 nor 1.
    #[error("lookup d{dim} at position {position}: active = {value}, expected 0 or 1")]
    Active {
        /// The lookup.
        dim: u32,
        /// Where.
        position: u64,
        /// What it was.
        value: String,
    },
    /// The outputs do not denote a token.
    #[error("position {position}: {message}")]
    Decode {
        /// Where.
        position: u64,
        /// What.
        message: String,
    },
    /// The graph has no output of this name.
    #[error("the graph has no output `{0}`")]
    MissingOutput(&'static str),
    /// The token budget ran out.
    #[error("out of fuel after {steps} steps (raise it with --fuel)")]
    OutOfFuel {
        /// Steps generated.
        steps: u64,
    },
    /// The prefix has no `<run>` token.
    #[error("the token prefix does not end with <run>")]
    NoRun,
}

/// Exact arithmetic the evaluator needs.
pub trait Number: Clone + Eq + Hash + Ord + Debug {
    /// Converts a coefficient.
    fn from_rational(r: &Rational) -> Result<Self, EvalError>;
    /// Converts an integer.
    fn from_i64(v: i64) -> Self;
    /// `self + other`.
    fn add(&self, other: &Self) -> Result<Self, EvalError>;
    /// `self · other`.
    fn mul(&self, other: &Self) -> Result<Self, EvalError>;
    /// Whether `self > 0`.
    fn is_positive(&self) -> bool;
    /// The value as an `i64`, if it is one.
    fn to_i64(&self) -> Option<i64>;
}

impl Number for i128 {
    fn from_rational(r: &Rational) -> Result<Self, EvalError> {
        if !r.is_integer() {
            return Err(EvalError::NotInteger(r.to_string()));
        }
        r.to_integer()
            .to_i128()
            .ok_or_else(|| EvalError::NotInteger(r.to_string()))
    }
    fn from_i64(v: i64) -> Self {
        i128::from(v)
    }
    fn add(&self, other: &Self) -> Result<Self, EvalError> {
        self.checked_add(*other)
            .ok_or_else(|| EvalError::NotInteger(format!("{self} + {other} overflows")))
    }
    fn mul(&self, other: &Self) -> Result<Self, EvalError> {
        self.checked_mul(*other)
            .ok_or_else(|| EvalError::NotInteger(format!("{self} · {other} overflows")))
    }
    fn is_positive(&self) -> bool {
        *self > 0
    }
    fn to_i64(&self) -> Option<i64> {
        i64::try_from(*self).ok()
    }
}

impl Number for Exact {
    fn from_rational(r: &Rational) -> Result<Self, EvalError> {
        Ok(r.clone())
    }
    fn from_i64(v: i64) -> Self {
        BigRational::from_integer(BigInt::from(v))
    }
    fn add(&self, other: &Self) -> Result<Self, EvalError> {
        Ok(self + other)
    }
    fn mul(&self, other: &Self) -> Result<Self, EvalError> {
        Ok(self * other)
    }
    fn is_positive(&self) -> bool {
        *self > BigRational::zero()
    }
    fn to_i64(&self) -> Option<i64> {
        if self.is_integer() {
            self.to_integer().to_i64()
        } else {
            None
        }
    }
}

/// A linear form compiled for evaluation.
#[derive(Clone, Debug)]
struct Lin<N> {
    terms: Vec<(usize, N)>,
    constant: N,
}

impl<N: Number> Lin<N> {
    fn compile(e: &Expr) -> Result<Self, EvalError> {
        Ok(Lin {
            terms: e
                .terms()
                .iter()
                .map(|(d, c)| Ok((d.index(), N::from_rational(c)?)))
                .collect::<Result<_, _>>()?,
            constant: N::from_rational(e.constant_term())?,
        })
    }

    fn eval(&self, values: &[N]) -> Result<N, EvalError> {
        let mut acc = self.constant.clone();
        for (d, c) in &self.terms {
            acc = acc.add(&c.mul(&values[*d])?)?;
        }
        Ok(acc)
    }
}

#[derive(Clone, Debug)]
enum Op<N> {
    Feature(Vec<N>),
    One,
    Position,
    PositionSquared,
    ReGLU(Lin<N>, Lin<N>),
    Persist(Lin<N>),
    LookUp { query: Lin<N>, index: usize },
    CumSum(Lin<N>, usize),
}

/// One shared lookup index.
struct Index<N> {
    key: Lin<N>,
    active: Lin<N>,
    value: Lin<N>,
    tie: Tie,
    entries: FxHashMap<N, N>,
    /// The position whose entry was last added.
    updated: Option<u64>,
}

/// Evaluates a graph position by position.
pub struct Evaluator<N> {
    ops: Vec<Op<N>>,
    indexes: Vec<Index<N>>,
    sums: Vec<N>,
    values: Vec<N>,
    outputs: Vec<(String, Lin<N>)>,
    position: u64,
}

impl<N: Number> Evaluator<N> {
    /// Compiles `graph`.
    pub fn new(graph: &Graph) -> Result<Self, EvalError> {
        let mut ops = Vec::with_capacity(graph.dims().len());
        let mut indexes: Vec<Index<N>> = Vec::new();
        let mut shared: HashMap<(&Expr, &Expr, &Expr, Tie), usize> = HashMap::new();
        let mut sums = 0;
        for dim in graph.dims() {
            ops.push(match &dim.node {
                Node::Input(Input::One) => Op::One,
                Node::Input(Input::Position) => Op::Position,
                Node::Input(Input::PositionSquared) => Op::PositionSquared,
                Node::Input(Input::Feature(i)) => Op::Feature(
                    graph.features()[*i as usize]
                        .values
                        .iter()
                        .map(|&v| N::from_i64(v))
                        .collect(),
                ),
                Node::ReGLU { a, b } => Op::ReGLU(Lin::compile(a)?, Lin::compile(b)?),
                Node::Persist(e) => Op::Persist(Lin::compile(e)?),
                Node::CumSum(e) => {
                    sums += 1;
                    Op::CumSum(Lin::compile(e)?, sums - 1)
                }
                Node::LookUp(l) => {
                    let next = indexes.len();
                    let index = *shared
                        .entry((&l.key, &l.active, &l.value, l.tie))
                        .or_insert(next);
                    if index == next {
                        indexes.push(Index {
                            key: Lin::compile(&l.key)?,
                            active: Lin::compile(&l.active)?,
                            value: Lin::compile(&l.value)?,
                            tie: l.tie,
                            entries: FxHashMap::default(),
                            updated: None,
                        });
                    }
                    Op::LookUp {
                        query: Lin::compile(&l.query)?,
                        index,
                    }
                }
            });
        }
        let outputs = graph
            .outputs()
            .iter()
            .map(|(n, e)| Ok((n.clone(), Lin::compile(e)?)))
            .collect::<Result<_, _>>()?;
        Ok(Evaluator {
            values: vec![N::from_i64(0); ops.len()],
            ops,
            indexes,
            sums: vec![N::from_i64(0); sums],
            outputs,
            position: 0,
        })
    }

    /// Evaluates the next position, whose token is `token`.
    pub fn push(&mut self, token: Token) -> Result<(), EvalError> {
        let position = self.position;
        let zero = N::from_i64(0);
        for i in 0..self.ops.len() {
            let v = match &self.ops[i] {
                Op::Feature(table) => table[usize::from(token.id())].clone(),
                Op::One => N::from_i64(1),
                Op::Position => N::from_i64(position as i64),
                Op::PositionSquared => {
                    N::from_i64(position as i64).mul(&N::from_i64(position as i64))?
                }
                Op::ReGLU(a, b) => {
                    let gate = b.eval(&self.values)?;
                    if gate.is_positive() {
                        gate.mul(&a.eval(&self.values)?)?
                    } else {
                        zero.clone()
                    }
                }
                Op::Persist(e) => e.eval(&self.values)?,
                Op::CumSum(e, s) => {
                    let total = self.sums[*s].add(&e.eval(&self.values)?)?;
                    self.sums[*s] = total.clone();
                    total
                }
                Op::LookUp { query, index } => {
                    let idx = &mut self.indexes[*index];
                    if idx.updated != Some(position) {
                        idx.updated = Some(position);
                        let active = idx.active.eval(&self.values)?;
                        if active == N::from_i64(1) {
                            let key = idx.key.eval(&self.values)?;
                            let value = idx.value.eval(&self.values)?;
                            match idx.tie {
                                Tie::Latest => {
                                    idx.entries.insert(key, value);
                                }
                                Tie::Earliest => {
                                    idx.entries.entry(key).or_insert(value);
                                }
                            }
                        } else if active != zero {
                            return Err(EvalError::Active {
                                dim: i as u32,
                                position,
                                value: format!("{active:?}"),
                            });
                        }
                    }
                    let q = query.eval(&self.values)?;
                    self.indexes[*index]
                        .entries
                        .get(&q)
                        .cloned()
                        .unwrap_or_else(|| zero.clone())
                }
            };
            self.values[i] = v;
        }
        self.position += 1;
        Ok(())
    }

    /// The value of output `name` at the last position pushed.
    pub fn output(&self, name: &'static str) -> Result<N, EvalError> {
        let (_, lin) = self
            .outputs
            .iter()
            .find(|(n, _)| n == name)
            .ok_or(EvalError::MissingOutput(name))?;
        lin.eval(&self.values)
    }

    /// Every dimension's value at the last position pushed.
    pub fn values(&self) -> &[N] {
        &self.values
    }

    /// Positions pushed so far.
    pub fn position(&self) -> u64 {
        self.position
    }
}

/// What an autoregressive run of the machine graph produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MachineRun {
    /// The tokens generated after `<run>`.
    pub trace: Vec<Token>,
    /// Steps (op tokens) generated.
    pub steps: u64,
    /// The immediate of the final step (the HALT's trap code when it
    /// halted).
    pub halt_code: Option<i64>,
    /// The run stopped before a `CALL` past [`tvm_dsl::isa::MAX_CALL_DEPTH`]
    /// (where the reference machine traps `call stack exhausted`); the
    /// trace ends before that step.
    pub call_stack_exhausted: bool,
}

/// Runs the machine graph on a token prefix (ending in `<run>`),
/// generating tokens until the graph says the trace ends or `fuel` steps
/// have been generated.
pub fn run_machine<N: Number>(
    graph: &Graph,
    prefix: &[Token],
    fuel: u64,
) -> Result<MachineRun, EvalError> {
    use tvm_dsl::machine::{decode_next, output};
    if prefix.last() != Some(&Token::Run) {
        return Err(EvalError::NoRun);
    }
    let mut eval = Evaluator::<N>::new(graph)?;
    for &t in prefix {
        eval.push(t)?;
    }
    let mut trace = Vec::new();
    let mut steps = 0u64;
    let mut depth = tvm_dsl::isa::CallDepth::default();
    let read = |eval: &Evaluator<N>, name: &'static str| -> Result<i64, EvalError> {
        let v = eval.output(name)?;
        v.to_i64().ok_or_else(|| EvalError::Decode {
            position: eval.position(),
            message: format!("{name} = {v:?}"),
        })
    };
    loop {
        let next = decode_next(
            read(&eval, output::EMIT_BYTE)?,
            read(&eval, output::BYTE)?,
            read(&eval, output::CARRY)?,
            read(&eval, output::OP)?,
            read(&eval, output::END)?,
        )
        .map_err(|message| EvalError::Decode {
            position: eval.position(),
            message,
        })?;
        let Some(token) = next else {
            let halt_code = read(&eval, output::HALT_CODE).ok();
            return Ok(MachineRun {
                trace,
                steps,
                halt_code,
                call_stack_exhausted: false,
            });
        };
        if let Token::Op(op) = token {
            if steps >= fuel {
                return Err(EvalError::OutOfFuel { steps });
            }
            if !depth.admits(op) {
                return Ok(MachineRun {
                    trace,
                    steps,
                    halt_code: None,
                    call_stack_exhausted: true,
                });
            }
            steps += 1;
        }
        trace.push(token);
        eval.push(token)?;
    }
}
