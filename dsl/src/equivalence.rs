//! E-graph equivalence of linear expressions, with explanations that can be
//! re-checked without egg.
//!
//! [`equivalent`] adds both sides to one e-graph (explanations enabled),
//! runs the rules of [`crate::rewrite`], and answers:
//! - [`Equivalence::Proven`] only when egg put both sides in one e-class,
//!   carrying egg's flattened explanation (one rewrite per line), which has
//!   already passed [`verify_explanation`];
//! - [`Equivalence::Refuted`] when the exact difference `a − b` is not zero
//!   (then no sound rule set could unify them);
//! - [`Equivalence::Inconclusive`] otherwise: the rules stopped before
//!   unifying two equal forms (budget), or egg's answer failed a cross-check.
//!   Never reported as proven.
//!
//! [`verify_explanation`] is independent of egg: it parses each step's
//! s-expression with its own reader, evaluates it as a linear form with
//! exact rationals, and requires every step to denote the same form, the
//! first `a` and the last `b`, and every step after the first to differ from
//! the previous one only at the sub-term its single `Rewrite=>` /
//! `Rewrite<=` annotation marks, where the old and new sub-terms are an
//! instance of the named rule of [`crate::rewrite::RULES`] (matched by this
//! module's own pattern matcher; guards are ignored, they never matter for
//! soundness) and denote the same linear form.

use crate::expr::{Expr, Rational};
use crate::language::{DimLeaf, Linear, Scalar, TermError, evaluate, to_term};
use crate::rewrite::{Budget, Rhs, Rule, rule_named, rules, runner};
use egg::RecExpr;
use num_traits::{One, Zero};
use std::collections::BTreeMap;

/// The verdict on `a = b`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Equivalence {
    /// Egg unified the two sides.
    Proven {
        /// Egg's flattened explanation: the first line is `a`, the last `b`,
        /// each line one rewrite of the previous (an s-expression in which
        /// `(Rewrite=> rule t)` / `(Rewrite<= rule t)` marks the rewrite).
        explanation: Vec<String>,
    },
    /// The two sides denote different linear forms.
    Refuted {
        /// `a − b` in normal form; never zero.
        difference: Expr,
    },
    /// Equal forms that the rules did not unify within the budget, or an
    /// e-graph answer that failed a cross-check.
    Inconclusive {
        /// What happened.
        reason: String,
    },
}

impl Equivalence {
    /// Whether the verdict is [`Equivalence::Proven`].
    pub fn is_proven(&self) -> bool {
        matches!(self, Equivalence::Proven { .. })
    }
}

/// Decides `a = b` for two expressions, written as their canonical terms
/// (default [`Budget`]).
pub fn equivalent(a: &Expr, b: &Expr) -> Equivalence {
    decide(&to_term(a), a, &to_term(b), b, Budget::default())
}

/// Decides `a = b` for two linear terms (default [`Budget`]).
pub fn equivalent_terms(
    a: &RecExpr<Linear>,
    b: &RecExpr<Linear>,
) -> Result<Equivalence, TermError> {
    equivalent_terms_with(a, b, Budget::default())
}

/// Decides `a = b` for two linear terms within `budget`. Fails only if a
/// term is malformed or not linear.
pub fn equivalent_terms_with(
    a: &RecExpr<Linear>,
    b: &RecExpr<Linear>,
    budget: Budget,
) -> Result<Equivalence, TermError> {
    let (fa, fb) = (evaluate(a)?, evaluate(b)?);
    Ok(decide(a, &fa, b, &fb, budget))
}

