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
    /// Print the results as JSON.
    #[arg(long)]
    json: bool,
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
    if !args.json {
        let mut header = format!(
            "{:<16} {:>9} {:>8}  {:<6} {:<6}",
            "program", "tokens", "steps", "output", "traces"
        );
        for e in &columns {
            header.push_str(&format!(" {:>18}", format!("{} s  tok/s", e.name())));
        }
        println!("{header}");
    }
    for (i, entry) in programs.iter().enumerate() {
        let engines: Vec<Engine> = chosen
            .iter()
            .copied()
            .filter(|e| {
                !(args.skip_long && entry.is_long() && matches!(e, Engine::Eval | Engine::Exact))
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
        let report = runner::check(entry, &options, graph.as_ref(), model.as_ref())
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
                        "seconds": run.seconds,
                        "tokens_per_second": r.tokens() as f64 / run.seconds.max(1e-9),
                    })).collect::<Vec<_>>(),
                    "problems": r.problems,
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
        let cell = r.runs.iter().find(|run| run.engine == engine).map_or_else(
            || "-".to_owned(),
            |run| {
                let rate = r.tokens() as f64 / run.seconds.max(1e-9);
                format!("{:.3} {:>7}", run.seconds, human(rate))
            },
        );
        row.push_str(&format!(" {cell:>18}"));
    }
    println!("{row}");
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
