//! Deciding an [`Smt`] claim with z3 (the `z3` crate over the system
//! `libz3`), in process: the script text is the one a certificate stores.
//!
//! A claim holds when z3 answers `unsat`. On `sat`, the model's constants
//! are the counterexample, sorted by name so reports are deterministic.

use std::cell::Cell;
use std::fmt::Write as _;

use crate::obligation::Smt;

/// z3's answer on a claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `unsat`: the claim holds for every value of its variables.
    Proven,
    /// `sat`: the claim fails; one assignment where it does (name, value).
    Counterexample(Vec<(String, String)>),
    /// z3 gave up (timeout, incompleteness) or rejected the script.
    Unknown(String),
}

impl Outcome {
    /// Whether the claim was proven.
    pub fn is_proven(&self) -> bool {
        matches!(self, Outcome::Proven)
    }
}

/// Formats a counterexample as `x = 3, y = -1`.
pub fn show_assignment(values: &[(String, String)]) -> String {
    let mut s = String::new();
    for (i, (k, v)) in values.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "{k} = {}", readable(v));
    }
    s
}

/// The constants a script declares (`declare-const NAME`, or `declare-fun
/// NAME ()`): the claim's own variables.
pub fn declared_constants(script: &str) -> std::collections::BTreeSet<&str> {
    let mut names = std::collections::BTreeSet::new();
    for (keyword, nullary) in [("(declare-const ", false), ("(declare-fun ", true)] {
        for (at, _) in script.match_indices(keyword) {
            let rest = &script[at + keyword.len()..];
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '(' || c == ')')
                .unwrap_or(rest.len());
            let (name, after) = rest.split_at(end);
            if !nullary || after.trim_start().starts_with("()") {
                names.insert(name.trim_matches('|'));
            }
        }
    }
    names
}

/// A value as a reader writes it: SMT-LIB's reals `3.0`, `(- 1.0)`, `(/
/// 1.0 2.0)`, `(- (/ 1.0 2.0))` become `3`, `-1`, `1/2`, `-1/2`; anything
/// else (bit-vectors, integers) is kept.
pub fn readable(value: &str) -> String {
    fn real(v: &str) -> Option<String> {
        let v = v.trim();
        if let Some(inner) = v.strip_prefix("(- ").and_then(|r| r.strip_suffix(')')) {
            return real(inner).map(|r| format!("-{r}"));
        }
        if let Some(inner) = v.strip_prefix("(/ ").and_then(|r| r.strip_suffix(')')) {
            let (n, d) = inner.split_once(' ')?;
            return Some(format!("{}/{}", real(n)?, real(d)?));
        }
        let (whole, fraction) = v.split_once('.')?;
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        (digits(whole) && fraction.bytes().all(|b| b == b'0')).then(|| whole.to_owned())
    }
    real(value).unwrap_or_else(|| value.to_owned())
}

/// z3 resource units per unit of `budget` in [`check`].
pub const RLIMIT_PER_UNIT: u32 = 2_000;

/// Decides `claim` with z3 within `budget` (0 for none).
///
/// The budget is z3's deterministic resource limit (`rlimit`, in units of
/// [`RLIMIT_PER_UNIT`], about a millisecond each here), never a wall-clock
/// timeout: the same claim gets the same answer on any machine, and z3
/// 4.8's timer threads (which deadlock when several solvers time out in
/// parallel) are never started.
///
/// Linear real claims (`QF_LRA`: every neuron, table and most head items)
/// are first put to one solver per thread, in a `push`/`pop` scope, its
/// budget set only when it changes: making a z3 solver and setting its
/// parameters cost about five times as much as deciding such a claim.
/// Only its `unsat` is taken; anything else is decided again by a fresh
/// solver, so a counterexample never depends on what the thread checked
/// before.
///
/// With a [`proof_cache`](crate::proof_cache) active, a claim proven before
/// is taken from it, and a claim proven now is added to it.
pub fn check(claim: &Smt, budget: u32) -> Outcome {
    let cache = crate::proof_cache::active().map(|c| {
        let key = crate::proof_cache::claim_key(claim);
        (c, key)
    });
    if let Some((c, key)) = &cache
        && c.holds(key)
    {
        return Outcome::Proven;
    }
    let outcome = decide_fresh(claim, budget);
    if let (Outcome::Proven, Some((c, key))) = (&outcome, cache) {
        c.record(key);
    }
    outcome
}

fn decide_fresh(claim: &Smt, budget: u32) -> Outcome {
    if claim.logic == "QF_LRA" && reused_proves(claim, budget) {
        return Outcome::Proven;
    }
    let solver = fresh_solver(claim);
    limit(&solver, budget);
    decide(&solver, claim)
}

thread_local! {
    /// The thread's solver for linear real claims (see [`check`]), and
    /// the budget last set on it (setting parameters costs a good part of
    /// deciding a small claim).
    static LINEAR: (z3::Solver, Cell<Option<u32>>) = (z3::Solver::new(), Cell::new(None));
}

/// Whether the thread's reused solver answers `unsat` on `claim`.
fn reused_proves(claim: &Smt, budget: u32) -> bool {
    LINEAR.with(|(solver, set)| {
        if set.get() != Some(budget) {
            limit(solver, budget);
            set.set(Some(budget));
        }
        solver.push();
        let proven = decide(solver, claim).is_proven();
        solver.pop(1);
        proven
    })
}

fn fresh_solver(claim: &Smt) -> z3::Solver {
    // Nonlinear integer claims (the heads' key encodings) go to z3's core
    // SMT solver, which decides them in milliseconds; the default portfolio
    // (and the `qfnia` tactic) hands them to nlsat, which on z3 4.8 spends
    // its whole budget on `relu(−k − M)·k ≤ 0`. Everything else gets the
    // default solver (bit-blasting for QF_BV).
    if claim.logic.contains("NIA") {
        z3::Tactic::new("smt").solver()
    } else {
        z3::Solver::new()
    }
}

