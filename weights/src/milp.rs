//! The MILP schedule: times that minimise `d_model` for a given number of
//! layers, solved by HiGHS through `good_lp`.
//!
//! # The problem
//!
//! Given the times, [`Schedule::with_times`] assigns slots by a left-edge
//! sweep, which is optimal for interval graphs, so `d_model` is the largest
//! number of dimensions live at one time: dimension `i` is live at every
//! time `τ` with `t_i ≤ τ ≤ c_i`, where `c_i` is the time it is cleared
//! (see [`Schedule::cleared`]). The MILP therefore only chooses times, and
//! minimises `D` subject to "at most `D` dimensions live at each time".
//!
//! # The formulation
//!
//! Every head (all its components together) and every other dimension is
//! one *group* with one time. Its window is `[asap, alap]`: as soon as
//! possible (the greedy time) and as late as possible with `2L` as the last
//! time, both restricted to the group's phase. For each time `σ` of the
//! window but the last there is a binary `z_σ = [t ≤ σ]`
//! (non-decreasing in `σ`); `S(τ) = [t ≤ τ]` is then the `z` of the
//! latest window time `≤ τ`, or a constant outside the window.
//!
//! - Dependencies (`x` read by `i`): `S_i(τ) ≤ S_x(τ − 1)` at every time
//!   of `i`'s window (edges that a longer path implies are left out).
//! - Liveness. The first FFN at or after the last read clears a dimension,
//!   so `c_i ≥ τ` holds for every `τ ≤ 2` and otherwise exactly when the
//!   last read is at or after `θ(τ)` = `τ` for odd `τ`, `τ − 1` for even
//!   `τ`. Hence `live_{i,τ}` is `S_i(τ)` for outputs (never cleared) and for
//!   `τ ≤ 2`; `S_i(τ) − S_i(θ − 1)` for a dimension nobody reads; and
//!   `max_r (S_i(τ) − S_r(θ − 1))` over the readers `r` otherwise (a
//!   continuous `y ≥ 0` above each term, exact at the optimum; readers that
//!   come before another reader are left out, as the later one decides). With
//!   a single undecided reader the difference itself is exact (it is never
//!   negative, since `r` comes after `i`).
//! - `Σ_i live_{i,τ} ≤ D` for every `τ ∈ 0..=2L`; minimise `D`.
//!
//! The greedy schedule is the warm start (HiGHS takes it as the first
//! incumbent) and `D ≤ greedy d_model` bounds the search. The answer is
//! rebuilt with [`Schedule::with_times`] and validated; the greedy schedule
//! is returned instead on ties, on solver failure, or if the MILP answer
//! does not validate.
//!
//! # Determinism
//!
//! HiGHS runs single-threaded with a fixed random seed, and the model is
//! built in a fixed order, so the solver's path is the same on every run.
//! Where it stops is deterministic too when it stops by itself (optimal) or
//! at [`MilpOptions::node_limit`], but not when the wall-clock
//! [`MilpOptions::time_limit`] stops it: the incumbent reached by then
//! depends on the machine's speed and load. The returned schedule is always
//! valid and never wider than the greedy one either way. For reproducible
//! bytes, use a node limit (the default: the root node only) with a time
//! limit generous enough never to be reached, and check
//! [`MilpOutcome::status`] (`node limit` or `optimal`, not `time limit`).
//!
//! Sizes on the machine plan (516 dimensions, 18 layers as the greedy):
//! about 2,900 columns and 9,200 rows; the root node takes about 10 s on
//! one core.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use good_lp::solvers::highs::highs;
use good_lp::{Expression, ProblemVariables, SolverModel, Variable, variable};
use highs::{HighsModelStatus, HighsSolutionStatus};
use tvm_dsl::expr::Dim;

use crate::plan::{Phase, Plan, Unit};
use crate::schedule::{Schedule, ScheduleError};

/// What to solve and for how long.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MilpOptions {
    /// Layers available (default: the greedy schedule's layer count).
    pub layers: Option<u32>,
    /// The solver's wall-clock limit. When it stops the solver, the answer
    /// can depend on the machine (see the module docs).
    pub time_limit: Duration,
    /// Branch-and-bound nodes the solver may process (`Some(1)`: the root
    /// node only, its cuts and heuristics included). A stop here is
    /// deterministic; `None` leaves only the time limit.
    pub node_limit: Option<u32>,
}

impl Default for MilpOptions {
    /// The greedy's layers, the root node only, and a minute as a safety
    /// net: deterministic on the machine plan, which solves its root node
    /// in about 10 s.
    fn default() -> Self {
        MilpOptions {
            layers: None,
            time_limit: Duration::from_secs(60),
            node_limit: Some(1),
        }
    }
}

