//! The layer schedule: when each dimension is computed and which residual
//! slot holds it.
//!
//! # Time
//!
//! Sublayers are numbered by *time*: 0 is the embedding, layer `l`'s
//! attention is `2l + 1` and its FFN `2l + 2`. A dimension computed at time
//! `t` can be read by any sublayer at a time after `t`. Where each primitive
//! runs:
//!
//! - `Input`: the embedding (time 0);
//! - `LookUp`, `CumSum`: an attention sublayer (odd time);
//! - `ReGLU`: an FFN sublayer (even time ≥ 2);
//! - `Persist`: any sublayer (a linear form written into a slot).
//!
//! # Slots
//!
//! A dimension occupies one residual slot from its time until it is
//! *cleared*: the first FFN at or after its last read subtracts it (two
//! neurons, `relu(x) − relu(−x)`), after which later sublayers may write a
//! new dimension there. Outputs are read after the last layer and never
//! cleared. `d_model` is the number of slots.
//!
//! [`Schedule::greedy`] is deterministic: as-soon-as-possible times (fewest
//! layers), then slots by a left-edge sweep (lowest free slot first), which
//! is optimal for the interval graph it colours. [`Schedule::validate`]
//! checks every dependency and that no two live dimensions share a slot.

use std::collections::BTreeSet;
use tvm_dsl::expr::Dim;
use tvm_dsl::graph::{Graph, Node};

/// Where a primitive may run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The embedding.
    Embed,
    /// An attention sublayer.
    Attention,
    /// An FFN sublayer.
    Ffn,
    /// Any sublayer.
    Any,
}

impl Phase {
    /// The phase a node needs.
    pub fn of(node: &Node) -> Phase {
        match node {
            Node::Input(_) => Phase::Embed,
            Node::LookUp(_) | Node::CumSum(_) => Phase::Attention,
            Node::ReGLU { .. } => Phase::Ffn,
            Node::Persist(_) => Phase::Any,
        }
    }

    /// Whether time `t` is a sublayer of this phase.
    pub fn allows(self, t: u32) -> bool {
        match self {
            Phase::Embed => t == 0,
            Phase::Attention => t % 2 == 1,
            Phase::Ffn => t >= 2 && t.is_multiple_of(2),
            Phase::Any => t >= 1,
        }
    }

    /// The first time after `after` (exclusive) of this phase.
    pub fn first_after(self, after: Option<u32>) -> u32 {
        let mut t = after.map_or(0, |a| a + 1);
        while !self.allows(t) {
            t += 1;
        }
        t
    }
}

/// A schedule that breaks a rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// Wrong number of entries.
    #[error("the schedule covers {found} dimensions, the graph has {expected}")]
    Size {
        /// Graph dimensions.
        expected: usize,
        /// Schedule entries.
        found: usize,
    },
    /// A dimension placed in a sublayer of the wrong kind.
    #[error("d{dim} ({kind}) is placed at time {time}, which is not a {phase:?} sublayer")]
    Phase {
        /// The dimension.
        dim: u32,
        /// Its primitive.
        kind: &'static str,
        /// Its time.
        time: u32,
        /// The phase it needs.
        phase: Phase,
    },
    /// A dimension read before (or while) it is computed.
    #[error("d{dim} at time {time} reads d{operand}, computed at time {operand_time}")]
    Dependency {
        /// The reader.
        dim: u32,
        /// Its time.
        time: u32,
        /// What it reads.
        operand: u32,
        /// When that is computed.
        operand_time: u32,
    },
    /// Two dimensions live at once in one slot.
    #[error(
        "slot {slot} holds d{first} (live {first_live:?}) and d{second} (live {second_live:?}) at once"
    )]
    Overlap {
        /// The slot.
        slot: u32,
        /// One dimension.
        first: u32,
        /// Its live interval `[written, cleared]`.
        first_live: (u32, u32),
        /// The other.
        second: u32,
        /// Its live interval.
        second_live: (u32, u32),
    },
}

/// Times and slots for every dimension of a graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// The sublayer time of each dimension.
    pub time: Vec<u32>,
    /// The residual slot of each dimension.
    pub slot: Vec<u32>,
}

/// Size figures of a schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stats {
    /// Transformer layers (attention + FFN each).
    pub layers: u32,
    /// Residual width.
    pub d_model: u32,
    /// Heads per layer (lookups and cumulative sums).
    pub heads: Vec<u32>,
    /// FFN neurons per layer: ReGLU neurons plus two per dimension cleared.
    pub neurons: Vec<u32>,
}

