//! `tvm` as a library: what the `tvm` binary does between its flags and its
//! printing, for a Rust program that embeds tvm.
//!
//! - [`source`]: a program the user names (source files, a token file or a
//!   catalog name) built and given its input (arguments, stdin);
//! - [`cache`]: model files read and checked against the graph they must
//!   compute, and the universal model built once and cached;
//! - [`prepare`]: a program and its input resolved against a model (a
//!   universal one, or one specialised to a program) into the tokens a run
//!   starts from;
//! - [`execute`]: a transformer engine run over those tokens;
//! - [`error`]: what can go wrong, typed.
//!
//! The crates underneath do the work: `tvm-frontend` (C, WAT, wasm to the
//! machine's program), `tvm-engine` (the machines), `tvm-weights` (models),
//! `tvm-verify` (proofs). The binary (`src/main.rs`) parses flags, calls
//! this API and reports.
//!
//! ```no_run
//! use tvm::{cache, execute, prepare, source::SourceOptions};
//! use tvm_engine::transformer::TransformerRun;
//!
//! # fn main() -> Result<(), tvm::Error> {
//! // The universal model: read from the cache, or built (~10 s) and cached.
//! let model = cache::load_or_build(None, &mut |notice| eprintln!("{notice}"))?;
//! // A catalog program with its manifest's arguments.
//! let prepared = prepare::prepare(&model, &["fibonacci".to_owned()], None, None, &SourceOptions::default())?;
//! let outcome = execute::run_engine::<f64>(&model, &prepared.prefix, 1_000_000, |_| {})?;
//! let run: TransformerRun = outcome.run.expect("the run ends within its fuel");
//! println!("{} steps", run.steps);
//! # Ok(())
//! # }
//! ```

pub mod cache;
pub mod error;
pub mod execute;
pub mod prepare;
pub mod source;

pub use error::Error;
