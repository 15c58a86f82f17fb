//! The catalog manifest: which programs exist, how to run them, and what
//! they must produce.
//!
//! `catalog/manifest.toml` holds one `[[program]]` table per program:
//!
//! ```toml
//! [[program]]
//! name = "fibonacci"                      # unique; [a-z0-9_-]+
//! source = "programs/fibonacci.c"         # relative to catalog/, .c or .wat
//! # sources = ["programs/a.c", "programs/b.c"]  # instead of `source`: C files
//! #                                       # compiled and linked together
//! args = "46"                             # split on whitespace; "" for none
//! # argv = ["46", "two words"]            # instead of `args`: verbatim
//! expected_output = "expected/fibonacci.out"
//! exit = 0                                # expected exit status
//! # trap = "integer divide by zero"       # instead of `exit`, for traps
//! # long = true                           # slow on the exact engines
//! # stdin = "inputs/fibonacci.txt"        # standard input, relative to catalog/
//! description = "fib(0) .. fib(n)"
//! ```
//!
//! Invariants established by [`Manifest::load`] / [`Manifest::parse`] (so a
//! [`Program`] obtained from a manifest always satisfies them):
//! - names are unique, non-empty and made of `a-z 0-9 _ -`;
//! - exactly one of `source` (one file) and `sources` (a non-empty list,
//!   no file twice) is given; several sources are all C (`.c`) and are
//!   compiled and linked together, each source's directory on the include
//!   path (so `#include "local.h"` finds a header beside the source);
//! - at most one of `args` (a string split on whitespace) and `argv` (a
//!   list passed verbatim, so an argument may hold spaces; no NUL bytes)
//!   is given; neither means no arguments;
//! - every source, `expected_output` and `stdin` are relative paths inside
//!   the catalog directory (no `..`, not absolute);
//! - every source file exists (the expected-output file may not yet: it is
//!   generated from the source, so it is only required when read, where its
//!   absence is [`ManifestError::MissingFile`]; so is the stdin file's);
//! - a single source is C (`.c`) or WebAssembly text (`.wat`);
//! - exactly one of `exit` and `trap` is given;
//! - the program name passed as `argv[0]` is the (first) source's file stem.
//!
//! Expected outputs are produced outside tvm: C programs by the host C
//! compiler (`regen-expected.sh`), WAT programs by the wasmi oracle.

use std::fmt;
use std::fs;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

/// File name of the manifest inside the catalog directory.
pub const MANIFEST_FILE: &str = "manifest.toml";

