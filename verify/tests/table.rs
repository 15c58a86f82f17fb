//! The baked-table proof: a table built by `Graph::table` is proven equal
//! to its column; a wrong column, a wrong hinge coefficient, a missing
//! hinge or a hinge of another input is caught, at the program counter
//! where they differ.

use tvm_dsl::expr::Expr;
use tvm_dsl::graph::Graph;
use tvm_dsl::isa::{Instr, Opcode};
use tvm_verify::report::Verdict;
use tvm_verify::table::{Column, expected, prove};

fn failure(graph: &Graph, name: &str, values: &[i64]) -> String {
    let column = Column {
        name: name.to_owned(),
        input: "x".to_owned(),
        values: values.to_vec(),
    };
    match prove(graph, &column, std::slice::from_ref(&column)).verdict {
        Verdict::Proven => String::from("proven"),
        Verdict::Failed(f) => format!("{} | {}", f.reason, f.culprits.join(" | ")),
    }
}

/// The position, named `x` (the tables' input).
fn x(g: &mut Graph) -> Expr {
    let p = g.position();
    if let [(d, _)] = p.terms() {
        g.name(*d, "x");
    }
    p
}

/// A graph whose dimension `name` is `Σ coef·relu(x − t)` over `hinges`.
fn hand_table(name: &str, x: impl Fn(&mut Graph) -> Expr, hinges: &[(i64, i64)]) -> Graph {
    let mut g = Graph::new();
    let one = g.one();
    let x = x(&mut g);
    let mut sum = Expr::zero();
    for &(t, c) in hinges {
        sum = sum + g.reglu(one.clone(), x.clone() - t) * c;
    }
    let t = g.persist(sum);
    if let [(d, _)] = t.terms() {
        g.name(*d, name);
    }
    g.output("t", t);
    g
}

#[test]
fn a_table_is_proven_equal_to_its_column_and_nothing_else() {
    let column = [5, 0, 0, 7, 255, 1, 1, 1];
    let mut g = Graph::new();
    let pos = x(&mut g);
    let t = g.table(pos, &column);
    let [(d, _)] = t.terms() else {
        panic!("a table of non-zero values is one dimension")
    };
    g.name(*d, "fetch.op");
    assert_eq!(failure(&g, "fetch.op", &column), "proven");
    // Every single-entry change is caught at its pc.
    for at in 0..column.len() {
        let mut wrong = column;
        wrong[at] += 1;
        let why = failure(&g, "fetch.op", &wrong);
        assert!(why.contains(&format!("= {at}: the table gives")), "{why}");
    }
    // A longer column (one more instruction) is caught past the end.
    let mut longer = column.to_vec();
    longer.push(3);
    assert!(failure(&g, "fetch.op", &longer).contains("= 8: the table gives 0, the program 3"));
}

#[test]
fn broken_hinges_are_caught() {
    let column = [2, 2, 0];
    // 2·relu(x+1) − 2·relu(x) − 2·relu(x−1) + 2·relu(x−2) is the column.
    let good = [(-1, 2), (0, -2), (1, -2), (2, 2)];
    let pos = x;
    assert_eq!(
        failure(&hand_table("fetch.op", pos, &good), "fetch.op", &column),
        "proven"
    );
    // A coefficient off by one.
    let off = [(-1, 2), (0, -2), (1, -3), (2, 2)];
    let why = failure(&hand_table("fetch.op", pos, &off), "fetch.op", &column);
    assert!(why.contains("= 2: the table gives -1"), "{why}");
    // The last hinge missing: the table grows without bound past its end.
    let why = failure(
        &hand_table("fetch.op", pos, &good[..3]),
        "fetch.op",
        &column,
    );
    assert!(why.contains("slope -2, not 0"), "{why}");
    // A breakpoint moved.
    let moved = [(-1, 2), (0, -2), (2, -2), (3, 2)];
    let why = failure(&hand_table("fetch.op", pos, &moved), "fetch.op", &column);
    assert!(
        why.contains("= 2: the table gives 2, the program 0"),
        "{why}"
    );
    // A hinge of another input.
    let why = failure(
        &hand_table("fetch.op", |g| g.position() + 1, &good),
        "fetch.op",
        &column,
    );
    assert!(why.contains("not the dimension x"), "{why}");
    let mut g = Graph::new();
    let one = g.one();
    let p = x(&mut g);
    let q = g.feature("byte", vec![0, 1]);
    let sum = g.reglu(one.clone(), p.clone() + 1) * 2 + g.reglu(one, q - 0) * -2;
    let t = g.persist(sum);
    if let [(d, _)] = t.terms() {
        g.name(*d, "fetch.op");
    }
    assert!(failure(&g, "fetch.op", &column).contains("the others"));
}

#[test]
fn a_missing_table_is_proven_only_for_an_all_zero_column() {
    let g = Graph::new();
    assert_eq!(failure(&g, "fetch.imm3", &[0, 0, 0]), "proven");
    assert!(failure(&g, "fetch.imm3", &[0, 9, 0]).contains("instruction 1 has value 9"));
}

#[test]
fn equal_columns_share_one_table() {
    // Immediate bytes 2 and 3 are equal for small and negative values: the
    // two tables are one hash-consed dimension, named for the first.
    let program = [
        Instr::new(Opcode::Const, 0xffff_0001),
        Instr::new(Opcode::Const, 7),
        Instr::new(Opcode::Halt, 0),
    ];
    let columns = expected(&program);
    let g = tvm_dsl::machine::with_program(&program);
    let column = |name: &str| {
        columns
            .iter()
            .find(|c| c.name == name)
            .expect("a column of that name")
    };
    let imm3 = prove(&g, column("fetch.imm3"), &columns);
    assert!(imm3.is_proven(), "{:?}", imm3.verdict);
    assert!(
        imm3.about.contains("one dimension with fetch.imm2"),
        "{}",
        imm3.about
    );
    for c in &columns {
        assert!(prove(&g, c, &columns).is_proven(), "{}", c.name);
    }
    // A column that differs from imm2 is not proven on imm2's table (and
    // has none of its own).
    let mut wrong = column("fetch.imm3").clone();
    wrong.values[1] = 1;
    let mut changed = columns.clone();
    changed[4] = wrong.clone();
    assert!(!prove(&g, &wrong, &changed).is_proven());
}

#[test]
fn the_expected_columns_are_the_opcode_and_immediate_bytes() {
    let program = [
        Instr::new(Opcode::Const, 0x0403_0201),
        Instr::new(Opcode::Halt, 0),
    ];
    let columns = expected(&program);
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "fetch.op",
            "fetch.imm0",
            "fetch.imm1",
            "fetch.imm2",
            "fetch.imm3"
        ]
    );
    assert_eq!(columns[0].input, "fetch.next_pc");
    assert_eq!(columns[1].input, "fetch.pc");
    assert_eq!(
        columns[0].values,
        [
            i64::from(Opcode::Const.index()),
            i64::from(Opcode::Halt.index())
        ]
    );
    assert_eq!(columns[1].values, [1, 0]);
    assert_eq!(columns[4].values, [4, 0]);
}
