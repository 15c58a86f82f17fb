//! Lowering: a decoded WebAssembly [`Module`] to a flat machine [`Program`].
//!
//! - Structured control flow (`block`, `loop`, `if`/`else`, `br`, `br_if`,
//!   `br_table`, `return`) becomes `BR`/`BR_IF` to absolute targets. A branch
//!   that leaves extra values on the operand stack unwinds them first (the
//!   values it carries are parked in a scratch local); a conditional one does
//!   so in an out-of-line stub, so `BR_IF` keeps its plain meaning.
//! - `br_table` becomes a chain of `LOCAL_GET; CONST i; EQ; BR_IF`.
//! - Calls: arguments stay on the operand stack; the callee's prologue pops
//!   them into its locals and zero-initialises its declared locals (locals are
//!   keyed by call depth, so a previous activation's values must never show).
//!   Every function leaves exactly its results on the stack before `RETURN`.
//! - Operators without a native opcode call a [`Routine`] (emitted once per
//!   program, only if used), except where a constant operand allows a short
//!   inline sequence (multiplication by a constant, shifts by a constant,
//!   masks with `0xff`/`0xffff` through the `__tvm_scratch` buffer).
//! - The entry stub at pc 0 initialises globals, runs the start function,
//!   passes `argc`/`argv` from the input image to `main`, and halts with
//!   `main`'s result.

pub mod asm;
pub mod routine;

use crate::decode::{DecodeError, Function, FunctionKind, Import, Module};
use crate::program::{FunctionInfo, INPUT_BASE, Program};
use asm::{Asm, Label, Target};
use routine::Routine;
use std::collections::BTreeSet;
use tvm_dsl::isa::{Opcode, trap_code};
use wasmparser::{BlockType, Operator};

