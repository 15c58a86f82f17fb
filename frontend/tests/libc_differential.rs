//! tvm's libc against the host's, differentially: each driver
//! (`engine/tests/libc_*.c`) is built twice, natively with the host C
//! compiler and C library and for tvm with tvm's libc, and run on the same
//! generated arguments (and standard input) natively and on the reference
//! machine. stdout, stderr (taken out of tvm's one output stream by
//! `tvm_frontend::streams::split`) and the exit status must be the same.
//!
//! | test | functions |
//! |---|---|
//! | `ctype_matches` | every ctype.h function on EOF and 0..255 |
//! | `strings_match` | strlen strnlen strcmp strncmp strcoll memcmp strchr strrchr memchr strstr strspn strcspn strpbrk strcpy strcat strncat strncpy strdup strndup strtok strtok_r memmove memcpy memset toupper tolower |
//! | `strto_matches` | strtol strtoul strtoll strtoull strtoimax strtoumax atoi atol atoll (values, end pointers, errno) |
//! | `division_matches` | abs labs llabs imaxabs div ldiv lldiv imaxdiv |
//! | `rand_matches_the_standard_example` | rand srand |
//! | `sorting_matches` | qsort bsearch |
//! | `printf_matches`, `printf_edge_cases_match` | snprintf sprintf vsnprintf vsprintf printf |
//! | `scanf_matches` | sscanf vsscanf |
//! | `allocation_matches` | malloc calloc realloc free strndup |
//! | `stdin_matches` | getchar getc fgetc fgets fread ungetc scanf fscanf vscanf vfscanf feof ferror clearerr |
//! | `output_streams_match` | putchar putc fputc puts fputs printf fprintf vprintf vfprintf fwrite fflush perror strerror, stderr |
//! | `exit_runs_atexit_handlers` | atexit exit _Exit |
//! | `assert_prints_what_glibc_prints` | assert abort |
//!
//! `long` is 32-bit on tvm and 64-bit on the host: the drivers keep their
//! values in 32 bits where the type is `long`, and model the 32-bit
//! `strtol`/`strtoul`/`atoi`/`atol` natively on the host's 64-bit ones
//! (see `libc_numbers.c`). `rand` is compared with the C standard's example
//! generator (glibc's differs).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use tvm_engine::reference::{self, CountTokens, RunError};
use tvm_frontend::program::{INPUT_BASE, INPUT_LIMIT, Input, Program};
use tvm_frontend::streams;

/// Steps a driver may take on the reference machine.
const FUEL: u64 = 500_000_000;

/// A driver built both ways.
struct Driver {
    name: &'static str,
    program: Program,
    native: PathBuf,
    _dir: tempfile::TempDir,
}

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

fn host_cc() -> String {
    std::env::var("CC").unwrap_or_else(|_| "cc".to_string())
}

fn build(name: &'static str) -> Driver {
    let source = tests_dir().join(format!("{name}.c"));
    let dir = tempfile::tempdir().unwrap();
    // The native executable has the driver's name, so that glibc's
    // program name (assert's message) is tvm's argv[0].
    let native = dir.path().join(name);
    let out = Command::new(host_cc())
        .args(["-O1", "-w", "-o"])
        .arg(&native)
        .arg(&source)
        .output()
        .expect("the host C compiler runs");
    assert!(
        out.status.success(),
        "{} {}:\n{}",
        host_cc(),
        source.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let program = tvm_frontend::build_file(&source).unwrap_or_else(|e| panic!("{name}: {e}"));
    Driver {
        name,
        program,
        native,
        _dir: dir,
    }
}

/// The driver `name`, built once per test binary.
fn driver(name: &'static str) -> Arc<Driver> {
    type Cache = Mutex<HashMap<&'static str, Arc<OnceLock<Arc<Driver>>>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cell = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .entry(name)
        .or_default()
        .clone();
    cell.get_or_init(|| Arc::new(build(name))).clone()
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Exit(i32),
    /// A signal natively, a trap on tvm (abort, assert).
    Abnormal,
}

/// What a run printed and how it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Outcome {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    status: Status,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "status {:?}", self.status)?;
        writeln!(f, "--- stdout\n{}", String::from_utf8_lossy(&self.stdout))?;
        write!(f, "--- stderr\n{}", String::from_utf8_lossy(&self.stderr))
    }
}

