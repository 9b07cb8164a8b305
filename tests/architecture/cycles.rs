//! Import cycles among sibling modules, found with Tarjan's strongly connected
//! components.
//!
//! Every module of a crate (the root included) is checked on its own: its children
//! are the nodes, and a reference from anywhere inside child `a` to anywhere inside
//! child `b` is an edge `a → b`. At the root that is the crate's top-level modules
//! (`config/notify/syslog.rs → cli` is the edge `config → cli`); inside `config` it
//! is `config`'s children. A reference between a module and one of its own
//! ancestors or descendants is never an edge: a parent and its children are one
//! unit seen from outside.

use std::collections::BTreeMap;

use crate::modules::{show, Crate, ModPath, Reference};

/// A set of sibling modules that import each other round, and the references that
/// make the edges between them.
#[derive(Debug)]
pub(crate) struct Cycle {
    /// The module whose children these are.
    pub(crate) parent: ModPath,
    /// The children in the cycle, sorted.
    pub(crate) members: Vec<String>,
    /// Each edge inside the cycle, with the references behind it.
    pub(crate) edges: BTreeMap<(String, String), Vec<Reference>>,
}

impl std::fmt::Display for Cycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "cycle among the children of {}: {}",
            show(&self.parent),
            self.members.join(" ↔ ")
        )?;
        for ((a, b), refs) in &self.edges {
            writeln!(f, "  {a} → {b}:")?;
            for r in refs {
                writeln!(f, "    {}:{}: {}", r.file.display(), r.line, r.text)?;
            }
        }
        Ok(())
    }
}

/// Every cycle among the children of any module of `krate`.
pub(crate) fn find(krate: &Crate) -> Vec<Cycle> {
    let mut cycles = Vec::new();
    for parent in &krate.modules {
        let depth = parent.len();
        let mut edges: BTreeMap<(String, String), Vec<Reference>> = BTreeMap::new();
        for r in &krate.references {
            let inside = |p: &ModPath| p.len() > depth && p.starts_with(parent);
            if !inside(&r.from) || !inside(&r.to) {
                continue;
            }
            let (a, b) = (&r.from[depth], &r.to[depth]);
            if a != b {
                edges
                    .entry((a.clone(), b.clone()))
                    .or_default()
                    .push(r.clone());
            }
        }
        let nodes: Vec<String> = krate
            .modules
            .iter()
            .filter(|m| m.len() == depth + 1 && m.starts_with(parent))
            .map(|m| m[depth].clone())
            .collect();
        let adjacency: Vec<(String, String)> = edges.keys().cloned().collect();
        for component in strongly_connected(&nodes, &adjacency) {
            if component.len() < 2 {
                continue;
            }
            let inner = edges
                .iter()
                .filter(|((a, b), _)| component.contains(a) && component.contains(b))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            cycles.push(Cycle {
                parent: parent.clone(),
                members: component,
                edges: inner,
            });
        }
    }
    cycles
}

/// Tarjan's algorithm: the strongly connected components of the graph, each sorted.
pub(crate) fn strongly_connected(nodes: &[String], edges: &[(String, String)]) -> Vec<Vec<String>> {
    let index_of = |n: &str| nodes.iter().position(|m| m == n);
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (a, b) in edges {
        if let (Some(a), Some(b)) = (index_of(a), index_of(b)) {
            next[a].push(b);
        }
    }
    let mut t = Tarjan {
        next: &next,
        index: vec![None; nodes.len()],
        low: vec![0; nodes.len()],
        on_stack: vec![false; nodes.len()],
        stack: Vec::new(),
        counter: 0,
        components: Vec::new(),
    };
    for v in 0..nodes.len() {
        if t.index[v].is_none() {
            t.visit(v);
        }
    }
    t.components
        .into_iter()
        .map(|c| {
            let mut names: Vec<String> = c.into_iter().map(|i| nodes[i].clone()).collect();
            names.sort();
            names
        })
        .collect()
}

struct Tarjan<'a> {
    next: &'a [Vec<usize>],
    index: Vec<Option<usize>>,
    low: Vec<usize>,
    on_stack: Vec<bool>,
    stack: Vec<usize>,
    counter: usize,
    components: Vec<Vec<usize>>,
}

impl Tarjan<'_> {
    fn visit(&mut self, v: usize) {
        self.index[v] = Some(self.counter);
        self.low[v] = self.counter;
        self.counter += 1;
        self.stack.push(v);
        self.on_stack[v] = true;
        for &w in &self.next[v] {
            match self.index[w] {
                None => {
                    self.visit(w);
                    self.low[v] = self.low[v].min(self.low[w]);
                }
                Some(iw) if self.on_stack[w] => self.low[v] = self.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(self.low[v]) == self.index[v] {
            let mut component = Vec::new();
            while let Some(w) = self.stack.pop() {
                self.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            self.components.push(component);
        }
    }
}
