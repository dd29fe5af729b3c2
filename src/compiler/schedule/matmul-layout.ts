// How a matmul kernel lays its output over invocations (matmul-kernel.ts): a workgroup owns `uniform`
// consecutive indices of one output axis (every invocation of the workgroup reads the same operand values
// along it) and each invocation MATMUL_REG consecutive indices of the other (its lane axis). An operand on
// the uniform side is evaluated once per workgroup along the lane axis, ⌈lane extent / (MATMUL_REG ·
// wg_size)⌉ times in all, each time for all lanes; an operand on the lane side ⌈uniform extent / uniform⌉
// times. The side with the costlier operand expression (a fused prologue such as PKT's gradient) is
// therefore put on the lane axis: rows (the left operand's side) are uniform unless the left operand costs
// more than the right (`swap`: columns uniform, rows across lanes).
//
// A matrix-vector product (one output axis of extent 1) has no second axis to share loads along; its operand
// rows are often gathered (CRD's memory-bank rows), and a register tile would walk one gathered row per step,
// each a cache miss the invocation waits for. It is laid out along K instead (`alongK`): a workgroup owns
// MATVEC_ROWS outputs, its invocations split K (invocation l takes k = l, l + wg_size, …), so one step of the
// workgroup touches wg_size different k at once, and the partial sums are folded through workgroup memory.
import type { Dim, Graph } from '../../graph/types.js';
import { opKind } from '../../graph/ops/index.js';
import { MATMUL_REG, MATMUL_REG_NARROW, MATMUL_ROWS, MATVEC_MIN_K, MATVEC_ROWS } from './geometry.js';

export interface MatmulLayout {
  /** Output indices per workgroup along the uniform axis. */
  uniform: number;
  /** Output indices per invocation along the lane axis: MATMUL_REG (MATMUL_REG_NARROW under a narrow uniform axis), or
   *  the lane extent when it is a smaller constant. */
  reg: number;
  /** Columns (not rows) are the uniform axis; with alongK, the outputs run along the columns (one row). */
  swap: boolean;
  /** Matrix-vector product: outputs per workgroup, K split across its invocations (matmul-kernel.ts). */
  alongK?: number;
}

/** Arithmetic ops evaluated per element of the expression rooted at `root` (loaded values cost nothing). */
function expressionOps(g: Graph, root: number, loaded: (id: number) => boolean, cap = 64): number {
  const seen = new Set<number>();
  let ops = 0;
  const visit = (id: number): void => {
    if (seen.has(id) || loaded(id) || ops > cap) return;
    seen.add(id);
    const n = g.nodes[id]!;
    const k = opKind(n.op);
    if (k !== 'source' && k !== 'layout') ops++;
    for (const i of n.inputs) visit(i);
  };
  visit(root);
  return ops;
}

/**
 * Uniform indices per workgroup along an output axis of `extent`: MATMUL_ROWS, or the extent when it is a constant of
 * at most 8 (one group of the subgroup variant's shuffles). An extent between 8 and MATMUL_ROWS still gets MATMUL_ROWS
 * (the rows past it read clamped indices and are not stored): a multiple of 8 keeps the subgroup variant, and one
 * workgroup with two shuffled loads per k costs less than two with one each.
 */
function uniformCount(extent: Dim): number {
  return typeof extent === 'number' && extent <= 8 ? Math.max(1, extent) : MATMUL_ROWS;
}

export function matmulLayout(g: Graph, node: number, loaded: (id: number) => boolean): MatmulLayout {
  const n = g.nodes[node]!;
  const [a, b] = n.inputs as [number, number];
  const r = n.shape.length;
  const [M, N] = [n.shape[r - 2]!, n.shape[r - 1]!];
  const sa = g.nodes[a]!.shape;
  const K = sa[sa.length - 1]!;
  // a matrix-vector product whose K is longer than its output (CRD's backward, [128, 2049] · [2049]): K across
  // lanes; a long output over a short K (CRD's forward, [2049, 128] · [128]) keeps the register tile, whose
  // invocations each stream their own rows along K. Symbolic extents are taken as long (batch sizes).
  const R = N === 1 ? M : N;
  const longer = (x: Dim, y: Dim): boolean => (typeof x === 'number' ? typeof y === 'number' && x > y && x >= MATVEC_MIN_K : typeof y === 'number');
  if ((N === 1 || M === 1) && M !== N && longer(K, R)) return { uniform: 1, reg: 1, swap: N !== 1, alongK: MATVEC_ROWS };
  const swap = expressionOps(g, a, loaded) > expressionOps(g, b, loaded);
  const lane = n.shape[swap ? r - 2 : r - 1]!;
  const uniform = uniformCount(n.shape[swap ? r - 1 : r - 2]!);
  const cap = uniform < MATMUL_ROWS ? MATMUL_REG_NARROW : MATMUL_REG;
  return { uniform, reg: typeof lane === 'number' ? Math.max(1, Math.min(cap, lane)) : cap, swap };
}
