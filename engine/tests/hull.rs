//! Differential and complexity tests of `tvm_engine::hull` against a
//! brute-force hardmax scan.

use num_bigint::BigInt;
use num_rational::BigRational;
use proptest::prelude::*;
use std::cmp::Ordering;
use tvm_engine::hull::{Coord, Hull, HullError, Tie};

/// The reference: max score over all inserted keys, then the latest or
/// earliest position among the maximisers. Exact for exact `T`.
fn brute<'a, T: Coord, V>(
    points: &'a [([T; 2], u64, V)],
    q: &[T; 2],
    tie: Tie,
) -> Option<(u64, &'a V)> {
    let mut best: Option<(T, u64, &V)> = None;
    for (k, pos, v) in points {
        let s = q[0].mul(&k[0]).add(&q[1].mul(&k[1]));
        let better = match &best {
            None => true,
            Some((b, bpos, _)) => match s.compare(b) {
                Ordering::Greater => true,
                Ordering::Less => false,
                Ordering::Equal => match tie {
                    Tie::Latest => pos > bpos,
                    Tie::Earliest => pos < bpos,
                },
            },
        };
        if better {
            best = Some((s, *pos, v));
        }
    }
    best.map(|(_, p, v)| (p, v))
}

#[derive(Clone, Debug)]
enum Op<C> {
    Insert([C; 2], u64),
    Query([C; 2]),
}

/// Runs `ops` on a hull and on the brute force, comparing every query under
/// both tie rules, and checks the invariants at the end.
fn run<T: Coord>(ops: &[Op<T>]) -> Result<(), TestCaseError> {
    let mut hull: Hull<T, usize> = Hull::new();
    let mut points: Vec<([T; 2], u64, usize)> = Vec::new();
    let mut pos = 0u64;
    for (i, op) in ops.iter().enumerate() {
        match op {
            Op::Insert(k, gap) => {
                pos += gap;
                hull.insert(k.clone(), pos, i)
                    .map_err(|e| TestCaseError::fail(format!("insert: {e}")))?;
                points.push((k.clone(), pos, i));
                pos += 1;
            }
            Op::Query(q) => {
                for tie in [Tie::Latest, Tie::Earliest] {
                    let got = hull.query(q.clone(), tie);
                    let want = brute(&points, q, tie);
                    prop_assert_eq!(got, want, "q = {:?}, tie = {:?}", q, tie);
                }
            }
        }
    }
    prop_assert_eq!(hull.len(), points.len());
    if let Err(e) = hull.check_invariants() {
        return Err(TestCaseError::fail(e));
    }
    Ok(())
}

/// A strategy of `len` ops over integer coordinates, converted by `conv`.
fn ops_of(
    key: impl Strategy<Value = [i64; 2]> + Clone,
    query: impl Strategy<Value = [i64; 2]> + Clone,
    len: std::ops::Range<usize>,
) -> impl Strategy<Value = Vec<Op<i64>>> {
    prop::collection::vec(
        prop_oneof![
            3 => (key, 0u64..3).prop_map(|(k, g)| Op::Insert(k, g)),
            2 => query.prop_map(Op::Query),
        ],
        len,
    )
}

fn conv<T: Coord>(ops: &[Op<i64>], f: impl Fn(i64) -> T) -> Vec<Op<T>> {
    ops.iter()
        .map(|op| match op {
            Op::Insert([x, y], g) => Op::Insert([f(*x), f(*y)], *g),
            Op::Query([x, y]) => Op::Query([f(*x), f(*y)]),
        })
        .collect()
}

