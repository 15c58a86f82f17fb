//! Value-range analysis: for every dimension of a [`Graph`], exact bounds
//! `[lo, hi]` that hold at every position `0..=max_position` of every token
//! sequence.
//!
//! Interval arithmetic through the graph in index order (a topological
//! order), with exact rationals:
//! - `Input`: a feature's min/max over its token table; `one` = `[1, 1]`;
//!   `position` = `[0, P]`; `position²` = `[0, P²]` (`P = max_position`);
//! - a linear expression: the sum of its scaled intervals plus the constant,
//!   except that neurons `α·relu(x + β)` (constant `α`) over one common `x`
//!   are bounded together as the piecewise-linear function of `x` they sum to;
//! - `ReGLU{a, b}` = `relu(b)·a`: `relu(b) ∈ [max(0, lo_b), max(0, hi_b)]`,
//!   and a product of intervals spans the min/max of its four corners;
//! - `Persist(e)`: the interval of `e`;
//! - `LookUp`: the interval of its value joined with 0 (no match gives 0);
//! - `CumSum(e)`: a sum of `k ∈ [1, P+1]` values of `e`, so
//!   `[min(lo, (P+1)·lo), max(hi, (P+1)·hi)]`.
//!
//! Invariant (soundness): every value the graph evaluator computes lies in
//! its dimension's interval. The bounds are not tight: interval arithmetic
//! forgets correlations (`x − x` gets width), and integrality is not an
//! interval property, so this module does not claim it. No floating point.

use num_traits::{One, Signed, Zero};
use std::fmt;
use tvm_dsl::expr::{Dim, Expr, Rational};
use tvm_dsl::graph::{Feature, Graph, Input, Node};

/// A closed interval of exact rationals. Invariant: `lo ≤ hi` (every
/// constructor here keeps it; the fields are public for reading).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Interval {
    /// The least value.
    pub lo: Rational,
    /// The greatest value.
    pub hi: Rational,
}

fn min(a: Rational, b: Rational) -> Rational {
    if a <= b { a } else { b }
}

fn max(a: Rational, b: Rational) -> Rational {
    if a >= b { a } else { b }
}

impl Interval {
    /// `[lo, hi]`, or `None` when `lo > hi`.
    pub fn new(lo: Rational, hi: Rational) -> Option<Interval> {
        (lo <= hi).then_some(Interval { lo, hi })
    }

    /// `[v, v]`.
    pub fn point(v: Rational) -> Interval {
        Interval {
            lo: v.clone(),
            hi: v,
        }
    }

    /// Whether `lo ≤ v ≤ hi`.
    pub fn contains(&self, v: &Rational) -> bool {
        &self.lo <= v && v <= &self.hi
    }

    /// The smallest interval containing both.
    pub fn join(&self, other: &Interval) -> Interval {
        Interval {
            lo: min(self.lo.clone(), other.lo.clone()),
            hi: max(self.hi.clone(), other.hi.clone()),
        }
    }

    /// `{x + y}`.
    pub fn add(&self, other: &Interval) -> Interval {
        Interval {
            lo: &self.lo + &other.lo,
            hi: &self.hi + &other.hi,
        }
    }

    /// `{c·x}`.
    pub fn scale(&self, c: &Rational) -> Interval {
        let (a, b) = (&self.lo * c, &self.hi * c);
        if c.is_negative() {
            Interval { lo: b, hi: a }
        } else {
            Interval { lo: a, hi: b }
        }
    }

    /// `{x·y}`: the min and max of the four corner products.
    pub fn mul(&self, other: &Interval) -> Interval {
        let corners = [
            &self.lo * &other.lo,
            &self.lo * &other.hi,
            &self.hi * &other.lo,
            &self.hi * &other.hi,
        ];
        let lo = corners
            .iter()
            .cloned()
            .reduce(min)
            .unwrap_or_else(Rational::zero);
        let hi = corners
            .into_iter()
            .reduce(max)
            .unwrap_or_else(Rational::zero);
        Interval { lo, hi }
    }

    /// `{max(0, x)}`.
    pub fn relu(&self) -> Interval {
        Interval {
            lo: max(Rational::zero(), self.lo.clone()),
            hi: max(Rational::zero(), self.hi.clone()),
        }
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}, {}]", self.lo, self.hi)
    }
}

/// Why a graph could not be analysed (it breaks an invariant of
/// [`Graph`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    /// An `Input::Feature` index with no feature table.
    #[error("d{}: feature #{feature} does not exist", dim.0)]
    UnknownFeature {
        /// The input.
        dim: Dim,
        /// The missing index.
        feature: u32,
    },
    /// A feature with no token values has no range.
    #[error("d{}: feature `{name}` has no values", dim.0)]
    EmptyFeature {
        /// The input.
        dim: Dim,
        /// The feature's name.
        name: String,
    },
    /// A node reads a dimension that does not precede it.
    #[error("d{} reads d{}, which does not precede it", dim.0, reads.0)]
    ForwardReference {
        /// The node.
        dim: Dim,
        /// What it reads.
        reads: Dim,
    },
}

