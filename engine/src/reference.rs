//! The reference machine: runs a lowered [`Program`] directly and produces
//! the token trace the transformer has to generate.
//!
//! Its state follows the machine's "latest write to a key wins" semantics
//! literally (see [`tvm_dsl::isa`]): locals live at `(depth, index)` and keep
//! their values after a return; a slot never written reads as zero.

use std::fmt;
use tvm_dsl::isa::{Instr, Opcode, trap_code};
use tvm_dsl::token::Token;
use tvm_frontend::program::{Input, Program};

/// Receives the tokens of the execution steps, in order.
pub trait TraceSink {
    /// One token.
    fn token(&mut self, token: Token);
}

/// Counts tokens and keeps none.
#[derive(Default, Debug, Clone, Copy)]
pub struct CountTokens(pub u64);

impl TraceSink for CountTokens {
    #[inline]
    fn token(&mut self, _: Token) {
        self.0 += 1;
    }
}

impl TraceSink for Vec<Token> {
    #[inline]
    fn token(&mut self, token: Token) {
        self.push(token);
    }
}

/// Writes the trace as text: one step per line.
pub struct TextTrace<W: std::io::Write> {
    out: W,
    /// The first write error, if any (later tokens are dropped).
    pub error: Option<std::io::Error>,
    first: bool,
}

impl<W: std::io::Write> TextTrace<W> {
    /// A text trace over `out`.
    pub fn new(out: W) -> Self {
        TextTrace {
            out,
            error: None,
            first: true,
        }
    }

    /// Ends the last line and flushes.
    pub fn finish(mut self) -> std::io::Result<W> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if !self.first {
            self.out.write_all(b"\n")?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: std::io::Write> TraceSink for TextTrace<W> {
    fn token(&mut self, token: Token) {
        if self.error.is_some() {
            return;
        }
        let sep: &[u8] = match (token, self.first) {
            (_, true) => b"",
            (Token::Op(_), false) => b"\n",
            _ => b" ",
        };
        self.first = false;
        let result = self
            .out
            .write_all(sep)
            .and_then(|()| write!(self.out, "{token}"));
        if let Err(e) = result {
            self.error = Some(e);
        }
    }
}

/// The kind of a trap, as WebAssembly names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrapKind {
    /// `unreachable` executed.
    Unreachable,
    /// Division or remainder by zero.
    IntegerDivideByZero,
    /// `INT_MIN / -1`.
    IntegerOverflow,
    /// A load or store outside memory.
    OutOfBoundsMemoryAccess,
    /// Calls nested deeper than [`MAX_CALL_DEPTH`].
    CallStackExhausted,
    /// `call_indirect` with an index past the table.
    UndefinedElement,
    /// `call_indirect` to an empty table element.
    UninitializedElement,
    /// `call_indirect` to a function of another type.
    IndirectCallTypeMismatch,
    /// A load or store inside a grown memory but past the machine's
    /// supported range ([`tvm_dsl::isa::MAX_MEMORY`]): the program needs
    /// more memory than the machine addresses.
    MemoryLimit,
}

impl TrapKind {
    /// The trap a trapping `HALT` with this code means (`None` for the
    /// exit code 0 and unknown codes).
    pub const fn from_code(code: u32) -> Option<TrapKind> {
        Some(match code {
            trap_code::UNREACHABLE => TrapKind::Unreachable,
            trap_code::DIVIDE_BY_ZERO => TrapKind::IntegerDivideByZero,
            trap_code::OVERFLOW => TrapKind::IntegerOverflow,
            trap_code::UNDEFINED_ELEMENT => TrapKind::UndefinedElement,
            trap_code::UNINITIALIZED_ELEMENT => TrapKind::UninitializedElement,
            trap_code::INDIRECT_CALL_TYPE_MISMATCH => TrapKind::IndirectCallTypeMismatch,
            trap_code::OUT_OF_BOUNDS => TrapKind::OutOfBoundsMemoryAccess,
            trap_code::MEMORY_LIMIT => TrapKind::MemoryLimit,
            _ => return None,
        })
    }
}

impl fmt::Display for TrapKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrapKind::Unreachable => "unreachable",
            TrapKind::IntegerDivideByZero => "integer divide by zero",
            TrapKind::IntegerOverflow => "integer overflow",
            TrapKind::OutOfBoundsMemoryAccess => "out of bounds memory access",
            TrapKind::CallStackExhausted => "call stack exhausted",
            TrapKind::UndefinedElement => "undefined element",
            TrapKind::UninitializedElement => "uninitialized element",
            TrapKind::IndirectCallTypeMismatch => "indirect call type mismatch",
            TrapKind::MemoryLimit => {
                return write!(
                    f,
                    "memory past the machine's supported range of {} bytes ({} pages)",
                    tvm_dsl::isa::MAX_MEMORY,
                    tvm_dsl::isa::MAX_MEMORY / 65536
                );
            }
        })
    }
}

