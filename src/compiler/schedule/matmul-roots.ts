// Fusion pass (before place-roots.ts): a stored root (a gradient or state output) that is a matmul's result in the
// same row-major layout — the product itself, or a reshape of it — is stored by the matmul kernel, into the root's
// buffer, when nothing else reads the product. Otherwise the product goes to a scratch matrix and an elementwise
// kernel copies it into the output (FSP's feature gradients: a kernel and a full read and write of each gradient
// per pair; transpose-products.ts puts the transposed ones into this form).
import type { Graph } from '../../graph/types.js';
import { copyKernelGraph, type Group, type KernelGraph } from './kernel-graph.js';
import type { Unit } from './units.js';

/** Views that keep the row-major order of the elements. */
const SAME_ORDER = new Set(['reshape', 'detach']);

export function matmulRoots(g: Graph, input: KernelGraph, roots: readonly Unit[]): { kg: KernelGraph; rest: Unit[] } {
  const kg = copyKernelGraph(input);
  const readers = new Map<number, number>();
  const count = (u: Unit) => {
    for (const v of u.refs.keys()) readers.set(v, (readers.get(v) ?? 0) + 1);
  };
  for (const grp of kg.groups) grp.units.forEach(count);
  roots.forEach(count);
  const taken = new Set<Group>();
  const rest: Unit[] = [];
  for (const r of roots) {
    let v = r.node;
    while (SAME_ORDER.has(g.nodes[v]!.op)) v = g.nodes[v]!.inputs[0]!;
    const grp = kg.groupOf.get(v);
    const stores = r.target?.kind === 'grad' || (r.target?.kind === 'state' && !r.target.scatter);
    if (!stores || !grp || grp.kind !== 'matmul' || taken.has(grp) || readers.get(v) !== 1 || g.nodes[r.node]!.dtype !== 'float') {
      rest.push(r);
      continue;
    }
    taken.add(grp);
    grp.units.push({ ...r, at: 'elem' });
  }
  return { kg, rest };
}
