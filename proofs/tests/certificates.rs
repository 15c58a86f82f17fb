//! Writing certificate directories and re-checking them, including
//! tampered ones. Tests that need the cvc5 binary say so and skip when it
//! is not on PATH.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tvm_proofs::manifest::sha256_hex;
use tvm_proofs::{
    Certificate, CheckOptions, CheckReport, ExplanationError, Failure, FileFormat, ProofsError,
    check_dir, write_dir,
};

fn have_cvc5() -> bool {
    let ok = std::process::Command::new("cvc5")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipped: cvc5 is not on PATH (Debian package `cvc5`)");
    }
    ok
}

fn steps(s: &[&str]) -> Vec<String> {
    s.iter().map(|s| (*s).to_owned()).collect()
}

/// Hand-written explanations, shaped like egg's flattened ones.
fn explanations() -> Vec<Certificate> {
    vec![
        Certificate::explanation(
            "neuron",
            "layer00",
            "layer00.ffn.n0.gate",
            "(+ x1 x2)",
            "(+ x2 x1)",
            steps(&["(+ x1 x2)", "(Rewrite=> add-comm (+ x2 x1))"]),
        ),
        Certificate::explanation(
            "neuron",
            "layer00",
            "layer00.ffn.n0.value",
            "(+ (* 2 d3) (+ d5 -1))",
            "(+ (- d5 1) (* 2 d3))",
            steps(&[
                "(+ (* 2 d3) (+ d5 -1))",
                "(Rewrite=> add-comm (+ (+ d5 -1) (* 2 d3)))",
                "(+ (Rewrite<= sub-to-add (- d5 1)) (* 2 d3))",
            ]),
        ),
        Certificate::explanation(
            "neuron",
            "layer01",
            "layer01.ffn.n4.gate",
            "(* 3/4 (+ x1 (neg x2)))",
            "(- (* 3/4 x1) (* 3/4 x2))",
            steps(&[
                "(* 3/4 (+ x1 (neg x2)))",
                "(Rewrite=> distribute (+ (* 3/4 x1) (* 3/4 (neg x2))))",
                "(+ (* 3/4 x1) (Rewrite=> mul-neg (neg (* 3/4 x2))))",
                "(Rewrite<= sub-to-add (- (* 3/4 x1) (* 3/4 x2)))",
            ]),
        ),
        Certificate::explanation(
            "head",
            "layer02",
            "layer02.head1.query",
            "(- x1 (neg x2))",
            "(+ x1 x2)",
            steps(&[
                "(- x1 (neg x2))",
                "(Rewrite=> sub-to-add (+ x1 (neg (neg x2))))",
                "(+ x1 (Rewrite=> neg-neg x2))",
            ]),
        ),
    ]
}

const LRA_1: &str = "(declare-const x Real)\n(assert (not (= (- (* 2 x) x) x)))\n";
const LRA_2: &str = "(declare-const x Real)\n(assert (and (>= x 1) (not (>= (- (* 2 x) 1) x))))\n";
const BV_ADD: &str = "(declare-const a (_ BitVec 32))\n(declare-const b (_ BitVec 32))\n\
                      (assert (not (= (bvadd a b) (bvadd b a))))\n";
const BV_XOR: &str = "(declare-const a (_ BitVec 32))\n(assert (not (= (bvxor a a) #x00000000)))\n";
const LIA: &str = "(declare-const n Int)\n(assert (and (> n 0) (not (>= (* 2 n) (+ n 1)))))\n";

fn smt_claims() -> Vec<Certificate> {
    vec![
        Certificate::smt("neuron", "layer00", "layer00.ffn.n0.z3", "QF_LRA", LRA_1),
        Certificate::smt("neuron", "layer00", "layer00.ffn.n1.z3", "QF_LRA", LRA_2),
        Certificate::smt("opcode", "ADD", "ADD.commutes", "QF_BV", BV_ADD),
        Certificate::smt("opcode", "XOR", "XOR.self", "QF_BV", BV_XOR),
        // One group, two logics: split into two files.
        Certificate::smt("model", "schedule", "slots.lia", "QF_LIA", LIA),
        Certificate::smt("model", "schedule", "slots.lra", "QF_LRA", LRA_1),
    ]
}

