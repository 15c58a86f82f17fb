//! Hardmax attention over 2-D keys by an incremental convex hull.
//!
//! One [`Hull`] serves one attention head. The autoregressive stream appends
//! `(key, position, value)` triples with strictly increasing positions, and a
//! query `q` asks for the value at the position whose key maximises the score
//! `q·k`, ties broken by position as [`Tie`] says. This is exactly what a
//! brute-force scan returns:
//!
//! ```text
//! best = max over inserted k of q·k
//! answer = latest (or earliest) position p with q·k_p = best
//! ```
//!
//! # Why a hull answers it
//!
//! The maximiser set of a linear function over a finite point set is a *face*
//! of the convex hull: a vertex, or a whole edge when `q` is perpendicular to
//! that edge. For `q[1] > 0` that face lies on the **upper** hull, for
//! `q[1] < 0` on the **lower** hull; for `q[1] = 0` it is the leftmost or
//! rightmost vertical line, and for `q = 0` every point ties. So the hull
//! keeps, per face, exactly the positions needed to break ties:
//!
//! - per hull **vertex**, the earliest and the latest position inserted with
//!   exactly that key (duplicates tie exactly);
//! - per hull **edge**, the earliest and the latest position of the points
//!   lying on the *open* edge (collinear points tie with the endpoints for
//!   queries perpendicular to the edge);
//! - per extreme **vertical line** (`x = min x`, `x = max x`), the earliest
//!   and latest position on it;
//! - overall, the first and last position (for `q = 0`).
//!
//! Points strictly inside the hull never win, and — the hull only ever grows —
//! never will: they are dropped at insert. Likewise a duplicate or collinear
//! point that is neither the earliest nor the latest of its face never wins,
//! and never will either: a face only ever merges into a larger one (its span
//! widens) or sinks strictly inside. Such points are dropped by compaction
//! (see *Memory*).
//!
//! # Invariants
//!
//! Each half-hull (a `Chain`; the lower hull is stored as the upper hull of
//! the mirrored points `(x, −y)`) holds its vertices in a treap keyed by `x`,
//! threaded with `prev`/`next` links in `x` order. After every insert:
//!
//! 1. vertices have pairwise distinct `x` and turn strictly clockwise (no
//!    three consecutive vertices are collinear), so edge slopes strictly
//!    decrease from left to right;
//! 2. every inserted point `p` (mirrored for the lower chain) is either a
//!    vertex (and counted in its `dups`), or on the open edge from vertex `v`
//!    to `v.next` (and counted in `v.edge`), or strictly below the chain
//!    within its `x` range — never two of these, and `dups`/`edge` spans
//!    cover exactly those points;
//! 3. the treap is a binary search tree on `x` and a max-heap on the
//!    (deterministic, pseudo-random) priorities, so its expected depth is
//!    `O(log n)`.
//!
//! # Cost
//!
//! Insert is `O(log n)` amortised (expected, over the fixed priority
//! sequence; no input order is known to be bad): locating the point is one
//! descent; a new vertex walks its `prev`/`next` links to remove the vertices
//! it makes non-convex (each vertex is removed at most once), the removed run
//! (if any) is cut out by two splits and a merge, and the new vertex is
//! linked in by one more descent. Nothing recurses. Query is one descent:
//! each node stores its edge direction `next − node`, and the sign of `q·`
//! that direction says whether the maximiser lies to the left or the right
//! (slopes are monotone), so the visited node count is the depth of the
//! answer; [`Hull::query_with_stats`] reports it (about `1.4·log₂ n` on
//! average, `≤ 2.5·log₂ n` at worst, measured at `n = 2¹⁶`).
//!
//! # Memory
//!
//! Memory is proportional to the points that can still be an answer, not to
//! the number of inserts: a head whose keys take two distinct values holds
//! `O(1)` memory after ten million inserts. Each insert appends its position
//! and value to the stored points and the spans refer to stored points by
//! index (insertion order). When the stored points reach `2·h + 64`, `h`
//! being the count kept by the previous compaction, the insert first
//! *compacts*: it keeps only the points some span refers to — the `dups` and
//! `edge` endpoints of the live vertices of both hulls, the two extreme
//! vertical lines' endpoints — plus the first and the latest insert (the
//! `q = 0` answer), and renumbers them in order, so every span union,
//! minimum and maximum is unchanged. Node vectors whose freed nodes dominate
//! are renumbered and shrunk at the same time. So at most `2·h + 64` points
//! are ever stored, `h ≤ 4·(hull vertices) + 6` being the points referenced
//! at the last compaction, and compaction, `O(stored)`, is `O(1)` amortised
//! per insert over the `h + 64` inserts between two runs. [`Hull::stored`]
//! and [`Hull::heap_bytes`] report the footprint; [`Hull::len`] still
//! counts every insert.
//!
//! # Arithmetic
//!
//! The geometry needs only the signs of `a·b − c·d` (orientation) and
//! `q₀·d₀ + q₁·d₁` (which side of an edge a query points to), computed by
//! comparing two products — never subtracting them — over coordinate
//! differences. [`Coord`] supplies exact `sub`/`mul`/`neg`/comparison:
//!
//! - `i128`: exact. Coordinates (keys and queries) must satisfy
//!   `|v| < 2⁶²`; then a difference is below `2⁶³`, a product below `2¹²⁶`,
//!   and nothing overflows. Larger values are rejected.
//! - [`BigRational`]: exact, unbounded.
//! - `f64`: finite values with `|v| ≤ 2⁵⁰⁰` are accepted (NaN and ±∞ are
//!   rejected, `−0.0` is read as `0.0`), so no product overflows to ∞ and no
//!   NaN ever arises. The answer is **exact** — identical to a brute-force
//!   scan over the same keys in exact arithmetic — whenever every key and
//!   query coordinate is an integer and every difference of two key
//!   coordinates, every product of two such differences and every product
//!   of a query component and such a difference is below `2⁵³` in magnitude
//!   (e.g. all coordinates below `2²⁵`). Outside that regime every
//!   predicate is the rounded float one and the result is the float
//!   maximiser (close to, but not guaranteed to be, the exact one); the
//!   structure still never panics and never loops.
//!
//! # Example
//!
//! ```
//! use tvm_engine::hull::{Hull, Tie};
//!
//! // The parabola trick: key (2k, −k²), query (q, 1) scores q² − (q − k)².
//! let mut h: Hull<i128, &str> = Hull::new();
//! for (pos, (k, v)) in [(3, "three"), (1, "one"), (3, "three again")].into_iter().enumerate() {
//!     h.insert([2 * k, -k * k], pos as u64, v).unwrap();
//! }
//! assert_eq!(h.query([3, 1], Tie::Latest), Some((2, &"three again")));
//! assert_eq!(h.query([3, 1], Tie::Earliest), Some((0, &"three")));
//! assert_eq!(h.query([1, 1], Tie::Latest), Some((1, &"one")));
//! ```

