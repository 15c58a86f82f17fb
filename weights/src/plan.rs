//! The plan: the DSL graph rewritten into the parts of an ordinary
//! transformer — embedding values, 2-D attention heads (hardmax or mean),
//! and FFN outputs (sums of ReGLU neurons) — still as exact linear forms.
//!
//! A plan dimension is one residual value per position, written by exactly
//! one [`Unit`]. Dimensions are in topological order (a unit reads only
//! earlier dimensions), so the schedule can place them layer by layer.
//!
//! # How each primitive becomes transformer parts
//!
//! - `Input` → an embedding value (`one`, `position`, `position²`, or a
//!   per-token table).
//! - `ReGLU{a, b}` → one FFN neuron `relu(b)·a`; `Persist(e)` → nothing:
//!   its readers read the linear form `e` (a sublayer saved per persist on
//!   a path) — except that the neurons only a persist reads (two or more)
//!   are summed by one FFN unit into one dimension, the persist's.
//! - `CumSum(e)` → a **mean** head (uniform attention over `0..=i`, value
//!   `e`: output `Σe/(i+1)`) and one neuron `relu(position + 1)·mean`. The
//!   float engine computes that neuron as the running sum itself
//!   ([`Plan::running_sums`] names the pairs), which is exact; the exact
//!   engine multiplies.
//! - `LookUp{query q, key k, active a, value v, tie}` → one **hardmax** head
//!   with query `(q, 1)`, key `(2k', −k'²)` and values `(v, k')`, where
//!   `k' = a·k + (1 − a)·SENTINEL`: positions that do not take part all
//!   share one key far from every query. The score `q·2k' − k'² =
//!   q² − (q − k')²` is maximal exactly where `k' = q`, and every other
//!   integer key loses by at least 1, so the hardmax (with the lookup's tie
//!   rule) returns the matching position when there is one. A neuron triple
//!   after the head turns "no match" into 0: with `d = k'_returned − q`,
//!   `v·[d = 0] = relu(d+1)·v − 2·relu(d)·v + relu(d−1)·v` (integer `d`).
//!   `a·k` and `a·k²` come from neurons one FFN earlier:
//!   `a·k = relu(a)·k` and `a·k² = relu(k − M(1−a))·k − relu(−k − M(1−a))·k`
//!   (exact for `|k| ≤ M = KEY_BOUND`; for larger inactive keys the point
//!   only sinks lower and never wins). When `a` is the constant 1 or `k` is
//!   constant, no neuron is needed.
//! - A lookup whose key and query are the same constant (“the latest
//!   position where `a`”) and whose `active` and `value` are token features
//!   returns the feature product `a·v` directly: positions that do not take
//!   part contribute 0, so no gating neuron is needed.
//!
//! # Supported range
//!
//! The construction is exact when every key and query that matters lies in
//! `(−KEY_BOUND, KEY_BOUND)`: then `k'` and `q` are integers below 2²⁴ and
//! `k'²` below 2⁴⁸, so every score is an integer that f64 holds exactly.
//! The machine keeps its keys there (`tvm_dsl::isa::MAX_POSITION` and the
//! other limits).

use std::collections::HashMap;

use tvm_dsl::expr::{Dim, Expr, Rational, int};
use tvm_dsl::graph::{Graph, Input, LookUp, Node, Tie};

/// `M`: keys and queries that matter lie strictly inside `±KEY_BOUND`.
pub const KEY_BOUND: i64 = 1 << 22;

/// The key of positions that do not take part in a lookup: farther than
/// `KEY_BOUND` from every query that matters.
pub const SENTINEL: i64 = 1 << 23;

/// One FFN neuron contributing `coef · relu(b) · a`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Neuron {
    /// The DSL `ReGLU` it is, when it is one (`None` for the neurons the
    /// plan adds).
    pub origin: Option<Dim>,
    /// Its weight in the output.
    pub coef: Rational,
    /// The value (linear) side.
    pub a: Expr,
    /// The gate side.
    pub b: Expr,
}

/// What the embedding writes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Embedding {
    /// The constant 1.
    One,
    /// The position.
    Position,
    /// The position squared.
    PositionSquared,
    /// A value per token id.
    Token(Vec<i64>),
}

/// How a head weighs earlier positions.
#[allow(clippy::large_enum_variant)] // a few hundred heads per model
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum HeadKind {
    /// Hardmax over scores `query · key` (2-D), ties broken by `tie`.
    Hardmax {
        /// `(q, 1)`.
        query: [Expr; 2],
        /// `(2k', −k'²)`.
        key: [Expr; 2],
        /// Latest or earliest among equal scores.
        tie: Tie,
    },
    /// Uniform weights over `0..=i`: the mean of the values.
    Mean,
}

