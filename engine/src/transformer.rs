//! The transformer engines: a built model's tensors run token by token.
//!
//! One implementation, two number types ([`Scalar`]):
//!
//! - **float** (`f64`): the fast path. Hardmax heads are answered by an
//!   incremental 2-D convex hull per head ([`crate::hull`]); heads of one
//!   layer with identical key and value rows share one hull. Mean heads
//!   keep running sums, and the neurons the model declares as running sums
//!   (`relu(position + 1) · mean`) are computed as the sum itself — the
//!   structure is checked when the model is loaded, so the shortcut is
//!   exactly the product in exact arithmetic. Matrix-vector products use
//!   the sparse rows of the weights.
//! - **exact** ([`Q`]): the same tensors in exact rational arithmetic,
//!   true hardmax over exact scores (the hull with exact predicates) and
//!   exact tie rules; no floating point anywhere.
//!
//! Both engines evaluate an FFN's **hinge tables** — neurons of one layer
//! whose gates share one linear part `L` and whose values share one linear
//! part `V` (biases apart), as a baked program's instruction table is — by
//! a binary search of `L` among the sorted breakpoints and prefix sums of
//! the coefficients: the same function in `O(log n)` instead of `O(n)`,
//! equal to the neuron-by-neuron sum in exact arithmetic;
//! [`Transformer::neuron_by_neuron`] keeps the literal reading.
//!
//! The model's architecture is described in [`tvm_weights::model`].

use std::fmt::Debug;

use num_rational::BigRational;
use tvm_dsl::isa::MAX_POSITION;
use tvm_dsl::token::Token;
use tvm_weights::model::{CLASSES, HeadRule, Model, names};
use tvm_weights::model_file::{ExactTensor, rational_to_f64};

use crate::exact::Q;
use crate::hull::{Coord, Hull, Tie};

/// Numbers a transformer engine runs on.
pub trait Scalar: Coord + Debug + Send + 'static {
    /// The engine's name (`float`, `exact`).
    const NAME: &'static str;
    /// Whether declared running-sum neurons are computed as the sum.
    const RUNNING_SUMS: bool;
    /// A weight.
    fn weight(exact: &BigRational) -> Self;
    /// An integer.
    fn from_i64(v: i64) -> Self;
    /// Whether `self > 0`.
    fn positive(&self) -> bool;
    /// `sum / count`.
    fn mean(sum: &Self, count: u64) -> Self;
    /// The value if it is an integer fitting an `i64`.
    fn integer(&self) -> Option<i64>;
    /// `self += rhs · c`.
    fn add_product(&mut self, rhs: &Self, c: &Self);
    /// `self += rhs`.
    fn add_assign(&mut self, rhs: &Self);
}

impl Scalar for f64 {
    const NAME: &'static str = "float";
    const RUNNING_SUMS: bool = true;
    fn weight(exact: &BigRational) -> Self {
        rational_to_f64(exact)
    }
    fn from_i64(v: i64) -> Self {
        v as f64
    }
    fn positive(&self) -> bool {
        *self > 0.0
    }
    fn mean(sum: &Self, count: u64) -> Self {
        sum / count as f64
    }
    fn integer(&self) -> Option<i64> {
        // 2⁶³ (the literal) is exactly representable; below it converts exactly.
        (self.fract() == 0.0 && self.abs() < 9_223_372_036_854_775_808.0).then_some(*self as i64)
    }
    #[inline]
    fn add_product(&mut self, rhs: &Self, c: &Self) {
        *self += rhs * c;
    }
    #[inline]
    fn add_assign(&mut self, rhs: &Self) {
        *self += rhs;
    }
}

