// What each kernel is called and the two header lines naming what it fuses (the WGSL file's header comment,
// `tdc compile --explain` and the plan summary).
import { dimToString, shapeToString } from '../../graph/dims.js';
import type { Graph } from '../../graph/types.js';
import type { MatmulLayout } from './matmul-layout.js';
import type { Group } from './kernel-graph.js';
import { columnQuads } from './geometry.js';
import { groupReads, isColumnPass } from './row-layout.js';
import type { Sweeps } from './sweeps.js';
import type { Unit } from './units.js';

export function kernelName(k: number, kind: string, terms: string[]): string {
  const t = terms.slice(0, 3).map((x) => x.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_|_$/g, '').toLowerCase()).filter(Boolean);
  return [`k${k}`, kind, ...t, ...(terms.length > 3 ? ['etc'] : [])].join('_');
}

export function headerLines(name: string, grp: Group, g: Graph, terms: string[], writes: string[], part: Sweeps, mode: string, layout?: MatmulLayout): string[] {
  const dims = grp.axes.map((a) => dimToString(a.dim));
  const reds = grp.units.filter((u) => u.kind === 'reduce');
  const sweeps = new Set([...reds.map((u) => part.phase.get(u.node) ?? 0), ...(part.elemPhase.has(grp) ? [part.elemPhase.get(grp)!] : [])]).size;
  const writesText = `writes ${[...new Set(writes)].join(', ')}`;
  let what: string;
  if (layout) {
    const u = grp.units[0]!;
    const [lane, uni] = layout.swap ? ['rows', 'columns'] : ['columns', 'rows'];
    if (layout.alongK) what = `matrix-vector product ${shapeToString(g.nodes[u.node]!.shape)} (${layout.alongK} ${uni} per workgroup, K split across its wg_size invocations); ${writesText}`;
    else what = `register-tiled matmul ${shapeToString(g.nodes[u.node]!.shape)} (${layout.reg} ${lane} x ${layout.uniform} ${uni} per invocation, the ${uni} shared by the wg_size invocations of a workgroup); ${writesText}`;
  } else if (grp.kind === 'serial') {
    const n = g.nodes[grp.units[0]!.node]!;
    const per = n.op === 'sort' ? `sorted row (${n.attrs.output})` : n.op === 'ctc_nll' || n.op === 'ctc_nll_grad' ? 'sample' : 'matrix';
    what = `${n.op} ${shapeToString(n.shape)} (one workgroup per ${per}); ${writesText}`;
  } else if (grp.kind === 'map') {
    what = `elementwise over [${dims.join(', ')}]; ${writesText}`;
  } else {
    const kept = grp.axes.filter((a) => !a.reduced).map((a) => dimToString(a.dim));
    const red = grp.axes.filter((a) => a.reduced).map((a) => dimToString(a.dim));
    const column = isColumnPass(grp.axes, groupReads(grp, g));
    const per = column && columnQuads(grp.axes) ? '4 consecutive rows' : 'row';
    const rows = column ? `column pass: one invocation per ${per} of [${kept.join(', ')}]` : kept.length ? `one workgroup per row of [${kept.join(', ')}]` : 'one workgroup';
    what = `${kept.length ? 'row pass' : 'whole reduction'} over [${dims.join(', ')}] (${rows}, reducing [${red.join(', ')}]): ${reds.length} reduction${reds.length === 1 ? '' : 's'} in ${sweeps} sweep${sweeps === 1 ? '' : 's'}; ${writesText}`;
  }
  const ops = describeUnits(grp.units, g);
  return [`${name}: ${what}`, `terms: ${terms.length ? terms.join(', ') : '(none)'}${mode === 'unfused' ? ` — unfused: ${ops}` : ''}`];
}

function describeUnits(units: Unit[], g: Graph): string {
  return units
    .filter((u) => u.kind !== 'root')
    .map((u) => {
      const n = g.nodes[u.node]!;
      return n.op === 'unary' || n.op === 'binary' || n.op === 'reduce' ? `${n.op} ${'fn' in n.attrs ? n.attrs.fn : ''}`.trim() : n.op;
    })
    .join(', ');
}
