//! WebAssembly binary to a decoded [`Module`]: validation by wasmparser, then
//! the checks that the module uses only what the tvm machine supports.
//!
//! Supported: one memory of at most [`MAX_MEMORY`] bytes, i32 everywhere
//! (params, results, locals, globals), active data segments, the `tvm`
//! imports `output` and `exit`, an exported `main` of type `() -> i32`,
//! `() -> ()` or `(i32, i32) -> i32`. Anything else is a [`DecodeError`] that
//! names what it found and where.

use crate::program::{MAX_MEMORY, Segment};
use wasmparser::{
    ExternalKind, FunctionBody, KnownCustom, Name, Operator, Parser, Payload, TypeRef, ValType,
};

/// A function type with only i32 values: how many params and results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signature {
    /// Number of i32 parameters.
    pub params: u32,
    /// Number of i32 results (0 or 1).
    pub results: u32,
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
    /// Its name: from the name section, or `func[N]`.
    pub name: String,
    /// Its type.
    pub signature: Signature,
    /// Either an import or a body.
    pub kind: FunctionKind<'a>,
}

/// Imported or defined.
#[derive(Clone, Debug)]
pub enum FunctionKind<'a> {
    /// Provided by the machine.
    Import(Import),
    /// Defined in the module.
    Defined {
        /// Number of declared (non-parameter) locals.
        locals: u32,
        /// The body, to be read operator by operator.
        body: FunctionBody<'a>,
    },
}

/// A decoded module the machine can run.
#[derive(Clone, Debug)]
pub struct Module<'a> {
    /// All functions, imports first (WebAssembly's index space).
    pub functions: Vec<Function<'a>>,
    /// Initial values of the globals.
    pub globals: Vec<u32>,
    /// Memory size in bytes (0 when the module has no memory).
    pub memory_size: u32,
    /// Active data segments.
    pub data: Vec<Segment>,
    /// Index of the exported `main`.
    pub main: u32,
    /// Index of the start function, if any.
    pub start: Option<u32>,
    /// Address of the exported `__tvm_scratch` buffer (at least 16 bytes the
    /// program never touches), if the module provides one.
    pub scratch: Option<u32>,
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
    },
    /// No usable entry point.
    #[error("{0}")]
    Entry(String),
}

fn invalid(e: wasmparser::BinaryReaderError) -> DecodeError {
    DecodeError::Invalid {
        offset: e.offset(),
        message: e.message().to_owned(),
    }
}

fn unsupported(what: impl Into<String>, function: &str, offset: u64) -> DecodeError {
    DecodeError::Unsupported {
        what: what.into(),
        function: function.to_owned(),
        offset,
    }
}

fn signature(
    ty: &wasmparser::FuncType,
    context: &str,
    offset: u64,
) -> Result<Signature, DecodeError> {
    for v in ty.params().iter().chain(ty.results()) {
        if *v != ValType::I32 {
            return Err(unsupported(
                format!("value type {v} (only i32 is supported)"),
                context,
                offset,
            ));
        }
    }
    if ty.results().len() > 1 {
        return Err(unsupported("multiple results", context, offset));
    }
    Ok(Signature {
        params: ty.params().len() as u32,
        results: ty.results().len() as u32,
    })
}

/// Reads an i32 constant expression (`i32.const N`).
fn const_i32(expr: &wasmparser::ConstExpr<'_>, context: &str) -> Result<u32, DecodeError> {
    let mut reader = expr.get_operators_reader();
    let offset = reader.original_position();
    match reader.read().map_err(invalid)? {
        Operator::I32Const { value } => Ok(value as u32),
        other => Err(unsupported(
            format!("initialiser {other:?}"),
            context,
            offset,
        )),
    }
}

