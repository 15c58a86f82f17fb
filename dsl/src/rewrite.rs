//! The rewrite rules that normalise linear forms.
//!
//! Every rule is an equality of linear forms (sound for any values of the
//! dimensions), and is named; the names appear in e-graph explanations.
//! The rules are *oriented* towards the canonical term of
//! [`crate::language`] — a right-nested sum of monomials in increasing
//! dimension order, the constant last:
//!
//! | rule | rewrite |
//! |---|---|
//! | `sub-to-add` | `(- a b) → (+ a (* -1 b))` |
//! | `neg-to-mul` | `(neg a) → (* -1 a)` |
//! | `scalar-left` | `(* a c) → (* c a)` when `c` is constant and `a` is not |
//! | `distribute` | `(* c (+ a b)) → (+ (* c a) (* c b))`, `c` constant |
//! | `scalar-fold` | `(* c (* d x)) → (* (* c d) x)`, `c`, `d` constant |
//! | `add-assoc` | `(+ (+ a b) c) → (+ a (+ b c))` |
//! | `add-comm` | `(+ a b) → (+ b a)` when `b` sorts before `a` |
//! | `add-left-comm` | `(+ a (+ b c)) → (+ b (+ a c))` when `b` sorts before `a` |
//! | `unit` | `d → (* 1 d)` for a dimension leaf |
//! | `collect` | `(+ (* c x) (* d x)) → (* (+ c d) x)`, `c`, `d` constant |
//! | `collect-left` | `(+ (* c x) (+ (* d x) r)) → (+ (* (+ c d) x) r)` |
//! | `mul-zero` | `(* 0 x) → 0` |
//! | `mul-one` | `(* 1 x) → x` |
//! | `add-zero` | `(+ x 0) → x` |
//! | `fold-add` | `(+ c d) → c+d`, both constant (exact) |
//! | `fold-mul` | `(* c d) → c·d`, both constant (exact) |
//!
//! Commutativity is *ordered*: it only moves a summand whose linear form is
//! a single monomial `c·dK` (or a constant) in front of one with a larger
//! dimension (constants sort last). Unrestricted commutativity and
//! associativity would make the e-graph hold every bracketing of every
//! permutation of a sum (exponential in its length); ordered, they perform
//! a sort, and the canonical term is reached with few e-nodes. The order is
//! read from [`LinearAnalysis`], as are the constants the folding rules
//! compute.
//!
//! [`normalise`] runs the rules on a term and extracts the canonical term
//! with a cost function that charges every non-canonical node, then reads it
//! back with [`from_canonical`] — a structural reading, so an incomplete
//! rewrite is an error, never a silently wrong answer.

use crate::expr::{Dim, Expr};
use crate::language::{
    Linear, LinearAnalysis, LinearGraph, Scalar, TermError, class_constant, class_form, evaluate,
    from_canonical, to_term,
};
use egg::{
    Applier, CostFunction, ENodeOrVar, Extractor, Id, Language as _, PatternAst, RecExpr, Rewrite,
    Runner, SimpleScheduler, Subst, Symbol, Var, rewrite,
};
use num_traits::{One, Zero};
use std::sync::LazyLock;
use std::time::Duration;

/// A rewrite rule over [`Linear`].
pub type LinearRewrite = Rewrite<Linear, LinearAnalysis>;

/// The names of the rules of [`rules`], in order.
pub const RULE_NAMES: [&str; 16] = [
    "sub-to-add",
    "neg-to-mul",
    "scalar-left",
    "distribute",
    "scalar-fold",
    "add-assoc",
    "add-comm",
    "add-left-comm",
    "unit",
    "collect",
    "collect-left",
    "mul-zero",
    "mul-one",
    "add-zero",
    "fold-add",
    "fold-mul",
];

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

fn var(name: &str) -> Var {
    // Only called on the literal names below.
    name.parse()
        .unwrap_or_else(|_| unreachable!("`{name}` is a pattern variable"))
}

/// Where a summand goes in a sorted sum: monomials by dimension, then
/// constants. `None` for a form with several terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Rank {
    Term(Dim),
    Constant,
}

pub(crate) fn rank(form: &Expr) -> Option<Rank> {
    match form.terms() {
        [] => Some(Rank::Constant),
        [(d, _)] if form.constant_term().is_zero() => Some(Rank::Term(*d)),
        _ => None,
    }
}

fn class_rank(egraph: &LinearGraph, id: Id) -> Option<Rank> {
    class_form(egraph, id).and_then(rank)
}

