//! A proof obligation: one claim about the model or the machine, a value
//! that can be printed, re-run and, when it fails, shown a counterexample.
//!
//! Every claim `∀ x. P(x)` is stated as an SMT-LIB2 script that declares
//! `x` and asserts `¬P(x)`: the claim holds exactly when the script is
//! unsatisfiable. The same text is what z3 checks here, what a certificate
//! stores and what `tvm proofs check` hands to cvc5.

use std::fmt;

use serde::Serialize;

/// What an obligation is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An FFN neuron's gate, value and output weights.
    Neuron,
    /// An attention head's Q, K, V, O weights and its score.
    Head,
    /// The embedding, the readout and the output head.
    Io,
    /// An opcode's DSL sub-graph against WebAssembly's semantics.
    Opcode,
    /// A lowered operator's routine against the operator it replaces.
    Lowering,
    /// The schedule and the slot map.
    Model,
    /// A specialised model's baked instruction table against its program.
    Table,
}

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Kind; 7] = [
        Kind::Model,
        Kind::Table,
        Kind::Io,
        Kind::Neuron,
        Kind::Head,
        Kind::Opcode,
        Kind::Lowering,
    ];

    /// The kind's name in reports and certificate paths.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Neuron => "neuron",
            Kind::Head => "head",
            Kind::Io => "io",
            Kind::Opcode => "opcode",
            Kind::Lowering => "lowering",
            Kind::Model => "model",
            Kind::Table => "table",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A claim stated in SMT-LIB2: `script` declares the free variables and
/// asserts the claim's negation; the claim holds iff it is `unsat`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Smt {
    /// The SMT-LIB2 logic (`QF_LRA`, `QF_LIA`, `QF_BV`, ...).
    pub logic: &'static str,
    /// Declarations and assertions, without `set-logic` or `check-sat`.
    pub script: String,
}

impl Smt {
    /// The whole script, ready for a solver: logic, body, `(check-sat)`.
    pub fn standalone(&self) -> String {
        format!("(set-logic {})\n{}(check-sat)\n", self.logic, self.script)
    }
}

/// One obligation: what is claimed, about what, and the SMT claim (if the
/// obligation is decided by a solver; structural checks carry none).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Obligation {
    /// Its kind.
    pub kind: Kind,
    /// A name unique within its kind (`layer03.ffn.n17`, `ADD`, `MUL`).
    pub name: String,
    /// The layer it concerns, if any.
    pub layer: Option<u32>,
    /// The claim for the solver.
    pub smt: Smt,
}
