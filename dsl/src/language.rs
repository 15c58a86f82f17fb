//! The e-graph language of linear expressions.
//!
//! [`Linear`] is an egg language whose terms denote exact linear forms
//! `Σ cᵢ·dᵢ + c₀`: dimension leaves (`d12`), rational constants (`3`,
//! `-1/2`), binary `+` and `-`, unary `neg`, and `*` — a product whose left
//! factor is, by convention, the scalar. A product of two varying factors is
//! a term of the language but not a linear form; [`evaluate`] rejects it.
//!
//! Two conversions connect terms and [`Expr`]s:
//! - [`to_term`] writes an `Expr` as its **canonical term**, deterministic
//!   and unique per linear form: a right-nested sum of the terms in
//!   increasing dimension order, each `dK` (coefficient 1) or `(* c dK)`,
//!   ending with the constant when it is non-zero, e.g.
//!   `(+ d1 (+ (* -1/2 d4) 3))`; the zero form is `0`.
//! - [`from_canonical`] reads a canonical term back, *structurally*: it
//!   accepts exactly the terms [`to_term`] produces and nothing else, so an
//!   e-graph extraction that yields it has really reached the normal form.
//!
//! [`evaluate`] is the semantic reading (any linear term to its `Expr`).
//! [`LinearAnalysis`] attaches to every e-class the linear form all its
//! members denote; the rewrite rules read it for constant folding and for
//! the order in which sums are sorted. No floating point anywhere.

use crate::expr::{Dim, Expr, Rational};
use egg::{Analysis, DidMerge, EGraph, Id, Language as _, RecExpr, define_language};
use num_bigint::BigInt;
use num_traits::{One, Zero};
use std::fmt;
use std::str::FromStr;

/// A rational constant leaf. Displays as `3` or `-1/2` (always reduced);
/// parses `-?digits(/digits)?` with a non-zero denominator, nothing else.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scalar(pub Rational);

/// Why a string is not a [`Scalar`] or a [`DimLeaf`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LeafError {
    /// Not of the form `-?digits(/digits)?`.
    #[error("`{0}` is not a rational constant")]
    NotRational(String),
    /// `n/0`.
    #[error("`{0}` has a zero denominator")]
    ZeroDenominator(String),
    /// Not of the form `d<index>` (decimal, no leading zeros, fits `u32`).
    #[error("`{0}` is not a dimension (`d<index>`)")]
    NotDim(String),
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

impl FromStr for Scalar {
    type Err = LeafError;

    fn from_str(s: &str) -> Result<Scalar, LeafError> {
        let bad = || LeafError::NotRational(s.to_owned());
        let unsigned = s.strip_prefix('-').unwrap_or(s);
        let (num, den) = match unsigned.split_once('/') {
            Some((n, d)) => (n, d),
            None => (unsigned, "1"),
        };
        if !is_digits(num) || !is_digits(den) {
            return Err(bad());
        }
        let num: BigInt = num.parse().map_err(|_| bad())?;
        let den: BigInt = den.parse().map_err(|_| bad())?;
        if den.is_zero() {
            return Err(LeafError::ZeroDenominator(s.to_owned()));
        }
        let value = Rational::new(num, den);
        Ok(Scalar(if s.starts_with('-') { -value } else { value }))
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A dimension leaf, written `d<index>` (e.g. `d12`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DimLeaf(pub Dim);

impl FromStr for DimLeaf {
    type Err = LeafError;

    fn from_str(s: &str) -> Result<DimLeaf, LeafError> {
        let bad = || LeafError::NotDim(s.to_owned());
        let digits = s.strip_prefix('d').ok_or_else(bad)?;
        if !is_digits(digits) || (digits.len() > 1 && digits.starts_with('0')) {
            return Err(bad());
        }
        digits
            .parse::<u32>()
            .map(|i| DimLeaf(Dim(i)))
            .map_err(|_| bad())
    }
}

impl fmt::Display for DimLeaf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "d{}", self.0.0)
    }
}

define_language! {
    /// Terms over dimensions: `(+ a b)`, `(* c a)` (scalar on the left),
    /// `(- a b)`, `(neg a)`, rational constants and dimension leaves.
    pub enum Linear {
        "+" = Add([Id; 2]),
        "*" = Mul([Id; 2]),
        "-" = Sub([Id; 2]),
        "neg" = Neg(Id),
        Num(Scalar),
        Dim(DimLeaf),
    }
}

