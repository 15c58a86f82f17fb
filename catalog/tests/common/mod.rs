//! Helpers shared by the catalog's integration tests.
//!
//! `compile_c` is the engine's own front end, so the oracle checks run the
//! very wasm tvm lowers.

#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};

use tvm_catalog::Program;

/// The freestanding libc the C programs are linked with.
pub fn libc_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../frontend/libc")
}

/// Compiles one C source to wasm exactly as tvm does (the engine's front
/// end: clang with the tvm libc).
pub fn compile_c(source: &Path) -> Vec<u8> {
    tvm_frontend::compile::compile_file(source)
        .unwrap_or_else(|e| panic!("{}: {e}", source.display()))
}

/// The wasm bytes of a catalog program: C through clang (all its sources
/// linked together), WAT through `wat`.
pub fn wasm_of(program: &Program) -> Vec<u8> {
    tvm_catalog::runner::wasm(program).unwrap_or_else(|e| panic!("{}: {e}", program.name()))
}
