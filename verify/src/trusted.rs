//! The trusted base of a verification report: what its proofs assume, so a
//! reader sees what is proven and what is not.
//!
//! Every entry names a component the report's items do not prove, says what
//! is assumed of it, and what evidence there is short of a proof (tests,
//! independent re-checks). The list is fixed text plus what the report's
//! own items show (which lowerings it proved), in a fixed order.

use crate::lowering::routine_name;
use crate::obligation::Kind;
use crate::report::ItemReport;
use serde::Serialize;
use std::collections::BTreeSet;
use tvm_frontend::lower::routine::Routine;

/// One assumption of the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Assumption {
    /// The component trusted.
    pub name: &'static str,
    /// What is assumed of it.
    pub assumed: String,
    /// The evidence short of a proof.
    pub evidence: String,
}

fn entry(name: &'static str, assumed: &str, evidence: &str) -> Assumption {
    Assumption {
        name,
        assumed: assumed.to_owned(),
        evidence: evidence.to_owned(),
    }
}

/// The assumptions behind `items` (a report of a specialised model when
/// `specialised`; `cached` verdicts taken from the proof cache).
pub fn trusted_base(items: &[ItemReport], specialised: bool, cached: u64) -> Vec<Assumption> {
    let proven: BTreeSet<&str> = items
        .iter()
        .filter(|i| i.kind == Kind::Lowering && i.is_proven())
        .map(|i| i.name.as_str())
        .collect();
    let unproven_wide: Vec<String> = Routine::WIDE
        .iter()
        .map(|&r| routine_name(r))
        .filter(|name| !proven.contains(name.as_str()))
        .collect();
    let mut out = vec![
        entry(
            "z3",
            "every `unsat` it answers is right (it decides every SMT claim, in process, through the system libz3)",
            "`tvm verify --certs DIR` writes each claim as SMT-LIB2; `tvm proofs check DIR` re-decides them with the independent cvc5 binary",
        ),
        entry(
            "egg",
            "its explanations are sound rewrites",
            "each explanation is re-checked step by step by the exact rational checker of tvm-proofs, which shares no code with the verifier",
        ),
        entry(
            "the symbolic executor of routines",
            "it follows the reference machine's semantics instruction by instruction (verify/src/lowering.rs)",
            "the reference machine and the machine graph agree token for token on the catalog and the spec tests",
        ),
        entry(
            "clang, wasm-ld and tvm's libc",
            "a C program means what its WebAssembly build means",
            "catalog outputs equal the native build's; libc functions are tested against the host C library",
        ),
        entry(
            "wasmparser",
            "it validates and decodes the module as the WebAssembly 2.0 specification says",
            "the official spec test suite (integer files) passes on the reference machine",
        ),
        entry(
            "structured lowering",
            "blocks, branches, br_table, calls, call_indirect dispatchers, memory bounds checks, memory.grow/fill/copy and the inline i64 sequences (add, sub, compare, load, store, constant shifts and masks) mean what the wasm operators mean",
            "differential tests against wasmi on the spec tests and on wasm-smith modules (oracle/tests/fuzz.rs: 400,000 modules, no divergence); not proven",
        ),
        entry(
            "inline constant-operand forms (part)",
            "multiplication by a constant other than 0, and the forms through the scratch buffer (shifts right by 8, 16 or 24, masks of the low 1-16 bits, rem_u and div_u by powers of two), equal their operators; the others (shifts left by any constant, the identities and annihilators, shifts and rotations by multiples of 32) are proven as lowering items `SHL_BY_k`, `AND_BY_0`, …",
            "tested on random and edge operands against wasmi; the symbolic executor models no memory, and each multiplier has its own form",
        ),
        entry(
            "range analysis",
            "the DSL range analysis bounds every dimension the float claims rest on",
            "interval propagation with tested rules (symbolic/tests/range.rs); its steps are not certified",
        ),
        entry(
            "split step lemmas",
            "for MUL, MUL_WIDE_U and DIV_U64/REM_U64, each step lemma's multiplication- (division-) free part and the integer identities (ring, euclid, unique) together imply the loop step; the cross-width lemmas over the integers (MUL64.words, DIV_U64.narrow) imply their bit-vector instances",
            "each part is a checked claim (z3, re-checked by cvc5); the implications are argued in verify/src/lowering.rs and lowering/wide.rs, not checked",
        ),
        entry(
            "float engine implementation",
            "the f64 engine computes the model's attention and FFN as written (hull search, sparse rows, hinge tables)",
            "the head claims prove f64 picks the exact position within the supported range; the engine is tested equal to the exact engine token for token on the catalog",
        ),
    ];
    if !unproven_wide.is_empty() {
        out.push(entry(
            "i64 routines",
            &format!(
                "the routines {} (over two 32-bit words) equal their operators",
                unproven_wide.join(", ")
            ),
            "tested on edge and random operands against wasmi and by the fuzzer; this report does not prove them (`tvm verify --lowering all` does)",
        ));
    }
    if cached > 0 {
        out.push(entry(
            "proof cache",
            &format!(
                "{cached} verdicts taken from the proof cache were proven before, by this run or an earlier one of this verifier (a claim's `unsat`, or a lowering item for the same code and verifier sources)"
            ),
            "stored only when proven, under the SHA-256 of the claim (of the routine's code and the verifier's sources); `tvm verify --no-cache` proves everything again",
        ));
    }
    if specialised {
        out.push(entry(
            "specialisation fold",
            "the partially evaluated graph equals the universal graph with the program's tables",
            "the specialised runs equal the universal runs token for token on the catalog; the baked tables themselves are proven (table items)",
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Verdict;
    use std::time::Duration;

    fn lowering(name: String, verdict: Verdict) -> ItemReport {
        ItemReport {
            kind: Kind::Lowering,
            name,
            layer: None,
            method: "z3",
            about: String::new(),
            group: None,
            elapsed: Duration::ZERO,
            verdict,
            smt: Vec::new(),
            explanations: Vec::new(),
        }
    }

    fn wide_entry(items: &[ItemReport]) -> Option<String> {
        trusted_base(items, false, 0)
            .into_iter()
            .find(|a| a.name == "i64 routines")
            .map(|a| a.assumed)
    }

    #[test]
    fn every_wide_routine_proven_leaves_none_assumed() {
        let all: Vec<ItemReport> = Routine::WIDE
            .iter()
            .map(|&r| lowering(routine_name(r), Verdict::Proven))
            .collect();
        assert_eq!(wide_entry(&all), None);
    }

    #[test]
    fn an_unproven_or_missing_wide_routine_is_named() {
        let mut items: Vec<ItemReport> = Routine::WIDE
            .iter()
            .filter(|&&r| r != Routine::Clz64)
            .map(|&r| lowering(routine_name(r), Verdict::Proven))
            .collect();
        let missing = wide_entry(&items).unwrap_or_default();
        assert!(missing.contains("CLZ64"), "{missing}");
        assert!(!missing.contains("MUL64"), "{missing}");
        items.remove(0);
        let assumed = wide_entry(&items).unwrap_or_default();
        assert!(
            assumed.contains(&routine_name(Routine::WIDE[0])),
            "{assumed}"
        );
        assert!(wide_entry(&[]).is_some_and(|a| a.contains("POPCNT64")));
    }
}
