//! Certificates: every proof obligation of `tvm verify`, written to a
//! directory that `tvm proofs check` re-checks independently of the code
//! that made it.
//!
//! A certificate is either
//! - an **SMT claim** ([`Body::Smt`]): an SMT-LIB2 script that declares the
//!   claim's variables and asserts its negation, with the answer expected
//!   from a solver (`unsat`: the claim holds); re-checked by the `cvc5`
//!   binary, or
//! - an **e-graph explanation** ([`Body::Explanation`]): a claim `lhs = rhs`
//!   between linear terms and egg's flattened explanation of it; re-checked
//!   here with exact rational arithmetic ([`check_explanation`]).
//!
//! [`write_dir`] writes a directory (`MANIFEST.json`, `smt/<kind>/<group>.smt2`,
//! `egg/<kind>/<group>.txt`); [`check_dir`] re-checks one.
//!
//! Independence: this crate depends on no other tvm crate. Whatever it
//! reads from a certificate directory is untrusted input: it never panics
//! on it, and a tampered file fails its check with the reason.
//!
//! # File formats
//!
//! `MANIFEST.json` ([`manifest::Manifest`]): `format` (`"tvm-certificates"`),
//! `version` (1), `model_digest`, and `files`, sorted by path, each with its
//! `type` (`smt` or `explanations`), `path`, `kind`, `group`, `sha256`
//! (lower-case hex of the file's bytes) and either `logic` and
//! `obligations` (`[{name, expect}]`, in file order) or `names` (the
//! explanations, in file order).
//!
//! `smt/<kind>/<group>.smt2` (`<group>.<logic>.smt2` when a group's claims
//! use several logics): comment lines, one `(set-logic L)`, then per claim,
//! in name order: `; <name>`, `(push 1)`, the script, `(check-sat)`,
//! `(pop 1)`. A script may only declare (`declare-const`, `declare-fun`,
//! `define-fun`, `declare-sort`, `define-sort`) and `assert`. cvc5 answers
//! one line per claim, compared in order with the manifest.
//!
//! `egg/<kind>/<group>.txt` ([`egg_file`]): comment lines (`;`), then per
//! explanation, in name order, the lines `explanation <name>`,
//! `lhs <term>`, `rhs <term>`, one `step <term>` per step, and `end`; each
//! term an s-expression on one line.

pub mod certificate;
mod check;
pub mod egg_file;
mod error;
pub mod explanation;
mod layout;
pub mod linear;
pub mod manifest;
mod sexp;
mod smt_check;
mod smt_file;
mod smtlib;
mod write;

pub use certificate::{Body, Certificate, Expect};
pub use check::{
    CheckOptions, CheckReport, DEFAULT_TIMEOUT, Failure, FileFormat, FileReport, Verdict,
    check_dir, check_dir_with,
};
pub use error::ProofsError;
pub use explanation::{ExplanationError, Place, check_explanation};
pub use write::{WriteSummary, write_dir};
