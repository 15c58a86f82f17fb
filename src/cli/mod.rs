//! Subcommands. Each reads its inputs, calls the library, and reports: data
//! on stdout, statistics and errors on stderr, `--json` for machines.

mod bench;
mod catalog;
mod files;
pub mod memory;
pub mod model;
mod proofs;
pub mod source;
pub mod specialize;
mod verify;
mod wast;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use tvm_engine::reference::{self, RunError, TextTrace};

/// Exit codes: distinct per failure kind so scripts can tell them apart.
pub mod exit {
    /// An error not covered below (I/O, bad arguments to tvm itself).
    pub const ERROR: u8 = 1;
    /// The program could not be built: compile error, invalid or unsupported
    /// wasm, malformed token file.
    pub const BUILD: u8 = 3;
    /// The program trapped.
    pub const TRAP: u8 = 4;
    /// The program ran out of fuel.
    pub const FUEL: u8 = 5;
    /// A check failed (a catalog program gave the wrong output).
    pub const MISMATCH: u8 = 6;
}

/// Default step budget: generous for every catalog program, small enough to
/// stop a runaway loop in seconds.
pub const DEFAULT_FUEL: u64 = 200_000_000;

#[derive(Parser)]
#[command(
    name = "tvm",
    version,
    about = "Compile C / WebAssembly into a token machine, run it token by token",
    long_about = "tvm compiles a program (C, WAT or wasm) into the 35-opcode tvm machine, whose \
                  execution is a stream of byte tokens that a transformer can generate. \
                  PROGRAM arguments accept .c, .wat, .wasm, a token file written by `tvm compile` \
                  (.tok), or the name of a catalog program (see `tvm catalog`).\n\n\
                  Exit codes: 0 ok, 1 error, 2 usage, 3 build error, 4 trap, 5 out of fuel, 6 mismatch."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile a program to machine tokens (the program prefix).
    Compile(CompileArgs),
    /// Run a program on the reference machine; its output goes to stdout.
    Reference(ReferenceArgs),
    /// Run a program through the machine graph (exact, no weights).
    Eval(EvalArgs),
    /// Describe the machine graph: counts, depth, DOT export.
    Graph(GraphArgs),
    /// Build the universal model: weights from the machine graph, written
    /// as a safetensors file.
    Build(model::BuildArgs),
    /// Bake one program into the weights: a model that runs it without
    /// the program prefix (first Futamura projection).
    Specialize(specialize::SpecializeArgs),
    /// Run a program through the transformer (float or exact engine).
    Run(model::RunArgs),
    /// List the program catalog, or run it and check every output.
    Catalog(catalog::CatalogArgs),
    /// Measure engine speed (tokens per second).
    Bench(bench::BenchArgs),
    /// Prove the model's weights, the opcodes and the lowerings right.
    Verify(verify::VerifyArgs),
    /// Run WebAssembly spec test scripts (.wast) on an engine.
    #[command(long_about = wast::LONG_ABOUT)]
    Wast(wast::WastArgs),
    /// Re-check certificates written by `tvm verify --certs`.
    #[command(subcommand)]
    Proofs(ProofsCommand),
}

#[derive(Subcommand)]
enum ProofsCommand {
    /// Re-check every certificate of a directory, independently of the code
    /// that wrote them: SMT claims with the cvc5 binary, e-graph
    /// explanations with an exact rational checker.
    Check(proofs::CheckArgs),
}

#[derive(clap::Args)]
struct CompileArgs {
    /// .c files (built and linked together), one .wat or .wasm file, or a
    /// catalog program name.
    #[arg(required = true, num_args = 1..)]
    program: Vec<String>,
    #[command(flatten)]
    source: source::SourceFlags,
    /// Arguments passed to main as argv[1..], split on whitespace
    /// (a catalog program defaults to its manifest's arguments).
    #[arg(long, allow_hyphen_values = true)]
    args: Option<String>,
    /// Write the token file here instead of stdout (atomically).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Print counts as JSON instead of writing tokens to stdout.
    #[arg(long)]
    json: bool,
    /// Print the lowered program as an annotated listing instead of tokens.
    #[arg(long, conflicts_with = "json")]
    listing: bool,
}

