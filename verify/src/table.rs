//! The baked instruction tables of a specialised model: each table of the
//! machine graph equals, at every integer program counter, the program's
//! instructions — the opcode index ([`TABLE_OP`]) or immediate byte `m`
//! ([`TABLE_IMM`]`m`) of instruction `pc` for `pc` in `0..n`, and 0 at every
//! other integer.
//!
//! A table is a persisted sum `c₀ + Σ cᵢ·relu(x − τᵢ)·1` over hinges of one
//! input dimension `x`, the one the machine names for it ([`TABLE_OP_INPUT`],
//! the next pc; [`TABLE_IMM_INPUT`], the current pc). It is piecewise linear with breakpoints `τᵢ`, so its values
//! at every integer of `[min(τ, −1) − 1, max(τ, n) + 1]` (swept in order,
//! exact rationals) and its slope past the last breakpoint (`Σcᵢ`, which
//! must be 0) decide it for every integer `x`. The neuron proofs show the
//! weights compute the graph's tables; this proof shows the tables are the
//! program (read from the model's header), by a path independent of the
//! construction (`tvm_dsl::graph::Graph::table`).

use std::time::Instant;

use num_traits::{One, Signed as _, Zero};
use tvm_dsl::expr::{Expr, Rational};
use tvm_dsl::graph::{Graph, Input, Node};
use tvm_dsl::isa::Instr;
use tvm_dsl::machine::{TABLE_IMM, TABLE_IMM_INPUT, TABLE_OP, TABLE_OP_INPUT};

use crate::obligation::Kind;
use crate::report::{ItemReport, decide};

/// One table a program must have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// The table's dimension name.
    pub name: String,
    /// Its input dimension's name.
    pub input: String,
    /// Its value at instruction `i`, for `i` in `0..n` (0 elsewhere).
    pub values: Vec<i64>,
}

/// The tables of a program, in report order (opcode, then immediate bytes
/// 0–3).
pub fn expected(program: &[Instr]) -> Vec<Column> {
    let mut out = vec![Column {
        name: TABLE_OP.to_owned(),
        input: TABLE_OP_INPUT.to_owned(),
        values: program.iter().map(|i| i64::from(i.op.index())).collect(),
    }];
    for m in 0..4 {
        out.push(Column {
            name: format!("{TABLE_IMM}{m}"),
            input: TABLE_IMM_INPUT.to_owned(),
            values: program
                .iter()
                .map(|i| i64::from(i.imm.to_le_bytes()[m]))
                .collect(),
        });
    }
    out
}

/// The item name of table `name`.
pub fn item_name(name: &str) -> String {
    format!("table.{name}")
}

/// One hinge `c·relu(x − τ)`.
struct Hinge {
    breakpoint: Rational,
    coef: Rational,
}

/// The table dimension's shape: its input `x` (one dimension named
/// `input`), constant and hinges; or why it is not a table.
fn shape(
    graph: &Graph,
    e: &Expr,
    input_name: &str,
) -> Result<(Expr, Rational, Vec<Hinge>), String> {
    let mut input: Option<Expr> = None;
    let mut hinges = Vec::new();
    for (d, c) in e.terms() {
        let Node::ReGLU { a, b } = &graph.dim(*d).node else {
            return Err(format!(
                "term {} is a {}, not a hinge",
                graph.label(*d),
                graph.dim(*d).node.kind()
            ));
        };
        let unit = match a.terms() {
            [] => a.constant_term().is_one(),
            [(one, k)] => {
                a.constant_term().is_zero()
                    && k.is_one()
                    && graph.dim(*one).node == Node::Input(Input::One)
            }
            _ => false,
        };
        if !unit {
            return Err(format!(
                "hinge {} has value side {a}, not 1",
                graph.label(*d)
            ));
        }
        let x = b.clone() - Expr::constant(b.constant_term().clone());
        match &input {
            None => input = Some(x),
            Some(first) if *first == x => {}
            Some(first) => {
                return Err(format!(
                    "hinge {} reads {x}, the others {first}",
                    graph.label(*d)
                ));
            }
        }
        hinges.push(Hinge {
            breakpoint: -b.constant_term().clone(),
            coef: c.clone(),
        });
    }
    let input = input.ok_or_else(|| "it has no hinges".to_owned())?;
    match input.terms() {
        [(d, k)] if k.is_one() && graph.label(*d) == input_name => {}
        _ => {
            return Err(format!(
                "its hinges read {input}, not the dimension {input_name}"
            ));
        }
    }
    Ok((input, e.constant_term().clone(), hinges))
}

