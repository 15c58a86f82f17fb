//! `tvm-weights`: from the graph to a transformer.
//!
//! - [`schedule`]: every dimension placed in a layer and phase, residual
//!   slots assigned and reused once a dimension is dead; validated.
//! - [`model_file`]: the safetensors model file and its JSON header.

pub mod model_file;
pub mod schedule;