fn run_native(d: &Driver, args: &[String], stdin: &[u8]) -> Outcome {
    let mut child = Command::new(&d.native)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    let bytes = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        // The driver may stop reading early: a broken pipe is fine.
        let _ = pipe.write_all(&bytes);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    Outcome {
        stdout: out.stdout,
        stderr: out.stderr,
        status: out.status.code().map_or(Status::Abnormal, Status::Exit),
    }
}

fn run_tvm(d: &Driver, args: &[String], stdin: &[u8]) -> Outcome {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let input = Input::from_args(d.name, &refs)
        .unwrap_or_else(|e| panic!("{e}"))
        .with_stdin(stdin.to_vec());
    let run = reference::run(&d.program, &input, FUEL, &mut CountTokens(0));
    let status = match run.result {
        Ok(code) => Status::Exit(code),
        Err(RunError::Trap { .. }) => Status::Abnormal,
        Err(e) => panic!("{}: {e}", d.name),
    };
    let split = streams::split(&run.output);
    Outcome {
        stdout: split.stdout,
        stderr: split.stderr,
        status,
    }
}

/// Bytes the input image takes for these arguments.
fn image_size(name: &str, args: &[String]) -> usize {
    let strings: usize = args.iter().map(|a| a.len() + 1).sum::<usize>() + name.len() + 1;
    4 + 4 * (args.len() + 2) + strings
}

/// Runs `name` both ways and compares everything.
fn compare(name: &'static str, args: &[String], stdin: &[u8]) -> Result<Outcome, TestCaseError> {
    let d = driver(name);
    let room = (INPUT_LIMIT - INPUT_BASE) as usize;
    assert!(
        image_size(name, args) <= room,
        "the generated arguments ({} bytes) do not fit the input area ({room} bytes)",
        image_size(name, args)
    );
    let native = run_native(&d, args, stdin);
    let tvm = run_tvm(&d, args, stdin);
    if native != tvm {
        let mut report = format!("{name} {}", shell_words(args));
        if !stdin.is_empty() {
            let _ = write!(report, " < (hex) {}", hex(stdin));
        }
        let _ = write!(report, "\n=== native\n{native}\n=== tvm\n{tvm}");
        if let Some(line) = first_difference(&native.stdout, &tvm.stdout) {
            let _ = write!(report, "\n=== first differing stdout line: {line}");
        }
        return Err(TestCaseError::fail(report));
    }
    Ok(native)
}

fn first_difference(a: &[u8], b: &[u8]) -> Option<String> {
    let a = String::from_utf8_lossy(a);
    let b = String::from_utf8_lossy(b);
    a.lines()
        .zip(b.lines())
        .find(|(x, y)| x != y)
        .map(|(x, y)| format!("\n  native: {x}\n  tvm:    {y}"))
}

