//! Every catalog program through every path, compared:
//!
//! - the *original* module on wasmi against the *lowered* program on the
//!   reference machine: identical output, exit status and trap kind;
//! - the reference machine against the manifest (outputs built natively);
//! - the machine graph (exact evaluator) against the reference machine:
//!   identical traces, token for token — for every program but the long
//!   ones (sudoku's figure is reported from `tvm catalog run --engine eval`);
//! - the transformer (the universal model's weights, MILP schedule) against
//!   the reference machine: the exact engine on every program but the long ones, the float
//!   engine on every program, sudoku included — identical traces.

use tvm_catalog::runner::{self, Ending, Engine, Options};
use tvm_catalog::{Manifest, Program, Trap};
use tvm_oracle::{Status, TrapKind};

const FUEL: u64 = 50_000_000;

fn manifest() -> Manifest {
    Manifest::builtin().expect("the built-in catalog loads")
}

fn oracle_ending(status: &Status) -> Ending {
    match status {
        Status::Exited(s) => Ending::Exit(*s),
        Status::Trapped(TrapKind::Unreachable) => Ending::Trap(Trap::Unreachable),
        Status::Trapped(TrapKind::IntegerDivideByZero) => Ending::Trap(Trap::IntegerDivideByZero),
        Status::Trapped(TrapKind::IntegerOverflow) => Ending::Trap(Trap::IntegerOverflow),
        Status::Trapped(TrapKind::OutOfBoundsMemory) => Ending::Trap(Trap::OutOfBoundsMemory),
        Status::Trapped(other) => Ending::Failed(other.to_string()),
    }
}

fn wasmi_against_reference(entry: &Program) -> Result<(), String> {
    let wasm = runner::wasm(entry).map_err(|e| e.to_string())?;
    let stdin = entry.read_stdin().map_err(|e| e.to_string())?;
    let oracle =
        tvm_oracle::run_with_stdin(&wasm, entry.program_name(), &entry.args(), &stdin, None)
            .map_err(|e| e.to_string())?;
    let program = tvm_frontend::lower_wasm(&wasm).map_err(|e| e.to_string())?;
    let input = runner::input(entry).map_err(|e| e.to_string())?;
    let ours = runner::run_reference(&program, &input, FUEL);
    if ours.output != oracle.output {
        return Err(format!("{}: output differs from wasmi", entry.name()));
    }
    let expected = oracle_ending(&oracle.status);
    if ours.ending != expected {
        return Err(format!(
            "{}: reference {:?}, wasmi {:?}",
            entry.name(),
            ours.ending,
            expected
        ));
    }
    Ok(())
}

#[test]
fn every_catalog_program_matches_wasmi_on_the_reference_machine() {
    let manifest = manifest();
    let failures: Vec<String> = manifest
        .iter()
        .filter_map(|p| wasmi_against_reference(p).err())
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(manifest.iter().count() >= 15);
}

#[test]
fn every_catalog_program_gives_its_expected_output_on_the_reference_machine() {
    let options = Options {
        engines: vec![],
        fuel: FUEL,
    };
    for entry in manifest().iter() {
        let report = runner::check(entry, &options, None, None).expect("builds");
        assert!(report.ok(), "{}: {:?}", entry.name(), report.problems);
    }
}

/// Runs `programs` through `engines` (two threads) and returns every
/// program whose report is not ok or whose traces differ.
fn through_engines(
    programs: &[&Program],
    engines: &[Engine],
    graph: Option<&tvm_dsl::graph::Graph>,
    model: Option<&tvm_weights::model::Model>,
) -> Vec<String> {
    let options = Options {
        engines: engines.to_vec(),
        fuel: FUEL,
    };
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(entry) = programs.get(i) else { break };
                    let report = runner::check(entry, &options, graph, model).expect("builds");
                    let mut problems = report.problems.clone();
                    // Engines a run is too long for are skipped, with the
                    // reason in the report; every other one must have run.
                    if report.runs.len() + report.skipped.len() != engines.len() + 1 {
                        problems.push(format!("{} runs", report.runs.len()));
                    }
                    for run in &report.runs[1..] {
                        if run.trace != report.runs[0].trace {
                            problems.push(format!("{}: trace differs", run.engine.name()));
                        }
                    }
                    if !report.ok() || !problems.is_empty() {
                        failures
                            .lock()
                            .expect("lock")
                            .push(format!("{}: {problems:?}", entry.name()));
                    }
                }
            });
        }
    });
    failures.into_inner().expect("lock")
}

#[test]
fn the_machine_graph_reproduces_every_reference_trace() {
    let manifest = manifest();
    let graph = tvm_dsl::machine::universal();
    let programs: Vec<&Program> = manifest.iter().filter(|p| !p.is_long()).collect();
    let failures = through_engines(&programs, &[Engine::Eval], Some(&graph), None);
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Prefix plus trace tokens of a program on the reference machine.
fn tokens_of(entry: &Program) -> usize {
    let options = Options {
        engines: vec![],
        fuel: FUEL,
    };
    runner::check(entry, &options, None, None)
        .expect("builds")
        .tokens()
}

#[test]
fn the_transformer_reproduces_every_reference_trace() {
    let manifest = manifest();
    // The model `tvm run` uses: the cached universal model (MILP schedule),
    // through the library API.
    let model = tvm::cache::load_or_build(None, &mut |notice| eprintln!("{notice}"))
        .unwrap_or_else(|e| panic!("{e:?}"));
    // The float engine on everything, sudoku included; a run past the
    // transformer's positions (sieve) is skipped, with the reason.
    let all: Vec<&Program> = manifest.iter().collect();
    let failures = through_engines(&all, &[Engine::Float], None, Some(&model));
    assert!(failures.is_empty(), "{failures:#?}");
    // The exact engine (≈ 15 K tokens/s) on every program under 200 K
    // tokens; `tvm catalog run` runs it on all of them (the closing note of
    // issue 5 has that run).
    let short: Vec<&Program> = manifest
        .iter()
        .filter(|p| !p.is_long() && tokens_of(p) < 200_000)
        .collect();
    assert!(short.len() >= 8, "{} programs", short.len());
    let failures = through_engines(&short, &[Engine::Exact], None, Some(&model));
    assert!(failures.is_empty(), "{failures:#?}");
}
