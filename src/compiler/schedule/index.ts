// The scheduler: a differentiated tensor graph → a Schedule (buffers, and per kernel a structured spec,
// bindings, dispatch formula and workgroup override; no WGSL — src/codegen/wgsl/generate-plan.ts lowers it to
// the runtime's KernelPlan). Pure and deterministic: the same graph and options give an identical schedule.
// Passes: prepare.ts (algebra.ts rewrites, dead code, reduction splitting, dim values) → domains.ts
// (dependences between units, read off the index expressions) → partition.ts (fusion by iteration domain,
// sweeps inside row kernels) → build.ts (buffers, bindings, kernel specs) → the binding policy (below).
//   fused (default): reductions grouped by iteration domain into row kernels, elementwise work inlined,
//     gradients and scalars stored by the kernel that computes what they read;
//   unfused: one kernel per primitive op, every intermediate in memory (the benchmark baseline).
import { diag, DiagnosticError, type Diagnostic } from '../../diagnostics/index.js';
import { dimSymbols, evalDim } from '../../graph/dims.js';
import type { Dim, Graph, Node } from '../../graph/types.js';
import { MATMUL_REG } from './geometry.js';
import { buildSchedule } from './build.js';
import { opKind } from '../../graph/ops/index.js';
import { DependenceAnalysis, elementAxes, reductionAxes, sameDims, sameDomain, type Refs } from './domains.js';
import { alignedIndex, coord } from './coords.js';
import { nonOneDims, partition, type Group, type Partition, type RootTarget, type Unit } from './partition.js';
import { prepare, type Prepared } from './prepare.js';
import type { Schedule, ScheduledKernel } from './schedule.js';

export interface ScheduleOptions {
  /**
   * Pins the workgroup size of row and serial kernels (threads per row) to this default; without it the
   * runtime chooses each kernel's size from the adapter at pipeline creation (WGSL `override wg_size`).
   */
  workgroupSize?: number;
  mode?: 'fused' | 'unfused';
  /** Storage buffers one kernel may bind (the device's maxStorageBuffersPerShaderStage; default 8, WebGPU's
   *  guaranteed minimum, so plans run everywhere; run-stage passes the adapter's own limit). */
  maxStorageBuffers?: number;
  /** Also store stateful terms' updated buffers (graph.stateOut → plan.outputs.state); default false. */
  state?: boolean;
}

/** A graph the scheduler cannot lower; carries a TDC6xx diagnostic. */
export class ScheduleError extends DiagnosticError {}

/** Storage buffers a scheduled kernel binds (every binding but the dims uniform): what the binding budget limits. */
export function storageBindings(k: ScheduledKernel): number {
  return k.bindings.length;
}

/** Fusion strategies in the order the policy tries them (see schedule()). */
const STRATEGIES = [
  { conservative: false, rowValues: false },
  { conservative: false, rowValues: true },
  { conservative: true, rowValues: false },
] as const;

export function schedule(graph: Graph, opts: ScheduleOptions): Schedule {
  const mode = opts.mode ?? 'fused';
  const wg = opts.workgroupSize;
  if (wg !== undefined && (!Number.isInteger(wg) || wg < 1 || wg > 1024))
    throw new ScheduleError(diag('error', 'TDC602', `workgroup size must be an integer in 1..1024, got ${wg}`));
  const prep = prepare(graph, { splitReductions: true, algebra: mode === 'fused', state: opts.state ?? false });
  const g = prep.graph;

  const roots = rootUnits(g);
  if (mode === 'unfused') return buildSchedule(prep, unfusedPartition(g, roots), { workgroupSize: wg, mode });
  const limit = opts.maxStorageBuffers ?? 8;
  // The binding policy: the first strategy whose every kernel binds at most `limit` storage buffers.
  // First with optimistic binding estimates (reads of same-domain reductions become registers, roots join
  // the kernels that compute what they read); then, still optimistic, with row values (below) stored in
  // place of the row statistics they combine; then conservatively. The last one's failure is reported.
  let failure: Diagnostic | undefined;
  for (const s of STRATEGIES) {
    const r = fusedSchedule(g, prep, roots, { limit, ...s, workgroupSize: wg });
    if ('failure' in r) {
      failure = r.failure;
      continue;
    }
    const over = r.schedule.kernels.find((k) => storageBindings(k) > limit);
    if (!over) return r.schedule;
    failure = diag('error', 'TDC603', `kernel ${over.name} would bind ${storageBindings(over)} storage buffers; this target allows ${limit}`);
  }
  throw new ScheduleError(failure!);
}

/**
 * The fused schedule of one strategy; values that read too many buffers on their own are promoted to
 * kernels of their own. A value that cannot be split that way is this strategy's failure (data, not a throw).
 */
