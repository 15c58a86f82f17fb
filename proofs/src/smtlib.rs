//! Just enough SMT-LIB2 reading to see a file's top-level structure:
//! comments and commands (their head symbol and their atom arguments),
//! with strings, quoted symbols and nesting handled so that nothing inside
//! a term is mistaken for a command.

/// A top-level item of an SMT-LIB2 text.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Item<'a> {
    /// A `;` comment: the text after `;`, to the end of the line.
    Comment(&'a str),
    /// A command `(head arg…)`.
    Command(Command<'a>),
}

/// A top-level command.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Command<'a> {
    /// Its first symbol (`assert`, `push`, …).
    pub head: &'a str,
    /// Its arguments that are atoms, in order (nested terms left out).
    pub atoms: Vec<&'a str>,
    /// How many arguments it has (atoms and terms).
    pub args: usize,
    /// Its 1-based line in the text.
    pub line: usize,
}

/// The commands a claim's script may contain: declarations and assertions.
pub(crate) const SCRIPT_COMMANDS: [&str; 6] = [
    "declare-const",
    "declare-fun",
    "define-fun",
    "declare-sort",
    "define-sort",
    "assert",
];

/// Splits `text` into top-level comments and commands.
pub(crate) fn items(text: &str) -> Result<Vec<Item<'_>>, String> {
    let bytes = text.as_bytes();
    let mut items = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let mut depth = 0usize;
    // The command being read: (head, atoms, args, line).
    let mut current: Option<Command<'_>> = None;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b' ' | b'\t' | b'\r' | 0x0c => i += 1,
            b';' => {
                let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                if depth == 0 {
                    items.push(Item::Comment(&text[i + 1..end]));
                }
                i = end;
            }
            b'(' => {
                if depth == 0 {
                    current = Some(Command {
                        head: "",
                        atoms: Vec::new(),
                        args: 0,
                        line,
                    });
                } else if depth == 1 {
                    let cmd = current.as_mut().ok_or("internal: no command")?;
                    if cmd.head.is_empty() {
                        return Err(format!("line {line}: a command must start with a symbol"));
                    }
                    cmd.args += 1;
                }
                depth += 1;
                i += 1;
            }
            b')' => {
                if depth == 0 {
                    return Err(format!("line {line}: unbalanced `)`"));
                }
                depth -= 1;
                if depth == 0 {
                    let cmd = current.take().ok_or("internal: no command")?;
                    if cmd.head.is_empty() {
                        return Err(format!("line {}: empty command `()`", cmd.line));
                    }
                    items.push(Item::Command(cmd));
                }
                i += 1;
            }
            _ => {
                let start = i;
                let start_line = line;
                match b {
                    b'"' => {
                        // A string literal; `""` inside is an escaped quote.
                        i += 1;
                        loop {
                            match bytes.get(i) {
                                None => {
                                    return Err(format!(
                                        "line {start_line}: unterminated string literal"
                                    ));
                                }
                                Some(b'"') if bytes.get(i + 1) == Some(&b'"') => i += 2,
                                Some(b'"') => {
                                    i += 1;
                                    break;
                                }
                                Some(c) => {
                                    if *c == b'\n' {
                                        line += 1;
                                    }
                                    i += 1;
                                }
                            }
                        }
                    }
                    b'|' => {
                        let end = text[i + 1..].find('|').ok_or_else(|| {
                            format!("line {start_line}: unterminated quoted symbol")
                        })?;
                        line += text[i + 1..i + 1 + end].matches('\n').count();
                        i += end + 2;
                    }
                    _ => {
                        while i < bytes.len()
                            && !matches!(
                                bytes[i],
                                b' ' | b'\t'
                                    | b'\r'
                                    | b'\n'
                                    | 0x0c
                                    | b'('
                                    | b')'
                                    | b';'
                                    | b'"'
                                    | b'|'
                            )
                        {
                            i += 1;
                        }
                    }
                }
                let atom = &text[start..i];
                match depth {
                    0 => return Err(format!("line {start_line}: `{atom}` outside a command")),
                    1 => {
                        let cmd = current.as_mut().ok_or("internal: no command")?;
                        if cmd.head.is_empty() {
                            cmd.head = atom;
                        } else {
                            cmd.atoms.push(atom);
                            cmd.args += 1;
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    if depth > 0 {
        return Err("unbalanced `(`: the text ends inside a command".to_owned());
    }
    Ok(items)
}

/// Checks that `script` only declares and asserts: no `set-logic`,
/// `push`, `pop`, `check-sat`, `echo`, `exit`, … that would change what
/// the solver's answers mean.
pub(crate) fn validate_script(script: &str) -> Result<(), String> {
    for item in items(script)? {
        if let Item::Command(cmd) = item
            && !SCRIPT_COMMANDS.contains(&cmd.head)
        {
            return Err(format!(
                "line {}: `{}` is not allowed in a claim's script (only {})",
                cmd.line,
                cmd.head,
                SCRIPT_COMMANDS.join(", ")
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_comments_strings_and_nesting() {
        let text =
            "; hi\n(set-logic QF_LRA)\n(assert (= x \"a)\"\"b\"))\n(push 1) ; c\n(check-sat)";
        let items = items(text).unwrap();
        assert_eq!(items.len(), 6);
        assert_eq!(items[0], Item::Comment(" hi"));
        let Item::Command(c) = &items[1] else {
            panic!()
        };
        assert_eq!(
            (c.head, c.atoms.clone(), c.args, c.line),
            ("set-logic", vec!["QF_LRA"], 1, 2)
        );
        let Item::Command(c) = &items[2] else {
            panic!()
        };
        assert_eq!((c.head, c.args, c.atoms.len()), ("assert", 1, 0));
        let Item::Command(c) = &items[3] else {
            panic!()
        };
        assert_eq!((c.head, c.atoms.clone()), ("push", vec!["1"]));
        assert_eq!(items[4], Item::Comment(" c"));
    }

    #[test]
    fn malformed_texts_are_errors() {
        for bad in [
            "(assert x",
            "x",
            "(assert x))",
            "(assert \"x)",
            "()",
            "((a) b)",
            "(a |x)",
        ] {
            assert!(items(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scripts_only_declare_and_assert() {
        assert!(validate_script("(declare-const x Real)\n(assert (not (= x x)))\n").is_ok());
        assert!(validate_script("(assert true)\n(check-sat)").is_err());
        assert!(validate_script("(pop 1)").is_err());
        assert!(validate_script("(echo \"unsat\")").is_err());
        // A command name inside a term is not a command.
        assert!(validate_script("(assert (check-sat))").is_ok());
    }
}
