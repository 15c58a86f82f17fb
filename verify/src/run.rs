//! Running verification: the items to prove, proven in parallel, reported
//! in a fixed order (so reports and certificates do not depend on thread
//! timing).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use tvm_dsl::graph::Graph;
use tvm_dsl::machine::Ports;

use crate::context::Context;
use crate::obligation::{Kind, Smt};
use crate::report::{ItemReport, NamedSmt, decide};
use crate::semantics::{self, Selection, Task};
use crate::{head, io, model_check, neuron, table};

/// One unit of work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Job {
    /// The schedule's dependencies.
    Dependencies,
    /// Slot reuse and layer shapes.
    Slots,
    /// The embedding tables.
    Embedding,
    /// Readout row `r`.
    Readout(usize),
    /// The output head.
    OutputHead,
    /// Neuron `(layer, index)`.
    Neuron(usize, usize),
    /// Head `(layer, index)`.
    Head(usize, usize),
    /// The lemma every lookup's gating neurons rest on.
    GateLemma,
    /// `2qx − x² = q² − (q − x)²`: a hardmax score in completed-square form.
    SquareLemma,
    /// `(q − x)² ≥ 1` for integers `q ≠ x`: the winning margin.
    MarginLemma,
    /// Baked table `i` of a specialised model (`Context::tables`).
    Table(usize),
}

/// Every model job: model checks, I/O, neurons, heads, in report order.
pub fn model_jobs(cx: &Context) -> Vec<Job> {
    let mut jobs = vec![Job::Dependencies, Job::Slots];
    jobs.extend((0..cx.tables.len()).map(Job::Table));
    jobs.push(Job::Embedding);
    jobs.extend((0..cx.model.layout.readout.len()).map(Job::Readout));
    jobs.push(Job::OutputHead);
    for (l, layer) in cx.model.layout.layers.iter().enumerate() {
        jobs.extend((0..layer.neurons as usize).map(|r| Job::Neuron(l, r)));
    }
    for (l, layer) in cx.model.layout.layers.iter().enumerate() {
        jobs.extend((0..layer.heads.len()).map(|h| Job::Head(l, h)));
    }
    jobs.extend([Job::GateLemma, Job::SquareLemma, Job::MarginLemma]);
    jobs
}

/// The job whose proof covers the weight at `index` of tensor `tensor`
/// (a model tensor name): the neuron or head it belongs to, the readout
/// row, the embedding or the output head.
pub fn job_of(tensor: &str, index: &[usize]) -> Option<Job> {
    use tvm_weights::model::names;
    match tensor {
        names::TOKEN | names::POSITION => Some(Job::Embedding),
        names::READOUT | names::READOUT_BIAS => index.first().map(|r| Job::Readout(*r)),
        names::UNEMBED | names::UNEMBED_BIAS => Some(Job::OutputHead),
        _ => {
            let (l, part) = tensor.strip_prefix("layer")?.split_once('.')?;
            let l: usize = l.parse().ok()?;
            let first = *index.first()?;
            if part.starts_with("ffn.") {
                Some(Job::Neuron(l, first))
            } else if part.starts_with("attn.") {
                Some(Job::Head(l, first))
            } else {
                None
            }
        }
    }
}

/// The item name a job reports under.
pub fn job_name(cx: &Context, job: &Job) -> String {
    match job {
        Job::Dependencies => "model.dependencies".into(),
        Job::Slots => "model.slots".into(),
        Job::Embedding => "embedding".into(),
        Job::Readout(r) => format!(
            "readout.{}",
            cx.graph.outputs().get(*r).map_or("?", |(n, _)| n.as_str())
        ),
        Job::OutputHead => "output_head".into(),
        Job::Neuron(l, r) => neuron::name(*l, *r),
        Job::Head(l, h) => head::name(*l, *h),
        Job::GateLemma => "lemma.match_gate".into(),
        Job::SquareLemma => "lemma.square".into(),
        Job::MarginLemma => "lemma.margin".into(),
        Job::Table(i) => cx
            .tables
            .get(*i)
            .map_or_else(|| "table.?".into(), |c| table::item_name(&c.name)),
    }
}

/// Proves one job.
pub fn prove(cx: &Context, job: &Job) -> ItemReport {
    match job {
        Job::Dependencies => model_check::dependencies(cx),
        Job::Slots => model_check::slots(cx),
        Job::Embedding => io::embedding(cx),
        Job::Readout(r) => io::readout(cx, *r),
        Job::OutputHead => io::output_head(cx),
        Job::Neuron(l, r) => {
            let spec = cx.layers.get(*l).and_then(|x| x.neurons.get(*r));
            match (spec, cx.weights.get(*l)) {
                (Some(spec), Some(w)) => neuron::prove(cx, *l, *r, spec, w),
                _ => missing(
                    Kind::Neuron,
                    neuron::name(*l, *r),
                    *l,
                    "the DSL has no such neuron",
                ),
            }
        }
        Job::Head(l, h) => {
            let spec = cx.layers.get(*l).and_then(|x| x.heads.get(*h));
            match (spec, cx.weights.get(*l)) {
                (Some(spec), Some(w)) => head::prove(cx, *l, *h, spec, w),
                _ => missing(
                    Kind::Head,
                    head::name(*l, *h),
                    *l,
                    "the DSL has no such head",
                ),
            }
        }
        Job::Table(i) => match cx.tables.get(*i) {
            Some(column) => table::prove(cx.graph, column, &cx.tables),
            None => missing(Kind::Table, format!("table {i}"), 0, "no such table"),
        },
        Job::GateLemma => gate_lemma(),
        Job::SquareLemma => lemma(
            "lemma.square",
            "2qx − x² = q² − (q − x)²",
            "QF_NIA",
            "(declare-const q Int)\n(declare-const x Int)\n(assert (not (= (+ (- (* 2 q x) (* x x)) (* (- q x) (- q x))) (* q q))))\n",
        ),
        Job::MarginLemma => lemma(
            "lemma.margin",
            "(q − x)² ≥ 1 for integers q ≠ x",
            "QF_NIA",
            "(declare-const d Int)\n(assert (not (=> (distinct d 0) (>= (* d d) 1))))\n",
        ),
    }
}