impl Scalar for Q {
    const NAME: &'static str = "exact";
    const RUNNING_SUMS: bool = false;
    fn weight(exact: &BigRational) -> Self {
        Q::from_rational(exact)
    }
    fn from_i64(v: i64) -> Self {
        Q::from(v)
    }
    fn positive(&self) -> bool {
        self.is_positive()
    }
    fn mean(sum: &Self, count: u64) -> Self {
        sum.divided_by(count)
    }
    fn integer(&self) -> Option<i64> {
        self.to_i64()
    }
    #[inline]
    fn add_product(&mut self, rhs: &Self, c: &Self) {
        if let (Q::Int(acc), Q::Int(x), Q::Int(w)) = (&mut *self, rhs, c) {
            if *x == 0 {
                return;
            }
            if let Some(sum) = x.checked_mul(*w).and_then(|p| acc.checked_add(p)) {
                *acc = sum;
                return;
            }
        }
        *self = self.plus(&rhs.times(c));
    }
    #[inline]
    fn add_assign(&mut self, rhs: &Self) {
        if let (Q::Int(acc), Q::Int(x)) = (&mut *self, rhs)
            && let Some(sum) = acc.checked_add(*x)
        {
            *acc = sum;
            return;
        }
        *self = self.plus(rhs);
    }
}

/// Why an engine could not load a model or go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransformerError {
    /// The model's tensors do not fit the engine.
    #[error("the model cannot be run: {0}")]
    Model(String),
    /// A hull refused a key (NaN, infinite, or out of the coordinate range).
    #[error("position {position}: head {head} of layer {layer}: {message}")]
    Attention {
        /// Where.
        position: u64,
        /// The layer.
        layer: usize,
        /// The head.
        head: usize,
        /// What happened.
        message: String,
    },
    /// The output head does not name one class.
    #[error("position {position}: the output head {message}")]
    Output {
        /// Where.
        position: u64,
        /// What.
        message: String,
    },
    /// The stream outgrew the model's supported range.
    #[error(
        "position {0} is past the model's supported range ({MAX_POSITION} positions); the program runs too long for the transformer"
    )]
    TooLong(u64),
}

/// Non-zero `(slot, coefficient)` pairs.
type Sparse<S> = Vec<(u32, S)>;

/// A sparse row: `Σ c·x[slot] + bias`.
#[derive(Clone, Debug)]
struct Row<S> {
    terms: Vec<(u32, S)>,
    bias: S,
}

impl<S: Scalar> Row<S> {
    #[inline]
    fn eval(&self, x: &[S]) -> S {
        let mut acc = self.bias.clone();
        for (s, c) in &self.terms {
            acc.add_product(&x[*s as usize], c);
        }
        acc
    }

    fn is_empty(&self) -> bool {
        self.terms.is_empty() && self.bias.compare(&S::zero()).is_eq()
    }
}

/// Where a head's answer comes from.
#[allow(clippy::large_enum_variant)] // a few per layer
#[derive(Debug)]
enum Store<S: Scalar> {
    /// A hull shared by the heads with these key and value rows.
    Hull {
        hull: Hull<S, [S; 2]>,
        key: [Row<S>; 2],
        value: [Row<S>; 2],
    },
    /// Running sums of the value rows.
    Mean { value: [Row<S>; 2], sum: [S; 2] },
}

#[derive(Debug)]
struct HeadW<S> {
    rule: HeadRule,
    query: [Row<S>; 2],
    store: usize,
    /// Slot and coefficient per output component.
    out: [Vec<(u32, S)>; 2],
}

#[derive(Debug)]
struct NeuronW<S> {
    gate: Row<S>,
    value: Row<S>,
    out: Vec<(u32, S)>,
    /// For running sums: (layer, store) of the mean head whose sum this is.
    running: Option<(usize, usize)>,
}

/// Neurons `relu(L + βᵢ)·(V + cᵢ)` of one layer — gates sharing one linear
/// part `L`, values one linear part `V`, biases apart — sorted by
/// breakpoint `τᵢ = −βᵢ`: neuron `i` is active iff `L > τᵢ`, so the active
/// ones are a prefix, and their contribution to slot `s` is
/// `V·(L·Σwᵢₛ + Σβᵢwᵢₛ) + L·Σcᵢwᵢₛ + Σβᵢcᵢwᵢₛ` over that prefix.
#[derive(Debug)]
struct HingeTable<S> {
    /// `L` (the shared gate terms, no bias).
    gate: Vec<(u32, S)>,
    /// `V` (the shared value terms, no bias).
    value: Vec<(u32, S)>,
    /// The breakpoints, ascending.
    breakpoints: Vec<S>,
    /// Per output slot: the four prefix sums over the first `k` neurons,
    /// `k = 0..=n`.
    sums: Vec<(u32, Vec<[S; 4]>)>,
}

