//! An SMT certificate file: many claims of one logic, each in its own
//! `(push 1)` … `(check-sat)` `(pop 1)` block, so that one incremental
//! solver run answers them all, one line per claim.

use crate::smtlib::{self, Item, SCRIPT_COMMANDS};

/// Renders the file of `claims` (name, script), in the given order.
pub(crate) fn render(kind: &str, group: &str, logic: &str, claims: &[(&str, &str)]) -> String {
    let mut out = format!(
        "; tvm certificates: kind {kind}, group {group}, {n} claim(s)\n\
         ; Each block asserts the negation of one claim: the claim holds iff the\n\
         ; solver answers what MANIFEST.json expects for it (unsat). Re-check with\n\
         ; cvc5 --lang smt2 --incremental FILE\n\
         (set-logic {logic})\n",
        n = claims.len()
    );
    for (name, script) in claims {
        out.push_str("; ");
        out.push_str(name);
        out.push_str("\n(push 1)\n");
        out.push_str(script);
        if !script.ends_with('\n') {
            out.push('\n');
        }
        out.push_str("(check-sat)\n(pop 1)\n");
    }
    out
}

/// Reads the structure of an SMT certificate file: one `(set-logic
/// logic)` (after comments only), then blocks `; name`, `(push 1)`,
/// declarations and assertions, `(check-sat)`, `(pop 1)`. Returns the
/// blocks' names in order.
pub(crate) fn block_names(text: &str, logic: &str) -> Result<Vec<String>, String> {
    let items = smtlib::items(text)?;
    let mut names = Vec::new();
    let mut logic_set = false;
    let mut pending: Option<&str> = None;
    let mut iter = items.into_iter();
    while let Some(item) = iter.next() {
        let cmd = match item {
            Item::Comment(text) => {
                pending = Some(text.strip_prefix(' ').unwrap_or(text));
                continue;
            }
            Item::Command(cmd) => cmd,
        };
        let line = cmd.line;
        match (cmd.head, cmd.atoms.as_slice(), cmd.args) {
            ("set-logic", [found], 1) if !logic_set => {
                if *found != logic {
                    return Err(format!(
                        "line {line}: the file sets logic {found}, MANIFEST.json says {logic}"
                    ));
                }
                logic_set = true;
            }
            ("push", ["1"], 1) if logic_set => {
                let name = pending.take().ok_or_else(|| {
                    format!("line {line}: a block without a `; name` comment before it")
                })?;
                names.push(name.to_owned());
                // The block's body: declarations and assertions up to
                // `(check-sat)`, then `(pop 1)`.
                loop {
                    match iter.next() {
                        None => return Err(format!("the block at line {line} is not closed")),
                        Some(Item::Comment(_)) => {}
                        Some(Item::Command(c)) if c.head == "check-sat" && c.args == 0 => break,
                        Some(Item::Command(c)) if SCRIPT_COMMANDS.contains(&c.head) => {}
                        Some(Item::Command(c)) => {
                            return Err(format!(
                                "line {}: `{}` is not allowed inside a claim",
                                c.line, c.head
                            ));
                        }
                    }
                }
                match iter.next() {
                    Some(Item::Command(c))
                        if c.head == "pop" && c.atoms.as_slice() == ["1"] && c.args == 1 => {}
                    _ => {
                        return Err(format!(
                            "the block at line {line}: `(check-sat)` must be followed by `(pop 1)`"
                        ));
                    }
                }
                pending = None;
            }
            (head, _, _) => {
                let expected = if logic_set {
                    "`(push 1)`"
                } else {
                    "`(set-logic …)`"
                };
                return Err(format!(
                    "line {line}: unexpected `{head}`, expected {expected}"
                ));
            }
        }
    }
    if !logic_set {
        return Err("no `(set-logic …)`".to_owned());
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rendered_file_reads_back() {
        let text = render(
            "neuron",
            "layer00",
            "QF_LRA",
            &[
                ("a.b", "(declare-const x Real)\n(assert (not (= x x)))"),
                (
                    "c",
                    "(declare-const y Real)\n; note\n(assert (not (= y y)))\n",
                ),
            ],
        );
        assert_eq!(block_names(&text, "QF_LRA").unwrap(), ["a.b", "c"]);
        assert!(block_names(&text, "QF_BV").unwrap_err().contains("QF_BV"));
    }

    #[test]
    fn structure_violations_are_errors() {
        let bad = [
            "(push 1)\n(check-sat)\n(pop 1)\n",
            "(set-logic QF_LRA)\n(push 1)\n(check-sat)\n(pop 1)\n",
            "(set-logic QF_LRA)\n; a\n(push 1)\n(check-sat)\n",
            "(set-logic QF_LRA)\n; a\n(push 1)\n(echo \"unsat\")\n(check-sat)\n(pop 1)\n",
            "(set-logic QF_LRA)\n; a\n(push 1)\n(check-sat)\n(check-sat)\n(pop 1)\n",
            "(set-logic QF_LRA)\n(check-sat)\n",
            "(set-logic QF_LRA)\n(set-logic QF_LRA)\n",
        ];
        for text in bad {
            assert!(block_names(text, "QF_LRA").is_err(), "{text}");
        }
    }
}
