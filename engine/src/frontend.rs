//! Source to WebAssembly: C through clang and tvm's freestanding libc, WAT
//! through the `wat` crate, `.wasm` as it is.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The libc headers and source, embedded so the binary is self-contained.
const LIBC_FILES: [(&str, &str); 5] = [
    ("include/stdio.h", include_str!("../libc/include/stdio.h")),
    ("include/stdlib.h", include_str!("../libc/include/stdlib.h")),
    ("include/string.h", include_str!("../libc/include/string.h")),
    ("include/ctype.h", include_str!("../libc/include/ctype.h")),
    ("src/libc.c", include_str!("../libc/src/libc.c")),
];

/// Flags of the C build: wasm32 MVP, no host libc, data at 4096 above the
/// input area, one 64 KiB page of memory with a 16 KiB stack, and the
/// `__tvm_scratch` buffer exported for the lowering.
const CLANG_FLAGS: [&str; 13] = [
    "--target=wasm32",
    "-nostdlib",
    "-ffreestanding",
    "-O2",
    "-mcpu=mvp",
    "-Wl,--no-entry",
    "-Wl,--export=main",
    "-Wl,--export=__tvm_scratch",
    "-Wl,--global-base=4096",
    "-Wl,-z,stack-size=16384",
    "-Wl,--initial-memory=65536",
    "-Wl,--max-memory=65536",
    "-Wno-unused-command-line-argument",
];

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
    /// The WAT text does not parse.
    #[error("{path}: invalid WAT: {message}")]
    Wat {
        /// The source.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A temporary directory for the build could not be prepared.
    #[error("cannot prepare a build directory: {0}")]
    Scratch(std::io::Error),
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

fn compile_c(source: &[u8], path: &Path) -> Result<Vec<u8>, FrontendError> {
    let dir = tempfile::tempdir().map_err(FrontendError::Scratch)?;
    for (name, text) in LIBC_FILES {
        let file = dir.path().join("libc").join(name);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).map_err(FrontendError::Scratch)?;
        }
        std::fs::write(&file, text).map_err(FrontendError::Scratch)?;
    }
    let name = path
        .file_name()
        .map_or_else(|| "program.c".into(), |n| n.to_owned());
    let program = dir.path().join(name);
    std::fs::write(&program, source).map_err(FrontendError::Scratch)?;
    let out = dir.path().join("out.wasm");
    let clang = std::env::var_os("TVM_CLANG").unwrap_or_else(|| "clang".into());
    let result = Command::new(clang)
        .args(CLANG_FLAGS)
        .arg("-isystem")
        .arg(dir.path().join("libc/include"))
        .arg(dir.path().join("libc/src/libc.c"))
        .arg(&program)
        .arg("-o")
        .arg(&out)
        .output()
        .map_err(|source| FrontendError::ClangMissing { source })?;
    if !result.status.success() {
        let stderr =
            String::from_utf8_lossy(&result.stderr).replace(&*dir.path().to_string_lossy(), "");
        return Err(FrontendError::Clang {
            path: path.to_owned(),
            stderr,
        });
    }
    std::fs::read(&out).map_err(FrontendError::Scratch)
}
