// Execution order of the kernels: topological in their dependences, ties broken by the smallest node a
// kernel computes (then its id), so the order follows the graph's and is deterministic. A kernel that updates
// a state input in place (in-place-state.ts) also runs after every kernel reading that input (write after read),
// and a kernel storing state (reading the device checks' flags) after every kernel storing a computed index
// (check-order.ts), so that the index's check runs before the state is touched.
import { dependencies, type Group, type KernelGraph } from './kernel-graph.js';
import { isScatter } from './units.js';
import { checksBeforeState } from './check-order.js';

/** `checked`: the nodes whose values are a computed index checked on the device (check-order.ts). */
export function orderKernels(kg: KernelGraph, checked: ReadonlySet<number> = new Set()): Group[] {
  const deps = new Map(kg.groups.map((x) => [x, dependencies(kg, x)]));
  for (const [x, d] of writeAfterRead(kg)) for (const h of d) deps.get(x)!.add(h);
  for (const [x, d] of checksBeforeState(kg, checked)) for (const h of d) deps.get(x)!.add(h);
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

/** Kernel → the other kernels that read a state input it overwrites in place. */
function writeAfterRead(kg: KernelGraph): Map<Group, Set<Group>> {
  const out = new Map<Group, Set<Group>>();
  for (const x of kg.groups) {
    const written = new Set(x.units.flatMap((u) => isScatter(u)?.input ?? []));
    if (!written.size) continue;
    const readers = kg.groups.filter((h) => h !== x && h.units.some((u) => [...u.refs.keys()].some((v) => written.has(v))));
    out.set(x, new Set(readers));
  }
  return out;
}
