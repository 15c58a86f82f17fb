//! Mutation test: every single non-zero coefficient of the exact weights,
//! changed, and a deterministic sample of zero coefficients made non-zero,
//! must each make verification fail — on the item covering that weight,
//! named in the report. The mutation score is printed and must be 100%.

use num_traits::Zero;
use tvm_dsl::expr::{Rational, int};
use tvm_verify::context::Context;
use tvm_verify::run::{job_name, job_of, parallel, prove};
use tvm_weights::model::{Model, Scheduler};

/// One broken weight.
#[derive(Clone, Debug)]
struct Mutant {
    tensor: String,
    index: Vec<usize>,
    value: Rational,
}

/// A deterministic pseudo-random sequence (64-bit LCG).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n.max(1) as u64) as usize
    }
}

fn mutants(model: &Model) -> (Vec<Mutant>, usize) {
    let mut out = Vec::new();
    for (name, t) in &model.tensors {
        for (index, v) in &t.entries {
            // `v + 1` is never `v`; `v = −1` becomes 0 (a deleted weight).
            out.push(Mutant {
                tensor: name.clone(),
                index: index.clone(),
                value: v + int(1),
            });
        }
    }
    let nonzero = out.len();
    // Zero coefficients made non-zero: four per tensor, at random indices.
    let mut rng = Lcg(0x7476_6d5f_6d75_7461);
    for (name, t) in &model.tensors {
        let mut added = 0;
        for _ in 0..64 {
            if added == 4 || t.shape.is_empty() {
                break;
            }
            let index: Vec<usize> = t.shape.iter().map(|&n| rng.below(n)).collect();
            if t.entries.iter().any(|(i, _)| *i == index) {
                continue;
            }
            out.push(Mutant {
                tensor: name.clone(),
                index,
                value: int(1),
            });
            added += 1;
        }
    }
    (out, nonzero)
}

#[test]
fn every_single_weight_mutation_is_caught_and_named() {
    let graph = tvm_dsl::machine::universal();
    let (model, _) =
        Model::build_with(&graph, &Scheduler::Greedy).expect("the universal model builds");
    let (all, nonzero) = mutants(&model);
    // Two workers, each with its own context to break and mend.
    let halves: Vec<Vec<Mutant>> = vec![
        all.iter().step_by(2).cloned().collect(),
        all.iter().skip(1).step_by(2).cloned().collect(),
    ];
    let start = std::time::Instant::now();
    let results: Vec<Vec<(Mutant, Result<(), String>)>> = parallel(
        &halves,
        2,
        |mutants| {
            let mut cx = Context::new(&graph, &model).expect("the layout fits");
            mutants
                .iter()
                .map(|m| {
                    let original = model
                        .tensors
                        .get(&m.tensor)
                        .and_then(|t| t.entries.iter().find(|(i, _)| *i == m.index))
                        .map_or_else(Rational::zero, |(_, v)| v.clone());
                    let Some(job) = job_of(&m.tensor, &m.index) else {
                        return (m.clone(), Err("no item covers this weight".to_owned()));
                    };
                    assert!(cx.set_weight(&m.tensor, &m.index, m.value.clone()));
                    let report = prove(&cx, &job);
                    assert!(cx.set_weight(&m.tensor, &m.index, original));
                    let expected = job_name(&cx, &job);
                    let verdict = if report.is_proven() {
                        Err(format!("{} still proven", report.name))
                    } else if report.name != expected {
                        Err(format!("failed as {}, expected {expected}", report.name))
                    } else {
                        Ok(())
                    };
                    (m.clone(), verdict)
                })
                .collect()
        },
        |_| {},
    );
    let results: Vec<(Mutant, Result<(), String>)> = results.into_iter().flatten().collect();
    let survivors: Vec<_> = results.iter().filter(|(_, r)| r.is_err()).collect();
    let caught = results.len() - survivors.len();
    eprintln!(
        "mutation score: {caught}/{} caught ({:.1}%): {nonzero} non-zero coefficients changed, {} zero coefficients made non-zero; {:.1} s",
        results.len(),
        100.0 * caught as f64 / results.len().max(1) as f64,
        results.len() - nonzero,
        start.elapsed().as_secs_f64()
    );
    for (m, r) in survivors.iter().take(10) {
        eprintln!(
            "survivor: {}{:?} := {}: {:?}",
            m.tensor, m.index, m.value, r
        );
    }
    assert!(survivors.is_empty(), "{} mutants survived", survivors.len());
}

#[test]
fn a_broken_neuron_is_named_with_the_coefficient_responsible() {
    let graph = tvm_dsl::machine::universal();
    let (model, _) =
        Model::build_with(&graph, &Scheduler::Greedy).expect("the universal model builds");
    let mut cx = Context::new(&graph, &model).expect("the layout fits");
    let tensor = "layer00.ffn.gate";
    let (index, v) = model.tensors[tensor].entries[0].clone();
    assert!(cx.set_weight(tensor, &index, v.clone() * int(2)));
    let job = job_of(tensor, &index).expect("a neuron covers it");
    let report = prove(&cx, &job);
    let tvm_verify::report::Verdict::Failed(f) = &report.verdict else {
        panic!("the broken neuron was proven");
    };
    assert_eq!(report.name, format!("layer00.ffn.n{:03}", index[0]));
    // z3's counterexample is a residual vector; the culprit names the
    // slot and both values.
    assert!(
        f.counterexample.as_deref().is_some_and(|c| c.contains("x")),
        "{f:?}"
    );
    // The culprit is named by tensor, row and slot: `layer00.ffn.gate[r][slot s]`.
    let slot = format!(
        "{tensor}[{}][slot {}] = {}",
        index[0],
        index[1],
        v.clone() * int(2)
    );
    assert!(
        f.culprits.iter().any(|c| c.contains(&slot)),
        "{:?}",
        f.culprits
    );
}
