//! The dependency graph: services as nodes, edges from declared dependencies and from
//! references. Cycles are errors that print the cycle; the topological order (ties broken by
//! declaration order) is the order of every output.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use envc_model::{Diagnostic, Origin};
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

/// Why one service depends on another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EdgeKind {
    /// Listed in `depends_on`.
    Declared,
    /// A `${...}` reference to the service; the port name when the reference names one.
    Reference {
        /// Port used, if the reference says.
        port: Option<String>,
    },
}

/// An edge: `from` depends on `to`.
#[derive(Debug, Clone)]
pub struct Edge {
    /// The dependent service.
    pub from: String,
    /// The service depended on.
    pub to: String,
    /// Why.
    pub kind: EdgeKind,
    /// Where the edge was written.
    pub origin: Origin,
}

/// The graph of one mode.
#[derive(Debug, Clone)]
pub struct Graph {
    /// Service names, dependencies first; ties keep declaration order.
    pub order: Vec<String>,
    /// Every edge, in the order found.
    pub edges: Vec<Edge>,
}

impl Graph {
    /// Builds the graph of `services` (declaration order) and `edges`, whose endpoints must be
    /// in `services`. A cycle is an error naming its path.
    pub fn build(services: &[String], edges: Vec<Edge>) -> Result<Graph, Diagnostic> {
        let mut g: DiGraph<usize, usize> = DiGraph::new();
        let nodes: Vec<NodeIndex> = (0..services.len()).map(|i| g.add_node(i)).collect();
        let positions: std::collections::HashMap<&str, usize> = services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_str(), i))
            .collect();
        let index = |name: &str| positions.get(name).copied();
        for (ei, e) in edges.iter().enumerate() {
            if let (Some(a), Some(b)) = (index(&e.from), index(&e.to)) {
                // Edge direction: dependent -> dependency.
                g.add_edge(nodes[a], nodes[b], ei);
            }
        }

        // Cycles: any strongly connected component with more than one node, or a self-loop.
        let mut sccs = tarjan_scc(&g);
        sccs.sort_by_key(|c| c.iter().map(|n| g[*n]).min());
        for scc in sccs {
            let self_loop = scc.len() == 1 && g.find_edge(scc[0], scc[0]).is_some();
            if scc.len() < 2 && !self_loop {
                continue;
            }
            let Some(start) = scc.iter().copied().min_by_key(|n| g[*n]) else {
                continue;
            };
            let cycle = find_cycle(&g, start, &scc);
            let path: Vec<&str> = cycle
                .iter()
                .map(|(n, _)| services[g[*n]].as_str())
                .collect();
            let first_edge = cycle.first().and_then(|(_, e)| *e).map(|ei| &edges[ei]);
            let mut text = path.join(" -> ");
            text.push_str(" -> ");
            text.push_str(path.first().copied().unwrap_or_default());
            let mut d = Diagnostic::error("E-cycle", format!("dependency cycle: {text}"))
                .hint("services cannot wait for each other: remove one `depends_on` entry or reference in the cycle");
            if let Some(e) = first_edge {
                d = d.at(e.origin, format!("`{}` depends on `{}` here", e.from, e.to));
            }
            for (_, ei) in cycle.iter().skip(1) {
                if let Some(e) = ei.map(|i| &edges[i]) {
                    d = d.also(e.origin, format!("`{}` depends on `{}` here", e.from, e.to));
                }
            }
            return Err(d);
        }

        // Kahn's algorithm over dependency -> dependent, smallest declaration index first.
        let n = services.len();
        let mut indegree = vec![0usize; n];
        for e in g.edge_references() {
            if e.source() != e.target() {
                indegree[g[e.source()]] += 1;
            }
        }
        let mut ready: BinaryHeap<Reverse<usize>> =
            (0..n).filter(|i| indegree[*i] == 0).map(Reverse).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(Reverse(i)) = ready.pop() {
            order.push(services[i].clone());
            // Every service that depends on i.
            for e in g.edges_directed(nodes[i], petgraph::Direction::Incoming) {
                let dep = g[e.source()];
                indegree[dep] -= 1;
                if indegree[dep] == 0 {
                    ready.push(Reverse(dep));
                }
            }
        }
        Ok(Graph { order, edges })
    }
}

/// A cycle through `start` inside one strongly connected component, as (node, edge taken to
/// reach the next node) pairs.
fn find_cycle(
    g: &DiGraph<usize, usize>,
    start: NodeIndex,
    scc: &[NodeIndex],
) -> Vec<(NodeIndex, Option<usize>)> {
    // Breadth-first search for the shortest way back to `start`, preferring lower declaration
    // indexes so the printed cycle is stable.
    let mut prev: Vec<Option<(NodeIndex, usize)>> = vec![None; g.node_count()];
    let mut queue = std::collections::VecDeque::from([start]);
    let mut seen = vec![false; g.node_count()];
    seen[start.index()] = true;
    let mut closing: Option<(NodeIndex, usize)> = None;
    'search: while let Some(n) = queue.pop_front() {
        let mut next: Vec<_> = g.edges(n).map(|e| (e.target(), *e.weight())).collect();
        next.sort_by_key(|(t, _)| g[*t]);
        for (t, ei) in next {
            if t == start {
                closing = Some((n, ei));
                break 'search;
            }
            if scc.contains(&t) && !seen[t.index()] {
                seen[t.index()] = true;
                prev[t.index()] = Some((n, ei));
                queue.push_back(t);
            }
        }
    }
    let Some((last, closing_edge)) = closing else {
        return vec![(start, None)];
    };
    // Walk back from `last` to `start`.
    let mut rev = vec![(last, Some(closing_edge))];
    let mut cur = last;
    while cur != start {
        let Some((p, ei)) = prev[cur.index()] else {
            break;
        };
        rev.push((p, Some(ei)));
        cur = p;
    }
    rev.reverse();
    rev
}

#[cfg(test)]
mod tests {
    use super::*;
    use envc_model::{FileId, Span};

    fn edge(from: &str, to: &str) -> Edge {
        Edge {
            from: from.into(),
            to: to.into(),
            kind: EdgeKind::Declared,
            origin: Origin {
                file: FileId(0),
                span: Span::default(),
                via: None,
            },
        }
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn orders_dependencies_first_and_keeps_declaration_order_for_ties() {
        let s = names(&["prefect-worker", "prefect-server", "postgres", "redis"]);
        let g = Graph::build(
            &s,
            vec![
                edge("prefect-worker", "prefect-server"),
                edge("prefect-server", "postgres"),
            ],
        )
        .map(|g| g.order);
        assert_eq!(
            g.ok(),
            Some(names(&[
                "postgres",
                "prefect-server",
                "prefect-worker",
                "redis"
            ]))
        );
    }

    #[test]
    fn reports_the_cycle_path() {
        let s = names(&["postgres", "prefect-server", "minio"]);
        let err = Graph::build(
            &s,
            vec![
                edge("prefect-server", "postgres"),
                edge("postgres", "prefect-server"),
                edge("minio", "postgres"),
            ],
        )
        .err()
        .map(|d| d.message);
        assert_eq!(
            err.as_deref(),
            Some("dependency cycle: postgres -> prefect-server -> postgres")
        );
    }

    #[test]
    fn reports_self_dependency() {
        let s = names(&["a"]);
        let err = Graph::build(&s, vec![edge("a", "a")])
            .err()
            .map(|d| d.message);
        assert_eq!(err.as_deref(), Some("dependency cycle: a -> a"));
    }
}
