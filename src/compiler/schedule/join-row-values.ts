// Fusion pass 2: row values (stored-values.ts) join the row kernel over their rows that computes the
// statistics they read, and are stored there, one per row — when the kernel stays within the binding budget,
// row-local and acyclic.
import type { Graph } from '../../graph/types.js';
import { coord } from './coords.js';
import { keptAxes, nonOneDims, sameDims, type DependenceAnalysis } from './domains.js';
import { acyclicMerged, copyKernelGraph, type KernelGraph } from './kernel-graph.js';
import { rowLocal, withinBudget, type BindingBudget } from './candidate.js';
import type { Unit } from './units.js';

export function joinRowValues(g: Graph, analysis: DependenceAnalysis, input: KernelGraph, budget: BindingBudget): KernelGraph {
  const kg = copyKernelGraph(input);
  const rowVals = kg.groups.flatMap((grp) => grp.units).filter((u) => u.kind === 'elementwise' && u.at === 'row').sort((a, b) => a.node - b.node);
  for (const u of rowVals) {
    const own = kg.groupOf.get(u.node)!;
    const dims = nonOneDims(g.nodes[u.node]!.shape);
    for (const grp of kg.groups) {
      if (grp === own || grp.kind !== 'row' || !grp.units.some((x) => x.kind === 'reduce')) continue;
      const keptK = keptAxes(grp.axes);
      if (keptK.length === grp.axes.length || !sameDims(dims, keptK.map((k) => grp.axes[k]!.dim))) continue;
      const refs = analysis.storeRefs(u.node, keptK.map(coord), u.node);
      if (![...refs.keys()].some((v) => kg.groupOf.get(v) === grp)) continue;
      const moved: Unit = { ...u, refs };
      const members = [...grp.units, moved];
      if (!withinBudget(kg, members, budget) || !rowLocal(g, members) || !acyclicMerged(kg, grp, own)) continue;
      grp.units.push(moved);
      kg.groupOf.set(u.node, grp);
      kg.groups = kg.groups.filter((x) => x !== own);
      break;
    }
  }
  return kg;
}
