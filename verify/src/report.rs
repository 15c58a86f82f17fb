//! What verification found, item by item: one [`ItemReport`] per neuron,
//! head, opcode, lowering or model check, with its verdict, the time it
//! took, and the evidence a certificate stores.

use std::time::Duration;

use serde::Serialize;

use crate::linear::{Claims, Explanation};
use crate::obligation::{Kind, Smt};
use crate::smt::{Outcome, check, show_assignment};

/// Why an item failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// What does not hold.
    pub reason: String,
    /// Concrete values where weights (or DSL) and spec disagree, if a
    /// solver found them.
    pub counterexample: Option<String>,
    /// The coefficients responsible, when they can be named.
    pub culprits: Vec<String>,
}

/// The verdict on one item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "verdict")]
pub enum Verdict {
    /// Every obligation of the item holds.
    Proven,
    /// Some obligation fails.
    Failed(Failure),
}

/// One named SMT obligation of an item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NamedSmt {
    /// Unique within the item's kind.
    pub name: String,
    /// The claim.
    pub smt: Smt,
}

/// One item of the report.
#[derive(Clone, Debug, Serialize)]
pub struct ItemReport {
    /// Its kind.
    pub kind: Kind,
    /// Its name (`layer03.ffn.n017`, `layer03.head05`, `ADD`, ...).
    pub name: String,
    /// The layer, if any.
    pub layer: Option<u32>,
    /// How it was proven (`egg+z3`, `z3`, `exact`).
    pub method: &'static str,
    /// What it is (the DSL dimension a neuron or head implements).
    pub about: String,
    /// The DSL group (sub-graph) of that dimension, for neurons and heads:
    /// `fetch`, `memory`, `op:ADD`, …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Wall time spent on it.
    #[serde(skip)]
    pub elapsed: Duration,
    /// The verdict.
    #[serde(flatten)]
    pub verdict: Verdict,
    /// The SMT obligations (certificates).
    #[serde(skip)]
    pub smt: Vec<NamedSmt>,
    /// The e-graph proofs (certificates).
    #[serde(skip)]
    pub explanations: Vec<Explanation>,
}

impl ItemReport {
    /// Whether the item is proven.
    pub fn is_proven(&self) -> bool {
        self.verdict == Verdict::Proven
    }
}

/// Runs z3 on every obligation, in order, and folds the answers with the
/// failures found before (`failures`) and the exact disagreements
/// (`culprits`) into a verdict. A z3 `unsat` alongside a non-empty list of
/// culprits is reported as a failure: both sides must agree.
pub fn decide(smt: &[NamedSmt], failures: Vec<String>, culprits: Vec<String>) -> Verdict {
    let mut reasons = failures;
    let mut counterexample = None;
    for o in smt {
        match check(&o.smt, 60_000) {
            Outcome::Proven => {}
            Outcome::Counterexample(values) => {
                reasons.push(format!("{}: z3 found a counterexample", o.name));
                if counterexample.is_none() {
                    counterexample = Some(show_assignment(&values));
                }
            }
            Outcome::Unknown(why) => {
                reasons.push(format!("{}: z3 answered unknown ({why})", o.name))
            }
        }
    }
    if reasons.is_empty() && !culprits.is_empty() {
        reasons.push("the weights differ from the DSL".to_owned());
    }
    if reasons.is_empty() {
        Verdict::Proven
    } else {
        Verdict::Failed(Failure {
            reason: reasons.join("; "),
            counterexample,
            culprits,
        })
    }
}

/// What an item is, for [`claims_item`].
pub struct ItemHead<'a> {
    /// Its kind.
    pub kind: Kind,
    /// Its name, also the name of its one SMT claim.
    pub name: &'a str,
    /// The layer, if any.
    pub layer: Option<u32>,
    /// How it is proven.
    pub method: &'static str,
    /// What it is.
    pub about: String,
}

/// The report of an item whose evidence is one [`Claims`]: its SMT claim
/// (named like the item) decided by z3 and folded with the claims'
/// failures and culprits; its explanations kept for the certificates.
pub fn claims_item(head: ItemHead, claims: Claims, start: std::time::Instant) -> ItemReport {
    let smt = vec![NamedSmt {
        name: head.name.to_owned(),
        smt: claims.smt(),
    }];
    let verdict = name_counterexample(
        decide(&smt, claims.failures, claims.culprits),
        &claims.meanings,
    );
    ItemReport {
        kind: head.kind,
        name: head.name.to_owned(),
        layer: head.layer,
        method: head.method,
        about: head.about,
        group: None,
        elapsed: start.elapsed(),
        verdict,
        smt,
        explanations: claims.explanations,
    }
}

/// `verdict` with its counterexample's variables named by what they hold
/// (`x46 [slot 46: CumSum#57.head0] = -1`), from `meanings`.
pub fn name_counterexample(
    verdict: Verdict,
    meanings: &std::collections::BTreeMap<String, String>,
) -> Verdict {
    let Verdict::Failed(mut f) = verdict else {
        return verdict;
    };
    if let Some(c) = &f.counterexample {
        let named: Vec<String> = c
            .split(", ")
            .map(|pair| match pair.split_once(" = ") {
                Some((var, value)) => match meanings.get(var) {
                    Some(m) => format!("{var} [{m}] = {value}"),
                    None => pair.to_owned(),
                },
                None => pair.to_owned(),
            })
            .collect();
        f.counterexample = Some(named.join(", "));
    }
    Verdict::Failed(f)
}

/// Counts per kind: `(kind, proven, failed)`, in [`Kind::ALL`] order.
pub fn summary(items: &[ItemReport]) -> Vec<(Kind, usize, usize)> {
    Kind::ALL
        .iter()
        .map(|&k| {
            let of_kind = items.iter().filter(|i| i.kind == k);
            let proven = of_kind.clone().filter(|i| i.is_proven()).count();
            (k, proven, of_kind.count() - proven)
        })
        .filter(|(_, p, f)| p + f > 0)
        .collect()
}
