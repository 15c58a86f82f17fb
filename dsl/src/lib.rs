//! `tvm-dsl`: the machine's definition shared by every other crate.
//!
//! - [`isa`]: the 35 native opcodes and their stack effects;
//! - [`token`]: the token vocabulary and the grammar of a token stream.
//!
//! The graph IR (expressions over exact rationals, the five primitives and the
//! machine graph) builds on these.

pub mod isa;
pub mod token;