/// `a`, `b` are terms denoting `fa`, `fb`.
fn decide(
    a: &RecExpr<Linear>,
    fa: &Expr,
    b: &RecExpr<Linear>,
    fb: &Expr,
    budget: Budget,
) -> Equivalence {
    let mut runner = runner(budget)
        .with_explanations_enabled()
        .with_expr(a)
        .with_expr(b)
        .with_hook(|r| {
            if r.egraph.find(r.roots[0]) == r.egraph.find(r.roots[1]) {
                Err("unified".to_owned())
            } else {
                Ok(())
            }
        })
        .run(rules());
    let unified = runner.egraph.find(runner.roots[0]) == runner.egraph.find(runner.roots[1]);
    let difference = fa - fb;
    let conflicts = runner.egraph.analysis.conflicts;
    if conflicts > 0 || (unified && difference != Expr::zero()) {
        return Equivalence::Inconclusive {
            reason: format!(
                "the e-graph merged different linear forms ({conflicts} conflicts): a rule is unsound"
            ),
        };
    }
    if unified {
        let explanation = runner.explain_equivalence(a, b).get_flat_strings();
        return match verify_explanation(fa, fb, &explanation) {
            Ok(()) => Equivalence::Proven { explanation },
            Err(e) => Equivalence::Inconclusive {
                reason: format!("egg's explanation does not re-check: {e}"),
            },
        };
    }
    if difference != Expr::zero() {
        return Equivalence::Refuted { difference };
    }
    let stop = runner
        .stop_reason
        .as_ref()
        .map_or_else(|| "not run".to_owned(), |r| format!("{r:?}"));
    Equivalence::Inconclusive {
        reason: format!("the rules stopped ({stop}) before unifying two equal linear forms"),
    }
}

/// Why an explanation does not re-check.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExplanationError {
    /// No steps at all.
    #[error("the explanation has no steps")]
    Empty,
    /// A step is not a well-formed s-expression of the language.
    #[error("step {step}: {message}")]
    Syntax {
        /// Index of the step.
        step: usize,
        /// What is wrong.
        message: String,
    },
    /// A step (or a rewritten sub-term) is not a linear form.
    #[error("step {step}: not linear: {term}")]
    NotLinear {
        /// Index of the step.
        step: usize,
        /// The offending (sub)term.
        term: String,
    },
    /// The first step carries an annotation, or a later one not exactly one.
    #[error("step {step}: {count} rewrite annotations (expected {expected})")]
    Annotations {
        /// Index of the step.
        step: usize,
        /// How many it has.
        count: usize,
        /// How many it should have.
        expected: usize,
    },
    /// The marked rewrite is not an instance of the rule it names.
    #[error("step {step}: the rewrite is not an instance of rule `{rule}`")]
    NotInstance {
        /// Index of the step.
        step: usize,
        /// The rule named.
        rule: String,
    },
    /// The annotation names no rule of the rule set.
    #[error("step {step}: unknown rule `{rule}`")]
    UnknownRule {
        /// Index of the step.
        step: usize,
        /// The name given.
        rule: String,
    },
    /// The step differs from the previous one outside the marked sub-term.
    #[error("step {step}: the term changed outside the rewritten position")]
    Context {
        /// Index of the step.
        step: usize,
    },
    /// The marked rewrite changes the linear form of its sub-term.
    #[error("step {step}: rule `{rule}` changed the linear form of its sub-term")]
    Unsound {
        /// Index of the step.
        step: usize,
        /// The rule named.
        rule: String,
    },
    /// The step's linear form differs from the first step's.
    #[error("step {step}: denotes a different linear form")]
    Changed {
        /// Index of the step.
        step: usize,
    },
    /// The first step is not `a`.
    #[error("the first step does not denote the left-hand side")]
    Start,
    /// The last step is not `b`.
    #[error("the last step does not denote the right-hand side")]
    End,
}

/// Whether `steps` is a valid explanation of `a = b` (see
/// [`verify_explanation`]).
pub fn check_explanation(a: &Expr, b: &Expr, steps: &[String]) -> bool {
    verify_explanation(a, b, steps).is_ok()
}

