// Fusion pass 3: each stored root (gradient, loss, term, state) joins the row kernel that computes what it
// reads — as an element output over the kernel's domain or one value per row — preferring the kernel it reads
// most from, then the biggest domain; else an elementwise kernel over its shape (shared with other roots of
// that domain where no dependence forbids it).
import type { Graph } from '../../graph/types.js';
import { coord } from './coords.js';
import { domainWork, elementAxes, keptAxes, nonOneDims, sameDims, sameDomain, type DependenceAnalysis, type Refs } from './domains.js';
import { copyKernelGraph, reaches, type Group, type KernelGraph } from './kernel-graph.js';
import { rowLocal, withinBudget, type BindingBudget } from './candidate.js';
import { isScatter, readsCheckFlags, type Unit } from './units.js';
import { beforeChecks } from './check-order.js';

export function placeRoots(g: Graph, analysis: DependenceAnalysis, input: KernelGraph, roots: readonly Unit[], budget: BindingBudget, checked: ReadonlySet<number> = new Set()): KernelGraph {
  const kg = copyKernelGraph(input);
  const fits = (members: Unit[]) => withinBudget(kg, members, budget);
  const scatters = (x: Group) => x.units.some((u) => isScatter(u));
  for (const r of roots) {
    // a root storing state runs after the kernels storing computed indices (check-order.ts): not in one of them
    const excluded = (x: Group) => readsCheckFlags(r) && beforeChecks(kg, x, checked);
    if (isScatter(r)) {
      // a kernel of its own (shared only with other in-place updates of the same domain): it overwrites state
      // other kernels read, so order.ts runs it after them
      const axes = elementAxes(g.nodes[r.node]!.shape);
      let m = kg.groups.find((x) => x.kind === 'map' && scatters(x) && sameDomain(x.axes, axes) && fits([...x.units, r]));
      if (!m) {
        m = { id: kg.nextId++, kind: 'map', axes, units: [] };
        kg.groups.push(m);
      }
      m.units.push({ ...r, at: 'elem' });
      continue;
    }
    const shapeDims = nonOneDims(g.nodes[r.node]!.shape);
    let best: { grp: Group; at: 'elem' | 'row'; refs: Refs; score: number } | undefined;
    for (const grp of kg.groups) {
      if (grp.kind !== 'row' || !grp.units.some((u) => u.kind === 'reduce') || excluded(grp)) continue;
      const all = grp.axes.map((a) => a.dim);
      const keptK = keptAxes(grp.axes);
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
      if (!fits([...grp.units, { ...r, refs }]) || !rowLocal(g, [...grp.units, { ...r, refs }])) continue;
      const others = new Set([...refs.keys()].map((v) => kg.groupOf.get(v)).filter((h): h is Group => h !== undefined && h !== grp));
      if ([...others].some((h) => reaches(kg, grp, h))) continue;
      const score = [...refs.keys()].filter((v) => kg.groupOf.get(v) === grp).length * 1e12 + domainWork(grp.axes);
      if (!best || score > best.score) best = { grp, at, refs, score };
    }
    if (best) {
      best.grp.units.push({ ...r, refs: best.refs, at: best.at });
      continue;
    }
    const axes = elementAxes(g.nodes[r.node]!.shape);
    const joinable = (x: Group) => {
      if (x.kind !== 'map' || scatters(x) || !sameDomain(x.axes, axes) || !fits([...x.units, r]) || excluded(x)) return false;
      // never read a value the same kernel computes; never depend on something that depends on it
      if ([...r.refs.keys()].some((v) => kg.groupOf.get(v) === x)) return false;
      return ![...r.refs.keys()].some((v) => {
        const h = kg.groupOf.get(v);
        return h !== undefined && reaches(kg, x, h);
      });
    };
    let m = kg.groups.find(joinable);
    if (!m) {
      m = { id: kg.nextId++, kind: 'map', axes, units: [] };
      kg.groups.push(m);
    }
    m.units.push({ ...r, at: 'elem' });
  }
  return kg;
}
