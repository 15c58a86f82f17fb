//! `tvm bench`: engine speed in tokens per second, measured in one process
//! so that figures compare as ratios (the machines here are noisy).

use crate::cli::DEFAULT_FUEL;
use std::process::ExitCode;
use std::time::Instant;
use tvm_dsl::token::Token;
use tvm_engine::reference::{self, CountTokens};

#[derive(clap::Args)]
pub struct BenchArgs {
    /// What to measure.
    #[arg(value_enum, default_value_t = Engine::Reference)]
    engine: Engine,
    /// Program (file or catalog name; with `specialize`, `all` is every
    /// catalog program).
    #[arg(default_value = "sudoku")]
    program: String,
    /// Arguments (default: the catalog's).
    #[arg(long, allow_hyphen_values = true)]
    args: Option<String>,
    /// Timed runs per mode; the median is reported.
    #[arg(long, default_value_t = 5)]
    repeat: usize,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Engine {
    /// The reference machine: trace tokens generated into memory, and
    /// counted only.
    Reference,
    /// The float transformer (the cached universal model): tokens per
    /// second (prefix and trace, as the engine processes both) and peak heap
    /// growth per generated token.
    Float,
    /// The exact transformer, likewise (slow: use a short program).
    Exact,
    /// Specialisation (`tvm specialize`): per program (`all`: every
    /// catalog program) the time to specialise (graph, schedule, weights),
    /// the prefix tokens saved, and the float engine's speed on the
    /// specialised model against the universal one, runs alternating.
    Specialize,
    /// What `tvm run PROGRAM` spends before its first generated token,
    /// phase by phase, runs alternating: building the program with the
    /// libc compiled alongside and with the cached libc objects (their
    /// ratio), reading the cached model, loading it into the float engine,
    /// and pushing the prefix up to the first generated token.
    Startup,
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    match args.engine {
        Engine::Reference => {}
        Engine::Float => return transformer::<f64>(&args),
        Engine::Exact => return transformer::<tvm_engine::exact::Q>(&args),
        Engine::Specialize => return specialize(&args),
        Engine::Startup => return startup(&args),
    }
    let loaded = tvm::source::load(
        std::slice::from_ref(&args.program),
        args.args.as_deref(),
        &tvm::source::SourceOptions::default(),
    )?;
    let repeat = args.repeat.max(1);
    let mut trace_times = Vec::new();
    let mut count_times = Vec::new();
    let mut tokens = 0;
    let mut steps = 0;
    for _ in 0..repeat {
        let start = Instant::now();
        let mut trace: Vec<Token> = Vec::new();
        let run = reference::run(&loaded.program, &loaded.input, DEFAULT_FUEL, &mut trace);
        trace_times.push(start.elapsed().as_secs_f64());
        run.result
            .map_err(|e| anyhow::anyhow!("the benchmark program failed: {e}"))?;
        tokens = run.trace_tokens;
        steps = run.steps;
        std::hint::black_box(&trace);

        let start = Instant::now();
        let run = reference::run(
            &loaded.program,
            &loaded.input,
            DEFAULT_FUEL,
            &mut CountTokens::default(),
        );
        count_times.push(start.elapsed().as_secs_f64());
        std::hint::black_box(run.trace_tokens);
    }
    let (trace_s, count_s) = (median(trace_times), median(count_times));
    let trace_rate = tokens as f64 / trace_s;
    let count_rate = tokens as f64 / count_s;
    if args.json {
        let summary = serde_json::json!({
            "engine": "reference",
            "program": args.program,
            "steps": steps,
            "trace_tokens": tokens,
            "repeat": repeat,
            "seconds_with_trace": trace_s,
            "tokens_per_second_with_trace": trace_rate,
            "seconds_counting": count_s,
            "tokens_per_second_counting": count_rate,
        });
        println!("{summary:#}");
    } else {
        println!(
            "reference machine on {} ({} steps, {} trace tokens), median of {repeat}:",
            args.program, steps, tokens
        );
        println!(
            "  trace kept in memory : {:>8.3} s  {:>7.2} M tokens/s",
            trace_s,
            trace_rate / 1e6
        );
        println!(
            "  tokens counted only  : {:>8.3} s  {:>7.2} M tokens/s",
            count_s,
            count_rate / 1e6
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the program `repeat` times through a transformer engine and reports
/// the median speed and the largest peak heap growth per generated token.
fn transformer<S: tvm_engine::transformer::Scalar>(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let loaded = tvm::source::load(
        std::slice::from_ref(&args.program),
        args.args.as_deref(),
        &tvm::source::SourceOptions::default(),
    )?;
    let model = crate::cli::model::load_or_build(None)?;
    let prefix = loaded.program.prefix_tokens(&loaded.input);
    let repeat = args.repeat.max(1);
    let mut times = Vec::new();
    let mut per_token: f64 = 0.0;
    let mut peak = 0;
    let (mut tokens, mut generated, mut steps) = (0, 0, 0);
    for _ in 0..repeat {
        let outcome = crate::cli::model::run_engine::<S>(&model, &prefix, DEFAULT_FUEL)?;
        let run = outcome
            .run
            .map_err(|e| anyhow::anyhow!("the benchmark program failed: {e}"))?;
        times.push(outcome.seconds);
        generated = run.trace.len();
        tokens = prefix.len() + generated;
        steps = run.steps;
        peak = peak.max(outcome.peak_bytes);
        per_token = per_token.max(outcome.peak_bytes as f64 / generated.max(1) as f64);
    }
    let seconds = median(times);
    let rate = tokens as f64 / seconds;
    if args.json {
        let summary = serde_json::json!({
            "engine": S::NAME,
            "program": args.program,
            "steps": steps,
            "tokens": tokens,
            "generated_tokens": generated,
            "repeat": repeat,
            "seconds": seconds,
            "tokens_per_second": rate,
            "peak_heap_bytes": peak,
            "bytes_per_generated_token": per_token,
        });
        println!("{summary:#}");
    } else {
        println!(
            "{} transformer on {} ({steps} steps, {tokens} tokens, {generated} generated), median of {repeat}:",
            S::NAME,
            args.program
        );
        println!("  {seconds:>8.3} s  {:>9.0} tokens/s", rate);
        println!("  peak heap growth {peak} bytes = {per_token:.1} bytes per generated token");
    }
    Ok(ExitCode::SUCCESS)
}

/// One program's specialisation figures.
#[derive(serde::Serialize)]
struct SpecBench {
    program: String,
    instructions: usize,
    specialise_seconds: f64,
    graph_seconds: f64,
    schedule_seconds: f64,
    milp_optimal: Option<bool>,
    prefix_tokens: usize,
    specialised_prefix_tokens: usize,
    tokens_saved: usize,
    universal_seconds: f64,
    specialised_seconds: f64,
    universal_tokens_per_second: f64,
    specialised_tokens_per_second: f64,
    universal_d_model: u32,
    specialised_d_model: u32,
    specialised_d_ffn: usize,
}

/// Seconds of a float run of `prefix` on `model`, and the tokens it
/// generated.
fn float_run(model: &tvm_weights::model::Model, prefix: &[Token]) -> anyhow::Result<(f64, usize)> {
    let outcome = crate::cli::model::run_engine::<f64>(model, prefix, DEFAULT_FUEL)?;
    let run = outcome
        .run
        .map_err(|e| anyhow::anyhow!("the benchmark program failed: {e}"))?;
    Ok((outcome.seconds, run.trace.len()))
}

fn specialize(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let names: Vec<String> = if args.program == "all" {
        tvm_catalog::Manifest::builtin()?
            .iter()
            .map(|p| p.name().to_owned())
            .collect()
    } else {
        vec![args.program.clone()]
    };
    let universal = crate::cli::model::load_or_build(None)?;
    let scheduler = crate::cli::model::ScheduleArgs::default().scheduler_with_limit(20);
    let repeat = args.repeat.max(1);
    let mut rows = Vec::new();
    if !args.json {
        println!(
            "{:<16} {:>6} {:>8} {:>7} {:>8} {:>10} {:>10} {:>7} {:>7}",
            "program",
            "instrs",
            "spec s",
            "MILP",
            "saved",
            "univ tok/s",
            "spec tok/s",
            "speed",
            "time"
        );
    }
    for name in &names {
        let loaded = tvm::source::load(
            std::slice::from_ref(name),
            args.args.as_deref(),
            &tvm::source::SourceOptions::default(),
        )?;
        let start = Instant::now();
        let s = crate::cli::specialize::specialize(name, "", &loaded.program, &scheduler)?;
        let specialise_seconds = start.elapsed().as_secs_f64();
        let prefix = loaded.program.prefix_tokens(&loaded.input);
        let spec_prefix = loaded.program.specialised_prefix_tokens(&loaded.input);
        let mut u_times = Vec::new();
        let mut s_times = Vec::new();
        let mut trace = 0;
        for _ in 0..repeat {
            let (seconds, generated) = float_run(&universal, &prefix)?;
            u_times.push(seconds);
            let (seconds, specialised) = float_run(&s.model, &spec_prefix)?;
            s_times.push(seconds);
            if specialised != generated {
                anyhow::bail!(
                    "{name}: the specialised model generated {specialised} tokens, the universal one {generated}"
                );
            }
            trace = generated;
        }
        let (us, ss) = (median(u_times), median(s_times));
        let row = SpecBench {
            program: name.clone(),
            instructions: loaded.program.instrs.len(),
            specialise_seconds,
            graph_seconds: s.graph_seconds,
            schedule_seconds: s.build_seconds,
            milp_optimal: s.info.milp.as_ref().map(|m| m.optimal),
            prefix_tokens: prefix.len(),
            specialised_prefix_tokens: spec_prefix.len(),
            tokens_saved: prefix.len() - spec_prefix.len(),
            universal_seconds: us,
            specialised_seconds: ss,
            universal_tokens_per_second: (prefix.len() + trace) as f64 / us.max(1e-9),
            specialised_tokens_per_second: (spec_prefix.len() + trace) as f64 / ss.max(1e-9),
            universal_d_model: universal.layout.d_model,
            specialised_d_model: s.model.layout.d_model,
            specialised_d_ffn: s.model.layout.d_ffn(),
        };
        if !args.json {
            println!(
                "{:<16} {:>6} {:>8.2} {:>7} {:>8} {:>10.0} {:>10.0} {:>6.2}x {:>6.2}x",
                row.program,
                row.instructions,
                row.specialise_seconds,
                match row.milp_optimal {
                    Some(true) => "optimal",
                    Some(false) => "limit",
                    None => "greedy",
                },
                row.tokens_saved,
                row.universal_tokens_per_second,
                row.specialised_tokens_per_second,
                row.specialised_tokens_per_second / row.universal_tokens_per_second.max(1e-9),
                row.universal_seconds / row.specialised_seconds.max(1e-9),
            );
        }
        rows.push(row);
    }
    if args.json {
        println!("{:#}", serde_json::to_value(&rows)?);
    } else {
        println!(
            "speed: specialised tok/s ÷ universal tok/s; time: universal run ÷ specialised run (median of {repeat}, alternating)"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Seconds `f` takes.
fn timed<T>(f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<(f64, T)> {
    let start = Instant::now();
    let value = f()?;
    Ok((start.elapsed().as_secs_f64(), value))
}

fn startup(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    use tvm::source::SourceOptions;
    use tvm_frontend::compile::BuildOptions;
    let specs = std::slice::from_ref(&args.program);
    let cached = SourceOptions {
        build: BuildOptions {
            libc_cache: Some(tvm::cache::libc_cache_dir()),
            ..BuildOptions::default()
        },
        ..SourceOptions::default()
    };
    // Warm both caches (the libc objects, the universal model) first.
    tvm::source::load(specs, args.args.as_deref(), &cached)?;
    crate::cli::model::load_or_build(None)?;
    let model_path = tvm::cache::cached_universal_path();
    let repeat = args.repeat.max(1);
    let mut phases: [Vec<f64>; 5] = Default::default();
    let mut prefix_tokens = 0;
    for _ in 0..repeat {
        let (fresh, _) = timed(|| {
            Ok(tvm::source::load(
                specs,
                args.args.as_deref(),
                &SourceOptions::default(),
            )?)
        })?;
        let (reused, loaded) =
            timed(|| Ok(tvm::source::load(specs, args.args.as_deref(), &cached)?))?;
        let (read, model) = timed(|| Ok(tvm::cache::read_model(&model_path)?))?;
        let (engine, mut transformer) = timed(|| {
            tvm_engine::transformer::Transformer::<f64>::new(&model)
                .map_err(|e| anyhow::anyhow!("{e}"))
        })?;
        let prefix = loaded.program.prefix_tokens(&loaded.input);
        prefix_tokens = prefix.len();
        let start = Instant::now();
        let mut first = None;
        // One step is enough: the run stops for want of fuel after it.
        let _ = tvm_engine::transformer::run(&mut transformer, &prefix, 1, |_| {
            first.get_or_insert_with(|| start.elapsed().as_secs_f64());
        });
        let first = first.ok_or_else(|| anyhow::anyhow!("the program generated no token"))?;
        for (phase, value) in phases.iter_mut().zip([fresh, reused, read, engine, first]) {
            phase.push(value);
        }
    }
    let [fresh, reused, read, engine, first] = phases.map(median);
    let before_first = reused + read + engine + first;
    if args.json {
        let summary = serde_json::json!({
            "program": args.program,
            "repeat": repeat,
            "build_seconds": fresh,
            "build_cached_libc_seconds": reused,
            "build_ratio": fresh / reused.max(1e-9),
            "model_read_seconds": read,
            "engine_load_seconds": engine,
            "prefix_tokens": prefix_tokens,
            "prefix_to_first_token_seconds": first,
            "before_first_token_seconds": before_first,
        });
        println!("{summary:#}");
    } else {
        println!(
            "startup of `tvm run {}` (in process), median of {repeat}:",
            args.program
        );
        println!("  build, libc compiled with it   {:>8.3} s", fresh);
        println!(
            "  build, cached libc objects     {:>8.3} s  ({:.1}x faster)",
            reused,
            fresh / reused.max(1e-9)
        );
        println!("  read the cached model          {read:>8.3} s");
        println!("  load it into the float engine  {engine:>8.3} s");
        println!(
            "  prefix to the first token      {first:>8.3} s  ({prefix_tokens} prefix tokens)"
        );
        println!("  before the first token, cached {before_first:>8.3} s");
    }
    Ok(ExitCode::SUCCESS)
}
