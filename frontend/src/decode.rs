//! WebAssembly binary to a decoded [`Module`]: validation by wasmparser, then
//! the checks that the module uses only what the tvm machine supports.
//!
//! Supported: i32 and i64 everywhere (params, results, locals, globals,
//! blocks with several results), one memory of at most [`MAX_MEMORY`] bytes
//! with its declared limits, one funcref table with active element
//! segments, active data segments, the `tvm` imports `output` and `exit`.
//!
//! What the machine lacks is found lazily where it can be: a function of an
//! unsupported type, an unsupported local or instruction, a float global,
//! an import other than tvm's, make that *function* or *global* unusable,
//! and lowering fails only when code the entry can reach uses it (so a spec
//! test module with float functions still runs its integer exports). Every
//! such error names what it found, where, and the [`Feature`] it needs.

use crate::invoke::ValueKind;
use crate::program::{MAX_MEMORY, Segment};
use std::fmt;
use wasmparser::{
    ConstExpr, ExternalKind, FunctionBody, KnownCustom, Name, Operator, Parser, Payload, TypeRef,
    ValType,
};

/// A WebAssembly feature the machine lacks: the reason an unsupported
/// module or instruction is skipped by conformance runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Feature {
    /// `f32`/`f64` values and instructions.
    Floats,
    /// `v128` values and SIMD instructions.
    Simd,
    /// Reference values, several tables, table instructions.
    ReferenceTypes,
    /// More than one memory.
    MultipleMemories,
    /// 64-bit memories and tables.
    Memory64,
    /// Shared memories and atomics.
    Threads,
    /// Exception handling.
    Exceptions,
    /// `return_call` and friends.
    TailCalls,
    /// Garbage-collected types.
    Gc,
    /// Imports from a host other than tvm (or of globals, tables, memories).
    Imports,
    /// `memory.init`, `data.drop`, `table.init`, `elem.drop`, `table.copy`.
    BulkMemory,
}

impl Feature {
    /// The reason text conformance runs report.
    pub const fn reason(self) -> &'static str {
        match self {
            Feature::Floats => "floats",
            Feature::Simd => "SIMD",
            Feature::ReferenceTypes => "reference types",
            Feature::MultipleMemories => "multiple memories",
            Feature::Memory64 => "memory64",
            Feature::Threads => "threads",
            Feature::Exceptions => "exceptions",
            Feature::TailCalls => "tail calls",
            Feature::Gc => "GC",
            Feature::Imports => "imports",
            Feature::BulkMemory => "bulk memory",
        }
    }

    /// The feature an operator (by its wasmparser name, like `F32Add`)
    /// belongs to, if it is one the machine lacks.
    pub fn of_operator(name: &str) -> Option<Feature> {
        let starts = |prefixes: &[&str]| prefixes.iter().any(|p| name.starts_with(p));
        let has = |parts: &[&str]| parts.iter().any(|p| name.contains(p));
        if starts(&["V128", "I8x16", "I16x8", "I32x4", "I64x2", "F32x4", "F64x2"]) {
            Some(Feature::Simd)
        } else if has(&["Atomic"]) || starts(&["MemoryAtomic"]) {
            Some(Feature::Threads)
        } else if starts(&["F32", "F64"]) || has(&["F32", "F64"]) {
            Some(Feature::Floats)
        } else if starts(&["ReturnCall"]) {
            Some(Feature::TailCalls)
        } else if starts(&[
            "Try", "Catch", "Throw", "Rethrow", "Delegate", "TryTable", "ThrowRef",
        ]) {
            Some(Feature::Exceptions)
        } else if starts(&[
            "Struct",
            "Array",
            "RefCast",
            "RefTest",
            "BrOnCast",
            "RefI31",
            "I31",
            "AnyConvert",
            "ExternConvert",
            "RefEq",
            "BrOnNull",
            "BrOnNonNull",
            "RefAsNonNull",
            "CallRef",
        ]) {
            Some(Feature::Gc)
        } else if starts(&[
            "MemoryInit",
            "DataDrop",
            "TableInit",
            "ElemDrop",
            "TableCopy",
        ]) {
            Some(Feature::BulkMemory)
        } else if starts(&[
            "RefNull",
            "RefFunc",
            "RefIsNull",
            "TableGet",
            "TableSet",
            "TableSize",
            "TableGrow",
            "TableFill",
            "TypedSelect",
        ]) {
            Some(Feature::ReferenceTypes)
        } else {
            None
        }
    }

    /// The feature a value type needs, if the machine lacks it.
    pub fn of_type(ty: ValType) -> Option<Feature> {
        match ty {
            ValType::I32 | ValType::I64 => None,
            ValType::F32 | ValType::F64 => Some(Feature::Floats),
            ValType::V128 => Some(Feature::Simd),
            ValType::Ref(_) => Some(Feature::ReferenceTypes),
        }
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

/// A function type over the machine's value types.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Signature {
    /// Parameter types.
    pub params: Vec<ValueKind>,
    /// Result types.
    pub results: Vec<ValueKind>,
}

