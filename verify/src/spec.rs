//! What each layer must hold, derived from the DSL graph's plan and the
//! layout's write times alone (never from the weights): which plan heads
//! run in each attention sublayer and in which order, and which neurons
//! (with their DSL `a`, `b` and output coefficient) in each FFN.
//!
//! The order is the model format's: heads by plan head index; neurons by
//! the dimension they write (in plan order, each unit's neurons in turn),
//! then one clearing neuron `relu(1)·(−x)` per dimension whose slot a later
//! dimension reuses, cleared at the end of its live range.

use tvm_dsl::expr::{Dim, Expr, Rational};
use tvm_dsl::graph::{Graph, Node};
use tvm_weights::model::Layout;
use tvm_weights::plan::{Plan, Unit};

use crate::VerifyError;
use crate::slots::SlotMap;

/// Why a neuron exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// A DSL `ReGLU` node (the DSL dimension).
    Dsl(Dim),
    /// A neuron the plan adds: a lookup's gate or key products, a running sum.
    Auxiliary,
    /// Subtracts a dead dimension from its slot before the slot's next use.
    Clear,
}

/// One FFN neuron as the DSL says it must be: `coef · relu(b) · a` written
/// into the slot of `dim`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeuronSpec {
    /// The plan dimension it writes.
    pub dim: Dim,
    /// Its output coefficient.
    pub coef: Rational,
    /// Value side, over plan dimensions.
    pub a: Expr,
    /// Gate side, over plan dimensions.
    pub b: Expr,
    /// Why it exists.
    pub role: Role,
}

/// One attention head as the plan says it must be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeadSpec {
    /// Index into the plan's heads.
    pub plan_head: u32,
    /// The plan dimension of each value component.
    pub components: Vec<Dim>,
}

/// One layer's expected heads and neurons.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LayerSpec {
    /// Heads, in model order.
    pub heads: Vec<HeadSpec>,
    /// Neurons, in model order.
    pub neurons: Vec<NeuronSpec>,
}

/// Every layer's spec, from the plan and the layout's write times.
pub fn layers(
    graph: &Graph,
    plan: &Plan,
    layout: &Layout,
    slots: &SlotMap,
) -> Result<Vec<LayerSpec>, VerifyError> {
    if layout.slots.len() != plan.dims.len() {
        return Err(VerifyError::Layout(format!(
            "the layout places {} dimensions, the machine graph's plan has {}",
            layout.slots.len(),
            plan.dims.len()
        )));
    }
    for (i, (s, d)) in layout.slots.iter().zip(&plan.dims).enumerate() {
        if s.name != d.name {
            return Err(VerifyError::Layout(format!(
                "dimension {i} is `{}` in the layout, `{}` in the plan",
                s.name, d.name
            )));
        }
    }
    let n_layers = layout.layers.len();
    let mut out = vec![LayerSpec::default(); n_layers];
    let layer_of = |t: u32, what: &str, i: usize| -> Result<usize, VerifyError> {
        let l = (t.max(1) as usize - 1) / 2;
        if t == 0 || l >= n_layers {
            return Err(VerifyError::Layout(format!(
                "{what} d{i} is written at sublayer {t}, outside the model's {n_layers} layers"
            )));
        }
        Ok(l)
    };
    for (i, d) in plan.dims.iter().enumerate() {
        let written = layout.slots[i].written;
        match &d.unit {
            Unit::Embed(_) => {}
            Unit::Head { head, component } => {
                let l = layer_of(written, "head output", i)?;
                let heads = &mut out[l].heads;
                let pos = match heads.iter().position(|h| h.plan_head == *head) {
                    Some(p) => p,
                    None => {
                        heads.push(HeadSpec {
                            plan_head: *head,
                            components: Vec::new(),
                        });
                        heads.len() - 1
                    }
                };
                let comps = &mut heads[pos].components;
                let c = *component as usize;
                if comps.len() <= c {
                    comps.resize(c + 1, Dim(u32::MAX));
                }
                comps[c] = Dim(i as u32);
            }
            Unit::Ffn(neurons) => {
                let l = layer_of(written, "FFN output", i)?;
                // The DSL ReGLU a dimension is, if it is one.
                let reglu = |origin: Option<Dim>| {
                    origin.filter(|o| {
                        matches!(
                            graph.dims().get(o.index()).map(|x| &x.node),
                            Some(Node::ReGLU { .. })
                        )
                    })
                };
                let role = reglu(d.origin).map_or(Role::Auxiliary, Role::Dsl);
                for n in neurons {
                    // A neuron the plan fused into a persist's unit is its
                    // own DSL ReGLU.
                    let role = reglu(n.origin).map_or_else(|| role.clone(), Role::Dsl);
                    out[l].neurons.push(NeuronSpec {
                        dim: Dim(i as u32),
                        coef: n.coef.clone(),
                        a: n.a.clone(),
                        b: n.b.clone(),
                        role,
                    });
                }
            }
        }
    }
    for layer in &mut out {
        layer.heads.sort_by_key(|h| h.plan_head);
    }
    // Clearing neurons: a dimension whose slot a later dimension reuses is
    // subtracted by the FFN at the end of its live range.
    for s in 0..slots.d_model() {
        let occ = slots.occupants(s);
        for (k, o) in occ.iter().enumerate() {
            let Some(c) = o.cleared else { continue };
            if occ[k + 1..].iter().any(|later| later.written > c) {
                if c < 2 || c % 2 != 0 {
                    return Err(VerifyError::Layout(format!(
                        "d{} is cleared at sublayer {c}, which is not an FFN",
                        o.dim.0
                    )));
                }
                let l = (c as usize - 2) / 2;
                let layer = out.get_mut(l).ok_or_else(|| {
                    VerifyError::Layout(format!(
                        "d{} is cleared at sublayer {c}, past the last layer",
                        o.dim.0
                    ))
                })?;
                layer.neurons.push(NeuronSpec {
                    dim: o.dim,
                    coef: Rational::from_integer((-1).into()),
                    a: Expr::dim(o.dim),
                    b: Expr::int(1),
                    role: Role::Clear,
                });
            }
        }
    }
    // Clearing neurons come after the units' neurons, in dimension order.
    for layer in &mut out {
        let (mut units, mut clears): (Vec<_>, Vec<_>) =
            layer.neurons.drain(..).partition(|n| n.role != Role::Clear);
        clears.sort_by_key(|n| n.dim);
        units.append(&mut clears);
        layer.neurons = units;
    }
    Ok(out)
}
