//! Everything one verification run reads, prepared once: the machine
//! graph, its plan (the spec side), the model's slot map and its weights
//! grouped into rows.

use std::collections::BTreeMap;

use tvm_dsl::expr::{Dim, Rational};
use tvm_dsl::graph::Graph;
use tvm_weights::model::{Model, names};
use tvm_weights::model_file::ExactTensor;
use tvm_weights::plan::Plan;

use num_traits::Zero;
use tvm_dsl::expr::Expr;
use tvm_dsl::isa::MAX_POSITION;
use tvm_symbolic::range::Interval;
use tvm_weights::plan::{Embedding, Unit};

use crate::VerifyError;
use crate::linear::{Row, rows, values};
use crate::slots::SlotMap;
use crate::spec::{self, LayerSpec};

/// One layer's weights, as rows keyed by every index but the last.
#[derive(Clone, Debug, Default)]
pub struct LayerWeights {
    /// `ffn.gate`, by `[neuron]`.
    pub gate: BTreeMap<Vec<usize>, Row>,
    /// `ffn.gate_bias`.
    pub gate_bias: BTreeMap<Vec<usize>, Rational>,
    /// `ffn.value`.
    pub value: BTreeMap<Vec<usize>, Row>,
    /// `ffn.value_bias`.
    pub value_bias: BTreeMap<Vec<usize>, Rational>,
    /// `ffn.out`, by `[neuron]`: the slots the neuron writes.
    pub out: BTreeMap<Vec<usize>, Row>,
    /// `attn.q`, by `[head, component]`.
    pub q: BTreeMap<Vec<usize>, Row>,
    /// `attn.q_bias`.
    pub q_bias: BTreeMap<Vec<usize>, Rational>,
    /// `attn.k`.
    pub k: BTreeMap<Vec<usize>, Row>,
    /// `attn.k_bias`.
    pub k_bias: BTreeMap<Vec<usize>, Rational>,
    /// `attn.v`.
    pub v: BTreeMap<Vec<usize>, Row>,
    /// `attn.v_bias`.
    pub v_bias: BTreeMap<Vec<usize>, Rational>,
    /// `attn.o`, by `[head, component]`: the slots it writes.
    pub o: BTreeMap<Vec<usize>, Row>,
}

/// The embedding, readout and output head's weights.
#[derive(Clone, Debug, Default)]
pub struct IoWeights {
    /// `embed.token`, by `[token, slot]`.
    pub token: BTreeMap<Vec<usize>, Rational>,
    /// `embed.position`, by `[0 | 1, slot]`.
    pub position: BTreeMap<Vec<usize>, Rational>,
    /// `readout.weight`, by `[row]`.
    pub readout: BTreeMap<Vec<usize>, Row>,
    /// `readout.bias`.
    pub readout_bias: BTreeMap<Vec<usize>, Rational>,
    /// `unembed.weight`, by `[class, row]`.
    pub unembed: BTreeMap<Vec<usize>, Rational>,
    /// `unembed.bias`.
    pub unembed_bias: BTreeMap<Vec<usize>, Rational>,
}

/// A verification run's inputs.
pub struct Context<'a> {
    /// The machine graph (the DSL).
    pub graph: &'a Graph,
    /// Its plan.
    pub plan: Plan,
    /// The model under proof.
    pub model: &'a Model,
    /// The layout's slot map.
    pub slots: SlotMap,
    /// What each layer must hold.
    pub layers: Vec<LayerSpec>,
    /// Each layer's weights.
    pub weights: Vec<LayerWeights>,
    /// The embedding and output weights.
    pub io: IoWeights,
    /// Exact bounds of every plan dimension over the supported range.
    pub ranges: Vec<Interval>,
    /// For a specialised model: the baked tables of the program it records
    /// ([`crate::table`]).
    pub tables: Vec<crate::table::Column>,
}

