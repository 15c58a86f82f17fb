//! The machine's instruction set: the 35 native opcodes.
//!
//! Every WebAssembly program tvm runs is lowered (by `tvm-engine`) into a flat
//! list of [`Instr`]s over these opcodes. Each instruction has exactly one
//! 32-bit immediate, whose meaning depends on the opcode (see [`Opcode::imm`]).
//!
//! The machine is a stack machine with:
//! - an operand stack of 32-bit values (slot `sp` written by pushes; a read of
//!   a slot returns the latest value written to it),
//! - locals keyed by `(call depth, index)`: the latest write wins, and a local
//!   never written reads as 0 (the lowering zero-initialises declared locals in
//!   each function's prologue, so stale values of an earlier activation at the
//!   same depth are never observed),
//! - globals, a byte-addressed linear memory, a call stack of return
//!   addresses keyed by call depth, a program counter, and an output stream.
//!
//! These "latest write to a key wins" semantics are exactly what hardmax
//! attention lookups compute, which is why the reference machine implements
//! them literally.

use std::fmt;

/// Trap codes carried in the immediate of [`Opcode::Halt`]. Code 0 is a normal
/// exit whose status is the popped value.
pub mod trap_code {
    /// Normal exit: the popped value is the exit status.
    pub const EXIT: u32 = 0;
    /// `unreachable` was executed.
    pub const UNREACHABLE: u32 = 1;
    /// Integer division or remainder by zero.
    pub const DIVIDE_BY_ZERO: u32 = 2;
    /// Signed division overflow (`INT_MIN / -1`).
    pub const OVERFLOW: u32 = 3;
    /// `call_indirect` with an index past the table.
    pub const UNDEFINED_ELEMENT: u32 = 4;
    /// `call_indirect` to a table element that holds no function.
    pub const UNINITIALIZED_ELEMENT: u32 = 5;
    /// `call_indirect` to a function of another type than the expected one.
    pub const INDIRECT_CALL_TYPE_MISMATCH: u32 = 6;
    /// A load or store past the current size of a memory that grows
    /// (`memory.grow`): checked by the lowering, since the machine's own
    /// bound is the memory's maximum.
    pub const OUT_OF_BOUNDS: u32 = 7;
    /// A load or store inside a grown memory but past the machine's
    /// [`super::MAX_MEMORY`]: not a WebAssembly trap, the end of the
    /// machine's supported range.
    pub const MEMORY_LIMIT: u32 = 8;
    /// Every trap code, in order.
    pub const ALL: [u32; 9] = [
        EXIT,
        UNREACHABLE,
        DIVIDE_BY_ZERO,
        OVERFLOW,
        UNDEFINED_ELEMENT,
        UNINITIALIZED_ELEMENT,
        INDIRECT_CALL_TYPE_MISMATCH,
        OUT_OF_BOUNDS,
        MEMORY_LIMIT,
    ];
}

/// The deepest call nesting the machine supports: call-stack and locals
/// lookup keys stay below 2²² (see [`MAX_LOCALS`]).
pub const MAX_CALL_DEPTH: u32 = 1 << 11;

/// The call depth a generated trace has reached, so every engine stops
/// where the reference machine traps: a `CALL` that would nest
/// [`MAX_CALL_DEPTH`] calls is refused (`call stack exhausted`), before its
/// step is generated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallDepth {
    depth: u32,
}

impl CallDepth {
    /// Accounts for a step of `op` about to be generated: `false` when it
    /// is a `CALL` the reference machine refuses (the depth is unchanged).
    pub fn admits(&mut self, op: Opcode) -> bool {
        match op {
            Opcode::Call if self.depth + 1 >= MAX_CALL_DEPTH => false,
            Opcode::Call => {
                self.depth += 1;
                true
            }
            Opcode::Return => {
                self.depth = self.depth.saturating_sub(1);
                true
            }
            _ => true,
        }
    }

    /// Calls currently open.
    pub fn depth(self) -> u32 {
        self.depth
    }
}

/// The most locals (parameters included) one function may have: locals are
/// keyed `(depth · MAX_LOCALS + index) · 4 + byte`, below 2²².
pub const MAX_LOCALS: u32 = 1 << 8;

/// The most values the operand stack may hold: stack keys are
/// `slot · 4 + byte`, below 2²².
pub const MAX_STACK: usize = 1 << 19;

/// The transformer's supported range: positions (prefix and trace tokens)
/// below this. Every lookup key and query that matters stays below it in
/// magnitude, so scores are exact integers in f64.
pub const MAX_POSITION: u64 = 1 << 22;

