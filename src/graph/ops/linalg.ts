// Cholesky factorisation (lower factor, reads the lower triangle) and triangular solves, batched over
// leading dims. VJPs: Murray (2016) for Cholesky in torch's form; the standard solve adjoint for
// triangular_solve, projected onto the triangle that is read.
import { assumeDimEq, broadcastShapes, dimToString, shapeToString } from '../dims.js';
import { broadcastOffsets, hostTensor, numelOf } from '../host-tensor.js';
import { add, neg, scale, sumTo, transposeLast, triPart } from './grad-helpers.js';
import { ShapeRuleError, type OpDef } from './op-def.js';

export const cholesky: OpDef<'cholesky'> = {
  kind: 'serial',
  arity: 1,
  infer([a]) {
    const s = a!.shape;
    if (s.length < 2 || !assumeDimEq(s[s.length - 1]!, s[s.length - 2]!))
      throw new ShapeRuleError(`cholesky: input ${shapeToString(s)} is not a (batch of) square matrices`);
    if (a!.dtype !== 'float') throw new ShapeRuleError('cholesky: input must be float');
    return { shape: [...s], dtype: 'float' };
  },
  vjp(b, node, gL) {
    // torch: P = tril(Lᵀ gL); P = ½(P + tril(P, −1)ᵀ); gA = L⁻ᵀ P L⁻¹
    const L = node.id;
    const P0 = triPart(b, b.op('matmul', [transposeLast(b, L), gL], {}), true, false);
    const P = scale(b, add(b, P0, transposeLast(b, triPart(b, P0, true, true))), 0.5);
    const S = b.op('triangular_solve', [L, P], { lower: true, transpose: true }); // L⁻ᵀ P
    const gAt = b.op('triangular_solve', [L, transposeLast(b, S)], { lower: true, transpose: true }); // (S L⁻¹)ᵀ
    return [transposeLast(b, gAt)];
  },
  cpu([a], _attrs, ctx) {
    const s = ctx.outShape;
    const n = s[s.length - 1]!;
    const out = new Float64Array(numelOf(s));
    const A = a!.data;
    for (let base = 0; base < out.length; base += n * n)
      for (let j = 0; j < n; j++) {
        let d = A[base + j * n + j]!;
        for (let k = 0; k < j; k++) d -= out[base + j * n + k]! ** 2;
        if (!(d > 0)) throw new Error(`cholesky: the matrix is not positive-definite (leading minor of order ${j + 1})`);
        const ljj = Math.sqrt(d);
        out[base + j * n + j] = ljj;
        for (let i = j + 1; i < n; i++) {
          let v = A[base + i * n + j]!;
          for (let k = 0; k < j; k++) v -= out[base + i * n + k]! * out[base + j * n + k]!;
          out[base + i * n + j] = v / ljj;
        }
      }
    return hostTensor(s, 'float', out);
  },
};

export const triangular_solve: OpDef<'triangular_solve'> = {
  kind: 'serial',
  arity: 2,
  infer([a, b], attrs) {
    const sa = a!.shape;
    const sb = b!.shape;
    const msg = (why: string) => `triangular_solve: shapes ${shapeToString(sa)} and ${shapeToString(sb)} ${why}`;
    if (sa.length < 2 || sb.length < 2) throw new ShapeRuleError(msg('must both have rank ≥ 2'));
    const n = sa[sa.length - 1]!;
    if (!assumeDimEq(n, sa[sa.length - 2]!)) throw new ShapeRuleError(msg('— the first is not square'));
    if (!assumeDimEq(n, sb[sb.length - 2]!)) throw new ShapeRuleError(msg(`— ${dimToString(n)} rows expected in the right-hand side`));
    const batch = broadcastShapes(sa.slice(0, -2), sb.slice(0, -2));
    if (!batch) throw new ShapeRuleError(msg('have batch dims that do not broadcast'));
    return { shape: [...batch, sb[sb.length - 2]!, sb[sb.length - 1]!], dtype: 'float', attrs: { lower: attrs.lower, transpose: attrs.transpose } };
  },
  vjp(b, node, g, needs) {
    const [A, B] = node.inputs as [number, number];
    const { lower, transpose } = node.attrs;
    const X = node.id;
    const gB = b.op('triangular_solve', [A, g], { lower, transpose: !transpose }); // op(A)⁻ᵀ g
    let gA: number | null = null;
    if (needs[0]) {
      const full = transpose ? neg(b, b.op('matmul', [X, transposeLast(b, gB)], {})) : neg(b, b.op('matmul', [gB, transposeLast(b, X)], {}));
      gA = sumTo(b, triPart(b, full, lower, false), b.shape(A));
    }
    return [gA, needs[1] ? sumTo(b, gB, b.shape(B)) : null];
  },
  cpu([a, bm], attrs, ctx) {
    const os = ctx.outShape;
    const r = os.length;
    const n = os[r - 2]!;
    const k = os[r - 1]!;
    const batch = os.slice(0, -2);
    const oa = broadcastOffsets(a!.shape.slice(0, -2), batch);
    const ob = broadcastOffsets(bm!.shape.slice(0, -2), batch);
    const out = new Float64Array(numelOf(os));
    const A = a!.data;
    const B = bm!.data;
    // effective matrix M = op(A), read from A's stored triangle
    const forward = attrs.lower !== attrs.transpose; // M lower triangular
    for (let t = 0; t < oa.length; t++) {
      const ab = oa[t]! * n * n;
      const bb = ob[t]! * n * k;
      const xb = t * n * k;
      const M = (i: number, j: number) => (attrs.transpose ? A[ab + j * n + i]! : A[ab + i * n + j]!);
      for (let c = 0; c < k; c++)
        for (let s = 0; s < n; s++) {
          const i = forward ? s : n - 1 - s;
          let v = B[bb + i * k + c]!;
          if (forward) for (let j = 0; j < i; j++) v -= M(i, j) * out[xb + j * k + c]!;
          else for (let j = i + 1; j < n; j++) v -= M(i, j) * out[xb + j * k + c]!;
          out[xb + i * k + c] = v / M(i, i);
        }
    }
    return hostTensor(os, 'float', out);
  },
};
