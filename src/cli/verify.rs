//! `tvm verify`: proves a model's weights against the machine graph, and
//! the opcodes and lowered operators against WebAssembly; `--certs` writes
//! every proof as a certificate for `tvm proofs check`.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tvm_verify::context::Context;
use tvm_verify::report::{ItemReport, Verdict, summary};
use tvm_verify::run::{item_count, verify};
use tvm_verify::semantics::Selection;

use super::exit;
use super::model::load_or_build;

#[derive(clap::Args)]
#[command(
    long_about = "Proves, item by item, that a model computes what the machine graph says:\n\
  - model: the schedule respects every dependency; slot reuse never overwrites a live dimension\n\
  - io: the embedding tables, each readout row, the output head's argmax\n\
  - neuron: every FFN neuron's gate and value rows, read through the slot map, equal the DSL's b and a \
(e-graph equivalence and z3), and it writes only its slot\n\
  - head: every head's Q, K, V equal the DSL's query, key, value; the score is maximal exactly at \
matching keys, with a margin f64 keeps\n\
  - opcode: each opcode's DSL sub-graph equals WebAssembly's 32-bit semantics (z3 bit-vectors)\n\
  - lowering: each lowered operator's routine equals the operator it replaces\n\
  - table (a model from `tvm specialize`): each baked instruction table equals the program's \
instructions at every integer pc\n\n\
With no selection, everything is proven (for a specialised model: model, table, io, neuron and head \
items; opcodes and lowerings, which concern the universal graph, when selected). A whole-model run \
prints its failed items and a summary (--items lists every item); a selection lists every item. A failed \
item prints the coefficients responsible, why, and a counterexample over its claim's own variables \
(cut unless --full); the exit code is then 6."
)]
pub struct VerifyArgs {
    /// A model file from `tvm build` or `tvm specialize` (default: the
    /// cached universal model).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Prove only this opcode (e.g. ADD; repeatable; `all` for every one).
    #[arg(long, value_name = "OP")]
    opcode: Vec<String>,
    /// Prove only this lowered operator (e.g. MUL, DIV_U64 for i64.div_u,
    /// MUL_WIDE_U; repeatable; `inline` for the inline constant-operand
    /// forms; `all` for every one).
    #[arg(long, value_name = "OP")]
    lowering: Vec<String>,
    /// Write every proof as a certificate into this directory (replaced
    /// atomically), for `tvm proofs check`.
    #[arg(long, value_name = "DIR")]
    certs: Option<PathBuf>,
    /// Worker threads (default: the machine's cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Print only failed items and the summary (the default for a whole
    /// model, whose proven items run to a thousand lines).
    #[arg(long, conflicts_with = "items")]
    failures: bool,
    /// Print every item, proven ones too (the default when --opcode or
    /// --lowering selects items).
    #[arg(long)]
    items: bool,
    /// Also write the report as one static HTML page (no script, no
    /// network): every layer's heads and neurons as cells coloured by DSL
    /// group and marked by proof status, each linked to its verdict.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Prove everything again, ignoring (and not updating) the proof cache
    /// (by default verdicts proven before are kept in $TVM_CACHE_DIR, else
    /// ~/.cache/tvm, under the digest of their claim).
    #[arg(long)]
    no_cache: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Print failed items whole (by default each shows its first 8
    /// culprits and 2,000 characters of reason and counterexample).
    #[arg(long)]
    full: bool,
}

/// Progress on a terminal: `[verify] done/total`.
struct Progress {
    total: usize,
    done: AtomicUsize,
    shown: bool,
    lock: Mutex<()>,
}

impl Progress {
    fn new(total: usize) -> Progress {
        Progress {
            total,
            done: AtomicUsize::new(0),
            shown: std::io::stderr().is_terminal(),
            lock: Mutex::new(()),
        }
    }

    fn tick(&self, item: &ItemReport) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if self.shown
            && let Ok(_g) = self.lock.lock()
        {
            eprint!("\r[verify] {done}/{} {:<40}", self.total, item.name);
            if done == self.total {
                eprint!("\r{:70}\r", "");
            }
        }
    }
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1e3)
}

