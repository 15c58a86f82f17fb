//! Mutation tests of the machine graph: break one neuron of an opcode's
//! sub-graph on purpose, and the trace comparison against the reference
//! machine must notice. This is what gives "the traces agree" its teeth.

use tvm_dsl::expr::Expr;
use tvm_dsl::graph::Node;
use tvm_engine::reference;
use tvm_frontend::program::Input;
use tvm_symbolic::eval::run_machine;

/// Additions and subtractions with carries and borrows in every byte.
const CARRIES: &str = r#"(module
  (import "tvm" "output" (func $out (param i32)))
  (func (export "main") (result i32) (local $i i32) (local $x i32)
    i32.const 0x00ff80ff local.set $x
    loop
      local.get $x i32.const 0x01017f01 i32.add
      local.get $i i32.const 0x00ff00ff i32.sub
      i32.sub local.set $x
      local.get $x call $out
      local.get $i i32.const 1 i32.add local.tee $i
      i32.const 6 i32.lt_s br_if 0
    end
    local.get $x))"#;

/// Every comparison on operand pairs at and around each boundary (equal,
/// one apart either way, across the sign and across 2^31).
fn comparisons() -> String {
    let pairs = [
        (5, 5),
        (5, 6),
        (6, 5),
        (-1, 0x7fff_ffff),
        (0x7fff_ffff, -1),
        (-2, -1),
        (-1, -2),
        (0, -1),
    ];
    let mut text = String::new();
    for op in [
        "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u", "eq", "ne",
    ] {
        for (x, y) in pairs {
            text.push_str(&format!(
                "(i32.{op} (i32.const {x}) (i32.const {y})) call $out\n"
            ));
        }
    }
    text
}

/// Every opcode with a value, on operands that make every byte matter:
/// loads of each width and sign, stores of each width, globals, select both
/// ways, every comparison both ways, calls and returns.
const EVERY_OPCODE: &str = r#"(module
  (import "tvm" "output" (func $out (param i32)))
  (memory 1)
  (global $g (mut i32) (i32.const 0x12345678))
  (func $f (param i32) (result i32) local.get 0 i32.const 0x01010101 i32.add)
  (func (export "main") (result i32) (local $a i32) (local $b i32)
    i32.const 100 i32.const 0x80ff7f81 i32.store
    i32.const 104 i32.const 0x8182 i32.store16
    i32.const 106 i32.const 0x83 i32.store8
    i32.const 100 i32.load call $out
    i32.const 100 i32.load8_s call $out
    i32.const 101 i32.load8_s call $out
    i32.const 103 i32.load8_s call $out
    i32.const 100 i32.load16_s call $out
    i32.const 101 i32.load16_s call $out
    i32.const 100 i32.load8_u call $out
    i32.const 102 i32.load16_s call $out
    i32.const 102 i32.load16_u call $out
    i32.const 104 i32.load call $out
    global.get $g call $f global.set $g
    global.get $g call $out
    i32.const 0x7fffffff local.set $a
    i32.const -2 local.set $b
    @COMPARISONS@
    ;; a call whose return address is above 255: its high byte matters
    global.get $g call $f call $out
    (i32.eqz (local.get $a)) call $out
    (i32.eqz (i32.const 0)) call $out
    (select (local.get $a) (local.get $b) (i32.const 1)) call $out
    (select (local.get $a) (local.get $b) (i32.const 0)) call $out
    local.get $a local.tee $b drop
    block br 0 end
    block (br_if 0 (i32.const 1)) end
    block (br_if 0 (i32.const 0)) end
    (i32.add (local.get $a) (local.get $b)) call $out
    (i32.sub (local.get $b) (global.get $g)) call $out
    global.get $g))"#;

/// Runs `program` on the reference machine and on the machine graph (they
/// must agree), then breaks every ReGLU neuron of the named groups two ways
/// — its value off by one, its gate shifted by one — and requires each
/// mutant's trace to differ. Returns the number of mutants and the trace
/// length.
fn every_mutant_is_caught(wat_text: &str, groups: &[&str]) -> (usize, usize) {
    let program =
        tvm_frontend::lower_wasm(&wat::parse_str(wat_text).expect("valid WAT")).expect("lowers");
    let input = Input::default();
    let mut expected = Vec::new();
    let run = reference::run(&program, &input, 100_000, &mut expected);
    assert!(run.result.is_ok(), "{:?}", run.result);
    let prefix = program.prefix_tokens(&input);
    let graph = tvm_dsl::machine::universal();
    assert_eq!(
        run_machine::<i128>(&graph, &prefix, 100_000)
            .expect("runs")
            .trace,
        expected
    );
    let mut mutants = 0;
    for group in groups {
        for d in graph.group(group) {
            let Node::ReGLU { a, b } = &graph.dim(d).node else {
                continue;
            };
            for broken in [
                Node::ReGLU {
                    a: a.clone() + Expr::int(1),
                    b: b.clone(),
                },
                Node::ReGLU {
                    a: a.clone(),
                    b: b.clone() + Expr::int(1),
                },
            ] {
                let mutant = graph
                    .with_node(d, broken)
                    .expect("reads only earlier dimensions");
                let trace = run_machine::<i128>(&mutant, &prefix, 100_000).map(|r| r.trace);
                assert!(
                    trace.as_ref() != Ok(&expected),
                    "{group}: breaking d{} ({:?}) went unnoticed",
                    d.0,
                    graph.dim(d).node
                );
                mutants += 1;
            }
        }
    }
    (mutants, expected.len())
}

#[test]
fn breaking_any_neuron_of_any_opcode_changes_the_trace() {
    let graph = tvm_dsl::machine::universal();
    let mut groups: Vec<&str> = graph
        .groups()
        .iter()
        .map(String::as_str)
        .filter(|g| g.starts_with("op:"))
        .collect();
    groups.sort_unstable();
    let (mutants, tokens) = every_mutant_is_caught(
        &EVERY_OPCODE.replace("@COMPARISONS@", &comparisons()),
        &groups,
    );
    assert!(mutants >= 60, "only {mutants} mutants");
    eprintln!("{mutants} mutants of the opcode sub-graphs, all caught ({tokens} trace tokens)");
}

#[test]
fn breaking_any_neuron_of_add_or_sub_changes_the_trace() {
    let (mutants, tokens) = every_mutant_is_caught(CARRIES, &["op:ADD", "op:SUB"]);
    assert!(mutants >= 8, "only {mutants} mutants");
    eprintln!("{mutants} mutants of ADD/SUB, all caught ({tokens} trace tokens)");
}