use std::cmp::Ordering;
use std::fmt;

use num_rational::BigRational;
use num_traits::Zero;

/// A coordinate type with exact (or, for `f64`, documented) arithmetic.
///
/// Implementations must make `sub`, `mul`, `neg` and `compare` exact for
/// every admitted value (see [`Coord::admit`]) and every value derived from
/// admitted values by one difference and one product; `compare` must be a
/// total order on such values.
pub trait Coord: Clone + PartialOrd + fmt::Debug {
    /// The additive identity.
    fn zero() -> Self;
    /// `Some(canonical value)` if `self` may be used as a key or query
    /// coordinate, `None` otherwise (out of the type's bound, NaN, ±∞).
    fn admit(self) -> Option<Self>;
    /// `self + rhs`.
    fn add(&self, rhs: &Self) -> Self;
    /// `self − rhs`.
    fn sub(&self, rhs: &Self) -> Self;
    /// `self · rhs`.
    fn mul(&self, rhs: &Self) -> Self;
    /// `−self`.
    fn neg(&self) -> Self;
    /// Total order on admitted values and their derived values.
    fn compare(&self, rhs: &Self) -> Ordering;
}

/// `i128`: exact for `|v| < 2⁶²` (the admitted range).
impl Coord for i128 {
    fn zero() -> Self {
        0
    }
    fn admit(self) -> Option<Self> {
        (self.unsigned_abs() < 1 << 62).then_some(self)
    }
    fn add(&self, rhs: &Self) -> Self {
        self + rhs
    }
    fn sub(&self, rhs: &Self) -> Self {
        self - rhs
    }
    fn mul(&self, rhs: &Self) -> Self {
        self * rhs
    }
    fn neg(&self) -> Self {
        -self
    }
    fn compare(&self, rhs: &Self) -> Ordering {
        self.cmp(rhs)
    }
}

/// The largest `f64` magnitude admitted: `2⁵⁰⁰`, so products of differences
/// stay below `2¹⁰⁰³` and never overflow.
pub const F64_BOUND: f64 = f64::from_bits((1023 + 500) << 52);

/// `f64`: finite values with `|v| ≤ 2⁵⁰⁰`; exact in the integer regime
/// described in the [module docs](self).
impl Coord for f64 {
    fn zero() -> Self {
        0.0
    }
    fn admit(self) -> Option<Self> {
        // `+ 0.0` turns −0.0 into 0.0 (round to nearest).
        (self.is_finite() && self.abs() <= F64_BOUND).then_some(self + 0.0)
    }
    fn add(&self, rhs: &Self) -> Self {
        self + rhs
    }
    fn sub(&self, rhs: &Self) -> Self {
        self - rhs
    }
    fn mul(&self, rhs: &Self) -> Self {
        self * rhs
    }
    fn neg(&self) -> Self {
        -self
    }
    fn compare(&self, rhs: &Self) -> Ordering {
        // Admitted values and their derived values are never NaN.
        self.partial_cmp(rhs).unwrap_or(Ordering::Equal)
    }
}

/// [`BigRational`]: exact and unbounded.
impl Coord for BigRational {
    fn zero() -> Self {
        Zero::zero()
    }
    fn admit(self) -> Option<Self> {
        Some(self)
    }
    fn add(&self, rhs: &Self) -> Self {
        self + rhs
    }
    fn sub(&self, rhs: &Self) -> Self {
        self - rhs
    }
    fn mul(&self, rhs: &Self) -> Self {
        self * rhs
    }
    fn neg(&self) -> Self {
        -self
    }
    fn compare(&self, rhs: &Self) -> Ordering {
        self.cmp(rhs)
    }
}

/// Which position wins among several with the maximal score.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tie {
    /// The largest position (most recent insert).
    Latest,
    /// The smallest position (oldest insert).
    Earliest,
}

/// Why an insert was refused. A refused insert leaves the hull unchanged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HullError {
    /// A key coordinate is not admitted by its [`Coord`] type.
    #[error("key {key} has a coordinate outside the admitted range (NaN, infinite, or too large)")]
    InvalidKey {
        /// The key, `Debug`-formatted.
        key: String,
    },
    /// Positions must strictly increase from insert to insert.
    #[error("position {position} is not after the previous position {previous}")]
    PositionNotIncreasing {
        /// The last position inserted.
        previous: u64,
        /// The refused position.
        position: u64,
    },
    /// The hull holds [`MAX_POINTS`] points already.
    #[error("hull is full ({MAX_POINTS} points)")]
    Full,
}

/// The most points one [`Hull`] stores at once (indices are 32-bit). Only
/// points that can still be an answer count (see [`Hull::stored`]); the
/// number of inserts ([`Hull::len`]) is unbounded.
pub const MAX_POINTS: usize = u32::MAX as usize;

/// Compaction runs when the stored points reach `2·live + COMPACT_SLACK`,
/// `live` being the count kept by the previous compaction.
const COMPACT_SLACK: usize = 64;

