//! A program the user names, built and given its input.
//!
//! A *spec* is what a user types as PROGRAM: one or more `.c` files
//! (compiled and linked together), one `.wat`, `.wasm` or `.tok` file, or
//! the name of a built-in catalog program (which brings its manifest's
//! arguments and stdin unless others are given).

use std::path::{Path, PathBuf};

use tvm_frontend::compile::BuildOptions;
use tvm_frontend::invoke::ValueKind;
use tvm_frontend::program::{Input, Program, TokenFile};

use crate::Error;

/// The program's standard input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stdin {
    /// The bytes of a file.
    File(PathBuf),
    /// These bytes.
    Bytes(Vec<u8>),
}

/// How a program is built and what it reads besides `--args`-style
/// arguments.
#[derive(Clone, Debug, Default)]
pub struct SourceOptions {
    /// Include directories, macros and raw flags for clang.
    pub build: BuildOptions,
    /// The program's standard input.
    pub stdin: Option<Stdin>,
    /// Arguments for `main`, verbatim (each one `argv` entry); when
    /// non-empty they replace any whitespace-split argument string.
    pub argv: Vec<String>,
}

impl SourceOptions {
    /// The input of program `name`: [`SourceOptions::argv`] verbatim, else
    /// `args` split on whitespace; then the stdin, which must fit
    /// `program`'s memory.
    pub fn input(&self, name: &str, args: Option<&str>, program: &Program) -> Result<Input, Error> {
        let input = if !self.argv.is_empty() {
            if args.is_some_and(|a| !a.trim().is_empty()) {
                return Err(Error::Request(
                    "give the program's arguments either with --args or after `--`, not both"
                        .to_owned(),
                ));
            }
            let argv: Vec<&str> = self.argv.iter().map(String::as_str).collect();
            Input::from_args(name, &argv)?
        } else {
            Input::from_arg_string(name, args.unwrap_or(""))?
        };
        let bytes = match &self.stdin {
            None => return Ok(input),
            Some(Stdin::Bytes(bytes)) => bytes.clone(),
            Some(Stdin::File(path)) => std::fs::read(path).map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?,
        };
        let input = input.with_stdin(bytes);
        let data_end = program
            .data
            .iter()
            .map(|s| s.base + s.bytes.len() as u32)
            .max()
            .unwrap_or(0);
        input.check_fits(program.memory_size, data_end)?;
        Ok(input)
    }
}

/// A program ready to run, with its input.
pub struct Loaded {
    /// Its name (`argv[0]`).
    pub name: String,
    /// The lowered program.
    pub program: Program,
    /// Its input image.
    pub input: Input,
}

/// What a run calls instead of `main`.
pub struct Invoked {
    /// The export called.
    pub export: String,
    /// Its result types, in order.
    pub results: Vec<ValueKind>,
}

/// What a spec names.
enum Resolved {
    /// Source files.
    Files(Vec<PathBuf>),
    /// A catalog program: its sources (all of them, in build order), its
    /// manifest arguments (verbatim, one per argv entry) and stdin file.
    Catalog(Vec<PathBuf>, Vec<String>, Option<PathBuf>),
}

impl Resolved {
    fn paths(&self) -> &[PathBuf] {
        match self {
            Resolved::Files(p) => p,
            Resolved::Catalog(p, _, _) => p,
        }
    }
}

fn resolve(specs: &[String]) -> Result<Resolved, Error> {
    match specs {
        [] => Err(Error::Request("no PROGRAM given".to_owned())),
        [spec] if !Path::new(spec).exists() => {
            let manifest = tvm_catalog::Manifest::builtin().map_err(Error::Catalog)?;
            match manifest.get(spec) {
                Some(entry) => Ok(Resolved::Catalog(
                    entry.source_paths(),
                    entry.args().into_iter().map(str::to_owned).collect(),
                    entry.stdin().map(|p| entry.root_path().join(p)),
                )),
                None => Err(Error::Request(format!(
                    "{spec}: no such file, and no catalog program of that name (`tvm catalog` lists them)"
                ))),
            }
        }
        specs => {
            if let Some(spec) = specs.iter().find(|s| !Path::new(s).exists()) {
                return Err(Error::Request(format!("{spec}: no such file")));
            }
            Ok(Resolved::Files(specs.iter().map(PathBuf::from).collect()))
        }
    }
}

