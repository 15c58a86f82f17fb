//! `tvm-frontend`: from a source to the machine's program and its tokens.
//!
//! - [`compile`]: C (clang, with tvm's libc embedded in this crate), WAT or
//!   wasm to a wasm binary;
//! - [`decode`]: validation and the checks for what the machine supports;
//! - [`lower`]: structured wasm to the 35 native opcodes;
//! - [`invoke`]: a program that calls exports with given arguments (the
//!   spec tests' `invoke`, `tvm run --invoke`);
//! - [`program`]: the lowered program, the input image, the token prefix;
//! - [`streams`]: how a program's output carries stdout and stderr apart.
//!
//! The machines that run a program are in `tvm-engine`; nothing here runs
//! one.
//!
//! # Token vocabulary
//!
//! Defined once in [`tvm_dsl::token`] (shared with the machine graph) and
//! summarised here. 552 tokens: `00`–`ff` (a byte), `00+`–`ff+` (a value
//! byte whose carry or borrow out is 1), the 35 opcodes (`ADD`, `CALL`, …),
//! and `<program> <memory> <data> <input> <run>`.
//!
//! A compiled program is the token prefix
//!
//! ```text
//! <program>  OP b b b b  …          one line per instruction: opcode, immediate (LE)
//! <memory>   b b b b                memory size in bytes
//! <data>     b b b b  byte …        a segment: base address, then its bytes
//! <input>    b b b b  byte …        argc/argv image at 256 (program arguments)
//! <run>
//! ```
//!
//! `tvm compile` writes it as text; running it appends one step per
//! executed instruction (see `tvm-engine`).

pub mod compile;
pub mod decode;
pub mod invoke;
pub mod lower;
pub mod program;
pub mod streams;

use std::path::Path;

/// Any failure between a source file and a lowered program.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The source could not be turned into wasm.
    #[error(transparent)]
    Frontend(#[from] compile::FrontendError),
    /// The wasm cannot run on the machine.
    #[error(transparent)]
    Decode(#[from] decode::DecodeError),
    /// A token file could not be read.
    #[error(transparent)]
    TokenFile(#[from] program::TokenFileError),
    /// The program's input could not be prepared.
    #[error("{0}")]
    Input(String),
}

/// Decodes and lowers a wasm binary.
pub fn lower_wasm(wasm: &[u8]) -> Result<program::Program, decode::DecodeError> {
    lower::lower(&decode::decode(wasm)?)
}

/// Compiles (if needed), decodes and lowers the program at `path`.
pub fn build_file(path: &Path) -> Result<program::Program, BuildError> {
    let wasm = compile::compile_file(path)?;
    Ok(lower_wasm(&wasm)?)
}
