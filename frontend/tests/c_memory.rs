//! Memory of C programs: every C build gets all the machine's memory
//! (`MAX_MEMORY`, fixed), a 64 KiB stack and a heap up to the end of memory;
//! programs too big for it, and programs calling functions nobody defines,
//! fail with typed errors that say so.

use std::path::{Path, PathBuf};

use tvm_engine::reference::{self, CountTokens};
use tvm_frontend::compile::{self, FrontendError};
use tvm_frontend::program::{Input, MAX_MEMORY};
use wasmparser::{Parser, Payload};

/// Writes `source` as `name` in a fresh directory (kept alive by the
/// returned guard).
fn write_c(name: &str, source: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, source).unwrap();
    (dir, path)
}

/// The (initial, maximum) pages of the module's memory.
fn memory_pages(wasm: &[u8]) -> (u64, Option<u64>) {
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::MemorySection(reader) = payload.unwrap() {
            let memory = reader.into_iter().next().unwrap().unwrap();
            return (memory.initial, memory.maximum);
        }
    }
    panic!("no memory section");
}

/// Builds and runs a C program on the reference machine; its output.
fn run_c(path: &Path) -> String {
    let program = tvm_frontend::build_file(path).unwrap_or_else(|e| panic!("{e}"));
    let input = Input::from_args("program", &[]).unwrap();
    let run = reference::run(&program, &input, 50_000_000, &mut CountTokens(0));
    assert_eq!(run.result, Ok(0), "output so far: {:?}", run.output);
    String::from_utf8(run.output).unwrap()
}

/// 300 KB of static data (more than four 64 KiB pages), the heap after it
/// up to the end of memory, and a stack deeper than the old 16 KiB.
const BIG_DATA: &str = r#"
#include <stdio.h>
#include <stdlib.h>

#define N 300000
static unsigned char big[N];          /* zero: costs no tokens */
static volatile int at = N - 1; /* not a constant: the array must exist */
static const char tail[] = "sentinel"; /* initialised data */
/* Provided by wasm-ld: the stack lies between them. */
extern unsigned char __data_end, __heap_base;
/* Blocks pass through here, so the compiler must really allocate them. */
static unsigned char *volatile keep;

/* 40 frames of about 1 KiB each: 40 KiB of stack. */
static int deep(int n) {
    volatile unsigned char frame[1000];
    frame[0] = (unsigned char)n;
    frame[999] = (unsigned char)(n + 1);
    if (n == 0)
        return frame[0] + frame[999];
    return deep(n - 1) + frame[999] - frame[0];
}

int main(void) {
    unsigned char *a, *b;
    big[at - (N - 1)] = 1;
    big[at] = 2;
    printf("big: %d %d %d\n", big[at - (N - 1)], big[at / 2], big[at]);
    keep = malloc(500000);
    a = keep;
    printf("malloc 500000: %s\n", a != NULL ? "ok" : "NULL");
    if (a != NULL) {
        a[0] = 3;
        a[499999] = 4;
        printf("heap ends: %d %d\n", a[0], a[499999]);
    }
    keep = malloc(300000);
    b = keep;
    printf("malloc 300000 more: %s\n", b != NULL ? "ok" : "NULL");
    printf("stack: %s\n", &__heap_base - &__data_end >= 65536 ? "64 KiB" : "small");
    printf("deep: %d\n", deep(40));
    printf("%s\n", tail);
    return 0;
}
"#;

#[test]
fn c_programs_get_the_whole_machine_memory() {
    let (_dir, path) = write_c("big_data.c", BIG_DATA);
    let wasm = compile::compile_file(&path).unwrap_or_else(|e| panic!("{e}"));
    let pages = u64::from(MAX_MEMORY / 65536);
    assert_eq!(memory_pages(&wasm), (pages, Some(pages)));
    let program = tvm_frontend::lower_wasm(&wasm).unwrap();
    assert_eq!(program.memory_size, MAX_MEMORY);
    // The zero array is not part of the program: only the initialised
    // bytes are.
    let data: usize = program.data.iter().map(|s| s.bytes.len()).sum();
    assert!(data < 4096, "{data} bytes of data");

    // Runs: the array, a heap of 500 KB after it (but not 800 KB: memory
    // ends at 1 MiB), 40 KiB of stack with the data below it intact.
    assert_eq!(
        run_c(&path),
        "big: 1 0 2\nmalloc 500000: ok\nheap ends: 3 4\nmalloc 300000 more: NULL\n\
         stack: 64 KiB\ndeep: 41\nsentinel\n"
    );
}

#[test]
fn a_program_too_big_for_the_memory_says_how_big_and_the_limit() {
    let (_dir, path) = write_c(
        "huge.c",
        "char huge[2000000];\n\
         int main(int argc, char **argv) { huge[argc] = 1; return huge[argc + 5]; }\n",
    );
    let error = compile::compile_file(&path).unwrap_err();
    let FrontendError::TooBig { needed, .. } = &error else {
        panic!("expected TooBig, got {error:?}");
    };
    assert!(*needed > 2_000_000, "{needed}");
    let message = error.to_string();
    for part in [
        "huge.c",
        &needed.to_string(),
        &MAX_MEMORY.to_string(),
        &format!("{} pages", MAX_MEMORY / 65536),
        "static arrays smaller",
    ] {
        assert!(message.contains(part), "{part:?} not in: {message}");
    }
    assert!(!message.contains("wasm-ld"), "{message}");
}

#[test]
fn an_undefined_function_is_named_as_missing_from_the_libc() {
    let (_dir, path) = write_c(
        "undefined.c",
        "#include <stdio.h>\n\
         int frobnicate(int);\n\
         long qsort_r_like(void *, int);\n\
         int main(void) { printf(\"%d\\n\", frobnicate(3)); return (int)qsort_r_like(0, frobnicate(4)); }\n",
    );
    let error = compile::compile_file(&path).unwrap_err();
    let FrontendError::Undefined { symbols, .. } = &error else {
        panic!("expected Undefined, got {error:?}");
    };
    assert_eq!(symbols, &["frobnicate", "qsort_r_like"]);
    let message = error.to_string();
    for part in [
        "undefined.c",
        "functions `frobnicate`, `qsort_r_like`",
        "tvm's libc does not provide them",
        // the linker's own lines are kept
        "undefined symbol: frobnicate",
    ] {
        assert!(message.contains(part), "{part:?} not in: {message}");
    }

    let (_dir, path) = write_c(
        "one.c",
        "double sqrt(double);\nint main(int c, char **v) { return (int)sqrt(c); }\n",
    );
    let message = compile::compile_file(&path).unwrap_err().to_string();
    assert!(
        message.contains("function `sqrt`") && message.contains("does not provide it"),
        "{message}"
    );
}