/// The interval of every dimension of one graph, for positions
/// `0..=max_position`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ranges {
    intervals: Vec<Interval>,
    /// For each `ReGLU{a, b}` whose `a` is a known constant `α`:
    /// `(x, β, α)` with `b = x + β` (`x` without constant term), so the
    /// neuron is `α·relu(x + β)`, a hinge of `x`.
    hinges: Vec<Option<Hinge>>,
    max_position: u64,
}

/// `α·relu(x + β)`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Hinge {
    x: Expr,
    beta: Rational,
    alpha: Rational,
}

impl Ranges {
    /// No dimensions yet, for positions `0..=max_position`; add them with
    /// [`Ranges::push`].
    pub fn new(max_position: u64) -> Ranges {
        Ranges {
            intervals: Vec::new(),
            hinges: Vec::new(),
            max_position,
        }
    }

    /// The interval of `d`. Panics if `d` is not a dimension of the
    /// analysed graph (like indexing); see [`Ranges::get`].
    pub fn of(&self, d: Dim) -> &Interval {
        &self.intervals[d.index()]
    }

    /// The interval of `d`, if `d` is a dimension of the analysed graph.
    pub fn get(&self, d: Dim) -> Option<&Interval> {
        self.intervals.get(d.index())
    }

    /// The interval of a linear expression over the graph's dimensions.
    /// Panics if `e` reads a dimension not in the graph; see
    /// [`Ranges::get_expr`].
    pub fn of_expr(&self, e: &Expr) -> Interval {
        self.interval_of(e)
            .unwrap_or_else(|d| panic!("d{} is not a dimension of the analysed graph", d.0))
    }

    /// The interval of a linear expression, if it reads only the graph's
    /// dimensions.
    pub fn get_expr(&self, e: &Expr) -> Option<Interval> {
        self.interval_of(e).ok()
    }

    /// The last position the bounds cover.
    pub fn max_position(&self) -> u64 {
        self.max_position
    }

    /// The number of dimensions.
    pub fn len(&self) -> usize {
        self.intervals.len()
    }

    /// Whether the graph had no dimensions.
    pub fn is_empty(&self) -> bool {
        self.intervals.is_empty()
    }

    /// Bounds the next dimension of the graph whose features are
    /// `features`: `node` may read only the dimensions already pushed.
    pub fn push(&mut self, features: &[Feature], node: &Node) -> Result<&Interval, RangeError> {
        let dim = Dim(self.intervals.len() as u32);
        let of = |e: &Expr| {
            self.interval_of(e)
                .map_err(|reads| RangeError::ForwardReference { dim, reads })
        };
        let p = Rational::from_integer(self.max_position.into());
        let mut hinge = None;
        let interval = match node {
            Node::Input(Input::One) => Interval::point(Rational::one()),
            Node::Input(Input::Position) => Interval {
                lo: Rational::zero(),
                hi: p.clone(),
            },
            Node::Input(Input::PositionSquared) => Interval {
                lo: Rational::zero(),
                hi: &p * &p,
            },
            Node::Input(Input::Feature(f)) => {
                let feature = features
                    .get(*f as usize)
                    .ok_or(RangeError::UnknownFeature { dim, feature: *f })?;
                let (Some(lo), Some(hi)) =
                    (feature.values.iter().min(), feature.values.iter().max())
                else {
                    return Err(RangeError::EmptyFeature {
                        dim,
                        name: feature.name.clone(),
                    });
                };
                Interval {
                    lo: Rational::from_integer((*lo).into()),
                    hi: Rational::from_integer((*hi).into()),
                }
            }
            Node::ReGLU { a, b } => {
                let ia = of(a)?;
                let ib = of(b)?;
                if ia.lo == ia.hi && !b.is_constant() {
                    hinge = Some(Hinge {
                        x: b.clone() - Expr::constant(b.constant_term().clone()),
                        beta: b.constant_term().clone(),
                        alpha: ia.lo.clone(),
                    });
                }
                ib.relu().mul(&ia)
            }
            Node::Persist(e) => of(e)?,
            Node::LookUp(l) => {
                // Query, key and active must precede too, though only the
                // value bounds the result.
                for e in [&l.query, &l.key, &l.active] {
                    of(e)?;
                }
                of(&l.value)?.join(&Interval::point(Rational::zero()))
            }
            Node::CumSum(e) => {
                let x = of(e)?;
                let n = &p + Rational::one();
                Interval {
                    lo: min(x.lo.clone(), &x.lo * &n),
                    hi: max(x.hi.clone(), &x.hi * &n),
                }
            }
        };
        self.intervals.push(interval);
        self.hinges.push(hinge);
        Ok(&self.intervals[dim.index()])
    }

