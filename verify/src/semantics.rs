//! The items about the machine's semantics, which need no model: each
//! opcode's DSL sub-graph against WebAssembly's 32-bit semantics
//! ([`crate::opcode`]) and each lowered operator's routine against the
//! operator it replaces ([`crate::lowering`]). Each becomes one
//! [`ItemReport`], like a neuron or a head, so they share reports and
//! certificates.

use std::time::Instant;

use tvm_dsl::graph::Graph;
use tvm_dsl::isa::Opcode;
use tvm_dsl::machine::Ports;
use tvm_frontend::lower::routine::Routine;

use crate::lowering::{self, routine_name};
use crate::obligation::{Kind, Obligation};
use crate::opcode;
use crate::report::{ItemReport, NamedSmt, Verdict, decide};

/// What a selection names, resolved: opcodes and lowered operators.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// Opcodes to prove, in [`Opcode::ALL`] order.
    pub opcodes: Vec<Opcode>,
    /// Lowered operators to prove, in [`lowered_operators`] order.
    pub lowerings: Vec<Routine>,
    /// Whether to prove the inline constant-operand forms
    /// ([`lowering::inline_forms`]).
    pub inline: bool,
}

/// Every lowered operator: the i32 ones ([`Routine::ALL`]), then the i64
/// ones ([`Routine::WIDE`]).
pub fn lowered_operators() -> Vec<Routine> {
    Routine::ALL.iter().chain(&Routine::WIDE).copied().collect()
}

/// The lowered operator a name means: its obligation name
/// ([`routine_name`]: `MUL`, `DIV_U64`, `MUL_WIDE_U`) or its wasm
/// operator (`i32.mul`, `i64.div_u`), case-insensitive.
pub fn lowered_operator(name: &str) -> Option<Routine> {
    lowered_operators().into_iter().find(|&r| {
        routine_name(r).eq_ignore_ascii_case(name) || r.wasm_name().eq_ignore_ascii_case(name)
    })
}

/// Why a selection cannot be resolved.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SelectionError {
    /// No opcode has this name.
    #[error("no opcode is named `{0}`; opcodes are {1} (or `all`)")]
    Opcode(String, String),
    /// No lowered operator has this name.
    #[error(
        "no lowered operator is named `{0}`; they are {1} (or their wasm names, like `i64.mul`; \
         `inline` for the inline constant-operand forms; or `all`)"
    )]
    Lowering(String, String),
}

impl Selection {
    /// Every opcode and every lowered operator.
    pub fn all() -> Selection {
        Selection {
            opcodes: Opcode::ALL.to_vec(),
            lowerings: lowered_operators(),
            inline: true,
        }
    }

    /// The opcodes and operators named (case-insensitive; `all` for every
    /// one). Duplicates are proven once; the order is the canonical one.
    pub fn parse(opcodes: &[String], lowerings: &[String]) -> Result<Selection, SelectionError> {
        let mut sel = Selection::default();
        for name in opcodes {
            let upper = name.to_ascii_uppercase();
            if upper == "ALL" {
                sel.opcodes = Opcode::ALL.to_vec();
                continue;
            }
            let op = Opcode::from_name(&upper).ok_or_else(|| {
                let names: Vec<&str> = Opcode::ALL.iter().map(|o| o.name()).collect();
                SelectionError::Opcode(name.clone(), names.join(" "))
            })?;
            sel.opcodes.push(op);
        }
        for name in lowerings {
            if name.eq_ignore_ascii_case("all") {
                sel.lowerings = lowered_operators();
                sel.inline = true;
                continue;
            }
            if name.eq_ignore_ascii_case("inline") {
                sel.inline = true;
                continue;
            }
            let r = lowered_operator(name).ok_or_else(|| {
                let names: Vec<String> =
                    lowered_operators().into_iter().map(routine_name).collect();
                SelectionError::Lowering(name.clone(), names.join(" "))
            })?;
            sel.lowerings.push(r);
        }
        sel.opcodes.sort_by_key(|o| o.index());
        sel.opcodes.dedup();
        let all = lowered_operators();
        let order = |r: &Routine| all.iter().position(|x| x == r);
        sel.lowerings.sort_by_key(order);
        sel.lowerings.dedup();
        Ok(sel)
    }

    /// Whether nothing is selected.
    pub fn is_empty(&self) -> bool {
        self.opcodes.is_empty() && self.lowerings.is_empty() && !self.inline
    }
}

/// One unit of semantic work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    /// An opcode's sub-graph.
    Opcode(Opcode),
    /// A lowered operator's routine.
    Lowering(Routine),
    /// An inline form of `x op c`.
    Inline(Routine, u32),
}