/// The deepest call nesting the machine allows (the transformer's bound).
pub use tvm_dsl::isa::MAX_CALL_DEPTH;

/// The most values the operand stack may hold (lowered programs stay far
/// below: their height per frame is bounded statically; only a hand-made
/// token file can push without bound).
pub use tvm_dsl::isa::MAX_STACK;

/// Why a run did not end with an exit status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// The program trapped.
    #[error("trap: {kind} at pc {pc}")]
    Trap {
        /// What kind.
        kind: TrapKind,
        /// The instruction that trapped.
        pc: u32,
    },
    /// The step budget ran out.
    #[error("out of fuel after {steps} steps (raise it with --fuel)")]
    OutOfFuel {
        /// Steps executed.
        steps: u64,
    },
    /// The program is not well formed (possible only for hand-made token
    /// files: lowered programs never do this).
    #[error("malformed program at pc {pc}: {message}")]
    Malformed {
        /// Where.
        pc: u32,
        /// What.
        message: &'static str,
    },
}

/// How a run ended, with what it produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// The bytes the program wrote.
    pub output: Vec<u8>,
    /// Exit status, or why there is none.
    pub result: Result<i32, RunError>,
    /// Instructions executed.
    pub steps: u64,
    /// Tokens in the execution part of the trace (after `<run>`).
    pub trace_tokens: u64,
}

/// Runs `program` on `input`, sending each step's tokens to `sink`, for at
/// most `fuel` steps.
pub fn run(program: &Program, input: &Input, fuel: u64, sink: &mut impl TraceSink) -> Run {
    let mut machine = Machine::new(program, input);
    let result = machine.execute(fuel, sink);
    Run {
        output: machine.output,
        result,
        steps: machine.steps,
        trace_tokens: machine.tokens,
    }
}

struct Machine<'p> {
    code: &'p [Instr],
    memory: Vec<u8>,
    stack: Vec<u32>,
    /// Locals of every depth, `stride` per depth.
    locals: Vec<u32>,
    stride: usize,
    globals: Vec<u32>,
    returns: Vec<u32>,
    depth: u32,
    output: Vec<u8>,
    steps: u64,
    tokens: u64,
}

impl<'p> Machine<'p> {
    fn new(program: &'p Program, input: &Input) -> Self {
        let mut memory = vec![0u8; program.memory_size as usize];
        let inputs = input.segments(program.memory_size);
        for segment in program.data.iter().chain(&inputs) {
            let base = segment.base as usize;
            if let Some(dst) = memory.get_mut(base..base + segment.bytes.len()) {
                dst.copy_from_slice(&segment.bytes);
            }
        }
        let max_index = |ops: &[Opcode]| {
            program
                .instrs
                .iter()
                .filter(|i| ops.contains(&i.op))
                .map(|i| i.imm as usize + 1)
                .max()
                .unwrap_or(0)
        };
        let stride = max_index(&[Opcode::LocalGet, Opcode::LocalSet, Opcode::LocalTee]).max(1);
        let globals = vec![0; max_index(&[Opcode::GlobalGet, Opcode::GlobalSet])];
        Machine {
            code: &program.instrs,
            memory,
            stack: Vec::with_capacity(1024),
            locals: vec![0; stride * 64],
            stride,
            globals,
            returns: vec![0; 64],
            depth: 0,
            output: Vec::new(),
            steps: 0,
            tokens: 0,
        }
    }

    #[inline]
    fn pop(&mut self, pc: u32) -> Result<u32, RunError> {
        self.stack.pop().ok_or(RunError::Malformed {
            pc,
            message: "operand stack underflow",
        })
    }

    #[inline]
    fn emit(&mut self, sink: &mut impl TraceSink, op: Opcode, value: u32, width: u32) {
        sink.token(Token::Op(op));
        for b in &value.to_le_bytes()[..width as usize] {
            sink.token(Token::Byte(*b));
        }
        self.tokens += 1 + u64::from(width);
    }