/// An attention head.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Head {
    /// Hardmax or mean.
    pub kind: HeadKind,
    /// The value vector (one dimension per component).
    pub values: Vec<Expr>,
    /// The DSL `LookUp` or `CumSum` dimension the head implements.
    pub origin: Dim,
}

/// What writes a plan dimension.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Unit {
    /// The embedding.
    Embed(Embedding),
    /// Component `component` of head `head`'s output.
    Head {
        /// Index into [`Plan::heads`].
        head: u32,
        /// Which value component.
        component: u32,
    },
    /// An FFN output: the sum of its neurons.
    Ffn(Vec<Neuron>),
}

/// Where a unit runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// The embedding (time 0).
    Embed,
    /// An attention sublayer.
    Attention,
    /// An FFN sublayer.
    Ffn,
}

impl Unit {
    /// The phase the unit needs.
    pub fn phase(&self) -> Phase {
        match self {
            Unit::Embed(_) => Phase::Embed,
            Unit::Head { .. } => Phase::Attention,
            Unit::Ffn(_) => Phase::Ffn,
        }
    }
}

/// One plan dimension.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanDim {
    /// What writes it.
    pub unit: Unit,
    /// A readable name.
    pub name: String,
    /// The DSL dimension it computes, if it is one (not an auxiliary value).
    pub origin: Option<Dim>,
}

/// A transformer-shaped graph.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Dimensions in topological order.
    pub dims: Vec<PlanDim>,
    /// Attention heads.
    pub heads: Vec<Head>,
    /// Named outputs over plan dimensions.
    pub outputs: Vec<(String, Expr)>,
    /// `(mean head, FFN dimension)`: the FFN dimension is
    /// `relu(position + 1) · mean`, i.e. the running sum of the head's value.
    pub running_sums: Vec<(u32, Dim)>,
    /// For each DSL dimension, the plan expression that holds its value.
    pub of_graph: Vec<Expr>,
}

/// A graph the plan cannot lower.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// A lookup's `active` is not a 0/1 linear form the plan can gate with.
    #[error("lookup d{dim}: {message}")]
    LookUp {
        /// The DSL dimension.
        dim: u32,
        /// What is wrong.
        message: String,
    },
}

struct Builder<'g> {
    graph: &'g Graph,
    plan: Plan,
    /// Hash-consing of units (equal units are one dimension).
    units: HashMap<Unit, Dim>,
    /// `(k, a)` → `(a·k, a·k²)` neurons, shared by lookups.
    keys: HashMap<(Expr, Expr), (Expr, Expr)>,
}

