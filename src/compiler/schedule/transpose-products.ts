// A rewrite before scheduling (prepare.ts): the transpose of a product is the product of the transposes,
// swapped — permute(a · b) over the last two axes becomes bᵀ · aᵀ, where the product is read by nothing else.
// The backward pass of x · zᵀ (a Gram or FSP matrix) gives z's gradient as (xᵀ · g)ᵀ: computed as gᵀ · x, the
// product is already in z's layout, so the matmul kernel can store it as the gradient itself (matmul-roots.ts)
// instead of a scratch matrix an elementwise kernel then transposes. Same products in the same order along K:
// the result is bit-identical.
import type { Graph, Node } from '../../graph/types.js';

/** Is the node a permute swapping its last two axes (and nothing else)? */
function swapsLastTwo(n: Node): boolean {
  if (n.op !== 'permute') return false;
  const perm = n.attrs.perm;
  const r = perm.length;
  return r >= 2 && perm[r - 2] === r - 1 && perm[r - 1] === r - 2 && perm.slice(0, -2).every((p, i) => p === i);
}

export function transposeProducts(g: Graph): Graph {
  const consumers = new Array<number>(g.nodes.length).fill(0);
  const reader = new Array<number>(g.nodes.length).fill(-1);
  for (const n of g.nodes)
    for (const i of n.inputs) {
      consumers[i]!++;
      reader[i] = n.id;
    }
  const outputs = new Set([g.loss, ...g.terms.map((t) => t.node), ...g.grads.map((x) => x.node), ...(g.stateOut ?? []).map((x) => x.node)]);
  if (g.modelTerm) outputs.add(g.modelTerm.node);
  for (const w of g.warnings ?? []) outputs.add(w.node);
  const rewritten = (n: Node): boolean => n.op === 'matmul' && consumers[n.id] === 1 && !outputs.has(n.id) && swapsLastTwo(g.nodes[reader[n.id]!]!);
  if (!g.nodes.some(rewritten)) return g;
  const nodes: Node[] = [];
  const remap = new Map<number, number>();
  const push = (n: Omit<Node, 'id'>): number => {
    const id = nodes.length;
    nodes.push({ ...n, id } as Node);
    return id;
  };
  // xᵀ: the input of a transpose, else a new transpose
  const transposed = (x: number): number => {
    const n = nodes[x]!;
    if (swapsLastTwo(n)) return n.inputs[0]!;
    const r = n.shape.length;
    const perm = [...n.shape.keys()].map((p) => (p === r - 2 ? r - 1 : p === r - 1 ? r - 2 : p));
    return push({ op: 'permute', inputs: [x], attrs: { perm }, shape: perm.map((p) => n.shape[p]!), dtype: n.dtype, ...(n.origin ? { origin: n.origin } : {}) } as Omit<Node, 'id'>);
  };
  for (const n of g.nodes) {
    if (remap.has(n.id)) continue; // a transpose already replaced by its swapped product
    const inputs = n.inputs.map((i) => remap.get(i)!);
    if (rewritten(n)) {
      const t = g.nodes[reader[n.id]!]!;
      const [a, b] = inputs as [number, number];
      const bt = transposed(b);
      const at = transposed(a);
      remap.set(t.id, push({ ...n, inputs: [bt, at], shape: t.shape } as Omit<Node, 'id'>));
      continue;
    }
    remap.set(n.id, push({ ...n, inputs } as Omit<Node, 'id'>));
  }
  const m = (id: number) => remap.get(id)!;
  const out: Graph = {
    ...g,
    nodes,
    inputs: g.inputs.map((i) => ({ ...i, node: m(i.node) })),
    loss: m(g.loss),
    terms: g.terms.map((t) => ({ ...t, node: m(t.node) })),
    grads: g.grads.map((x) => ({ ...x, node: m(x.node) })),
  };
  if (g.modelTerm) out.modelTerm = { ...g.modelTerm, node: m(g.modelTerm.node) };
  if (g.stateOut) out.stateOut = g.stateOut.map((x) => ({ ...x, node: m(x.node) }));
  if (g.warnings) out.warnings = g.warnings.map((w) => ({ ...w, node: m(w.node) }));
  return out;
}
