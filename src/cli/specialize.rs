//! `tvm specialize`: a model with one program baked into its weights.

use anyhow::Context as _;
use std::process::ExitCode;
use std::time::Instant;

use tvm_frontend::program::Program;
use tvm_weights::model::{BuildInfo, Model, Scheduler};
use tvm_weights::model_file::BakedProgram;

use super::model::{ModelOutput, figures, load_or_build, milp_json};
use super::source;

#[derive(clap::Args)]
pub struct SpecializeArgs {
    /// .c files (built and linked together), one .wat, .wasm or .tok file,
    /// or a catalog program name.
    #[arg(required = true, num_args = 1..)]
    program: Vec<String>,
    #[command(flatten)]
    source: source::SourceFlags,
    /// The arguments recorded as the model's default (`tvm run --model`
    /// without --args uses them); a catalog program defaults to its
    /// manifest's. They are not baked in: any run may pass others.
    #[arg(long, allow_hyphen_values = true)]
    args: Option<String>,
    #[command(flatten)]
    out: ModelOutput,
}

/// A specialised model and how it was made.
pub struct Specialized {
    /// The model, its header naming the program.
    pub model: Model,
    /// Plan, schedule and MILP report.
    pub info: BuildInfo,
    /// Seconds partially evaluating the graph.
    pub graph_seconds: f64,
    /// Seconds planning, scheduling and computing weights.
    pub build_seconds: f64,
    /// `(kind, universal, specialised)` dimension counts of the graph.
    pub removed: Vec<(&'static str, usize, usize)>,
}

/// Specialises `program` (named `name`, default arguments `args`).
pub fn specialize(
    name: &str,
    args: &str,
    program: &Program,
    scheduler: &Scheduler,
) -> anyhow::Result<Specialized> {
    let start = Instant::now();
    let graph = tvm::cache::specialised_graph(program)?;
    let graph_seconds = start.elapsed().as_secs_f64();
    let universal = tvm_dsl::machine::universal();
    let removed = tvm_symbolic::specialize::removed(&universal, &graph).counts;
    let start = Instant::now();
    let (mut model, info) = Model::build_with(&graph, scheduler)
        .context("building the weights of the specialised graph")?;
    model.program = Some(BakedProgram {
        name: name.to_owned(),
        args: args.to_owned(),
        tokens: program.baked_text(),
    });
    Ok(Specialized {
        model,
        info,
        graph_seconds,
        build_seconds: start.elapsed().as_secs_f64(),
        removed,
    })
}

pub fn run(args: SpecializeArgs) -> anyhow::Result<ExitCode> {
    let SpecializeArgs {
        program: programs,
        source: flags,
        args: program_args,
        out: args,
    } = args;
    let loaded = tvm::source::load(&programs, program_args.as_deref(), &flags.options()?)?;
    let program = programs.join(" ");
    let default_args = match &program_args {
        Some(a) => a.clone(),
        None => tvm_catalog::Manifest::builtin()
            .ok()
            .and_then(|m| m.get(&program).map(|e| e.args_str().to_owned()))
            .unwrap_or_default(),
    };
    let start = Instant::now();
    let s = specialize(
        &loaded.name,
        &default_args,
        &loaded.program,
        &args.schedule.scheduler_with_limit(20),
    )?;
    let file = s.model.to_file()?;
    file.write_atomically(&args.output)
        .with_context(|| format!("writing {}", args.output.display()))?;
    let seconds = start.elapsed().as_secs_f64();
    let universal = load_or_build(None)?;
    let size = std::fs::metadata(&args.output)
        .map(|m| m.len())
        .unwrap_or(0);
    let saved = loaded.program.prefix_tokens(&loaded.input).len()
        - loaded
            .program
            .specialised_prefix_tokens(&loaded.input)
            .len();
    if args.json {
        let v = serde_json::json!({
            "program": loaded.name,
            "program_digest": s.model.program.as_ref().map(BakedProgram::digest),
            "instructions": loaded.program.instrs.len(),
            "file": args.output.display().to_string(),
            "file_bytes": size,
            "seconds": seconds,
            "graph_seconds": s.graph_seconds,
            "build_seconds": s.build_seconds,
            "milp": s.info.milp.as_ref().map(milp_json),
            "prefix_tokens_saved": saved,
            "graph": s.removed.iter().map(|(k, u, p)| serde_json::json!({
                "kind": k, "universal": u, "specialised": p,
            })).collect::<Vec<_>>(),
            "specialised": figures(&s.model, None),
            "universal": figures(&universal, None),
        });
        println!("{v:#}");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "wrote {} ({size} bytes) in {seconds:.2} s (graph {:.2} s, schedule and weights {:.2} s)",
        args.output.display(),
        s.graph_seconds,
        s.build_seconds
    );
    println!(
        "specialised to {} ({} instructions, digest {}); its runs skip {saved} prefix tokens",
        loaded.name,
        loaded.program.instrs.len(),
        s.model
            .program
            .as_ref()
            .map(BakedProgram::digest)
            .unwrap_or_default()
    );
    let graph: Vec<String> = s
        .removed
        .iter()
        .map(|(k, u, p)| format!("{k} {u} → {p}"))
        .collect();
    println!("  graph: {}", graph.join(", "));
    println!("  {:<12} {:>8} {:>8}", "", "universal", "specialised");
    for ((label, u), (_, p)) in super::model::size(&universal)
        .into_iter()
        .zip(super::model::size(&s.model))
    {
        println!("  {label:<12} {u:>8} {p:>8}");
    }
    if let Some(m) = &s.info.milp {
        println!(
            "  MILP schedule: d_model {} (greedy {}, lower bound {}), {:.1} s: {}",
            m.d_model, m.greedy_d_model, m.lower_bound, m.seconds, m.status
        );
    }
    Ok(ExitCode::SUCCESS)
}
