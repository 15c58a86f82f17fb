//! `tvm-engine`: from source to a running machine.
//!
//! - [`frontend`]: C (clang + tvm's libc), WAT or wasm to a wasm binary;
//! - [`decode`]: validation and the checks for what the machine supports;
//! - [`lower`]: structured wasm to the 35 native opcodes;
//! - [`program`]: the lowered program, the input image, the token prefix;
//! - [`hull`]: hardmax attention over 2-D keys by an incremental convex hull;
//! - [`reference`]: the reference machine and its token trace;
//! - [`transformer`]: the float and exact transformer engines over a built
//!   model ([`exact`]: the exact number type they use).
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
//! and running it appends one *step* per executed instruction: its opcode,
//! then the bytes of the value it writes (4 for pushes and local/global
//! writes, the stored width for stores, 1 for OUTPUT, the 2 bytes of the
//! target for a jump, none for DROP or a BR_IF that falls through). `tvm
//! compile` writes the prefix as text; `tvm reference --trace` writes prefix
//! and steps:
//!
//! ```text
//! CONST 05 00 00 00
//! LOCAL_GET ff 00 00 00
//! ADD 04 01+ 00 00        carry out of byte 0
//! BR_IF 2a 00             taken: jumps to 42
//! ```

pub mod decode;
pub mod exact;
pub mod frontend;
pub mod hull;
pub mod invoke;
pub mod lower;
pub mod program;
pub mod reference;
pub mod streams;
pub mod transformer;

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
    let wasm = frontend::compile_file(path)?;
    Ok(lower_wasm(&wasm)?)
}
