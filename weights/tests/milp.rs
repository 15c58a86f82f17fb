//! The MILP scheduler: known optima on small graphs, agreement with an
//! exhaustive search, determinism, and the real machine plan.

use std::time::Duration;

use tvm_dsl::expr::{Dim, Expr};
use tvm_dsl::graph::{Graph, LookUp, Tie};
use tvm_weights::milp::{self, MilpOptions};
use tvm_weights::plan::{Phase, Plan, Unit};
use tvm_weights::schedule::Schedule;

fn options(layers: Option<u32>) -> MilpOptions {
    MilpOptions {
        layers,
        time_limit: Duration::from_secs(20),
        node_limit: None,
    }
}

/// The smallest `d_model` over every valid schedule within `layers`
/// layers, by exhaustive search (tiny plans only).
fn brute_force(plan: &Plan, layers: u32) -> u32 {
    fn go(plan: &Plan, last: u32, time: &mut Vec<u32>, best: &mut u32) {
        let i = time.len();
        if i == plan.dims.len() {
            let s = Schedule::with_times(plan, time.clone());
            assert_eq!(s.validate(plan), Ok(()));
            *best = (*best).min(s.stats(plan).d_model);
            return;
        }
        let unit = &plan.dims[i].unit;
        // A head's later components take the first component's time.
        if let Unit::Head { head, component } = unit
            && *component > 0
        {
            let first = plan
                .dims
                .iter()
                .position(|d| {
                    d.unit
                        == Unit::Head {
                            head: *head,
                            component: 0,
                        }
                })
                .expect("component 0 comes first");
            time.push(time[first]);
            go(plan, last, time, best);
            time.pop();
            return;
        }
        let after = plan
            .reads(Dim(i as u32))
            .iter()
            .map(|x| time[x.index()])
            .max();
        let mut t = unit.phase().first_after(after);
        while t <= last {
            time.push(t);
            go(plan, last, time, best);
            time.pop();
            if unit.phase() == Phase::Embed {
                break;
            }
            t = unit.phase().first_after(Some(t));
        }
    }
    let mut best = u32::MAX;
    go(plan, 2 * layers, &mut Vec::new(), &mut best);
    best
}

/// `p`, then two chains `p → 2 dims → 2 dims → 1 dim`, joined by one output
/// neuron. Every step of a chain reads every dimension of the step before.
fn two_chains() -> Plan {
    let mut g = Graph::new();
    let p = g.position();
    let mut ends = Vec::new();
    for chain in 0..2 {
        let c = 10 * chain;
        let a1 = g.reglu(Expr::int(1), p.clone() + (c + 1));
        let a2 = g.reglu(Expr::int(1), p.clone() + (c + 2));
        let b1 = g.reglu(Expr::int(1), a1.clone() + a2.clone() + (c + 3));
        let b2 = g.reglu(Expr::int(1), a1 + a2 + (c + 4));
        ends.push(g.reglu(Expr::int(1), b1 + b2 + (c + 5)));
    }
    let out = g.reglu(ends[0].clone(), ends[1].clone());
    g.output("out", out);
    Plan::from_graph(&g).expect("lowers")
}

#[test]
fn the_greedy_is_kept_when_the_critical_path_fixes_every_time() {
    // With the greedy's 4 layers every dimension has exactly one time: the
    // greedy's width 8 (both chains writing their second step at time 4,
    // while both first steps are still live) is optimal.
    let plan = two_chains();
    let out = milp::schedule(&plan, &options(None)).expect("solves");
    assert_eq!(out.greedy_d_model, 8);
    assert_eq!(out.d_model, 8);
    assert!(out.optimal, "{}", out.status);
    assert_eq!(out.schedule, Schedule::greedy(&plan));
    assert_eq!(out.schedule.validate(&plan), Ok(()));
}

#[test]
fn staggered_chains_lower_the_peak() {
    // With 7 layers one chain runs while the other waits: when a chain
    // writes its second step its first step is still live (4 dims), and
    // the other chain holds at least one dimension (p before it starts,
    // its end after it finishes), so 5 is optimal; the greedy, running
    // both chains side by side, needs 8.
    let plan = two_chains();
    let out = milp::schedule(&plan, &options(Some(7))).expect("solves");
    assert_eq!(out.greedy_d_model, 8);
    assert_eq!(out.d_model, 5, "{}", out.status);
    assert!(out.optimal, "{}", out.status);
    assert_eq!(out.schedule.validate(&plan), Ok(()));
    let stats = out.schedule.stats(&plan);
    assert_eq!(stats.d_model, 5);
    assert!(stats.layers <= 7);
    // Same input, same schedule.
    let again = milp::schedule(&plan, &options(Some(7))).expect("solves");
    assert_eq!(again.schedule, out.schedule);
    assert_eq!(again.d_model, out.d_model);
    // In between, the exhaustive search agrees: 8, 6, 6, 5.
    for (layers, best) in [(4, 8), (5, 6), (6, 6), (7, 5)] {
        assert_eq!(brute_force(&plan, layers), best, "{layers} layers");
        let out = milp::schedule(&plan, &options(Some(layers))).expect("solves");
        assert_eq!(out.d_model, best, "{layers} layers: {}", out.status);
        assert!(out.optimal, "{layers} layers: {}", out.status);
    }
}

