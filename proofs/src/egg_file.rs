//! The explanation file format, `egg/<kind>/<group>.txt`: line based, one
//! term per line.
//!
//! ```text
//! ; comment lines start with `;` (only between explanations)
//! explanation <name>
//! lhs <term>
//! rhs <term>
//! step <term>          (one line per step; the first is lhs, the last rhs)
//! end
//! ```
//!
//! Terms are written with their white space collapsed to single spaces, so
//! each fits one line; blank lines are ignored.

/// One explanation as read from a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Its name.
    pub name: String,
    /// The claim's left-hand side.
    pub lhs: String,
    /// The claim's right-hand side.
    pub rhs: String,
    /// egg's flattened explanation.
    pub steps: Vec<String>,
}

/// `s` on one line: white space runs collapsed to one space, trimmed.
pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Renders the file of `entries`, in the given order. Names must be one
/// line (the writer checks) and terms non-empty.
pub(crate) fn render(kind: &str, group: &str, entries: &[Entry]) -> String {
    let mut out = format!(
        "; tvm e-graph explanations: kind {kind}, group {group}, {} explanation(s)\n\
         ; explanation NAME / lhs TERM / rhs TERM / step TERM (first = lhs, last = rhs) / end\n",
        entries.len()
    );
    for e in entries {
        out.push_str(&format!(
            "explanation {}\nlhs {}\nrhs {}\n",
            e.name,
            one_line(&e.lhs),
            one_line(&e.rhs)
        ));
        for step in &e.steps {
            out.push_str("step ");
            out.push_str(&one_line(step));
            out.push('\n');
        }
        out.push_str("end\n");
    }
    out
}

/// Reads an explanation file.
pub fn parse(text: &str) -> Result<Vec<Entry>, String> {
    let mut entries = Vec::new();
    let mut current: Option<Entry> = None;
    // Which line of a block comes next: 0 lhs, 1 rhs, 2 steps or end.
    let mut stage = 0;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
        match current.as_mut() {
            None => {
                if line.starts_with(';') {
                    continue;
                }
                if word != "explanation" || rest.is_empty() {
                    return Err(format!("line {n}: expected `explanation NAME`"));
                }
                current = Some(Entry {
                    name: rest.to_owned(),
                    lhs: String::new(),
                    rhs: String::new(),
                    steps: Vec::new(),
                });
                stage = 0;
            }
            Some(entry) => match (stage, word) {
                (0, "lhs") => {
                    entry.lhs = rest.to_owned();
                    stage = 1;
                }
                (1, "rhs") => {
                    entry.rhs = rest.to_owned();
                    stage = 2;
                }
                (2, "step") => entry.steps.push(rest.to_owned()),
                (2, "end") if rest.is_empty() => {
                    if let Some(done) = current.take() {
                        entries.push(done);
                    }
                }
                _ => {
                    let expected = ["`lhs TERM`", "`rhs TERM`", "`step TERM` or `end`"][stage];
                    return Err(format!(
                        "line {n}: expected {expected} in explanation `{}`",
                        entry.name
                    ));
                }
            },
        }
    }
    if let Some(entry) = current {
        return Err(format!(
            "explanation `{}` is not closed by `end`",
            entry.name
        ));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rendered_file_reads_back() {
        let entries = vec![
            Entry {
                name: "n 1".into(),
                lhs: "(+ x1\n  x2)".into(),
                rhs: "(+ x2 x1)".into(),
                steps: vec!["(+ x1 x2)".into(), "(Rewrite=> add-comm (+ x2 x1))".into()],
            },
            Entry {
                name: "n2".into(),
                lhs: "x".into(),
                rhs: "x".into(),
                steps: vec!["x".into()],
            },
        ];
        let text = render("neuron", "layer01", &entries);
        let back = parse(&text).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].lhs, "(+ x1 x2)");
        assert_eq!(back[0].steps, entries[0].steps);
        assert_eq!(back[1], entries[1]);
    }

    #[test]
    fn malformed_files_are_errors() {
        for bad in [
            "lhs x\n",
            "explanation a\nrhs x\n",
            "explanation a\nlhs x\nrhs x\nstep x\n",
            "explanation a\nlhs x\nrhs x\n; c\nend\n",
            "explanation\n",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
