//! Runs catalog programs through tvm's engines and checks them against the
//! manifest: output bytes, exit status or trap, and — between engines —
//! token-for-token agreement of the traces.

use crate::manifest::{ExpectedStatus, Program, Trap};
use std::time::Instant;
use tvm_dsl::isa::{Opcode, trap_code};
use tvm_dsl::token::Token;
use tvm_engine::reference::{self, RunError, TrapKind};
use tvm_frontend::compile::BuildOptions;
use tvm_frontend::program::{Input, Program as Lowered};

/// An engine that produces a trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Engine {
    /// The reference machine (plain Rust over the lowered program).
    Reference,
    /// The machine graph, evaluated exactly (no weights).
    Eval,
    /// The transformer in exact rational arithmetic.
    Exact,
    /// The transformer in f64.
    Float,
    /// A model specialised to the program (`tvm specialize`), exact.
    SpecExact,
    /// A model specialised to the program, f64.
    SpecFloat,
}

impl Engine {
    /// The engine's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Reference => "reference",
            Engine::Eval => "eval",
            Engine::Exact => "exact",
            Engine::Float => "float",
            Engine::SpecExact => "spec-exact",
            Engine::SpecFloat => "spec-float",
        }
    }

    /// The specialised counterpart of a transformer engine.
    pub fn specialised(self) -> Option<Engine> {
        match self {
            Engine::Exact => Some(Engine::SpecExact),
            Engine::Float => Some(Engine::SpecFloat),
            _ => None,
        }
    }

    /// Every engine, reference first.
    pub const ALL: [Engine; 6] = [
        Engine::Reference,
        Engine::Eval,
        Engine::Exact,
        Engine::Float,
        Engine::SpecExact,
        Engine::SpecFloat,
    ];
}

/// How a run ended, in the manifest's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Exit status.
    Exit(i32),
    /// Trap.
    Trap(Trap),
    /// Anything else (out of fuel, an engine error), with its message.
    Failed(String),
}

/// One engine's run of one program.
#[derive(Clone, Debug)]
pub struct EngineRun {
    /// Which engine.
    pub engine: Engine,
    /// The trace after `<run>`.
    pub trace: Vec<Token>,
    /// The program's output.
    pub output: Vec<u8>,
    /// How it ended.
    pub ending: Ending,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// Everything checked about one program.
#[derive(Clone, Debug)]
pub struct ProgramReport {
    /// The catalog name.
    pub name: String,
    /// Tokens in the prefix.
    pub prefix_tokens: usize,
    /// Tokens in the prefix of a specialised model (no program section).
    pub specialised_prefix_tokens: usize,
    /// Steps the reference machine executed.
    pub steps: u64,
    /// One entry per engine run.
    pub runs: Vec<EngineRun>,
    /// Whether every run's output and ending match the manifest.
    pub output_ok: bool,
    /// Whether every engine's trace equals the reference trace.
    pub traces_agree: bool,
    /// What went wrong, if anything.
    pub problems: Vec<String>,
    /// Engines not run, and why (a run longer than the transformer's
    /// supported range of positions).
    pub skipped: Vec<(Engine, String)>,
}

impl ProgramReport {
    /// Total tokens (prefix + the reference trace).
    pub fn tokens(&self) -> usize {
        self.prefix_tokens + self.trace_tokens()
    }

    /// Tokens of the reference trace.
    pub fn trace_tokens(&self) -> usize {
        self.runs.first().map_or(0, |r| r.trace.len())
    }

    /// Total tokens an engine's run streams: the specialised engines'
    /// prefix has no program section.
    pub fn tokens_of(&self, engine: Engine) -> usize {
        match engine {
            Engine::SpecExact | Engine::SpecFloat => {
                self.specialised_prefix_tokens + self.trace_tokens()
            }
            _ => self.tokens(),
        }
    }

    /// The run of `engine`, if it ran.
    pub fn run(&self, engine: Engine) -> Option<&EngineRun> {
        self.runs.iter().find(|r| r.engine == engine)
    }