/// Re-checks an explanation of `a = b` without egg (see the module docs).
pub fn verify_explanation(a: &Expr, b: &Expr, steps: &[String]) -> Result<(), ExplanationError> {
    if steps.is_empty() {
        return Err(ExplanationError::Empty);
    }
    let (fa, fb) = (Form::of(a), Form::of(b));
    let mut previous: Option<Sexp> = None;
    let mut last_form = None;
    for (step, text) in steps.iter().enumerate() {
        let syntax = |message: String| ExplanationError::Syntax { step, message };
        let annotated = Sexp::parse(text).map_err(syntax)?;
        let mut marks = Vec::new();
        let term = strip(&annotated, &mut Vec::new(), &mut marks).map_err(syntax)?;
        let form = term
            .form()
            .map_err(|t| ExplanationError::NotLinear { step, term: t })?;
        match &previous {
            None => {
                if !marks.is_empty() {
                    return Err(ExplanationError::Annotations {
                        step,
                        count: marks.len(),
                        expected: 0,
                    });
                }
                if form != fa {
                    return Err(ExplanationError::Start);
                }
            }
            Some(before) => {
                let [(path, name, forward)] = marks.as_slice() else {
                    return Err(ExplanationError::Annotations {
                        step,
                        count: marks.len(),
                        expected: 1,
                    });
                };
                let rule = rule_named(name).ok_or_else(|| ExplanationError::UnknownRule {
                    step,
                    rule: name.clone(),
                })?;
                let (old, new) = differ_only_at(before, &term, path)
                    .ok_or(ExplanationError::Context { step })?;
                let (from, to) = if *forward { (old, new) } else { (new, old) };
                if !is_instance(rule, from, to) {
                    return Err(ExplanationError::NotInstance {
                        step,
                        rule: name.clone(),
                    });
                }
                let not_linear = |t: String| ExplanationError::NotLinear { step, term: t };
                if old.form().map_err(not_linear)? != new.form().map_err(not_linear)? {
                    return Err(ExplanationError::Unsound {
                        step,
                        rule: name.clone(),
                    });
                }
                if form != fa {
                    return Err(ExplanationError::Changed { step });
                }
            }
        }
        previous = Some(term);
        last_form = Some(form);
    }
    if last_form != Some(fb) {
        return Err(ExplanationError::End);
    }
    Ok(())
}

/// A linear form, kept apart from [`Expr`] so the check does not share its
/// arithmetic with what produced the explanation: dimension → non-zero
/// coefficient, plus the constant.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Form {
    terms: BTreeMap<u32, Rational>,
    constant: Rational,
}

impl Form {
    fn constant(c: Rational) -> Form {
        Form {
            terms: BTreeMap::new(),
            constant: c,
        }
    }

    fn of(e: &Expr) -> Form {
        let mut f = Form::constant(e.constant_term().clone());
        for (d, c) in e.terms() {
            f.add_term(d.0, c.clone());
        }
        f
    }

    fn add_term(&mut self, d: u32, c: Rational) {
        let entry = self.terms.entry(d).or_insert_with(Rational::zero);
        *entry += c;
        if entry.is_zero() {
            self.terms.remove(&d);
        }
    }

    fn plus(mut self, other: Form) -> Form {
        for (d, c) in other.terms {
            self.add_term(d, c);
        }
        self.constant += other.constant;
        self
    }

    fn scaled(self, c: &Rational) -> Form {
        if c.is_zero() {
            return Form::constant(Rational::zero());
        }
        Form {
            terms: self.terms.into_iter().map(|(d, x)| (d, x * c)).collect(),
            constant: self.constant * c,
        }
    }

    fn as_constant(&self) -> Option<&Rational> {
        self.terms.is_empty().then_some(&self.constant)
    }
}

/// An s-expression: an atom or a parenthesised list.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Sexp {
    Atom(String),
    List(Vec<Sexp>),
}

impl std::fmt::Display for Sexp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sexp::Atom(a) => f.write_str(a),
            Sexp::List(items) => {
                f.write_str("(")?;
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{x}")?;
                }
                f.write_str(")")
            }
        }
    }
}

impl Sexp {
    /// Reads exactly one s-expression (atoms: runs of characters other than
    /// whitespace and parentheses; no quoting).
    fn parse(text: &str) -> Result<Sexp, String> {
        let mut stack: Vec<Vec<Sexp>> = Vec::new();
        let mut done: Option<Sexp> = None;
        let mut chars = text.char_indices().peekable();
        while let Some((i, ch)) = chars.next() {
            let item = match ch {
                c if c.is_whitespace() => continue,
                '(' => {
                    stack.push(Vec::new());
                    continue;
                }
                ')' => Sexp::List(
                    stack
                        .pop()
                        .ok_or_else(|| format!("unbalanced `)` at byte {i}"))?,
                ),
                '"' => return Err("quoted atoms are not part of the language".to_owned()),
                _ => {
                    let mut end = i + ch.len_utf8();
                    while let Some(&(j, c)) = chars.peek() {
                        if c.is_whitespace() || c == '(' || c == ')' || c == '"' {
                            break;
                        }
                        end = j + c.len_utf8();
                        chars.next();
                    }
                    Sexp::Atom(text[i..end].to_owned())
                }
            };
            match stack.last_mut() {
                Some(open) => open.push(item),
                None if done.is_none() => done = Some(item),
                None => return Err("more than one expression".to_owned()),
            }
        }
        if !stack.is_empty() {
            return Err("unbalanced `(`".to_owned());
        }
        done.ok_or_else(|| "empty step".to_owned())
    }

