//! Partial evaluation of a graph over a restricted token alphabet: the
//! first Futamura projection's second half.
//!
//! The machine graph with a program baked into instruction fetch
//! (`tvm_dsl::machine::with_program`) still holds the machinery for every
//! opcode and for the program section of the prefix. A stream of that
//! program holds only some tokens (`tvm_dsl::machine::alphabet`): its own
//! opcodes, no `<program>`, carry bytes only if it adds or subtracts. Given
//! that alphabet, [`specialize`] rebuilds the graph in index order and
//! folds what the restriction decides:
//!
//! - a token feature is 0 on tokens outside the alphabet, and the constant
//!   it is when it takes one value on the whole alphabet (`is_op:MUL` of a
//!   program without MUL is the constant 0);
//! - a neuron `relu(b)·a` is 0 when the range analysis ([`crate::range`])
//!   bounds `b ≤ 0` or `a = 0`, and the product `b·a` when `b ≥ 0` and one
//!   side is a constant;
//! - a lookup whose `active` or `value` is 0 is 0 (no match gives 0);
//!   a running sum of 0 is 0; a persisted constant is the constant;
//! - every expression reading a folded dimension is rewritten with its
//!   value (the graph's hash-consing merges the copies that become equal).
//!
//! Then only the outputs' cone is kept (dead-code elimination), groups and
//! names carried over.
//!
//! Invariant (soundness): on every token stream over the alphabet, every
//! kept dimension and every output has the value the input graph gives it.
//! Each fold rests on a fact that holds at every position of such a stream:
//! the feature tables agree on the alphabet, and the range analysis is
//! sound (its bounds hold for every stream, so in particular for these).

use num_traits::{Signed, Zero};
use tvm_dsl::expr::{Dim, Expr};
use tvm_dsl::graph::{Graph, Input, LookUp, Node};
use tvm_dsl::isa::MAX_POSITION;

use crate::range::{RangeError, Ranges};

/// Why a graph could not be specialised.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SpecializeError {
    /// The alphabet is not one flag per token id.
    #[error("the alphabet has {found} flags, the vocabulary {expected} tokens")]
    Alphabet {
        /// Flags given.
        found: usize,
        /// Token ids.
        expected: usize,
    },
    /// The graph breaks an invariant of [`Graph`] (a range error).
    #[error("range analysis of the specialised graph: {0}")]
    Range(#[from] RangeError),
}

/// What specialisation removed, in dimensions of each kind (input graph
/// minus output graph), in the order of [`Graph::counts`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Removed {
    /// `(kind, before, after)`.
    pub counts: Vec<(&'static str, usize, usize)>,
}

/// The graph as seen by streams over `alphabet` (one flag per token id),
/// folded and pruned (see the module docs).
pub fn specialize(graph: &Graph, alphabet: &[bool]) -> Result<Graph, SpecializeError> {
    let vocab = tvm_dsl::token::VOCAB_SIZE;
    if alphabet.len() != vocab {
        return Err(SpecializeError::Alphabet {
            found: alphabet.len(),
            expected: vocab,
        });
    }
    let folded = fold(graph, alphabet)?;
    Ok(prune(&folded))
}

/// Dimension counts per kind before and after.
pub fn removed(before: &Graph, after: &Graph) -> Removed {
    let b = before.counts();
    let a = after.counts();
    Removed {
        counts: b
            .iter()
            .zip(&a)
            .map(|((k, x), (_, y))| (*k, *x, *y))
            .collect(),
    }
}

/// `e` with each dimension replaced by its new expression.
fn substitute(map: &[Expr], e: &Expr) -> Expr {
    let mut out = Expr::constant(e.constant_term().clone());
    for (d, c) in e.terms() {
        out = out + map[d.index()].scale(c);
    }
    out
}

struct Folder<'a> {
    out: Graph,
    ranges: Ranges,
    alphabet: &'a [bool],
}

