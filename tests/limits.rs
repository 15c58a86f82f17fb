//! Every engine stops at the same boundary, with the same ending, as the
//! reference machine: here the call depth (`MAX_CALL_DEPTH`). A recursion
//! one call short of the limit exits on every engine; one call deeper traps
//! `call stack exhausted` on every engine, with the same trace up to there.

use tvm_catalog::Trap;
use tvm_catalog::runner::{self, Ending, Engine, EngineRun};
use tvm_frontend::program::{Input, Program};

const FUEL: u64 = 5_000_000;

/// `main` recurses `depth` calls deep and returns the depth % 256.
fn recursion(depth: u32) -> Program {
    let wat = format!(
        r#"(module
  (func $down (param $n i32) (result i32)
    local.get $n
    i32.eqz
    if (result i32)
      i32.const 0
    else
      local.get $n
      i32.const 1
      i32.sub
      call $down
      i32.const 1
      i32.add
    end)
  (func (export "main") (result i32)
    i32.const {depth}
    call $down
    i32.const 255
    i32.and))"#
    );
    let wasm = wat::parse_str(&wat).expect("the test WAT parses");
    tvm_frontend::lower_wasm(&wasm).expect("lowers")
}

fn reference(depth: u32) -> EngineRun {
    runner::run_reference(&recursion(depth), &Input::default(), FUEL)
}

#[test]
fn every_engine_stops_where_the_reference_machine_runs_out_of_call_stack() {
    // The deepest recursion the reference machine completes.
    let exhausted = |d| reference(d).ending == Ending::Trap(Trap::CallStackExhausted);
    let (mut ok, mut bad) = (0u32, tvm_dsl::isa::MAX_CALL_DEPTH);
    assert!(!exhausted(ok) && exhausted(bad));
    while bad - ok > 1 {
        let mid = (ok + bad) / 2;
        if exhausted(mid) {
            bad = mid;
        } else {
            ok = mid;
        }
    }
    assert!(
        ok + 8 >= tvm_dsl::isa::MAX_CALL_DEPTH,
        "the limit is reached at depth {ok}"
    );
    let model = tvm::cache::load_or_build(None, &mut |notice| eprintln!("{notice}"))
        .unwrap_or_else(|e| panic!("{e:?}"));
    let graph = tvm_dsl::machine::universal();
    for (depth, expected) in [
        (ok, Ending::Exit((ok % 256) as i32)),
        (bad, Ending::Trap(Trap::CallStackExhausted)),
    ] {
        let program = recursion(depth);
        let input = Input::default();
        let reference = runner::run_reference(&program, &input, FUEL);
        assert_eq!(reference.ending, expected, "reference at depth {depth}");
        let runs = [
            runner::run_eval(&graph, &program, &input, FUEL),
            runner::run_transformer::<f64>(Engine::Float, &model, &program, &input, FUEL),
            runner::run_transformer::<tvm_engine::exact::Q>(
                Engine::Exact,
                &model,
                &program,
                &input,
                FUEL,
            ),
        ];
        for run in runs {
            assert_eq!(
                run.ending,
                expected,
                "{} at depth {depth}",
                run.engine.name()
            );
            assert!(
                run.trace == reference.trace,
                "{} at depth {depth}: the trace differs at token {:?}",
                run.engine.name(),
                runner::first_difference(&run.trace, &reference.trace)
            );
        }
    }
}