fn shell_words(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || c == '\'') {
                format!("'{}'", a.replace('\'', "'\\''"))
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `cases` proptest cases, times `TVM_LIBC_CASES` if it is set (for longer
/// runs by hand).
fn config(cases: u32) -> ProptestConfig {
    let scale: u32 = std::env::var("TVM_LIBC_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    ProptestConfig {
        cases: cases * scale,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

/// Bytes 1..=255, mostly from a small alphabet (so that searches find
/// something), sometimes any.
fn text_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        6 => prop::sample::select(b"abcab ,.-xyzXYZ019".to_vec()),
        1 => 1u8..=255,
    ]
}

fn text(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(text_byte(), 0..=max)
}

/// A string for the strto functions: space, sign, base prefix, digits,
/// then something else.
fn number_text() -> impl Strategy<Value = String> {
    let digits = prop_oneof![
        // random digits of every base
        prop::collection::vec(
            prop::sample::select(b"0123456789abcdefghijklmnopqrstuvwxyzABCXYZ".to_vec()),
            0..24
        )
        .prop_map(|v| String::from_utf8(v).unwrap()),
        // values near the 32- and 64-bit limits, in decimal and hex
        (
            prop::sample::select(vec![
                0u128,
                1,
                9,
                (1 << 31) - 1,
                1 << 31,
                (1 << 31) + 1,
                (1 << 32) - 1,
                1 << 32,
                (1 << 63) - 1,
                1 << 63,
                (1 << 63) + 1,
                (1 << 64) - 1,
                1 << 64,
                (1 << 64) + 1,
                10u128.pow(20),
                10u128.pow(30),
            ]),
            -3i64..=3,
            prop::bool::ANY,
        )
            .prop_map(|(v, delta, hex)| {
                let v = v.saturating_add_signed(i128::from(delta));
                if hex { format!("{v:x}") } else { v.to_string() }
            }),
        any::<u64>().prop_map(|v| v.to_string()),
        any::<u32>().prop_map(|v| format!("{v:o}")),
    ];
    (
        prop::sample::select(vec!["", " ", "  \t", "\n ", "\x0b\x0c\r"]),
        prop::sample::select(vec!["", "", "-", "+", "--", "+-"]),
        prop::sample::select(vec!["", "", "", "0", "0x", "0X", "00x", " "]),
        digits,
        prop::sample::select(vec!["", "", "z", " 12", "-", ".5", "g", "\u{7f}"]),
    )
        .prop_map(|(space, sign, prefix, digits, tail)| {
            format!("{space}{sign}{prefix}{digits}{tail}")
        })
}

fn base() -> impl Strategy<Value = i32> {
    prop_oneof![
        3 => prop::sample::select(vec![0, 10, 16, 8, 2, 36]),
        1 => 2i32..=36,
    ]
}

fn edge_i64() -> impl Strategy<Value = i64> {
    prop_oneof![
        prop::sample::select(vec![
            0,
            1,
            -1,
            2,
            -2,
            7,
            -7,
            i64::from(i32::MAX),
            i64::from(i32::MIN),
            i64::from(u32::MAX),
            i64::MAX,
            i64::MIN,
            i64::MIN + 1,
        ]),
        -1000i64..1000,
        any::<i32>().prop_map(i64::from),
        any::<i64>(),
    ]
}

// ---------------------------------------------------------------------------
// string.h, ctype.h
// ---------------------------------------------------------------------------

#[test]
fn ctype_matches() {
    let out =
        compare("libc_strings", &["ctype".to_string()], &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.stdout.iter().filter(|&&b| b == b'\n').count(), 257);
}

proptest! {
    #![proptest_config(config(96))]

    #[test]
    fn strings_match(groups in prop::collection::vec((text(40), text(8), 0usize..45), 1..8)) {
        let mut args = Vec::new();
        for (a, b, k) in &groups {
            args.push(hex(a));
            args.push(hex(b));
            args.push(k.to_string());
        }
        compare("libc_strings", &args, &[])?;
    }
}

// ---------------------------------------------------------------------------
// stdlib.h numbers
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(96))]

    #[test]
    fn strto_matches(items in prop::collection::vec((base(), number_text()), 1..24)) {
        let mut args = vec!["strto".to_string()];
        for (b, s) in &items {
            args.push(b.to_string());
            args.push(hex(s.as_bytes()));
        }
        compare("libc_numbers", &args, &[])?;
    }

    #[test]
    fn division_matches(pairs in prop::collection::vec((edge_i64(), edge_i64()), 1..40)) {
        let mut args = vec!["div".to_string()];
        for (a, b) in &pairs {
            args.push(a.to_string());
            args.push(b.to_string());
        }
        compare("libc_numbers", &args, &[])?;
    }

    #[test]
    fn sorting_matches(values in prop_oneof![
        prop::collection::vec(-5i32..5, 0..200),
        prop::collection::vec(any::<i32>(), 0..120),
        prop::collection::vec(0i32..1000, 0..200).prop_map(|mut v| { v.sort_unstable(); v }),
        prop::collection::vec(0i32..1000, 0..200).prop_map(|mut v| { v.sort_unstable(); v.reverse(); v }),
    ]) {
        let mut args = vec!["sort".to_string()];
        args.extend(values.iter().map(i32::to_string));
        compare("libc_numbers", &args, &[])?;
    }
}

