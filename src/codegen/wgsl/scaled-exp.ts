// Softmax numerators at two temperatures from one exp. A graph holding both exp(x − max x) (cross-entropy's
// softmax) and exp(x/k − max(x/k)) (distillation's, k = T a power of two) needs only the second: the first is
// its k-th power, by log2 k squarings. x/k is exact for a power of two k (barring subnormals), and so is
// max(x/k) = max(x)/k (rounding is monotonic), so x/k − max(x/k) = (x − max x)/k exactly; what differs is
// the rounding of exp's own argument scaling, which the squarings multiply by k — the same error exp(x − max x)
// makes on an argument k times larger. Kernels use it to skip one exp per element wherever both are computed.
import type { Graph, Node } from '../../graph/types.js';

/** exp(x − M) with M = max(x) has a scaled twin exp(x/k − M_k), M_k = max(x/k) over the same axes. */
export interface ScaledExp {
  /** The twin exp(x/k − M_k) node. */
  exp: number;
  /** M_k, the max of x/k (the twin's value needs it: a register or a buffer of the kernel). */
  max: number;
  /** log2 k: exp(x − M) = twin^(2^squarings). */
  squarings: number;
}

/** For a max reduction M over x: the max over x/k (same axes, k = 2, 4, 8) and log2 k, if the graph has one. */
export function scaledMax(g: Graph, max: number): { max: number; squarings: number } | undefined {
  const m = g.nodes[max]!;
  if (m.op !== 'reduce' || m.attrs.fn !== 'max' || m.dtype !== 'float') return undefined;
  const x = m.inputs[0]!;
  for (const y of consumers(g).get(x) ?? []) {
    const squarings = powerOfTwoDivisor(g, g.nodes[y]!, x);
    if (squarings === undefined) continue;
    for (const r of consumers(g).get(y) ?? []) {
      const n = g.nodes[r]!;
      if (n.op === 'reduce' && n.attrs.fn === 'max' && n.attrs.axes.join() === m.attrs.axes.join() && n.attrs.keepdim === m.attrs.keepdim) return { max: r, squarings };
    }
  }
  return undefined;
}

/** For exp node `e` = exp(x − M), M = max(x) (through detach/broadcast/reshape): its scaled twin, if the graph has one. */
export function scaledExp(g: Graph, e: number): ScaledExp | undefined {
  const parts = expOfShifted(g, g.nodes[e]!);
  if (!parts) return undefined;
  const twin = scaledMax(g, parts.max);
  if (!twin) return undefined;
  const y = g.nodes[twin.max]!.inputs[0]!;
  for (const d of consumers(g).get(y) ?? []) {
    const p = expOfShifted(g, g.nodes[d]!, true);
    if (p?.max !== twin.max) continue;
    for (const x of consumers(g).get(d) ?? []) {
      const n = g.nodes[x]!;
      if (n.op === 'unary' && n.attrs.fn === 'exp' && n.shape.length === g.nodes[e]!.shape.length) return { exp: x, max: twin.max, squarings: twin.squarings };
    }
  }
  return undefined;
}

/** exp(sub(x, M)) (or, with `isSub`, the sub itself) where M reads, through detach/broadcast/reshape, the max of x. */
function expOfShifted(g: Graph, n: Node, isSub = false): { max: number } | undefined {
  let d = n;
  if (!isSub) {
    if (n.op !== 'unary' || n.attrs.fn !== 'exp' || n.dtype !== 'float') return undefined;
    d = g.nodes[n.inputs[0]!]!;
  }
  if (d.op !== 'binary' || d.attrs.fn !== 'sub') return undefined;
  const [x, v] = d.inputs as [number, number];
  let m = g.nodes[v]!;
  while (m.op === 'detach' || m.op === 'broadcast' || m.op === 'reshape') m = g.nodes[m.inputs[0]!]!;
  if (m.op !== 'reduce' || m.attrs.fn !== 'max' || m.inputs[0] !== x || g.nodes[x]!.shape.length !== d.shape.length) return undefined;
  return { max: m.id };
}

/** log2 k when `n` is x / k or x · (1/k) for k = 2, 4 or 8. */
function powerOfTwoDivisor(g: Graph, n: Node, x: number): number | undefined {
  if (n.op !== 'binary' || n.dtype !== 'float' || (n.attrs.fn !== 'div' && n.attrs.fn !== 'mul')) return undefined;
  const [a, b] = n.inputs as [number, number];
  const other = a === x ? b : n.attrs.fn === 'mul' && b === x ? a : undefined;
  const c = other === undefined ? undefined : g.nodes[other]!;
  if (!c || c.op !== 'const' || c.shape.length !== 0) return undefined;
  const k = n.attrs.fn === 'div' ? c.attrs.value : 1 / c.attrs.value;
  const s = [2, 4, 8].indexOf(k);
  return s < 0 ? undefined : s + 1;
}

const consumerCache = new WeakMap<Graph, Map<number, number[]>>();

function consumers(g: Graph): Map<number, number[]> {
  let m = consumerCache.get(g);
  if (!m) {
    m = new Map();
    for (const n of g.nodes)
      for (const i of new Set(n.inputs)) {
        const list = m.get(i);
        if (list) list.push(n.id);
        else m.set(i, [n.id]);
      }
    consumerCache.set(g, m);
  }
  return m;
}
