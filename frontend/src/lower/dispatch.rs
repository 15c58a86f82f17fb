//! `call_indirect`: one dispatcher per function type, shared by every call
//! site of that type.
//!
//! A call site leaves the arguments and then the table index on the stack
//! and `CALL`s the dispatcher. The dispatcher pops the index into its local
//! 0, halts with [`trap_code::UNDEFINED_ELEMENT`] when it is past the
//! table, and otherwise finds the index by binary search over runs of equal
//! elements (`LOCAL_GET 0; CONST m; LT_U; BR_IF`, O(log n) steps). At a run
//! of elements holding a function of the expected type it `CALL`s that
//! function, whose prologue pops the arguments, and `RETURN`s with its
//! results on the stack; at an empty element it halts with
//! [`trap_code::UNINITIALIZED_ELEMENT`], at a function of another type
//! with [`trap_code::INDIRECT_CALL_TYPE_MISMATCH`]. The table is fixed
//! (the machine has no table instructions), so every outcome is known when
//! lowering. Types compare structurally, as WebAssembly requires.

use super::asm::{Asm, Label, Target};
use crate::decode::{Module, Signature};
use crate::program::FunctionInfo;
use tvm_dsl::isa::{Opcode, trap_code};

/// The dispatchers requested so far: one label per distinct signature.
#[derive(Default)]
pub struct Dispatchers {
    entries: Vec<(Signature, u32, Label)>,
}

impl Dispatchers {
    /// The dispatcher for calls of type `type_index` (whose signature is
    /// `sig`), created on first use.
    pub fn label(&mut self, a: &mut Asm, type_index: u32, sig: &Signature) -> Label {
        if let Some((_, _, l)) = self.entries.iter().find(|(s, _, _)| s == sig) {
            return *l;
        }
        let l = a.label();
        self.entries.push((sig.clone(), type_index, l));
        l
    }

    /// Emits every dispatcher requested.
    pub fn emit(self, a: &mut Asm, module: &Module<'_>, functions: &mut Vec<FunctionInfo>) {
        for (sig, type_index, label) in self.entries {
            let entry = a.pc();
            a.place(label);
            emit_one(a, module, &sig);
            functions.push(FunctionInfo {
                name: format!("dispatch.type{type_index}"),
                entry,
                end: a.pc(),
            });
        }
    }
}

/// What calling one table element with the expected type does.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Outcome {
    Call(u32),
    Trap(u32),
}

fn outcome(module: &Module<'_>, element: Option<u32>, sig: &Signature) -> Outcome {
    match element {
        None => Outcome::Trap(trap_code::UNINITIALIZED_ELEMENT),
        Some(f) => match &module.functions[f as usize].signature {
            Ok(s) if s == sig => Outcome::Call(f),
            _ => Outcome::Trap(trap_code::INDIRECT_CALL_TYPE_MISMATCH),
        },
    }
}

/// The functions a `call_indirect` of type `type_index` can call.
pub fn targets(module: &Module<'_>, type_index: u32) -> Vec<u32> {
    let Some(Ok(sig)) = module.types.get(type_index as usize) else {
        return Vec::new();
    };
    module
        .table
        .iter()
        .filter_map(|&e| match outcome(module, e, sig) {
            Outcome::Call(f) => Some(f),
            Outcome::Trap(_) => None,
        })
        .collect()
}

fn emit_one(a: &mut Asm, module: &Module<'_>, sig: &Signature) {
    a.set(0);
    // Runs of equal outcomes: (first index, outcome).
    let mut runs: Vec<(u32, Outcome)> = Vec::new();
    for (i, &e) in module.table.iter().enumerate() {
        let o = outcome(module, e, sig);
        if runs.last().is_none_or(|(_, last)| *last != o) {
            runs.push((i as u32, o));
        }
    }
    let undefined = a.label();
    a.get(0);
    a.konst(module.table.len() as u32);
    a.plain(Opcode::GeU);
    a.br_if(undefined);
    search(a, &runs);
    a.place(undefined);
    a.konst(0);
    a.op(Opcode::Halt, trap_code::UNDEFINED_ELEMENT);
}

/// Binary search over `runs` (non-empty unless the table is empty, in
/// which case every index is undefined and this code is never reached).
fn search(a: &mut Asm, runs: &[(u32, Outcome)]) {
    match runs {
        [] => {
            a.konst(0);
            a.op(Opcode::Halt, trap_code::UNDEFINED_ELEMENT);
        }
        [(_, o)] => match *o {
            Outcome::Call(f) => {
                a.jump(Opcode::Call, Target::Function(f));
                a.plain(Opcode::Return);
            }
            Outcome::Trap(code) => {
                a.konst(0);
                a.op(Opcode::Halt, code);
            }
        },
        _ => {
            let mid = runs.len() / 2;
            let low = a.label();
            a.get(0);
            a.konst(runs[mid].0);
            a.plain(Opcode::LtU);
            a.br_if(low);
            search(a, &runs[mid..]);
            a.place(low);
            search(a, &runs[..mid]);
        }
    }
}
