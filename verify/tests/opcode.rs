//! Opcode proofs on the universal machine graph: every opcode's value
//! bytes are its semantics (z3, and cvc5 on the same text), the spec the
//! scripts state agrees with the reference machine, and a broken neuron
//! makes the proof fail with concrete operands.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Instant;

use num_bigint::BigInt;
use num_rational::BigRational;
use tvm_dsl::expr::{Dim, Expr};
use tvm_dsl::graph::{Graph, Input, LookUp, Node, Tie};
use tvm_dsl::isa::{Instr, Opcode};
use tvm_dsl::machine::{Ports, universal_with_ports};
use tvm_dsl::token::Token;
use tvm_engine::reference;
use tvm_frontend::program::{Input as ProgramInput, Program, Segment};
use tvm_verify::obligation::{Kind, Obligation};
use tvm_verify::opcode::{OpcodeError, all_obligations, bit_vector_value, obligation};
use tvm_verify::smt::{self, Outcome};

/// z3's budget per claim ([`smt::check`]: deterministic resource units, about
/// a millisecond each); every opcode takes well under a second.
const BUDGET: u32 = 60_000;

fn machine() -> (Graph, Ports) {
    universal_with_ports()
}

/// The value of variable `name` in a counterexample.
fn value(values: &[(String, String)], name: &str) -> u64 {
    let text = values
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no `{name}` in the counterexample {values:?}"));
    bit_vector_value(text).unwrap_or_else(|| panic!("`{name} = {text}` is not a bit-vector"))
}

/// The 4 bytes `{prefix}0..3` of a counterexample.
fn bytes(values: &[(String, String)], prefix: &str) -> [u8; 4] {
    std::array::from_fn(|j| value(values, &format!("{prefix}{j}")) as u8)
}

fn counterexample(ob: &Obligation) -> Vec<(String, String)> {
    match smt::check(&ob.smt, BUDGET) {
        Outcome::Counterexample(values) => values,
        other => panic!("{}: expected a counterexample, got {other:?}", ob.name),
    }
}

#[test]
fn every_opcode_is_proven_by_z3() {
    let (g, p) = machine();
    let obligations = all_obligations(&g, &p).expect("the machine graph has opcode obligations");
    println!(
        "{:<10} {:>5} {:>7} {:>9}  outcome",
        "opcode", "bits", "bytes", "z3 ms"
    );
    let start = Instant::now();
    let mut failed = Vec::new();
    for ob in &obligations {
        let t = Instant::now();
        let outcome = smt::check(&ob.smt, BUDGET);
        let bits = ob
            .smt
            .script
            .lines()
            .find_map(|l| l.strip_prefix("; DSL values: "))
            .and_then(|l| l.split('-').next())
            .unwrap_or("?");
        let shown = match &outcome {
            Outcome::Proven => "proven".to_owned(),
            Outcome::Counterexample(v) => format!("FAILS: {}", smt::show_assignment(v)),
            Outcome::Unknown(why) => format!("unknown: {why}"),
        };
        println!(
            "{:<10} {:>5} {:>7} {:>9}  {shown}",
            ob.name,
            bits,
            ob.smt.script.len(),
            t.elapsed().as_millis()
        );
        if !outcome.is_proven() {
            failed.push(ob.name.clone());
        }
    }
    println!(
        "all {} in {} ms",
        obligations.len(),
        start.elapsed().as_millis()
    );
    assert!(failed.is_empty(), "not proven: {failed:?}");
}

