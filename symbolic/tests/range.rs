//! Value-range analysis: exact intervals on hand-computed graphs, and
//! soundness by sampling — random graphs evaluated exactly on random token
//! sequences by a tiny evaluator written here, every value inside its
//! dimension's interval.

use num_bigint::BigInt;
use num_traits::{One, Zero};
use proptest::prelude::*;
use tvm_dsl::expr::{Dim, Expr, Rational};
use tvm_dsl::graph::{Graph, Input, LookUp, Node, Tie};
use tvm_symbolic::range::{Interval, RangeError, Ranges, analyse, report};

fn q(n: i64, d: i64) -> Rational {
    Rational::new(BigInt::from(n), BigInt::from(d))
}

fn iv(lo: i64, hi: i64) -> Interval {
    Interval {
        lo: q(lo, 1),
        hi: q(hi, 1),
    }
}

fn dim(e: &Expr) -> Dim {
    e.terms()[0].0
}

#[test]
fn hand_computed_intervals() {
    let mut g = Graph::new();
    let byte = g.feature("byte", (0..256).collect());
    let one = g.one();
    let pos = g.position();
    let pos2 = Expr::dim(g.add(Node::Input(Input::PositionSquared)));
    let r = analyse(&g, 10).unwrap();
    assert_eq!(r.of(dim(&byte)), &iv(0, 255));
    assert_eq!(r.of(dim(&one)), &iv(1, 1));
    assert_eq!(r.of(dim(&pos)), &iv(0, 10));
    assert_eq!(r.of(dim(&pos2)), &iv(0, 100));
    // 2·byte − 3·pos + 1/2
    let lin = byte.clone() * 2 - pos.clone() * 3 + Expr::constant(q(1, 2));
    assert_eq!(
        r.of_expr(&lin),
        Interval {
            lo: q(-59, 2),
            hi: q(1021, 2)
        }
    );

    // relu(pos − 5)·byte: relu ∈ [0, 5], byte ∈ [0, 255].
    let n1 = g.reglu(byte.clone(), pos.clone() - 5);
    // relu(pos − 5)·(byte − 300): corners 0, −1500, 0, −225.
    let n2 = g.reglu(byte.clone() - 300, pos.clone() - 5);
    // relu(−pos − 1)·byte: the gate is never positive.
    let n3 = g.reglu(byte.clone(), pos.clone() * -1 - 1);
    // A gate that straddles 0 and a value that straddles 0.
    let n4 = g.reglu(byte.clone() - 100, byte.clone() - 200);
    let p1 = g.persist(lin.clone());
    let c1 = g.cumsum(one.clone());
    let c2 = g.cumsum(byte.clone() - 128);
    let c3 = g.cumsum(byte.clone() * -1 - 1);
    let l1 = g.lookup(LookUp {
        query: pos.clone(),
        key: pos.clone(),
        active: one.clone(),
        value: byte.clone() + 5,
        tie: Tie::Latest,
    });
    let l2 = g.lookup(LookUp {
        query: pos.clone(),
        key: pos.clone() + 1,
        active: one.clone(),
        value: byte.clone() * -1 - 1,
        tie: Tie::Earliest,
    });
    let z = g.is_zero(pos.clone() - 3);
    // A baked table of pos: 5, −2, 7 at 0, 1, 2 and 0 elsewhere.
    let t = g.table(pos.clone(), &[5, -2, 7]);
    let r = analyse(&g, 10).unwrap();
    assert_eq!(r.of(dim(&n1)), &iv(0, 1275));
    assert_eq!(r.of(dim(&n2)), &iv(-1500, 0));
    assert_eq!(r.of(dim(&n3)), &iv(0, 0));
    assert_eq!(r.of(dim(&n4)), &iv(-5500, 8525));
    assert_eq!(r.of(dim(&p1)), &r.of_expr(&lin));
    assert_eq!(r.of(dim(&c1)), &iv(1, 11));
    assert_eq!(r.of(dim(&c2)), &iv(-1408, 1397));
    assert_eq!(r.of(dim(&c3)), &iv(-2816, -1));
    assert_eq!(r.of(dim(&l1)), &iv(0, 260));
    assert_eq!(r.of(dim(&l2)), &iv(-256, 0));
    // relu(x+1) − 2·relu(x) + relu(x−1), x = pos − 3 ∈ [−3, 7]: hinges of
    // one x are bounded together, as the piecewise-linear function they
    // sum to (term by term it would be [−14, 14]).
    assert_eq!(r.of_expr(&z), iv(0, 1));
    // The table's range is its values' (and 0 outside), not the sum of
    // its hinges' ranges.
    assert_eq!(r.of_expr(&t), iv(-2, 7));
    assert_eq!(r.max_position(), 10);
    assert_eq!(r.len(), g.dims().len());
    assert_eq!(r.get(Dim(999)), None);
    assert_eq!(r.get_expr(&Expr::dim(Dim(999))), None);
}