fn all() -> Vec<Certificate> {
    let mut c = smt_claims();
    c.extend(explanations());
    c
}

fn options() -> CheckOptions {
    CheckOptions {
        jobs: 3,
        ..CheckOptions::default()
    }
}

/// Every file under `dir` with its bytes, relative paths sorted.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                pending.push(p);
            } else {
                out.push((
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

/// Replaces the SHA-256 recorded for `path` by the file's current one.
fn fix_hash(dir: &Path, path: &str) {
    let manifest = dir.join("MANIFEST.json");
    let mut m: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&manifest).unwrap()).unwrap();
    let sha = sha256_hex(&fs::read(dir.join(path)).unwrap());
    let files = m["files"].as_array_mut().unwrap();
    let entry = files.iter_mut().find(|f| f["path"] == path).unwrap();
    entry["sha256"] = serde_json::Value::String(sha);
    fs::write(&manifest, serde_json::to_string_pretty(&m).unwrap()).unwrap();
}

/// Replaces `from` by `to` in the file `path` (exactly once).
fn edit(dir: &Path, path: &str, from: &str, to: &str) {
    let file = dir.join(path);
    let text = fs::read_to_string(&file).unwrap();
    assert_eq!(text.matches(from).count(), 1, "`{from}` in {path}");
    fs::write(&file, text.replacen(from, to, 1)).unwrap();
}

/// The one failing file of `report`, and its failure.
fn only_failure(report: &CheckReport) -> (&str, &Failure) {
    let failed: Vec<_> = report.failed().collect();
    assert_eq!(failed.len(), 1, "{:#?}", report.files);
    let f = failed[0];
    (f.path.as_str(), f.verdict.failure().unwrap())
}

#[test]
fn a_written_directory_checks() {
    if !have_cvc5() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("certs");
    let summary = write_dir(&dir, "sha256:model", &all()).unwrap();
    assert_eq!((summary.smt_claims, summary.explanations), (6, 4));
    let paths: Vec<String> = snapshot(&dir)
        .into_iter()
        .map(|(p, _)| p.to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        paths,
        [
            "MANIFEST.json",
            "egg/head/layer02.txt",
            "egg/neuron/layer00.txt",
            "egg/neuron/layer01.txt",
            "smt/model/schedule.QF_LIA.smt2",
            "smt/model/schedule.QF_LRA.smt2",
            "smt/neuron/layer00.smt2",
            "smt/opcode/ADD.smt2",
            "smt/opcode/XOR.smt2",
        ]
    );
    assert_eq!(summary.files, paths.len() - 1);
    let report = check_dir(&dir, &options()).unwrap();
    assert!(report.ok(), "{:#?}", report.files);
    assert_eq!(report.obligations(), 10);
    assert_eq!(report.model_digest, "sha256:model");
    assert!(report.cvc5_version.as_deref().unwrap().contains("cvc5"));
    let layer00 = report
        .files
        .iter()
        .find(|f| f.path == "smt/neuron/layer00.smt2")
        .unwrap();
    assert_eq!((layer00.kind.as_str(), layer00.obligations), ("neuron", 2));
    assert_eq!(layer00.format, FileFormat::Smt);
}

#[test]
fn writing_is_deterministic_and_replaces_an_old_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let certs = all();
    let mut reversed = certs.clone();
    reversed.reverse();
    write_dir(&a, "d", &certs).unwrap();
    write_dir(&b, "d", &reversed).unwrap();
    assert_eq!(snapshot(&a), snapshot(&b));
    // Rewriting replaces the old directory whole: a stray file goes.
    let before = snapshot(&a);
    fs::write(a.join("smt/stray.txt"), "x").unwrap();
    write_dir(&a, "d", &certs).unwrap();
    assert_eq!(snapshot(&a), before);
    // Nothing is left beside it.
    let beside: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(beside.len(), 2, "{beside:?}");
}

