//! The e-graph explanation re-checker: every step of egg's flattened
//! explanation must denote the same linear form as `lhs`, computed here
//! with exact rationals, independently of egg and of the rewrite rules.
//!
//! The term language: `(+ a b)`, `(- a b)`, `(* c a)` (one factor
//! constant), `(neg a)`, rational constants (`3`, `-2`, `3/4`, `-7/2`) and
//! leaves (any other symbol: `d12`, `x3`). In a step, `(Rewrite=> rule t)`
//! and `(Rewrite<= rule t)` denote `t`; each step after the first carries
//! exactly one of them (the sub-term a rule rewrote).

use crate::linear::LinearForm;
use crate::sexp::{self, Node, Tree};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::Zero;
use std::fmt;

/// Where in an explanation a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// The claim's left-hand side.
    Lhs,
    /// The claim's right-hand side.
    Rhs,
    /// A step, numbered from 1 (step 1 is `lhs`).
    Step(usize),
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Lhs => f.write_str("lhs"),
            Place::Rhs => f.write_str("rhs"),
            Place::Step(n) => write!(f, "step {n}"),
        }
    }
}

/// Why an explanation does not re-check.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExplanationError {
    /// A term is not an s-expression of the language.
    #[error("{at}: {message}")]
    Malformed {
        /// Which term.
        at: Place,
        /// What is wrong.
        message: String,
    },
    /// A product of two non-constant factors.
    #[error("{at}: `{}` multiplies two non-constant factors", short(term))]
    NonLinear {
        /// Which term.
        at: Place,
        /// The product.
        term: String,
    },
    /// There are no steps.
    #[error("the explanation has no steps")]
    NoSteps,
    /// A step after the first without exactly one rewrite annotation.
    #[error("step {step}: {count} rewrite annotations, expected exactly one")]
    Annotations {
        /// The step (from 1).
        step: usize,
        /// How many it has.
        count: usize,
    },
    /// A step denotes another linear form than `lhs`.
    #[error(
        "step {step} `{}` denotes {found}, but lhs denotes {expected}",
        short(text)
    )]
    StepDiffers {
        /// The step (from 1).
        step: usize,
        /// The step's text.
        text: String,
        /// Its linear form.
        found: String,
        /// `lhs`'s linear form.
        expected: String,
    },
    /// The first step is not `lhs`.
    #[error("the first step `{}` is not lhs `{}`", short(step), short(lhs))]
    FirstStepNotLhs {
        /// The first step, annotations stripped.
        step: String,
        /// `lhs`.
        lhs: String,
    },
    /// The last step is not `rhs`.
    #[error("the last step `{}` is not rhs `{}`", short(step), short(rhs))]
    LastStepNotRhs {
        /// The last step, annotations stripped.
        step: String,
        /// `rhs`.
        rhs: String,
    },
    /// `lhs` and `rhs` denote different linear forms.
    #[error("lhs denotes {lhs} but rhs denotes {rhs}")]
    SidesDiffer {
        /// `lhs`'s linear form.
        lhs: String,
        /// `rhs`'s linear form.
        rhs: String,
    },
}