    /// The linear form, or the offending sub-term.
    fn form(&self) -> Result<Form, String> {
        let bad = || self.to_string();
        match self {
            Sexp::Atom(a) => {
                if let Ok(Scalar(c)) = a.parse::<Scalar>() {
                    Ok(Form::constant(c))
                } else if let Ok(DimLeaf(d)) = a.parse::<DimLeaf>() {
                    let mut f = Form::constant(Rational::zero());
                    f.add_term(d.0, Rational::one());
                    Ok(f)
                } else {
                    Err(bad())
                }
            }
            Sexp::List(items) => match items.as_slice() {
                [Sexp::Atom(op), x, y] if op == "+" => Ok(x.form()?.plus(y.form()?)),
                [Sexp::Atom(op), x, y] if op == "-" => Ok(x
                    .form()?
                    .plus(y.form()?.scaled(&Rational::from_integer((-1).into())))),
                [Sexp::Atom(op), x] if op == "neg" => {
                    Ok(x.form()?.scaled(&Rational::from_integer((-1).into())))
                }
                [Sexp::Atom(op), x, y] if op == "*" => {
                    // A zero factor annihilates even a non-linear other factor
                    // (as in `language::evaluate`).
                    let (x, y) = (x.form(), y.form());
                    let zero = |f: &Result<Form, String>| {
                        f.as_ref()
                            .ok()
                            .and_then(Form::as_constant)
                            .is_some_and(Zero::is_zero)
                    };
                    if zero(&x) || zero(&y) {
                        return Ok(Form::constant(Rational::zero()));
                    }
                    let (x, y) = (x?, y?);
                    match (x.as_constant(), y.as_constant()) {
                        (Some(c), _) => Ok(y.scaled(&c.clone())),
                        (_, Some(c)) => Ok(x.scaled(&c.clone())),
                        _ => Err(bad()),
                    }
                }
                _ => Err(bad()),
            },
        }
    }
}

/// A rewrite annotation: where (child indices from the root), which rule,
/// and whether the previous step was rewritten to this one (`Rewrite=>`) or
/// this one to the previous (`Rewrite<=`).
type Mark = (Vec<usize>, String, bool);

/// Removes `(Rewrite=> rule t)` / `(Rewrite<= rule t)` wrappers, recording
/// each one as a [`Mark`].
fn strip(s: &Sexp, path: &mut Vec<usize>, marks: &mut Vec<Mark>) -> Result<Sexp, String> {
    match s {
        Sexp::Atom(a) if a.starts_with("Rewrite") => Err(format!("misplaced `{a}`")),
        Sexp::Atom(_) => Ok(s.clone()),
        Sexp::List(items) => match items.as_slice() {
            [Sexp::Atom(head), Sexp::Atom(rule), inner]
                if head == "Rewrite=>" || head == "Rewrite<=" =>
            {
                marks.push((path.clone(), rule.clone(), head == "Rewrite=>"));
                strip(inner, path, marks)
            }
            [Sexp::Atom(op), args @ ..] => {
                let mut out = vec![Sexp::Atom(op.clone())];
                for (i, arg) in args.iter().enumerate() {
                    path.push(i);
                    out.push(strip(arg, path, marks)?);
                    path.pop();
                }
                Ok(Sexp::List(out))
            }
            _ => Err(format!("`{s}` is not an operator application")),
        },
    }
}

/// Whether `to` is `from` rewritten by `rule` at the root: `from` matches
/// the left-hand side, and `to` is the right-hand side under the same
/// bindings (for the folding rules: the exact sum or product of the two
/// constants).
fn is_instance(rule: &Rule, from: &Sexp, to: &Sexp) -> bool {
    let Ok(lhs) = Sexp::parse(rule.lhs) else {
        return false;
    };
    let mut bindings = BTreeMap::new();
    if !matches(&lhs, from, &mut bindings) {
        return false;
    }
    match rule.rhs {
        Rhs::Pattern(rhs) => {
            let Ok(rhs) = Sexp::parse(rhs) else {
                return false;
            };
            instantiate(&rhs, &bindings).is_some_and(|t| same(&t, to))
        }
        Rhs::Sum | Rhs::Product => {
            let constant = |v: &str| {
                bindings
                    .get(v)
                    .and_then(|t| t.form().ok())
                    .and_then(|f| f.as_constant().cloned())
            };
            let (Some(a), Some(b), Sexp::Atom(value)) = (constant("?a"), constant("?b"), to) else {
                return false;
            };
            let expected = if rule.rhs == Rhs::Sum { a + b } else { a * b };
            value.parse::<Scalar>().is_ok_and(|Scalar(v)| v == expected)
        }
    }
}

