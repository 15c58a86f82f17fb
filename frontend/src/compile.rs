//! Source to WebAssembly: C through clang and tvm's freestanding libc, WAT
//! through the `wat` crate, `.wasm` as it is.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::program::MAX_MEMORY;

/// The libc headers and sources, embedded so the binary is self-contained.
const LIBC_FILES: [(&str, &str); 15] = [
    ("include/stdio.h", include_str!("../libc/include/stdio.h")),
    ("include/stdlib.h", include_str!("../libc/include/stdlib.h")),
    ("include/string.h", include_str!("../libc/include/string.h")),
    ("include/ctype.h", include_str!("../libc/include/ctype.h")),
    ("include/assert.h", include_str!("../libc/include/assert.h")),
    ("include/errno.h", include_str!("../libc/include/errno.h")),
    (
        "include/inttypes.h",
        include_str!("../libc/include/inttypes.h"),
    ),
    ("include/limits.h", include_str!("../libc/include/limits.h")),
    ("include/math.h", include_str!("../libc/include/math.h")),
    ("include/stdarg.h", include_str!("../libc/include/stdarg.h")),
    (
        "include/stdbool.h",
        include_str!("../libc/include/stdbool.h"),
    ),
    ("include/stddef.h", include_str!("../libc/include/stddef.h")),
    ("include/stdint.h", include_str!("../libc/include/stdint.h")),
    ("src/libc.c", include_str!("../libc/src/libc.c")),
    ("src/int128.c", include_str!("../libc/src/int128.c")),
];

/// The libc sources compiled with every C program (paths in `LIBC_FILES`).
const LIBC_SOURCES: [&str; 2] = ["src/libc.c", "src/int128.c"];

/// Bytes of stack a C program gets (wasm-ld places it after the data).
pub const C_STACK_SIZE: u32 = 64 * 1024;

/// Flags of the C build: wasm32 MVP, no host libc, data at 4096 above the
/// input area, and the `__tvm_scratch` buffer exported for the lowering.
/// The memory flags are [`memory_flags`].
const CLANG_FLAGS: [&str; 10] = [
    "--target=wasm32",
    "-nostdlib",
    "-ffreestanding",
    "-O2",
    "-mcpu=mvp",
    "-Wl,--no-entry",
    "-Wl,--export=main",
    "-Wl,--export=__tvm_scratch",
    "-Wl,--global-base=4096",
    "-Wno-unused-command-line-argument",
];

/// The memory of a C build: all the machine has ([`MAX_MEMORY`], fixed:
/// initial = maximum), with a [`C_STACK_SIZE`] stack; the libc's `malloc`
/// hands out everything from the end of the stack to the end of memory.
/// Zero-initialised memory costs no tokens.
fn memory_flags() -> [String; 3] {
    [
        format!("-Wl,-z,stack-size={C_STACK_SIZE}"),
        format!("-Wl,--initial-memory={MAX_MEMORY}"),
        format!("-Wl,--max-memory={MAX_MEMORY}"),
    ]
}

/// The kind of source a path holds, by extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    /// `.c`
    C,
    /// `.wat` / `.wast`
    Wat,
    /// `.wasm`
    Wasm,
}

/// Why a source could not be turned into WebAssembly.
#[derive(Debug, thiserror::Error)]
pub enum FrontendError {
    /// The extension is not one tvm knows.
    #[error("{path}: unknown source kind; expected a .c, .wat or .wasm file")]
    UnknownKind {
        /// The path given.
        path: PathBuf,
    },
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path given.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// clang is missing or could not run.
    #[error(
        "cannot run clang ({source}); install clang and lld (see README: `./setup.sh`) or set TVM_CLANG"
    )]
    ClangMissing {
        /// The I/O error.
        source: std::io::Error,
    },
    /// clang rejected the program.
    #[error("clang failed to compile {path}:\n{stderr}")]
    Clang {
        /// The source compiled.
        path: PathBuf,
        /// What clang printed.
        stderr: String,
    },
    /// The program's static data and stack do not fit in the machine's
    /// memory (wasm-ld: "initial memory too small").
    #[error(
        "{path}: the program needs {needed} bytes of memory ({} pages of 64 KiB) for its static data (from address 4096) and its {}-byte stack, but the tvm machine has at most {} bytes ({} pages); make its static arrays smaller by at least {} bytes",
        needed.div_ceil(65536),
        C_STACK_SIZE,
        MAX_MEMORY,
        MAX_MEMORY / 65536,
        needed.saturating_sub(u64::from(MAX_MEMORY))
    )]
    TooBig {
        /// The source compiled.
        path: PathBuf,
        /// Bytes the linker says the program needs.
        needed: u64,
    },
    /// The program calls (or uses) symbols that neither it nor tvm's libc
    /// defines (wasm-ld: "undefined symbol").
    #[error(
        "{path}: undefined {}: tvm's libc does not provide {} (it has what the headers in frontend/libc/include declare: stdio.h, stdlib.h, string.h, ctype.h, stdint.h, inttypes.h, limits.h, assert.h, errno.h, stdarg.h, stddef.h, stdbool.h; math.h is declared but unavailable until the machine has floating point); define {} in the program\nlinker output:\n{stderr}",
        names(symbols),
        if symbols.len() == 1 { "it" } else { "them" },
        if symbols.len() == 1 { "it" } else { "them" }
    )]
    Undefined {
        /// The source compiled.
        path: PathBuf,
        /// The undefined symbols, in the linker's order, each once.
        symbols: Vec<String>,
        /// What clang printed.
        stderr: String,
    },
    /// The WAT text does not parse.
    #[error("{path}: invalid WAT: {message}")]
    Wat {
        /// The source.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// No source file was given.
    #[error("no source file given")]
    NoSources,
    /// Several sources that are not all C.
    #[error(
        "{path}: only C sources can be built together; a .wat or .wasm file must be the only source"
    )]
    MixedSources {
        /// The first source that is not C.
        path: PathBuf,
    },
    /// A temporary directory for the build could not be prepared.
    #[error("cannot prepare a build directory: {0}")]
    Scratch(std::io::Error),
}

