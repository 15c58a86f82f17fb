//! The flags that say how a PROGRAM is built and what it reads (resolved
//! by `tvm::source`), and the listing `tvm compile --list` prints.

use anyhow::Context as _;
use std::fmt::Write as _;
use std::path::PathBuf;
use tvm::source::{SourceOptions, Stdin};
use tvm_frontend::compile::BuildOptions;
use tvm_frontend::program::Program;

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
    /// The library's options for these flags (`--stdin -` reads tvm's own
    /// standard input here, once).
    pub fn options(&self) -> anyhow::Result<SourceOptions> {
        let stdin = match &self.stdin {
            None => None,
            Some(path) if path.as_os_str() == "-" => {
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes)
                    .context("reading standard input for --stdin -")?;
                Some(Stdin::Bytes(bytes))
            }
            Some(path) => Some(Stdin::File(path.clone())),
        };
        Ok(SourceOptions {
            build: BuildOptions {
                include: self.include.clone(),
                define: self.define.clone(),
                cflags: self.cflag.clone(),
                // The libc compiles once, into tvm's cache.
                libc_cache: Some(tvm::cache::libc_cache_dir()),
            },
            stdin,
            argv: self.argv.clone(),
        })
    }
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
