// Which config terms each node serves: nodes in a term's forward cone belong to it; the rest (backward
// nodes, the weighted sum) inherit the terms of what they read.
import type { Graph } from '../../graph/types.js';

export function termsOfNodes(g: Graph): string[][] {
  const marks: Set<string>[] = g.nodes.map(() => new Set());
  const named: { name: string; node: number }[] = g.terms.map((t) => ({ name: t.name, node: t.node }));
  if (g.modelTerm) named.push({ name: 'model_term', node: g.modelTerm.node });
  for (const t of named) {
    const seen = new Uint8Array(g.nodes.length);
    const stack = [t.node];
    while (stack.length) {
      const id = stack.pop()!;
      if (seen[id]) continue;
      seen[id] = 1;
      marks[id]!.add(t.name);
      stack.push(...g.nodes[id]!.inputs);
    }
  }
  for (const n of g.nodes) {
    if (marks[n.id]!.size) continue;
    for (const i of n.inputs) for (const t of marks[i]!) marks[n.id]!.add(t);
  }
  const order = named.map((t) => t.name);
  return marks.map((s) => order.filter((t) => s.has(t)));
}
