//! Lowering proofs: every lowered operator's routine is proven equal to
//! its WebAssembly operator, and a routine broken on purpose fails with a
//! counterexample.

use tvm_dsl::isa::Opcode;
use tvm_frontend::lower::routine::Routine;
use tvm_verify::lowering::{self, RoutineCode, Spec};
use tvm_verify::obligation::Obligation;
use tvm_verify::smt::{Outcome, check};

const BUDGET: u32 = 60_000;

/// The names of the obligations of `routines` that z3 does not prove.
fn unproven(routines: &[Routine]) -> Vec<String> {
    let mut failed = Vec::new();
    for &r in routines {
        let name = lowering::routine_name(r);
        let obligations = lowering::obligations(r).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(obligations[0].name, name, "the main claim comes first");
        for o in &obligations {
            if !check(&o.smt, BUDGET).is_proven() {
                failed.push(o.name.clone());
            }
        }
    }
    failed
}

#[test]
fn every_lowered_operator_is_proven() {
    let failed = unproven(&Routine::ALL);
    assert!(failed.is_empty(), "not proven: {failed:?}");
}

#[test]
fn every_i64_operator_is_proven() {
    let failed = unproven(&Routine::WIDE);
    assert!(failed.is_empty(), "not proven: {failed:?}");
}

/// The i64 routines' obligations: each main claim is over the operand
/// words, the loops have their step lemmas, and the facts a bit-blasting
/// solver cannot decide are stated over the integers.
#[test]
fn i64_obligations_have_the_expected_shape() {
    let names = |r: Routine| -> Vec<String> {
        lowering::obligations(r)
            .expect("obligations")
            .into_iter()
            .map(|o| o.name)
            .collect()
    };
    let logic = |r: Routine, name: &str| -> &'static str {
        lowering::obligations(r)
            .expect("obligations")
            .into_iter()
            .find(|o| o.name == name)
            .map_or("missing", |o| o.smt.logic)
    };
    let main = &lowering::obligations(Routine::Shl64).expect("obligations")[0];
    for word in ["a.lo", "a.hi", "b.lo", "b.hi"] {
        assert!(
            main.smt
                .script
                .contains(&format!("(declare-const {word} (_ BitVec 32))")),
            "{word}"
        );
    }
    assert!(main.smt.script.contains("(_ BitVec 64)"));
    let div = names(Routine::DivU64);
    for n in 1..=64 {
        assert!(div.contains(&format!("DIV_U64.step{n:02}")), "step {n}");
    }
    for lemma in [
        "body", "base64", "base32", "narrow", "euclid", "ring", "unique",
    ] {
        assert!(
            div.contains(&format!("DIV_U64.{lemma}")),
            "{lemma}: {div:?}"
        );
    }
    assert_eq!(logic(Routine::DivU64, "DIV_U64.ring"), "QF_NIA");
    assert_eq!(logic(Routine::DivU64, "DIV_U64.narrow"), "QF_NIA");
    assert_eq!(logic(Routine::DivU64, "DIV_U64.step17"), "QF_BV");
    let wide = names(Routine::MulWide);
    assert_eq!(wide.len(), 1 + 32 + 1 + 1, "{wide:?}");
    assert_eq!(logic(Routine::MulWide, "MUL_WIDE_U.ring"), "QF_NIA");
    assert_eq!(logic(Routine::Mul64, "MUL64.words"), "QF_NIA");
    assert_eq!(
        names(Routine::Shl64).len(),
        1 + 26,
        "the modJJ chain lemmas"
    );
}

#[test]
fn obligations_are_deterministic() {
    for r in [
        Routine::Mul,
        Routine::And,
        Routine::Shl,
        Routine::DivU64,
        Routine::Shl64,
        Routine::DivS64,
    ] {
        assert_eq!(
            lowering::obligations(r).expect("obligations"),
            lowering::obligations(r).expect("obligations")
        );
    }
}

