// Scheduling units: the nodes that need a loop structure of their own — reductions (a row kernel: one
// workgroup per row), contractions (a tiled kernel), serial ops (sort, cholesky, CTC: a kernel of their own)
// and values stored once (elementwise, see stored-values.ts) — plus the stored roots (gradients, loss, terms,
// state). Everything else inlines into whichever unit reads it. Each unit carries its reads of other units
// (the dependence analysis, domains.ts).
import type { Graph, Node } from '../../graph/types.js';
import { shapeEq } from '../../graph/dims.js';
import { opKind } from '../../graph/ops/index.js';
import type { DomainAxis } from './kernel-spec.js';
import { coord } from './coords.js';
import { addRef, DependenceAnalysis, elementAxes, reductionAxes, type Refs } from './domains.js';
import type { Prepared } from './prepare.js';
import { inPlaceUpdates } from './in-place-state.js';

export type RootTarget =
  | { kind: 'grad'; input: string; index: number }
  | { kind: 'scalar'; slot: number; label: string }
  | { kind: 'state'; name: string; index: number; scatter?: ScatterTarget; keep?: number };

/** A state output stored in place (in-place-state.ts): the root's node is the rows, written at `index` into the
 *  state input's buffer. */
export interface ScatterTarget {
  /** The row index [B] (int). */
  index: number;
  /** The state input whose buffer the rows go to. */
  input: number;
}

export interface Unit {
  node: number;
  /** elementwise: a value computed and stored by a kernel of its own (unfused mode, stored once, or promoted
   *  because a unit reading it directly would bind too many buffers).
   *  serial: a sort / cholesky / triangular_solve (a kernel of its own, one workgroup per matrix or row). */
  kind: 'reduce' | 'matmul' | 'elementwise' | 'serial' | 'root';
  axes: DomainAxis[];
  /** Reads of other units; for roots, at the coordinates of their placement. */
  refs: Refs;
  target?: RootTarget;
  /** Roots in a row kernel: element output over the domain, or one value per row; row values likewise. */
  at?: 'elem' | 'row';
  /** A value stored element by element by a row kernel over a transposed view of it: the domain axis each of its
   *  non-1 dims lies along (join-row-values.ts); absent, its dims follow the domain's order. */
  coords?: readonly number[];
}

/** A root before its reads are known (they depend on which nodes are units). */
export type RootDecl = Omit<Unit, 'refs'>;

/**
 * Nodes computed by a kernel structure of their own (the op table's kind column): reductions (unless prepare
 * folded them to a dim value), contractions (matmul) and serial ops; everything else is inlined where read.
 */
export function ownsLoop(n: Node, prep: Prepared): boolean {
  const k = opKind(n.op);
  return (k === 'reduction' && !prep.dimValues.has(n.id)) || k === 'contraction' || k === 'serial';
}

/** The stored outputs: every gradient, then the loss, the terms and the model term (scalars buffer slots), then state. */
export function rootUnits(g: Graph): RootDecl[] {
  const out: RootDecl[] = [];
  const root = (node: number, target: RootTarget) => out.push({ node, kind: 'root', axes: elementAxes(g.nodes[node]!.shape), target });
  g.grads.forEach((x, k) => root(x.node, { kind: 'grad', input: x.input, index: k }));
  root(g.loss, { kind: 'scalar', slot: 0, label: 'loss' });
  g.terms.forEach((t, k) => root(t.node, { kind: 'scalar', slot: 1 + k, label: t.name }));
  if (g.modelTerm) root(g.modelTerm.node, { kind: 'scalar', slot: 1 + g.terms.length, label: 'model_term' });
  const inPlace = inPlaceUpdates(g);
  (g.stateOut ?? []).forEach((x, k) => {
    const ip = inPlace[k];
    if (ip) root(ip.rows, { kind: 'state', name: x.name, index: k, scatter: { index: ip.index, input: ip.input } });
    else {
      // a run whose device check failed stores the state input's value instead (build.ts: the kernel reads it)
      const input = g.inputs.find((i) => i.name === `state_in/${x.name.slice('state_out/'.length)}`);
      const keep = input && shapeEq(g.nodes[input.node]!.shape, g.nodes[x.node]!.shape) ? input.node : undefined;
      root(x.node, { kind: 'state', name: x.name, index: k, ...(keep !== undefined ? { keep } : {}) });
    }
  });
  return out;
}

/** The coordinates of a node's own element domain. */
const elementCoords = (g: Graph, id: number) => elementAxes(g.nodes[id]!.shape).map((_, k) => coord(k));

/**
 * The fused units of a graph, given which nodes are stored elementwise values (`stored`: stored once or promoted)
 * and which are row values (stored one per row by a row kernel), with their reads; and the roots with theirs.
 */
export function fusedUnits(g: Graph, an: DependenceAnalysis, isUnit: (id: number) => boolean, stored: ReadonlySet<number>, rowVals: ReadonlySet<number>, roots: readonly RootDecl[]): { units: Unit[]; roots: Unit[] } {
  const units: Unit[] = [];
  for (const n of g.nodes) {
    if (!isUnit(n.id)) continue;
    if (rowVals.has(n.id) && !stored.has(n.id)) units.push({ node: n.id, kind: 'elementwise', axes: elementAxes(n.shape), refs: an.storeRefs(n.id, elementCoords(g, n.id), n.id), at: 'row' });
    else if (stored.has(n.id)) units.push({ node: n.id, kind: 'elementwise', axes: elementAxes(n.shape), refs: an.storeRefs(n.id, elementCoords(g, n.id), n.id) });
    else if (opKind(n.op) === 'contraction') units.push({ node: n.id, kind: 'matmul', axes: elementAxes(n.shape), refs: an.matmulRefs(n.id) });
    else if (opKind(n.op) === 'serial') units.push({ node: n.id, kind: 'serial', axes: elementAxes(n.shape), refs: an.matmulRefs(n.id) });
    else units.push({ node: n.id, kind: 'reduce', axes: reductionAxes(g, n.id), refs: an.reductionRefs(n.id) });
  }
  return { units, roots: roots.map((r) => ({ ...r, refs: rootRefs(g, an, r) })) };
}

/** A root's reads at its domain's coordinates; a scatter root also reads its row index (at the rows' first coordinate). */
export function rootRefs(g: Graph, an: DependenceAnalysis, r: RootDecl): Refs {
  const refs = an.storeRefs(r.node, elementCoords(g, r.node));
  const sc = isScatter(r);
  if (sc) for (const [v, idxs] of an.storeRefs(sc.index, elementCoords(g, sc.index))) for (const i of idxs) addRef(refs, v, i);
  const keep = keptInput(r);
  if (keep !== undefined) for (const [v, idxs] of an.storeRefs(keep, elementCoords(g, r.node))) for (const i of idxs) addRef(refs, v, i);
  return refs;
}

/** The scatter target of an in-place state root. */
export const isScatter = (u: { target?: RootTarget }): ScatterTarget | undefined => (u.target?.kind === 'state' ? u.target.scatter : undefined);

/** The state input whose value a state root (not in place) stores instead when a device check of the run failed. */
const keptInput = (u: { target?: RootTarget }): number | undefined => (u.target?.kind === 'state' ? u.target.keep : undefined);

/** Does a root read the run's device-check flags (PlanKernel.checkFlags): an in-place update or a kept state output? */
export const readsCheckFlags = (u: { kind: string; target?: RootTarget }): boolean => u.kind === 'root' && (isScatter(u) !== undefined || keptInput(u) !== undefined);
