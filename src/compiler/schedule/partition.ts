// Fusion by iteration domain, as a sequence of passes over the kernel graph (kernel-graph.ts), each a pure
// function from one graph to the next:
//   kernelGraph        one kernel per unit (units.ts)
//   mergeReductions    reductions of equal domains into one row kernel (merge-reductions.ts)
//   joinRowValues      row values into the row kernel computing the statistics they read (join-row-values.ts)
//   matmulRoots        gradients and state that are a product in its layout, into the matmul kernel (matmul-roots.ts)
//   placeRoots         gradients, scalars and state into the kernel computing what they read (place-roots.ts)
//   orderKernels       execution order (order.ts)
//   assignSweeps       passes over the row inside each row kernel (sweeps.ts)
// Every merge is checked against the binding budget by the candidate kernel's estimate (candidate.ts).
import type { Graph } from '../../graph/types.js';
import type { DependenceAnalysis } from './domains.js';
import { kernelGraph, type Group } from './kernel-graph.js';
import { mergeReductions } from './merge-reductions.js';
import { joinRowValues } from './join-row-values.js';
import { placeRoots } from './place-roots.js';
import { matmulRoots } from './matmul-roots.js';
import { orderKernels } from './order.js';
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
  const merged = mergeReductions(g, kernelGraph(units), budget);
  const withRowValues = joinRowValues(g, analysis, merged, budget);
  const stored = matmulRoots(g, withRowValues, roots);
  const placed = placeRoots(g, analysis, stored.kg, stored.rest, budget);
  const groups = orderKernels(placed);
  return { groups, ...assignSweeps(g, groups, placed.groupOf), groupOf: placed.groupOf };
}