#[test]
fn write_refuses_bad_input_and_foreign_directories() {
    let tmp = tempfile::tempdir().unwrap();
    let foreign = tmp.path().join("home");
    fs::create_dir(&foreign).unwrap();
    fs::write(foreign.join("notes.txt"), "keep me").unwrap();
    assert!(matches!(
        write_dir(&foreign, "d", &all()),
        Err(ProofsError::NotACertificateDir { .. })
    ));
    assert_eq!(
        fs::read_to_string(foreign.join("notes.txt")).unwrap(),
        "keep me"
    );

    let dir = tmp.path().join("certs");
    let mut dup = all();
    dup.push(Certificate::smt(
        "neuron",
        "layer09",
        "layer00.ffn.n0.z3",
        "QF_LRA",
        LRA_1,
    ));
    assert!(matches!(
        write_dir(&dir, "d", &dup),
        Err(ProofsError::DuplicateName { .. })
    ));
    let sneaky = Certificate::smt(
        "neuron",
        "layer00",
        "x",
        "QF_LRA",
        "(assert true)\n(check-sat)\n",
    );
    assert!(matches!(
        write_dir(&dir, "d", &[sneaky]),
        Err(ProofsError::InvalidCertificate { .. })
    ));
    let traversal = Certificate::smt("../neuron", "layer00", "x", "QF_LRA", LRA_1);
    assert!(matches!(
        write_dir(&dir, "d", &[traversal]),
        Err(ProofsError::InvalidCertificate { .. })
    ));
    let multi_line = Certificate::smt("neuron", "layer00", "a\nb", "QF_LRA", LRA_1);
    assert!(write_dir(&dir, "d", &[multi_line]).is_err());
    // A failed write leaves nothing behind.
    assert!(!dir.exists());
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
}

#[test]
fn explanations_check_without_cvc5() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("certs");
    write_dir(&dir, "d", &explanations()).unwrap();
    let opts = CheckOptions {
        cvc5: PathBuf::from("/nonexistent/cvc5"),
        ..CheckOptions::default()
    };
    let report = check_dir(&dir, &opts).unwrap();
    assert!(report.ok(), "{:#?}", report.files);
    assert_eq!(report.obligations(), 4);
    assert_eq!(report.cvc5_version, None);
}

#[test]
fn a_missing_cvc5_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("certs");
    write_dir(&dir, "d", &all()).unwrap();
    let opts = CheckOptions {
        cvc5: PathBuf::from("/nonexistent/cvc5"),
        ..CheckOptions::default()
    };
    let error = check_dir(&dir, &opts).unwrap_err();
    assert!(matches!(error, ProofsError::Cvc5Missing { .. }));
    assert!(
        error.to_string().contains("Debian package `cvc5`"),
        "{error}"
    );
}

#[test]
fn a_changed_byte_is_a_hash_mismatch() {
    if !have_cvc5() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("certs");
    write_dir(&dir, "d", &all()).unwrap();
    edit(&dir, "smt/opcode/ADD.smt2", "(bvadd b a)", "(bvadd b b)");
    let report = check_dir(&dir, &options()).unwrap();
    let (path, failure) = only_failure(&report);
    assert_eq!(path, "smt/opcode/ADD.smt2");
    assert!(matches!(failure, Failure::HashMismatch { .. }), "{failure}");
    assert!(failure.to_string().contains("SHA-256 mismatch"));
}

#[test]
fn a_changed_claim_with_its_hash_fixed_fails_at_cvc5_naming_the_claim() {
    if !have_cvc5() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("certs");
    write_dir(&dir, "d", &all()).unwrap();
    // x ≥ 1 ⇒ 2x − 1 ≥ x becomes x ≥ 1 ⇒ 2x − 1 ≥ x + 1 (false at x = 1).
    edit(
        &dir,
        "smt/neuron/layer00.smt2",
        "(>= (- (* 2 x) 1) x)",
        "(>= (- (* 2 x) 1) (+ x 1))",
    );
    fix_hash(&dir, "smt/neuron/layer00.smt2");
    let report = check_dir(&dir, &options()).unwrap();
    let (path, failure) = only_failure(&report);
    assert_eq!(path, "smt/neuron/layer00.smt2");
    assert_eq!(
        failure,
        &Failure::WrongAnswer {
            obligation: "layer00.ffn.n1.z3".into(),
            expected: tvm_proofs::Expect::Unsat,
            actual: "sat".into(),
        }
    );
    assert!(
        failure
            .to_string()
            .contains("`layer00.ffn.n1.z3`: cvc5 answered sat")
    );
}