function fusedSchedule(
  g: Graph,
  prep: Prepared,
  roots: Omit<Unit, 'refs'>[],
  o: { limit: number; conservative: boolean; rowValues: boolean; workgroupSize: number | undefined },
): { schedule: Schedule } | { failure: Diagnostic } {
  const { limit } = o;
  const promoted = storedOnce(g, prep);
  const rowVals = o.rowValues ? rowValues(g, prep) : new Set<number>();
  for (;;) {
    const isUnit = (id: number) => {
      const n = g.nodes[id]!;
      return promoted.has(id) || rowVals.has(id) || ownsLoop(n, prep);
    };
    const an = new DependenceAnalysis(g, isUnit, prep.dimValues);
    const coords = (id: number) => elementAxes(g.nodes[id]!.shape).map((_, k) => coord(k));
    const units: Unit[] = [];
    for (const n of g.nodes) {
      if (!isUnit(n.id)) continue;
      if (rowVals.has(n.id) && !promoted.has(n.id)) units.push({ node: n.id, kind: 'elementwise', axes: elementAxes(n.shape), refs: an.storeRefs(n.id, coords(n.id), n.id), at: 'row' });
      else if (promoted.has(n.id)) units.push({ node: n.id, kind: 'elementwise', axes: elementAxes(n.shape), refs: an.storeRefs(n.id, coords(n.id), n.id) });
      else if (opKind(n.op) === 'contraction') units.push({ node: n.id, kind: 'matmul', axes: elementAxes(n.shape), refs: an.matmulRefs(n.id) });
      else if (opKind(n.op) === 'serial') units.push({ node: n.id, kind: 'serial', axes: elementAxes(n.shape), refs: an.matmulRefs(n.id) });
      else units.push({ node: n.id, kind: 'reduce', axes: reductionAxes(g, n.id), refs: an.reductionRefs(n.id) });
    }
    const rs = roots.map((r) => ({ ...r, refs: an.storeRefs(r.node, coords(r.node)) }));
    // optimistic: reads of reductions over the unit's own rows can become registers of its kernel
    const unitOf = new Map(units.map((u) => [u.node, u]));
    const sameRows = (u: Unit, v: number): boolean => {
      const w = unitOf.get(v);
      if (o.conservative || !w || w.kind !== 'reduce') return false;
      if (u.kind === 'reduce') return sameDomain(u.axes, w.axes);
      const dims = nonOneDims(g.nodes[u.node]!.shape);
      return u.kind === 'root' && (sameDims(dims, w.axes.map((a) => a.dim)) || sameDims(dims, w.axes.filter((a) => !a.reduced).map((a) => a.dim)));
    };
    const reads = (u: Unit) => [...u.refs.keys()].filter((v) => !sameRows(u, v)).length;
    const over = [...units, ...rs].find((u) => reads(u) + 1 > limit);
    if (over) {
      const pick = splitPoint(g, an, g.nodes[over.node]!.inputs, reads(over), isUnit);
      if (pick === undefined || promoted.has(pick))
        return { failure: diag('error', 'TDC603', `the kernel computing a ${describeNode(g, over.node)} would bind ${reads(over) + 1} storage buffers; this target allows ${limit}`, originOf(g, over.node)) };
      promoted.add(pick);
      continue;
    }
    const part = partition(g, an, units, rs, { fuse: true, maxBindings: limit, conservative: o.conservative });
    return { schedule: buildSchedule(prep, part, { workgroupSize: o.workgroupSize, mode: 'fused' }) };
  }

}

/** Arithmetic ops (not layout, loads or constants) in a value's inlined expression, up to units and inputs. */
/** Ops with no arithmetic (the op table's source and layout kinds): free to re-evaluate. */
const isFree = (op: Node['op']): boolean => opKind(op) === 'source' || opKind(op) === 'layout';
/** Views of a value (layout ops that keep its dtype): storedOnce stores the value below them. */
const VIEW_OPS = new Set(['reshape', 'permute', 'broadcast', 'slice', 'detach']);
/** Operand ops re-evaluated by a matmul above which the operand is stored (2^24: SPKD's backward, ~10^9, is; PKT's, ~10^7, is not). */
const RECOMPUTE_LIMIT = 2 ** 24;
const sizeOf = (shape: readonly Dim[]): number => shape.reduce<number>((a, d) => a * evalDim(d, Object.fromEntries([...dimSymbols(d)].map((x) => [x, 64]))), 1);

/**
 * Nodes computed by a kernel structure of their own (the op table's kind column): reductions (unless prepare
 * folded them to a dim value), contractions (matmul) and serial ops; everything else is inlined where read.
 */
function ownsLoop(n: Node, prep: Prepared): boolean {
  const k = opKind(n.op);
  return (k === 'reduction' && !prep.dimValues.has(n.id)) || k === 'contraction' || k === 'serial';
}

/**
 * Values worth computing once into memory rather than inline in every expression that reads them:
 * - matmul operands: a matmul kernel evaluates its operand expressions per (row, k) and (k, column) in every
 *   invocation that covers them, so an operand of [M, K] is recomputed ⌈N / MATMUL_REG⌉ times (SPKD's
 *   normalised-Gram gradient: ~40 ops per element, 6 272 times each). An operand with more than two arithmetic
 *   ops whose recomputation costs more than RECOMPUTE_LIMIT ops is stored;
 * - the gradient read by an adaptive-pooling VJP: it is read at every pooled cell from each input cell, and
 *   when it holds pooled values (MSE of pooled maps: KR's HCL pyramid) each of those sums a bin, so inlined
 *   the VJP costs (H·W)² per channel; stored, H·W·oh·ow.
 */
