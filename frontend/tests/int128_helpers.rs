//! The 128-bit compiler helpers of tvm's libc (`frontend/libc/src/int128.c`:
//! `__multi3`, `__udivti3`, `__umodti3`, `__divti3`, `__modti3`,
//! `__ashlti3`, `__lshrti3`, `__ashrti3`) and printf's 64-bit conversions.
//!
//! - The helpers, compiled natively with the host C compiler (renamed, so
//!   the host's own helpers stay in place), agree with the host's native
//!   `__int128` operators on edge and pseudo-random operands.
//! - C programs using 128-bit arithmetic link with tvm's libc, no helper
//!   reaches a helper (no recursion through the operators it implements),
//!   and the wasm build prints what the same program prints natively.
//! - `%lld %llu %llx` and friends print what the host's printf prints.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use tvm_oracle::Status;
use wasmparser::{KnownCustom, Name, Operator, Parser, Payload, TypeRef};

const HELPERS: [&str; 8] = [
    "__multi3",
    "__udivti3",
    "__umodti3",
    "__divti3",
    "__modti3",
    "__ashlti3",
    "__lshrti3",
    "__ashrti3",
];

fn libc_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("libc/src")
}

fn host_cc() -> String {
    std::env::var("CC").unwrap_or_else(|_| "cc".to_string())
}

/// Compiles C sources natively with the host compiler and runs the result;
/// its standard output.
fn run_native(dir: &Path, sources: &[PathBuf], flags: &[String]) -> String {
    let exe = dir.join("native");
    let build = Command::new(host_cc())
        .arg("-O2")
        .args(flags)
        .args(sources)
        .arg("-o")
        .arg(&exe)
        .output()
        .expect("the host C compiler runs");
    assert!(
        build.status.success(),
        "{} failed:\n{}",
        host_cc(),
        String::from_utf8_lossy(&build.stderr)
    );
    let run = Command::new(&exe).output().unwrap();
    assert!(run.status.success(), "{:?}", run.status);
    String::from_utf8(run.stdout).unwrap()
}

/// Compiles a C program with tvm's front end and runs it on the wasm
/// oracle; its output.
fn run_tvm_wasm(path: &Path) -> String {
    let wasm = tvm_frontend::compile::compile_file(path).unwrap_or_else(|e| panic!("{e}"));
    let outcome = tvm_oracle::run(&wasm, "program", &[], Some(1 << 40)).unwrap();
    assert_eq!(outcome.status, Status::Exited(0));
    String::from_utf8(outcome.output).unwrap()
}

#[test]
fn helpers_agree_with_the_host_int128_operators() {
    let dir = tempfile::tempdir().unwrap();
    let renames: Vec<String> = HELPERS
        .iter()
        .map(|h| format!("-D{h}=tvm_{}", h.trim_start_matches('_')))
        .collect();
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/int128_driver.c");
    let report = run_native(dir.path(), &[libc_src().join("int128.c"), driver], &renames);

    let mut checked = BTreeMap::new();
    for line in report.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_ne!(fields.first(), Some(&"mismatch"), "{report}");
        if let [name, count, mismatches] = fields[..] {
            assert_eq!(mismatches, "0", "{name}: {report}");
            checked.insert(name.to_string(), count.parse::<u64>().unwrap());
        }
    }
    for helper in HELPERS {
        let count = checked.get(helper).copied().unwrap_or(0);
        assert!(count >= 10_000, "{helper}: {count} operand pairs checked");
    }
}

/// Exercises every helper with operands the compiler cannot fold, and the
/// usual mulmod.
const USES_INT128: &str = r#"
#include <stdio.h>
typedef unsigned long long u64;
typedef long long i64;
typedef unsigned __int128 u128;
typedef __int128 i128;

static volatile u64 va = 0xfedcba9876543210ull, vb = 0x0123456789abcdefull;
static volatile u64 vm = 0xfffffffffffffe95ull;
static volatile i64 vs = -1000003;
static volatile int vn = 77;

static void show(const char *what, u128 x) {
    printf("%s %016llx%016llx\n", what, (u64)(x >> 64), (u64)x);
}

int main(void) {
    u64 a = va, b = vb, m = vm;
    u128 p = (u128)a * b;
    i128 n = -(i128)p, d = vs;
    show("mul", p);
    show("mul128", p * (p + 12345));
    printf("mulmod %llu\n", (u64)(p % m));
    show("udiv", p / b);
    show("udiv128", (p * 3) / (p >> 40));
    show("umod128", (p * 3) % (p >> 40));
    show("sdiv", (u128)(n / d));
    show("smod", (u128)(n % (i128)vs));
    show("shl", p << vn);
    show("lshr", p >> vn);
    show("ashr", (u128)(n >> vn));
    printf("div64 %llu %lld %llu\n", a / b, (i64)a / vs, a % m);
    return 0;
}
"#;

