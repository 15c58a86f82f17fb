//! `tvm-oracle`: runs a WebAssembly module under the tvm machine's
//! conventions on [wasmi], an interpreter that shares no code with tvm. Tests
//! use it as an independent oracle for what a program prints, how it ends
//! and roughly how long it runs.
//!
//! # Conventions (fixed; shared with the tvm engine)
//!
//! - The module may import only two functions, both from module `"tvm"`:
//!   `output: (func (param i32))` appends the low byte of its argument to the
//!   program's output; `exit: (func (param i32))` ends the program with that
//!   exit status (it never returns).
//! - The module exports `main`, either `(func (result i32))` or
//!   `(func (param i32 i32) (result i32))` (argc, argv). The value main
//!   returns is the exit status.
//! - When main takes (argc, argv), the *input image* is written to linear
//!   memory at [`INPUT_BASE`] (256) before main runs: `argc` (i32) at 256,
//!   `argv[0..argc]` as i32 pointers from 260, a 0 pointer, then the
//!   NUL-terminated argument strings. `argv[0]` is the program name. The
//!   image must end at or below [`INPUT_LIMIT`] (4096). The memory written to
//!   is the module's exported memory (clang exports it as `"memory"`).
//! - Standard input ([`run_with_stdin`]), when not empty, occupies the top
//!   of that memory, `[size − n, size)`, and the two little-endian words at
//!   [`STDIN_INFO`] (248) hold its address and `n` (both stay 0 without
//!   stdin). tvm's libc reads stdin through them.
//!
//! # Fuel
//!
//! With `fuel = Some(limit)` wasmi's fuel metering is on: every executed
//! WebAssembly operator costs 1, except `nop`, `drop`, `block`, `loop`,
//! `else`, `end`, `return` and `unreachable`, which cost 0 (wasmi's default
//! operator costs), and every entry into a wasm function costs 1 more. So
//! [`Outcome::fuel_consumed`] approximates the number of executed
//! instructions. wasmi charges a basic block's fuel when the block starts, so
//! a run that traps or exits mid-block is charged for the whole block.
//! Functions are compiled eagerly: no fuel is spent on lazy compilation.

use std::fmt;

use wasmi::{
    AsContextMut, Caller, CompilationMode, Config, Engine, Error as WasmiError, ExternType,
    FuncType, Linker, Memory, Module, Store, TrapCode, ValType,
};

/// Address of the input image (argc, argv pointers, strings) in memory.
pub const INPUT_BASE: u32 = 256;

/// The input image must end at or below this address (where data begins).
pub const INPUT_LIMIT: u32 = 4096;

/// Address of the standard-input header: the address of the first stdin
/// byte and the number of bytes, two little-endian `u32`s.
pub const STDIN_INFO: u32 = 248;

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// `main` returned this value, or the program called `exit` with it.
    Exited(i32),
    /// Execution trapped.
    Trapped(TrapKind),
}

/// The kind of a WebAssembly trap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrapKind {
    /// An `unreachable` instruction was executed.
    Unreachable,
    /// Integer division or remainder by zero.
    IntegerDivideByZero,
    /// `i32.div_s` of `i32::MIN` by -1.
    IntegerOverflow,
    /// A load or store outside linear memory.
    OutOfBoundsMemory,
    /// Calls nested deeper than the interpreter's stack.
    CallStackExhausted,
    /// `call_indirect` with an index past the table.
    UndefinedElement,
    /// `call_indirect` to an empty table element.
    UninitializedElement,
    /// `call_indirect` to a function of another type.
    IndirectCallTypeMismatch,
    /// Any other trap, with wasmi's message.
    Other(String),
}

impl TrapKind {
    /// The WebAssembly specification's name for the trap ("unreachable",
    /// "integer divide by zero", "integer overflow", "out of bounds memory
    /// access"); for [`TrapKind::Other`], the interpreter's message.
    pub fn name(&self) -> &str {
        match self {
            TrapKind::Unreachable => "unreachable",
            TrapKind::IntegerDivideByZero => "integer divide by zero",
            TrapKind::IntegerOverflow => "integer overflow",
            TrapKind::OutOfBoundsMemory => "out of bounds memory access",
            TrapKind::CallStackExhausted => "call stack exhausted",
            TrapKind::UndefinedElement => "undefined element",
            TrapKind::UninitializedElement => "uninitialized element",
            TrapKind::IndirectCallTypeMismatch => "indirect call type mismatch",
            TrapKind::Other(message) => message,
        }
    }

