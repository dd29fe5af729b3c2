// Two patterns over a row that the builder's sum rewrites (sum-rewrites.ts), the scheduler's online softmax
// (schedule/sweeps.ts) and the row kernels' one-hot sums (codegen/wgsl/one-hot-sum.ts) all recognise:
// a softmax's normaliser Σ exp(a − max a) and a one-hot row where(iota == X, Y, 0).
import { isOneDim, shapeEq } from './dims.js';
import type { Node } from './types.js';

type NodeOf = (id: number) => Node;

/** For z = Σ_R exp(a − max_R a) (the max through detach / broadcast / reshape): the max node, else undefined. */
export function softmaxMax(node: NodeOf, z: number): number | undefined {
  const n = node(z);
  if (n.op !== 'reduce' || n.attrs.fn !== 'sum' || n.dtype !== 'float') return undefined;
  const e = node(n.inputs[0]!);
  if (e.op !== 'unary' || e.attrs.fn !== 'exp') return undefined;
  const d = node(e.inputs[0]!);
  if (d.op !== 'binary' || d.attrs.fn !== 'sub') return undefined;
  const [a, v] = d.inputs as [number, number];
  let m = node(v);
  while (m.op === 'detach' || m.op === 'broadcast' || m.op === 'reshape') m = node(m.inputs[0]!);
  if (m.op !== 'reduce' || m.attrs.fn !== 'max' || m.inputs[0] !== a || m.attrs.axes.join() !== n.attrs.axes.join()) return undefined;
  return m.id;
}

/**
 * Node `w` as a one-hot row along `axis`: where(iota == X, Y, 0) with an int iota along the axis and X an int
 * constant along it (right-aligned, as where and eq broadcast) — its X and Y, else undefined. At most one element
 * of such a row is not zero.
 */
export function oneHotRow(node: NodeOf, w: number, axis: number): { index: number; value: number } | undefined {
  const n = node(w);
  if (n.op !== 'where' || n.dtype !== 'float' || isOneDim(n.shape[axis]!)) return undefined;
  const [c, y, z] = n.inputs as [number, number, number];
  const zero = node(z);
  if (zero.op !== 'const' || zero.attrs.value !== 0) return undefined;
  const eq = node(c);
  if (eq.op !== 'binary' || eq.attrs.fn !== 'eq' || !shapeEq(eq.shape, n.shape)) return undefined;
  const [p, q] = eq.inputs as [number, number];
  const isIota = (id: number): boolean => {
    const i = node(id);
    return i.op === 'iota' && i.attrs.axis === axis && i.dtype === 'int' && shapeEq(i.shape, n.shape);
  };
  const index = isIota(p) ? q : isIota(q) ? p : undefined;
  if (index === undefined) return undefined;
  const x = node(index);
  const xAxis = axis - (n.shape.length - x.shape.length);
  if (x.dtype !== 'int' || (xAxis >= 0 && !isOneDim(x.shape[xAxis]!))) return undefined;
  return { index, value: y };
}
