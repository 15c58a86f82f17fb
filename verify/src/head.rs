//! Head proofs.
//!
//! For every head: its rule is the DSL's (hardmax with the lookup's tie
//! rule, or mean for a running sum); its Q, K and V rows, read through the
//! slot map, equal the plan's query `(q, 1)`, key `(2k', −k'²)` and values;
//! its O columns write each component into that component's slot and
//! nowhere else. A mean head has zero Q and K (uniform weights) and a
//! running-sum neuron `relu(position + 1)·mean` declared in the layout.
//!
//! For a hardmax head, a second obligation (QF_NIA, two variables) proves
//! the key encoding: with `k` the lookup's key (in its range) and `a` its
//! 0/1 `active` flag, the K rows give `(2k, −k²)` and the returned key is
//! `k` for an active key inside `±KEY_BOUND` (the supported range), and
//! `(2S, ≤ −S²)` and `S` (the sentinel, `S > KEY_BOUND`) for an inactive
//! position. The key's auxiliary dimensions (`a·k`, `a·k²`) enter through
//! their neurons' own formulas. With the query `(q, 1)` (the projection
//! claim) the score at a key `x` is `2qx − x²`, which the two lemmas of
//! [`crate::run`] turn into the margin: `2qx − x² = q² − (q − x)²` and
//! `(q − x)² ≥ 1` for integers `x ≠ q`. So a matching position scores
//! `q²`, every match the same (the declared tie rule picks among them),
//! every other position — an active key `≠ q`, or the sentinel, which is
//! never a query in range — at least 1 less; and the returned key equals
//! the query exactly at a match, which the gating neurons after the head
//! test (lemma `match_gate`).
//!
//! A third (QF_LIA, concrete numbers) shows the float engine cannot pick
//! another position: every stored f64 Q/K weight is exactly the rational
//! it stands for and an integer, and the largest |score| and every partial
//! sum, bounded from the value ranges, stays below 2⁵³ — so f64 computes
//! every score exactly and the margin of 1 survives.

use std::fmt::Write as _;
use std::time::Instant;

use num_traits::{Signed, Zero};
use tvm_dsl::expr::{Dim, Expr, Rational, int};
use tvm_dsl::graph::{Node, Tie};
use tvm_weights::model::HeadRule;
use tvm_weights::model_file::{rational_of_f64, rational_to_f64};
use tvm_weights::plan::{HeadKind, KEY_BOUND, SENTINEL, Unit};

use crate::context::{Context, LayerWeights, interval_of};
use crate::linear::{Claims, plan_term, smt_num};
use crate::obligation::{Kind, Smt};
use crate::report::{ItemReport, NamedSmt, decide};
use crate::spec::HeadSpec;
use tvm_symbolic::range::Interval;
use tvm_weights::model::names;

/// The item name of head `h` of layer `l`.
pub fn name(l: usize, h: usize) -> String {
    format!("layer{l:02}.attn.h{h:02}")
}

