//! The compiled-libc cache: a program built against the cached libc
//! objects is byte-for-byte the wasm built with the libc compiled in the
//! same clang run, the entry is made once and reused, and flags that change
//! how the libc compiles get their own entry.

use std::path::{Path, PathBuf};
use tvm_frontend::compile::{BuildOptions, compile_sources};

fn program(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../catalog/programs")
        .join(name)
}

fn entries(cache: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(cache)
        .map(|dir| dir.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    found.sort();
    found
}

#[test]
fn cached_libc_objects_build_the_same_wasm_and_are_reused() {
    let cache = tempfile::tempdir().expect("temp dir");
    let cached = BuildOptions {
        libc_cache: Some(cache.path().to_owned()),
        ..BuildOptions::default()
    };
    let programs: [&[&str]; 4] = [
        &["hello.c"],
        &["libc_check.c"],
        &["modexp64.c"],
        &["ledger.c", "ledger_table.c"],
    ];
    let mut first_entry = None;
    for sources in programs {
        let paths: Vec<PathBuf> = sources.iter().map(|s| program(s)).collect();
        let fresh = compile_sources(&paths, &BuildOptions::default())
            .unwrap_or_else(|e| panic!("{sources:?}: {e}"));
        let reused =
            compile_sources(&paths, &cached).unwrap_or_else(|e| panic!("{sources:?}: {e}"));
        assert!(
            fresh == reused,
            "{sources:?}: the cached libc changes the wasm"
        );
        // One entry, made by the first build and untouched since.
        let found = entries(cache.path());
        assert_eq!(found.len(), 1, "{found:?}");
        let object = found[0].join("obj/libc.o");
        let stamp = std::fs::metadata(&object)
            .and_then(|m| m.modified())
            .expect("the entry holds libc.o");
        match &first_entry {
            None => first_entry = Some((found[0].clone(), stamp)),
            Some(first) => assert_eq!(first, &(found[0].clone(), stamp), "the entry was rebuilt"),
        }
    }
    // A macro can change the libc's own code: it gets another entry, and
    // still the same wasm as a build without the cache.
    let define = |cache: Option<PathBuf>| BuildOptions {
        define: vec!["TVM_TEST_FLAG=1".to_owned()],
        libc_cache: cache,
        ..BuildOptions::default()
    };
    let paths = [program("hello.c")];
    let fresh = compile_sources(&paths, &define(None)).expect("builds");
    let reused = compile_sources(&paths, &define(Some(cache.path().to_owned()))).expect("builds");
    assert!(fresh == reused);
    assert_eq!(entries(cache.path()).len(), 2);
}

#[test]
fn a_program_error_is_reported_the_same_with_the_cache() {
    let cache = tempfile::tempdir().expect("temp dir");
    let dir = tempfile::tempdir().expect("temp dir");
    let broken = dir.path().join("broken.c");
    std::fs::write(
        &broken,
        "#include <stdio.h>\nint main(void) { return undefined_thing; }\n",
    )
    .expect("write");
    let paths = [broken];
    let fresh = compile_sources(&paths, &BuildOptions::default())
        .expect_err("does not compile")
        .to_string();
    let cached = compile_sources(
        &paths,
        &BuildOptions {
            libc_cache: Some(cache.path().to_owned()),
            ..BuildOptions::default()
        },
    )
    .expect_err("does not compile")
    .to_string();
    assert!(fresh.contains("undefined_thing"), "{fresh}");
    assert_eq!(fresh, cached);
}