    fn from_trap_code(code: TrapCode) -> TrapKind {
        match code {
            TrapCode::UnreachableCodeReached => TrapKind::Unreachable,
            TrapCode::IntegerDivisionByZero => TrapKind::IntegerDivideByZero,
            TrapCode::IntegerOverflow => TrapKind::IntegerOverflow,
            TrapCode::MemoryOutOfBounds => TrapKind::OutOfBoundsMemory,
            TrapCode::StackOverflow => TrapKind::CallStackExhausted,
            TrapCode::TableOutOfBounds => TrapKind::UndefinedElement,
            TrapCode::IndirectCallToNull => TrapKind::UninitializedElement,
            TrapCode::BadSignature => TrapKind::IndirectCallTypeMismatch,
            other => TrapKind::Other(other.trap_message().to_string()),
        }
    }
}

impl fmt::Display for TrapKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The observable result of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Every byte passed to `output`, in order (up to the end or the trap).
    pub output: Vec<u8>,
    /// How the run ended.
    pub status: Status,
    /// Fuel spent (≈ executed instructions), when a fuel limit was given.
    pub fuel_consumed: Option<u64>,
}

/// Why a module could not be run to an [`Outcome`].
#[derive(Debug, thiserror::Error)]
pub enum OracleError {
    /// wasmi rejected the bytes (malformed or invalid module).
    #[error("invalid wasm module: {0}")]
    InvalidModule(String),
    /// The module imports something other than `tvm.output` / `tvm.exit`.
    #[error(
        "unsupported import `{module}`.`{name}`: only \"tvm\".\"output\" and \"tvm\".\"exit\" exist"
    )]
    UnsupportedImport {
        /// Import module name.
        module: String,
        /// Import field name.
        name: String,
    },
    /// `tvm.output` or `tvm.exit` is imported with the wrong type.
    #[error("import `tvm`.`{name}` has type {found}; expected (func (param i32))")]
    ImportSignature {
        /// Import field name.
        name: String,
        /// The type the module declares.
        found: String,
    },
    /// There is no exported function `main`.
    #[error("the module exports no function named `main`")]
    MissingMain,
    /// `main` has neither accepted type.
    #[error(
        "`main` has type {found}; expected (func (result i32)) or (func (param i32 i32) (result i32))"
    )]
    MainSignature {
        /// The type the module declares.
        found: String,
    },
    /// `main` takes (argc, argv) but there is no exported memory to hold the
    /// input image.
    #[error("`main` takes (argc, argv) but the module exports no memory")]
    MissingMemory,
    /// The memory is too small to hold the input image.
    #[error("memory of {size} bytes cannot hold the input image (needs {INPUT_LIMIT})")]
    MemoryTooSmall {
        /// Memory size in bytes.
        size: usize,
    },
    /// The input image would extend past [`INPUT_LIMIT`].
    #[error("the input image needs {needed} bytes from {INPUT_BASE}, past the limit {INPUT_LIMIT}")]
    InputTooLarge {
        /// End address the image would need.
        needed: usize,
    },
    /// Standard input does not fit the memory above the input area.
    #[error(
        "standard input of {len} bytes does not fit above {INPUT_LIMIT} in a memory of {size} bytes"
    )]
    StdinTooLarge {
        /// Bytes of stdin.
        len: usize,
        /// Memory size in bytes.
        size: usize,
    },
    /// An argument contains a NUL byte, which C strings cannot hold.
    #[error("argument {index} contains a NUL byte")]
    NulInArgument {
        /// Position in argv (0 = program name).
        index: usize,
    },
    /// Linking or instantiating the module failed.
    #[error("instantiation failed: {0}")]
    Instantiation(String),
    /// The fuel limit ran out before the program ended.
    #[error("out of fuel: the limit of {limit} was exhausted ({} bytes of output so far)", output.len())]
    OutOfFuel {
        /// The limit that was given.
        limit: u64,
        /// Output produced before the fuel ran out.
        output: Vec<u8>,
    },
    /// wasmi failed in a way that is neither a trap nor an exit.
    #[error("execution failed: {0}")]
    Execution(String),
}

/// Host state: the output collected so far.
#[derive(Debug, Default)]
struct HostState {
    output: Vec<u8>,
}

/// The two accepted shapes of `main`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MainKind {
    NoArgs,
    ArgcArgv,
}

/// Compiles `wasm` (eagerly, metering fuel when `fuel` is given) after
/// checking that it imports only what tvm's conventions provide.
fn compile(wasm: &[u8], fuel: Option<u64>) -> Result<(Engine, Module), OracleError> {
    let mut config = Config::default();
    config.compilation_mode(CompilationMode::Eager);
    config.consume_fuel(fuel.is_some());
    let engine = Engine::new(&config);
    let module =
        Module::new(&engine, wasm).map_err(|e| OracleError::InvalidModule(e.to_string()))?;
    check_imports(&module)?;
    Ok((engine, module))
}

