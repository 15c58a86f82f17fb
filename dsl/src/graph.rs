//! The graph: dimensions built from the five primitives, hash-consed.
//!
//! Nodes are appended in dependency order, so a dimension's index is a
//! topological order: every node reads only dimensions with smaller indices.
//! Structurally equal nodes are one dimension (the builder returns the
//! existing one). Each node belongs to a named group (a sub-graph such as
//! `op:ADD`), the first group that built it.

use crate::expr::{Dim, Expr, int};
use std::collections::HashMap;

/// Which of several matching positions a lookup returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tie {
    /// The latest (largest position).
    Latest,
    /// The earliest (smallest position).
    Earliest,
}

/// Hardmax attention: at position `i`, among positions `j ≤ i` where
/// `active` is 1 and `key` equals this position's `query`, return `value` at
/// the latest (or earliest) such `j`; 0 when there is none.
///
/// Preconditions (which the verifier proves over the value ranges): `key` and
/// `query` are integer-valued, `active` is 0 or 1. Realised with the
/// parabola trick: key `(2k, −k²)`, query `(q, 1)`, score `q² − (q − k)²`,
/// maximal exactly at `k = q`, every other integer key losing by ≥ 1.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LookUp {
    /// Read at the current position.
    pub query: Expr,
    /// Read at each earlier position.
    pub key: Expr,
    /// 1 where the position takes part, 0 where it is cleared.
    pub active: Expr,
    /// Read at the chosen position.
    pub value: Expr,
    /// Latest or earliest wins.
    pub tie: Tie,
}

/// Values set by the embedding.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Input {
    /// The constant 1.
    One,
    /// The position (0-based).
    Position,
    /// The position squared.
    PositionSquared,
    /// A token feature: `Graph::feature(i)` gives its value per token id.
    Feature(u32),
}

/// One of the five primitives.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    /// Embedding value.
    Input(Input),
    /// `relu(b) · a`: one FFN neuron.
    ReGLU {
        /// The value (linear) side.
        a: Expr,
        /// The gate side.
        b: Expr,
    },
    /// Materialises an expression into one residual slot.
    Persist(Expr),
    /// Hardmax attention lookup.
    LookUp(LookUp),
    /// Running sum over positions `0..=i`.
    CumSum(Expr),
}

impl Node {
    /// The primitive's kind name.
    pub fn kind(&self) -> &'static str {
        match self {
            Node::Input(_) => "Input",
            Node::ReGLU { .. } => "ReGLU",
            Node::Persist(_) => "Persist",
            Node::LookUp(_) => "LookUp",
            Node::CumSum(_) => "CumSum",
        }
    }

    /// The expressions the node reads.
    pub fn operands(&self) -> Vec<&Expr> {
        match self {
            Node::Input(_) => vec![],
            Node::ReGLU { a, b } => vec![a, b],
            Node::Persist(e) | Node::CumSum(e) => vec![e],
            Node::LookUp(l) => vec![&l.query, &l.key, &l.active, &l.value],
        }
    }
}

/// A token feature: a name and its value for every token id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Feature {
    /// Name, e.g. `is_op:ADD` or `byte`.
    pub name: String,
    /// Value per token id.
    pub values: Vec<i64>,
}

/// A dimension's node and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dimension {
    /// What computes it.
    pub node: Node,
    /// Index into [`Graph::groups`].
    pub group: u32,
    /// A readable name, if the builder gave one.
    pub name: Option<String>,
}

/// A graph of dimensions.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    dims: Vec<Dimension>,
    index: HashMap<Node, Dim>,
    features: Vec<Feature>,
    groups: Vec<String>,
    current_group: u32,
    outputs: Vec<(String, Expr)>,
}

impl Graph {
    /// An empty graph whose nodes go to group `main`.
    pub fn new() -> Graph {
        Graph {
            groups: vec!["main".to_owned()],
            ..Graph::default()
        }
    }

    /// All dimensions, in topological order.
    pub fn dims(&self) -> &[Dimension] {
        &self.dims
    }

    /// One dimension.
    pub fn dim(&self, d: Dim) -> &Dimension {
        &self.dims[d.index()]
    }

    /// The token features.
    pub fn features(&self) -> &[Feature] {
        &self.features
    }

