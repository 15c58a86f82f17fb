//! `tvm-symbolic`: exact evaluation of a graph over a token stream.

pub mod eval;
