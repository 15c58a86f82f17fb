//! `tvm proofs check`: re-check a certificate directory independently of
//! the code that wrote it — SMT claims with the cvc5 binary, e-graph
//! explanations with tvm-proofs' own exact checker.

use anyhow::Context as _;
use std::path::PathBuf;
use std::time::Duration;
use tvm_proofs::{CheckOptions, CheckReport, FileReport};

#[derive(clap::Args)]
pub struct CheckArgs {
    /// The certificate directory (written by `tvm verify --certs DIR`).
    dir: PathBuf,
    /// The cvc5 binary (Debian package `cvc5`).
    #[arg(long, value_name = "PATH", default_value = "cvc5")]
    cvc5: PathBuf,
    /// Files checked in parallel.
    #[arg(long, value_name = "N", default_value_t = 2)]
    jobs: usize,
    /// Time limit per SMT file, in seconds (cvc5 is killed after it).
    #[arg(long, value_name = "SECONDS", default_value_t = tvm_proofs::DEFAULT_TIMEOUT.as_secs())]
    timeout: u64,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Checks every certificate; `Ok(false)` when some certificate fails.
pub fn check(args: &CheckArgs) -> anyhow::Result<bool> {
    let options = CheckOptions {
        cvc5: args.cvc5.clone(),
        jobs: args.jobs,
        timeout: Duration::from_secs(args.timeout),
    };
    let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let show = |file: &FileReport, done: usize, total: usize| {
        if progress {
            eprint!("\r[{done}/{total}] {:<60.60}", file.path);
        }
    };
    let report = tvm_proofs::check_dir_with(&args.dir, &options, &show)
        .with_context(|| format!("checking the certificates in {}", args.dir.display()))?;
    if progress {
        eprint!("\r{:<80}\r", "");
    }
    if args.json {
        let mut value = serde_json::to_value(&report)?;
        value["ok"] = report.ok().into();
        value["obligations"] = report.obligations().into();
        value["obligations_ok"] = report.obligations_ok().into();
        value["files_failed"] = report.failed().count().into();
        println!("{value:#}");
    } else {
        print_report(&report);
    }
    Ok(report.ok())
}

fn print_report(report: &CheckReport) {
    let width = report
        .files
        .iter()
        .map(|f| f.path.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    println!(
        "{:<width$}  {:<10} {:>7}     {:>9}",
        "file", "kind", "count", "seconds"
    );
    for f in &report.files {
        let mark = if f.verdict.is_ok() { "✓" } else { "✗" };
        println!(
            "{:<width$}  {:<10} {:>7}  {mark}  {:>9.3}",
            f.path, f.kind, f.obligations, f.seconds
        );
        if let Some(failure) = f.verdict.failure() {
            println!("    {failure}");
        }
    }
    let failed = report.failed().count();
    println!(
        "{}: {} files, {} obligations; {} of them re-checked, {} file(s) failed ({:.2} s{})",
        report.dir.display(),
        report.files.len(),
        report.obligations(),
        report.obligations_ok(),
        failed,
        report.seconds,
        report
            .cvc5_version
            .as_deref()
            .map(|v| format!(", {v}"))
            .unwrap_or_default()
    );
}

/// Writes every proof of `items` as a certificate into `dir` (atomically):
/// SMT claims grouped per kind and layer, e-graph explanations likewise.
pub fn write_certificates(
    dir: &std::path::Path,
    model_digest: &str,
    items: &[tvm_verify::report::ItemReport],
) -> anyhow::Result<()> {
    use tvm_proofs::Certificate;
    let mut certs = Vec::new();
    for item in items {
        let kind = item.kind.name();
        // One file per layer, and per lowered operator: a solver run over
        // one operator's claims stays small (cvc5's incremental state
        // after 200 claims of other operators slows the division lemmas
        // from a second to minutes).
        let group = match (item.layer, item.kind) {
            (Some(l), _) => format!("layer{l:02}"),
            (None, tvm_verify::obligation::Kind::Lowering) => item.name.clone(),
            (None, _) => kind.to_owned(),
        };
        for o in &item.smt {
            certs.push(Certificate::smt(
                kind,
                group.as_str(),
                o.name.as_str(),
                o.smt.logic,
                o.smt.script.as_str(),
            ));
        }
        for e in &item.explanations {
            certs.push(Certificate::explanation(
                kind,
                group.as_str(),
                format!("{}.{}", item.name, e.name),
                e.lhs.as_str(),
                e.rhs.as_str(),
                e.steps.clone(),
            ));
        }
    }
    let summary = tvm_proofs::write_dir(dir, model_digest, &certs)
        .with_context(|| format!("writing certificates into {}", dir.display()))?;
    eprintln!(
        "[tvm verify] {} certificates ({} SMT claims, {} explanations) in {} files, {} bytes: {}",
        certs.len(),
        summary.smt_claims,
        summary.explanations,
        summary.files,
        summary.bytes,
        dir.display()
    );
    Ok(())
}