/// Why a term could not be read as an [`Expr`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TermError {
    /// The term has no nodes.
    #[error("the term is empty")]
    Empty,
    /// A node reads a child that does not precede it.
    #[error("node {node} reads child {child}, which does not precede it")]
    Malformed {
        /// The node's index.
        node: usize,
        /// The child's index.
        child: usize,
    },
    /// A product of two varying factors.
    #[error("`{0}` is not linear: both factors of a product vary")]
    NotLinear(String),
    /// The term denotes a linear form but is not written canonically.
    #[error("`{term}` is not canonical: {reason}")]
    NotCanonical {
        /// The offending (sub)term.
        term: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// `a · b` when at least one factor is a constant; `None` otherwise. A zero
/// constant factor annihilates even a non-linear other factor.
pub(crate) fn product(a: Option<&Expr>, b: Option<&Expr>) -> Option<Expr> {
    match (a, b) {
        (Some(a), b) if a.is_constant() => {
            if a.constant_term().is_zero() {
                Some(Expr::zero())
            } else {
                b.map(|b| b.scale(a.constant_term()))
            }
        }
        (a, Some(b)) if b.is_constant() => {
            if b.constant_term().is_zero() {
                Some(Expr::zero())
            } else {
                a.map(|a| a.scale(b.constant_term()))
            }
        }
        _ => None,
    }
}

/// The linear form of one node given its children's forms (`None`: the
/// node is not linear).
fn node_form(node: &Linear, form: impl Fn(Id) -> Option<Expr>) -> Option<Expr> {
    match node {
        Linear::Num(c) => Some(Expr::constant(c.0.clone())),
        Linear::Dim(d) => Some(Expr::dim(d.0)),
        Linear::Add([a, b]) => Some(form(*a)? + form(*b)?),
        Linear::Sub([a, b]) => Some(form(*a)? - form(*b)?),
        Linear::Neg(a) => Some(-form(*a)?),
        Linear::Mul([a, b]) => product(form(*a).as_ref(), form(*b).as_ref()),
    }
}

/// Checks that every child precedes its parent.
fn check_order(term: &RecExpr<Linear>) -> Result<(), TermError> {
    for (i, node) in term.as_ref().iter().enumerate() {
        if let Some(c) = node.children().iter().find(|c| usize::from(**c) >= i) {
            return Err(TermError::Malformed {
                node: i,
                child: usize::from(*c),
            });
        }
    }
    Ok(())
}

/// The linear form a term denotes (its root is the last node).
pub fn evaluate(term: &RecExpr<Linear>) -> Result<Expr, TermError> {
    if term.as_ref().is_empty() {
        return Err(TermError::Empty);
    }
    check_order(term)?;
    let mut forms: Vec<Option<Expr>> = Vec::with_capacity(term.as_ref().len());
    for node in term.as_ref() {
        let f = node_form(node, |c| forms[usize::from(c)].clone());
        forms.push(f);
    }
    match forms.pop().flatten() {
        Some(e) => Ok(e),
        None => Err(TermError::NotLinear(term.to_string())),
    }
}

/// The canonical term of `e` (see the module docs). Deterministic; equal
/// expressions give equal terms.
pub fn to_term(e: &Expr) -> RecExpr<Linear> {
    // Nodes in the order parsing the term's text would create them
    // (children left to right, then the parent), so `to_term(e)` and
    // `to_term(e).to_string().parse()` are the same value.
    let mut term = RecExpr::default();
    let mut summands: Vec<Id> = Vec::with_capacity(e.terms().len() + 1);
    for (d, c) in e.terms() {
        summands.push(if c.is_one() {
            term.add(Linear::Dim(DimLeaf(*d)))
        } else {
            let c = term.add(Linear::Num(Scalar(c.clone())));
            let leaf = term.add(Linear::Dim(DimLeaf(*d)));
            term.add(Linear::Mul([c, leaf]))
        });
    }
    if !e.constant_term().is_zero() || e.is_constant() {
        summands.push(term.add(Linear::Num(Scalar(e.constant_term().clone()))));
    }
    let mut rest = summands.pop();
    while let (Some(r), Some(first)) = (rest, summands.pop()) {
        rest = Some(term.add(Linear::Add([first, r])));
    }
    term
}

/// Reads a canonical term back as an [`Expr`], checking its shape
/// structurally (see the module docs); any other term is an error, even one
/// denoting a linear form.
pub fn from_canonical(term: &RecExpr<Linear>) -> Result<Expr, TermError> {
    if term.as_ref().is_empty() {
        return Err(TermError::Empty);
    }
    check_order(term)?;
    let nodes = term.as_ref();
    let not = |id: Id, reason: &'static str| TermError::NotCanonical {
        term: subterm(term, id),
        reason,
    };
    // A monomial: `dK` or `(* c dK)` with c ∉ {0, 1}.
    let monomial = |id: Id| -> Result<(Dim, Rational), TermError> {
        match &nodes[usize::from(id)] {
            Linear::Dim(d) => Ok((d.0, Rational::one())),
            Linear::Mul([c, x]) => match (&nodes[usize::from(*c)], &nodes[usize::from(*x)]) {
                (Linear::Num(c), Linear::Dim(d)) if !c.0.is_zero() && !c.0.is_one() => {
                    Ok((d.0, c.0.clone()))
                }
                (Linear::Num(_), Linear::Dim(_)) => {
                    Err(not(id, "coefficient 0 or 1 written as a product"))
                }
                _ => Err(not(id, "a product must be a constant times a dimension")),
            },
            _ => Err(not(
                id,
                "expected a dimension or a constant times a dimension",
            )),
        }
    };
    let root = term.root();
    if let Linear::Num(c) = &nodes[usize::from(root)] {
        return Ok(Expr::constant(c.0.clone()));
    }
    let mut terms: Vec<(Dim, Rational)> = Vec::new();
    let mut constant = Rational::zero();
    let mut at = root;
    loop {
        let (first, rest) = match &nodes[usize::from(at)] {
            Linear::Add([first, rest]) => (*first, Some(*rest)),
            Linear::Num(c) if at != root => {
                if c.0.is_zero() {
                    return Err(not(at, "a zero constant is omitted"));
                }
                constant = c.0.clone();
                break;
            }
            _ => (at, None),
        };
        let (d, c) = monomial(first)?;
        if terms.last().is_some_and(|(last, _)| *last >= d) {
            return Err(not(at, "dimensions must increase along the sum"));
        }
        terms.push((d, c));
        match rest {
            Some(r) => at = r,
            None => break,
        }
    }
    Ok(Expr::from_terms(terms, constant))
}