/// At most 160 characters of `s` (for messages; the error keeps it whole).
fn short(s: &str) -> String {
    const MAX: usize = 160;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// Re-checks egg's flattened explanation `steps` of `lhs = rhs`.
pub fn check_explanation(lhs: &str, rhs: &str, steps: &[String]) -> Result<(), ExplanationError> {
    let lhs_tree = read(lhs, Place::Lhs)?;
    let rhs_tree = read(rhs, Place::Rhs)?;
    let lhs_form = denote(&lhs_tree, Place::Lhs)?;
    let rhs_form = denote(&rhs_tree, Place::Rhs)?;
    if steps.is_empty() {
        return Err(ExplanationError::NoSteps);
    }
    let last = steps.len() - 1;
    for (i, step) in steps.iter().enumerate() {
        let at = Place::Step(i + 1);
        let tree = read(step, at)?;
        let count = tree
            .nodes
            .iter()
            .enumerate()
            .filter(|(id, _)| annotated(&tree, *id).is_some())
            .count();
        if i > 0 && count != 1 {
            return Err(ExplanationError::Annotations { step: i + 1, count });
        }
        let form = denote(&tree, at)?;
        if form != lhs_form {
            return Err(ExplanationError::StepDiffers {
                step: i + 1,
                text: tree.show(tree.root()),
                found: form.to_string(),
                expected: lhs_form.to_string(),
            });
        }
        if i == 0 && !same_text(&tree, &lhs_tree) {
            return Err(ExplanationError::FirstStepNotLhs {
                step: sexp::join(&stripped(&tree)),
                lhs: lhs_tree.show(lhs_tree.root()),
            });
        }
        if i == last && !same_text(&tree, &rhs_tree) {
            return Err(ExplanationError::LastStepNotRhs {
                step: sexp::join(&stripped(&tree)),
                rhs: rhs_tree.show(rhs_tree.root()),
            });
        }
    }
    if lhs_form != rhs_form {
        return Err(ExplanationError::SidesDiffer {
            lhs: lhs_form.to_string(),
            rhs: rhs_form.to_string(),
        });
    }
    Ok(())
}

fn read(text: &str, at: Place) -> Result<Tree, ExplanationError> {
    sexp::parse(text).map_err(|message| ExplanationError::Malformed { at, message })
}

/// If node `id` is `(Rewrite=> rule t)` or `(Rewrite<= rule t)`, `t`.
fn annotated(tree: &Tree, id: usize) -> Option<usize> {
    match &tree.nodes[id] {
        Node::List(c) if c.len() == 3 && is_rewrite(tree.atom(c[0])) => Some(c[2]),
        _ => None,
    }
}

fn is_rewrite(head: Option<&str>) -> bool {
    matches!(head, Some("Rewrite=>" | "Rewrite<="))
}

/// The tokens of `tree` with its annotations stripped.
fn stripped(tree: &Tree) -> Vec<&str> {
    tree.tokens(tree.root(), &annotated)
}

/// Whether `step` (annotations stripped) is `term`, modulo white space.
fn same_text(step: &Tree, term: &Tree) -> bool {
    stripped(step) == term.tokens(term.root(), &|_, _| None)
}

/// The operators of the language (not leaves).
const OPERATORS: [&str; 6] = ["+", "-", "*", "neg", "Rewrite=>", "Rewrite<="];

/// The linear form `tree` denotes.
fn denote(tree: &Tree, at: Place) -> Result<LinearForm, ExplanationError> {
    let malformed = |message: String| ExplanationError::Malformed { at, message };
    // Forms of lists, computed bottom-up (children precede parents), each
    // taken once by its parent.
    let mut forms: Vec<Option<LinearForm>> = Vec::with_capacity(tree.nodes.len());
    for (id, node) in tree.nodes.iter().enumerate() {
        let Node::List(children) = node else {
            forms.push(None);
            continue;
        };
        let head = tree.atom(children[0]).ok_or_else(|| {
            malformed(format!(
                "`{}`: an operator must be a symbol",
                short(&tree.show(id))
            ))
        })?;
        let arity = children.len() - 1;
        let want = match head {
            "+" | "-" | "*" => 2,
            "neg" => 1,
            "Rewrite=>" | "Rewrite<=" => 2,
            _ => {
                return Err(malformed(format!(
                    "`{}`: unknown operator `{head}`",
                    short(&tree.show(id))
                )));
            }
        };
        if arity != want {
            return Err(malformed(format!(
                "`{}`: `{head}` takes {want} argument(s), not {arity}",
                short(&tree.show(id))
            )));
        }
        let mut arg = |k: usize| -> Result<LinearForm, ExplanationError> {
            let c = children[k];
            match &tree.nodes[c] {
                Node::Atom(a) => atom(a).map_err(&malformed),
                Node::List(_) => forms[c]
                    .take()
                    .ok_or_else(|| malformed("a sub-term is shared".to_owned())),
            }
        };
        let form = match head {
            "+" => arg(1)? + arg(2)?,
            "-" => arg(1)? + -arg(2)?,
            "neg" => -arg(1)?,
            "*" => {
                let (a, b) = (arg(1)?, arg(2)?);
                match (a.as_constant(), b.as_constant()) {
                    (Some(c), _) => b.scale(c),
                    (None, Some(c)) => a.scale(c),
                    (None, None) => {
                        return Err(ExplanationError::NonLinear {
                            at,
                            term: tree.show(id),
                        });
                    }
                }
            }
            _ => {
                // An annotation: its rule name is an atom, it denotes its term.
                if tree.atom(children[1]).is_none() {
                    return Err(malformed(format!(
                        "`{}`: the rule name must be a symbol",
                        short(&tree.show(id))
                    )));
                }
                arg(2)?
            }
        };
        forms.push(Some(form));
    }
    let root = tree.root();
    match &tree.nodes[root] {
        Node::Atom(a) => atom(a).map_err(malformed),
        Node::List(_) => forms[root]
            .take()
            .ok_or_else(|| malformed("internal: the root has no form".to_owned())),
    }
}

/// A constant or a leaf.
fn atom(a: &str) -> Result<LinearForm, String> {
    if let Some(c) = number(a)? {
        return Ok(LinearForm::constant(c));
    }
    if OPERATORS.contains(&a) {
        return Err(format!("`{a}` is an operator, not a leaf"));
    }
    Ok(LinearForm::leaf(a))
}

/// `a` as a rational constant (`3`, `-2`, `3/4`, `-7/2`), `None` if it is
/// not number-like, an error if it is a malformed number.
fn number(a: &str) -> Result<Option<BigRational>, String> {
    let digits = a.strip_prefix('-').unwrap_or(a);
    if !digits.starts_with(|c: char| c.is_ascii_digit()) {
        return Ok(None);
    }
    let bad = || format!("`{a}` is not a number (`3`, `-2`, `3/4`, `-7/2`)");
    let (num, den) = match digits.split_once('/') {
        Some((n, d)) => (n, d),
        None => (digits, "1"),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(num) || !all_digits(den) {
        return Err(bad());
    }
    let n: BigInt = num.parse().map_err(|_| bad())?;
    let d: BigInt = den.parse().map_err(|_| bad())?;
    if d.is_zero() {
        return Err(format!("`{a}`: zero denominator"));
    }
    let n = if a.starts_with('-') { -n } else { n };
    Ok(Some(BigRational::new(n, d)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn egg_docs_example_shape() {
        // The shape of egg's documented example, over linear terms.
        let s = steps(&[
            "(+ 1 (- a (* (- 2 1) a)))",
            "(+ 1 (- a (* (Rewrite=> constant_fold 1) a)))",
            "(+ 1 (- a (Rewrite=> comm-mul (* a 1))))",
            "(+ 1 (- a (Rewrite<= mul-one a)))",
            "(+ 1 (Rewrite=> cancel-sub 0))",
            "(Rewrite=> constant_fold 1)",
        ]);
        assert_eq!(
            check_explanation("(+ 1 (- a (* (- 2 1) a)))", "1", &s),
            Ok(())
        );
    }

    #[test]
    fn deep_terms_check_without_recursion() {
        // 100 000 nested negations of x is x; a 50 000-leaf sum chain.
        let n = 100_000;
        let deep = format!("{}x{}", "(neg ".repeat(n), ")".repeat(n));
        assert_eq!(
            check_explanation(&deep, "x", &steps(&[&deep, "(Rewrite=> neg-neg x)"])),
            Ok(())
        );
        let mut sum = "(+ ".repeat(49_999) + "d0";
        for i in 1..50_000 {
            sum.push_str(&format!(" d{i})"));
        }
        assert_eq!(check_explanation(&sum, &sum, &steps(&[&sum])), Ok(()));
    }

    #[test]
    fn numbers() {
        assert_eq!(number("x3"), Ok(None));
        assert_eq!(number("-x"), Ok(None));
        assert!(number("3x").is_err());
        assert!(number("1/0").is_err());
        assert!(number("1/-2").is_err());
        assert!(number("1.5").is_err());
        assert_eq!(
            number("-7/2").unwrap().unwrap(),
            BigRational::new(BigInt::from(-7), BigInt::from(2))
        );
    }

    #[test]
    fn failures_name_the_problem() {
        let one = |t: &str| steps(&[t]);
        assert!(matches!(
            check_explanation("(* x y)", "(* x y)", &one("(* x y)")),
            Err(ExplanationError::NonLinear { at: Place::Lhs, .. })
        ));
        assert!(matches!(
            check_explanation("(+ x 1)", "(+ x 1)", &one("(foo x 1)")),
            Err(ExplanationError::Malformed {
                at: Place::Step(1),
                ..
            })
        ));
        assert!(matches!(
            check_explanation("(+ x 1)", "(+ x 1)", &[]),
            Err(ExplanationError::NoSteps)
        ));
        assert!(matches!(
            check_explanation("(+ x 1)", "(+ 1 x)", &steps(&["(+ x 1)", "(+ 1 x)"])),
            Err(ExplanationError::Annotations { step: 2, count: 0 })
        ));
        assert!(matches!(
            check_explanation("(+ x 1)", "(+ 1 x)", &one("(+ x 1)")),
            Err(ExplanationError::LastStepNotRhs { .. })
        ));
        assert!(matches!(
            check_explanation("(+ x 1)", "(+ x 1)", &one("(+ 1 x)")),
            Err(ExplanationError::FirstStepNotLhs { .. })
        ));
        assert!(matches!(
            check_explanation("x", "y", &steps(&["x", "(Rewrite=> bogus y)"])),
            Err(ExplanationError::StepDiffers { step: 2, .. })
        ));
        assert!(matches!(
            check_explanation("(+ 1 +)", "x", &one("x")),
            Err(ExplanationError::Malformed { at: Place::Lhs, .. })
        ));
    }
}
