//! The rewrite rules that normalise linear forms.
//!
//! [`RULES`] is the rule table: each rule is named (the names appear in
//! e-graph explanations) and is an identity of linear forms, `lhs = rhs`,
//! valid for all values of its variables. A rule's *guard* only restricts
//! where the e-graph applies it; it never matters for soundness, which is
//! why [`crate::equivalence`] can re-check explanations from the table alone.
//!
//! | rule | rewrite | applied when |
//! |---|---|---|
//! | `sub-to-add` | `(- a b) → (+ a (* -1 b))` | always |
//! | `neg-to-mul` | `(neg a) → (* -1 a)` | always |
//! | `scalar-left` | `(* a c) → (* c a)` | `c` constant, `a` not |
//! | `distribute` | `(* c (+ a b)) → (+ (* c a) (* c b))` | `c ∉ {0,1}` constant, `(+ a b)` sorted |
//! | `scalar-fold` | `(* c (* d x)) → (* (* c d) x)` | `c ∉ {0,1}`, `d` constant, `x` not |
//! | `add-assoc` | `(+ (+ a b) c) → (+ a (+ b c))` | `(+ a b)` sorted |
//! | `add-comm` | `(+ a b) → (+ b a)` | `b` sorts before `a` |
//! | `add-left-comm` | `(+ a (+ b c)) → (+ b (+ a c))` | `b` sorts before `a`, `(+ b c)` sorted |
//! | `unit` | `x → (* 1 x)` | `x` a dimension |
//! | `collect` | `(+ (* c x) (* d x)) → (* (+ c d) x)` | `c`, `d` constant, `x` a dimension |
//! | `collect-left` | `(+ (* c x) (+ (* d x) r)) → (+ (* (+ c d) x) r)` | same, `d ≠ 0`, `(+ (* d x) r)` sorted |
//! | `mul-zero` | `(* 0 x) → 0` | always |
//! | `mul-one` | `(* 1 x) → x` | always |
//! | `add-zero` | `(+ x 0) → x` | `x` a monomial |
//! | `fold-add` | `(+ a b) → a+b` | `a`, `b` constant (exact) |
//! | `fold-mul` | `(* a b) → a·b` | `a`, `b` constant (exact) |
//!
//! The target is the canonical term of [`crate::language`]: a right-nested
//! sum of monomials `c·dK` in increasing dimension order, constant last.
//! Whether a class is a monomial, a constant or neither is read from its
//! linear form ([`LinearAnalysis`]). "Sorts before" orders monomials by
//! dimension, constants last, and also moves a monomial in front of a sum
//! of several terms. A sum `(+ a b)` is *sorted* when `a` is a monomial
//! whose dimension precedes every dimension of `b` and `b ≠ 0` — the shape
//! of a node of a canonical sum.
//!
//! Why the guards. Unrestricted commutativity and associativity make an
//! e-graph hold every bracketing of every permutation of a sum (exponential
//! in its length); ordered, they perform an insertion sort: an `n`-term sum
//! takes O(n) rounds and O(n²) e-classes. The e-graph also holds cycles
//! that a term rewriting system never sees: every monomial class contains
//! `x + 0` once `add-zero` fired, the class of `0` contains every `t − t`,
//! and after `collect` a class may contain a sum of itself (`d = −¼·d +
//! 5/4·d`). Re-bracketing, distributing or collecting through such nodes
//! generates new classes (new coefficients, new constants) without end. So
//! re-bracketing and distribution only descend into *sorted* sums, whose
//! parts have fewer terms; collection only gathers dimension leaves; and
//! constants are left to the folding rules, which create no new classes.
//! Every run then saturates (the property tests check it, and that the
//! saturated graph holds the canonical term).
//!
//! [`normalise`] runs the rules on a term and extracts the canonical term
//! with a cost function that charges every non-canonical node, then reads it
//! back with [`from_canonical`] — structurally, so an incomplete rewrite is
//! an error, never a silently wrong answer.

