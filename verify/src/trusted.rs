//! The trusted base of a verification report: what its proofs assume, so a
//! reader sees what is proven and what is not.
//!
//! Every entry names a component the report's items do not prove, says what
//! is assumed of it, and what evidence there is short of a proof (tests,
//! independent re-checks). The list is fixed text plus what the report's
//! own items show (which lowerings it proved), in a fixed order.

use crate::obligation::Kind;
use crate::report::ItemReport;
use serde::Serialize;

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
/// `specialised`).
pub fn trusted_base(items: &[ItemReport], specialised: bool) -> Vec<Assumption> {
    let lowered: Vec<&ItemReport> = items.iter().filter(|i| i.kind == Kind::Lowering).collect();
    let wide_proven = lowered
        .iter()
        .any(|i| i.name.to_ascii_lowercase().contains("64") && i.is_proven());
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
            "inline constant-operand forms",
            "the short i32 sequences for constant operands (multiplication, shifts, masks) equal their operators",
            "tested on random and edge operands against wasmi; not proven",
        ),
        entry(
            "range analysis",
            "the DSL range analysis bounds every dimension the float claims rest on",
            "interval propagation with tested rules (symbolic/tests/range.rs); its steps are not certified",
        ),
        entry(
            "MUL step lemma",
            "part + ring identity imply each loop step",
            "each part is a checked claim; the implication is argued in verify/src/lowering.rs, not checked",
        ),
        entry(
            "float engine implementation",
            "the f64 engine computes the model's attention and FFN as written (hull search, sparse rows, hinge tables)",
            "the head claims prove f64 picks the exact position within the supported range; the engine is tested equal to the exact engine token for token on the catalog",
        ),
    ];
    if !wide_proven {
        out.push(entry(
            "i64 routines",
            "the routines of i64.mul/div/rem/shifts/rotates/bit counts (over two 32-bit words) equal their operators",
            "tested on edge and random operands against wasmi and by the fuzzer; this report proves none of them",
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
