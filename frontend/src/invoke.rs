//! Calling a module's exports with arguments: the entry the spec-test runner
//! (`tvm wast`), `--invoke` and the differential fuzzer use.
//!
//! [`lower_invokes`] lowers a module with an entry stub that performs the
//! given calls in order. After each call returns, the stub writes the byte
//! [`RETURNED`] and then the call's results to the output, in order, each
//! little-endian: 4 bytes for an i32, 8 for an i64. It then halts with
//! status 0. A call that traps ends the program
//! there (the run's ending is the trap); [`read_results`] splits the output
//! of any run back into values, per completed call.

use crate::decode::DecodeError;
use crate::program::Program;
use std::fmt;

/// The byte the invocation stub writes when a call returns, before its
/// results (so a call without results that returned is told from one that
/// trapped).
pub const RETURNED: u8 = 0x2e;

/// A value the machine holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    /// A 32-bit integer (its bits).
    I32(u32),
    /// A 64-bit integer (its bits).
    I64(u64),
}

impl Value {
    /// The value's type.
    pub const fn kind(self) -> ValueKind {
        match self {
            Value::I32(_) => ValueKind::I32,
            Value::I64(_) => ValueKind::I64,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::I32(v) => write!(f, "i32:{}", *v as i32),
            Value::I64(v) => write!(f, "i64:{}", *v as i64),
        }
    }
}

/// A value type the machine holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ValueKind {
    /// `i32`: one machine word.
    I32,
    /// `i64`: two machine words, low half deeper on the stack.
    I64,
}

impl ValueKind {
    /// Machine words (stack slots, locals) a value of this type takes.
    pub const fn words(self) -> u32 {
        match self {
            ValueKind::I32 => 1,
            ValueKind::I64 => 2,
        }
    }

    /// Bytes the invocation stub writes to the output for a result.
    pub const fn bytes(self) -> usize {
        match self {
            ValueKind::I32 => 4,
            ValueKind::I64 => 8,
        }
    }
}

impl fmt::Display for ValueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValueKind::I32 => "i32",
            ValueKind::I64 => "i64",
        })
    }
}

/// One call of an exported function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invoke {
    /// The export's name.
    pub export: String,
    /// The arguments, matching its parameter types.
    pub args: Vec<Value>,
}

/// A program that performs calls in order, and the result types of each.
#[derive(Clone, Debug)]
pub struct Invocation {
    /// The lowered program (entry stub first).
    pub program: Program,
    /// Each call's result types, in call order.
    pub results: Vec<Vec<ValueKind>>,
}

/// Decodes and lowers `wasm` with an entry stub that performs `invokes` in
/// order (after initialising globals and running the start function).
///
/// Errors: the module is invalid or uses something the machine lacks in
/// code the calls can reach ([`DecodeError::Unsupported`], whose
/// [`DecodeError::feature`] names the missing feature), an export is
/// missing or is not a function, or arguments do not match its type
/// ([`DecodeError::Entry`]).
pub fn lower_invokes(wasm: &[u8], invokes: &[Invoke]) -> Result<Invocation, DecodeError> {
    let module = crate::decode::decode(wasm)?;
    crate::lower::lower_entry(&module, &crate::lower::Entry::Invoke(invokes.to_vec()))
}

/// Splits a run's output into each completed call's results (see the
/// module doc for the layout). Calls whose bytes are incomplete are left
/// out; bytes past the last call are ignored.
pub fn read_results(results: &[Vec<ValueKind>], output: &[u8]) -> Vec<Vec<Value>> {
    let mut out = Vec::new();
    let mut at = 0usize;
    for kinds in results {
        let need: usize = kinds.iter().map(|k| k.bytes()).sum();
        if output.get(at) != Some(&RETURNED) {
            break;
        }
        at += 1;
        let Some(bytes) = output.get(at..at + need) else {
            break;
        };
        let mut values = Vec::with_capacity(kinds.len());
        let mut i = 0;
        for kind in kinds {
            let mut word = [0u8; 8];
            word[..kind.bytes()].copy_from_slice(&bytes[i..i + kind.bytes()]);
            let raw = u64::from_le_bytes(word);
            values.push(match kind {
                ValueKind::I32 => Value::I32(raw as u32),
                ValueKind::I64 => Value::I64(raw),
            });
            i += kind.bytes();
        }
        out.push(values);
        at += need;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_split_per_call_and_drop_incomplete_ones() {
        let kinds = vec![
            vec![ValueKind::I32],
            vec![ValueKind::I64, ValueKind::I32],
            vec![ValueKind::I32],
        ];
        let mut output = vec![RETURNED];
        output.extend(0xdead_beefu32.to_le_bytes());
        output.push(RETURNED);
        output.extend((-2i64 as u64).to_le_bytes());
        output.extend(7u32.to_le_bytes());
        output.extend([RETURNED, 1, 2]); // the third call's result is incomplete
        let values = read_results(&kinds, &output);
        assert_eq!(
            values,
            vec![
                vec![Value::I32(0xdead_beef)],
                vec![Value::I64(-2i64 as u64), Value::I32(7)],
            ]
        );
        // A call without results that returned, then one that did not.
        let empty = vec![vec![], vec![]];
        assert_eq!(read_results(&empty, &[RETURNED]), vec![vec![]]);
        assert_eq!(read_results(&empty, &[]), Vec::<Vec<Value>>::new());
    }
}