use crate::expr::{Dim, Expr};
use crate::language::{
    Linear, LinearAnalysis, LinearGraph, Scalar, TermError, class_constant, class_form, evaluate,
    from_canonical, to_term,
};
use egg::{
    Applier, Condition, ConditionalApplier, CostFunction, ENodeOrVar, Extractor, Id, Language as _,
    Pattern, PatternAst, RecExpr, Rewrite, Runner, SimpleScheduler, Subst, Symbol, Var,
};
use num_traits::{One, Zero};
use std::sync::LazyLock;
use std::time::Duration;

/// A rewrite rule over [`Linear`].
pub type LinearRewrite = Rewrite<Linear, LinearAnalysis>;

/// A rule's right-hand side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rhs {
    /// A pattern over the left-hand side's variables.
    Pattern(&'static str),
    /// The exact sum of the constants `?a` and `?b`.
    Sum,
    /// The exact product of the constants `?a` and `?b`.
    Product,
}

/// Where the e-graph applies a rule (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Guard {
    Always,
    ScalarOnRight,
    Distribute,
    ScalarFold,
    Assoc,
    Comm,
    LeftComm,
    Dimension,
    Collect,
    CollectLeft,
    Monomial,
    Constants,
}

/// One rewrite rule: `lhs = rhs` over `?`-variables.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    /// The name explanations cite.
    pub name: &'static str,
    /// The left-hand side, an s-expression pattern.
    pub lhs: &'static str,
    /// The right-hand side.
    pub rhs: Rhs,
    guard: Guard,
}

const fn rule(name: &'static str, lhs: &'static str, rhs: &'static str, guard: Guard) -> Rule {
    Rule {
        name,
        lhs,
        rhs: Rhs::Pattern(rhs),
        guard,
    }
}

/// The rule table, in application order.
#[rustfmt::skip]
pub const RULES: [Rule; 16] = [
    rule("sub-to-add",    "(- ?a ?b)",                      "(+ ?a (* -1 ?b))",          Guard::Always),
    rule("neg-to-mul",    "(neg ?a)",                       "(* -1 ?a)",                 Guard::Always),
    rule("scalar-left",   "(* ?a ?c)",                      "(* ?c ?a)",                 Guard::ScalarOnRight),
    rule("distribute",    "(* ?c (+ ?a ?b))",               "(+ (* ?c ?a) (* ?c ?b))",   Guard::Distribute),
    rule("scalar-fold",   "(* ?c (* ?d ?x))",               "(* (* ?c ?d) ?x)",          Guard::ScalarFold),
    rule("add-assoc",     "(+ (+ ?a ?b) ?c)",               "(+ ?a (+ ?b ?c))",          Guard::Assoc),
    rule("add-comm",      "(+ ?a ?b)",                      "(+ ?b ?a)",                 Guard::Comm),
    rule("add-left-comm", "(+ ?a (+ ?b ?c))",               "(+ ?b (+ ?a ?c))",          Guard::LeftComm),
    rule("unit",          "?x",                             "(* 1 ?x)",                  Guard::Dimension),
    rule("collect",       "(+ (* ?c ?x) (* ?d ?x))",        "(* (+ ?c ?d) ?x)",          Guard::Collect),
    rule("collect-left",  "(+ (* ?c ?x) (+ (* ?d ?x) ?r))", "(+ (* (+ ?c ?d) ?x) ?r)",   Guard::CollectLeft),
    rule("mul-zero",      "(* 0 ?x)",                       "0",                         Guard::Always),
    rule("mul-one",       "(* 1 ?x)",                       "?x",                        Guard::Always),
    rule("add-zero",      "(+ ?x 0)",                       "?x",                        Guard::Monomial),
    Rule { name: "fold-add", lhs: "(+ ?a ?b)", rhs: Rhs::Sum,     guard: Guard::Constants },
    Rule { name: "fold-mul", lhs: "(* ?a ?b)", rhs: Rhs::Product, guard: Guard::Constants },
];

