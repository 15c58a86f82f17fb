//! The transformer's weights, computed exactly from a plan and a schedule.
//!
//! # Architecture (what the tensors mean)
//!
//! Residual stream `x ∈ ℚ^d_model` per position; `x[s]` is slot `s`.
//!
//! - **Embedding**: `x = embed.token[token] + pos·embed.position[0] +
//!   pos²·embed.position[1]`.
//! - **Layer `l`**, attention then FFN, each adding to the residual:
//!   - head `h`: `q = Q_h x + q_bias_h`, `k = K_h x + k_bias_h` (2-D),
//!     `v = V_h x + v_bias_h` (2 components). A *hardmax* head returns the
//!     `v` of the position `j ≤ i` maximising `q_i · k_j`, ties broken by
//!     the head's rule (latest or earliest); a *mean* head returns the mean
//!     of `v` over `0..=i`. Then `x += Σ_h O_hᵀ v_h` (all heads read the
//!     same `x`).
//!   - FFN: neuron `n` computes `relu(gate_n · x + gate_bias_n) ·
//!     (value_n · x + value_bias_n)`, then `x += Σ_n out_n · that`.
//! - **Output head**: `y = readout.weight · x + readout.bias` (the graph's
//!   named outputs), then `logits = unembed.weight · y + unembed.bias` over
//!   `VOCAB_SIZE + 1` classes (the last is "the trace ends"); the next
//!   token is the argmax ([`output_head`] says why it is the right one).
//!
//! Tensors (`LL` = layer number, two digits): `embed.token [V, d]`,
//! `embed.position [2, d]`, `layerLL.attn.{q,k,v,o} [H, 2, d]`,
//! `layerLL.attn.{q,k,v}_bias [H, 2]`, `layerLL.ffn.{gate,value,out} [N, d]`,
//! `layerLL.ffn.{gate,value}_bias [N]`, `unembed.weight [V+1, R]`,
//! `unembed.bias [V+1]`, `readout.weight [R, d]`, `readout.bias [R]`. A
//! layer without heads (or neurons) has no attention (or FFN) tensors.
//!
//! Every entry is computed as a `BigRational`; [`Model::to_file`] rounds
//! them to f64 and keeps the exact form wherever rounding is not lossless.

use std::collections::BTreeMap;

use num_traits::Zero;
use serde::{Deserialize, Serialize};
use tvm_dsl::expr::{Dim, Expr, Rational, int};
use tvm_dsl::graph::{Graph, Node, Tie};
use tvm_dsl::machine::output;
use tvm_dsl::token::VOCAB_SIZE;

use crate::milp::{MilpOptions, MilpOutcome};
use crate::model_file::{
    BakedProgram, ExactTensor, FORMAT_VERSION, Header, ModelFile, ModelFileError, digest,
};
use crate::plan::{Embedding, HeadKind, Plan, PlanError, Unit};
use crate::schedule::{Schedule, ScheduleError, Stats};

/// Output classes of the output head: every token, plus "the trace ends".
pub const CLASSES: usize = VOCAB_SIZE + 1;

/// How a head weighs positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeadRule {
    /// Hardmax, the latest position wins ties.
    Latest,
    /// Hardmax, the earliest position wins ties.
    Earliest,
    /// Uniform weights over `0..=i`.
    Mean,
}

/// A neuron that is the running sum of a mean head's value: `relu(pos + 1)
/// · mean`. The float engine computes it as the sum itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunningSum {
    /// The mean head's layer.
    pub head_layer: u32,
    /// The head's index in its layer.
    pub head: u32,
    /// The neuron's layer.
    pub neuron_layer: u32,
    /// The neuron's index in its layer's FFN.
    pub neuron: u32,
}

/// One layer's shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerLayout {
    /// Each head's rule.
    pub heads: Vec<HeadRule>,
    /// FFN neurons.
    pub neurons: u32,
}

/// Where a plan dimension lives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotUse {
    /// The dimension's name.
    pub name: String,
    /// Its residual slot.
    pub slot: u32,
    /// The sublayer that writes it (0 embedding, `2l+1` attention, `2l+2` FFN).
    pub written: u32,
    /// The FFN that clears it (`None`: never, an output).
    pub cleared: Option<u32>,
}

