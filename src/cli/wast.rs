//! `tvm wast`: run WebAssembly spec test scripts on an engine.

use crate::cli::exit;
use anyhow::Context as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use tvm_catalog::wast::{DEFAULT_FUEL, FileReport, Options, WastEngine, run_script};

/// `tvm wast --help`'s description.
pub const LONG_ABOUT: &str = "Runs WebAssembly spec test scripts (.wast: modules and assertions about them) \
on one engine and counts, per file, the commands that passed, failed, and were skipped.\n\n\
Checked: `module` (encodes, lowers, instantiates), `assert_return` (i32/i64 results, bit-exact), \
`assert_trap` (the trap's message starts with the expected one), `assert_exhaustion` (call stack \
exhausted; reference engine only), `assert_invalid` / `assert_malformed` (the module is rejected: \
it does not parse, or wasmparser finds it invalid), `assert_unlinkable` / `assert_trap (module …)` \
(it does not instantiate), and bare `invoke`s (they complete). Module state (memory, globals) \
persists from command to command: a module with a memory or a mutable global replays the calls \
that completed before at the start of each run.\n\n\
Skipped, with the reason (never counted as passed): commands with float, SIMD or reference \
arguments or results, calls whose code needs a feature the machine lacks (floats, SIMD, \
reference types, bulk memory, imports, …), modules that import (`register` makes modules \
importable; the machine has no imports), `get` of exported globals, `assert_exhaustion` \
on engines other than the reference machine, and on the transformer engines calls whose run \
passes its 2^22 positions even when run first.\n\n\
Exit status 6 when any command failed.";

#[derive(clap::Args)]
pub struct WastArgs {
    /// The scripts (.wast).
    #[arg(required = true, value_name = "FILE.wast")]
    files: Vec<PathBuf>,
    /// The engine: the reference machine, the machine graph evaluated
    /// exactly, or the universal transformer (f64 or exact rationals).
    #[arg(long, value_enum, default_value_t = EngineArg::Reference)]
    engine: EngineArg,
    /// The model for the transformer engines (default: the cached
    /// universal model, built on first use). A specialised model is
    /// refused: it runs its own program only.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Step budget per run (a run performs a batch of calls).
    #[arg(long, default_value_t = DEFAULT_FUEL)]
    fuel: u64,
    /// Print the results as JSON (every failure with its line, command,
    /// expected and actual outcome).
    #[arg(long)]
    json: bool,
    /// Failures listed per file in the table output (all with --json).
    #[arg(long, default_value_t = 20)]
    max_failures: usize,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum EngineArg {
    /// The reference machine.
    Reference,
    /// The machine graph, evaluated exactly.
    Eval,
    /// The universal transformer, f64.
    Float,
    /// The universal transformer, exact rationals.
    Exact,
}

pub fn run(args: WastArgs) -> anyhow::Result<ExitCode> {
    let mut texts = Vec::new();
    for path in &args.files {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        texts.push((path.display().to_string(), text));
    }
    let graph;
    let model;
    let engine = match args.engine {
        EngineArg::Reference => WastEngine::Reference,
        EngineArg::Eval => {
            graph = tvm_dsl::machine::universal();
            WastEngine::Eval(&graph)
        }
        EngineArg::Float | EngineArg::Exact => {
            model = crate::cli::model::load_or_build(args.model.as_deref())?;
            if let Some(baked) = &model.program {
                anyhow::bail!(
                    "the model is specialised to `{}`: spec tests need the universal model (omit --model, or give one from `tvm build`)",
                    baked.name
                );
            }
            if args.engine == EngineArg::Float {
                WastEngine::Float(&model)
            } else {
                WastEngine::Exact(&model)
            }
        }
    };
    let options = Options {
        engine,
        fuel: args.fuel,
    };
    let start = Instant::now();
    let reports = run_all(&texts, &options);
    let seconds = start.elapsed().as_secs_f64();
    let passed: usize = reports.iter().map(|r| r.passed).sum();
    let failed: usize = reports.iter().map(FileReport::failed).sum();
    let skipped: usize = reports.iter().map(FileReport::skipped).sum();
    if args.json {
        let files: Vec<_> = reports.iter().map(file_json).collect();
        let summary = serde_json::json!({
            "engine": engine.name(),
            "files": files,
            "passed": passed,
            "failed": failed,
            "skipped": skipped,
            "seconds": seconds,
        });
        println!("{summary:#}");
    } else {
        print_table(&reports, args.max_failures);
        eprintln!(
            "[tvm wast {}] {} files, {} runs, {seconds:.2} s",
            engine.name(),
            reports.len(),
            reports.iter().map(|r| r.runs).sum::<usize>()
        );
    }
    Ok(if failed > 0 {
        ExitCode::from(exit::MISMATCH)
    } else {
        ExitCode::SUCCESS
    })
}

/// Runs every script, as many at once as there are cores; reports in the
/// order given.
fn run_all(texts: &[(String, String)], options: &Options) -> Vec<FileReport> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(texts.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let reports: Mutex<Vec<Option<FileReport>>> = Mutex::new(vec![None; texts.len()]);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((name, text)) = texts.get(i) else {
                        break;
                    };
                    let report = run_script(name, text, options);
                    reports.lock().expect("lock")[i] = Some(report);
                }
            });
        }
    });
    reports
        .into_inner()
        .expect("lock")
        .into_iter()
        .map(|r| r.expect("every script ran"))
        .collect()
}