/// What to run and how far: shared by every engine's subcommand.
#[derive(clap::Args)]
struct RunTarget {
    /// .c files (built and linked together), one .wat, .wasm or .tok file,
    /// or a catalog program name.
    #[arg(required = true, num_args = 1..)]
    program: Vec<String>,
    #[command(flatten)]
    source: source::SourceFlags,
    /// Arguments passed to main as argv[1..], split on whitespace.
    #[arg(long, allow_hyphen_values = true)]
    args: Option<String>,
    /// Write the full token trace (prefix and steps) to this file.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Stop after this many machine steps.
    #[arg(long, default_value_t = DEFAULT_FUEL)]
    fuel: u64,
    /// Print run statistics as JSON on stderr.
    #[arg(long)]
    json: bool,
    /// Call an exported function instead of running main: `--invoke EXPORT
    /// ARG…`, each ARG `i32:5`, `i64:-3`, or a plain integer typed by the
    /// export's signature. Its results are printed one per line (`i32:8`).
    #[arg(long, num_args = 1.., value_name = "EXPORT [ARG]...", allow_negative_numbers = true, conflicts_with = "args")]
    invoke: Option<Vec<String>>,
}

#[derive(clap::Args)]
struct EvalArgs {
    #[command(flatten)]
    target: RunTarget,
    /// Use big rationals throughout instead of the exact integer fast path.
    #[arg(long)]
    rational: bool,
}

#[derive(clap::Args)]
struct GraphArgs {
    /// Print counts per primitive kind, per group, and the depth.
    #[arg(long)]
    stats: bool,
    /// Write a Graphviz DOT file of the graph.
    #[arg(long)]
    dot: Option<PathBuf>,
    /// Schedule the graph into layers (greedy) and print the model's size.
    #[arg(long)]
    schedule: bool,
    /// Print exact value bounds of every dimension (interval analysis over
    /// all token inputs and positions up to --max-position).
    #[arg(long)]
    ranges: bool,
    /// The largest position the range analysis assumes.
    #[arg(long, default_value_t = 1 << 20)]
    max_position: u64,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct ReferenceArgs {
    #[command(flatten)]
    target: RunTarget,
}

/// Runs the CLI and maps failures to exit codes.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Compile(args) => compile(args),
        Command::Reference(args) => run_reference(args),
        Command::Eval(args) => run_eval(args),
        Command::Graph(args) => graph(args),
        Command::Build(args) => model::build(args),
        Command::Specialize(args) => specialize::run(args),
        Command::Run(args) => model::run(args),
        Command::Catalog(args) => catalog::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Wast(args) => wast::run(args),
        Command::Proofs(ProofsCommand::Check(args)) => proofs::check(&args).map(|ok| {
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(exit::MISMATCH)
            }
        }),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            // A program that does not build, wherever in the chain.
            let code = if error
                .chain()
                .any(|cause| cause.is::<tvm_frontend::BuildError>())
            {
                exit::BUILD
            } else {
                exit::ERROR
            };
            ExitCode::from(code)
        }
    }
}

