//! tvm's libc as the machine sees it: what it links, what it costs, and
//! the behaviour no host library can be compared with.
//!
//! - Every libc function is free of operators the machine lowers into
//!   routines (multiply, divide, bitwise, shifts, i64, calls through
//!   pointers), except a listed few whose use is the point or a cold path.
//! - Functions a program does not call are not linked.
//! - `math.h` functions fail the build with a message that says why.
//! - The headers describe wasm32 (`long` is 32-bit, `int64_t` is `long
//!   long`, the PRI/SCN macros).
//! - stderr is framed in the one output stream as designed.
//! - The allocator reuses and coalesces freed memory, calloc zeroes reused
//!   memory, the heap ends below stdin, ungetc pushes back before the first
//!   read, returning from main does not run atexit handlers, an invalid
//!   strtol base is EINVAL, getenv finds nothing, abort traps.
//! - Step costs of common calls stay under bounds (printed with
//!   `--nocapture`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tvm_engine::reference::{self, CountTokens};
use tvm_frontend::compile::{self, FrontendError};
use tvm_frontend::program::Input;
use wasmparser::{KnownCustom, Name, Operator, Parser, Payload, TypeRef};

/// Writes `source` as `name` in a fresh directory (kept alive by the
/// returned guard).
fn write_c(name: &str, source: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, source).unwrap();
    (dir, path)
}

/// Builds and runs a C program on the reference machine: (stdout and
/// stderr still framed together, exit status, steps).
fn run_c(path: &Path, args: &[&str], stdin: &[u8]) -> (Vec<u8>, i32, u64) {
    let program = tvm_frontend::build_file(path).unwrap_or_else(|e| panic!("{e}"));
    let input = Input::from_args("program", args)
        .unwrap()
        .with_stdin(stdin.to_vec());
    let run = reference::run(&program, &input, 100_000_000, &mut CountTokens(0));
    let status = run.result.unwrap_or_else(|e| {
        panic!(
            "{e}; output so far: {:?}",
            String::from_utf8_lossy(&run.output)
        )
    });
    (run.output, status, run.steps)
}

/// The lowered operators (and calls through pointers) in each function of
/// a module, by name.
fn lowered_operators(wasm: &[u8]) -> BTreeMap<String, Vec<String>> {
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
    assert!(!names.is_empty(), "no name section");
    let mut out = BTreeMap::new();
    for (i, body) in bodies.iter().enumerate() {
        let name = names
            .get(&(imported + i as u32))
            .cloned()
            .unwrap_or_else(|| format!("func[{i}]"));
        let mut found = Vec::new();
        let mut ops = body.get_operators_reader().unwrap();
        while !ops.eof() {
            let op = ops.read().unwrap();
            let text = format!("{op:?}");
            let lowered = matches!(
                op,
                Operator::I32Mul
                    | Operator::I32DivS
                    | Operator::I32DivU
                    | Operator::I32RemS
                    | Operator::I32RemU
                    | Operator::I32And
                    | Operator::I32Or
                    | Operator::I32Xor
                    | Operator::I32Shl
                    | Operator::I32ShrS
                    | Operator::I32ShrU
                    | Operator::I32Rotl
                    | Operator::I32Rotr
                    | Operator::I32Clz
                    | Operator::I32Ctz
                    | Operator::I32Popcnt
                    | Operator::I32Extend8S
                    | Operator::I32Extend16S
                    | Operator::CallIndirect { .. }
            ) || text.starts_with("I64")
                || text.starts_with("F32")
                || text.starts_with("F64");
            if lowered {
                let short = text.split([' ', '{']).next().unwrap().to_string();
                if !found.contains(&short) {
                    found.push(short);
                }
            }
        }
        out.insert(name, found);
    }
    out
}