/// `text`, cut to 2,000 characters unless `full`.
fn clip(text: &str, full: bool) -> String {
    const LIMIT: usize = 2_000;
    match text.char_indices().nth(LIMIT) {
        Some((at, _)) if !full => format!(
            "{}… ({} more characters; --full or --json shows all)",
            &text[..at],
            text.len() - at
        ),
        _ => text.to_owned(),
    }
}

fn print_item(i: &ItemReport, full: bool) {
    let mark = if i.is_proven() { "✓" } else { "✗" };
    let layer = i.layer.map_or_else(|| "-".to_owned(), |l| l.to_string());
    println!(
        "{mark} {:<8} {:<28} {:>3} {:<7} {:>7}  {}",
        i.kind.name(),
        i.name,
        layer,
        i.method,
        ms(i.elapsed),
        i.about
    );
    if let Verdict::Failed(f) = &i.verdict {
        // The coefficients responsible first, then why, then the
        // counterexample; long lists are cut unless `--full`.
        let culprits = if full { f.culprits.len() } else { 8 };
        for c in f.culprits.iter().take(culprits) {
            println!("    culprit: {c}");
        }
        if f.culprits.len() > culprits {
            println!(
                "    … and {} more culprits (--full shows all)",
                f.culprits.len() - culprits
            );
        }
        println!("    why: {}", clip(&f.reason, full));
        if let Some(c) = &f.counterexample {
            println!("    counterexample: {}", clip(c, full));
        }
    }
}

pub fn run(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let start = Instant::now();
    let threads = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let selective = !args.opcode.is_empty() || !args.lowering.is_empty();
    let selection = if selective {
        Selection::parse(&args.opcode, &args.lowering)
            .map_err(|e| anyhow::anyhow!("{e}\n(see `tvm verify --help`)"))?
    } else {
        Selection::all()
    };
    let mut items: Vec<ItemReport> = Vec::new();
    let (graph, ports) = tvm_dsl::machine::universal_with_ports();
    let mut digest = String::from("-");
    let model = if !selective || args.model.is_some() {
        Some(load_or_build(args.model.as_deref())?)
    } else {
        None
    };
    // A specialised model computes its own graph, and its instruction
    // tables are proven against the program it records; the opcode and
    // lowering proofs are about the universal graph and the compiler, so
    // they run for it only when selected.
    let specialised = match model.as_ref().and_then(|m| m.program.as_ref()) {
        Some(baked) => {
            let program = tvm::cache::baked_program(baked)?;
            let graph = tvm::cache::specialised_graph(&program)?;
            Some((program, graph))
        }
        None => None,
    };
    let selection = if specialised.is_some() && !selective {
        Selection::default()
    } else {
        selection
    };
    let cx = match (&model, &specialised) {
        (Some(m), Some((program, g))) => {
            Some(Context::specialised(g, m, &program.instrs).context("preparing verification")?)
        }
        (Some(m), None) => Some(Context::new(&graph, m).context("preparing verification")?),
        (None, _) => None,
    };
    if let Some(m) = &model {
        digest = m.graph_digest.clone();
    }
    // The proof cache: whole lowering items only when no certificates are
    // written (they need every script).
    let cache = if args.no_cache {
        None
    } else {
        let dir = tvm::cache::cache_dir().join("proofs");
        match tvm_verify::proof_cache::ProofCache::open(&dir, args.certs.is_none()) {
            Ok(c) => Some(std::sync::Arc::new(c)),
            Err(e) => {
                eprintln!(
                    "[tvm] the proof cache in {} is unusable ({e}); proving without it",
                    dir.display()
                );
                None
            }
        }
    };
    tvm_verify::proof_cache::activate(cache.clone());
    let progress = Progress::new(item_count(cx.as_ref(), &selection));
    items.extend(verify(
        cx.as_ref(),
        (&graph, &ports),
        &selection,
        threads,
        |i| progress.tick(i),
    ));
    let elapsed = start.elapsed();
    tvm_verify::proof_cache::activate(None);
    let stats = cache.as_ref().map(|c| c.stats());
    if let Some(c) = &cache
        && let Err(e) = c.save()
    {
        eprintln!("[tvm] could not save the proof cache: {e}");
    }
    if let Some(path) = &args.html {
        let title = match &args.model {
            Some(m) => format!(
                "{} (graph {})",
                m.display(),
                &digest[..digest.len().min(16)]
            ),
            None => format!("graph {}", &digest[..digest.len().min(16)]),
        };
        let trusted = tvm_verify::trusted::trusted_base(
            &items,
            specialised.is_some(),
            stats.map_or(0, |c| c.hits),
        );
        let page = tvm_verify::page::render(
            &items,
            &tvm_verify::page::PageInfo {
                title: &title,
                trusted: &trusted,
            },
        );
        super::files::write_atomically(path, page.as_bytes())?;
    }
    report(
        &items,
        args.json,
        args.failures || !(args.items || selective),
        args.full,
        elapsed,
        specialised.is_some(),
        stats,
    );
    if let Some(dir) = &args.certs {
        super::proofs::write_certificates(dir, &digest, &items)?;
    }
    Ok(if items.iter().all(ItemReport::is_proven) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(exit::MISMATCH)
    })
}

