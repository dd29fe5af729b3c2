// Fusion by iteration domain. Units are the nodes that need their own loop structure: reductions (a row
// kernel: one workgroup per row), matmuls (a tiled kernel) and the stored roots (gradients, loss, terms).
// Everything else inlines into whichever unit reads it. Units of the same domain merge into one kernel when
// every read between them is of the current row and the kernel graph stays acyclic; the biggest domains
// merge first, so forward and backward row statistics end up in one pass and whole-batch scalars in a
// small dispatch after it. Roots then join the kernel that produces what they read (as element outputs over
// the domain or per-row outputs), or get an elementwise kernel of their own.
import { isOneDim as isOne } from '../../graph/dims.js';
import type { Graph, Shape } from '../../graph/types.js';
import type { DomainAxis } from './kernel-spec.js';
import { coord, isRowIndex } from './coords.js';
import { DependenceAnalysis, domainWork, elementAxes, sameDims, sameDomain, type Refs } from './domains.js';

export type RootTarget =
  | { kind: 'grad'; input: string; index: number }
  | { kind: 'scalar'; slot: number; label: string }
  | { kind: 'state'; name: string; index: number };

export interface Unit {
  node: number;
  /** elementwise: a value computed and stored by a kernel of its own (unfused mode, or promoted because a
   *  unit reading it directly would bind too many buffers). */
  /** serial: a sort / cholesky / triangular_solve (a kernel of its own, one workgroup per matrix or row). */
  kind: 'reduce' | 'matmul' | 'elementwise' | 'serial' | 'root';
  axes: DomainAxis[];
  /** Reads of other units; for roots, at the coordinates of their placement. */
  refs: Refs;
  target?: RootTarget;
  /** Roots in a row kernel: element output over the domain, or one value per row. */
  at?: 'elem' | 'row';
}

export interface Group {
  id: number;
  kind: 'row' | 'map' | 'matmul' | 'serial';
  axes: DomainAxis[];
  units: Unit[];
}

export interface Partition {
  /** Kernels in execution order. */
  groups: Group[];
  /** Sweep of each reduction inside its row kernel. */
  phase: Map<number, number>;
  /** Σ exp(x − max) reductions computed online with their max: sum node → max node. */
  online: Map<number, number>;
  /** The sweep that writes a row kernel's element outputs (after its last sweep when absent from reductions). */
  elemPhase: Map<Group, number>;
  /** Unit node → its group. */
  groupOf: Map<number, Group>;
}

export function nonOneDims(shape: Shape) {
  return shape.filter((d) => !isOne(d));
}