/// Diagnostics of one query.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueryStats {
    /// Hull vertices visited (each visit evaluates one `q·edge` sign).
    pub visited: usize,
}

/// Hardmax attention for one head with 2-D keys; see the [module
/// docs](self) for semantics, invariants and costs.
///
/// Only the values that can still be an answer are kept: the stored points
/// are indexed in insertion order (which is position order), the hulls refer
/// to them by that index, and a periodic compaction drops every point no
/// span refers to and renumbers the rest in order (see the module docs).
#[derive(Clone, Debug)]
pub struct Hull<T: Coord, V> {
    /// Upper hull of the keys.
    upper: Chain<T>,
    /// Upper hull of the mirrored keys `(x, −y)`, i.e. the lower hull.
    lower: Chain<T>,
    /// Position of the i-th stored point (strictly increasing). Index 0 is
    /// the first insert, the last index the latest insert.
    positions: Vec<u64>,
    /// Value of the i-th stored point.
    values: Vec<V>,
    /// Smallest `x` and the points on the vertical line through it.
    min_x: Option<(T, Span)>,
    /// Largest `x` and the points on the vertical line through it.
    max_x: Option<(T, Span)>,
    /// Points ever inserted.
    inserted: usize,
    /// `positions.len()` at which the next insert compacts first.
    compact_at: usize,
}

impl<T: Coord, V> Default for Hull<T, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Coord, V> Hull<T, V> {
    /// An empty hull.
    pub fn new() -> Self {
        Hull {
            upper: Chain::new(),
            lower: Chain::new(),
            positions: Vec::new(),
            values: Vec::new(),
            min_x: None,
            max_x: None,
            inserted: 0,
            compact_at: COMPACT_SLACK,
        }
    }

    /// Number of points inserted (including those no longer stored).
    pub fn len(&self) -> usize {
        self.inserted
    }

    /// Whether nothing was inserted.
    pub fn is_empty(&self) -> bool {
        self.inserted == 0
    }

    /// Number of points stored: those some face's span refers to, the first
    /// and the latest insert, plus the inserts since the last compaction
    /// (fewer than `live + 64` of them, `live` being the count that
    /// compaction kept). Diagnostics only.
    pub fn stored(&self) -> usize {
        self.positions.len()
    }

    /// Estimated heap bytes held: capacities times element sizes of the
    /// stored positions and values and of both hulls' node and free-list
    /// vectors. Heap owned by `T` or `V` themselves (e.g. a `BigRational`'s
    /// digits) is not counted. Diagnostics only.
    pub fn heap_bytes(&self) -> usize {
        self.positions.capacity() * std::mem::size_of::<u64>()
            + self.values.capacity() * std::mem::size_of::<V>()
            + self.upper.heap_bytes()
            + self.lower.heap_bytes()
    }

    /// Number of hull vertices kept: upper plus lower hull (a point on both,
    /// like the leftmost one, counts twice). Diagnostics only.
    pub fn hull_size(&self) -> usize {
        self.upper.vertices + self.lower.vertices
    }

    /// Adds `key` at `position` with `value`.
    ///
    /// `position` must exceed every earlier position. `O(log n)` amortised.
    /// On error nothing changes.
    pub fn insert(&mut self, key: [T; 2], position: u64, value: V) -> Result<(), HullError> {
        let [x, y] = key;
        let (Some(x), Some(y)) = (x.clone().admit(), y.clone().admit()) else {
            return Err(HullError::InvalidKey {
                key: format!("({x:?}, {y:?})"),
            });
        };
        if let Some(&previous) = self.positions.last()
            && position <= previous
        {
            return Err(HullError::PositionNotIncreasing { previous, position });
        }
        if self.positions.len() >= self.compact_at {
            self.compact();
        }
        let Ok(index) = u32::try_from(self.positions.len()) else {
            return Err(HullError::Full);
        };
        if index == u32::MAX {
            return Err(HullError::Full);
        }
        self.positions.push(position);
        self.values.push(value);
        self.inserted += 1;
        let mirrored = y.neg();
        self.upper.insert([x.clone(), y], index);
        self.lower.insert([x.clone(), mirrored], index);
        extend_extreme(&mut self.min_x, &x, index, Ordering::Less);
        extend_extreme(&mut self.max_x, &x, index, Ordering::Greater);
        Ok(())
    }

    /// The position and value maximising `q·key`, ties broken by `tie`.
    ///
    /// Every direction is supported: `q[1] > 0` reads the upper hull,
    /// `q[1] < 0` the lower hull, `q = (±a, 0)` the rightmost/leftmost
    /// vertical line, and `q = (0, 0)` ties everything. `None` if the hull is
    /// empty or a component of `q` is not admitted by [`Coord::admit`].
    /// `O(log n)`.
    pub fn query(&self, q: [T; 2], tie: Tie) -> Option<(u64, &V)> {
        self.query_with_stats(q, tie).0
    }

    /// [`Hull::query`], also reporting how many hull vertices it visited.
    pub fn query_with_stats(&self, q: [T; 2], tie: Tie) -> (Option<(u64, &V)>, QueryStats) {
        let mut stats = QueryStats::default();
        let [q0, q1] = q;
        let (Some(q0), Some(q1)) = (q0.admit(), q1.admit()) else {
            return (None, stats);
        };
        let zero = T::zero();
        let span = match q1.compare(&zero) {
            Ordering::Greater => self.upper.query(&q0, &q1, &mut stats),
            Ordering::Less => self.lower.query(&q0, &q1.neg(), &mut stats),
            Ordering::Equal => match q0.compare(&zero) {
                Ordering::Greater => self.max_x.as_ref().map(|(_, s)| *s),
                Ordering::Less => self.min_x.as_ref().map(|(_, s)| *s),
                // Index 0 is the first insert and the last index the latest:
                // compaction keeps both.
                Ordering::Equal => u32::try_from(self.positions.len())
                    .ok()
                    .and_then(|n| n.checked_sub(1))
                    .map(|last| Span { first: 0, last }),
            },
        };
        let answer = span.and_then(|s| {
            let i = match tie {
                Tie::Latest => s.last,
                Tie::Earliest => s.first,
            };
            let i = i as usize;
            Some((*self.positions.get(i)?, self.values.get(i)?))
        });
        (answer, stats)
    }