fn report(
    items: &[ItemReport],
    json: bool,
    failures_only: bool,
    full: bool,
    elapsed: Duration,
    specialised: bool,
    cache: Option<tvm_verify::proof_cache::CacheStats>,
) {
    let counts = summary(items);
    let hits = cache.map_or(0, |c| c.hits);
    let trusted = tvm_verify::trusted::trusted_base(items, specialised, hits);
    // Seconds spent on the items of a kind, summed over the workers.
    let seconds = |k: tvm_verify::obligation::Kind| -> f64 {
        items
            .iter()
            .filter(|i| i.kind == k)
            .map(|i| i.elapsed.as_secs_f64())
            .sum()
    };
    if json {
        let value = serde_json::json!({
            "items": items.iter().map(|i| {
                let mut v = serde_json::to_value(i).unwrap_or_default();
                v["seconds"] = serde_json::json!(i.elapsed.as_secs_f64());
                v
            }).collect::<Vec<_>>(),
            "summary": counts.iter().map(|(k, p, f)| serde_json::json!({
                "kind": k.name(), "proven": p, "failed": f, "item_seconds": seconds(*k),
            })).collect::<Vec<_>>(),
            "proven": items.iter().all(ItemReport::is_proven),
            "seconds": elapsed.as_secs_f64(),
            "proof_cache": cache,
            "trusted_base": trusted,
        });
        println!("{value:#}");
        return;
    }
    for i in items {
        if !failures_only || !i.is_proven() {
            print_item(i, full);
        }
    }
    println!();
    println!(
        "{:<10} {:>7} {:>7} {:>9}",
        "kind", "proven", "failed", "item s"
    );
    for (k, p, f) in &counts {
        println!("{:<10} {:>7} {:>7} {:>9.1}", k.name(), p, f, seconds(*k));
    }
    println!();
    println!("trusted base (assumed, not proven by this report):");
    for a in &trusted {
        println!("  - {}: {}", a.name, a.assumed);
        println!("      evidence: {}", a.evidence);
    }
    if let Some(c) = cache {
        println!(
            "proof cache: {} verdicts reused, {} added (--no-cache proves everything again)",
            c.hits, c.added
        );
    }
    let failed: usize = counts.iter().map(|c| c.2).sum();
    let total = items.len();
    if failed == 0 {
        println!("all {total} items proven in {:.1} s", elapsed.as_secs_f64());
    } else {
        println!(
            "{failed} of {total} items FAILED ({:.1} s)",
            elapsed.as_secs_f64()
        );
    }
}