/// Runs `ops` on hulls of all three coordinate types at once, against one
/// exact `i128` brute force.
fn run_all(ops: &[Op<i64>]) -> Result<(), TestCaseError> {
    let rat = |v: i64| BigRational::from_integer(BigInt::from(v));
    let mut h_int: Hull<i128, usize> = Hull::new();
    let mut h_float: Hull<f64, usize> = Hull::new();
    let mut h_rat: Hull<BigRational, usize> = Hull::new();
    let mut points: Vec<([i128; 2], u64, usize)> = Vec::new();
    let mut pos = 0u64;
    let fail = |e: HullError| TestCaseError::fail(format!("insert: {e}"));
    for (i, op) in ops.iter().enumerate() {
        match *op {
            Op::Insert([x, y], gap) => {
                pos += gap;
                h_int.insert([x as i128, y as i128], pos, i).map_err(fail)?;
                h_float.insert([x as f64, y as f64], pos, i).map_err(fail)?;
                h_rat.insert([rat(x), rat(y)], pos, i).map_err(fail)?;
                points.push(([x as i128, y as i128], pos, i));
                pos += 1;
            }
            Op::Query([x, y]) => {
                for tie in [Tie::Latest, Tie::Earliest] {
                    let want = brute(&points, &[x as i128, y as i128], tie);
                    let ctx = format!("q = ({x}, {y}), tie = {tie:?}");
                    prop_assert_eq!(
                        h_int.query([x as i128, y as i128], tie),
                        want,
                        "i128 {}",
                        ctx
                    );
                    prop_assert_eq!(
                        h_float.query([x as f64, y as f64], tie),
                        want,
                        "f64 {}",
                        ctx
                    );
                    prop_assert_eq!(h_rat.query([rat(x), rat(y)], tie), want, "rational {}", ctx);
                }
            }
        }
    }
    for check in [
        h_int.check_invariants(),
        h_float.check_invariants(),
        h_rat.check_invariants(),
    ] {
        check.map_err(TestCaseError::fail)?;
    }
    prop_assert_eq!(h_int.hull_size(), h_float.hull_size());
    prop_assert_eq!(h_int.hull_size(), h_rat.hull_size());
    Ok(())
}

fn grid(r: i64) -> impl Strategy<Value = [i64; 2]> + Clone {
    [-r..=r, -r..=r]
}

fn parabola() -> impl Strategy<Value = [i64; 2]> + Clone {
    (0i64..64).prop_map(|k| [2 * k, -k * k])
}

