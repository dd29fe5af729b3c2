// Sums of a one-hot row: Σ_j where(j == X, Y, 0) over one axis, X an integer constant along it (a class
// label: cross-entropy's gradient sums its upstream one-hot this way). At most one term is not zero, so the sum
// is Y at j = X when 0 ≤ X < L, else 0 — the same value as adding the row up, +0 terms included (a sum that
// starts at 0 and adds Y gives Y, non-finite Y too). Row kernels read it once per row instead of comparing
// and adding every element.
import { dimEq, isOneDim as isOne } from '../../graph/dims.js';
import type { Graph, Shape } from '../../graph/types.js';

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
  const w = g.nodes[r.inputs[0]!]!;
  if (w.op !== 'where' || w.dtype !== 'float' || isOne(w.shape[axis]!)) return undefined;
  const [c, y, z] = w.inputs as [number, number, number];
  const zero = g.nodes[z]!;
  if (zero.op !== 'const' || zero.attrs.value !== 0) return undefined;
  const eq = g.nodes[c]!;
  if (eq.op !== 'binary' || eq.attrs.fn !== 'eq' || !sameShape(eq.shape, w.shape)) return undefined;
  const [p, q] = eq.inputs as [number, number];
  const isIota = (id: number): boolean => {
    const n = g.nodes[id]!;
    return n.op === 'iota' && n.attrs.axis === axis && n.dtype === 'int' && sameShape(n.shape, w.shape);
  };
  const index = isIota(p) ? q : isIota(q) ? p : undefined;
  if (index === undefined) return undefined;
  const x = g.nodes[index]!;
  // X broadcasts along the summed axis (right-aligned, as where and eq broadcast)
  const xAxis = axis - (w.shape.length - x.shape.length);
  if (x.dtype !== 'int' || (xAxis >= 0 && !isOne(x.shape[xAxis]!))) return undefined;
  return { where: w.id, index, value: y, axis };
}

const sameShape = (a: Shape, b: Shape): boolean => a.length === b.length && a.every((d, k) => dimEq(d, b[k]!) === true);