#[test]
fn report_is_one_line_per_dimension() {
    let mut g = Graph::new();
    let byte = g.feature("byte", vec![3, -1, 4]);
    let pos = g.position();
    let n = g.reglu(byte.clone(), pos.clone());
    g.name(dim(&n), "scaled");
    g.cumsum(byte);
    let r = analyse(&g, 2).unwrap();
    let text = report(&g, &r);
    assert_eq!(
        text,
        "d0 byte Input [-1, 4]\n\
         d1 position Input [0, 2]\n\
         d2 scaled ReGLU [-2, 8]\n\
         d3 CumSum#3 CumSum [-3, 12]\n"
    );
    assert_eq!(report(&g, &r), text, "deterministic");
}

#[test]
fn malformed_graphs_are_errors() {
    let mut g = Graph::new();
    g.add(Node::Persist(Expr::dim(Dim(5))));
    assert_eq!(
        analyse(&g, 3),
        Err(RangeError::ForwardReference {
            dim: Dim(0),
            reads: Dim(5)
        })
    );
    let mut g = Graph::new();
    g.add(Node::Input(Input::Feature(7)));
    assert_eq!(
        analyse(&g, 3),
        Err(RangeError::UnknownFeature {
            dim: Dim(0),
            feature: 7
        })
    );
    let mut g = Graph::new();
    g.feature("nothing", vec![]);
    assert!(matches!(
        analyse(&g, 3),
        Err(RangeError::EmptyFeature { .. })
    ));
}

/// The reference semantics, restated: every dimension at every position.
fn evaluate(g: &Graph, tokens: &[usize]) -> Vec<Vec<Rational>> {
    let mut values: Vec<Vec<Rational>> = Vec::with_capacity(tokens.len());
    for (i, &token) in tokens.iter().enumerate() {
        let mut row: Vec<Rational> = Vec::with_capacity(g.dims().len());
        for dimension in g.dims() {
            let at = |row: &[Rational], e: &Expr| e.eval(|d| row[d.index()].clone());
            let v = match &dimension.node {
                Node::Input(Input::One) => Rational::one(),
                Node::Input(Input::Position) => q(i as i64, 1),
                Node::Input(Input::PositionSquared) => q((i * i) as i64, 1),
                Node::Input(Input::Feature(f)) => q(g.features()[*f as usize].values[token], 1),
                Node::ReGLU { a, b } => {
                    let gate = at(&row, b);
                    if gate > Rational::zero() {
                        gate * at(&row, a)
                    } else {
                        Rational::zero()
                    }
                }
                Node::Persist(e) => at(&row, e),
                Node::CumSum(e) => values
                    .iter()
                    .map(|r| at(r, e))
                    .fold(at(&row, e), |acc, x| acc + x),
                Node::LookUp(l) => {
                    let query = at(&row, &l.query);
                    let earlier = values.iter().map(|r| r.as_slice());
                    let candidates: Vec<&[Rational]> =
                        earlier.chain(std::iter::once(row.as_slice())).collect();
                    let hit = |r: &&[Rational]| at(r, &l.active).is_one() && at(r, &l.key) == query;
                    let chosen = match l.tie {
                        Tie::Latest => candidates.iter().copied().rev().find(hit),
                        Tie::Earliest => candidates.iter().copied().find(hit),
                    };
                    chosen.map_or_else(Rational::zero, |r| at(r, &l.value))
                }
            };
            row.push(v);
        }
        values.push(row);
    }
    values
}

/// One step of building a random graph over a pool of expressions.
#[derive(Clone, Debug)]
enum Op {
    Linear(usize, usize, i64, i64, i64),
    Reglu(usize, usize),
    Select(usize, usize),
    Stepglu(usize, usize),
    IsZero(usize),
    CumSum(usize),
    Persist(usize),
    LookUp(usize, usize, usize, bool),
}

fn op() -> impl Strategy<Value = Op> {
    let i = || 0usize..64;
    prop_oneof![
        (i(), i(), -2i64..=2, -2i64..=2, -3i64..=3)
            .prop_map(|(a, b, x, y, c)| Op::Linear(a, b, x, y, c)),
        (i(), i()).prop_map(|(a, b)| Op::Reglu(a, b)),
        (i(), i()).prop_map(|(a, b)| Op::Select(a, b)),
        (i(), i()).prop_map(|(a, b)| Op::Stepglu(a, b)),
        i().prop_map(Op::IsZero),
        i().prop_map(Op::CumSum),
        i().prop_map(Op::Persist),
        (i(), i(), i(), any::<bool>()).prop_map(|(a, b, c, t)| Op::LookUp(a, b, c, t)),
    ]
}