/// The fewest neurons worth a table: below it the neuron loop is as fast.
const MIN_HINGE_TABLE: usize = 16;

impl<S: Scalar> HingeTable<S> {
    /// Groups the hinge neurons of a layer into tables, removing them from
    /// `neurons` (run after the running sums are resolved: their indices
    /// change).
    fn find(neurons: &mut Vec<NeuronW<S>>) -> Vec<HingeTable<S>> {
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for (i, n) in neurons.iter().enumerate() {
            if n.running.is_some() || n.gate.terms.is_empty() {
                continue;
            }
            let first = |g: &Vec<usize>| &neurons[g[0]];
            match groups.iter_mut().find(|g| {
                same(&first(g).gate.terms, &n.gate.terms)
                    && same(&first(g).value.terms, &n.value.terms)
            }) {
                Some(g) => g.push(i),
                None => groups.push(vec![i]),
            }
        }
        let mut tables = Vec::new();
        let mut tabled = vec![false; neurons.len()];
        for mut group in groups {
            if group.len() < MIN_HINGE_TABLE {
                continue;
            }
            group.sort_by(|&a, &b| neurons[b].gate.bias.compare(&neurons[a].gate.bias));
            let mut slots: Vec<u32> = group
                .iter()
                .flat_map(|&i| neurons[i].out.iter().map(|(s, _)| *s))
                .collect();
            slots.sort_unstable();
            slots.dedup();
            let zero = || std::array::from_fn(|_| S::zero());
            let mut sums: Vec<(u32, Vec<[S; 4]>)> =
                slots.iter().map(|&s| (s, vec![zero()])).collect();
            for &i in &group {
                let n = &neurons[i];
                let (beta, c) = (&n.gate.bias, &n.value.bias);
                for (slot, prefix) in &mut sums {
                    let mut next = prefix.last().cloned().unwrap_or_else(zero);
                    for (s, w) in &n.out {
                        if s == slot {
                            let cw = c.mul(w);
                            next[0].add_assign(w);
                            next[1].add_product(beta, w);
                            next[2].add_assign(&cw);
                            next[3].add_product(beta, &cw);
                        }
                    }
                    prefix.push(next);
                }
            }
            let breakpoints = group.iter().map(|&i| neurons[i].gate.bias.neg()).collect();
            let gate = neurons[group[0]].gate.terms.clone();
            let value = neurons[group[0]].value.terms.clone();
            for &i in &group {
                tabled[i] = true;
            }
            tables.push(HingeTable {
                gate,
                value,
                breakpoints,
                sums,
            });
        }
        let mut flags = tabled.into_iter();
        neurons.retain(|_| !flags.next().unwrap_or(false));
        tables
    }

    /// Adds the table's outputs at `x` to `delta`.
    fn eval(&self, x: &[S], delta: &mut Vec<(u32, S)>) {
        let linear = |terms: &[(u32, S)]| {
            let mut acc = S::zero();
            for (s, c) in terms {
                acc.add_product(&x[*s as usize], c);
            }
            acc
        };
        let l = linear(&self.gate);
        let k = self.breakpoints.partition_point(|t| t.compare(&l).is_lt());
        if k == 0 {
            return;
        }
        let v = linear(&self.value);
        for (slot, prefix) in &self.sums {
            let [a0, b0, a1, b1] = &prefix[k];
            let mut shared = b0.clone();
            shared.add_product(&l, a0);
            let mut out = b1.clone();
            out.add_product(&l, a1);
            out.add_product(&v, &shared);
            delta.push((*slot, out));
        }
    }
}