fn missing(kind: Kind, name: String, l: usize, why: &str) -> ItemReport {
    ItemReport {
        kind,
        name,
        layer: Some(l as u32),
        method: "spec",
        about: String::new(),
        group: None,
        elapsed: std::time::Duration::ZERO,
        verdict: decide(&[], vec![why.to_owned()], Vec::new()),
        smt: Vec::new(),
        explanations: Vec::new(),
    }
}

/// `relu(d+1) − 2·relu(d) + relu(d−1) = [d = 0]` for every integer `d`:
/// the gating neurons after a lookup head (all three with the value `v` on
/// their value side, which the neuron proofs check) output `v·[d = 0]`.
fn gate_lemma() -> ItemReport {
    let relu = |x: &str| format!("(ite (> {x} 0) {x} 0)");
    let script = format!(
        "(declare-const d Int)\n(assert (not (= (+ {} (* (- 2) {}) {}) (ite (= d 0) 1 0))))\n",
        relu("(+ d 1)"),
        relu("d"),
        relu("(- d 1)")
    );
    lemma(
        "lemma.match_gate",
        "relu(d+1) − 2relu(d) + relu(d−1) = [d = 0]",
        "QF_LIA",
        &script,
    )
}

/// A model-independent claim the head proofs compose with.
fn lemma(name: &str, about: &str, logic: &'static str, script: &str) -> ItemReport {
    let start = Instant::now();
    let smt = vec![NamedSmt {
        name: name.into(),
        smt: Smt {
            logic,
            script: script.to_owned(),
        },
    }];
    let verdict = decide(&smt, Vec::new(), Vec::new());
    ItemReport {
        kind: Kind::Head,
        name: name.into(),
        layer: None,
        method: "z3",
        about: about.into(),
        group: None,
        elapsed: start.elapsed(),
        verdict,
        smt,
        explanations: Vec::new(),
    }
}

/// Runs `work` on every job with `threads` workers; results in job order.
/// `on_done` sees each result as it finishes (for progress).
pub fn parallel<J: Sync, R: Send>(
    jobs: &[J],
    threads: usize,
    work: impl Fn(&J) -> R + Sync,
    on_done: impl Fn(&R) + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    let r = work(job);
                    on_done(&r);
                    if let Ok(mut v) = results.lock() {
                        v[i] = Some(r);
                    }
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}

/// Proves every job of `jobs` against the model in `cx`.
pub fn prove_all(
    cx: &Context,
    jobs: &[Job],
    threads: usize,
    on_done: impl Fn(&ItemReport) + Sync,
) -> Vec<ItemReport> {
    parallel(jobs, threads, |j| prove(cx, j), on_done)
}

/// One unit of work of a whole run: a model item or a semantic one.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Work {
    Model(Job),
    Semantics(Task),
}

/// A whole verification run: every job of the model in `cx` (if any) and
/// every task of `selection`, on one pool of `threads` workers (the
/// lowerings, the slowest items, start first), reported in [`Kind::ALL`]
/// order and, within a kind, in job order.
pub fn verify(
    cx: Option<&Context>,
    machine: (&Graph, &Ports),
    selection: &Selection,
    threads: usize,
    on_done: impl Fn(&ItemReport) + Sync,
) -> Vec<ItemReport> {
    let tasks = selection.tasks();
    let (lowerings, opcodes): (Vec<Task>, Vec<Task>) = tasks
        .into_iter()
        .partition(|t| matches!(t, Task::Lowering(_) | Task::Inline(..)));
    let mut work: Vec<Work> = lowerings.into_iter().map(Work::Semantics).collect();
    if let Some(cx) = cx {
        work.extend(model_jobs(cx).into_iter().map(Work::Model));
    }
    work.extend(opcodes.into_iter().map(Work::Semantics));
    let mut items = parallel(
        &work,
        threads,
        |w| match (w, cx) {
            (Work::Model(job), Some(cx)) => prove(cx, job),
            (Work::Model(job), None) => missing(Kind::Model, format!("{job:?}"), 0, "no model"),
            (Work::Semantics(t), _) => semantics::prove(machine.0, machine.1, *t),
        },
        on_done,
    );
    let rank = |k: Kind| Kind::ALL.iter().position(|x| *x == k);
    items.sort_by_key(|i| rank(i.kind));
    items
}

/// How many items [`verify`] proves.
pub fn item_count(cx: Option<&Context>, selection: &Selection) -> usize {
    cx.map_or(0, |cx| model_jobs(cx).len()) + selection.tasks().len()
}
