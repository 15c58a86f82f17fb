//! Bad input never panics: unsupported features are rejected with the
//! instruction, the function and the byte offset; malformed bytes are typed
//! errors; programs that misbehave at run time are typed errors too.

use proptest::prelude::*;
use tvm_engine::reference::{self, CountTokens, RunError, TrapKind};
use tvm_frontend::decode::DecodeError;
use tvm_frontend::program::{Input, TokenFile};

fn lower_wat(text: &str) -> Result<tvm_frontend::program::Program, DecodeError> {
    tvm_frontend::lower_wasm(&wat::parse_str(text).expect("test WAT parses"))
}

fn main_with(body: &str, extra: &str) -> String {
    format!(
        r#"(module (memory 1) {extra}
             (func $work (export "main") (result i32) {body}))"#
    )
}

#[test]
fn unsupported_instructions_name_instruction_function_offset_and_feature() {
    use tvm_frontend::decode::Feature;
    let cases = [
        (
            "f32.const 1 i32.trunc_f32_s",
            "F32Const",
            Some(Feature::Floats),
        ),
        ("table.size 0", "TableSize", Some(Feature::ReferenceTypes)),
        (
            "i32.const 0 i32.const 0 i32.const 0 memory.init 0 i32.const 0",
            "MemoryInit",
            Some(Feature::BulkMemory),
        ),
    ];
    for (body, instruction, expected_feature) in cases {
        let extra = "(table 1 funcref) (data \"x\")";
        match lower_wat(&main_with(body, extra)) {
            Err(DecodeError::Unsupported {
                what,
                function,
                offset,
                feature,
            }) => {
                assert!(
                    what.contains(instruction),
                    "{what} should name {instruction}"
                );
                assert_eq!(function, "work");
                assert!(offset > 0);
                assert_eq!(feature, expected_feature, "{body}");
                let message = DecodeError::Unsupported {
                    what,
                    function,
                    offset,
                    feature,
                }
                .to_string();
                assert!(
                    message.contains("work") && message.contains("0x"),
                    "{message}"
                );
            }
            other => panic!("{body}: expected Unsupported, got {other:?}"),
        }
    }
}

#[test]
fn unsupported_module_features_are_rejected_where_the_entry_reaches_them() {
    let cases = [
        r#"(module (import "env" "f" (func)) (func (export "main") (result i32) call 0 i32.const 0))"#,
        r#"(module (import "tvm" "output" (func (param i64))) (func (export "main") (result i32) i64.const 1 call 0 i32.const 0))"#,
        r#"(module (global f32 (f32.const 0)) (func (export "main") (result i32) global.get 0 drop i32.const 0))"#,
        r#"(module (func (export "main") (result i32) (local f64) i32.const 0))"#,
        r#"(module (memory 17) (func (export "main") (result i32) i32.const 0))"#,
        r#"(module (func $f (result f32) f32.const 1) (func (export "main") (result i32) call $f drop i32.const 0))"#,
    ];
    for case in cases {
        assert!(
            matches!(lower_wat(case), Err(DecodeError::Unsupported { .. })),
            "{case}: {:?}",
            lower_wat(case)
        );
    }
    // What the entry cannot reach may use anything.
    let unreached = r#"(module (import "env" "f" (func))
        (func $g (result f64) call 0 f64.const 1)
        (func (export "main") (result i32) i32.const 0))"#;
    assert!(lower_wat(unreached).is_ok());
    let no_main = r#"(module (func (export "start") (result i32) i32.const 0))"#;
    assert!(matches!(lower_wat(no_main), Err(DecodeError::Entry(_))));
    for bad_main in [
        r#"(module (func (export "main") (param i32) (result i32) i32.const 0))"#,
        r#"(module (func (export "main") (param i64) (result i32) i32.const 0))"#,
    ] {
        assert!(matches!(lower_wat(bad_main), Err(DecodeError::Entry(_))));
    }
    let outside = r#"(module (memory 1) (data (i32.const 65535) "xy") (func (export "main") (result i32) i32.const 0))"#;
    assert!(matches!(
        lower_wat(outside),
        Err(DecodeError::Instantiate(_))
    ));
}

