//! Runs WebAssembly spec test scripts (`.wast`) on tvm's engines.
//!
//! A script defines modules and makes assertions about them. This runner
//! checks, per command:
//!
//! - `module`: the module encodes, decodes, lowers and instantiates (its
//!   start function, if any, runs without trapping). A failure here fails
//!   the module and every command on it.
//! - `assert_invalid` / `assert_malformed`: the module fails to parse or
//!   encode, or [`tvm_frontend::decode::decode`] rejects it as
//!   [`DecodeError::Invalid`]. Anything else — accepted, or answered with
//!   `Unsupported` — is a failure.
//! - `assert_unlinkable` / `assert_trap (module …)`: the module fails to
//!   instantiate ([`DecodeError::Instantiate`], or its start function traps
//!   with the expected message).
//! - `invoke`, `assert_return`, `assert_trap`, `assert_exhaustion` on the
//!   current or a named module: results compare bit-exactly (i32, i64), a
//!   trap's message must start with the expected one.
//!
//! **Runs.** Calls are lowered with [`invoke::lower_invokes`]: one program
//! performs a batch of calls in order; each call that returns writes a
//! mark and its results to the output, so the calls that completed are
//! known however a run ends. A module with a memory or a mutable global is
//! *stateful*: each run first replays every call that completed before
//! (their results ignored), then performs the new ones, so memory and
//! globals evolve as in the script. A batch ends after a command expected
//! to trap; a call that traps unexpectedly ends its run, and the commands
//! after it go to the next. A *stateless* module (no memory, no mutable
//! global) replays nothing, and all its commands expected to return share
//! one run. The state a call changes before it traps is not replayed (the
//! machine cannot go on after a trap); a later command that depends on it
//! fails rather than passing silently. A call whose run runs out of fuel
//! (or, on a transformer, of positions) after other calls is run again
//! first in a run of its own.
//!
//! **Skips.** A command is skipped — counted under a reason, never passed,
//! never dropped — when its arguments or results are floats, SIMD or
//! references, when lowering its call answers `Unsupported` with a
//! [`DecodeError::skip_reason`] (a feature the machine lacks), when its
//! module imports anything (`register` makes modules importable; the
//! machine has no imports), for `get` of an exported global, for
//! `assert_exhaustion` on engines other than the reference machine (only
//! it checks the call depth), and on the transformer engines for a call
//! whose run passes the transformer's range
//! ([`MAX_POSITION`](tvm_dsl::isa::MAX_POSITION) positions) even when it
//! runs first ([`TOO_LONG`]; the reference machine's trace, which the
//! transformer must reproduce, tells in advance). In a stateful module, a
//! skipped command performed for its effects (a bare `invoke`, or an
//! `assert_return` with no results) skips every later command on that
//! module, with the same reason: their state would differ. `Unsupported`
//! without a skip reason is a failure.

use crate::runner::{self, Ending};
use ::wast::core::{WastArgCore, WastRetCore};
use ::wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet, Wat};
use std::collections::{BTreeMap, HashMap, VecDeque};
use tvm_frontend::decode::DecodeError;
use tvm_frontend::invoke::{self, Invoke, Value, ValueKind};
use tvm_frontend::program::{Input, Program};

/// The skip reason of a call whose run outgrows the transformer's
/// supported range (positions below 2²²) even when it runs first.
pub const TOO_LONG: &str = "past the transformer's range";

/// The default step budget of one run.
pub const DEFAULT_FUEL: u64 = 50_000_000;

/// The engine a script runs on, with what it needs.
#[derive(Clone, Copy)]
pub enum WastEngine<'a> {
    /// The reference machine.
    Reference,
    /// The machine graph, evaluated exactly.
    Eval(&'a tvm_dsl::graph::Graph),
    /// The universal transformer in exact rationals.
    Exact(&'a tvm_weights::model::Model),
    /// The universal transformer in f64.
    Float(&'a tvm_weights::model::Model),
}

impl WastEngine<'_> {
    /// The engine's name on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            WastEngine::Reference => "reference",
            WastEngine::Eval(_) => "eval",
            WastEngine::Exact(_) => "exact",
            WastEngine::Float(_) => "float",
        }
    }

    fn run(&self, program: &Program, fuel: u64) -> Run {
        let input = Input::default();
        let finished = |run: runner::EngineRun| Run {
            output: run.output,
            ending: run.ending,
            too_long: false,
        };
        match *self {
            WastEngine::Reference => finished(runner::run_reference(program, &input, fuel)),
            WastEngine::Eval(graph) => finished(runner::run_eval(graph, program, &input, fuel)),
            WastEngine::Exact(model) => {
                transformer_run::<tvm_engine::exact::Q>(model, program, &input, fuel)
            }
            WastEngine::Float(model) => transformer_run::<f64>(model, program, &input, fuel),
        }
    }
}

/// One run of a program: its output (up to where it stopped) and how it
/// ended.
struct Run {
    output: Vec<u8>,
    ending: Ending,
    /// The transformer stopped at the end of its supported range.
    too_long: bool,
}

/// Runs the program through a transformer, keeping the output generated
/// before an error (the runner's [`runner::run_transformer`] drops it).
fn transformer_run<S: tvm_engine::transformer::Scalar>(
    model: &tvm_weights::model::Model,
    program: &Program,
    input: &Input,
    fuel: u64,
) -> Run {
    use tvm_engine::transformer::{RunError, Transformer, TransformerError, run};
    let prefix = program.prefix_tokens(input);
    let mut tokens = Vec::new();
    let result = Transformer::<S>::new(model)
        .map_err(RunError::from)
        .and_then(|mut t| run(&mut t, &prefix, fuel, |token| tokens.push(token)));
    match result {
        Ok(run) => Run {
            output: runner::output_of(&run.trace),
            ending: runner::ending_of(&run.trace, run.halt_code, run.call_stack_exhausted),
            too_long: false,
        },
        Err(e) => Run {
            output: runner::output_of(&tokens),
            too_long: matches!(e, RunError::Engine(TransformerError::TooLong(_))),
            ending: Ending::Failed(e.to_string()),
        },
    }
}