    /// ADD / SUB: value bytes marked with their carry (borrow) out.
    #[inline]
    fn emit_with_carry(
        &mut self,
        sink: &mut impl TraceSink,
        op: Opcode,
        a: u32,
        b: u32,
        value: u32,
    ) {
        sink.token(Token::Op(op));
        let (a, b, v) = (a.to_le_bytes(), b.to_le_bytes(), value.to_le_bytes());
        let mut carry = 0u32;
        for i in 0..4 {
            let out = if op == Opcode::Add {
                u32::from(a[i]) + u32::from(b[i]) + carry > 255
            } else {
                u32::from(a[i]) < u32::from(b[i]) + carry
            };
            carry = u32::from(out);
            sink.token(if out {
                Token::Carry(v[i])
            } else {
                Token::Byte(v[i])
            });
        }
        self.tokens += 5;
    }

    #[inline]
    fn local_slot(&mut self, index: u32) -> usize {
        let slot = self.depth as usize * self.stride + index as usize;
        if slot >= self.locals.len() {
            self.locals.resize((slot + 1).next_power_of_two(), 0);
        }
        slot
    }

    #[inline]
    fn address(&self, pc: u32, base: u32, offset: u32, width: usize) -> Result<usize, RunError> {
        let ea = u64::from(base) + u64::from(offset);
        if ea + width as u64 > self.memory.len() as u64 {
            return Err(RunError::Trap {
                kind: TrapKind::OutOfBoundsMemoryAccess,
                pc,
            });
        }
        Ok(ea as usize)
    }

    /// The address of a load or store; when it is out of bounds, the step
    /// writes its opcode alone (the stream ends there) and traps.
    #[inline]
    fn checked_address(
        &mut self,
        sink: &mut impl TraceSink,
        op: Opcode,
        pc: u32,
        base: u32,
        offset: u32,
        width: usize,
    ) -> Result<usize, RunError> {
        let result = self.address(pc, base, offset, width);
        if result.is_err() {
            self.emit(sink, op, 0, 0);
        }
        result
    }

