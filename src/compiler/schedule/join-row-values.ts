// Fusion pass 2: row values (stored-values.ts) join the row kernel over their rows that computes the
// statistics they read, and are stored there, one per row — when the kernel stays within the binding budget,
// row-local and acyclic. Other stored elementwise values (stored once, promoted, the rows of an in-place state
// update) likewise join the row kernel over their elements that computes statistics they read, stored element
// by element in a sweep after those statistics are complete: no kernel of their own, and the inputs they share
// with the row kernel are read by it (DIST's softmax probabilities, stored by the row kernel computing each
// row's max and Σexp; CRD's normalised bank rows). A value over a transposed view of the kernel's domain is stored
// at its own coordinates (Unit.coords: DIST's intra-class gradient, [N, C], by the per-class pass over [C, N]).
import type { Dim, Graph } from '../../graph/types.js';
import { coord } from './coords.js';
import { keptAxes, nonOneDims, sameDims, type DependenceAnalysis } from './domains.js';
import { acyclicMerged, copyKernelGraph, type KernelGraph } from './kernel-graph.js';
import { rowLocal, withinBudget, type BindingBudget } from './candidate.js';
import type { Unit } from './units.js';

export function joinRowValues(g: Graph, analysis: DependenceAnalysis, input: KernelGraph, budget: BindingBudget): KernelGraph {
  const kg = copyKernelGraph(input);
  const joining = kg.groups
    .flatMap((grp) => grp.units)
    .filter((u) => u.kind === 'elementwise')
    .sort((a, b) => a.node - b.node);
  for (const u of joining) {
    const own = kg.groupOf.get(u.node)!;
    // joined already (partition.ts runs this pass twice): it stays with the kernel computing the rest of its group
    if (own.kind !== 'map' || own.units.length !== 1) continue;
    const dims = nonOneDims(g.nodes[u.node]!.shape);
    const at = u.at === 'row' ? 'row' : 'elem';
    for (const grp of kg.groups) {
      if (grp === own || grp.kind !== 'row' || !grp.units.some((x) => x.kind === 'reduce')) continue;
      const keptK = keptAxes(grp.axes);
      let coords = at === 'row' ? keptK : grp.axes.map((_, k) => k);
      if (at === 'row' && keptK.length === grp.axes.length) continue;
      let permuted = false;
      if (!sameDims(dims, coords.map((k) => grp.axes[k]!.dim))) {
        // a value over a transposed view of the domain, stored element by element at its own layout
        const perm = at === 'elem' ? transposition(dims, grp.axes.map((a) => a.dim)) : undefined;
        if (!perm) continue;
        coords = perm;
        permuted = true;
      }
      const refs = analysis.storeRefs(u.node, coords.map(coord), u.node);
      if (![...refs.keys()].some((v) => kg.groupOf.get(v) === grp)) continue;
      const moved: Unit = { ...u, refs, at, ...(permuted ? { coords } : {}) };
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

/** The axis of `axes` each of `dims` lies along, when `dims` are `axes` in another order and no dim repeats (a
 *  square [N, N] cannot tell its axes apart). */
function transposition(dims: readonly Dim[], axes: readonly Dim[]): number[] | undefined {
  if (dims.length !== axes.length) return undefined;
  const perm = dims.map((d) => axes.findIndex((a) => sameDims([a], [d])));
  // a repeated dim finds the same axis twice
  return perm.some((k) => k < 0) || new Set(perm).size !== perm.length ? undefined : perm;
}