/// Calls every function the libc offers, with values the compiler cannot
/// fold.
const USES_EVERYTHING: &str = r#"
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static volatile int v = 5;
static int user_cmp(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }
static void user_bye(void) { puts("bye"); }
static int user_vs(const char *s, const char *f, ...) {
    va_list ap; int n; va_start(ap, f); n = vsscanf(s, f, ap); va_end(ap); return n;
}
static int user_vf(const char *f, ...) {
    va_list ap; int n; char b[8]; va_start(ap, f);
    n = vfprintf(stderr, f, ap) + vscanf(f, ap) + vprintf(f, ap) + vsprintf(b, f, ap);
    va_end(ap); return n;
}
int main(int argc, char **argv) {
    char buf[64]; char *end; int a[4] = {3, 1, 2, v}; long long q; int i; unsigned u; short h;
    char c;
    int n = isdigit(v) + isxdigit(v) + isalpha(v) + isalnum(v) + isupper(v) + islower(v)
          + isspace(v) + isblank(v) + isprint(v) + isgraph(v) + ispunct(v) + iscntrl(v)
          + toupper(v) + tolower(v) + abs(v) + (int)labs(v) + (int)llabs(v);
    char *p = malloc(v), *r = calloc(v, v);
    p = realloc(p, 2 * v);
    memcpy(buf, argv[0], 4); memmove(buf + 1, buf, 3); memset(buf + 4, v, v);
    n += memcmp(buf, argv[0], 2) + (memchr(buf, v, 4) != 0) + (int)strlen(argv[0]);
    n += strcmp(argv[0], buf) + strncmp(argv[0], buf, 2) + strcoll(buf, argv[0]);
    strcpy(buf, argv[0]); strncpy(buf, argv[0], 3); strcat(buf, "x"); strncat(buf, "yz", v);
    n += (strchr(buf, 'x') != 0) + (strrchr(buf, 'x') != 0) + (strstr(buf, "x") != 0);
    n += strspn(buf, "ab") + strcspn(buf, "x") + (strpbrk(buf, "x") != 0) + strnlen(buf, v);
    n += (strtok(buf, " ") != 0) + (strtok_r(buf, " ", &end) != 0);
    free(strdup(buf)); free(strndup(buf, v)); n += strlen(strerror(v));
    n += atoi(argv[0]) + (int)atol(argv[0]) + (int)atoll(argv[0]) + (int)strtol(argv[0], &end, 0)
       + (int)strtoul(argv[0], &end, 16) + (int)strtoll(argv[0], &end, v)
       + (int)strtoull(argv[0], &end, 8) + (int)strtoimax(argv[0], &end, v)
       + (int)strtoumax(argv[0], &end, v) + (int)imaxabs(v);
    n += div(n, v).quot + (int)ldiv(n, v).rem + (int)lldiv(n, v).quot + (int)imaxdiv(n, v).rem;
    srand(v); n += rand();
    qsort(a, 4, sizeof a[0], user_cmp);
    n += bsearch(&a[1], a, 4, sizeof a[0], user_cmp) != 0;
    n += sprintf(buf, "%d", n) + snprintf(buf, 4, "%x", n);
    printf("%d %s %c %u %X %lld %hhd %p %o %n\n", n, buf, v, argc, v, (long long)v, (char)v,
           (void *)p, v, &i);
    fprintf(stderr, "%" PRId64 "\n", (int64_t)n);
    putchar(n); puts(buf); fputs(buf, stderr); fputc(v, stdout); putc(v, stderr);
    fwrite(buf, 1, 3, stdout); fflush(stdout); perror("x"); clearerr(stdin);
    n += getchar() + fgetc(stdin) + getc(stdin) + ungetc(v, stdin) + (fgets(buf, v, stdin) != 0)
       + (int)fread(buf, 1, v, stdin) + feof(stdin) + ferror(stdin);
    n += sscanf(argv[0], "%d %i %u %x %o %c %s %[a-z] %n %lld %hd %hhd %p", &i, &i, &u, &u, &u,
                &c, buf, buf, &i, &q, &h, &c, (void **)&p);
    n += scanf("%d", &i) + fscanf(stdin, "%d", &i) + user_vs(argv[0], "%d", &i) + user_vf("%d", i);
    n += errno + (getenv("X") != 0);
    assert(n != 12345);
    atexit(user_bye);
    free(p); free(r);
    if (v == 99) abort();
    if (v == 98) _Exit(2);
    if (v == 97) exit(1);
    return n;
}
"#;

