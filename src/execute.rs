//! A transformer engine run over a prepared prefix.

use std::time::Instant;

use tvm_dsl::token::Token;
use tvm_engine::transformer::{self, RunError, Scalar, Transformer, TransformerRun};
use tvm_weights::model::Model;

use crate::Error;

/// One engine run's result and time.
pub struct EngineOutcome {
    /// The run, or why it stopped (out of fuel, a malformed step).
    pub run: Result<TransformerRun, RunError>,
    /// Seconds generating (prefix included).
    pub seconds: f64,
}

/// Runs `prefix` through the engine of scalar type `S` (`f64`: the float
/// engine; `tvm_engine::exact::Q`: the exact one) for at most `fuel`
/// machine steps, calling `on_token` with the count of tokens generated so
/// far after each one (for progress).
pub fn run_engine<S: Scalar>(
    model: &Model,
    prefix: &[Token],
    fuel: u64,
    mut on_token: impl FnMut(u64),
) -> Result<EngineOutcome, Error> {
    let mut engine = Transformer::<S>::new(model).map_err(Error::Engine)?;
    let start = Instant::now();
    let mut generated = 0u64;
    let run = transformer::run(&mut engine, prefix, fuel, |_| {
        generated += 1;
        on_token(generated);
    });
    Ok(EngineOutcome {
        run,
        seconds: start.elapsed().as_secs_f64(),
    })
}