impl Stats {
    /// The widest FFN.
    pub fn d_ffn(&self) -> u32 {
        self.neurons.iter().copied().max().unwrap_or(0)
    }

    /// The most heads in one layer.
    pub fn max_heads(&self) -> u32 {
        self.heads.iter().copied().max().unwrap_or(0)
    }
}

fn readers(graph: &Graph) -> Vec<Vec<Dim>> {
    let mut readers = vec![Vec::new(); graph.dims().len()];
    for (i, d) in graph.dims().iter().enumerate() {
        for e in d.node.operands() {
            for x in e.dims() {
                readers[x.index()].push(Dim(i as u32));
            }
        }
    }
    readers
}

fn outputs(graph: &Graph) -> BTreeSet<Dim> {
    graph
        .outputs()
        .iter()
        .flat_map(|(_, e)| e.dims().collect::<Vec<_>>())
        .collect()
}

impl Schedule {
    /// As-soon-as-possible times, then left-edge slot assignment.
    pub fn greedy(graph: &Graph) -> Schedule {
        let mut time = Vec::with_capacity(graph.dims().len());
        for d in graph.dims() {
            let after = d
                .node
                .operands()
                .iter()
                .flat_map(|e| e.dims())
                .map(|x| time[x.index()])
                .max();
            let t: u32 = Phase::of(&d.node).first_after(after);
            time.push(t);
        }
        let slot = assign_slots(graph, &time);
        Schedule { time, slot }
    }

    /// The time after which each dimension's slot is free again
    /// (`u32::MAX` for outputs).
    pub fn cleared(&self, graph: &Graph) -> Vec<u32> {
        cleared_times(graph, &self.time)
    }

    /// Checks phases, dependencies and slot sharing.
    pub fn validate(&self, graph: &Graph) -> Result<(), ScheduleError> {
        let n = graph.dims().len();
        if self.time.len() != n || self.slot.len() != n {
            return Err(ScheduleError::Size {
                expected: n,
                found: self.time.len().min(self.slot.len()),
            });
        }
        for (i, d) in graph.dims().iter().enumerate() {
            let (t, phase) = (self.time[i], Phase::of(&d.node));
            if !phase.allows(t) {
                return Err(ScheduleError::Phase {
                    dim: i as u32,
                    kind: d.node.kind(),
                    time: t,
                    phase,
                });
            }
            for x in d.node.operands().iter().flat_map(|e| e.dims()) {
                if self.time[x.index()] >= t {
                    return Err(ScheduleError::Dependency {
                        dim: i as u32,
                        time: t,
                        operand: x.0,
                        operand_time: self.time[x.index()],
                    });
                }
            }
        }
        let cleared = self.cleared(graph);
        let mut by_slot: Vec<Vec<usize>> = Vec::new();
        for (i, &s) in self.slot.iter().enumerate() {
            let s = s as usize;
            if by_slot.len() <= s {
                by_slot.resize(s + 1, Vec::new());
            }
            by_slot[s].push(i);
        }
        for (s, dims) in by_slot.iter().enumerate() {
            let mut live: Vec<(u32, u32, usize)> = dims
                .iter()
                .map(|&i| (self.time[i], cleared[i], i))
                .collect();
            live.sort_unstable();
            for pair in live.windows(2) {
                let ((t0, c0, d0), (t1, c1, d1)) = (pair[0], pair[1]);
                // The next occupant must be written strictly after the
                // previous one is cleared.
                if t1 <= c0 {
                    return Err(ScheduleError::Overlap {
                        slot: s as u32,
                        first: d0 as u32,
                        first_live: (t0, c0),
                        second: d1 as u32,
                        second_live: (t1, c1),
                    });
                }
            }
        }
        Ok(())
    }

    /// Layers, width, heads and neurons.
    pub fn stats(&self, graph: &Graph) -> Stats {
        let last = self.time.iter().copied().max().unwrap_or(0);
        let layers = last.div_ceil(2);
        let mut heads = vec![0; layers as usize];
        let mut neurons = vec![0; layers as usize];
        for (i, d) in graph.dims().iter().enumerate() {
            let t = self.time[i];
            match d.node {
                Node::LookUp(_) | Node::CumSum(_) => heads[(t as usize - 1) / 2] += 1,
                Node::ReGLU { .. } => neurons[(t as usize - 2) / 2] += 1,
                _ => {}
            }
        }
        for &c in &self.cleared(graph) {
            if c != u32::MAX && c >= 2 && (c as usize - 2) / 2 < neurons.len() {
                neurons[(c as usize - 2) / 2] += 2;
            }
        }
        let d_model = self.slot.iter().map(|s| s + 1).max().unwrap_or(0);
        Stats {
            layers,
            d_model,
            heads,
            neurons,
        }
    }
}

