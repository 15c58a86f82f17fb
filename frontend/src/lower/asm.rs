//! A tiny assembler: instructions whose targets are symbolic (labels,
//! functions, lowered-operator routines), resolved to absolute program
//! counters once everything has been emitted.

use super::routine::Routine;
use tvm_dsl::isa::{Instr, MAX_STRAIGHT_RUN, Opcode};

/// A position in the instruction stream, placed once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Label(pub u32);

/// Where a branch or call goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A label.
    Label(Label),
    /// The entry of the module's function with this index.
    Function(u32),
    /// The entry of a lowered-operator routine.
    Routine(Routine),
}

#[derive(Clone, Copy, Debug)]
enum Imm {
    Value(u32),
    Target(Target),
}

/// Emitted code with symbolic targets.
#[derive(Default)]
pub struct Asm {
    code: Vec<(Opcode, Imm)>,
    labels: Vec<Option<u32>>,
    /// Index into `code` before which no peephole may look (a label was
    /// placed there, so control can arrive from elsewhere).
    barrier: usize,
    /// Instructions since the last unconditional transfer.
    straight: u32,
}

impl Asm {
    /// Number of instructions emitted so far (the next instruction's pc).
    pub fn pc(&self) -> u32 {
        self.code.len() as u32
    }

    /// A fresh, unplaced label.
    pub fn label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() as u32 - 1)
    }

    /// Places `label` at the next instruction.
    pub fn place(&mut self, label: Label) {
        self.labels[label.0 as usize] = Some(self.pc());
        self.barrier = self.code.len();
    }

    /// Emits an instruction with a plain immediate.
    pub fn op(&mut self, op: Opcode, imm: u32) {
        self.push(op, Imm::Value(imm));
    }

    /// Emits a branch or call to a symbolic target.
    pub fn jump(&mut self, op: Opcode, target: Target) {
        self.push(op, Imm::Target(target));
    }

    /// Appends an instruction, first inserting `BR` to the next instruction
    /// when the code has run [`MAX_STRAIGHT_RUN`] instructions without an
    /// unconditional transfer (the machine's invariant: see
    /// [`tvm_dsl::isa::MAX_STRAIGHT_RUN`]).
    fn push(&mut self, op: Opcode, imm: Imm) {
        if self.straight + 1 >= MAX_STRAIGHT_RUN {
            let next = self.pc() + 1;
            self.code.push((Opcode::Br, Imm::Value(next)));
            self.straight = 0;
        }
        self.code.push((op, imm));
        self.straight = if op.is_unconditional() {
            0
        } else {
            self.straight + 1
        };
    }

    /// If the last instruction is a `CONST` that nothing can jump past,
    /// removes it and returns its value (for constant-operand lowerings).
    pub fn take_const(&mut self) -> Option<u32> {
        if self.code.len() > self.barrier
            && let Some(&(Opcode::Const, Imm::Value(v))) = self.code.last()
        {
            self.code.pop();
            return Some(v);
        }
        None
    }

    /// Resolves every target. `function` and `routine` give entry pcs.
    pub fn finish(
        self,
        function: impl Fn(u32) -> Option<u32>,
        routine: impl Fn(Routine) -> Option<u32>,
    ) -> Result<Vec<Instr>, String> {
        self.code
            .into_iter()
            .map(|(op, imm)| {
                let imm = match imm {
                    Imm::Value(v) => Some(v),
                    Imm::Target(Target::Label(l)) => {
                        self.labels.get(l.0 as usize).copied().flatten()
                    }
                    Imm::Target(Target::Function(f)) => function(f),
                    Imm::Target(Target::Routine(r)) => routine(r),
                };
                imm.map(|imm| Instr::new(op, imm))
                    .ok_or_else(|| format!("unresolved target of {op} ({imm:?})"))
            })
            .collect()
    }
}

/// A point in emitted code to return to ([`Asm::rollback`]).
#[derive(Clone, Copy)]
pub struct Checkpoint {
    code: usize,
    barrier: usize,
    straight: u32,
}

impl Asm {
    /// The current point.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            code: self.code.len(),
            barrier: self.barrier,
            straight: self.straight,
        }
    }

    /// Forgets everything emitted since `at` (labels created since stay
    /// allocated; none of the remaining code refers to them).
    pub fn rollback(&mut self, at: Checkpoint) {
        self.code.truncate(at.code);
        self.barrier = at.barrier.min(at.code);
        self.straight = at.straight;
    }
}

// Short mnemonics used by the lowering and the routines.
impl Asm {
    /// `LOCAL_GET i`
    pub fn get(&mut self, i: u32) {
        self.op(Opcode::LocalGet, i);
    }
    /// `LOCAL_SET i`
    pub fn set(&mut self, i: u32) {
        self.op(Opcode::LocalSet, i);
    }
    /// `LOCAL_TEE i`
    pub fn tee(&mut self, i: u32) {
        self.op(Opcode::LocalTee, i);
    }
    /// `CONST v`
    pub fn konst(&mut self, v: u32) {
        self.op(Opcode::Const, v);
    }
    /// An instruction without immediate.
    pub fn plain(&mut self, op: Opcode) {
        self.op(op, 0);
    }
    /// `BR label`
    pub fn br(&mut self, l: Label) {
        self.jump(Opcode::Br, Target::Label(l));
    }
    /// `BR_IF label`
    pub fn br_if(&mut self, l: Label) {
        self.jump(Opcode::BrIf, Target::Label(l));
    }
    /// `CALL routine`
    pub fn call_routine(&mut self, r: Routine) {
        self.jump(Opcode::Call, Target::Routine(r));
    }
}