/// The model's shape and slot map (stored in the model file's header).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    /// Residual width.
    pub d_model: u32,
    /// Per layer.
    pub layers: Vec<LayerLayout>,
    /// Neurons computed as running sums.
    pub running_sums: Vec<RunningSum>,
    /// The named outputs `readout.weight` rows give, in row order.
    pub readout: Vec<String>,
    /// Every plan dimension's slot and live range.
    pub slots: Vec<SlotUse>,
}

impl Layout {
    /// Heads in the widest attention sublayer.
    pub fn max_heads(&self) -> usize {
        self.layers.iter().map(|l| l.heads.len()).max().unwrap_or(0)
    }

    /// Neurons in the widest FFN.
    pub fn d_ffn(&self) -> usize {
        self.layers
            .iter()
            .map(|l| l.neurons as usize)
            .max()
            .unwrap_or(0)
    }

    /// Heads in all layers.
    pub fn total_heads(&self) -> usize {
        self.layers.iter().map(|l| l.heads.len()).sum()
    }
}

/// Tensor names.
pub mod names {
    /// `embed.token`.
    pub const TOKEN: &str = "embed.token";
    /// `embed.position`.
    pub const POSITION: &str = "embed.position";
    /// `unembed.weight`.
    pub const UNEMBED: &str = "unembed.weight";
    /// `unembed.bias`.
    pub const UNEMBED_BIAS: &str = "unembed.bias";
    /// `readout.weight`.
    pub const READOUT: &str = "readout.weight";
    /// `readout.bias`.
    pub const READOUT_BIAS: &str = "readout.bias";

    /// `layerLL.attn.<part>` / `layerLL.ffn.<part>`.
    pub fn layer(l: usize, part: &str) -> String {
        format!("layer{l:02}.{part}")
    }
}

/// Everything that can go wrong building or loading a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The graph could not be lowered.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The schedule is invalid.
    #[error("the schedule is invalid")]
    Schedule(#[from] ScheduleError),
    /// The MILP scheduler could not schedule the plan.
    #[error("scheduling")]
    Milp(#[from] crate::milp::MilpError),
    /// The model file could not be read or written.
    #[error(transparent)]
    File(#[from] ModelFileError),
    /// The file's layout or tensors do not describe a model.
    #[error("the model file is inconsistent: {0}")]
    Layout(String),
}

/// A built model: layout and exact tensors.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// Shape and slot map.
    pub layout: Layout,
    /// Every tensor, exact.
    pub tensors: BTreeMap<String, ExactTensor>,
    /// Digest of the graph the model computes.
    pub graph_digest: String,
    /// For a specialised model, the program baked in.
    pub program: Option<BakedProgram>,
}

/// A canonical text of a graph (its digest identifies it): features,
/// nodes with their linear forms, outputs.
pub fn graph_text(graph: &Graph) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for (i, f) in graph.features().iter().enumerate() {
        let _ = writeln!(out, "feature {i} {} {:?}", f.name, f.values);
    }
    for (i, d) in graph.dims().iter().enumerate() {
        let _ = match &d.node {
            Node::Input(x) => writeln!(out, "d{i} = Input {x:?}"),
            Node::ReGLU { a, b } => writeln!(out, "d{i} = ReGLU({a}; {b})"),
            Node::Persist(e) => writeln!(out, "d{i} = Persist({e})"),
            Node::CumSum(e) => writeln!(out, "d{i} = CumSum({e})"),
            Node::LookUp(l) => writeln!(
                out,
                "d{i} = LookUp(q {}; k {}; a {}; v {}; {:?})",
                l.query, l.key, l.active, l.value, l.tie
            ),
        };
    }
    for (n, e) in graph.outputs() {
        let _ = writeln!(out, "output {n} = {e}");
    }
    out
}

/// Collects entries of one tensor (summing repeats), then sorts them.
pub struct Entries {
    shape: Vec<usize>,
    entries: BTreeMap<Vec<usize>, Rational>,
}