#[test]
fn a_smuggled_command_with_its_hash_fixed_is_malformed() {
    if !have_cvc5() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("certs");
    write_dir(&dir, "d", &all()).unwrap();
    // An extra answer that would shift every later one.
    edit(
        &dir,
        "smt/opcode/XOR.smt2",
        "(check-sat)",
        "(check-sat)\n(echo \"unsat\")",
    );
    fix_hash(&dir, "smt/opcode/XOR.smt2");
    let report = check_dir(&dir, &options()).unwrap();
    let (path, failure) = only_failure(&report);
    assert_eq!(path, "smt/opcode/XOR.smt2");
    assert!(matches!(failure, Failure::Malformed { .. }), "{failure}");
}

#[test]
fn a_broken_script_is_a_cvc5_error_naming_the_claim() {
    if !have_cvc5() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("certs");
    write_dir(&dir, "d", &all()).unwrap();
    edit(&dir, "smt/opcode/ADD.smt2", "(bvadd b a)", "(bvadd b c)");
    fix_hash(&dir, "smt/opcode/ADD.smt2");
    let report = check_dir(&dir, &options()).unwrap();
    let (_, failure) = only_failure(&report);
    match failure {
        Failure::Cvc5Error {
            obligation: Some(o),
            message,
        } => {
            assert_eq!(o, "ADD.commutes");
            assert!(message.contains("not declared"), "{message}");
        }
        other => panic!("expected a cvc5 error, got {other}"),
    }
}

#[test]
fn a_killed_run_is_a_timeout() {
    if !have_cvc5() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("certs");
    write_dir(&dir, "d", &smt_claims()[2..3]).unwrap();
    let opts = CheckOptions {
        timeout: Duration::ZERO,
        ..options()
    };
    let report = check_dir(&dir, &opts).unwrap();
    let (_, failure) = only_failure(&report);
    assert!(
        matches!(failure, Failure::Timeout { obligation: Some(o), .. } if o == "ADD.commutes"),
        "{failure}"
    );
}

#[test]
fn a_changed_explanation_step_with_its_hash_fixed_fails_naming_the_step() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("certs");
    write_dir(&dir, "d", &explanations()).unwrap();
    let path = "egg/neuron/layer00.txt";
    // 2·d3 + d5 − 1 becomes 2·d3 + d5 − 2 in the third step.
    edit(
        &dir,
        path,
        "(Rewrite<= sub-to-add (- d5 1))",
        "(Rewrite<= sub-to-add (- d5 2))",
    );
    fix_hash(&dir, path);
    let report = check_dir(&dir, &CheckOptions::default()).unwrap();
    let (failed, failure) = only_failure(&report);
    assert_eq!(failed, path);
    match failure {
        Failure::Explanation { name, error } => {
            assert_eq!(name, "layer00.ffn.n0.value");
            match error {
                ExplanationError::StepDiffers {
                    step,
                    found,
                    expected,
                    ..
                } => {
                    assert_eq!(*step, 3);
                    assert_eq!(found, "2*d3 + d5 - 2");
                    assert_eq!(expected, "2*d3 + d5 - 1");
                }
                other => panic!("expected a differing step, got {other}"),
            }
        }
        other => panic!("expected an explanation failure, got {other}"),
    }
    assert!(failure.to_string().contains("step 3"), "{failure}");
}