/// The largest linear memory the machine supports, in bytes (16 pages of
/// 64 KiB): memory keys are `address`, below 2²².
pub const MAX_MEMORY: u32 = 16 * 65536;

/// The most elements a module's table may have (`call_indirect` dispatch
/// code grows with the table).
pub const MAX_TABLE: u32 = 1 << 12;

/// The most instructions a program may have: program counters fit 16 bits,
/// and jump targets are written to the trace as 2 bytes.
pub const MAX_PROGRAM: usize = 1 << 16;

/// Every run of this many consecutive instructions contains an
/// unconditional transfer (`BR`, `CALL`, `RETURN`, `HALT`), so at most
/// `MAX_STRAIGHT_RUN - 1` steps separate a jump from the next: the program
/// counter is the latest jump target plus a count below 256, whose bytes are
/// one carry away from the target's bytes. The lowering inserts `BR` to the
/// next instruction where code would run longer.
pub const MAX_STRAIGHT_RUN: u32 = 250;

macro_rules! opcodes {
    ($( $variant:ident = $name:literal, pops $pops:literal, pushes $pushes:literal, width $width:literal, imm $imm:ident; )*) => {
        /// One of the 35 native opcodes of the tvm machine.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Opcode { $( $variant, )* }

        impl Opcode {
            /// Every opcode, in numbering order (the order of the vocabulary).
            pub const ALL: [Opcode; 35] = [ $( Opcode::$variant, )* ];

            /// The upper-case mnemonic, as written in token files.
            pub const fn name(self) -> &'static str {
                match self { $( Opcode::$variant => $name, )* }
            }

            /// How many values the instruction pops from the operand stack.
            pub const fn pops(self) -> u32 {
                match self { $( Opcode::$variant => $pops, )* }
            }

            /// How many values the instruction pushes onto the operand stack.
            pub const fn pushes(self) -> u32 {
                match self { $( Opcode::$variant => $pushes, )* }
            }

            /// Number of value bytes a step of this opcode writes to the
            /// trace (see [`crate::token`]). Branching opcodes write the 2
            /// bytes of the target when they jump; `BR_IF` writes none when
            /// it falls through, and a trapping `HALT` none.
            pub const fn value_width(self) -> u32 {
                match self { $( Opcode::$variant => $width, )* }
            }

            /// What the immediate means for this opcode.
            pub const fn imm(self) -> Immediate {
                match self { $( Opcode::$variant => Immediate::$imm, )* }
            }
        }
    };
}

opcodes! {
    Halt = "HALT", pops 1, pushes 0, width 4, imm TrapCode;
    Return = "RETURN", pops 0, pushes 0, width 2, imm Unused;
    Call = "CALL", pops 0, pushes 0, width 2, imm Target;
    Br = "BR", pops 0, pushes 0, width 2, imm Target;
    BrIf = "BR_IF", pops 1, pushes 0, width 2, imm Target;
    Drop = "DROP", pops 1, pushes 0, width 0, imm Unused;
    Select = "SELECT", pops 3, pushes 1, width 4, imm Unused;
    LocalGet = "LOCAL_GET", pops 0, pushes 1, width 4, imm Local;
    LocalSet = "LOCAL_SET", pops 1, pushes 0, width 4, imm Local;
    LocalTee = "LOCAL_TEE", pops 1, pushes 1, width 4, imm Local;
    GlobalGet = "GLOBAL_GET", pops 0, pushes 1, width 4, imm Global;
    GlobalSet = "GLOBAL_SET", pops 1, pushes 0, width 4, imm Global;
    Load = "LOAD", pops 1, pushes 1, width 4, imm Offset;
    Load8S = "LOAD8_S", pops 1, pushes 1, width 4, imm Offset;
    Load8U = "LOAD8_U", pops 1, pushes 1, width 4, imm Offset;
    Load16S = "LOAD16_S", pops 1, pushes 1, width 4, imm Offset;
    Load16U = "LOAD16_U", pops 1, pushes 1, width 4, imm Offset;
    Store = "STORE", pops 2, pushes 0, width 4, imm Offset;
    Store8 = "STORE8", pops 2, pushes 0, width 1, imm Offset;
    Store16 = "STORE16", pops 2, pushes 0, width 2, imm Offset;
    Const = "CONST", pops 0, pushes 1, width 4, imm Value;
    Eqz = "EQZ", pops 1, pushes 1, width 4, imm Unused;
    Eq = "EQ", pops 2, pushes 1, width 4, imm Unused;
    Ne = "NE", pops 2, pushes 1, width 4, imm Unused;
    LtS = "LT_S", pops 2, pushes 1, width 4, imm Unused;
    LtU = "LT_U", pops 2, pushes 1, width 4, imm Unused;
    GtS = "GT_S", pops 2, pushes 1, width 4, imm Unused;
    GtU = "GT_U", pops 2, pushes 1, width 4, imm Unused;
    LeS = "LE_S", pops 2, pushes 1, width 4, imm Unused;
    LeU = "LE_U", pops 2, pushes 1, width 4, imm Unused;
    GeS = "GE_S", pops 2, pushes 1, width 4, imm Unused;
    GeU = "GE_U", pops 2, pushes 1, width 4, imm Unused;
    Add = "ADD", pops 2, pushes 1, width 4, imm Unused;
    Sub = "SUB", pops 2, pushes 1, width 4, imm Unused;
    Output = "OUTPUT", pops 1, pushes 0, width 1, imm Unused;
}

