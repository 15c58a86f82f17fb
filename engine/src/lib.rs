//! `tvm-engine`: from source to a running machine.
//!
//! - [`frontend`]: C (clang + tvm's libc), WAT or wasm to a wasm binary;
//! - [`decode`]: validation and the checks for what the machine supports;
//! - [`lower`]: structured wasm to the 35 native opcodes;
//! - [`program`]: the lowered program, the input image, the token prefix;
//! - [`reference`]: the reference machine and its token trace.
//!
//! The vocabulary and trace grammar are defined in [`tvm_dsl::token`].

pub mod decode;
pub mod frontend;
pub mod lower;
pub mod program;
pub mod reference;

use std::path::Path;

/// Any failure between a source file and a lowered program.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The source could not be turned into wasm.
    #[error(transparent)]
    Frontend(#[from] frontend::FrontendError),
    /// The wasm cannot run on the machine.
    #[error(transparent)]
    Decode(#[from] decode::DecodeError),
    /// A token file could not be read.
    #[error(transparent)]
    TokenFile(#[from] program::TokenFileError),
}

/// Decodes and lowers a wasm binary.
pub fn lower_wasm(wasm: &[u8]) -> Result<program::Program, decode::DecodeError> {
    lower::lower(&decode::decode(wasm)?)
}

/// Compiles (if needed), decodes and lowers the program at `path`.
pub fn build_file(path: &Path) -> Result<program::Program, BuildError> {
    let wasm = frontend::compile_file(path)?;
    Ok(lower_wasm(&wasm)?)
}