    /// Whether everything checked out.
    pub fn ok(&self) -> bool {
        self.output_ok && self.traces_agree && self.problems.is_empty()
    }
}

/// The manifest's name of a machine trap.
pub fn trap_of_kind(kind: TrapKind) -> Trap {
    match kind {
        TrapKind::Unreachable => Trap::Unreachable,
        TrapKind::IntegerDivideByZero => Trap::IntegerDivideByZero,
        TrapKind::IntegerOverflow => Trap::IntegerOverflow,
        TrapKind::OutOfBoundsMemoryAccess => Trap::OutOfBoundsMemory,
        TrapKind::CallStackExhausted => Trap::CallStackExhausted,
        TrapKind::UndefinedElement => Trap::UndefinedElement,
        TrapKind::UninitializedElement => Trap::UninitializedElement,
        TrapKind::IndirectCallTypeMismatch => Trap::IndirectCallTypeMismatch,
        TrapKind::MemoryLimit => Trap::MemoryLimit,
    }
}

fn trap_of(kind: TrapKind) -> Ending {
    Ending::Trap(trap_of_kind(kind))
}

/// Runs the reference machine.
pub fn run_reference(program: &Lowered, input: &Input, fuel: u64) -> EngineRun {
    let start = Instant::now();
    let mut trace = Vec::new();
    let run = reference::run(program, input, fuel, &mut trace);
    let ending = match run.result {
        Ok(status) => Ending::Exit(status),
        Err(RunError::Trap { kind, .. }) => trap_of(kind),
        Err(e) => Ending::Failed(e.to_string()),
    };
    EngineRun {
        engine: Engine::Reference,
        trace,
        output: run.output,
        ending,
        seconds: start.elapsed().as_secs_f64(),
    }
}

/// The program output a trace spells: the byte after each `OUTPUT`.
pub fn output_of(trace: &[Token]) -> Vec<u8> {
    trace
        .windows(2)
        .filter(|w| w[0] == Token::Op(Opcode::Output))
        .filter_map(|w| w[1].byte())
        .collect()
}

/// An engine's run from its generated trace and final halt code (or why it
/// failed), timed from `start`.
fn generated_run(
    engine: Engine,
    start: Instant,
    result: Result<(Vec<Token>, Option<i64>, bool), String>,
) -> EngineRun {
    let (trace, ending) = match result {
        Ok((trace, halt_code, exhausted)) => {
            let ending = ending_of(&trace, halt_code, exhausted);
            (trace, ending)
        }
        Err(e) => (Vec::new(), Ending::Failed(e)),
    };
    EngineRun {
        engine,
        output: output_of(&trace),
        trace,
        ending,
        seconds: start.elapsed().as_secs_f64(),
    }
}

/// Runs the machine graph with the exact evaluator.
pub fn run_eval(
    graph: &tvm_dsl::graph::Graph,
    program: &Lowered,
    input: &Input,
    fuel: u64,
) -> EngineRun {
    let start = Instant::now();
    let prefix = program.prefix_tokens(input);
    let result = tvm_symbolic::eval::run_machine::<i128>(graph, &prefix, fuel)
        .map(|run| (run.trace, run.halt_code, run.call_stack_exhausted))
        .map_err(|e| e.to_string());
    generated_run(Engine::Eval, start, result)
}

/// Runs the lowered program through a transformer engine over `S`: the
/// universal model reads the whole prefix, a model specialised to the
/// program (one with a baked program) the prefix without its program
/// section.
pub fn run_transformer<S: tvm_engine::transformer::Scalar>(
    engine: Engine,
    model: &tvm_weights::model::Model,
    program: &Lowered,
    input: &Input,
    fuel: u64,
) -> EngineRun {
    use tvm_engine::transformer::{Transformer, run};
    let start = Instant::now();
    let prefix = if model.program.is_some() {
        program.specialised_prefix_tokens(input)
    } else {
        program.prefix_tokens(input)
    };
    let result = Transformer::<S>::new(model)
        .map_err(|e| e.to_string())
        .and_then(|mut t| run(&mut t, &prefix, fuel, |_| {}).map_err(|e| e.to_string()))
        .map(|run| (run.trace, run.halt_code, run.call_stack_exhausted));
    generated_run(engine, start, result)
}

/// How a generated trace ends: `HALT` with 4 status bytes is an exit;
/// `HALT` alone is the trap its code names; an engine that stopped before a
/// `CALL` past the supported depth (`call_stack_exhausted`) ends as the
/// reference machine does there, with `call stack exhausted`.
pub fn ending_of(trace: &[Token], halt_code: Option<i64>, call_stack_exhausted: bool) -> Ending {
    if call_stack_exhausted {
        return trap_of(TrapKind::CallStackExhausted);
    }
    if let Some(Token::Op(op)) = trace.last()
        && op.imm() == tvm_dsl::isa::Immediate::Offset
    {
        // A load or store with no bytes: it was out of bounds.
        return Ending::Trap(Trap::OutOfBoundsMemory);
    }
    let Some(at) = trace.iter().rposition(|t| *t == Token::Op(Opcode::Halt)) else {
        return Ending::Failed("the trace ends without HALT".to_owned());
    };
    let bytes: Vec<u8> = trace[at + 1..].iter().filter_map(|t| t.byte()).collect();
    let code = halt_code.and_then(|c| u32::try_from(c).ok());
    if let (Some(code), []) = (code, bytes.as_slice())
        && let Some(kind) = TrapKind::from_code(code)
    {
        return trap_of(kind);
    }
    match (code, bytes.as_slice()) {
        (Some(trap_code::EXIT), &[a, b, c, d]) => Ending::Exit(i32::from_le_bytes([a, b, c, d])),
        (code, _) => Ending::Failed(format!("HALT with code {code:?} and {} bytes", bytes.len())),
    }
}

/// Options of a catalog run.
#[derive(Clone, Debug)]
pub struct Options {
    /// Engines to run (the reference always runs: it is the comparison
    /// point).
    pub engines: Vec<Engine>,
    /// Step budget per run.
    pub fuel: u64,
}

/// The models a catalog run uses.
#[derive(Clone, Copy, Debug, Default)]
pub struct Models<'a> {
    /// The machine graph, for [`Engine::Eval`].
    pub graph: Option<&'a tvm_dsl::graph::Graph>,
    /// The universal model, for [`Engine::Exact`] and [`Engine::Float`].
    pub universal: Option<&'a tvm_weights::model::Model>,
    /// A model specialised to the program checked, for
    /// [`Engine::SpecExact`] and [`Engine::SpecFloat`].
    pub specialised: Option<&'a tvm_weights::model::Model>,
}