/// Sets `solver`'s budget (0: none).
fn limit(solver: &z3::Solver, budget: u32) {
    let mut params = z3::Params::new();
    params.set_u32("rlimit", budget.saturating_mul(RLIMIT_PER_UNIT));
    solver.set_params(&params);
}

/// Asserts `claim` into `solver` (in its current scope) and checks it.
fn decide(solver: &z3::Solver, claim: &Smt) -> Outcome {
    // `from_string` ignores `set-logic`; the body is the claim itself.
    solver.from_string(claim.script.as_str());
    match solver.check() {
        z3::SatResult::Unsat => Outcome::Proven,
        z3::SatResult::Sat => {
            // Only the claim's own variables: a solver's model may also
            // define auxiliary constants (z3's `fold-rec-…`), which say
            // nothing to a reader and can run to megabytes.
            let own = declared_constants(&claim.script);
            let mut values = Vec::new();
            if let Some(model) = solver.get_model() {
                for decl in &model {
                    if decl.arity() != 0 || !own.contains(decl.name().as_str()) {
                        continue;
                    }
                    if let Some(z3::Interp::Const(v)) = model.get_interp(&decl) {
                        values.push((decl.name(), v.to_string()));
                    }
                }
            }
            values.sort();
            Outcome::Counterexample(values)
        }
        z3::SatResult::Unknown => Outcome::Unknown(
            solver
                .get_reason_unknown()
                .unwrap_or_else(|| "unknown".to_owned()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_true_claim_is_proven_and_a_false_one_has_a_counterexample() {
        // ∀ x: 2x − x = x.
        let holds = Smt {
            logic: "QF_LRA",
            script: "(declare-const x Real)\n(assert (not (= (- (* 2 x) x) x)))\n".into(),
        };
        assert_eq!(check(&holds, 0), Outcome::Proven);
        // ∀ x: 2x = x fails at every x ≠ 0.
        let fails = Smt {
            logic: "QF_LRA",
            script: "(declare-const x Real)\n(assert (not (= (* 2 x) x)))\n".into(),
        };
        match check(&fails, 0) {
            Outcome::Counterexample(v) => {
                assert_eq!(v.len(), 1);
                assert_eq!(v[0].0, "x");
                assert_ne!(v[0].1, "0.0");
            }
            other => panic!("expected a counterexample, got {other:?}"),
        }
    }

    #[test]
    fn real_values_read_as_a_reader_writes_them() {
        for (smt, read) in [
            ("3.0", "3"),
            ("(- 1.0)", "-1"),
            ("(/ 1.0 2.0)", "1/2"),
            ("(- (/ 3.0 4.0))", "-3/4"),
            ("#x0000002a", "#x0000002a"),
            ("2.5", "2.5"),
            ("17", "17"),
        ] {
            assert_eq!(readable(smt), read, "{smt}");
        }
    }

    #[test]
    fn a_counterexample_names_only_the_claims_own_constants() {
        let script = "(declare-const x Real)\n(declare-fun |y| () Real)\n\
                      (declare-fun f (Real) Real)\n(define-fun g () Real 2.0)\n";
        let names: Vec<&str> = declared_constants(script).into_iter().collect();
        assert_eq!(names, ["x", "y"]);
        // `g` is defined, not declared: the model may give it, the report
        // does not.
        let fails = Smt {
            logic: "QF_LRA",
            script: format!("{script}(assert (= x (+ g 1.0)))\n(assert (> y x))\n"),
        };
        match check(&fails, 0) {
            Outcome::Counterexample(v) => {
                let named: Vec<&str> = v.iter().map(|(k, _)| k.as_str()).collect();
                assert_eq!(named, ["x", "y"], "{v:?}");
            }
            other => panic!("expected a counterexample, got {other:?}"),
        }
    }

    #[test]
    fn the_reused_solver_forgets_each_claim() {
        // x = 1 ∧ x = 2 is unsatisfiable only together: were the first
        // claim's assertion left in the reused solver, the second would
        // come out "proven".
        let x_is_1 = Smt {
            logic: "QF_LRA",
            script: "(declare-const x Real)\n(assert (= x 1))\n".into(),
        };
        let x_is_2 = Smt {
            logic: "QF_LRA",
            script: "(declare-const x Real)\n(assert (= x 2))\n".into(),
        };
        let first = check(&x_is_2, 0);
        assert!(matches!(first, Outcome::Counterexample(_)), "{first:?}");
        for _ in 0..3 {
            assert!(!check(&x_is_1, 0).is_proven());
            // The same counterexample whatever came before.
            assert_eq!(check(&x_is_2, 0), first);
        }
        // A budget set for one claim does not starve the next.
        let holds = Smt {
            logic: "QF_LRA",
            script: "(declare-const y Real)\n(assert (not (= (+ y y) (* 2 y))))\n".into(),
        };
        assert_eq!(check(&holds, 1), Outcome::Proven);
        assert_eq!(check(&holds, 0), Outcome::Proven);
        // z3's resource limit counts per check, not over the solver's
        // life: the reused solver keeps proving under a small budget.
        for _ in 0..500 {
            assert!(reused_proves(&holds, 1));
        }
    }

    #[test]
    fn a_malformed_script_is_unknown_not_proven() {
        let bad = Smt {
            logic: "QF_LRA",
            script: "(assert (not (= y y)))\n".into(),
        };
        assert!(!check(&bad, 0).is_proven());
    }
}