fn cleared_times(graph: &Graph, time: &[u32]) -> Vec<u32> {
    let readers = readers(graph);
    let outputs = outputs(graph);
    (0..graph.dims().len())
        .map(|i| {
            if outputs.contains(&Dim(i as u32)) {
                return u32::MAX;
            }
            let last_read = readers[i]
                .iter()
                .map(|r| time[r.index()])
                .max()
                .unwrap_or(time[i]);
            // The first FFN at or after the last read clears it.
            Phase::Ffn.first_after(Some(last_read.max(1) - 1))
        })
        .collect()
}

fn assign_slots(graph: &Graph, time: &[u32]) -> Vec<u32> {
    let cleared = cleared_times(graph, time);
    let mut order: Vec<usize> = (0..time.len()).collect();
    order.sort_by_key(|&i| (time[i], i));
    let mut free: BTreeSet<u32> = BTreeSet::new();
    // Occupied slots by the time they become free.
    let mut releases: BTreeSet<(u32, u32)> = BTreeSet::new();
    let mut next_slot = 0u32;
    let mut slot = vec![0u32; time.len()];
    for i in order {
        let t = time[i];
        while let Some(&(c, s)) = releases.first() {
            if c < t {
                releases.pop_first();
                free.insert(s);
            } else {
                break;
            }
        }
        let s = free.pop_first().unwrap_or_else(|| {
            next_slot += 1;
            next_slot - 1
        });
        slot[i] = s;
        releases.insert((cleared[i], s));
    }
    slot
}

#[cfg(test)]
mod tests {
    use super::*;
    use tvm_dsl::expr::Expr;

    fn small() -> Graph {
        let mut g = Graph::new();
        let x = g.position();
        let y = g.cumsum(x.clone());
        let z = g.ge_zero(y.clone() - 3);
        let w = g.cumsum(z.clone());
        g.output("w", w);
        g
    }

    #[test]
    fn greedy_is_valid_and_as_soon_as_possible() {
        let g = small();
        let s = Schedule::greedy(&g);
        assert_eq!(s.validate(&g), Ok(()));
        let stats = s.stats(&g);
        // cumsum (attention 1), ge_zero (FFN 2), cumsum (attention 3).
        assert_eq!(stats.layers, 2);
        assert_eq!(stats.heads, vec![1, 1]);
    }

    #[test]
    fn validation_catches_broken_schedules() {
        let g = small();
        let good = Schedule::greedy(&g);
        // A dependency violated: move the last cumsum before its operand.
        let mut bad = good.clone();
        let last = bad.time.len() - 1;
        bad.time[last] = 1;
        assert!(matches!(
            bad.validate(&g),
            Err(ScheduleError::Dependency { .. })
        ));
        // A phase violated: a ReGLU in an attention sublayer.
        let mut bad = good.clone();
        let reglu = g
            .dims()
            .iter()
            .position(|d| matches!(d.node, Node::ReGLU { .. }))
            .expect("has a neuron");
        bad.time[reglu] += 1;
        assert!(bad.validate(&g).is_err());
        // Two live dimensions in one slot: every pair whose live intervals
        // overlap must be caught when put together.
        let cleared = good.cleared(&g);
        let mut pairs = 0;
        for (i, &clear) in cleared.iter().enumerate() {
            for j in 0..good.slot.len() {
                let overlap = i != j && good.time[i] <= good.time[j] && good.time[j] <= clear;
                if overlap {
                    let mut bad = good.clone();
                    bad.slot[j] = bad.slot[i];
                    assert!(
                        matches!(bad.validate(&g), Err(ScheduleError::Overlap { .. })),
                        "d{i} d{j}"
                    );
                    pairs += 1;
                }
            }
        }
        assert!(pairs > 0);
    }

    #[test]
    fn dead_dimensions_give_their_slots_back() {
        // A long chain: each link is read once, by the next.
        let mut g = Graph::new();
        let mut x = g.position();
        for _ in 0..20 {
            x = g.reglu(Expr::int(1), x + 1);
        }
        g.output("x", x);
        let s = Schedule::greedy(&g);
        assert_eq!(s.validate(&g), Ok(()));
        assert!(s.stats(&g).d_model <= 3, "{:?}", s.stats(&g));
    }
}