/// A store with `fuel` and a linker that provides `tvm.output` (the low
/// byte of its argument, as the convention says) and `tvm.exit`.
fn host(
    engine: &Engine,
    fuel: Option<u64>,
) -> Result<(Store<HostState>, Linker<HostState>), OracleError> {
    let mut store = Store::new(engine, HostState::default());
    if let Some(limit) = fuel {
        store
            .set_fuel(limit)
            .map_err(|e| OracleError::Execution(e.to_string()))?;
    }
    let mut linker = Linker::<HostState>::new(engine);
    linker
        .func_wrap(
            "tvm",
            "output",
            |mut caller: Caller<'_, HostState>, byte: i32| {
                caller.data_mut().output.push(byte.to_le_bytes()[0]);
            },
        )
        .map_err(|e| OracleError::Instantiation(e.to_string()))?;
    linker
        .func_wrap(
            "tvm",
            "exit",
            |_caller: Caller<'_, HostState>, status: i32| -> Result<(), WasmiError> {
                Err(WasmiError::i32_exit(status))
            },
        )
        .map_err(|e| OracleError::Instantiation(e.to_string()))?;
    Ok((store, linker))
}

/// Runs `wasm` under the tvm conventions: `program_name` becomes `argv[0]`,
/// `args` the rest of argv. `fuel` caps the run (and turns on metering).
///
/// Returns the output and how the program ended (exit status or trap); an
/// `Err` means the module could not be run by the conventions at all, or the
/// fuel ran out.
pub fn run(
    wasm: &[u8],
    program_name: &str,
    args: &[&str],
    fuel: Option<u64>,
) -> Result<Outcome, OracleError> {
    run_with_stdin(wasm, program_name, args, &[], fuel)
}

/// [`run`] with `stdin` as the program's standard input, placed at the top
/// of its memory (see the conventions above; empty: no stdin).
pub fn run_with_stdin(
    wasm: &[u8],
    program_name: &str,
    args: &[&str],
    stdin: &[u8],
    fuel: Option<u64>,
) -> Result<Outcome, OracleError> {
    let (engine, module) = compile(wasm, fuel)?;
    let main_kind = main_kind(&module)?;
    let memory_name = exported_memory(&module);

    // Build the image first so that argument errors surface before running.
    let image = match main_kind {
        MainKind::ArgcArgv => {
            let mut argv = Vec::with_capacity(args.len() + 1);
            argv.push(program_name);
            argv.extend_from_slice(args);
            Some(input_image(&argv)?)
        }
        MainKind::NoArgs => None,
    };

    let (mut store, linker) = host(&engine, fuel)?;

    let instance = match linker.instantiate_and_start(&mut store, &module) {
        Ok(instance) => instance,
        // A start function may print, exit or trap: that is a result.
        Err(error) => return finish(store, fuel, Err(error)),
    };

    if !stdin.is_empty() {
        let memory = memory_name
            .as_deref()
            .and_then(|name| instance.get_memory(&store, name))
            .ok_or(OracleError::MissingMemory)?;
        write_stdin(&mut store, memory, stdin)?;
    }
    let result = match main_kind {
        MainKind::NoArgs => {
            let main = instance
                .get_typed_func::<(), i32>(&store, "main")
                .map_err(|_| OracleError::MissingMain)?;
            main.call(&mut store, ())
        }
        MainKind::ArgcArgv => {
            let memory = memory_name
                .as_deref()
                .and_then(|name| instance.get_memory(&store, name))
                .ok_or(OracleError::MissingMemory)?;
            let (argc, bytes) = image.unwrap_or_default();
            write_image(&mut store, memory, &bytes)?;
            let main = instance
                .get_typed_func::<(i32, i32), i32>(&store, "main")
                .map_err(|_| OracleError::MissingMain)?;
            main.call(&mut store, (argc, INPUT_BASE as i32 + 4))
        }
    };
    finish(store, fuel, result)
}

/// An integer value passed to or returned from an export (its bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Value {
    /// `i32`
    I32(u32),
    /// `i64`
    I64(u64),
}

/// One call of an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The export's name.
    pub export: String,
    /// Its arguments.
    pub args: Vec<Value>,
}

impl Call {
    /// A call of `export` with `args`.
    pub fn new(export: &str, args: Vec<Value>) -> Call {
        Call {
            export: export.to_owned(),
            args,
        }
    }
}

/// What a sequence of calls did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoked {
    /// The results of each call that returned, in order.
    pub results: Vec<Vec<Value>>,
    /// The trap that ended the sequence, if one did (the call after the
    /// last result's).
    pub trap: Option<TrapKind>,
    /// Every byte passed to `tvm.output`.
    pub output: Vec<u8>,
    /// The exit status, if `tvm.exit` ended the sequence.
    pub exit: Option<i32>,
}