/// Why a manifest or one of its files could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The manifest file could not be read.
    #[error("cannot read manifest {path}: {source}")]
    Read {
        /// Manifest path.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// The manifest is not valid TOML or does not have the expected shape.
    #[error("invalid manifest {path}: {source}")]
    Parse {
        /// Manifest path.
        path: PathBuf,
        /// The TOML error, with its location.
        source: Box<toml::de::Error>,
    },
    /// A program entry breaks one of the manifest's rules.
    #[error("manifest {path}: program `{name}`: {reason}")]
    Invalid {
        /// Manifest path.
        path: PathBuf,
        /// The program's name (possibly empty or malformed).
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// Two programs have the same name.
    #[error("manifest {path}: program name `{name}` is used twice")]
    Duplicate {
        /// Manifest path.
        path: PathBuf,
        /// The repeated name.
        name: String,
    },
    /// A file named by the manifest does not exist.
    #[error("program `{name}`: missing file {path}")]
    MissingFile {
        /// The program's name.
        name: String,
        /// The absolute path that was looked for.
        path: PathBuf,
    },
    /// A file named by the manifest exists but could not be read.
    #[error("program `{name}`: cannot read {path}: {source}")]
    ReadFile {
        /// The program's name.
        name: String,
        /// The file.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// No program has the requested name.
    #[error("no program named `{0}` in the catalog")]
    UnknownProgram(String),
}

/// A trap a program is expected to end with (WebAssembly's trap names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Trap {
    /// `unreachable` executed.
    #[serde(rename = "unreachable")]
    Unreachable,
    /// Division or remainder by zero.
    #[serde(rename = "integer divide by zero")]
    IntegerDivideByZero,
    /// `i32.div_s` of `i32::MIN` by -1.
    #[serde(rename = "integer overflow")]
    IntegerOverflow,
    /// Load or store outside linear memory.
    #[serde(rename = "out of bounds memory access")]
    OutOfBoundsMemory,
    /// `call_indirect` with an index past the table.
    #[serde(rename = "undefined element")]
    UndefinedElement,
    /// `call_indirect` to a table element that holds no function.
    #[serde(rename = "uninitialized element")]
    UninitializedElement,
    /// `call_indirect` to a function of another type.
    #[serde(rename = "indirect call type mismatch")]
    IndirectCallTypeMismatch,
    /// Calls nested deeper than the machine's call stack.
    #[serde(rename = "call stack exhausted")]
    CallStackExhausted,
    /// An access inside a grown memory but past the machine's memory.
    #[serde(rename = "memory limit")]
    MemoryLimit,
}

impl Trap {
    /// Every trap kind, in declaration order.
    pub const ALL: [Trap; 9] = [
        Trap::Unreachable,
        Trap::IntegerDivideByZero,
        Trap::IntegerOverflow,
        Trap::OutOfBoundsMemory,
        Trap::UndefinedElement,
        Trap::UninitializedElement,
        Trap::IndirectCallTypeMismatch,
        Trap::CallStackExhausted,
        Trap::MemoryLimit,
    ];

    /// The name used in the manifest (the WebAssembly spec's trap message).
    pub fn as_str(self) -> &'static str {
        match self {
            Trap::Unreachable => "unreachable",
            Trap::IntegerDivideByZero => "integer divide by zero",
            Trap::IntegerOverflow => "integer overflow",
            Trap::OutOfBoundsMemory => "out of bounds memory access",
            Trap::UndefinedElement => "undefined element",
            Trap::UninitializedElement => "uninitialized element",
            Trap::IndirectCallTypeMismatch => "indirect call type mismatch",
            Trap::CallStackExhausted => "call stack exhausted",
            Trap::MemoryLimit => "memory limit",
        }
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a program is expected to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpectedStatus {
    /// Returns from main or calls `exit` with this status.
    Exit(i32),
    /// Traps.
    Trap(Trap),
}

/// Source language, from the source file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    /// C (`.c`), compiled with clang against the tvm libc.
    C,
    /// WebAssembly text (`.wat`).
    Wat,
}

/// The shape of one `[[program]]` table, before validation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProgram {
    name: String,
    source: Option<PathBuf>,
    sources: Option<Vec<PathBuf>>,
    args: Option<String>,
    argv: Option<Vec<String>>,
    expected_output: PathBuf,
    exit: Option<i32>,
    trap: Option<Trap>,
    #[serde(default)]
    long: bool,
    stdin: Option<PathBuf>,
    description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    #[serde(default)]
    program: Vec<RawProgram>,
}

/// One catalog program (validated; see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    name: String,
    /// The sources, in order (never empty).
    sources: Vec<PathBuf>,
    /// The arguments after `argv[0]`.
    args: Vec<String>,
    /// `args` as written, or an `argv` list joined by spaces.
    args_text: String,
    expected_output: PathBuf,
    status: ExpectedStatus,
    long: bool,
    stdin: Option<PathBuf>,
    description: String,
    language: Language,
    /// The catalog directory; the sources and `expected_output` are below it.
    root: PathBuf,
}

impl Program {
    /// Unique name of the program.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The (first) source's path relative to the catalog directory.
    pub fn source(&self) -> &Path {
        &self.sources[0]
    }

    /// Every source's path relative to the catalog directory, in manifest
    /// order (one for a `source` entry).
    pub fn sources(&self) -> &[PathBuf] {
        &self.sources
    }

    /// Absolute (catalog-rooted) path of the (first) source file. A
    /// program with several sources needs all of them:
    /// [`Program::source_paths`].
    pub fn source_path(&self) -> PathBuf {
        self.root.join(self.source())
    }

    /// Absolute (catalog-rooted) paths of all the source files, in order:
    /// what is compiled and linked together to build the program.
    pub fn source_paths(&self) -> Vec<PathBuf> {
        self.sources.iter().map(|s| self.root.join(s)).collect()
    }

    /// The source language.
    pub fn language(&self) -> Language {
        self.language
    }

    /// `argv[0]`: the (first) source file's stem (e.g. `"fibonacci"`).
    pub fn program_name(&self) -> &str {
        // Validated at load: the stem exists and is valid UTF-8.
        self.source()
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or(&self.name)
    }

