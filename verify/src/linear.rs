//! Linear claims: "this weight row, read through the slot map, is this DSL
//! expression" — proven twice, by e-graph equivalence (egg, explanation
//! kept) and by z3 (∀ residual vector: equal), and reduced to the
//! coefficients responsible when it fails.
//!
//! On the z3 side the variables are the residual slots themselves (`x17`
//! is slot 17): the weight row is `Σ w_s·x_s + bias` as stored, and the DSL
//! side maps each dimension to the slot the layout says holds it then. On
//! the egg side both are terms over plan dimensions: the row with each slot
//! replaced by the dimension live in it (a slot holding none becomes the
//! leaf `d<DEAD_SLOT + s>`), in slot order, against the DSL's own term.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use egg::{Id, RecExpr};
use num_traits::{One, Signed, Zero};
use tvm_dsl::equivalence::{Equivalence, equivalent_terms};
use tvm_dsl::expr::{Dim, Expr, Rational};
use tvm_dsl::language::{DimLeaf, Linear, Scalar};
use tvm_weights::model_file::ExactTensor;

use crate::obligation::Smt;
use crate::slots::SlotMap;

/// Leaves `d<DEAD_SLOT + s>` stand for slot `s` when it holds no dimension.
pub const DEAD_SLOT: u32 = 1 << 30;

/// A weight row: `(slot, coefficient)` pairs, sorted by slot.
pub type Row = Vec<(u32, Rational)>;

/// The rows of a tensor whose last axis is the residual: keyed by every
/// index but the last.
pub fn rows(t: &ExactTensor) -> BTreeMap<Vec<usize>, Row> {
    let mut out: BTreeMap<Vec<usize>, Row> = BTreeMap::new();
    for (index, v) in &t.entries {
        if let Some((last, head)) = index.split_last() {
            out.entry(head.to_vec())
                .or_default()
                .push((*last as u32, v.clone()));
        }
    }
    out
}

/// The entries of a tensor, by index.
pub fn values(t: &ExactTensor) -> BTreeMap<Vec<usize>, Rational> {
    t.entries.iter().cloned().collect()
}

/// An SMT-LIB2 numeral for an exact rational.
pub fn smt_num(r: &Rational) -> String {
    let n = r.numer().abs();
    let body = if r.denom().is_one() {
        format!("{n}")
    } else {
        format!("(/ {n} {})", r.denom())
    };
    if r.is_negative() {
        format!("(- {body})")
    } else {
        body
    }
}

/// `Σ c·var + constant` in SMT-LIB2 (Real sort).
pub fn smt_sum(terms: &[(String, Rational)], constant: &Rational) -> String {
    let mut parts: Vec<String> = terms
        .iter()
        .filter(|(_, c)| !c.is_zero())
        .map(|(v, c)| {
            if c.is_one() {
                v.clone()
            } else {
                format!("(* {} {v})", smt_num(c))
            }
        })
        .collect();
    if !constant.is_zero() || parts.is_empty() {
        parts.push(smt_num(constant));
    }
    if parts.len() == 1 {
        parts.pop().unwrap_or_default()
    } else {
        format!("(+ {})", parts.join(" "))
    }
}

/// The variable of residual slot `s`.
pub fn slot_var(s: u32) -> String {
    format!("x{s}")
}

/// Adds the canonical-shaped term of `e` to `term`, returning its root.
fn push_expr(term: &mut RecExpr<Linear>, e: &Expr) -> Id {
    let mut summands: Vec<Id> = Vec::new();
    for (d, c) in e.terms() {
        let leaf = term.add(Linear::Dim(DimLeaf(*d)));
        summands.push(if c.is_one() {
            leaf
        } else {
            let k = term.add(Linear::Num(Scalar(c.clone())));
            term.add(Linear::Mul([k, leaf]))
        });
    }
    if !e.constant_term().is_zero() || summands.is_empty() {
        summands.push(term.add(Linear::Num(Scalar(e.constant_term().clone()))));
    }
    fold_sum(term, summands)
}

fn fold_sum(term: &mut RecExpr<Linear>, mut summands: Vec<Id>) -> Id {
    let mut acc = summands
        .pop()
        .unwrap_or_else(|| term.add(Linear::Num(Scalar(Rational::zero()))));
    while let Some(x) = summands.pop() {
        acc = term.add(Linear::Add([x, acc]));
    }
    acc
}