impl Builder<'_> {
    fn add(&mut self, unit: Unit, name: String, origin: Option<Dim>) -> Dim {
        if let Some(&d) = self.units.get(&unit) {
            return d;
        }
        let d = Dim(self.plan.dims.len() as u32);
        self.units.insert(unit.clone(), d);
        self.plan.dims.push(PlanDim { unit, name, origin });
        d
    }

    fn ffn(&mut self, neurons: Vec<Neuron>, name: String, origin: Option<Dim>) -> Expr {
        Expr::dim(self.add(Unit::Ffn(neurons), name, origin))
    }

    fn embed(&mut self, e: Embedding, name: String, origin: Option<Dim>) -> Expr {
        Expr::dim(self.add(Unit::Embed(e), name, origin))
    }

    fn head(&mut self, head: Head, name: &str) -> Vec<Expr> {
        let h = self.plan.heads.len() as u32;
        let n = head.values.len() as u32;
        self.plan.heads.push(head);
        (0..n)
            .map(|component| {
                Expr::dim(self.add(
                    Unit::Head { head: h, component },
                    format!("{name}.head{component}"),
                    None,
                ))
            })
            .collect()
    }

    /// A DSL expression over plan dimensions.
    fn tr(&self, e: &Expr) -> Expr {
        let mut out = Expr::constant(e.constant_term().clone());
        for (d, c) in e.terms() {
            out = out + self.plan.of_graph[d.index()].scale(c);
        }
        out
    }

    /// The per-token value of a DSL expression, if it reads only token
    /// features and `one`.
    fn token_table(&self, e: &Expr) -> Option<Vec<Rational>> {
        let n = tvm_dsl::token::VOCAB_SIZE;
        let mut table = vec![e.constant_term().clone(); n];
        for (d, c) in e.terms() {
            match &self.graph.dim(*d).node {
                Node::Input(Input::One) => {
                    for t in &mut table {
                        *t += c;
                    }
                }
                Node::Input(Input::Feature(f)) => {
                    let values = &self.graph.features()[*f as usize].values;
                    for (t, v) in table.iter_mut().zip(values) {
                        *t += c * int(*v);
                    }
                }
                _ => return None,
            }
        }
        Some(table)
    }

    fn position(&mut self) -> Expr {
        self.embed(Embedding::Position, "position".into(), None)
    }

    fn lookup(&mut self, dim: Dim, l: &LookUp, name: &str) -> Result<Expr, PlanError> {
        let (q, k, a, v) = (
            self.tr(&l.query),
            self.tr(&l.key),
            self.tr(&l.active),
            self.tr(&l.value),
        );
        let sentinel = int(SENTINEL);
        // The latest/earliest position where a token feature holds.
        if l.key.is_constant()
            && l.key == l.query
            && let (Some(at), Some(vt)) = (self.token_table(&l.active), self.token_table(&l.value))
        {
            let product: Option<Vec<i64>> = at
                .iter()
                .zip(&vt)
                .map(|(x, y)| {
                    let p = x * y;
                    if p.is_integer() {
                        num_traits::ToPrimitive::to_i64(&p.to_integer())
                    } else {
                        None
                    }
                })
                .collect();
            if let Some(product) = product {
                let av = self.embed(Embedding::Token(product), format!("{name}.gated"), None);
                let (k1, k2) = Self::flagged_constant_key(&a, l.key.constant_term());
                let out = self.head(
                    Head {
                        kind: HeadKind::Hardmax {
                            query: [q, Expr::int(1)],
                            key: [k1.scale(&int(2)), -k2],
                            tie: l.tie,
                        },
                        values: vec![av],
                        origin: dim,
                    },
                    name,
                );
                return Ok(out[0].clone());
            }
        }
        let active_is_one = a == Expr::int(1);
        let (k1, k2) = if k.is_constant() {
            let c = k.constant_term().clone();
            if active_is_one {
                (k.clone(), Expr::constant(&c * &c))
            } else {
                Self::flagged_constant_key(&a, &c)
            }
        } else if active_is_one {
            let key = (k.clone(), a.clone());
            let k2 = match self.keys.get(&key) {
                Some((_, k2)) => k2.clone(),
                None => {
                    let k2 = self.ffn(
                        vec![
                            Neuron {
                                origin: None,
                                coef: int(1),
                                a: k.clone(),
                                b: k.clone(),
                            },
                            Neuron {
                                origin: None,
                                coef: int(-1),
                                a: k.clone(),
                                b: -k.clone(),
                            },
                        ],
                        format!("{name}.key²"),
                        None,
                    );
                    self.keys.insert(key, (k.clone(), k2.clone()));
                    k2
                }
            };
            (k.clone(), k2)
        } else {
            if a.is_constant() {
                return Err(PlanError::LookUp {
                    dim: dim.0,
                    message: format!("active is the constant {a}, expected 0/1 per position"),
                });
            }
            let key = (k.clone(), a.clone());
            let (ak, ak2) = match self.keys.get(&key) {
                Some(x) => x.clone(),
                None => {
                    let off = (Expr::int(1) - a.clone()).scale(&int(KEY_BOUND));
                    let ak = self.ffn(
                        vec![Neuron {
                            origin: None,
                            coef: int(1),
                            a: k.clone(),
                            b: a.clone(),
                        }],
                        format!("{name}.active·key"),
                        None,
                    );
                    let ak2 = self.ffn(
                        vec![
                            Neuron {
                                origin: None,
                                coef: int(1),
                                a: k.clone(),
                                b: k.clone() - off.clone(),
                            },
                            Neuron {
                                origin: None,
                                coef: int(-1),
                                a: k.clone(),
                                b: -k.clone() - off,
                            },
                        ],
                        format!("{name}.active·key²"),
                        None,
                    );
                    self.keys.insert(key, (ak.clone(), ak2.clone()));
                    (ak, ak2)
                }
            };
            let inactive = Expr::int(1) - a.clone();
            (
                ak + inactive.scale(&sentinel),
                ak2 + inactive.scale(&(&sentinel * &sentinel)),
            )
        };
        let out = self.head(
            Head {
                kind: HeadKind::Hardmax {
                    query: [q.clone(), Expr::int(1)],
                    key: [k1.scale(&int(2)), -k2],
                    tie: l.tie,
                },
                values: vec![v, k1],
                origin: dim,
            },
            name,
        );
        let (value, key) = (out[0].clone(), out[1].clone());
        let d = key - q;
        Ok(self.ffn(
            vec![
                Neuron {
                    origin: None,
                    coef: int(1),
                    a: value.clone(),
                    b: d.clone() + 1,
                },
                Neuron {
                    origin: None,
                    coef: int(-2),
                    a: value.clone(),
                    b: d.clone(),
                },
                Neuron {
                    origin: None,
                    coef: int(1),
                    a: value,
                    b: d - 1,
                },
            ],
            name.to_owned(),
            Some(dim),
        ))
    }

    /// `k'` and `k'²` of a constant key `c` under a 0/1 flag `a`:
    /// `k' = a·c + (1−a)·SENTINEL`, `k'² = a·c² + (1−a)·SENTINEL²` — both
    /// linear in `a`, so no neuron is needed.
    fn flagged_constant_key(a: &Expr, c: &Rational) -> (Expr, Expr) {
        let s = int(SENTINEL);
        let inactive = Expr::int(1) - a.clone();
        (
            a.scale(c) + inactive.scale(&s),
            a.scale(&(c * c)) + inactive.scale(&(&s * &s)),
        )
    }
}

