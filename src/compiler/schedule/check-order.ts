// Device checks before state updates. A computed index (computed-indices.ts) is checked by the runtime right after
// the kernel storing it; the kernels that store state read the checks' flags and store nothing when one failed
// (PlanKernel.checkFlags: an in-place update, a kept state output), so that a run torch would refuse leaves the
// state as it was. That holds only when every kernel storing a computed index runs before every kernel reading
// the flags, whatever the graph's order (a state update need not read the index: a loss can update its bank at
// its targets and gather at a computed index). So the scheduler makes it a constraint and checks it:
//   checksBeforeState   dependence edges for order.ts: a flag-reading kernel after every computed-index kernel
//   beforeChecks        what place-roots.ts asks: may a flag-reading root join this kernel (not one storing such
//                       an index, nor one that such an index depends on: the edge would close a cycle)
//   assertChecksBeforeState  the invariant on the finished schedule (after the merges of policy.ts), an internal
//                       error (TDC690) naming the kernels if it is ever broken
import { diag, DiagnosticError } from '../../diagnostics/index.js';
import type { Graph } from '../../graph/types.js';
import { computedIndices } from './computed-indices.js';
import { reaches, type Group, type KernelGraph } from './kernel-graph.js';
import { readsCheckFlags } from './units.js';
import type { Schedule } from './schedule.js';

/** The nodes of `g` whose values are a computed index checked on the device (each stored by a kernel). */
export const checkedIndexNodes = (g: Graph): Set<number> => new Set(computedIndices(g).map((c) => c.node));

const storesChecked = (x: Group, checked: ReadonlySet<number>): boolean => x.units.some((u) => u.kind !== 'root' && checked.has(u.node));
const readsFlags = (x: Group): boolean => x.units.some(readsCheckFlags);

/** Kernel → the kernels storing a computed index that it must run after (it reads the check flags). */
export function checksBeforeState(kg: KernelGraph, checked: ReadonlySet<number>): Map<Group, Set<Group>> {
  const out = new Map<Group, Set<Group>>();
  if (!checked.size) return out;
  const indexKernels = kg.groups.filter((x) => storesChecked(x, checked));
  for (const x of kg.groups) if (readsFlags(x)) out.set(x, new Set(indexKernels.filter((h) => h !== x)));
  return out;
}

/** Does kernel `x` store a computed index, or compute something one depends on? A root reading the check flags must
 *  not join it. */
export function beforeChecks(kg: KernelGraph, x: Group, checked: ReadonlySet<number>): boolean {
  if (!checked.size) return false;
  return storesChecked(x, checked) || kg.groups.some((h) => h !== x && storesChecked(h, checked) && reaches(kg, x, h));
}

/** Every computed index's check (after the last kernel writing its buffer, as the runtime places it) comes before
 *  the first kernel reading the check flags; a DiagnosticError (TDC690, internal) otherwise. */
export function assertChecksBeforeState(s: Schedule): void {
  const firstGuarded = s.kernels.findIndex((k) => k.checkFlags !== undefined);
  if (firstGuarded < 0) return;
  for (const cc of s.computedIndexChecks ?? []) {
    let last = -1;
    s.kernels.forEach((k, i) => {
      if (k.bindings.some((b) => b.buffer === cc.buffer && b.access !== 'read')) last = i;
    });
    if (last < firstGuarded) continue;
    const writer = s.kernels[last]!.name;
    const guarded = s.kernels[firstGuarded]!.name;
    throw new DiagnosticError(
      diag('error', 'TDC690', `internal error while scheduling the GPU kernels: ${cc.what} is stored by kernel ${writer}, which runs ${last === firstGuarded ? 'as' : 'after'} kernel ${guarded} that updates state, so a failed check of it could not keep the state as it was`),
    );
  }
}
