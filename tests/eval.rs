//! The exact evaluator's two number types must agree: the integer fast path
//! (i128, overflow-checked) and big rationals, on a whole program.

use tvm_frontend::program::Input;
use tvm_symbolic::eval::{Evaluator, Exact, run_machine};

#[test]
fn the_integer_fast_path_equals_the_rational_path() {
    let manifest = tvm_catalog::Manifest::builtin().expect("catalog");
    let entry = manifest
        .program("exit_code")
        .expect("exit_code is in the catalog");
    let program = tvm_frontend::build_file(&entry.source_path()).expect("builds");
    let input = Input::from_args(entry.program_name(), &entry.args()).expect("input");
    let prefix = program.prefix_tokens(&input);
    let graph = tvm_dsl::machine::universal();
    let fast = run_machine::<i128>(&graph, &prefix, 1_000_000).expect("fast path runs");
    let exact = run_machine::<Exact>(&graph, &prefix, 1_000_000).expect("rational path runs");
    assert_eq!(fast, exact);
    assert!(fast.steps > 1000);
}

#[test]
fn a_prefix_without_run_is_an_error_not_a_panic() {
    let graph = tvm_dsl::machine::universal();
    assert!(run_machine::<i128>(&graph, &[], 10).is_err());
    let mut eval = Evaluator::<i128>::new(&graph).expect("compiles");
    // Any token soup evaluates without panicking.
    for id in 0..552u32 {
        let token = tvm_dsl::token::Token::from_id(id).expect("in range");
        let _ = eval.push(token);
    }
}