impl Signature {
    /// Machine words the parameters take.
    pub fn param_words(&self) -> u32 {
        self.params.iter().map(|k| k.words()).sum()
    }

    /// Machine words the results take.
    pub fn result_words(&self) -> u32 {
        self.results.iter().map(|k| k.words()).sum()
    }
}

/// What an imported function does on the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Import {
    /// `tvm.output(i32)`: writes the low byte to the output.
    Output,
    /// `tvm.exit(i32)`: ends the program with that status.
    Exit,
}

/// A function of the module.
#[derive(Clone, Debug)]
pub struct Function<'a> {
    /// Its name: from the name section, or its export, or `func[N]`.
    pub name: String,
    /// Its type index.
    pub type_index: u32,
    /// Its type, or why the machine cannot hold it.
    pub signature: Result<Signature, DecodeError>,
    /// Either an import or a body.
    pub kind: FunctionKind<'a>,
}

/// Imported or defined.
#[derive(Clone, Debug)]
pub enum FunctionKind<'a> {
    /// Provided by the machine, or an import it cannot provide.
    Import(Result<Import, DecodeError>),
    /// Defined in the module.
    Defined {
        /// Declared (non-parameter) locals, in order.
        locals: Vec<ValType>,
        /// The body, to be read operator by operator.
        body: FunctionBody<'a>,
    },
}

/// A global of the module.
#[derive(Clone, Debug)]
pub struct Global {
    /// Its type, or why the machine cannot hold it.
    pub kind: Result<ValueKind, DecodeError>,
    /// Its initial value (the low 32 bits for an i32).
    pub init: u64,
}

/// The module's linear memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Memory {
    /// Initial size in pages.
    pub initial: u32,
    /// Pages it may grow to: the declared maximum, or [`MAX_PAGES`]. The
    /// machine addresses only [`MAX_MEMORY`] bytes of it: an access past
    /// that, inside the grown memory, halts with the machine's memory limit
    /// ([`tvm_dsl::isa::trap_code::MEMORY_LIMIT`]), never silently.
    pub maximum: u32,
}

impl Memory {
    /// Initial size in bytes.
    pub fn initial_bytes(&self) -> u32 {
        self.initial * PAGE
    }
}

/// Bytes in a WebAssembly page.
pub const PAGE: u32 = 65536;

/// The most pages a memory may grow to: wasm32's 65,536 pages less one, so
/// that the size in bytes fits 32 bits (growing past it returns −1, which
/// WebAssembly allows any implementation to do).
pub const MAX_PAGES: u32 = 65535;

/// An export of the module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Export {
    /// Its name.
    pub name: String,
    /// What it exports.
    pub kind: ExternalKind,
    /// The index of what it exports.
    pub index: u32,
}

/// A decoded module the machine can run.
#[derive(Clone, Debug)]
pub struct Module<'a> {
    /// Every function type, in type-index order.
    pub types: Vec<Result<Signature, DecodeError>>,
    /// All functions, imports first (WebAssembly's index space).
    pub functions: Vec<Function<'a>>,
    /// The globals.
    pub globals: Vec<Global>,
    /// The memory, if the module has one.
    pub memory: Option<Memory>,
    /// Active data segments.
    pub data: Vec<Segment>,
    /// Table 0 after its element segments: the function at each index, or
    /// `None` for an empty element.
    pub table: Vec<Option<u32>>,
    /// The exports.
    pub exports: Vec<Export>,
    /// Index of the start function, if any.
    pub start: Option<u32>,
    /// Address of the exported `__tvm_scratch` buffer (at least 16 bytes the
    /// program never touches), if the module provides one.
    pub scratch: Option<u32>,
}