/// The subterm rooted at `id`, printed.
fn subterm(term: &RecExpr<Linear>, id: Id) -> String {
    let nodes = &term.as_ref()[..=usize::from(id)];
    RecExpr::from(nodes.to_vec()).to_string()
}

/// The analysis: every e-class carries the linear form all its members
/// denote (`None` while none of them is known to be linear).
///
/// Invariant (soundness of the rules): two e-classes that merge carry equal
/// forms. A merge that would break it is not silently accepted: it is
/// counted in [`LinearAnalysis::conflicts`], and every user of the e-graph
/// treats a non-zero count as a failure.
#[derive(Clone, Debug, Default)]
pub struct LinearAnalysis {
    /// Merges of two classes with different linear forms (must stay 0).
    pub conflicts: usize,
}

/// An e-graph over [`Linear`] with [`LinearAnalysis`].
pub type LinearGraph = EGraph<Linear, LinearAnalysis>;

impl Analysis<Linear> for LinearAnalysis {
    type Data = Option<Expr>;

    fn make(egraph: &mut LinearGraph, enode: &Linear, _id: Id) -> Option<Expr> {
        node_form(enode, |c| egraph[c].data.clone())
    }

    fn merge(&mut self, to: &mut Option<Expr>, from: Option<Expr>) -> DidMerge {
        match (to.as_ref(), from) {
            (None, None) => DidMerge(false, false),
            (None, Some(f)) => {
                *to = Some(f);
                DidMerge(true, false)
            }
            (Some(_), None) => DidMerge(false, true),
            (Some(t), Some(f)) => {
                if *t != f {
                    self.conflicts += 1;
                }
                DidMerge(false, *t != f)
            }
        }
    }
}

/// The linear form of an e-class, if known.
pub fn class_form(egraph: &LinearGraph, id: Id) -> Option<&Expr> {
    egraph[id].data.as_ref()
}