/// How a script runs.
#[derive(Clone, Copy)]
pub struct Options<'a> {
    /// The engine.
    pub engine: WastEngine<'a>,
    /// Step budget per run.
    pub fuel: u64,
}

/// One failed command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Line of the command in the script (1-based).
    pub line: usize,
    /// The command (`assert_return`, `module`, …) and the export it calls.
    pub command: String,
    /// What the script expects.
    pub expected: String,
    /// What happened.
    pub got: String,
}

/// The outcome of one script.
#[derive(Clone, Debug, Default)]
pub struct FileReport {
    /// The script's name (as given).
    pub file: String,
    /// Commands that passed.
    pub passed: usize,
    /// Commands skipped, per reason.
    pub skip_reasons: BTreeMap<String, usize>,
    /// Commands that failed, in line order.
    pub failures: Vec<Failure>,
    /// Programs run.
    pub runs: usize,
}

impl FileReport {
    /// Commands that failed.
    pub fn failed(&self) -> usize {
        self.failures.len()
    }

    /// Commands skipped.
    pub fn skipped(&self) -> usize {
        self.skip_reasons.values().sum()
    }

    fn pass(&mut self) {
        self.passed += 1;
    }

    fn skip(&mut self, reason: &str) {
        *self.skip_reasons.entry(reason.to_owned()).or_default() += 1;
    }

    fn fail(&mut self, line: usize, command: &str, expected: &str, got: impl Into<String>) {
        self.failures.push(Failure {
            line,
            command: command.to_owned(),
            expected: expected.to_owned(),
            got: got.into(),
        });
    }
}

/// What a call is expected to do.
#[derive(Clone, Debug)]
enum Expect {
    /// Return these results: one set of acceptable values per result.
    Values(Vec<Vec<Value>>),
    /// Trap with a message starting with this one.
    Trap(String),
    /// Exhaust the call stack (message as for a trap).
    Exhaustion(String),
    /// Complete (a bare `invoke`).
    Completes,
}

impl Expect {
    fn traps(&self) -> bool {
        matches!(self, Expect::Trap(_) | Expect::Exhaustion(_))
    }

    /// Whether the call is made for its effects (skipping it changes the
    /// state later calls see).
    fn for_effect(&self) -> bool {
        match self {
            Expect::Completes => true,
            Expect::Values(v) => v.is_empty(),
            _ => false,
        }
    }

    fn describe(&self) -> String {
        match self {
            Expect::Values(values) if values.is_empty() => "no results".to_owned(),
            Expect::Values(values) => values
                .iter()
                .map(|alts| {
                    alts.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(" | ")
                })
                .collect::<Vec<_>>()
                .join(" "),
            Expect::Trap(m) | Expect::Exhaustion(m) => format!("trap: {m}"),
            Expect::Completes => "completes".to_owned(),
        }
    }
}

/// A call a script makes.
#[derive(Clone, Debug)]
struct Call {
    line: usize,
    /// `assert_return`, `assert_trap`, `assert_exhaustion`, `invoke`.
    kind: &'static str,
    invoke: Invoke,
    expect: Expect,
}

impl Call {
    fn command(&self) -> String {
        format!("{} {:?}", self.kind, self.invoke.export)
    }
}

/// A command on a module, in script order.
#[derive(Clone, Debug)]
enum Item {
    Run(Call),
    /// Skipped before running (by its value types or the engine).
    Skip {
        reason: &'static str,
        for_effect: bool,
    },
}

/// A module instance and the commands made on it.
struct Instance {
    line: usize,
    wasm: Result<Vec<u8>, String>,
    items: Vec<Item>,
}

/// Runs one script (`text`, reported as `file`).
pub fn run_script(file: &str, text: &str, options: &Options) -> FileReport {
    let mut report = FileReport {
        file: file.to_owned(),
        ..FileReport::default()
    };
    let mut lexer = ::wast::lexer::Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let buffer = match ::wast::parser::ParseBuffer::new_with_lexer(lexer) {
        Ok(buffer) => buffer,
        Err(e) => {
            report.fail(line_of(text, e.span()), "script", "a script", e.message());
            return report;
        }
    };
    let directives = match ::wast::parser::parse::<Wast>(&buffer) {
        Ok(w) => w.directives,
        Err(e) => {
            report.fail(line_of(text, e.span()), "script", "a script", e.message());
            return report;
        }
    };
    let mut script = Script {
        text,
        options,
        report,
        instances: Vec::new(),
        current: None,
        names: HashMap::new(),
        definitions: HashMap::new(),
        last_definition: None,
    };
    for directive in directives {
        script.directive(directive);
    }
    let instances = std::mem::take(&mut script.instances);
    for instance in &instances {
        script.run_instance(instance);
    }
    let mut report = script.report;
    report.failures.sort_by_key(|f| f.line);
    report
}

fn line_of(text: &str, span: ::wast::token::Span) -> usize {
    span.linecol_in(text).0 + 1
}

/// How a failed lowering counts: skipped for a reason, or failed.
fn classify(error: &DecodeError) -> Result<&'static str, String> {
    match error {
        DecodeError::Unsupported { .. } => error.skip_reason().ok_or_else(|| error.to_string()),
        _ => Err(error.to_string()),
    }
}