proptest! {
    #![proptest_config(config(16))]

    #[test]
    fn rand_matches_the_standard_example(seeds in prop::collection::vec(prop_oneof![Just(1u32), Just(0), any::<u32>()], 1..30)) {
        let mut args = vec!["rand".to_string()];
        args.extend(seeds.iter().map(u32::to_string));
        compare("libc_numbers", &args, &[])?;
    }
}

// ---------------------------------------------------------------------------
// printf
// ---------------------------------------------------------------------------

/// One printf test: the driver's type code, the format, the value (decimal,
/// or hex for a string), and the snprintf buffer size.
fn printf_item() -> impl Strategy<Value = [String; 4]> {
    // (conversion, length modifier, driver type)
    let conversion = prop_oneof![
        4 => (prop::sample::select(vec!["d", "i"]), prop::sample::select(vec![
            ("", 'i'), ("", 'i'), ("hh", 'i'), ("h", 'i'), ("l", 'l'), ("z", 'l'), ("t", 'l'),
            ("ll", 'q'), ("j", 'q'), ("q", 'q'),
        ])),
        4 => (prop::sample::select(vec!["u", "x", "X", "o"]), prop::sample::select(vec![
            ("", 'i'), ("", 'i'), ("hh", 'i'), ("h", 'i'), ("l", 'm'), ("z", 'm'),
            ("ll", 'q'), ("j", 'q'),
        ])),
        2 => (Just("s"), Just(("", 's'))),
        1 => (Just("c"), Just(("", 'c'))),
        1 => (Just("p"), Just(("", 'p'))),
        1 => (Just("n"), prop::sample::select(vec![("", 'n'), ("hh", 'n'), ("h", 'n')])),
        1 => (Just("%"), Just(("", 'i'))),
    ];
    let flags = prop::collection::vec(
        prop::sample::select(vec!['-', '+', ' ', '#', '0', '\'']),
        0..4,
    );
    let width = prop_oneof![
        2 => Just(String::new()),
        2 => (0u32..30).prop_map(|w| w.to_string()),
        1 => Just("*".to_string()),
    ];
    let precision = prop_oneof![
        3 => Just(String::new()),
        1 => Just(".".to_string()),
        2 => (0u32..25).prop_map(|p| format!(".{p}")),
        1 => Just(".*".to_string()),
    ];
    let literal = prop::collection::vec(
        prop_oneof![4 => prop::sample::select(b"ab =|".to_vec()), 1 => 1u8..=255],
        0..6,
    )
    .prop_map(|v| v.into_iter().filter(|&b| b != b'%').collect::<Vec<u8>>());
    let value = prop_oneof![
        edge_i64().prop_map(|v| v.to_string()),
        text(30).prop_map(|t| hex(&t)),
    ];
    (
        conversion,
        flags,
        width,
        precision,
        literal.clone(),
        literal,
        value,
        prop_oneof![0usize..40, Just(600usize)],
    )
        .prop_map(
            |((conv, (length, ty)), flags, width, precision, before, after, value, size)| {
                let mut stars = String::new();
                if width == "*" {
                    stars.push('*');
                }
                if precision == ".*" {
                    stars.push('*');
                }
                let (flags, width, precision) = if conv == "n" || conv == "%" {
                    // glibc ignores them there; keep the format simple
                    (String::new(), String::new(), String::new())
                } else {
                    (flags.into_iter().collect::<String>(), width, precision)
                };
                let stars = if conv == "n" || conv == "%" {
                    String::new()
                } else {
                    stars
                };
                let mut format = before;
                format.extend(format!("%{flags}{width}{precision}{length}{conv}").bytes());
                format.extend(after);
                let value = match ty {
                    // a string: hex; anything else: a decimal number
                    's' if value.chars().all(|c| c.is_ascii_hexdigit()) => value,
                    's' => hex(value.as_bytes()),
                    _ if value.starts_with('-') || value.chars().all(|c| c.is_ascii_digit()) => {
                        if value.is_empty() {
                            "0".to_string()
                        } else {
                            value
                        }
                    }
                    _ => "5".to_string(),
                };
                [
                    format!("{stars}{ty}"),
                    hex(&format),
                    value,
                    size.to_string(),
                ]
            },
        )
}

