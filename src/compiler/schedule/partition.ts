// Fusion by iteration domain, as a sequence of passes over the kernel graph (kernel-graph.ts), each a pure
// function from one graph to the next:
//   kernelGraph        one kernel per unit (units.ts)
//   (joinRowValues)    in one of two candidate partitions: stored values join first (see below)
//   mergeReductions    reductions of equal domains into one row kernel (merge-reductions.ts)
//   joinRowValues      row values into the row kernel computing the statistics they read (join-row-values.ts)
//   matmulRoots        gradients and state that are a product in its layout, into the matmul kernel (matmul-roots.ts)
//   placeRoots         gradients, scalars and state into the kernel computing what they read (place-roots.ts)
//   orderKernels       execution order (order.ts), computed indices before state updates (check-order.ts)
//   assignSweeps       passes over the row inside each row kernel (sweeps.ts)
// Every merge is checked against the binding budget by the candidate kernel's estimate (candidate.ts).
//
// Two candidates differ in when stored values join: after the reductions merged (the plain sequence), or also
// before. Joining first lets reductions that read a stored value merge into the kernel computing it — DIST's
// centred sums of the softmax probabilities run in the sweep that stores the probabilities instead of a sweep
// of a later kernel — but an early join can also tie a value to a kernel that later merges badly (RKD, SSKD).
// The partition with fewer kernels wins, then the one with fewer sweeps over the elements; ties keep the plain one.
import type { Graph } from '../../graph/types.js';
import { domainWork, type DependenceAnalysis } from './domains.js';
import { kernelGraph, type Group, type KernelGraph } from './kernel-graph.js';
import { mergeReductions } from './merge-reductions.js';
import { joinRowValues } from './join-row-values.js';
import { placeRoots } from './place-roots.js';
import { matmulRoots } from './matmul-roots.js';
import { orderKernels } from './order.js';
import { checkedIndexNodes } from './check-order.js';
import { assignSweeps, type Sweeps } from './sweeps.js';
import type { BindingBudget } from './candidate.js';
import type { Unit } from './units.js';

export interface Partition extends Sweeps {
  /** Kernels in execution order. */
  groups: Group[];
  /** Unit node → its kernel. */
  groupOf: ReadonlyMap<number, Group>;
}

export function partition(g: Graph, analysis: DependenceAnalysis, units: readonly Unit[], roots: readonly Unit[], budget: BindingBudget): Partition {
  const plain = partitionFrom(g, analysis, kernelGraph(units), roots, budget);
  const joinedFirst = partitionFrom(g, analysis, joinRowValues(g, analysis, kernelGraph(units), budget), roots, budget);
  const cost = (p: Partition) => [p.groups.length, elementSweeps(p)] as const;
  const [a, b] = [cost(plain), cost(joinedFirst)];
  return b[0] < a[0] || (b[0] === a[0] && b[1] < a[1]) ? joinedFirst : plain;
}

function partitionFrom(g: Graph, analysis: DependenceAnalysis, start: KernelGraph, roots: readonly Unit[], budget: BindingBudget): Partition {
  const merged = mergeReductions(g, start, budget);
  const withRowValues = joinRowValues(g, analysis, merged, budget);
  const stored = matmulRoots(g, withRowValues, roots);
  const checked = checkedIndexNodes(g);
  const placed = placeRoots(g, analysis, stored.kg, stored.rest, budget, checked);
  const groups = orderKernels(placed, checked);
  return { groups, ...assignSweeps(g, groups, placed.groupOf), groupOf: placed.groupOf };
}

/** Elements visited by the row kernels' sweeps: each row kernel's domain size times its number of sweeps. */
function elementSweeps(p: Partition): number {
  let total = 0;
  for (const grp of p.groups) {
    if (grp.kind !== 'row') continue;
    let last = p.elemPhase.get(grp) ?? 0;
    for (const u of grp.units) if (u.kind === 'reduce') last = Math.max(last, p.phase.get(u.node) ?? 0);
    total += domainWork(grp.axes) * (last + 1);
  }
  return total;
}