/// The rule with this name.
pub fn rule_named(name: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.name == name)
}

/// How much work the e-graph may do before giving up. Only iteration and
/// e-node limits: no wall-clock limit, so results are deterministic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Rule-application rounds.
    pub iterations: usize,
    /// E-nodes.
    pub nodes: usize,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget {
            iterations: 1_000,
            nodes: 200_000,
        }
    }
}

/// Why [`normalise`] failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NormaliseError {
    /// The input term is malformed or not linear.
    #[error(transparent)]
    Term(#[from] TermError),
    /// The rules stopped before reaching the canonical term.
    #[error("the rules stopped ({stop}) before reaching the canonical term; best term: {best}")]
    Incomplete {
        /// Why the e-graph stopped.
        stop: String,
        /// The cheapest term extracted.
        best: String,
    },
    /// Two classes with different linear forms were merged: a rule is unsound.
    #[error("{0} e-class merges joined different linear forms: a rewrite rule is unsound")]
    Unsound(usize),
}

/// Where a summand goes in a sorted sum: monomials by dimension, then
/// constants. `None` for a form with several terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    Term(Dim),
    Constant,
}

fn class_rank(egraph: &LinearGraph, id: Id) -> Option<Rank> {
    let form = class_form(egraph, id)?;
    match form.terms() {
        [] => Some(Rank::Constant),
        [(d, _)] if form.constant_term().is_zero() => Some(Rank::Term(*d)),
        _ => None,
    }
}

/// Every dimension of `rest` comes after `d`, and `rest ≠ 0`: then
/// `c·d + rest` is sorted for any `c ≠ 0`.
fn comes_after(d: Dim, rest: &Expr) -> bool {
    match rest.terms().first() {
        Some((first, _)) => *first > d,
        None => !rest.constant_term().is_zero(),
    }
}

/// `(+ a b)` has the shape of a canonical sum (see the module docs).
fn is_sorted_pair(egraph: &LinearGraph, a: Id, b: Id) -> bool {
    match (class_rank(egraph, a), class_form(egraph, b)) {
        (Some(Rank::Term(d)), Some(rest)) => comes_after(d, rest),
        _ => false,
    }
}

/// `x` is a dimension class and `r` comes after its dimension.
fn dim_sorts_before(egraph: &LinearGraph, x: Id, r: Id) -> bool {
    let dim = egraph[x].nodes.iter().find_map(|n| match n {
        Linear::Dim(d) => Some(d.0),
        _ => None,
    });
    match (dim, class_form(egraph, r)) {
        (Some(d), Some(rest)) => comes_after(d, rest),
        _ => false,
    }
}

fn has_dim_leaf(egraph: &LinearGraph, id: Id) -> bool {
    egraph[id].nodes.iter().any(|n| matches!(n, Linear::Dim(_)))
}

fn is_constant(egraph: &LinearGraph, id: Id) -> bool {
    class_constant(egraph, id).is_some()
}

/// A constant other than 0 and 1 (those have their own rules).
fn is_scaling(egraph: &LinearGraph, id: Id) -> bool {
    class_constant(egraph, id).is_some_and(|c| !c.is_zero() && !c.is_one())
}

/// `b` sorts strictly before `a`.
fn sorts_before(egraph: &LinearGraph, b: Id, a: Id) -> bool {
    matches!((class_rank(egraph, b), class_rank(egraph, a)), (Some(rb), Some(ra)) if rb < ra)
}

/// The pattern variables, parsed once.
struct Vars {
    a: Var,
    b: Var,
    c: Var,
    d: Var,
    x: Var,
    r: Var,
}