    /// The arguments as one string: `args` as written in the manifest, or
    /// an `argv` list joined by single spaces. Only for display: an
    /// argument holding whitespace does not survive splitting it again;
    /// [`Program::args`] is exact.
    pub fn args_str(&self) -> &str {
        &self.args_text
    }

    /// The arguments after `argv[0]`: `args` split on whitespace, or the
    /// `argv` list as it is.
    pub fn args(&self) -> Vec<&str> {
        self.args.iter().map(String::as_str).collect()
    }

    /// The whole argv: [`Program::program_name`] followed by [`Program::args`].
    pub fn argv(&self) -> Vec<&str> {
        let mut argv = vec![self.program_name()];
        argv.extend(self.args.iter().map(String::as_str));
        argv
    }

    /// Path of the expected-output file relative to the catalog directory.
    pub fn expected_output(&self) -> &Path {
        &self.expected_output
    }

    /// Absolute (catalog-rooted) path of the expected-output file.
    pub fn expected_output_path(&self) -> PathBuf {
        self.root.join(&self.expected_output)
    }

    /// How the program must end.
    pub fn expected_status(&self) -> ExpectedStatus {
        self.status
    }

    /// The expected exit status, or `None` for a program expected to trap.
    pub fn exit(&self) -> Option<i32> {
        match self.status {
            ExpectedStatus::Exit(status) => Some(status),
            ExpectedStatus::Trap(_) => None,
        }
    }

    /// The expected trap, if any.
    pub fn trap(&self) -> Option<Trap> {
        match self.status {
            ExpectedStatus::Trap(trap) => Some(trap),
            ExpectedStatus::Exit(_) => None,
        }
    }

    /// Whether the program runs long (tests may skip it in debug builds).
    pub fn is_long(&self) -> bool {
        self.long
    }

    /// The standard input's bytes (empty without a `stdin` file).
    pub fn read_stdin(&self) -> Result<Vec<u8>, ManifestError> {
        match &self.stdin {
            Some(path) => self.read(self.root.join(path)),
            None => Ok(Vec::new()),
        }
    }

    /// The catalog directory the program's paths are relative to.
    pub fn root_path(&self) -> &Path {
        &self.root
    }

    /// The standard-input file, relative to the catalog directory.
    pub fn stdin(&self) -> Option<&Path> {
        self.stdin.as_deref()
    }

    /// One-line description.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The source file's bytes.
    pub fn read_source(&self) -> Result<Vec<u8>, ManifestError> {
        self.read(self.source_path())
    }

    /// The exact bytes the program must write to its output.
    pub fn read_expected_output(&self) -> Result<Vec<u8>, ManifestError> {
        self.read(self.expected_output_path())
    }

    fn read(&self, path: PathBuf) -> Result<Vec<u8>, ManifestError> {
        fs::read(&path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                ManifestError::MissingFile {
                    name: self.name.clone(),
                    path,
                }
            } else {
                ManifestError::ReadFile {
                    name: self.name.clone(),
                    path,
                    source,
                }
            }
        })
    }
}

/// The whole catalog: programs in manifest order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    root: PathBuf,
    programs: Vec<Program>,
}

impl Manifest {
    /// The catalog shipped with this crate (`catalog/manifest.toml`).
    pub fn builtin() -> Result<Manifest, ManifestError> {
        Manifest::load(Path::new(env!("CARGO_MANIFEST_DIR")).join(MANIFEST_FILE))
    }

    /// The directory of the built-in catalog (holding `manifest.toml`).
    pub fn builtin_root() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    /// Loads and validates a manifest file; paths inside it are relative to
    /// the file's directory.
    pub fn load(path: impl AsRef<Path>) -> Result<Manifest, ManifestError> {
        let path = path.as_ref();
        let text = fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let root = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Manifest::parse_at(&text, &root, path)
    }

    /// Parses and validates manifest text whose paths are relative to
    /// `root`; every named file must exist below `root`.
    pub fn parse(text: &str, root: impl AsRef<Path>) -> Result<Manifest, ManifestError> {
        let root = root.as_ref();
        Manifest::parse_at(text, root, &root.join(MANIFEST_FILE))
    }