impl Module<'_> {
    /// Memory size in bytes at instantiation (0 without a memory).
    pub fn memory_size(&self) -> u32 {
        self.memory.map_or(0, |m| m.initial_bytes())
    }

    /// The function exported as `name`, if any.
    pub fn exported_function(&self, name: &str) -> Option<u32> {
        self.exports
            .iter()
            .find(|e| e.name == name && e.kind == ExternalKind::Func)
            .map(|e| e.index)
    }
}

/// Why a module cannot run on the machine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Not a valid WebAssembly module.
    #[error("invalid WebAssembly at byte offset {offset:#x}: {message}")]
    Invalid {
        /// Byte offset of the problem.
        offset: u64,
        /// wasmparser's message.
        message: String,
    },
    /// Valid WebAssembly that uses something the machine does not support.
    #[error("unsupported: {what} in {function} at byte offset {offset:#x}")]
    Unsupported {
        /// What was found (an instruction, a type, a section).
        what: String,
        /// The function it is in, or `module` for module-level items.
        function: String,
        /// Byte offset in the binary.
        offset: u64,
        /// The WebAssembly feature it needs, when it is one the machine
        /// lacks as a whole (rather than a limit of the machine).
        feature: Option<Feature>,
    },
    /// No usable entry point, or arguments that do not fit it.
    #[error("{0}")]
    Entry(String),
    /// The module is valid but cannot be instantiated: a data or element
    /// segment lies outside its memory or table (WebAssembly traps then).
    #[error("instantiation failed: {0}")]
    Instantiate(String),
}

impl DecodeError {
    /// The reason a conformance run skips what needs this: the feature the
    /// machine lacks, if that is why.
    pub fn skip_reason(&self) -> Option<&'static str> {
        match self {
            DecodeError::Unsupported {
                feature: Some(f), ..
            } => Some(f.reason()),
            _ => None,
        }
    }
}

fn invalid(e: wasmparser::BinaryReaderError) -> DecodeError {
    DecodeError::Invalid {
        offset: e.offset(),
        message: e.message().to_owned(),
    }
}

fn unsupported(
    what: impl Into<String>,
    function: &str,
    offset: u64,
    feature: Option<Feature>,
) -> DecodeError {
    DecodeError::Unsupported {
        what: what.into(),
        function: function.to_owned(),
        offset,
        feature,
    }
}

/// The machine's type for a wasm value type.
pub fn value_kind(ty: ValType, context: &str, offset: u64) -> Result<ValueKind, DecodeError> {
    match ty {
        ValType::I32 => Ok(ValueKind::I32),
        ValType::I64 => Ok(ValueKind::I64),
        other => Err(unsupported(
            format!("value type {other}"),
            context,
            offset,
            Feature::of_type(other),
        )),
    }
}