static VARS: LazyLock<Vars> = LazyLock::new(|| {
    let v = |s: &str| {
        s.parse::<Var>()
            .unwrap_or_else(|_| unreachable!("`{s}` is a variable"))
    };
    Vars {
        a: v("?a"),
        b: v("?b"),
        c: v("?c"),
        d: v("?d"),
        x: v("?x"),
        r: v("?r"),
    }
});

impl Condition<Linear, LinearAnalysis> for Guard {
    fn check(&self, egraph: &mut LinearGraph, _eclass: Id, subst: &Subst) -> bool {
        let g = &*egraph;
        let v = &*VARS;
        let id = |var: Var| subst.get(var).copied();
        let all = |vars: &[Var], p: &dyn Fn(Id) -> bool| vars.iter().all(|&w| id(w).is_some_and(p));
        match self {
            Guard::Always => true,
            Guard::ScalarOnRight => {
                all(&[v.c], &|i| is_constant(g, i)) && all(&[v.a], &|i| !is_constant(g, i))
            }
            Guard::Distribute => {
                all(&[v.c], &|i| is_scaling(g, i))
                    && matches!((id(v.a), id(v.b)), (Some(a), Some(b)) if is_sorted_pair(g, a, b))
            }
            Guard::ScalarFold => {
                all(&[v.c], &|i| is_scaling(g, i))
                    && all(&[v.d], &|i| is_constant(g, i))
                    && all(&[v.x], &|i| !is_constant(g, i))
            }
            Guard::Assoc => {
                matches!((id(v.a), id(v.b)), (Some(a), Some(b)) if is_sorted_pair(g, a, b))
            }
            Guard::Comm => match (id(v.b), id(v.a)) {
                (Some(b), Some(a)) => {
                    sorts_before(g, b, a)
                        || (matches!(class_rank(g, b), Some(Rank::Term(_)))
                            && class_rank(g, a).is_none())
                }
                _ => false,
            },
            Guard::LeftComm => match (id(v.a), id(v.b), id(v.c)) {
                (Some(a), Some(b), Some(c)) => sorts_before(g, b, a) && is_sorted_pair(g, b, c),
                _ => false,
            },
            Guard::Dimension => all(&[v.x], &|i| has_dim_leaf(g, i)),
            Guard::Collect => {
                all(&[v.c, v.d], &|i| is_constant(g, i)) && all(&[v.x], &|i| has_dim_leaf(g, i))
            }
            Guard::CollectLeft => {
                all(&[v.c], &|i| is_constant(g, i))
                    && all(&[v.d], &|i| {
                        class_constant(g, i).is_some_and(|d| !d.is_zero())
                    })
                    && matches!((id(v.x), id(v.r)), (Some(x), Some(r)) if dim_sorts_before(g, x, r))
            }
            Guard::Monomial => all(&[v.x], &|i| matches!(class_rank(g, i), Some(Rank::Term(_)))),
            Guard::Constants => all(&[v.a, v.b], &|i| is_constant(g, i)),
        }
    }
}

/// Constant folding: replaces `(op ?a ?b)`, both constant, by the exact
/// value (unions the match with a new constant leaf).
#[derive(Clone, Copy, Debug)]
struct Fold {
    multiply: bool,
}

impl Applier<Linear, LinearAnalysis> for Fold {
    fn apply_one(
        &self,
        egraph: &mut LinearGraph,
        eclass: Id,
        subst: &Subst,
        searcher_ast: Option<&PatternAst<Linear>>,
        rule_name: Symbol,
    ) -> Vec<Id> {
        let constant = |var: Var| subst.get(var).and_then(|&i| class_constant(egraph, i));
        let (Some(a), Some(b)) = (constant(VARS.a), constant(VARS.b)) else {
            return vec![];
        };
        let node = Linear::Num(Scalar(if self.multiply { a * b } else { a + b }));
        let (id, changed) = match searcher_ast {
            Some(ast) => {
                let rhs: PatternAst<Linear> = RecExpr::from(vec![ENodeOrVar::ENode(node)]);
                egraph.union_instantiations(ast, &rhs, subst, rule_name)
            }
            None => {
                let id = egraph.add(node);
                (eclass, egraph.union(eclass, id))
            }
        };
        if changed { vec![id] } else { vec![] }
    }