#[derive(Debug)]
struct LayerW<S: Scalar> {
    heads: Vec<HeadW<S>>,
    stores: Vec<Store<S>>,
    neurons: Vec<NeuronW<S>>,
    tables: Vec<HingeTable<S>>,
}

/// A transformer over numbers `S`, positioned after the tokens pushed.
#[derive(Debug)]
pub struct Transformer<S: Scalar> {
    d_model: usize,
    token: Vec<Vec<(u32, S)>>,
    position: [Vec<(u32, S)>; 2],
    layers: Vec<LayerW<S>>,
    unembed: Vec<Row<S>>,
    readout: Vec<(String, Row<S>)>,
    x: Vec<S>,
    delta: Vec<(u32, S)>,
    scratch: Vec<S>,
    pos: u64,
}

/// Rows of a `[n, d]` or `[h, c, d]` tensor: entries grouped by all but the
/// last index, in order.
fn rows<S: Scalar>(t: &ExactTensor, prefix_len: usize) -> Vec<(Vec<usize>, Sparse<S>)> {
    let mut out: Vec<(Vec<usize>, Sparse<S>)> = Vec::new();
    for (index, v) in &t.entries {
        let (prefix, last) = index.split_at(prefix_len);
        let entry = (last[0] as u32, S::weight(v));
        match out.last_mut() {
            Some((p, r)) if p.as_slice() == prefix => r.push(entry),
            _ => out.push((prefix.to_vec(), vec![entry])),
        }
    }
    out
}

/// The tensor's rows as a dense table of sparse rows.
fn table<S: Scalar>(t: &ExactTensor, shape: &[usize]) -> Vec<Vec<(u32, S)>> {
    let n: usize = shape.iter().product();
    let mut out: Vec<Vec<(u32, S)>> = (0..n).map(|_| Vec::new()).collect();
    for (prefix, row) in rows::<S>(t, shape.len()) {
        let flat = prefix.iter().zip(shape).fold(0, |acc, (i, n)| acc * n + i);
        if let Some(slot) = out.get_mut(flat) {
            *slot = row;
        }
    }
    out
}

/// Bias values of a `[n]` or `[h, c]` tensor, flat.
fn biases<S: Scalar>(t: &ExactTensor, n: usize) -> Vec<S> {
    let mut out: Vec<S> = (0..n).map(|_| S::zero()).collect();
    for (index, v) in &t.entries {
        let flat = match index.as_slice() {
            [i] => *i,
            [h, c] => h * 2 + c,
            _ => continue,
        };
        if let Some(slot) = out.get_mut(flat) {
            *slot = S::weight(v);
        }
    }
    out
}

fn err(message: impl Into<String>) -> TransformerError {
    TransformerError::Model(message.into())
}

fn same_row<S: Scalar>(a: &Row<S>, b: &Row<S>) -> bool {
    a.bias.compare(&b.bias).is_eq() && same(&a.terms, &b.terms)
}

/// Whether two sparse rows have the same terms.
fn same<S: Scalar>(a: &[(u32, S)], b: &[(u32, S)]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.0 == y.0 && x.1.compare(&y.1).is_eq())
}

impl<S: Scalar> Transformer<S> {
    /// Loads a model's tensors; hinge tables are evaluated as tables.
    pub fn new(model: &Model) -> Result<Transformer<S>, TransformerError> {
        Transformer::load(model, true)
    }

    /// Loads a model's tensors, every neuron evaluated on its own (no
    /// hinge tables): the literal reading, for differential tests.
    pub fn neuron_by_neuron(model: &Model) -> Result<Transformer<S>, TransformerError> {
        Transformer::load(model, false)
    }

