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
//! - embedding values: time 0;
//! - head outputs: an attention sublayer (odd time), every component of one
//!   head at the same time;
//! - FFN outputs: an FFN sublayer (even time ≥ 2).
//!
//! # Slots
//!
//! A dimension occupies one residual slot from its time until it is
//! *cleared*: the first FFN at or after its last read subtracts it (one
//! neuron, `relu(1)·(−x)`, only if a later dimension reuses the slot),
//! after which later sublayers may write a new dimension there. Outputs are read after the last layer and never
//! cleared. `d_model` is the number of slots.
//!
//! [`Schedule::greedy`] is deterministic: as-soon-as-possible times (fewest
//! layers), then slots by a left-edge sweep (lowest free slot first), which
//! is optimal for the interval graph it colours. [`Schedule::validate`]
//! checks every dependency and that no two live dimensions share a slot.

use std::collections::BTreeSet;
use tvm_dsl::expr::Dim;

pub use crate::plan::Phase;
use crate::plan::{Plan, Unit};

impl Phase {
    /// Whether time `t` is a sublayer of this phase.
    pub fn allows(self, t: u32) -> bool {
        match self {
            Phase::Embed => t == 0,
            Phase::Attention => t % 2 == 1,
            Phase::Ffn => t >= 2 && t.is_multiple_of(2),
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
    #[error("d{dim} is placed at time {time}, which is not a {phase:?} sublayer")]
    Phase {
        /// The dimension.
        dim: u32,
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
    /// Two outputs of one head at different times.
    #[error("head {head}: its outputs d{first} and d{second} are placed at different times")]
    Head {
        /// The head.
        head: u32,
        /// One output.
        first: u32,
        /// Another.
        second: u32,
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
    /// Heads per layer.
    pub heads: Vec<u32>,
    /// FFN neurons per layer: the units' neurons plus one per dimension
    /// cleared for a later occupant of its slot.
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

/// Who reads each dimension, from the plan's dependency DAG.
fn readers(plan: &Plan) -> Vec<Vec<Dim>> {
    let dag = plan.dag();
    let mut readers = vec![Vec::new(); plan.dims.len()];
    for e in dag.raw_edges() {
        readers[dag[e.source()].index()].push(dag[e.target()]);
    }
    readers
}

impl Schedule {
    /// As-soon-as-possible times, then left-edge slot assignment.
    pub fn greedy(plan: &Plan) -> Schedule {
        // Dimensions are built in topological order; walking the DAG's
        // topological order states (and checks) it.
        let dag = plan.dag();
        let order = petgraph::algo::toposort(&dag, None)
            .map(|o| o.into_iter().map(|n| dag[n]).collect::<Vec<_>>())
            .unwrap_or_else(|_| (0..plan.dims.len() as u32).map(Dim).collect());
        let mut time: Vec<u32> = vec![0; plan.dims.len()];
        for d in order {
            let after = dag
                .neighbors_directed(
                    petgraph::graph::NodeIndex::new(d.index()),
                    petgraph::Direction::Incoming,
                )
                .map(|x| time[dag[x].index()])
                .max();
            time[d.index()] = plan.dims[d.index()].unit.phase().first_after(after);
        }
        let slot = assign_slots(plan, &time);
        Schedule { time, slot }
    }

    /// A schedule with these times and left-edge slots.
    pub fn with_times(plan: &Plan, time: Vec<u32>) -> Schedule {
        let slot = assign_slots(plan, &time);
        Schedule { time, slot }
    }

    /// The time after which each dimension's slot is free again
    /// (`u32::MAX` for outputs).
    pub fn cleared(&self, plan: &Plan) -> Vec<u32> {
        cleared_times(plan, &self.time)
    }

    /// For each dimension, the FFN time at which a neuron must subtract it:
    /// its clearing time, but only when a later dimension reuses its slot
    /// (a dead value in a slot nobody writes again harms nothing).
    pub fn clearing_neurons(&self, plan: &Plan) -> Vec<Option<u32>> {
        let cleared = self.cleared(plan);
        // The latest write time per slot.
        let mut last_write: Vec<u32> = Vec::new();
        for (i, &s) in self.slot.iter().enumerate() {
            let s = s as usize;
            if last_write.len() <= s {
                last_write.resize(s + 1, 0);
            }
            last_write[s] = last_write[s].max(self.time[i]);
        }
        (0..self.time.len())
            .map(|i| {
                let c = cleared[i];
                (c != u32::MAX && last_write[self.slot[i] as usize] > c).then_some(c)
            })
            .collect()
    }

    /// Checks phases, dependencies, heads and slot sharing.
    pub fn validate(&self, plan: &Plan) -> Result<(), ScheduleError> {
        let n = plan.dims.len();
        if self.time.len() != n || self.slot.len() != n {
            return Err(ScheduleError::Size {
                expected: n,
                found: self.time.len().min(self.slot.len()),
            });
        }
        let mut head_time: Vec<Option<(u32, u32)>> = vec![None; plan.heads.len()];
        for (i, d) in plan.dims.iter().enumerate() {
            let (t, phase) = (self.time[i], d.unit.phase());
            if !phase.allows(t) {
                return Err(ScheduleError::Phase {
                    dim: i as u32,
                    time: t,
                    phase,
                });
            }
            for x in plan.reads(Dim(i as u32)) {
                if self.time[x.index()] >= t {
                    return Err(ScheduleError::Dependency {
                        dim: i as u32,
                        time: t,
                        operand: x.0,
                        operand_time: self.time[x.index()],
                    });
                }
            }
            if let Unit::Head { head, .. } = d.unit {
                match head_time[head as usize] {
                    None => head_time[head as usize] = Some((t, i as u32)),
                    Some((t0, first)) if t0 != t => {
                        return Err(ScheduleError::Head {
                            head,
                            first,
                            second: i as u32,
                        });
                    }
                    Some(_) => {}
                }
            }
        }
        let cleared = self.cleared(plan);
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
    pub fn stats(&self, plan: &Plan) -> Stats {
        let last = self.time.iter().copied().max().unwrap_or(0);
        let layers = last.div_ceil(2);
        let mut heads = vec![0; layers as usize];
        let mut neurons = vec![0; layers as usize];
        let mut counted = vec![false; plan.heads.len()];
        for (i, d) in plan.dims.iter().enumerate() {
            let t = self.time[i];
            match &d.unit {
                Unit::Head { head, .. } if !counted[*head as usize] => {
                    counted[*head as usize] = true;
                    heads[(t as usize - 1) / 2] += 1;
                }
                Unit::Ffn(n) => neurons[(t as usize - 2) / 2] += n.len() as u32,
                _ => {}
            }
        }
        for c in self.clearing_neurons(plan).into_iter().flatten() {
            if c >= 2 && (c as usize - 2) / 2 < neurons.len() {
                neurons[(c as usize - 2) / 2] += 1;
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

fn cleared_times(plan: &Plan, time: &[u32]) -> Vec<u32> {
    let readers = readers(plan);
    let outputs: BTreeSet<Dim> = plan.output_dims().into_iter().collect();
    (0..plan.dims.len())
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

fn assign_slots(plan: &Plan, time: &[u32]) -> Vec<u32> {
    let cleared = cleared_times(plan, time);
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
    use tvm_dsl::graph::Graph;

    fn small() -> Plan {
        let mut g = Graph::new();
        let x = g.position();
        let y = g.cumsum(x.clone());
        let z = g.ge_zero(y.clone() - 3);
        let w = g.cumsum(z.clone());
        g.output("w", w);
        Plan::from_graph(&g).expect("lowers")
    }

    #[test]
    fn greedy_is_valid_and_as_soon_as_possible() {
        let p = small();
        let s = Schedule::greedy(&p);
        assert_eq!(s.validate(&p), Ok(()));
        let stats = s.stats(&p);
        // mean head (1), ×(pos+1) (2), ge_zero (4), mean head (5), ×(pos+1) (6).
        assert_eq!(stats.layers, 3);
        assert_eq!(stats.heads, vec![1, 0, 1]);
    }

    #[test]
    fn validation_catches_broken_schedules() {
        let p = small();
        let good = Schedule::greedy(&p);
        // A dependency violated: move the last FFN before its operand.
        let mut bad = good.clone();
        let last = bad.time.len() - 1;
        bad.time[last] = 2;
        assert!(matches!(
            bad.validate(&p),
            Err(ScheduleError::Dependency { .. })
        ));
        // A phase violated: an FFN output in an attention sublayer.
        let mut bad = good.clone();
        let ffn = p
            .dims
            .iter()
            .position(|d| matches!(d.unit, Unit::Ffn(_)))
            .expect("has a neuron");
        bad.time[ffn] += 1;
        assert!(bad.validate(&p).is_err());
        // Two live dimensions in one slot: every pair whose live intervals
        // overlap must be caught when put together.
        let cleared = good.cleared(&p);
        let mut pairs = 0;
        for (i, &clear) in cleared.iter().enumerate() {
            for j in 0..good.slot.len() {
                let overlap = i != j && good.time[i] <= good.time[j] && good.time[j] <= clear;
                if overlap {
                    let mut bad = good.clone();
                    bad.slot[j] = bad.slot[i];
                    assert!(
                        matches!(bad.validate(&p), Err(ScheduleError::Overlap { .. })),
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
        let p = Plan::from_graph(&g).expect("lowers");
        let s = Schedule::greedy(&p);
        assert_eq!(s.validate(&p), Ok(()));
        assert!(s.stats(&p).d_model <= 3, "{:?}", s.stats(&p));
    }
}