/// "function `a`" or "functions `a`, `b`".
fn names(symbols: &[String]) -> String {
    let list = symbols
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if symbols.len() == 1 {
        format!("function {list}")
    } else {
        format!("functions {list}")
    }
}

/// The typed error for clang's failure output: a program too big for the
/// memory, undefined symbols, or anything else as clang printed it.
fn clang_error(path: &Path, stderr: String) -> FrontendError {
    if let Some(needed) = memory_needed(&stderr) {
        return FrontendError::TooBig {
            path: path.to_owned(),
            needed,
        };
    }
    let symbols = undefined_symbols(&stderr);
    if !symbols.is_empty() {
        return FrontendError::Undefined {
            path: path.to_owned(),
            symbols,
            stderr,
        };
    }
    FrontendError::Clang {
        path: path.to_owned(),
        stderr,
    }
}

/// The N of wasm-ld's "initial memory too small, N bytes needed" (or of
/// the same message about the maximum memory).
fn memory_needed(stderr: &str) -> Option<u64> {
    stderr.lines().find_map(|line| {
        let (_, rest) = line.split_once("memory too small, ")?;
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        rest[digits.len()..]
            .trim_start()
            .starts_with("bytes needed")
            .then(|| digits.parse().ok())
            .flatten()
    })
}

/// The names in wasm-ld's "undefined symbol: NAME" lines, each once.
fn undefined_symbols(stderr: &str) -> Vec<String> {
    let mut symbols: Vec<String> = Vec::new();
    for line in stderr.lines() {
        let name = line
            .split_once("undefined symbol: ")
            .and_then(|(_, rest)| rest.split_whitespace().next());
        if let Some(name) = name
            && !symbols.iter().any(|s| s == name)
        {
            symbols.push(name.to_owned());
        }
    }
    symbols
}

impl SourceKind {
    /// The kind a path's extension names.
    pub fn of(path: &Path) -> Result<SourceKind, FrontendError> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("c") => Ok(SourceKind::C),
            Some("wat" | "wast") => Ok(SourceKind::Wat),
            Some("wasm") => Ok(SourceKind::Wasm),
            _ => Err(FrontendError::UnknownKind {
                path: path.to_owned(),
            }),
        }
    }
}

/// Reads a source file and returns the WebAssembly binary it denotes.
pub fn compile_file(path: &Path) -> Result<Vec<u8>, FrontendError> {
    let kind = SourceKind::of(path)?;
    let bytes = std::fs::read(path).map_err(|source| FrontendError::Read {
        path: path.to_owned(),
        source,
    })?;
    compile_bytes(kind, &bytes, path)
}

/// Turns source bytes of the given kind into a WebAssembly binary; `path` is
/// used in messages (and as the C file's name).
pub fn compile_bytes(
    kind: SourceKind,
    bytes: &[u8],
    path: &Path,
) -> Result<Vec<u8>, FrontendError> {
    match kind {
        SourceKind::Wasm => Ok(bytes.to_vec()),
        SourceKind::Wat => wat::parse_bytes(bytes)
            .map(|b| b.into_owned())
            .map_err(|e| FrontendError::Wat {
                path: path.to_owned(),
                message: e.to_string(),
            }),
        SourceKind::C => compile_c(bytes, path),
    }
}