/// libc functions that may contain lowered operators, and why.
const ALLOWED: [(&str, &str); 24] = [
    ("calloc", "count * size, once, when neither is 1"),
    ("fwrite", "size * count, once, when neither is 1"),
    (
        "fread",
        "size * count once, and a division for a short read of items",
    ),
    ("qsort", "(count - 1) * size, once"),
    (
        "quicksort",
        "the comparison function, called through its pointer",
    ),
    (
        "bsearch",
        "the comparison function, called through its pointer",
    ),
    (
        "run_atexit_handlers",
        "the handlers, called through their pointers",
    ),
    ("put_slow", "`& 255` of a putc argument outside 0..254"),
    ("memchr", "`& 255` of an argument outside 0..255"),
    ("strchr", "`& 255` of an argument outside 0..255"),
    ("strrchr", "`& 255` of an argument outside 0..255"),
    (
        "rand",
        "the standard's multiply, / 65536 and % 32768 (constant operands)",
    ),
    ("div", "the division asked for"),
    ("ldiv", "the division asked for"),
    ("lldiv", "the 64-bit division asked for"),
    ("imaxdiv", "the 64-bit division asked for"),
    ("llabs", "64-bit negation"),
    ("imaxabs", "64-bit negation"),
    ("strtoll", "the 64-bit result, one i64 load"),
    ("strtoull", "the 64-bit result, one i64 load"),
    ("strtoimax", "the 64-bit result, one i64 load"),
    ("strtoumax", "the 64-bit result, one i64 load"),
    ("atoll", "the 64-bit result, one i64 load"),
    ("main", "the test program's own code"),
];

#[test]
fn libc_functions_use_no_lowered_operator_outside_cold_paths() {
    let (_dir, path) = write_c("uses_everything.c", USES_EVERYTHING);
    let wasm = compile::compile_file(&path).unwrap_or_else(|e| panic!("{e}"));
    let operators = lowered_operators(&wasm);
    for linked in [
        "tvm_scan",
        "format_conversion",
        "malloc",
        "quicksort",
        "strto_parse",
        "fgets",
    ] {
        assert!(operators.contains_key(linked), "{linked} is not linked");
    }
    let mut offenders = Vec::new();
    for (function, ops) in &operators {
        if ops.is_empty() || function.starts_with("user_") || function == "__original_main" {
            continue;
        }
        if !ALLOWED.iter().any(|(name, _)| name == function) {
            offenders.push(format!("{function}: {ops:?}"));
        }
    }
    assert!(
        offenders.is_empty(),
        "libc functions with lowered operators:\n{}",
        offenders.join("\n")
    );
    // The allowed ones use what they are allowed for, nothing else.
    let expect = |function: &str, allowed: &[&str]| {
        if let Some(ops) = operators.get(function) {
            for op in ops {
                assert!(allowed.contains(&op.as_str()), "{function}: {op}");
            }
        }
    };
    expect("calloc", &["I32Mul"]);
    expect("fwrite", &["I32Mul"]);
    expect("fread", &["I32Mul", "I32DivU"]);
    expect("qsort", &["I32Mul"]);
    for f in ["quicksort", "bsearch", "run_atexit_handlers"] {
        expect(f, &["CallIndirect"]);
    }
    for f in ["put_slow", "memchr", "strchr", "strrchr"] {
        expect(f, &["I32And"]);
    }
    for f in ["strtoll", "strtoull", "strtoimax", "strtoumax", "atoll"] {
        expect(f, &["I64Const", "I64Load"]);
    }
}

/// Names of the functions a module defines.
fn functions(wasm: &[u8]) -> Vec<String> {
    lowered_operators(wasm).into_keys().collect()
}

#[test]
fn functions_a_program_does_not_call_are_not_linked() {
    let (_dir, path) = write_c(
        "hello.c",
        "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n",
    );
    let linked = functions(&compile::compile_file(&path).unwrap());
    for absent in [
        "printf",
        "tvm_format",
        "malloc",
        "tvm_scan",
        "strto_parse",
        "quicksort",
        "atexit",
        "format_oct",
    ] {
        assert!(
            !linked.iter().any(|f| f == absent),
            "{absent} is linked: {linked:?}"
        );
    }
    assert!(linked.iter().any(|f| f == "puts"));
    assert!(linked.len() <= 6, "{linked:?}");
    // nor their data (printf's 512 bytes of tables)
    let program = tvm_frontend::build_file(&path).unwrap();
    let data: usize = program.data.iter().map(|s| s.bytes.len()).sum();
    assert!(data < 64, "{data} bytes of data");

    let (_dir, path) = write_c(
        "args.c",
        "#include <stdlib.h>\nint main(int c, char **v) { return atoi(v[c - 1]); }\n",
    );
    let linked = functions(&compile::compile_file(&path).unwrap());
    for absent in ["strto_parse", "acc_push_wide", "mul_small", "printf"] {
        assert!(
            !linked.iter().any(|f| f == absent),
            "{absent} is linked: {linked:?}"
        );
    }
}

