//! Exact linear expressions over dimensions.
//!
//! An [`Expr`] is `Σ cᵢ·dᵢ + c₀` with [`Rational`] coefficients. Invariant:
//! the terms are sorted by dimension, each dimension appears once, and no
//! coefficient is zero — so two expressions denote the same linear form
//! exactly when they are equal as values (`==`), and hashing is structural.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Zero};
use std::fmt;
use std::ops::{Add, Mul, Neg, Sub};

/// Exact rational numbers.
pub type Rational = BigRational;

/// An integer as a [`Rational`].
pub fn int(v: i64) -> Rational {
    Rational::from_integer(BigInt::from(v))
}

/// A dimension: one scalar per token position, produced by one node of a
/// graph. The index is the node's position in the graph (a topological order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dim(pub u32);

impl Dim {
    /// The dimension as an index.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// A linear combination of dimensions plus a constant.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Expr {
    terms: Vec<(Dim, Rational)>,
    constant: Rational,
}

impl Expr {
    /// The constant 0.
    pub fn zero() -> Expr {
        Expr::default()
    }

    /// A constant.
    pub fn constant(c: Rational) -> Expr {
        Expr {
            terms: Vec::new(),
            constant: c,
        }
    }

    /// An integer constant.
    pub fn int(c: i64) -> Expr {
        Expr::constant(int(c))
    }

    /// `1·d`.
    pub fn dim(d: Dim) -> Expr {
        Expr {
            terms: vec![(d, Rational::one())],
            constant: Rational::zero(),
        }
    }

    /// Builds from terms in any order (merged, zeros dropped).
    pub fn from_terms(
        terms: impl IntoIterator<Item = (Dim, Rational)>,
        constant: Rational,
    ) -> Expr {
        let mut terms: Vec<(Dim, Rational)> = terms.into_iter().collect();
        terms.sort_by_key(|(d, _)| *d);
        let mut merged: Vec<(Dim, Rational)> = Vec::with_capacity(terms.len());
        for (d, c) in terms {
            match merged.last_mut() {
                Some((last, acc)) if *last == d => *acc += c,
                _ => merged.push((d, c)),
            }
        }
        merged.retain(|(_, c)| !c.is_zero());
        Expr {
            terms: merged,
            constant,
        }
    }

    /// The terms, sorted by dimension, without zero coefficients.
    pub fn terms(&self) -> &[(Dim, Rational)] {
        &self.terms
    }

    /// The constant term.
    pub fn constant_term(&self) -> &Rational {
        &self.constant
    }

    /// The coefficient of `d` (zero if absent).
    pub fn coefficient(&self, d: Dim) -> Rational {
        self.terms
            .binary_search_by_key(&d, |(x, _)| *x)
            .map_or_else(|_| Rational::zero(), |i| self.terms[i].1.clone())
    }

    /// Whether the expression has no dimension terms.
    pub fn is_constant(&self) -> bool {
        self.terms.is_empty()
    }

    /// The dimensions it reads.
    pub fn dims(&self) -> impl Iterator<Item = Dim> + '_ {
        self.terms.iter().map(|(d, _)| *d)
    }

    /// `c · self`.
    pub fn scale(&self, c: &Rational) -> Expr {
        if c.is_zero() {
            return Expr::zero();
        }
        Expr {
            terms: self.terms.iter().map(|(d, x)| (*d, x * c)).collect(),
            constant: &self.constant * c,
        }
    }

    /// Evaluates with `value(d)` for each dimension.
    pub fn eval(&self, mut value: impl FnMut(Dim) -> Rational) -> Rational {
        let mut acc = self.constant.clone();
        for (d, c) in &self.terms {
            acc += c * value(*d);
        }
        acc
    }

    fn combine(&self, other: &Expr, sign: i64) -> Expr {
        let s = int(sign);
        let terms = self
            .terms
            .iter()
            .cloned()
            .chain(other.terms.iter().map(|(d, c)| (*d, c * &s)));
        Expr::from_terms(terms, &self.constant + &other.constant * &s)
    }
}

impl From<Dim> for Expr {
    fn from(d: Dim) -> Expr {
        Expr::dim(d)
    }
}

impl From<i64> for Expr {
    fn from(c: i64) -> Expr {
        Expr::int(c)
    }
}

impl<T: Into<Expr>> Add<T> for Expr {
    type Output = Expr;
    fn add(self, rhs: T) -> Expr {
        self.combine(&rhs.into(), 1)
    }
}

impl<T: Into<Expr>> Sub<T> for Expr {
    type Output = Expr;
    fn sub(self, rhs: T) -> Expr {
        self.combine(&rhs.into(), -1)
    }
}

impl Add<&Expr> for &Expr {
    type Output = Expr;
    fn add(self, rhs: &Expr) -> Expr {
        self.combine(rhs, 1)
    }
}

impl Sub<&Expr> for &Expr {
    type Output = Expr;
    fn sub(self, rhs: &Expr) -> Expr {
        self.combine(rhs, -1)
    }
}

impl Neg for Expr {
    type Output = Expr;
    fn neg(self) -> Expr {
        self.scale(&int(-1))
    }
}

impl Mul<i64> for Expr {
    type Output = Expr;
    fn mul(self, rhs: i64) -> Expr {
        self.scale(&int(rhs))
    }
}

impl Mul<&Rational> for &Expr {
    type Output = Expr;
    fn mul(self, rhs: &Rational) -> Expr {
        self.scale(rhs)
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (d, c) in &self.terms {
            let (sign, mag) = if c < &Rational::zero() {
                ("-", -c.clone())
            } else {
                ("+", c.clone())
            };
            match (first, sign) {
                (true, "-") => f.write_str("-")?,
                (true, _) => {}
                (false, s) => write!(f, " {s} ")?,
            }
            if mag.is_one() {
                write!(f, "d{}", d.0)?;
            } else {
                write!(f, "{mag}·d{}", d.0)?;
            }
            first = false;
        }
        if first {
            return write!(f, "{}", self.constant);
        }
        if !self.constant.is_zero() {
            let (sign, mag) = if self.constant < Rational::zero() {
                ("-", -self.constant.clone())
            } else {
                ("+", self.constant.clone())
            };
            write!(f, " {sign} {mag}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_form_merges_sorts_and_drops_zeros() {
        let (a, b) = (Dim(3), Dim(1));
        let e = Expr::dim(a) + Expr::dim(b) * 2 - Expr::dim(a) + 5;
        assert_eq!(e.terms(), &[(b, int(2))]);
        assert_eq!(e.constant_term(), &int(5));
        assert_eq!(e, Expr::dim(b) * 2 + 5);
        assert_eq!(e.to_string(), "2·d1 + 5");
        assert!((Expr::dim(a) - Expr::dim(a)).is_constant());
    }

    #[test]
    fn evaluation_is_exact() {
        let third = Rational::new(BigInt::from(1), BigInt::from(3));
        let e = &(Expr::dim(Dim(0)) * 3) * &third;
        assert_eq!(e.eval(|_| int(7)), int(7));
        assert_eq!(e.coefficient(Dim(0)), int(1));
        assert_eq!(e.coefficient(Dim(9)), int(0));
    }
}