    fn execute(&mut self, fuel: u64, sink: &mut impl TraceSink) -> Result<i32, RunError> {
        let mut pc: u32 = 0;
        loop {
            if self.steps >= fuel {
                return Err(RunError::OutOfFuel { steps: self.steps });
            }
            let Some(&Instr { op, imm }) = self.code.get(pc as usize) else {
                return Err(RunError::Malformed {
                    pc,
                    message: "the program counter left the program",
                });
            };
            self.steps += 1;
            let mut next = pc.wrapping_add(1);
            match op {
                Opcode::Halt => {
                    let status = self.pop(pc)?;
                    let kind = match imm {
                        trap_code::EXIT => {
                            self.emit(sink, op, status, 4);
                            return Ok(status as i32);
                        }
                        code => match TrapKind::from_code(code) {
                            Some(kind) => kind,
                            None => {
                                return Err(RunError::Malformed {
                                    pc,
                                    message: "unknown trap code",
                                });
                            }
                        },
                    };
                    self.emit(sink, op, 0, 0);
                    return Err(RunError::Trap { kind, pc });
                }
                Opcode::Return => {
                    if self.depth == 0 {
                        return Err(RunError::Malformed {
                            pc,
                            message: "RETURN with no call to return from",
                        });
                    }
                    next = self.returns[self.depth as usize];
                    self.depth -= 1;
                    self.emit(sink, op, next, 2);
                }
                Opcode::Call => {
                    if self.depth + 1 >= MAX_CALL_DEPTH {
                        return Err(RunError::Trap {
                            kind: TrapKind::CallStackExhausted,
                            pc,
                        });
                    }
                    self.depth += 1;
                    let d = self.depth as usize;
                    if d >= self.returns.len() {
                        self.returns.resize(d * 2, 0);
                    }
                    self.returns[d] = next;
                    next = imm;
                    self.emit(sink, op, next, 2);
                }
                Opcode::Br => {
                    next = imm;
                    self.emit(sink, op, next, 2);
                }
                Opcode::BrIf => {
                    if self.pop(pc)? != 0 {
                        next = imm;
                        self.emit(sink, op, next, 2);
                    } else {
                        self.emit(sink, op, 0, 0);
                    }
                }
                Opcode::Drop => {
                    self.pop(pc)?;
                    self.emit(sink, op, 0, 0);
                }
                Opcode::Select => {
                    let c = self.pop(pc)?;
                    let v2 = self.pop(pc)?;
                    let v1 = self.pop(pc)?;
                    let v = if c != 0 { v1 } else { v2 };
                    self.stack.push(v);
                    self.emit(sink, op, v, 4);
                }
                Opcode::LocalGet => {
                    let slot = self.local_slot(imm);
                    let v = self.locals[slot];
                    self.stack.push(v);
                    self.emit(sink, op, v, 4);
                }
                Opcode::LocalSet | Opcode::LocalTee => {
                    let v = self.pop(pc)?;
                    let slot = self.local_slot(imm);
                    self.locals[slot] = v;
                    if op == Opcode::LocalTee {
                        self.stack.push(v);
                    }
                    self.emit(sink, op, v, 4);
                }
                Opcode::GlobalGet => {
                    let v = self.globals.get(imm as usize).copied().unwrap_or(0);
                    self.stack.push(v);
                    self.emit(sink, op, v, 4);
                }
                Opcode::GlobalSet => {
                    let v = self.pop(pc)?;
                    if let Some(g) = self.globals.get_mut(imm as usize) {
                        *g = v;
                    }
                    self.emit(sink, op, v, 4);
                }
                Opcode::Load
                | Opcode::Load8S
                | Opcode::Load8U
                | Opcode::Load16S
                | Opcode::Load16U => {
                    let base = self.pop(pc)?;
                    let width = match op {
                        Opcode::Load => 4,
                        Opcode::Load16S | Opcode::Load16U => 2,
                        _ => 1,
                    };
                    let at = self.checked_address(sink, op, pc, base, imm, width)?;
                    let m = &self.memory[at..at + width];
                    let v = match op {
                        Opcode::Load => u32::from_le_bytes([m[0], m[1], m[2], m[3]]),
                        Opcode::Load16S => i16::from_le_bytes([m[0], m[1]]) as i32 as u32,
                        Opcode::Load16U => u32::from(u16::from_le_bytes([m[0], m[1]])),
                        Opcode::Load8S => m[0] as i8 as i32 as u32,
                        _ => u32::from(m[0]),
                    };
                    self.stack.push(v);
                    self.emit(sink, op, v, 4);
                }
                Opcode::Store | Opcode::Store8 | Opcode::Store16 => {
                    let v = self.pop(pc)?;
                    let base = self.pop(pc)?;
                    let width = op.value_width() as usize;
                    let at = self.checked_address(sink, op, pc, base, imm, width)?;
                    self.memory[at..at + width].copy_from_slice(&v.to_le_bytes()[..width]);
                    self.emit(sink, op, v, width as u32);
                }
                Opcode::Const => {
                    self.stack.push(imm);
                    self.emit(sink, op, imm, 4);
                }
                Opcode::Eqz => {
                    let v = u32::from(self.pop(pc)? == 0);
                    self.stack.push(v);
                    self.emit(sink, op, v, 4);
                }
                Opcode::Add | Opcode::Sub => {
                    let b = self.pop(pc)?;
                    let a = self.pop(pc)?;
                    let v = if op == Opcode::Add {
                        a.wrapping_add(b)
                    } else {
                        a.wrapping_sub(b)
                    };
                    self.stack.push(v);
                    self.emit_with_carry(sink, op, a, b, v);
                }
                Opcode::Output => {
                    let v = self.pop(pc)?;
                    self.output.push(v as u8);
                    self.emit(sink, op, v, 1);
                }
                _ => {
                    let b = self.pop(pc)?;
                    let a = self.pop(pc)?;
                    let (sa, sb) = (a as i32, b as i32);
                    let v = u32::from(match op {
                        Opcode::Eq => a == b,
                        Opcode::Ne => a != b,
                        Opcode::LtS => sa < sb,
                        Opcode::LtU => a < b,
                        Opcode::GtS => sa > sb,
                        Opcode::GtU => a > b,
                        Opcode::LeS => sa <= sb,
                        Opcode::LeU => a <= b,
                        Opcode::GeS => sa >= sb,
                        _ => a >= b, // GeU, the last comparison
                    });
                    self.stack.push(v);
                    self.emit(sink, op, v, 4);
                }
            }
            if self.stack.len() > MAX_STACK {
                return Err(RunError::Malformed {
                    pc,
                    message: "the operand stack exceeds the machine's limit",
                });
            }
            pc = next;
        }
    }
}
