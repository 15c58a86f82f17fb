//! Resolving a PROGRAM argument: a source file, a token file, or a catalog
//! program name.

use anyhow::{Context as _, bail};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use tvm_engine::frontend::BuildOptions;
use tvm_engine::program::{Input, Program, TokenFile};

/// How a program is built and what it reads: flags shared by every
/// subcommand that takes a PROGRAM.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct SourceFlags {
    /// Add DIR to the C include path (each source's own directory is
    /// always on it).
    #[arg(short = 'I', long = "include", value_name = "DIR")]
    pub include: Vec<PathBuf>,
    /// Define a C macro: NAME or NAME=VALUE.
    #[arg(short = 'D', long = "define", value_name = "NAME[=VALUE]")]
    pub define: Vec<String>,
    /// Pass ARG to clang as it is (repeatable).
    #[arg(long = "cflag", value_name = "ARG", allow_hyphen_values = true)]
    pub cflag: Vec<String>,
    /// Standard input for the program: a file, or `-` for tvm's own
    /// standard input (read by getchar, fgets, fread, scanf).
    #[arg(long, value_name = "FILE")]
    pub stdin: Option<PathBuf>,
    /// Arguments for main, verbatim (no splitting): everything after `--`.
    #[arg(last = true, value_name = "ARG")]
    pub argv: Vec<String>,
}

impl SourceFlags {
    fn build_options(&self) -> BuildOptions {
        BuildOptions {
            include: self.include.clone(),
            define: self.define.clone(),
            cflags: self.cflag.clone(),
        }
    }

