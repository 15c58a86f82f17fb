//! Model files checked against the graph they must compute, and the cached
//! universal model.
//!
//! Invariant: a [`Model`] returned here computes the graph its header
//! names: the universal machine graph, or the universal graph specialised
//! to the program the header records. A file whose graph digest differs is
//! refused, never run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tvm_dsl::graph::Graph;
use tvm_frontend::program::{Program, TokenFile};
use tvm_weights::milp::MilpOptions;
use tvm_weights::model::{BuildInfo, Model, Scheduler, graph_text};
use tvm_weights::model_file::{BakedProgram, Expect, ModelFile, digest};

use crate::Error;

/// The scheduler the cached universal model is built with: the MILP, root
/// node only (deterministic), at most 60 s.
pub fn default_scheduler() -> Scheduler {
    Scheduler::Milp(MilpOptions {
        layers: None,
        time_limit: Duration::from_secs(60),
        node_limit: Some(1),
    })
}

/// Builds the universal model with `scheduler`.
pub fn build_universal(scheduler: &Scheduler) -> Result<(Model, BuildInfo), Error> {
    let graph = tvm_dsl::machine::universal();
    Model::build_with(&graph, scheduler).map_err(|source| Error::Weights {
        what: "building the universal model".to_owned(),
        source,
    })
}

/// The digest of the universal graph.
pub fn universal_digest() -> String {
    digest(graph_text(&tvm_dsl::machine::universal()).as_bytes())
}

/// The machine graph specialised to `program`.
pub fn specialised_graph(program: &Program) -> Result<Graph, Error> {
    tvm_symbolic::specialize::machine(&program.instrs).map_err(Error::Specialize)
}

/// The program a specialised model's header records.
pub fn baked_program(baked: &BakedProgram) -> Result<Program, Error> {
    let file = TokenFile::parse(&baked.tokens).map_err(Error::BakedProgram)?;
    Ok(file.program)
}

/// The machine graph `model`'s weights must compute: the universal graph,
/// or for a specialised model the machine graph specialised to the program
/// its header records (rebuilt from that program).
pub fn graph_of(model: &Model) -> Result<Graph, Error> {
    match &model.program {
        None => Ok(tvm_dsl::machine::universal()),
        Some(baked) => specialised_graph(&baked_program(baked)?),
    }
}

/// Reads a model file, checked against the graph it must compute
/// ([`graph_of`]), so a file whose weights belong to another program or
/// graph is refused.
pub fn read_model(path: &Path) -> Result<Model, Error> {
    let file = ModelFile::read(path, &Expect::any_graph()).map_err(|source| Error::ModelFile {
        path: path.to_owned(),
        source,
    })?;
    let loading = |source: Error| Error::Model {
        path: path.to_owned(),
        source: Box::new(source),
    };
    let model = Model::from_file(&file).map_err(|source| {
        loading(Error::Weights {
            what: "reading its weights".to_owned(),
            source,
        })
    })?;
    let expected = match &model.program {
        None => universal_digest(),
        Some(_) => digest(graph_text(&graph_of(&model).map_err(loading)?).as_bytes()),
    };
    if model.graph_digest != expected {
        return Err(Error::GraphMismatch {
            path: path.to_owned(),
            found: model.graph_digest.clone(),
            graph: match &model.program {
                None => "the universal machine graph".to_owned(),
                Some(b) => format!("the machine graph specialised to {}", b.name),
            },
            expected,
            rebuild: if model.program.is_some() {
                "specialize"
            } else {
                "build"
            },
        });
    }
    Ok(model)
}

/// The cache directory: `$TVM_CACHE_DIR`, else `$XDG_CACHE_HOME/tvm`, else
/// `~/.cache/tvm`, else `tvm-cache` in the temporary directory.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TVM_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("tvm");
    }
    if let Some(home) = std::env::var_os("HOME") {
        return PathBuf::from(home).join(".cache").join("tvm");
    }
    std::env::temp_dir().join("tvm-cache")
}

/// Where tvm's compiled libc is kept (`tvm_frontend::compile::BuildOptions::libc_cache`).
pub fn libc_cache_dir() -> PathBuf {
    cache_dir().join("libc")
}

/// Where the cached universal model lives: named by the graph's digest and
/// by a fingerprint of the sources that make the weights (`build.rs`), so
/// a changed construction never reuses a stale file.
pub fn cached_universal_path() -> PathBuf {
    cache_dir().join(format!(
        "universal-{}-{}.safetensors",
        &universal_digest()[..12],
        env!("TVM_MODEL_SOURCES")
    ))
}

/// The model at `path`, or the universal model (default schedule) from the
/// cache, built and cached when missing (the file's digest is checked
/// again on load). What the user should know (a rebuild, a cache that
/// cannot be written) goes to `notify`; failing to cache is not an error.
pub fn load_or_build(path: Option<&Path>, notify: &mut dyn FnMut(String)) -> Result<Model, Error> {
    if let Some(path) = path {
        return read_model(path);
    }
    let cached = cached_universal_path();
    if cached.exists() {
        match read_model(&cached) {
            Ok(model) => return Ok(model),
            Err(e) => notify(format!(
                "the cached model is unusable ({}); rebuilding it",
                crate::error::chain(&e)
            )),
        }
    }
    notify(format!(
        "building the universal model (MILP schedule, ~10 s; cached as {})",
        cached.display()
    ));
    let (model, _) = build_universal(&default_scheduler())?;
    let dir = cached
        .parent()
        .map(Path::to_owned)
        .unwrap_or_else(cache_dir);
    let written = std::fs::create_dir_all(&dir)
        .map_err(|e| e.to_string())
        .and_then(|()| {
            let file = model.to_file().map_err(|e| e.to_string())?;
            file.write_atomically(&cached).map_err(|e| e.to_string())
        });
    if let Err(e) = written {
        notify(format!(
            "could not cache the model in {}: {e}",
            dir.display()
        ));
    }
    Ok(model)
}
