//! `tvm build` (the model file) and `tvm run` (a program through the
//! transformer), and the cached universal model they share.

use anyhow::Context as _;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use tvm::cache::build_universal;
use tvm::prepare::{Prepared, prepare};
use tvm_catalog::runner::{ending_of, output_of};
use tvm_engine::exact::Q;
use tvm_engine::transformer::{self, RunError, Scalar};
use tvm_weights::milp::{MilpOptions, MilpOutcome};
use tvm_weights::model::{Model, Scheduler};

use super::{
    ending_error, ending_status, exit, finish_generated, memory, source, write_generated_trace,
    write_run_output,
};

#[derive(clap::Args)]
pub struct BuildArgs {
    #[command(flatten)]
    out: ModelOutput,
}

/// Where a built model goes, how it is scheduled, how it is reported:
/// shared by `tvm build` and `tvm specialize`.
#[derive(clap::Args)]
pub struct ModelOutput {
    /// Where to write the model (safetensors; written atomically).
    #[arg(short, long, default_value = "model.safetensors")]
    pub output: PathBuf,
    #[command(flatten)]
    pub schedule: ScheduleArgs,
    /// Print the model's figures as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// How the layers and slots are chosen.
#[derive(clap::Args, Clone, Debug)]
pub struct ScheduleArgs {
    /// `milp` minimises d_model with HiGHS (about 10 s, deterministic: the
    /// root node only); `greedy` is instant and wider.
    #[arg(long, value_enum, default_value_t = SchedulerKind::Milp)]
    scheduler: SchedulerKind,
    /// Layers the MILP may use (default: as few as the greedy needs).
    #[arg(long)]
    layers: Option<u32>,
    /// The MILP's time limit in seconds (default 60 for `tvm build`, 20
    /// for `tvm specialize`); past it the best schedule found so far, at
    /// worst the greedy one, is used.
    #[arg(long)]
    time_limit: Option<u64>,
    /// Branch-and-bound nodes the MILP may explore (0: no limit, stopped by
    /// the time limit only, which makes the result depend on the machine).
    #[arg(long, default_value_t = 1)]
    nodes: u32,
}

/// The scheduler.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SchedulerKind {
    /// The MILP (HiGHS).
    Milp,
    /// As soon as possible.
    Greedy,
}

impl ScheduleArgs {
    pub fn scheduler(&self) -> Scheduler {
        self.scheduler_with_limit(60)
    }

    /// The scheduler, the MILP's time limit `seconds` unless given.
    pub fn scheduler_with_limit(&self, seconds: u64) -> Scheduler {
        match self.scheduler {
            SchedulerKind::Greedy => Scheduler::Greedy,
            SchedulerKind::Milp => Scheduler::Milp(MilpOptions {
                layers: self.layers,
                time_limit: std::time::Duration::from_secs(self.time_limit.unwrap_or(seconds)),
                node_limit: (self.nodes > 0).then_some(self.nodes),
            }),
        }
    }
}

impl Default for ScheduleArgs {
    fn default() -> Self {
        ScheduleArgs {
            scheduler: SchedulerKind::Milp,
            layers: None,
            time_limit: None,
            nodes: 1,
        }
    }
}

/// Which transformer engine runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineKind {
    /// f64 arithmetic, hull attention, running sums: fast.
    Float,
    /// Exact rationals, true hardmax: slow, no floating point.
    Exact,
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// .c files (built and linked together), one .wat, .wasm or .tok file,
    /// or a catalog program name. Optional with a specialised --model,
    /// which records its program (given, it must be that program).
    program: Vec<String>,
    #[command(flatten)]
    source: source::SourceFlags,
    /// Arguments passed to main as argv[1..], split on whitespace (default:
    /// a catalog program's manifest arguments, or those a specialised model
    /// records).
    #[arg(long, allow_hyphen_values = true)]
    args: Option<String>,
    /// Write the full token trace (prefix and steps) to this file.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Stop after this many machine steps.
    #[arg(long, default_value_t = super::DEFAULT_FUEL)]
    fuel: u64,
    /// Print run statistics as JSON on stderr.
    #[arg(long)]
    json: bool,
    /// The engine.
    #[arg(long, value_enum, default_value_t = EngineKind::Float)]
    engine: EngineKind,
    /// A model file from `tvm build` or `tvm specialize` (default: the
    /// cached universal model, built on first use).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Call an exported function instead of running main: `--invoke EXPORT
    /// ARG…`, each ARG `i32:5`, `i64:-3`, or a plain integer typed by the
    /// export's signature. Its results are printed one per line (`i32:8`).
    /// Needs the universal model.
    #[arg(long, num_args = 1.., value_name = "EXPORT [ARG]...", allow_negative_numbers = true, conflicts_with = "args")]
    invoke: Option<Vec<String>>,
}