#[test]
fn math_functions_fail_to_build_and_say_why() {
    for (call, name) in [
        ("sqrt(x)", "sqrt"),
        ("(double)isnan(x)", "isnan"),
        ("powf((float)x, 2.0f)", "powf"),
    ] {
        let source = format!(
            "#include <math.h>\nint main(int argc, char **argv) {{ double x = argc; return (int){call}; }}\n"
        );
        let (_dir, path) = write_c("uses_math.c", &source);
        let error = compile::compile_file(&path).unwrap_err();
        let FrontendError::Clang { stderr, .. } = &error else {
            panic!("{name}: {error}");
        };
        let expected = format!("tvm has no floating point yet: {name}() cannot be used");
        assert!(stderr.contains(&expected), "{name}: {stderr}");
    }
    // Declaring and not calling is fine.
    let (_dir, path) = write_c(
        "includes_math.c",
        "#include <math.h>\nint main(void) { return FP_NORMAL - 4; }\n",
    );
    compile::compile_file(&path).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn the_headers_describe_wasm32() {
    let (_dir, path) = write_c(
        "headers.c",
        r#"
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
struct s { char c; long long x; };
static_assert(sizeof(long) == 4, "long is 32-bit");
static int sum(int n, ...) {
    va_list ap, copy; int t = 0;
    va_start(ap, n); va_copy(copy, ap);
    while (n-- > 0) t += va_arg(copy, int);
    va_end(copy); va_end(ap);
    return t;
}
int main(void) {
    bool yes = true;
    printf("%d %d %d %d %d %d\n", (int)sizeof(long), (int)sizeof(void *), (int)sizeof(size_t),
           (int)sizeof(long long), (int)sizeof(wchar_t), (int)_Alignof(max_align_t));
    printf("%d %d %d %d %u %ld %ld %lu\n", CHAR_BIT, SCHAR_MIN, CHAR_MAX, SHRT_MIN, USHRT_MAX,
           LONG_MIN, LONG_MAX, ULONG_MAX);
    printf("%d %u %lld %llu\n", INT_MIN, UINT_MAX, LLONG_MIN, ULLONG_MAX);
    printf("%s %s %s %s %s %s %s %s\n", PRId8, PRId16, PRId32, PRId64, PRIdPTR, PRIuMAX, PRIxFAST16,
           SCNd64);
    printf("%" PRId64 " %" PRIu64 " %" PRIx32 " %" PRIdMAX " %zu %td\n", INT64_MIN, UINT64_MAX,
           UINT32_MAX, INTMAX_MAX, SIZE_MAX, PTRDIFF_MIN);
    printf("%lld %llu %d %d\n", (long long)INT64_C(-5), (unsigned long long)UINT64_C(7),
           INT8_MIN, (int)INT16_MAX);
    printf("%d %d %d %d\n", EDOM, ERANGE, EILSEQ, (int)offsetof(struct s, x));
    printf("%d %d %d %d\n", yes, RAND_MAX, EXIT_FAILURE, sum(3, 1, 2, 3));
    assert(yes);
    return NULL == (void *)0 ? 0 : 1;
}
"#,
    );
    let (out, status, _) = run_c(&path, &[], &[]);
    assert_eq!(status, 0);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "4 4 4 8 4 16\n\
         8 -128 127 -32768 65535 -2147483648 2147483647 4294967295\n\
         -2147483648 4294967295 -9223372036854775808 18446744073709551615\n\
         hhd hd d lld ld llu hx lld\n\
         -9223372036854775808 18446744073709551615 ffffffff 9223372036854775807 4294967295 -2147483648\n\
         -5 7 -128 32767\n\
         33 34 84 8\n\
         1 32767 1 6\n"
    );
}

#[test]
fn stderr_is_framed_in_the_output_stream() {
    let (_dir, path) = write_c(
        "streams.c",
        r#"
#include <stdio.h>
int main(void) {
    printf("a");
    fprintf(stderr, "b%c", 0xff);
    fputs("c", stderr);
    putchar(0xff);
    fprintf(stdout, "%s", "");
    fprintf(stderr, "%s", "");
    puts("");
    return 0;
}
"#,
    );
    let (out, _, _) = run_c(&path, &[], &[]);
    assert_eq!(
        out,
        b"a\xff\x01b\xff\xffc\xff\x00\xff\xff\n",
        "{}",
        String::from_utf8_lossy(&out)
    );
    let streams = tvm_frontend::streams::split(&out);
    assert_eq!(streams.stdout, b"a\xff\n");
    assert_eq!(streams.stderr, b"b\xffc");
}

