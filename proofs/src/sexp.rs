//! The s-expression reader for explanation terms: atoms and lists, held in
//! an arena so that neither reading, walking nor dropping a deep term
//! recurses (a term from disk may nest arbitrarily deep).

/// A node of a term.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Node {
    /// A symbol or a number.
    Atom(String),
    /// A list of nodes (indices into the tree, each smaller than the
    /// list's own index).
    List(Vec<usize>),
}

/// One s-expression. Children are created before their parent, so index
/// order is a bottom-up order; the root is the last node.
#[derive(Debug)]
pub(crate) struct Tree {
    pub nodes: Vec<Node>,
}

impl Tree {
    /// The root node's index.
    pub fn root(&self) -> usize {
        self.nodes.len() - 1
    }

    /// The atom at `id`, if it is one.
    pub fn atom(&self, id: usize) -> Option<&str> {
        match &self.nodes[id] {
            Node::Atom(a) => Some(a),
            Node::List(_) => None,
        }
    }

    /// The tokens of the sub-term at `id` (`(`, atoms, `)`), where `skip`
    /// may replace a list by one of its children (to read through
    /// annotations).
    pub fn tokens(&self, id: usize, skip: &dyn Fn(&Tree, usize) -> Option<usize>) -> Vec<&str> {
        enum Visit {
            Node(usize),
            Close,
        }
        let mut out = Vec::new();
        let mut stack = vec![Visit::Node(id)];
        while let Some(visit) = stack.pop() {
            match visit {
                Visit::Close => out.push(")"),
                Visit::Node(n) => {
                    if let Some(inner) = skip(self, n) {
                        stack.push(Visit::Node(inner));
                        continue;
                    }
                    match &self.nodes[n] {
                        Node::Atom(a) => out.push(a.as_str()),
                        Node::List(children) => {
                            out.push("(");
                            stack.push(Visit::Close);
                            stack.extend(children.iter().rev().map(|&c| Visit::Node(c)));
                        }
                    }
                }
            }
        }
        out
    }

    /// The sub-term at `id` as text, single-spaced.
    pub fn show(&self, id: usize) -> String {
        join(&self.tokens(id, &|_, _| None))
    }
}

/// Tokens back to text: `(+ a b)`.
pub(crate) fn join(tokens: &[&str]) -> String {
    let mut s = String::new();
    let mut prev = "(";
    for &t in tokens {
        if prev != "(" && t != ")" {
            s.push(' ');
        }
        s.push_str(t);
        prev = t;
    }
    s
}

/// Reads exactly one s-expression from `text`.
pub(crate) fn parse(text: &str) -> Result<Tree, String> {
    let mut nodes: Vec<Node> = Vec::new();
    // Open lists' children; the bottom entry collects the top level.
    let mut stack: Vec<Vec<usize>> = vec![Vec::new()];
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '(' => stack.push(Vec::new()),
            ')' => {
                if stack.len() < 2 {
                    return Err(format!("unbalanced `)` at byte {i}"));
                }
                let children = stack.pop().unwrap_or_default();
                if children.is_empty() {
                    return Err(format!("empty list `()` at byte {i}"));
                }
                nodes.push(Node::List(children));
                let id = nodes.len() - 1;
                if let Some(parent) = stack.last_mut() {
                    parent.push(id);
                }
            }
            _ => {
                let mut end = i + c.len_utf8();
                while let Some(&(j, d)) = chars.peek() {
                    if d.is_whitespace() || d == '(' || d == ')' {
                        break;
                    }
                    end = j + d.len_utf8();
                    chars.next();
                }
                nodes.push(Node::Atom(text[i..end].to_owned()));
                let id = nodes.len() - 1;
                if let Some(parent) = stack.last_mut() {
                    parent.push(id);
                }
            }
        }
    }
    if stack.len() > 1 {
        return Err("unbalanced `(`: the term is not closed".to_owned());
    }
    match stack.pop().unwrap_or_default().len() {
        0 => Err("empty term".to_owned()),
        1 => Ok(Tree { nodes }),
        n => Err(format!("{n} terms where one was expected")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_shows() {
        let t = parse(" ( + x1\n(* 3/4 d2 ) ) ").unwrap();
        assert_eq!(t.show(t.root()), "(+ x1 (* 3/4 d2))");
        let t = parse("x").unwrap();
        assert_eq!(t.show(t.root()), "x");
    }

    #[test]
    fn malformed_terms_are_errors() {
        for bad in ["", "(", ")", "(+ a b))", "()", "a b", "(a) (b)"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn deep_terms_do_not_overflow() {
        let n = 200_000;
        let text = format!("{}x{}", "(neg ".repeat(n), ")".repeat(n));
        let t = parse(&text).unwrap();
        assert_eq!(t.nodes.len(), 2 * n + 1);
        assert_eq!(t.tokens(t.root(), &|_, _| None).len(), 3 * n + 1);
    }
}
