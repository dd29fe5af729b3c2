// Batched matmul: [..., M, K] @ [..., K, N] with broadcast batch dims.
import { assumeDimEq, broadcastShapes, dimToString, shapeToString } from '../dims.js';
import { broadcastOffsets, hostTensor, numelOf } from '../host-tensor.js';
import { sumTo, transposeLast } from './grad-helpers.js';
import { ShapeRuleError, type OpDef, type VjpBuilder } from './op-def.js';

export const matmul: OpDef<'matmul'> = {
  kind: 'contraction',
  arity: 2,
  infer([a, b]) {
    const sa = a!.shape;
    const sb = b!.shape;
    const msg = (why: string) => `matmul: shapes ${shapeToString(sa)} and ${shapeToString(sb)} ${why}`;
    if (sa.length < 2 || sb.length < 2) throw new ShapeRuleError(msg('must both have rank ≥ 2'));
    const k1 = sa[sa.length - 1]!;
    const k2 = sb[sb.length - 2]!;
    if (!assumeDimEq(k1, k2)) throw new ShapeRuleError(msg(`have inner sizes ${dimToString(k1)} and ${dimToString(k2)}`));
    const batch = broadcastShapes(sa.slice(0, -2), sb.slice(0, -2));
    if (!batch) throw new ShapeRuleError(msg('have batch dims that do not broadcast'));
    return { shape: [...batch, sa[sa.length - 2]!, sb[sb.length - 1]!], dtype: 'float' };
  },
  vjp(b, node, g, needs) {
    const [x, y] = node.inputs as [number, number];
    // Gram matrix x·xᵀ: both operands are x, so dx = g·x + (xᵀ·g)ᵀ = (g + gᵀ)·x — one matmul instead of two
    // (the transposed operand's share is routed straight to x, the permute node gets none from here).
    if (needs[0] && isTransposeOf(b, y, x)) return [sumTo(b, b.op('matmul', [b.binary('add', g, transposeLast(b, g)), x], {}), b.shape(x)), null];
    return [
      needs[0] ? sumTo(b, b.op('matmul', [g, transposeLast(b, y)], {}), b.shape(x)) : null,
      needs[1] ? sumTo(b, b.op('matmul', [transposeLast(b, x), g], {}), b.shape(y)) : null,
    ];
  },
  cpu([a, b], _attrs, ctx) {
    const os = ctx.outShape;
    const r = os.length;
    const M = os[r - 2]!;
    const N = os[r - 1]!;
    const K = a!.shape[a!.shape.length - 1]!;
    const batch = os.slice(0, -2);
    const oa = broadcastOffsets(a!.shape.slice(0, -2), batch);
    const ob = broadcastOffsets(b!.shape.slice(0, -2), batch);
    const out = new Float64Array(numelOf(os));
    const A = a!.data;
    const B = b!.data;
    for (let t = 0; t < oa.length; t++) {
      const ab = oa[t]! * M * K;
      const bb = ob[t]! * K * N;
      const obase = t * M * N;
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += A[ab + i * K + k]! * B[bb + k * N + j]!;
          out[obase + i * N + j] = s;
        }
    }
    return hostTensor(os, 'float', out);
  },
};

/** Is node `y` x with its last two axes swapped (and nothing else)? */
function isTransposeOf(b: VjpBuilder, y: number, x: number): boolean {
  const n = b.node(y);
  if (n.op !== 'permute' || n.inputs[0] !== x) return false;
  const perm = n.attrs.perm;
  const r = perm.length;
  return r >= 2 && perm[r - 2] === r - 1 && perm[r - 1] === r - 2 && perm.slice(0, -2).every((p, i) => p === i);
}
