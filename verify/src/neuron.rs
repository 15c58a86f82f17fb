//! Neuron proofs: every FFN neuron's gate and value rows, read through the
//! layer's slot map, equal the DSL's `b` and `a`, and its output column
//! writes exactly its coefficient into its dimension's slot.

use std::time::Instant;

use tvm_dsl::expr::{Dim, Rational};
use tvm_dsl::graph::Node;
use tvm_weights::model::names;

use crate::context::{Context, LayerWeights};
use crate::linear::{Claims, dsl_term, plan_term};
use crate::obligation::Kind;
use crate::report::{ItemHead, ItemReport, claims_item};
use crate::spec::{NeuronSpec, Role};

/// The item name of neuron `r` of layer `l`.
pub fn name(l: usize, r: usize) -> String {
    format!("layer{l:02}.ffn.n{r:03}")
}

/// Proves neuron `r` of layer `l` against `spec`.
pub fn prove(cx: &Context, l: usize, r: usize, spec: &NeuronSpec, w: &LayerWeights) -> ItemReport {
    let start = Instant::now();
    let t = 2 * l as u32 + 2;
    let name_of = |d: Dim| cx.dim_name(d);
    let mut claims = Claims::default();
    let zero = Rational::from_integer(0.into());
    let key = vec![r];
    // The DSL's own terms for a ReGLU neuron (its `a`, `b` over DSL
    // dimensions, each replaced by the plan expression holding it); the
    // plan's for the neurons the plan adds.
    let (a_term, b_term) = match &spec.role {
        Role::Dsl(o) => match cx.graph.dims().get(o.index()).map(|x| &x.node) {
            Some(Node::ReGLU { a, b }) => (
                dsl_term(a, &cx.plan.of_graph),
                dsl_term(b, &cx.plan.of_graph),
            ),
            _ => (None, None),
        },
        _ => (Some(plan_term(&spec.a)), Some(plan_term(&spec.b))),
    };
    // The output coefficient the DSL gives the neuron: 1 for a ReGLU of its
    // own, its coefficient in the persist when the plan fused it into the
    // persist's unit.
    if let Role::Dsl(o) = &spec.role {
        let unit_origin = cx.plan.dims.get(spec.dim.index()).and_then(|d| d.origin);
        let expected = match unit_origin.map(|p| &cx.graph.dim(p).node) {
            Some(Node::Persist(e)) => e.coefficient(*o),
            _ => Rational::from_integer(1.into()),
        };
        if spec.coef != expected {
            claims.failures.push(format!(
                "the neuron's coefficient is {}, the DSL's {expected}",
                spec.coef
            ));
        }
    }
    let (Some(a_term), Some(b_term)) = (a_term, b_term) else {
        claims
            .failures
            .push("the DSL node is not a ReGLU over known dimensions".into());
        return finish(cx, l, r, spec, claims, start);
    };
    claims.row_equals(
        &format!("{}[{r}]", names::layer(l, "ffn.gate")),
        w.gate.get(&key).map_or(&[][..], Vec::as_slice),
        w.gate_bias.get(&key).unwrap_or(&zero),
        &spec.b,
        &b_term,
        &cx.slots,
        t,
        &name_of,
    );
    claims.row_equals(
        &format!("{}[{r}]", names::layer(l, "ffn.value")),
        w.value.get(&key).map_or(&[][..], Vec::as_slice),
        w.value_bias.get(&key).unwrap_or(&zero),
        &spec.a,
        &a_term,
        &cx.slots,
        t,
        &name_of,
    );
    match cx.slots.slot_of(spec.dim) {
        Some(s) => claims.column_is(
            &format!("{}[{r}]", names::layer(l, "ffn.out")),
            w.out.get(&key).map_or(&[][..], Vec::as_slice),
            &[(s, spec.coef.clone())],
        ),
        None => claims.failures.push(format!("d{} has no slot", spec.dim.0)),
    }
    finish(cx, l, r, spec, claims, start)
}

fn finish(
    cx: &Context,
    l: usize,
    r: usize,
    spec: &NeuronSpec,
    claims: Claims,
    start: Instant,
) -> ItemReport {
    let role = match spec.role {
        Role::Dsl(_) => "",
        Role::Auxiliary => " (plan)",
        Role::Clear => " (clear)",
    };
    let name = name(l, r);
    let head = ItemHead {
        kind: Kind::Neuron,
        name: &name,
        layer: Some(l as u32),
        method: "egg+z3",
        about: format!("{}{role}", cx.dim_name(spec.dim)),
    };
    let mut item = claims_item(head, claims, start);
    item.group = cx
        .plan
        .dims
        .get(spec.dim.index())
        .and_then(|d| d.origin)
        .and_then(|d| cx.group_of(d));
    item
}