/// The schedule chosen and how it was found.
#[derive(Clone, Debug)]
pub struct MilpOutcome {
    /// The validated schedule: the MILP's if it is narrower than the
    /// greedy one, else the greedy one.
    pub schedule: Schedule,
    /// Its `d_model`.
    pub d_model: u32,
    /// The greedy schedule's `d_model`.
    pub greedy_d_model: u32,
    /// The solver proved that no schedule within the layer count is
    /// narrower (`lower_bound == d_model`).
    pub optimal: bool,
    /// No schedule within the layer count is narrower than this (the
    /// solver's dual bound, rounded up; 0 if the solver failed or its
    /// answer did not check out).
    pub lower_bound: u32,
    /// What the solver reported (and whether its answer was used).
    pub status: String,
    /// Seconds spent, model building and solving included.
    pub seconds: f64,
}

/// Why no schedule could be produced.
#[derive(thiserror::Error, Debug)]
pub enum MilpError {
    /// The plan's critical path does not fit in the layers asked for.
    #[error("the plan needs at least {needed} layers; {layers} were asked for")]
    TooFewLayers {
        /// Layers asked for.
        layers: u32,
        /// The fewest layers any schedule needs (the greedy's).
        needed: u32,
    },
    /// The greedy schedule (the fallback) does not validate.
    #[error("the greedy schedule is invalid: {0}")]
    Greedy(#[from] ScheduleError),
}

/// Minimises `d_model` for `options.layers` layers; see the module docs.
pub fn schedule(plan: &Plan, options: &MilpOptions) -> Result<MilpOutcome, MilpError> {
    let start = Instant::now();
    let greedy = Schedule::greedy(plan);
    greedy.validate(plan)?;
    let greedy_stats = greedy.stats(plan);
    let greedy_d_model = greedy_stats.d_model;
    let layers = options.layers.unwrap_or(greedy_stats.layers);
    if layers < greedy_stats.layers {
        return Err(MilpError::TooFewLayers {
            layers,
            needed: greedy_stats.layers,
        });
    }
    let finish = |schedule: Schedule, d_model: u32, lower_bound: u32, status: String| MilpOutcome {
        schedule,
        d_model,
        greedy_d_model,
        optimal: lower_bound >= d_model,
        lower_bound,
        status,
        seconds: start.elapsed().as_secs_f64(),
    };
    if plan.dims.is_empty() {
        return Ok(finish(greedy, greedy_d_model, 0, "empty plan".into()));
    }
    let groups = Groups::new(plan, &greedy.time, layers.saturating_mul(2)).ok_or(
        MilpError::TooFewLayers {
            layers,
            needed: greedy_stats.layers,
        },
    )?;
    let model = Formulation::build(plan, &groups, greedy_d_model);
    let solved = match model.solve(options) {
        Ok(solved) => solved,
        Err(e) => {
            let status = format!("solver failed ({e}); greedy kept");
            return Ok(finish(greedy, greedy_d_model, 0, status));
        }
    };
    let Solved {
        times,
        status,
        lower_bound,
    } = solved;
    let Some(times) = times else {
        let status = format!("{status}; no solution; greedy kept");
        return Ok(finish(greedy, greedy_d_model, lower_bound, status));
    };
    let milp = Schedule::with_times(plan, times);
    if let Err(e) = milp.validate(plan) {
        // The model is wrong somewhere: trust nothing from it.
        let status = format!("{status}; MILP schedule invalid ({e}); greedy kept");
        return Ok(finish(greedy, greedy_d_model, 0, status));
    }
    let stats = milp.stats(plan);
    if stats.layers > layers {
        let status = format!(
            "{status}; MILP schedule uses {} layers, over {layers}; greedy kept",
            stats.layers
        );
        return Ok(finish(greedy, greedy_d_model, 0, status));
    }
    if stats.d_model < greedy_d_model {
        Ok(finish(milp, stats.d_model, lower_bound, status))
    } else {
        let status = format!("{status}; greedy kept (as narrow)");
        Ok(finish(greedy, greedy_d_model, lower_bound, status))
    }
}

/// Largest time `≤ t` of `phase`, if any.
fn latest_at_or_before(phase: Phase, t: i64) -> Option<u32> {
    let (latest, first) = match phase {
        Phase::Embed => (0, 0),
        Phase::Attention => (t - 1 + t.rem_euclid(2), 1),
        Phase::Ffn => (t - t.rem_euclid(2), 2),
    };
    (t >= 0 && latest >= first).then_some(latest as u32)
}

/// Dimensions that share a time (a head's components), with their windows
/// and the dependency structure between them.
struct Groups {
    /// The group of each dimension.
    of: Vec<usize>,
    /// Each group's dimensions.
    members: Vec<Vec<usize>>,
    phase: Vec<Phase>,
    asap: Vec<u32>,
    alap: Vec<u32>,
    /// The greedy time (the warm start).
    greedy: Vec<u32>,
    /// Groups read by each group, without the edges a path implies.
    preds: Vec<Vec<usize>>,
    /// Groups reading each dimension, without those before another one.
    readers: Vec<Vec<usize>>,
    /// Whether each dimension is an output (never cleared).
    output: Vec<bool>,
    /// The last time, `2L`.
    last: u32,
}

/// A set of group indices.
#[derive(Clone)]
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Bits {
        Bits(vec![0; n.div_ceil(64)])
    }
    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    fn has(&self, i: usize) -> bool {
        self.0[i / 64] >> (i % 64) & 1 == 1
    }
    fn union(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a |= b;
        }
    }
}

