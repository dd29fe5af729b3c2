// Iteration domains and the data dependences between scheduling units, found by lowering each unit's
// expression with a recording environment: the index strings a unit reads another at are exactly the ones
// the generated code will use, so "is this read the current row?" is answered by the code itself.
import { dimEq, mulDims, evalDim, dimSymbols } from '../../graph/dims.js';
import type { Dim, Graph, Shape } from '../../graph/types.js';
import { Emitter } from '../../codegen/wgsl/emitter.js';
import { IndexMath, isOne, type Ix } from '../../codegen/wgsl/index-expr.js';
import type { DomainAxis } from './kernel-spec.js';
import { coord, reductionInputIndex } from '../../codegen/wgsl/row-kernel.js';
import { ScopeTree } from '../../codegen/wgsl/scope.js';
import type { DimValue } from './prepare.js';

/** The domain a reduction iterates: its input's non-1 dims, flagged where reduced. */
export function reductionAxes(g: Graph, node: number): DomainAxis[] {
  const n = g.nodes[node]!;
  const axes = n.op === 'reduce' ? n.attrs.axes : n.op === 'arg_reduce' ? [n.attrs.axis] : [];
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

/** Unit or input node → the index keys (`a|b|…`) it is read at. */
export type Refs = Map<number, Set<string>>;

export class DependenceAnalysis {
  constructor(
    readonly graph: Graph,
    /** Nodes computed by their own unit (reductions, matmuls): reads of them are the dependences. */
    readonly isUnit: (node: number) => boolean,
    readonly dimValues: ReadonlyMap<number, DimValue>,
  ) {}

  /** What evaluating `node` at `idx` reads of other units and of graph inputs. `self` is not counted (a unit's own value). */
  refsAt(node: number, idx: Ix[], self?: number): Refs {
    const refs: Refs = new Map();
    const inputs = new Set(this.graph.inputs.map((i) => i.node));
    const scopes = new ScopeTree();
    for (const k of idx) for (const id of k.match(/\b[A-Za-z_][A-Za-z0-9_]*\b/g) ?? []) scopes.define(id, scopes.root);
    const em = new Emitter(
      {
        graph: this.graph,
        math: new IndexMath((s) => s),
        register: (n, at) => {
          const unit = this.isUnit(n);
          if (n === self || !(unit || inputs.has(n))) return undefined;
          const key = at.join('|');
          let set = refs.get(n);
          if (!set) refs.set(n, (set = new Set()));
          set.add(key);
          return unit ? `u${n}` : undefined; // inputs are recorded (they need a binding) and loaded as usual
        },
        buffer: (n) => (inputs.has(n) ? { name: `in${n}`, dtype: this.graph.nodes[n]!.dtype === 'int' ? 'i32' : 'f32', shape: this.graph.nodes[n]!.shape } : undefined),
        dimValue: (n) => this.dimValues.get(n),
      },
      scopes,
    );
    em.value(node, idx);
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
      const idx = this.graph.nodes[x]!.shape.map((_, q) => `mm${k}_${q}`);
      for (const [u, s] of this.refsAt(x, idx)) out.set(u, new Set([...(out.get(u) ?? []), ...s]));
    });
    return out;
  }

  /** Dependences of a stored value whose non-1 dims line up with `coords`. */
  storeRefs(node: number, coords: Ix[], self?: number): Refs {
    let k = 0;
    const idx = this.graph.nodes[node]!.shape.map((d) => (isOne(d) ? '0u' : coords[k++] ?? '0u'));
    return this.refsAt(node, idx, self);
  }
}

/** Coordinates of the first `n` domain axes, or of the listed ones. */
export const coords = (ks: number[]): Ix[] => ks.map(coord);