/// A module is stateful when calls can change what later calls see: it
/// has (or imports) a memory, or has a mutable global. Unparsable: assumed
/// stateful.
fn stateful(wasm: &[u8]) -> bool {
    use wasmparser::Payload;
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload {
            Err(_) => return true,
            Ok(Payload::ImportSection(r)) if r.count() > 0 => return true,
            Ok(Payload::MemorySection(r)) if r.count() > 0 => return true,
            Ok(Payload::GlobalSection(r)) => {
                for global in r {
                    match global {
                        Ok(g) if !g.ty.mutable => {}
                        _ => return true,
                    }
                }
            }
            _ => {}
        }
    }
    false
}

/// Whether the module has a start function.
fn has_start(wasm: &[u8]) -> bool {
    wasmparser::Parser::new(0)
        .parse_all(wasm)
        .any(|p| matches!(p, Ok(wasmparser::Payload::StartSection { .. })))
}

/// How a run's ending reads in a failure.
fn describe_ending(ending: &Ending) -> String {
    match ending {
        Ending::Exit(0) => "the run ended without the call's results".to_owned(),
        Ending::Exit(status) => format!("exit status {status}"),
        Ending::Trap(trap) => format!("trap: {trap}"),
        Ending::Failed(message) => message.clone(),
    }
}

fn describe_values(values: &[Value]) -> String {
    if values.is_empty() {
        return "no results".to_owned();
    }
    values
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The skip reason of a value type the machine lacks.
fn value_skip<T>(kind: &str) -> Result<T, &'static str> {
    Err(match kind {
        "f32" | "f64" => "floats",
        "v128" => "SIMD",
        _ => "reference types",
    })
}

fn arg_value(arg: &WastArg) -> Result<Value, &'static str> {
    match arg {
        WastArg::Core(WastArgCore::I32(v)) => Ok(Value::I32(*v as u32)),
        WastArg::Core(WastArgCore::I64(v)) => Ok(Value::I64(*v as u64)),
        WastArg::Core(WastArgCore::F32(_) | WastArgCore::F64(_)) => value_skip("f32"),
        WastArg::Core(WastArgCore::V128(_)) => value_skip("v128"),
        WastArg::Core(_) => value_skip("ref"),
        #[allow(unreachable_patterns)]
        _ => Err("components"),
    }
}

fn ret_values(ret: &WastRetCore) -> Result<Vec<Value>, &'static str> {
    match ret {
        WastRetCore::I32(v) => Ok(vec![Value::I32(*v as u32)]),
        WastRetCore::I64(v) => Ok(vec![Value::I64(*v as u64)]),
        WastRetCore::F32(_) | WastRetCore::F64(_) => value_skip("f32"),
        WastRetCore::V128(_) => value_skip("v128"),
        WastRetCore::Either(alts) => {
            let mut all = Vec::new();
            for alt in alts {
                all.extend(ret_values(alt)?);
            }
            Ok(all)
        }
        _ => value_skip("ref"),
    }
}

fn ret_value(ret: &WastRet) -> Result<Vec<Value>, &'static str> {
    match ret {
        WastRet::Core(core) => ret_values(core),
        #[allow(unreachable_patterns)]
        _ => Err("components"),
    }
}

/// A script being run: its modules and the commands on each, collected in
/// a first pass; module-level assertions are checked as they come.
struct Script<'t, 'o> {
    text: &'t str,
    options: &'o Options<'o>,
    report: FileReport,
    instances: Vec<Instance>,
    current: Option<usize>,
    names: HashMap<String, usize>,
    definitions: HashMap<String, (usize, Result<Vec<u8>, String>)>,
    last_definition: Option<(usize, Result<Vec<u8>, String>)>,
}

fn encode_quote(module: &mut QuoteWat) -> Result<Vec<u8>, String> {
    if matches!(
        module,
        QuoteWat::QuoteComponent(..) | QuoteWat::Wat(Wat::Component(_))
    ) {
        return Err("components".to_owned());
    }
    module.encode().map_err(|e| e.message())
}

impl Script<'_, '_> {
    fn line(&self, span: ::wast::token::Span) -> usize {
        line_of(self.text, span)
    }

