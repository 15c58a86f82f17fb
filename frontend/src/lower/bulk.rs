//! `memory.fill` and `memory.copy`: two subroutines, emitted once per
//! program when used, that move one byte per iteration.
//!
//! A call site pushes the operands (`dst, value, n` or `dst, src, n`) and
//! then the memory's current size in bytes (a constant, or the hidden size
//! global of a growing memory), and `CALL`s the subroutine, which pops them
//! into its locals 0..4. As WebAssembly requires, the whole range is checked
//! first — `dst + n` (and `src + n`) above the size halts with
//! [`trap_code::OUT_OF_BOUNDS`] before any byte is written, past the
//! machine's memory with [`trap_code::MEMORY_LIMIT`] — and
//! `memory.copy` moves backwards when the destination lies above the
//! source, so overlapping ranges copy as if through a buffer. Cost: O(n)
//! steps.

use super::asm::{Asm, Label};
use tvm_dsl::isa::{MAX_MEMORY, Opcode::*, trap_code};

/// The bulk-memory subroutines requested so far.
#[derive(Default)]
pub struct Bulk {
    fill: Option<Label>,
    copy: Option<Label>,
}

impl Bulk {
    /// The entry of `memory.fill`'s subroutine.
    pub fn fill(&mut self, a: &mut Asm) -> Label {
        *self.fill.get_or_insert_with(|| a.label())
    }

    /// The entry of `memory.copy`'s subroutine.
    pub fn copy(&mut self, a: &mut Asm) -> Label {
        *self.copy.get_or_insert_with(|| a.label())
    }

    /// Emits the subroutines requested; returns their (name, entry, end).
    pub fn emit(self, a: &mut Asm) -> Vec<(String, u32, u32)> {
        let mut out = Vec::new();
        if let Some(l) = self.fill {
            let entry = a.pc();
            a.place(l);
            fill(a);
            out.push(("bulk.memory_fill".to_owned(), entry, a.pc()));
        }
        if let Some(l) = self.copy {
            let entry = a.pc();
            a.place(l);
            copy(a);
            out.push(("bulk.memory_copy".to_owned(), entry, a.pc()));
        }
        out
    }
}

/// Pops the four operands into locals 0..4.
fn prologue(a: &mut Asm) {
    for l in (0..4).rev() {
        a.set(l);
    }
}

/// Branches to `oob` unless `x + n <= size` (locals `x`, `n` = 2, size = 3),
/// without overflow: `x > size` or `n > size - x`.
fn check(a: &mut Asm, x: u32, oob: Label) {
    a.get(x);
    a.get(3);
    a.plain(GtU);
    a.br_if(oob);
    a.get(2);
    a.get(3);
    a.get(x);
    a.plain(Sub);
    a.plain(GtU);
    a.br_if(oob);
}

/// Branches to `limit` when `x + n` (locals `x`, `n` = 2; already checked
/// against the memory's size) is past the machine's memory.
fn check_machine(a: &mut Asm, x: u32, limit: Label) {
    a.get(x);
    a.get(2);
    a.plain(Add);
    a.konst(MAX_MEMORY);
    a.plain(GtU);
    a.br_if(limit);
}

/// Halts at `oob` and `limit` with their trap codes.
fn traps(a: &mut Asm, oob: Label, limit: Label) {
    a.place(oob);
    a.konst(0);
    a.op(Halt, trap_code::OUT_OF_BOUNDS);
    a.place(limit);
    a.konst(0);
    a.op(Halt, trap_code::MEMORY_LIMIT);
}

/// `x = x + d` for local `x`.
fn bump(a: &mut Asm, x: u32, d: u32) {
    a.get(x);
    a.konst(d);
    a.plain(Add);
    a.set(x);
}

fn fill(a: &mut Asm) {
    // Locals: 0 = dst, 1 = value, 2 = n, 3 = size.
    prologue(a);
    let (oob, limit, top, done) = (a.label(), a.label(), a.label(), a.label());
    check(a, 0, oob);
    check_machine(a, 0, limit);
    a.place(top);
    a.get(2);
    a.plain(Eqz);
    a.br_if(done);
    a.get(0);
    a.get(1);
    a.op(Store8, 0);
    bump(a, 0, 1);
    bump(a, 2, u32::MAX);
    a.br(top);
    a.place(done);
    a.plain(Return);
    traps(a, oob, limit);
}

fn copy(a: &mut Asm) {
    // Locals: 0 = dst, 1 = src, 2 = n, 3 = size.
    prologue(a);
    let (oob, limit, forward, backward, done) =
        (a.label(), a.label(), a.label(), a.label(), a.label());
    check(a, 0, oob);
    check(a, 1, oob);
    check_machine(a, 0, limit);
    check_machine(a, 1, limit);
    a.get(0);
    a.get(1);
    a.plain(GtU);
    a.br_if(backward);
    a.place(forward);
    a.get(2);
    a.plain(Eqz);
    a.br_if(done);
    a.get(0);
    a.get(1);
    a.op(Load8U, 0);
    a.op(Store8, 0);
    bump(a, 0, 1);
    bump(a, 1, 1);
    bump(a, 2, u32::MAX);
    a.br(forward);
    // Backwards: byte n - 1 first.
    a.place(backward);
    a.get(2);
    a.plain(Eqz);
    a.br_if(done);
    bump(a, 2, u32::MAX);
    a.get(0);
    a.get(2);
    a.plain(Add);
    a.get(1);
    a.get(2);
    a.plain(Add);
    a.op(Load8U, 0);
    a.op(Store8, 0);
    a.br(backward);
    a.place(done);
    a.plain(Return);
    traps(a, oob, limit);
}