/// The wasm binary of a catalog program: all its sources compiled (C with
/// tvm's libc, linked together) or its WAT assembled.
pub fn wasm(entry: &Program) -> Result<Vec<u8>, tvm_frontend::BuildError> {
    Ok(tvm_frontend::compile::compile_sources(
        &entry.source_paths(),
        &BuildOptions::default(),
    )?)
}

/// Builds a catalog program: [`wasm`], decoded and lowered.
pub fn build(entry: &Program) -> Result<Lowered, tvm_frontend::BuildError> {
    Ok(tvm_frontend::lower_wasm(&wasm(entry)?)?)
}

/// A catalog program's input: its manifest arguments (`argv[0]` the
/// program name) and its standard input, if it has a `stdin` file.
pub fn input(entry: &Program) -> Result<Input, tvm_frontend::BuildError> {
    let stdin = entry
        .read_stdin()
        .map_err(|e| tvm_frontend::BuildError::Input(e.to_string()))?;
    Ok(Input::from_args(entry.program_name(), &entry.args())
        .map_err(|e| tvm_frontend::BuildError::Input(e.to_string()))?
        .with_stdin(stdin))
}

/// Runs one program through the engines and checks everything.
pub fn check(
    entry: &Program,
    options: &Options,
    graph: Option<&tvm_dsl::graph::Graph>,
    model: Option<&tvm_weights::model::Model>,
) -> Result<ProgramReport, tvm_frontend::BuildError> {
    let program = build(entry)?;
    let models = Models {
        graph,
        universal: model,
        specialised: None,
    };
    check_built(entry, &program, options, models)
}