/// Every combination of a few flags, widths, precisions and values for
/// each conversion (the generated tests rarely hit, say, `%#.2o` of 8).
#[test]
fn printf_edge_cases_match() {
    let flags = [
        "", "-", "+", " ", "#", "0", "-0", "+0", "#0", " +", "-#", "'",
    ];
    let widths = ["", "1", "6"];
    let precisions = ["", ".", ".0", ".1", ".3", ".8"];
    let ints = [
        "0",
        "1",
        "-1",
        "8",
        "255",
        "4096",
        "-2147483648",
        "2147483647",
    ];
    let wides = [
        "0",
        "-1",
        "4294967296",
        "-9223372036854775808",
        "1000000000000",
    ];
    let strings = [hex(b""), hex(b"a"), hex(b"hello")];
    let mut items: Vec<[String; 4]> = Vec::new();
    for flag in flags {
        for width in widths {
            for precision in precisions {
                let spec = |length: &str, conv: &str| {
                    hex(format!("<%{flag}{width}{precision}{length}{conv}>").as_bytes())
                };
                for conv in ["d", "u", "x", "X", "o"] {
                    for v in ints {
                        items.push(["i".into(), spec("", conv), v.into(), "40".into()]);
                    }
                    for v in wides {
                        items.push(["q".into(), spec("ll", conv), v.into(), "40".into()]);
                    }
                    items.push(["i".into(), spec("hh", conv), "-200".into(), "40".into()]);
                    items.push(["i".into(), spec("h", conv), "70000".into(), "40".into()]);
                }
                for v in &strings {
                    items.push(["s".into(), spec("", "s"), v.clone(), "40".into()]);
                }
                for v in ["97", "0", "255"] {
                    items.push(["c".into(), spec("", "c"), v.into(), "40".into()]);
                }
                for v in ["0", "1", "4660", "-1"] {
                    items.push(["p".into(), spec("", "p"), v.into(), "40".into()]);
                }
            }
        }
    }
    for chunk in items.chunks(24) {
        let args: Vec<String> = chunk.iter().flatten().cloned().collect();
        compare("libc_printf", &args, &[]).unwrap_or_else(|e| panic!("{e}"));
    }
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn printf_matches(items in prop::collection::vec(printf_item(), 1..12)) {
        let args: Vec<String> = items.into_iter().flatten().collect();
        compare("libc_printf", &args, &[])?;
    }
}

// ---------------------------------------------------------------------------
// scanf
// ---------------------------------------------------------------------------