/// Loads `specs` with `args` (a whitespace-split argument string; `None`:
/// a catalog program's manifest arguments, or none) and `options`.
pub fn load(
    specs: &[String],
    args: Option<&str>,
    options: &SourceOptions,
) -> Result<Loaded, Error> {
    let resolved = resolve(specs)?;
    if let Resolved::Catalog(paths, manifest_args, stdin) = &resolved {
        // A catalog program runs with its manifest's arguments (verbatim:
        // one may hold spaces) and stdin unless the caller gives others.
        let mut options = options.clone();
        if options.stdin.is_none() {
            options.stdin = stdin.clone().map(Stdin::File);
        }
        if args.is_none() && options.argv.is_empty() {
            options.argv = manifest_args.clone();
        }
        return load_paths(paths, args, &options);
    }
    load_paths(resolved.paths(), args, options)
}

/// Loads `specs` as [`load`] does, or (with `invoke`: `EXPORT ARG…`) as
/// a program that calls that export with those arguments (typed by its
/// signature: `i32:5`, `i64:-3`, or a plain integer) and writes its
/// results to the output.
pub fn load_target(
    specs: &[String],
    args: Option<&str>,
    invoke: Option<&[String]>,
    options: &SourceOptions,
) -> Result<(Loaded, Option<Invoked>), Error> {
    let Some(invoke) = invoke else {
        return Ok((load(specs, args, options)?, None));
    };
    let Some((export, values)) = invoke.split_first() else {
        return Err(Error::Request(
            "--invoke needs the export's name".to_owned(),
        ));
    };
    let (name, wasm) = wasm_of(specs, options)?;
    let call = tvm_catalog::wast::invoke_args(&wasm, export, values)
        .map_err(|e| Error::Request(format!("--invoke {export}: {e}")))?;
    let invocation =
        tvm_frontend::invoke::lower_invokes(&wasm, &[call]).map_err(|source| Error::Build {
            what: format!("{} to call {export}", specs.join(" ")),
            source: source.into(),
        })?;
    let results = invocation.results.into_iter().next().unwrap_or_default();
    Ok((
        Loaded {
            name,
            program: invocation.program,
            input: Input::default(),
        },
        Some(Invoked {
            export: export.clone(),
            results,
        }),
    ))
}

/// The wasm of `specs` (source files or a catalog name; not a token file,
/// which has no exports), and its name.
fn wasm_of(specs: &[String], options: &SourceOptions) -> Result<(String, Vec<u8>), Error> {
    let resolved = resolve(specs)?;
    let paths = resolved.paths();
    if paths
        .iter()
        .any(|p| p.extension().is_some_and(|e| e == "tok"))
    {
        return Err(Error::Request(format!(
            "{}: a token file keeps no exports; --invoke needs the .c, .wat or .wasm source",
            specs.join(" ")
        )));
    }
    let wasm = tvm_frontend::compile::compile_sources(paths, &options.build).map_err(|source| {
        Error::Build {
            what: specs.join(" "),
            source: source.into(),
        }
    })?;
    Ok((program_name(&paths[0]), wasm))
}

/// A program's name (`argv[0]`): its first file's stem.
pub fn program_name(path: &Path) -> String {
    path.file_stem().map_or_else(
        || "program".to_owned(),
        |s| s.to_string_lossy().into_owned(),
    )
}

fn load_paths(
    paths: &[PathBuf],
    args: Option<&str>,
    options: &SourceOptions,
) -> Result<Loaded, Error> {
    let path = &paths[0];
    let name = program_name(path);
    if path.extension().is_some_and(|e| e == "tok") {
        if paths.len() > 1 {
            return Err(Error::Request(format!(
                "{}: a token file must be the only PROGRAM",
                path.display()
            )));
        }
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        let file = TokenFile::parse(&text).map_err(|source| Error::Build {
            what: format!("the token file {}", path.display()),
            source: source.into(),
        })?;
        let input = match (args, options.argv.is_empty() && options.stdin.is_none()) {
            (None, true) => file.input,
            _ => options.input(&name, args, &file.program)?,
        };
        return Ok(Loaded {
            name,
            program: file.program,
            input,
        });
    }
    let shown = paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" ");
    let building = |source: tvm_frontend::BuildError| Error::Build {
        what: shown.clone(),
        source,
    };
    let wasm = tvm_frontend::compile::compile_sources(paths, &options.build)
        .map_err(|e| building(e.into()))?;
    let program = tvm_frontend::lower_wasm(&wasm).map_err(|e| building(e.into()))?;
    let input = options.input(&name, args, &program)?;
    Ok(Loaded {
        name,
        program,
        input,
    })
}