/// `?first` sorts strictly before `?second`.
fn sorts_before(
    first: &str,
    second: &str,
) -> impl Fn(&mut LinearGraph, Id, &Subst) -> bool + use<> {
    let (first, second) = (var(first), var(second));
    move |egraph, _, subst| match (
        class_rank(egraph, subst[first]),
        class_rank(egraph, subst[second]),
    ) {
        (Some(f), Some(s)) => f < s,
        _ => false,
    }
}

/// Every listed variable is bound to a constant class.
fn constants(vars: &[&str]) -> impl Fn(&mut LinearGraph, Id, &Subst) -> bool + use<> {
    let vars: Vec<Var> = vars.iter().map(|v| var(v)).collect();
    move |egraph, _, subst| {
        vars.iter()
            .all(|v| class_constant(egraph, subst[*v]).is_some())
    }
}

/// `?c` is a constant other than 0 and 1 (those have their own rules).
fn scaling(c: &str) -> impl Fn(&mut LinearGraph, Id, &Subst) -> bool + use<> {
    let c = var(c);
    move |egraph, _, subst| class_constant(egraph, subst[c]).is_some_and(|c| !c.is_zero() && !c.is_one())
}

/// No listed variable is bound to a constant class (products and sums of
/// constants are left to the folding rules, which create no new ones).
fn varying(vars: &[&str]) -> impl Fn(&mut LinearGraph, Id, &Subst) -> bool + use<> {
    let vars: Vec<Var> = vars.iter().map(|v| var(v)).collect();
    move |egraph, _, subst| vars.iter().all(|v| class_constant(egraph, subst[*v]).is_none())
}

/// `?a`'s form is a single monomial `c·dK`, `c ≠ 0`.
fn monomial(a: &str) -> impl Fn(&mut LinearGraph, Id, &Subst) -> bool + use<> {
    let a = var(a);
    move |egraph, _, subst| matches!(class_rank(egraph, subst[a]), Some(Rank::Term(_)))
}

/// `(+ ?a ?b)` has the shape of a canonical sum: `?a` is a monomial whose
/// dimension precedes every dimension of `?b`, and `?b` is not zero.
fn sorted_pair(a: &str, b: &str) -> impl Fn(&mut LinearGraph, Id, &Subst) -> bool + use<> {
    let (a, b) = (var(a), var(b));
    move |egraph, _, subst| is_sorted_pair(egraph, subst[a], subst[b])
}

pub(crate) fn is_sorted_pair(egraph: &LinearGraph, a: Id, b: Id) -> bool {
    match (class_rank(egraph, a), class_form(egraph, b)) {
        (Some(Rank::Term(d)), Some(rest)) => match rest.terms().first() {
            Some((first, _)) => *first > d,
            None => !rest.constant_term().is_zero(),
        },
        _ => false,
    }
}

/// The matched class is not constant.
fn varying_match() -> impl Fn(&mut LinearGraph, Id, &Subst) -> bool {
    move |egraph, eclass, _| class_constant(egraph, eclass).is_none()
}

/// `?c` is constant and `?a` is not.
fn scalar_on_right() -> impl Fn(&mut LinearGraph, Id, &Subst) -> bool {
    let (a, c) = (var("?a"), var("?c"));
    move |egraph, _, subst| {
        class_constant(egraph, subst[c]).is_some() && class_constant(egraph, subst[a]).is_none()
    }
}

fn has_dim_leaf(egraph: &LinearGraph, id: Id) -> bool {
    egraph[id].nodes.iter().any(|n| matches!(n, Linear::Dim(_)))
}

/// `?x`'s class holds a dimension leaf.
fn is_dim() -> impl Fn(&mut LinearGraph, Id, &Subst) -> bool {
    let x = var("?x");
    move |egraph, _, subst| has_dim_leaf(egraph, subst[x])
}

/// Constant folding: replaces `(op ?a ?b)` by the exact value when both
/// classes are constant.
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
        let (Some(a), Some(b)) = (
            class_constant(egraph, subst[var("?a")]),
            class_constant(egraph, subst[var("?b")]),
        ) else {
            return vec![];
        };
        let value = if self.multiply { a * b } else { a + b };
        let node = Linear::Num(Scalar(value));
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
        vec![var("?a"), var("?b")]
    }
}