/// The term a weight row computes, over the dimensions live in its slots
/// at time `t`, in slot order: `(+ (* w₀ d…) (+ … bias))`.
pub fn row_term(
    row: &[(u32, Rational)],
    bias: &Rational,
    slots: &SlotMap,
    t: u32,
) -> RecExpr<Linear> {
    let mut term = RecExpr::default();
    let mut summands = Vec::new();
    for (s, c) in row {
        let d = slots.live(*s, t).unwrap_or(Dim(DEAD_SLOT + s));
        let k = term.add(Linear::Num(Scalar(c.clone())));
        let leaf = term.add(Linear::Dim(DimLeaf(d)));
        summands.push(term.add(Linear::Mul([k, leaf])));
    }
    summands.push(term.add(Linear::Num(Scalar(bias.clone()))));
    fold_sum(&mut term, summands);
    term
}

/// The term of a DSL expression whose dimensions are replaced by the plan
/// expressions that hold them (`of_graph`): `(+ (* c (plan term)) …)`.
pub fn dsl_term(e: &Expr, of_graph: &[Expr]) -> Option<RecExpr<Linear>> {
    let mut term = RecExpr::default();
    let mut summands = Vec::new();
    for (d, c) in e.terms() {
        let inner = push_expr(&mut term, of_graph.get(d.index())?);
        summands.push(if c.is_one() {
            inner
        } else {
            let k = term.add(Linear::Num(Scalar(c.clone())));
            term.add(Linear::Mul([k, inner]))
        });
    }
    if !e.constant_term().is_zero() || summands.is_empty() {
        summands.push(term.add(Linear::Num(Scalar(e.constant_term().clone()))));
    }
    fold_sum(&mut term, summands);
    Some(term)
}

/// The canonical-shaped term of a plan expression.
pub fn plan_term(e: &Expr) -> RecExpr<Linear> {
    let mut term = RecExpr::default();
    push_expr(&mut term, e);
    term
}

/// One e-graph proof: `lhs = rhs` with egg's flattened explanation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    /// What it proves (`gate`, `value`, `q0`, ...).
    pub name: String,
    /// The left term (the weights).
    pub lhs: String,
    /// The right term (the DSL).
    pub rhs: String,
    /// Egg's steps, `lhs` first and `rhs` last.
    pub steps: Vec<String>,
}

/// Collects the claims of one item into one SMT script (their
/// conjunction), its e-graph proofs, and the exact disagreements.
#[derive(Default)]
pub struct Claims {
    vars: BTreeSet<String>,
    conjuncts: Vec<String>,
    /// E-graph proofs found.
    pub explanations: Vec<Explanation>,
    /// Where the weights and the DSL differ, coefficient by coefficient.
    pub culprits: Vec<String>,
    /// Problems found before any solver ran (a read of a dead slot, an
    /// e-graph refusal).
    pub failures: Vec<String>,
    /// What each slot variable holds where it is read (`x46` → `slot 46:
    /// CumSum#57.head0`), to name a counterexample's values.
    pub meanings: BTreeMap<String, String>,
}