impl Folder<'_> {
    /// Bounds the dimensions added since the last call.
    fn sync(&mut self) -> Result<(), RangeError> {
        while self.ranges.len() < self.out.dims().len() {
            let node = self.out.dims()[self.ranges.len()].node.clone();
            self.ranges.push(self.out.features(), &node)?;
        }
        Ok(())
    }

    fn is_zero(&self, e: &Expr) -> bool {
        let i = self.ranges.of_expr(e);
        i.lo.is_zero() && i.hi.is_zero()
    }

    fn node(&mut self, source: &Graph, node: &Node, map: &[Expr]) -> Expr {
        let sub = |e: &Expr| substitute(map, e);
        match node {
            Node::Input(Input::One) => self.out.one(),
            Node::Input(Input::Position) => self.out.position(),
            Node::Input(Input::PositionSquared) => {
                Expr::dim(self.out.add(Node::Input(Input::PositionSquared)))
            }
            Node::Input(Input::Feature(f)) => {
                let feature = &source.features()[*f as usize];
                let mut seen = feature
                    .values
                    .iter()
                    .zip(self.alphabet)
                    .filter(|(_, ok)| **ok)
                    .map(|(v, _)| *v);
                let first = seen.next().unwrap_or(0);
                if seen.all(|v| v == first) {
                    return Expr::int(first);
                }
                let values = feature
                    .values
                    .iter()
                    .zip(self.alphabet)
                    .map(|(v, ok)| if *ok { *v } else { 0 })
                    .collect();
                self.out.feature(&feature.name, values)
            }
            Node::ReGLU { a, b } => {
                let (a, b) = (sub(a), sub(b));
                let ib = self.ranges.of_expr(&b);
                if !ib.hi.is_positive() || self.is_zero(&a) {
                    Expr::zero()
                } else if !ib.lo.is_negative() && b.is_constant() {
                    a.scale(b.constant_term())
                } else if !ib.lo.is_negative() && a.is_constant() {
                    b.scale(a.constant_term())
                } else {
                    self.out.reglu(a, b)
                }
            }
            Node::Persist(e) => {
                let e = sub(e);
                if e.is_constant() {
                    e
                } else {
                    self.out.persist(e)
                }
            }
            Node::LookUp(l) => {
                let l = LookUp {
                    query: sub(&l.query),
                    key: sub(&l.key),
                    active: sub(&l.active),
                    value: sub(&l.value),
                    tie: l.tie,
                };
                if self.is_zero(&l.active) || self.is_zero(&l.value) {
                    Expr::zero()
                } else {
                    self.out.lookup(l)
                }
            }
            Node::CumSum(e) => {
                let e = sub(e);
                if self.is_zero(&e) {
                    Expr::zero()
                } else {
                    self.out.cumsum(e)
                }
            }
        }
    }
}

fn fold(graph: &Graph, alphabet: &[bool]) -> Result<Graph, SpecializeError> {
    let mut f = Folder {
        out: Graph::new(),
        ranges: Ranges::new(MAX_POSITION),
        alphabet,
    };
    let mut map: Vec<Expr> = Vec::with_capacity(graph.dims().len());
    for dimension in graph.dims() {
        f.out.enter_group(&graph.groups()[dimension.group as usize]);
        let e = f.node(graph, &dimension.node, &map);
        f.sync()?;
        if let (Some(name), [(d, c)]) = (&dimension.name, e.terms())
            && c == &tvm_dsl::expr::int(1)
            && e.constant_term().is_zero()
        {
            f.out.name(*d, name);
        }
        map.push(e);
    }
    for (name, e) in graph.outputs() {
        let e = substitute(&map, e);
        f.out.output(name, e);
    }
    Ok(f.out)
}

/// The outputs' cone of `graph`, renumbered in order.
fn prune(graph: &Graph) -> Graph {
    let roots: Vec<Dim> = graph.outputs().iter().flat_map(|(_, e)| e.dims()).collect();
    let keep = graph.cone(&roots);
    let mut out = Graph::new();
    let mut map: Vec<Expr> = vec![Expr::zero(); graph.dims().len()];
    for d in keep {
        let dimension = graph.dim(d);
        out.enter_group(&graph.groups()[dimension.group as usize]);
        let sub = |e: &Expr| substitute(&map, e);
        let e = match &dimension.node {
            Node::Input(Input::Feature(f)) => {
                let feature = &graph.features()[*f as usize];
                out.feature(&feature.name, feature.values.clone())
            }
            Node::Input(i) => Expr::dim(out.add(Node::Input(i.clone()))),
            Node::ReGLU { a, b } => out.reglu(sub(a), sub(b)),
            Node::Persist(e) => Expr::dim(out.add(Node::Persist(sub(e)))),
            Node::LookUp(l) => out.lookup(LookUp {
                query: sub(&l.query),
                key: sub(&l.key),
                active: sub(&l.active),
                value: sub(&l.value),
                tie: l.tie,
            }),
            Node::CumSum(e) => out.cumsum(sub(e)),
        };
        if let (Some(name), [(nd, _)]) = (&dimension.name, e.terms()) {
            out.name(*nd, name);
        }
        map[d.index()] = e;
    }
    for (name, e) in graph.outputs() {
        let e = substitute(&map, e);
        out.output(name, e);
    }
    out
}

/// The machine graph specialised to `program`: instruction fetch baked
/// into tables ([`tvm_dsl::machine::with_program`]), then partially
/// evaluated over the program's [`tvm_dsl::machine::alphabet`].
pub fn machine(program: &[tvm_dsl::isa::Instr]) -> Result<Graph, SpecializeError> {
    let baked = tvm_dsl::machine::with_program(program);
    specialize(&baked, &tvm_dsl::machine::alphabet(program))
}
