//! Lowering one function body: control flow, locals, globals, memory and
//! calls, with the wasm type of every operand-stack entry tracked so that
//! heights translate to machine words (an i64 is two). i64 arithmetic is in
//! [`super::wide`].

use super::asm::{Asm, Label, Target};
use super::bulk::Bulk;
use super::dispatch::Dispatchers;
use super::inline::InlineForm;
use super::routine::Routine;
use super::{Callees, Layout};
use crate::decode::{
    DecodeError, Feature, Function, FunctionKind, Import, Module, Signature, operator_name,
    value_kind,
};
use crate::invoke::ValueKind;
use std::collections::BTreeSet;
use tvm_dsl::isa::{Opcode, trap_code};
use wasmparser::{BlockType, Operator, ValType};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum FrameKind {
    Block,
    Loop,
    If { else_label: Label },
    Function,
}

pub(super) struct Frame {
    pub kind: FrameKind,
    /// Where a branch to this frame goes.
    pub label: Label,
    /// Where the frame ends.
    pub end: Label,
    /// Operand stack entries below the frame's parameters.
    pub height: usize,
    /// The frame's parameter types.
    pub params: Vec<ValueKind>,
    /// The frame's result types.
    pub results: Vec<ValueKind>,
    /// Code from here to the frame's end (or `else`) cannot run.
    pub dead: bool,
    /// The `if` had an `else`.
    pub has_else: bool,
}

impl Frame {
    /// The types a branch to this frame carries.
    fn branch_types(&self) -> &[ValueKind] {
        if self.kind == FrameKind::Loop {
            &self.params
        } else {
            &self.results
        }
    }
}

/// An out-of-line unwinding stub for a conditional branch.
struct Stub {
    label: Label,
    keep: u32,
    drop: u32,
    target: Label,
}

/// Scratch locals, relative to the first one (after params and declared
/// locals). `KEEP` and above park the values a branch carries.
pub(super) const TABLE_INDEX: u32 = 0;
pub(super) const TEMP: u32 = 1;
pub(super) const TEMP2: u32 = 2;
pub(super) const TEMP3: u32 = 3;
pub(super) const TEMP4: u32 = 4;
pub(super) const TEMP5: u32 = 5;
pub(super) const TEMP6: u32 = 6;
pub(super) const TEMP7: u32 = 7;
const KEEP: u32 = 9;

/// Words the values of `kinds` take.
pub(super) fn words(kinds: &[ValueKind]) -> u32 {
    kinds.iter().map(|k| k.words()).sum()
}

pub(super) struct FunctionLowering<'m, 'a> {
    pub a: &'m mut Asm,
    pub module: &'m Module<'a>,
    pub layout: &'m Layout,
    pub function: &'m Function<'a>,
    sig: Signature,
    /// The first machine local of each wasm local (parameters first).
    local_base: Vec<u32>,
    /// The type of each wasm local.
    local_kind: Vec<ValueKind>,
    frames: Vec<Frame>,
    /// The wasm type of every operand-stack entry.
    pub stack: Vec<ValueKind>,
    stubs: Vec<Stub>,
    /// First scratch local.
    scratch: u32,
    pub routines: &'m mut BTreeSet<Routine>,
    dispatchers: &'m mut Dispatchers,
    bulk: &'m mut Bulk,
    callees: &'m mut Callees,
    /// Where an access past a grown memory's current size halts.
    oob: Option<Label>,
    /// Where an access past the machine's memory halts.
    limit: Option<Label>,
}