#[test]
fn malformed_binaries_are_invalid_not_panics() {
    let good = wat::parse_str(main_with("i32.const 7", "")).expect("parses");
    for bytes in [
        vec![],
        b"\0asm".to_vec(),
        b"garbage!".to_vec(),
        good[..good.len() - 3].to_vec(),
    ] {
        assert!(matches!(
            tvm_frontend::lower_wasm(&bytes),
            Err(DecodeError::Invalid { .. })
        ));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]
    /// Any corruption of a valid module: decode/lower/run give a result or a
    /// typed error, never a panic or a hang.
    #[test]
    fn corrupted_modules_never_panic(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)) {
        let mut bytes = wat::parse_str(main_with(
            "(local i32) loop local.get 0 i32.const 1 i32.add local.tee 0 i32.const 9 i32.lt_s br_if 0 end local.get 0 i32.const 3 i32.rem_u",
            "",
        )).expect("parses");
        for (index, value) in flips {
            let i = index.index(bytes.len());
            bytes[i] = value;
        }
        if let Ok(program) = tvm_frontend::lower_wasm(&bytes) {
            let _ = reference::run(&program, &Input::default(), 10_000, &mut CountTokens::default());
        }
    }

    /// Any token soup: the token-file reader and the machine return typed
    /// errors, never panic.
    #[test]
    fn arbitrary_token_files_never_panic(ids in prop::collection::vec(0u32..552, 0..200)) {
        let tokens: Vec<_> = ids.iter().map(|&id| tvm_dsl::token::Token::from_id(id).expect("in range")).collect();
        let mut with_header = vec![tvm_dsl::token::Token::Program];
        with_header.extend(tokens.iter().copied());
        for attempt in [tokens, with_header] {
            if let Ok(file) = TokenFile::from_tokens(&attempt) {
                let _ = reference::run(&file.program, &file.input, 10_000, &mut CountTokens::default());
            }
        }
    }
}

#[test]
fn run_time_failures_are_typed() {
    let oob = lower_wat(&main_with("i32.const 65534 i32.load", "")).expect("lowers");
    let run = reference::run(&oob, &Input::default(), 1000, &mut CountTokens::default());
    assert!(matches!(
        run.result,
        Err(RunError::Trap {
            kind: TrapKind::OutOfBoundsMemoryAccess,
            ..
        })
    ));

    let forever = lower_wat(&main_with("loop br 0 end i32.const 0", "")).expect("lowers");
    let run = reference::run(
        &forever,
        &Input::default(),
        5000,
        &mut CountTokens::default(),
    );
    assert_eq!(run.result, Err(RunError::OutOfFuel { steps: 5000 }));
    assert_eq!(run.steps, 5000);

    let recursion = r#"(module (func $f (export "main") (result i32) call $f))"#;
    let run = reference::run(
        &lower_wat(recursion).expect("lowers"),
        &Input::default(),
        10_000_000,
        &mut CountTokens::default(),
    );
    assert!(matches!(
        run.result,
        Err(RunError::Trap {
            kind: TrapKind::CallStackExhausted,
            ..
        })
    ));
}

#[test]
fn a_token_file_that_pushes_forever_stops_with_an_error() {
    let text = "<program>\nCONST 00 00 00 00\nBR 00 00 00 00\n<memory> 00 00 00 00\n<run>\n";
    let file = TokenFile::parse(text).expect("a valid prefix");
    let run = reference::run(
        &file.program,
        &file.input,
        u64::MAX,
        &mut CountTokens::default(),
    );
    assert!(
        matches!(run.result, Err(RunError::Malformed { .. })),
        "{:?}",
        run.result
    );
}

#[test]
fn errors_in_a_body_name_the_function_by_its_export_when_it_has_no_name() {
    let text = r#"(module (func (export "main") (result i32) (local f64) i32.const 0))"#;
    match lower_wat(text) {
        Err(DecodeError::Unsupported { what, function, .. }) => {
            assert!(what.contains("f64"), "{what}");
            assert_eq!(function, "main");
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
}