impl Selection {
    /// The tasks, opcodes first.
    pub fn tasks(&self) -> Vec<Task> {
        let mut out: Vec<Task> = self.opcodes.iter().map(|&o| Task::Opcode(o)).collect();
        out.extend(self.lowerings.iter().map(|&r| Task::Lowering(r)));
        if self.inline {
            out.extend(
                lowering::inline_forms()
                    .into_iter()
                    .map(|(r, c)| Task::Inline(r, c)),
            );
        }
        out
    }
}

/// Proves one task over the machine graph `graph` with its `ports`.
pub fn prove(graph: &Graph, ports: &Ports, task: Task) -> ItemReport {
    match task {
        Task::Opcode(op) => prove_opcode(graph, ports, op),
        Task::Lowering(r) => prove_lowering(r),
        Task::Inline(r, c) => prove_inline(r, c),
    }
}

/// Proves that the inline form of `x op c` computes `x op c` (and, for a
/// form that depends only on `c mod 32`, every such `c`).
pub fn prove_inline(r: Routine, c: u32) -> ItemReport {
    let start = Instant::now();
    let name = lowering::inline_name(r, c);
    let about = match lowering::inline_code(r, c) {
        Ok(code) => format!(
            "{} instructions = {} with {}",
            code.instrs.len(),
            r.wasm_name(),
            lowering::inline_constants(r, c)
        ),
        Err(_) => r.wasm_name().to_owned(),
    };
    match lowering::inline_obligations(r, c) {
        Ok(obs) => finish(Kind::Lowering, name, about, obs, start),
        Err(e) => failed(Kind::Lowering, name, about, e.to_string(), start),
    }
}

/// Proves that `graph`'s sub-graph for `op` computes `op`'s semantics.
pub fn prove_opcode(graph: &Graph, ports: &Ports, op: Opcode) -> ItemReport {
    let start = Instant::now();
    let about = format!("op:{} = {}", op.name(), opcode_semantics(op));
    match opcode::obligation(graph, ports, op) {
        Ok(ob) => finish(Kind::Opcode, op.name().to_owned(), about, vec![ob], start),
        Err(e) => failed(
            Kind::Opcode,
            op.name().to_owned(),
            about,
            e.to_string(),
            start,
        ),
    }
}

/// Proves that the routine of `r` computes the WebAssembly operator.
pub fn prove_lowering(r: Routine) -> ItemReport {
    let start = Instant::now();
    let name = routine_name(r);
    let code = lowering::routine_code(r);
    let about = match &code {
        Ok(code) => format!("{} instructions = {}", code.instrs.len(), r.wasm_name()),
        Err(_) => r.wasm_name().to_owned(),
    };
    // A lowering proven before, by this verifier, for this very code.
    let cached = crate::proof_cache::active()
        .filter(|c| c.caches_items())
        .zip(code.as_ref().ok())
        .map(|(c, code)| (c, crate::proof_cache::lowering_key(&name, &code_text(code))));
    if let Some((c, key)) = &cached
        && c.holds(key)
    {
        let mut item = report(
            Kind::Lowering,
            name,
            about,
            Vec::new(),
            Verdict::Proven,
            start,
        );
        item.method = "cache";
        return item;
    }
    let item = match lowering::obligations(r) {
        Ok(obs) => finish(Kind::Lowering, name, about, obs, start),
        Err(e) => failed(Kind::Lowering, name, about, e.to_string(), start),
    };
    if let (true, Some((c, key))) = (item.is_proven(), cached) {
        c.record(key);
    }
    item
}

/// A routine's code as text: every instruction, then the callees' entries
/// (the key of a cached lowering item).
fn code_text(code: &lowering::RoutineCode) -> String {
    use std::fmt::Write as _;
    let mut text = String::new();
    for i in &code.instrs {
        let _ = writeln!(text, "{i}");
    }
    for (pc, r) in &code.callees {
        let _ = writeln!(text, "callee {pc} {}", r.wasm_name());
    }
    text
}

/// What an opcode means, in a few words.
fn opcode_semantics(op: Opcode) -> &'static str {
    use Opcode::*;
    match op {
        Add => "i32.add, carries",
        Sub => "i32.sub, borrows",
        Eq | Ne | LtS | LtU | GtS | GtU | LeS | LeU | GeS | GeU | Eqz => "i32 comparison, 0/1",
        Load | Load8S | Load8U | Load16S | Load16U => "load, bounds-checked",
        Store | Store8 | Store16 => "store, bounds-checked",
        Select => "select",
        _ => "the reference machine's step",
    }
}

