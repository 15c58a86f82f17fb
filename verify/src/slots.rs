//! The slot map: which plan dimension each residual slot holds when a
//! sublayer reads, as the model file's layout declares it.
//!
//! Time is the schedule's: 0 the embedding, `2l + 1` layer `l`'s attention,
//! `2l + 2` its FFN. A dimension written at time `w` and cleared at `c` (the
//! layout's live range) is readable by the sublayers `w < t ≤ c`; one never
//! cleared (an output) from `w + 1` on. Outside that window a slot holds no
//! dimension the verifier will accept a read of.

use tvm_dsl::expr::{Dim, Expr};
use tvm_weights::model::Layout;

use crate::VerifyError;

/// One dimension's stay in a slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Occupant {
    /// The plan dimension.
    pub dim: Dim,
    /// The sublayer that writes it.
    pub written: u32,
    /// The last sublayer that may read it (`None`: never cleared).
    pub cleared: Option<u32>,
}

impl Occupant {
    /// Whether a sublayer at time `t` reads this occupant's value.
    pub fn readable_at(&self, t: u32) -> bool {
        self.written < t && self.cleared.is_none_or(|c| t <= c)
    }
}

/// The layout's slot map, per slot.
#[derive(Clone, Debug)]
pub struct SlotMap {
    d_model: u32,
    /// Per slot, occupants by write time.
    by_slot: Vec<Vec<Occupant>>,
    /// Per plan dimension, its slot.
    slot: Vec<u32>,
}

impl SlotMap {
    /// Reads the layout's slots; every slot index must be below `d_model`.
    pub fn from_layout(layout: &Layout) -> Result<SlotMap, VerifyError> {
        let mut by_slot = vec![Vec::new(); layout.d_model as usize];
        let mut slot = Vec::with_capacity(layout.slots.len());
        for (i, s) in layout.slots.iter().enumerate() {
            let occupants = by_slot.get_mut(s.slot as usize).ok_or_else(|| {
                VerifyError::Layout(format!(
                    "dimension {i} ({}) sits in slot {}, past d_model {}",
                    s.name, s.slot, layout.d_model
                ))
            })?;
            occupants.push(Occupant {
                dim: Dim(i as u32),
                written: s.written,
                cleared: s.cleared,
            });
            slot.push(s.slot);
        }
        for occupants in &mut by_slot {
            occupants.sort_by_key(|o| (o.written, o.dim));
        }
        Ok(SlotMap {
            d_model: layout.d_model,
            by_slot,
            slot,
        })
    }

    /// Residual width.
    pub fn d_model(&self) -> u32 {
        self.d_model
    }

    /// The slot of plan dimension `d`.
    pub fn slot_of(&self, d: Dim) -> Option<u32> {
        self.slot.get(d.index()).copied()
    }

    /// Every stay in slot `s`, by write time.
    pub fn occupants(&self, s: u32) -> &[Occupant] {
        self.by_slot.get(s as usize).map_or(&[], Vec::as_slice)
    }

    /// The dimension slot `s` holds when a sublayer at time `t` reads.
    pub fn live(&self, s: u32, t: u32) -> Option<Dim> {
        self.occupants(s)
            .iter()
            .find(|o| o.readable_at(t))
            .map(|o| o.dim)
    }

    /// A weight row (`(slot, coefficient)` pairs and a bias) read at time
    /// `t`: the linear form over plan dimensions it computes, or the first
    /// slot it reads that holds no dimension then.
    pub fn read_row(
        &self,
        row: &[(u32, tvm_dsl::expr::Rational)],
        bias: &tvm_dsl::expr::Rational,
        t: u32,
    ) -> Result<Expr, u32> {
        let mut e = Expr::constant(bias.clone());
        for (s, c) in row {
            let d = self.live(*s, t).ok_or(*s)?;
            e = e + Expr::dim(d).scale(c);
        }
        Ok(e)
    }

    /// `e` over plan dimensions, as read by a sublayer at time `t`: every
    /// dimension must be live in its slot then. `Err` names the first
    /// dimension that is not.
    pub fn check_readable(&self, e: &Expr, t: u32) -> Result<(), Dim> {
        for d in e.dims() {
            let s = self.slot_of(d).ok_or(d)?;
            if self.live(s, t) != Some(d) {
                return Err(d);
            }
        }
        Ok(())
    }
}