#[test]
fn the_obligations_cover_all_35_opcodes_deterministically() {
    let (g, p) = machine();
    let first = all_obligations(&g, &p).expect("obligations");
    let names: Vec<&str> = first.iter().map(|o| o.name.as_str()).collect();
    let expected: Vec<&str> = Opcode::ALL.iter().map(|o| o.name()).collect();
    assert_eq!(names, expected);
    assert_eq!(first.len(), 35);
    for ob in &first {
        assert_eq!(ob.kind, Kind::Opcode);
        assert_eq!(ob.layer, None);
        assert_eq!(ob.smt.logic, "QF_BV");
        // One script per opcode: declarations, then the negated claim last.
        assert!(ob.smt.script.contains("(declare-const a0 (_ BitVec 8))"));
        assert!(
            ob.smt
                .script
                .trim_end()
                .lines()
                .last()
                .is_some_and(|l| l.starts_with("(assert (not (and claim.k0")),
            "{}",
            ob.name
        );
    }
    // The same graph gives byte-identical scripts (a fresh build too).
    let (g2, p2) = machine();
    assert_eq!(all_obligations(&g2, &p2).expect("obligations"), first);
    assert_eq!(obligation(&g, &p, Opcode::Add).expect("ADD"), first[32]);
}

/// Runs `cvc5` on the script, if it is installed.
fn cvc5(ob: &Obligation) -> Option<String> {
    let mut child = Command::new("cvc5")
        .args(["--lang", "smt2"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    child
        .stdin
        .take()?
        .write_all(ob.smt.standalone().as_bytes())
        .ok()?;
    let out = child.wait_with_output().ok()?;
    Some(format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout).trim(),
        String::from_utf8_lossy(&out.stderr).trim()
    ))
}

#[test]
fn cvc5_proves_the_same_scripts() {
    if Command::new("cvc5").arg("--version").output().is_err() {
        println!("cvc5 is not on PATH: skipped");
        return;
    }
    let (g, p) = machine();
    for op in [
        Opcode::Add,
        Opcode::Sub,
        Opcode::LtS,
        Opcode::Select,
        Opcode::Load8S,
        Opcode::Store16,
        Opcode::BrIf,
    ] {
        let ob = obligation(&g, &p, op).expect("obligation");
        let t = Instant::now();
        let answer = cvc5(&ob).expect("cvc5 runs");
        println!("{op:<8} cvc5: {answer} ({} ms)", t.elapsed().as_millis());
        assert_eq!(answer, "unsat", "{op}");
    }
}

/// The ReGLU dimensions of group `group` whose value side is `a`.
fn neurons_reading(g: &Graph, group: &str, a: &Expr) -> Vec<Dim> {
    g.group(group)
        .into_iter()
        .filter(|&d| matches!(&g.dim(d).node, Node::ReGLU { a: x, .. } if x == a))
        .collect()
}

/// `g` with each of `dims` (ReGLU nodes) given the gate `f(b)`.
fn with_gates(g: &Graph, dims: &[Dim], f: impl Fn(&Expr) -> Expr) -> Graph {
    dims.iter().fold(g.clone(), |g, &d| {
        let Node::ReGLU { a, b } = g.dim(d).node.clone() else {
            panic!("d{} is not a neuron", d.0)
        };
        g.with_node(d, Node::ReGLU { a, b: f(&b) })
            .expect("the mutation reads earlier dimensions only")
    })
}

fn one(g: &Graph) -> Expr {
    let d = (0..g.dims().len())
        .map(|i| Dim(i as u32))
        .find(|&d| g.dim(d).node == Node::Input(Input::One))
        .expect("the graph has the constant 1");
    Expr::dim(d)
}

