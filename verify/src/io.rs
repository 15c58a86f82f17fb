//! Input and output proofs: the embedding writes each embedded dimension's
//! table into its slot and nothing else; each readout row, read after the
//! last layer, is the DSL's output expression; and the output head's
//! scores are the DSL's decoding, restated here from the token grammar and
//! checked two ways: coefficient by coefficient, and by evaluating every
//! class's score on every output combination the decoder accepts (a
//! finite domain), where the argmax must be unique and the token
//! `tvm_dsl::machine::decode_next` names.

use std::time::Instant;

use num_traits::{ToPrimitive, Zero};
use tvm_dsl::expr::{Dim, Expr, Rational, int};
use tvm_dsl::machine::{decode_next, output};
use tvm_dsl::token::{Token, VOCAB_SIZE};
use tvm_weights::model::{CLASSES, names};
use tvm_weights::plan::{Embedding, Unit};

use crate::context::Context;
use crate::linear::{Claims, dsl_term};
use crate::obligation::Kind;
use crate::report::{ItemHead, ItemReport, claims_item};

/// The output head's report: one item, however its checks end.
fn output_head_item(claims: Claims, start: Instant) -> ItemReport {
    item(
        "output_head",
        "argmax decodes the outputs".into(),
        "exact",
        claims,
        start,
    )
}

fn item(
    name: &str,
    about: String,
    method: &'static str,
    claims: Claims,
    start: Instant,
) -> ItemReport {
    let head = ItemHead {
        kind: Kind::Io,
        name,
        layer: None,
        method,
        about,
    };
    claims_item(head, claims, start)
}

/// The embedding: `embed.token` and `embed.position` entry by entry.
pub fn embedding(cx: &Context) -> ItemReport {
    let start = Instant::now();
    let mut claims = Claims::default();
    let mut token: std::collections::BTreeMap<Vec<usize>, Rational> = Default::default();
    let mut position: std::collections::BTreeMap<Vec<usize>, Rational> = Default::default();
    for (i, pd) in cx.plan.dims.iter().enumerate() {
        let Unit::Embed(e) = &pd.unit else { continue };
        let Some(s) = cx.slots.slot_of(Dim(i as u32)) else {
            claims.failures.push(format!("{} has no slot", pd.name));
            continue;
        };
        let s = s as usize;
        match e {
            Embedding::One => (0..VOCAB_SIZE).for_each(|t| {
                *token.entry(vec![t, s]).or_insert_with(Rational::zero) += int(1);
            }),
            Embedding::Token(v) => v.iter().enumerate().take(VOCAB_SIZE).for_each(|(t, x)| {
                *token.entry(vec![t, s]).or_insert_with(Rational::zero) += int(*x);
            }),
            Embedding::Position => {
                *position.entry(vec![0, s]).or_insert_with(Rational::zero) += int(1);
            }
            Embedding::PositionSquared => {
                *position.entry(vec![1, s]).or_insert_with(Rational::zero) += int(1);
            }
        }
    }
    for (tensor, expected, actual) in [
        (names::TOKEN, token, &cx.io.token),
        (names::POSITION, position, &cx.io.position),
    ] {
        let keys: std::collections::BTreeSet<&Vec<usize>> =
            actual.keys().chain(expected.keys()).collect();
        let zero = Rational::zero();
        for k in keys {
            claims.weight_is(
                &format!("{tensor}{k:?}"),
                actual.get(k).unwrap_or(&zero),
                expected.get(k).unwrap_or(&zero),
            );
        }
    }
    item(
        "embedding",
        "token and position tables".into(),
        "exact",
        claims,
        start,
    )
}

/// Readout row `r`: the DSL output, read after the last layer.
pub fn readout(cx: &Context, r: usize) -> ItemReport {
    let start = Instant::now();
    let mut claims = Claims::default();
    let t = 2 * cx.model.layout.layers.len() as u32 + 1;
    let (weights, bias) = (&cx.io.readout, &cx.io.readout_bias);
    let zero = Rational::zero();
    let (name, graph_expr) = match cx.graph.outputs().get(r) {
        Some((n, e)) => (n.clone(), e.clone()),
        None => (format!("#{r}"), Expr::zero()),
    };
    let spec = cx
        .plan
        .outputs
        .get(r)
        .map(|(_, e)| e.clone())
        .unwrap_or_else(Expr::zero);
    if cx.model.layout.readout.get(r) != Some(&name) {
        claims
            .failures
            .push(format!("the layout's readout row {r} is not `{name}`"));
    }
    match dsl_term(&graph_expr, &cx.plan.of_graph) {
        Some(term) => claims.row_equals(
            "readout",
            weights.get(&vec![r]).map_or(&[][..], Vec::as_slice),
            bias.get(&vec![r]).unwrap_or(&zero),
            &spec,
            &term,
            &cx.slots,
            t,
            &|d| cx.dim_name(d),
        ),
        None => claims
            .failures
            .push("the output reads an unknown dimension".into()),
    }
    item(
        &format!("readout.{name}"),
        format!("output `{name}`"),
        "egg+z3",
        claims,
        start,
    )
}