export function partition(
  g: Graph,
  analysis: DependenceAnalysis,
  units: Unit[],
  roots: Unit[],
  opts: { fuse: boolean; maxBindings: number; conservative?: boolean },
): Partition {
  let groups: Group[] = [];
  const groupOf = new Map<number, Group>();
  let nextId = 0;
  for (const u of units) {
    const grp: Group = { id: nextId++, kind: u.kind === 'matmul' || u.kind === 'serial' ? u.kind : u.kind === 'elementwise' ? 'map' : 'row', axes: u.axes, units: [u] };
    groups.push(grp);
    groupOf.set(u.node, grp);
  }

  const depsOf = (grp: Group, alias?: Map<Group, Group>): Set<Group> => {
    const out = new Set<Group>();
    const self = alias?.get(grp) ?? grp;
    for (const u of grp.units)
      for (const v of u.refs.keys()) {
        let h = groupOf.get(v);
        if (!h) continue;
        h = alias?.get(h) ?? h;
        if (h !== self) out.add(h);
      }
    return out;
  };

  /** Is the group graph acyclic when `a` and `b` are one group? */
  const acyclicMerged = (a: Group, b: Group): boolean => {
    const alias = new Map<Group, Group>([[a, b]]);
    const nodes = groups.filter((x) => x !== a);
    const deps = new Map<Group, Set<Group>>();
    for (const x of nodes) deps.set(x, new Set());
    for (const x of groups) {
      const target = alias.get(x) ?? x;
      for (const d of depsOf(x, alias)) deps.get(target)!.add(d);
    }
    return !hasCycle(nodes, deps);
  };

  /** Storage buffers a kernel of these units binds: inputs and other kernels' results it reads, its output
   *  buffers, and the results it stores for others — every one of them (conservative), or only those other
   *  reductions/matmuls read (optimistic: the roots that read the rest are expected to join the kernel). */
  const bindings = (members: Unit[]): number => {
    const own = new Set(members.filter((u) => u.kind !== 'root').map((u) => u.node));
    const read = new Set<number>();
    for (const u of members) for (const v of u.refs.keys()) if (!own.has(v)) read.add(v);
    const targets = new Set(members.filter((u) => u.kind === 'root').map((u) => (u.target?.kind === 'grad' ? `g${u.target.index}` : u.target?.kind === 'state' ? `s${u.target.index}` : 'scalars')));
    let stored = own.size;
    if (!opts.conservative) {
      const mine = new Set(members);
      const dom = members.find((u) => u.kind === 'reduce')?.axes;
      // same-domain reductions are expected to merge in as well
      const readers = [...new Set(groupOf.values())]
        .flatMap((grp) => grp.units)
        .filter((u) => u.kind !== 'root' && !mine.has(u) && !(u.kind === 'reduce' && dom && sameDomain(u.axes, dom)));
      stored = [...own].filter((v) => readers.some((u) => u.refs.has(v))).length;
    }
    return read.size + stored + targets.size;
  };
  const fits = (members: Unit[]) => bindings(members) <= opts.maxBindings;

  /** Every read between these units of a reduction among them is a read of the current row (structurally). */
  const rowLocal = (members: Unit[]): boolean => {
    const nodes = new Set(members.filter((u) => u.kind === 'reduce').map((u) => u.node));
    for (const u of members)
      for (const [v, keys] of u.refs) {
        if (!nodes.has(v)) continue;
        for (const idx of keys) if (!isRowIndex(g, v, idx)) return false;
      }
    return true;
  };

  if (opts.fuse) {
    // merge reductions of equal domains, biggest domains first
    const order = [...units]
      .filter((u) => u.kind === 'reduce')
      .sort((a, b) => domainWork(b.axes) - domainWork(a.axes) || a.node - b.node);
    for (let i = 0; i < order.length; i++)
      for (let j = i + 1; j < order.length; j++) {
        const a = groupOf.get(order[i]!.node)!;
        const b = groupOf.get(order[j]!.node)!;
        if (a === b || !sameDomain(a.axes, b.axes)) continue;
        const members = [...a.units, ...b.units];
        if (!fits(members) || !rowLocal(members) || !acyclicMerged(a, b)) continue;
        // merge b into a
        a.units.push(...b.units);
        for (const u of b.units) groupOf.set(u.node, a);
        groups = groups.filter((x) => x !== b);
      }
  }

  // row values (index.ts): join the row kernel over their rows that computes the statistics they read, and
  // are stored there one per row
  if (opts.fuse)
    for (const u of units) {
      if (u.kind !== 'elementwise' || u.at !== 'row') continue;
      const own = groupOf.get(u.node)!;
      const dims = nonOneDims(g.nodes[u.node]!.shape);
      for (const grp of groups) {
        if (grp === own || grp.kind !== 'row' || !grp.units.some((x) => x.kind === 'reduce')) continue;
        const keptK = grp.axes.map((a, k) => (a.reduced ? -1 : k)).filter((k) => k >= 0);
        if (keptK.length === grp.axes.length || !sameDims(dims, keptK.map((k) => grp.axes[k]!.dim))) continue;
        const refs = analysis.storeRefs(u.node, keptK.map(coord), u.node);
        if (![...refs.keys()].some((v) => groupOf.get(v) === grp)) continue;
        const moved: Unit = { ...u, refs };
        const members = [...grp.units, moved];
        if (!fits(members) || !rowLocal(members) || !acyclicMerged(grp, own)) continue;
        grp.units.push(moved);
        groupOf.set(u.node, grp);
        groups = groups.filter((x) => x !== own);
        break;
      }
    }

  // roots: join the row kernel that computes what they read, else an elementwise kernel
  const reaches = (from: Group, to: Group): boolean => {
    const succ = new Map<Group, Group[]>();
    for (const x of groups) for (const d of depsOf(x)) succ.set(d, [...(succ.get(d) ?? []), x]);
    const seen = new Set<Group>();
    const stack = [from];
    while (stack.length) {
      const x = stack.pop()!;
      if (x === to) return true;
      if (seen.has(x)) continue;
      seen.add(x);
      stack.push(...(succ.get(x) ?? []));
    }
    return false;
  };
  for (const r of roots) {
    const shapeDims = nonOneDims(g.nodes[r.node]!.shape);
    let best: { grp: Group; at: 'elem' | 'row'; refs: Refs; score: number } | undefined;
    if (opts.fuse)
      for (const grp of groups) {
        if (grp.kind !== 'row' || !grp.units.some((u) => u.kind === 'reduce')) continue;
        const all = grp.axes.map((a) => a.dim);
        const keptK = grp.axes.map((a, k) => (a.reduced ? -1 : k)).filter((k) => k >= 0);
        let at: 'elem' | 'row' | undefined;
        let refs: Refs | undefined;
        if (sameDims(shapeDims, all)) {
          at = 'elem';
          refs = r.refs;
        } else if (sameDims(shapeDims, keptK.map((k) => grp.axes[k]!.dim))) {
          at = 'row';
          refs = analysis.storeRefs(r.node, keptK.map(coord));
        }
        if (!at || !refs) continue;
        if (!fits([...grp.units, { ...r, refs }]) || !rowLocal([...grp.units, { ...r, refs }])) continue;
        const others = new Set([...refs.keys()].map((v) => groupOf.get(v)).filter((h): h is Group => h !== undefined && h !== grp));
        if ([...others].some((h) => reaches(grp, h))) continue;
        const score = [...refs.keys()].filter((v) => groupOf.get(v) === grp).length * 1e12 + domainWork(grp.axes);
        if (!best || score > best.score) best = { grp, at, refs, score };
      }
    if (best) {
      best.grp.units.push({ ...r, refs: best.refs, at: best.at });
      continue;
    }
    const axes = elementAxes(g.nodes[r.node]!.shape);
    const joinable = (x: Group) => {
      if (x.kind !== 'map' || !sameDomain(x.axes, axes) || !fits([...x.units, r])) return false;
      // never read a value the same kernel computes; never depend on something that depends on it
      if ([...r.refs.keys()].some((v) => groupOf.get(v) === x)) return false;
      return ![...r.refs.keys()].some((v) => {
        const h = groupOf.get(v);
        return h !== undefined && reaches(x, h);
      });
    };
    let m = opts.fuse ? groups.find(joinable) : undefined;
    if (!m) {
      m = { id: nextId++, kind: 'map', axes, units: [] };
      groups.push(m);
    }
    m.units.push({ ...r, at: 'elem' });
  }

  // execution order: topological, ties by the smallest node computed
  const deps = new Map(groups.map((x) => [x, depsOf(x)]));
  const minNode = (x: Group) => Math.min(...x.units.map((u) => u.node));
  const ordered: Group[] = [];
  const placed = new Set<Group>();
  while (ordered.length < groups.length) {
    const ready = groups.filter((x) => !placed.has(x) && [...deps.get(x)!].every((d) => placed.has(d)));
    if (!ready.length) throw new Error('kernel graph has a cycle');
    ready.sort((a, b) => minNode(a) - minNode(b) || a.id - b.id);
    placed.add(ready[0]!);
    ordered.push(ready[0]!);
  }

  const { phase, online, elemPhase } = assignSweeps(g, ordered, groupOf);
  return { groups: ordered, phase, online, elemPhase, groupOf };
}

/**
 * Sweeps of each row kernel. A reduction runs in the sweep after the last one whose results it reads;
 * Σ exp(x − max x) runs in the same sweep as its max (online softmax: the partial sum is rescaled when the
 * running max grows); reductions nothing in the kernel reads (results for other kernels) run as late as
 * possible, sharing the sweep that writes the element outputs.
 */
function assignSweeps(g: Graph, groups: Group[], groupOf: Map<number, Group>) {
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
    const elems = grp.units.filter((u) => u.kind === 'root' && u.at === 'elem');
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

function hasCycle(nodes: Group[], deps: Map<Group, Set<Group>>): boolean {
  const state = new Map<Group, 1 | 2>();
  const visit = (x: Group): boolean => {
    const s = state.get(x);
    if (s === 2) return false;
    if (s === 1) return true;
    state.set(x, 1);
    for (const d of deps.get(x) ?? []) if (visit(d)) return true;
    state.set(x, 2);
    return false;
  };
  return nodes.some(visit);
}

