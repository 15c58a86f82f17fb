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
    spec: &str,
    args: Option<&str>,
    invoke: Option<&[String]>,
) -> anyhow::Result<(Loaded, Option<Invoked>)> {
    let Some(invoke) = invoke else {
        return Ok((load(spec, args)?, None));
    };
    let Some((export, values)) = invoke.split_first() else {
        bail!("--invoke needs the export's name");
    };
    let (name, wasm) = wasm_of(spec)?;
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

/// The wasm of `spec` (a source file or catalog name; not a token file,
/// which has no exports), and its name.
fn wasm_of(spec: &str) -> anyhow::Result<(String, Vec<u8>)> {
    let path = Path::new(spec);
    let path = if path.exists() {
        path.to_owned()
    } else {
        let manifest = tvm_catalog::Manifest::builtin().context("reading the built-in catalog")?;
        match manifest.get(spec) {
            Some(entry) => entry.source_path(),
            None => bail!(
                "{spec}: no such file, and no catalog program of that name (`tvm catalog` lists them)"
            ),
        }
    };
    if path.extension().is_some_and(|e| e == "tok") {
        bail!(
            "{}: a token file keeps no exports; --invoke needs the .c, .wat or .wasm source",
            path.display()
        );
    }
    let wasm = tvm_engine::frontend::compile_file(&path)
        .map_err(tvm_engine::BuildError::from)
        .with_context(|| format!("building {}", path.display()))?;
    Ok((program_name(&path), wasm))
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