/// The score of each class over the readout rows `(emit, byte, carry, op,
/// end)`, restated from the token grammar: the value term `2v·x − v²` of
/// its group plus `K·(group selector)`.
fn expected_class(class: usize, k: i64) -> [i64; 6] {
    // [emit, byte, carry, op, end, bias]
    match u32::try_from(class).map(Token::from_id) {
        Ok(Ok(Token::Byte(b))) => {
            let b = i64::from(b);
            [k, 2 * b, -k, 0, -k, -b * b]
        }
        Ok(Ok(Token::Carry(b))) => {
            let b = i64::from(b);
            [k, 2 * b, k, 0, -k, -b * b - k]
        }
        Ok(Ok(Token::Op(o))) => {
            let o = i64::from(o.index());
            [-k, 0, 0, 2 * o, -k, -o * o + k]
        }
        Ok(Ok(_)) => [0, 0, 0, 0, 0, -k],
        _ => [0, 0, 0, 0, k, 0],
    }
}

/// The output head: coefficients against the restated scores, and the
/// argmax over every accepted output combination.
pub fn output_head(cx: &Context) -> ItemReport {
    let start = Instant::now();
    let mut claims = Claims::default();
    let order = [
        output::EMIT_BYTE,
        output::BYTE,
        output::CARRY,
        output::OP,
        output::END,
    ];
    let rows_of: Vec<Option<usize>> = order
        .iter()
        .map(|n| cx.model.layout.readout.iter().position(|r| r == n))
        .collect();
    let Some(cols) = rows_of.iter().copied().collect::<Option<Vec<usize>>>() else {
        claims
            .failures
            .push("the readout lacks one of emit_byte, byte, carry, op, end".into());
        return output_head_item(claims, start);
    };
    let k = tvm_weights::model::GROUP_BONUS;
    let (unembed, bias) = (&cx.io.unembed, &cx.io.unembed_bias);
    let zero = Rational::zero();
    let mut expected = std::collections::BTreeMap::new();
    for class in 0..CLASSES {
        let e = expected_class(class, k);
        for (j, &col) in cols.iter().enumerate() {
            if e[j] != 0 {
                expected.insert(vec![class, col], int(e[j]));
            }
        }
        claims.weight_is(
            &format!("unembed.bias[{class}]"),
            bias.get(&vec![class]).unwrap_or(&zero),
            &int(e[5]),
        );
    }
    let keys: std::collections::BTreeSet<&Vec<usize>> =
        unembed.keys().chain(expected.keys()).collect();
    for key in keys {
        claims.weight_is(
            &format!("unembed{key:?}"),
            unembed.get(key).unwrap_or(&zero),
            expected.get(key).unwrap_or(&zero),
        );
    }
    // The argmax, over the stored weights (integers) — only when every
    // coefficient agrees (otherwise the item has failed already).
    if !claims.culprits.is_empty() {
        return output_head_item(claims, start);
    }
    let as_i128 = |r: &Rational| -> Option<i128> {
        r.is_integer().then(|| r.to_integer().to_i128()).flatten()
    };
    let mut table = vec![[0i128; 6]; CLASSES];
    let mut integral = true;
    for (key, v) in unembed {
        if let ([c, col], Some(x)) = (key.as_slice(), as_i128(v)) {
            if let (Some(row), Some(j)) = (table.get_mut(*c), cols.iter().position(|x| x == col)) {
                row[j] = x;
            }
        } else {
            integral = false;
        }
    }
    for (key, v) in bias {
        match (key.as_slice(), as_i128(v)) {
            ([c], Some(x)) if *c < CLASSES => table[*c][5] = x,
            _ => integral = false,
        }
    }
    if !integral {
        claims
            .failures
            .push("the output head has a non-integer weight".into());
    } else if let Some(bad) = argmax_failure(&table) {
        claims.failures.push(bad);
    }
    output_head_item(claims, start)
}

/// The first accepted output combination whose argmax is not the decoded
/// token (or is not unique).
fn argmax_failure(table: &[[i128; 6]]) -> Option<String> {
    for emit in 0..2i64 {
        for end in 0..2i64 {
            for carry in 0..2i64 {
                for byte in 0..256i64 {
                    for op in 0..35i64 {
                        let Ok(decoded) = decode_next(emit, byte, carry, op, end) else {
                            continue;
                        };
                        let want = decoded.map_or(VOCAB_SIZE, |t| t.id() as usize);
                        let x = [emit, byte, carry, op, end, 1].map(i128::from);
                        let score =
                            |row: &[i128; 6]| row.iter().zip(&x).map(|(a, b)| a * b).sum::<i128>();
                        let best = score(&table[want]);
                        if let Some(c) =
                            (0..table.len()).find(|&c| c != want && score(&table[c]) >= best)
                        {
                            return Some(format!(
                                "at emit_byte={emit} byte={byte} carry={carry} op={op} end={end} class {c} scores {} against the decoded class {want}'s {best}",
                                score(&table[c])
                            ));
                        }
                    }
                }
            }
        }
    }
    None
}
