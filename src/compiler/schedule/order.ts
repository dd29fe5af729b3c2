// Execution order of the kernels: topological in their dependences, ties broken by the smallest node a
// kernel computes (then its id), so the order follows the graph's and is deterministic.
import { dependencies, type Group, type KernelGraph } from './kernel-graph.js';

export function orderKernels(kg: KernelGraph): Group[] {
  const deps = new Map(kg.groups.map((x) => [x, dependencies(kg, x)]));
  const minNode = (x: Group) => Math.min(...x.units.map((u) => u.node));
  const ordered: Group[] = [];
  const placed = new Set<Group>();
  while (ordered.length < kg.groups.length) {
    const ready = kg.groups.filter((x) => !placed.has(x) && [...deps.get(x)!].every((d) => placed.has(d)));
    if (!ready.length) throw new Error('kernel graph has a cycle');
    ready.sort((a, b) => minNode(a) - minNode(b) || a.id - b.id);
    placed.add(ready[0]!);
    ordered.push(ready[0]!);
  }
  return ordered;
}
