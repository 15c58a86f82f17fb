//! A program and its input resolved against a model into the tokens a run
//! starts from.
//!
//! A universal model runs any program: its prefix carries the program. A
//! model from `tvm specialize` has its program in its weights: it runs
//! that program only (a different one is refused by digest), with the
//! given arguments or the ones it records, and its prefix omits the
//! program section.

use tvm_dsl::token::Token;
use tvm_weights::model::Model;
use tvm_weights::model_file::digest;

use crate::Error;
use crate::cache::baked_program;
use crate::source::{self, Invoked, Loaded, SourceOptions};

/// What a run feeds the transformer.
pub struct Prepared {
    /// Program name, for reports.
    pub name: String,
    /// The program and input.
    pub loaded: Loaded,
    /// The tokens pushed before generation starts.
    pub prefix: Vec<Token>,
    /// The call made instead of `main` (`invoke`).
    pub invoked: Option<Invoked>,
}

/// Resolves `specs` (empty: the specialised model's own program), `args`
/// and `invoke` (`EXPORT ARG…`, universal models only) against `model`.
pub fn prepare(
    model: &Model,
    specs: &[String],
    args: Option<&str>,
    invoke: Option<&[String]>,
    options: &SourceOptions,
) -> Result<Prepared, Error> {
    let program = (!specs.is_empty()).then(|| specs.join(" "));
    let program = program.as_deref();
    let Some(baked) = &model.program else {
        let Some(spec) = program else {
            return Err(Error::Request(
                "which program? give PROGRAM (a file or catalog name); only a model from `tvm specialize` runs without one".to_owned(),
            ));
        };
        let (loaded, invoked) = source::load_target(specs, args, invoke, options)?;
        let prefix = loaded.program.prefix_tokens(&loaded.input);
        return Ok(Prepared {
            name: spec.to_owned(),
            loaded,
            prefix,
            invoked,
        });
    };
    if invoke.is_some() {
        return Err(Error::Request(format!(
            "--invoke needs the universal model: the model is specialised to `{}`, whose program runs main (omit --model)",
            baked.name
        )));
    }
    // The recorded arguments apply unless the caller gives some.
    let args = if options.argv.is_empty() {
        Some(args.unwrap_or(&baked.args))
    } else {
        args
    };
    let loaded = match program {
        Some(spec) => {
            let loaded = source::load(specs, args, options)?;
            let given = digest(loaded.program.baked_text().as_bytes());
            if given != baked.digest() {
                return Err(Error::Request(format!(
                    "the model is specialised to `{}` (program digest {}), but {spec} is a different program (digest {given}): run {spec} with the universal model (omit --model), or specialise it with `tvm specialize {spec}`",
                    baked.name,
                    &baked.digest()[..16],
                )));
            }
            loaded
        }
        None => {
            let program = baked_program(baked)?;
            let input = options.input(&baked.name, args, &program)?;
            Loaded {
                name: baked.name.clone(),
                program,
                input,
            }
        }
    };
    let prefix = loaded.program.specialised_prefix_tokens(&loaded.input);
    Ok(Prepared {
        name: program.unwrap_or(&baked.name).to_owned(),
        loaded,
        prefix,
        invoked: None,
    })
}