#[test]
fn the_allocator_reuses_and_coalesces_freed_memory() {
    let (_dir, path) = write_c(
        "alloc.c",
        r#"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static void say(const char *what, int ok) { printf("%s: %s\n", what, ok ? "yes" : "no"); }
int main(void) {
    char *a = malloc(24), *b = malloc(40), *c = malloc(16), *d, *e, *f;
    int i, zero = 1;
    free(a);
    say("same size reuses the block", malloc(24) == a);
    free(a);
    free(b);
    d = malloc(24 + 8 + 40);
    say("neighbours coalesce", d == a);
    memset(d, 0x55, 72);
    free(d);
    e = calloc(9, 8);
    for (i = 0; i < 72; i++)
        zero = zero && e[i] == 0;
    say("calloc zeroes reused memory", e == a && zero);
    f = malloc(100);
    say("realloc grows in place at the top", realloc(f, 5000) == f);
    free(f);
    say("the top shrinks back", malloc(10) == f);
    errno = 0;
    say("too big: NULL and ENOMEM", malloc(2000000) == NULL && errno == ENOMEM);
    say("realloc(p, 0) frees", realloc(malloc(8), 0) == NULL);
    free(c);
    free(e);
    /* 100 rounds of 300 KB: only with reuse (memory is 1 MiB) */
    for (i = 0; i < 100; i++) {
        char *big = malloc(300000);
        if (big == NULL)
            break;
        big[299999] = 1;
        free(big);
    }
    say("freed memory is reused", i == 100);
    return 0;
}
"#,
    );
    let (out, status, _) = run_c(&path, &[], &[]);
    assert_eq!(status, 0);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "same size reuses the block: yes\nneighbours coalesce: yes\n\
         calloc zeroes reused memory: yes\nrealloc grows in place at the top: yes\n\
         the top shrinks back: yes\ntoo big: NULL and ENOMEM: yes\n\
         realloc(p, 0) frees: yes\nfreed memory is reused: yes\n"
    );
}

#[test]
fn the_heap_ends_below_stdin_and_ungetc_works_before_any_read() {
    let (_dir, path) = write_c(
        "heap_stdin.c",
        r#"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
    char *last = NULL, *p;
    unsigned start = *(unsigned *)248, n = *(unsigned *)252;
    int pushed = 0;
    /* the whole heap, in 4 KB blocks, filled */
    while ((p = malloc(4096)) != NULL) {
        memset(p, 0xee, 4096);
        last = p;
    }
    printf("heap ends below stdin: %s\n", (unsigned)(last + 4096) <= start ? "yes" : "no");
    /* 16 bytes of pushback before the first read, then EOF */
    while (pushed < 20 && ungetc('0' + pushed, stdin) != EOF)
        pushed++;
    printf("pushed back: %d\n", pushed);
    while (pushed-- > 0)
        putchar(getchar());
    printf("\nstdin intact: ");
    for (; n > 0; n--)
        putchar(getchar());
    printf("|%d %d\n", getchar(), feof(stdin) != 0);
    return 0;
}
"#,
    );
    let (out, status, _) = run_c(&path, &[], b"the input");
    assert_eq!(status, 0);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "heap ends below stdin: yes\npushed back: 16\n?>=<;:9876543210\n\
         stdin intact: the input|-1 1\n"
    );
}

#[test]
fn returning_from_main_does_not_run_atexit_handlers_but_exit_does() {
    let source = |how: &str| {
        format!(
            "#include <stdio.h>\n#include <stdlib.h>\n\
             static void bye(void) {{ puts(\"bye\"); }}\n\
             int main(void) {{ atexit(bye); puts(\"main\"); {how}; }}\n"
        )
    };
    let (_dir, path) = write_c("ret.c", &source("return 3"));
    assert_eq!(run_c(&path, &[], &[]).0, b"main\n");
    let (_dir, path) = write_c("ex.c", &source("exit(3)"));
    let (out, status, _) = run_c(&path, &[], &[]);
    assert_eq!((out.as_slice(), status), (b"main\nbye\n".as_slice(), 3));
}

#[test]
fn strtol_rejects_an_invalid_base() {
    let (_dir, path) = write_c(
        "base.c",
        r#"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
int main(void) {
    static const char s[] = "12";
    int bases[] = {1, 37, -1}, i;
    for (i = 0; i < 3; i++) {
        char *end = NULL;
        long v;
        errno = 0;
        v = strtol(s, &end, bases[i]);
        printf("%ld %d %d\n", v, errno == EINVAL, end == s);
    }
    return 0;
}
"#,
    );
    let (out, _, _) = run_c(&path, &[], &[]);
    assert_eq!(String::from_utf8(out).unwrap(), "0 1 1\n0 1 1\n0 1 1\n");
}

