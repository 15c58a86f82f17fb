//! Lowering: a decoded WebAssembly [`Module`] to a flat machine [`Program`].
//!
//! - Values: an i32 is one machine word, an i64 two (low half deeper on the
//!   operand stack, in two consecutive locals or globals). Every value type
//!   of a function is known statically, so the lowering keeps the wasm type
//!   of every stack entry and translates heights to words.
//! - Structured control flow (`block`, `loop`, `if`/`else`, `br`, `br_if`,
//!   `br_table`, `return`, blocks with parameters and several results)
//!   becomes `BR`/`BR_IF` to absolute targets. A branch that leaves extra
//!   values on the operand stack unwinds them first (the values it carries
//!   are parked in scratch locals); a conditional one does so in an
//!   out-of-line stub, so `BR_IF` keeps its plain meaning.
//! - `br_table` becomes a chain of `LOCAL_GET; CONST i; EQ; BR_IF`.
//! - Calls: arguments stay on the operand stack; the callee's prologue pops
//!   them into its locals and zero-initialises its declared locals (locals are
//!   keyed by call depth, so a previous activation's values must never show).
//!   Every function leaves exactly its results on the stack before `RETURN`.
//! - `call_indirect` calls one dispatcher per function type
//!   ([`dispatch`]): a binary search over the table's index that calls the
//!   element's function, or halts with the trap WebAssembly defines.
//! - i64 operators ([`wide`]): add, sub, comparisons, loads and stores
//!   inline over the halves with explicit carries; the rest call routines.
//! - Operators without a native opcode call a [`Routine`] (emitted once per
//!   program, only if used), except where a constant operand allows a short
//!   inline sequence (multiplication by a constant, shifts by a constant,
//!   masks with `0xff`/`0xffff` through the `__tvm_scratch` buffer).
//! - Memory: `memory.size` is a constant, or a hidden global when the module
//!   grows its memory; then every access is checked against the current
//!   size first, and the machine's memory is the module's maximum up to
//!   [`MAX_MEMORY`]. A memory may grow past that (to its declared maximum):
//!   an access there halts with [`trap_code::MEMORY_LIMIT`], the machine's
//!   own limit, never a wrong answer.
//!   `memory.fill` and `memory.copy` call subroutines ([`bulk`]).
//! - The entry stub at pc 0 initialises globals, runs the start function,
//!   and either passes `argc`/`argv` from the input image to `main` and
//!   halts with its result ([`Entry::Main`]), or performs calls and writes
//!   their results to the output ([`Entry::Invoke`], see
//!   [`crate::invoke`]).
//!
//! Only code the entry can reach must be supported: a function that uses a
//! feature the machine lacks is replaced by a trap, and lowering fails with
//! its error only if the entry can reach it (directly, or through a table
//! element of a type some reachable `call_indirect` uses).

pub mod asm;
pub mod bulk;
pub mod dispatch;
mod function;
pub mod inline;
pub mod routine;
mod wide;
mod wide_routine;

use crate::decode::{DecodeError, FunctionKind, Module, PAGE};
use crate::invoke::{Invocation, Invoke, Value, ValueKind};
use crate::program::{FunctionInfo, INPUT_BASE, MAX_MEMORY, Program};
use asm::{Asm, Target};
use function::FunctionLowering;
use routine::Routine;
use std::collections::BTreeSet;
use tvm_dsl::isa::{Opcode, trap_code};
use wasmparser::Operator;

/// What the entry stub does after initialisation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// Call `main` (with `argc`, `argv` from the input image if it takes
    /// them) and halt with its result.
    Main,
    /// Call these exports in order, writing each call's results to the
    /// output, then halt with status 0.
    Invoke(Vec<Invoke>),
}

/// Lowers a decoded module to run its `main`.
pub fn lower(module: &Module<'_>) -> Result<Program, DecodeError> {
    lower_entry(module, &Entry::Main).map(|i| i.program)
}

/// Where module-level state lives on the machine.
pub(crate) struct Layout {
    /// Machine global index of each wasm global (its low word for an i64),
    /// or `None` for a global the machine cannot hold.
    pub globals: Vec<Option<u32>>,
    /// Hidden globals holding the memory's current size in pages and in
    /// bytes, when the module grows its memory.
    pub grow: Option<GrowGlobals>,
    /// Whether every access must be checked against the current size (the
    /// memory can grow: the machine's memory is the maximum).
    pub dynamic_bounds: bool,
    /// The machine's memory size in bytes.
    pub memory_bytes: u32,
    /// Whether the memory can grow past [`MAX_MEMORY`]: then an access
    /// inside it but past the machine's memory halts with
    /// [`trap_code::MEMORY_LIMIT`].
    pub limit: bool,
}

/// The hidden globals of a growing memory.
#[derive(Clone, Copy)]
pub(crate) struct GrowGlobals {
    /// Current size in pages.
    pub pages: u32,
    /// Current size in bytes.
    pub bytes: u32,
}