/// ADD's carry out of byte `j` is `ge_zero(sum − 256)`, two neurons
/// `relu(sum − 255) − relu(sum − 256)` over `1`; shifting both gates by
/// one makes it `[sum ≥ 255]`.
#[test]
fn a_carry_that_compares_with_255_fails_with_the_operands_that_sum_to_255() {
    let (g, p) = machine();
    let carry = neurons_reading(&g, "op:ADD", &one(&g));
    assert_eq!(carry.len(), 2, "ge_zero is two neurons");
    let broken = with_gates(&g, &carry, |b| b.clone() + 1);
    let ob = obligation(&broken, &p, Opcode::Add).expect("obligation");
    let values = counterexample(&ob);
    let (a, b) = (bytes(&values, "a"), bytes(&values, "b"));
    println!(
        "ADD with a broken carry fails at {}",
        smt::show_assignment(&values)
    );
    // The graph and WebAssembly disagree exactly where a byte's sum, with
    // the carry into it, is 255.
    let mut carry_in = 0u32;
    let mut at_255 = false;
    for j in 0..4 {
        let sum = u32::from(a[j]) + u32::from(b[j]) + carry_in;
        at_255 |= sum == 255;
        carry_in = u32::from(sum > 255);
    }
    assert!(at_255, "a = {a:?}, b = {b:?}: no byte sums to 255");
    // The other opcodes do not read ADD's carry.
    let sub = obligation(&broken, &p, Opcode::Sub).expect("obligation");
    assert!(smt::check(&sub.smt, BUDGET).is_proven());
}

/// LT_U's bit is `stepglu(f, b − a − 1)`: two neurons over `f = is(LT_U) ∧
/// k = 0`. Shifting both gates by one computes `b − a ≥ 0`, i.e. LE_U.
#[test]
fn a_comparison_off_by_one_fails_with_equal_operands() {
    let (g, p) = machine();
    let group = g.group("op:LT_U");
    let flag = group
        .iter()
        .copied()
        .find(|&d| matches!(&g.dim(d).node, Node::ReGLU { a, .. } if *a == one(&g)))
        .expect("LT_U's flag neuron");
    let step = neurons_reading(&g, "op:LT_U", &Expr::dim(flag));
    assert_eq!(step.len(), 2, "stepglu is two neurons");
    let broken = with_gates(&g, &step, |b| b.clone() + 1);
    let ob = obligation(&broken, &p, Opcode::LtU).expect("obligation");
    let values = counterexample(&ob);
    println!("LT_U off by one fails at {}", smt::show_assignment(&values));
    let (a, b) = (bytes(&values, "a"), bytes(&values, "b"));
    assert_eq!(u32::from_le_bytes(a), u32::from_le_bytes(b));
    // LT_S and ADD are untouched.
    for op in [Opcode::LtS, Opcode::Add] {
        let ob = obligation(&broken, &p, op).expect("obligation");
        assert!(smt::check(&ob.smt, BUDGET).is_proven(), "{op}");
    }
}

/// The mutation score of the opcode proofs: every neuron of every
/// opcode's own sub-graph (`op:NAME`), its gate shifted by one, makes that
/// opcode's proof fail.
#[test]
fn every_neuron_of_an_opcode_sub_graph_is_checked_by_its_proof() {
    let (g, p) = machine();
    let mut mutants = 0;
    let mut survivors = Vec::new();
    for op in Opcode::ALL {
        for d in g.group(&format!("op:{op}")) {
            if !matches!(g.dim(d).node, Node::ReGLU { .. }) {
                continue;
            }
            let broken = with_gates(&g, &[d], |b| b.clone() + 1);
            let ob = obligation(&broken, &p, op).expect("obligation");
            mutants += 1;
            if !matches!(smt::check(&ob.smt, BUDGET), Outcome::Counterexample(_)) {
                survivors.push(format!("{op} d{}", d.0));
            }
        }
    }
    println!("{mutants} mutants, {} survive", survivors.len());
    assert!(mutants > 100);
    assert!(survivors.is_empty(), "not caught: {survivors:?}");
}

