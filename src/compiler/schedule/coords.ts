// The coordinates of an iteration domain and where values are read at them: the names a kernel binds its
// domain coordinates to, the index a reduction's input is read at, and "the current row" of a reduction
// (its kept dims at their coordinates) — row-locality is structural equality with that index.
import { isOneDim as isOne } from '../../graph/dims.js';
import type { Node, Shape } from '../../graph/types.js';
import { ixListEq, ixVar, ZERO, type Ix } from './index-expr.js';

/** Name of domain coordinate k (the analysis and the kernel templates use the same names). */
export const coordName = (k: number): string => `ix${k}`;

/** Domain coordinate k. */
export const coord = (k: number): Ix => ixVar(coordName(k));

/** Index of a tensor of `shape` whose non-1 dims line up, in order, with the coordinates `coords`. */
export function alignedIndex(shape: Shape, coords: readonly Ix[]): Ix[] {
  let k = 0;
  return shape.map((d) => (isOne(d) ? ZERO : coords[k++] ?? ZERO));
}

/** Domain coordinate k as a kernel names it where it binds some coordinates under other names (a quad's lanes). */
export type CoordOf = (k: number) => Ix;

/** The index a reduction's input is read at inside its domain. */
export function reductionInputIndex(g: { nodes: Node[] }, node: number, co: CoordOf = coord): Ix[] {
  const n = g.nodes[node]!;
  const x = g.nodes[n.inputs[0]!]!;
  let k = 0;
  return x.shape.map((d) => (isOne(d) ? ZERO : co(k++)));
}

/** Where a reduction's output reads as "the current row": its kept non-1 dims at their domain coordinates. */
function reductionRowIndex(g: { nodes: Node[] }, node: number, co: CoordOf = coord): Ix[] {
  const n = g.nodes[node]!;
  const x = g.nodes[n.inputs[0]!]!;
  const axes = n.op === 'reduce' ? n.attrs.axes : [];
  const keepdim = n.op === 'reduce' ? n.attrs.keepdim : false;
  const out: Ix[] = [];
  let k = 0;
  x.shape.forEach((d, p) => {
    const c = isOne(d) ? ZERO : co(k++);
    if (!axes.includes(p)) out.push(c);
    else if (keepdim) out.push(ZERO);
  });
  return out;
}

/** Does `idx` (a read of `node`'s output) address the current row? Size-1 output dims are ignored. */
export function isRowIndex(g: { nodes: Node[] }, node: number, idx: readonly Ix[], co: CoordOf = coord): boolean {
  const want = reductionRowIndex(g, node, co);
  const shape = g.nodes[node]!.shape;
  return want.length === idx.length && want.every((w, q) => isOne(shape[q]!) || ixListEq([w], [idx[q]!]));
}