    /// `Σ cᵢ·I(dᵢ) + c₀`, or the first dimension not covered. Terms that
    /// are hinges `c·α·relu(x + β)` of one common `x` are bounded together,
    /// as the piecewise-linear function of `x` they sum to (exactly: its
    /// extremes over `I(x)` lie at the ends or at a breakpoint), so
    /// `relu(x+1) − 2·relu(x) + relu(x−1)` gets `[0, 1]`, not the sum of
    /// three wide intervals.
    fn interval_of(&self, e: &Expr) -> Result<Interval, Dim> {
        let mut acc = Interval::point(e.constant_term().clone());
        let mut groups: Vec<(&Expr, Vec<(Rational, Rational)>)> = Vec::new();
        for (d, c) in e.terms() {
            let i = self.intervals.get(d.index()).ok_or(*d)?;
            match &self.hinges[d.index()] {
                Some(h) => {
                    let w = c * &h.alpha;
                    // The breakpoint `t = −β`, weight `w`.
                    let member = (-h.beta.clone(), w);
                    match groups.iter_mut().find(|(x, _)| *x == &h.x) {
                        Some((_, members)) => members.push(member),
                        None => groups.push((&h.x, vec![member])),
                    }
                }
                None => acc = acc.add(&i.scale(c)),
            }
        }
        for (x, mut members) in groups {
            let ix = self.interval_of(x)?;
            members.sort();
            acc = acc.add(&hinge_sum_range(&ix, &members));
        }
        Ok(acc)
    }
}

/// The range over `x ∈ ix` of `f(x) = Σ wₜ·relu(x − t)` (members `(t, wₜ)`
/// sorted by `t`): `f` is linear between breakpoints, so its extremes are
/// among `f(lo)`, `f(hi)` and `f(t)` for breakpoints inside.
fn hinge_sum_range(ix: &Interval, members: &[(Rational, Rational)]) -> Interval {
    // f(p) = p·Σ_{t<p} w − Σ_{t<p} w·t, swept over the sorted points.
    let mut points: Vec<Rational> = vec![ix.lo.clone()];
    points.extend(
        members
            .iter()
            .map(|(t, _)| t.clone())
            .filter(|t| &ix.lo < t && t < &ix.hi),
    );
    points.push(ix.hi.clone());
    let (mut s1, mut s2) = (Rational::zero(), Rational::zero());
    let mut next = 0;
    let mut out: Option<Interval> = None;
    for p in points {
        while next < members.len() && members[next].0 < p {
            let (t, w) = &members[next];
            s1 += w;
            s2 += w * t;
            next += 1;
        }
        let v = &p * &s1 - &s2;
        out = Some(match out {
            None => Interval::point(v),
            Some(i) => i.join(&Interval::point(v)),
        });
    }
    out.unwrap_or_else(|| Interval::point(Rational::zero()))
}

/// Bounds every dimension of `graph` over positions `0..=max_position`.
pub fn analyse(graph: &Graph, max_position: u64) -> Result<Ranges, RangeError> {
    let mut ranges = Ranges::new(max_position);
    for dimension in graph.dims() {
        ranges.push(graph.features(), &dimension.node)?;
    }
    Ok(ranges)
}

/// One line per dimension, in index order: `d<i> <label> <kind> [lo, hi]`
/// (`?` for a dimension `ranges` does not cover).
pub fn report(graph: &Graph, ranges: &Ranges) -> String {
    let mut out = String::new();
    for (i, dimension) in graph.dims().iter().enumerate() {
        let d = Dim(i as u32);
        let bounds = ranges
            .get(d)
            .map_or_else(|| "?".to_owned(), Interval::to_string);
        out.push_str(&format!(
            "d{i} {} {} {bounds}\n",
            graph.label(d),
            dimension.node.kind()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigInt;

    fn q(n: i64, d: i64) -> Rational {
        Rational::new(BigInt::from(n), BigInt::from(d))
    }

    fn iv(lo: i64, hi: i64) -> Interval {
        Interval {
            lo: q(lo, 1),
            hi: q(hi, 1),
        }
    }

    #[test]
    fn interval_arithmetic_is_exact() {
        assert_eq!(iv(-2, 3).mul(&iv(-5, 4)), iv(-15, 12));
        assert_eq!(
            iv(-2, 3).scale(&q(-1, 2)),
            Interval {
                lo: q(-3, 2),
                hi: q(1, 1)
            }
        );
        assert_eq!(iv(-2, 3).relu(), iv(0, 3));
        assert_eq!(iv(-7, -2).relu(), iv(0, 0));
        assert_eq!(iv(1, 2).join(&iv(5, 6)), iv(1, 6));
        assert_eq!(iv(1, 2).add(&iv(5, 6)), iv(6, 8));
        assert!(iv(1, 2).contains(&q(3, 2)) && !iv(1, 2).contains(&q(5, 2)));
        assert_eq!(Interval::new(q(2, 1), q(1, 1)), None);
        assert_eq!(iv(-1, 2).to_string(), "[-1, 2]");
    }
}