fn compile(args: CompileArgs) -> anyhow::Result<ExitCode> {
    let loaded = tvm::source::load(&args.program, args.args.as_deref(), &args.source.options()?)?;
    if args.json {
        let program = &loaded.program;
        let routines = program
            .functions
            .iter()
            .filter(|f| f.name.starts_with("lowered."))
            .count();
        let summary = serde_json::json!({
            "program": args.program.join(" "),
            "instructions": program.instrs.len(),
            "functions": program.functions.len(),
            "lowered_routines": routines,
            "memory_bytes": program.memory_size,
            "data_bytes": program.data.iter().map(|s| s.bytes.len()).sum::<usize>(),
            "input_bytes": loaded.input.image.bytes.len(),
            "prefix_tokens": program.prefix_tokens(&loaded.input).len(),
        });
        println!("{summary:#}");
        return Ok(ExitCode::SUCCESS);
    }
    let text = if args.listing {
        source::listing(&loaded.program)
    } else {
        format!(
            "# tvm program tokens: {}\n{}",
            args.program.join(" "),
            loaded.program.prefix_text(&loaded.input)
        )
    };
    match args.output {
        Some(path) => files::write_atomically(&path, text.as_bytes())?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn run_reference(args: ReferenceArgs) -> anyhow::Result<ExitCode> {
    let ReferenceArgs { target: args } = args;
    let json = args.json;
    let (loaded, invoked) = tvm::source::load_target(
        &args.program,
        args.args.as_deref(),
        args.invoke.as_deref(),
        &args.source.options()?,
    )?;
    let start = Instant::now();
    let prefix_tokens = loaded.program.prefix_tokens(&loaded.input).len() as u64;
    let run = match &args.trace {
        Some(path) => {
            let prefix = loaded.program.prefix_text(&loaded.input);
            files::write_with(path, |file| {
                use std::io::Write as _;
                file.write_all(prefix.as_bytes())?;
                let mut sink = TextTrace::new(std::io::BufWriter::new(file));
                let run = reference::run(&loaded.program, &loaded.input, args.fuel, &mut sink);
                sink.finish()?;
                Ok(run)
            })
            .with_context(|| format!("writing the trace to {}", path.display()))?
        }
        None => {
            let mut sink = reference::CountTokens::default();
            reference::run(&loaded.program, &loaded.input, args.fuel, &mut sink)
        }
    };
    let elapsed = start.elapsed().as_secs_f64();
    write_run_output(&run.output, invoked.as_ref(), run.result.is_ok())?;
    let tokens = prefix_tokens + run.trace_tokens;
    let rate = run.trace_tokens as f64 / elapsed.max(1e-9);
    if json {
        let summary = serde_json::json!({
            "program": args.program.join(" "),
            "invoke": invoked.as_ref().map(|i| i.export.as_str()),
            "steps": run.steps,
            "prefix_tokens": prefix_tokens,
            "trace_tokens": run.trace_tokens,
            "tokens": tokens,
            "seconds": elapsed,
            "tokens_per_second": rate,
            "exit_status": run.result.as_ref().ok(),
            "error": run.result.as_ref().err().map(|e| e.to_string()),
        });
        eprintln!("{summary:#}");
    } else {
        eprintln!(
            "[tvm reference] {} steps, {} tokens ({} prefix + {} trace), {:.3} s, {:.2} M tokens/s",
            run.steps,
            tokens,
            prefix_tokens,
            run.trace_tokens,
            elapsed,
            rate / 1e6
        );
    }
    match run.result {
        Ok(status) => {
            if !json {
                eprintln!("[tvm reference] exit status {status}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            let location = match &error {
                RunError::Trap { pc, .. } | RunError::Malformed { pc, .. } => loaded
                    .program
                    .function_at(*pc)
                    .map(|f| format!(" (in {})", f.name))
                    .unwrap_or_default(),
                RunError::OutOfFuel { .. } => String::new(),
            };
            eprintln!("error: {error}{location}");
            Ok(ExitCode::from(match error {
                RunError::Trap { .. } => exit::TRAP,
                RunError::OutOfFuel { .. } => exit::FUEL,
                RunError::Malformed { .. } => exit::BUILD,
            }))
        }
    }
}

fn graph(args: GraphArgs) -> anyhow::Result<ExitCode> {
    let graph = tvm_dsl::machine::universal();
    if let Some(path) = &args.dot {
        files::write_atomically(path, graph.to_dot().as_bytes())?;
    }
    let counts = graph.counts();
    let mut groups: Vec<(String, usize)> = graph
        .groups()
        .iter()
        .map(|g| (g.clone(), graph.group(g).len()))
        .filter(|(_, n)| *n > 0)
        .collect();
    groups.sort();
    if args.ranges {
        let ranges =
            tvm_symbolic::range::analyse(&graph, args.max_position).context("range analysis")?;
        print!("{}", tvm_symbolic::range::report(&graph, &ranges));
        return Ok(ExitCode::SUCCESS);
    }
    let stats = if args.schedule {
        let plan = tvm_weights::plan::Plan::from_graph(&graph)
            .context("lowering the graph to transformer parts")?;
        let s = tvm_weights::schedule::Schedule::greedy(&plan);
        s.validate(&plan)
            .context("the greedy schedule is invalid")?;
        Some(s.stats(&plan))
    } else {
        None
    };
    if args.json {
        let summary = serde_json::json!({
            "schedule": stats.as_ref().map(|s| serde_json::json!({
                "layers": s.layers,
                "d_model": s.d_model,
                "heads_per_layer": s.heads,
                "neurons_per_layer": s.neurons,
                "max_heads": s.max_heads(),
                "d_ffn": s.d_ffn(),
            })),
            "dimensions": graph.dims().len(),
            "depth": graph.depth(),
            "features": graph.features().len(),
            "kinds": counts.iter().map(|(k, n)| (k.to_string(), *n)).collect::<std::collections::BTreeMap<_, _>>(),
            "groups": groups.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
        });
        println!("{summary:#}");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "machine graph (universal): {} dimensions, depth {}, {} token features",
        graph.dims().len(),
        graph.depth(),
        graph.features().len()
    );
    for (kind, n) in &counts {
        println!("  {kind:<8} {n:>6}");
    }
    if let Some(s) = &stats {
        println!(
            "greedy schedule: {} layers, d_model {}, at most {} heads and {} FFN neurons per layer",
            s.layers,
            s.d_model,
            s.max_heads(),
            s.d_ffn()
        );
        println!("  heads per layer:   {:?}", s.heads);
        println!("  neurons per layer: {:?}", s.neurons);
    }
    if args.stats {
        println!("groups:");
        for (group, n) in &groups {
            println!("  {group:<16} {n:>6}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_eval(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let EvalArgs {
        target: args,
        rational,
    } = args;
    use tvm_symbolic::eval::{Exact, run_machine};
    let (loaded, invoked) = tvm::source::load_target(
        &args.program,
        args.args.as_deref(),
        args.invoke.as_deref(),
        &args.source.options()?,
    )?;
    let graph = tvm_dsl::machine::universal();
    let prefix = loaded.program.prefix_tokens(&loaded.input);
    let start = Instant::now();
    let run = if rational {
        run_machine::<Exact>(&graph, &prefix, args.fuel)
    } else {
        run_machine::<i128>(&graph, &prefix, args.fuel)
    };
    let elapsed = start.elapsed().as_secs_f64();
    let run = match run {
        Ok(run) => run,
        Err(tvm_symbolic::eval::EvalError::OutOfFuel { steps }) => {
            eprintln!("error: out of fuel after {steps} steps (raise it with --fuel)");
            return Ok(ExitCode::from(exit::FUEL));
        }
        Err(e) => return Err(e).context("evaluating the machine graph"),
    };
    if let Some(path) = &args.trace {
        write_generated_trace(path, &loaded.program.prefix_text(&loaded.input), &run.trace)?;
    }
    let output = tvm_catalog::runner::output_of(&run.trace);
    let ending =
        tvm_catalog::runner::ending_of(&run.trace, run.halt_code, run.call_stack_exhausted);
    let completed = matches!(ending, tvm_catalog::runner::Ending::Exit(_));
    write_run_output(&output, invoked.as_ref(), completed)?;
    let tokens = prefix.len() as u64 + run.trace.len() as u64;
    if args.json {
        let summary = serde_json::json!({
            "program": args.program.join(" "),
            "invoke": invoked.as_ref().map(|i| i.export.as_str()),
            "steps": run.steps,
            "prefix_tokens": prefix.len(),
            "trace_tokens": run.trace.len(),
            "tokens": tokens,
            "seconds": elapsed,
            "tokens_per_second": run.trace.len() as f64 / elapsed.max(1e-9),
            "exit_status": ending_status(&ending),
            "error": ending_error(&ending),
        });
        eprintln!("{summary:#}");
    } else {
        eprintln!(
            "[tvm eval] {} steps, {} tokens ({} prefix + {} trace), {:.3} s, {:.0} tokens/s",
            run.steps,
            tokens,
            prefix.len(),
            run.trace.len(),
            elapsed,
            run.trace.len() as f64 / elapsed.max(1e-9)
        );
    }
    finish_generated("tvm eval", ending, args.json, "the machine graph")
}

/// The exit status of a generated run, if it exited.
fn ending_status(ending: &tvm_catalog::runner::Ending) -> Option<i32> {
    match ending {
        tvm_catalog::runner::Ending::Exit(s) => Some(*s),
        _ => None,
    }
}

/// Why a generated run did not exit, if it did not.
fn ending_error(ending: &tvm_catalog::runner::Ending) -> Option<String> {
    use tvm_catalog::runner::Ending;
    match ending {
        Ending::Exit(_) => None,
        Ending::Trap(t) => Some(format!("trap: {t}")),
        Ending::Failed(m) => Some(m.clone()),
    }
}

/// Writes a generated run's text trace (atomically): the prefix text, then
/// the generated tokens in the trace grammar.
fn write_generated_trace(
    path: &std::path::Path,
    prefix_text: &str,
    trace: &[tvm_dsl::token::Token],
) -> anyhow::Result<()> {
    files::write_with(path, |file| {
        use std::io::Write as _;
        file.write_all(prefix_text.as_bytes())?;
        let mut sink = TextTrace::new(std::io::BufWriter::new(file));
        for &token in trace {
            reference::TraceSink::token(&mut sink, token);
        }
        sink.finish().map(drop)
    })
    .with_context(|| format!("writing the trace to {}", path.display()))
}

/// The exit code of a generated run: its exit status reported (unless
/// `json`), a trap as exit code 4, a malformed trace as an error naming
/// `engine`.
fn finish_generated(
    label: &str,
    ending: tvm_catalog::runner::Ending,
    json: bool,
    engine: &str,
) -> anyhow::Result<ExitCode> {
    use tvm_catalog::runner::Ending;
    match ending {
        Ending::Exit(status) => {
            if !json {
                eprintln!("[{label}] exit status {status}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Ending::Trap(trap) => {
            eprintln!("error: trap: {trap}");
            Ok(ExitCode::from(exit::TRAP))
        }
        Ending::Failed(message) => {
            anyhow::bail!("{engine}'s trace is malformed: {message}")
        }
    }
}

/// Writes a run's output: the program's bytes as they are or, for an
/// `--invoke` run that completed, the bytes the call wrote itself as they
/// are, then each of its results on a line of its own (`i32:5`). The call's
/// mark and results are the output's last bytes (see [`tvm_frontend::invoke`]).
fn write_run_output(
    output: &[u8],
    invoked: Option<&tvm::source::Invoked>,
    completed: bool,
) -> anyhow::Result<()> {
    let Some(invoked) = invoked else {
        return write_program_output(output);
    };
    // The call's mark, then its results, end the output.
    let need = 1 + invoked.results.iter().map(|k| k.bytes()).sum::<usize>();
    if !completed || output.len() < need {
        return write_program_output(output);
    }
    let (own, results) = output.split_at(output.len() - need);
    write_program_output(own)?;
    let mut text = String::new();
    for values in
        tvm_frontend::invoke::read_results(std::slice::from_ref(&invoked.results), results)
    {
        for value in values {
            text.push_str(&format!("{value}\n"));
        }
    }
    write_program_output(text.as_bytes())
}

/// Writes the program's output: what it wrote to stdout to stdout,
/// exactly and nothing else, and what it wrote to stderr (framed in the
/// same stream, see [`tvm_frontend::streams`]) to stderr.
fn write_program_output(bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let streams = tvm_frontend::streams::split(bytes);
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&streams.stdout)
        .context("writing the program's output")?;
    stdout.flush().context("writing the program's output")?;
    if !streams.stderr.is_empty() {
        let mut stderr = std::io::stderr().lock();
        stderr
            .write_all(&streams.stderr)
            .context("writing the program's standard error")?;
        stderr
            .flush()
            .context("writing the program's standard error")?;
    }
    Ok(())
}
