// Builds a tensor graph node by node: shape/dtype rule from the op table, hash-consing CSE (same op, inputs
// and attributes → same node), constant folding of scalar-constant elementwise ops, and a few structural
// identities (x*1, x+0, reshape/broadcast to the same shape, identity permute, …).
import { shapeEq, shapeToString } from './dims.js';
import { OPS } from './ops/index.js';
import { ShapeRuleError, type TypedShape, type VjpBuilder } from './ops/op-def.js';
import { BINARY_MATH, binaryFn, unaryFn } from './ops/scalar-fns.js';
import { rewriteSum } from './sum-rewrites.js';
import type { BinaryOp, DType, Graph, GraphInput, GraphTerm, Node, OpAttrs, OpName, Shape, UnaryOp } from './types.js';

export class ShapeError extends Error {
  constructor(
    message: string,
    readonly nodes: number[],
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'ShapeError';
  }
}

/** A graph grew past GraphBuilderOptions.limits: the compiler turns it into a diagnostic. */
export class GraphLimitError extends Error {
  override name = 'GraphLimitError';
}

/** Bounds of a forward graph built from a spec: far above real losses (≤ 300 nodes, depth ≤ 80), far below what
 *  the scheduler and code generators handle within seconds and the JS stack. */
export const GRAPH_LIMITS = { nodes: 20_000, depth: 500 } as const;

export interface GraphBuilderOptions {
  /** Disable CSE / folding / identities (tests of the raw op table). */
  raw?: boolean;
  /** Maximum node count and longest input→node path; exceeding either throws GraphLimitError. */
  limits?: { nodes: number; depth: number };
}

export class GraphBuilder implements VjpBuilder {
  readonly nodes: Node[] = [];
  private readonly inputList: GraphInput[] = [];
  private readonly byKey = new Map<string, number>();
  private readonly raw: boolean;
  private readonly limits: { nodes: number; depth: number } | undefined;
  private readonly depths: number[] = [];

  constructor(opts: GraphBuilderOptions = {}) {
    this.raw = opts.raw ?? false;
    this.limits = opts.limits;
  }

  /** A builder that continues an existing graph (autodiff appends its backward nodes this way). */
  static fromGraph(g: Graph, opts: GraphBuilderOptions = {}): GraphBuilder {
    const b = new GraphBuilder(opts);
    for (const n of g.nodes) {
      b.nodes.push(n);
      const k = nodeKey(n.op, n.inputs, n.attrs);
      if (!b.byKey.has(k)) b.byKey.set(k, n.id);
    }
    for (const i of g.inputs) b.inputList.push({ ...i });
    return b;
  }

  input(name: string, shape: Shape, dtype: DType, trainable: boolean, origin?: Node['origin']): number {
    const existing = this.inputList.find((i) => i.name === name);
    if (existing) {
      const n = this.nodes[existing.node]!;
      if (!shapeEq(n.shape, shape) || n.dtype !== dtype)
        throw new ShapeError(
          `input '${name}' declared twice with different types: ${n.dtype}${shapeToString(n.shape)} and ${dtype}${shapeToString(shape)}`,
          [n.id],
        );
      existing.trainable ||= trainable;
      return existing.node;
    }
    const id = this.push({ op: 'input', inputs: [], attrs: { name }, shape: [...shape], dtype }, origin);
    this.inputList.push({ name, node: id, trainable });
    return id;
  }

  /** The graph nodes of the trainable inputs declared so far. */
  trainableInputs(): Set<number> {
    return new Set(this.inputList.filter((i) => i.trainable).map((i) => i.node));
  }

  constant(value: number): number {
    return this.op('const', [], { value });
  }

  op<K extends OpName>(op: K, inputs: number[], attrs: OpAttrs[K], origin?: Node['origin']): number {
    const def = OPS[op];
    if (def === undefined) throw new Error(`unknown op '${op}'`);
    for (const i of inputs)
      if (!Number.isInteger(i) || i < 0 || i >= this.nodes.length) throw new Error(`${op}: input node ${i} does not exist`);
    if (def.arity === 'variadic' ? inputs.length < 1 : inputs.length !== def.arity)
      throw new Error(`${op}: expected ${def.arity === 'variadic' ? 'at least 1' : def.arity} inputs, got ${inputs.length}`);
    if (op === 'input') throw new Error(`use GraphBuilder.input() for graph inputs`);
    const ins: TypedShape[] = inputs.map((i) => ({ shape: this.nodes[i]!.shape, dtype: this.nodes[i]!.dtype }));
    let inferred;
    try {
      inferred = def.infer(ins, attrs);
    } catch (e) {
      if (e instanceof ShapeRuleError) throw new ShapeError(e.message, inputs, e.hint);
      throw e;
    }
    const a = (inferred.attrs ?? attrs) as OpAttrs[K];
    if (!this.raw) {
      const simple = this.simplify(op, inputs, a, inferred.shape, inferred.dtype);
      if (simple !== undefined) return simple;
    }
    return this.push({ op, inputs: [...inputs], attrs: a, shape: inferred.shape, dtype: inferred.dtype } as Omit<Node, 'id'>, origin);
  }

  /** The node `op(inputs, attrs)` would return without building anything: one built before (CSE), if any. */
  existing<K extends OpName>(op: K, inputs: number[], attrs: OpAttrs[K]): number | undefined {
    return this.raw ? undefined : this.byKey.get(nodeKey(op, inputs, attrs));
  }

  node(id: number): Node {
    const n = this.nodes[id];
    if (n === undefined) throw new Error(`node ${id} does not exist`);
    return n;
  }