impl Groups {
    /// `None` when some group has no time left in `0..=last`.
    fn new(plan: &Plan, greedy_time: &[u32], last: u32) -> Option<Groups> {
        let n = plan.dims.len();
        let mut of = vec![0usize; n];
        let mut members: Vec<Vec<usize>> = Vec::new();
        let mut phase = Vec::new();
        let mut head_group = vec![usize::MAX; plan.heads.len()];
        for (i, d) in plan.dims.iter().enumerate() {
            let g = match d.unit {
                Unit::Head { head, .. } if head_group[head as usize] != usize::MAX => {
                    head_group[head as usize]
                }
                _ => {
                    members.push(Vec::new());
                    phase.push(d.unit.phase());
                    if let Unit::Head { head, .. } = d.unit {
                        head_group[head as usize] = members.len() - 1;
                    }
                    members.len() - 1
                }
            };
            of[i] = g;
            members[g].push(i);
        }
        let m = members.len();
        // Group edges (reads), deduplicated.
        let mut reads: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); m];
        let mut dim_readers: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); n];
        for i in 0..n {
            for x in plan.reads(Dim(i as u32)) {
                reads[of[i]].insert(of[x.index()]);
                dim_readers[x.index()].insert(of[i]);
            }
        }
        // A topological order of the groups (Kahn, lowest index first).
        let mut indegree: Vec<usize> = reads.iter().map(BTreeSet::len).collect();
        let mut succs: Vec<Vec<usize>> = vec![Vec::new(); m];
        for (g, r) in reads.iter().enumerate() {
            for &x in r {
                succs[x].push(g);
            }
        }
        let mut ready: BTreeSet<usize> = (0..m).filter(|&g| indegree[g] == 0).collect();
        let mut order = Vec::with_capacity(m);
        while let Some(g) = ready.pop_first() {
            order.push(g);
            for &s in &succs[g] {
                indegree[s] -= 1;
                if indegree[s] == 0 {
                    ready.insert(s);
                }
            }
        }
        assert_eq!(order.len(), m, "the plan's dependencies have a cycle");
        // Windows.
        let mut asap = vec![0u32; m];
        for &g in &order {
            let after = reads[g].iter().map(|&x| asap[x]).max();
            asap[g] = phase[g].first_after(after);
        }
        let mut alap = vec![0u32; m];
        for &g in order.iter().rev() {
            let bound = succs[g]
                .iter()
                .map(|&s| i64::from(alap[s]) - 1)
                .min()
                .unwrap_or(i64::from(last));
            alap[g] = latest_at_or_before(phase[g], bound.min(i64::from(last)))?;
            if alap[g] < asap[g] {
                return None;
            }
        }
        // Descendants, for the reductions.
        let mut desc = vec![Bits::new(m); m];
        for &g in order.iter().rev() {
            let mut d = Bits::new(m);
            for &s in &succs[g] {
                d.set(s);
                d.union(&desc[s]);
            }
            desc[g] = d;
        }
        let maximal = |set: &BTreeSet<usize>| -> Vec<usize> {
            // Keep `x` unless another member comes after it.
            set.iter()
                .copied()
                .filter(|&x| !set.iter().any(|&y| y != x && desc[x].has(y)))
                .collect()
        };
        let preds = reads.iter().map(&maximal).collect();
        let readers = dim_readers.iter().map(&maximal).collect();
        let mut output = vec![false; n];
        for d in plan.output_dims() {
            output[d.index()] = true;
        }
        let greedy = members.iter().map(|ms| greedy_time[ms[0]]).collect();
        Some(Groups {
            of,
            members,
            phase,
            asap,
            alap,
            greedy,
            preds,
            readers,
            output,
            last,
        })
    }
}