#[test]
fn too_few_layers_is_an_error() {
    let plan = two_chains();
    let err = milp::schedule(&plan, &options(Some(3))).expect_err("4 layers needed");
    assert!(matches!(
        err,
        milp::MilpError::TooFewLayers {
            layers: 3,
            needed: 4
        }
    ));
}

/// A small deterministic pseudo-random graph: neurons, running sums
/// (a mean head and a neuron) and lookups (a two-component hardmax head),
/// with values read early and late.
fn random_graph(seed: u64, size: usize) -> Plan {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move |n: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) % n as u64) as usize
    };
    let mut g = Graph::new();
    let mut values: Vec<Expr> = vec![g.position()];
    for k in 0..size {
        let a = values[next(values.len())].clone();
        let b = values[next(values.len())].clone();
        let v = match next(4) {
            0 | 1 => g.reglu(a, b + k as i64),
            2 => g.cumsum(a + k as i64),
            _ => {
                let active = g.ge_zero(b.clone());
                g.lookup(LookUp {
                    query: a.clone(),
                    key: b,
                    active,
                    value: a + k as i64,
                    tie: Tie::Latest,
                })
            }
        };
        values.push(v);
    }
    let n = values.len();
    g.output("last", values[n - 1].clone());
    g.output("some", values[next(n)].clone());
    Plan::from_graph(&g).expect("lowers")
}

#[test]
fn small_graphs_match_an_exhaustive_search() {
    let (mut checked, mut narrower) = (0, 0);
    for seed in 0..80 {
        let plan = random_graph(seed, 3 + seed as usize % 4);
        let greedy = Schedule::greedy(&plan).stats(&plan);
        // Exhaustive search is exponential: keep the cases small.
        if plan.dims.len() > 12 {
            continue;
        }
        for extra in 0..3 {
            let layers = greedy.layers + extra;
            let out = milp::schedule(&plan, &options(Some(layers))).expect("solves");
            let best = brute_force(&plan, layers);
            let case = format!("seed {seed}, {layers} layers: {}", out.status);
            assert_eq!(out.d_model, best, "{case}");
            assert!(out.optimal, "{case}");
            assert_eq!(out.lower_bound, best, "{case}");
            assert_eq!(out.greedy_d_model, greedy.d_model, "{case}");
            assert_eq!(out.schedule.validate(&plan), Ok(()), "{case}");
            let stats = out.schedule.stats(&plan);
            assert_eq!(stats.d_model, best, "{case}");
            assert!(stats.layers <= layers, "{case}");
            checked += 1;
            narrower += usize::from(best < greedy.d_model);
        }
    }
    assert!(checked >= 60, "only {checked} cases small enough");
    assert!(narrower >= 20, "only {narrower} cases beat the greedy");
}

#[test]
fn the_machine_plan_is_narrower_and_reproducible() {
    // The default options: the root node only (about 10 s here), with a
    // time limit that should not be reached. Twice, to check that the
    // answer does not depend on the run.
    let plan = Plan::from_graph(&tvm_dsl::machine::universal()).expect("lowers");
    let greedy = Schedule::greedy(&plan).stats(&plan);
    let options = MilpOptions::default();
    let first = milp::schedule(&plan, &options).expect("solves");
    let second = milp::schedule(&plan, &options).expect("solves");
    for out in [&first, &second] {
        assert_eq!(out.greedy_d_model, greedy.d_model);
        assert!(out.d_model < out.greedy_d_model, "{}", out.status);
        assert!(out.lower_bound <= out.d_model, "{}", out.status);
        assert_eq!(out.schedule.validate(&plan), Ok(()));
        let stats = out.schedule.stats(&plan);
        assert_eq!(stats.d_model, out.d_model);
        assert_eq!(stats.layers, greedy.layers);
    }
    // A run the time limit cut short may differ (a very slow machine).
    let by_time = |s: &str| s.starts_with("time limit");
    if !by_time(&first.status) && !by_time(&second.status) {
        assert_eq!(first.schedule, second.schedule);
    }
}

/// Figures for the machine plan: `MILP_SECONDS` (default 10),
/// `MILP_NODES` (default: no node limit) and `MILP_EXTRA_LAYERS` (default
/// 0) over the greedy's layer count.
/// `cargo test --release -p tvm-weights --test milp -- --ignored --nocapture`
#[test]
#[ignore = "slow: a report, not a check"]
fn report_machine_plan() {
    let var = |name: &str| std::env::var(name).ok().and_then(|v| v.parse().ok());
    let env = |name: &str, default: u64| var(name).unwrap_or(default);
    let plan = Plan::from_graph(&tvm_dsl::machine::universal()).expect("lowers");
    let greedy = Schedule::greedy(&plan).stats(&plan);
    let options = MilpOptions {
        layers: Some(greedy.layers + env("MILP_EXTRA_LAYERS", 0) as u32),
        time_limit: Duration::from_secs(env("MILP_SECONDS", 10)),
        node_limit: var("MILP_NODES").map(|n: u64| n as u32),
    };
    let out = milp::schedule(&plan, &options).expect("solves");
    assert_eq!(out.schedule.validate(&plan), Ok(()));
    println!(
        "{} dims, {:?} layers, limit {:?} / {:?} nodes: d_model {} ≥ {} (greedy {} at {} layers), optimal {}, {:.1} s, {}",
        plan.dims.len(),
        options.layers,
        options.time_limit,
        options.node_limit,
        out.d_model,
        out.lower_bound,
        out.greedy_d_model,
        greedy.layers,
        out.optimal,
        out.seconds,
        out.status
    );
}