/// The constant value of an e-class, if its form is a constant.
pub fn class_constant(egraph: &LinearGraph, id: Id) -> Option<&Rational> {
    class_form(egraph, id)
        .filter(|e| e.is_constant())
        .map(|e| e.constant_term())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::int;

    fn q(n: i64, d: i64) -> Rational {
        Rational::new(BigInt::from(n), BigInt::from(d))
    }

    #[test]
    fn leaves_parse_strictly_and_round_trip() {
        assert_eq!("3".parse::<Scalar>(), Ok(Scalar(int(3))));
        assert_eq!("-1/2".parse::<Scalar>(), Ok(Scalar(q(-1, 2))));
        assert_eq!(
            "2/4".parse::<Scalar>().map(|s| s.to_string()),
            Ok("1/2".to_owned())
        );
        for bad in ["", "-", "+3", "1/", "/2", "1/-2", "1_0", "1.5", "d3", "--1"] {
            assert!(bad.parse::<Scalar>().is_err(), "{bad}");
        }
        assert_eq!(
            "1/0".parse::<Scalar>(),
            Err(LeafError::ZeroDenominator("1/0".to_owned()))
        );
        assert_eq!("d12".parse::<DimLeaf>(), Ok(DimLeaf(Dim(12))));
        assert_eq!(DimLeaf(Dim(7)).to_string(), "d7");
        for bad in ["d", "12", "d-1", "d01", "x3", "d99999999999"] {
            assert!(bad.parse::<DimLeaf>().is_err(), "{bad}");
        }
    }

    #[test]
    fn canonical_terms_are_deterministic_and_read_back() {
        let e = Expr::from_terms([(Dim(4), q(-1, 2)), (Dim(1), int(1))], int(3));
        let t = to_term(&e);
        assert_eq!(t.to_string(), "(+ d1 (+ (* -1/2 d4) 3))");
        assert_eq!(from_canonical(&t), Ok(e.clone()));
        assert_eq!(evaluate(&t), Ok(e));
        assert_eq!(to_term(&Expr::zero()).to_string(), "0");
        assert_eq!(to_term(&Expr::int(-5)).to_string(), "-5");
        assert_eq!(to_term(&Expr::dim(Dim(2))).to_string(), "d2");
        for e in [
            Expr::zero(),
            Expr::int(-5),
            Expr::dim(Dim(2)),
            Expr::dim(Dim(2)) * 3 + 1,
        ] {
            assert_eq!(from_canonical(&to_term(&e)), Ok(e));
        }
    }

    #[test]
    fn non_canonical_terms_are_rejected_structurally() {
        for s in [
            "(+ d3 d1)",
            "(+ d1 d1)",
            "(+ d1 0)",
            "(* 1 d1)",
            "(* 0 d1)",
            "(+ 3 d1)",
            "(* 2 (+ d1 d2))",
            "(- d1 d2)",
            "(neg d1)",
            "(+ (+ d1 d2) d3)",
            "(* d1 2)",
        ] {
            let t: RecExpr<Linear> = s.parse().unwrap();
            assert!(
                matches!(from_canonical(&t), Err(TermError::NotCanonical { .. })),
                "{s}"
            );
            assert!(evaluate(&t).is_ok(), "{s}");
        }
    }

    #[test]
    fn evaluation_is_exact_and_rejects_products_of_dimensions() {
        let t: RecExpr<Linear> = "(- (* 1/3 (+ d1 3)) (neg (* d2 2)))".parse().unwrap();
        assert_eq!(
            evaluate(&t),
            Ok(Expr::from_terms(
                [(Dim(1), q(1, 3)), (Dim(2), int(2))],
                int(1)
            ))
        );
        let t: RecExpr<Linear> = "(* d1 d2)".parse().unwrap();
        assert!(matches!(evaluate(&t), Err(TermError::NotLinear(_))));
        let t: RecExpr<Linear> = "(* 0 (* d1 d2))".parse().unwrap();
        assert_eq!(evaluate(&t), Ok(Expr::zero()));
        assert_eq!(evaluate(&RecExpr::default()), Err(TermError::Empty));
        let bad = RecExpr::from(vec![Linear::Neg(Id::from(0))]);
        assert!(matches!(evaluate(&bad), Err(TermError::Malformed { .. })));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::rewrite::testing::expr;
    use proptest::prelude::*;

    proptest! {
        /// The canonical term reads back structurally and semantically, and
        /// its text parses back to the same term.
        #[test]
        fn canonical_terms_round_trip(e in expr()) {
            let t = to_term(&e);
            prop_assert_eq!(from_canonical(&t), Ok(e.clone()));
            prop_assert_eq!(evaluate(&t), Ok(e.clone()));
            let reparsed: RecExpr<Linear> = t.to_string().parse().map_err(|err| TestCaseError::fail(format!("{err:?}")))?;
            prop_assert_eq!(reparsed, t);
        }
    }
}
