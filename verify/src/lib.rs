//! Verification: proofs that a model's weights compute what the machine
//! graph says, neuron by neuron and head by head, that each opcode's DSL
//! sub-graph is WebAssembly's 32-bit operator, and that each lowered
//! operator's routine is the operator it replaces.
//!
//! Every claim is an [`obligation::Obligation`]: an SMT-LIB2 script decided
//! here by z3 ([`smt`]) and written into a certificate that `tvm proofs
//! check` re-checks with cvc5.

pub mod obligation;
pub mod smt;
