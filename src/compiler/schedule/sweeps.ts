// Sweeps inside each row kernel (after order.ts): which pass over the row computes each reduction, which
// Σ exp(x − max) sums run online with their max, and the pass that writes the element outputs.
import type { Graph } from '../../graph/types.js';
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

/** For Σ exp(x − max(x)) (through detach/broadcast/reshape of the max): the max reduction. */
function onlinePartner(g: Graph, z: number, sameGroup: (v: number) => boolean): number | undefined {
  const n = g.nodes[z]!;
  if (n.op !== 'reduce' || n.attrs.fn !== 'sum' || n.dtype !== 'float') return undefined;
  const e = g.nodes[n.inputs[0]!]!;
  if (e.op !== 'unary' || e.attrs.fn !== 'exp') return undefined;
  const d = g.nodes[e.inputs[0]!]!;
  if (d.op !== 'binary' || d.attrs.fn !== 'sub') return undefined;
  const [a, v] = d.inputs as [number, number];
  let m = g.nodes[v]!;
  while (m.op === 'detach' || m.op === 'broadcast' || m.op === 'reshape') m = g.nodes[m.inputs[0]!]!;
  if (m.op !== 'reduce' || m.attrs.fn !== 'max' || m.inputs[0] !== a || !sameGroup(m.id)) return undefined;
  if (!sameDims(g.nodes[a]!.shape, d.shape) || m.attrs.axes.join() !== n.attrs.axes.join()) return undefined;
  return m.id;
}
