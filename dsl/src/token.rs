//! The machine's token vocabulary and the grammar of a token stream.
//!
//! This module is the one definition shared by the reference machine
//! (`tvm-engine`) and the machine graph: both read and write exactly these
//! tokens.
//!
//! # Vocabulary (552 tokens)
//!
//! | id | token | text | meaning |
//! |---|---|---|---|
//! | 0–255 | [`Token::Byte`] | `3f` | a byte (immediate, memory image, value) |
//! | 256–511 | [`Token::Carry`] | `3f+` | a value byte whose carry (ADD) or borrow (SUB) out of this byte is 1 |
//! | 512–546 | [`Token::Op`] | `ADD` | an opcode (program instruction or executed step) |
//! | 547 | [`Token::Program`] | `<program>` | start of the program |
//! | 548 | [`Token::Memory`] | `<memory>` | memory size follows (4 bytes, little-endian) |
//! | 549 | [`Token::Data`] | `<data>` | a memory segment: base address (4 bytes), then its bytes |
//! | 550 | [`Token::Input`] | `<input>` | the input image: base address (4 bytes), then its bytes |
//! | 551 | [`Token::Run`] | `<run>` | end of the prefix; execution steps follow |
//!
//! # Grammar
//!
//! ```text
//! stream  := prefix step*
//! prefix  := <program> instr* <memory> b b b b segment* input? <run>
//! instr   := OP b b b b                      opcode, immediate little-endian
//! segment := <data> b b b b byte*            base address, then the bytes
//! input   := <input> b b b b byte*           base address, then the bytes
//! step    := OP value-byte*                  one executed instruction
//! ```
//!
//! A step is the opcode executed followed by the bytes of the value it writes,
//! least significant first, one token per byte:
//!
//! - pushes (CONST, LOCAL_GET, GLOBAL_GET, loads, comparisons, EQZ, SELECT,
//!   ADD, SUB) and writes (LOCAL_SET, LOCAL_TEE, GLOBAL_SET): the 4 bytes of the
//!   value; ADD and SUB mark each byte whose carry / borrow out is 1 with a
//!   [`Token::Carry`] token — the *explicit carry* the next byte's
//!   computation reads;
//! - STORE, STORE16, STORE8: the 4, 2 or 1 bytes stored;
//! - OUTPUT: the 1 byte written to the output;
//! - CALL, BR, RETURN, and BR_IF when taken: the 2 bytes of the new program
//!   counter (programs have at most 2^16 instructions; a taken BR_IF is thus
//!   told apart from one that falls through, which writes no byte);
//! - DROP: no byte;
//! - HALT: the 4 bytes of the exit status when it exits (the stream ends).
//!
//! A step that traps — a HALT with a trap code, or a load or store out of
//! bounds — writes its opcode and no byte, and the stream ends there.
//!
//! The program counter, stack pointer and call depth are not written: each is
//! a function of the stream (the program counter restarts at the target of
//! the latest jump and counts steps since; the stack pointer and depth are
//! running sums of per-opcode effects).

use crate::isa::Opcode;
use std::fmt;

/// Number of distinct tokens.
pub const VOCAB_SIZE: usize = 552;

const CARRY_BASE: u16 = 256;
const OP_BASE: u16 = 512;
const CONTROL_BASE: u16 = OP_BASE + Opcode::ALL.len() as u16;

/// One token of the machine's vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Token {
    /// A plain byte.
    Byte(u8),
    /// A value byte with its carry (or borrow) out set.
    Carry(u8),
    /// An opcode.
    Op(Opcode),
    /// `<program>`: the program's instructions follow.
    Program,
    /// `<memory>`: the memory size in bytes follows (4 bytes).
    Memory,
    /// `<data>`: a memory segment follows.
    Data,
    /// `<input>`: the input image follows.
    Input,
    /// `<run>`: the prefix ends; execution steps follow.
    Run,
}