    fn load(model: &Model, hinge_tables: bool) -> Result<Transformer<S>, TransformerError> {
        model.check_shapes().map_err(|e| err(e.to_string()))?;
        let layout = &model.layout;
        let d = layout.d_model as usize;
        let get = |name: &str| model.tensor(name).map_err(|e| err(e.to_string()));
        let vocab = tvm_dsl::token::VOCAB_SIZE;
        let token = table::<S>(get(names::TOKEN)?, &[vocab]);
        let position_rows = table::<S>(get(names::POSITION)?, &[2]);
        let position = [position_rows[0].clone(), position_rows[1].clone()];
        let pos_slot = match position[0].as_slice() {
            [(s, c)] if c.compare(&S::from_i64(1)).is_eq() => Some(*s),
            _ => None,
        };

        let mut layers: Vec<LayerW<S>> = Vec::with_capacity(layout.layers.len());
        for (l, ll) in layout.layers.iter().enumerate() {
            let h_n = ll.heads.len();
            let mut heads = Vec::with_capacity(h_n);
            let mut stores: Vec<Store<S>> = Vec::new();
            if h_n > 0 {
                let part = |p: &str| get(&names::layer(l, p));
                let q = table::<S>(part("attn.q")?, &[h_n, 2]);
                let k = table::<S>(part("attn.k")?, &[h_n, 2]);
                let v = table::<S>(part("attn.v")?, &[h_n, 2]);
                let o = table::<S>(part("attn.o")?, &[h_n, 2]);
                let qb = biases::<S>(part("attn.q_bias")?, h_n * 2);
                let kb = biases::<S>(part("attn.k_bias")?, h_n * 2);
                let vb = biases::<S>(part("attn.v_bias")?, h_n * 2);
                let row = |t: &[Vec<(u32, S)>], b: &[S], i: usize| Row {
                    terms: t[i].clone(),
                    bias: b[i].clone(),
                };
                for (h, rule) in ll.heads.iter().enumerate() {
                    let (i0, i1) = (2 * h, 2 * h + 1);
                    let value = [row(&v, &vb, i0), row(&v, &vb, i1)];
                    let store = match rule {
                        HeadRule::Mean => {
                            stores.push(Store::Mean {
                                value,
                                sum: [S::zero(), S::zero()],
                            });
                            stores.len() - 1
                        }
                        HeadRule::Latest | HeadRule::Earliest => {
                            let key = [row(&k, &kb, i0), row(&k, &kb, i1)];
                            let shared = stores.iter().position(|s| match s {
                                Store::Hull {
                                    key: k2, value: v2, ..
                                } => {
                                    same_row(&key[0], &k2[0])
                                        && same_row(&key[1], &k2[1])
                                        && same_row(&value[0], &v2[0])
                                        && same_row(&value[1], &v2[1])
                                }
                                Store::Mean { .. } => false,
                            });
                            match shared {
                                Some(s) => s,
                                None => {
                                    stores.push(Store::Hull {
                                        hull: Hull::new(),
                                        key,
                                        value,
                                    });
                                    stores.len() - 1
                                }
                            }
                        }
                    };
                    heads.push(HeadW {
                        rule: *rule,
                        query: [row(&q, &qb, i0), row(&q, &qb, i1)],
                        store,
                        out: [o[i0].clone(), o[i1].clone()],
                    });
                }
            }
            let n = ll.neurons as usize;
            let mut neurons = Vec::with_capacity(n);
            if n > 0 {
                let part = |p: &str| get(&names::layer(l, p));
                let gate = table::<S>(part("ffn.gate")?, &[n]);
                let value = table::<S>(part("ffn.value")?, &[n]);
                let out = table::<S>(part("ffn.out")?, &[n]);
                let gb = biases::<S>(part("ffn.gate_bias")?, n);
                let vb = biases::<S>(part("ffn.value_bias")?, n);
                for i in 0..n {
                    neurons.push(NeuronW {
                        gate: Row {
                            terms: gate[i].clone(),
                            bias: gb[i].clone(),
                        },
                        value: Row {
                            terms: value[i].clone(),
                            bias: vb[i].clone(),
                        },
                        out: out[i].clone(),
                        running: None,
                    });
                }
            }
            layers.push(LayerW {
                heads,
                stores,
                neurons,
                tables: Vec::new(),
            });
        }

        // Running sums: checked to be exactly `relu(position + 1) · mean`
        // where `mean` is read from the head's only output slot, in the
        // head's layer or later (the schedule keeps the slot until its last
        // reader, the neuron).
        if S::RUNNING_SUMS {
            for rs in &layout.running_sums {
                let (hl, h, nl, n) = (
                    rs.head_layer as usize,
                    rs.head as usize,
                    rs.neuron_layer as usize,
                    rs.neuron as usize,
                );
                let head = layers
                    .get(hl)
                    .and_then(|l| l.heads.get(h))
                    .ok_or_else(|| err(format!("running sum {rs:?}: no such head")))?;
                let store = head.store;
                let one = S::from_i64(1);
                let mean_slot = match (head.out[0].as_slice(), head.out[1].is_empty()) {
                    ([(s, c)], true) if c.compare(&one).is_eq() => *s,
                    _ => {
                        return Err(err(format!(
                            "running sum {rs:?}: the head writes more than one slot"
                        )));
                    }
                };
                let neuron = layers
                    .get(nl)
                    .and_then(|l| l.neurons.get(n))
                    .ok_or_else(|| err(format!("running sum {rs:?}: no such neuron")))?;
                let gate_ok = match (neuron.gate.terms.as_slice(), pos_slot) {
                    ([(s, c)], Some(p)) => *s == p && c.compare(&one).is_eq(),
                    _ => false,
                } && neuron.gate.bias.compare(&one).is_eq();
                let value_ok = matches!(neuron.value.terms.as_slice(), [(s, c)] if *s == mean_slot && c.compare(&one).is_eq())
                    && neuron.value.bias.compare(&S::zero()).is_eq();
                // Nothing may write the mean's slot between the head and the neuron.
                let mean_of_head = matches!(
                    layers[hl].stores.get(store),
                    Some(Store::Mean { value, .. }) if value[1].is_empty()
                );
                if !(gate_ok && value_ok && mean_of_head && nl >= hl) {
                    return Err(err(format!(
                        "running sum {rs:?}: the neuron is not relu(position + 1) · mean of its head"
                    )));
                }
                layers[nl].neurons[n].running = Some((hl, store));
            }
        }

        if hinge_tables {
            for layer in &mut layers {
                layer.tables = HingeTable::find(&mut layer.neurons);
            }
        }

        let unembed_t = table::<S>(get(names::UNEMBED)?, &[CLASSES]);
        let unembed_b = biases::<S>(get(names::UNEMBED_BIAS)?, CLASSES);
        let unembed = unembed_t
            .into_iter()
            .zip(unembed_b)
            .map(|(terms, bias)| Row { terms, bias })
            .collect();
        let r = layout.readout.len();
        let readout_t = table::<S>(get(names::READOUT)?, &[r]);
        let readout_b = biases::<S>(get(names::READOUT_BIAS)?, r);
        let readout = layout
            .readout
            .iter()
            .cloned()
            .zip(readout_t.into_iter().zip(readout_b))
            .map(|(n, (terms, bias))| (n, Row { terms, bias }))
            .collect();
        Ok(Transformer {
            d_model: d,
            token,
            position,
            layers,
            unembed,
            readout,
            x: (0..d).map(|_| S::zero()).collect(),
            delta: Vec::new(),
            scratch: Vec::new(),
            pos: 0,
        })
    }