  shape(id: number): Shape {
    return this.node(id).shape;
  }

  dtype(id: number): DType {
    return this.node(id).dtype;
  }

  // ---- conveniences ----
  unary(fn: UnaryOp, x: number): number {
    return this.op('unary', [x], { fn });
  }
  binary(fn: BinaryOp, a: number, b: number): number {
    return this.op('binary', [a, b], { fn });
  }

  finish(result: { loss: number; terms: GraphTerm[]; modelTerm?: Graph['modelTerm'] }): Graph {
    const g: Graph = {
      nodes: [...this.nodes],
      inputs: this.inputList.map((i) => ({ ...i })),
      loss: result.loss,
      terms: result.terms.map((t) => ({ ...t })),
      grads: [],
    };
    if (result.modelTerm) g.modelTerm = result.modelTerm;
    return g;
  }

  // ---- internals ----
  private push(n: Omit<Node, 'id'>, origin?: Node['origin']): number {
    const key = nodeKey(n.op, n.inputs, n.attrs);
    const hit = this.raw ? undefined : this.byKey.get(key);
    if (hit !== undefined) return hit;
    const id = this.nodes.length;
    if (this.limits) {
      let depth = 1;
      for (const i of n.inputs) depth = Math.max(depth, (this.depths[i] ?? 0) + 1);
      if (id >= this.limits.nodes) throw new GraphLimitError(`the loss graph would have more than ${this.limits.nodes.toLocaleString('en-US')} operations`);
      if (depth > this.limits.depth) throw new GraphLimitError(`the loss graph would chain more than ${this.limits.depth} operations one after another`);
      this.depths[id] = depth;
    }
    const node = { ...n, id } as Node;
    if (origin) node.origin = origin;
    this.nodes.push(node);
    if (!this.byKey.has(key)) this.byKey.set(key, id);
    return id;
  }

  private constValue(id: number): number | undefined {
    const n = this.nodes[id]!;
    return n.op === 'const' ? n.attrs.value : undefined;
  }

  /** Folding and identities; undefined = build the node. */
  private simplify<K extends OpName>(op: K, inputs: number[], attrs: OpAttrs[K], shape: Shape, dtype: DType): number | undefined {
    const same = (i: number) => {
      const n = this.nodes[i]!;
      return n.dtype === dtype && shapeEq(n.shape, shape);
    };
    const cs = inputs.map((i) => this.constValue(i));
    const allConst = inputs.length > 0 && cs.every((c) => c !== undefined);
    switch (op) {
      case 'unary': {
        if (allConst) return this.constant(unaryFn((attrs as OpAttrs['unary']).fn)(cs[0]!));
        return undefined;
      }
      case 'binary': {
        const fn = (attrs as OpAttrs['binary']).fn;
        if (allConst) return this.constant(binaryFn(fn)(cs[0]!, cs[1]!));
        const [x, y] = inputs as [number, number];
        const [cx, cy] = cs;
        if ((fn === 'mul' && cy === 1) || ((fn === 'add' || fn === 'sub') && cy === 0) || ((fn === 'div' || fn === 'pow') && cy === 1))
          if (same(x)) return x;
        if (((fn === 'mul' && cx === 1) || (fn === 'add' && cx === 0)) && same(y)) return y;
        // torch's pow by a scalar ±0.5 is sqrt / rsqrt, not C's pow: (−inf)^0.5 is NaN, (−0)^0.5 is −0 and
        // (−0)^−0.5 is −inf there (C: +inf, +0, +inf); the GPU lowering computes them so, and the CPU runs this graph
        if (fn === 'pow' && (cy === 0.5 || cy === -0.5) && same(x)) {
          const root = this.op('unary', [x], { fn: 'sqrt' });
          return cy > 0 ? root : this.op('unary', [root], { fn: 'recip' });
        }
        return undefined;
      }
      case 'where': {
        const c = cs[0];
        if (c !== undefined) {
          const pick = inputs[c !== 0 ? 1 : 2]!;
          if (same(pick)) return pick;
        }
        if (inputs[1] === inputs[2] && same(inputs[1]!)) return inputs[1];
        return undefined;
      }
      case 'reshape':
      case 'broadcast':
      case 'cast':
      case 'slice':
        return same(inputs[0]!) ? inputs[0] : undefined;
      case 'permute': {
        const perm = (attrs as OpAttrs['permute']).perm;
        return perm.every((p, i) => p === i) ? inputs[0] : undefined;
      }
      case 'concat':
        return inputs.length === 1 ? inputs[0] : undefined;
      case 'reduce':
        return (attrs as OpAttrs['reduce']).axes.length === 0 ? inputs[0] : rewriteSum(this, inputs[0]!, attrs as OpAttrs['reduce']);
      case 'detach': {
        const n = this.nodes[inputs[0]!]!;
        return n.op === 'detach' || n.op === 'const' || n.op === 'iota' || n.dtype === 'int' ? inputs[0] : undefined;
      }
      default:
        return undefined;
    }
  }
}

function stable(v: unknown): string {
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v); // keeps NaN/Infinity distinct
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .filter((k) => o[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${stable(o[k])}`)
    .join(',')}}`;
}

/** The CSE key of a node: a commutative binary op's operands in ascending id order, so a·b and b·a are one node. */
function nodeKey(op: string, inputs: number[], attrs: unknown): string {
  const swap = op === 'binary' && BINARY_MATH[(attrs as OpAttrs['binary']).fn].commutative && inputs[0]! > inputs[1]!;
  return `${op}(${(swap ? [inputs[1], inputs[0]] : inputs).join(',')})${stable(attrs)}`;
}
