//! Specialisation against the universal machine: a program baked into the
//! graph and the weights runs to the reference machine's trace, token for
//! token, on the graph evaluator and on both transformer engines; the
//! specialised graph is the universal one without the fetch heads and
//! without the sub-graphs of opcodes the program never uses; the CLI
//! refuses to run another program on a specialised model, and proves it.

use std::process::Command;

use tvm_catalog::Manifest;
use tvm_catalog::runner::{self, Engine, Models, Options};
use tvm_frontend::program::Input;

const FUEL: u64 = 5_000_000;

/// Programs small enough for the exact engine in a test, covering calls,
/// memory, traps, arguments and every branch kind.
const PROGRAMS: [&str; 6] = [
    "hello",
    "ops_control",
    "args",
    "exit_code",
    "trap_div0",
    "trap_oob",
];

#[test]
fn specialised_graph_and_models_reproduce_the_reference_traces() {
    let manifest = Manifest::builtin().expect("catalog");
    let universal = tvm_dsl::machine::universal();
    for name in PROGRAMS {
        let entry = manifest.program(name).expect("catalog program");
        let program = tvm_frontend::build_file(&entry.source_path()).expect("builds");
        let graph = tvm_symbolic::specialize::machine(&program.instrs).expect("specialises");
        // Smaller than the universal graph: no fetch lookups.
        let lookups = |g: &tvm_dsl::graph::Graph| {
            g.dims()
                .iter()
                .filter(|d| d.node.kind() == "LookUp")
                .count()
        };
        assert!(lookups(&graph) < lookups(&universal), "{name}");

        // The graph evaluator on the specialised prefix.
        let input = Input::from_args(entry.program_name(), &entry.args()).expect("input");
        let reference = runner::run_reference(&program, &input, FUEL);
        let prefix = program.specialised_prefix_tokens(&input);
        assert!(prefix.len() < program.prefix_tokens(&input).len());
        let eval =
            tvm_symbolic::eval::run_machine::<i128>(&graph, &prefix, FUEL).expect("evaluates");
        assert_eq!(eval.trace, reference.trace, "{name}: specialised graph");

        // Both engines on the specialised model (greedy schedule: fast).
        let (mut model, _) =
            tvm_weights::model::Model::build_with(&graph, &tvm_weights::model::Scheduler::Greedy)
                .expect("builds");
        model.program = Some(tvm_weights::model_file::BakedProgram {
            name: name.to_owned(),
            args: entry.args_str().to_owned(),
            tokens: program.baked_text(),
        });
        let options = Options {
            engines: vec![Engine::SpecExact, Engine::SpecFloat],
            fuel: FUEL,
        };
        let models = Models {
            specialised: Some(&model),
            ..Models::default()
        };
        let report = runner::check_built(entry, &program, &options, models).expect("runs");
        assert_eq!(report.runs.len(), 3, "{name}");
        assert!(report.ok(), "{name}: {:?}", report.problems);
        assert!(report.specialised_prefix_tokens < report.prefix_tokens);
    }
}

#[test]
fn opcodes_a_program_never_uses_leave_the_graph() {
    // A small program uses few opcodes (hello's printf now uses 32 of
    // the 35): every group `op:X` of an unused X is empty.
    let manifest = Manifest::builtin().expect("catalog");
    let entry = manifest.program("trap_div0").expect("trap_div0");
    let program = tvm_frontend::build_file(&entry.source_path()).expect("builds");
    let graph = tvm_symbolic::specialize::machine(&program.instrs).expect("specialises");
    let mut removed = 0;
    for op in tvm_dsl::isa::Opcode::ALL {
        let used = program.instrs.iter().any(|i| i.op == op);
        let group = graph.group(&format!("op:{op}"));
        if !used {
            assert!(
                group.is_empty(),
                "{op} is unused but has {} dims",
                group.len()
            );
            removed += 1;
        }
    }
    assert!(
        removed > 10,
        "trap_div0 leaves only {removed} opcodes unused"
    );
}