/// How C sources are built, beyond tvm's own flags.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildOptions {
    /// Directories searched for `#include "…"` and `<…>` (`-I`), after each
    /// source's own directory.
    pub include: Vec<PathBuf>,
    /// Macros (`-D NAME` or `-D NAME=VALUE`).
    pub define: Vec<String>,
    /// Any other clang flags, passed as they are.
    pub cflags: Vec<String>,
    /// Where tvm's libc, once compiled, is kept for later builds (see
    /// [`libc_build`]); `None` compiles it with every program.
    pub libc_cache: Option<PathBuf>,
}

impl BuildOptions {
    /// The flags that change how the libc itself compiles: macros and
    /// other flags, not the program's include directories.
    fn libc_args(&self) -> Vec<std::ffi::OsString> {
        let mut out: Vec<std::ffi::OsString> = self
            .define
            .iter()
            .map(|d| format!("-D{d}").into())
            .collect();
        out.extend(self.cflags.iter().map(Into::into));
        out
    }

    fn clang_args(&self) -> Vec<std::ffi::OsString> {
        let mut out = Vec::new();
        for dir in &self.include {
            out.push("-I".into());
            out.push(dir.clone().into_os_string());
        }
        for d in &self.define {
            out.push(format!("-D{d}").into());
        }
        out.extend(self.cflags.iter().map(Into::into));
        out
    }
}

/// Builds a program from one or more source files: several `.c` files
/// (with tvm's libc) linked together, or one `.wat`/`.wasm` file. Each C
/// source's directory is on the include path, and clang reads the files
/// where they are, so its diagnostics name the paths as given.
pub fn compile_sources(
    paths: &[PathBuf],
    options: &BuildOptions,
) -> Result<Vec<u8>, FrontendError> {
    let Some(first) = paths.first() else {
        return Err(FrontendError::NoSources);
    };
    if paths.len() == 1 && SourceKind::of(first)? != SourceKind::C {
        return compile_file(first);
    }
    for path in paths {
        if SourceKind::of(path)? != SourceKind::C {
            return Err(FrontendError::MixedSources {
                path: path.to_owned(),
            });
        }
        if !path.is_file() {
            return Err(FrontendError::Read {
                path: path.to_owned(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            });
        }
    }
    let mut include: Vec<PathBuf> = Vec::new();
    for path in paths {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
            _ => PathBuf::from("."),
        };
        if !include.contains(&dir) {
            include.push(dir);
        }
    }
    let options = BuildOptions {
        include: include
            .into_iter()
            .chain(options.include.iter().cloned())
            .collect(),
        ..options.clone()
    };
    run_clang(paths, &options, first)
}

fn compile_c(source: &[u8], path: &Path) -> Result<Vec<u8>, FrontendError> {
    // Source bytes with no file of their own: written to a scratch
    // directory, with the named path's directory on the include path.
    let dir = tempfile::tempdir().map_err(FrontendError::Scratch)?;
    let name = path
        .file_name()
        .map_or_else(|| "program.c".into(), |n| n.to_owned());
    let program = dir.path().join(name);
    std::fs::write(&program, source).map_err(FrontendError::Scratch)?;
    let mut options = BuildOptions::default();
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        options.include.push(parent.to_owned());
    }
    run_clang(&[program], &options, path).map_err(|e| match e {
        FrontendError::Clang { path, stderr } => FrontendError::Clang {
            stderr: stderr.replace(&*dir.path().to_string_lossy(), ""),
            path,
        },
        other => other,
    })
}

/// Runs clang on `sources` with tvm's libc and flags; `path` names the
/// program in errors.
fn run_clang(
    sources: &[PathBuf],
    options: &BuildOptions,
    path: &Path,
) -> Result<Vec<u8>, FrontendError> {
    let dir = tempfile::tempdir().map_err(FrontendError::Scratch)?;
    let libc = libc_build(options, path)?;
    let out = dir.path().join("out.wasm");
    let mut clang = clang();
    clang
        .args(CLANG_FLAGS)
        .args(memory_flags())
        .args(options.clang_args())
        .arg("-isystem")
        .arg(libc.root.join("include"));
    match &libc.objects {
        Some(objects) => clang.args(objects),
        None => clang.args(LIBC_SOURCES.map(|source| libc.root.join(source))),
    };
    let result = clang
        .args(sources)
        .arg("-o")
        .arg(&out)
        .output()
        .map_err(|source| FrontendError::ClangMissing { source })?;
    if !result.status.success() {
        let stderr = String::from_utf8_lossy(&result.stderr)
            .replace(&*libc.root.to_string_lossy(), "<tvm libc>");
        return Err(clang_error(path, stderr));
    }
    std::fs::read(&out).map_err(FrontendError::Scratch)
}

/// The clang a build runs: `$TVM_CLANG`, else `clang`.
fn clang() -> Command {
    Command::new(std::env::var_os("TVM_CLANG").unwrap_or_else(|| "clang".into()))
}

