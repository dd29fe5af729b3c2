// Algebraic rewrites before scheduling (exact in real arithmetic; in float they reorder a few roundings,
// and the log rule is more accurate than what it replaces):
// - factors that do not vary along a sum's reduced axes move out of it,
//     Σ_j (r · a_j / q) → r · (Σ_j a_j) / q      (r, q broadcast along j),
//   so the remaining sum reads fewer row statistics (it can run in an earlier sweep) and often is a sum the
//   graph already has (Σ_c softmax_c·k becomes k·Zt/Zt next to the Zt that softmax computed). Exact for an r
//   that is never ±∞ and a q that is never 0 (graph/value-range.ts): Σ_j a_j / 0 is NaN where the a_j have both
//   signs or a 0, (Σ_j a_j) / 0 is ±∞ there. A constant factor that may be ±∞ (or divisor 0: `x / 0.0` in a spec)
//   stays inside. A run-time one (a norm, a variance, a count of matches: FT, Affinity, SSKD, VID) moves out even
//   where it may be: refusing would cost those losses sweeps, and the sum is non-finite both ways then (±∞ or NaN,
//   named by TDC504), only ±∞ where torch's is NaN (README: tdc run, NaN and ±Inf);
// - log of exp products: log(exp(u)·r) → u + log r, log(exp(u)/r) → u − log r, log(where(c, a, b)) →
//   where(c, log a, log b) when that removes a log: xlogy(p, p) of a softmax p costs no per-element log;
// - a where inside the other branch of a where on the same condition is decided: where(c, a, x · where(c, b, y))
//   → where(c, a, x · y) (exact: the inner one is read only where c is false) — xlogy's safe log, where(p = 0, 0,
//   p · where(p = 0, 0, log p)), keeps one select per element.
// Rebuilt through GraphBuilder, whose hash-consing merges the new nodes with existing ones.
import { GraphBuilder } from '../../graph/builder.js';
import { isOneDim as isOne } from '../../graph/dims.js';
import { neverInfinite, neverZero } from '../../graph/value-range.js';
import type { Graph, Node, Shape } from '../../graph/types.js';

interface Factors {
  mul: number[];
  div: number[];
  rest: number[];
  negate: boolean;
}

export function simplifyAlgebra(g: Graph): Graph {
  const b = new GraphBuilder();
  const map = new Map<number, number>();
  const inputByNode = new Map(g.inputs.map((i) => [i.node, i]));
  for (const n of g.nodes) {
    const ins = n.inputs.map((i) => map.get(i)!);
    let id: number;
    if (n.op === 'input') {
      const gi = inputByNode.get(n.id);
      id = b.input(n.attrs.name, n.shape, n.dtype, gi?.trainable ?? false, n.origin);
    } else if (n.op === 'const') id = b.constant(n.attrs.value);
    else if (n.op === 'reduce' && n.attrs.fn === 'sum' && n.dtype === 'float') id = factoredSum(b, n, ins[0]!);
    else if (n.op === 'unary' && n.attrs.fn === 'log') id = simplerLog(b, ins[0]!, n.shape) ?? b.op(n.op, ins, n.attrs, n.origin);
    else if (n.op === 'where') id = b.op('where', [ins[0]!, ins[1]!, decidedElse(b, ins[0]!, ins[2]!)], {}, n.origin);
    else id = b.op(n.op, ins, n.attrs as never, n.origin);
    map.set(n.id, id);
  }
  const m = (id: number) => map.get(id)!;
  const out = b.finish({ loss: m(g.loss), terms: g.terms.map((t) => ({ ...t, node: m(t.node) })), ...(g.modelTerm ? { modelTerm: { ...g.modelTerm, node: m(g.modelTerm.node) } } : {}) });
  out.grads = g.grads.map((x) => ({ ...x, node: m(x.node) }));
  // inputs keep their order and trainable flags even when the builder saw them in another order
  out.inputs = g.inputs.filter((i) => map.has(i.node)).map((i) => ({ ...i, node: m(i.node) }));
  if (g.stateOut) out.stateOut = g.stateOut.map((x) => ({ ...x, node: m(x.node) }));
  return out;
}

function factoredSum(b: GraphBuilder, n: Node & { op: 'reduce' }, x: number): number {
  const S = b.shape(x);
  const axes = n.attrs.axes;
  const invariant = (shape: Shape): boolean => {
    const lead = S.length - shape.length;
    return axes.every((a) => a < lead || isOne(shape[a - lead]!));
  };
  const f = collect(b, x, invariant);
  if (!f.mul.length && !f.div.length && !f.negate) return b.op('reduce', [x], n.attrs, n.origin);
  let rest = f.rest.length ? f.rest.reduce((p, q) => b.binary('mul', p, q)) : b.constant(1);
  const rs = b.shape(rest);
  if (rs.length !== S.length || rs.some((d, k) => d !== S[k])) rest = b.op('broadcast', [rest], { shape: S });
  let r = b.op('reduce', [rest], { fn: 'sum', axes, keepdim: true }, n.origin);
  for (const k of f.mul) r = b.binary('mul', r, k);
  for (const k of f.div) r = b.binary('div', r, k);
  if (f.negate) r = b.unary('neg', r);
  if (!n.attrs.keepdim) r = b.op('reshape', [r], { shape: n.shape });
  return r;
}

