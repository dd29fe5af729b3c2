// The kernel graph: kernels (groups of units) and the dependences between them (a kernel depends on the
// kernels computing the units it reads). The first fusion pass makes one kernel per unit; the later passes
// (merge-reductions.ts, join-row-values.ts, place-roots.ts) each return a new graph with some kernels merged
// or roots placed, asking the queries here whether a merge keeps the graph acyclic.
import type { DomainAxis } from './kernel-spec.js';
import type { Unit } from './units.js';

export interface Group {
  id: number;
  kind: 'row' | 'map' | 'matmul' | 'serial';
  axes: DomainAxis[];
  units: Unit[];
}

export interface KernelGraph {
  /** Kernels, in creation order (execution order is decided by order.ts). */
  groups: Group[];
  /** Unit node → the kernel computing it (roots are stored by a kernel but computed by none). */
  groupOf: Map<number, Group>;
  /** The id of the next kernel created. */
  nextId: number;
}

/** One kernel per unit. */
export function kernelGraph(units: readonly Unit[]): KernelGraph {
  const groups: Group[] = [];
  const groupOf = new Map<number, Group>();
  for (const u of units) {
    const grp: Group = { id: groups.length, kind: u.kind === 'matmul' || u.kind === 'serial' ? u.kind : u.kind === 'elementwise' ? 'map' : 'row', axes: u.axes, units: [u] };
    groups.push(grp);
    groupOf.set(u.node, grp);
  }
  return { groups, groupOf, nextId: groups.length };
}

/** A copy a pass may change without touching its input (units are shared: passes replace them, never mutate). */
export function copyKernelGraph(kg: KernelGraph): KernelGraph {
  const copies = new Map(kg.groups.map((x) => [x, { ...x, units: [...x.units] }]));
  return { groups: kg.groups.map((x) => copies.get(x)!), groupOf: new Map([...kg.groupOf].map(([v, x]) => [v, copies.get(x)!])), nextId: kg.nextId };
}

/** The kernels `grp` reads from (with `alias`, the graph in which each key kernel is its value). */
export function dependencies(kg: KernelGraph, grp: Group, alias?: Map<Group, Group>): Set<Group> {
  const out = new Set<Group>();
  const self = alias?.get(grp) ?? grp;
  for (const u of grp.units)
    for (const v of u.refs.keys()) {
      let h = kg.groupOf.get(v);
      if (!h) continue;
      h = alias?.get(h) ?? h;
      if (h !== self) out.add(h);
    }
  return out;
}

/** Is the kernel graph acyclic when `a` and `b` are one kernel? */
export function acyclicMerged(kg: KernelGraph, a: Group, b: Group): boolean {
  const alias = new Map<Group, Group>([[a, b]]);
  const nodes = kg.groups.filter((x) => x !== a);
  const deps = new Map<Group, Set<Group>>();
  for (const x of nodes) deps.set(x, new Set());
  for (const x of kg.groups) {
    const target = alias.get(x) ?? x;
    for (const d of dependencies(kg, x, alias)) deps.get(target)!.add(d);
  }
  return !hasCycle(nodes, deps);
}

/** Does kernel `to` (transitively) read what kernel `from` computes (or is it `from`)? */
export function reaches(kg: KernelGraph, from: Group, to: Group): boolean {
  const succ = new Map<Group, Group[]>();
  for (const x of kg.groups) for (const d of dependencies(kg, x)) succ.set(d, [...(succ.get(d) ?? []), x]);
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
