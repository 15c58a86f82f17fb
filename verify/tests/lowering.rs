//! Lowering proofs: every lowered operator's routine is proven equal to
//! its WebAssembly operator, and a routine broken on purpose fails with a
//! counterexample.

use tvm_dsl::isa::Opcode;
use tvm_engine::lower::routine::Routine;
use tvm_verify::lowering::{self, Spec};
use tvm_verify::smt::{Outcome, check};

const BUDGET: u32 = 60_000;

#[test]
fn every_lowered_operator_is_proven() {
    let mut failed = Vec::new();
    for r in Routine::ALL {
        let name = lowering::routine_name(r);
        let obligations = lowering::obligations(r).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(obligations[0].name, name, "the main claim comes first");
        for o in &obligations {
            if !check(&o.smt, BUDGET).is_proven() {
                failed.push(o.name.clone());
            }
        }
    }
    assert!(failed.is_empty(), "not proven: {failed:?}");
}

#[test]
fn obligations_are_deterministic() {
    for r in [Routine::Mul, Routine::And, Routine::Shl] {
        assert_eq!(
            lowering::obligations(r).expect("obligations"),
            lowering::obligations(r).expect("obligations")
        );
    }
}

/// Every `CONST` of the AND and EXTEND routines, changed by one, and every
/// `ADD` turned into a `SUB`: each mutant must fail its proof with a
/// counterexample (a mutant the prover cannot even state is a typed error,
/// and fails too) — except the four mutants of AND that are equivalent to
/// it, which the proof rightly accepts: three only widen the guard of the
/// boolean short path (more operands take the general loop, which is right
/// for all of them: pc 3 and 5 raise the guard's constants, pc 13 turns the
/// sum of two exclusive 0/1 flags into their difference), and pc 20 starts
/// the accumulator at 1, which 32 doublings shift out.
#[test]
fn broken_routines_fail_with_a_counterexample() {
    let mut mutants = 0;
    let mut survivors = Vec::new();
    for r in [Routine::And, Routine::Extend8S, Routine::Extend16S] {
        let code = lowering::routine_code(r).expect("assembles");
        let end = code
            .callees
            .iter()
            .map(|(pc, _)| *pc as usize)
            .min()
            .unwrap_or(code.instrs.len());
        for pc in 0..end {
            let i = code.instrs[pc];
            let mut broken = code.clone();
            match i.op {
                Opcode::Const => broken.instrs[pc].imm = i.imm.wrapping_add(1),
                Opcode::Add => broken.instrs[pc].op = Opcode::Sub,
                _ => continue,
            }
            mutants += 1;
            let name = format!("{}@{pc}", lowering::routine_name(r));
            let caught = match lowering::obligations_for_code(&name, &broken, Spec::Operator(r)) {
                Ok(obs) => obs
                    .iter()
                    .any(|o| matches!(check(&o.smt, BUDGET), Outcome::Counterexample(_))),
                Err(_) => true,
            };
            if !caught {
                survivors.push(name);
            }
        }
    }
    println!(
        "{mutants} routine mutants, {} survive: {survivors:?}",
        survivors.len()
    );
    assert!(mutants >= 10, "{mutants} mutants");
    assert_eq!(
        survivors,
        ["AND@3", "AND@5", "AND@13", "AND@20"],
        "the mutants not caught are exactly AND's equivalent ones"
    );
}
