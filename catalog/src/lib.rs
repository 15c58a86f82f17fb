//! `tvm-catalog`: the program catalog — C and WAT programs written for the
//! tvm machine, the arguments to run them with, and the exact output and
//! exit status each must produce.
//!
//! The catalog's files live next to this crate: `manifest.toml`,
//! `programs/` (sources), `inputs/` (standard inputs) and `expected/`
//! (expected outputs). Expected
//! outputs never come from tvm itself: C programs are built and run with the
//! host C compiler (`regen-expected.sh`; checked by `tests/native.rs`), WAT
//! programs are run on wasmi through `tvm-oracle` (checked by
//! `tests/wasm_oracle.rs`).
//!
//! [`wast`] runs WebAssembly spec test scripts on the same engines.

pub mod manifest;
pub mod runner;
pub mod wast;

pub use manifest::{ExpectedStatus, Language, Manifest, ManifestError, Program, Trap};
