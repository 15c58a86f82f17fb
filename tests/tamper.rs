//! A model file with one weight changed by 2⁻⁴⁰ (its digests recomputed, so
//! it loads) fails `tvm verify` with exit 6, in a report a reader can use:
//! at most 200 lines, naming the tensor and the coefficient.

use std::process::Command;

use num_bigint::BigInt;
use num_rational::BigRational;

#[test]
fn a_weight_changed_by_two_to_the_minus_forty_fails_verify_in_a_short_report() {
    let mut model = tvm::cache::load_or_build(None, &mut |notice| eprintln!("{notice}"))
        .unwrap_or_else(|e| panic!("{e:?}"));
    let name = "layer03.ffn.value";
    let tensor = model.tensors.get_mut(name).expect("the tensor exists");
    let (index, value) = tensor.entries.first_mut().expect("it has a non-zero entry");
    let index = index.clone();
    *value += BigRational::new(BigInt::from(1), BigInt::from(1u64 << 40));
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("tampered.safetensors");
    model
        .to_file()
        .expect("converts")
        .write_atomically(&path)
        .expect("writes");
    let start = std::time::Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_tvm"))
        .args(["verify", "--model"])
        .arg(&path)
        .output()
        .expect("tvm runs");
    let seconds = start.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines = stdout.lines().count();
    eprintln!(
        "tvm verify of the tampered model: {seconds:.1} s, {lines} lines, {} bytes",
        stdout.len()
    );
    assert_eq!(out.status.code(), Some(6), "{stdout}");
    assert!(
        lines <= 200,
        "{lines} lines:\n{}",
        &stdout[..stdout.len().min(4000)]
    );
    let culprit = stdout
        .lines()
        .find(|l| l.contains("culprit") && l.contains(name))
        .unwrap_or_else(|| panic!("no culprit names {name}:\n{stdout}"));
    eprintln!("{culprit} (changed entry {index:?})");
}
