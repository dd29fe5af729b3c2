// How a matmul kernel lays its output over invocations (matmul-kernel.ts): a workgroup owns `uniform`
// consecutive indices of one output axis (every invocation of the workgroup reads the same operand values
// along it) and each invocation MATMUL_REG consecutive indices of the other (its lane axis). An operand on
// the uniform side is evaluated once per workgroup along the lane axis, ⌈lane extent / (MATMUL_REG ·
// wg_size)⌉ times in all, each time for all lanes; an operand on the lane side ⌈uniform extent / uniform⌉
// times. The side with the costlier operand expression (a fused prologue such as PKT's gradient) is
// therefore put on the lane axis: rows (the left operand's side) are uniform unless the left operand costs
// more than the right (`swap`: columns uniform, rows across lanes).
import type { Dim, Graph } from '../../graph/types.js';
import { opKind } from '../../graph/ops/index.js';
import { MATMUL_ROWS } from './geometry.js';

export interface MatmulLayout {
  /** Output indices per workgroup along the uniform axis. */
  uniform: number;
  /** Columns (not rows) are the uniform axis. */
  swap: boolean;
}

/** Arithmetic ops evaluated per element of the expression rooted at `root` (loaded values cost nothing). */
export function expressionOps(g: Graph, root: number, loaded: (id: number) => boolean, cap = 64): number {
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

/** Uniform indices per workgroup along an output axis of `extent`: MATMUL_ROWS, or the extent when it is a smaller constant. */
export function uniformCount(extent: Dim): number {
  return typeof extent === 'number' ? Math.max(1, Math.min(MATMUL_ROWS, extent)) : MATMUL_ROWS;
}

export function matmulLayout(g: Graph, node: number, loaded: (id: number) => boolean): MatmulLayout {
  const n = g.nodes[node]!;
  const [a, b] = n.inputs as [number, number];
  const swap = expressionOps(g, a, loaded) > expressionOps(g, b, loaded);
  const r = n.shape.length;
  return { uniform: uniformCount(n.shape[swap ? r - 1 : r - 2]!), swap };
}