impl Entries {
    fn new(shape: Vec<usize>) -> Entries {
        Entries {
            shape,
            entries: BTreeMap::new(),
        }
    }

    fn add(&mut self, index: Vec<usize>, v: &Rational) {
        if v.is_zero() {
            return;
        }
        let e = self.entries.entry(index).or_insert_with(Rational::zero);
        *e += v;
    }

    /// Adds `scale · e` over slots at row prefix `row` (the expression's
    /// terms into the row, its constant into `bias` at the same prefix).
    fn add_expr(&mut self, row: &[usize], e: &Expr, slot: &[u32], bias: &mut Entries) {
        for (d, c) in e.terms() {
            let mut index = row.to_vec();
            index.push(slot[d.index()] as usize);
            self.add(index, c);
        }
        bias.add(row.to_vec(), e.constant_term());
    }

    fn finish(self) -> ExactTensor {
        ExactTensor {
            shape: self.shape,
            entries: self
                .entries
                .into_iter()
                .filter(|(_, v)| !v.is_zero())
                .collect(),
        }
    }
}

/// The bonus of the class group the outputs select (see [`output_head`]):
/// above every in-group score (at most 255² + 255 for bytes, 34² for
/// opcodes), so the group decides first and the value within it second.
pub const GROUP_BONUS: i64 = 1 << 20;

/// The output head's rows: one linear score per class, no neurons.
///
/// With the outputs `emit` (0/1), `byte` (0..=255), `carry` (0/1), `op`
/// (0..=34) and `end` (0/1, never with `emit`), class scores are
///
/// - `Byte(b)`:  `2b·byte − b² + K·(emit − carry − end)`
/// - `Carry(b)`: `2b·byte − b² + K·(emit + carry − 1 − end)`
/// - `Op(o)`:    `2o·op − o² + K·(1 − emit − end)`
/// - "end":      `K·end`
/// - `<program>` and the other prefix tokens: `−K`
///
/// with `K = GROUP_BONUS`. `2v·x − v² = x² − (x − v)²` is maximal exactly at
/// `v = x` and every other integer loses by at least 1; the selected group's
/// bonus is `K`, every other group's at most 0, so its best score
/// (`≥ K`) beats theirs (`< K`). The argmax is the token the outputs
/// denote (what `tvm_dsl::machine::decode_next` computes), or "end".
///
/// The scores read the readout rows (`readout.weight · x + readout.bias`,
/// one per named output), not the residual: `unembed.weight` is
/// `[classes, outputs]`, so the whole head is the product of two matrices
/// and costs a few terms per class.
pub fn output_head(plan: &Plan) -> Result<(Entries, Entries), ModelError> {
    use tvm_dsl::token::Token;
    let r = plan.outputs.len();
    let get = |name: &str| {
        plan.outputs
            .iter()
            .position(|(n, _)| n == name)
            .map(|i| Expr::dim(Dim(i as u32)))
            .ok_or_else(|| ModelError::Layout(format!("the graph has no `{name}` output")))
    };
    let emit = get(output::EMIT_BYTE)?;
    let byte = get(output::BYTE)?;
    let carry = get(output::CARRY)?;
    let op = get(output::OP)?;
    let end = get(output::END)?;
    let k = GROUP_BONUS;
    let mut unembed = Entries::new(vec![CLASSES, r]);
    let mut bias = Entries::new(vec![CLASSES]);
    // `Dim(i)` in these scores is readout row `i`.
    let rows: Vec<u32> = (0..r as u32).collect();
    let value = |x: &Expr, v: i64| x.scale(&int(2 * v)) - Expr::int(v * v);
    for class in 0..CLASSES {
        let score = match Token::from_id(class as u32) {
            Ok(Token::Byte(b)) => {
                value(&byte, i64::from(b))
                    + (emit.clone() - carry.clone() - end.clone()).scale(&int(k))
            }
            Ok(Token::Carry(b)) => {
                value(&byte, i64::from(b))
                    + (emit.clone() + carry.clone() - end.clone() - 1).scale(&int(k))
            }
            Ok(Token::Op(o)) => {
                value(&op, i64::from(o.index()))
                    + (Expr::int(1) - emit.clone() - end.clone()).scale(&int(k))
            }
            Ok(_) => Expr::int(-k),
            Err(_) => end.scale(&int(k)),
        };
        unembed.add_expr(&[class], &score, &rows, &mut bias);
    }
    Ok((unembed, bias))
}

