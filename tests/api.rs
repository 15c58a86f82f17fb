//! The library API as a Rust program embedding tvm uses it: a program in
//! two files with arguments and stdin, built, prepared against the
//! universal model and run through the reference machine and the float
//! transformer (which must agree), and the typed errors of each step.

use std::path::Path;

use tvm::Error;
use tvm::source::{SourceOptions, Stdin};
use tvm_engine::reference::{self, CountTokens};
use tvm_frontend::compile::BuildOptions;

const FUEL: u64 = 10_000_000;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write test file");
    path.display().to_string()
}

/// `main.c` + `util.c` with a local header, a macro from the options, its
/// arguments and its stdin echoed.
fn two_files(dir: &Path) -> Vec<String> {
    write(dir, "util.h", "int scaled(int x);\n");
    let util = write(
        dir,
        "util.c",
        "#include \"util.h\"\nint scaled(int x) { return x * FACTOR; }\n",
    );
    let main = write(
        dir,
        "main.c",
        r#"#include <stdio.h>
#include "util.h"
int main(int argc, char **argv) {
    printf("%d argc=%d\n", scaled(21), argc);
    for (int i = 1; i < argc; i++) printf("[%s]\n", argv[i]);
    int c;
    while ((c = getchar()) != EOF) putchar(c == '\n' ? '|' : c);
    return 0;
}
"#,
    );
    vec![main, util]
}

fn options(stdin: &[u8], argv: &[&str]) -> SourceOptions {
    SourceOptions {
        build: BuildOptions {
            define: vec!["FACTOR=3".to_owned()],
            ..BuildOptions::default()
        },
        stdin: Some(Stdin::Bytes(stdin.to_vec())),
        argv: argv.iter().map(|a| (*a).to_owned()).collect(),
    }
}

#[test]
fn an_embedded_program_runs_alike_on_the_reference_machine_and_the_float_transformer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let specs = two_files(dir.path());
    let options = options(b"in put\nlast", &["one two", "x"]);
    // Built, with its input, and run on the reference machine.
    let loaded = tvm::source::load(&specs, None, &options).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(loaded.name, "main");
    let run = reference::run(&loaded.program, &loaded.input, FUEL, &mut CountTokens(0));
    assert_eq!(run.result, Ok(0));
    let expected = "63 argc=3\n[one two]\n[x]\nin put|last";
    assert_eq!(String::from_utf8_lossy(&run.output), expected);
    // Prepared against the universal model and run through the float
    // transformer: the same output.
    let model = tvm::cache::load_or_build(None, &mut |notice| eprintln!("{notice}"))
        .unwrap_or_else(|e| panic!("{e:?}"));
    let prepared = tvm::prepare::prepare(&model, &specs, None, None, &options)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        prepared.prefix,
        loaded.program.prefix_tokens(&loaded.input),
        "a universal model's prefix carries the program and its input"
    );
    let mut seen = 0;
    let outcome = tvm::execute::run_engine::<f64>(&model, &prepared.prefix, FUEL, |n| seen = n)
        .unwrap_or_else(|e| panic!("{e:?}"));
    let generated = outcome.run.expect("the run ends");
    assert_eq!(
        seen,
        generated.trace.len() as u64,
        "progress saw every token"
    );
    assert_eq!(
        tvm_catalog::runner::output_of(&generated.trace),
        run.output,
        "transformer and reference machine differ"
    );
    assert_eq!(generated.steps, run.steps);
    // A universal model needs a program.
    let none = tvm::prepare::prepare(&model, &[], None, None, &SourceOptions::default());
    assert!(
        matches!(&none, Err(Error::Request(m)) if m.contains("which program")),
        "{:?}",
        none.err()
    );
}

#[test]
fn each_step_fails_with_a_typed_error_that_says_what_to_do() {
    let dir = tempfile::tempdir().expect("temp dir");
    let specs = two_files(dir.path());
    let load = |specs: &[String], args: Option<&str>, options: &SourceOptions| {
        tvm::source::load(specs, args, options).err()
    };
    // No program; an unknown name; a missing file among several.
    assert!(matches!(
        load(&[], None, &SourceOptions::default()),
        Some(Error::Request(_))
    ));
    let unknown = load(
        &["no_such_program".to_owned()],
        None,
        &SourceOptions::default(),
    );
    assert!(
        matches!(&unknown, Some(Error::Request(m)) if m.contains("no catalog program")),
        "{unknown:?}"
    );
    let missing = load(
        &[specs[0].clone(), "absent.c".to_owned()],
        None,
        &SourceOptions::default(),
    );
    assert!(
        matches!(&missing, Some(Error::Request(m)) if m.contains("absent.c: no such file")),
        "{missing:?}"
    );
    // Arguments both ways at once.
    let both = load(&specs, Some("a b"), &options(b"", &["c"]));
    assert!(
        matches!(&both, Some(Error::Request(m)) if m.contains("not both")),
        "{both:?}"
    );
    // A source that does not compile: the build error, from clang.
    let broken = write(dir.path(), "broken.c", "int main(void) { return }\n");
    let failed = load(&[broken], None, &SourceOptions::default());
    assert!(
        matches!(
            &failed,
            Some(Error::Build {
                source: tvm_frontend::BuildError::Frontend(_),
                ..
            })
        ),
        "{failed:?}"
    );
    // A missing stdin file, and stdin larger than the memory.
    let mut absent = options(b"", &[]);
    absent.stdin = Some(Stdin::File(dir.path().join("absent.txt")));
    assert!(matches!(
        load(&specs, None, &absent),
        Some(Error::Read { .. })
    ));
    let huge = options(&vec![b'x'; 2 << 20], &[]);
    assert!(matches!(load(&specs, None, &huge), Some(Error::Stdin(_))));
    // Not a model file.
    let garbage = dir.path().join("garbage.safetensors");
    std::fs::write(&garbage, b"not a model").expect("write");
    assert!(matches!(
        tvm::cache::read_model(&garbage),
        Err(Error::ModelFile { .. })
    ));
}

#[test]
fn a_model_file_for_another_graph_is_refused_with_the_command_that_rebuilds_it() {
    let (mut model, _) = tvm::cache::build_universal(&tvm_weights::model::Scheduler::Greedy)
        .unwrap_or_else(|e| panic!("{e:?}"));
    let dir = tempfile::tempdir().expect("temp dir");
    let good = dir.path().join("good.safetensors");
    let file = model.to_file().expect("converts");
    file.write_atomically(&good).expect("writes");
    assert!(tvm::cache::read_model(&good).is_ok());
    model.graph_digest = "0".repeat(model.graph_digest.len());
    let other = dir.path().join("other.safetensors");
    let file = model.to_file().expect("converts");
    file.write_atomically(&other).expect("writes");
    let refused = tvm::cache::read_model(&other);
    assert!(
        matches!(
            &refused,
            Err(Error::GraphMismatch {
                rebuild: "build",
                ..
            })
        ),
        "{:?}",
        refused.err()
    );
    let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("tvm build"), "{message}");
}
