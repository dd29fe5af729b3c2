// How a row kernel walks its rows. By default one workgroup reduces one row, its lanes striding along the
// reduced axes. When the reduced axes are not the innermost ones (AT's channel mean over [N, C, H, W]), that
// stride is a whole H·W plane: every lane of every step loads its own cache line. Such kernels run as column
// passes instead: one invocation per row, reducing it serially, with consecutive invocations on consecutive
// rows — consecutive positions along the innermost (kept, contiguous) axis — so the lanes of a workgroup load
// neighbouring addresses at every step, and no partials are combined (no workgroup memory, no barriers).
import { mulDims } from '../../graph/dims.js';
import type { Dim } from '../../graph/types.js';
import type { DomainAxis } from './kernel-spec.js';

/** Column passes need at least this many consecutive rows along the innermost axis (known at compile time, or symbolic). */
const MIN_COLUMN_RUN = 8;

/** Does the row kernel over `axes` run one invocation per row (a column pass)? */
export function isColumnPass(axes: readonly DomainAxis[]): boolean {
  if (!axes.length || axes[axes.length - 1]!.reduced || !axes.some((a) => a.reduced)) return false;
  // the kept axes after the last reduced one: the rows that lie next to each other in memory
  let k = axes.length;
  while (k > 0 && !axes[k - 1]!.reduced) k--;
  const run: Dim = mulDims(...axes.slice(k).map((a) => a.dim));
  return typeof run !== 'number' || run >= MIN_COLUMN_RUN;
}