fn finish(
    kind: Kind,
    name: String,
    about: String,
    obs: Vec<Obligation>,
    start: Instant,
) -> ItemReport {
    let smt: Vec<NamedSmt> = obs
        .into_iter()
        .map(|o| NamedSmt {
            name: o.name,
            smt: o.smt,
        })
        .collect();
    let mut verdict = decide(&smt, Vec::new(), Vec::new());
    if let Verdict::Failed(f) = &mut verdict
        && let Some(c) = &f.counterexample
    {
        f.counterexample = Some(with_words(c));
    }
    report(kind, name, about, smt, verdict, start)
}

fn failed(kind: Kind, name: String, about: String, why: String, start: Instant) -> ItemReport {
    let verdict = decide(&[], vec![why], Vec::new());
    report(kind, name, about, Vec::new(), verdict, start)
}

fn report(
    kind: Kind,
    name: String,
    about: String,
    smt: Vec<NamedSmt>,
    verdict: Verdict,
    start: Instant,
) -> ItemReport {
    ItemReport {
        kind,
        name,
        layer: None,
        method: "z3",
        about,
        group: None,
        elapsed: start.elapsed(),
        verdict,
        smt,
        explanations: Vec::new(),
    }
}

/// A counterexample `a0 = #x3f, a1 = #xa5, …` with the 32-bit words its
/// byte variables make appended (`a = 0xeb6aa53f`), little-endian: the
/// operands as a user writes them.
pub fn with_words(assignment: &str) -> String {
    let mut bytes: std::collections::BTreeMap<String, [Option<u8>; 4]> = Default::default();
    for part in assignment.split(", ") {
        let Some((var, value)) = part.split_once(" = ") else {
            continue;
        };
        let mut chars = var.chars();
        let (Some(p), Some(j), None) = (chars.next(), chars.next(), chars.next()) else {
            continue;
        };
        let (Some(j), Some(v)) = (j.to_digit(10), opcode::bit_vector_value(value)) else {
            continue;
        };
        if j < 4 && p.is_ascii_lowercase() {
            bytes.entry(p.to_string()).or_default()[j as usize] = u8::try_from(v).ok();
        }
    }
    let words: Vec<String> = bytes
        .iter()
        .filter_map(|(p, b)| {
            let b: Option<Vec<u8>> = b.iter().copied().collect();
            let b = b?;
            Some(format!(
                "{p} = {:#010x}",
                u32::from_le_bytes([b[0], b[1], b[2], b[3]])
            ))
        })
        .collect();
    if words.is_empty() {
        assignment.to_owned()
    } else {
        format!("{} (words: {})", assignment, words.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selections_resolve_names_case_insensitively_and_refuse_unknown_ones() {
        let s = Selection::parse(&["add".into(), "SUB".into(), "ADD".into()], &["mul".into()])
            .expect("known names");
        assert_eq!(s.opcodes, vec![Opcode::Add, Opcode::Sub]);
        assert_eq!(s.lowerings, vec![Routine::Mul]);
        let all = Selection::parse(&["all".into()], &["all".into()]).expect("all");
        assert_eq!(all, Selection::all());
        let inline = lowering::inline_forms().len();
        assert_eq!(all.tasks().len(), 35 + 18 + 14 + inline);
        // `inline` selects the inline forms alone.
        let forms = Selection::parse(&[], &["INLINE".into()]).expect("inline");
        assert!(forms.opcodes.is_empty() && forms.lowerings.is_empty());
        assert_eq!(forms.tasks().len(), inline);
        assert!(!s.inline && !forms.is_empty());
        // i64 operators by obligation name or wasm name, in canonical order.
        let s = Selection::parse(
            &[],
            &[
                "i64.div_u".into(),
                "mul64".into(),
                "MUL_WIDE_U".into(),
                "i32.mul".into(),
            ],
        )
        .expect("known names");
        assert_eq!(
            s.lowerings,
            vec![
                Routine::Mul,
                Routine::MulWide,
                Routine::Mul64,
                Routine::DivU64
            ]
        );
        let err = Selection::parse(&["MULL".into()], &[]).expect_err("no such opcode");
        assert!(err.to_string().contains("`MULL`") && err.to_string().contains("ADD"));
        let err = Selection::parse(&[], &["ADD".into()]).expect_err("ADD is native");
        assert!(err.to_string().contains("MUL"), "{err}");
        assert!(err.to_string().contains("POPCNT64"), "{err}");
    }

    #[test]
    fn counterexample_bytes_are_also_shown_as_words() {
        let c = "a0 = #x3f, a1 = #xa5, a2 = #x6a, a3 = #xeb, b0 = #x01, n = #x000000";
        let shown = with_words(c);
        assert!(shown.ends_with("(words: a = 0xeb6aa53f)"), "{shown}");
        assert_eq!(with_words("x = 1"), "x = 1");
    }
}
