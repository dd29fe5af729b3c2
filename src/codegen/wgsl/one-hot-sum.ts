// Sums of a one-hot row: Σ_j where(j == X, Y, 0) over one axis, X an integer constant along it (a class
// label: cross-entropy's gradient sums its upstream one-hot this way). At most one term is not zero, so the sum
// is Y at j = X when 0 ≤ X < L, else 0 — the same value as adding the row up, +0 terms included (a sum that
// starts at 0 and adds Y gives Y, non-finite Y too). Row kernels read it once per row instead of comparing
// and adding every element.
import type { Graph } from '../../graph/types.js';
import { oneHotRow } from '../../graph/row-patterns.js';

export interface OneHotSum {
  /** The where node summed: where(eq(iota, X), Y, 0). */
  where: number;
  /** X: the integer position of the hot element (invariant along the summed axis). */
  index: number;
  /** Y: its value, read at j = X. */
  value: number;
  /** The summed axis of the where node. */
  axis: number;
}

/** The parts of sum `node` if it sums a one-hot row along a single axis, else undefined. */
export function oneHotSum(g: Graph, node: number): OneHotSum | undefined {
  const r = g.nodes[node]!;
  if (r.op !== 'reduce' || r.attrs.fn !== 'sum' || r.dtype !== 'float' || r.attrs.axes.length !== 1) return undefined;
  const axis = r.attrs.axes[0]!;
  const hot = oneHotRow((id) => g.nodes[id]!, r.inputs[0]!, axis);
  return hot && { where: r.inputs[0]!, ...hot, axis };
}