/// A token text or id that is not in the vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The id is outside `0..VOCAB_SIZE`.
    #[error("token id {0} is outside the vocabulary (0..{VOCAB_SIZE})")]
    Id(u32),
    /// The text names no token.
    #[error(
        "`{0}` is not a token (expected a hex byte like `3f`, `3f+`, an opcode like `ADD`, or <program>/<memory>/<data>/<input>/<run>)"
    )]
    Text(String),
}

impl Token {
    /// The token's id in `0..VOCAB_SIZE`.
    pub const fn id(self) -> u16 {
        match self {
            Token::Byte(b) => b as u16,
            Token::Carry(b) => CARRY_BASE + b as u16,
            Token::Op(op) => OP_BASE + op.index() as u16,
            Token::Program => CONTROL_BASE,
            Token::Memory => CONTROL_BASE + 1,
            Token::Data => CONTROL_BASE + 2,
            Token::Input => CONTROL_BASE + 3,
            Token::Run => CONTROL_BASE + 4,
        }
    }

    /// The token with this id.
    pub fn from_id(id: u32) -> Result<Token, TokenError> {
        let small = u16::try_from(id).map_err(|_| TokenError::Id(id))?;
        Ok(match small {
            0..CARRY_BASE => Token::Byte(small as u8),
            CARRY_BASE..OP_BASE => Token::Carry((small - CARRY_BASE) as u8),
            OP_BASE..CONTROL_BASE => {
                Token::Op(Opcode::from_index((small - OP_BASE) as u8).ok_or(TokenError::Id(id))?)
            }
            _ => match small - CONTROL_BASE {
                0 => Token::Program,
                1 => Token::Memory,
                2 => Token::Data,
                3 => Token::Input,
                4 => Token::Run,
                _ => return Err(TokenError::Id(id)),
            },
        })
    }

    /// Parses the token's text form (as [`fmt::Display`] writes it).
    pub fn parse(text: &str) -> Result<Token, TokenError> {
        let bad = || TokenError::Text(text.to_owned());
        match text {
            "<program>" => return Ok(Token::Program),
            "<memory>" => return Ok(Token::Memory),
            "<data>" => return Ok(Token::Data),
            "<input>" => return Ok(Token::Input),
            "<run>" => return Ok(Token::Run),
            _ => {}
        }
        if let Some(op) = Opcode::from_name(text) {
            return Ok(Token::Op(op));
        }
        let (hex, carry) = match text.strip_suffix('+') {
            Some(hex) => (hex, true),
            None => (text, false),
        };
        if hex.len() != 2
            || !hex
                .bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        {
            return Err(bad());
        }
        let byte = u8::from_str_radix(hex, 16).map_err(|_| bad())?;
        Ok(if carry {
            Token::Carry(byte)
        } else {
            Token::Byte(byte)
        })
    }

    /// The byte a [`Token::Byte`] or [`Token::Carry`] carries.
    pub const fn byte(self) -> Option<u8> {
        match self {
            Token::Byte(b) | Token::Carry(b) => Some(b),
            _ => None,
        }
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Byte(b) => write!(f, "{b:02x}"),
            Token::Carry(b) => write!(f, "{b:02x}+"),
            Token::Op(op) => f.write_str(op.name()),
            Token::Program => f.write_str("<program>"),
            Token::Memory => f.write_str("<memory>"),
            Token::Data => f.write_str("<data>"),
            Token::Input => f.write_str("<input>"),
            Token::Run => f.write_str("<run>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_round_trips_through_token_and_text() {
        for id in 0..VOCAB_SIZE as u32 {
            let token = Token::from_id(id).unwrap();
            assert_eq!(u32::from(token.id()), id);
            assert_eq!(Token::parse(&token.to_string()), Ok(token));
        }
        assert!(Token::from_id(VOCAB_SIZE as u32).is_err());
    }

    #[test]
    fn malformed_text_is_rejected() {
        for text in ["", "3", "3F", "0x3f", "3f++", "+3f", "add", "<prog>", "100"] {
            assert!(Token::parse(text).is_err(), "{text}");
        }
    }
}