#[test]
fn a_deleted_file_is_missing_and_a_stray_file_is_unlisted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("certs");
    write_dir(&dir, "d", &explanations()).unwrap();
    fs::remove_file(dir.join("egg/head/layer02.txt")).unwrap();
    let report = check_dir(&dir, &CheckOptions::default()).unwrap();
    let (path, failure) = only_failure(&report);
    assert_eq!((path, failure), ("egg/head/layer02.txt", &Failure::Missing));

    write_dir(&dir, "d", &explanations()).unwrap();
    fs::write(dir.join("egg/neuron/extra.txt"), "explanation x\n").unwrap();
    let report = check_dir(&dir, &CheckOptions::default()).unwrap();
    let (path, failure) = only_failure(&report);
    assert_eq!(
        (path, failure),
        ("egg/neuron/extra.txt", &Failure::Unlisted)
    );
    assert!(failure.to_string().contains("not listed"));
}

#[test]
fn a_tampered_manifest_is_caught() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("certs");
    write_dir(&dir, "d", &explanations()).unwrap();
    let manifest = dir.join("MANIFEST.json");
    let original = fs::read_to_string(&manifest).unwrap();

    // A path outside the kind/group layout is never read.
    fs::write(
        &manifest,
        original.replace("egg/head/layer02.txt", "../../etc/passwd"),
    )
    .unwrap();
    let report = check_dir(&dir, &CheckOptions::default()).unwrap();
    let failed: Vec<_> = report.failed().map(|f| f.path.as_str()).collect();
    assert_eq!(failed, ["../../etc/passwd", "egg/head/layer02.txt"]);

    // A name the file does not hold.
    fs::write(
        &manifest,
        original.replace("layer02.head1.query", "layer02.head1.key"),
    )
    .unwrap();
    let report = check_dir(&dir, &CheckOptions::default()).unwrap();
    let (_, failure) = only_failure(&report);
    assert!(matches!(failure, Failure::Malformed { .. }), "{failure}");

    for bad in [
        "{",
        "[]",
        &original.replace("\"version\": 1", "\"version\": 9"),
    ] {
        fs::write(&manifest, bad).unwrap();
        assert!(matches!(
            check_dir(&dir, &CheckOptions::default()),
            Err(ProofsError::Manifest(_))
        ));
    }
    fs::remove_file(&manifest).unwrap();
    assert!(matches!(
        check_dir(&dir, &CheckOptions::default()),
        Err(ProofsError::NoManifest { .. })
    ));
}

#[test]
fn answers_are_matched_to_claims_in_order() {
    if !have_cvc5() {
        return;
    }
    // 100 claims in one file, every third expected `sat`: a shifted or
    // reordered answer would fail.
    let certs: Vec<Certificate> = (0..100)
        .map(|i| {
            let mut c = Certificate::smt(
                "neuron",
                "layer07",
                format!("layer07.ffn.n{i:03}"),
                "QF_LRA",
                format!("(declare-const x Real)\n(assert (not (= (+ x {i}) (+ {i} x))))\n"),
            );
            if i % 3 == 0 {
                c.body = tvm_proofs::Body::Smt {
                    logic: "QF_LRA".into(),
                    script: format!("(declare-const x Real)\n(assert (= (* 2 x) {i}))\n"),
                    expect: tvm_proofs::Expect::Sat,
                };
            }
            c
        })
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("certs");
    write_dir(&dir, "d", &certs).unwrap();
    let report = check_dir(&dir, &options()).unwrap();
    assert!(report.ok(), "{:#?}", report.files);
    assert_eq!(report.obligations(), 100);
    // Expecting `unsat` where the answer is `sat` fails at that claim.
    let manifest = dir.join("MANIFEST.json");
    let text = fs::read_to_string(&manifest).unwrap();
    let flipped = text.replacen("\"sat\"", "\"unsat\"", 2);
    fs::write(&manifest, flipped).unwrap();
    let report = check_dir(&dir, &options()).unwrap();
    let (_, failure) = only_failure(&report);
    assert_eq!(
        failure,
        &Failure::WrongAnswer {
            obligation: "layer07.ffn.n000".into(),
            expected: tvm_proofs::Expect::Unsat,
            actual: "sat".into(),
        }
    );
}