/// Every mutant of `routines`' own code (callees excluded): each `CONST`
/// changed by one, each `ADD` turned into a `SUB`. Returns how many there
/// are and the names (`ROUTINE@pc`) of those whose proof does not fail with
/// a counterexample (a mutant the prover cannot even state is a typed
/// error, and fails too).
fn surviving_mutants(routines: &[Routine]) -> (usize, Vec<String>) {
    let mut mutants = 0;
    let mut survivors = Vec::new();
    for &r in routines {
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
    (mutants, survivors)
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
    let (mutants, survivors) =
        surviving_mutants(&[Routine::And, Routine::Extend8S, Routine::Extend16S]);
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

/// The same for i64 routines: every mutant fails, except the ones that
/// change the status word a trap pops and ignores (`CONST 0` before
/// `HALT`), which are equivalent.
#[test]
fn broken_i64_routines_fail_with_a_counterexample() {
    let (mutants, survivors) = surviving_mutants(&[
        Routine::MulWide,
        Routine::Mul64,
        Routine::DivS64,
        Routine::RemS64,
        Routine::Clz64,
        Routine::Ctz64,
        Routine::Popcnt64,
    ]);
    println!(
        "{mutants} i64 routine mutants, {} survive: {survivors:?}",
        survivors.len()
    );
    assert!(mutants >= 50, "{mutants} mutants");
    assert_eq!(
        survivors,
        ["DIV_S64@104", "DIV_S64@106", "REM_S64@85"],
        "the mutants not caught are exactly the ignored trap statuses"
    );
}

/// The same for the loop of 64-bit division (its body merged from
/// branches, its step lemmas split) and the modulo-64 chain of a shift:
/// every mutant fails but the trap status of division by zero.
#[test]
fn broken_i64_loops_and_shifts_fail_with_a_counterexample() {
    let (mutants, survivors) = surviving_mutants(&[Routine::DivU64, Routine::Shl64]);
    println!(
        "{mutants} i64 loop and shift mutants, {} survive: {survivors:?}",
        survivors.len()
    );
    assert!(mutants >= 80, "{mutants} mutants");
    assert_eq!(survivors, ["DIV_U64@120"], "only the ignored trap status");
}

/// The first instruction of `code` that is `op`.
fn find(code: &RoutineCode, op: Opcode) -> usize {
    (0..code.instrs.len())
        .find(|&pc| code.instrs[pc].op == op)
        .unwrap_or_else(|| panic!("no {op:?}"))
}

/// The obligations of `broken` (a routine's code changed) that fail with a
/// counterexample, and one counterexample.
fn failures(r: Routine, broken: &RoutineCode) -> (Vec<String>, String) {
    let obs: Vec<Obligation> =
        lowering::obligations_for_code(&lowering::routine_name(r), broken, Spec::Operator(r))
            .expect("the broken code can still be stated");
    let mut failed = Vec::new();
    let mut shown = String::new();
    for o in &obs {
        if let Outcome::Counterexample(values) = check(&o.smt, BUDGET) {
            failed.push(o.name.clone());
            if shown.is_empty() {
                shown = tvm_verify::smt::show_assignment(&values);
            }
        }
    }
    (failed, shown)
}

/// A broken loop body of 64-bit division (the quotient bit added as 2)
/// fails the lemma about the body, with a counterexample over the head
/// state; a broken word combination of `i64.popcnt` (the halves' counts
/// subtracted) fails the main claim with operand words.
#[test]
fn broken_i64_loops_and_words_are_named() {
    let code = lowering::routine_code(Routine::DivU64).expect("assembles");
    // `q += 1` in the loop body: `LOCAL_GET 4; CONST 1; ADD; LOCAL_SET 4`.
    let set_q = (1..code.instrs.len())
        .find(|&pc| {
            code.instrs[pc].op == Opcode::LocalSet
                && code.instrs[pc].imm == 4
                && code.instrs[pc - 1].op == Opcode::Add
                && code.instrs[pc - 2].op == Opcode::Const
                && code.instrs[pc - 2].imm == 1
        })
        .expect("the quotient increment");
    let mut broken = code.clone();
    broken.instrs[set_q - 2].imm = 2;
    let (failed, shown) = failures(Routine::DivU64, &broken);
    assert!(failed.contains(&"DIV_U64.body".to_owned()), "{failed:?}");
    assert!(shown.contains("q.lo") || shown.contains("r.lo"), "{shown}");

    let code = lowering::routine_code(Routine::Popcnt64).expect("assembles");
    let add = find(&code, Opcode::Add);
    let mut broken = code.clone();
    broken.instrs[add].op = Opcode::Sub;
    let (failed, shown) = failures(Routine::Popcnt64, &broken);
    assert_eq!(failed, ["POPCNT64"]);
    assert!(shown.contains("a.lo") || shown.contains("a.hi"), "{shown}");
}

/// Every inline constant-operand form the verifier lists is proven; a form
/// proven for `c` is proven for `c + 32` too where it stands for every `c`
/// of a residue mod 32 (the code is the same); and every `ADD` of the shift
/// forms turned into a `SUB` (or dropped) fails with a counterexample.
#[test]
fn inline_forms_are_proven_and_their_mutants_caught() {
    let forms = lowering::inline_forms();
    assert!(forms.len() >= 40);
    for &(r, c) in &forms {
        let obligations = lowering::inline_obligations(r, c)
            .unwrap_or_else(|e| panic!("{}: {e}", lowering::inline_name(r, c)));
        for o in &obligations {
            assert!(
                check(&o.smt, BUDGET).is_proven(),
                "{} is not proven",
                o.name
            );
        }
    }
    for k in [0u32, 5, 31] {
        let code = lowering::inline_code(Routine::Shl, k).expect("assembles");
        let wider = Spec::ConstantOperand {
            op: Routine::Shl,
            constant: k + 32,
        };
        let obs = lowering::obligations_for_code("SHL_BY_k+32", &code, wider).expect("states");
        assert!(
            obs.iter().all(|o| check(&o.smt, BUDGET).is_proven()),
            "SHL_BY_{k}+32"
        );
    }
    let mut mutants = 0;
    for (r, c) in [(Routine::Shl, 7), (Routine::Mul, 0), (Routine::And, 0)] {
        let code = lowering::inline_code(r, c).expect("assembles");
        let spec = Spec::ConstantOperand { op: r, constant: c };
        for pc in 0..code.instrs.len() - 1 {
            let mut broken = code.clone();
            match code.instrs[pc].op {
                Opcode::Add => broken.instrs[pc].op = Opcode::Sub,
                Opcode::Const => broken.instrs[pc].imm = code.instrs[pc].imm.wrapping_add(1),
                _ => continue,
            }
            mutants += 1;
            let name = format!("{}@{pc}", lowering::inline_name(r, c));
            let caught = match lowering::obligations_for_code(&name, &broken, spec) {
                Ok(obs) => obs
                    .iter()
                    .any(|o| matches!(check(&o.smt, BUDGET), Outcome::Counterexample(_))),
                Err(_) => true,
            };
            assert!(caught, "{name} survived");
        }
    }
    assert!(mutants >= 8, "{mutants} mutants");
    // A form that needs memory is not one of them: it says so.
    let scratch = lowering::inline_code(Routine::ShrU, 8);
    assert!(scratch.is_err());
}