/// Validates and decodes a WebAssembly binary.
pub fn decode(bytes: &[u8]) -> Result<Module<'_>, DecodeError> {
    wasmparser::Validator::new()
        .validate_all(bytes)
        .map_err(invalid)?;

    let mut types: Vec<Result<Signature, DecodeError>> = Vec::new();
    let mut functions: Vec<Function<'_>> = Vec::new();
    let mut defined_types: Vec<u32> = Vec::new();
    let mut bodies: Vec<FunctionBody<'_>> = Vec::new();
    let mut globals = Vec::new();
    let mut memory_size = 0u32;
    let mut data = Vec::new();
    let mut exports: Vec<(String, ExternalKind, u32)> = Vec::new();
    let mut global_exports: Vec<(String, u32)> = Vec::new();
    let mut start = None;
    let mut names: Vec<(u32, String)> = Vec::new();

    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(invalid)? {
            Payload::TypeSection(reader) => {
                let offset = reader.range().start;
                for ty in reader.into_iter_err_on_gc_types() {
                    let ty = ty.map_err(invalid)?;
                    types.push(signature(&ty, "module", offset));
                }
            }
            Payload::ImportSection(reader) => {
                let offset = reader.range().start;
                for import in reader.into_imports() {
                    let import = import.map_err(invalid)?;
                    let what = format!("import {}.{}", import.module, import.name);
                    let kind = match (import.module, import.name, import.ty) {
                        ("tvm", "output", TypeRef::Func(t)) => (Import::Output, t),
                        ("tvm", "exit", TypeRef::Func(t)) => (Import::Exit, t),
                        _ => {
                            return Err(unsupported(
                                format!("{what} (only tvm.output and tvm.exit can be imported)"),
                                "module",
                                offset,
                            ));
                        }
                    };
                    let sig = types.get(kind.1 as usize).cloned().transpose()?;
                    if sig
                        != Some(Signature {
                            params: 1,
                            results: 0,
                        })
                    {
                        return Err(unsupported(
                            format!("{what} with a type other than (i32) -> ()"),
                            "module",
                            offset,
                        ));
                    }
                    functions.push(Function {
                        name: format!("tvm.{}", import.name),
                        signature: Signature {
                            params: 1,
                            results: 0,
                        },
                        kind: FunctionKind::Import(kind.0),
                    });
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader {
                    defined_types.push(ty.map_err(invalid)?);
                }
            }
            Payload::TableSection(reader) => {
                // A table is harmless until call_indirect uses it; that
                // instruction is rejected where it appears.
                let _ = reader;
            }
            Payload::MemorySection(reader) => {
                let offset = reader.range().start;
                for memory in reader {
                    let memory = memory.map_err(invalid)?;
                    if memory_size != 0 || memory.memory64 || memory.shared {
                        return Err(unsupported(
                            "a second, 64-bit or shared memory",
                            "module",
                            offset,
                        ));
                    }
                    let bytes = memory.initial.saturating_mul(65536);
                    if bytes > u64::from(MAX_MEMORY) {
                        return Err(unsupported(
                            format!(
                                "a memory of {} pages (the machine supports at most {})",
                                memory.initial,
                                MAX_MEMORY / 65536
                            ),
                            "module",
                            offset,
                        ));
                    }
                    memory_size = bytes as u32;
                }
            }
            Payload::GlobalSection(reader) => {
                let offset = reader.range().start;
                for global in reader {
                    let global = global.map_err(invalid)?;
                    if global.ty.content_type != ValType::I32 {
                        return Err(unsupported(
                            format!("a global of type {}", global.ty.content_type),
                            "module",
                            offset,
                        ));
                    }
                    globals.push(const_i32(&global.init_expr, "module")?);
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(invalid)?;
                    if export.kind == ExternalKind::Global {
                        global_exports.push((export.name.to_owned(), export.index));
                    }
                    exports.push((export.name.to_owned(), export.kind, export.index));
                }
            }
            Payload::StartSection { func, .. } => start = Some(func),
            Payload::DataSection(reader) => {
                let offset = reader.range().start;
                for segment in reader {
                    let segment = segment.map_err(invalid)?;
                    match segment.kind {
                        wasmparser::DataKind::Active {
                            memory_index: 0,
                            offset_expr,
                        } => {
                            let base = const_i32(&offset_expr, "module")?;
                            let end = u64::from(base) + segment.data.len() as u64;
                            if end > u64::from(memory_size) {
                                return Err(DecodeError::Invalid {
                                    offset,
                                    message: format!(
                                        "data segment at {base} of {} bytes is out of bounds",
                                        segment.data.len()
                                    ),
                                });
                            }
                            data.push(Segment {
                                base,
                                bytes: segment.data.to_vec(),
                            });
                        }
                        _ => {
                            return Err(unsupported(
                                "a passive data segment (bulk memory)",
                                "module",
                                offset,
                            ));
                        }
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
                    .find(|(_, kind, i)| *kind == ExternalKind::Func && *i as usize == index)
                    .map(|(n, _, _)| n.clone())
            })
            .unwrap_or_else(|| format!("func[{index}]"))
    };
    for (i, (ty, body)) in defined_types.iter().zip(bodies).enumerate() {
        let index = functions.len();
        let name = name_of(index);
        let offset = body.range().start;
        let signature = match types.get(*ty as usize) {
            Some(Ok(sig)) => *sig,
            Some(Err(DecodeError::Unsupported { what, .. })) => {
                return Err(unsupported(what.clone(), &name, offset));
            }
            _ => {
                return Err(DecodeError::Invalid {
                    offset,
                    message: format!("function {i} has a bad type"),
                });
            }
        };
        let mut locals = 0u32;
        for local in body.get_locals_reader().map_err(invalid)? {
            let (count, ty) = local.map_err(invalid)?;
            if ty != ValType::I32 {
                return Err(unsupported(format!("a local of type {ty}"), &name, offset));
            }
            locals = locals.saturating_add(count);
        }
        functions.push(Function {
            name,
            signature,
            kind: FunctionKind::Defined { locals, body },
        });
    }
    let main = exports
        .iter()
        .find(|(name, kind, _)| name == "main" && *kind == ExternalKind::Func)
        .map(|e| e.2)
        .ok_or_else(|| DecodeError::Entry("the module exports no function `main`".to_owned()))?;
    let main_sig = functions[main as usize].signature;
    if !matches!(
        (main_sig.params, main_sig.results),
        (0, 0) | (0, 1) | (2, 1)
    ) {
        return Err(DecodeError::Entry(format!(
            "`main` takes {} and returns {} values; expected () -> i32, () -> () or (i32, i32) -> i32",
            main_sig.params, main_sig.results
        )));
    }
    if let Some(s) = start {
        let sig = functions[s as usize].signature;
        if sig.params != 0 || sig.results != 0 {
            return Err(DecodeError::Entry(
                "the start function must take and return nothing".to_owned(),
            ));
        }
    }
    let scratch = global_exports
        .iter()
        .find(|(name, _)| name == "__tvm_scratch")
        .and_then(|(_, g)| globals.get(*g as usize).copied())
        .filter(|&addr| u64::from(addr) + 16 <= u64::from(memory_size));

    Ok(Module {
        functions,
        globals,
        memory_size,
        data,
        main,
        start,
        scratch,
    })
}
