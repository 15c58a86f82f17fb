//! A picture of a verification report: one static HTML page (no script, no
//! network) with every layer's heads and FFN neurons as cells, coloured by
//! the DSL group their dimension belongs to (fetch, memory, stack, an
//! opcode's sub-graph, …) and marked by proof status, plus the other items
//! (model, io, opcode, lowering, table). A cell's tooltip names the item,
//! its DSL dimension and verdict; it links to the item's entry below,
//! which has the method, the time, and for a failed item the culprits,
//! reason and counterexample.
//!
//! Invariant: the page is a function of the report alone (items in their
//! order, trusted base), so the same report gives the same bytes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::obligation::Kind;
use crate::report::{ItemReport, Verdict};
use crate::trusted::Assumption;

/// What the page shows besides the items.
pub struct PageInfo<'a> {
    /// The title line (the model file and its graph digest).
    pub title: &'a str,
    /// The report's trusted base.
    pub trusted: &'a [Assumption],
}

/// The role a cell is coloured by: an opcode's sub-graph is `opcode`,
/// anything else its DSL group (`fetch`, `memory`, …); a neuron or head the
/// plan added (no DSL dimension of its own) is `plan`; any other item its
/// kind.
pub fn role(item: &ItemReport) -> String {
    match (item.group.as_deref(), item.layer) {
        (Some(g), _) if g.starts_with("op:") => "opcode".to_owned(),
        (Some(g), _) => g.to_owned(),
        (None, Some(_)) => "plan".to_owned(),
        (None, None) => item.kind.name().to_owned(),
    }
}

/// Twenty colours far apart (Kelly's list without black and white), given
/// to the roles in name order.
const PALETTE: [&str; 20] = [
    "#f3c300", "#875692", "#f38400", "#a1caf1", "#be0032", "#c2b280", "#848482", "#008856",
    "#e68fac", "#0067a5", "#f99379", "#604e97", "#f6a600", "#b3446c", "#dcd300", "#882d17",
    "#8db600", "#654522", "#e25822", "#2b3d26",
];

fn colours(items: &[ItemReport]) -> BTreeMap<String, &'static str> {
    let roles: std::collections::BTreeSet<String> = items.iter().map(role).collect();
    roles
        .into_iter()
        .enumerate()
        .map(|(i, r)| (r, PALETTE[i % PALETTE.len()]))
        .collect()
}