impl Layout {
    fn new(module: &Module<'_>) -> Layout {
        let mut next = 0u32;
        let globals = module
            .globals
            .iter()
            .map(|g| {
                g.kind.as_ref().ok().map(|k| {
                    let at = next;
                    next += k.words();
                    at
                })
            })
            .collect();
        let uses_grow = module.functions.iter().any(|f| match &f.kind {
            FunctionKind::Defined { body, .. } => body.get_operators_reader().is_ok_and(|r| {
                r.into_iter()
                    .any(|op| matches!(op, Ok(Operator::MemoryGrow { .. })))
            }),
            FunctionKind::Import(_) => false,
        });
        let memory = module.memory.unwrap_or_default();
        let grow = uses_grow.then(|| GrowGlobals {
            pages: next,
            bytes: next + 1,
        });
        let dynamic_bounds = grow.is_some() && memory.maximum > memory.initial;
        let logical = u64::from(memory.maximum) * u64::from(PAGE);
        let memory_bytes = if dynamic_bounds {
            logical.min(u64::from(MAX_MEMORY)) as u32
        } else {
            memory.initial_bytes()
        };
        Layout {
            globals,
            grow,
            dynamic_bounds,
            memory_bytes,
            limit: dynamic_bounds && logical > u64::from(MAX_MEMORY),
        }
    }
}

/// What lowering one function found: the functions it may call, and the
/// function types its `call_indirect`s use.
#[derive(Default)]
pub(crate) struct Callees {
    pub direct: BTreeSet<u32>,
    pub indirect: BTreeSet<u32>,
}

/// Lowers a decoded module with the given entry.
pub fn lower_entry(module: &Module<'_>, entry: &Entry) -> Result<Invocation, DecodeError> {
    let layout = Layout::new(module);
    let mut a = Asm::default();
    let mut routines = BTreeSet::new();
    let mut dispatchers = dispatch::Dispatchers::default();
    let mut bulk = bulk::Bulk::default();

    // Entry stub.
    let mut roots = Vec::new();
    for (g, global) in module.globals.iter().enumerate() {
        let (Some(at), Ok(kind)) = (layout.globals[g], &global.kind) else {
            continue;
        };
        for (w, word) in words(global.init, *kind).into_iter().enumerate() {
            if word != 0 {
                a.konst(word);
                a.op(Opcode::GlobalSet, at + w as u32);
            }
        }
    }
    if let Some(grow) = layout.grow {
        let memory = module.memory.unwrap_or_default();
        a.konst(memory.initial);
        a.op(Opcode::GlobalSet, grow.pages);
        a.konst(memory.initial_bytes());
        a.op(Opcode::GlobalSet, grow.bytes);
    }
    if let Some(start) = module.start {
        roots.push(start);
        a.jump(Opcode::Call, Target::Function(start));
    }
    let results = match entry {
        Entry::Main => {
            let main = main_entry(module)?;
            roots.push(main);
            let sig = module.functions[main as usize]
                .signature
                .clone()
                .map_err(|e| DecodeError::Entry(format!("`main` cannot run: {e}")))?;
            if sig.params.len() == 2 {
                a.konst(INPUT_BASE);
                a.op(Opcode::Load, 0);
                a.konst(INPUT_BASE + 4);
            }
            a.jump(Opcode::Call, Target::Function(main));
            if sig.results.is_empty() {
                a.konst(0);
            }
            a.op(Opcode::Halt, trap_code::EXIT);
            Vec::new()
        }
        Entry::Invoke(invokes) => {
            let mut results = Vec::new();
            let mut output = None;
            for invoke in invokes {
                let f = module.exported_function(&invoke.export).ok_or_else(|| {
                    DecodeError::Entry(format!(
                        "the module exports no function `{}`",
                        invoke.export
                    ))
                })?;
                let sig = module.functions[f as usize].signature.clone()?;
                let kinds: Vec<ValueKind> = invoke.args.iter().map(|v| v.kind()).collect();
                if kinds != sig.params {
                    return Err(DecodeError::Entry(format!(
                        "`{}` takes ({}) but was given ({})",
                        invoke.export,
                        list(&sig.params),
                        list(&kinds)
                    )));
                }
                roots.push(f);
                for arg in &invoke.args {
                    let (raw, kind) = match *arg {
                        Value::I32(v) => (u64::from(v), ValueKind::I32),
                        Value::I64(v) => (v, ValueKind::I64),
                    };
                    for word in words(raw, kind) {
                        a.konst(word);
                    }
                }
                a.jump(Opcode::Call, Target::Function(f));
                // The call returned: its marker, then its results (into the
                // stub's locals, top first, then out).
                a.konst(u32::from(crate::invoke::RETURNED));
                a.plain(Opcode::Output);
                let n = sig.result_words();
                for w in (0..n).rev() {
                    a.set(w);
                }
                for w in 0..n {
                    a.get(w);
                    let label = match output {
                        Some(l) => l,
                        None => *output.insert(a.label()),
                    };
                    a.jump(Opcode::Call, Target::Label(label));
                }
                results.push(sig.results.clone());
            }
            a.konst(0);
            a.op(Opcode::Halt, trap_code::EXIT);
            if let Some(label) = output {
                a.place(label);
                output_word(&mut a, &mut routines);
            }
            results
        }
    };
    let mut functions = vec![FunctionInfo {
        name: "entry".to_owned(),
        entry: 0,
        end: a.pc(),
    }];

    // Functions: each lowered on its own; one that fails is replaced by a
    // trap and its error kept, in case the entry can reach it.
    let mut entries = vec![None; module.functions.len()];
    let mut errors: Vec<Option<DecodeError>> = vec![None; module.functions.len()];
    let mut callees: Vec<Callees> = (0..module.functions.len())
        .map(|_| Callees::default())
        .collect();
    for (index, function) in module.functions.iter().enumerate() {
        match &function.kind {
            FunctionKind::Import(Err(e)) => errors[index] = Some(e.clone()),
            FunctionKind::Import(Ok(_)) => {}
            FunctionKind::Defined { locals, body } => {
                let entry = a.pc();
                entries[index] = Some(entry);
                let checkpoint = a.checkpoint();
                let mut found = Callees::default();
                let result = FunctionLowering::new(
                    &mut a,
                    module,
                    &layout,
                    function,
                    locals,
                    &mut routines,
                    &mut dispatchers,
                    &mut bulk,
                    &mut found,
                )
                .and_then(|lowering| lowering.run(body));
                if let Err(e) = result {
                    a.rollback(checkpoint);
                    a.konst(0);
                    a.op(Opcode::Halt, trap_code::UNREACHABLE);
                    errors[index] = Some(e);
                }
                callees[index] = found;
                functions.push(FunctionInfo {
                    name: function.name.clone(),
                    entry,
                    end: a.pc(),
                });
            }
        }
    }
    if let Some(e) = first_reachable_error(module, &roots, &callees, &errors) {
        return Err(e);
    }

    // call_indirect dispatchers, then routines (with those routines call).
    dispatchers.emit(&mut a, module, &mut functions);
    for (name, entry, end) in bulk.emit(&mut a) {
        functions.push(FunctionInfo { name, entry, end });
    }
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
        memory_size: layout.memory_bytes,
        data: module.data.clone(),
        functions,
    };
    program
        .validate()
        .map_err(|message| DecodeError::Unsupported {
            what: message,
            function: "module".to_owned(),
            offset: 0,
            feature: None,
        })?;
    Ok(Invocation { program, results })
}