#[test]
fn what_the_proof_cannot_evaluate_is_a_typed_error() {
    let (g, p) = machine();
    let carry = neurons_reading(&g, "op:ADD", &one(&g));
    let d = carry[0];
    // A lookup where ADD's carry neuron was: not a port.
    let lookup = Node::LookUp(LookUp {
        query: Expr::zero(),
        key: Expr::zero(),
        active: one(&g),
        value: one(&g),
        tie: Tie::Latest,
    });
    let with_lookup = g.with_node(d, lookup).expect("reads earlier dims");
    match obligation(&with_lookup, &p, Opcode::Add) {
        Err(OpcodeError::NotAPort { opcode, at, kind }) => {
            assert_eq!((opcode, kind), (Opcode::Add, "LookUp"));
            assert!(at.starts_with(&format!("d{} ", d.0)), "{at}");
        }
        other => panic!("expected NotAPort, got {other:?}"),
    }
    // Every opcode's outputs read that dimension (the byte output sums all).
    assert!(all_obligations(&with_lookup, &p).is_err());
    // A half in a coefficient.
    let half = BigRational::new(BigInt::from(1), BigInt::from(2));
    let halved = with_gates(&g, &[d], |b| b * &half);
    assert!(matches!(
        obligation(&halved, &p, Opcode::Add),
        Err(OpcodeError::NonInteger { .. })
    ));
    // A port that is not one dimension.
    let mut bad = p.clone();
    bad.top[0] = bad.top[0].clone() + 1;
    assert!(matches!(
        obligation(&g, &bad, Opcode::Add),
        Err(OpcodeError::Port { port, .. }) if port == "top[0]"
    ));
    // Two ports on one dimension.
    let mut twice = p.clone();
    twice.second[1] = twice.top[1].clone();
    assert!(matches!(
        obligation(&g, &twice, Opcode::Add),
        Err(OpcodeError::Port { .. })
    ));
}

// ---------------------------------------------------------------------------
// The spec the scripts state, against the reference machine.

/// One step's tokens in the reference trace of `instrs` (the step of the
/// first `op` instruction): its value bytes, and whether the run ended
/// there.
fn reference_step(instrs: &[Instr], memory: &[u8], op: Opcode) -> (Vec<Token>, bool) {
    let program = Program {
        instrs: instrs.to_vec(),
        memory_size: memory.len() as u32,
        data: vec![Segment {
            base: 0,
            bytes: memory.to_vec(),
        }],
        functions: Vec::new(),
    };
    let input = ProgramInput {
        image: Segment {
            base: 0,
            bytes: Vec::new(),
        },
        stdin: Vec::new(),
    };
    let mut trace: Vec<Token> = Vec::new();
    reference::run(&program, &input, 100, &mut trace);
    let at = trace
        .iter()
        .position(|&t| t == Token::Op(op))
        .expect("the step runs");
    let bytes: Vec<Token> = trace[at + 1..]
        .iter()
        .take_while(|t| t.byte().is_some())
        .copied()
        .collect();
    let ended = at + 1 + bytes.len() == trace.len();
    (bytes, ended)
}

/// Whether the obligation's spec (`R`, `count`, `cy0..3`, `stops`), with
/// the variables fixed as given, says what the reference machine wrote.
fn spec_says(ob: &Obligation, fixed: &[(String, u8)], bytes: &[Token], ended: bool) -> bool {
    let script = &ob.smt.script;
    let Some(claim) = script.rfind("(assert (not") else {
        return false;
    };
    let mut text = script[..claim].to_owned();
    for (name, v) in fixed {
        text.push_str(&format!("(assert (= {name} #x{v:02x}))\n"));
    }
    let mut facts = vec![format!("(= count (_ bv{} 8))", bytes.len())];
    for (j, t) in bytes.iter().enumerate() {
        let lo = 8 * j;
        let b = t.byte().unwrap_or(0);
        facts.push(format!("(= ((_ extract {} {lo}) R) #x{b:02x})", lo + 7));
        let carried = matches!(t, Token::Carry(_));
        facts.push(format!("(= cy{j} {carried})"));
    }
    facts.push(format!("(= stops {ended})"));
    text.push_str(&format!("(assert (not (and {})))\n", facts.join(" ")));
    let smt = tvm_verify::obligation::Smt {
        logic: ob.smt.logic,
        script: text,
    };
    smt::check(&smt, BUDGET).is_proven()
}

