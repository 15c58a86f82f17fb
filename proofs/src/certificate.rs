//! The certificate types: what one proof obligation leaves behind.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One proof obligation, ready to be written and re-checked.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Certificate {
    /// What it is about: `neuron`, `head`, `opcode`, `lowering`, `model`,
    /// `io` (letters, digits, `_`, `-`: it names a directory).
    pub kind: String,
    /// Which file it goes into within its kind, e.g. `layer03` (same
    /// characters as `kind`).
    pub group: String,
    /// Unique within its kind, e.g. `layer03.ffn.n17` (any printable text
    /// on one line, without leading or trailing spaces).
    pub name: String,
    /// The claim and its evidence.
    pub body: Body,
}

/// The claim and what re-checks it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Body {
    /// An SMT-LIB2 script: declarations and the assertion of a claim's
    /// negation, without `set-logic`, `push`, `check-sat` or `pop`.
    Smt {
        /// The SMT-LIB2 logic (`QF_LRA`, `QF_LIA`, `QF_BV`, ...).
        logic: String,
        /// Declarations and assertions.
        script: String,
        /// The answer that makes the claim hold (`unsat`).
        expect: Expect,
    },
    /// `lhs = rhs` between two linear terms, with egg's flattened
    /// explanation: the first step is `lhs`, the last `rhs`, each step after
    /// the first with one sub-term wrapped as `(Rewrite=> rule term)` or
    /// `(Rewrite<= rule term)`.
    Explanation {
        /// The left-hand side, an s-expression.
        lhs: String,
        /// The right-hand side, an s-expression.
        rhs: String,
        /// The flattened explanation, one s-expression per step.
        steps: Vec<String>,
    },
}

/// The answer a solver must give for an SMT claim to hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    /// No assignment satisfies the negated claim: the claim holds.
    Unsat,
    /// Some assignment satisfies the script (a witness exists).
    Sat,
}

impl Expect {
    /// The solver's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Expect::Unsat => "unsat",
            Expect::Sat => "sat",
        }
    }
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Certificate {
    /// An SMT claim expected `unsat`.
    pub fn smt(
        kind: impl Into<String>,
        group: impl Into<String>,
        name: impl Into<String>,
        logic: impl Into<String>,
        script: impl Into<String>,
    ) -> Self {
        Certificate {
            kind: kind.into(),
            group: group.into(),
            name: name.into(),
            body: Body::Smt {
                logic: logic.into(),
                script: script.into(),
                expect: Expect::Unsat,
            },
        }
    }

    /// An e-graph explanation of `lhs = rhs`.
    pub fn explanation(
        kind: impl Into<String>,
        group: impl Into<String>,
        name: impl Into<String>,
        lhs: impl Into<String>,
        rhs: impl Into<String>,
        steps: Vec<String>,
    ) -> Self {
        Certificate {
            kind: kind.into(),
            group: group.into(),
            name: name.into(),
            body: Body::Explanation {
                lhs: lhs.into(),
                rhs: rhs.into(),
                steps,
            },
        }
    }
}

/// Whether `s` may be a kind, a group or a logic: it becomes part of a
/// path, so only ASCII letters, digits, `_` and `-` (no dots: no hidden
/// files, no `..`, no clash with the `<group>.<logic>` split).
pub(crate) fn is_path_word(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Why `name` cannot be a certificate name (it goes on one line of a file
/// after `; ` or `explanation `), if it cannot.
pub(crate) fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if name.chars().any(char::is_control) {
        Some("contains a control character")
    } else if name.trim() != name {
        Some("has leading or trailing white space")
    } else {
        None
    }
}