/// Proves head `hi` of layer `l` against `spec`.
pub fn prove(cx: &Context, l: usize, hi: usize, spec: &HeadSpec, w: &LayerWeights) -> ItemReport {
    let start = Instant::now();
    let t = 2 * l as u32 + 1;
    let name = name(l, hi);
    let name_of = |d: Dim| cx.dim_name(d);
    let mut claims = Claims::default();
    let mut smt = Vec::new();
    let zero = Rational::zero();
    let Some(head) = cx.plan.heads.get(spec.plan_head as usize) else {
        claims
            .failures
            .push(format!("plan head {} does not exist", spec.plan_head));
        return finish(cx, l, &name, spec, claims, smt, start);
    };
    let expected_rule = match &head.kind {
        HeadKind::Hardmax {
            tie: Tie::Latest, ..
        } => HeadRule::Latest,
        HeadKind::Hardmax {
            tie: Tie::Earliest, ..
        } => HeadRule::Earliest,
        HeadKind::Mean => HeadRule::Mean,
    };
    let rule = cx
        .model
        .layout
        .layers
        .get(l)
        .and_then(|x| x.heads.get(hi))
        .copied();
    if rule != Some(expected_rule) {
        claims
            .failures
            .push(format!("rule is {rule:?}, the DSL says {expected_rule:?}"));
    }
    let (query, key) = match &head.kind {
        HeadKind::Hardmax { query, key, .. } => (query.clone(), key.clone()),
        HeadKind::Mean => ([Expr::zero(), Expr::zero()], [Expr::zero(), Expr::zero()]),
    };
    for c in 0..2 {
        let k = vec![hi, c];
        claims.row_equals(
            &format!("{}[{hi}][{c}]", names::layer(l, "attn.q")),
            w.q.get(&k).map_or(&[][..], Vec::as_slice),
            w.q_bias.get(&k).unwrap_or(&zero),
            &query[c],
            &plan_term(&query[c]),
            &cx.slots,
            t,
            &name_of,
        );
        claims.row_equals(
            &format!("{}[{hi}][{c}]", names::layer(l, "attn.k")),
            w.k.get(&k).map_or(&[][..], Vec::as_slice),
            w.k_bias.get(&k).unwrap_or(&zero),
            &key[c],
            &plan_term(&key[c]),
            &cx.slots,
            t,
            &name_of,
        );
        let value = head.values.get(c).cloned().unwrap_or_else(Expr::zero);
        claims.row_equals(
            &format!("{}[{hi}][{c}]", names::layer(l, "attn.v")),
            w.v.get(&k).map_or(&[][..], Vec::as_slice),
            w.v_bias.get(&k).unwrap_or(&zero),
            &value,
            &plan_term(&value),
            &cx.slots,
            t,
            &name_of,
        );
        let expected: Vec<(u32, Rational)> = spec
            .components
            .get(c)
            .and_then(|d| cx.slots.slot_of(*d))
            .map(|s| vec![(s, int(1))])
            .unwrap_or_default();
        claims.column_is(
            &format!("{}[{hi}][{c}]", names::layer(l, "attn.o")),
            w.o.get(&k).map_or(&[][..], Vec::as_slice),
            &expected,
        );
    }
    smt.push(NamedSmt {
        name: format!("{name}.projections"),
        smt: claims.smt(),
    });
    match &head.kind {
        HeadKind::Mean => running_sum(cx, l, hi, spec, &mut claims),
        HeadKind::Hardmax { .. } => match cx.graph.dims().get(head.origin.index()).map(|d| &d.node)
        {
            Some(Node::LookUp(lookup)) => {
                let tr = |e: &Expr| translate(cx, e);
                if query[0] != tr(&lookup.query) || query[1] != Expr::int(1) {
                    claims.failures.push(format!(
                        "the plan's query is ({}, {}), the DSL's is ({}, 1)",
                        query[0],
                        query[1],
                        tr(&lookup.query)
                    ));
                }
                let terms = KeyTerms {
                    cx,
                    k_e: tr(&lookup.key),
                    a_e: tr(&lookup.active),
                };
                match key_claim(cx, &key, head.values.get(1), &terms) {
                    Ok(claim) => smt.push(NamedSmt {
                        name: format!("{name}.key"),
                        smt: claim,
                    }),
                    Err(e) => claims.failures.push(format!("key: {e}")),
                }
                match float_claim(cx, hi, w, &query, &key, &terms) {
                    Ok(claim) => smt.push(NamedSmt {
                        name: format!("{name}.float"),
                        smt: claim,
                    }),
                    Err(e) => claims.failures.push(format!("float: {e}")),
                }
            }
            _ => claims.failures.push(format!(
                "the head's DSL node d{} is not a lookup",
                head.origin.0
            )),
        },
    }
    finish(cx, l, &name, spec, claims, smt, start)
}

fn finish(
    cx: &Context,
    l: usize,
    name: &str,
    spec: &HeadSpec,
    claims: Claims,
    smt: Vec<NamedSmt>,
    start: Instant,
) -> ItemReport {
    let verdict = crate::report::name_counterexample(
        decide(&smt, claims.failures, claims.culprits),
        &claims.meanings,
    );
    let origin = cx.plan.heads.get(spec.plan_head as usize).map(|h| h.origin);
    let about = origin.map_or_else(String::new, |d| cx.graph.label(d));
    ItemReport {
        kind: Kind::Head,
        name: name.to_owned(),
        layer: Some(l as u32),
        method: "egg+z3",
        about,
        group: origin.and_then(|d| cx.group_of(d)),
        elapsed: start.elapsed(),
        verdict,
        smt,
        explanations: claims.explanations,
    }
}

/// A DSL expression over plan dimensions.
fn translate(cx: &Context, e: &Expr) -> Expr {
    let mut out = Expr::constant(e.constant_term().clone());
    for (d, c) in e.terms() {
        if let Some(p) = cx.plan.of_graph.get(d.index()) {
            out = out + p.scale(c);
        }
    }
    out
}