    fn parse_at(text: &str, root: &Path, path: &Path) -> Result<Manifest, ManifestError> {
        let raw: RawManifest = toml::from_str(text).map_err(|source| ManifestError::Parse {
            path: path.to_path_buf(),
            source: Box::new(source),
        })?;
        let mut programs: Vec<Program> = Vec::with_capacity(raw.program.len());
        for entry in raw.program {
            let program = validate(entry, root, path)?;
            if programs.iter().any(|p| p.name == program.name) {
                return Err(ManifestError::Duplicate {
                    path: path.to_path_buf(),
                    name: program.name,
                });
            }
            programs.push(program);
        }
        Ok(Manifest {
            root: root.to_path_buf(),
            programs,
        })
    }

    /// The catalog directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// All programs, in manifest order.
    pub fn programs(&self) -> &[Program] {
        &self.programs
    }

    /// Iterates over the programs in manifest order.
    pub fn iter(&self) -> std::slice::Iter<'_, Program> {
        self.programs.iter()
    }

    /// The program called `name`, if any.
    pub fn get(&self, name: &str) -> Option<&Program> {
        self.programs.iter().find(|p| p.name == name)
    }

    /// The program called `name`, or [`ManifestError::UnknownProgram`].
    pub fn program(&self, name: &str) -> Result<&Program, ManifestError> {
        self.get(name)
            .ok_or_else(|| ManifestError::UnknownProgram(name.to_string()))
    }

    /// Names of all programs, in manifest order.
    pub fn names(&self) -> Vec<&str> {
        self.programs.iter().map(|p| p.name.as_str()).collect()
    }
}

impl<'a> IntoIterator for &'a Manifest {
    type Item = &'a Program;
    type IntoIter = std::slice::Iter<'a, Program>;

    fn into_iter(self) -> Self::IntoIter {
        self.programs.iter()
    }
}

/// Checks one raw entry against the manifest rules.
fn validate(raw: RawProgram, root: &Path, path: &Path) -> Result<Program, ManifestError> {
    let invalid = |reason: String| ManifestError::Invalid {
        path: path.to_path_buf(),
        name: raw.name.clone(),
        reason,
    };
    if raw.name.is_empty()
        || !raw
            .name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    {
        return Err(invalid(
            "the name must be non-empty and use only a-z, 0-9, '_' and '-'".to_string(),
        ));
    }
    let (field, sources) = match (&raw.source, &raw.sources) {
        (Some(source), None) => ("source", vec![source.clone()]),
        (None, Some(sources)) => ("sources", sources.clone()),
        (None, None) => {
            return Err(invalid(
                "one of `source` (one file) or `sources` (a list) is required".to_string(),
            ));
        }
        (Some(_), Some(_)) => {
            return Err(invalid(
                "`source` and `sources` exclude each other: list every file in `sources`"
                    .to_string(),
            ));
        }
    };
    if sources.is_empty() {
        return Err(invalid("`sources` must list at least one file".to_string()));
    }
    for (field, file) in sources
        .iter()
        .map(|f| (field, f))
        .chain([("expected_output", &raw.expected_output)])
        .chain(raw.stdin.as_ref().map(|f| ("stdin", f)))
    {
        if !is_plain_relative(file) {
            return Err(invalid(format!(
                "`{field}` must be a relative path inside the catalog, got {}",
                file.display()
            )));
        }
    }
    for (i, file) in sources.iter().enumerate() {
        match language_of(file) {
            None => {
                return Err(invalid(format!(
                    "`{field}` must end in .c or .wat, got {}",
                    file.display()
                )));
            }
            Some(Language::Wat) if sources.len() > 1 => {
                return Err(invalid(format!(
                    "`sources` lists several files, so each must be C (.c) to be linked together, got {}",
                    file.display()
                )));
            }
            Some(_) => {}
        }
        if sources[..i].contains(file) {
            return Err(invalid(format!("`sources` lists {} twice", file.display())));
        }
    }
    // Checked just above for every source.
    let language = language_of(&sources[0]).unwrap_or(Language::C);
    if sources[0]
        .file_stem()
        .and_then(|s| s.to_str())
        .is_none_or(str::is_empty)
    {
        return Err(invalid(format!(
            "the {} file needs a UTF-8 stem (it is the program's name, argv[0])",
            if sources.len() > 1 {
                "first source"
            } else {
                "source"
            }
        )));
    }
    let (args, args_text) = match (raw.args, raw.argv) {
        (None, None) => (Vec::new(), String::new()),
        (Some(text), None) => (text.split_whitespace().map(str::to_owned).collect(), text),
        (None, Some(argv)) => {
            if let Some(i) = argv.iter().position(|a| a.contains('\0')) {
                return Err(invalid(format!(
                    "`argv` entry {i} holds a NUL byte, which a C string cannot"
                )));
            }
            let text = argv.join(" ");
            (argv, text)
        }
        (Some(_), Some(_)) => {
            return Err(invalid(
                "`args` and `argv` exclude each other: give the arguments either as one \
                 whitespace-split string or as a verbatim list"
                    .to_string(),
            ));
        }
    };
    let status = match (raw.exit, raw.trap) {
        (Some(status), None) => ExpectedStatus::Exit(status),
        (None, Some(trap)) => ExpectedStatus::Trap(trap),
        (None, None) => return Err(invalid("one of `exit` or `trap` is required".to_string())),
        (Some(_), Some(_)) => {
            return Err(invalid(
                "`exit` and `trap` exclude each other: a trapping program has no exit status"
                    .to_string(),
            ));
        }
    };
    for file in &sources {
        let source = root.join(file);
        if !source.is_file() {
            return Err(ManifestError::MissingFile {
                name: raw.name.clone(),
                path: source,
            });
        }
    }
    Ok(Program {
        name: raw.name,
        sources,
        args,
        args_text,
        expected_output: raw.expected_output,
        status,
        long: raw.long,
        stdin: raw.stdin,
        description: raw.description,
        language,
        root: root.to_path_buf(),
    })
}