fn signature(
    ty: &wasmparser::FuncType,
    context: &str,
    offset: u64,
) -> Result<Signature, DecodeError> {
    let kinds = |types: &[ValType]| {
        types
            .iter()
            .map(|t| value_kind(*t, context, offset))
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(Signature {
        params: kinds(ty.params())?,
        results: kinds(ty.results())?,
    })
}

/// Evaluates a constant expression: `i32.const`, `i64.const` and
/// `global.get` of an earlier global (WebAssembly 2.0's integer forms).
fn const_value(
    expr: &ConstExpr<'_>,
    globals: &[Global],
    context: &str,
) -> Result<(ValueKind, u64), DecodeError> {
    let mut reader = expr.get_operators_reader();
    let mut stack: Vec<(ValueKind, u64)> = Vec::new();
    loop {
        let offset = reader.original_position();
        let op = reader.read().map_err(invalid)?;
        match op {
            Operator::End => break,
            Operator::I32Const { value } => stack.push((ValueKind::I32, u64::from(value as u32))),
            Operator::I64Const { value } => stack.push((ValueKind::I64, value as u64)),
            Operator::GlobalGet { global_index } => {
                let g = globals.get(global_index as usize).ok_or_else(|| {
                    unsupported(
                        "an initialiser reading an imported global",
                        context,
                        offset,
                        Some(Feature::Imports),
                    )
                })?;
                stack.push((g.kind.clone()?, g.init));
            }
            // Extended constant expressions (add, sub, mul) are not
            // WebAssembly 2.0: validation rejects them before this.
            other => {
                let name = operator_name(&other);
                let feature = Feature::of_operator(&name);
                return Err(unsupported(
                    format!("initialiser {name}"),
                    context,
                    offset,
                    feature,
                ));
            }
        }
    }
    stack
        .pop()
        .ok_or_else(|| unsupported("an empty initialiser", context, 0, None))
}

/// The name of a wasmparser operator, like `I64Add`.
pub fn operator_name(op: &Operator<'_>) -> String {
    let text = format!("{op:?}");
    text.split([' ', '{', '(']).next().unwrap_or("?").to_owned()
}

/// Validates and decodes a WebAssembly binary.
pub fn decode(bytes: &[u8]) -> Result<Module<'_>, DecodeError> {
    // WebAssembly 2.0: what the spec tests of that version call invalid
    // (several memories, for one) is invalid here too.
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::WASM2)
        .validate_all(bytes)
        .map_err(invalid)?;

    let mut types: Vec<Result<Signature, DecodeError>> = Vec::new();
    let mut functions: Vec<Function<'_>> = Vec::new();
    let mut defined_types: Vec<u32> = Vec::new();
    let mut bodies: Vec<FunctionBody<'_>> = Vec::new();
    let mut globals: Vec<Global> = Vec::new();
    let mut memory: Option<Memory> = None;
    let mut tables: Vec<u64> = Vec::new();
    let mut table: Vec<Option<u32>> = Vec::new();
    let mut data = Vec::new();
    let mut exports: Vec<Export> = Vec::new();
    let mut start = None;
    let mut names: Vec<(u32, String)> = Vec::new();

    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(invalid)? {
            Payload::TypeSection(reader) => {
                let offset = reader.range().start;
                for group in reader {
                    let group = group.map_err(invalid)?;
                    for ty in group.into_types() {
                        types.push(match ty.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(f) => {
                                signature(&f, "module", offset)
                            }
                            _ => Err(unsupported(
                                "a GC type",
                                "module",
                                offset,
                                Some(Feature::Gc),
                            )),
                        });
                    }
                }
            }
            Payload::ImportSection(reader) => {
                let offset = reader.range().start;
                for import in reader.into_imports() {
                    let import = import.map_err(invalid)?;
                    let what = format!("import {}.{}", import.module, import.name);
                    if let TypeRef::Global(_) = import.ty {
                        // Usable by nothing: code (or an initialiser) that
                        // reads it is unsupported where it does.
                        globals.push(Global {
                            kind: Err(unsupported(
                                format!("{what}, an imported global"),
                                "module",
                                offset,
                                Some(Feature::Imports),
                            )),
                            init: 0,
                        });
                        continue;
                    }
                    let TypeRef::Func(t) = import.ty else {
                        return Err(unsupported(
                            format!("{what} (only functions of tvm can be imported)"),
                            "module",
                            offset,
                            Some(Feature::Imports),
                        ));
                    };
                    let signature = types.get(t as usize).cloned().unwrap_or_else(|| {
                        Err(DecodeError::Invalid {
                            offset,
                            message: format!("{what} has a bad type"),
                        })
                    });
                    let one_i32 = Signature {
                        params: vec![ValueKind::I32],
                        results: vec![],
                    };
                    let kind = match (import.module, import.name) {
                        ("tvm", "output") => Ok(Import::Output),
                        ("tvm", "exit") => Ok(Import::Exit),
                        _ => Err(unsupported(
                            format!("{what} (only tvm.output and tvm.exit can be imported)"),
                            "module",
                            offset,
                            Some(Feature::Imports),
                        )),
                    };
                    let kind = match (kind, &signature) {
                        (Ok(k), Ok(sig)) if *sig == one_i32 => Ok(k),
                        (Ok(_), _) => Err(unsupported(
                            format!("{what} with a type other than (i32) -> ()"),
                            "module",
                            offset,
                            None,
                        )),
                        (Err(e), _) => Err(e),
                    };
                    functions.push(Function {
                        name: format!("{}.{}", import.module, import.name),
                        type_index: t,
                        signature,
                        kind: FunctionKind::Import(kind),
                    });
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader {
                    defined_types.push(ty.map_err(invalid)?);
                }
            }
            Payload::TableSection(reader) => {
                let offset = reader.range().start;
                for t in reader {
                    let t = t.map_err(invalid)?;
                    if t.ty.table64 {
                        return Err(unsupported(
                            "a 64-bit table",
                            "module",
                            offset,
                            Some(Feature::Memory64),
                        ));
                    }
                    if !matches!(t.init, wasmparser::TableInit::RefNull) {
                        return Err(unsupported(
                            "a table with an initialiser",
                            "module",
                            offset,
                            Some(Feature::ReferenceTypes),
                        ));
                    }
                    tables.push(t.ty.initial);
                }
                if let Some(&size) = tables.first() {
                    if size > u64::from(crate::program::MAX_TABLE) {
                        return Err(unsupported(
                            format!(
                                "a table of {size} elements (the machine supports at most {})",
                                crate::program::MAX_TABLE
                            ),
                            "module",
                            offset,
                            None,
                        ));
                    }
                    table = vec![None; size as usize];
                }
            }
            Payload::MemorySection(reader) => {
                let offset = reader.range().start;
                for m in reader {
                    let m = m.map_err(invalid)?;
                    let feature = if memory.is_some() {
                        Some(Feature::MultipleMemories)
                    } else if m.memory64 {
                        Some(Feature::Memory64)
                    } else if m.shared {
                        Some(Feature::Threads)
                    } else {
                        None
                    };
                    if let Some(feature) = feature {
                        return Err(unsupported(
                            format!("a memory that needs {feature}"),
                            "module",
                            offset,
                            Some(feature),
                        ));
                    }
                    let supported = u64::from(MAX_MEMORY / PAGE);
                    if m.initial > supported {
                        return Err(unsupported(
                            format!(
                                "a memory of {} pages ({} bytes); the machine supports at most {supported} pages ({MAX_MEMORY} bytes)",
                                m.initial,
                                m.initial * u64::from(PAGE)
                            ),
                            "module",
                            offset,
                            None,
                        ));
                    }
                    memory = Some(Memory {
                        initial: m.initial as u32,
                        maximum: m
                            .maximum
                            .unwrap_or(u64::from(MAX_PAGES))
                            .min(u64::from(MAX_PAGES)) as u32,
                    });
                }
            }
            Payload::GlobalSection(reader) => {
                let offset = reader.range().start;
                for global in reader {
                    let global = global.map_err(invalid)?;
                    let kind = value_kind(global.ty.content_type, "module", offset);
                    let value = match &kind {
                        Ok(_) => const_value(&global.init_expr, &globals, "module"),
                        Err(e) => Err(e.clone()),
                    };
                    globals.push(match value {
                        Ok((kind, init)) => Global {
                            kind: Ok(kind),
                            init,
                        },
                        Err(e) => Global {
                            kind: Err(e),
                            init: 0,
                        },
                    });
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(invalid)?;
                    exports.push(Export {
                        name: export.name.to_owned(),
                        kind: export.kind,
                        index: export.index,
                    });
                }
            }
            Payload::StartSection { func, .. } => start = Some(func),
            Payload::ElementSection(reader) => {
                let offset = reader.range().start;
                for element in reader {
                    let element = element.map_err(invalid)?;
                    let wasmparser::ElementKind::Active {
                        table_index,
                        offset_expr,
                    } = element.kind
                    else {
                        // Passive and declared segments serve only table
                        // and reference instructions, unsupported where
                        // they appear.
                        continue;
                    };
                    // Only table 0 is reachable (by call_indirect); the
                    // others serve table instructions, unsupported where
                    // they appear, but their segments must still fit.
                    let t = table_index.unwrap_or(0) as usize;
                    let (_, base) = const_value(&offset_expr, &globals, "module")?;
                    let items = element_items(element.items, offset)?;
                    let end = base + items.len() as u64;
                    if end > tables.get(t).copied().unwrap_or(0) {
                        return Err(DecodeError::Instantiate(
                            "out of bounds table access (an element segment lies outside the table)"
                                .to_owned(),
                        ));
                    }
                    if t == 0 {
                        for (i, item) in items.into_iter().enumerate() {
                            table[base as usize + i] = item;
                        }
                    }
                }
            }
            Payload::DataSection(reader) => {
                let offset = reader.range().start;
                for segment in reader {
                    let segment = segment.map_err(invalid)?;
                    match segment.kind {
                        wasmparser::DataKind::Active {
                            memory_index: 0,
                            offset_expr,
                        } => {
                            let (_, base) = const_value(&offset_expr, &globals, "module")?;
                            let size = memory.map_or(0, |m| m.initial_bytes());
                            let end = base + segment.data.len() as u64;
                            if end > u64::from(size) {
                                return Err(DecodeError::Instantiate(format!(
                                    "out of bounds memory access (a data segment at {base} of {} bytes lies outside the memory of {size} bytes)",
                                    segment.data.len()
                                )));
                            }
                            data.push(Segment {
                                base: base as u32,
                                bytes: segment.data.to_vec(),
                            });
                        }
                        wasmparser::DataKind::Active { .. } => {
                            return Err(unsupported(
                                "a data segment for a second memory",
                                "module",
                                offset,
                                Some(Feature::MultipleMemories),
                            ));
                        }
                        // Used only by memory.init, unsupported where it
                        // appears.
                        wasmparser::DataKind::Passive => {}
                    }
                }
            }
            Payload::CodeSectionEntry(body) => bodies.push(body),
            Payload::CustomSection(reader) => {
                if let KnownCustom::Name(name_reader) = reader.as_known() {
                    for name in name_reader.into_iter().flatten() {
                        if let Name::Function(map) = name {
                            for naming in map.into_iter().flatten() {
                                names.push((naming.index, naming.name.to_owned()));
                            }
                        }
                    }
                }
            }
            Payload::TagSection(reader) => {
                return Err(unsupported(
                    "exception tags",
                    "module",
                    reader.range().start,
                    Some(Feature::Exceptions),
                ));
            }
            _ => {}
        }
    }

    // A defined function's name: the name section's, else its export name,
    // else `func[N]` (decided before the body is checked, so errors name it).
    let name_of = |index: usize| {
        names
            .iter()
            .find(|(i, _)| *i as usize == index)
            .map(|(_, n)| n.clone())
            .or_else(|| {
                exports
                    .iter()
                    .find(|e| e.kind == ExternalKind::Func && e.index as usize == index)
                    .map(|e| e.name.clone())
            })
            .unwrap_or_else(|| format!("func[{index}]"))
    };
    for (i, (ty, body)) in defined_types.iter().zip(bodies).enumerate() {
        let index = functions.len();
        let name = name_of(index);
        let offset = body.range().start;
        let signature = match types.get(*ty as usize) {
            Some(Ok(sig)) => Ok(sig.clone()),
            Some(Err(DecodeError::Unsupported { what, feature, .. })) => {
                Err(unsupported(what.clone(), &name, offset, *feature))
            }
            _ => {
                return Err(DecodeError::Invalid {
                    offset,
                    message: format!("function {i} has a bad type"),
                });
            }
        };
        let mut locals = Vec::new();
        for local in body.get_locals_reader().map_err(invalid)? {
            let (count, ty) = local.map_err(invalid)?;
            if locals.len() as u64 + u64::from(count) > u64::from(crate::program::MAX_INDEX) {
                return Err(unsupported(
                    format!(
                        "more than {} locals in one function",
                        crate::program::MAX_INDEX
                    ),
                    &name,
                    offset,
                    None,
                ));
            }
            locals.extend(std::iter::repeat_n(ty, count as usize));
        }
        functions.push(Function {
            name,
            type_index: *ty,
            signature,
            kind: FunctionKind::Defined { locals, body },
        });
    }
    for f in table.iter().flatten() {
        if *f as usize >= functions.len() {
            return Err(DecodeError::Invalid {
                offset: 0,
                message: format!("element refers to function {f}, which does not exist"),
            });
        }
    }
    let memory_size = memory.map_or(0, |m| m.initial_bytes());
    let scratch = exports
        .iter()
        .find(|e| e.name == "__tvm_scratch" && e.kind == ExternalKind::Global)
        .and_then(|e| globals.get(e.index as usize))
        .map(|g| g.init as u32)
        .filter(|&addr| u64::from(addr) + 16 <= u64::from(memory_size));

    Ok(Module {
        types,
        functions,
        globals,
        memory,
        data,
        table,
        exports,
        start,
        scratch,
    })
}

/// The function indices (or empty elements) of an element segment.
fn element_items(
    items: wasmparser::ElementItems<'_>,
    offset: u64,
) -> Result<Vec<Option<u32>>, DecodeError> {
    match items {
        wasmparser::ElementItems::Functions(reader) => reader
            .into_iter()
            .map(|f| f.map(Some).map_err(invalid))
            .collect(),
        wasmparser::ElementItems::Expressions(_, reader) => reader
            .into_iter()
            .map(|expr| {
                let expr = expr.map_err(invalid)?;
                let mut ops = expr.get_operators_reader();
                match ops.read().map_err(invalid)? {
                    Operator::RefFunc { function_index } => Ok(Some(function_index)),
                    Operator::RefNull { .. } => Ok(None),
                    other => Err(unsupported(
                        format!("element initialiser {}", operator_name(&other)),
                        "module",
                        offset,
                        Some(Feature::ReferenceTypes),
                    )),
                }
            })
            .collect(),
    }
}