/// The MILP schedule's outcome as `--json` reports it.
pub fn milp_json(m: &MilpOutcome) -> serde_json::Value {
    serde_json::json!({
        "d_model": m.d_model,
        "greedy_d_model": m.greedy_d_model,
        "lower_bound": m.lower_bound,
        "optimal": m.optimal,
        "status": m.status,
        "seconds": m.seconds,
    })
}

/// The figures of a model.
pub fn figures(model: &Model, seconds: Option<f64>) -> serde_json::Value {
    let l = &model.layout;
    serde_json::json!({
        "d_model": l.d_model,
        "layers": l.layers.len(),
        "heads": l.total_heads(),
        "max_heads_per_layer": l.max_heads(),
        "d_ffn": l.d_ffn(),
        "heads_per_layer": l.layers.iter().map(|x| x.heads.len()).collect::<Vec<_>>(),
        "neurons_per_layer": l.layers.iter().map(|x| x.neurons).collect::<Vec<_>>(),
        "nonzero_weights": model.nonzero(),
        "graph_digest": model.graph_digest,
        "build_seconds": seconds,
    })
}

/// A model's size: d_model, layers, heads, d_ffn, non-zero weights.
pub fn size(model: &Model) -> [(&'static str, usize); 5] {
    let l = &model.layout;
    [
        ("d_model", l.d_model as usize),
        ("layers", l.layers.len()),
        ("heads", l.total_heads()),
        ("d_ffn", l.d_ffn()),
        ("non-zeros", model.nonzero()),
    ]
}

/// The model at `path`, or the cached universal model (built on first
/// use), with what the cache does reported on stderr.
pub fn load_or_build(path: Option<&Path>) -> anyhow::Result<Model> {
    Ok(tvm::cache::load_or_build(path, &mut |notice| {
        eprintln!("[tvm] {notice}")
    })?)
}

pub fn build(args: BuildArgs) -> anyhow::Result<ExitCode> {
    let BuildArgs { out: args } = args;
    let start = Instant::now();
    let (model, info) = build_universal(&args.schedule.scheduler())?;
    let file = model.to_file()?;
    file.write_atomically(&args.output)
        .with_context(|| format!("writing {}", args.output.display()))?;
    let seconds = start.elapsed().as_secs_f64();
    let size = std::fs::metadata(&args.output)
        .map(|m| m.len())
        .unwrap_or(0);
    if args.json {
        let mut v = figures(&model, Some(seconds));
        if let Some(m) = &info.milp {
            v["milp"] = milp_json(m);
        }
        v["file"] = serde_json::json!(args.output.display().to_string());
        v["file_bytes"] = serde_json::json!(size);
        println!("{v:#}");
    } else {
        let l = &model.layout;
        println!(
            "wrote {} ({} bytes) in {seconds:.2} s",
            args.output.display(),
            size
        );
        println!(
            "universal model: d_model {}, {} layers, {} heads (at most {} per layer), d_ffn {}, {} non-zero weights",
            l.d_model,
            l.layers.len(),
            l.total_heads(),
            l.max_heads(),
            l.d_ffn(),
            model.nonzero()
        );
        println!(
            "  plan: {} dimensions, {} heads; schedule: {} layers",
            info.plan.dims.len(),
            info.plan.heads.len(),
            info.stats.layers
        );
        if let Some(m) = &info.milp {
            println!(
                "  MILP schedule: d_model {} (greedy {}, proven lower bound {}{}), {:.1} s: {}",
                m.d_model,
                m.greedy_d_model,
                m.lower_bound,
                if m.optimal { ", optimal" } else { "" },
                m.seconds,
                m.status
            );
        }
        println!("  graph digest {}", model.graph_digest);
    }
    Ok(ExitCode::SUCCESS)
}

/// One engine run's result and figures.
pub struct EngineOutcome {
    /// The run (or why it stopped).
    pub run: Result<transformer::TransformerRun, RunError>,
    /// Seconds generating (prefix included).
    pub seconds: f64,
    /// Peak heap growth during the run, bytes.
    pub peak_bytes: u64,
}

/// Runs a prefix through an engine of scalar type `S`, with progress on a
/// terminal's stderr and the run's peak heap growth.
pub fn run_engine<S: Scalar>(
    model: &Model,
    prefix: &[tvm_dsl::token::Token],
    fuel: u64,
) -> anyhow::Result<EngineOutcome> {
    let base = memory::reset_peak();
    let start = Instant::now();
    let progress = std::io::stderr().is_terminal();
    let outcome = tvm::execute::run_engine::<S>(model, prefix, fuel, |generated| {
        if progress && generated.is_multiple_of(1 << 16) {
            let rate = generated as f64 / start.elapsed().as_secs_f64().max(1e-9);
            eprint!(
                "\r[tvm run {}] {generated} tokens generated, {rate:.0} tokens/s ",
                S::NAME
            );
        }
    })?;
    let generated = outcome.run.as_ref().map_or(0, |r| r.trace.len());
    if progress && generated >= 1 << 16 {
        eprint!("\r{:<70}\r", "");
    }
    Ok(EngineOutcome {
        run: outcome.run,
        seconds: outcome.seconds,
        peak_bytes: memory::peak().saturating_sub(base),
    })
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let model = load_or_build(args.model.as_deref())?;
    let Prepared {
        name: program_name,
        loaded,
        prefix,
        invoked,
    } = prepare(
        &model,
        &args.program,
        args.args.as_deref(),
        args.invoke.as_deref(),
        &args.source.options()?,
    )?;
    let engine = args.engine;
    let outcome = match engine {
        EngineKind::Float => run_engine::<f64>(&model, &prefix, args.fuel)?,
        EngineKind::Exact => run_engine::<Q>(&model, &prefix, args.fuel)?,
    };
    let name = match engine {
        EngineKind::Float => f64::NAME,
        EngineKind::Exact => Q::NAME,
    };
    let run = match outcome.run {
        Ok(run) => run,
        Err(RunError::OutOfFuel { steps }) => {
            eprintln!("error: out of fuel after {steps} steps (raise it with --fuel)");
            return Ok(ExitCode::from(exit::FUEL));
        }
        Err(e) => return Err(e).context(format!("running the {name} transformer")),
    };
    if let Some(path) = &args.trace {
        let prefix_text = if model.program.is_some() {
            let mut text: Vec<String> = prefix.iter().map(ToString::to_string).collect();
            text.push(String::new());
            text.join("\n")
        } else {
            loaded.program.prefix_text(&loaded.input)
        };
        write_generated_trace(path, &prefix_text, &run.trace)?;
    }
    let output = output_of(&run.trace);
    let ending = ending_of(&run.trace, run.halt_code, run.call_stack_exhausted);
    let completed = matches!(ending, tvm_catalog::runner::Ending::Exit(_));
    write_run_output(&output, invoked.as_ref(), completed)?;
    let tokens = prefix.len() as u64 + run.trace.len() as u64;
    let rate = tokens as f64 / outcome.seconds.max(1e-9);
    let per_token = outcome.peak_bytes as f64 / (run.trace.len().max(1)) as f64;
    if args.json {
        let summary = serde_json::json!({
            "program": program_name,
            "invoke": invoked.as_ref().map(|i| i.export.as_str()),
            "specialised": model.program.is_some(),
            "engine": name,
            "steps": run.steps,
            "prefix_tokens": prefix.len(),
            "trace_tokens": run.trace.len(),
            "tokens": tokens,
            "seconds": outcome.seconds,
            "tokens_per_second": rate,
            "peak_heap_bytes": outcome.peak_bytes,
            "bytes_per_generated_token": per_token,
            "hull_points": run.hull_points,
            "exit_status": ending_status(&ending),
            "error": ending_error(&ending),
        });
        eprintln!("{summary:#}");
    } else {
        eprintln!(
            "[tvm run {name}] {} steps, {} tokens ({} prefix + {} trace), {:.3} s, {:.0} tokens/s, peak heap +{} bytes ({:.1} bytes per generated token)",
            run.steps,
            tokens,
            prefix.len(),
            run.trace.len(),
            outcome.seconds,
            rate,
            outcome.peak_bytes,
            per_token
        );
    }
    finish_generated(
        &format!("tvm run {name}"),
        ending,
        args.json,
        &format!("the {name} transformer"),
    )
}