/// tvm's libc on disk for one build: its headers and sources under
/// `root`, and, when cached, its compiled objects.
struct LibcBuild {
    /// Holds `include/` and `src/`.
    root: PathBuf,
    /// The compiled sources (from the cache), or `None` to compile them
    /// with the program.
    objects: Option<Vec<PathBuf>>,
    /// The scratch directory `root` is in, when not cached.
    _scratch: Option<tempfile::TempDir>,
}

/// Writes tvm's libc (headers and sources) under `root`.
fn write_libc(root: &Path) -> Result<(), FrontendError> {
    for (name, text) in LIBC_FILES {
        let file = root.join(name);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).map_err(FrontendError::Scratch)?;
        }
        std::fs::write(&file, text).map_err(FrontendError::Scratch)?;
    }
    Ok(())
}

/// tvm's libc for a build with `options`. Without a cache: written to a
/// scratch directory and compiled with the program. With one: compiled
/// once per libc text, clang version and libc flags, into
/// `CACHE/libc-KEY/` (`include/`, `src/`, `obj/`), made in a scratch
/// directory beside it and renamed into place, so an entry that exists is
/// complete. The objects are what clang would compile from the sources in
/// the one invocation, so the program's wasm is the same either way.
fn libc_build(options: &BuildOptions, path: &Path) -> Result<LibcBuild, FrontendError> {
    let Some(cache) = &options.libc_cache else {
        let scratch = tempfile::tempdir().map_err(FrontendError::Scratch)?;
        let root = scratch.path().join("libc");
        write_libc(&root)?;
        return Ok(LibcBuild {
            root,
            objects: None,
            _scratch: Some(scratch),
        });
    };
    let objects_in = |root: &Path| -> Vec<PathBuf> {
        LIBC_SOURCES
            .iter()
            .map(|source| root.join("obj").join(object_name(source)))
            .collect()
    };
    let root = cache.join(format!("libc-{}", libc_key(options)?));
    if root.is_dir() {
        let objects = objects_in(&root);
        return Ok(LibcBuild {
            root,
            objects: Some(objects),
            _scratch: None,
        });
    }
    std::fs::create_dir_all(cache).map_err(FrontendError::Scratch)?;
    let scratch = tempfile::tempdir_in(cache).map_err(FrontendError::Scratch)?;
    write_libc(scratch.path())?;
    std::fs::create_dir_all(scratch.path().join("obj")).map_err(FrontendError::Scratch)?;
    for (source, object) in LIBC_SOURCES.iter().zip(objects_in(scratch.path())) {
        let result = clang()
            .args(CLANG_FLAGS)
            .args(options.libc_args())
            .arg("-isystem")
            .arg(scratch.path().join("include"))
            .arg("-c")
            .arg(scratch.path().join(source))
            .arg("-o")
            .arg(&object)
            .output()
            .map_err(|source| FrontendError::ClangMissing { source })?;
        if !result.status.success() {
            let stderr = String::from_utf8_lossy(&result.stderr)
                .replace(&*scratch.path().to_string_lossy(), "<tvm libc>");
            return Err(clang_error(path, stderr));
        }
    }
    // Another build may have finished the same entry first: theirs is
    // as good, and ours goes with the scratch directory.
    let made = scratch.keep();
    if std::fs::rename(&made, &root).is_err() {
        let _ = std::fs::remove_dir_all(&made);
        if !root.is_dir() {
            return Err(FrontendError::Scratch(std::io::Error::other(format!(
                "could not place the compiled libc in {}",
                root.display()
            ))));
        }
    }
    let objects = objects_in(&root);
    Ok(LibcBuild {
        root,
        objects: Some(objects),
        _scratch: None,
    })
}

/// `src/libc.c` → `libc.o`.
fn object_name(source: &str) -> String {
    let stem = Path::new(source)
        .file_stem()
        .map_or_else(|| source.to_owned(), |s| s.to_string_lossy().into_owned());
    format!("{stem}.o")
}

/// The cache key of the libc's objects: a digest of its files, the flags
/// it compiles with and clang's version.
fn libc_key(options: &BuildOptions) -> Result<String, FrontendError> {
    use std::hash::{Hash as _, Hasher as _};
    let version = clang()
        .arg("--version")
        .output()
        .map_err(|source| FrontendError::ClangMissing { source })?;
    // Two independent 64-bit SipHashes (fixed keys: the same input gives
    // the same key in every run of the same build of tvm).
    let mut halves = [0u64; 2];
    for (salt, half) in halves.iter_mut().enumerate() {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        salt.hash(&mut h);
        LIBC_FILES.hash(&mut h);
        CLANG_FLAGS.hash(&mut h);
        options.libc_args().hash(&mut h);
        version.stdout.hash(&mut h);
        *half = h.finish();
    }
    Ok(format!("{:016x}{:016x}", halves[0], halves[1]))
}