    /// Positions pushed so far.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// The residual stream at the last position pushed.
    pub fn residual(&self) -> &[S] {
        &self.x
    }

    /// Hull points kept, over all heads.
    pub fn hull_points(&self) -> usize {
        self.layers
            .iter()
            .flat_map(|l| &l.stores)
            .map(|s| match s {
                Store::Hull { hull, .. } => hull.stored(),
                Store::Mean { .. } => 0,
            })
            .sum()
    }

    /// Runs every layer on the next token.
    pub fn push(&mut self, token: Token) -> Result<(), TransformerError> {
        let pos = self.pos;
        if pos >= MAX_POSITION {
            return Err(TransformerError::TooLong(pos));
        }
        for v in &mut self.x {
            *v = S::zero();
        }
        let x = &mut self.x;
        for (s, c) in &self.token[usize::from(token.id())] {
            x[*s as usize].add_assign(c);
        }
        let p = S::from_i64(pos as i64);
        let p2 = p.mul(&p);
        for (s, c) in &self.position[0] {
            x[*s as usize].add_product(&p, c);
        }
        for (s, c) in &self.position[1] {
            x[*s as usize].add_product(&p2, c);
        }
        for li in 0..self.layers.len() {
            // Attention: every store sees this position first (j ≤ i).
            let (before, rest) = self.layers.split_at_mut(li);
            let layer = &mut rest[0];
            for store in &mut layer.stores {
                match store {
                    Store::Hull { hull, key, value } => {
                        let k = [key[0].eval(x), key[1].eval(x)];
                        let v = [value[0].eval(x), value[1].eval(x)];
                        if let Err(e) = hull.insert(k, pos, v) {
                            return Err(TransformerError::Attention {
                                position: pos,
                                layer: li,
                                head: 0,
                                message: e.to_string(),
                            });
                        }
                    }
                    Store::Mean { value, sum } => {
                        for (row, total) in value.iter().zip(sum.iter_mut()) {
                            if !row.is_empty() {
                                total.add_assign(&row.eval(x));
                            }
                        }
                    }
                }
            }
            self.delta.clear();
            for (hi, head) in layer.heads.iter().enumerate() {
                let answer: [S; 2] = match &layer.stores[head.store] {
                    Store::Hull { hull, .. } => {
                        let q = [head.query[0].eval(x), head.query[1].eval(x)];
                        let tie = match head.rule {
                            HeadRule::Earliest => Tie::Earliest,
                            _ => Tie::Latest,
                        };
                        match hull.query(q, tie) {
                            Some((_, v)) => v.clone(),
                            None => {
                                return Err(TransformerError::Attention {
                                    position: pos,
                                    layer: li,
                                    head: hi,
                                    message: "the query is not a finite number in range".into(),
                                });
                            }
                        }
                    }
                    Store::Mean { sum, .. } => {
                        [S::mean(&sum[0], pos + 1), S::mean(&sum[1], pos + 1)]
                    }
                };
                for (out, a) in head.out.iter().zip(&answer) {
                    for (s, w) in out {
                        self.delta.push((*s, a.mul(w)));
                    }
                }
            }
            for (s, v) in self.delta.drain(..) {
                x[s as usize].add_assign(&v);
            }
            // FFN.
            self.scratch.clear();
            self.delta.clear();
            for t in &layer.tables {
                t.eval(x, &mut self.delta);
            }
            for n in &layer.neurons {
                let h = match n.running {
                    Some((hl, store)) => {
                        let stores = if hl == li {
                            &layer.stores
                        } else {
                            &before[hl].stores
                        };
                        match &stores[store] {
                            Store::Mean { sum, .. } => sum[0].clone(),
                            Store::Hull { .. } => S::zero(),
                        }
                    }
                    None => {
                        let g = n.gate.eval(x);
                        if g.positive() {
                            g.mul(&n.value.eval(x))
                        } else {
                            S::zero()
                        }
                    }
                };
                self.scratch.push(h);
            }
            for (n, h) in layer.neurons.iter().zip(&self.scratch) {
                if h.compare(&S::zero()).is_ne() {
                    for (s, w) in &n.out {
                        x[*s as usize].add_product(h, w);
                    }
                }
            }
            for (s, v) in self.delta.drain(..) {
                x[s as usize].add_assign(&v);
            }
        }
        self.pos += 1;
        Ok(())
    }

