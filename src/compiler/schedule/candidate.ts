// What the fusion passes check of a candidate kernel (the units it would hold): the storage buffers it would
// bind, estimated against the binding budget, and whether every read between its reductions is of the
// current row (structural equality of index expressions, coords.ts).
import type { Graph } from '../../graph/types.js';
import { isRowIndex } from './coords.js';
import { sameDomain } from './domains.js';
import type { KernelGraph } from './kernel-graph.js';
import { readsCheckFlags, type Unit } from './units.js';

/** How a fusion strategy treats the storage-binding budget (policy.ts chooses the strategy). */
export interface BindingBudget {
  /** Storage buffers one kernel may bind. */
  limit: number;
  /** Count every value the kernel computes as stored (else only those other reductions/matmuls read). */
  conservative: boolean;
}

/**
 * Storage buffers a kernel of these units binds: inputs and other kernels' results it reads, its output
 * buffers, the check flags when it stores state (build.ts), and the results it stores for others — every one of them (conservative), or only those other
 * reductions/matmuls read (optimistic: the roots that read the rest are expected to join the kernel, and
 * same-domain reductions to merge into it).
 */
function candidateBindings(kg: KernelGraph, members: readonly Unit[], conservative: boolean): number {
  const own = new Set(members.filter((u) => u.kind !== 'root').map((u) => u.node));
  const read = new Set<number>();
  for (const u of members) for (const v of u.refs.keys()) if (!own.has(v)) read.add(v);
  const targets = new Set(members.filter((u) => u.kind === 'root').map((u) => (u.target?.kind === 'grad' ? `g${u.target.index}` : u.target?.kind === 'state' ? `s${u.target.index}` : 'scalars')));
  let stored = own.size;
  if (!conservative) {
    const mine = new Set(members);
    const dom = members.find((u) => u.kind === 'reduce')?.axes;
    const readers = [...new Set(kg.groupOf.values())]
      .flatMap((grp) => grp.units)
      .filter((u) => u.kind !== 'root' && !mine.has(u) && !(u.kind === 'reduce' && dom && sameDomain(u.axes, dom)));
    stored = [...own].filter((v) => readers.some((u) => u.refs.has(v))).length;
  }
  // a kernel updating state in place or storing a state output also reads the run's check flags (build.ts)
  return read.size + stored + targets.size + (members.some(readsCheckFlags) ? 1 : 0);
}

/** Does a kernel of these units stay within the budget (by the budget's estimate)? */
export function withinBudget(kg: KernelGraph, members: readonly Unit[], budget: BindingBudget): boolean {
  return candidateBindings(kg, members, budget.conservative) <= budget.limit;
}

/** Every read between these units of a reduction among them is a read of the current row (structurally). */
export function rowLocal(g: Graph, members: readonly Unit[]): boolean {
  const nodes = new Set(members.filter((u) => u.kind === 'reduce').map((u) => u.node));
  for (const u of members)
    for (const [v, keys] of u.refs) {
      if (!nodes.has(v)) continue;
      for (const idx of keys) if (!isRowIndex(g, v, idx)) return false;
    }
  return true;
}
