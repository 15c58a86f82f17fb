//! Verification: proofs that a model's weights compute what the machine
//! graph says, neuron by neuron and head by head, that each opcode's DSL
//! sub-graph is WebAssembly's 32-bit operator, and that each lowered
//! operator's routine is the operator it replaces.
//!
//! Every claim is an [`obligation::Obligation`]-style SMT-LIB2 script
//! decided here by z3 ([`smt`]) and written into a certificate that `tvm
//! proofs check` re-checks with cvc5; every linear equality is also proven
//! by e-graph equivalence ([`linear`]), whose explanation the certificate
//! keeps.
//!
//! - [`slots`]: which dimension each residual slot holds when;
//! - [`spec`]: what each layer must hold, from the DSL alone;
//! - [`neuron`], [`head`], [`io`], [`model_check`]: the model's items;
//! - [`table`]: a specialised model's baked instructions;
//! - [`opcode`], [`lowering`], [`semantics`]: the machine's semantics;
//! - [`run`]: all of them, in parallel, in a fixed order;
//! - [`report`]: verdicts, counterexamples, the coefficients responsible.

pub mod context;
pub mod head;
pub mod io;
pub mod linear;
pub mod lowering;
pub mod model_check;
pub mod neuron;
pub mod obligation;
pub mod opcode;
pub mod page;
pub mod proof_cache;
pub mod report;
pub mod run;
pub mod semantics;
pub mod slots;
pub mod smt;
pub mod spec;
pub mod table;
pub mod trusted;

/// Why verification could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The model's layout does not fit the machine graph.
    #[error("the model's layout does not fit the machine graph: {0}")]
    Layout(String),
    /// The machine graph cannot be planned.
    #[error("the machine graph cannot be planned: {0}")]
    Plan(String),
}