fn file_json(report: &FileReport) -> serde_json::Value {
    serde_json::json!({
        "file": report.file,
        "passed": report.passed,
        "failed": report.failed(),
        "skipped": report.skipped(),
        "skip_reasons": report.skip_reasons,
        "runs": report.runs,
        "failures": report.failures.iter().map(|f| serde_json::json!({
            "line": f.line,
            "command": f.command,
            "expected": f.expected,
            "got": f.got,
        })).collect::<Vec<_>>(),
    })
}

fn reasons(report: &FileReport) -> String {
    report
        .skip_reasons
        .iter()
        .map(|(reason, n)| format!("{reason} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_table(reports: &[FileReport], max_failures: usize) {
    let width = reports
        .iter()
        .map(|r| r.file.len())
        .max()
        .unwrap_or(0)
        .max(5);
    println!(
        "{:<width$}  {:>7}  {:>7}  {:>7}  skipped by reason",
        "file", "passed", "failed", "skipped"
    );
    for r in reports {
        println!(
            "{:<width$}  {:>7}  {:>7}  {:>7}  {}",
            r.file,
            r.passed,
            r.failed(),
            r.skipped(),
            reasons(r)
        );
    }
    let total = FileReport {
        file: "total".to_owned(),
        passed: reports.iter().map(|r| r.passed).sum(),
        skip_reasons: reports.iter().flat_map(|r| r.skip_reasons.iter()).fold(
            Default::default(),
            |mut all, (reason, n)| {
                *all.entry(reason.clone()).or_default() += n;
                all
            },
        ),
        failures: Vec::new(),
        runs: 0,
    };
    let failed: usize = reports.iter().map(FileReport::failed).sum();
    if reports.len() > 1 {
        println!(
            "{:<width$}  {:>7}  {:>7}  {:>7}  {}",
            total.file,
            total.passed,
            failed,
            total.skipped(),
            reasons(&total)
        );
    }
    for r in reports.iter().filter(|r| r.failed() > 0) {
        println!();
        for f in r.failures.iter().take(max_failures) {
            println!(
                "{}:{}: {}: expected {}, got {}",
                r.file, f.line, f.command, f.expected, f.got
            );
        }
        if r.failed() > max_failures {
            println!(
                "{}: … and {} more failures (--max-failures, or --json for all)",
                r.file,
                r.failed() - max_failures
            );
        }
    }
}
