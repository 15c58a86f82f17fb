//! `tvm catalog`: list the built-in programs, or run them and check outputs.

use crate::cli::{DEFAULT_FUEL, exit};
use anyhow::Context as _;
use std::process::ExitCode;
use tvm_catalog::Manifest;
use tvm_catalog::runner::{self, Engine, Options, ProgramReport};

#[derive(clap::Args)]
pub struct CatalogArgs {
    #[command(subcommand)]
    action: Option<Action>,
}

#[derive(clap::Subcommand)]
enum Action {
    /// List the programs (the default).
    List {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run every program and check output, exit status and trace agreement.
    Run(RunArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// Engines to run besides the reference machine (repeatable; default:
    /// eval, exact and float). Every engine's trace must equal the
    /// reference trace token for token.
    #[arg(long = "engine", value_enum)]
    engines: Vec<EngineArg>,
    /// The model for the transformer engines (default: the cached
    /// universal model, built on first use).
    #[arg(long)]
    model: Option<std::path::PathBuf>,
    /// Only these programs (repeatable).
    #[arg(long)]
    only: Vec<String>,
    /// Run programs marked long in the manifest only on the reference
    /// machine and the float engine (eval and exact take minutes on them).
    #[arg(long)]
    skip_long: bool,
    /// Step budget per run.
    #[arg(long, default_value_t = DEFAULT_FUEL)]
    fuel: u64,
    /// Also specialise every program (`tvm specialize`) and run its model
    /// on the exact and float engines chosen (columns spec-exact,
    /// spec-float); a second table compares each specialised model with
    /// the universal one.
    #[arg(long, alias = "specialised")]
    specialized: bool,
    /// How the specialised models are scheduled.
    #[command(flatten)]
    schedule: crate::cli::model::ScheduleArgs,
    /// Print the results as JSON.
    #[arg(long)]
    json: bool,
}

/// One program's specialised model, as the second table shows it.
struct SpecRow {
    name: String,
    instructions: usize,
    seconds: f64,
    milp: String,
    model: tvm_weights::model::Model,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum EngineArg {
    /// The reference machine (always run).
    Reference,
    /// The machine graph, evaluated exactly.
    Eval,
    /// The transformer, exact rationals.
    Exact,
    /// The transformer, f64.
    Float,
}

impl EngineArg {
    fn engine(self) -> Engine {
        match self {
            EngineArg::Reference => Engine::Reference,
            EngineArg::Eval => Engine::Eval,
            EngineArg::Exact => Engine::Exact,
            EngineArg::Float => Engine::Float,
        }
    }
}

pub fn run(args: CatalogArgs) -> anyhow::Result<ExitCode> {
    let manifest = Manifest::builtin().context("reading the built-in catalog")?;
    match args.action.unwrap_or(Action::List { json: false }) {
        Action::List { json } => {
            list(&manifest, json);
            Ok(ExitCode::SUCCESS)
        }
        Action::Run(run_args) => run_all(&manifest, run_args),
    }
}

fn list(manifest: &Manifest, json: bool) {
    if json {
        let programs: Vec<_> = manifest
            .iter()
            .map(|p| {
                serde_json::json!({
                    "name": p.name(),
                    "source": p.source().display().to_string(),
                    "args": p.args_str(),
                    "long": p.is_long(),
                    "description": p.description(),
                })
            })
            .collect();
        println!("{:#}", serde_json::Value::Array(programs));
        return;
    }
    for p in manifest.iter() {
        println!(
            "{:<14} {:<28} {}",
            p.name(),
            p.source().display(),
            p.description()
        );
    }
}

fn run_all(manifest: &Manifest, args: RunArgs) -> anyhow::Result<ExitCode> {
    for name in &args.only {
        manifest.program(name)?;
    }
    let mut chosen: Vec<Engine> = if args.engines.is_empty() {
        vec![Engine::Eval, Engine::Exact, Engine::Float]
    } else {
        args.engines.iter().map(|e| e.engine()).collect()
    };
    chosen.retain(|&e| e != Engine::Reference);
    if args.specialized {
        let spec: Vec<Engine> = chosen.iter().filter_map(|e| e.specialised()).collect();
        if spec.is_empty() {
            anyhow::bail!(
                "--specialized runs the specialised models on the exact and float engines: choose at least one (--engine exact or --engine float)"
            );
        }
        chosen.extend(spec);
    }
    chosen.sort();
    chosen.dedup();
    let columns: Vec<Engine> = std::iter::once(Engine::Reference)
        .chain(chosen.iter().copied())
        .collect();
    let graph = chosen
        .contains(&Engine::Eval)
        .then(tvm_dsl::machine::universal);
    let model = if chosen
        .iter()
        .any(|e| matches!(e, Engine::Exact | Engine::Float))
    {
        Some(crate::cli::model::load_or_build(args.model.as_deref())?)
    } else {
        None
    };
    let programs: Vec<_> = manifest
        .iter()
        .filter(|p| args.only.is_empty() || args.only.iter().any(|n| n == p.name()))
        .collect();
    let mut reports: Vec<ProgramReport> = Vec::new();
    let mut spec_rows: Vec<SpecRow> = Vec::new();
    let scheduler = args.schedule.scheduler_with_limit(20);
    if !args.json {
        let mut header = format!(
            "{:<16} {:>9} {:>8}  {:<6} {:<6}",
            "program", "tokens", "steps", "output", "traces"
        );
        for e in &columns {
            header.push_str(&format!(" {:>20}", format!("{} s  tok/s", e.name())));
        }
        println!("{header}");
    }
    for (i, entry) in programs.iter().enumerate() {
        let engines: Vec<Engine> = chosen
            .iter()
            .copied()
            .filter(|e| {
                !(args.skip_long
                    && entry.is_long()
                    && matches!(e, Engine::Eval | Engine::Exact | Engine::SpecExact))
            })
            .collect();
        let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
        if progress {
            eprint!("\r[{}/{}] {:<20}", i + 1, programs.len(), entry.name());
        }
        let options = Options {
            engines,
            fuel: args.fuel,
        };
        let program = runner::build(entry).with_context(|| format!("building {}", entry.name()))?;
        let specialised = if args.specialized {
            let s = crate::cli::specialize::specialize(
                entry.name(),
                entry.args_str(),
                &program,
                &scheduler,
            )
            .with_context(|| format!("specialising {}", entry.name()))?;
            spec_rows.push(SpecRow {
                name: entry.name().to_owned(),
                instructions: program.instrs.len(),
                seconds: s.graph_seconds + s.build_seconds,
                milp: s.info.milp.as_ref().map_or_else(
                    || "greedy".to_owned(),
                    |m| {
                        if m.optimal {
                            "optimal".to_owned()
                        } else {
                            format!("bound {}", m.lower_bound)
                        }
                    },
                ),
                model: s.model,
            });
            spec_rows.last().map(|r| &r.model)
        } else {
            None
        };
        let models = runner::Models {
            graph: graph.as_ref(),
            universal: model.as_ref(),
            specialised,
        };
        let report = runner::check_built(entry, &program, &options, models)
            .with_context(|| format!("building {}", entry.name()))?;
        if progress {
            eprint!("\r{:<40}\r", "");
        }
        if !args.json {
            print_row(&report, &columns);
        }
        reports.push(report);
    }
    let failed: Vec<&ProgramReport> = reports.iter().filter(|r| !r.ok()).collect();
    if args.json {
        let rows: Vec<_> = reports
            .iter()
            .map(|r| {
                serde_json::json!({
                    "program": r.name,
                    "tokens": r.tokens(),
                    "prefix_tokens": r.prefix_tokens,
                    "steps": r.steps,
                    "output_ok": r.output_ok,
                    "traces_agree": r.traces_agree,
                    "engines": r.runs.iter().map(|run| serde_json::json!({
                        "engine": run.engine.name(),
                        "tokens": r.tokens_of(run.engine),
                        "seconds": run.seconds,
                        "tokens_per_second": r.tokens_of(run.engine) as f64 / run.seconds.max(1e-9),
                    })).collect::<Vec<_>>(),
                    "specialised": spec_rows.iter().find(|s| s.name == r.name).map(|s| {
                        let mut v = serde_json::json!({
                            "instructions": s.instructions,
                            "seconds": s.seconds,
                            "schedule": s.milp,
                            "prefix_tokens": r.specialised_prefix_tokens,
                            "tokens_saved": r.prefix_tokens - r.specialised_prefix_tokens,
                            "agrees_with_universal": agrees(r),
                            "model": crate::cli::model::figures(&s.model, None),
                        });
                        if let Some(m) = &model {
                            v["universal_model"] = crate::cli::model::figures(m, None);
                        }
                        v
                    }),
                    "problems": r.problems,
                    "skipped": r.skipped.iter().map(|(e, why)| serde_json::json!({
                        "engine": e.name(),
                        "reason": why,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        println!("{:#}", serde_json::Value::Array(rows));
    } else {
        for r in &failed {
            for p in &r.problems {
                eprintln!("{}: {p}", r.name);
            }
        }
        for r in &reports {
            for (engine, why) in &r.skipped {
                eprintln!("{}: {} not run: {why}", r.name, engine.name());
            }
        }
        if let (false, Some(universal)) = (spec_rows.is_empty(), &model) {
            print_specialised(&reports, &spec_rows, universal);
        }
        println!(
            "{} programs, {} ok, {} failed",
            reports.len(),
            reports.len() - failed.len(),
            failed.len()
        );
    }
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(exit::MISMATCH)
    })
}

fn print_row(r: &ProgramReport, columns: &[Engine]) {
    let mark = |ok: bool| if ok { "ok" } else { "FAIL" };
    let traces = if r.runs.len() > 1 {
        mark(r.traces_agree)
    } else {
        "-"
    };
    let mut row = format!(
        "{:<16} {:>9} {:>8}  {:<6} {:<6}",
        r.name,
        r.tokens(),
        r.steps,
        mark(r.output_ok),
        traces
    );
    for &engine in columns {
        let cell = r.run(engine).map_or_else(
            || "-".to_owned(),
            |run| {
                let rate = r.tokens_of(engine) as f64 / run.seconds.max(1e-9);
                format!("{:.3} {:>7}", run.seconds, human(rate))
            },
        );
        row.push_str(&format!(" {cell:>20}"));
    }
    println!("{row}");
}

/// Whether every specialised run's trace and output equal the universal
/// run's on the same engine (the reference's where that engine did not
/// run).
fn agrees(r: &ProgramReport) -> bool {
    r.runs
        .iter()
        .filter_map(|spec| {
            let universal = match spec.engine {
                Engine::SpecExact => Engine::Exact,
                Engine::SpecFloat => Engine::Float,
                _ => return None,
            };
            let other = r.run(universal).or(r.runs.first())?;
            Some(spec.trace == other.trace && spec.output == other.output)
        })
        .all(|ok| ok)
}

/// The second table: each specialised model beside the universal one.
fn print_specialised(
    reports: &[ProgramReport],
    rows: &[SpecRow],
    universal: &tvm_weights::model::Model,
) {
    let size = |m| crate::cli::model::size(m).map(|(_, n)| n);
    let u = size(universal);
    println!();
    println!(
        "specialised models (universal: d_model {}, {} layers, {} heads, d_ffn {}, {} non-zeros)",
        u[0], u[1], u[2], u[3], u[4]
    );
    println!(
        "{:<16} {:>6} {:>7} {:<11} {:>15} {:>6} {:>8} {:>9} {:>6} {:>7} {:>9} {:<6}",
        "program",
        "instrs",
        "spec s",
        "schedule",
        "tokens",
        "saved",
        "agrees",
        "d_model",
        "layers",
        "heads",
        "d_ffn",
        "nnz"
    );
    for row in rows {
        let Some(r) = reports.iter().find(|r| r.name == row.name) else {
            continue;
        };
        let s = size(&row.model);
        let tokens = format!("{} → {}", r.tokens(), r.tokens_of(Engine::SpecFloat));
        println!(
            "{:<16} {:>6} {:>7.2} {:<11} {:>15} {:>6} {:>8} {:>9} {:>6} {:>7} {:>9} {:<6}",
            row.name,
            row.instructions,
            row.seconds,
            row.milp,
            tokens,
            r.prefix_tokens - r.specialised_prefix_tokens,
            if agrees(r) { "ok" } else { "FAIL" },
            s[0],
            s[1],
            s[2],
            s[3],
            s[4]
        );
    }
}

/// `1234567.0` → `1.23M`.
fn human(rate: f64) -> String {
    if rate >= 1e6 {
        format!("{:.2}M", rate / 1e6)
    } else if rate >= 1e3 {
        format!("{:.1}K", rate / 1e3)
    } else {
        format!("{rate:.0}")
    }
}
