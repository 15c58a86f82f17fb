//! The compiled catalog stays inside what the tvm machine can run, and the
//! libc stays cheap on it.
//!
//! - Every program, compiled with the tvm clang command (or from WAT), uses
//!   only i32 and i64 (no floats, SIMD or reference types), no memory.grow,
//!   no bulk-memory instructions, and imports only `tvm.output` and
//!   `tvm.exit`, both `(func (param i32))`.  i64 operators and call_indirect
//!   are lowered into routines over the machine's i32 opcodes; memory.size
//!   is a constant (the memory never grows).
//! - Functions of the libc (frontend/libc/src/libc.c) contain no operator that
//!   the machine lowers into a routine (i32 mul, div, rem, and, or, xor,
//!   shifts, rotates, clz, ctz, popcnt, sign extensions; every i64 operator;
//!   call_indirect), except the few whose use is a cold path.  (clang -O2
//!   can merge neighbouring constant stores into i64 stores; the libc is
//!   written so that it does not, and this test catches it when it does.)
//!   The 128-bit helpers of int128.c use i64 by nature and are not checked.

mod common;

use std::collections::BTreeMap;

use tvm_catalog::Manifest;
use wasmparser::{ExternalKind, KnownCustom, Name, Operator, Parser, Payload, TypeRef, ValType};

/// How the machine treats an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Support {
    Native,
    Lowered,
    Unsupported,
}

fn classify(op: &Operator<'_>) -> Support {
    use Operator::*;
    match op {
        Unreachable
        | Nop
        | Block { .. }
        | Loop { .. }
        | If { .. }
        | Else
        | End
        | Br { .. }
        | BrIf { .. }
        | BrTable { .. }
        | Return
        | Call { .. }
        | Drop
        | Select
        | LocalGet { .. }
        | LocalSet { .. }
        | LocalTee { .. }
        | GlobalGet { .. }
        | GlobalSet { .. }
        | I32Load { .. }
        | I32Load8S { .. }
        | I32Load8U { .. }
        | I32Load16S { .. }
        | I32Load16U { .. }
        | I32Store { .. }
        | I32Store8 { .. }
        | I32Store16 { .. }
        | I32Const { .. }
        | I32Eqz
        | I32Eq
        | I32Ne
        | I32LtS
        | I32LtU
        | I32GtS
        | I32GtU
        | I32LeS
        | I32LeU
        | I32GeS
        | I32GeU
        | I32Add
        | I32Sub
        | MemorySize { mem: 0 } => Support::Native,
        I32Mul
        | I32DivS
        | I32DivU
        | I32RemS
        | I32RemU
        | I32And
        | I32Or
        | I32Xor
        | I32Shl
        | I32ShrS
        | I32ShrU
        | I32Rotl
        | I32Rotr
        | I32Clz
        | I32Ctz
        | I32Popcnt
        | I32Extend8S
        | I32Extend16S
        | CallIndirect { .. } => Support::Lowered,
        _ if is_i64(op) => Support::Lowered,
        _ => Support::Unsupported,
    }
}

/// The i64 operators the machine lowers (integer arithmetic, compares,
/// conversions to and from i32, loads and stores; not the float
/// conversions or atomics).
fn is_i64(op: &Operator<'_>) -> bool {
    use Operator::*;
    if matches!(op, I32WrapI64) {
        return true;
    }
    let name = format!("{op:?}");
    let float = matches!(
        op,
        I64TruncF32S | I64TruncF32U | I64TruncF64S | I64TruncF64U | I64ReinterpretF64
    ) || name.starts_with("I64TruncSat");
    name.starts_with("I64") && !name.starts_with("I64Atomic") && !float
}

/// What one module contains, per function.
struct Scan {
    /// Problems that make the module unsupported.
    violations: Vec<String>,
    /// Function name (from the name section) -> lowered operators in it.
    lowered: BTreeMap<String, Vec<String>>,
    /// Names of all defined functions.
    functions: Vec<String>,
}