impl<'a> Context<'a> {
    /// Prepares a run: plans the graph and reads the model's layout and
    /// weights. Fails on a layout that does not fit the graph at all.
    pub fn new(graph: &'a Graph, model: &'a Model) -> Result<Context<'a>, VerifyError> {
        let plan = Plan::from_graph(graph).map_err(|e| VerifyError::Plan(e.to_string()))?;
        let slots = SlotMap::from_layout(&model.layout)?;
        let layers = spec::layers(graph, &plan, &model.layout, &slots)?;
        let empty = ExactTensor::zeros(Vec::new());
        let weights = (0..model.layout.layers.len())
            .map(|l| {
                let t = |part: &str| model.tensors.get(&names::layer(l, part)).unwrap_or(&empty);
                LayerWeights {
                    gate: rows(t("ffn.gate")),
                    gate_bias: values(t("ffn.gate_bias")),
                    value: rows(t("ffn.value")),
                    value_bias: values(t("ffn.value_bias")),
                    out: rows(t("ffn.out")),
                    q: rows(t("attn.q")),
                    q_bias: values(t("attn.q_bias")),
                    k: rows(t("attn.k")),
                    k_bias: values(t("attn.k_bias")),
                    v: rows(t("attn.v")),
                    v_bias: values(t("attn.v_bias")),
                    o: rows(t("attn.o")),
                }
            })
            .collect();
        let get = |name: &str| model.tensors.get(name).unwrap_or(&empty);
        let io = IoWeights {
            token: values(get(names::TOKEN)),
            position: values(get(names::POSITION)),
            readout: rows(get(names::READOUT)),
            readout_bias: values(get(names::READOUT_BIAS)),
            unembed: values(get(names::UNEMBED)),
            unembed_bias: values(get(names::UNEMBED_BIAS)),
        };
        let dsl_ranges = tvm_symbolic::range::analyse(graph, MAX_POSITION)
            .map_err(|e| VerifyError::Plan(format!("range analysis: {e}")))?;
        let ranges = plan_ranges(&plan, &dsl_ranges);
        Ok(Context {
            graph,
            plan,
            model,
            slots,
            layers,
            weights,
            io,
            ranges,
            tables: Vec::new(),
        })
    }

    /// The context of a model specialised to `program` (whose graph is
    /// `graph`): its instruction tables are proven too.
    pub fn specialised(
        graph: &'a Graph,
        model: &'a Model,
        program: &[tvm_dsl::isa::Instr],
    ) -> Result<Context<'a>, VerifyError> {
        let mut cx = Context::new(graph, model)?;
        cx.tables = crate::table::expected(program);
        Ok(cx)
    }

    /// Sets one weight of the model under proof (as the tensor `tensor`
    /// at `index` would hold it): how mutation tests break a model.
    /// `false` if no such weight exists.
    pub fn set_weight(&mut self, tensor: &str, index: &[usize], value: Rational) -> bool {
        fn set_value(map: &mut BTreeMap<Vec<usize>, Rational>, index: &[usize], value: Rational) {
            if value.is_zero() {
                map.remove(index);
            } else {
                map.insert(index.to_vec(), value);
            }
        }
        fn set_row(map: &mut BTreeMap<Vec<usize>, Row>, index: &[usize], value: Rational) {
            let Some((last, key)) = index.split_last() else {
                return;
            };
            let row = map.entry(key.to_vec()).or_default();
            let slot = *last as u32;
            row.retain(|(s, _)| *s != slot);
            if !value.is_zero() {
                let at = row.partition_point(|(s, _)| *s < slot);
                row.insert(at, (slot, value));
            }
        }
        let io = &mut self.io;
        match tensor {
            names::TOKEN => set_value(&mut io.token, index, value),
            names::POSITION => set_value(&mut io.position, index, value),
            names::READOUT => set_row(&mut io.readout, index, value),
            names::READOUT_BIAS => set_value(&mut io.readout_bias, index, value),
            names::UNEMBED => set_value(&mut io.unembed, index, value),
            names::UNEMBED_BIAS => set_value(&mut io.unembed_bias, index, value),
            _ => {
                let Some((l, part)) = tensor
                    .strip_prefix("layer")
                    .and_then(|rest| rest.split_once('.'))
                    .and_then(|(l, part)| Some((l.parse::<usize>().ok()?, part)))
                else {
                    return false;
                };
                let Some(w) = self.weights.get_mut(l) else {
                    return false;
                };
                match part {
                    "ffn.gate" => set_row(&mut w.gate, index, value),
                    "ffn.gate_bias" => set_value(&mut w.gate_bias, index, value),
                    "ffn.value" => set_row(&mut w.value, index, value),
                    "ffn.value_bias" => set_value(&mut w.value_bias, index, value),
                    "ffn.out" => set_row(&mut w.out, index, value),
                    "attn.q" => set_row(&mut w.q, index, value),
                    "attn.q_bias" => set_value(&mut w.q_bias, index, value),
                    "attn.k" => set_row(&mut w.k, index, value),
                    "attn.k_bias" => set_value(&mut w.k_bias, index, value),
                    "attn.v" => set_row(&mut w.v, index, value),
                    "attn.v_bias" => set_value(&mut w.v_bias, index, value),
                    "attn.o" => set_row(&mut w.o, index, value),
                    _ => return false,
                }
            }
        }
        true
    }

    /// A plan dimension's readable name.
    /// The DSL group (sub-graph) of graph dimension `d`.
    pub fn group_of(&self, d: Dim) -> Option<String> {
        let dim = self.graph.dims().get(d.index())?;
        self.graph.groups().get(dim.group as usize).cloned()
    }

    pub fn dim_name(&self, d: Dim) -> String {
        self.plan
            .dims
            .get(d.index())
            .map_or_else(|| format!("d{}", d.0), |x| x.name.clone())
    }
}