    /// The output head's class at the last position: a token id, or
    /// `VOCAB_SIZE` for "the trace ends" (readout rows, then class scores
    /// over them).
    pub fn next_class(&mut self) -> Result<usize, TransformerError> {
        // The named outputs first; the class scores read them.
        self.scratch.clear();
        for (_, row) in &self.readout {
            self.scratch.push(row.eval(&self.x));
        }
        let mut best: Option<(usize, S)> = None;
        let mut tie = false;
        for (t, row) in self.unembed.iter().enumerate() {
            let logit = row.eval(&self.scratch);
            match &best {
                Some((_, b)) => match logit.compare(b) {
                    std::cmp::Ordering::Greater => {
                        best = Some((t, logit));
                        tie = false;
                    }
                    std::cmp::Ordering::Equal => tie = true,
                    std::cmp::Ordering::Less => {}
                },
                None => best = Some((t, logit)),
            }
        }
        match best {
            Some((t, _)) if !tie => Ok(t),
            Some((t, b)) => Err(TransformerError::Output {
                position: self.pos,
                message: format!("has two classes with the top logit {b:?} (one is {t})"),
            }),
            None => Err(TransformerError::Output {
                position: self.pos,
                message: "has no classes".into(),
            }),
        }
    }

    /// A named output (readout row) at the last position.
    pub fn readout(&self, name: &str) -> Option<S> {
        self.readout
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, r)| r.eval(&self.x))
    }

    /// Residual width.
    pub fn d_model(&self) -> usize {
        self.d_model
    }
}

