//! Hull attention vs a brute-force scan (plain harness, no dependencies).
//!
//! `cargo bench -p tvm-engine --bench hull` inserts parabola keys
//! `(2k, −k²)` in random order and, after each insert, looks up a random
//! key already inserted with the query `(k, 1)`; it prints the time per
//! insert+query for the hull at `n = 2¹²` and `n = 2²⁰` and for the scan at
//! `n = 2¹²`, and the ratio. Pass `--quick` for `n = 2¹⁶` instead of `2²⁰`.

use std::hint::black_box;
use std::time::Instant;

use tvm_engine::hull::{Coord, Hull, Tie};

fn splitmix64(z: &mut u64) -> u64 {
    *z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut x = *z;
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The keys `0..n` in a fixed random order, and for step `i` the index
/// (`≤ i`) of the key to look up.
fn workload(n: usize) -> (Vec<i64>, Vec<usize>) {
    let mut s = 12345;
    let mut keys: Vec<i64> = (0..n as i64).collect();
    for i in (1..n).rev() {
        let j = (splitmix64(&mut s) % (i as u64 + 1)) as usize;
        keys.swap(i, j);
    }
    let picks = (0..n)
        .map(|i| (splitmix64(&mut s) % (i as u64 + 1)) as usize)
        .collect();
    (keys, picks)
}

/// Seconds per insert+query with the hull.
fn hull_run<T: Coord>(keys: &[i64], picks: &[usize], conv: impl Fn(i64) -> T) -> f64 {
    let start = Instant::now();
    let mut h: Hull<T, i64> = Hull::new();
    for (i, (&k, &pick)) in keys.iter().zip(picks).enumerate() {
        h.insert([conv(2 * k), conv(-k * k)], i as u64, k).unwrap();
        let want = keys[pick];
        let got = h.query(black_box([conv(want), conv(1)]), Tie::Latest);
        assert_eq!(got.map(|(_, v)| *v), Some(want));
    }
    start.elapsed().as_secs_f64() / keys.len() as f64
}

/// Seconds per insert+query with a linear scan (`f64` scores).
fn scan_run(keys: &[i64], picks: &[usize]) -> f64 {
    let start = Instant::now();
    let mut stored: Vec<([f64; 2], u64, i64)> = Vec::new();
    for (i, (&k, &pick)) in keys.iter().zip(picks).enumerate() {
        let kf = k as f64;
        stored.push(([2.0 * kf, -kf * kf], i as u64, k));
        let want = keys[pick];
        let q = black_box([want as f64, 1.0]);
        let mut best: Option<(f64, i64)> = None;
        for (key, _, v) in &stored {
            let s = q[0] * key[0] + q[1] * key[1];
            if best.is_none_or(|(b, _)| s >= b) {
                best = Some((s, *v));
            }
        }
        assert_eq!(best.map(|(_, v)| v), Some(want));
    }
    start.elapsed().as_secs_f64() / keys.len() as f64
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let big_bits = if quick { 16 } else { 20 };
    let (small_keys, small_picks) = workload(1 << 12);
    let (big_keys, big_picks) = workload(1 << big_bits);

    let scan = scan_run(&small_keys, &small_picks);
    println!(
        "scan          f64  n = 2^12: {:8.1} ns per insert+query",
        scan * 1e9
    );
    for (name, small, big) in [
        (
            "f64",
            hull_run(&small_keys, &small_picks, |v| v as f64),
            hull_run(&big_keys, &big_picks, |v| v as f64),
        ),
        (
            "i128",
            hull_run(&small_keys, &small_picks, |v| v as i128),
            hull_run(&big_keys, &big_picks, |v| v as i128),
        ),
    ] {
        println!(
            "hull {name:>12}  n = 2^12: {:8.1} ns per insert+query ({:.1}x faster than the scan)",
            small * 1e9,
            scan / small
        );
        println!(
            "hull {name:>12}  n = 2^{big_bits}: {:8.1} ns per insert+query (scan at 2^12 / hull at 2^{big_bits} = {:.1})",
            big * 1e9,
            scan / big
        );
    }
}