/// Instantiates `wasm` once and calls its exports in order, as the tvm
/// machine's invocation entry does: state carries from call to call, and
/// the first trap (or `tvm.exit`) ends the sequence. A trap in the start
/// function ends it before the first call.
pub fn invoke(wasm: &[u8], calls: &[Call], fuel: Option<u64>) -> Result<Invoked, OracleError> {
    let (engine, module) = compile(wasm, fuel)?;
    let (mut store, linker) = host(&engine, fuel)?;
    let mut done = Invoked {
        results: Vec::new(),
        trap: None,
        output: Vec::new(),
        exit: None,
    };
    // Ends the sequence with an error from wasm code.
    let stop = |error: WasmiError, done: &mut Invoked| -> Result<(), OracleError> {
        if let Some(status) = error.i32_exit_status() {
            done.exit = Some(status);
            Ok(())
        } else if let Some(code) = error.as_trap_code() {
            if code == TrapCode::OutOfFuel {
                return Err(OracleError::OutOfFuel {
                    limit: fuel.unwrap_or(0),
                    output: Vec::new(),
                });
            }
            done.trap = Some(TrapKind::from_trap_code(code));
            Ok(())
        } else {
            Err(OracleError::Execution(error.to_string()))
        }
    };
    let instance = match linker.instantiate_and_start(&mut store, &module) {
        Ok(instance) => instance,
        Err(error) => {
            stop(error, &mut done)?;
            done.output = store.into_data().output;
            return Ok(done);
        }
    };
    for call in calls {
        let func = instance
            .get_func(&store, &call.export)
            .ok_or_else(|| OracleError::Execution(format!("no export `{}`", call.export)))?;
        let args: Vec<wasmi::Val> = call
            .args
            .iter()
            .map(|v| match *v {
                Value::I32(x) => wasmi::Val::I32(x as i32),
                Value::I64(x) => wasmi::Val::I64(x as i64),
            })
            .collect();
        let ty = func.ty(&store);
        let mut results: Vec<wasmi::Val> = ty
            .results()
            .iter()
            .map(|t| wasmi::Val::default_for_ty(*t))
            .collect();
        match func.call(&mut store, &args, &mut results) {
            Ok(()) => {
                let values = results
                    .iter()
                    .map(|r| match r {
                        wasmi::Val::I32(x) => Ok(Value::I32(*x as u32)),
                        wasmi::Val::I64(x) => Ok(Value::I64(*x as u64)),
                        other => Err(OracleError::Execution(format!(
                            "`{}` returned {other:?}, not an integer",
                            call.export
                        ))),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                done.results.push(values);
            }
            Err(error) => {
                stop(error, &mut done)?;
                break;
            }
        }
    }
    done.output = store.into_data().output;
    Ok(done)
}

/// Turns the result of executing code into an [`Outcome`].
fn finish(
    store: Store<HostState>,
    fuel: Option<u64>,
    result: Result<i32, WasmiError>,
) -> Result<Outcome, OracleError> {
    let fuel_consumed = match fuel {
        Some(limit) => {
            let left = store
                .get_fuel()
                .map_err(|e| OracleError::Execution(e.to_string()))?;
            Some(limit.saturating_sub(left))
        }
        None => None,
    };
    let output = store.into_data().output;
    let status = match result {
        Ok(status) => Status::Exited(status),
        Err(error) => {
            if let Some(status) = error.i32_exit_status() {
                Status::Exited(status)
            } else if let Some(code) = error.as_trap_code() {
                if code == TrapCode::OutOfFuel {
                    return Err(OracleError::OutOfFuel {
                        limit: fuel.unwrap_or(0),
                        output,
                    });
                }
                Status::Trapped(TrapKind::from_trap_code(code))
            } else {
                return Err(OracleError::Execution(error.to_string()));
            }
        }
    };
    Ok(Outcome {
        output,
        status,
        fuel_consumed,
    })
}

/// Every import must be `tvm.output` or `tvm.exit`, of type `(param i32)`.
fn check_imports(module: &Module) -> Result<(), OracleError> {
    for import in module.imports() {
        let (module_name, name) = (import.module(), import.name());
        if module_name != "tvm" || (name != "output" && name != "exit") {
            return Err(OracleError::UnsupportedImport {
                module: module_name.to_string(),
                name: name.to_string(),
            });
        }
        match import.ty() {
            ExternType::Func(ty) if ty.params() == [ValType::I32] && ty.results().is_empty() => {}
            other => {
                return Err(OracleError::ImportSignature {
                    name: name.to_string(),
                    found: describe_extern(other),
                });
            }
        }
    }
    Ok(())
}

/// Which accepted signature `main` has.
fn main_kind(module: &Module) -> Result<MainKind, OracleError> {
    match module.get_export("main") {
        Some(ExternType::Func(ty)) => {
            if ty.results() != [ValType::I32] {
                return Err(OracleError::MainSignature {
                    found: describe_func(&ty),
                });
            }
            match ty.params() {
                [] => Ok(MainKind::NoArgs),
                [ValType::I32, ValType::I32] => Ok(MainKind::ArgcArgv),
                _ => Err(OracleError::MainSignature {
                    found: describe_func(&ty),
                }),
            }
        }
        _ => Err(OracleError::MissingMain),
    }
}

/// Name of the module's exported memory (`"memory"` preferred).
fn exported_memory(module: &Module) -> Option<String> {
    let mut first = None;
    for export in module.exports() {
        if let ExternType::Memory(_) = export.ty() {
            if export.name() == "memory" {
                return Some(export.name().to_string());
            }
            if first.is_none() {
                first = Some(export.name().to_string());
            }
        }
    }
    first
}

/// Builds the input image for `argv` (argv[0] included): returns argc and
/// the bytes to store at [`INPUT_BASE`].
///
/// Layout: argc, then argc + 1 pointers (the last is 0), then the strings,
/// each followed by a NUL. Every pointer is an absolute address.
fn input_image(argv: &[&str]) -> Result<(i32, Vec<u8>), OracleError> {
    if let Some(index) = argv.iter().position(|a| a.as_bytes().contains(&0)) {
        return Err(OracleError::NulInArgument { index });
    }
    let base = INPUT_BASE as usize;
    let strings_start = base + 4 + 4 * (argv.len() + 1);
    let strings_len: usize = argv.iter().map(|a| a.len() + 1).sum();
    let end = strings_start + strings_len;
    if end > INPUT_LIMIT as usize {
        return Err(OracleError::InputTooLarge { needed: end });
    }
    // Every address below is < INPUT_LIMIT, so the i32 conversions are exact.
    let argc = i32::try_from(argv.len()).map_err(|_| OracleError::InputTooLarge { needed: end })?;
    let mut image = Vec::with_capacity(end - base);
    image.extend_from_slice(&argc.to_le_bytes());
    let mut next = strings_start;
    for arg in argv {
        image.extend_from_slice(&(next as u32).to_le_bytes());
        next += arg.len() + 1;
    }
    image.extend_from_slice(&0u32.to_le_bytes());
    for arg in argv {
        image.extend_from_slice(arg.as_bytes());
        image.push(0);
    }
    debug_assert_eq!(base + image.len(), end);
    Ok((argc, image))
}

/// Stores the image at [`INPUT_BASE`].
fn write_image(
    store: &mut Store<HostState>,
    memory: Memory,
    image: &[u8],
) -> Result<(), OracleError> {
    let size = memory.data_size(&*store);
    if size < INPUT_LIMIT as usize {
        return Err(OracleError::MemoryTooSmall { size });
    }
    memory
        .write(store.as_context_mut(), INPUT_BASE as usize, image)
        .map_err(|e| OracleError::Execution(e.to_string()))
}

/// Stores `stdin` at the top of memory and its header at [`STDIN_INFO`].
fn write_stdin(
    store: &mut Store<HostState>,
    memory: Memory,
    stdin: &[u8],
) -> Result<(), OracleError> {
    let size = memory.data_size(&*store);
    let too_large = || OracleError::StdinTooLarge {
        len: stdin.len(),
        size,
    };
    let start = size
        .checked_sub(stdin.len())
        .filter(|&start| start >= INPUT_LIMIT as usize)
        .ok_or_else(too_large)?;
    let start32 = u32::try_from(start).map_err(|_| too_large())?;
    let len32 = u32::try_from(stdin.len()).map_err(|_| too_large())?;
    let mut header = start32.to_le_bytes().to_vec();
    header.extend_from_slice(&len32.to_le_bytes());
    for (at, bytes) in [(STDIN_INFO as usize, header.as_slice()), (start, stdin)] {
        memory
            .write(store.as_context_mut(), at, bytes)
            .map_err(|e| OracleError::Execution(e.to_string()))?;
    }
    Ok(())
}

fn describe_func(ty: &FuncType) -> String {
    format!(
        "(func (param {:?}) (result {:?}))",
        ty.params(),
        ty.results()
    )
}

fn describe_extern(ty: &ExternType) -> String {
    match ty {
        ExternType::Func(f) => describe_func(f),
        ExternType::Global(_) => "a global".to_string(),
        ExternType::Table(_) => "a table".to_string(),
        ExternType::Memory(_) => "a memory".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wasm(text: &str) -> Vec<u8> {
        wat::parse_str(text).unwrap()
    }

    fn run_wat(text: &str, args: &[&str]) -> Result<Outcome, OracleError> {
        run(&wasm(text), "prog", args, Some(1_000_000))
    }

    const PRINT_AB: &str = r#"(module
        (import "tvm" "output" (func $out (param i32)))
        (func (export "main") (result i32)
            (call $out (i32.const 65))
            (call $out (i32.const 0x142)) ;; low byte 0x42 = 'B'
            (i32.const 7)))"#;

    #[test]
    fn output_keeps_low_byte_and_main_result_is_status() {
        let outcome = run_wat(PRINT_AB, &[]).unwrap();
        assert_eq!(outcome.output, b"AB");
        assert_eq!(outcome.status, Status::Exited(7));
    }

    /// Prints the stdin header's length word, then every stdin byte read
    /// through the header's address (a no-argument main: stdin does not
    /// need argv).
    const ECHO_STDIN: &str = r#"(module
        (import "tvm" "output" (func $out (param i32)))
        (memory (export "memory") 1)
        (func (export "main") (result i32)
            (local $p i32) (local $end i32)
            (local.set $p (i32.load (i32.const 248)))
            (local.set $end (i32.add (local.get $p) (i32.load (i32.const 252))))
            (call $out (i32.add (i32.const 48) (i32.load (i32.const 252))))
            (block $done
                (loop $l
                    (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
                    (call $out (i32.load8_u (local.get $p)))
                    (local.set $p (i32.add (local.get $p) (i32.const 1)))
                    (br $l)))
            (i32.load (i32.const 248))))"#;

    #[test]
    fn stdin_is_at_the_top_of_memory_with_its_header() {
        let outcome = run_with_stdin(&wasm(ECHO_STDIN), "prog", &[], b"hi\n", None).unwrap();
        assert_eq!(outcome.output, b"3hi\n");
        assert_eq!(outcome.status, Status::Exited(65536 - 3));
        // No stdin: the header stays zero.
        let outcome = run_with_stdin(&wasm(ECHO_STDIN), "prog", &[], b"", None).unwrap();
        assert_eq!(outcome.output, b"0");
        assert_eq!(outcome.status, Status::Exited(0));
        let too_big = vec![b'x'; 65536 - 4095];
        assert!(matches!(
            run_with_stdin(&wasm(ECHO_STDIN), "prog", &[], &too_big, None),
            Err(OracleError::StdinTooLarge {
                len: 61441,
                size: 65536
            })
        ));
    }

    #[test]
    fn fuel_is_reported_only_when_limited() {
        let limited = run_wat(PRINT_AB, &[]).unwrap();
        let consumed = limited.fuel_consumed.unwrap();
        // 2 × (const + call) + const, each costing 1, plus 1 for entering
        // main (host calls cost nothing extra).
        assert_eq!(consumed, 6);
        let unlimited = run(&wasm(PRINT_AB), "prog", &[], None).unwrap();
        assert_eq!(unlimited.fuel_consumed, None);
        assert_eq!(unlimited.output, b"AB");
    }

    #[test]
    fn out_of_fuel_is_an_error_with_partial_output() {
        let text = r#"(module
            (import "tvm" "output" (func $out (param i32)))
            (func (export "main") (result i32)
                (call $out (i32.const 88))
                (loop $l (br $l))
                (i32.const 0)))"#;
        match run(&wasm(text), "prog", &[], Some(1000)) {
            Err(OracleError::OutOfFuel { limit, output }) => {
                assert_eq!(limit, 1000);
                assert_eq!(output, b"X");
            }
            other => panic!("expected OutOfFuel, got {other:?}"),
        }
    }

    /// A few million executed instructions must not exhaust the native
    /// stack in debug builds (wasmi's tail-call dispatch would; the oracle
    /// uses its portable dispatch).
    #[test]
    fn long_runs_finish_in_debug_builds() {
        let text = r#"(module
            (import "tvm" "output" (func $out (param i32)))
            (func $step (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
            (func (export "main") (result i32)
                (local $i i32)
                (loop $l
                    (local.set $i (call $step (local.get $i)))
                    (br_if $l (i32.lt_u (local.get $i) (i32.const 1000000))))
                (call $out (i32.const 33))
                (local.get $i)))"#;
        let outcome = run(&wasm(text), "prog", &[], Some(100_000_000)).unwrap();
        assert_eq!(outcome.output, b"!");
        assert_eq!(outcome.status, Status::Exited(1_000_000));
        assert!(outcome.fuel_consumed.unwrap() > 5_000_000);
    }

    #[test]
    fn exit_import_ends_the_run_with_its_status() {
        let text = r#"(module
            (import "tvm" "output" (func $out (param i32)))
            (import "tvm" "exit" (func $exit (param i32)))
            (func $inner (call $exit (i32.const 3)) (call $out (i32.const 90)))
            (func (export "main") (result i32)
                (call $out (i32.const 89))
                (call $inner)
                (call $out (i32.const 90))
                (i32.const 0)))"#;
        let outcome = run_wat(text, &[]).unwrap();
        assert_eq!(outcome.output, b"Y");
        assert_eq!(outcome.status, Status::Exited(3));
    }

    #[test]
    fn negative_exit_status_is_kept() {
        let text = r#"(module
            (import "tvm" "exit" (func $exit (param i32)))
            (func (export "main") (result i32)
                (call $exit (i32.const -2)) (i32.const 0)))"#;
        assert_eq!(run_wat(text, &[]).unwrap().status, Status::Exited(-2));
    }

    fn trap_of(body: &str) -> Status {
        let text = format!(
            r#"(module
                (import "tvm" "output" (func $out (param i32)))
                (memory 1)
                (func (export "main") (result i32) {body}))"#
        );
        let outcome = run_wat(&text, &[]).unwrap();
        assert_eq!(outcome.output, b"T", "output before the trap is kept");
        outcome.status
    }

    #[test]
    fn each_trap_kind() {
        let out = "(call $out (i32.const 84))";
        assert_eq!(
            trap_of(&format!("{out} unreachable")),
            Status::Trapped(TrapKind::Unreachable)
        );
        assert_eq!(
            trap_of(&format!("{out} (i32.div_u (i32.const 1) (i32.const 0))")),
            Status::Trapped(TrapKind::IntegerDivideByZero)
        );
        assert_eq!(
            trap_of(&format!("{out} (i32.rem_s (i32.const 1) (i32.const 0))")),
            Status::Trapped(TrapKind::IntegerDivideByZero)
        );
        assert_eq!(
            trap_of(&format!(
                "{out} (i32.div_s (i32.const 0x80000000) (i32.const -1))"
            )),
            Status::Trapped(TrapKind::IntegerOverflow)
        );
        assert_eq!(
            trap_of(&format!("{out} (i32.load (i32.const 65533))")),
            Status::Trapped(TrapKind::OutOfBoundsMemory)
        );
        assert_eq!(
            trap_of(&format!(
                "{out} (i32.store8 (i32.const 65536) (i32.const 0)) (i32.const 0)"
            )),
            Status::Trapped(TrapKind::OutOfBoundsMemory)
        );
    }

    #[test]
    fn deep_recursion_exhausts_the_call_stack() {
        let text = r#"(module
            (func $f (param i32) (result i32) (call $f (local.get 0)))
            (func (export "main") (result i32) (call $f (i32.const 0))))"#;
        assert_eq!(
            run_wat(text, &[]).unwrap().status,
            Status::Trapped(TrapKind::CallStackExhausted)
        );
    }

    #[test]
    fn invoke_returns_results_per_call_and_stops_at_a_trap() {
        let wasm = wat::parse_str(
            r#"(module
                (global $g (mut i64) (i64.const 5))
                (func (export "add") (param i64 i32) (result i64)
                  (global.set $g (i64.add (global.get $g) (local.get 0)))
                  (i64.add (global.get $g) (i64.extend_i32_u (local.get 1))))
                (func (export "div") (param i32) (result i32)
                  (i32.div_u (i32.const 7) (local.get 0))))"#,
        )
        .unwrap();
        let calls = vec![
            Call::new("add", vec![Value::I64(-1i64 as u64), Value::I32(10)]),
            Call::new("add", vec![Value::I64(1), Value::I32(0)]),
            Call::new("div", vec![Value::I32(0)]),
            Call::new("div", vec![Value::I32(1)]),
        ];
        let out = invoke(&wasm, &calls, None).unwrap();
        assert_eq!(
            out.results,
            vec![vec![Value::I64(14)], vec![Value::I64(5)],]
        );
        assert_eq!(out.trap, Some(TrapKind::IntegerDivideByZero));
    }

    #[test]
    fn trap_names_follow_the_spec() {
        assert_eq!(TrapKind::Unreachable.to_string(), "unreachable");
        assert_eq!(
            TrapKind::IntegerDivideByZero.to_string(),
            "integer divide by zero"
        );
        assert_eq!(TrapKind::IntegerOverflow.to_string(), "integer overflow");
        assert_eq!(
            TrapKind::OutOfBoundsMemory.to_string(),
            "out of bounds memory access"
        );
    }

    /// Echoes argc as a digit, then every argv string followed by '|', by
    /// walking the image through the argv pointers; also checks the NULL
    /// terminator and that argc sits at 256 and argv == 260.
    const ECHO_ARGS: &str = r#"(module
        (import "tvm" "output" (func $out (param i32)))
        (memory (export "memory") 1)
        (func (export "main") (param $argc i32) (param $argv i32) (result i32)
            (local $i i32) (local $p i32)
            (if (i32.ne (i32.load (i32.const 256)) (local.get $argc)) (then unreachable))
            (if (i32.ne (local.get $argv) (i32.const 260)) (then unreachable))
            ;; argv[argc] must be 0
            (if (i32.load (i32.add (local.get $argv) (i32.shl (local.get $argc) (i32.const 2))))
                (then unreachable))
            (call $out (i32.add (i32.const 48) (local.get $argc)))
            (block $done
              (loop $args
                (br_if $done (i32.ge_u (local.get $i) (local.get $argc)))
                (local.set $p (i32.load (i32.add (local.get $argv)
                                                 (i32.shl (local.get $i) (i32.const 2)))))
                (block $end
                  (loop $chars
                    (br_if $end (i32.eqz (i32.load8_u (local.get $p))))
                    (call $out (i32.load8_u (local.get $p)))
                    (local.set $p (i32.add (local.get $p) (i32.const 1)))
                    (br $chars)))
                (call $out (i32.const 124))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $args)))
            (local.get $argc)))"#;

    #[test]
    fn args_are_written_as_the_input_image() {
        let outcome = run_wat(ECHO_ARGS, &["12", "abc", ""]).unwrap();
        assert_eq!(outcome.output, b"4prog|12|abc||");
        assert_eq!(outcome.status, Status::Exited(4));
    }

    #[test]
    fn input_image_layout() {
        let (argc, image) = input_image(&["ab", "c"]).unwrap();
        assert_eq!(argc, 2);
        // argc, argv[0] = 256+16 = 272, argv[1] = 275, NULL, "ab\0c\0".
        let mut expected = Vec::new();
        for word in [2u32, 272, 275, 0] {
            expected.extend_from_slice(&word.to_le_bytes());
        }
        expected.extend_from_slice(b"ab\0c\0");
        assert_eq!(image, expected);
    }

    #[test]
    fn oversized_or_invalid_arguments_are_rejected() {
        let long = "x".repeat(4000);
        assert!(matches!(
            run_wat(ECHO_ARGS, &[&long]),
            Err(OracleError::InputTooLarge { .. })
        ));
        assert!(matches!(
            run_wat(ECHO_ARGS, &["a\0b"]),
            Err(OracleError::NulInArgument { index: 1 })
        ));
        // Exactly at the limit is fine: 256 + 4 + 3*4 + "prog\0" + arg + NUL.
        let fits = "y".repeat(4096 - 256 - 4 - 12 - 5 - 1);
        let outcome = run_wat(ECHO_ARGS, &[&fits]).unwrap();
        assert_eq!(outcome.status, Status::Exited(2));
    }

    #[test]
    fn no_args_main_ignores_args() {
        let outcome = run_wat(PRINT_AB, &["ignored"]).unwrap();
        assert_eq!(outcome.output, b"AB");
    }

    #[test]
    fn convention_violations_are_typed_errors() {
        let bad_import = r#"(module (import "env" "puts" (func (param i32)))
            (func (export "main") (result i32) (i32.const 0)))"#;
        assert!(matches!(
            run_wat(bad_import, &[]),
            Err(OracleError::UnsupportedImport { module, name }) if module == "env" && name == "puts"
        ));
        let bad_sig = r#"(module (import "tvm" "output" (func (param i32 i32)))
            (func (export "main") (result i32) (i32.const 0)))"#;
        assert!(matches!(
            run_wat(bad_sig, &[]),
            Err(OracleError::ImportSignature { .. })
        ));
        let no_main = r#"(module (func (export "start") (result i32) (i32.const 0)))"#;
        assert!(matches!(
            run_wat(no_main, &[]),
            Err(OracleError::MissingMain)
        ));
        let bad_main = r#"(module (func (export "main") (param i32) (result i32) (i32.const 0)))"#;
        assert!(matches!(
            run_wat(bad_main, &[]),
            Err(OracleError::MainSignature { .. })
        ));
        let no_memory =
            r#"(module (func (export "main") (param i32 i32) (result i32) (i32.const 0)))"#;
        assert!(matches!(
            run_wat(no_memory, &[]),
            Err(OracleError::MissingMemory)
        ));
        assert!(matches!(
            run(b"not wasm", "prog", &[], None),
            Err(OracleError::InvalidModule(_))
        ));
    }
}
