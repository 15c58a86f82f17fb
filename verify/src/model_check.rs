//! The model proof: the schedule respects every dependency (each unit
//! reads only dimensions live in their slots when its sublayer runs, each
//! in the phase its kind needs), slot reuse never overwrites a live
//! dimension (a slot's next occupant is written only after the previous
//! one's live range ends), and the layer shapes are the spec's.
//!
//! The facts are concrete numbers, so the SMT claims are conjunctions of
//! numeral comparisons: a certificate any solver re-checks at once.

use std::time::Instant;

use tvm_dsl::expr::Dim;
use tvm_weights::plan::{Phase, Unit};

use crate::context::Context;
use crate::linear::Claims;
use crate::obligation::Kind;
use crate::report::{ItemHead, ItemReport, claims_item};

fn item(name: &str, about: &str, claims: Claims, start: Instant) -> ItemReport {
    let head = ItemHead {
        kind: Kind::Model,
        name,
        layer: None,
        method: "z3",
        about: about.to_owned(),
    };
    claims_item(head, claims, start)
}

/// Every read happens while the dimension read is live, in the right phase.
pub fn dependencies(cx: &Context) -> ItemReport {
    let start = Instant::now();
    let mut claims = Claims::default();
    let slots = &cx.model.layout.slots;
    let end = 2 * cx.model.layout.layers.len() as u32 + 1;
    let read = |claims: &mut Claims, reader: &str, x: Dim, t: u32| {
        let Some(s) = slots.get(x.index()) else {
            claims
                .failures
                .push(format!("{reader} reads d{}, which has no slot", x.0));
            return;
        };
        let last = s.cleared.unwrap_or(u32::MAX);
        claims.raw(format!("(< {} {t})", s.written));
        if s.cleared.is_some() {
            claims.raw(format!("(<= {t} {last})"));
        }
        if !(s.written < t && t <= last) {
            claims.culprits.push(format!(
                "{reader} (sublayer {t}) reads {} (d{}), live over ({}, {}]",
                s.name,
                x.0,
                s.written,
                s.cleared
                    .map_or_else(|| "end".to_owned(), |c| c.to_string())
            ));
        }
    };
    for (i, pd) in cx.plan.dims.iter().enumerate() {
        let Some(s) = slots.get(i) else { continue };
        let t = s.written;
        let phase_ok = pd.unit.phase().allows(t);
        claims.raw(format!("{}", phase_ok));
        if !phase_ok {
            let phase = match pd.unit.phase() {
                Phase::Embed => "the embedding",
                Phase::Attention => "an attention sublayer",
                Phase::Ffn => "an FFN sublayer",
            };
            claims.culprits.push(format!(
                "{} is written at sublayer {t}, not {phase}",
                pd.name
            ));
        }
        if let Unit::Head { head, .. } = pd.unit {
            // Every component of a head runs in one sublayer.
            for (j, other) in cx.plan.dims.iter().enumerate() {
                if let (Unit::Head { head: h2, .. }, Some(o)) = (&other.unit, slots.get(j))
                    && *h2 == head
                    && o.written != t
                {
                    claims.raw(format!("(= {} {t})", o.written));
                    claims.culprits.push(format!(
                        "head {head}'s components run at sublayers {t} and {}",
                        o.written
                    ));
                }
            }
        }
        for x in cx.plan.reads(Dim(i as u32)) {
            read(&mut claims, &pd.name, x, t);
        }
    }
    for d in cx.plan.output_dims() {
        read(&mut claims, "the readout", d, end);
    }
    item(
        "model.dependencies",
        "every read sees a live dimension",
        claims,
        start,
    )
}

/// Slot reuse, and layer shapes against the spec.
pub fn slots(cx: &Context) -> ItemReport {
    let start = Instant::now();
    let mut claims = Claims::default();
    for s in 0..cx.slots.d_model() {
        let occ = cx.slots.occupants(s);
        for pair in occ.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            match a.cleared {
                Some(c) => {
                    claims.raw(format!("(< {c} {})", b.written));
                    if b.written <= c {
                        claims.culprits.push(format!(
                            "slot {s}: {} is written at sublayer {} while {} is live until {c}",
                            cx.dim_name(b.dim),
                            b.written,
                            cx.dim_name(a.dim)
                        ));
                    }
                }
                None => {
                    claims.raw("false".into());
                    claims.culprits.push(format!(
                        "slot {s}: {} is never cleared, yet {} reuses the slot",
                        cx.dim_name(a.dim),
                        cx.dim_name(b.dim)
                    ));
                }
            }
        }
    }
    for (l, (spec, layout)) in cx.layers.iter().zip(&cx.model.layout.layers).enumerate() {
        let (n, h) = (spec.neurons.len(), spec.heads.len());
        claims.raw(format!("(= {} {n})", layout.neurons));
        claims.raw(format!("(= {} {h})", layout.heads.len()));
        if layout.neurons as usize != n || layout.heads.len() != h {
            claims.culprits.push(format!(
                "layer {l} has {} neurons and {} heads, the DSL needs {n} and {h}",
                layout.neurons,
                layout.heads.len()
            ));
        }
    }
    if let Err(e) = cx.model.check_shapes() {
        claims.failures.push(e.to_string());
    }
    item(
        "model.slots",
        "slot reuse never overwrites a live dimension",
        claims,
        start,
    )
}