    fn directive(&mut self, directive: WastDirective) {
        let line = self.line(directive.span());
        let malformed = matches!(directive, WastDirective::AssertMalformed { .. });
        match directive {
            WastDirective::Module(mut module) => {
                if is_component(&module) {
                    self.report.skip("components");
                    return;
                }
                let name = module.name().map(|id| id.name().to_owned());
                let wasm = encode_quote(&mut module);
                self.instantiate(line, name, wasm);
            }
            WastDirective::ModuleDefinition(mut module) => {
                if is_component(&module) {
                    self.report.skip("components");
                    return;
                }
                let name = module.name().map(|id| id.name().to_owned());
                let wasm = encode_quote(&mut module);
                if let Some(name) = name {
                    self.definitions.insert(name, (line, wasm.clone()));
                }
                self.last_definition = Some((line, wasm));
            }
            WastDirective::ModuleInstance {
                instance, module, ..
            } => {
                let definition = match module {
                    Some(id) => self.definitions.get(id.name()).cloned(),
                    None => self.last_definition.clone(),
                };
                match definition {
                    Some((_, wasm)) => {
                        self.instantiate(line, instance.map(|id| id.name().to_owned()), wasm);
                    }
                    None => self.report.fail(
                        line,
                        "module instance",
                        "a defined module",
                        "no such module definition",
                    ),
                }
            }
            WastDirective::AssertMalformed {
                mut module,
                message,
                ..
            }
            | WastDirective::AssertInvalid {
                mut module,
                message,
                ..
            } => {
                let directive_kind = if malformed {
                    "assert_malformed"
                } else {
                    "assert_invalid"
                };
                let command = match (directive_kind, &module) {
                    ("assert_malformed", QuoteWat::QuoteModule(..)) => "assert_malformed (quote)",
                    (kind, _) => kind,
                };
                if is_component(&module) {
                    self.report.skip("components");
                    return;
                }
                let expected = format!("rejected ({message})");
                let Ok(wasm) = module.encode() else {
                    // The text does not parse or encode: rejected.
                    self.report.pass();
                    return;
                };
                match tvm_frontend::decode::decode(&wasm) {
                    Err(DecodeError::Invalid { .. }) => self.report.pass(),
                    Err(e) => self.report.fail(line, command, &expected, e.to_string()),
                    Ok(_) => self.report.fail(line, command, &expected, "accepted"),
                }
            }
            WastDirective::AssertInvalidCustom { .. }
            | WastDirective::AssertMalformedCustom { .. } => self.report.skip("custom sections"),
            WastDirective::Register { .. } => {}
            WastDirective::Invoke(call) => {
                let module = call.module.map(|id| id.name().to_owned());
                let item = self.call_item(line, "invoke", &call, Ok(Expect::Completes));
                self.push(line, module, item);
            }
            WastDirective::AssertReturn { exec, results, .. } => {
                let expect = results
                    .iter()
                    .map(ret_value)
                    .collect::<Result<Vec<_>, _>>()
                    .map(Expect::Values);
                match exec {
                    WastExecute::Invoke(call) => {
                        let module = call.module.map(|id| id.name().to_owned());
                        let item = self.call_item(line, "assert_return", &call, expect);
                        self.push(line, module, item);
                    }
                    WastExecute::Get { .. } => self.report.skip("global exports (get)"),
                    WastExecute::Wat(_) => self.report.skip("assert_return of a module"),
                }
            }
            WastDirective::AssertTrap { exec, message, .. } => match exec {
                WastExecute::Invoke(call) => {
                    let module = call.module.map(|id| id.name().to_owned());
                    let expect = Ok(Expect::Trap(message.to_owned()));
                    let item = self.call_item(line, "assert_trap", &call, expect);
                    self.push(line, module, item);
                }
                WastExecute::Wat(mut wat) => {
                    let wasm = wat.encode().map_err(|e| e.message());
                    self.must_not_instantiate(line, "assert_trap (module)", wasm, Some(message));
                }
                WastExecute::Get { .. } => self.report.skip("global exports (get)"),
            },
            WastDirective::AssertExhaustion { call, message, .. } => {
                let module = call.module.map(|id| id.name().to_owned());
                let expect = Ok(Expect::Exhaustion(message.to_owned()));
                let mut item = self.call_item(line, "assert_exhaustion", &call, expect);
                if !matches!(self.options.engine, WastEngine::Reference)
                    && matches!(item, Item::Run(_))
                {
                    // Only the reference machine checks the call depth.
                    item = Item::Skip {
                        reason: "call stack exhaustion",
                        for_effect: false,
                    };
                }
                self.push(line, module, item);
            }
            WastDirective::AssertUnlinkable { mut module, .. } => {
                let wasm = module.encode().map_err(|e| e.message());
                self.must_not_instantiate(line, "assert_unlinkable", wasm, None);
            }
            WastDirective::AssertException { .. } => self.report.skip("exceptions"),
            WastDirective::AssertSuspension { .. } => self.report.skip("stack switching"),
            WastDirective::Thread(_) | WastDirective::Wait { .. } => self.report.skip("threads"),
        }
    }

    fn instantiate(&mut self, line: usize, name: Option<String>, wasm: Result<Vec<u8>, String>) {
        let index = self.instances.len();
        self.instances.push(Instance {
            line,
            wasm,
            items: Vec::new(),
        });
        self.current = Some(index);
        if let Some(name) = name {
            self.names.insert(name, index);
        }
    }

    fn call_item(
        &self,
        line: usize,
        kind: &'static str,
        call: &WastInvoke,
        expect: Result<Expect, &'static str>,
    ) -> Item {
        let args = call
            .args
            .iter()
            .map(arg_value)
            .collect::<Result<Vec<_>, _>>();
        match (args, expect) {
            (Ok(args), Ok(expect)) => Item::Run(Call {
                line,
                kind,
                invoke: Invoke {
                    export: call.name.to_owned(),
                    args,
                },
                expect,
            }),
            (Err(reason), expect) | (_, expect @ Err(reason)) => Item::Skip {
                reason,
                for_effect: expect.is_ok_and(|e| e.for_effect()),
            },
        }
    }

    /// Adds a command to the named (or current) module.
    fn push(&mut self, line: usize, module: Option<String>, item: Item) {
        let index = match &module {
            Some(name) => self.names.get(name).copied(),
            None => self.current,
        };
        match index {
            Some(i) => self.instances[i].items.push(item),
            None => {
                let (command, expected) = match &item {
                    Item::Run(call) => (call.command(), call.expect.describe()),
                    Item::Skip { .. } => ("command".to_owned(), "a module".to_owned()),
                };
                self.report.fail(
                    line,
                    &command,
                    &expected,
                    format!(
                        "no module {}",
                        module.as_deref().unwrap_or("defined before it")
                    ),
                );
            }
        }
    }

