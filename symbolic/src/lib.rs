//! `tvm-symbolic`: exact evaluation of a graph over a token stream, and
//! value-range analysis.
//!
//! - [`eval`]: the exact graph evaluator;
//! - [`range`]: exact interval bounds for every dimension;
//! - [`specialize`]: partial evaluation over a restricted token alphabet.

pub mod eval;
pub mod range;
pub mod specialize;