/// `S_g(τ) = [t_g ≤ τ]`: a constant, or the binary `z_σ` (column `col`)
/// of the latest window time `σ ≤ τ`.
#[derive(Clone, Copy, Debug)]
enum Done {
    Zero,
    One,
    Var { z: Variable, col: usize },
}

impl Done {
    fn expr(self) -> Expression {
        match self {
            Done::Zero => Expression::from(0.0),
            Done::One => Expression::from(1.0),
            Done::Var { z, .. } => Expression::from(z),
        }
    }
}

/// The MILP, with the greedy schedule as a solution.
struct Formulation {
    vars: ProblemVariables,
    /// The greedy solution, by column (columns are the variables in the
    /// order they were added).
    warm: Vec<f64>,
    d: Variable,
    /// Per group: `(σ, z_σ, column)` for the window's times but the last.
    z: Vec<Vec<(u32, Variable, usize)>>,
    /// `lhs ≤ rhs` rows.
    rows: Vec<(Expression, Expression)>,
    asap: Vec<u32>,
    alap: Vec<u32>,
    members: Vec<Vec<usize>>,
}

/// What the solver found.
struct Solved {
    /// The times, if the solver has a solution.
    times: Option<Vec<u32>>,
    status: String,
    lower_bound: u32,
}

/// Held while HiGHS runs: not every HiGHS version is safe to run from
/// several threads at once.
static SOLVER: Mutex<()> = Mutex::new(());

impl Formulation {
    fn add(&mut self, def: good_lp::VariableDefinition, warm: f64) -> (Variable, usize) {
        self.warm.push(warm);
        (self.vars.add(def), self.warm.len() - 1)
    }

    fn done(&self, g: usize, tau: i64) -> Done {
        if tau < i64::from(self.asap[g]) {
            return Done::Zero;
        }
        if tau >= i64::from(self.alap[g]) {
            return Done::One;
        }
        let z = &self.z[g];
        // The latest window time ≤ τ (the first, asap, is ≤ τ).
        let k = z.partition_point(|&(s, _, _)| i64::from(s) <= tau) - 1;
        Done::Var {
            z: z[k].1,
            col: z[k].2,
        }
    }

    /// The value of `done` in the warm start.
    fn warm(&self, done: Done) -> f64 {
        match done {
            Done::Zero => 0.0,
            Done::One => 1.0,
            Done::Var { col, .. } => self.warm[col],
        }
    }

    fn build(plan: &Plan, groups: &Groups, greedy_d_model: u32) -> Formulation {
        let m = groups.members.len();
        let mut vars = ProblemVariables::new();
        let d = vars.add(variable().integer().min(0).max(greedy_d_model));
        let mut f = Formulation {
            vars,
            warm: vec![f64::from(greedy_d_model)],
            d,
            z: Vec::with_capacity(m),
            rows: Vec::new(),
            asap: groups.asap.clone(),
            alap: groups.alap.clone(),
            members: groups.members.clone(),
        };
        for g in 0..m {
            let mut zs = Vec::new();
            for t in groups.asap[g]..groups.alap[g] {
                if groups.phase[g].allows(t) {
                    let warm = if groups.greedy[g] <= t { 1.0 } else { 0.0 };
                    let (z, col) = f.add(variable().binary(), warm);
                    zs.push((t, z, col));
                }
            }
            f.z.push(zs);
        }
        let mut rows = Vec::new();
        // z is non-decreasing.
        for zs in &f.z {
            for pair in zs.windows(2) {
                rows.push((Expression::from(pair[0].1), Expression::from(pair[1].1)));
            }
        }
        // Dependencies: done by τ ⇒ what it reads done by τ − 1.
        for g in 0..m {
            for &x in &groups.preds[g] {
                for &(tau, zg, _) in &f.z[g] {
                    let dx = f.done(x, i64::from(tau) - 1);
                    if !matches!(dx, Done::One) {
                        rows.push((Expression::from(zg), dx.expr()));
                    }
                }
            }
        }
        // Liveness and capacity.
        for tau in 0..=groups.last {
            let mut load = Expression::from(0.0);
            let t = i64::from(tau);
            let theta = if tau % 2 == 1 { t } else { t - 1 };
            for i in 0..plan.dims.len() {
                let g = groups.of[i];
                let si = f.done(g, t);
                if matches!(si, Done::Zero) {
                    continue;
                }
                if groups.output[i] || tau <= 2 {
                    load += si.expr();
                    continue;
                }
                let readers = &groups.readers[i];
                if readers.is_empty() {
                    // Live iff written in θ..=τ.
                    load += si.expr() - f.done(g, theta - 1).expr();
                    continue;
                }
                // Live iff written by τ and some reader is at or after θ.
                let mut open = Vec::new();
                let mut late = false;
                for &r in readers {
                    match f.done(r, theta - 1) {
                        Done::Zero => late = true,
                        Done::One => {}
                        done @ Done::Var { .. } => open.push(done),
                    }
                }
                if late {
                    load += si.expr();
                } else if let [done] = open[..] {
                    load += si.expr() - done.expr();
                } else if !open.is_empty() {
                    let warm_si = f.warm(si);
                    let warm_y = open
                        .iter()
                        .map(|&done| warm_si - f.warm(done))
                        .fold(0.0, f64::max);
                    let (y, _) = f.add(variable().min(0).max(1), warm_y);
                    for &done in &open {
                        rows.push((si.expr() - done.expr(), Expression::from(y)));
                    }
                    load += y;
                }
            }
            rows.push((load, Expression::from(d)));
        }
        f.rows = rows;
        f
    }

