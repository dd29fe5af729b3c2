// How a row kernel walks its rows. By default one workgroup reduces one row, its lanes striding along the
// reduced axes. When the reduced axes are not the ones contiguous in memory, that stride is a whole plane or
// row of the tensors read: AT's channel mean over [N, C, H, W] (stride H·W), DIST's per-class statistics over
// the batch, a row pass over the transposed [C, N] view of [N, C] probabilities (stride C). Every lane of every
// step then loads its own cache line. Such kernels run as column passes instead: one invocation per row,
// reducing it serially, with consecutive invocations on consecutive rows — consecutive positions along the kept
// axis that is contiguous in memory — so the lanes of a workgroup load neighbouring addresses at every step,
// and no partials are combined (no workgroup memory, no barriers). Where those rows number a multiple of 4, an
// invocation takes 4 consecutive ones (geometry.ts columnQuads), their elements read as vec4s.
import { isOneDim, mulDims } from '../../graph/dims.js';
import type { Dim, Graph } from '../../graph/types.js';
import { coordName } from './coords.js';
import { ixVars, type Ix } from './index-expr.js';
import type { Group } from './kernel-graph.js';
import type { DomainAxis } from './kernel-spec.js';

/** Column passes need at least this many consecutive rows along the contiguous kept axis (known at compile time, or symbolic). */
const MIN_COLUMN_RUN = 8;

/** A read of a tensor by a kernel: the tensor's shape and the index over the domain coordinates it is read at. */
export interface Read {
  shape: readonly Dim[];
  idx: readonly Ix[];
}

/** Every read of the units of kernel `grp` from memory: of other kernels' values and of graph inputs (a value the
 *  kernel computes itself is in registers where its units read it, even when the kernel also stores it). */
export function groupReads(grp: Group, g: Graph): Read[] {
  const own = new Set(grp.units.filter((u) => u.kind !== 'root').map((u) => u.node));
  return grp.units.flatMap((u) => [...u.refs].flatMap(([node, idxs]) => (own.has(node) ? [] : idxs.map((idx) => ({ shape: g.nodes[node]!.shape, idx })))));
}

/**
 * Does the row kernel over `axes` run one invocation per row (a column pass)? When the domain's innermost axis
 * is kept, yes (its reads follow the domain's order: AT's [N, C, H, W] reducing C). When it is reduced, only if
 * every read that moves along the reduced axes has the last kept axis — the one consecutive rows walk — as its
 * innermost (non-1) index: the domain is a transposed view of what it reads (DIST's [C, N] over [N, C]).
 * Square domains whose reads disagree (RKD's pair matrices read both ways) keep their workgroup rows.
 */
export function isColumnPass(axes: readonly DomainAxis[], reads: readonly Read[] = []): boolean {
  const lastKept = axes.map((a) => !a.reduced).lastIndexOf(true);
  if (lastKept < 0 || !axes.some((a) => a.reduced)) return false;
  if (lastKept === axes.length - 1) return longRun(axes, lastKept);
  const reduced = new Set(axes.flatMap((a, k) => (a.reduced ? [coordName(k)] : [])));
  // reads made once per row (not along the reduced axes) do not count
  const moving = reads.filter((r) => r.idx.some((i) => ixVars(i).some((v) => reduced.has(v))));
  const transposed = (r: Read): boolean => {
    let p = r.shape.length - 1;
    while (p > 0 && isOneDim(r.shape[p]!)) p--;
    const inner = ixVars(r.idx[p]!);
    return inner.includes(coordName(lastKept)) && !inner.some((v) => reduced.has(v));
  };
  return moving.length > 0 && moving.every(transposed) && longRun(axes, lastKept);
}

/** Enough rows next to each other in memory: the kept axes up to `last`, after the reduced axis before it. */
function longRun(axes: readonly DomainAxis[], last: number): boolean {
  let k = last + 1;
  while (k > 0 && !axes[k - 1]!.reduced) k--;
  const run: Dim = mulDims(...axes.slice(k, last + 1).map((a) => a.dim));
  return typeof run !== 'number' || run >= MIN_COLUMN_RUN;
}
