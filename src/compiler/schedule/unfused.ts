// The unfused partition (the benchmark baseline): one kernel per primitive op, every intermediate stored.
import type { Graph } from '../../graph/types.js';
import { opKind } from '../../graph/ops/index.js';
import { alignedIndex, coord } from './coords.js';
import { DependenceAnalysis, elementAxes, reductionAxes, type Refs } from './domains.js';
import type { DimValue } from './prepare.js';
import type { Group } from './kernel-graph.js';
import type { Partition } from './partition.js';
import { isScatter, rootRefs, type RootDecl } from './units.js';

/**
 * One kernel per op: every node but inputs, constants and dim values is computed by its own kernel and stored.
 * A dim value (a sum over a broadcast constant, `scale · Π dims`, which may be negative: `N - 5`) is computed
 * where it is read, as in fused kernels; the broadcast it sums over is never stored (its size is that value).
 */
export function unfusedPartition(g: Graph, roots: readonly RootDecl[], dimValues: ReadonlyMap<number, DimValue>): Partition {
  const inline = dimValueOperands(g, roots, dimValues);
  const computed = (id: number) => g.nodes[id]!.op !== 'input' && g.nodes[id]!.op !== 'const' && !inline.has(id);
  const an = new DependenceAnalysis(g, computed, dimValues);
  const groups: Group[] = [];
  const groupOf = new Map<number, Group>();
  const phase = new Map<number, number>();
  for (const n of g.nodes) {
    if (!computed(n.id)) continue;
    let grp: Group;
    const kind = opKind(n.op);
    if (kind === 'reduction') {
      grp = { id: groups.length, kind: 'row', axes: reductionAxes(g, n.id), units: [{ node: n.id, kind: 'reduce', axes: reductionAxes(g, n.id), refs: an.reductionRefs(n.id) }] };
      phase.set(n.id, 0);
    } else if (kind === 'contraction') {
      grp = { id: groups.length, kind: 'matmul', axes: elementAxes(n.shape), units: [{ node: n.id, kind: 'matmul', axes: elementAxes(n.shape), refs: an.matmulRefs(n.id) }] };
    } else if (kind === 'serial') {
      grp = { id: groups.length, kind: 'serial', axes: elementAxes(n.shape), units: [{ node: n.id, kind: 'serial', axes: elementAxes(n.shape), refs: an.matmulRefs(n.id) }] };
    } else {
      const axes = elementAxes(n.shape);
      const idx = axes.map((_, k) => coord(k));
      // the node's own value is computed here: its inputs are the dependences
      const refs: Refs = new Map();
      for (const [u, s] of an.refsAt(n.id, alignedIndex(n.shape, idx), n.id)) refs.set(u, s);
      grp = { id: groups.length, kind: 'map', axes, units: [{ node: n.id, kind: 'elementwise', axes, refs }] };
    }
    groups.push(grp);
    groupOf.set(n.id, grp);
  }
  // roots: stored by the kernel computing their node, or by a copy kernel (inputs, constants)
  const extra = new Map<string, Group>();
  const scatters: Group[] = [];
  for (const r of roots) {
    const shape = g.nodes[r.node]!.shape;
    const own = groupOf.get(r.node);
    const idx = alignedIndex(shape, elementAxes(shape).map((_, k) => coord(k)));
    if (isScatter(r)) {
      // an in-place state update: a kernel of its own, after every other (in-place-state.ts)
      const grp: Group = { id: groups.length, kind: 'map', axes: elementAxes(shape), units: [{ ...r, at: 'elem', refs: rootRefs(g, an, r) }] };
      groups.push(grp);
      scatters.push(grp);
      continue;
    }
    if (own && own.kind !== 'matmul' && own.kind !== 'serial') {
      const at = own.kind === 'row' ? 'row' : 'elem';
      // the node's own unit already carries its dependences
      own.units.push({ ...r, at, refs: new Map() });
      continue;
    }
    const key = elementAxes(shape).map((a) => JSON.stringify(a.dim)).join(',');
    let grp = extra.get(key);
    if (!grp) {
      grp = { id: groups.length, kind: 'map', axes: elementAxes(shape), units: [] };
      groups.push(grp);
      extra.set(key, grp);
    }
    grp.units.push({ ...r, at: 'elem', refs: an.refsAt(r.node, idx) });
  }
  const ordered = [...groups.filter((x) => !scatters.includes(x)), ...scatters];
  return { groups: ordered, phase, online: new Map(), elemPhase: new Map(), groupOf };
}


/** The dim values and the nodes only they read (their broadcast constants, transitively), which no kernel stores. */
function dimValueOperands(g: Graph, roots: readonly RootDecl[], dimValues: ReadonlyMap<number, DimValue>): Set<number> {
  const inline = new Set(dimValues.keys());
  const consumers = g.nodes.map(() => [] as number[]);
  for (const n of g.nodes) for (const i of n.inputs) consumers[i]!.push(n.id);
  const rooted = new Set(roots.map((r) => r.node));
  for (let id = g.nodes.length - 1; id >= 0; id--) {
    const users = consumers[id]!;
    if (!rooted.has(id) && users.length > 0 && users.every((u) => inline.has(u))) inline.add(id);
  }
  return inline;
}