/// What a build produced besides the model.
#[derive(Clone, Debug)]
pub struct BuildInfo {
    /// The plan.
    pub plan: Plan,
    /// The schedule used.
    pub schedule: Schedule,
    /// Its size figures.
    pub stats: Stats,
    /// The MILP's report, when it chose the times.
    pub milp: Option<MilpOutcome>,
}

/// How the schedule is found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scheduler {
    /// As soon as possible, slots by left edge: instant.
    Greedy,
    /// The MILP ([`crate::milp`]), warm-started from and checked against
    /// the greedy schedule.
    Milp(MilpOptions),
}

impl Model {
    /// Lowers, schedules (greedy) and computes the weights of `graph`.
    pub fn build(graph: &Graph) -> Result<(Model, BuildInfo), ModelError> {
        Model::build_with(graph, &Scheduler::Greedy)
    }

    /// Lowers, schedules with `scheduler` and computes the weights.
    pub fn build_with(
        graph: &Graph,
        scheduler: &Scheduler,
    ) -> Result<(Model, BuildInfo), ModelError> {
        let plan = Plan::from_graph(graph)?;
        let (schedule, milp) = match scheduler {
            Scheduler::Greedy => (Schedule::greedy(&plan), None),
            Scheduler::Milp(options) => {
                let outcome = crate::milp::schedule(&plan, options)?;
                (outcome.schedule.clone(), Some(outcome))
            }
        };
        let model = Model::from_schedule(graph, &plan, &schedule)?;
        let stats = schedule.stats(&plan);
        Ok((
            model,
            BuildInfo {
                plan,
                schedule,
                stats,
                milp,
            },
        ))
    }