/// The words of a value, low first.
fn words(raw: u64, kind: ValueKind) -> Vec<u32> {
    match kind {
        ValueKind::I32 => vec![raw as u32],
        ValueKind::I64 => vec![raw as u32, (raw >> 32) as u32],
    }
}

fn list(kinds: &[ValueKind]) -> String {
    kinds
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The entry stub's subroutine that writes the 4 bytes of the word on the
/// stack, low first, to the output.
fn output_word(a: &mut Asm, routines: &mut BTreeSet<Routine>) {
    a.set(0);
    a.get(0);
    a.plain(Opcode::Output);
    for shift in [8, 16, 24] {
        a.get(0);
        a.konst(shift);
        a.call_routine(Routine::ShrU);
        a.plain(Opcode::Output);
    }
    a.plain(Opcode::Return);
    routines.insert(Routine::ShrU);
}

/// The exported `main` and a check of its type.
fn main_entry(module: &Module<'_>) -> Result<u32, DecodeError> {
    let main = module
        .exported_function("main")
        .ok_or_else(|| DecodeError::Entry("the module exports no function `main`".to_owned()))?;
    let sig = module.functions[main as usize]
        .signature
        .clone()
        .map_err(|e| DecodeError::Entry(format!("`main` has a type the machine lacks: {e}")))?;
    let i32s = |n: usize| vec![ValueKind::I32; n];
    let ok = (sig.params == i32s(0) || sig.params == i32s(2))
        && (sig.results == i32s(1) || (sig.results.is_empty() && sig.params.is_empty()));
    if !ok {
        return Err(DecodeError::Entry(format!(
            "`main` takes ({}) and returns ({}); expected () -> i32, () -> () or (i32, i32) -> i32",
            list(&sig.params),
            list(&sig.results)
        )));
    }
    Ok(main)
}

/// The error of the first function (by index) the roots can reach that
/// could not be lowered.
fn first_reachable_error(
    module: &Module<'_>,
    roots: &[u32],
    callees: &[Callees],
    errors: &[Option<DecodeError>],
) -> Option<DecodeError> {
    let mut seen = vec![false; module.functions.len()];
    let mut stack: Vec<u32> = roots.to_vec();
    let mut indirect_types = BTreeSet::new();
    while let Some(f) = stack.pop() {
        let Some(s) = seen.get_mut(f as usize) else {
            continue;
        };
        if std::mem::replace(s, true) {
            continue;
        }
        let c = &callees[f as usize];
        stack.extend(c.direct.iter().copied());
        for &t in &c.indirect {
            if indirect_types.insert(t) {
                stack.extend(dispatch::targets(module, t));
            }
        }
    }
    seen.iter()
        .zip(errors)
        .find_map(|(s, e)| if *s { e.clone() } else { None })
}