/// The meaning of an instruction's immediate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Immediate {
    /// Ignored; always 0 in a well-formed program.
    Unused,
    /// A [`trap_code`]: 0 exits normally, anything else traps.
    TrapCode,
    /// An absolute instruction index (program counter).
    Target,
    /// A local index within the current frame.
    Local,
    /// A global index.
    Global,
    /// A byte offset added to the popped address (no wrap-around: the sum is
    /// computed in 64 bits and must lie inside memory).
    Offset,
    /// The constant pushed.
    Value,
}

impl Opcode {
    /// The opcode's number, 0..35, in [`Opcode::ALL`] order.
    pub const fn index(self) -> u8 {
        self as u8
    }

    /// The opcode numbered `index`, if any.
    pub fn from_index(index: u8) -> Option<Opcode> {
        Opcode::ALL.get(usize::from(index)).copied()
    }

    /// The opcode with this mnemonic, if any.
    pub fn from_name(name: &str) -> Option<Opcode> {
        Opcode::ALL.iter().copied().find(|op| op.name() == name)
    }

    /// Whether the instruction always transfers control (or stops): after it,
    /// the program counter is not simply the next instruction's.
    pub const fn is_unconditional(self) -> bool {
        matches!(
            self,
            Opcode::Return | Opcode::Call | Opcode::Br | Opcode::Halt
        )
    }

    /// Whether the instruction may transfer control somewhere other than the
    /// next instruction.
    pub const fn is_branch(self) -> bool {
        matches!(
            self,
            Opcode::Return | Opcode::Call | Opcode::Br | Opcode::BrIf
        )
    }
}

impl fmt::Display for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One machine instruction: an opcode and its immediate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Instr {
    /// What the instruction does.
    pub op: Opcode,
    /// Its single immediate; meaning given by [`Opcode::imm`].
    pub imm: u32,
}

impl Instr {
    /// An instruction with the given immediate.
    pub const fn new(op: Opcode, imm: u32) -> Instr {
        Instr { op, imm }
    }
}

impl fmt::Display for Instr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.op.imm() {
            Immediate::Unused => f.write_str(self.op.name()),
            _ => write!(f, "{} {}", self.op.name(), self.imm as i32),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirty_five_distinct_opcodes_round_trip_by_name_and_index() {
        let mut names: Vec<&str> = Opcode::ALL.iter().map(|op| op.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 35);
        for (i, op) in Opcode::ALL.iter().enumerate() {
            assert_eq!(usize::from(op.index()), i);
            assert_eq!(Opcode::from_index(op.index()), Some(*op));
            assert_eq!(Opcode::from_name(op.name()), Some(*op));
        }
        assert_eq!(Opcode::from_index(35), None);
        assert_eq!(Opcode::from_name("MUL"), None);
    }

    #[test]
    fn stack_effects_match_webassembly_arity() {
        // Binary arithmetic and comparisons: two in, one out.
        for op in [
            Opcode::Add,
            Opcode::Sub,
            Opcode::Eq,
            Opcode::LtU,
            Opcode::GeS,
        ] {
            assert_eq!((op.pops(), op.pushes()), (2, 1), "{op}");
        }
        assert_eq!((Opcode::Select.pops(), Opcode::Select.pushes()), (3, 1));
        assert_eq!(
            (Opcode::Store8.pops(), Opcode::Store8.value_width()),
            (2, 1)
        );
        assert_eq!(Opcode::Store16.value_width(), 2);
        assert_eq!((Opcode::LocalTee.pops(), Opcode::LocalTee.pushes()), (1, 1));
    }
}