/// Steps per call of common libc calls: the program runs one of them N
/// times (both from argv), and the difference between N = 100 and N = 0 is
/// divided by 100.
#[test]
fn common_calls_stay_cheap() {
    // (what, the call, a bound about 25% above its cost when written)
    let cases: [(&str, &str, u64); 14] = [
        ("putchar", "putchar('x');", 25),
        ("puts, 12 chars", "puts(\"hello, world\");", 320),
        (
            "printf, 13 plain chars",
            "printf(\"hello, world\\n\");",
            350,
        ),
        ("printf %d (6 digits)", "printf(\"%d\\n\", vx);", 1100),
        (
            "printf %s %5x %c",
            "printf(\"%s %5x %c\\n\", \"ab\", vx, 'z');",
            1800,
        ),
        (
            "snprintf %d",
            "sink += snprintf(buf, sizeof buf, \"%d\", vx);",
            1250,
        ),
        ("atoi, 6 digits", "sink += atoi(\"123456\");", 450),
        (
            "strtol, 6 digits",
            "sink += (int)strtol(\"-123456\", 0, 10);",
            500,
        ),
        (
            "sscanf %d",
            "sscanf(\"123456\", \"%d\", &x); sink += x;",
            1300,
        ),
        (
            "malloc(16) + free",
            "{ void *p = malloc(16); sink += p != 0; free(p); }",
            190,
        ),
        ("strlen, 12 chars", "sink += (int)strlen(text);", 230),
        ("memcpy, 64 bytes", "memcpy(buf, big, 64);", 310),
        (
            "strcmp, 12 equal chars",
            "sink += strcmp(text, text2);",
            350,
        ),
        (
            "qsort 16 ints",
            "memcpy(arr, init, sizeof arr); qsort(arr, 16, sizeof arr[0], cmp);",
            6000,
        ),
    ];
    // One program: case K of `cases` runs its call N times.
    let mut body = String::new();
    for (k, (_, call, _)) in cases.iter().enumerate() {
        body.push_str(&format!(
            "        case {k}: for (i = 0; i < n; i++) {{ {call} }} break;\n"
        ));
    }
    let source = format!(
        r#"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static volatile int vx = 123456;
static char text[] = "hello, world", text2[] = "hello, world";
static char big[64];
static int arr[16], init[16] = {{5, 3, 9, 1, 14, 2, 8, 7, 6, 0, 12, 11, 4, 15, 13, 10}};
static int cmp(const void *a, const void *b) {{ return *(const int *)a - *(const int *)b; }}
int main(int argc, char **argv) {{
    int i, n = atoi(argv[2]), x;
    char buf[64];
    volatile int sink = 0;
    (void)argc;
    switch (atoi(argv[1])) {{
{body}    }}
    return sink * 0;
}}
"#
    );
    let (_dir, path) = write_c("cost.c", &source);
    let program = tvm_frontend::build_file(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut table = String::new();
    let mut over = Vec::new();
    for (k, (what, _, bound)) in cases.iter().enumerate() {
        let steps = |n: &str| {
            let input = Input::from_args("cost", &[&k.to_string(), n]).unwrap();
            let run = reference::run(&program, &input, 100_000_000, &mut CountTokens(0));
            assert!(run.result.is_ok(), "{what}: {:?}", run.result);
            run.steps
        };
        let per_call = (steps("100") - steps("0")) / 100;
        table.push_str(&format!("{what:<28} {per_call:>6} steps (bound {bound})\n"));
        if per_call > *bound {
            over.push(*what);
        }
    }
    eprint!("{table}");
    assert!(over.is_empty(), "over their bounds: {over:?}\n{table}");
}

#[test]
fn getenv_finds_nothing_and_abort_traps() {
    let (_dir, path) = write_c(
        "abort.c",
        r#"
#include <stdio.h>
#include <stdlib.h>
int main(void) {
    printf("%d\n", getenv("PATH") == NULL);
    abort();
    return 0;
}
"#,
    );
    let program = tvm_frontend::build_file(&path).unwrap_or_else(|e| panic!("{e}"));
    let input = Input::from_args("abort", &[]).unwrap();
    let run = reference::run(&program, &input, 1_000_000, &mut CountTokens(0));
    assert_eq!(run.output, b"1\n");
    assert!(
        matches!(run.result, Err(reference::RunError::Trap { .. })),
        "{:?}",
        run.result
    );
}