    /// Checks every invariant of the [module docs](self) that the structure
    /// can check on its own (order, links, strict convexity, heap, counts).
    /// `O(n)`; for tests and diagnostics. In the inexact `f64` regime the
    /// convexity check may legitimately fail.
    pub fn check_invariants(&self) -> Result<(), String> {
        self.upper.check().map_err(|e| format!("upper hull: {e}"))?;
        self.lower.check().map_err(|e| format!("lower hull: {e}"))?;
        if self.positions.windows(2).any(|w| w[0] >= w[1]) {
            return Err("positions not strictly increasing".into());
        }
        if self.positions.len() != self.values.len() || self.positions.len() > self.inserted {
            return Err(format!(
                "{} positions, {} values stored, {} inserted",
                self.positions.len(),
                self.values.len(),
                self.inserted
            ));
        }
        let mut spans = Vec::new();
        self.collect_spans(&mut spans);
        let stored = self.positions.len();
        if let Some(bad) = spans.iter().find(|&&i| i as usize >= stored) {
            return Err(format!(
                "span index {bad} beyond the {stored} stored points"
            ));
        }
        Ok(())
    }

    /// Pushes every insertion index some span refers to: live vertices'
    /// `dups` and `edge` of both hulls and the extreme vertical lines.
    fn collect_spans(&self, out: &mut Vec<u32>) {
        self.upper.collect_spans(out);
        self.lower.collect_spans(out);
        for (_, s) in [&self.min_x, &self.max_x].into_iter().flatten() {
            out.extend([s.first, s.last]);
        }
    }

    /// Drops every stored point that no span refers to and that is neither
    /// the first nor the latest insert, renumbering the rest in order (so
    /// span unions, minima and maxima are unchanged), and shrinks node
    /// storage that mostly holds freed nodes. `O(s + v)` for `s` stored
    /// points and `v` nodes; run once per `h + 64` inserts (`h` points kept),
    /// so `O(1)` amortised per insert.
    fn compact(&mut self) {
        let stored = self.positions.len();
        let mut referenced = Vec::new();
        if let Some(last) = stored.checked_sub(1) {
            // `stored ≤ u32::MAX`: indexes fit in `u32`.
            referenced.extend([0, last as u32]);
        }
        self.collect_spans(&mut referenced);
        // `rank[i]`: the new index of stored point `i`, `NIL` if dropped.
        let mut rank = vec![NIL; stored];
        for &i in &referenced {
            rank[i as usize] = 0;
        }
        let mut kept = 0;
        for (new, r) in (0..).zip(rank.iter_mut().filter(|r| **r != NIL)) {
            *r = new;
            kept += 1;
        }
        if kept < stored {
            let capacity = (2 * kept + COMPACT_SLACK).min(MAX_POINTS);
            let mut positions = Vec::with_capacity(capacity);
            let mut values = Vec::with_capacity(capacity);
            let old = std::mem::take(&mut self.values).into_iter();
            for ((v, &p), &r) in old.zip(&self.positions).zip(&rank) {
                if r != NIL {
                    positions.push(p);
                    values.push(v);
                }
            }
            self.positions = positions;
            self.values = values;
            let remap = |s: &mut Span| {
                s.first = rank[s.first as usize];
                s.last = rank[s.last as usize];
            };
            self.upper.remap_spans(remap);
            self.lower.remap_spans(remap);
            for (_, s) in [&mut self.min_x, &mut self.max_x].into_iter().flatten() {
                remap(s);
            }
        }
        self.upper.shrink();
        self.lower.shrink();
        self.compact_at = (2 * self.positions.len() + COMPACT_SLACK).min(MAX_POINTS);
    }
}

/// Grows the span of the extreme vertical line `slot` (`dir` = `Greater` for
/// the largest `x`, `Less` for the smallest) with point `index` at `x`.
fn extend_extreme<T: Coord>(slot: &mut Option<(T, Span)>, x: &T, index: u32, dir: Ordering) {
    match slot {
        Some((ex, span)) => {
            let c = x.compare(ex);
            if c == dir {
                *slot = Some((x.clone(), Span::single(index)));
            } else if c == Ordering::Equal {
                span.last = index;
            }
        }
        None => *slot = Some((x.clone(), Span::single(index))),
    }
}

/// The earliest and latest insertion index of a non-empty set of points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    first: u32,
    last: u32,
}

impl Span {
    fn single(i: u32) -> Span {
        Span { first: i, last: i }
    }
}

/// Union of two possibly empty spans.
fn union(a: Option<Span>, b: Option<Span>) -> Option<Span> {
    match (a, b) {
        (Some(a), Some(b)) => Some(Span {
            first: a.first.min(b.first),
            last: a.last.max(b.last),
        }),
        (a, None) => a,
        (None, b) => b,
    }
}

/// "No node".
const NIL: u32 = u32::MAX;

/// One hull vertex, a treap node threaded in `x` order.
#[derive(Clone, Debug)]
struct Node<T> {
    p: [T; 2],
    /// The points equal to `p`.
    dups: Span,
    /// The points on the open edge from `p` to `next`'s point.
    edge: Option<Span>,
    /// `next.p − p` (zero for the last vertex): the edge the queries test.
    dir: [T; 2],
    prev: u32,
    next: u32,
    left: u32,
    right: u32,
    prio: u32,
}

/// Where a split or merge attaches its next subtree.
#[derive(Clone, Copy)]
enum Hook {
    Root(usize),
    Left(u32),
    Right(u32),
}

