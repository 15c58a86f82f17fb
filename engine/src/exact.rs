//! [`Q`]: exact rationals with a machine-integer fast path.
//!
//! Values that are integers fitting an `i128` are held as such; anything
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
    Int(i128),
    /// `num / den` in lowest terms with `den > 1` (what a mean head makes).
    Ratio(i128, i128),
    /// Any other rational (never one the variants above can hold).
    Big(Box<BigRational>),
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// `num / den` normalised, if machine integers hold it (`den > 0`).
fn small(num: i128, den: i128) -> Option<Q> {
    if den <= 0 {
        return None;
    }
    let g = gcd(num.unsigned_abs(), den.unsigned_abs());
    let g = i128::try_from(g).ok()?;
    let (n, d) = (num / g, den / g);
    Some(if d == 1 { Q::Int(n) } else { Q::Ratio(n, d) })
}

impl fmt::Debug for Q {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Q::Int(v) => write!(f, "{v}"),
            Q::Ratio(n, d) => write!(f, "{n}/{d}"),
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
        Q::from_big(r.clone())
    }

    fn from_big(r: BigRational) -> Q {
        if let (Some(n), Some(d)) = (r.numer().to_i128(), r.denom().to_i128()) {
            return if d == 1 { Q::Int(n) } else { Q::Ratio(n, d) };
        }
        Q::Big(Box::new(r))
    }

    /// The value as a `BigRational`.
    pub fn to_rational(&self) -> BigRational {
        match self {
            Q::Int(v) => BigRational::from_integer(BigInt::from(*v)),
            Q::Ratio(n, d) => BigRational::new_raw(BigInt::from(*n), BigInt::from(*d)),
            Q::Big(r) => (**r).clone(),
        }
    }

    /// The value if it is an integer that fits an `i64`.
    pub fn to_i64(&self) -> Option<i64> {
        match self {
            Q::Int(v) => i64::try_from(*v).ok(),
            Q::Ratio(..) | Q::Big(_) => None,
        }
    }

    /// `self + rhs`.
    pub fn plus(&self, rhs: &Q) -> Q {
        let fast = match (self, rhs) {
            (Q::Int(a), Q::Int(b)) => a.checked_add(*b).map(Q::Int),
            // n/d + c = (n + c·d)/d, still in lowest terms.
            (Q::Ratio(n, d), Q::Int(c)) | (Q::Int(c), Q::Ratio(n, d)) => c
                .checked_mul(*d)
                .and_then(|x| x.checked_add(*n))
                .map(|x| Q::Ratio(x, *d)),
            _ => None,
        };
        fast.unwrap_or_else(|| Q::from_big(self.to_rational() + rhs.to_rational()))
    }

    /// `self · rhs`.
    pub fn times(&self, rhs: &Q) -> Q {
        match (self, rhs) {
            (Q::Int(0), _) | (_, Q::Int(0)) => Q::Int(0),
            (Q::Int(a), Q::Int(b)) => match a.checked_mul(*b) {
                Some(v) => Q::Int(v),
                None => Q::from_big(self.to_rational() * rhs.to_rational()),
            },
            (Q::Ratio(n, d), Q::Int(c)) | (Q::Int(c), Q::Ratio(n, d)) => {
                // n/d · c = n·(c/g) / (d/g), g = gcd(c, d).
                let fast = i128::try_from(gcd(c.unsigned_abs(), d.unsigned_abs()))
                    .ok()
                    .and_then(|g| n.checked_mul(c / g).and_then(|x| small(x, d / g)));
                fast.unwrap_or_else(|| Q::from_big(self.to_rational() * rhs.to_rational()))
            }
            _ => Q::from_big(self.to_rational() * rhs.to_rational()),
        }
    }

    /// `self / n` for a positive count.
    pub fn divided_by(&self, n: u64) -> Q {
        if let Q::Int(a) = self
            && let Some(q) = small(*a, i128::from(n))
        {
            return q;
        }
        Q::from_big(self.to_rational() / BigRational::from_integer(BigInt::from(n)))
    }

    /// Whether `self > 0`.
    pub fn is_positive(&self) -> bool {
        match self {
            Q::Int(v) | Q::Ratio(v, _) => *v > 0,
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
            (Q::Ratio(n, d), Q::Int(c)) => match c.checked_mul(*d) {
                Some(x) => n.cmp(&x),
                None => self.to_rational().cmp(&rhs.to_rational()),
            },
            (Q::Int(_), Q::Ratio(..)) => rhs.cmp_exact(self).reverse(),
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
            Q::Ratio(n, d) => match n.checked_neg() {
                Some(m) => Q::Ratio(m, *d),
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
        Q::Int(i128::from(v))
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
        fn agrees_with_big_rationals(a in any::<i64>(), b in any::<i64>(), d in 1i64..1000, e in 1u64..1000) {
            let (x, y) = (Q::from(a), Q::from_rational(&r(b, d)));
            let (rx, ry) = (r(a, 1), r(b, d));
            prop_assert_eq!(x.plus(&y).to_rational(), &rx + &ry);
            prop_assert_eq!(x.times(&y).to_rational(), &rx * &ry);
            prop_assert_eq!(Coord::sub(&x, &y).to_rational(), &rx - &ry);
            prop_assert_eq!(Coord::neg(&x).to_rational(), -rx.clone());
            prop_assert_eq!(x.cmp(&y), rx.cmp(&ry));
            prop_assert_eq!(x.divided_by(d as u64).to_rational(), &rx / r(d, 1));
            // Small fractions against integers and each other.
            let f = x.divided_by(e);
            let rf = &rx / r(e as i64, 1);
            prop_assert_eq!(f.plus(&y).to_rational(), &rf + &ry);
            prop_assert_eq!(f.times(&y).to_rational(), &rf * &ry);
            prop_assert_eq!(f.times(&Q::from(e as i64)).to_rational(), rx.clone());
            prop_assert_eq!(f.cmp(&y), rf.cmp(&ry));
            prop_assert_eq!(y.cmp(&f), ry.cmp(&rf));
            prop_assert_eq!(Coord::neg(&f).to_rational(), -rf.clone());
            prop_assert_eq!(f.is_positive(), rf > r(0, 1));
            // Integers that fit are always held as such.
            let sum = x.plus(&y);
            prop_assert_eq!(matches!(sum, Q::Int(_)), (&rx + &ry).is_integer() && (&rx + &ry).to_integer().to_i128().is_some());
        }
    }

    #[test]
    fn overflow_goes_big_and_comes_back() {
        let big = Q::Int(i128::MAX).plus(&Q::Int(1));
        assert!(matches!(big, Q::Big(_)));
        assert_eq!(big.plus(&Q::Int(-1)), Q::Int(i128::MAX));
        assert!(matches!(big.plus(&Q::Int(-1)), Q::Int(_)));
        let wide = Q::from(i64::MAX).times(&Q::from(i64::MAX));
        assert!(matches!(wide, Q::Int(_)));
        assert_eq!(wide.to_i64(), None);
    }
}
