//! `tvm-weights`: from the graph to a transformer.
//!
//! - [`plan`]: the graph rewritten into transformer parts (embedding
//!   values, 2-D hardmax and mean heads, ReGLU neurons), still exact.
//! - [`schedule`]: every dimension placed in a layer and phase, residual
//!   slots assigned and reused once a dimension is dead; validated.
//! - [`milp`]: the schedule's times chosen by a MILP (HiGHS) that
//!   minimises `d_model`, warm-started from and checked against the greedy.
//! - [`model`]: the exact weight tensors from plan + schedule, and the
//!   layout the engines read.
//! - [`model_file`]: the safetensors model file and its JSON header.

pub mod milp;
pub mod model;
pub mod model_file;
pub mod plan;
pub mod schedule;
