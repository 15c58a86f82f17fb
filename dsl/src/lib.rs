//! `tvm-dsl`: the machine's definition and the graph IR.
//!
//! - [`isa`]: the 35 native opcodes and their stack effects;
//! - [`token`]: the token vocabulary and the grammar of a token stream;
//! - [`expr`]: exact linear expressions over dimensions (`BigRational`);
//! - [`graph`]: the five primitives, hash-consed into a graph;
//! - [`language`]: the egg language of linear terms and its analysis;
//! - [`rewrite`]: the named rules that normalise linear terms;
//! - [`equivalence`]: e-graph equivalence with re-checkable explanations.
//!
//! No floating point anywhere in this crate.

pub mod equivalence;
pub mod expr;
pub mod graph;
pub mod isa;
pub mod language;
pub mod machine;
pub mod rewrite;
pub mod token;
