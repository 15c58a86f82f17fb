//! `tvm-engine`: the machines that run a program (built by `tvm-frontend`)
//! token by token.
//!
//! - [`reference`]: the reference machine and its token trace;
//! - [`transformer`]: the float and exact transformer engines over a built
//!   model ([`exact`]: the exact number type they use);
//! - [`hull`]: hardmax attention over 2-D keys by an incremental convex hull.
//!
//! # The trace
//!
//! A run starts from the program's token prefix (`tvm_frontend::program`)
//! and appends one *step* per executed instruction: its opcode, then the
//! bytes of the value it writes (4 for pushes and local/global writes, the
//! stored width for stores, 1 for OUTPUT, the 2 bytes of the target for a
//! jump, none for DROP or a BR_IF that falls through). `tvm reference
//! --trace` writes prefix and steps:
//!
//! ```text
//! CONST 05 00 00 00
//! LOCAL_GET ff 00 00 00
//! ADD 04 01+ 00 00        carry out of byte 0
//! BR_IF 2a 00             taken: jumps to 42
//! ```

pub mod exact;
pub mod hull;
pub mod reference;
pub mod transformer;
