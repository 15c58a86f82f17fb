//! Linear forms `Σ cᵢ·xᵢ + c₀` with exact rational coefficients, kept
//! normalised (no zero coefficient), so that equal forms are equal values.

use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fmt;

/// `Σ coefficient·leaf + constant`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinearForm {
    terms: BTreeMap<String, BigRational>,
    constant: BigRational,
}

impl LinearForm {
    /// The constant `c`.
    pub fn constant(c: BigRational) -> Self {
        LinearForm {
            terms: BTreeMap::new(),
            constant: c,
        }
    }

    /// The leaf `name` (coefficient 1).
    pub fn leaf(name: &str) -> Self {
        LinearForm {
            terms: BTreeMap::from([(name.to_owned(), BigRational::one())]),
            constant: BigRational::zero(),
        }
    }

    /// Its value, if it has no leaf.
    pub fn as_constant(&self) -> Option<&BigRational> {
        self.terms.is_empty().then_some(&self.constant)
    }

    /// Its coefficients by leaf name, and its constant.
    pub fn parts(&self) -> (&BTreeMap<String, BigRational>, &BigRational) {
        (&self.terms, &self.constant)
    }
}

impl std::ops::Add for LinearForm {
    type Output = LinearForm;

    fn add(self, other: LinearForm) -> LinearForm {
        // Merge the smaller map into the larger: a long chain of sums stays
        // near-linear.
        let (mut big, small) = if self.terms.len() >= other.terms.len() {
            (self, other)
        } else {
            (other, self)
        };
        for (leaf, c) in small.terms {
            match big.terms.entry(leaf) {
                Entry::Vacant(slot) => {
                    slot.insert(c);
                }
                Entry::Occupied(mut slot) => {
                    *slot.get_mut() += c;
                    if slot.get().is_zero() {
                        slot.remove();
                    }
                }
            }
        }
        big.constant += small.constant;
        big
    }
}

impl LinearForm {
    /// `c · self`.
    pub fn scale(mut self, c: &BigRational) -> LinearForm {
        if c.is_zero() {
            return LinearForm::default();
        }
        for v in self.terms.values_mut() {
            *v *= c;
        }
        self.constant *= c;
        self
    }
}

impl std::ops::Neg for LinearForm {
    type Output = LinearForm;

    fn neg(self) -> LinearForm {
        self.scale(&-BigRational::one())
    }
}

impl fmt::Display for LinearForm {
    /// `2*x1 + x2 - 3/4`, or `0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut item = |f: &mut fmt::Formatter<'_>, c: &BigRational, leaf: Option<&str>| {
            let sign = if c.is_negative() { "-" } else { "+" };
            if first {
                if c.is_negative() {
                    f.write_str("-")?;
                }
            } else {
                write!(f, " {sign} ")?;
            }
            first = false;
            let a = c.abs();
            match leaf {
                Some(leaf) if a.is_one() => f.write_str(leaf),
                Some(leaf) => write!(f, "{a}*{leaf}"),
                None => write!(f, "{a}"),
            }
        };
        for (leaf, c) in &self.terms {
            item(f, c, Some(leaf))?;
        }
        if !self.constant.is_zero() || self.terms.is_empty() {
            item(f, &self.constant, None)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigInt;

    fn q(n: i64, d: i64) -> BigRational {
        BigRational::new(BigInt::from(n), BigInt::from(d))
    }

    #[test]
    fn arithmetic_normalises() {
        let a = LinearForm::leaf("x") + LinearForm::leaf("y").scale(&q(3, 4));
        let b = LinearForm::leaf("y").scale(&q(3, 4))
            + LinearForm::constant(q(1, 2))
            + LinearForm::leaf("x")
            + LinearForm::constant(q(-1, 2));
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "x + 3/4*y");
        let zero = a.clone() + -a.clone();
        assert_eq!(zero, LinearForm::default());
        assert_eq!(zero.to_string(), "0");
        assert_eq!(
            (-LinearForm::leaf("x") + LinearForm::constant(q(-7, 2))).to_string(),
            "-x - 7/2"
        );
    }
}
