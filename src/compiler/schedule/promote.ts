// Units that read too many buffers on their own: a value inside the unit's expression is promoted to an
// elementwise unit of its own (a kernel that stores it), until every unit's own reads, plus the buffer it
// writes, fit the binding budget. A unit that cannot be split that way is a failure (a diagnostic, as data).
import { diag, type Diagnostic } from '../../diagnostics/index.js';
import type { Graph } from '../../graph/types.js';
import { DependenceAnalysis, elementAxes, nonOneDims, sameDims, sameDomain } from './domains.js';
import { coord } from './coords.js';
import type { BindingBudget } from './candidate.js';
import type { Prepared } from './prepare.js';
import { fusedUnits, ownsLoop, readsCheckFlags, type RootDecl, type Unit } from './units.js';

export interface FusedUnits {
  analysis: DependenceAnalysis;
  units: Unit[];
  roots: Unit[];
}

/**
 * The fused units when `stored` values (storedOnce) and `rowVals` (row values) are units too, with values
 * promoted until each unit fits the budget on its own. Optimistic budgets do not count reads of reductions over
 * the unit's own rows (they can become registers of its kernel).
 */
export function unitsWithinBudget(prep: Prepared, roots: readonly RootDecl[], stored: ReadonlySet<number>, rowVals: ReadonlySet<number>, budget: BindingBudget): FusedUnits | { failure: Diagnostic } {
  const g = prep.graph;
  const { limit } = budget;
  const promoted = new Set(stored);
  for (;;) {
    const isUnit = (id: number) => promoted.has(id) || rowVals.has(id) || ownsLoop(g.nodes[id]!, prep);
    const an = new DependenceAnalysis(g, isUnit, prep.dimValues);
    const { units, roots: rs } = fusedUnits(g, an, isUnit, promoted, rowVals, roots);
    const unitOf = new Map(units.map((u) => [u.node, u]));
    const sameRows = (u: Unit, v: number): boolean => {
      const w = unitOf.get(v);
      if (budget.conservative || !w || w.kind !== 'reduce') return false;
      if (u.kind === 'reduce') return sameDomain(u.axes, w.axes);
      const dims = nonOneDims(g.nodes[u.node]!.shape);
      return u.kind === 'root' && (sameDims(dims, w.axes.map((a) => a.dim)) || sameDims(dims, w.axes.filter((a) => !a.reduced).map((a) => a.dim)));
    };
    // a state root (in place or not) also binds the run's check flags (build.ts)
    const reads = (u: Unit) => [...u.refs.keys()].filter((v) => !sameRows(u, v)).length + (readsCheckFlags(u) ? 1 : 0);
    const over = [...units, ...rs].find((u) => reads(u) + 1 > limit);
    if (!over) return { analysis: an, units, roots: rs };
    const pick = splitPoint(g, an, g.nodes[over.node]!.inputs, reads(over), isUnit);
    if (pick === undefined || promoted.has(pick))
      return { failure: diag('error', 'TDC603', `the kernel computing a ${describeNode(g, over.node)} would bind ${reads(over) + 1} storage buffers; this target allows ${limit}`, originOf(g, over.node)) };
    promoted.add(pick);
  }
}

/**
 * A value inside a unit's expression worth computing in a kernel of its own: descending from the unit's
 * operands, the one that reads the most buffers, once it reads fewer than the unit (else its operands).
 */
function splitPoint(g: Graph, an: DependenceAnalysis, operands: readonly number[], total: number, isUnit: (id: number) => boolean): number | undefined {
  const reads = (id: number) => an.storeRefs(id, elementAxes(g.nodes[id]!.shape).map((_, k) => coord(k))).size;
  const inner = (id: number) => !isUnit(id) && g.nodes[id]!.op !== 'input' && g.nodes[id]!.op !== 'const';
  let candidates = operands.filter(inner);
  for (let guard = 0; guard < g.nodes.length && candidates.length; guard++) {
    const scored = candidates.map((id) => ({ id, r: reads(id) })).sort((a, b) => b.r - a.r || a.id - b.id);
    const best = scored[0]!;
    if (best.r < 2) return undefined;
    if (best.r < total) return best.id;
    candidates = g.nodes[best.id]!.inputs.filter(inner);
  }
  return undefined;
}

function describeNode(g: Graph, id: number): string {
  const n = g.nodes[id]!;
  const what = n.op === 'unary' || n.op === 'binary' || n.op === 'reduce' ? `${n.attrs.fn} ${n.op === 'reduce' ? 'reduction' : ''}`.trim() : n.op;
  return `${what} of shape [${n.shape.map((d) => (typeof d === 'number' ? d : JSON.stringify(d))).join(', ')}]`;
}

function originOf(g: Graph, id: number) {
  const o = g.nodes[id]!.origin;
  return o?.config ?? o?.spec;
}