function storedOnce(g: Graph, prep: Prepared): Set<number> {
  const stop = (id: number) => ownsLoop(g.nodes[id]!, prep);
  const cost = (root: number): number => {
    const seen = new Set<number>();
    let ops = 0;
    const visit = (id: number): void => {
      if (seen.has(id) || (id !== root && stop(id))) return;
      seen.add(id);
      const n = g.nodes[id]!;
      if (!isFree(n.op)) ops++;
      if (ops <= 64) for (const i of n.inputs) visit(i);
    };
    visit(root);
    return ops;
  };
  const out = new Set<number>();
  for (const n of g.nodes) {
    if (n.op === 'adaptive_pool2d_grad') {
      const gi = n.inputs[n.inputs.length - 1]!;
      if (!stop(gi) && g.nodes[gi]!.op !== 'input' && cost(gi) > 0) out.add(gi);
    }
    if (opKind(n.op) !== 'contraction') continue;
    const r = n.shape.length;
    n.inputs.forEach((x, k) => {
      const other = n.shape[k === 0 ? r - 1 : r - 2]!; // the output extent the operand is recomputed across
      // below layout ops (xᵀ in x·xᵀ): store the value itself once, not each view of it
      let v = x;
      while (VIEW_OPS.has(g.nodes[v]!.op) && !stop(v)) v = g.nodes[v]!.inputs[0]!;
      if (stop(v) || g.nodes[v]!.op === 'input' || g.nodes[v]!.op === 'const') return;
      const ops = cost(v);
      // recomputed work (symbols taken as 64) against an extra kernel launch: small operands stay inline
      if (ops > 2 && sizeOf(g.nodes[v]!.shape) * Math.ceil(sizeOf([other]) / MATMUL_REG) * ops >= RECOMPUTE_LIMIT) out.add(v);
    });
  }
  return out;
}

/**
 * Row values: the input of a reduction that combines two or more statistics of the rows of another, finer
 * domain (a whole-batch sum of per-row losses built from each row's max and Σexp). Stored as one value per
 * row by the row kernel computing those statistics (partition.ts), the reduction reads one buffer instead of
 * one per statistic, which can keep that row kernel within the binding limit.
 */
function rowValues(g: Graph, prep: Prepared): Set<number> {
  const isRed = (id: number) => opKind(g.nodes[id]!.op) === 'reduction' && !prep.dimValues.has(id);
  const isUnit = (id: number) => ownsLoop(g.nodes[id]!, prep);
  const an = new DependenceAnalysis(g, isUnit, prep.dimValues);
  const out = new Set<number>();
  for (const n of g.nodes) {
    if (!isRed(n.id)) continue;
    const x = g.nodes[n.inputs[0]!]!;
    if (x.op === 'input' || x.op === 'const' || isUnit(x.id)) continue;
    const dims = nonOneDims(x.shape);
    const stats = [...an.reductionRefs(n.id).keys()].filter((v) => {
      if (!isRed(v)) return false;
      const axes = reductionAxes(g, v);
      return axes.some((a) => a.reduced) && sameDims(dims, axes.filter((a) => !a.reduced).map((a) => a.dim));
    });
    if (stats.length >= 2) out.add(x.id);
  }
  return out;
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

/** The stored outputs: every gradient, then the loss, the terms and the model term (scalars buffer slots). */
function rootUnits(g: Graph): Omit<Unit, 'refs'>[] {
  const out: Omit<Unit, 'refs'>[] = [];
  const root = (node: number, target: RootTarget) => out.push({ node, kind: 'root', axes: elementAxes(g.nodes[node]!.shape), target });
  g.grads.forEach((x, k) => root(x.node, { kind: 'grad', input: x.input, index: k }));
  root(g.loss, { kind: 'scalar', slot: 0, label: 'loss' });
  g.terms.forEach((t, k) => root(t.node, { kind: 'scalar', slot: 1 + k, label: t.name }));
  if (g.modelTerm) root(g.modelTerm.node, { kind: 'scalar', slot: 1 + g.terms.length, label: 'model_term' });
  (g.stateOut ?? []).forEach((x, k) => root(x.node, { kind: 'state', name: x.name, index: k }));
  return out;
}

/** One kernel per op: every node but inputs and constants is computed by its own kernel and stored. */
function unfusedPartition(g: Graph, roots: Omit<Unit, 'refs'>[]): Partition {
  const computed = (id: number) => g.nodes[id]!.op !== 'input' && g.nodes[id]!.op !== 'const';
  const an = new DependenceAnalysis(g, computed, new Map());
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
  for (const r of roots) {
    const shape = g.nodes[r.node]!.shape;
    const own = groupOf.get(r.node);
    const idx = alignedIndex(shape, elementAxes(shape).map((_, k) => coord(k)));
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
  return { groups, phase, online: new Map(), elemPhase: new Map(), groupOf };
}


export type { KernelPlan } from './plan.js';
export type { Schedule, ScheduledKernel } from './schedule.js';
