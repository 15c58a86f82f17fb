//! Resolving a PROGRAM argument: a source file, a token file, or a catalog
//! program name.

use anyhow::{Context as _, bail};
use std::fmt::Write as _;
use std::path::Path;
use tvm_engine::program::{Input, Program, TokenFile};

/// A program ready to run, with its input.
pub struct Loaded {
    /// Its name (`argv[0]`).
    pub name: String,
    /// The lowered program.
    pub program: Program,
    /// Its input image.
    pub input: Input,
}

/// Loads `spec` (a path or a catalog name) with `args` (None: a catalog
/// program's manifest arguments, or none).
pub fn load(spec: &str, args: Option<&str>) -> anyhow::Result<Loaded> {
    let path = Path::new(spec);
    if path.exists() {
        return load_path(path, args);
    }
    let manifest = tvm_catalog::Manifest::builtin().context("reading the built-in catalog")?;
    match manifest.get(spec) {
        Some(entry) => {
            let args = args.unwrap_or(entry.args_str()).to_owned();
            load_path(&entry.source_path(), Some(&args))
        }
        None => bail!(
            "{spec}: no such file, and no catalog program of that name (`tvm catalog` lists them)"
        ),
    }
}

fn program_name(path: &Path) -> String {
    path.file_stem().map_or_else(
        || "program".to_owned(),
        |s| s.to_string_lossy().into_owned(),
    )
}

fn load_path(path: &Path, args: Option<&str>) -> anyhow::Result<Loaded> {
    let name = program_name(path);
    if path.extension().is_some_and(|e| e == "tok") {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let file = TokenFile::parse(&text)
            .map_err(tvm_engine::BuildError::from)
            .with_context(|| format!("reading the token file {}", path.display()))?;
        let input = match args {
            Some(args) => Input::from_arg_string(&name, args)?,
            None => file.input,
        };
        return Ok(Loaded {
            name,
            program: file.program,
            input,
        });
    }
    let program =
        tvm_engine::build_file(path).with_context(|| format!("building {}", path.display()))?;
    let input = Input::from_arg_string(&name, args.unwrap_or(""))?;
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
