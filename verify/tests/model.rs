//! The universal model, verified end to end: every model item, opcode and
//! lowering proven; the summary (item counts per kind, all proven) is an
//! insta snapshot.

use std::fmt::Write as _;

use tvm_verify::context::Context;
use tvm_verify::report::{ItemReport, Verdict, summary};
use tvm_verify::run::verify;
use tvm_verify::semantics::Selection;
use tvm_weights::model::{Model, Scheduler};

#[test]
fn every_item_of_the_universal_model_is_proven() {
    let (graph, ports) = tvm_dsl::machine::universal_with_ports();
    let (model, _) =
        Model::build_with(&graph, &Scheduler::Greedy).expect("the universal model builds");
    let cx = Context::new(&graph, &model).expect("the layout fits");
    let start = std::time::Instant::now();
    let items = verify(Some(&cx), (&graph, &ports), &Selection::all(), 2, |_| {});
    eprintln!(
        "{} items in {:.1} s",
        items.len(),
        start.elapsed().as_secs_f64()
    );
    for i in items.iter().filter(|i| !i.is_proven()).take(10) {
        if let Verdict::Failed(f) = &i.verdict {
            eprintln!(
                "✗ {} {}: {} (counterexample {:?})",
                i.kind, i.name, f.reason, f.counterexample
            );
        }
    }
    let mut text = String::new();
    for (kind, proven, failed) in summary(&items) {
        let _ = writeln!(
            text,
            "{:<9} {proven:>4} proven {failed:>3} failed",
            kind.name()
        );
    }
    let _ = writeln!(
        text,
        "all proven: {}",
        items.iter().all(ItemReport::is_proven)
    );
    insta::assert_snapshot!("verification_summary", text);
}