    /// The input of program `name`: `--` arguments verbatim, else `args`
    /// split on whitespace; then `--stdin`, which must fit `program`'s
    /// memory.
    pub fn input(
        &self,
        name: &str,
        args: Option<&str>,
        program: &Program,
    ) -> anyhow::Result<Input> {
        let input = if !self.argv.is_empty() {
            if args.is_some_and(|a| !a.trim().is_empty()) && !self.argv.is_empty() {
                bail!("give the program's arguments either with --args or after `--`, not both");
            }
            let argv: Vec<&str> = self.argv.iter().map(String::as_str).collect();
            Input::from_args(name, &argv)?
        } else {
            Input::from_arg_string(name, args.unwrap_or(""))?
        };
        let Some(path) = &self.stdin else {
            return Ok(input);
        };
        let bytes = if path.as_os_str() == "-" {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes)
                .context("reading standard input for --stdin -")?;
            bytes
        } else {
            std::fs::read(path).with_context(|| format!("reading --stdin {}", path.display()))?
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

/// Loads `specs` (source paths, or one catalog name) with `args` (None: a
/// catalog program's manifest arguments, or none) and `flags`.
pub fn load(specs: &[String], args: Option<&str>, flags: &SourceFlags) -> anyhow::Result<Loaded> {
    let paths = resolve(specs)?;
    if let Resolved::Catalog(path, manifest_args, stdin) = &paths {
        // A catalog program runs with its manifest's arguments and stdin
        // unless the command line gives others.
        let mut flags = flags.clone();
        if flags.stdin.is_none() {
            flags.stdin.clone_from(stdin);
        }
        let args = match args {
            None if flags.argv.is_empty() => Some(manifest_args.as_str()),
            args => args,
        };
        return load_paths(std::slice::from_ref(path), args, &flags);
    }
    load_paths(paths.paths(), args, flags)
}

/// What PROGRAM names.
enum Resolved {
    /// Source files.
    Files(Vec<PathBuf>),
    /// A catalog program: its source, manifest arguments and stdin file.
    Catalog(PathBuf, String, Option<PathBuf>),
}

impl Resolved {
    fn paths(&self) -> &[PathBuf] {
        match self {
            Resolved::Files(p) => p,
            Resolved::Catalog(p, _, _) => std::slice::from_ref(p),
        }
    }
}

fn resolve(specs: &[String]) -> anyhow::Result<Resolved> {
    match specs {
        [] => bail!("no PROGRAM given"),
        [spec] if !Path::new(spec).exists() => {
            let manifest =
                tvm_catalog::Manifest::builtin().context("reading the built-in catalog")?;
            match manifest.get(spec) {
                Some(entry) => Ok(Resolved::Catalog(
                    entry.source_path(),
                    entry.args_str().to_owned(),
                    entry.stdin().map(|p| entry.root_path().join(p)),
                )),
                None => bail!(
                    "{spec}: no such file, and no catalog program of that name (`tvm catalog` lists them)"
                ),
            }
        }
        specs => {
            for spec in specs {
                if !Path::new(spec).exists() {
                    bail!("{spec}: no such file");
                }
            }
            Ok(Resolved::Files(specs.iter().map(PathBuf::from).collect()))
        }
    }
}

/// What a run calls instead of `main`: `--invoke EXPORT ARG…`.
pub struct Invoked {
    /// The export called.
    pub export: String,
    /// Its result types, in order.
    pub results: Vec<tvm_engine::invoke::ValueKind>,
}

/// Loads `spec` as [`load`] does, or — with `invoke` (`EXPORT ARG…`) — as
/// a program that calls that export with those arguments (typed by its
/// signature: `i32:5`, `i64:-3`, or a plain integer) and writes its
/// results to the output.
pub fn load_target(
    specs: &[String],
    args: Option<&str>,
    invoke: Option<&[String]>,
    flags: &SourceFlags,
) -> anyhow::Result<(Loaded, Option<Invoked>)> {
    let Some(invoke) = invoke else {
        return Ok((load(specs, args, flags)?, None));
    };
    let Some((export, values)) = invoke.split_first() else {
        bail!("--invoke needs the export's name");
    };
    let spec = specs.join(" ");
    let (name, wasm) = wasm_of(specs, flags)?;
    let call = tvm_catalog::wast::invoke_args(&wasm, export, values)
        .map_err(|e| anyhow::anyhow!("--invoke {export}: {e}"))?;
    let invocation = tvm_engine::invoke::lower_invokes(&wasm, &[call])
        .map_err(tvm_engine::BuildError::from)
        .with_context(|| format!("building {spec} to call {export}"))?;
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
fn wasm_of(specs: &[String], flags: &SourceFlags) -> anyhow::Result<(String, Vec<u8>)> {
    let resolved = resolve(specs)?;
    let paths = resolved.paths();
    if paths
        .iter()
        .any(|p| p.extension().is_some_and(|e| e == "tok"))
    {
        bail!(
            "{}: a token file keeps no exports; --invoke needs the .c, .wat or .wasm source",
            specs.join(" ")
        );
    }
    let wasm = tvm_engine::frontend::compile_sources(paths, &flags.build_options())
        .map_err(tvm_engine::BuildError::from)
        .with_context(|| format!("building {}", specs.join(" ")))?;
    Ok((program_name(&paths[0]), wasm))
}

fn program_name(path: &Path) -> String {
    path.file_stem().map_or_else(
        || "program".to_owned(),
        |s| s.to_string_lossy().into_owned(),
    )
}

fn load_paths(
    paths: &[PathBuf],
    args: Option<&str>,
    flags: &SourceFlags,
) -> anyhow::Result<Loaded> {
    let path = &paths[0];
    let name = program_name(path);
    if path.extension().is_some_and(|e| e == "tok") {
        if paths.len() > 1 {
            bail!("{}: a token file must be the only PROGRAM", path.display());
        }
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let file = TokenFile::parse(&text)
            .map_err(tvm_engine::BuildError::from)
            .with_context(|| format!("reading the token file {}", path.display()))?;
        let input = match (args, flags.argv.is_empty() && flags.stdin.is_none()) {
            (None, true) => file.input,
            _ => flags.input(&name, args, &file.program)?,
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
    let wasm = tvm_engine::frontend::compile_sources(paths, &flags.build_options())
        .map_err(tvm_engine::BuildError::from)
        .with_context(|| format!("building {shown}"))?;
    let program = tvm_engine::lower_wasm(&wasm)
        .map_err(tvm_engine::BuildError::from)
        .with_context(|| format!("building {shown}"))?;
    let input = flags.input(&name, args, &program)?;
    Ok(Loaded {
        name,
        program,
        input,
    })
}

/// A human-readable listing: one instruction per line with its pc, and a
/// header per function.
pub fn listing(program: &Program) -> String {
    let mut out = String::new();
    let mut functions = program.functions.iter().peekable();
    for (pc, instr) in program.instrs.iter().enumerate() {
        if let Some(f) = functions.next_if(|f| f.entry as usize == pc) {
            let _ = writeln!(out, "{}:", f.name);
        }
        let _ = writeln!(out, "  {pc:>6}  {instr}");
    }
    out
}