    /// The group names.
    pub fn groups(&self) -> &[String] {
        &self.groups
    }

    /// Nodes built from now on belong to group `name` (created if new).
    pub fn enter_group(&mut self, name: &str) {
        self.current_group = match self.groups.iter().position(|g| g == name) {
            Some(i) => i as u32,
            None => {
                self.groups.push(name.to_owned());
                self.groups.len() as u32 - 1
            }
        };
    }

    /// The dimensions of group `name`.
    pub fn group(&self, name: &str) -> Vec<Dim> {
        let Some(g) = self.groups.iter().position(|x| x == name) else {
            return Vec::new();
        };
        (0..self.dims.len())
            .filter(|&i| self.dims[i].group == g as u32)
            .map(|i| Dim(i as u32))
            .collect()
    }

    /// `dims` and every dimension they read, transitively, in index order:
    /// the part of the graph that computes them.
    pub fn cone(&self, dims: &[Dim]) -> Vec<Dim> {
        let mut needed = vec![false; self.dims.len()];
        for d in dims {
            needed[d.index()] = true;
        }
        for i in (0..self.dims.len()).rev() {
            if needed[i] {
                for e in self.dims[i].node.operands() {
                    for d in e.dims() {
                        needed[d.index()] = true;
                    }
                }
            }
        }
        (0..self.dims.len())
            .filter(|&i| needed[i])
            .map(|i| Dim(i as u32))
            .collect()
    }

    /// Named outputs (what the model's output head reads).
    pub fn outputs(&self) -> &[(String, Expr)] {
        &self.outputs
    }

    /// Declares an output.
    pub fn output(&mut self, name: &str, e: Expr) {
        self.outputs.push((name.to_owned(), e));
    }

    /// A copy of the graph with dimension `d` computed by `node` instead —
    /// for mutation tests (break one neuron on purpose; a check must
    /// notice). `node` may read only dimensions before `d`, or `None` is
    /// returned; it may equal another node (the copy then has two equal
    /// dimensions, which the builder never makes).
    pub fn with_node(&self, d: Dim, node: Node) -> Option<Graph> {
        let reads_later = node
            .operands()
            .iter()
            .flat_map(|e| e.dims())
            .any(|x| x >= d);
        if d.index() >= self.dims.len() || reads_later {
            return None;
        }
        let mut copy = self.clone();
        copy.index.retain(|_, &mut x| x != d);
        copy.index.entry(node.clone()).or_insert(d);
        copy.dims[d.index()].node = node;
        Some(copy)
    }

    /// Adds a node, or returns the existing equal one.
    pub fn add(&mut self, node: Node) -> Dim {
        if let Some(&d) = self.index.get(&node) {
            return d;
        }
        let d = Dim(self.dims.len() as u32);
        self.index.insert(node.clone(), d);
        self.dims.push(Dimension {
            node,
            group: self.current_group,
            name: None,
        });
        d
    }

    /// Gives `d` a readable name (the first name given sticks).
    pub fn name(&mut self, d: Dim, name: &str) -> Dim {
        let slot = &mut self.dims[d.index()].name;
        if slot.is_none() {
            *slot = Some(name.to_owned());
        }
        d
    }

    /// A token feature with the given value per token id.
    pub fn feature(&mut self, name: &str, values: Vec<i64>) -> Expr {
        let i = match self.features.iter().position(|f| f.name == name) {
            Some(i) => i,
            None => {
                self.features.push(Feature {
                    name: name.to_owned(),
                    values,
                });
                self.features.len() - 1
            }
        };
        let d = self.add(Node::Input(Input::Feature(i as u32)));
        self.name(d, name);
        Expr::dim(d)
    }

    /// The constant-1 input as an expression.
    pub fn one(&mut self) -> Expr {
        Expr::dim(self.add(Node::Input(Input::One)))
    }

    /// The position input.
    pub fn position(&mut self) -> Expr {
        Expr::dim(self.add(Node::Input(Input::Position)))
    }

    /// `relu(b) · a` — one neuron.
    pub fn reglu(&mut self, a: Expr, b: Expr) -> Expr {
        Expr::dim(self.add(Node::ReGLU { a, b }))
    }