    fn vars(&self) -> Vec<Var> {
        vec![VARS.a, VARS.b]
    }
}

fn to_rewrite(rule: &Rule) -> Result<LinearRewrite, String> {
    let lhs: Pattern<Linear> = rule
        .lhs
        .parse()
        .map_err(|e| format!("{}: {e}", rule.name))?;
    match rule.rhs {
        Rhs::Pattern(rhs) => {
            let rhs: Pattern<Linear> = rhs.parse().map_err(|e| format!("{}: {e}", rule.name))?;
            Rewrite::new(
                rule.name,
                lhs,
                ConditionalApplier {
                    condition: rule.guard,
                    applier: rhs,
                },
            )
        }
        Rhs::Sum | Rhs::Product => {
            let fold = Fold {
                multiply: rule.rhs == Rhs::Product,
            };
            Rewrite::new(
                rule.name,
                lhs,
                ConditionalApplier {
                    condition: rule.guard,
                    applier: fold,
                },
            )
        }
    }
}

static REWRITES: LazyLock<Vec<LinearRewrite>> = LazyLock::new(|| {
    RULES
        .iter()
        .map(|r| {
            to_rewrite(r).unwrap_or_else(|e| unreachable!("the rule table is well-formed: {e}"))
        })
        .collect()
});

/// The rules of [`RULES`] as egg rewrites, in the same order.
pub fn rules() -> &'static [LinearRewrite] {
    &REWRITES
}

/// A runner with the budget's limits, no time limit, and the simple
/// scheduler (every rule applied to every match, every round).
pub(crate) fn runner(budget: Budget) -> Runner<Linear, LinearAnalysis> {
    Runner::new(LinearAnalysis::default())
        .with_iter_limit(budget.iterations)
        .with_node_limit(budget.nodes)
        .with_time_limit(Duration::MAX)
        .with_scheduler(SimpleScheduler)
}

/// Extraction cost: `(non-canonical nodes, size)`, compared in that order.
/// A node is canonical when it has the shape of a node of a canonical term
/// given its children's linear forms (read from the analysis); the only
/// term of cost `(0, _)` in a class is the canonical term of its form.
struct CanonicalCost<'a> {
    egraph: &'a LinearGraph,
}

impl CostFunction<Linear> for CanonicalCost<'_> {
    type Cost = (u64, u64);

    fn cost<C>(&mut self, enode: &Linear, mut costs: C) -> (u64, u64)
    where
        C: FnMut(Id) -> (u64, u64),
    {
        let g = self.egraph;
        let canonical = match enode {
            Linear::Num(_) | Linear::Dim(_) => true,
            Linear::Sub(_) | Linear::Neg(_) => false,
            Linear::Mul([c, x]) => is_scaling(g, *c) && has_dim_leaf(g, *x),
            Linear::Add([a, b]) => is_sorted_pair(g, *a, *b),
        };
        enode
            .children()
            .iter()
            .fold((u64::from(!canonical), 1), |(p, s), c| {
                let (cp, cs) = costs(*c);
                (p.saturating_add(cp), s.saturating_add(cs))
            })
    }
}

/// The cheapest term of class `id` under the canonical cost.
fn extract(egraph: &LinearGraph, id: Id) -> RecExpr<Linear> {
    Extractor::new(egraph, CanonicalCost { egraph })
        .find_best(id)
        .1
}

/// Normalises a linear term with the rules (default [`Budget`]).
pub fn normalise(term: &RecExpr<Linear>) -> Result<Expr, NormaliseError> {
    normalise_with(term, Budget::default())
}