/// The `ReGLU` dimensions an FFN sums in place. A ReGLU read only by
/// `Persist`s is a candidate; a persist reading at least two candidates
/// becomes one FFN unit holding their neurons (a copy in each persist that
/// reads one) — one residual slot for the sum, not one per neuron: a baked
/// table of thousands of hinges is one dimension. A candidate is fused when
/// every persist reading it is such a unit (then it needs no slot of its
/// own); the units are found as a greatest fixpoint, since a persist that
/// keeps fewer than two fused neurons would cost a slot and save at most
/// one.
fn fused_neurons(graph: &Graph) -> Vec<bool> {
    let n = graph.dims().len();
    // Per dimension: the persists reading it, or None once anything else
    // (another node kind, an output) reads it.
    let mut readers: Vec<Option<Vec<usize>>> = vec![Some(Vec::new()); n];
    for (i, dim) in graph.dims().iter().enumerate() {
        let persist = matches!(dim.node, Node::Persist(_));
        for e in dim.node.operands() {
            for d in e.dims() {
                let slot = &mut readers[d.index()];
                match slot {
                    Some(list) if persist => list.push(i),
                    _ => *slot = None,
                }
            }
        }
    }
    for (_, e) in graph.outputs() {
        for d in e.dims() {
            readers[d.index()] = None;
        }
    }
    let candidate: Vec<bool> = (0..n)
        .map(|i| {
            matches!(graph.dims()[i].node, Node::ReGLU { .. })
                && readers[i].as_ref().is_some_and(|r| !r.is_empty())
        })
        .collect();
    let mut unit = vec![false; n];
    for (i, dim) in graph.dims().iter().enumerate() {
        if let Node::Persist(e) = &dim.node {
            unit[i] = e.dims().filter(|x| candidate[x.index()]).count() >= 2;
        }
    }
    let fused_now = |unit: &[bool], x: usize| {
        candidate[x]
            && readers[x]
                .as_ref()
                .is_some_and(|r| r.iter().all(|p| unit[*p]))
    };
    loop {
        let mut changed = false;
        for (i, dim) in graph.dims().iter().enumerate() {
            if let Node::Persist(e) = &dim.node
                && unit[i]
                && e.dims().filter(|x| fused_now(&unit, x.index())).count() < 2
            {
                unit[i] = false;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    (0..n).map(|x| fused_now(&unit, x)).collect()
}

impl Plan {
    /// Lowers a DSL graph.
    pub fn from_graph(graph: &Graph) -> Result<Plan, PlanError> {
        let mut b = Builder {
            graph,
            plan: Plan::default(),
            units: HashMap::new(),
            keys: HashMap::new(),
        };
        let fused = fused_neurons(graph);
        for (i, dim) in graph.dims().iter().enumerate() {
            let d = Dim(i as u32);
            let name = graph.label(d);
            let e = match &dim.node {
                Node::Input(Input::One) => b.embed(Embedding::One, name, Some(d)),
                Node::Input(Input::Position) => b.embed(Embedding::Position, name, Some(d)),
                Node::Input(Input::PositionSquared) => {
                    b.embed(Embedding::PositionSquared, name, Some(d))
                }
                Node::Input(Input::Feature(f)) => b.embed(
                    Embedding::Token(graph.features()[*f as usize].values.clone()),
                    name,
                    Some(d),
                ),
                // Fused into the persists that read it (below).
                Node::ReGLU { .. } if fused[i] => Expr::zero(),
                Node::ReGLU { a, b: gate } => {
                    let neuron = Neuron {
                        origin: Some(d),
                        coef: int(1),
                        a: b.tr(a),
                        b: b.tr(gate),
                    };
                    b.ffn(vec![neuron], name, Some(d))
                }
                // A linear form costs nothing in a transformer: every
                // reader's weights compute it from the residual directly.
                Node::Persist(e) => {
                    let (inner, rest): (Vec<_>, Vec<_>) =
                        e.terms().iter().partition(|(x, _)| fused[x.index()]);
                    if inner.is_empty() {
                        b.tr(e)
                    } else {
                        let neurons = inner
                            .iter()
                            .filter_map(|(x, c)| match &graph.dim(*x).node {
                                Node::ReGLU { a, b: gate } => Some(Neuron {
                                    origin: Some(*x),
                                    coef: c.clone(),
                                    a: b.tr(a),
                                    b: b.tr(gate),
                                }),
                                // Only ReGLUs are fused.
                                _ => None,
                            })
                            .collect();
                        let rest =
                            Expr::from_terms(rest.into_iter().cloned(), e.constant_term().clone());
                        b.ffn(neurons, name, Some(d)) + b.tr(&rest)
                    }
                }
                Node::CumSum(e) => {
                    let value = b.tr(e);
                    let mean = b.head(
                        Head {
                            kind: HeadKind::Mean,
                            values: vec![value],
                            origin: d,
                        },
                        &name,
                    );
                    let head = b.plan.heads.len() as u32 - 1;
                    let pos = b.position();
                    let sum = b.add(
                        Unit::Ffn(vec![Neuron {
                            origin: None,
                            coef: int(1),
                            a: mean[0].clone(),
                            b: pos + 1,
                        }]),
                        name,
                        Some(d),
                    );
                    b.plan.running_sums.push((head, sum));
                    Expr::dim(sum)
                }
                Node::LookUp(l) => b.lookup(d, l, &name)?,
            };
            b.plan.of_graph.push(e);
        }
        b.plan.outputs = graph
            .outputs()
            .iter()
            .map(|(n, e)| (n.clone(), b.tr(e)))
            .collect();
        Ok(b.plan)
    }

    /// The dimensions a unit reads.
    pub fn reads(&self, d: Dim) -> Vec<Dim> {
        let mut out: Vec<Dim> = match &self.dims[d.index()].unit {
            Unit::Embed(_) => Vec::new(),
            Unit::Head { head, .. } => {
                let h = &self.heads[*head as usize];
                let mut v: Vec<Dim> = h.values.iter().flat_map(|e| e.dims()).collect();
                if let HeadKind::Hardmax { query, key, .. } = &h.kind {
                    v.extend(query.iter().chain(key).flat_map(|e| e.dims()));
                }
                v
            }
            Unit::Ffn(neurons) => neurons
                .iter()
                .flat_map(|n| n.a.dims().chain(n.b.dims()))
                .collect(),
        };
        out.sort();
        out.dedup();
        out
    }

    /// The dependency DAG (petgraph): node `i` is dimension `i`, an edge
    /// runs from each dimension read to the unit reading it.
    pub fn dag(&self) -> petgraph::graph::DiGraph<Dim, ()> {
        let mut g = petgraph::graph::DiGraph::with_capacity(self.dims.len(), 2 * self.dims.len());
        let nodes: Vec<_> = (0..self.dims.len())
            .map(|i| g.add_node(Dim(i as u32)))
            .collect();
        for (i, &node) in nodes.iter().enumerate() {
            for x in self.reads(Dim(i as u32)) {
                g.add_edge(nodes[x.index()], node, ());
            }
        }
        g
    }

    /// The dimensions the outputs read.
    pub fn output_dims(&self) -> Vec<Dim> {
        let mut v: Vec<Dim> = self.outputs.iter().flat_map(|(_, e)| e.dims()).collect();
        v.sort();
        v.dedup();
        v
    }

    /// The output named `name`.
    pub fn output(&self, name: &str) -> Option<&Expr> {
        self.outputs.iter().find(|(n, _)| n == name).map(|(_, e)| e)
    }

    /// Counts: embedding values, heads, FFN dimensions, neurons.
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let mut embed = 0;
        let mut ffn = 0;
        let mut neurons = 0;
        for d in &self.dims {
            match &d.unit {
                Unit::Embed(_) => embed += 1,
                Unit::Head { .. } => {}
                Unit::Ffn(n) => {
                    ffn += 1;
                    neurons += n.len();
                }
            }
        }
        (embed, self.heads.len(), ffn, neurons)
    }
}