    /// Computes the weights of `plan` under `schedule` (validated first).
    pub fn from_schedule(
        graph: &Graph,
        plan: &Plan,
        schedule: &Schedule,
    ) -> Result<Model, ModelError> {
        schedule.validate(plan)?;
        let stats = schedule.stats(plan);
        let d = stats.d_model as usize;
        let n_layers = stats.layers as usize;
        let slot = &schedule.slot;
        let time = &schedule.time;
        let cleared = schedule.cleared(plan);
        let clearing = schedule.clearing_neurons(plan);
        let mut tensors = BTreeMap::new();

        // Embedding.
        let mut token = Entries::new(vec![VOCAB_SIZE, d]);
        let mut position = Entries::new(vec![2, d]);
        for (i, pd) in plan.dims.iter().enumerate() {
            let s = slot[i] as usize;
            match &pd.unit {
                Unit::Embed(Embedding::One) => {
                    for t in 0..VOCAB_SIZE {
                        token.add(vec![t, s], &int(1));
                    }
                }
                Unit::Embed(Embedding::Position) => position.add(vec![0, s], &int(1)),
                Unit::Embed(Embedding::PositionSquared) => position.add(vec![1, s], &int(1)),
                Unit::Embed(Embedding::Token(values)) => {
                    for (t, v) in values.iter().enumerate().take(VOCAB_SIZE) {
                        token.add(vec![t, s], &int(*v));
                    }
                }
                _ => {}
            }
        }
        tensors.insert(names::TOKEN.to_owned(), token.finish());
        tensors.insert(names::POSITION.to_owned(), position.finish());

        // Heads and neurons, layer by layer, in dimension order.
        let mut layers = Vec::with_capacity(n_layers);
        let mut head_place: BTreeMap<u32, (u32, u32)> = BTreeMap::new();
        let mut neuron_place: BTreeMap<u32, (u32, u32)> = BTreeMap::new();
        for l in 0..n_layers {
            let (t_attn, t_ffn) = (2 * l as u32 + 1, 2 * l as u32 + 2);
            // Heads of this layer, in head order.
            let mut heads: Vec<u32> = plan
                .dims
                .iter()
                .enumerate()
                .filter_map(|(i, pd)| match pd.unit {
                    Unit::Head { head, .. } if time[i] == t_attn => Some(head),
                    _ => None,
                })
                .collect();
            heads.sort_unstable();
            heads.dedup();
            let h_n = heads.len();
            let mut rules = Vec::with_capacity(h_n);
            if h_n > 0 {
                let mut q = Entries::new(vec![h_n, 2, d]);
                let mut qb = Entries::new(vec![h_n, 2]);
                let mut k = Entries::new(vec![h_n, 2, d]);
                let mut kb = Entries::new(vec![h_n, 2]);
                let mut v = Entries::new(vec![h_n, 2, d]);
                let mut vb = Entries::new(vec![h_n, 2]);
                let mut o = Entries::new(vec![h_n, 2, d]);
                for (hi, &h) in heads.iter().enumerate() {
                    head_place.insert(h, (l as u32, hi as u32));
                    let head = &plan.heads[h as usize];
                    match &head.kind {
                        HeadKind::Hardmax { query, key, tie } => {
                            rules.push(match tie {
                                Tie::Latest => HeadRule::Latest,
                                Tie::Earliest => HeadRule::Earliest,
                            });
                            for c in 0..2 {
                                q.add_expr(&[hi, c], &query[c], slot, &mut qb);
                                k.add_expr(&[hi, c], &key[c], slot, &mut kb);
                            }
                        }
                        HeadKind::Mean => rules.push(HeadRule::Mean),
                    }
                    for (c, value) in head.values.iter().enumerate() {
                        v.add_expr(&[hi, c], value, slot, &mut vb);
                    }
                }
                for (i, pd) in plan.dims.iter().enumerate() {
                    if let Unit::Head { head, component } = pd.unit
                        && time[i] == t_attn
                    {
                        let hi = heads.binary_search(&head).unwrap_or(0);
                        o.add(vec![hi, component as usize, slot[i] as usize], &int(1));
                    }
                }
                for (part, e) in [
                    ("attn.q", q),
                    ("attn.q_bias", qb),
                    ("attn.k", k),
                    ("attn.k_bias", kb),
                    ("attn.v", v),
                    ("attn.v_bias", vb),
                    ("attn.o", o),
                ] {
                    tensors.insert(names::layer(l, part), e.finish());
                }
            }

            // FFN: the units' neurons, then one clearing neuron per
            // dimension whose slot frees here for a later occupant.
            struct Row<'a> {
                coef: Rational,
                a: &'a Expr,
                b: &'a Expr,
                slot: u32,
            }
            let clear_gate = Expr::int(1);
            let mut clear_values: Vec<Expr> = Vec::new();
            let mut rows: Vec<Row> = Vec::new();
            for (i, pd) in plan.dims.iter().enumerate() {
                if let Unit::Ffn(neurons) = &pd.unit
                    && time[i] == t_ffn
                {
                    neuron_place.insert(i as u32, (l as u32, rows.len() as u32));
                    for n in neurons {
                        rows.push(Row {
                            coef: n.coef.clone(),
                            a: &n.a,
                            b: &n.b,
                            slot: slot[i],
                        });
                    }
                }
            }
            let clears: Vec<usize> = (0..plan.dims.len())
                .filter(|&i| clearing[i] == Some(t_ffn))
                .collect();
            for &i in &clears {
                clear_values.push(Expr::dim(Dim(i as u32)));
            }
            for (j, &i) in clears.iter().enumerate() {
                rows.push(Row {
                    coef: int(-1),
                    a: &clear_values[j],
                    b: &clear_gate,
                    slot: slot[i],
                });
            }
            let n = rows.len();
            if n > 0 {
                let mut gate = Entries::new(vec![n, d]);
                let mut gate_b = Entries::new(vec![n]);
                let mut value = Entries::new(vec![n, d]);
                let mut value_b = Entries::new(vec![n]);
                let mut out = Entries::new(vec![n, d]);
                for (r, row) in rows.iter().enumerate() {
                    gate.add_expr(&[r], row.b, slot, &mut gate_b);
                    value.add_expr(&[r], row.a, slot, &mut value_b);
                    out.add(vec![r, row.slot as usize], &row.coef);
                }
                for (part, e) in [
                    ("ffn.gate", gate),
                    ("ffn.gate_bias", gate_b),
                    ("ffn.value", value),
                    ("ffn.value_bias", value_b),
                    ("ffn.out", out),
                ] {
                    tensors.insert(names::layer(l, part), e.finish());
                }
            }
            layers.push(LayerLayout {
                heads: rules,
                neurons: n as u32,
            });
        }