/// One directive of a scanf format: its text and, when it assigns, the
/// driver's dump code for its target.
fn scanf_directive() -> impl Strategy<Value = (String, Option<String>)> {
    let integer = (
        prop::sample::select(vec!["d", "i", "u", "o", "x", "X"]),
        prop::sample::select(vec![
            ("", "4"),
            ("", "4"),
            ("hh", "1"),
            ("h", "2"),
            ("l", "4"),
            ("ll", "8"),
            ("j", "8"),
            ("z", "4"),
            ("L", "8"),
        ]),
    )
        .prop_map(|(conv, (length, code))| (format!("{length}{conv}"), code.to_string()));
    let set = prop::sample::select(vec![
        "[a-z]",
        "[^,]",
        "[]abc]",
        "[^]x]",
        "[-a]",
        "[a-]",
        "[0-9A-Fx]",
        "[^ \n]",
        "[z-a]",
        "[^0-9-]",
        "[ab",
    ]);
    let conversion = prop_oneof![
        6 => integer,
        1 => Just(("p".to_string(), "4".to_string())),
        2 => Just(("s".to_string(), "s".to_string())),
        2 => set.prop_map(|s| (s.to_string(), "s".to_string())),
        1 => (1usize..=9).prop_map(|w| (format!("{w}c"), format!("c{w}"))),
        1 => Just(("c".to_string(), "c1".to_string())),
        1 => prop::sample::select(vec![("n", "4"), ("hhn", "1"), ("lln", "8")])
            .prop_map(|(c, k)| (c.to_string(), k.to_string())),
    ];
    prop_oneof![
        3 => (conversion, prop::bool::weighted(0.15), prop_oneof![3 => Just(0usize), 1 => 1usize..12])
            .prop_map(|((conv, code), suppress, width)| {
                // a width goes before the length modifier; %Nc has its own
                let (conv, code) = if width > 0 && !conv.ends_with('c') && !conv.ends_with('n') {
                    (format!("{width}{conv}"), code)
                } else {
                    (conv, code)
                };
                let text = format!("%{}{conv}", if suppress { "*" } else { "" });
                (text, if suppress { None } else { Some(code) })
            }),
        1 => prop::sample::select(vec![" ", "\t", "\n ", ",", ":", "-", "x", "(", "ab", "%%"])
            .prop_map(|s| (s.to_string(), None)),
    ]
}

/// Input for scanf: numbers in many forms, words, punctuation, space.
fn scanf_input() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        number_text(),
        prop::sample::select(vec![
            "abc", "x", "(nil)", "(nix", "0x", "0X1f", "-", "+", "0", "08", "0x1g", "zz", ",", ":",
            "[", "]", "%", "ab-cd", "   ", "\n", "\t", "A-F", "nil",
        ])
        .prop_map(str::to_string),
        any::<i64>().prop_map(|v| v.to_string()),
    ];
    prop::collection::vec(token, 0..5).prop_map(|t| t.join(""))
}

proptest! {
    #![proptest_config(config(160))]

    #[test]
    fn scanf_matches(items in prop::collection::vec(
        (prop::collection::vec(scanf_directive(), 1..6), scanf_input()), 1..6)) {
        let mut args = Vec::new();
        for (directives, input) in &items {
            let format: String = directives.iter().map(|(t, _)| t.as_str()).collect();
            let codes: String = directives.iter().filter_map(|(_, c)| c.clone()).take(8).collect();
            if directives.iter().filter(|(_, c)| c.is_some()).count() > 8 {
                continue;
            }
            args.push(if codes.is_empty() { "-".to_string() } else { codes });
            args.push(hex(format.as_bytes()));
            args.push(hex(input.as_bytes()));
        }
        compare("libc_scanf", &args, &[])?;
    }
}

// ---------------------------------------------------------------------------
// malloc and friends
// ---------------------------------------------------------------------------

fn memory_op() -> impl Strategy<Value = String> {
    let size = prop_oneof![
        8 => 0usize..70,
        3 => 0usize..600,
        1 => 0usize..20_000,
    ];
    let id = 0usize..16;
    prop_oneof![
        6 => (id.clone(), size.clone()).prop_map(|(i, n)| format!("a{i},{n}")),
        2 => (id.clone(), 0usize..20, 0usize..40).prop_map(|(i, k, n)| format!("c{i},{k},{n}")),
        4 => (id.clone(), size).prop_map(|(i, n)| format!("r{i},{n}")),
        5 => id.clone().prop_map(|i| format!("f{i}")),
        1 => (id, 0usize..50).prop_map(|(i, n)| format!("d{i},{n}")),
    ]
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn allocation_matches(ops in prop::collection::vec(memory_op(), 1..120), big in prop::bool::weighted(0.1)) {
        let mut args = ops;
        if big {
            args.push("big".to_string());
        }
        compare("libc_memory", &args, &[])?;
    }
}