/// Keys on a few lines (horizontal, vertical, diagonal, steep).
fn lines() -> impl Strategy<Value = [i64; 2]> + Clone {
    (0usize..6, -20i64..=20).prop_map(|(l, t)| match l {
        0 => [t, 3],
        1 => [-4, t],
        2 => [t, t],
        3 => [t, 7 - 2 * t],
        4 => [2 * t, -t + 1],
        _ => [t, 11],
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn small_grid_matches_brute_force(ops in ops_of(grid(20), grid(20), 0..160)) {
        run_all(&ops)?;
    }

    #[test]
    fn tiny_grid_matches_brute_force(ops in ops_of(grid(3), grid(3), 0..120)) {
        run_all(&ops)?;
    }

    #[test]
    fn parabola_matches_brute_force(
        ops in ops_of(parabola(), prop_oneof![
            3 => (-5i64..70).prop_map(|q| [q, 1]),
            1 => grid(20),
        ], 0..200)
    ) {
        run_all(&ops)?;
    }

    #[test]
    fn collinear_lines_match_brute_force(ops in ops_of(lines(), grid(4), 0..160)) {
        run_all(&ops)?;
    }

    #[test]
    fn mixed_keys_match_brute_force(
        ops in ops_of(prop_oneof![grid(6), lines(), parabola()], grid(6), 0..160)
    ) {
        run_all(&ops)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Non-integer rational keys and queries.
    #[test]
    fn rationals_match_brute_force(
        ops in ops_of(grid(12), grid(12), 0..120),
        dens in prop::collection::vec(1i64..5, 240),
    ) {
        let mut i = 0;
        let mut rat = |v: i64| {
            i += 1;
            BigRational::new(BigInt::from(v), BigInt::from(dens[i % dens.len()]))
        };
        let ops: Vec<Op<BigRational>> = ops
            .iter()
            .map(|op| match op {
                Op::Insert([x, y], g) => Op::Insert([rat(*x), rat(*y)], *g),
                Op::Query([x, y]) => Op::Query([rat(*x), rat(*y)]),
            })
            .collect();
        run(&ops)?;
    }

    /// `i128` near its bound `2⁶²`: collinear and duplicate keys at huge scale
    /// (overflow would panic in this debug build).
    #[test]
    fn huge_i128_matches_brute_force(
        ops in ops_of(grid(7), grid(7), 0..120),
        jitter in prop::collection::vec(-3i128..=3, 240),
    ) {
        const M: i128 = 1 << 59;
        let mut i = 0;
        let mut big = |v: i64| {
            i += 1;
            // |v·2⁵⁹ + small| < 2⁶²; mostly exact multiples (collinear).
            let j = jitter[i % jitter.len()];
            v as i128 * M + if j.abs() == 3 { j } else { 0 }
        };
        let ops: Vec<Op<i128>> = ops
            .iter()
            .map(|op| match op {
                Op::Insert([x, y], g) => Op::Insert([big(*x), big(*y)], *g),
                Op::Query([x, y]) => Op::Query([big(*x), big(*y)]),
            })
            .collect();
        run(&ops)?;
    }

    /// `f64` with large integer coordinates inside the exact regime.
    #[test]
    fn scaled_f64_matches_brute_force(ops in ops_of(grid(15), grid(15), 0..120)) {
        run(&conv(&ops, |v| v as f64 * 1_048_576.0))?;
    }

    /// `f64` far outside the exact regime: never panics, always answers.
    #[test]
    fn wild_f64_never_panics(
        keys in prop::collection::vec([-1e150f64..1e150, -1e150f64..1e150], 1..100),
        scales in prop::collection::vec(-300i32..300, 200),
        queries in prop::collection::vec([-1e150f64..1e150, -1e150f64..1e150], 1..20),
    ) {
        let mut hull: Hull<f64, ()> = Hull::new();
        for (i, k) in keys.iter().enumerate() {
            let s = 2f64.powi(scales[i % scales.len()].min(0));
            let key = [k[0] * s, k[1] * s];
            prop_assert!(hull.insert(key, i as u64, ()).is_ok());
        }
        for q in &queries {
            for tie in [Tie::Latest, Tie::Earliest] {
                prop_assert!(hull.query(*q, tie).is_some());
            }
        }
    }
}

/// Deterministic pseudo-random permutation of `0..n`.
fn shuffled(n: u64, seed: u64) -> Vec<u64> {
    let mut v: Vec<u64> = (0..n).collect();
    let mut s = seed;
    for i in (1..v.len()).rev() {
        s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        v.swap(i, (z % (i as u64 + 1)) as usize);
    }
    v
}

/// Inserts parabola keys `(2k, −k²)` for `k` in `order`, then queries every
/// `(k, 1)`; returns (mean, max) vertices visited per query.
fn parabola_visits(order: &[u64]) -> (f64, usize) {
    let mut hull: Hull<i128, u64> = Hull::new();
    for (pos, &k) in order.iter().enumerate() {
        let k = k as i128;
        hull.insert([2 * k, -k * k], pos as u64, k as u64).unwrap();
    }
    assert_eq!(hull.hull_size(), order.len() + 2.min(order.len()));
    let (mut total, mut max) = (0usize, 0usize);
    for k in 0..order.len() as i128 {
        let (got, stats) = hull.query_with_stats([k, 1], Tie::Latest);
        assert_eq!(got.map(|(_, &v)| v as i128), Some(k));
        total += stats.visited;
        max = max.max(stats.visited);
    }
    (total as f64 / order.len() as f64, max)
}

/// Query cost is the treap depth: logarithmic in the number of vertices,
/// whatever the insertion order. Counted, not timed.
#[test]
fn query_visits_grow_logarithmically() {
    let mut means = Vec::new();
    for bits in [10u32, 13, 16] {
        let n = 1u64 << bits;
        let lg = bits as f64;
        for (name, order) in [
            ("random", shuffled(n, 7 + bits as u64)),
            ("ascending", (0..n).collect()),
            ("descending", (0..n).rev().collect()),
        ] {
            let (mean, max) = parabola_visits(&order);
            eprintln!("n = 2^{bits} {name}: mean {mean:.2}, max {max} vertices visited per query");
            assert!(mean <= 2.0 * lg, "{name} 2^{bits}: mean {mean}");
            assert!(max as f64 <= 4.0 * lg, "{name} 2^{bits}: max {max}");
            if name == "random" {
                means.push(mean / lg);
            }
        }
    }
    // mean / log2(n) stays flat (a linear scan would grow 64× from 2^10 to 2^16).
    assert!(means[2] <= 1.5 * means[0], "{means:?}");
}

/// Queries interleaved with inserts while the hull grows and shrinks.
#[test]
fn interleaved_random_keys_stay_logarithmic() {
    let n = 1u64 << 14;
    let order = shuffled(n, 99);
    let mut hull: Hull<f64, u64> = Hull::new();
    let mut max = 0;
    for (pos, &k) in order.iter().enumerate() {
        let kf = k as f64;
        hull.insert([2.0 * kf, -kf * kf], pos as u64, k).unwrap();
        let q = order[(k as usize * 31) % (pos + 1)];
        let (got, stats) = hull.query_with_stats([q as f64, 1.0], Tie::Earliest);
        assert_eq!(got.map(|(_, &v)| v), Some(q));
        max = max.max(stats.visited);
    }
    assert!(max <= 4 * 14, "max {max}");
    hull.check_invariants().unwrap();
}

fn q<T: Coord>(h: &Hull<T, &'static str>, x: T, y: T, tie: Tie) -> Option<(u64, &'static str)> {
    h.query([x, y], tie).map(|(p, v)| (p, *v))
}

#[test]
fn empty_hull_answers_nothing() {
    let h: Hull<i128, ()> = Hull::new();
    assert!(h.is_empty());
    assert_eq!(h.query([0, 1], Tie::Latest), None);
    assert_eq!(h.query([0, 0], Tie::Earliest), None);
    assert_eq!(h.hull_size(), 0);
}

#[test]
fn single_point_wins_every_direction() {
    let mut h: Hull<i128, &str> = Hull::new();
    h.insert([5, -3], 42, "a").unwrap();
    for (x, y) in [(0, 1), (1, 0), (0, 0), (-1, 0), (0, -1), (-7, -2), (3, 9)] {
        for tie in [Tie::Latest, Tie::Earliest] {
            assert_eq!(q(&h, x, y, tie), Some((42, "a")));
        }
    }
    assert_eq!(h.len(), 1);
    assert_eq!(h.hull_size(), 2);
}

#[test]
fn duplicates_tie_exactly() {
    let mut h: Hull<i128, &str> = Hull::new();
    for (pos, v) in [(3, "first"), (8, "second"), (9, "third")] {
        h.insert([1, 1], pos, v).unwrap();
    }
    h.insert([0, 0], 10, "inside-ish").unwrap();
    assert_eq!(q(&h, 1, 1, Tie::Latest), Some((9, "third")));
    assert_eq!(q(&h, 1, 1, Tie::Earliest), Some((3, "first")));
    // (−1, −1) prefers (0, 0).
    assert_eq!(q(&h, -1, -1, Tie::Earliest), Some((10, "inside-ish")));
    // (1, −1) scores 0 for both keys: all four tie.
    assert_eq!(q(&h, 1, -1, Tie::Latest), Some((10, "inside-ish")));
    assert_eq!(q(&h, 1, -1, Tie::Earliest), Some((3, "first")));
}

#[test]
fn horizontal_line_ties_along_its_length() {
    let mut h: Hull<i128, &str> = Hull::new();
    for (pos, (x, v)) in [
        (0, "mid"),
        (-5, "left"),
        (5, "right"),
        (2, "in-between"),
        (-1, "in2"),
    ]
    .into_iter()
    .enumerate()
    {
        h.insert([x, 4], pos as u64, v).unwrap();
    }
    // A point below the line never wins upwards.
    h.insert([0, 1], 10, "below").unwrap();
    assert_eq!(q(&h, 0, 1, Tie::Latest), Some((4, "in2")));
    assert_eq!(q(&h, 0, 1, Tie::Earliest), Some((0, "mid")));
    assert_eq!(q(&h, 1, 0, Tie::Latest), Some((2, "right")));
    assert_eq!(q(&h, -1, 0, Tie::Latest), Some((1, "left")));
    assert_eq!(q(&h, 1, 1, Tie::Latest), Some((2, "right")));
    assert_eq!(q(&h, -1, 1, Tie::Latest), Some((1, "left")));
    assert_eq!(q(&h, 0, -1, Tie::Latest), Some((10, "below")));
    assert_eq!(q(&h, 0, 0, Tie::Latest), Some((10, "below")));
    assert_eq!(q(&h, 0, 0, Tie::Earliest), Some((0, "mid")));
    h.check_invariants().unwrap();
}

#[test]
fn vertical_line_ties_along_its_length() {
    let mut h: Hull<f64, &str> = Hull::new();
    for (pos, (y, v)) in [
        (0.0, "mid"),
        (-5.0, "low"),
        (5.0, "high"),
        (2.0, "in-between"),
    ]
    .into_iter()
    .enumerate()
    {
        h.insert([3.0, y], pos as u64, v).unwrap();
    }
    h.insert([1.0, 0.0], 10, "left").unwrap();
    assert_eq!(q(&h, 1.0, 0.0, Tie::Latest), Some((3, "in-between")));
    assert_eq!(q(&h, 1.0, 0.0, Tie::Earliest), Some((0, "mid")));
    assert_eq!(q(&h, -1.0, 0.0, Tie::Earliest), Some((10, "left")));
    assert_eq!(q(&h, 0.0, 1.0, Tie::Latest), Some((2, "high")));
    assert_eq!(q(&h, 0.0, -1.0, Tie::Latest), Some((1, "low")));
    assert_eq!(q(&h, -3.0, 1.0, Tie::Latest), Some((10, "left")));
    assert_eq!(q(&h, -2.0, -1.0, Tie::Latest), Some((1, "low")));
    assert_eq!(q(&h, 1.0, 1.0, Tie::Latest), Some((2, "high")));
    h.check_invariants().unwrap();
}

#[test]
fn collinear_points_absorbed_by_a_new_vertex_still_tie() {
    // (0,0), (2,2), then (1,1) on the edge, then (4,4) makes (2,2) collinear
    // interior of the edge (0,0)–(4,4); (−1, 1) is perpendicular to it.
    let mut h: Hull<i128, &str> = Hull::new();
    for (pos, (k, v)) in [
        ([0, 0], "a"),
        ([2, 2], "b"),
        ([1, 1], "c"),
        ([4, 4], "d"),
        ([3, 0], "e"),
    ]
    .into_iter()
    .enumerate()
    {
        h.insert(k, pos as u64, v).unwrap();
    }
    assert_eq!(q(&h, -1, 1, Tie::Latest), Some((3, "d")));
    assert_eq!(q(&h, -1, 1, Tie::Earliest), Some((0, "a")));
    h.insert([5, 5], 7, "f").unwrap();
    assert_eq!(q(&h, -1, 1, Tie::Latest), Some((7, "f")));
    assert_eq!(q(&h, -1, 1, Tie::Earliest), Some((0, "a")));
    // A point above the diagonal ends the tie.
    h.insert([1, 3], 8, "g").unwrap();
    assert_eq!(q(&h, -1, 1, Tie::Earliest), Some((8, "g")));
    h.check_invariants().unwrap();
}

#[test]
fn parabola_lookup_with_scaled_queries() {
    let mut h: Hull<f64, i64> = Hull::new();
    for (pos, k) in [7i64, 3, 9, 3, 0, 12].into_iter().enumerate() {
        let kf = k as f64;
        h.insert([2.0 * kf, -kf * kf], pos as u64, k).unwrap();
    }
    let lambda = 1024.0;
    assert_eq!(h.query([3.0 * lambda, lambda], Tie::Latest), Some((3, &3)));
    assert_eq!(
        h.query([3.0 * lambda, lambda], Tie::Earliest),
        Some((1, &3))
    );
    assert_eq!(h.query([12.0, 1.0], Tie::Latest), Some((5, &12)));
    // 5 is missing: 3 and 7 are equally far (score 25 − 4 = 21): a tie.
    assert_eq!(h.query([5.0, 1.0], Tie::Latest), Some((3, &3)));
    assert_eq!(h.query([5.0, 1.0], Tie::Earliest), Some((0, &7)));
}

#[test]
fn bad_inputs_are_errors_and_change_nothing() {
    let mut h: Hull<f64, ()> = Hull::new();
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300] {
        assert!(matches!(
            h.insert([bad, 0.0], 0, ()),
            Err(HullError::InvalidKey { .. })
        ));
        assert!(matches!(
            h.insert([0.0, bad], 0, ()),
            Err(HullError::InvalidKey { .. })
        ));
        assert_eq!(h.query([bad, 1.0], Tie::Latest), None);
    }
    assert!(h.is_empty());
    h.insert([-0.0, 1.0], 5, ()).unwrap();
    h.insert([0.0, 1.0], 6, ()).unwrap();
    assert_eq!(h.hull_size(), 2, "−0.0 and 0.0 are one key");
    assert_eq!(h.query([0.0, 1.0], Tie::Earliest), Some((5, &())));
    assert_eq!(
        h.insert([1.0, 1.0], 6, ()),
        Err(HullError::PositionNotIncreasing {
            previous: 6,
            position: 6
        })
    );
    assert_eq!(h.query([1.0, f64::NAN], Tie::Latest), None);
    assert_eq!(h.len(), 2);

    let mut g: Hull<i128, ()> = Hull::new();
    assert!(g.insert([1 << 62, 0], 0, ()).is_err());
    assert!(g.insert([0, -(1 << 62)], 0, ()).is_err());
    assert!(g.insert([i128::MIN, 0], 0, ()).is_err());
    assert!(g.is_empty());
}

/// The i128 bound is tight enough: keys and queries at ±(2⁶² − 1) corners.
#[test]
fn i128_extremes_do_not_overflow() {
    const B: i128 = (1 << 62) - 1;
    let corners = [
        [B, B],
        [-B, B],
        [B, -B],
        [-B, -B],
        [0, B],
        [B, 0],
        [-B, 0],
        [0, -B],
        [0, 0],
    ];
    let mut h: Hull<i128, usize> = Hull::new();
    let mut points = Vec::new();
    for (i, k) in corners.iter().chain(corners.iter()).enumerate() {
        h.insert(*k, i as u64, i).unwrap();
        points.push((*k, i as u64, i));
        for q in corners {
            for tie in [Tie::Latest, Tie::Earliest] {
                assert_eq!(h.query(q, tie), brute(&points, &q, tie));
            }
        }
    }
    assert_eq!(h.query([i128::MAX, 1], Tie::Latest), None);
    h.check_invariants().unwrap();
}