/// Lowers a decoded module.
pub fn lower(module: &Module<'_>) -> Result<Program, DecodeError> {
    let mut a = Asm::default();
    let mut routines = BTreeSet::new();

    // Entry stub.
    for (g, &init) in module.globals.iter().enumerate() {
        if init != 0 {
            a.konst(init);
            a.op(Opcode::GlobalSet, g as u32);
        }
    }
    if let Some(start) = module.start {
        a.jump(Opcode::Call, Target::Function(start));
    }
    let main = &module.functions[module.main as usize];
    if main.signature.params == 2 {
        a.konst(INPUT_BASE);
        a.op(Opcode::Load, 0);
        a.konst(INPUT_BASE + 4);
    }
    a.jump(Opcode::Call, Target::Function(module.main));
    if main.signature.results == 0 {
        a.konst(0);
    }
    a.op(Opcode::Halt, trap_code::EXIT);
    let mut functions = vec![FunctionInfo {
        name: "entry".to_owned(),
        entry: 0,
        end: a.pc(),
    }];

    let mut entries = vec![None; module.functions.len()];
    for (index, function) in module.functions.iter().enumerate() {
        if let FunctionKind::Defined { locals, body } = &function.kind {
            let entry = a.pc();
            entries[index] = Some(entry);
            FunctionLowering::new(&mut a, module, function, *locals, &mut routines).run(body)?;
            functions.push(FunctionInfo {
                name: function.name.clone(),
                entry,
                end: a.pc(),
            });
        }
    }

    // Routines, including those that routines call.
    let mut pending: Vec<Routine> = routines.iter().copied().collect();
    while let Some(r) = pending.pop() {
        for &dep in r.calls() {
            if routines.insert(dep) {
                pending.push(dep);
            }
        }
    }
    let mut routine_entries = Vec::new();
    for r in routines {
        let entry = a.pc();
        r.emit(&mut a);
        routine_entries.push((r, entry));
        functions.push(FunctionInfo {
            name: r.function_name(),
            entry,
            end: a.pc(),
        });
    }

    let instrs = a
        .finish(
            |f| entries.get(f as usize).copied().flatten(),
            |r| {
                routine_entries
                    .iter()
                    .find(|(x, _)| *x == r)
                    .map(|(_, e)| *e)
            },
        )
        .map_err(|message| DecodeError::Invalid { offset: 0, message })?;
    let program = Program {
        instrs,
        memory_size: module.memory_size,
        data: module.data.clone(),
        functions,
    };
    program
        .validate()
        .map_err(|message| DecodeError::Invalid { offset: 0, message })?;
    Ok(program)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FrameKind {
    Block,
    Loop,
    If { else_label: Label },
    Function,
}

struct Frame {
    kind: FrameKind,
    /// Where a branch to this frame goes.
    label: Label,
    /// Where the frame ends.
    end: Label,
    /// Operand stack height when the frame was entered.
    height: u32,
    /// Values a branch to this frame carries.
    branch_arity: u32,
    /// Values the frame leaves at its end.
    results: u32,
    /// Code from here to the frame's end (or `else`) cannot run.
    dead: bool,
    /// The `if` had an `else`.
    has_else: bool,
}

/// An out-of-line unwinding stub for a conditional branch.
struct Stub {
    label: Label,
    keep: u32,
    drop: u32,
    target: Label,
}

struct FunctionLowering<'m, 'a> {
    a: &'m mut Asm,
    module: &'m Module<'a>,
    function: &'m Function<'a>,
    frames: Vec<Frame>,
    height: u32,
    stubs: Vec<Stub>,
    /// First scratch local (after params and declared locals).
    scratch: u32,
    routines: &'m mut BTreeSet<Routine>,
    /// An i64 value read but not yet stored (see [`PendingI64`]).
    pending_i64: Option<(PendingI64, u64)>,
}

/// i64 values are supported only in the two shapes clang emits to copy
/// memory: `i64.const; i64.store*` and `i64.load; i64.store*`. The first
/// operator is held here until the store arrives; anything else in between
/// is unsupported.
#[derive(Clone, Copy)]
enum PendingI64 {
    Const(u64),
    Load(u32),
}

/// The name of a wasmparser operator, like `I64Add`.
fn operator_name(op: &Operator<'_>) -> String {
    let text = format!("{op:?}");
    text.split([' ', '{', '(']).next().unwrap_or("?").to_owned()
}

/// Scratch locals, relative to the first one.
const KEEP: u32 = 0;
const TABLE_INDEX: u32 = 1;
const TEMP: u32 = 2;
const TEMP2: u32 = 3;
const TEMP3: u32 = 4;
const TEMP4: u32 = 5;

impl<'m, 'a> FunctionLowering<'m, 'a> {
    fn new(
        a: &'m mut Asm,
        module: &'m Module<'a>,
        function: &'m Function<'a>,
        locals: u32,
        routines: &'m mut BTreeSet<Routine>,
    ) -> Self {
        let scratch = function.signature.params + locals;
        FunctionLowering {
            a,
            module,
            function,
            frames: Vec::new(),
            height: 0,
            stubs: Vec::new(),
            scratch,
            routines,
            pending_i64: None,
        }
    }

    fn unsupported(&self, what: impl Into<String>, offset: u64) -> DecodeError {
        DecodeError::Unsupported {
            what: what.into(),
            function: self.function.name.clone(),
            offset,
        }
    }

    fn run(mut self, body: &wasmparser::FunctionBody<'a>) -> Result<(), DecodeError> {
        let sig = self.function.signature;
        // Prologue: arguments into locals, declared locals to zero.
        for p in (0..sig.params).rev() {
            self.a.set(p);
        }
        for l in sig.params..self.scratch {
            self.a.konst(0);
            self.a.set(l);
        }
        let (label, end) = (self.a.label(), self.a.label());
        self.frames.push(Frame {
            kind: FrameKind::Function,
            label,
            end,
            height: 0,
            branch_arity: sig.results,
            results: sig.results,
            dead: false,
            has_else: false,
        });
        let mut reader = body
            .get_operators_reader()
            .map_err(|e| DecodeError::Invalid {
                offset: e.offset(),
                message: e.message().to_owned(),
            })?;
        while !reader.eof() {
            let (op, offset) = reader
                .read_with_offset()
                .map_err(|e| DecodeError::Invalid {
                    offset: e.offset(),
                    message: e.message().to_owned(),
                })?;
            self.operator(op, offset)?;
            if self.frames.is_empty() {
                break;
            }
        }
        // Unwinding stubs of conditional branches.
        for stub in std::mem::take(&mut self.stubs) {
            self.a.place(stub.label);
            self.unwind(stub.keep, stub.drop);
            self.a.br(stub.target);
        }
        Ok(())
    }

    fn local(&self, k: u32) -> u32 {
        self.scratch + k
    }

    fn dead(&self) -> bool {
        self.frames.last().is_some_and(|f| f.dead)
    }

    fn block_results(&self, ty: BlockType, offset: u64) -> Result<u32, DecodeError> {
        match ty {
            BlockType::Empty => Ok(0),
            BlockType::Type(wasmparser::ValType::I32) => Ok(1),
            BlockType::Type(t) => Err(self.unsupported(format!("a block of type {t}"), offset)),
            BlockType::FuncType(_) => Err(self.unsupported("a multi-value block", offset)),
        }
    }

    /// Emits a native instruction and tracks the stack height.
    fn native(&mut self, op: Opcode, imm: u32) {
        self.a.op(op, imm);
        self.height = self.height + op.pushes() - op.pops();
    }

    /// Drops `drop` values beneath the top `keep` ones.
    fn unwind(&mut self, keep: u32, drop: u32) {
        if drop == 0 {
            return;
        }
        if keep == 1 {
            let k = self.local(KEEP);
            self.a.set(k);
            for _ in 0..drop {
                self.a.plain(Opcode::Drop);
            }
            self.a.get(k);
        } else {
            for _ in 0..drop {
                self.a.plain(Opcode::Drop);
            }
        }
    }

    /// A branch to the frame `depth` levels out; for `BR_IF` the condition
    /// has already been popped from the tracked height.
    fn branch(&mut self, depth: u32, conditional: bool) {
        let frame = &self.frames[self.frames.len() - 1 - depth as usize];
        let keep = frame.branch_arity;
        let drop = self.height - frame.height - keep;
        // A branch to the function frame is a return; its conditional form
        // goes through a stub to the function's end label, which returns.
        let is_return = frame.kind == FrameKind::Function;
        let target = if is_return { frame.end } else { frame.label };
        match (conditional, drop, is_return) {
            (false, _, true) => {
                self.unwind(keep, drop);
                self.a.plain(Opcode::Return);
            }
            (false, _, false) => {
                self.unwind(keep, drop);
                self.a.br(target);
            }
            (true, 0, false) => self.a.br_if(target),
            (true, _, _) => {
                let label = self.a.label();
                self.a.br_if(label);
                self.stubs.push(Stub {
                    label,
                    keep,
                    drop,
                    target,
                });
            }
        }
    }

    fn set_dead(&mut self) {
        if let Some(f) = self.frames.last_mut() {
            f.dead = true;
        }
    }

    fn operator(&mut self, op: Operator<'a>, offset: u64) -> Result<(), DecodeError> {
        if let Some((pending, at)) = self.pending_i64.take() {
            return self.finish_i64(pending, at, op, offset);
        }
        // Structure is tracked even in dead code; nothing is emitted there.
        if self.dead() {
            match op {
                Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                    let (label, end) = (self.a.label(), self.a.label());
                    self.frames.push(Frame {
                        kind: FrameKind::Block,
                        label,
                        end,
                        height: self.height,
                        branch_arity: 0,
                        results: 0,
                        dead: true,
                        has_else: false,
                    });
                    return Ok(());
                }
                Operator::Else | Operator::End => {}
                _ => return Ok(()),
            }
        }
        match op {
            Operator::Nop => {}
            Operator::Unreachable => {
                self.a.konst(0);
                self.a.op(Opcode::Halt, trap_code::UNREACHABLE);
                self.set_dead();
            }
            Operator::Block { blockty } | Operator::Loop { blockty } => {
                let results = self.block_results(blockty, offset)?;
                let is_loop = matches!(op, Operator::Loop { .. });
                let (label, end) = (self.a.label(), self.a.label());
                if is_loop {
                    self.a.place(label);
                }
                self.frames.push(Frame {
                    kind: if is_loop {
                        FrameKind::Loop
                    } else {
                        FrameKind::Block
                    },
                    label: if is_loop { label } else { end },
                    end,
                    height: self.height,
                    branch_arity: if is_loop { 0 } else { results },
                    results,
                    dead: false,
                    has_else: false,
                });
            }
            Operator::If { blockty } => {
                let results = self.block_results(blockty, offset)?;
                self.height -= 1;
                let (else_label, end) = (self.a.label(), self.a.label());
                self.a.plain(Opcode::Eqz);
                self.a.br_if(else_label);
                self.frames.push(Frame {
                    kind: FrameKind::If { else_label },
                    label: end,
                    end,
                    height: self.height,
                    branch_arity: results,
                    results,
                    dead: false,
                    has_else: false,
                });
            }
            Operator::Else => {
                let Some(frame) = self.frames.last_mut() else {
                    return Ok(());
                };
                if let FrameKind::If { else_label } = frame.kind {
                    let (end, was_dead) = (frame.end, frame.dead);
                    frame.dead = false;
                    frame.has_else = true;
                    self.height = frame.height;
                    if !was_dead {
                        self.a.br(end);
                    }
                    self.a.place(else_label);
                } else {
                    // Else of a frame opened in dead code: stays dead.
                    frame.has_else = true;
                }
            }
            Operator::End => {
                let Some(frame) = self.frames.pop() else {
                    return Ok(());
                };
                let outer_dead = self.dead();
                if frame.kind == FrameKind::Function {
                    if !frame.dead {
                        let drop = self.height - frame.results;
                        self.unwind(frame.results, drop);
                        self.a.plain(Opcode::Return);
                    }
                    self.a.place(frame.end);
                    // The end label of a function is only a target of
                    // conditional returns: their stubs unwind, then jump here.
                    if !self.stubs.is_empty() {
                        self.a.plain(Opcode::Return);
                    }
                    return Ok(());
                }
                if outer_dead && frame.dead {
                    // A frame opened in dead code.
                    return Ok(());
                }
                if let FrameKind::If { else_label } = frame.kind
                    && !frame.has_else
                {
                    self.a.place(else_label);
                }
                self.a.place(frame.end);
                self.height = frame.height + frame.results;
            }
            Operator::Br { relative_depth } => {
                self.branch(relative_depth, false);
                self.set_dead();
            }
            Operator::BrIf { relative_depth } => {
                self.height -= 1;
                self.branch(relative_depth, true);
            }
            Operator::BrTable { targets } => {
                self.height -= 1;
                let index = self.local(TABLE_INDEX);
                self.a.set(index);
                let default = targets.default();
                for (i, target) in targets.targets().enumerate() {
                    let target = target.map_err(|e| DecodeError::Invalid {
                        offset: e.offset(),
                        message: e.message().to_owned(),
                    })?;
                    if target == default {
                        continue;
                    }
                    self.a.get(index);
                    self.a.konst(i as u32);
                    self.a.plain(Opcode::Eq);
                    self.branch(target, true);
                }
                self.branch(default, false);
                self.set_dead();
            }
            Operator::Return => {
                let depth = self.frames.len() as u32 - 1;
                self.branch(depth, false);
                self.set_dead();
            }
            Operator::Call { function_index } => self.call(function_index),
            Operator::Drop => self.native(Opcode::Drop, 0),
            Operator::Select => self.native(Opcode::Select, 0),
            Operator::TypedSelect {
                ty: wasmparser::ValType::I32,
            } => self.native(Opcode::Select, 0),
            Operator::LocalGet { local_index } => self.native(Opcode::LocalGet, local_index),
            Operator::LocalSet { local_index } => self.native(Opcode::LocalSet, local_index),
            Operator::LocalTee { local_index } => self.native(Opcode::LocalTee, local_index),
            Operator::GlobalGet { global_index } => self.native(Opcode::GlobalGet, global_index),
            Operator::GlobalSet { global_index } => self.native(Opcode::GlobalSet, global_index),
            Operator::I32Load { memarg } => self.memory(Opcode::Load, memarg, offset)?,
            Operator::I32Load8S { memarg } => self.memory(Opcode::Load8S, memarg, offset)?,
            Operator::I32Load8U { memarg } => self.memory(Opcode::Load8U, memarg, offset)?,
            Operator::I32Load16S { memarg } => self.memory(Opcode::Load16S, memarg, offset)?,
            Operator::I32Load16U { memarg } => self.memory(Opcode::Load16U, memarg, offset)?,
            Operator::I32Store { memarg } => self.memory(Opcode::Store, memarg, offset)?,
            Operator::I32Store8 { memarg } => self.memory(Opcode::Store8, memarg, offset)?,
            Operator::I32Store16 { memarg } => self.memory(Opcode::Store16, memarg, offset)?,
            Operator::I64Const { value } => {
                self.pending_i64 = Some((PendingI64::Const(value as u64), offset))
            }
            Operator::I64Load { memarg } => {
                let imm = self.memarg(Opcode::Load, memarg, offset)?;
                self.pending_i64 = Some((PendingI64::Load(imm), offset));
            }
            Operator::MemorySize { mem: 0 } => {
                self.native(Opcode::Const, self.module.memory_size / 65536);
            }
            Operator::I32Const { value } => self.native(Opcode::Const, value as u32),
            Operator::I32Eqz => self.native(Opcode::Eqz, 0),
            Operator::I32Eq => self.native(Opcode::Eq, 0),
            Operator::I32Ne => self.native(Opcode::Ne, 0),
            Operator::I32LtS => self.native(Opcode::LtS, 0),
            Operator::I32LtU => self.native(Opcode::LtU, 0),
            Operator::I32GtS => self.native(Opcode::GtS, 0),
            Operator::I32GtU => self.native(Opcode::GtU, 0),
            Operator::I32LeS => self.native(Opcode::LeS, 0),
            Operator::I32LeU => self.native(Opcode::LeU, 0),
            Operator::I32GeS => self.native(Opcode::GeS, 0),
            Operator::I32GeU => self.native(Opcode::GeU, 0),
            Operator::I32Add => self.native(Opcode::Add, 0),
            Operator::I32Sub => self.native(Opcode::Sub, 0),
            Operator::I32Mul => self.lowered(Routine::Mul),
            Operator::I32DivS => self.lowered(Routine::DivS),
            Operator::I32DivU => self.lowered(Routine::DivU),
            Operator::I32RemS => self.lowered(Routine::RemS),
            Operator::I32RemU => self.lowered(Routine::RemU),
            Operator::I32And => self.lowered(Routine::And),
            Operator::I32Or => self.lowered(Routine::Or),
            Operator::I32Xor => self.lowered(Routine::Xor),
            Operator::I32Shl => self.lowered(Routine::Shl),
            Operator::I32ShrS => self.lowered(Routine::ShrS),
            Operator::I32ShrU => self.lowered(Routine::ShrU),
            Operator::I32Rotl => self.lowered(Routine::Rotl),
            Operator::I32Rotr => self.lowered(Routine::Rotr),
            Operator::I32Clz => self.lowered(Routine::Clz),
            Operator::I32Ctz => self.lowered(Routine::Ctz),
            Operator::I32Popcnt => self.lowered(Routine::Popcnt),
            Operator::I32Extend8S => self.lowered(Routine::Extend8S),
            Operator::I32Extend16S => self.lowered(Routine::Extend16S),
            other => {
                return Err(
                    self.unsupported(format!("instruction {}", operator_name(&other)), offset)
                );
            }
        }
        Ok(())
    }

    /// Emits the store that completes an i64 copy (see [`PendingI64`]).
    fn finish_i64(
        &mut self,
        pending: PendingI64,
        at: u64,
        op: Operator<'a>,
        offset: u64,
    ) -> Result<(), DecodeError> {
        let (memarg, width) = match op {
            Operator::I64Store { memarg } => (memarg, 8),
            Operator::I64Store32 { memarg } => (memarg, 4),
            Operator::I64Store16 { memarg } => (memarg, 2),
            Operator::I64Store8 { memarg } => (memarg, 1),
            other => {
                return Err(self.unsupported(
                    format!(
                        "an i64 value used by {} (i64 is supported only to copy memory: \
                         i64.const or i64.load followed by i64.store)",
                        operator_name(&other)
                    ),
                    at,
                ));
            }
        };
        let store_at = self.memarg(Opcode::Store, memarg, offset)?;
        let high_at = store_at.checked_add(4).ok_or_else(|| {
            self.unsupported("an i64.store whose offset overflows 32 bits", offset)
        })?;
        let (addr, src) = (self.local(TEMP), self.local(TEMP2));
        let (low_store, high) = match width {
            8 => (Opcode::Store, true),
            4 => (Opcode::Store, false),
            2 => (Opcode::Store16, false),
            _ => (Opcode::Store8, false),
        };
        match pending {
            PendingI64::Const(value) => {
                // stack: [addr]; the high half first, so that an
                // out-of-bounds store traps before anything is written.
                self.a.set(addr);
                if high {
                    self.a.get(addr);
                    self.a.konst((value >> 32) as u32);
                    self.a.op(Opcode::Store, high_at);
                }
                self.a.get(addr);
                self.a.konst(value as u32);
                self.a.op(low_store, store_at);
                self.height -= 1;
            }
            PendingI64::Load(load_at) => {
                // stack: [dst, src]; both halves are read before either is
                // written (the ranges may overlap), the high half first so
                // that an out-of-bounds access traps before any write.
                let load_high = load_at.checked_add(4).ok_or_else(|| {
                    self.unsupported("an i64.load whose offset overflows 32 bits", at)
                })?;
                let (hi, lo) = (self.local(TEMP3), self.local(TEMP4));
                self.a.set(src);
                self.a.set(addr);
                self.a.get(src);
                self.a.op(Opcode::Load, load_high);
                self.a.set(hi);
                self.a.get(src);
                self.a.op(Opcode::Load, load_at);
                self.a.set(lo);
                if high {
                    self.a.get(addr);
                    self.a.get(hi);
                    self.a.op(Opcode::Store, high_at);
                }
                self.a.get(addr);
                self.a.get(lo);
                self.a.op(low_store, store_at);
                self.height -= 2;
            }
        }
        Ok(())
    }

    fn memarg(
        &self,
        op: Opcode,
        memarg: wasmparser::MemArg,
        offset: u64,
    ) -> Result<u32, DecodeError> {
        if memarg.target != wasmparser::MemArgTarget::Memory(0) || memarg.ordering.is_some() {
            return Err(self.unsupported(format!("{op} on a memory other than memory 0"), offset));
        }
        u32::try_from(memarg.offset)
            .map_err(|_| self.unsupported(format!("{op} with a 64-bit offset"), offset))
    }

    fn memory(
        &mut self,
        op: Opcode,
        memarg: wasmparser::MemArg,
        offset: u64,
    ) -> Result<(), DecodeError> {
        let imm = self.memarg(op, memarg, offset)?;
        self.native(op, imm);
        Ok(())
    }

    fn call(&mut self, index: u32) {
        let callee = &self.module.functions[index as usize];
        let sig = callee.signature;
        match callee.kind {
            FunctionKind::Import(Import::Output) => self.a.plain(Opcode::Output),
            FunctionKind::Import(Import::Exit) => self.a.op(Opcode::Halt, trap_code::EXIT),
            FunctionKind::Defined { .. } => self.a.jump(Opcode::Call, Target::Function(index)),
        }
        self.height = self.height + sig.results - sig.params;
    }

    /// An operator without a native opcode: an inline sequence when an
    /// operand is a suitable constant, else a call to its routine.
    fn lowered(&mut self, r: Routine) {
        let arity = r.arity();
        self.height = self.height + 1 - arity;
        if arity == 2 {
            if let Some(c) = self.a.take_const() {
                if self.constant_operand(r, c) {
                    return;
                }
                self.a.konst(c);
            }
        } else if let (Routine::Extend8S | Routine::Extend16S, Some(s)) = (r, self.module.scratch) {
            let (store, load) = if r == Routine::Extend8S {
                (Opcode::Store8, Opcode::Load8S)
            } else {
                (Opcode::Store16, Opcode::Load16S)
            };
            self.through_scratch(s, store, 0, load, 0);
            return;
        }
        self.routines.insert(r);
        self.a.call_routine(r);
    }

    /// Stores the value on top of the stack into the scratch buffer `s` with
    /// `store` at `s + store_at`, and loads it back with `load` from
    /// `s + load_at`.
    fn through_scratch(
        &mut self,
        s: u32,
        store: Opcode,
        store_at: u32,
        load: Opcode,
        load_at: u32,
    ) {
        let t = self.local(TEMP);
        self.a.set(t);
        self.a.konst(s);
        self.a.get(t);
        self.a.op(store, store_at);
        self.a.konst(s);
        self.a.op(load, load_at);
    }

    /// Emits `x op c` for the `x` on the stack, if there is a short inline
    /// form; returns whether it did.
    fn constant_operand(&mut self, r: Routine, c: u32) -> bool {
        let scratch = self.module.scratch;
        let t = self.local(TEMP);
        let acc = self.local(TEMP2);
        match r {
            Routine::Mul => {
                if c == 0 {
                    self.a.plain(Opcode::Drop);
                    self.a.konst(0);
                    return true;
                }
                // Double-and-add over the bits of c below its top bit.
                self.a.set(t);
                self.a.get(t);
                for bit in (0..31 - c.leading_zeros()).rev() {
                    self.a.tee(acc);
                    self.a.get(acc);
                    self.a.plain(Opcode::Add);
                    if c >> bit & 1 == 1 {
                        self.a.get(t);
                        self.a.plain(Opcode::Add);
                    }
                }
                true
            }
            Routine::Shl => {
                let k = c % 32;
                for _ in 0..k {
                    self.a.tee(acc);
                    self.a.get(acc);
                    self.a.plain(Opcode::Add);
                }
                true
            }
            Routine::ShrU | Routine::ShrS if c.is_multiple_of(32) => true,
            Routine::ShrU | Routine::ShrS => {
                let signed = r == Routine::ShrS;
                let Some(s) = scratch else { return false };
                match (c % 32, signed) {
                    (24, false) => self.through_scratch(s, Opcode::Store, 0, Opcode::Load8U, 3),
                    (24, true) => self.through_scratch(s, Opcode::Store, 0, Opcode::Load8S, 3),
                    (16, false) => self.through_scratch(s, Opcode::Store, 0, Opcode::Load16U, 2),
                    (16, true) => self.through_scratch(s, Opcode::Store, 0, Opcode::Load16S, 2),
                    (8, false) => {
                        // bytes 1..4 of x, with a zero byte above.
                        self.a.set(t);
                        self.a.konst(s);
                        self.a.konst(0);
                        self.a.op(Opcode::Store, 4);
                        self.through_scratch_value(s, t);
                    }
                    _ => return false,
                }
                true
            }
            Routine::And => match (c, scratch) {
                (0, _) => {
                    self.a.plain(Opcode::Drop);
                    self.a.konst(0);
                    true
                }
                (u32::MAX, _) => true,
                (mask, Some(s)) if mask.wrapping_add(1).is_power_of_two() && mask <= 0xffff => {
                    self.low_bits(s, mask.count_ones());
                    true
                }
                _ => false,
            },
            // x mod 2^k is x & (2^k - 1).
            Routine::RemU if c.is_power_of_two() && c <= 0x1_0000 => match scratch {
                Some(s) => {
                    self.low_bits(s, c.trailing_zeros());
                    true
                }
                None => false,
            },
            // x / 2^k for whole bytes is a byte shift.
            Routine::DivU if c == 1 => true,
            Routine::DivU if matches!(c, 0x100 | 0x1_0000 | 0x100_0000) => {
                self.constant_operand(Routine::ShrU, c.trailing_zeros())
            }
            Routine::Or | Routine::Xor => c == 0,
            Routine::Rotl | Routine::Rotr => c.is_multiple_of(32),
            _ => false,
        }
    }

    /// `x & (2^bits - 1)` for `bits <= 16`: the low byte or half-word
    /// through the scratch buffer, then the bits above `bits` subtracted
    /// from the top down (at most 7 compare-and-subtract steps).
    fn low_bits(&mut self, s: u32, bits: u32) {
        if bits == 0 {
            self.a.plain(Opcode::Drop);
            self.a.konst(0);
            return;
        }
        let (store, load, width) = if bits <= 8 {
            (Opcode::Store8, Opcode::Load8U, 8)
        } else {
            (Opcode::Store16, Opcode::Load16U, 16)
        };
        self.through_scratch(s, store, 0, load, 0);
        let v = self.local(TEMP);
        if bits < width {
            self.a.set(v);
            for bit in (bits..width).rev() {
                // v = v >=u 2^bit ? v - 2^bit : v
                let p = 1u32 << bit;
                self.a.get(v);
                self.a.konst(p);
                self.a.plain(Opcode::Sub);
                self.a.get(v);
                self.a.get(v);
                self.a.konst(p);
                self.a.plain(Opcode::GeU);
                self.a.plain(Opcode::Select);
                self.a.set(v);
            }
            self.a.get(v);
        }
    }

    /// Stores local `t` at `s` and loads 4 bytes from `s + 1`.
    fn through_scratch_value(&mut self, s: u32, t: u32) {
        self.a.konst(s);
        self.a.get(t);
        self.a.op(Opcode::Store, 0);
        self.a.konst(s);
        self.a.op(Opcode::Load, 1);
    }
}