    /// `a · [b ≥ 0]`, from two neurons: `relu(b + 1)·a − relu(b)·a`.
    /// Precondition: `b` is integer-valued.
    pub fn stepglu(&mut self, a: Expr, b: Expr) -> Expr {
        let upper = self.reglu(a.clone(), b.clone() + 1);
        let lower = self.reglu(a, b);
        upper - lower
    }

    /// `[x ≥ 0]`. Precondition: `x` is integer-valued.
    pub fn ge_zero(&mut self, x: Expr) -> Expr {
        let one = self.one();
        self.stepglu(one, x)
    }

    /// `[x == 0]` from three neurons: `relu(x+1) − 2 relu(x) + relu(x−1)`.
    /// Precondition: `x` is integer-valued.
    pub fn is_zero(&mut self, x: Expr) -> Expr {
        let one = self.one();
        self.is_zero_times(one, x)
    }

    /// `a · [x == 0]` from three neurons: `relu(x+1)·a − 2 relu(x)·a +
    /// relu(x−1)·a`. Precondition: `x` is integer-valued.
    pub fn is_zero_times(&mut self, a: Expr, x: Expr) -> Expr {
        let up = self.reglu(a.clone(), x.clone() + 1);
        let at = self.reglu(a.clone(), x.clone());
        let down = self.reglu(a, x - 1);
        up - at * 2 + down
    }

    /// `c ? x : y` from two neurons: `relu(c)·x + relu(1 − c)·y`.
    /// Precondition: `c` is 0 or 1.
    pub fn select(&mut self, c: Expr, x: Expr, y: Expr) -> Expr {
        let then = self.reglu(x, c.clone());
        let otherwise = self.reglu(y, Expr::int(1) - c);
        then + otherwise
    }

    /// `c · x` for `c` in {0, 1}: one neuron.
    pub fn gate(&mut self, c: Expr, x: Expr) -> Expr {
        self.reglu(x, c)
    }

    /// A table of the integer `x`: `values[i]` at `x = i` for `i` in
    /// `0..values.len()`, and 0 at every other integer — what a lookup
    /// into a known prefix returns, baked into one FFN output.
    ///
    /// The piecewise-linear interpolation of the points `(i, values[i])`
    /// and `(−1, 0)`, `(n, 0)`, flat (0) outside `[−1, n]`:
    /// `Σₜ cₜ·relu(x − t)` over breakpoints `t ∈ [−1, n]`, `cₜ` the change
    /// of slope at `t`, one neuron per non-zero `cₜ`, persisted as one
    /// dimension (which the plan turns into one FFN unit).
    /// Precondition for the table meaning: `x` is integer-valued.
    pub fn table(&mut self, x: Expr, values: &[i64]) -> Expr {
        let n = values.len() as i64;
        let v = |t: i64| -> i64 {
            if (0..n).contains(&t) {
                values[t as usize]
            } else {
                0
            }
        };
        let one = self.one();
        let mut sum = Expr::zero();
        let mut previous_slope = 0i64;
        for t in -1..=n {
            let slope = v(t + 1) - v(t);
            let change = slope - previous_slope;
            previous_slope = slope;
            if change != 0 {
                let hinge = self.reglu(one.clone(), x.clone() - t);
                sum = sum + hinge * change;
            }
        }
        if sum.is_constant() {
            return sum;
        }
        self.persist(sum)
    }

    /// Materialises `e` as a dimension.
    pub fn persist(&mut self, e: Expr) -> Expr {
        if let [(d, c)] = e.terms()
            && c == &int(1)
            && e.constant_term() == &int(0)
        {
            return Expr::dim(*d);
        }
        Expr::dim(self.add(Node::Persist(e)))
    }

    /// A lookup (see [`LookUp`]).
    pub fn lookup(&mut self, lookup: LookUp) -> Expr {
        Expr::dim(self.add(Node::LookUp(lookup)))
    }

    /// Running sum of `e` over positions `0..=i`.
    pub fn cumsum(&mut self, e: Expr) -> Expr {
        Expr::dim(self.add(Node::CumSum(e)))
    }

