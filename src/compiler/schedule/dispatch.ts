// The dispatch formula of each kernel: its workgroup counts as dims of the plan symbols and of its own
// workgroup size override (the runtime evaluates them with the value it chose).
import { ceilDivDims, minDims, mulDims } from '../../graph/dims.js';
import type { Dim, Graph } from '../../graph/types.js';
import { columnInvocations, MAP_ELEMS, mapGrid, serialWorkgroups } from './geometry.js';
import type { MatmulLayout } from './matmul-layout.js';
import type { MapLayout } from './map-layout.js';
import { groupReads, isColumnPass } from './row-layout.js';
import type { Group } from './kernel-graph.js';
import { WG_SIZE_DIM } from './workgroup.js';

const MAX_WORKGROUPS = 65535;

/**
 * Workgroup counts: rows (row kernels; ⌈rows / wg_size⌉ for column passes, ⌈rows / 4 / wg_size⌉ over quads of rows,
 * row-layout.ts), ⌈elements / (elements per invocation along the loop axis) / wg_size⌉ (map: map-layout.ts; / 4 more
 * over quads of an outer-loop map's inner positions), output tiles × batch
 * (matmul: tiles of reg·wg_size lane indices × `uniform` indices; matrix-vector: blocks of `alongK` outputs); x ≤ 65535, the rest in y. `wg_size` is the kernel's override
 * constant: the runtime evaluates these with the value it chose.
 */
export function dispatchOf(grp: Group, g: Graph, layout: MatmulLayout | undefined, mapped?: MapLayout): [Dim, Dim, Dim] {
  if (layout) {
    const s = g.nodes[grp.units[0]!.node]!.shape;
    const r = s.length;
    if (layout.alongK) return [ceilDivDims(s[layout.swap ? r - 1 : r - 2]!, layout.alongK), 1, mulDims(...s.slice(0, -2))];
    const [lane, uniform] = layout.swap ? [s[r - 2]!, s[r - 1]!] : [s[r - 1]!, s[r - 2]!];
    return [ceilDivDims(lane, mulDims(layout.reg, WG_SIZE_DIM)), ceilDivDims(uniform, layout.uniform), mulDims(...s.slice(0, -2))];
  }
  if (grp.kind === 'serial') {
    const count = serialWorkgroups(g.nodes[grp.units[0]!.node]!);
    return [minDims(count, MAX_WORKGROUPS), ceilDivDims(count, MAX_WORKGROUPS), 1];
  }
  const rows = mulDims(...grp.axes.filter((a) => !a.reduced).map((a) => a.dim));
  const count =
    grp.kind === 'row'
      ? isColumnPass(grp.axes, groupReads(grp, g))
        ? ceilDivDims(columnInvocations(grp.axes), WG_SIZE_DIM)
        : rows
      : ceilDivDims(mulDims(...mapGrid(grp.axes, mapped?.loopAxis ?? grp.axes.length - 1, mapped?.elems ?? MAP_ELEMS)), WG_SIZE_DIM);
  return [minDims(count, MAX_WORKGROUPS), ceilDivDims(count, MAX_WORKGROUPS), 1];
}