    /// Runs HiGHS from the warm start and reads the times back.
    fn solve(self, options: &MilpOptions) -> Result<Solved, String> {
        let Formulation {
            vars,
            warm,
            d,
            z,
            rows,
            alap,
            members,
            ..
        } = self;
        let (columns, n_rows) = (vars.len(), rows.len());
        let mut problem = vars.minimise(d).using(highs);
        for (lhs, rhs) in rows {
            problem.add_constraint(lhs.leq(rhs));
        }
        let _guard = SOLVER.lock().unwrap_or_else(|e| e.into_inner());
        let mut model = problem.try_into_inner().map_err(|e| e.to_string())?;
        fn set<V: highs::HighsOptionValue>(
            model: &mut highs::Model,
            name: &str,
            value: V,
        ) -> Result<(), String> {
            model
                .try_set_option(name, value)
                .map_err(|_| format!("HiGHS rejects option {name}"))
        }
        // One thread and a fixed seed: the same model gives the same answer.
        set(&mut model, "threads", 1)?;
        set(&mut model, "random_seed", 0)?;
        set(&mut model, "mip_rel_gap", 0.0)?;
        set(&mut model, "time_limit", options.time_limit.as_secs_f64())?;
        if let Some(nodes) = options.node_limit {
            let nodes = i32::try_from(nodes).unwrap_or(i32::MAX);
            set(&mut model, "mip_max_nodes", nodes)?;
        }
        model
            .try_set_solution(Some(&warm), None, None, None)
            .map_err(|e| format!("HiGHS warm start: {e:?}"))?;
        let solved = model.try_solve().map_err(|e| format!("HiGHS: {e:?}"))?;
        let bound = solved
            .double_info_value(c"mip_dual_bound")
            .unwrap_or(f64::NEG_INFINITY);
        // The objective is an integer: round the bound up (with slack for
        // the solver's tolerances).
        let lower_bound = if bound.is_finite() {
            (bound - 1e-6).ceil().clamp(0.0, f64::from(u32::MAX)) as u32
        } else {
            0
        };
        let label = match solved.status() {
            HighsModelStatus::Optimal => "optimal".to_string(),
            HighsModelStatus::ReachedTimeLimit => "time limit".to_string(),
            // HiGHS reports its node limit as a solution limit.
            HighsModelStatus::ReachedSolutionLimit if options.node_limit.is_some() => {
                "node limit".to_string()
            }
            other => format!("{other:?}"),
        };
        if solved.primal_solution_status() != HighsSolutionStatus::Feasible {
            return Ok(Solved {
                times: None,
                status: label,
                lower_bound,
            });
        }
        let status = format!(
            "{label}: D = {}, bound {lower_bound} ({columns} columns, {n_rows} rows)",
            solved.objective_value()
        );
        let values = solved.get_solution();
        let values = values.columns();
        if values.len() != columns {
            return Err(format!(
                "HiGHS returned {} columns for {columns}",
                values.len()
            ));
        }
        let n = members.iter().map(Vec::len).sum();
        let mut times = vec![0u32; n];
        for (g, ms) in members.iter().enumerate() {
            let t = z[g]
                .iter()
                .find(|&&(_, _, col)| values[col] > 0.5)
                .map_or(alap[g], |&(s, _, _)| s);
            for &i in ms {
                times[i] = t;
            }
        }
        Ok(Solved {
            times: Some(times),
            status,
            lower_bound,
        })
    }
}