static RULES: LazyLock<Vec<LinearRewrite>> = LazyLock::new(|| {
    vec![
        rewrite!("sub-to-add"; "(- ?a ?b)" => "(+ ?a (* -1 ?b))"),
        rewrite!("neg-to-mul"; "(neg ?a)" => "(* -1 ?a)"),
        rewrite!("scalar-left"; "(* ?a ?c)" => "(* ?c ?a)" if scalar_on_right()),
        rewrite!("distribute"; "(* ?c (+ ?a ?b))" => "(+ (* ?c ?a) (* ?c ?b))"
            if scaling("?c") if varying_match()),
        rewrite!("scalar-fold"; "(* ?c (* ?d ?x))" => "(* (* ?c ?d) ?x)"
            if scaling("?c") if constants(&["?d"]) if varying(&["?x"])),
        rewrite!("add-assoc"; "(+ (+ ?a ?b) ?c)" => "(+ ?a (+ ?b ?c))" if sorted_pair("?a", "?b")),
        rewrite!("add-comm"; "(+ ?a ?b)" => "(+ ?b ?a)" if sorts_before("?b", "?a")),
        rewrite!("add-left-comm"; "(+ ?a (+ ?b ?c))" => "(+ ?b (+ ?a ?c))" if sorts_before("?b", "?a") if sorted_pair("?b", "?c")),
        rewrite!("unit"; "?x" => "(* 1 ?x)" if is_dim()),
        rewrite!("collect"; "(+ (* ?c ?x) (* ?d ?x))" => "(* (+ ?c ?d) ?x)"
            if constants(&["?c", "?d"]) if varying(&["?x"])),
        rewrite!("collect-left";
            "(+ (* ?c ?x) (+ (* ?d ?x) ?r))" => "(+ (* (+ ?c ?d) ?x) ?r)"
            if constants(&["?c", "?d"]) if varying(&["?x"])),
        rewrite!("mul-zero"; "(* 0 ?x)" => "0"),
        rewrite!("mul-one"; "(* 1 ?x)" => "?x"),
        rewrite!("add-zero"; "(+ ?x 0)" => "?x" if monomial("?x")),
        rewrite!("fold-add"; "(+ ?a ?b)" => { Fold { multiply: false } }),
        rewrite!("fold-mul"; "(* ?a ?b)" => { Fold { multiply: true } }),
    ]
});

/// The rules, in the order of [`RULE_NAMES`].
pub fn rules() -> &'static [LinearRewrite] {
    &RULES
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
/// given its children's linear forms (read from the analysis); the terms
/// of cost `(0, _)` in a class are exactly the canonical term of its form.
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
            Linear::Mul([c, x]) => {
                class_constant(g, *c).is_some_and(|c| !c.is_zero() && !c.is_one())
                    && has_dim_leaf(g, *x)
            }
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
pub(crate) fn extract(egraph: &LinearGraph, id: Id) -> RecExpr<Linear> {
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
    fn rules_are_named_in_order() {
        let names: Vec<String> = rules().iter().map(|r| r.name.to_string()).collect();
        assert_eq!(names, RULE_NAMES);
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
        assert_eq!(
            norm("(* 0 (* d1 d2))").ok(),
            None,
            "not linear: rejected before rewriting"
        );
        assert_eq!(canonical(&(d(4) * 3 + d(1) - 2)), d(1) + d(4) * 3 - 2);
    }

    #[test]
    fn long_sums_sort_without_blowing_up() {
        // 60 summands, reversed and left-nested, with duplicates to collect.
        let mut s = String::from("0");
        let mut expected = Expr::zero();
        for i in (0..60u32).rev() {
            let c = i64::from(i % 7) - 3;
            s = format!("(+ {s} (* {c} d{}))", i / 2);
            expected = expected + d(i / 2) * c;
        }
        assert_eq!(norm(&s), Ok(expected));
    }
}
#[cfg(test)]
mod scratch {
    use super::*;
    #[test]
    fn scratch() {
        for n in [4u32, 8, 12, 16, 24] {
            let mut s = String::from("0");
            for i in (0..n).rev() {
                let c = i64::from(i % 7) - 3;
                s = format!("(+ {s} (* {c} d{}))", i / 2);
            }
            let t: RecExpr<Linear> = s.parse().unwrap();
            let r = runner(Budget { iterations: 200, nodes: 200000 }).with_expr(&t).run(rules());
            eprintln!("{n}: {:?} nodes {} classes {} iters {}", r.stop_reason, r.egraph.total_size(), r.egraph.number_of_classes(), r.iterations.len());
            if n == 8 { for it in &r.iterations { eprintln!("   {:?}", it.applied); } }
            if n == 8 { for c in r.egraph.classes() { eprintln!("  class {} form {:?} nodes {:?}", c.id, c.data.as_ref().map(|e| e.to_string()), c.nodes.iter().map(|n| format!("{n}{:?}", n.children())).collect::<Vec<_>>()); } }
        }
    }
}