    /// `assert_unlinkable` and `assert_trap (module …)`: the module must
    /// not instantiate — a segment out of bounds, or (with a message) a
    /// start function that traps with it.
    fn must_not_instantiate(
        &mut self,
        line: usize,
        command: &str,
        wasm: Result<Vec<u8>, String>,
        message: Option<&str>,
    ) {
        let expected = match message {
            Some(m) => format!("instantiation fails: {m}"),
            None => "instantiation fails".to_owned(),
        };
        let wasm = match wasm {
            Ok(wasm) => wasm,
            Err(e) => return self.report.fail(line, command, &expected, e),
        };
        match invoke::lower_invokes(&wasm, &[]) {
            Err(DecodeError::Instantiate(got)) => {
                if message.is_none_or(|m| got.contains(m)) {
                    self.report.pass();
                } else {
                    self.report.fail(line, command, &expected, got);
                }
            }
            Err(e) => match classify(&e) {
                Ok(reason) => self.report.skip(reason),
                Err(got) => self.report.fail(line, command, &expected, got),
            },
            Ok(invocation) => {
                let run = self
                    .options
                    .engine
                    .run(&invocation.program, self.options.fuel);
                self.report.runs += 1;
                match (&run.ending, message) {
                    (Ending::Trap(trap), Some(m)) if trap.as_str().starts_with(m) => {
                        self.report.pass()
                    }
                    (Ending::Exit(0), _) => {
                        self.report
                            .fail(line, command, &expected, "instantiated".to_owned())
                    }
                    (ending, _) => {
                        self.report
                            .fail(line, command, &expected, describe_ending(ending))
                    }
                }
            }
        }
    }

    /// Runs every command on one module instance.
    fn run_instance(&mut self, instance: &Instance) {
        let loaded = match &instance.wasm {
            Ok(wasm) => self.load(instance.line, wasm),
            Err(e) => {
                self.report
                    .fail(instance.line, "module", "a module", e.clone());
                Err(Err(e.clone()))
            }
        };
        let wasm = match loaded {
            Ok(wasm) => wasm,
            Err(Ok(reason)) => {
                for _ in &instance.items {
                    self.report.skip(reason);
                }
                return;
            }
            Err(Err(why)) => {
                for item in &instance.items {
                    match item {
                        Item::Run(call) => self.report.fail(
                            call.line,
                            &call.command(),
                            &call.expect.describe(),
                            format!("the module did not load: {why}"),
                        ),
                        Item::Skip { reason, .. } => self.report.skip(reason),
                    }
                }
                return;
            }
        };
        let stateful = stateful(wasm);
        let mut queue = VecDeque::new();
        let mut taint: Option<&'static str> = None;
        for item in &instance.items {
            match (item, taint) {
                (Item::Skip { reason, for_effect }, _) => {
                    self.report.skip(reason);
                    if stateful && *for_effect && taint.is_none() {
                        taint = Some(reason);
                    }
                }
                (Item::Run(_), Some(reason)) => self.report.skip(reason),
                (Item::Run(call), None) => queue.push_back(call.clone()),
            }
        }
        if !stateful {
            // Order does not matter: the calls expected to return share one
            // run, each expected trap ends a run of its own.
            let (returns, traps): (Vec<Call>, Vec<Call>) =
                queue.into_iter().partition(|c| !c.expect.traps());
            queue = returns.into_iter().chain(traps).collect();
        }
        let mut history: Vec<Invoke> = Vec::new();
        while !queue.is_empty() {
            let mut batch: Vec<Call> = Vec::new();
            while let Some(call) = queue.pop_front() {
                let traps = call.expect.traps();
                batch.push(call);
                if traps {
                    break;
                }
            }
            let mut invokes = history.clone();
            invokes.extend(batch.iter().map(|c| c.invoke.clone()));
            let mut invocation = match invoke::lower_invokes(wasm, &invokes) {
                Ok(invocation) => invocation,
                Err(error) => {
                    self.sort_out(wasm, stateful, batch, &error, &mut queue);
                    continue;
                }
            };
            let replayed = history.len();
            if let Some(fit) = self.calls_in_range(&invocation, replayed) {
                // The transformer would stop at the end of its range: run
                // only the calls that fit, the first alone if none does.
                let later: Vec<Call> = batch.split_off(fit.clamp(1, batch.len()));
                for call in later.into_iter().rev() {
                    queue.push_front(call);
                }
                if fit == 0 {
                    let call = batch.remove(0);
                    self.report.skip(TOO_LONG);
                    if stateful && call.expect.for_effect() {
                        for _ in queue.drain(..) {
                            self.report.skip(TOO_LONG);
                        }
                    }
                    continue;
                }
                invokes.truncate(replayed + batch.len());
                invocation = match invoke::lower_invokes(wasm, &invokes) {
                    Ok(invocation) => invocation,
                    Err(error) => {
                        self.sort_out(wasm, stateful, batch, &error, &mut queue);
                        continue;
                    }
                };
            }
            let run = self
                .options
                .engine
                .run(&invocation.program, self.options.fuel);
            self.report.runs += 1;
            let results = invoke::read_results(&invocation.results, &run.output);
            // Every call that returned wrote a mark (and its results): the
            // calls after the last one complete are the one that ended the
            // run and those it did not reach.
            let completed = results.len().saturating_sub(replayed);
            let mut retry = None;
            let mut tainted = false;
            let mut rest = batch.into_iter().enumerate();
            for (j, call) in rest.by_ref() {
                if j < completed {
                    self.judge(&call, Ok(&results[replayed + j]));
                    if stateful {
                        history.push(call.invoke.clone());
                    }
                } else {
                    if matches!(run.ending, Ending::Failed(_)) && (j > 0 || run.too_long) {
                        if j > 0 {
                            // The calls before it may have used up the fuel
                            // or the transformer's range: run it first.
                            retry = Some(call);
                        } else {
                            self.report.skip(TOO_LONG);
                            tainted = stateful && call.expect.for_effect();
                        }
                    } else {
                        self.judge(&call, Err(&run.ending));
                    }
                    break;
                }
            }
            let rest: Vec<Call> = rest.map(|(_, c)| c).collect();
            if tainted {
                // Later calls would see another state than the script's.
                for _ in rest.into_iter().chain(queue.drain(..)) {
                    self.report.skip(TOO_LONG);
                }
                continue;
            }
            for call in rest.into_iter().rev().chain(retry) {
                queue.push_front(call);
            }
        }
    }

