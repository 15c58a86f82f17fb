//! Structural guarantees of lowered programs that the machine graph relies
//! on, checked on generated code.

use tvm_dsl::isa::{MAX_STRAIGHT_RUN, Opcode};
use tvm_engine::reference::{self, CountTokens};
use tvm_frontend::program::Input;

#[test]
fn long_straight_code_gets_jumps_and_still_computes_the_same() {
    // 2,000 additions in a row: far longer than a straight run may be.
    let body: String = (0..2000)
        .map(|i| format!("i32.const {i} i32.add\n"))
        .collect();
    let text = format!(r#"(module (func (export "main") (result i32) i32.const 0 {body}))"#);
    let program =
        tvm_frontend::lower_wasm(&wat::parse_str(text).expect("valid WAT")).expect("lowers");
    let mut straight = 0;
    for instr in &program.instrs {
        straight = if instr.op.is_unconditional() {
            0
        } else {
            straight + 1
        };
        assert!(
            straight < MAX_STRAIGHT_RUN,
            "a straight run reached {straight}"
        );
    }
    assert!(
        program.instrs.iter().filter(|i| i.op == Opcode::Br).count()
            >= 2000 / MAX_STRAIGHT_RUN as usize
    );
    let run = reference::run(
        &program,
        &Input::default(),
        100_000,
        &mut CountTokens::default(),
    );
    assert_eq!(run.result, Ok((0..2000).sum::<i32>()));
}