fn scan(wasm: &[u8]) -> Scan {
    let mut violations = Vec::new();
    let mut lowered: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut func_types = Vec::new();
    let mut imported_funcs = 0u32;
    let mut bodies = Vec::new();
    let mut names: BTreeMap<u32, String> = BTreeMap::new();
    let mut functions = Vec::new();

    for payload in Parser::new(0).parse_all(wasm) {
        match payload.unwrap() {
            Payload::TypeSection(reader) => {
                for ty in reader.into_iter_err_on_gc_types() {
                    let ty = ty.unwrap();
                    if ty
                        .params()
                        .iter()
                        .chain(ty.results())
                        .any(|t| !matches!(t, ValType::I32 | ValType::I64))
                    {
                        violations
                            .push(format!("function type {ty} uses a type other than i32/i64"));
                    }
                    func_types.push(ty);
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.unwrap();
                    let ok = match import.ty {
                        TypeRef::Func(index) | TypeRef::FuncExact(index) => {
                            let ty = &func_types[index as usize];
                            import.module == "tvm"
                                && (import.name == "output" || import.name == "exit")
                                && ty.params() == [ValType::I32]
                                && ty.results().is_empty()
                        }
                        _ => false,
                    };
                    if !ok {
                        violations.push(format!(
                            "import {}.{} ({:?}) is not tvm.output/tvm.exit",
                            import.module, import.name, import.ty
                        ));
                    }
                    if matches!(import.ty, TypeRef::Func(_) | TypeRef::FuncExact(_)) {
                        imported_funcs += 1;
                    }
                }
            }
            Payload::GlobalSection(reader) => {
                for global in reader {
                    let global = global.unwrap();
                    if !matches!(global.ty.content_type, ValType::I32 | ValType::I64) {
                        violations.push(format!("global of type {}", global.ty.content_type));
                    }
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.unwrap();
                    let allowed = matches!(
                        (export.name, export.kind),
                        ("main", ExternalKind::Func)
                            | ("memory", ExternalKind::Memory)
                            | ("__tvm_scratch", ExternalKind::Global)
                    );
                    if !allowed {
                        violations.push(format!("unexpected export {}", export.name));
                    }
                }
            }
            Payload::CodeSectionEntry(body) => bodies.push(body),
            Payload::CustomSection(reader) => {
                if let KnownCustom::Name(name_reader) = reader.as_known() {
                    for name in name_reader {
                        if let Ok(Name::Function(map)) = name {
                            for naming in map {
                                let naming = naming.unwrap();
                                names.insert(naming.index, naming.name.to_string());
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    for (i, body) in bodies.iter().enumerate() {
        let index = imported_funcs + i as u32;
        let name = names
            .get(&index)
            .cloned()
            .unwrap_or_else(|| format!("func[{index}]"));
        functions.push(name.clone());
        for local in body.get_locals_reader().unwrap() {
            let (_, ty) = local.unwrap();
            if !matches!(ty, ValType::I32 | ValType::I64) {
                violations.push(format!("{name}: local of type {ty}"));
            }
        }
        let mut ops = body.get_operators_reader().unwrap();
        while !ops.eof() {
            let op = ops.read().unwrap();
            match classify(&op) {
                Support::Native => {}
                Support::Lowered => lowered
                    .entry(name.clone())
                    .or_default()
                    .push(format!("{op:?}")),
                Support::Unsupported => violations.push(format!("{name}: {op:?}")),
            }
        }
    }
    // Sanity: the scan really saw code.
    assert!(!bodies.is_empty(), "no code section");
    Scan {
        violations,
        lowered,
        functions,
    }
}

#[test]
fn every_program_stays_in_the_machine_subset() {
    let manifest = Manifest::builtin().unwrap();
    let mut failures = Vec::new();
    for program in &manifest {
        let scan = scan(&common::wasm_of(program));
        for violation in scan.violations {
            failures.push(format!("{}: {violation}", program.name()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// libc functions allowed to contain a lowered operator, each on a path that
/// only runs for out-of-range arguments (or calloc's size product).
const COLD: [&str; 6] = [
    "calloc",
    "putchar",
    "memchr",
    "strchr",
    "strrchr",
    // Calls the atexit handlers through their pointers (call_indirect).
    "run_atexit_handlers",
];

/// Every function defined in frontend/libc/src/libc.c.
fn libc_functions() -> Vec<String> {
    let source = std::fs::read_to_string(common::libc_dir().join("src/libc.c")).unwrap();
    let mut names = Vec::new();
    for line in source.lines() {
        // Definitions start at column 0 with a return type and end in `{`.
        if line.starts_with([' ', '\t', '#', '/', '*', '}']) || !line.trim_end().ends_with('{') {
            continue;
        }
        if let Some(open) = line.find('(') {
            let head = &line[..open];
            let name = head
                .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
                .unwrap_or("");
            if !name.is_empty() {
                names.push(name.to_string());
            }
        }
    }
    names
}

#[test]
fn libc_uses_no_lowered_operators_outside_cold_paths() {
    // A program that calls every public libc function keeps them all in the
    // link (clang may inline the static helpers; they are checked inside
    // their callers).
    let dir = tempfile::tempdir().unwrap();
    let user = dir.path().join("uses_libc.c");
    std::fs::write(
        &user,
        r#"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static volatile int v = 5;
int main(int argc, char **argv) {
    char buf[32];
    char *end;
    int n = isdigit(v) + isxdigit(v) + isalpha(v) + isalnum(v) + isupper(v) + islower(v)
          + isspace(v) + isblank(v) + isprint(v) + isgraph(v) + ispunct(v) + iscntrl(v)
          + toupper(v) + tolower(v) + abs(v) + (int)labs(v);
    char *p = malloc(v), *q = calloc(v, v);
    p = realloc(p, 2 * v);
    memcpy(buf, argv[0], 4); memmove(buf + 1, buf, 3); memset(buf + 4, v, v);
    n += memcmp(buf, argv[0], 2) + (memchr(buf, v, 4) != 0) + (int)strlen(argv[0]);
    n += strcmp(argv[0], buf) + strncmp(argv[0], buf, 2);
    strcpy(buf, argv[0]); strncpy(buf, argv[0], 3); strcat(buf, "x");
    n += (strchr(buf, 'x') != 0) + (strrchr(buf, 'x') != 0) + (strstr(buf, "x") != 0);
    n += atoi(argv[0]) + (int)atol(argv[0]) + (int)strtol(argv[0], &end, 0)
       + (int)strtoul(argv[0], &end, 16);
    n += sprintf(buf, "%d", n) + snprintf(buf, 4, "%x", n);
    printf("%d %s %c %u %X\n", n, buf, v, argc, v);
    putchar(n); puts(buf);
    free(p); free(q);
    if (v == 99) abort();
    if (v == 98) exit(1);
    return n;
}
"#,
    )
    .unwrap();
    let scan = scan(&common::compile_c(&user));
    assert!(scan.violations.is_empty(), "{:?}", scan.violations);

    // The name section is there (else the check below would be vacuous)...
    for linked in ["printf", "__tvm_memcpy", "format_conversion", "malloc"] {
        assert!(
            scan.functions.iter().any(|f| f == linked),
            "{linked} not found by name in the linked module"
        );
    }
    // ...and lowered operators are seen: the test program's own `2 * v`.
    assert!(
        scan.lowered.keys().any(|f| f.contains("main")),
        "the scan missed the lowered operators of main: {:?}",
        scan.lowered.keys()
    );

    let libc = libc_functions();
    for required in ["printf", "memcpy", "malloc", "strtoul", "format_conversion"] {
        assert!(
            libc.iter().any(|f| f == required),
            "parser missed {required}"
        );
    }
    let mut offenders = Vec::new();
    for (function, ops) in &scan.lowered {
        // memcpy and friends are linked as __tvm_memcpy (see <string.h>).
        let plain = function.strip_prefix("__tvm_").unwrap_or(function);
        if libc.iter().any(|f| f == plain) && !COLD.contains(&plain) {
            offenders.push(format!("{function}: {ops:?}"));
        }
    }
    assert!(
        offenders.is_empty(),
        "libc functions with lowered operators:\n{}",
        offenders.join("\n")
    );
}