/// Matches a pattern (atoms starting with `?` are variables) against a term,
/// extending `bindings`; a variable seen twice must bind equal terms.
fn matches<'t>(pattern: &Sexp, term: &'t Sexp, bindings: &mut BTreeMap<String, &'t Sexp>) -> bool {
    match (pattern, term) {
        (Sexp::Atom(v), _) if v.starts_with('?') => match bindings.get(v) {
            Some(bound) => same(bound, term),
            None => {
                bindings.insert(v.clone(), term);
                true
            }
        },
        (Sexp::List(p), Sexp::List(t)) => {
            p.len() == t.len() && p.iter().zip(t).all(|(p, t)| matches(p, t, bindings))
        }
        _ => same(pattern, term),
    }
}

/// The pattern with its variables replaced by their bindings.
fn instantiate(pattern: &Sexp, bindings: &BTreeMap<String, &Sexp>) -> Option<Sexp> {
    match pattern {
        Sexp::Atom(v) if v.starts_with('?') => bindings.get(v).map(|t| (*t).clone()),
        Sexp::Atom(_) => Some(pattern.clone()),
        Sexp::List(items) => items
            .iter()
            .map(|p| instantiate(p, bindings))
            .collect::<Option<Vec<_>>>()
            .map(Sexp::List),
    }
}

/// Structural equality, with numeric atoms compared by value.
fn same(x: &Sexp, y: &Sexp) -> bool {
    match (x, y) {
        (Sexp::Atom(a), Sexp::Atom(b)) => {
            a == b || matches!((a.parse::<Scalar>(), b.parse::<Scalar>()), (Ok(p), Ok(q)) if p == q)
        }
        (Sexp::List(a), Sexp::List(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(p, q)| same(p, q))
        }
        _ => false,
    }
}