function collect(b: GraphBuilder, id: number, invariant: (s: Shape) => boolean): Factors {
  const node = b.node(id);
  const of = (i: number) => b.node(i);
  if (node.dtype === 'float' && invariant(node.shape))
    return neverInfinite(of, id) || readsInput(b, id) ? { mul: [id], div: [], rest: [], negate: false } : { mul: [], div: [], rest: [id], negate: false };
  if (node.op === 'unary' && node.attrs.fn === 'neg') {
    const f = collect(b, node.inputs[0]!, invariant);
    return { ...f, negate: !f.negate };
  }
  if (node.op === 'broadcast' && node.dtype === 'float') return collect(b, node.inputs[0]!, invariant);
  if (node.op === 'binary' && node.dtype === 'float' && (node.attrs.fn === 'mul' || node.attrs.fn === 'div')) {
    const [p, q] = node.inputs as [number, number];
    if (b.node(p).dtype !== 'float' || b.node(q).dtype !== 'float') return { mul: [], div: [], rest: [id], negate: false };
    const fp = collect(b, p, invariant);
    if (node.attrs.fn === 'mul') {
      const fq = collect(b, q, invariant);
      return { mul: [...fp.mul, ...fq.mul], div: [...fp.div, ...fq.div], rest: [...fp.rest, ...fq.rest], negate: fp.negate !== fq.negate };
    }
    if (invariant(b.shape(q)) && (neverZero(of, q) || readsInput(b, q))) return { ...fp, div: [...fp.div, q] };
  }
  return { mul: [], div: [], rest: [id], negate: false };
}

/** Does node `id` read a graph input (a run-time value), or is it a function of constants and dims only? */
function readsInput(b: GraphBuilder, id: number): boolean {
  const seen = new Set<number>();
  const todo = [id];
  for (let i = todo.pop(); i !== undefined; i = todo.pop()) {
    if (seen.has(i)) continue;
    seen.add(i);
    const n = b.node(i);
    if (n.op === 'input') return true;
    todo.push(...n.inputs);
  }
  return false;
}

/** log(x) without a log of x itself, when x is built from exp / positive constants by ·, / and where; else undefined. */
function pushLog(b: GraphBuilder, x: number): number | undefined {
  const n = b.node(x);
  if (n.dtype !== 'float') return undefined;
  if (n.op === 'unary' && n.attrs.fn === 'exp') return n.inputs[0]!;
  if (n.op === 'const') return n.attrs.value > 0 ? b.constant(Math.log(n.attrs.value)) : undefined;
  if (n.op === 'binary' && (n.attrs.fn === 'mul' || n.attrs.fn === 'div')) {
    const [p, q] = n.inputs as [number, number];
    if (b.node(p).dtype !== 'float' || b.node(q).dtype !== 'float') return undefined;
    const lp = pushLog(b, p);
    const lq = pushLog(b, q);
    if (lp === undefined && lq === undefined) return undefined;
    return b.binary(n.attrs.fn === 'mul' ? 'add' : 'sub', lp ?? b.unary('log', p), lq ?? b.unary('log', q));
  }
  if (n.op === 'where') {
    const [c, p, q] = n.inputs as [number, number, number];
    if (b.node(p).dtype !== 'float' || b.node(q).dtype !== 'float') return undefined;
    const lp = pushLog(b, p);
    const lq = pushLog(b, q);
    if (lp === undefined && lq === undefined) return undefined;
    return b.op('where', [c, lp ?? b.unary('log', p), lq ?? b.unary('log', q)], {});
  }
  return undefined;
}

function simplerLog(b: GraphBuilder, x: number, shape: Shape): number | undefined {
  const r = pushLog(b, x);
  if (r === undefined) return undefined;
  const rs = b.shape(r);
  const same = rs.length === shape.length && rs.every((d, k) => d === shape[k]);
  return same ? r : b.op('broadcast', [r], { shape });
}

/** `x` read only where `c` is false: x · where(c, _, y) → x · y (one level, same shapes), else x itself. */
function decidedElse(b: GraphBuilder, c: number, x: number): number {
  const n = b.node(x);
  if (n.op !== 'binary' || n.attrs.fn !== 'mul') return x;
  const same = (id: number): boolean => {
    const s = b.shape(id);
    return s.length === n.shape.length && s.every((d, k) => d === n.shape[k]) && b.shape(c).length === s.length && b.shape(c).every((d, k) => d === s[k]);
  };
  const inner = (id: number): number => {
    const w = b.node(id);
    return w.op === 'where' && w.inputs[0] === c && same(id) ? w.inputs[2]! : id;
  };
  const [p, q] = n.inputs as [number, number];
  const [p2, q2] = [inner(p), inner(q)];
  return p2 === p && q2 === q ? x : b.binary('mul', p2, q2);
}