/// `text` with `& < > " '` escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn cell(out: &mut String, colours: &BTreeMap<String, &str>, index: usize, item: &ItemReport) {
    let failed = !item.is_proven();
    let role = role(item);
    let verdict = if failed { "FAILED" } else { "proven" };
    let group = item.group.as_deref().unwrap_or("-");
    let _ = write!(
        out,
        "<a class=\"cell{}\" href=\"#i{index}\" style=\"background:{}\" title=\"{} — {} [{}] — {verdict}\"></a>",
        if failed { " failed" } else { "" },
        colours.get(&role).copied().unwrap_or("#ccc"),
        escape(&item.name),
        escape(&item.about),
        escape(group),
    );
}

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}\
h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.5em}\
.row{display:flex;align-items:flex-start;gap:.5em;margin:2px 0}\
.row .label{width:9em;flex-shrink:0;font-family:monospace;color:#555}\
.cells{display:flex;flex-wrap:wrap;gap:2px}\
.cell{display:inline-block;width:12px;height:12px;border:1px solid #fff;border-radius:2px}\
.cell.failed{border:2px solid #000;width:10px;height:10px;outline:3px solid #d00}\
.legend span{display:inline-block;margin:0 1em .3em 0}\
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle;border-radius:2px}\
table{border-collapse:collapse;margin-top:.5em}td,th{border:1px solid #ddd;padding:2px 6px;vertical-align:top;font-family:monospace;font-size:12px}\
tr.failed td{background:#fee}.bad{color:#d00;font-weight:bold}.ok{color:#2a7a2a}\
pre{white-space:pre-wrap;margin:0}";

/// The page for `items`.
pub fn render(items: &[ItemReport], info: &PageInfo) -> String {
    let mut out = String::new();
    let failed = items.iter().filter(|i| !i.is_proven()).count();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>tvm verify: {}</title><style>{STYLE}</style></head><body>\n",
        escape(info.title)
    );
    let _ = writeln!(out, "<h1>tvm verify — {}</h1>", escape(info.title));
    let _ = writeln!(
        out,
        "<p class=\"{}\">{} items, {} proven, {failed} failed.</p>",
        if failed == 0 { "ok" } else { "bad" },
        items.len(),
        items.len() - failed
    );
    // The legend: every role, with how many items have it.
    let colours = colours(items);
    let mut roles: BTreeMap<String, usize> = BTreeMap::new();
    for i in items {
        *roles.entry(role(i)).or_default() += 1;
    }
    out.push_str("<div class=\"legend\">");
    for (r, n) in &roles {
        let _ = write!(
            out,
            "<span><i style=\"background:{}\"></i>{} ({n})</span>",
            colours.get(r).copied().unwrap_or("#ccc"),
            escape(r)
        );
    }
    out.push_str(
        "<span><i style=\"outline:3px solid #d00\"></i>failed (red outline)</span></div>\n",
    );
    // The layers: heads then neurons.
    let mut layers: BTreeMap<u32, (Vec<usize>, Vec<usize>)> = BTreeMap::new();
    for (k, i) in items.iter().enumerate() {
        if let Some(l) = i.layer {
            let entry = layers.entry(l).or_default();
            match i.kind {
                Kind::Head => entry.0.push(k),
                _ => entry.1.push(k),
            }
        }
    }
    out.push_str("<h2>Layers</h2>\n");
    for (l, (heads, neurons)) in &layers {
        for (what, list) in [("attn", heads), ("ffn", neurons)] {
            if list.is_empty() {
                continue;
            }
            let _ = write!(
                out,
                "<div class=\"row\"><span class=\"label\">layer{l:02}.{what}</span><span class=\"cells\">"
            );
            for &k in list {
                cell(&mut out, &colours, k, &items[k]);
            }
            out.push_str("</span></div>\n");
        }
    }
    // Items outside the layers, by kind.
    let mut others: BTreeMap<&'static str, Vec<usize>> = BTreeMap::new();
    for (k, i) in items.iter().enumerate() {
        if i.layer.is_none() {
            others.entry(i.kind.name()).or_default().push(k);
        }
    }
    if !others.is_empty() {
        out.push_str("<h2>Other items</h2>\n");
        for (kind, list) in &others {
            let _ = write!(
                out,
                "<div class=\"row\"><span class=\"label\">{kind}</span><span class=\"cells\">"
            );
            for &k in list {
                cell(&mut out, &colours, k, &items[k]);
            }
            out.push_str("</span></div>\n");
        }
    }
    // The trusted base.
    out.push_str("<h2>Trusted base (assumed, not proven by this report)</h2>\n<ul>\n");
    for a in info.trusted {
        let _ = writeln!(
            out,
            "<li><b>{}</b>: {}<br><small>evidence: {}</small></li>",
            escape(a.name),
            escape(&a.assumed),
            escape(&a.evidence)
        );
    }
    out.push_str("</ul>\n");
    // Every item: failed ones first, then in report order.
    out.push_str("<h2>Items</h2>\n<table><tr><th>item</th><th>kind</th><th>group</th><th>DSL</th><th>method</th><th>ms</th><th>verdict</th></tr>\n");
    let order = items
        .iter()
        .enumerate()
        .filter(|(_, i)| !i.is_proven())
        .chain(items.iter().enumerate().filter(|(_, i)| i.is_proven()));
    for (k, i) in order {
        let verdict = match &i.verdict {
            Verdict::Proven => "<span class=\"ok\">proven</span>".to_owned(),
            Verdict::Failed(f) => {
                let mut v = String::from("<span class=\"bad\">FAILED</span><pre>");
                for c in &f.culprits {
                    let _ = writeln!(v, "culprit: {}", escape(c));
                }
                let _ = writeln!(v, "why: {}", escape(&f.reason));
                if let Some(c) = &f.counterexample {
                    let _ = writeln!(v, "counterexample: {}", escape(c));
                }
                v.push_str("</pre>");
                v
            }
        };
        let _ = writeln!(
            out,
            "<tr id=\"i{k}\"{}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.0}</td><td>{verdict}</td></tr>",
            if i.is_proven() {
                ""
            } else {
                " class=\"failed\""
            },
            escape(&i.name),
            i.kind.name(),
            escape(i.group.as_deref().unwrap_or("")),
            escape(&i.about),
            escape(i.method),
            i.elapsed.as_secs_f64() * 1e3,
        );
    }
    out.push_str("</table>\n</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Failure;
    use std::time::Duration;

    fn item(kind: Kind, name: &str, layer: Option<u32>, group: Option<&str>) -> ItemReport {
        ItemReport {
            kind,
            name: name.to_owned(),
            layer,
            method: "egg+z3",
            about: format!("{name} <dim>"),
            group: group.map(str::to_owned),
            elapsed: Duration::from_millis(3),
            verdict: Verdict::Proven,
            smt: Vec::new(),
            explanations: Vec::new(),
        }
    }

    #[test]
    fn cells_by_layer_and_role_and_the_failure_in_full() {
        let mut bad = item(Kind::Neuron, "layer01.ffn.n003", Some(1), Some("op:ADD"));
        bad.verdict = Verdict::Failed(Failure {
            reason: "value: the weights and the DSL differ".to_owned(),
            counterexample: Some("x46 = -1".to_owned()),
            culprits: vec!["layer01.ffn.value[3][slot 46] = 3/2, the DSL says 1".to_owned()],
        });
        let items = vec![
            item(Kind::Head, "layer00.attn.h00", Some(0), Some("fetch")),
            item(Kind::Neuron, "layer00.ffn.n000", Some(0), Some("memory")),
            bad,
            item(Kind::Opcode, "ADD", None, None),
        ];
        let page = render(
            &items,
            &PageInfo {
                title: "model.safetensors",
                trusted: &[],
            },
        );
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("4 items, 3 proven, 1 failed."));
        // Rows per layer and kind, the other items apart.
        for row in ["layer00.attn", "layer00.ffn", "layer01.ffn", ">opcode<"] {
            assert!(page.contains(row), "{row}");
        }
        // The legend: opcode groups fold into one role.
        for role in ["fetch (1)", "memory (1)", "opcode (2)"] {
            assert!(page.contains(role), "{role}");
        }
        // The failed cell is marked, links to its entry, which has the
        // culprit, escaped.
        assert!(page.contains("class=\"cell failed\" href=\"#i2\""));
        assert!(page.contains("<tr id=\"i2\" class=\"failed\">"));
        assert!(page.contains("culprit: layer01.ffn.value[3][slot 46] = 3/2"));
        assert!(page.contains("layer00.ffn.n000 &lt;dim&gt;"));
        assert!(!page.contains("<dim>"));
        // Failed items first in the table.
        let first_row = page.find("<tr id=").unwrap_or(0);
        assert_eq!(page[first_row..].find("id=\"i2\""), Some(4));
        // Deterministic.
        assert_eq!(
            page,
            render(
                &items,
                &PageInfo {
                    title: "model.safetensors",
                    trusted: &[],
                },
            )
        );
    }
}