/// A mean head's running-sum neuron must be declared in the layout at
/// the place the spec puts it.
fn running_sum(cx: &Context, l: usize, hi: usize, spec: &HeadSpec, claims: &mut Claims) {
    let Some((_, dim)) = cx
        .plan
        .running_sums
        .iter()
        .find(|(h, _)| *h == spec.plan_head)
    else {
        claims
            .failures
            .push("a mean head with no running-sum neuron in the plan".into());
        return;
    };
    let place = cx.layers.iter().enumerate().find_map(|(nl, layer)| {
        layer
            .neurons
            .iter()
            .position(|n| n.dim == *dim && n.role != crate::spec::Role::Clear)
            .map(|r| (nl as u32, r as u32))
    });
    let declared = cx.model.layout.running_sums.iter().any(|r| {
        Some((r.neuron_layer, r.neuron)) == place && r.head_layer == l as u32 && r.head == hi as u32
    });
    if !declared {
        claims.failures.push(format!(
            "the layout does not declare the running sum of this head (neuron at {place:?})"
        ));
    }
}

/// Writes SMT terms for plan expressions in the two variables `k` (the
/// lookup's key) and `a` (its `active` flag): auxiliary FFN dimensions (the
/// plan's key products) are their neurons' formulas, every other part must
/// be an affine combination `α·key + β·active + γ` of the lookup's key and
/// active expressions.
struct KeyTerms<'c, 'a> {
    cx: &'c Context<'a>,
    k_e: Expr,
    a_e: Expr,
}

impl KeyTerms<'_, '_> {
    /// `e` as an SMT term in `k`, with the flag fixed to `flag`.
    fn term(&self, e: &Expr, flag: &Rational, depth: u32) -> Result<String, String> {
        let mut parts = Vec::new();
        let mut rest = Expr::constant(e.constant_term().clone());
        for (d, c) in e.terms() {
            match self.cx.plan.dims.get(d.index()).map(|pd| &pd.unit) {
                Some(Unit::Ffn(neurons)) if self.is_auxiliary(*d) && depth < 4 => {
                    for n in neurons {
                        let b = self.term(&n.b, flag, depth + 1)?;
                        let a = self.term(&n.a, flag, depth + 1)?;
                        parts.push(format!(
                            "(* {} (ite (> {b} 0) (* {b} {a}) 0))",
                            smt_num(&(c * &n.coef))
                        ));
                    }
                }
                _ => rest = rest + Expr::dim(*d).scale(c),
            }
        }
        let (alpha, beta, gamma) = decompose(&rest, &self.k_e, &self.a_e).ok_or_else(|| {
            format!("`{rest}` is not an affine form of the lookup's key and active flag")
        })?;
        let constant = beta * flag + gamma;
        if !alpha.is_zero() {
            parts.push(format!("(* {} k)", smt_num(&alpha)));
        }
        if !constant.is_zero() || parts.is_empty() {
            parts.push(smt_num(&constant));
        }
        Ok(if parts.len() == 1 {
            parts.pop().unwrap_or_default()
        } else {
            format!("(+ {})", parts.join(" "))
        })
    }
}

impl KeyTerms<'_, '_> {
    /// Whether `d` is one of the key's auxiliary products.
    fn is_auxiliary(&self, d: Dim) -> bool {
        self.cx
            .plan
            .dims
            .get(d.index())
            .is_some_and(|pd| pd.origin.is_none() && matches!(pd.unit, Unit::Ffn(_)))
    }

    /// Bounds of `e` at any position, with the key inside the supported
    /// range `[−KEY_BOUND, KEY_BOUND]` and the flag in `[0, 1]`.
    fn interval(&self, e: &Expr) -> Result<Interval, String> {
        let m = int(KEY_BOUND);
        let mut acc = Interval::point(Rational::zero());
        let mut rest = Expr::constant(e.constant_term().clone());
        for (d, c) in e.terms() {
            match self.cx.plan.dims.get(d.index()).map(|pd| &pd.unit) {
                Some(Unit::Ffn(neurons)) if self.is_auxiliary(*d) => {
                    for n in neurons {
                        let t = self
                            .interval(&n.b)?
                            .relu()
                            .mul(&self.interval(&n.a)?)
                            .scale(&(c * &n.coef));
                        acc = acc.add(&t);
                    }
                }
                _ => rest = rest + Expr::dim(*d).scale(c),
            }
        }
        let (alpha, beta, gamma) = decompose(&rest, &self.k_e, &self.a_e)
            .ok_or_else(|| format!("`{rest}` is not an affine form of the key and flag"))?;
        let k = if self.k_e.is_constant() {
            Interval::point(self.k_e.constant_term().clone())
        } else {
            Interval {
                lo: -m.clone(),
                hi: m,
            }
        };
        let a = if self.a_e.is_constant() {
            Interval::point(self.a_e.constant_term().clone())
        } else {
            Interval {
                lo: Rational::zero(),
                hi: int(1),
            }
        };
        Ok(acc
            .add(&k.scale(&alpha))
            .add(&a.scale(&beta))
            .add(&Interval::point(gamma)))
    }
}