#[test]
fn int128_programs_link_and_run_like_native_code() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("uses_int128.c");
    std::fs::write(&path, USES_INT128).unwrap();
    let wasm = tvm_frontend::compile::compile_file(&path).unwrap_or_else(|e| panic!("{e}"));

    // Every helper is linked, and none reaches a helper through its calls.
    let calls = call_graph(&wasm);
    for helper in HELPERS {
        assert!(calls.contains_key(helper), "{helper} not linked");
        let mut seen = BTreeSet::new();
        let mut todo: Vec<&str> = calls[helper].iter().map(String::as_str).collect();
        while let Some(f) = todo.pop() {
            assert!(!HELPERS.contains(&f), "{helper} reaches {f}");
            if seen.insert(f) {
                todo.extend(calls.get(f).into_iter().flatten().map(String::as_str));
            }
        }
    }

    let native = run_native(dir.path(), std::slice::from_ref(&path), &[]);
    assert_eq!(run_tvm_wasm(&path), native);
}

/// Function name -> names of the functions it calls.
fn call_graph(wasm: &[u8]) -> BTreeMap<String, BTreeSet<String>> {
    let mut imported = 0u32;
    let mut names = BTreeMap::new();
    let mut bodies = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.unwrap() {
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    if matches!(import.unwrap().ty, TypeRef::Func(_)) {
                        imported += 1;
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
    let name_of = |index: u32| {
        names
            .get(&index)
            .cloned()
            .unwrap_or_else(|| format!("func[{index}]"))
    };
    let mut graph = BTreeMap::new();
    for (i, body) in bodies.iter().enumerate() {
        let mut callees = BTreeSet::new();
        let mut ops = body.get_operators_reader().unwrap();
        while !ops.eof() {
            if let Operator::Call { function_index } = ops.read().unwrap() {
                callees.insert(name_of(function_index));
            }
        }
        graph.insert(name_of(imported + i as u32), callees);
    }
    assert!(!names.is_empty(), "no name section");
    graph
}

/// 64-bit printf conversions, with 32-bit arguments around them (so the
/// 64-bit ones sit at both alignments of the argument buffer).
const PRINTF_LL: &str = r#"
#include <stdio.h>
typedef unsigned long long u64;
typedef long long i64;

static volatile u64 values[] = {
    0, 1, 9, 10, 99, 4294967295ull, 4294967296ull, 999999999ull, 1000000000ull,
    9999999999ull, 10000000000ull, 123456789012345678ull, 999999999999999999ull,
    1000000000000000000ull, 9999999999999999999ull, 10000000000000000000ull,
    18446744073709551615ull, 9223372036854775807ull, 9223372036854775808ull,
    0x8000000000000001ull, 0xfffffffffffffffeull, 0x00000000ffffffffull,
    0xffffffff00000000ull, 0x0123456789abcdefull,
};

int main(void) {
    unsigned i;
    char buf[64];
    int n;
    for (i = 0; i < sizeof values / sizeof values[0]; i++) {
        u64 v = values[i];
        printf("%u|%llu|%lld|%llx|%d\n", i, v, (i64)v, v, -(int)i);
        printf("%llX|%#llx|%#llX|%016llx|%-20llu|%20lld|\n", v, v, v, v, v, (i64)v);
        printf("%+lld|% lld|%.0llu|%.25llu|%025lld|%-+24lld|%llu%%\n", (i64)v, (i64)v,
               v, v, (i64)v, (i64)v, v);
        printf("%d %lld %d %llu %c %llx %s\n", 7, (i64)v, -7, v, 'z', v, "end");
    }
    n = snprintf(buf, 12, "%lld", (i64)-1234567890123ll);
    printf("snprintf %d [%s]\n", n, buf);
    printf("%ld %lu %zu %lx\n", -5L, 5UL, (size_t)6, 255UL);
    return 0;
}
"#;

#[test]
fn printf_prints_64_bit_values_like_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("printf_ll.c");
    std::fs::write(&path, PRINTF_LL).unwrap();
    let native = run_native(dir.path(), std::slice::from_ref(&path), &[]);
    assert!(native.lines().count() > 90, "{native}");
    assert_eq!(run_tvm_wasm(&path), native);
}
