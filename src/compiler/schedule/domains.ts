// Iteration domains and the data dependences between scheduling units: the reads of each unit's expression
// (reads.ts: the op table's index maps) of other units and of graph inputs, with the indices they are read at.
import { dimEq, mulDims, evalDim, dimSymbols, isOneDim as isOne } from '../../graph/dims.js';
import type { Dim, Graph, Shape } from '../../graph/types.js';
import { ixListEq, ixVar, ZERO, type Ix } from './index-expr.js';
import { IndexMath } from './index-math.js';
import type { DomainAxis } from './kernel-spec.js';
import { reductionInputIndex } from './coords.js';
import { readsAt } from './reads.js';
import type { DimValue } from './prepare.js';

/** The domain a reduction iterates: its input's non-1 dims, flagged where reduced. */
export function reductionAxes(g: Graph, node: number): DomainAxis[] {
  const n = g.nodes[node]!;
  const axes = n.op === 'reduce' ? n.attrs.axes : [];
  const x = g.nodes[n.inputs[0]!]!;
  const out: DomainAxis[] = [];
  x.shape.forEach((d, p) => {
    if (!isOne(d)) out.push({ dim: d, reduced: axes.includes(p) });
  });
  return out;
}

/** The non-1 dims of a shape as an elementwise domain. */
export function elementAxes(shape: Shape): DomainAxis[] {
  return shape.filter((d) => !isOne(d)).map((dim) => ({ dim, reduced: false }));
}

/** The non-1 dims of a shape (the dims a domain iterates). */
export function nonOneDims(shape: Shape): Dim[] {
  return shape.filter((d) => !isOne(d));
}

/** The positions of a row domain's kept (not reduced) axes. */
export function keptAxes(axes: readonly DomainAxis[]): number[] {
  return axes.map((a, k) => (a.reduced ? -1 : k)).filter((k) => k >= 0);
}

export function sameDims(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, k) => dimEq(d, b[k]!) === true);
}

export function sameDomain(a: readonly DomainAxis[], b: readonly DomainAxis[]): boolean {
  return a.length === b.length && a.every((x, k) => x.reduced === b[k]!.reduced && dimEq(x.dim, b[k]!.dim) === true);
}

/** Work estimate of a domain (symbols taken as 64): orders merging, biggest domains first. */
export function domainWork(axes: readonly DomainAxis[]): number {
  const d = mulDims(...axes.map((a) => a.dim));
  const env: Record<string, number> = {};
  for (const s of dimSymbols(d)) env[s] = 64;
  return evalDim(d, env);
}

/** Unit or input node → the indices it is read at (structurally distinct). */
export type Refs = Map<number, Ix[][]>;

/** Add `idx` to the indices `node` is read at, unless an equal one is there. */
export function addRef(refs: Refs, node: number, idx: Ix[]): void {
  const list = refs.get(node);
  if (!list) refs.set(node, [idx]);
  else if (!list.some((x) => ixListEq(x, idx))) list.push(idx);
}

export class DependenceAnalysis {
  private readonly math = new IndexMath((s) => s);
  private readonly inputs: Set<number>;

  constructor(
    readonly graph: Graph,
    /** Nodes computed by their own unit (reductions, matmuls): reads of them are the dependences. */
    readonly isUnit: (node: number) => boolean,
    readonly dimValues: ReadonlyMap<number, DimValue>,
  ) {
    this.inputs = new Set(graph.inputs.map((i) => i.node));
  }

  /** What evaluating `node` at `idx` reads of other units and of graph inputs. `self` is not counted (a unit's own value). */
  refsAt(node: number, idx: Ix[], self?: number): Refs {
    const refs: Refs = new Map();
    const stop = (n: number) => this.isUnit(n) || this.inputs.has(n);
    for (const r of readsAt(this.graph, this.math, node, idx, stop, self, (n) => this.dimValues.has(n))) addRef(refs, r.node, r.idx);
    return refs;
  }

  /** Dependences of a reduction, read at its domain's coordinates. */
  reductionRefs(node: number): Refs {
    return this.refsAt(this.graph.nodes[node]!.inputs[0]!, reductionInputIndex(this.graph, node));
  }

  /** Dependences of a matmul's operands (coordinates are loop variables: never "the current row"). */
  matmulRefs(node: number): Refs {
    const n = this.graph.nodes[node]!;
    const out: Refs = new Map();
    n.inputs.forEach((x, k) => {
      const idx = this.graph.nodes[x]!.shape.map((_, q) => ixVar(`mm${k}_${q}`));
      for (const [u, s] of this.refsAt(x, idx)) for (const i of s) addRef(out, u, i);
    });
    return out;
  }

  /** Dependences of a stored value whose non-1 dims line up with `coords`. */
  storeRefs(node: number, coords: Ix[], self?: number): Refs {
    let k = 0;
    const idx = this.graph.nodes[node]!.shape.map((d) => (isOne(d) ? ZERO : coords[k++] ?? ZERO));
    return this.refsAt(node, idx, self);
  }
}