/// `Σ c·I(d) + c₀` over known intervals.
pub fn interval_of(ranges: &[Interval], e: &Expr) -> Interval {
    let mut acc = Interval::point(e.constant_term().clone());
    for (d, c) in e.terms() {
        let i = ranges
            .get(d.index())
            .cloned()
            .unwrap_or_else(|| Interval::point(Rational::zero()));
        acc = acc.add(&i.scale(c));
    }
    acc
}

/// Interval analysis over the plan (topological order), for positions up
/// to `MAX_POSITION`: embeddings from their tables, a head's output within
/// its value's bounds, an FFN output as the sum of `coef·relu(b)·a` —
/// intersected, for a plan dimension that computes a DSL dimension, with
/// the DSL's own range analysis of it (`dsl`), which knows what the plan's
/// parts compose to (a lookup's gated output lies within its value's range
/// and 0, where the three gating neurons, bounded one by one, would not).
fn plan_ranges(plan: &Plan, dsl: &tvm_symbolic::range::Ranges) -> Vec<Interval> {
    let p = Rational::from_integer(MAX_POSITION.into());
    let mut out: Vec<Interval> = Vec::with_capacity(plan.dims.len());
    for d in &plan.dims {
        let i = match &d.unit {
            Unit::Embed(Embedding::One) => Interval::point(Rational::from_integer(1.into())),
            Unit::Embed(Embedding::Position) => Interval {
                lo: Rational::zero(),
                hi: p.clone(),
            },
            Unit::Embed(Embedding::PositionSquared) => Interval {
                lo: Rational::zero(),
                hi: &p * &p,
            },
            Unit::Embed(Embedding::Token(values)) => {
                let lo = values.iter().copied().min().unwrap_or(0);
                let hi = values.iter().copied().max().unwrap_or(0);
                Interval {
                    lo: Rational::from_integer(lo.into()),
                    hi: Rational::from_integer(hi.into()),
                }
            }
            Unit::Head { head, component } => plan
                .heads
                .get(*head as usize)
                .and_then(|h| h.values.get(*component as usize))
                .map_or_else(
                    || Interval::point(Rational::zero()),
                    |v| interval_of(&out, v),
                ),
            Unit::Ffn(neurons) => {
                neurons
                    .iter()
                    .fold(Interval::point(Rational::zero()), |acc, n| {
                        let term = interval_of(&out, &n.b)
                            .relu()
                            .mul(&interval_of(&out, &n.a))
                            .scale(&n.coef);
                        acc.add(&term)
                    })
            }
        };
        let i = match d.origin.and_then(|g| dsl.get(g)) {
            Some(g) => Interval::new(
                i.lo.clone().max(g.lo.clone()),
                i.hi.clone().min(g.hi.clone()),
            )
            .unwrap_or(i),
            None => i,
        };
        out.push(i);
    }
    out
}