        // Output head: a linear score per class from the graph's outputs.
        let (unembed, unembed_b) = output_head(plan)?;
        tensors.insert(names::UNEMBED.to_owned(), unembed.finish());
        tensors.insert(names::UNEMBED_BIAS.to_owned(), unembed_b.finish());
        let mut readout = Entries::new(vec![plan.outputs.len(), d]);
        let mut readout_b = Entries::new(vec![plan.outputs.len()]);
        for (r, (_, e)) in plan.outputs.iter().enumerate() {
            readout.add_expr(&[r], e, slot, &mut readout_b);
        }
        tensors.insert(names::READOUT.to_owned(), readout.finish());
        tensors.insert(names::READOUT_BIAS.to_owned(), readout_b.finish());

        let running_sums = plan
            .running_sums
            .iter()
            .filter_map(|(h, dim)| {
                let (head_layer, head) = *head_place.get(h)?;
                let (neuron_layer, neuron) = *neuron_place.get(&dim.0)?;
                Some(RunningSum {
                    head_layer,
                    head,
                    neuron_layer,
                    neuron,
                })
            })
            .collect();
        let slots = plan
            .dims
            .iter()
            .enumerate()
            .map(|(i, pd)| SlotUse {
                name: pd.name.clone(),
                slot: slot[i],
                written: time[i],
                cleared: (cleared[i] != u32::MAX).then_some(cleared[i]),
            })
            .collect();
        Ok(Model {
            layout: Layout {
                d_model: d as u32,
                layers,
                running_sums,
                readout: plan.outputs.iter().map(|(n, _)| n.clone()).collect(),
                slots,
            },
            tensors,
            graph_digest: digest(graph_text(graph).as_bytes()),
            program: None,
        })
    }

    /// Non-zero weights, over all tensors.
    pub fn nonzero(&self) -> usize {
        self.tensors.values().map(|t| t.entries.len()).sum()
    }

    /// A tensor by name.
    pub fn tensor(&self, name: &str) -> Result<&ExactTensor, ModelError> {
        self.tensors
            .get(name)
            .ok_or_else(|| ModelError::Layout(format!("missing tensor `{name}`")))
    }

    /// The model file: f64 tensors, the exact form where rounding loses
    /// something, and the layout in the header.
    pub fn to_file(&self) -> Result<ModelFile, ModelError> {
        let metadata = serde_json::to_value(&self.layout)
            .map_err(|e| ModelError::Layout(format!("layout does not serialise: {e}")))?;
        Ok(ModelFile {
            header: Header {
                format_version: FORMAT_VERSION,
                vocab_size: VOCAB_SIZE as u32,
                graph_digest: self.graph_digest.clone(),
                program_digest: self.program.as_ref().map(BakedProgram::digest),
                program: self.program.clone(),
                d_model: self.layout.d_model,
                layers: self.layout.layers.len() as u32,
                metadata,
            },
            tensors: self
                .tensors
                .iter()
                .map(|(n, t)| (n.clone(), t.to_f64()))
                .collect(),
            exact: self.tensors.clone(),
        })
    }

    /// The model a file holds, its shapes checked against its layout.
    pub fn from_file(file: &ModelFile) -> Result<Model, ModelError> {
        let layout: Layout = serde_json::from_value(file.header.metadata.clone())
            .map_err(|e| ModelError::Layout(format!("the header's layout: {e}")))?;
        if layout.d_model != file.header.d_model
            || layout.layers.len() != file.header.layers as usize
        {
            return Err(ModelError::Layout(
                "the header's d_model or layer count disagrees with its layout".into(),
            ));
        }
        let recorded = file.header.program.as_ref().map(BakedProgram::digest);
        if file.header.program_digest != recorded {
            return Err(ModelError::Layout(format!(
                "the header's program digest ({}) is not the digest of the program it records ({})",
                file.header.program_digest.as_deref().unwrap_or("none"),
                recorded.as_deref().unwrap_or("none")
            )));
        }
        let mut tensors = BTreeMap::new();
        for (name, t) in &file.tensors {
            let exact = match file.exact.get(name) {
                Some(e) => e.clone(),
                None => ExactTensor::from_f64(t).ok_or_else(|| {
                    ModelError::Layout(format!("tensor `{name}` holds a NaN or infinity"))
                })?,
            };
            tensors.insert(name.clone(), exact);
        }
        let model = Model {
            layout,
            tensors,
            graph_digest: file.header.graph_digest.clone(),
            program: file.header.program.clone(),
        };
        model.check_shapes()?;
        Ok(model)
    }

    /// The shape every tensor must have, by name.
    pub fn expected_shapes(&self) -> BTreeMap<String, Vec<usize>> {
        let d = self.layout.d_model as usize;
        let mut shapes = BTreeMap::new();
        shapes.insert(names::TOKEN.to_owned(), vec![VOCAB_SIZE, d]);
        shapes.insert(names::POSITION.to_owned(), vec![2, d]);
        shapes.insert(
            names::UNEMBED.to_owned(),
            vec![CLASSES, self.layout.readout.len()],
        );
        shapes.insert(names::UNEMBED_BIAS.to_owned(), vec![CLASSES]);
        let r = self.layout.readout.len();
        shapes.insert(names::READOUT.to_owned(), vec![r, d]);
        shapes.insert(names::READOUT_BIAS.to_owned(), vec![r]);
        for (l, layer) in self.layout.layers.iter().enumerate() {
            let h = layer.heads.len();
            if h > 0 {
                for part in ["attn.q", "attn.k", "attn.v", "attn.o"] {
                    shapes.insert(names::layer(l, part), vec![h, 2, d]);
                }
                for part in ["attn.q_bias", "attn.k_bias", "attn.v_bias"] {
                    shapes.insert(names::layer(l, part), vec![h, 2]);
                }
            }
            let n = layer.neurons as usize;
            if n > 0 {
                for part in ["ffn.gate", "ffn.value", "ffn.out"] {
                    shapes.insert(names::layer(l, part), vec![n, d]);
                }
                for part in ["ffn.gate_bias", "ffn.value_bias"] {
                    shapes.insert(names::layer(l, part), vec![n]);
                }
            }
        }
        shapes
    }

    /// Checks that the tensors are exactly the layout's, with its shapes,
    /// and that the running sums name real heads and neurons.
    pub fn check_shapes(&self) -> Result<(), ModelError> {
        let expected = self.expected_shapes();
        for (name, shape) in &expected {
            let t = self.tensor(name)?;
            if &t.shape != shape {
                return Err(ModelError::Layout(format!(
                    "tensor `{name}` has shape {:?}, the layout needs {shape:?}",
                    t.shape
                )));
            }
            t.check()
                .map_err(|e| ModelError::Layout(format!("tensor `{name}`: {e}")))?;
        }
        if let Some(extra) = self.tensors.keys().find(|n| !expected.contains_key(*n)) {
            return Err(ModelError::Layout(format!(
                "tensor `{extra}` is not part of the layout"
            )));
        }
        for rs in &self.layout.running_sums {
            let ok = self
                .layout
                .layers
                .get(rs.head_layer as usize)
                .and_then(|l| l.heads.get(rs.head as usize))
                == Some(&HeadRule::Mean)
                && self
                    .layout
                    .layers
                    .get(rs.neuron_layer as usize)
                    .is_some_and(|l| rs.neuron < l.neurons)
                && rs.neuron_layer >= rs.head_layer;
            if !ok {
                return Err(ModelError::Layout(format!(
                    "running sum {rs:?} does not name a mean head and a later neuron"
                )));
            }
        }
        Ok(())
    }
}