/// Normalises a linear term: adds it to an e-graph, runs the rules,
/// extracts the canonical term and reads it back structurally.
pub fn normalise_with(term: &RecExpr<Linear>, budget: Budget) -> Result<Expr, NormaliseError> {
    evaluate(term)?;
    let runner = runner(budget).with_expr(term).run(rules());
    if runner.egraph.analysis.conflicts > 0 {
        return Err(NormaliseError::Unsound(runner.egraph.analysis.conflicts));
    }
    let best = extract(&runner.egraph, runner.roots[0]);
    from_canonical(&best).map_err(|_| NormaliseError::Incomplete {
        stop: runner
            .stop_reason
            .as_ref()
            .map_or_else(|| "not run".to_owned(), |r| format!("{r:?}")),
        best: best.to_string(),
    })
}

/// The canonical form of `e`, computed by the e-graph: `e` is written as a
/// term, rewritten and extracted. For a valid `Expr` this is `e` itself;
/// should the e-graph ever fail on it (a bug), `e` is returned unchanged
/// rather than a wrong form (use [`normalise`] to see the error).
pub fn canonical(e: &Expr) -> Expr {
    normalise(&to_term(e)).unwrap_or_else(|_| e.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::Rational;
    use num_bigint::BigInt;

    fn norm(s: &str) -> Result<Expr, NormaliseError> {
        normalise(&s.parse().unwrap())
    }

    fn d(i: u32) -> Expr {
        Expr::dim(Dim(i))
    }

    #[test]
    fn the_table_builds_and_names_are_unique() {
        let names: Vec<String> = rules().iter().map(|r| r.name.to_string()).collect();
        let table: Vec<&str> = RULES.iter().map(|r| r.name).collect();
        assert_eq!(names, table);
        let mut sorted = table.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), RULES.len());
        assert_eq!(rule_named("add-comm").map(|r| r.lhs), Some("(+ ?a ?b)"));
        assert!(rule_named("nope").is_none());
    }

    #[test]
    fn each_rule_does_its_job() {
        let half = Rational::new(BigInt::from(1), BigInt::from(2));
        assert_eq!(norm("(- d1 d2)"), Ok(d(1) - d(2)));
        assert_eq!(norm("(neg d3)"), Ok(d(3) * -1));
        assert_eq!(norm("(* d3 2)"), Ok(d(3) * 2));
        assert_eq!(norm("(* 2 (+ d1 (+ d2 1)))"), Ok(d(1) * 2 + d(2) * 2 + 2));
        assert_eq!(norm("(* 1/2 (* 4 d5))"), Ok(d(5) * 2));
        assert_eq!(norm("(+ (+ d3 d2) d1)"), Ok(d(1) + d(2) + d(3)));
        assert_eq!(norm("(+ d1 (+ (* 3 d1) d1))"), Ok(d(1) * 5));
        assert_eq!(norm("(+ (* 0 d1) d2)"), Ok(d(2)));
        assert_eq!(norm("(+ d2 (* 0 d2))"), Ok(d(2)));
        assert_eq!(norm("(+ d1 (neg d1))"), Ok(Expr::zero()));
        assert_eq!(norm("(+ 1/2 (* 3 1/2))"), Ok(Expr::int(2)));
        assert_eq!(norm("(* 1/2 d4)"), Ok(&d(4) * &half));
        assert_eq!(norm("(+ 7 (+ d9 (+ -7 d0)))"), Ok(d(0) + d(9)));
        assert_eq!(norm("(- (* 2 (+ d1 3)) (+ d1 (+ d1 6)))"), Ok(Expr::zero()));
        assert_eq!(norm("(+ (+ d1 3) (+ (* -1 d1) -3))"), Ok(Expr::zero()));
        assert_eq!(
            norm("(+ (+ d1 0) (+ 0 (+ d2 (+ 0 d3))))"),
            Ok(d(1) + d(2) + d(3))
        );
        assert_eq!(norm("(* 0 (* d1 d2))"), Ok(Expr::zero()));
        assert!(matches!(
            norm("(* d1 (+ d2 1))"),
            Err(NormaliseError::Term(TermError::NotLinear(_)))
        ));
        assert_eq!(canonical(&(d(4) * 3 + d(1) - 2)), d(1) + d(4) * 3 - 2);
    }

    #[test]
    fn long_sums_sort_without_blowing_up() {
        // 60 summands, left-nested in reverse order, with duplicates to collect.
        let mut s = String::from("0");
        let mut expected = Expr::zero();
        for i in (0..60u32).rev() {
            let c = i64::from(i % 7) - 3;
            s = format!("(+ {s} (* {c} d{}))", i / 2);
            expected = expected + d(i / 2) * c;
        }
        assert_eq!(norm(&s), Ok(expected));
    }

    #[test]
    fn a_tiny_budget_is_an_error_not_a_wrong_answer() {
        let tiny = Budget {
            iterations: 1,
            nodes: 10_000,
        };
        let t = "(+ (+ (+ (+ (* 2 d3) d2) (* 2 d1)) d4) (- d5 d3))"
            .parse()
            .unwrap();
        assert!(matches!(
            normalise_with(&t, tiny),
            Err(NormaliseError::Incomplete { .. })
        ));
    }
}