// ---------------------------------------------------------------------------
// stdio: stdin, stdout and stderr, exit
// ---------------------------------------------------------------------------

fn stdin_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            6 => prop::sample::select(b"ab 12\n-x0\t".to_vec()),
            1 => any::<u8>(),
        ],
        0..300,
    )
}

fn read_op() -> impl Strategy<Value = String> {
    let format = prop::sample::select(vec![
        "%d", "%s", "%c", " %c", "%x", "%5s", "%[^\n]", "%*d%n", "%d%d", " ", "%3c", "%i %i", "%u",
        "%lld", "%hhu", "%[a-z]%n", "%d,", "%2d%2d", "\n",
    ]);
    prop_oneof![
        3 => (0usize..6).prop_map(|n| format!("g{n}")),
        1 => (0usize..4).prop_map(|n| format!("k{n}")),
        1 => (0usize..4).prop_map(|n| format!("F{n}")),
        3 => (0usize..40).prop_map(|n| format!("f{n}")),
        2 => (1usize..5, 0usize..9).prop_map(|(s, c)| format!("r{s},{c}")),
        2 => prop_oneof![Just(-1i32), 0i32..256].prop_map(|c| format!("u{c}")),
        4 => (prop::sample::select(vec!['s', 's', 'S', 'v', 'V']), format)
            .prop_map(|(c, f)| format!("{c}{}", hex(f.as_bytes()))),
        1 => Just("e".to_string()),
        1 => Just("c".to_string()),
    ]
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn stdin_matches(input in stdin_bytes(), ops in prop::collection::vec(read_op(), 1..16)) {
        let mut args = vec!["read".to_string()];
        args.extend(ops);
        compare("libc_stdio", &args, &input)?;
    }

    #[test]
    fn output_streams_match(ops in prop::collection::vec(prop_oneof![
        (prop::sample::select(vec!['o', 'e', 'p', 'P', 'v', 'V', 'w', 'W', 'u']), prop::collection::vec(
            prop_oneof![4 => prop::sample::select(b"ab \n".to_vec()), 1 => 1u8..=255], 0..12))
            .prop_map(|(c, t)| format!("{c}{}", hex(&t))),
        (prop::sample::select(vec!['O', 'E', 'c']), prop_oneof![Just(-1i32), Just(255), 0i32..300])
            .prop_map(|(c, n)| format!("{c}{n}")),
        prop::sample::select(vec![0i32, 9, 12, 22, 33, 34, 84, 999, -3])
            .prop_map(|n| format!("x{n}")),
    ], 1..20)) {
        let mut args = vec!["write".to_string()];
        args.extend(ops);
        let out = compare("libc_stdio", &args, &[])?;
        prop_assert!(!out.stderr.is_empty());
    }
}

proptest! {
    #![proptest_config(config(12))]

    #[test]
    fn exit_runs_atexit_handlers(handlers in 0usize..7, status in 0i32..256) {
        let args = ["exit".to_string(), handlers.to_string(), status.to_string()];
        let out = compare("libc_stdio", &args, &[])?;
        prop_assert_eq!(out.status, Status::Exit(status));
        let args = ["quick".to_string(), status.to_string()];
        let out = compare("libc_stdio", &args, &[])?;
        prop_assert_eq!(out.status, Status::Exit(status));
    }
}

#[test]
fn assert_prints_what_glibc_prints() {
    let out = compare("libc_stdio", &["assert".to_string()], &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status, Status::Abnormal);
    assert_eq!(out.stdout, b"before\n");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("libc_stdio: ")
            && stderr.ends_with(": main: Assertion `argc == 99' failed.\n"),
        "{stderr}"
    );
}