    /// For the transformer engines, whose range ends at
    /// [`MAX_POSITION`](tvm_dsl::isa::MAX_POSITION) positions: when the
    /// program's run would not fit, how many of the calls after `replayed`
    /// complete within the range — by the reference machine's trace, which
    /// the transformer must reproduce token for token. `None`: it fits (or
    /// the engine has no range).
    fn calls_in_range(
        &mut self,
        invocation: &invoke::Invocation,
        replayed: usize,
    ) -> Option<usize> {
        if !matches!(
            self.options.engine,
            WastEngine::Float(_) | WastEngine::Exact(_)
        ) {
            return None;
        }
        let input = Input::default();
        let prefix = invocation.program.prefix_tokens(&input).len();
        let reference = runner::run_reference(&invocation.program, &input, self.options.fuel);
        let limit = usize::try_from(tvm_dsl::isa::MAX_POSITION).unwrap_or(usize::MAX);
        if prefix + reference.trace.len() < limit {
            return None;
        }
        let within = runner::output_of(&reference.trace[..limit.saturating_sub(prefix)]);
        let done = invoke::read_results(&invocation.results, &within).len();
        Some(done.saturating_sub(replayed))
    }

    /// Decodes, lowers and instantiates a module. `Err(Ok(reason))`: its
    /// commands are skipped; `Err(Err(why))`: it failed (reported here).
    fn load<'w>(
        &mut self,
        line: usize,
        wasm: &'w [u8],
    ) -> Result<&'w [u8], Result<&'static str, String>> {
        let invocation = match invoke::lower_invokes(wasm, &[]) {
            Ok(invocation) => invocation,
            Err(e) => {
                return Err(match classify(&e) {
                    Ok(reason) => Ok(reason),
                    Err(why) => {
                        self.report.fail(line, "module", "a module", why.clone());
                        Err(why)
                    }
                });
            }
        };
        if has_start(wasm) {
            let run = self
                .options
                .engine
                .run(&invocation.program, self.options.fuel);
            self.report.runs += 1;
            if run.ending != Ending::Exit(0) {
                let why = format!("the start function: {}", describe_ending(&run.ending));
                self.report.fail(line, "module", "a module", why.clone());
                return Err(Err(why));
            }
        }
        Ok(wasm)
    }

    /// A batch did not lower: finds which calls are at fault by lowering
    /// each alone. Those are skipped (a feature the machine lacks) or
    /// failed; the others go back to the front of the queue. In a stateful
    /// module, a call skipped that is performed for its effects skips every
    /// later call too (with its reason): the state they see would differ.
    fn sort_out(
        &mut self,
        wasm: &[u8],
        stateful: bool,
        batch: Vec<Call>,
        error: &DecodeError,
        queue: &mut VecDeque<Call>,
    ) {
        let mut good = Vec::new();
        let mut taint = None;
        let mut faulty = 0;
        for call in batch {
            if let Some(reason) = taint {
                self.report.skip(reason);
                continue;
            }
            match invoke::lower_invokes(wasm, std::slice::from_ref(&call.invoke)) {
                Ok(_) => good.push(call),
                Err(e) => {
                    faulty += 1;
                    match classify(&e) {
                        Ok(reason) => {
                            self.report.skip(reason);
                            if stateful && call.expect.for_effect() {
                                taint = Some(reason);
                            }
                        }
                        Err(why) => self.report.fail(
                            call.line,
                            &call.command(),
                            &call.expect.describe(),
                            why,
                        ),
                    }
                }
            }
        }
        if faulty == 0 {
            // Each call lowers alone but not together: fail them all.
            for call in good {
                self.report.fail(
                    call.line,
                    &call.command(),
                    &call.expect.describe(),
                    error.to_string(),
                );
            }
            return;
        }
        if let Some(reason) = taint {
            for _ in queue.drain(..) {
                self.report.skip(reason);
            }
        }
        for call in good.into_iter().rev() {
            queue.push_front(call);
        }
    }

    /// Checks one call's outcome: its results, or how its run ended.
    fn judge(&mut self, call: &Call, outcome: Result<&Vec<Value>, &Ending>) {
        let expected = call.expect.describe();
        let command = call.command();
        let got = match (&call.expect, outcome) {
            (Expect::Completes, Ok(_)) => return self.report.pass(),
            (Expect::Values(want), Ok(got)) => {
                let ok = want.len() == got.len()
                    && want.iter().zip(got).all(|(alts, v)| alts.contains(v));
                if ok {
                    return self.report.pass();
                }
                describe_values(got)
            }
            (Expect::Trap(m) | Expect::Exhaustion(m), Err(Ending::Trap(trap)))
                if trap.as_str().starts_with(m.as_str()) =>
            {
                return self.report.pass();
            }
            (Expect::Trap(_) | Expect::Exhaustion(_), Ok(got)) => {
                format!("returned {}", describe_values(got))
            }
            (_, Err(ending)) => describe_ending(ending),
        };
        self.report.fail(call.line, &command, &expected, got);
    }
}

fn is_component(module: &QuoteWat) -> bool {
    matches!(
        module,
        QuoteWat::QuoteComponent(..) | QuoteWat::Wat(Wat::Component(_))
    )
}