/// Random linear expressions and random terms presenting them, for the
/// property tests here and in [`crate::equivalence`].
#[cfg(test)]
pub(crate) mod testing {
    use crate::expr::{Dim, Expr, Rational};
    use num_bigint::BigInt;
    use num_traits::{One, Zero};
    use proptest::prelude::*;

    /// A small rational `n/d`, `n ∈ [-6, 6]`, `d ∈ [1, 4]`.
    pub fn rational() -> impl Strategy<Value = Rational> {
        (-6i64..=6, 1i64..=4).prop_map(|(n, d)| Rational::new(BigInt::from(n), BigInt::from(d)))
    }

    /// A non-zero small rational.
    pub fn nonzero() -> impl Strategy<Value = Rational> {
        rational().prop_filter("non-zero", |r| !r.is_zero())
    }

    /// An expression over `d0..d7` with up to 7 terms.
    pub fn expr() -> impl Strategy<Value = Expr> {
        (
            prop::collection::vec((0u32..8, nonzero()), 0..7),
            rational(),
        )
            .prop_map(|(terms, c)| Expr::from_terms(terms.into_iter().map(|(d, c)| (Dim(d), c)), c))
    }

    /// A random term tree and its value computed with expr.rs's operators.
    pub fn tree() -> impl Strategy<Value = (String, Expr)> {
        let leaf = prop_oneof![
            (0u32..6).prop_map(|d| (format!("d{d}"), Expr::dim(Dim(d)))),
            (-4i64..=4).prop_map(|c| (c.to_string(), Expr::int(c))),
        ];
        leaf.prop_recursive(5, 48, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone())
                    .prop_map(|((a, x), (b, y))| (format!("(+ {a} {b})"), x + y)),
                (inner.clone(), inner.clone())
                    .prop_map(|((a, x), (b, y))| (format!("(- {a} {b})"), x - y)),
                inner.clone().prop_map(|(a, x)| (format!("(neg {a})"), -x)),
                (rational(), inner.clone())
                    .prop_map(|(c, (a, x))| (format!("(* {c} {a})"), &x * &c)),
                (inner, -3i64..=3).prop_map(|((a, x), c)| (format!("(* {a} {c})"), x * c)),
            ]
        })
    }

    /// The random choices behind one presentation.
    #[derive(Clone, Debug)]
    pub struct Choices {
        styles: Vec<u8>,
        splits: Vec<Rational>,
        nesting: Vec<u32>,
        shuffle: u64,
        scale: Option<Rational>,
    }

    pub fn choices() -> impl Strategy<Value = Choices> {
        (
            prop::collection::vec(0u8..6, 16),
            prop::collection::vec(rational(), 16),
            prop::collection::vec(any::<u32>(), 32),
            any::<u64>(),
            prop::option::of(nonzero()),
        )
            .prop_map(|(styles, splits, nesting, shuffle, scale)| Choices {
                styles,
                splits,
                nesting,
                shuffle,
                scale,
            })
    }

    fn monomial(c: &Rational, d: Dim, style: u8) -> String {
        match style % 3 {
            _ if c.is_one() && style.is_multiple_of(2) => format!("d{}", d.0),
            0 => format!("(* {c} d{})", d.0),
            1 => format!("(neg (* {} d{}))", -c, d.0),
            _ => format!("(- 0 (* {} d{}))", -c, d.0),
        }
    }

    fn nest(items: &[String], choices: &mut impl Iterator<Item = u32>) -> String {
        match items {
            [] => "0".to_owned(),
            [one] => one.clone(),
            _ => {
                let k = 1 + choices.next().unwrap_or(0) as usize % (items.len() - 1);
                let (l, r) = items.split_at(k);
                format!("(+ {} {})", nest(l, choices), nest(r, choices))
            }
        }
    }

    /// A term denoting `e`: its monomials written in varied styles, some
    /// split in two (`c = s + (c − s)`), a `0·d` thrown in, shuffled,
    /// bracketed at random, and optionally the whole scaled: `k · (e / k)`.
    pub fn present(e: &Expr, ch: &Choices) -> String {
        let inner = match &ch.scale {
            Some(k) => e.scale(&(Rational::one() / k)),
            None => e.clone(),
        };
        let mut style = ch.styles.iter().copied().cycle();
        let mut split = ch.splits.iter().cycle();
        let mut items = Vec::new();
        for (d, c) in inner.terms() {
            let s = style.next().unwrap_or(0);
            if s == 5 {
                let part = split.next().cloned().unwrap_or_else(Rational::zero);
                items.push(monomial(&part, *d, s));
                items.push(monomial(&(c - &part), *d, s / 2));
            } else {
                items.push(monomial(c, *d, s));
            }
        }
        if !inner.constant_term().is_zero() || style.next() == Some(0) {
            items.push(inner.constant_term().to_string());
        }
        if style.next() == Some(1) {
            items.push("(* 0 d3)".to_owned());
        }
        // Fisher–Yates with a small LCG seeded by the choices.
        let mut seed = ch.shuffle;
        for i in (1..items.len()).rev() {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            items.swap(i, (seed >> 33) as usize % (i + 1));
        }
        let body = nest(&items, &mut ch.nesting.iter().copied().cycle());
        match &ch.scale {
            Some(k) => format!("(* {k} {body})"),
            None => body,
        }
    }
}

#[cfg(test)]
mod properties {
    use super::testing::{choices, expr, present, tree};
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// Two independent paths agree: the e-graph's extracted canonical
        /// term (read back structurally) and expr.rs's own normal form.
        #[test]
        fn normalise_agrees_with_the_normal_form(e in expr(), ch in choices()) {
            let text = present(&e, &ch);
            let term: RecExpr<Linear> = text.parse().map_err(|err| TestCaseError::fail(format!("{err:?}")))?;
            prop_assert_eq!(evaluate(&term), Ok(e.clone()), "the presentation denotes e: {}", text);
            prop_assert_eq!(normalise(&term), Ok(e.clone()), "{}", text);
            prop_assert_eq!(canonical(&e), e);
        }

        /// Arbitrary term trees (not built from a normal form) agree too.
        #[test]
        fn normalise_agrees_on_arbitrary_trees(tree in tree()) {
            let (text, e) = tree;
            let term: RecExpr<Linear> = text.parse().map_err(|err| TestCaseError::fail(format!("{err:?}")))?;
            prop_assert_eq!(normalise(&term), Ok(e), "{}", text);
        }
    }
}