impl<'m, 'a> FunctionLowering<'m, 'a> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        a: &'m mut Asm,
        module: &'m Module<'a>,
        layout: &'m Layout,
        function: &'m Function<'a>,
        locals: &[ValType],
        routines: &'m mut BTreeSet<Routine>,
        dispatchers: &'m mut Dispatchers,
        bulk: &'m mut Bulk,
        callees: &'m mut Callees,
    ) -> Result<Self, DecodeError> {
        let sig = function.signature.clone()?;
        let offset = match &function.kind {
            FunctionKind::Defined { body, .. } => body.range().start,
            FunctionKind::Import(_) => 0,
        };
        let mut local_kind = sig.params.clone();
        for ty in locals {
            local_kind.push(
                value_kind(*ty, &function.name, offset).map_err(|e| match e {
                    DecodeError::Unsupported {
                        what,
                        function,
                        offset,
                        feature,
                    } => DecodeError::Unsupported {
                        what: format!("a local of {what}"),
                        function,
                        offset,
                        feature,
                    },
                    other => other,
                })?,
            );
        }
        let mut local_base = Vec::with_capacity(local_kind.len());
        let mut next = 0u32;
        for k in &local_kind {
            local_base.push(next);
            next += k.words();
        }
        Ok(FunctionLowering {
            a,
            module,
            layout,
            function,
            sig,
            local_base,
            local_kind,
            frames: Vec::new(),
            stack: Vec::new(),
            stubs: Vec::new(),
            scratch: next,
            routines,
            dispatchers,
            bulk,
            callees,
            oob: None,
            limit: None,
        })
    }

    pub fn unsupported(&self, what: impl Into<String>, offset: u64) -> DecodeError {
        let what = what.into();
        let feature = Feature::of_operator(what.trim_start_matches("instruction "));
        DecodeError::Unsupported {
            what,
            function: self.function.name.clone(),
            offset,
            feature,
        }
    }

    pub fn run(mut self, body: &wasmparser::FunctionBody<'a>) -> Result<(), DecodeError> {
        // Prologue: arguments into locals, declared locals to zero.
        let params = self.sig.param_words();
        for p in (0..params).rev() {
            self.a.set(p);
        }
        for l in params..self.scratch {
            self.a.konst(0);
            self.a.set(l);
        }
        let (label, end) = (self.a.label(), self.a.label());
        self.frames.push(Frame {
            kind: FrameKind::Function,
            label,
            end,
            height: 0,
            params: Vec::new(),
            results: self.sig.results.clone(),
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
        for (label, code) in [
            (self.oob, trap_code::OUT_OF_BOUNDS),
            (self.limit, trap_code::MEMORY_LIMIT),
        ] {
            if let Some(label) = label {
                self.a.place(label);
                self.a.konst(0);
                self.a.op(Opcode::Halt, code);
            }
        }
        Ok(())
    }

    /// Scratch local `k`.
    pub fn local(&self, k: u32) -> u32 {
        self.scratch + k
    }

    fn dead(&self) -> bool {
        self.frames.last().is_some_and(|f| f.dead)
    }

    /// Pops the type of the top stack entry (validation guarantees one).
    pub fn pop(&mut self) -> ValueKind {
        self.stack.pop().unwrap_or(ValueKind::I32)
    }

    /// Pops `n` entries.
    pub fn pop_n(&mut self, n: usize) {
        let keep = self.stack.len().saturating_sub(n);
        self.stack.truncate(keep);
    }

    /// The type of the entry `depth` below the top.
    pub fn peek(&self, depth: usize) -> ValueKind {
        self.stack
            .len()
            .checked_sub(depth + 1)
            .and_then(|i| self.stack.get(i))
            .copied()
            .unwrap_or(ValueKind::I32)
    }

    fn block_type(
        &self,
        ty: BlockType,
        offset: u64,
    ) -> Result<(Vec<ValueKind>, Vec<ValueKind>), DecodeError> {
        match ty {
            BlockType::Empty => Ok((Vec::new(), Vec::new())),
            BlockType::Type(t) => Ok((
                Vec::new(),
                vec![value_kind(t, &self.function.name, offset)?],
            )),
            BlockType::FuncType(index) => match self.module.types.get(index as usize) {
                Some(Ok(sig)) => Ok((sig.params.clone(), sig.results.clone())),
                Some(Err(e)) => Err(e.clone()),
                None => Err(DecodeError::Invalid {
                    offset,
                    message: format!("block type {index} does not exist"),
                }),
            },
        }
    }

    /// Emits a native i32 instruction and tracks the stack.
    pub fn native(&mut self, op: Opcode, imm: u32) {
        self.a.op(op, imm);
        self.pop_n(op.pops() as usize);
        for _ in 0..op.pushes() {
            self.stack.push(ValueKind::I32);
        }
    }

    /// Drops `drop` words beneath the top `keep` ones.
    fn unwind(&mut self, keep: u32, drop: u32) {
        if drop == 0 {
            return;
        }
        for i in (0..keep).rev() {
            let k = self.local(KEEP + i);
            self.a.set(k);
        }
        for _ in 0..drop {
            self.a.plain(Opcode::Drop);
        }
        for i in 0..keep {
            let k = self.local(KEEP + i);
            self.a.get(k);
        }
    }

    /// A branch to the frame `depth` levels out; for `BR_IF` the condition
    /// has already been popped.
    fn branch(&mut self, depth: u32, conditional: bool) {
        let frame = &self.frames[self.frames.len() - 1 - depth as usize];
        let keep = words(frame.branch_types());
        let below = words(&self.stack[..frame.height.min(self.stack.len())]);
        let drop = words(&self.stack).saturating_sub(below + keep);
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
            let height = f.height;
            self.stack.truncate(height);
        }
    }

    fn operator(&mut self, op: Operator<'a>, offset: u64) -> Result<(), DecodeError> {
        // Structure is tracked even in dead code; nothing is emitted there.
        if self.dead() {
            match op {
                Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                    let (label, end) = (self.a.label(), self.a.label());
                    self.frames.push(Frame {
                        kind: FrameKind::Block,
                        label,
                        end,
                        height: self.stack.len(),
                        params: Vec::new(),
                        results: Vec::new(),
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
                let (params, results) = self.block_type(blockty, offset)?;
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
                    height: self.stack.len().saturating_sub(params.len()),
                    params,
                    results,
                    dead: false,
                    has_else: false,
                });
            }
            Operator::If { blockty } => {
                let (params, results) = self.block_type(blockty, offset)?;
                self.pop();
                let (else_label, end) = (self.a.label(), self.a.label());
                self.a.plain(Opcode::Eqz);
                self.a.br_if(else_label);
                self.frames.push(Frame {
                    kind: FrameKind::If { else_label },
                    label: end,
                    end,
                    height: self.stack.len().saturating_sub(params.len()),
                    params,
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
                    let (height, params) = (frame.height, frame.params.clone());
                    self.stack.truncate(height);
                    self.stack.extend(params);
                    if !was_dead {
                        self.a.br(end);
                    }
                    self.a.place(else_label);
                } else {
                    // Else of a frame opened in dead code: stays dead.
                    frame.has_else = true;
                }
            }
            Operator::End => self.end()?,
            Operator::Br { relative_depth } => {
                self.branch(relative_depth, false);
                self.set_dead();
            }
            Operator::BrIf { relative_depth } => {
                self.pop();
                self.branch(relative_depth, true);
            }
            Operator::BrTable { targets } => {
                self.pop();
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
            Operator::Call { function_index } => self.call(function_index, offset)?,
            Operator::CallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index, offset)?,
            Operator::Drop => {
                for _ in 0..self.pop().words() {
                    self.a.plain(Opcode::Drop);
                }
            }
            Operator::Select => self.select(),
            Operator::TypedSelect { ty } => {
                value_kind(ty, &self.function.name, offset)?;
                self.select();
            }
            Operator::LocalGet { local_index } => {
                let (base, kind) = self.local_slot(local_index, offset)?;
                for w in 0..kind.words() {
                    self.a.get(base + w);
                }
                self.stack.push(kind);
            }
            Operator::LocalSet { local_index } => {
                let (base, kind) = self.local_slot(local_index, offset)?;
                for w in (0..kind.words()).rev() {
                    self.a.set(base + w);
                }
                self.pop();
            }
            Operator::LocalTee { local_index } => {
                let (base, kind) = self.local_slot(local_index, offset)?;
                match kind {
                    ValueKind::I32 => self.a.tee(base),
                    ValueKind::I64 => {
                        self.a.set(base + 1);
                        self.a.tee(base);
                        self.a.get(base + 1);
                    }
                }
            }
            Operator::GlobalGet { global_index } => {
                let (base, kind) = self.global_slot(global_index, offset)?;
                for w in 0..kind.words() {
                    self.a.op(Opcode::GlobalGet, base + w);
                }
                self.stack.push(kind);
            }
            Operator::GlobalSet { global_index } => {
                let (base, kind) = self.global_slot(global_index, offset)?;
                for w in (0..kind.words()).rev() {
                    self.a.op(Opcode::GlobalSet, base + w);
                }
                self.pop();
            }
            Operator::I32Load { memarg } => self.load(Opcode::Load, memarg, offset, 4)?,
            Operator::I32Load8S { memarg } => self.load(Opcode::Load8S, memarg, offset, 1)?,
            Operator::I32Load8U { memarg } => self.load(Opcode::Load8U, memarg, offset, 1)?,
            Operator::I32Load16S { memarg } => self.load(Opcode::Load16S, memarg, offset, 2)?,
            Operator::I32Load16U { memarg } => self.load(Opcode::Load16U, memarg, offset, 2)?,
            Operator::I32Store { memarg } => self.store(Opcode::Store, memarg, offset, 4)?,
            Operator::I32Store8 { memarg } => self.store(Opcode::Store8, memarg, offset, 1)?,
            Operator::I32Store16 { memarg } => self.store(Opcode::Store16, memarg, offset, 2)?,
            Operator::MemorySize { mem: 0 } => match self.layout.grow {
                Some(g) => self.native(Opcode::GlobalGet, g.pages),
                None => {
                    let pages = self.module.memory.map_or(0, |m| m.initial);
                    self.native(Opcode::Const, pages);
                }
            },
            Operator::MemoryGrow { mem: 0 } => self.memory_grow(),
            Operator::MemoryFill { mem: 0 } => {
                let label = self.bulk.fill(self.a);
                self.bulk_call(label);
            }
            Operator::MemoryCopy {
                dst_mem: 0,
                src_mem: 0,
            } => {
                let label = self.bulk.copy(self.a);
                self.bulk_call(label);
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
                if !self.wide(&other, offset)? {
                    return Err(
                        self.unsupported(format!("instruction {}", operator_name(&other)), offset)
                    );
                }
            }
        }
        Ok(())
    }

    fn end(&mut self) -> Result<(), DecodeError> {
        let Some(frame) = self.frames.pop() else {
            return Ok(());
        };
        let outer_dead = self.dead();
        if frame.kind == FrameKind::Function {
            if !frame.dead {
                let keep = words(&frame.results);
                let drop = words(&self.stack).saturating_sub(keep);
                self.unwind(keep, drop);
                self.a.plain(Opcode::Return);
            }
            self.a.place(frame.end);
            // The end label of a function is only a target of conditional
            // returns: their stubs unwind, then jump here.
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
        self.stack.truncate(frame.height);
        self.stack.extend(frame.results);
        Ok(())
    }

    fn select(&mut self) {
        self.pop();
        let kind = self.peek(0);
        self.pop_n(2);
        match kind {
            ValueKind::I32 => self.a.plain(Opcode::Select),
            ValueKind::I64 => {
                // [a_lo a_hi b_lo b_hi c]
                let (c, bh, bl, ah) = (
                    self.local(TEMP),
                    self.local(TEMP2),
                    self.local(TEMP3),
                    self.local(TEMP4),
                );
                self.a.set(c);
                self.a.set(bh);
                self.a.set(bl);
                self.a.set(ah);
                self.a.get(bl);
                self.a.get(c);
                self.a.plain(Opcode::Select);
                self.a.get(ah);
                self.a.get(bh);
                self.a.get(c);
                self.a.plain(Opcode::Select);
            }
        }
        self.stack.push(kind);
    }

    fn local_slot(&self, index: u32, offset: u64) -> Result<(u32, ValueKind), DecodeError> {
        match (
            self.local_base.get(index as usize),
            self.local_kind.get(index as usize),
        ) {
            (Some(&b), Some(&k)) => Ok((b, k)),
            _ => Err(DecodeError::Invalid {
                offset,
                message: format!("local {index} does not exist"),
            }),
        }
    }

    fn global_slot(&self, index: u32, offset: u64) -> Result<(u32, ValueKind), DecodeError> {
        let global = self.module.globals.get(index as usize);
        match (global, self.layout.globals.get(index as usize)) {
            (Some(g), Some(Some(base))) => match &g.kind {
                Ok(k) => Ok((*base, *k)),
                Err(e) => Err(e.clone()),
            },
            (Some(g), _) => Err(g
                .kind
                .clone()
                .err()
                .unwrap_or_else(|| self.unsupported(format!("global {index}"), offset))),
            (None, _) => {
                Err(self.unsupported(format!("global {index}, an imported global"), offset))
            }
        }
    }

    /// The immediate of a memory instruction: its static offset.
    pub fn memarg(
        &self,
        what: &str,
        memarg: wasmparser::MemArg,
        offset: u64,
    ) -> Result<u32, DecodeError> {
        if memarg.target != wasmparser::MemArgTarget::Memory(0) || memarg.ordering.is_some() {
            let feature = if memarg.ordering.is_some() {
                Feature::Threads
            } else {
                Feature::MultipleMemories
            };
            return Err(DecodeError::Unsupported {
                what: format!("{what} on a memory other than memory 0"),
                function: self.function.name.clone(),
                offset,
                feature: Some(feature),
            });
        }
        u32::try_from(memarg.offset).map_err(|_| DecodeError::Unsupported {
            what: format!("{what} with a 64-bit offset"),
            function: self.function.name.clone(),
            offset,
            feature: Some(Feature::Memory64),
        })
    }

    /// When the memory can grow, checks that the access of `width` bytes at
    /// the address `value_words` below the top, plus `at`, lies below the
    /// current size (else halts with [`trap_code::OUT_OF_BOUNDS`]) and, when
    /// the memory can grow past the machine's, below the machine's memory
    /// (else halts with [`trap_code::MEMORY_LIMIT`]). The stack is left as
    /// it was.
    pub fn check_bounds(&mut self, value_words: u32, at: u32, width: u32) {
        let Some(grow) = self.layout.grow.filter(|_| self.layout.dynamic_bounds) else {
            return;
        };
        let end = u64::from(at) + u64::from(width);
        let maximum = self.module.memory.map_or(0, |m| m.maximum);
        if end > u64::from(maximum) * u64::from(crate::decode::PAGE) {
            // Past any size the memory can have: the access itself traps.
            return;
        }
        let values = [self.local(TEMP5), self.local(TEMP6)];
        let addr = self.local(TEMP7);
        for w in (0..value_words).rev() {
            self.a.set(values[w as usize]);
        }
        let oob = *self.oob.get_or_insert_with(|| self.a.label());
        self.a.set(addr);
        // addr + end wraps only when addr is near 2^32: then the access
        // itself is past the machine's memory and traps as wasm says.
        self.a.get(addr);
        self.a.konst(end as u32);
        self.a.plain(Opcode::Add);
        self.a.op(Opcode::GlobalGet, grow.bytes);
        self.a.plain(Opcode::GtU);
        self.a.br_if(oob);
        if self.layout.limit {
            let limit = *self.limit.get_or_insert_with(|| self.a.label());
            self.a.get(addr);
            self.a.konst(end as u32);
            self.a.plain(Opcode::Add);
            self.a.konst(self.layout.memory_bytes);
            self.a.plain(Opcode::GtU);
            self.a.br_if(limit);
        }
        self.a.get(addr);
        for w in 0..value_words {
            self.a.get(values[w as usize]);
        }
    }

    fn load(
        &mut self,
        op: Opcode,
        memarg: wasmparser::MemArg,
        offset: u64,
        width: u32,
    ) -> Result<(), DecodeError> {
        let imm = self.memarg(op.name(), memarg, offset)?;
        self.check_bounds(0, imm, width);
        self.native(op, imm);
        Ok(())
    }

    fn store(
        &mut self,
        op: Opcode,
        memarg: wasmparser::MemArg,
        offset: u64,
        width: u32,
    ) -> Result<(), DecodeError> {
        let imm = self.memarg(op.name(), memarg, offset)?;
        self.check_bounds(1, imm, width);
        self.native(op, imm);
        Ok(())
    }

    /// `memory.grow`: `-1` past the maximum, else the old size in pages;
    /// the hidden size globals follow.
    fn memory_grow(&mut self) {
        let Some(grow) = self.layout.grow else {
            return;
        };
        let max = self.module.memory.map_or(0, |m| m.maximum);
        let (n, ok, t) = (self.local(TEMP), self.local(TEMP2), self.local(TEMP3));
        // ok = n <=u max - pages (pages never exceeds max).
        self.a.set(n);
        self.a.get(n);
        self.a.konst(max);
        self.a.op(Opcode::GlobalGet, grow.pages);
        self.a.plain(Opcode::Sub);
        self.a.plain(Opcode::LeU);
        self.a.set(ok);
        // The result: ok ? pages : -1.
        self.a.op(Opcode::GlobalGet, grow.pages);
        self.a.konst(u32::MAX);
        self.a.get(ok);
        self.a.plain(Opcode::Select);
        // pages += ok ? n : 0; bytes = pages · 65536 (16 doublings; pages
        // never exceeds MAX_PAGES, so bytes fits 32 bits).
        self.a.op(Opcode::GlobalGet, grow.pages);
        self.a.get(n);
        self.a.konst(0);
        self.a.get(ok);
        self.a.plain(Opcode::Select);
        self.a.plain(Opcode::Add);
        self.a.op(Opcode::GlobalSet, grow.pages);
        self.a.op(Opcode::GlobalGet, grow.pages);
        for _ in 0..16 {
            self.a.tee(t);
            self.a.get(t);
            self.a.plain(Opcode::Add);
        }
        self.a.op(Opcode::GlobalSet, grow.bytes);
    }

    /// Pushes the memory's current size in bytes and calls a bulk-memory
    /// subroutine on the three operands below it.
    fn bulk_call(&mut self, label: Label) {
        match self.layout.grow {
            Some(g) => self.a.op(Opcode::GlobalGet, g.bytes),
            None => self.a.konst(self.layout.memory_bytes),
        }
        self.a.jump(Opcode::Call, Target::Label(label));
        self.pop_n(3);
    }

    fn call(&mut self, index: u32, offset: u64) -> Result<(), DecodeError> {
        let callee =
            self.module
                .functions
                .get(index as usize)
                .ok_or_else(|| DecodeError::Invalid {
                    offset,
                    message: format!("function {index} does not exist"),
                })?;
        let sig = callee.signature.clone()?;
        self.callees.direct.insert(index);
        match callee.kind {
            FunctionKind::Import(Ok(Import::Output)) => self.a.plain(Opcode::Output),
            FunctionKind::Import(Ok(Import::Exit)) => self.a.op(Opcode::Halt, trap_code::EXIT),
            FunctionKind::Import(Err(_)) => {
                // Never runs: the entry may not reach a caller of an
                // unsupported import (see `first_reachable_error`).
                self.a.konst(0);
                self.a.op(Opcode::Halt, trap_code::UNREACHABLE);
            }
            FunctionKind::Defined { .. } => self.a.jump(Opcode::Call, Target::Function(index)),
        }
        self.pop_n(sig.params.len());
        self.stack.extend(sig.results);
        Ok(())
    }

    fn call_indirect(
        &mut self,
        type_index: u32,
        table_index: u32,
        offset: u64,
    ) -> Result<(), DecodeError> {
        if table_index != 0 {
            return Err(DecodeError::Unsupported {
                what: format!("call_indirect through table {table_index}"),
                function: self.function.name.clone(),
                offset,
                feature: Some(Feature::ReferenceTypes),
            });
        }
        let sig = match self.module.types.get(type_index as usize) {
            Some(Ok(sig)) => sig.clone(),
            Some(Err(e)) => return Err(e.clone()),
            None => {
                return Err(DecodeError::Invalid {
                    offset,
                    message: format!("type {type_index} does not exist"),
                });
            }
        };
        self.callees.indirect.insert(type_index);
        let label = self.dispatchers.label(self.a, type_index, &sig);
        self.a.jump(Opcode::Call, Target::Label(label));
        self.pop();
        self.pop_n(sig.params.len());
        self.stack.extend(sig.results);
        Ok(())
    }

    /// An operator without a native opcode: an inline sequence when an
    /// operand is a suitable constant, else a call to its routine.
    pub fn lowered(&mut self, r: Routine) {
        let arity = r.arity();
        self.pop_n(arity as usize);
        self.stack.push(ValueKind::I32);
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
        self.inline_form()
            .through_scratch(s, store, store_at, load, load_at);
    }

    /// Emits `x op c` for the `x` on the stack, if there is a short inline
    /// form ([`InlineForm::emit`]); returns whether it did.
    fn constant_operand(&mut self, r: Routine, c: u32) -> bool {
        self.inline_form().emit(r, c)
    }

    fn inline_form(&mut self) -> InlineForm<'_> {
        let (t, acc) = (self.local(TEMP), self.local(TEMP2));
        InlineForm {
            a: &mut *self.a,
            t,
            acc,
            scratch: self.module.scratch,
        }
    }
}