/// The parameter and result types of an exported function.
pub fn export_signature(
    wasm: &[u8],
    export: &str,
) -> Result<(Vec<wasmparser::ValType>, Vec<wasmparser::ValType>), String> {
    use wasmparser::{CompositeInnerType, ExternalKind, Payload, TypeRef};
    let mut types: Vec<Option<wasmparser::FuncType>> = Vec::new();
    let mut functions: Vec<u32> = Vec::new();
    let mut found = None;
    let mut exports = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload.map_err(|e| e.to_string())? {
            Payload::TypeSection(reader) => {
                for group in reader {
                    for sub in group.map_err(|e| e.to_string())?.into_types() {
                        types.push(match sub.composite_type.inner {
                            CompositeInnerType::Func(f) => Some(f),
                            _ => None,
                        });
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    if let TypeRef::Func(t) = import.map_err(|e| e.to_string())?.ty {
                        functions.push(t);
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for t in reader {
                    functions.push(t.map_err(|e| e.to_string())?);
                }
            }
            Payload::ExportSection(reader) => {
                for e in reader {
                    let e = e.map_err(|e| e.to_string())?;
                    if e.kind == ExternalKind::Func {
                        exports.push(e.name.to_owned());
                        if e.name == export {
                            found = Some(e.index);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let Some(index) = found else {
        return Err(if exports.is_empty() {
            format!("no exported function {export:?}: the module exports no functions")
        } else {
            format!(
                "no exported function {export:?}; the module exports: {}",
                exports.join(", ")
            )
        });
    };
    let ty = functions
        .get(index as usize)
        .and_then(|&t| types.get(t as usize).cloned().flatten())
        .ok_or_else(|| format!("{export}: function {index} has no function type"))?;
    Ok((ty.params().to_vec(), ty.results().to_vec()))
}

/// Parses `--invoke` arguments against the export's signature: `i32:5`,
/// `i64:-3`, or a plain integer typed by the parameter; values may be
/// signed or unsigned decimal, or hexadecimal (`0x…`).
pub fn invoke_args(wasm: &[u8], export: &str, args: &[String]) -> Result<Invoke, String> {
    let (params, _) = export_signature(wasm, export)?;
    if params.len() != args.len() {
        return Err(format!(
            "{export} takes {} argument{} ({}), {} given",
            params.len(),
            if params.len() == 1 { "" } else { "s" },
            params
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            args.len()
        ));
    }
    let mut values = Vec::new();
    for (i, (param, arg)) in params.iter().zip(args).enumerate() {
        let kind = match param {
            wasmparser::ValType::I32 => ValueKind::I32,
            wasmparser::ValType::I64 => ValueKind::I64,
            other => {
                return Err(format!(
                    "{export}: parameter {i} is {other}; the machine has i32 and i64 only"
                ));
            }
        };
        let (given, text) = match arg.split_once(':') {
            Some(("i32", v)) => (Some(ValueKind::I32), v),
            Some(("i64", v)) => (Some(ValueKind::I64), v),
            Some((t, _)) => return Err(format!("argument {arg:?}: unknown type {t:?}")),
            None => (None, arg.as_str()),
        };
        if given.is_some_and(|g| g != kind) {
            return Err(format!(
                "argument {arg:?}: {export}'s parameter {i} is {kind}"
            ));
        }
        values.push(parse_value(kind, text).ok_or_else(|| {
            format!("argument {arg:?}: not a {kind} (decimal, signed or unsigned, or 0x hex)")
        })?);
    }
    Ok(Invoke {
        export: export.to_owned(),
        args: values,
    })
}

fn parse_value(kind: ValueKind, text: &str) -> Option<Value> {
    let text = text.replace('_', "");
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(&text)),
    };
    let magnitude: u128 = match digits.strip_prefix("0x").or(digits.strip_prefix("0X")) {
        Some(hex) => u128::from_str_radix(hex, 16).ok()?,
        None => digits.parse().ok()?,
    };
    let bits = match kind {
        ValueKind::I32 => 32,
        ValueKind::I64 => 64,
    };
    let raw: u128 = if negative {
        if magnitude > 1u128 << (bits - 1) {
            return None;
        }
        (1u128 << bits).wrapping_sub(magnitude) & ((1u128 << bits) - 1)
    } else {
        if magnitude >= 1u128 << bits {
            return None;
        }
        magnitude
    };
    Some(match kind {
        ValueKind::I32 => Value::I32(raw as u32),
        ValueKind::I64 => Value::I64(raw as u64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference() -> Options<'static> {
        Options {
            engine: WastEngine::Reference,
            fuel: DEFAULT_FUEL,
        }
    }

    #[test]
    fn values_parse_signed_unsigned_and_hex() {
        assert_eq!(
            parse_value(ValueKind::I32, "-1"),
            Some(Value::I32(u32::MAX))
        );
        assert_eq!(
            parse_value(ValueKind::I32, "4294967295"),
            Some(Value::I32(u32::MAX))
        );
        assert_eq!(parse_value(ValueKind::I32, "4294967296"), None);
        assert_eq!(
            parse_value(ValueKind::I32, "-2147483648"),
            Some(Value::I32(0x8000_0000))
        );
        assert_eq!(parse_value(ValueKind::I32, "-2147483649"), None);
        assert_eq!(
            parse_value(ValueKind::I64, "-3"),
            Some(Value::I64(-3i64 as u64))
        );
        assert_eq!(
            parse_value(ValueKind::I64, "0xffff_ffff_ffff_ffff"),
            Some(Value::I64(u64::MAX))
        );
        assert_eq!(parse_value(ValueKind::I32, "x"), None);
    }

    #[test]
    fn invoke_args_are_typed_by_the_signature() {
        let wasm = wat::parse_str(
            r#"(module (func (export "f") (param i32 i64) (result i32) (local.get 0)))"#,
        )
        .unwrap();
        let invoke = invoke_args(&wasm, "f", &["5".into(), "i64:-3".into()]).unwrap();
        assert_eq!(invoke.args, vec![Value::I32(5), Value::I64(-3i64 as u64)]);
        assert!(invoke_args(&wasm, "f", &["i64:5".into(), "1".into()]).is_err());
        assert!(invoke_args(&wasm, "f", &["5".into()]).is_err());
        assert!(
            invoke_args(&wasm, "g", &[])
                .unwrap_err()
                .contains("exports: f")
        );
    }

    #[test]
    fn statefulness_is_memory_or_mutable_globals() {
        let parse = |s: &str| wat::parse_str(s).unwrap();
        assert!(!stateful(&parse("(module (global i32 (i32.const 1)))")));
        assert!(stateful(&parse(
            "(module (global (mut i32) (i32.const 1)))"
        )));
        assert!(stateful(&parse("(module (memory 1))")));
    }

    #[test]
    fn a_passing_script_passes() {
        let script = r#"
            (module
              (func (export "add") (param i32 i32) (result i32)
                (i32.add (local.get 0) (local.get 1)))
              (func (export "div") (param i32 i32) (result i32)
                (i32.div_s (local.get 0) (local.get 1))))
            (assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 3))
            (assert_return (invoke "add" (i32.const -1) (i32.const 1)) (i32.const 0))
            (assert_trap (invoke "div" (i32.const 1) (i32.const 0)) "integer divide by zero")
            (assert_return (invoke "div" (i32.const 7) (i32.const 2)) (i32.const 3))
            (assert_trap (invoke "div" (i32.const 0x80000000) (i32.const -1)) "integer overflow")
            (invoke "add" (i32.const 0) (i32.const 0))
            (assert_invalid (module (func (result i32) (i64.const 0))) "type mismatch")
            (assert_malformed (module quote "(func (i32.const))") "unexpected token")
        "#;
        let report = run_script("pass.wast", script, &reference());
        assert_eq!(report.failures, vec![], "{report:#?}");
        assert_eq!(report.passed, 8);
        assert_eq!(report.skipped(), 0);
        // Stateless: one run for the returns (with the first trap), one
        // for the other trap.
        assert_eq!(report.runs, 2);
    }

    #[test]
    fn a_wrong_result_and_a_missing_trap_fail() {
        let script = r#"
            (module
              (func (export "id") (param i32) (result i32) (local.get 0)))
            (assert_return (invoke "id" (i32.const 1)) (i32.const 2))
            (assert_trap (invoke "id" (i32.const 1)) "unreachable")
            (assert_return (invoke "id" (i32.const 5)) (i32.const 5))
            (assert_return (invoke "nope") (i32.const 5))
            (assert_invalid (module (func (result i32) (i32.const 0))) "type mismatch")
        "#;
        let report = run_script("fail.wast", script, &reference());
        assert_eq!(report.passed, 1, "{report:#?}");
        let lines: Vec<usize> = report.failures.iter().map(|f| f.line).collect();
        assert_eq!(lines, vec![4, 5, 7, 8], "{report:#?}");
        assert_eq!(report.failures[0].got, "i32:1");
        assert_eq!(report.failures[1].got, "returned i32:1");
        assert_eq!(report.failures[3].got, "accepted");
    }

    #[test]
    fn state_persists_between_commands_and_across_traps() {
        let script = r#"
            (module
              (global $g (mut i32) (i32.const 0))
              (func (export "bump") (result i32)
                (global.set $g (i32.add (global.get $g) (i32.const 1)))
                (global.get $g))
              (func (export "trap") (unreachable)))
            (assert_return (invoke "bump") (i32.const 1))
            (invoke "bump")
            (assert_trap (invoke "trap") "unreachable")
            (assert_return (invoke "bump") (i32.const 3))
            (assert_trap (invoke "trap") "unreachable")
            (assert_return (invoke "bump") (i32.const 4))
        "#;
        let report = run_script("state.wast", script, &reference());
        assert_eq!(report.failures, vec![], "{report:#?}");
        assert_eq!(report.passed, 6);
        assert_eq!(report.runs, 3);
    }

    #[test]
    fn float_commands_are_skipped_not_passed() {
        let script = r#"
            (module
              (func (export "f") (param f32) (result f32) (local.get 0))
              (func (export "one") (result i32) (i32.const 1)))
            (assert_return (invoke "f" (f32.const 1)) (f32.const 1))
            (assert_return (invoke "one") (i32.const 1))
            (assert_return (get "x") (i32.const 1))
        "#;
        let report = run_script("float.wast", script, &reference());
        assert_eq!(report.failures, vec![], "{report:#?}");
        assert_eq!(report.passed, 1);
        assert_eq!(report.skip_reasons.get("floats"), Some(&1));
        assert_eq!(report.skipped(), 2);
    }

    #[test]
    fn named_modules_keep_their_own_commands() {
        let script = r#"
            (module $a (func (export "v") (result i32) (i32.const 1)))
            (module $b (func (export "v") (result i32) (i32.const 2)))
            (assert_return (invoke $a "v") (i32.const 1))
            (assert_return (invoke "v") (i32.const 2))
            (assert_return (invoke $b "v") (i32.const 2))
        "#;
        let report = run_script("named.wast", script, &reference());
        assert_eq!(report.failures, vec![], "{report:#?}");
        assert_eq!(report.passed, 3);
    }

    #[test]
    fn an_unparsable_script_is_one_failure() {
        let report = run_script("bad.wast", "(module (func", &reference());
        assert_eq!(report.failed(), 1);
        assert_eq!(report.failures[0].command, "script");
    }
}