/// If `before` and `after` are equal except at `path`, the two sub-terms
/// found there.
fn differ_only_at<'a>(
    before: &'a Sexp,
    after: &'a Sexp,
    path: &[usize],
) -> Option<(&'a Sexp, &'a Sexp)> {
    let Some((&i, rest)) = path.split_first() else {
        return Some((before, after));
    };
    let (Sexp::List(x), Sexp::List(y)) = (before, after) else {
        return None;
    };
    if x.len() != y.len() || x.first() != y.first() || i + 1 >= x.len() {
        return None;
    }
    let same_elsewhere = x
        .iter()
        .zip(y)
        .enumerate()
        .all(|(j, (p, q))| j == i + 1 || p == q);
    if !same_elsewhere {
        return None;
    }
    differ_only_at(&x[i + 1], &y[i + 1], rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{Dim, int};

    fn term(s: &str) -> RecExpr<Linear> {
        s.parse().unwrap()
    }

    fn proven(a: &str, b: &str) -> Vec<String> {
        match equivalent_terms(&term(a), &term(b)).unwrap() {
            Equivalence::Proven { explanation } => {
                let (fa, fb) = (evaluate(&term(a)).unwrap(), evaluate(&term(b)).unwrap());
                assert_eq!(verify_explanation(&fa, &fb, &explanation), Ok(()));
                explanation
            }
            other => panic!("{a} = {b}: {other:?}"),
        }
    }

    fn d(i: u32) -> Expr {
        Expr::dim(Dim(i))
    }

    #[test]
    fn reordered_reassociated_distributed_and_scaled_sums_are_proven() {
        let steps = proven("(+ d2 d1)", "(+ d1 d2)");
        assert!(steps.len() >= 2);
        assert!(steps[1..].iter().all(|s| s.contains("Rewrite")));
        proven("(+ (+ d1 d2) d3)", "(+ d1 (+ d2 d3))");
        proven("(+ (+ d3 d1) (+ 4 d2))", "(+ d2 (+ 4 (+ d1 d3)))");
        proven("(* 2 (+ d1 d2))", "(+ (* 2 d1) (* 2 d2))");
        proven("(* 1/2 (* 4 d3))", "(* 2 d3)");
        proven("(- (* 3 d1) d1)", "(+ d1 d1)");
        proven("(+ d5 (neg d5))", "0");
        proven("(+ (* 1/3 d1) (+ 1 (* 2/3 d1)))", "(+ d1 1)");
        proven("(+ d1 (* 0 (* d1 d2)))", "d1");
        let (a, b) = (
            term("(+ (+ d3 d1) (+ 4 d2))"),
            term("(+ d2 (+ 4 (+ d1 d3)))"),
        );
        assert_eq!(
            equivalent_terms(&a, &b),
            equivalent_terms(&a, &b),
            "deterministic"
        );
    }

    #[test]
    fn equal_expressions_are_proven_and_different_ones_refuted() {
        let a = d(1) * 2 + d(3) - 1;
        match equivalent(&a, &a.clone()) {
            Equivalence::Proven { explanation } => {
                assert_eq!(explanation, vec![to_term(&a).to_string()])
            }
            other => panic!("{other:?}"),
        }
        let b = d(1) * 3 + d(3) - 1;
        assert_eq!(
            equivalent(&a, &b),
            Equivalence::Refuted {
                difference: d(1) * -1
            }
        );
        assert!(!check_explanation(&a, &b, &[to_term(&a).to_string()]));
    }

    #[test]
    fn off_by_a_coefficient_or_the_constant_is_refuted_exactly() {
        let verdict =
            equivalent_terms(&term("(+ (* 2 d1) d2)"), &term("(+ d2 (+ d1 d1 ))")).unwrap();
        assert!(verdict.is_proven());
        let verdict =
            equivalent_terms(&term("(+ (* 2 d1) d2)"), &term("(+ d2 (+ d1 (* 1/2 d1)))")).unwrap();
        let half = Rational::new(1.into(), 2.into());
        assert_eq!(
            verdict,
            Equivalence::Refuted {
                difference: &d(1) * &half
            }
        );
        let verdict = equivalent_terms(&term("(+ (+ d1 d2) 3)"), &term("(+ d2 (+ d1 4))")).unwrap();
        assert_eq!(
            verdict,
            Equivalence::Refuted {
                difference: Expr::int(-1)
            }
        );
        assert_eq!(
            equivalent_terms(&term("(* d1 d2)"), &term("d1"))
                .err()
                .map(|e| e.to_string()),
            Some("`(* d1 d2)` is not linear: both factors of a product vary".to_owned())
        );
    }

    #[test]
    fn a_tiny_budget_is_inconclusive_never_proven() {
        let tiny = Budget {
            iterations: 1,
            nodes: 1_000,
        };
        let verdict = equivalent_terms_with(
            &term("(+ (+ (+ (+ (* 2 d3) d2) (* 2 d1)) d4) (- d5 d3))"),
            &term("(+ (* 2 d1) (+ d2 (+ d3 (+ d4 d5))))"),
            tiny,
        )
        .unwrap();
        assert!(
            matches!(verdict, Equivalence::Inconclusive { .. }),
            "{verdict:?}"
        );
    }

    #[test]
    fn tampered_explanations_are_rejected() {
        let (a, b) = ("(+ (* 3 d1) (+ d2 (* -1 d1)))", "(+ (* 2 d1) d2)");
        let steps = proven(a, b);
        let (fa, fb) = (evaluate(&term(a)).unwrap(), evaluate(&term(b)).unwrap());
        assert!(check_explanation(&fa, &fb, &steps));
        // Change one number in one step.
        let i = steps
            .iter()
            .position(|s| s.contains(" 3 ") || s.contains("(* 3"))
            .unwrap();
        let mut bad = steps.clone();
        bad[i] = bad[i].replacen('3', "4", 1);
        assert!(!check_explanation(&fa, &fb, &bad));
        // Drop a middle step, swap two, forge a rule name, claim other ends.
        if steps.len() > 2 {
            let mut bad = steps.clone();
            bad.remove(1);
            assert!(!check_explanation(&fa, &fb, &bad));
            let mut bad = steps.clone();
            bad.swap(1, 2);
            assert!(!check_explanation(&fa, &fb, &bad));
        }
        let mut bad = steps.clone();
        let rule = crate::rewrite::RULES
            .iter()
            .map(|r| r.name)
            .find(|r| bad[1].contains(*r))
            .unwrap();
        bad[1] = bad[1].replacen(rule, "trust-me", 1);
        assert!(matches!(
            verify_explanation(&fa, &fb, &bad),
            Err(ExplanationError::UnknownRule { .. })
        ));
        let other = &fa + &Expr::int(1);
        assert_eq!(
            verify_explanation(&other, &fb, &steps),
            Err(ExplanationError::Start)
        );
        assert_eq!(
            verify_explanation(&fa, &other, &steps),
            Err(ExplanationError::End)
        );
        assert_eq!(
            verify_explanation(&fa, &fb, &[]),
            Err(ExplanationError::Empty)
        );
    }

    #[test]
    fn steps_must_be_local_instances_of_their_rules() {
        let a = d(1) + d(2);
        // Both steps denote d1 + d2, but the second rewrote two places.
        let steps = [
            "(+ d1 d2)".to_owned(),
            "(Rewrite=> add-comm (+ d2 d1))".to_owned(),
        ];
        assert!(check_explanation(&a, &a, &steps));
        let steps = [
            "(+ (+ d1 0) (+ d2 0))".to_owned(),
            "(+ (Rewrite=> add-zero d1) d2)".to_owned(),
        ];
        assert_eq!(
            verify_explanation(&a, &a, &steps),
            Err(ExplanationError::Context { step: 1 })
        );
        // Sound, local, but not what the named rule does.
        let steps = [
            "(+ d1 d2)".to_owned(),
            "(Rewrite=> add-assoc (+ d2 d1))".to_owned(),
        ];
        assert!(matches!(
            verify_explanation(&a, &a, &steps),
            Err(ExplanationError::NotInstance { .. })
        ));
        // Backwards annotation: the current term rewrites to the previous one.
        let steps = [
            "(+ d1 d2)".to_owned(),
            "(+ (Rewrite<= mul-one (* 1 d1)) d2)".to_owned(),
        ];
        assert!(check_explanation(&a, &a, &steps));
        let steps = [
            "(+ d1 d2)".to_owned(),
            "(+ (Rewrite=> mul-one (* 1 d1)) d2)".to_owned(),
        ];
        assert!(matches!(
            verify_explanation(&a, &a, &steps),
            Err(ExplanationError::NotInstance { .. })
        ));
        // A wrong folded value.
        let three = int_expr(3);
        let steps = ["(+ 1 2)".to_owned(), "(Rewrite=> fold-add 3)".to_owned()];
        assert!(check_explanation(&three, &three, &steps));
        let steps = ["(+ 1 2)".to_owned(), "(Rewrite=> fold-add 4)".to_owned()];
        assert!(matches!(
            verify_explanation(&three, &int_expr(4), &steps),
            Err(ExplanationError::NotInstance { .. })
        ));
        assert!(matches!(
            verify_explanation(&a, &a, &["(+ d1 d2".to_owned()]),
            Err(ExplanationError::Syntax { .. })
        ));
        assert!(matches!(
            verify_explanation(&int_expr(0), &int_expr(0), &["(* d1 d1)".to_owned()]),
            Err(ExplanationError::NotLinear { .. })
        ));
    }

    fn int_expr(v: i64) -> Expr {
        Expr::constant(int(v))
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::rewrite::testing::{choices, expr, nonzero, present};
    use proptest::prelude::*;

    fn parse(text: &str) -> Result<RecExpr<Linear>, TestCaseError> {
        text.parse()
            .map_err(|e| TestCaseError::fail(format!("{text}: {e:?}")))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Two presentations of one form are proven equal, with an
        /// explanation that re-checks; a perturbed one is refuted with the
        /// exact difference.
        #[test]
        fn presentations_are_proven_and_perturbations_refuted(
            e in expr(),
            first in choices(),
            second in choices(),
            dim in 0u32..8,
            delta in nonzero(),
        ) {
            let (a, b) = (parse(&present(&e, &first))?, parse(&present(&e, &second))?);
            match equivalent_terms(&a, &b) {
                Ok(Equivalence::Proven { explanation }) => {
                    prop_assert!(check_explanation(&e, &e, &explanation));
                }
                other => prop_assert!(false, "{} = {}: {:?}", a, b, other),
            }
            let shifted = e.clone() + Expr::from_terms([(crate::expr::Dim(dim), delta)], Rational::zero());
            let c = parse(&present(&shifted, &second))?;
            prop_assert_eq!(equivalent_terms(&a, &c), Ok(Equivalence::Refuted { difference: &e - &shifted }));
            prop_assert_eq!(equivalent(&e, &shifted), Equivalence::Refuted { difference: &e - &shifted });
        }
    }
}
