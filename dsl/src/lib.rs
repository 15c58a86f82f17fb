//! `tvm-dsl`: the machine's definition and the graph IR.
//!
//! - [`isa`]: the 35 native opcodes and their stack effects;
//! - [`token`]: the token vocabulary and the grammar of a token stream;
//! - [`expr`]: exact linear expressions over dimensions (`BigRational`);
//! - [`graph`]: the five primitives, hash-consed into a graph.
//!
//! No floating point anywhere in this crate.

pub mod expr;
pub mod graph;
pub mod isa;
pub mod token;