/// [`check`] of a program already built (`program`, `entry`'s lowered
/// module), with the specialised engines too when `models` has one.
pub fn check_built(
    entry: &Program,
    program: &Lowered,
    options: &Options,
    models: Models,
) -> Result<ProgramReport, tvm_frontend::BuildError> {
    let Models {
        graph,
        universal: model,
        specialised,
    } = models;
    let input = input(entry)?;
    let expected_output = entry
        .read_expected_output()
        .map_err(|e| tvm_frontend::BuildError::Input(e.to_string()))?;
    let expected_ending = match entry.expected_status() {
        ExpectedStatus::Exit(s) => Ending::Exit(s),
        ExpectedStatus::Trap(t) => Ending::Trap(t),
    };
    let reference = run_reference(program, &input, options.fuel);
    let steps = reference
        .trace
        .iter()
        .filter(|t| matches!(t, Token::Op(_)))
        .count() as u64;
    let tokens = program.prefix_tokens(&input).len() as u64 + reference.trace.len() as u64;
    let mut runs = vec![reference];
    let mut skipped = Vec::new();
    for &engine in &options.engines {
        let fuel = options.fuel;
        let transformer = matches!(
            engine,
            Engine::Exact | Engine::Float | Engine::SpecExact | Engine::SpecFloat
        );
        if transformer && tokens > tvm_dsl::isa::MAX_POSITION {
            skipped.push((
                engine,
                format!(
                    "{tokens} tokens, past the transformer's supported range of {} positions",
                    tvm_dsl::isa::MAX_POSITION
                ),
            ));
            continue;
        }
        match (engine, graph, model, specialised) {
            (Engine::Eval, Some(graph), _, _) => runs.push(run_eval(graph, program, &input, fuel)),
            (Engine::Exact, _, Some(m), _) | (Engine::SpecExact, _, _, Some(m)) => runs.push(
                run_transformer::<tvm_engine::exact::Q>(engine, m, program, &input, fuel),
            ),
            (Engine::Float, _, Some(m), _) | (Engine::SpecFloat, _, _, Some(m)) => {
                runs.push(run_transformer::<f64>(engine, m, program, &input, fuel))
            }
            _ => {}
        }
    }
    let mut problems = Vec::new();
    let mut output_ok = true;
    for run in &runs {
        if run.output != expected_output {
            output_ok = false;
            problems.push(format!(
                "{}: output differs from the expected output",
                run.engine.name()
            ));
        }
        if run.ending != expected_ending {
            output_ok = false;
            problems.push(format!(
                "{}: ended {:?}, expected {:?}",
                run.engine.name(),
                run.ending,
                expected_ending
            ));
        }
    }
    let mut traces_agree = true;
    for run in &runs[1..] {
        if let Some(at) = first_difference(&runs[0].trace, &run.trace) {
            traces_agree = false;
            problems.push(format!(
                "{}: trace differs from the reference at token {at}",
                run.engine.name()
            ));
        }
    }
    Ok(ProgramReport {
        name: entry.name().to_owned(),
        prefix_tokens: program.prefix_tokens(&input).len(),
        specialised_prefix_tokens: program.specialised_prefix_tokens(&input).len(),
        steps,
        runs,
        output_ok,
        traces_agree,
        problems,
        skipped,
    })
}

/// The first index where two traces differ (a missing token counts).
pub fn first_difference(a: &[Token], b: &[Token]) -> Option<usize> {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .or((a.len() != b.len()).then(|| a.len().min(b.len())))
}