const TOKENS: usize = 4;

fn build(byte: &[i64], small: &[i64], flag: &[bool], ops: &[Op]) -> (Graph, Vec<Expr>) {
    let mut g = Graph::new();
    let flag = g.feature("flag", flag.iter().map(|&f| i64::from(f)).collect());
    let mut pool = vec![
        g.feature("byte", byte.to_vec()),
        g.feature("small", small.to_vec()),
        flag.clone(),
        g.one(),
        g.position(),
        Expr::dim(g.add(Node::Input(Input::PositionSquared))),
    ];
    for op in ops {
        let pick = |k: usize| pool[k % pool.len()].clone();
        let e = match *op {
            Op::Linear(a, b, x, y, c) => pick(a) * x + pick(b) * y + c,
            Op::Reglu(a, b) => g.reglu(pick(a), pick(b)),
            Op::Select(a, b) => g.select(flag.clone(), pick(a), pick(b)),
            Op::Stepglu(a, b) => g.stepglu(pick(a), pick(b)),
            Op::IsZero(a) => g.is_zero(pick(a)),
            Op::CumSum(a) => g.cumsum(pick(a)),
            Op::Persist(a) => g.persist(pick(a)),
            Op::LookUp(qy, k, v, latest) => g.lookup(LookUp {
                query: pick(qy),
                key: pick(k),
                active: flag.clone(),
                value: pick(v),
                tie: if latest { Tie::Latest } else { Tie::Earliest },
            }),
        };
        pool.push(e);
    }
    (g, pool)
}

fn check(g: &Graph, ranges: &Ranges, pool: &[Expr], tokens: &[usize]) -> Result<(), TestCaseError> {
    let values = evaluate(g, tokens);
    for (i, row) in values.iter().enumerate() {
        for (d, v) in row.iter().enumerate() {
            let interval = ranges.of(Dim(d as u32));
            prop_assert!(
                interval.contains(v),
                "position {i}: d{d} = {v} outside {interval}"
            );
        }
        for e in pool {
            let v = e.eval(|d| row[d.index()].clone());
            let interval = ranges.of_expr(e);
            prop_assert!(
                interval.contains(&v),
                "position {i}: {e} = {v} outside {interval}"
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_computed_value_lies_in_its_interval(
        byte in prop::collection::vec(-5i64..=5, TOKENS),
        small in prop::collection::vec(0i64..=2, TOKENS),
        flag in prop::collection::vec(any::<bool>(), TOKENS),
        ops in prop::collection::vec(op(), 1..14),
        tokens in prop::collection::vec(0usize..TOKENS, 1..7),
        extra in 0u64..3,
    ) {
        let (g, pool) = build(&byte, &small, &flag, &ops);
        // Bounds for more positions than the sequence has are still sound.
        let ranges = analyse(&g, tokens.len() as u64 - 1 + extra).map_err(|e| TestCaseError::fail(e.to_string()))?;
        check(&g, &ranges, &pool, &tokens)?;
    }
}

#[test]
fn bounds_are_reached_on_a_simple_graph() {
    // Tightness where no correlation is lost: the extremes are attained.
    let mut g = Graph::new();
    let byte = g.feature("byte", vec![-3, 0, 7]);
    let pos = g.position();
    let c = g.cumsum(byte.clone());
    let n = g.reglu(byte, pos);
    let r = analyse(&g, 3).unwrap();
    let mut seen_lo = (false, false);
    let mut seen_hi = (false, false);
    for tokens in [[0usize; 4], [2usize; 4]] {
        let values = evaluate(&g, &tokens);
        for row in &values {
            seen_lo.0 |= row[dim(&c).index()] == r.of(dim(&c)).lo;
            seen_hi.0 |= row[dim(&c).index()] == r.of(dim(&c)).hi;
            seen_lo.1 |= row[dim(&n).index()] == r.of(dim(&n)).lo;
            seen_hi.1 |= row[dim(&n).index()] == r.of(dim(&n)).hi;
        }
    }
    assert_eq!(r.of(dim(&c)), &iv(-12, 28));
    assert_eq!(r.of(dim(&n)), &iv(-9, 21));
    assert_eq!((seen_lo, seen_hi), ((true, true), (true, true)));
}