fn word(prefix: &str, v: u32) -> Vec<(String, u8)> {
    v.to_le_bytes()
        .iter()
        .enumerate()
        .map(|(j, b)| (format!("{prefix}{j}"), *b))
        .collect()
}

const SAMPLES: [u32; 7] = [0, 1, 0x7f, 0x80, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff];

#[test]
fn the_spec_is_what_the_reference_machine_writes() {
    let (g, p) = machine();
    let c = |v: u32| Instr::new(Opcode::Const, v);
    let halt = Instr::new(Opcode::Halt, 0);
    let binary = [
        Opcode::Add,
        Opcode::Sub,
        Opcode::Eq,
        Opcode::Ne,
        Opcode::LtS,
        Opcode::LtU,
        Opcode::GtS,
        Opcode::GtU,
        Opcode::LeS,
        Opcode::LeU,
        Opcode::GeS,
        Opcode::GeU,
    ];
    let mut checked = 0;
    for op in binary {
        let ob = obligation(&g, &p, op).expect("obligation");
        for (x, y) in [
            (0x8000_0000, 1),
            (0xffff_ff00, 0x1ff),
            (5, 5),
            (0x7fff_ffff, 0xffff_ffff),
        ] {
            let (bytes, ended) =
                reference_step(&[c(x), c(y), Instr::new(op, 0), halt], &[0; 4], op);
            let fixed = [word("a", x), word("b", y)].concat();
            assert!(spec_says(&ob, &fixed, &bytes, ended), "{op} {x:#x} {y:#x}");
            checked += 1;
        }
    }
    for v in SAMPLES {
        let ob = obligation(&g, &p, Opcode::Eqz).expect("obligation");
        let (bytes, ended) = reference_step(
            &[c(v), Instr::new(Opcode::Eqz, 0), halt],
            &[0; 4],
            Opcode::Eqz,
        );
        assert!(spec_says(&ob, &word("b", v), &bytes, ended), "EQZ {v:#x}");
        // SELECT pops the condition, then the second value, then the first.
        let ob = obligation(&g, &p, Opcode::Select).expect("obligation");
        let prog = [c(11), c(22), c(v), Instr::new(Opcode::Select, 0), halt];
        let (bytes, ended) = reference_step(&prog, &[0; 4], Opcode::Select);
        let fixed = [word("t", 11), word("a", 22), word("b", v)].concat();
        assert!(spec_says(&ob, &fixed, &bytes, ended), "SELECT {v:#x}");
        checked += 2;
    }
    // Loads: sign and zero extension, and out of bounds (no byte, the end).
    let memory: Vec<u8> = vec![0x81, 0x7f, 0xfe, 0x01, 0x80, 0xff];
    for op in [
        Opcode::Load,
        Opcode::Load8S,
        Opcode::Load8U,
        Opcode::Load16S,
        Opcode::Load16U,
    ] {
        let ob = obligation(&g, &p, op).expect("obligation");
        for (address, offset) in [(0u32, 0u32), (1, 0), (0, 3), (2, 2), (5, 0), (6, 0), (1, 5)] {
            let prog = [c(address), Instr::new(op, offset), halt];
            let (bytes, ended) = reference_step(&prog, &memory, op);
            let start = (address + offset) as usize;
            let mut fixed = [
                word("b", address),
                word("i", offset),
                word("s", memory.len() as u32),
            ]
            .concat();
            for j in 0..4 {
                if let Some(&m) = memory.get(start + j) {
                    fixed.push((format!("m{j}"), m));
                }
            }
            assert!(
                spec_says(&ob, &fixed, &bytes, ended),
                "{op} at {address} + {offset}: {bytes:?}"
            );
            checked += 1;
        }
    }
    println!("{checked} concrete steps: the spec agrees with the reference machine");
}