/// `(α, β, γ)` with `e = α·k + β·a + γ`, if there are such.
fn decompose(e: &Expr, k: &Expr, a: &Expr) -> Option<(Rational, Rational, Rational)> {
    let pick = |x: &Expr, other: &Expr, target: &Expr| -> Rational {
        x.terms()
            .iter()
            .find(|(d, _)| other.coefficient(*d).is_zero())
            .map_or_else(Rational::zero, |(d, c)| target.coefficient(*d) / c)
    };
    let alpha = pick(k, a, e);
    let after_k = e.clone() - k.scale(&alpha);
    let beta = pick(a, k, &after_k);
    let rest = after_k - a.scale(&beta);
    // A constant key or flag folds into γ.
    let (alpha, beta, gamma) = (alpha, beta, rest.constant_term().clone());
    let check = k.scale(&alpha) + a.scale(&beta) + Expr::constant(gamma.clone());
    (check == *e).then_some((alpha, beta, gamma))
}

/// The key obligation (see the module docs): at one position, with `k`
/// the lookup's key and `a` its flag, the head's key rows and the key it
/// returns are `(2k, −k², k)` for an active key inside the supported range
/// and `(2S, ≤ −S², S)` (the sentinel) for an inactive position.
fn key_claim(
    cx: &Context,
    key: &[Expr; 2],
    returned_key: Option<&Expr>,
    terms: &KeyTerms,
) -> Result<Smt, String> {
    let k_e = &terms.k_e;
    let mut script = String::from("(declare-const k Int)\n");
    let flags: Vec<i64> = if terms.a_e.is_constant() {
        match terms.a_e.constant_term().to_integer().try_into() {
            Ok(v @ (0 | 1)) => vec![v],
            _ => return Err(format!("the flag is the constant {}", terms.a_e)),
        }
    } else {
        vec![0, 1]
    };
    for &a in &flags {
        let flag = int(a);
        let _ = writeln!(
            script,
            "(define-fun K0_{a} () Int {})",
            terms.term(&key[0], &flag, 0)?
        );
        let _ = writeln!(
            script,
            "(define-fun K1_{a} () Int {})",
            terms.term(&key[1], &flag, 0)?
        );
        if let Some(r) = returned_key {
            let _ = writeln!(
                script,
                "(define-fun R_{a} () Int {})",
                terms.term(r, &flag, 0)?
            );
        }
    }
    let m = smt_num(&int(KEY_BOUND));
    let s = smt_num(&int(SENTINEL));
    let range = if k_e.is_constant() {
        format!("(= k {})", smt_num(k_e.constant_term()))
    } else {
        let i = interval_of(&cx.ranges, k_e);
        format!(
            "(<= {} k {})",
            smt_num(&i.lo.ceil()),
            smt_num(&i.hi.floor())
        )
    };
    let mut cases = Vec::new();
    for &a in &flags {
        let mut facts = if a == 1 {
            vec![
                "(= K0_1 (* 2 k))".to_owned(),
                "(= K1_1 (- (* k k)))".to_owned(),
            ]
        } else {
            vec![
                format!("(= K0_0 (* 2 {s}))"),
                format!("(<= K1_0 (- (* {s} {s})))"),
            ]
        };
        if returned_key.is_some() {
            facts.push(if a == 1 {
                "(= R_1 k)".to_owned()
            } else {
                format!("(= R_0 {s})")
            });
        }
        cases.push(if a == 1 {
            format!("(=> (< (- {m}) k {m}) (and {}))", facts.join(" "))
        } else {
            format!("(and {})", facts.join(" "))
        });
    }
    let _ = writeln!(
        script,
        "(assert (and {range} (not (and\n  {}))))",
        cases.join("\n  ")
    );
    Ok(Smt {
        logic: "QF_NIA",
        script,
    })
}