/// `⌊r⌋` as an `i64` (saturating far out of any program's range).
fn floor(r: &Rational) -> i64 {
    i64::try_from(r.floor().to_integer()).unwrap_or(if r.is_negative() {
        i64::MIN / 2
    } else {
        i64::MAX / 2
    })
}

/// Proves `column`'s table in `graph`: a function of its input equal to
/// its values (0 outside). `columns` are all the program's tables: two
/// equal columns of one input are built as one hash-consed dimension,
/// which carries the first one's name, so a column whose name is absent is
/// proven on the dimension of an earlier equal column.
pub fn prove(graph: &Graph, column: &Column, columns: &[Column]) -> ItemReport {
    let start = Instant::now();
    let (name, values) = (column.name.as_str(), column.values.as_slice());
    let mut failures = Vec::new();
    let mut culprits = Vec::new();
    let named = |name: &str| {
        graph
            .dims()
            .iter()
            .enumerate()
            .find(|(i, _)| graph.label(tvm_dsl::expr::Dim(*i as u32)) == name)
            .map(|(_, d)| d)
    };
    let (dim, shared) = match named(name) {
        Some(d) => (Some(d), None),
        None => columns
            .iter()
            .take_while(|c| c.name != column.name)
            .filter(|c| c.input == column.input && c.values == column.values)
            .find_map(|c| named(&c.name).map(|d| (Some(d), Some(c.name.as_str()))))
            .unwrap_or((None, None)),
    };
    let mut about;
    match dim.map(|d| &d.node) {
        None => {
            // Folded to a constant or never read: only an all-zero column
            // may be.
            about = "no table dimension (a constant 0)".to_owned();
            if let Some(at) = values.iter().position(|v| *v != 0) {
                failures.push(format!(
                    "the graph has no table {name}, but instruction {at} has value {}",
                    values[at]
                ));
            }
        }
        Some(Node::Persist(e)) => match shape(graph, e, &column.input) {
            Err(why) => {
                about = String::new();
                failures.push(format!("{name} is not a table: {why}"));
            }
            Ok((_, c0, mut hinges)) => {
                about = format!(
                    "{} hinges of {}, {} instructions",
                    hinges.len(),
                    column.input,
                    values.len()
                );
                hinges.sort_by(|a, b| a.breakpoint.cmp(&b.breakpoint));
                let n = values.len() as i64;
                let lo = hinges.first().map_or(-1, |h| floor(&h.breakpoint).min(-1)) - 1;
                let hi = hinges
                    .last()
                    .map_or(n, |h| (floor(&h.breakpoint) + 1).max(n))
                    + 1;
                let expected = |p: i64| -> i64 {
                    usize::try_from(p)
                        .ok()
                        .and_then(|i| values.get(i))
                        .copied()
                        .unwrap_or(0)
                };
                // Sweep: f(p) = c₀ + p·Σ_{τ<p} c − Σ_{τ<p} c·τ.
                let (mut slope, mut offset) = (Rational::zero(), Rational::zero());
                let mut next = 0;
                for p in lo..=hi {
                    let at = Rational::from_integer(p.into());
                    while let Some(h) = hinges.get(next)
                        && h.breakpoint < at
                    {
                        slope += &h.coef;
                        offset += &h.coef * &h.breakpoint;
                        next += 1;
                    }
                    let f = &c0 + &at * &slope - &offset;
                    let want = expected(p);
                    if f != Rational::from_integer(want.into()) {
                        culprits.push(format!(
                            "at {} = {p}: the table gives {f}, the program {want}",
                            column.input
                        ));
                        if culprits.len() >= 16 {
                            break;
                        }
                    }
                }
                let total: Rational = hinges.iter().map(|h| h.coef.clone()).sum();
                if !total.is_zero() {
                    failures.push(format!(
                        "past its last breakpoint the table has slope {total}, not 0"
                    ));
                }
                if !culprits.is_empty() {
                    failures.push("the table differs from the program's instructions".to_owned());
                }
            }
        },
        Some(other) => {
            about = String::new();
            failures.push(format!("{name} is a {}, not a table", other.kind()));
        }
    }
    if let Some(other) = shared {
        about = format!("{about} (one dimension with {other}: equal columns)");
    }
    ItemReport {
        kind: Kind::Table,
        name: item_name(name),
        layer: None,
        method: "exact",
        about,
        group: None,
        elapsed: start.elapsed(),
        verdict: decide(&[], failures, culprits),
        smt: Vec::new(),
        explanations: Vec::new(),
    }
}