#[test]
fn hinge_tables_compute_what_their_neurons_do() {
    // The engines evaluate a baked table by binary search; read neuron by
    // neuron, the exact residual stream is the same at every position of
    // hello's whole stream, and the float one agrees to rounding.
    use tvm_engine::exact::Q;
    use tvm_engine::hull::Coord as _;
    use tvm_engine::transformer::Transformer;
    let manifest = Manifest::builtin().expect("catalog");
    let entry = manifest.program("hello").expect("hello");
    let program = tvm_frontend::build_file(&entry.source_path()).expect("builds");
    let graph = tvm_symbolic::specialize::machine(&program.instrs).expect("specialises");
    let (model, _) =
        tvm_weights::model::Model::build_with(&graph, &tvm_weights::model::Scheduler::Greedy)
            .expect("builds");
    let input = Input::from_args(entry.program_name(), &entry.args()).expect("input");
    let mut stream = program.specialised_prefix_tokens(&input);
    stream.extend(runner::run_reference(&program, &input, FUEL).trace);
    let mut tables = Transformer::<Q>::new(&model).expect("loads");
    let mut literal = Transformer::<Q>::neuron_by_neuron(&model).expect("loads");
    let mut float = Transformer::<f64>::new(&model).expect("loads");
    for (i, &token) in stream.iter().enumerate() {
        tables.push(token).expect("runs");
        literal.push(token).expect("runs");
        float.push(token).expect("runs");
        let exact_equal = tables
            .residual()
            .iter()
            .zip(literal.residual())
            .all(|(a, b)| a.compare(b).is_eq());
        assert!(
            exact_equal,
            "position {i}: the tables differ from their neurons"
        );
        for (f, q) in float.residual().iter().zip(tables.residual()) {
            let q = tvm_weights::model_file::rational_to_f64(&q.to_rational());
            assert!(
                (f - q).abs() <= 1e-6 * q.abs().max(1.0),
                "position {i}: {f} vs {q}"
            );
        }
    }
}

fn tvm(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tvm"))
        .args(args)
        .output()
        .expect("tvm runs")
}

#[test]
fn a_specialised_model_runs_its_program_only_and_is_proven() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("hello.safetensors");
    let path = model.to_string_lossy().into_owned();
    let out = tvm(&[
        "specialize",
        "hello",
        "-o",
        &path,
        "--scheduler",
        "greedy",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let figures: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(
        figures["prefix_tokens_saved"]
            .as_u64()
            .is_some_and(|n| n > 1000)
    );
    assert!(
        figures["program_digest"]
            .as_str()
            .is_some_and(|d| d.len() == 64)
    );

    // Runs without the program, on both engines, to the universal output.
    let universal = tvm(&["reference", "hello"]);
    for engine in ["float", "exact"] {
        let out = tvm(&["run", "--model", &path, "--engine", engine]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, universal.stdout, "{engine}");
    }
    // Naming its own program is fine; another is a clear error.
    assert!(tvm(&["run", "hello", "--model", &path]).status.success());
    let out = tvm(&["run", "args", "--model", &path]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("specialised to `hello`"), "{err}");
    assert!(out.stdout.is_empty());

    // The header is checked: a model whose recorded program was altered
    // (one immediate digit of its first instruction) is refused.
    let mut bytes = std::fs::read(&model).expect("model");
    let needle = b"<program> CONST ";
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("the header records the program's tokens");
    let digit = &mut bytes[at + needle.len()];
    *digit = if *digit == b'0' { b'1' } else { b'0' };
    let altered = dir.path().join("altered.safetensors");
    std::fs::write(&altered, &bytes).expect("write");
    let out = tvm(&["run", "--model", &altered.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("altered.safetensors"), "{err}");

    // And it is proven: model, tables, io, every neuron and head.
    let out = tvm(&["verify", "--model", &path, "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        report["proven"],
        true,
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let kinds: Vec<&str> = report["summary"]
        .as_array()
        .expect("summary")
        .iter()
        .filter_map(|k| k["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["model", "table", "io", "neuron", "head"]);
}