/// An upper hull: strictly convex vertices in a treap keyed by `x`.
#[derive(Clone, Debug)]
struct Chain<T> {
    nodes: Vec<Node<T>>,
    free: Vec<u32>,
    root: u32,
    vertices: usize,
    /// Nodes ever allocated; seeds the priorities.
    allocated: u64,
}

/// Sign of `(a − o) × (b − o)`: `Greater` when `o → a → b` turns
/// counter-clockwise (for `x(o) < x(a) < x(b)`: `a` strictly below the
/// line `o b`), `Equal` when collinear.
fn orient<T: Coord>(o: &[T; 2], a: &[T; 2], b: &[T; 2]) -> Ordering {
    let ax = a[0].sub(&o[0]);
    let ay = a[1].sub(&o[1]);
    let bx = b[0].sub(&o[0]);
    let by = b[1].sub(&o[1]);
    ax.mul(&by).compare(&ay.mul(&bx))
}

/// Sign of `q · d`.
fn dot_sign<T: Coord>(q0: &T, q1: &T, d: &[T; 2]) -> Ordering {
    q0.mul(&d[0]).compare(&q1.mul(&d[1]).neg())
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl<T: Coord> Chain<T> {
    fn new() -> Self {
        Chain {
            nodes: Vec::new(),
            free: Vec::new(),
            root: NIL,
            vertices: 0,
            allocated: 0,
        }
    }

    fn n(&self, id: u32) -> &Node<T> {
        &self.nodes[id as usize]
    }

    fn n_mut(&mut self, id: u32) -> &mut Node<T> {
        &mut self.nodes[id as usize]
    }

    fn alloc(&mut self, p: [T; 2], index: u32) -> u32 {
        self.allocated += 1;
        // The top 32 bits of a splitmix64 step are well mixed.
        let prio = (splitmix64(self.allocated) >> 32) as u32;
        let node = Node {
            p,
            dups: Span::single(index),
            edge: None,
            dir: [T::zero(), T::zero()],
            prev: NIL,
            next: NIL,
            left: NIL,
            right: NIL,
            prio,
        };
        self.vertices += 1;
        if let Some(id) = self.free.pop() {
            self.nodes[id as usize] = node;
            id
        } else {
            // At most one node per point, and points are fewer than
            // `u32::MAX`, so the id is never `NIL`.
            let id = self.nodes.len() as u32;
            self.nodes.push(node);
            id
        }
    }

    fn set(&mut self, roots: &mut [u32; 2], hook: Hook, child: u32) {
        match hook {
            Hook::Root(i) => roots[i] = child,
            Hook::Left(n) => self.n_mut(n).left = child,
            Hook::Right(n) => self.n_mut(n).right = child,
        }
    }

    /// Splits treap `t` into the nodes whose point satisfies `goes_left`
    /// (a prefix in `x` order) and the rest. Iterative.
    fn split(&mut self, t: u32, goes_left: impl Fn(&[T; 2]) -> bool) -> (u32, u32) {
        let mut roots = [NIL; 2];
        let (mut lh, mut rh) = (Hook::Root(0), Hook::Root(1));
        let mut cur = t;
        while cur != NIL {
            if goes_left(&self.n(cur).p) {
                self.set(&mut roots, lh, cur);
                lh = Hook::Right(cur);
                cur = self.n(cur).right;
            } else {
                self.set(&mut roots, rh, cur);
                rh = Hook::Left(cur);
                cur = self.n(cur).left;
            }
        }
        self.set(&mut roots, lh, NIL);
        self.set(&mut roots, rh, NIL);
        (roots[0], roots[1])
    }

    /// Merges treaps `a` and `b`, every `x` of `a` below every `x` of `b`.
    fn merge(&mut self, mut a: u32, mut b: u32) -> u32 {
        let mut roots = [NIL; 2];
        let mut hook = Hook::Root(0);
        loop {
            if a == NIL {
                self.set(&mut roots, hook, b);
                break;
            }
            if b == NIL {
                self.set(&mut roots, hook, a);
                break;
            }
            if self.n(a).prio >= self.n(b).prio {
                self.set(&mut roots, hook, a);
                hook = Hook::Right(a);
                a = self.n(a).right;
            } else {
                self.set(&mut roots, hook, b);
                hook = Hook::Left(b);
                b = self.n(b).left;
            }
        }
        roots[0]
    }

    /// Estimated heap bytes of the node and free-list vectors.
    fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node<T>>()
            + self.free.capacity() * std::mem::size_of::<u32>()
    }

    /// The live vertices in `x` order (freed nodes are never reached).
    fn live(&self) -> impl Iterator<Item = u32> + '_ {
        let mut first = self.root;
        while first != NIL && self.n(first).left != NIL {
            first = self.n(first).left;
        }
        std::iter::successors((first != NIL).then_some(first), |&id| {
            let next = self.n(id).next;
            (next != NIL).then_some(next)
        })
    }

    /// Pushes the endpoints of every live vertex's `dups` and `edge`.
    fn collect_spans(&self, out: &mut Vec<u32>) {
        for id in self.live() {
            let node = self.n(id);
            out.extend([node.dups.first, node.dups.last]);
            if let Some(e) = node.edge {
                out.extend([e.first, e.last]);
            }
        }
    }

    /// Applies `f` to every live vertex's `dups` and `edge`. Freed nodes keep
    /// stale spans; they are overwritten when reallocated.
    fn remap_spans(&mut self, f: impl Fn(&mut Span)) {
        let live: Vec<u32> = self.live().collect();
        for id in live {
            let node = self.n_mut(id);
            f(&mut node.dups);
            if let Some(e) = &mut node.edge {
                f(e);
            }
        }
    }

    /// Drops freed nodes once they are most of the node vector, renumbering
    /// the live ones (in id order) and their links.
    fn shrink(&mut self) {
        if self.nodes.len() <= 2 * self.vertices + COMPACT_SLACK {
            return;
        }
        let mut map = vec![NIL; self.nodes.len()];
        let live: Vec<u32> = self.live().collect();
        for &id in &live {
            map[id as usize] = 0;
        }
        for (count, m) in (0..).zip(map.iter_mut().filter(|m| **m != NIL)) {
            *m = count;
        }
        let to = |id: u32| if id == NIL { NIL } else { map[id as usize] };
        let mut nodes = Vec::with_capacity(2 * live.len() + COMPACT_SLACK);
        for (node, &m) in std::mem::take(&mut self.nodes).into_iter().zip(&map) {
            if m != NIL {
                nodes.push(Node {
                    prev: to(node.prev),
                    next: to(node.next),
                    left: to(node.left),
                    right: to(node.right),
                    ..node
                });
            }
        }
        self.root = to(self.root);
        self.nodes = nodes;
        self.free = Vec::new();
    }

    /// Returns every node of treap `t` to the free list.
    fn release(&mut self, t: u32) {
        let mut stack = vec![t];
        while let Some(id) = stack.pop() {
            if id == NIL {
                continue;
            }
            let (l, r) = (self.n(id).left, self.n(id).right);
            stack.push(l);
            stack.push(r);
            self.free.push(id);
            self.vertices -= 1;
        }
    }

    /// `(below, equal, above)`: the vertices with the largest `x` below,
    /// equal to, and the smallest `x` above `x`.
    fn locate(&self, x: &T) -> (u32, u32, u32) {
        let (mut lo, mut hi) = (NIL, NIL);
        let mut cur = self.root;
        while cur != NIL {
            let node = self.n(cur);
            match node.p[0].compare(x) {
                Ordering::Less => {
                    lo = cur;
                    cur = node.right;
                }
                Ordering::Greater => {
                    hi = cur;
                    cur = node.left;
                }
                Ordering::Equal => return (node.prev, cur, node.next),
            }
        }
        (lo, NIL, hi)
    }

    /// Adds point `p` (insertion index `index`), keeping the invariants.
    fn insert(&mut self, p: [T; 2], index: u32) {
        let (lo, eq, hi) = self.locate(&p[0]);
        if eq != NIL {
            match p[1].compare(&self.n(eq).p[1]) {
                Ordering::Less => return,
                Ordering::Equal => {
                    self.n_mut(eq).dups.last = index;
                    return;
                }
                Ordering::Greater => {}
            }
        } else if lo != NIL && hi != NIL {
            match orient(&self.n(lo).p, &self.n(hi).p, &p) {
                Ordering::Less => return,
                Ordering::Equal => {
                    let e = &mut self.n_mut(lo).edge;
                    *e = union(*e, Some(Span::single(index)));
                    return;
                }
                Ordering::Greater => {}
            }
        }
        // `p` is strictly above the chain (or beyond its ends): a new vertex.
        // Everything of the old chain strictly between `lo` and `hi` is
        // strictly below `p`, so the open edges `lo–p` and `p–hi` start empty.
        let (mut left, mut left_edge) = (lo, None);
        while left != NIL {
            let ll = self.n(left).prev;
            if ll == NIL {
                break;
            }
            match orient(&self.n(ll).p, &self.n(left).p, &p) {
                Ordering::Less => break,
                // `left` lies on the open segment `ll–p`: so do its
                // duplicates and the open edge `ll–left`.
                Ordering::Equal => {
                    left_edge = union(union(left_edge, Some(self.n(left).dups)), self.n(ll).edge);
                }
                // `left` is strictly below `ll–p`, and so is everything
                // gathered so far. (In exact arithmetic nothing is: strict
                // convexity makes an `Equal` step the last removal. The
                // reset keeps rounded `f64` predicates self-consistent.)
                Ordering::Greater => left_edge = None,
            }
            left = ll;
        }
        let (mut right, mut right_edge) = (hi, None);
        while right != NIL {
            let rr = self.n(right).next;
            if rr == NIL {
                break;
            }
            match orient(&p, &self.n(right).p, &self.n(rr).p) {
                Ordering::Less => break,
                Ordering::Equal => {
                    right_edge = union(
                        union(right_edge, Some(self.n(right).dups)),
                        self.n(right).edge,
                    );
                }
                Ordering::Greater => right_edge = None,
            }
            right = rr;
        }
        // Cut out the vertices strictly between `left` and `right`, if any
        // (`lo` and `hi` are adjacent unless `eq` sits between them).
        if eq != NIL || left != lo || right != hi {
            let (a, rest) = if left == NIL {
                (NIL, self.root)
            } else {
                let lx = self.n(left).p[0].clone();
                self.split(self.root, |q| q[0].compare(&lx) != Ordering::Greater)
            };
            let (cut, c) = if right == NIL {
                (rest, NIL)
            } else {
                let rx = self.n(right).p[0].clone();
                self.split(rest, |q| q[0].compare(&rx) == Ordering::Less)
            };
            self.release(cut);
            self.root = self.merge(a, c);
        }
        let dir = if right == NIL {
            [T::zero(), T::zero()]
        } else {
            let r = &self.n(right).p;
            [r[0].sub(&p[0]), r[1].sub(&p[1])]
        };
        if left != NIL {
            let l = &self.n(left).p;
            let left_dir = [p[0].sub(&l[0]), p[1].sub(&l[1])];
            self.n_mut(left).dir = left_dir;
        }
        let id = self.alloc(p, index);
        {
            let node = self.n_mut(id);
            node.prev = left;
            node.next = right;
            node.edge = right_edge;
            node.dir = dir;
        }
        if left != NIL {
            let l = self.n_mut(left);
            l.next = id;
            l.edge = left_edge;
        }
        if right != NIL {
            self.n_mut(right).prev = id;
        }
        self.attach(id);
    }

    /// Links the fresh node `id` into the treap (no vertex shares its `x`):
    /// descend while priorities dominate, then split the subtree below.
    fn attach(&mut self, id: u32) {
        let prio = self.n(id).prio;
        let mut roots = [self.root, NIL];
        let mut hook = Hook::Root(0);
        let mut cur = self.root;
        while cur != NIL && self.n(cur).prio >= prio {
            if self.n(cur).p[0].compare(&self.n(id).p[0]) == Ordering::Less {
                hook = Hook::Right(cur);
                cur = self.n(cur).right;
            } else {
                hook = Hook::Left(cur);
                cur = self.n(cur).left;
            }
        }
        let x = self.n(id).p[0].clone();
        let (l, r) = self.split(cur, |q| q[0].compare(&x) == Ordering::Less);
        let node = self.n_mut(id);
        node.left = l;
        node.right = r;
        self.set(&mut roots, hook, id);
        self.root = roots[0];
    }

    /// The span of the face maximising `q·p` for `q1 > 0`.
    fn query(&self, q0: &T, q1: &T, stats: &mut QueryStats) -> Option<Span> {
        // Find the leftmost vertex `v` with `q·(v.next − v) ≤ 0` (or no
        // `next`): the score rises strictly up to `v` and falls after
        // `v.next` (slopes strictly decrease).
        let (mut best, mut flat) = (NIL, false);
        let mut cur = self.root;
        while cur != NIL {
            stats.visited += 1;
            let node = self.n(cur);
            let sign = if node.next == NIL {
                Ordering::Less
            } else {
                dot_sign(q0, q1, &node.dir)
            };
            if sign == Ordering::Greater {
                cur = node.right;
            } else {
                best = cur;
                flat = sign == Ordering::Equal;
                cur = node.left;
            }
        }
        if best == NIL {
            return None;
        }
        let node = self.n(best);
        if flat {
            // `q` is perpendicular to the edge `best–next`: all of it ties.
            union(
                union(Some(node.dups), node.edge),
                Some(self.n(node.next).dups),
            )
        } else {
            Some(node.dups)
        }
    }

    fn check(&self) -> Result<(), String> {
        // In-order walk of the treap must equal the linked list.
        let mut order = Vec::new();
        let mut stack = Vec::new();
        let mut cur = self.root;
        while cur != NIL || !stack.is_empty() {
            while cur != NIL {
                stack.push(cur);
                cur = self.n(cur).left;
            }
            let Some(id) = stack.pop() else { break };
            order.push(id);
            let node = self.n(id);
            for child in [node.left, node.right] {
                if child != NIL && self.n(child).prio > node.prio {
                    return Err(format!("heap order broken at node {id}"));
                }
            }
            cur = node.right;
        }
        if order.len() != self.vertices {
            return Err(format!(
                "{} nodes in tree, {} counted",
                order.len(),
                self.vertices
            ));
        }
        for (i, &id) in order.iter().enumerate() {
            let node = self.n(id);
            let prev = if i == 0 { NIL } else { order[i - 1] };
            let next = order.get(i + 1).copied().unwrap_or(NIL);
            if node.prev != prev || node.next != next {
                return Err(format!("links broken at vertex {i}"));
            }
            if next == NIL && node.edge.is_some() {
                return Err("last vertex has an edge".into());
            }
            if next != NIL && node.p[0].compare(&self.n(next).p[0]) != Ordering::Less {
                return Err(format!("x not increasing at vertex {i}"));
            }
            if next != NIL {
                let q = &self.n(next).p;
                let d = [q[0].sub(&node.p[0]), q[1].sub(&node.p[1])];
                if d[0].compare(&node.dir[0]) != Ordering::Equal
                    || d[1].compare(&node.dir[1]) != Ordering::Equal
                {
                    return Err(format!("stale edge direction at vertex {i}"));
                }
            }
            if prev != NIL
                && next != NIL
                && orient(&self.n(prev).p, &node.p, &self.n(next).p) != Ordering::Less
            {
                return Err(format!("not strictly convex at vertex {i}: {:?}", node.p));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigInt;

    /// A value type without `Clone`: compaction moves values.
    #[derive(Debug, PartialEq, Eq)]
    struct Val(u64);

    fn val(pos: u64) -> Val {
        Val(pos.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5555)
    }

    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(1);
            splitmix64(self.0)
        }
        /// Uniform in `-r..=r`.
        fn coord(&mut self, r: i64) -> i64 {
            (self.next() % (2 * r as u64 + 1)) as i64 - r
        }
    }

    /// Brute force over distinct keys: per key, its first and last position.
    #[derive(Default)]
    struct Brute {
        keys: std::collections::BTreeMap<[i64; 2], (u64, u64)>,
    }

    impl Brute {
        fn insert(&mut self, k: [i64; 2], pos: u64) {
            self.keys
                .entry(k)
                .and_modify(|e| e.1 = pos)
                .or_insert((pos, pos));
        }

        fn query(&self, q: [i64; 2], tie: Tie) -> Option<u64> {
            let mut best: Option<(i128, u64)> = None;
            for (k, &(first, last)) in &self.keys {
                let s = q[0] as i128 * k[0] as i128 + q[1] as i128 * k[1] as i128;
                let p = match tie {
                    Tie::Latest => last,
                    Tie::Earliest => first,
                };
                let better = match best {
                    None => true,
                    Some((b, bp)) => {
                        s > b
                            || (s == b
                                && match tie {
                                    Tie::Latest => p > bp,
                                    Tie::Earliest => p < bp,
                                })
                    }
                };
                if better {
                    best = Some((s, p));
                }
            }
            best.map(|(_, p)| p)
        }
    }

    fn queries() -> Vec<[i64; 2]> {
        let mut qs = Vec::new();
        for x in -3..=3 {
            for y in -3..=3 {
                qs.push([x, y]);
            }
        }
        qs
    }

    fn check<T: Coord>(h: &Hull<T, Val>, brute: &Brute, q: [i64; 2], conv: &impl Fn(i64) -> T) {
        for tie in [Tie::Latest, Tie::Earliest] {
            let want = brute.query(q, tie);
            let got = h.query([conv(q[0]), conv(q[1])], tie);
            assert_eq!(
                got.map(|(p, v)| (p, v.0)),
                want.map(|p| (p, val(p).0)),
                "q = {q:?}, tie = {tie:?}, after {} inserts",
                h.len()
            );
        }
    }

    /// Heavily duplicated keys from a tiny grid (plus lines), so compaction
    /// runs many times; every few inserts a query is checked against the
    /// brute force, for every coordinate type.
    fn differential<T: Coord>(conv: impl Fn(i64) -> T, seed: u64, radius: i64, n: usize) {
        let mut rng = Rng(seed);
        let mut h: Hull<T, Val> = Hull::new();
        let mut brute = Brute::default();
        let qs = queries();
        let mut pos = 0u64;
        let mut compactions = 0;
        for i in 0..n {
            pos += 1 + rng.next() % 3;
            let k = match rng.next() % 8 {
                0 => [rng.coord(radius), 2],
                1 => [-1, rng.coord(radius)],
                2 => {
                    let t = rng.coord(radius);
                    [t, t]
                }
                _ => [rng.coord(radius), rng.coord(radius)],
            };
            let before = h.stored();
            h.insert([conv(k[0]), conv(k[1])], pos, val(pos)).unwrap();
            brute.insert(k, pos);
            if h.stored() <= before {
                compactions += 1;
            }
            check(&h, &brute, qs[rng.next() as usize % qs.len()], &conv);
            if i % 997 == 0 {
                for &q in &qs {
                    check(&h, &brute, q, &conv);
                }
                h.check_invariants().unwrap();
            }
        }
        for &q in &qs {
            check(&h, &brute, q, &conv);
        }
        h.check_invariants().unwrap();
        assert_eq!(h.len(), n);
        assert!(compactions >= 10, "only {compactions} compactions");
        assert!(h.stored() < 1000, "stored {}", h.stored());
    }

    #[test]
    fn differential_with_heavy_duplication() {
        for seed in 0..6 {
            for radius in [1, 2, 4] {
                differential(|v| v as i128, seed, radius, 6000);
                differential(|v| v as f64, seed + 100, radius, 6000);
            }
            differential(
                |v| BigRational::from_integer(BigInt::from(v)),
                seed + 200,
                2,
                3000,
            );
        }
    }

    #[test]
    fn million_inserts_of_three_keys_stay_small() {
        let keys = [[0i64, 0], [10, 3], [4, -7]];
        // Strictly inside the triangle.
        let interior = [[4i64, -1], [5, 0], [6, 1]];
        let mut h: Hull<i128, Val> = Hull::new();
        let mut brute = Brute::default();
        let mut rng = Rng(42);
        let mut max_stored = 0;
        let n = 1_000_000u64;
        for pos in 0..n {
            let k = if pos % 100_003 == 7 {
                interior[(pos % 3) as usize]
            } else {
                keys[(rng.next() % 3) as usize]
            };
            h.insert([k[0] as i128, k[1] as i128], pos, val(pos))
                .unwrap();
            brute.insert(k, pos);
            max_stored = max_stored.max(h.stored());
        }
        eprintln!(
            "1M inserts, 3 keys: stored {} (max {max_stored}), heap {} bytes",
            h.stored(),
            h.heap_bytes()
        );
        assert_eq!(h.len(), n as usize);
        assert!(max_stored < 300, "max stored {max_stored}");
        assert!(h.heap_bytes() < 64 * 1024, "heap {}", h.heap_bytes());
        h.check_invariants().unwrap();
        for q in queries() {
            check(&h, &brute, q, &|v| v as i128);
        }
        // The three keys tie for q = 0: first and last insert.
        assert_eq!(h.query([0, 0], Tie::Earliest).map(|(p, _)| p), Some(0));
        assert_eq!(h.query([0, 0], Tie::Latest).map(|(p, _)| p), Some(n - 1));
    }

    #[test]
    fn parabola_keys_are_all_kept() {
        let n = 20_000i64;
        let mut h: Hull<i128, Val> = Hull::new();
        for k in 0..n {
            let kk = k as i128;
            h.insert([2 * kk, -kk * kk], k as u64, val(k as u64))
                .unwrap();
            assert_eq!(h.stored(), k as usize + 1);
        }
        h.check_invariants().unwrap();
        for k in (0..n).step_by(7) {
            for tie in [Tie::Latest, Tie::Earliest] {
                let got = h.query([k as i128, 1], tie);
                assert_eq!(got, Some((k as u64, &val(k as u64))));
            }
        }
        assert_eq!(h.query([-1, 0], Tie::Latest), Some((0, &val(0))));
        assert_eq!(
            h.query([1, 0], Tie::Latest),
            Some(((n - 1) as u64, &val((n - 1) as u64)))
        );
    }

    /// Points that leave the hull stop being stored, and freed nodes are
    /// reclaimed: many vertices, then a huge triangle that swallows them.
    #[test]
    fn swallowed_vertices_free_their_memory() {
        let mut h: Hull<i128, Val> = Hull::new();
        let mut pos = 0;
        for k in 0..5_000i128 {
            h.insert([2 * k, -k * k], pos, val(pos)).unwrap();
            pos += 1;
        }
        let big = 1i128 << 40;
        for k in [[-big, -big], [big, -big], [0, big]] {
            h.insert(k, pos, val(pos)).unwrap();
            pos += 1;
        }
        for _ in 0..20_000 {
            h.insert([0, 0], pos, val(pos)).unwrap();
            pos += 1;
        }
        assert!(h.stored() < 300, "stored {}", h.stored());
        assert!(h.heap_bytes() < 64 * 1024, "heap {}", h.heap_bytes());
        h.check_invariants().unwrap();
        assert_eq!(h.query([0, 1], Tie::Latest), Some((5_002, &val(5_002))));
        assert_eq!(h.query([0, 0], Tie::Earliest), Some((0, &val(0))));
        assert_eq!(h.query([0, 0], Tie::Latest), Some((pos - 1, &val(pos - 1))));
        assert_eq!(h.len(), pos as usize);
    }
}
