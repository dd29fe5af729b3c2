// Reverse-mode autodiff: appends the backward nodes to the same graph (so forward and backward can share
// fused row statistics) and fills g.grads for every trainable input the loss reaches through a
// differentiable path. Inputs reached only through detach / comparisons / int tensors get no entry
// (torch's None); inputs reached through zero-gradient ops (sign, floor) get a zero tensor.
import { GraphBuilder } from './builder.js';
import { shapeToString } from './dims.js';
import { OPS } from './ops/index.js';
import type { OpDef } from './ops/op-def.js';
import type { Graph, Node, OpName } from './types.js';

/** Which inputs of `n` carry gradient (ignoring whether they require it). */
function gradientEdges(n: Node, nodes: readonly Node[]): boolean[] {
  if (n.dtype !== 'float') return n.inputs.map(() => false);
  const dts = n.inputs.map((i) => nodes[i]!.dtype);
  const def = OPS[n.op] as OpDef<OpName>;
  const edges = def.diffInputs ? def.diffInputs(n as never, dts) : dts.map((d) => d === 'float');
  return edges.map((e, k) => e && dts[k] === 'float');
}

/**
 * torch's requires_grad of every node: whether it depends on a trainable float input through gradient-carrying
 * edges (`edges[id][k]`: input k of node id carries gradient).
 */
export function requiresGrad(nodes: readonly Node[], trainable: ReadonlySet<number>): { requires: boolean[]; edges: boolean[][] } {
  const requires = new Array<boolean>(nodes.length).fill(false);
  const edges: boolean[][] = [];
  for (const n of nodes) {
    edges[n.id] = gradientEdges(n, nodes);
    requires[n.id] =
      n.op === 'input' ? trainable.has(n.id) && n.dtype === 'float' : n.inputs.some((i, k) => edges[n.id]![k] && requires[i]);
  }
  return { requires, edges };
}

export function differentiate(g: Graph): Graph {
  const nodes = g.nodes;
  const lossNode = nodes[g.loss];
  if (!lossNode) throw new Error(`loss node ${g.loss} does not exist`);
  if (lossNode.shape.length !== 0) throw new Error(`the loss must be a scalar, got shape ${shapeToString(lossNode.shape)}`);

  const { requires, edges } = requiresGrad(nodes, new Set(g.inputs.filter((i) => i.trainable).map((i) => i.node)));

  const b = GraphBuilder.fromGraph(g);
  const grad = new Map<number, number>();
  if (requires[g.loss]) grad.set(g.loss, b.constant(1));
  for (let id = g.loss; id >= 0; id--) {
    const gOut = grad.get(id);
    if (gOut === undefined) continue;
    const n = nodes[id]!;
    if (n.op === 'input') continue;
    const needs = n.inputs.map((i, k) => edges[id]![k]! && requires[i]!);
    if (!needs.some(Boolean)) continue;
    const gIns = (OPS[n.op] as OpDef<OpName>).vjp(b, n as never, gOut, needs);
    n.inputs.forEach((i, k) => {
      const gi = gIns[k];
      if (!needs[k] || gi === null || gi === undefined) return;
      const prev = grad.get(i);
      grad.set(i, prev === undefined ? gi : b.binary('add', prev, gi));
    });
  }

  const out = b.finish({ loss: g.loss, terms: g.terms, ...(g.modelTerm ? { modelTerm: g.modelTerm } : {}) });
  out.grads = g.inputs
    .filter((i) => i.trainable && grad.has(i.node))
    .map((i) => ({ input: i.name, node: grad.get(i.node)! }));
  return out;
}
