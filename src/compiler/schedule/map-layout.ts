// Which axis a map kernel's invocations loop over. By default each invocation computes a few consecutive
// elements of the innermost axis. When the values it loads are mostly constant along another axis (AT's
// gradient: s[n, c, h, w] · f(n, h, w), where f reads the row statistics at (n, h, w) and costs a dozen
// operations), the invocation loops over that axis instead, with consecutive invocations on consecutive
// positions of the innermost axis (loads stay contiguous across a workgroup's lanes): the loads that do not
// depend on the loop axis, and everything computed from them, are then hoisted out of the loop (the
// emitter's scopes do it) and computed once per invocation instead of once per element.
import { coordName } from './coords.js';
import { ixVars } from './index-expr.js';
import type { DomainAxis } from './kernel-spec.js';
import type { Refs } from './domains.js';
import { MAP_ELEMS } from './geometry.js';

/** Elements per invocation when the loop runs over an outer axis: the whole axis up to this many (on lavapipe,
 *  AT's gradient over [64, 256, 14, 14] ran 3–5× faster with the whole 256 per invocation than with 16). */
const MAP_OUTER_ELEMS = 256;

/** An outer axis shorter than this is not worth looping over (too little hoisted work shared). */
const MIN_OUTER_LOOP = 8;

export interface MapLayout {
  /** The domain axis each invocation loops over. */
  loopAxis: number;
  /** Consecutive elements of that axis per invocation. */
  elems: number;
}

/**
 * The map layout for a domain whose stored values read `refs` (each read's index over the domain
 * coordinates): loop over the axis that the most reads do not depend on, when that beats the innermost axis
 * and is not itself the innermost.
 */
/** Invocations along the innermost axis, MAP_ELEMS consecutive elements each. */
export function innermostMapLayout(axes: readonly DomainAxis[]): MapLayout {
  return { loopAxis: Math.max(0, axes.length - 1), elems: MAP_ELEMS };
}

export function mapLayout(axes: readonly DomainAxis[], refs: readonly Refs[]): MapLayout {
  const last = axes.length - 1;
  const innermost = innermostMapLayout(axes);
  if (axes.length < 2) return innermost;
  const reads: Set<string>[] = [];
  for (const r of refs) for (const idxs of r.values()) for (const idx of idxs) reads.push(new Set(idx.flatMap((i) => ixVars(i))));
  const hoisted = (k: number) => reads.filter((vs) => !vs.has(coordName(k))).length;
  let best = last;
  for (let k = 0; k < last; k++) {
    const d = axes[k]!.dim;
    if (typeof d === 'number' && d < MIN_OUTER_LOOP) continue; // too short to share the hoisted work
    if (hoisted(k) > hoisted(best)) best = k;
  }
  if (best === last) return innermost;
  const d = axes[best]!.dim;
  return { loopAxis: best, elems: typeof d === 'number' ? Math.min(d, MAP_OUTER_ELEMS) : MAP_OUTER_ELEMS };
}