impl Claims {
    /// Claims that `row · x + bias`, read at time `t`, equals `spec` (over
    /// plan dimensions); `spec_term` is the DSL's own term for it (egg's
    /// right-hand side), `label` names the row, `name_of` names dimensions.
    #[allow(clippy::too_many_arguments)]
    pub fn row_equals(
        &mut self,
        label: &str,
        row: &[(u32, Rational)],
        bias: &Rational,
        spec: &Expr,
        spec_term: &RecExpr<Linear>,
        slots: &SlotMap,
        t: u32,
        name_of: &dyn Fn(Dim) -> String,
    ) {
        // z3: over slot variables.
        let lhs_terms: Vec<(String, Rational)> =
            row.iter().map(|(s, c)| (slot_var(*s), c.clone())).collect();
        let mut spec_by_slot: BTreeMap<u32, Rational> = BTreeMap::new();
        for (d, c) in spec.terms() {
            match slots.slot_of(*d) {
                Some(s) if slots.live(s, t) == Some(*d) => {
                    *spec_by_slot.entry(s).or_insert_with(Rational::zero) += c;
                }
                Some(s) => self.failures.push(format!(
                    "{label}: the DSL reads {} (d{}), which slot {s} does not hold at sublayer {t}",
                    name_of(*d),
                    d.0
                )),
                None => self
                    .failures
                    .push(format!("{label}: d{} has no slot in the layout", d.0)),
            }
        }
        let rhs_terms: Vec<(String, Rational)> = spec_by_slot
            .iter()
            .map(|(s, c)| (slot_var(*s), c.clone()))
            .collect();
        for (v, _) in lhs_terms.iter().chain(&rhs_terms) {
            self.vars.insert(v.clone());
        }
        self.conjuncts.push(format!(
            "(= {} {})",
            smt_sum(&lhs_terms, bias),
            smt_sum(&rhs_terms, spec.constant_term())
        ));
        // The coefficients responsible, if any (this row's: the culprits
        // before it belong to other rows).
        let earlier = self.culprits.len();
        let weights: BTreeMap<u32, Rational> = row.iter().cloned().collect();
        let all: BTreeSet<u32> = weights.keys().chain(spec_by_slot.keys()).copied().collect();
        for &s in &all {
            let held = slots
                .live(s, t)
                .map_or_else(|| "no live dimension".to_owned(), name_of);
            self.meanings
                .entry(slot_var(s))
                .or_insert_with(|| format!("slot {s}: {held}"));
        }
        for s in all {
            let w = weights.get(&s).cloned().unwrap_or_else(Rational::zero);
            let e = spec_by_slot.get(&s).cloned().unwrap_or_else(Rational::zero);
            if w != e {
                let holder = slots.live(s, t).map_or_else(
                    || "no dimension".to_owned(),
                    |d| format!("{} (d{})", name_of(d), d.0),
                );
                self.culprits.push(format!(
                    "{label}[slot {s}] = {w}, the DSL says {e} (slot {s} holds {holder} at sublayer {t})"
                ));
            }
        }
        if *bias != *spec.constant_term() {
            self.culprits.push(format!(
                "{label} bias = {bias}, the DSL says {}",
                spec.constant_term()
            ));
        }
        // egg: over plan dimensions — only when the exact forms agree (on
        // different forms the rules could only run to their budget).
        let lhs = row_term(row, bias, slots, t);
        if self.culprits.len() > earlier {
            self.failures.push(format!(
                "{label}: the weights and the DSL differ; no e-graph proof attempted"
            ));
            return;
        }
        match equivalent_terms(&lhs, spec_term) {
            Ok(Equivalence::Proven { explanation }) => self.explanations.push(Explanation {
                name: label.to_owned(),
                lhs: lhs.to_string(),
                rhs: spec_term.to_string(),
                steps: explanation,
            }),
            Ok(Equivalence::Refuted { difference }) => self.failures.push(format!(
                "{label}: e-graph: weights − DSL = {difference}, not 0"
            )),
            Ok(Equivalence::Inconclusive { reason }) => self
                .failures
                .push(format!("{label}: e-graph inconclusive: {reason}")),
            Err(e) => self.failures.push(format!("{label}: e-graph: {e}")),
        }
    }

    /// Claims that a stored weight has its expected value.
    pub fn weight_is(&mut self, label: &str, actual: &Rational, expected: &Rational) {
        self.conjuncts
            .push(format!("(= {} {})", smt_num(actual), smt_num(expected)));
        if actual != expected {
            self.culprits
                .push(format!("{label} = {actual}, the DSL says {expected}"));
        }
    }

    /// Claims that an output column writes exactly `expected` (slot →
    /// coefficient) and nothing else.
    pub fn column_is(
        &mut self,
        label: &str,
        actual: &[(u32, Rational)],
        expected: &[(u32, Rational)],
    ) {
        let a: BTreeMap<u32, Rational> = actual.iter().cloned().collect();
        let e: BTreeMap<u32, Rational> = expected.iter().cloned().collect();
        let all: BTreeSet<u32> = a.keys().chain(e.keys()).copied().collect();
        for s in all {
            let zero = Rational::zero();
            self.weight_is(
                &format!("{label}[slot {s}]"),
                a.get(&s).unwrap_or(&zero),
                e.get(&s).unwrap_or(&zero),
            );
        }
    }

    /// A claim stated directly in SMT-LIB2 (over already declared or no
    /// variables).
    pub fn raw(&mut self, conjunct: String) {
        self.conjuncts.push(conjunct);
    }

    /// The conjunction as one SMT claim over Real slot variables.
    pub fn smt(&self) -> Smt {
        let mut script = String::new();
        for v in &self.vars {
            let _ = writeln!(script, "(declare-const {v} Real)");
        }
        let body = match self.conjuncts.len() {
            0 => "true".to_owned(),
            1 => self.conjuncts[0].clone(),
            _ => format!("(and\n  {})", self.conjuncts.join("\n  ")),
        };
        let _ = writeln!(script, "(assert (not {body}))");
        Smt {
            logic: "QF_LRA",
            script,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tvm_dsl::expr::int;

    #[test]
    fn numerals_are_smt_lib() {
        assert_eq!(smt_num(&int(3)), "3");
        assert_eq!(smt_num(&int(-3)), "(- 3)");
        assert_eq!(
            smt_num(&Rational::new(int(-3).to_integer(), 4.into())),
            "(- (/ 3 4))"
        );
        assert_eq!(smt_sum(&[], &int(0)), "0");
        assert_eq!(
            smt_sum(&[("x1".into(), int(1)), ("x2".into(), int(-2))], &int(5)),
            "(+ x1 (* (- 2) x2) 5)"
        );
    }
}