/// The float obligation (see the module docs), over concrete numbers.
///
/// Bounds: a dimension a Q or K row reads is bounded by the range analysis,
/// except the key's auxiliary products (`a·k`, `a·k²`), bounded through
/// their neurons' formulas with the key inside the supported range; the
/// query `q` is inside `±KEY_BOUND` (the supported range) and `Q1 = 1`.
fn float_claim(
    cx: &Context,
    hi: usize,
    w: &LayerWeights,
    query: &[Expr; 2],
    key: &[Expr; 2],
    terms: &KeyTerms,
) -> Result<Smt, String> {
    let limit = Rational::from_integer(num_bigint::BigInt::from(1u64 << 53));
    let m = int(KEY_BOUND);
    let mut facts = Vec::new();
    let mut stored_exactly = |row: Option<&Vec<(u32, Rational)>>, bias: Option<&Rational>| {
        // The stored f64 weights, read back exactly: integers, equal to the
        // exact weights.
        let mut entries: Vec<Rational> = row
            .map(|r| r.iter().map(|(_, c)| c.clone()).collect())
            .unwrap_or_default();
        entries.extend(bias.cloned());
        for c in &entries {
            let stored = rational_of_f64(rational_to_f64(c)).unwrap_or_else(|| c + int(1));
            facts.push(format!("(= {} {})", smt_num(&stored), smt_num(c)));
            facts.push(format!(
                "(= {} {})",
                smt_num(&stored.floor()),
                smt_num(&stored)
            ));
        }
    };
    for c in 0..2 {
        let k = vec![hi, c];
        stored_exactly(w.q.get(&k), w.q_bias.get(&k));
        stored_exactly(w.k.get(&k), w.k_bias.get(&k));
    }
    // The lookup's preconditions bound the dimensions its key, flag and
    // query are made of when each is one dimension up to an affine map:
    // the flag is 0 or 1; an active key and a query that matter lie inside
    // ±KEY_BOUND (the supported range). Any other dimension is bounded by
    // the range analysis.
    let unit = Interval {
        lo: Rational::zero(),
        hi: int(1),
    };
    let keys = Interval {
        lo: -m.clone(),
        hi: m.clone(),
    };
    let preconditions = [(&terms.a_e, &unit), (&terms.k_e, &keys), (&query[0], &keys)];
    let dim_bound = |d: Dim| -> Interval {
        let from_range = interval_of(&cx.ranges, &Expr::dim(d));
        preconditions
            .iter()
            .find_map(|(e, i)| through_affine(&cx.ranges, e, d, i))
            .map_or(from_range.clone(), |i| {
                Interval::new(
                    i.lo.clone().max(from_range.lo.clone()),
                    i.hi.clone().min(from_range.hi.clone()),
                )
                .unwrap_or(i)
            })
    };
    // Σ|c|·max|x| + |c₀| bounds every partial sum of a dot product.
    let bound = |e: &Expr, aux: bool| -> Result<Rational, String> {
        let mut b = e.constant_term().abs();
        for (d, c) in e.terms() {
            let i = if aux && terms.is_auxiliary(*d) {
                terms.interval(&Expr::dim(*d))?
            } else {
                dim_bound(*d)
            };
            b += c.abs() * i.lo.abs().max(i.hi.abs());
        }
        Ok(b)
    };
    let q0 = bound(&query[0], false)?;
    let q1 = bound(&query[1], false)?;
    let k0 = bound(&key[0], true)?;
    let k1 = bound(&key[1], true)?;
    let score = m.clone() * &k0 + q1.clone() * &k1;
    for (what, b) in [
        ("Q0", &q0),
        ("Q1", &q1),
        ("K0", &k0),
        ("K1", &k1),
        ("score", &score),
    ] {
        facts.push(format!("(< {} {}) ; {what}", smt_num(b), smt_num(&limit)));
    }
    let mut seen = std::collections::BTreeSet::new();
    facts.retain(|f| seen.insert(f.clone()));
    let body: Vec<String> = facts
        .iter()
        .map(|f| f.split(" ; ").next().unwrap_or(f).to_owned())
        .collect();
    Ok(Smt {
        logic: "QF_LIA",
        script: format!("(assert (not (and\n  {})))\n", body.join("\n  ")),
    })
}

/// The values of `d` for which `e = c·d + rest` lies in `i`, with `rest`
/// within the range analysis: `c·d ∈ i − rest` (one step of interval
/// constraint propagation). `None` when `e` does not read `d`.
fn through_affine(ranges: &[Interval], e: &Expr, d: Dim, i: &Interval) -> Option<Interval> {
    let c = e.coefficient(d);
    if c.is_zero() {
        return None;
    }
    let rest = interval_of(ranges, &(e.clone() - Expr::dim(d).scale(&c)));
    let a = (&i.lo - &rest.hi) / &c;
    let b = (&i.hi - &rest.lo) / &c;
    Some(if a <= b {
        Interval { lo: a, hi: b }
    } else {
        Interval { lo: b, hi: a }
    })
}