/// The language a source's extension names, if any.
fn language_of(file: &Path) -> Option<Language> {
    match file.extension().and_then(|e| e.to_str()) {
        Some("c") => Some(Language::C),
        Some("wat") => Some(Language::Wat),
        _ => None,
    }
}

/// A relative path made only of normal components (no `..`, no root).
fn is_plain_relative(path: &Path) -> bool {
    !path.as_os_str().is_empty() && path.components().all(|c| matches!(c, Component::Normal(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch catalog directory with a source and an expected file.
    fn scratch() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("programs")).unwrap();
        fs::create_dir_all(dir.path().join("expected")).unwrap();
        fs::write(
            dir.path().join("programs/demo.c"),
            "int main(void){return 0;}",
        )
        .unwrap();
        fs::write(dir.path().join("programs/t.wat"), "(module)").unwrap();
        fs::write(dir.path().join("expected/demo.out"), "hi\n").unwrap();
        dir
    }

    const DEMO: &str = r#"
[[program]]
name = "demo"
source = "programs/demo.c"
args = "  1 two   3 "
expected_output = "expected/demo.out"
exit = 4
description = "a demo"

[[program]]
name = "t"
source = "programs/t.wat"
expected_output = "expected/demo.out"
trap = "integer divide by zero"
long = true
description = "traps"
"#;

    #[test]
    fn parses_and_exposes_programs() {
        let dir = scratch();
        let manifest = Manifest::parse(DEMO, dir.path()).unwrap();
        assert_eq!(manifest.names(), ["demo", "t"]);
        let demo = manifest.program("demo").unwrap();
        assert_eq!(demo.args(), ["1", "two", "3"]);
        assert_eq!(demo.argv(), ["demo", "1", "two", "3"]);
        assert_eq!(demo.program_name(), "demo");
        assert_eq!(demo.language(), Language::C);
        assert_eq!(demo.expected_status(), ExpectedStatus::Exit(4));
        assert_eq!(demo.exit(), Some(4));
        assert!(!demo.is_long());
        assert_eq!(demo.read_expected_output().unwrap(), b"hi\n");
        assert_eq!(demo.read_source().unwrap(), b"int main(void){return 0;}");
        let t = manifest.get("t").unwrap();
        assert_eq!(t.trap(), Some(Trap::IntegerDivideByZero));
        assert_eq!(t.exit(), None);
        assert_eq!(t.language(), Language::Wat);
        assert!(t.args().is_empty());
        assert!(t.is_long());
        assert!(matches!(
            manifest.program("nope"),
            Err(ManifestError::UnknownProgram(name)) if name == "nope"
        ));
    }

    #[test]
    fn load_resolves_paths_next_to_the_manifest() {
        let dir = scratch();
        fs::write(dir.path().join(MANIFEST_FILE), DEMO).unwrap();
        let manifest = Manifest::load(dir.path().join(MANIFEST_FILE)).unwrap();
        assert_eq!(manifest.root(), dir.path());
        assert_eq!(
            manifest.program("demo").unwrap().source_path(),
            dir.path().join("programs/demo.c")
        );
    }

    fn error_for(entry: &str) -> ManifestError {
        let dir = scratch();
        Manifest::parse(entry, dir.path()).unwrap_err()
    }

    #[test]
    fn rejects_bad_entries() {
        let base = |extra: &str, name: &str, source: &str| {
            format!(
                "[[program]]\nname = \"{name}\"\nsource = \"{source}\"\n\
                 expected_output = \"expected/demo.out\"\ndescription = \"d\"\n{extra}\n"
            )
        };
        assert!(matches!(
            error_for(&base("", "demo", "programs/demo.c")),
            ManifestError::Invalid { reason, .. } if reason.contains("one of `exit` or `trap`")
        ));
        assert!(matches!(
            error_for(&base("exit = 0\ntrap = \"unreachable\"", "demo", "programs/demo.c")),
            ManifestError::Invalid { reason, .. } if reason.contains("exclude")
        ));
        assert!(matches!(
            error_for(&base("exit = 0", "Bad Name", "programs/demo.c")),
            ManifestError::Invalid { .. }
        ));
        assert!(matches!(
            error_for(&base("exit = 0", "demo", "../demo.c")),
            ManifestError::Invalid { reason, .. } if reason.contains("relative path")
        ));
        assert!(matches!(
            error_for(&base("exit = 0", "demo", "/etc/passwd")),
            ManifestError::Invalid { .. }
        ));
        assert!(matches!(
            error_for(&base("exit = 0", "demo", "programs/demo.rs")),
            ManifestError::Invalid { reason, .. } if reason.contains(".c or .wat")
        ));
        assert!(matches!(
            error_for(&base("exit = 0", "demo", "programs/missing.c")),
            ManifestError::MissingFile { .. }
        ));
        assert!(matches!(
            error_for(&base(
                "exit = 0\ncolour = \"red\"",
                "demo",
                "programs/demo.c"
            )),
            ManifestError::Parse { .. }
        ));
        assert!(matches!(
            error_for(&base("trap = \"segfault\"", "demo", "programs/demo.c")),
            ManifestError::Parse { .. }
        ));
        let twice = format!(
            "{}{}",
            base("exit = 0", "demo", "programs/demo.c"),
            base("exit = 1", "demo", "programs/t.wat")
        );
        assert!(matches!(
            error_for(&twice),
            ManifestError::Duplicate { name, .. } if name == "demo"
        ));
    }

    #[test]
    fn several_sources_and_verbatim_argv() {
        let dir = scratch();
        fs::write(dir.path().join("programs/util.c"), "int f(void){return 1;}").unwrap();
        let text = r#"
[[program]]
name = "multi"
sources = ["programs/demo.c", "programs/util.c"]
argv = ["alice", "bob smith", ""]
stdin = "inputs/multi.txt"
expected_output = "expected/demo.out"
exit = 0
description = "two files"

[[program]]
name = "one"
sources = ["programs/t.wat"]
expected_output = "expected/demo.out"
exit = 0
description = "a one-element list"
"#;
        let manifest = Manifest::parse(text, dir.path()).unwrap();
        let multi = manifest.program("multi").unwrap();
        assert_eq!(
            multi.sources(),
            [
                PathBuf::from("programs/demo.c"),
                PathBuf::from("programs/util.c")
            ]
        );
        assert_eq!(multi.source(), Path::new("programs/demo.c"));
        assert_eq!(multi.source_path(), dir.path().join("programs/demo.c"));
        assert_eq!(
            multi.source_paths(),
            [
                dir.path().join("programs/demo.c"),
                dir.path().join("programs/util.c")
            ]
        );
        assert_eq!(multi.program_name(), "demo");
        assert_eq!(multi.language(), Language::C);
        assert_eq!(multi.args(), ["alice", "bob smith", ""]);
        assert_eq!(multi.argv(), ["demo", "alice", "bob smith", ""]);
        assert_eq!(multi.args_str(), "alice bob smith ");
        assert_eq!(multi.stdin(), Some(Path::new("inputs/multi.txt")));
        // The stdin file, like the expected output, is needed when read.
        assert!(matches!(
            multi.read_stdin(),
            Err(ManifestError::MissingFile { .. })
        ));
        let one = manifest.program("one").unwrap();
        assert_eq!(one.language(), Language::Wat);
        assert_eq!(one.source_paths(), [dir.path().join("programs/t.wat")]);
        assert!(one.args().is_empty());
        assert_eq!(one.args_str(), "");
        // A `source` entry has that one file in its list.
        let single = Manifest::parse(DEMO, dir.path()).unwrap();
        let demo = single.program("demo").unwrap();
        assert_eq!(demo.sources(), [PathBuf::from("programs/demo.c")]);
        assert_eq!(demo.source_paths(), [demo.source_path()]);
        assert_eq!(demo.args_str(), "  1 two   3 ");
    }

    #[test]
    fn rejects_bad_sources_and_argv() {
        let entry = |fields: &str| {
            format!(
                "[[program]]\nname = \"demo\"\nexpected_output = \"expected/demo.out\"\n\
                 description = \"d\"\nexit = 0\n{fields}\n"
            )
        };
        let invalid = |fields: &str, needle: &str| match error_for(&entry(fields)) {
            ManifestError::Invalid { reason, .. } => {
                assert!(reason.contains(needle), "{fields}: {reason}")
            }
            other => panic!("{fields}: {other:?}"),
        };
        invalid("", "one of `source` (one file) or `sources`");
        invalid(
            "source = \"programs/demo.c\"\nsources = [\"programs/demo.c\"]",
            "exclude each other",
        );
        invalid("sources = []", "at least one file");
        invalid(
            "sources = [\"programs/demo.c\", \"programs/t.wat\"]",
            "each must be C",
        );
        invalid(
            "sources = [\"programs/demo.c\", \"programs/demo.c\"]",
            "twice",
        );
        invalid(
            "sources = [\"programs/demo.c\", \"../x.c\"]",
            "`sources` must be a relative path",
        );
        invalid(
            "sources = [\"programs/demo.c\", \"programs/x.h\"]",
            "`sources` must end in .c or .wat",
        );
        invalid(
            "source = \"programs/demo.c\"\nargs = \"a\"\nargv = [\"a\"]",
            "`args` and `argv` exclude each other",
        );
        invalid(
            "source = \"programs/demo.c\"\nargv = [\"a\", \"b\\u0000c\"]",
            "NUL",
        );
        invalid(
            "source = \"programs/demo.c\"\nstdin = \"/etc/passwd\"",
            "`stdin` must be a relative path",
        );
        assert!(matches!(
            error_for(&entry("sources = [\"programs/demo.c\", \"programs/gone.c\"]")),
            ManifestError::MissingFile { path, .. } if path.ends_with("programs/gone.c")
        ));
        assert!(matches!(
            error_for(&entry("source = \"programs/demo.c\"\nargv = \"a b\"")),
            ManifestError::Parse { .. }
        ));
        assert!(matches!(
            error_for(&entry("sources = \"programs/demo.c\"")),
            ManifestError::Parse { .. }
        ));
    }

    #[test]
    fn missing_manifest_is_a_read_error() {
        let dir = scratch();
        assert!(matches!(
            Manifest::load(dir.path().join("absent.toml")),
            Err(ManifestError::Read { .. })
        ));
    }

    #[test]
    fn trap_names_round_trip() {
        for trap in Trap::ALL {
            let text = format!(
                "[[program]]\nname = \"x\"\nsource = \"programs/demo.c\"\n\
                 expected_output = \"expected/demo.out\"\ndescription = \"d\"\ntrap = \"{trap}\"\n"
            );
            let dir = scratch();
            let manifest = Manifest::parse(&text, dir.path()).unwrap();
            assert_eq!(manifest.programs()[0].trap(), Some(trap));
        }
    }

    #[test]
    fn deleted_expected_file_is_reported_when_read() {
        let dir = scratch();
        let manifest = Manifest::parse(DEMO, dir.path()).unwrap();
        fs::remove_file(dir.path().join("expected/demo.out")).unwrap();
        assert!(matches!(
            manifest.program("demo").unwrap().read_expected_output(),
            Err(ManifestError::MissingFile { .. })
        ));
    }
}
