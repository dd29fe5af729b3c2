// Sweeps inside each row kernel (after order.ts): which pass over the row computes each reduction, which
// Σ exp(x − max) sums run online with their max, and the pass that writes the element outputs.
import type { Graph } from '../../graph/types.js';
import { softmaxMax } from '../../graph/row-patterns.js';
import { sameDims } from './domains.js';
import type { Group } from './kernel-graph.js';

export interface Sweeps {
  /** Sweep of each reduction inside its row kernel. */
  phase: Map<number, number>;
  /** Σ exp(x − max) reductions computed online with their max: sum node → max node. */
  online: Map<number, number>;
  /** The sweep that writes a row kernel's element outputs (after its last sweep when absent from reductions). */
  elemPhase: Map<Group, number>;
}

/**
 * Sweeps of each row kernel. A reduction runs in the sweep after the last one whose results it reads;
 * Σ exp(x − max x) runs in the same sweep as its max (online softmax: the partial sum is rescaled when the
 * running max grows); reductions nothing in the kernel reads (results for other kernels) run as late as
 * possible, sharing the sweep that writes the element outputs.
 */
export function assignSweeps(g: Graph, groups: readonly Group[], groupOf: ReadonlyMap<number, Group>): Sweeps {
  const phase = new Map<number, number>();
  const online = new Map<number, number>();
  const elemPhase = new Map<Group, number>();
  for (const grp of groups) {
    if (grp.kind !== 'row') continue;
    const reds = grp.units.filter((u) => u.kind === 'reduce').sort((a, b) => a.node - b.node);
    const inGroup = (v: number) => groupOf.get(v) === grp && phase.has(v);
    for (const u of reds) {
      const partner = onlinePartner(g, u.node, (v) => groupOf.get(v) === grp);
      let p = 0;
      for (const v of u.refs.keys()) if (inGroup(v) && v !== partner) p = Math.max(p, phase.get(v)! + 1);
      if (partner !== undefined && phase.get(partner)! >= p) {
        online.set(u.node, partner);
        p = phase.get(partner)!;
      } else if (partner !== undefined) p = Math.max(p, phase.get(partner)! + 1);
      phase.set(u.node, p);
    }
    // who reads each reduction inside the kernel
    const readers = new Map<number, number>();
    for (const u of grp.units) {
      if (u.at === 'row') continue;
      for (const v of u.refs.keys()) if (groupOf.get(v) === grp && v !== u.node && online.get(u.node) !== v) readers.set(v, (readers.get(v) ?? 0) + 1);
    }
    const elems = grp.units.filter((u) => (u.kind === 'root' || u.kind === 'elementwise') && u.at === 'elem');
    if (elems.length) {
      let ep = 0;
      for (const u of elems) for (const v of u.refs.keys()) if (inGroup(v)) ep = Math.max(ep, phase.get(v)! + 1);
      elemPhase.set(grp, ep);
    }
    const last = elems.length ? elemPhase.get(grp)! : Math.max(0, ...reds.map((u) => phase.get(u.node)!));
    for (const u of reds) {
      if (readers.has(u.node) || online.has(u.node) || [...online.values()].includes(u.node)) continue;
      phase.set(u.node, Math.max(phase.get(u.node)!, last));
    }
  }
  return { phase, online, elemPhase };
}

/** For Σ exp(x − max(x)) (through detach/broadcast/reshape of the max) with the max in the same kernel: the max reduction. */
function onlinePartner(g: Graph, z: number, sameGroup: (v: number) => boolean): number | undefined {
  const m = softmaxMax((id) => g.nodes[id]!, z);
  if (m === undefined || !sameGroup(m)) return undefined;
  const d = g.nodes[g.nodes[g.nodes[z]!.inputs[0]!]!.inputs[0]!]!; // x − max
  return sameDims(g.nodes[d.inputs[0]!]!.shape, d.shape) ? m : undefined;
}
