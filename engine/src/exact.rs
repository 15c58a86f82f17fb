//! [`Q`]: exact rationals with a machine-integer fast path.
//!
//! Values that are integers fitting an `i64` are held as such; anything
//! else (a fraction, or an integer an operation overflowed) as a
//! `BigRational`. Every operation is exact; results are normalised back to
//! the integer form whenever they are integers that fit. No floating point.

use std::cmp::Ordering;
use std::fmt;

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, ToPrimitive};

use crate::hull::Coord;

/// An exact rational.
#[derive(Clone)]
pub enum Q {
    /// An integer.
    Int(i64),
    /// Any rational (never an `i64`-sized integer: those are `Int`).
    Big(Box<BigRational>),
}

impl fmt::Debug for Q {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Q::Int(v) => write!(f, "{v}"),
            Q::Big(r) => write!(f, "{r}"),
        }
    }
}

impl fmt::Display for Q {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl Q {
    /// Zero.
    pub const ZERO: Q = Q::Int(0);

    /// From a rational, normalised.
    pub fn from_rational(r: &BigRational) -> Q {
        if r.is_integer()
            && let Some(v) = r.to_integer().to_i64()
        {
            return Q::Int(v);
        }
        Q::Big(Box::new(r.clone()))
    }

    fn from_big(r: BigRational) -> Q {
        if r.is_integer()
            && let Some(v) = r.to_integer().to_i64()
        {
            return Q::Int(v);
        }
        Q::Big(Box::new(r))
    }

    /// The value as a `BigRational`.
    pub fn to_rational(&self) -> BigRational {
        match self {
            Q::Int(v) => BigRational::from_integer(BigInt::from(*v)),
            Q::Big(r) => (**r).clone(),
        }
    }

    /// The value if it is an integer that fits an `i64`.
    pub fn to_i64(&self) -> Option<i64> {
        match self {
            Q::Int(v) => Some(*v),
            Q::Big(_) => None,
        }
    }

    /// `self + rhs`.
    pub fn plus(&self, rhs: &Q) -> Q {
        if let (Q::Int(a), Q::Int(b)) = (self, rhs)
            && let Some(v) = a.checked_add(*b)
        {
            return Q::Int(v);
        }
        Q::from_big(self.to_rational() + rhs.to_rational())
    }

    /// `self · rhs`.
    pub fn times(&self, rhs: &Q) -> Q {
        match (self, rhs) {
            (Q::Int(0), _) | (_, Q::Int(0)) => Q::Int(0),
            (Q::Int(a), Q::Int(b)) => match a.checked_mul(*b) {
                Some(v) => Q::Int(v),
                None => Q::from_big(self.to_rational() * rhs.to_rational()),
            },
            _ => Q::from_big(self.to_rational() * rhs.to_rational()),
        }
    }

    /// `self / n` for a positive count.
    pub fn divided_by(&self, n: u64) -> Q {
        if let Q::Int(a) = self
            && let Ok(n) = i64::try_from(n)
            && n != 0
            && a % n == 0
        {
            return Q::Int(a / n);
        }
        Q::from_big(self.to_rational() / BigRational::from_integer(BigInt::from(n)))
    }

    /// Whether `self > 0`.
    pub fn is_positive(&self) -> bool {
        match self {
            Q::Int(v) => *v > 0,
            Q::Big(r) => r.is_positive(),
        }
    }

    /// Whether `self = 0`.
    pub fn is_zero(&self) -> bool {
        matches!(self, Q::Int(0))
    }

    /// `1`.
    pub fn one() -> Q {
        Q::Int(1)
    }

    fn cmp_exact(&self, rhs: &Q) -> Ordering {
        match (self, rhs) {
            (Q::Int(a), Q::Int(b)) => a.cmp(b),
            _ => self.to_rational().cmp(&rhs.to_rational()),
        }
    }
}

impl PartialEq for Q {
    fn eq(&self, other: &Q) -> bool {
        self.cmp_exact(other) == Ordering::Equal
    }
}

impl Eq for Q {}

impl PartialOrd for Q {
    fn partial_cmp(&self, other: &Q) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Q {
    fn cmp(&self, other: &Q) -> Ordering {
        self.cmp_exact(other)
    }
}

/// Exact and unbounded, like `BigRational`.
impl Coord for Q {
    fn zero() -> Self {
        Q::Int(0)
    }
    fn admit(self) -> Option<Self> {
        Some(self)
    }
    fn add(&self, rhs: &Self) -> Self {
        self.plus(rhs)
    }
    fn sub(&self, rhs: &Self) -> Self {
        self.plus(&rhs.neg())
    }
    fn mul(&self, rhs: &Self) -> Self {
        self.times(rhs)
    }
    fn neg(&self) -> Self {
        match self {
            Q::Int(v) => match v.checked_neg() {
                Some(n) => Q::Int(n),
                None => Q::from_big(-self.to_rational()),
            },
            Q::Big(r) => Q::from_big(-(**r).clone()),
        }
    }
    fn compare(&self, rhs: &Self) -> Ordering {
        self.cmp_exact(rhs)
    }
}

impl Default for Q {
    fn default() -> Self {
        Q::Int(0)
    }
}

impl From<i64> for Q {
    fn from(v: i64) -> Q {
        Q::Int(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn r(n: i64, d: i64) -> BigRational {
        BigRational::new(BigInt::from(n), BigInt::from(d))
    }

    proptest! {
        #[test]
        fn agrees_with_big_rationals(a in any::<i64>(), b in any::<i64>(), d in 1i64..1000) {
            let (x, y) = (Q::Int(a), Q::from_rational(&r(b, d)));
            let (rx, ry) = (r(a, 1), r(b, d));
            prop_assert_eq!(x.plus(&y).to_rational(), &rx + &ry);
            prop_assert_eq!(x.times(&y).to_rational(), &rx * &ry);
            prop_assert_eq!(Coord::sub(&x, &y).to_rational(), &rx - &ry);
            prop_assert_eq!(Coord::neg(&x).to_rational(), -rx.clone());
            prop_assert_eq!(x.cmp(&y), rx.cmp(&ry));
            prop_assert_eq!(x.divided_by(d as u64).to_rational(), &rx / r(d, 1));
            // Integers that fit are always held as such.
            let sum = x.plus(&y);
            prop_assert_eq!(sum.to_i64().is_some(), (&rx + &ry).is_integer() && (&rx + &ry).to_integer().to_i64().is_some());
        }
    }

    #[test]
    fn overflow_goes_big_and_comes_back() {
        let big = Q::Int(i64::MAX).plus(&Q::Int(1));
        assert!(matches!(big, Q::Big(_)));
        assert_eq!(big.plus(&Q::Int(-1)), Q::Int(i64::MAX));
        assert!(matches!(big.plus(&Q::Int(-1)), Q::Int(_)));
    }
}
