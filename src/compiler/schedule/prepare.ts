// Rewrites before scheduling (pure: a new graph, the input is untouched):
// - (fused) algebraic simplifications (algebra.ts), transposed products swapped (transpose-products.ts);
// - dead nodes dropped (only what the loss, terms, model term and gradients need);
// - whole-tensor reductions over several non-1 dims split into a row reduction (all but the first of those
//   dims) followed by a reduction over the first: sum(x[N, C]) → sum_n(sum_c(x)). The inner one then shares
//   the row pass of whatever else reduces those rows (KL's sum next to softmax's), and the outer one is the
//   small whole-batch dispatch;
// - sums over broadcast constants (a symbolic dim used as a number: N = Σ 1) become dim values, computed from
//   the dims uniform wherever they are read.
import { isOneDim as isOne } from '../../graph/dims.js';
import type { Dim, Graph, Node } from '../../graph/types.js';
import { simplifyAlgebra } from './algebra.js';
import { transposeProducts } from './transpose-products.js';

export interface DimValue {
  scale: number;
  dims: Dim[];
}

export interface Prepared {
  graph: Graph;
  dimValues: Map<number, DimValue>;
}

export function prepare(input: Graph, opts: { splitReductions: boolean; algebra: boolean; state?: boolean }): Prepared {
  const g0 = opts.algebra ? transposeProducts(simplifyAlgebra(input)) : input;
  const g: Graph = opts.state || !g0.stateOut ? g0 : { ...g0, stateOut: [] };
  const live = liveNodes(g);
  const remap = new Map<number, number>();
  const nodes: Node[] = [];
  const push = (n: Omit<Node, 'id'>): number => {
    const id = nodes.length;
    nodes.push({ ...n, id } as Node);
    return id;
  };
  for (const n of g.nodes) {
    if (!live[n.id]) continue;
    const inputs = n.inputs.map((i) => remap.get(i)!);
    const split = opts.splitReductions && n.op === 'reduce' ? splitAxes(g, n) : undefined;
    if (split && n.op === 'reduce') {
      const x = g.nodes[n.inputs[0]!]!;
      const innerShape = x.shape.map((d, p) => (split.inner.includes(p) ? 1 : d));
      const inner = push({ op: 'reduce', inputs, attrs: { fn: n.attrs.fn, axes: split.inner, keepdim: true }, shape: innerShape, dtype: n.dtype, ...(n.origin ? { origin: n.origin } : {}) } as Omit<Node, 'id'>);
      remap.set(n.id, push({ ...n, inputs: [inner] } as Omit<Node, 'id'>));
    } else remap.set(n.id, push({ ...n, inputs } as Omit<Node, 'id'>));
  }
  const m = (id: number) => remap.get(id)!;
  const graph: Graph = {
    nodes,
    inputs: g.inputs.filter((i) => live[i.node]).map((i) => ({ ...i, node: m(i.node) })),
    loss: m(g.loss),
    terms: g.terms.map((t) => ({ ...t, node: m(t.node) })),
    grads: g.grads.map((x) => ({ ...x, node: m(x.node) })),
  };
  if (g.modelTerm) graph.modelTerm = { ...g.modelTerm, node: m(g.modelTerm.node) };
  if (g.stateOut?.length) graph.stateOut = g.stateOut.map((x) => ({ ...x, node: m(x.node) }));
  const dimValues = new Map<number, DimValue>();
  for (const n of nodes) {
    const dv = dimValueOf(nodes, n);
    if (dv) dimValues.set(n.id, dv);
  }
  return { graph, dimValues };
}

/** Nodes the outputs depend on. */
function liveNodes(g: Graph): boolean[] {
  const live = new Array<boolean>(g.nodes.length).fill(false);
  const roots = [g.loss, ...g.terms.map((t) => t.node), ...g.grads.map((x) => x.node)];
  if (g.modelTerm) roots.push(g.modelTerm.node);
  for (const x of g.stateOut ?? []) roots.push(x.node);
  for (const r of roots) live[r] = true;
  for (let id = g.nodes.length - 1; id >= 0; id--) if (live[id]) for (const i of g.nodes[id]!.inputs) live[i] = true;
  return live;
}

/** For a whole reduction over ≥ 2 non-1 dims: the axes of the inner (row) part. */
function splitAxes(g: Graph, n: Node & { op: 'reduce' }): { inner: number[] } | undefined {
  const x = g.nodes[n.inputs[0]!]!;
  const live = x.shape.map((d, p) => (isOne(d) ? -1 : p)).filter((p) => p >= 0);
  const kept = live.filter((p) => !n.attrs.axes.includes(p));
  const reduced = live.filter((p) => n.attrs.axes.includes(p));
  if (kept.length > 0 || reduced.length < 2) return undefined;
  if (dimValueOf(g.nodes, n)) return undefined;
  return { inner: reduced.slice(1) };
}

/** A reduction whose input is a broadcast constant: sum → c · Π reduced dims, max/min → c. */
function dimValueOf(nodes: readonly Node[], n: Node): DimValue | undefined {
  if (n.op !== 'reduce') return undefined;
  let x = nodes[n.inputs[0]!]!;
  while (x.op === 'broadcast' || x.op === 'reshape' || x.op === 'detach' || (x.op === 'cast' && x.dtype === 'float')) x = nodes[x.inputs[0]!]!;
  if (x.op !== 'const') return undefined;
  const c = n.dtype === 'int' ? Math.trunc(x.attrs.value) : x.attrs.value;
  if (n.attrs.fn !== 'sum') return { scale: c, dims: [] };
  const s = nodes[n.inputs[0]!]!.shape;
  return { scale: c, dims: n.attrs.axes.map((a) => s[a]!) };
}
