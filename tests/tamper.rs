//! `tvm verify` on a model file as a user has it: a second run of an
//! unchanged model takes its verdicts from the proof cache, and a model
//! with one weight changed by 2⁻⁴⁰ (its digests recomputed, so it loads)
//! fails with exit 6 in a short report naming the tensor and coefficient,
//! while every claim the change does not touch still comes from the cache.

use std::path::Path;
use std::process::{Command, Output};

use num_bigint::BigInt;
use num_rational::BigRational;

fn verify(model: &Path, cache: &Path) -> (Output, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_tvm"))
        .env("TVM_CACHE_DIR", cache)
        .args(["verify", "--json", "--model"])
        .arg(model)
        .output()
        .expect("tvm runs");
    let report = serde_json::from_slice(&out.stdout).unwrap_or_default();
    (out, report)
}

fn count(report: &serde_json::Value, field: &str) -> u64 {
    report["proof_cache"][field].as_u64().unwrap_or(u64::MAX)
}

#[test]
fn the_cache_serves_an_unchanged_model_and_a_tampered_weight_fails_briefly() {
    let mut model = tvm::cache::load_or_build(None, &mut |notice| eprintln!("{notice}"))
        .unwrap_or_else(|e| panic!("{e:?}"));
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = dir.path().join("cache");
    let good = dir.path().join("good.safetensors");
    let write = |model: &tvm_weights::model::Model, path: &Path| {
        model
            .to_file()
            .expect("converts")
            .write_atomically(path)
            .expect("writes");
    };
    write(&model, &good);
    // Cold, then warm: the second run decides nothing again.
    let (cold_out, cold) = verify(&good, &cache);
    assert!(
        cold_out.status.success(),
        "{}",
        String::from_utf8_lossy(&cold_out.stderr)
    );
    let (warm_out, warm) = verify(&good, &cache);
    assert!(warm_out.status.success());
    assert_eq!(count(&warm, "added"), 0, "{}", warm["proof_cache"]);
    assert!(count(&cold, "added") > 1000, "{}", cold["proof_cache"]);
    // Whole lowering routines come from the cache too (no symbolic
    // execution); the inline forms (`SHL_BY_5`, …) take only their claims
    // from it.
    let items = warm["items"].as_array().cloned().unwrap_or_default();
    let lowerings: Vec<&serde_json::Value> = items
        .iter()
        .filter(|i| i["kind"] == "lowering" && !i["name"].as_str().unwrap_or("").contains("_BY_"))
        .collect();
    assert!(!lowerings.is_empty());
    assert!(
        lowerings.iter().all(|i| i["method"] == "cache"),
        "{lowerings:?}"
    );
    eprintln!(
        "tvm verify: cold {:.1} s, warm {:.2} s",
        cold["seconds"].as_f64().unwrap_or(0.0),
        warm["seconds"].as_f64().unwrap_or(0.0)
    );
    // One weight changed by 2⁻⁴⁰.
    let name = "layer03.ffn.value";
    let tensor = model.tensors.get_mut(name).expect("the tensor exists");
    let (index, value) = tensor.entries.first_mut().expect("it has a non-zero entry");
    let index = index.clone();
    *value += BigRational::new(BigInt::from(1), BigInt::from(1u64 << 40));
    let tampered = dir.path().join("tampered.safetensors");
    write(&model, &tampered);
    let (out, report) = verify(&tampered, &cache);
    assert_eq!(out.status.code(), Some(6));
    // Only what the change touches is decided again: one neuron's claim.
    assert_eq!(count(&report, "added"), 0);
    assert!(
        count(&report, "hits") + 2 >= count(&warm, "hits"),
        "{}",
        report["proof_cache"]
    );
    // The text report: short, the culprit named by tensor, row and slot.
    let page = dir.path().join("report.html");
    let text = Command::new(env!("CARGO_BIN_EXE_tvm"))
        .env("TVM_CACHE_DIR", &cache)
        .args(["verify", "--model"])
        .arg(&tampered)
        .arg("--html")
        .arg(&page)
        .output()
        .expect("tvm runs");
    assert_eq!(text.status.code(), Some(6));
    let stdout = String::from_utf8_lossy(&text.stdout);
    let lines = stdout.lines().count();
    assert!(
        lines <= 200,
        "{lines} lines:\n{}",
        &stdout[..stdout.len().min(4000)]
    );
    let culprit = format!("{name}[{}][slot {}] = ", index[0], index[1]);
    assert!(stdout.contains(&culprit), "no culprit {culprit}:\n{stdout}");
    eprintln!("tampered: {lines} lines");
    // The page: every item a cell, the failed one marked and linked to its
    // culprit.
    let html = std::fs::read_to_string(&page).expect("the page is written");
    let items = report["items"].as_array().map_or(0, Vec::len);
    assert_eq!(html.matches("<a class=\"cell").count(), items);
    assert_eq!(html.matches("<a class=\"cell failed\"").count(), 1);
    assert!(html.contains(&format!("{} proven, 1 failed.", items - 1)));
    assert!(html.contains(&culprit), "the page lacks the culprit");
    assert!(html.contains("layer03.ffn") && html.contains("Trusted base"));
    // An attention key weight changed the same way: its head fails, named
    // by tensor, head, row and slot, and only that row is blamed.
    let mut model = tvm::cache::read_model(&good).unwrap_or_else(|e| panic!("{e:?}"));
    let tensor = model
        .tensors
        .get_mut("layer03.attn.k")
        .expect("the tensor exists");
    let (index, value) = tensor.entries.first_mut().expect("it has a non-zero entry");
    let index = index.clone();
    *value += BigRational::new(BigInt::from(1), BigInt::from(1u64 << 40));
    write(&model, &tampered);
    let text = Command::new(env!("CARGO_BIN_EXE_tvm"))
        .env("TVM_CACHE_DIR", &cache)
        .args(["verify", "--model"])
        .arg(&tampered)
        .output()
        .expect("tvm runs");
    assert_eq!(text.status.code(), Some(6));
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.lines().count() <= 200);
    let row = format!("layer03.attn.k[{}][{}]", index[0], index[1]);
    let culprit = format!("culprit: {row}[slot {}] = ", index[2]);
    assert!(stdout.contains(&culprit), "no culprit {culprit}:\n{stdout}");
    let why = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("why:"))
        .unwrap_or_default();
    assert_eq!(
        why.matches("the weights and the DSL differ").count(),
        1,
        "{why}"
    );
}
