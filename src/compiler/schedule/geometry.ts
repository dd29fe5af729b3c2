// The shape of each kernel kind's work, decided by the scheduler (the dispatch formulas depend on it) and
// carried in the kernel specs for codegen to follow.
import { mulDims } from '../../graph/dims.js';
import type { Dim, Node } from '../../graph/types.js';

/** Map kernels: consecutive elements of the innermost axis per invocation (outer coordinates computed once). */
export const MAP_ELEMS = 8;

/** Matmul kernels: output elements per invocation along each of the two matrix axes. */
export const MATMUL_REG = 4;

/** Workgroups a serial kernel needs: one per matrix (batch dims of the output) or per sorted row. */
export function serialWorkgroups(n: Node): Dim {
  if (n.op === 'sort') return mulDims(...n.shape.filter((_, k) => k !== n.attrs.axis));
  return mulDims(...n.shape.slice(0, -2));
}