/// What an autoregressive run produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransformerRun {
    /// The tokens generated after `<run>`.
    pub trace: Vec<Token>,
    /// Steps (op tokens) generated.
    pub steps: u64,
    /// The final step's immediate (the HALT's trap code when it halted).
    pub halt_code: Option<i64>,
    /// Hull points kept at the end.
    pub hull_points: usize,
    /// The run stopped before a `CALL` past [`tvm_dsl::isa::MAX_CALL_DEPTH`]
    /// (where the reference machine traps `call stack exhausted`); the
    /// trace ends before that step.
    pub call_stack_exhausted: bool,
}

/// Why a run stopped early.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] TransformerError),
    /// The prefix does not end with `<run>`.
    #[error("the token prefix does not end with <run>")]
    NoRun,
    /// The output head named a class that is not a token.
    #[error("position {position}: the output head chose class {class}, which is not a token")]
    NotAToken {
        /// Where.
        position: u64,
        /// The class.
        class: usize,
    },
    /// The step budget ran out.
    #[error("out of fuel after {steps} steps (raise it with --fuel)")]
    OutOfFuel {
        /// Steps generated.
        steps: u64,
    },
}

/// Runs a model on a token prefix (ending in `<run>`), generating tokens
/// until the output head says the trace ends or `fuel` steps have run;
/// `on_token` sees each generated token as it is produced.
pub fn run<S: Scalar>(
    engine: &mut Transformer<S>,
    prefix: &[Token],
    fuel: u64,
    mut on_token: impl FnMut(Token),
) -> Result<TransformerRun, RunError> {
    if prefix.last() != Some(&Token::Run) {
        return Err(RunError::NoRun);
    }
    for &t in prefix {
        engine.push(t)?;
    }
    let mut trace = Vec::new();
    let mut steps = 0u64;
    let mut depth = tvm_dsl::isa::CallDepth::default();
    loop {
        let class = engine.next_class()?;
        let end =
            |trace, halt_code, call_stack_exhausted, engine: &Transformer<S>| TransformerRun {
                trace,
                steps,
                halt_code,
                hull_points: engine.hull_points(),
                call_stack_exhausted,
            };
        if class == tvm_dsl::token::VOCAB_SIZE {
            let halt_code = engine
                .readout(tvm_dsl::machine::output::HALT_CODE)
                .and_then(|v| v.integer());
            return Ok(end(trace, halt_code, false, engine));
        }
        let token = Token::from_id(class as u32).map_err(|_| RunError::NotAToken {
            position: engine.position(),
            class,
        })?;
        if let Token::Op(op) = token {
            if steps >= fuel {
                return Err(RunError::OutOfFuel { steps });
            }
            if !depth.admits(op) {
                return Ok(end(trace, None, true, engine));
            }
            steps += 1;
        }
        on_token(token);
        trace.push(token);
        engine.push(token)?;
    }
}
