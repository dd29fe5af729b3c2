// Fusion pass 1: reductions of equal iteration domains merge into one row kernel when the merged kernel stays
// within the binding budget, every read between them is of the current row, and the kernel graph stays
// acyclic. The biggest domains merge first, so forward and backward row statistics end up in one pass and
// whole-batch scalars in a small dispatch after it.
import type { Graph } from '../../graph/types.js';
import { domainWork, sameDomain } from './domains.js';
import { copyKernelGraph, acyclicMerged, type KernelGraph } from './kernel-graph.js';
import { rowLocal, withinBudget, type BindingBudget } from './candidate.js';

export function mergeReductions(g: Graph, input: KernelGraph, budget: BindingBudget): KernelGraph {
  const kg = copyKernelGraph(input);
  const order = kg.groups
    .flatMap((grp) => grp.units)
    .filter((u) => u.kind === 'reduce')
    .sort((a, b) => domainWork(b.axes) - domainWork(a.axes) || a.node - b.node);
  for (let i = 0; i < order.length; i++)
    for (let j = i + 1; j < order.length; j++) {
      const a = kg.groupOf.get(order[i]!.node)!;
      const b = kg.groupOf.get(order[j]!.node)!;
      if (a === b || !sameDomain(a.axes, b.axes)) continue;
      const members = [...a.units, ...b.units];
      if (!withinBudget(kg, members, budget) || !rowLocal(g, members) || !acyclicMerged(kg, a, b)) continue;
      // merge b into a
      a.units.push(...b.units);
      for (const u of b.units) kg.groupOf.set(u.node, a);
      kg.groups = kg.groups.filter((x) => x !== b);
    }
  return kg;
}
