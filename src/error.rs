//! What the library API can fail with. Each variant's message is the
//! context (what was being done); the cause is its [`std::error::Error::source`],
//! so `anyhow`'s `{:#}` prints the whole chain.

use std::path::PathBuf;

/// Any failure of the library API.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request cannot be done as given; the message says what to do
    /// instead (which program, which flags).
    #[error("{0}")]
    Request(String),
    /// A file could not be read.
    #[error("reading {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A program could not be built (compiled, decoded, lowered) or its
    /// token file parsed.
    #[error("building {what}")]
    Build {
        /// The program, as the user named it.
        what: String,
        /// Why.
        #[source]
        source: tvm_frontend::BuildError,
    },
    /// The program's arguments do not fit the machine's input area.
    #[error(transparent)]
    Arguments(#[from] tvm_frontend::program::InputTooLarge),
    /// The program's stdin does not fit its memory.
    #[error(transparent)]
    Stdin(#[from] tvm_frontend::program::StdinTooLarge),
    /// The built-in catalog could not be read.
    #[error("reading the built-in catalog")]
    Catalog(#[source] tvm_catalog::ManifestError),
    /// A model file could not be read.
    #[error("reading the model {}", path.display())]
    ModelFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: tvm_weights::model_file::ModelFileError,
    },
    /// A model file was read but its model could not be loaded, or the
    /// graph it must compute could not be rebuilt.
    #[error("loading the model {}", path.display())]
    Model {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<Error>,
    },
    /// A model's weights were built for another graph.
    #[error(
        "{}: the weights were built for graph {found}, but {graph} has digest {expected}: the file is from another version of tvm or was altered; rebuild it with `tvm {rebuild}`",
        path.display()
    )]
    GraphMismatch {
        /// The file.
        path: PathBuf,
        /// The digest its header records.
        found: String,
        /// The graph it must compute, described.
        graph: String,
        /// That graph's digest.
        expected: String,
        /// The subcommand that rebuilds it.
        rebuild: &'static str,
    },
    /// Weights could not be built or converted.
    #[error("{what}")]
    Weights {
        /// What was being built.
        what: String,
        /// Why.
        #[source]
        source: tvm_weights::model::ModelError,
    },
    /// The machine graph could not be specialised to a program.
    #[error("partially evaluating the machine graph for the program")]
    Specialize(#[source] tvm_symbolic::specialize::SpecializeError),
    /// A specialised model's header records a program that does not parse.
    #[error("the model's header records a program that does not parse")]
    BakedProgram(#[source] tvm_frontend::program::TokenFileError),
    /// The engine could not take the model.
    #[error("loading the model into the engine")]
    Engine(#[source] tvm_engine::transformer::TransformerError),
}

/// `error` and its causes, `: `-separated (what `anyhow`'s `{:#}` prints).
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}