    /// Counts of each primitive kind, in a fixed order.
    pub fn counts(&self) -> Vec<(&'static str, usize)> {
        let mut counts = vec![
            ("Input", 0),
            ("ReGLU", 0),
            ("Persist", 0),
            ("LookUp", 0),
            ("CumSum", 0),
        ];
        for d in &self.dims {
            if let Some(entry) = counts.iter_mut().find(|(k, _)| *k == d.node.kind()) {
                entry.1 += 1;
            }
        }
        counts
    }

    /// Depth: the longest chain of non-input nodes.
    pub fn depth(&self) -> usize {
        let mut depth = vec![0usize; self.dims.len()];
        for (i, d) in self.dims.iter().enumerate() {
            let below = d
                .node
                .operands()
                .iter()
                .flat_map(|e| e.dims())
                .map(|x| depth[x.index()])
                .max()
                .unwrap_or(0);
            depth[i] = if matches!(d.node, Node::Input(_)) {
                0
            } else {
                below + 1
            };
        }
        depth.into_iter().max().unwrap_or(0)
    }

    /// A label for `d`: its name, or its kind and index.
    pub fn label(&self, d: Dim) -> String {
        let dim = &self.dims[d.index()];
        match (&dim.name, &dim.node) {
            (Some(n), _) => n.clone(),
            (None, Node::Input(Input::One)) => "one".to_owned(),
            (None, Node::Input(Input::Position)) => "position".to_owned(),
            (None, Node::Input(Input::PositionSquared)) => "position²".to_owned(),
            (None, node) => format!("{}#{}", node.kind(), d.0),
        }
    }

    /// The dependency graph (petgraph): an edge from each dimension read to
    /// the node reading it, weighted by how many operands read it.
    pub fn to_petgraph(&self) -> petgraph::graph::DiGraph<Dim, u32> {
        let mut g = petgraph::graph::DiGraph::with_capacity(self.dims.len(), self.dims.len() * 2);
        let nodes: Vec<_> = (0..self.dims.len())
            .map(|i| g.add_node(Dim(i as u32)))
            .collect();
        for (i, d) in self.dims.iter().enumerate() {
            let mut reads: Vec<Dim> = d.node.operands().iter().flat_map(|e| e.dims()).collect();
            reads.sort();
            for chunk in reads.chunk_by(|a, b| a == b) {
                g.add_edge(nodes[chunk[0].index()], nodes[i], chunk.len() as u32);
            }
        }
        g
    }

    /// Graphviz DOT text: nodes labelled by name and kind, clustered by group.
    pub fn to_dot(&self) -> String {
        use std::fmt::Write as _;
        let mut out =
            String::from("digraph tvm {\n  rankdir=LR;\n  node [shape=box, fontsize=10];\n");
        for (gi, group) in self.groups.iter().enumerate() {
            let _ = writeln!(
                out,
                "  subgraph \"cluster_{gi}\" {{\n    label=\"{group}\";"
            );
            for (i, d) in self.dims.iter().enumerate() {
                if d.group == gi as u32 {
                    let _ = writeln!(
                        out,
                        "    d{i} [label=\"{}\\n{}\"];",
                        self.label(Dim(i as u32)).replace('"', "'"),
                        d.node.kind()
                    );
                }
            }
            out.push_str("  }\n");
        }
        let g = self.to_petgraph();
        for e in g.raw_edges() {
            let _ = writeln!(out, "  d{} -> d{};", g[e.source()].0, g[e.target()].0);
        }
        out.push_str("}\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_nodes_are_one_dimension() {
        let mut g = Graph::new();
        let x = g.position();
        let a = g.reglu(x.clone(), x.clone() + 1);
        let b = g.reglu(x.clone(), x + 1);
        assert_eq!(a, b);
        assert_eq!(g.dims().len(), 2);
        assert_eq!(g.depth(), 1);
    }

    #[test]
    fn groups_address_sub_graphs() {
        let mut g = Graph::new();
        let x = g.position();
        g.enter_group("op:ADD");
        let y = g.ge_zero(x.clone() - 3);
        g.enter_group("op:SUB");
        let z = g.ge_zero(x - 3); // shared with ADD: stays in ADD's group
        assert_eq!(y, z);
        assert_eq!(g.group("op:ADD").len(), 3); // one + two neurons
        assert!(g.group("op:SUB").is_empty());
        assert!(g.to_dot().contains("cluster"));
    }
}
