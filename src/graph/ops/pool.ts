// adaptive_{avg,max}_pool2d over the last two dims with torch's bins: bin i of k over size H is
// [floor(i·H/k), ceil((i+1)·H/k)), so bins overlap when k does not divide H. Max picks the first maximum
// in row-major order of the bin, or its last NaN (torch's CPU kernel: `val > max || isnan(val)`), where the
// gradient goes. adaptive_pool2d_grad is the VJP (scatter into bins).
import { assumeDimEq, shapeToString, simplifyDim } from '../dims.js';
import { hostTensor, numelOf } from '../host-tensor.js';
import { zeros } from './grad-helpers.js';
import { ShapeRuleError, type OpDef } from './op-def.js';

const binStart = (i: number, size: number, k: number) => Math.floor((i * size) / k);
const binEnd = (i: number, size: number, k: number) => Math.ceil(((i + 1) * size) / k);

interface Geometry {
  planes: number;
  H: number;
  W: number;
  oh: number;
  ow: number;
}

/** Visit every output cell with its bin; `cell` is the flat output index, `base` the plane offset in the input. */
function forEachBin(g: Geometry, f: (cell: number, base: number, h0: number, h1: number, w0: number, w1: number) => void) {
  const { planes, H, W, oh, ow } = g;
  for (let p = 0; p < planes; p++)
    for (let i = 0; i < oh; i++) {
      const h0 = binStart(i, H, oh);
      const h1 = binEnd(i, H, oh);
      for (let j = 0; j < ow; j++) f((p * oh + i) * ow + j, p * H * W, h0, h1, binStart(j, W, ow), binEnd(j, W, ow));
    }
}

/** Offset (within the plane) of the first maximum of a bin, or of its last NaN. */
function argmaxInBin(x: Float64Array, base: number, W: number, h0: number, h1: number, w0: number, w1: number): number {
  let best = h0 * W + w0;
  let m = x[base + best]!;
  for (let h = h0; h < h1; h++)
    for (let w = w0; w < w1; w++) {
      const v = x[base + h * W + w]!;
      if (v > m || Number.isNaN(v)) {
        m = v;
        best = h * W + w;
      }
    }
  return best;
}

export const adaptive_pool2d: OpDef<'adaptive_pool2d'> = {
  kind: 'indexed',
  arity: 1,
  infer([x], attrs) {
    const s = x!.shape;
    if (s.length < 2) throw new ShapeRuleError(`adaptive_${attrs.fn}_pool2d: input ${shapeToString(s)} needs at least 2 dims`);
    const out = attrs.out.map(simplifyDim) as [typeof attrs.out[0], typeof attrs.out[1]];
    if (out.some((d) => typeof d === 'number' && d < 1)) throw new ShapeRuleError(`adaptive_${attrs.fn}_pool2d: output size ${shapeToString(out)} must be positive`);
    if (x!.dtype !== 'float') throw new ShapeRuleError(`adaptive_${attrs.fn}_pool2d: input must be float`);
    return { shape: [...s.slice(0, -2), ...out], dtype: 'float', attrs: { fn: attrs.fn, out } };
  },
  vjp(b, node, g) {
    const x = node.inputs[0]!;
    const s = b.shape(x);
    const inHW: [typeof s[0], typeof s[0]] = [s[s.length - 2]!, s[s.length - 1]!];
    return node.attrs.fn === 'avg'
      ? [b.op('adaptive_pool2d_grad', [g], { fn: 'avg', in: inHW })]
      : [b.op('adaptive_pool2d_grad', [x, g], { fn: 'max', in: inHW })];
  },
  cpu([x], attrs, ctx) {
    const s = x!.shape;
    const r = s.length;
    const geo: Geometry = { planes: numelOf(s.slice(0, -2)), H: s[r - 2]!, W: s[r - 1]!, oh: ctx.outShape[r - 2]!, ow: ctx.outShape[r - 1]! };
    const out = new Float64Array(numelOf(ctx.outShape));
    const d = x!.data;
    forEachBin(geo, (cell, base, h0, h1, w0, w1) => {
      if (attrs.fn === 'max') out[cell] = d[base + argmaxInBin(d, base, geo.W, h0, h1, w0, w1)]!;
      else {
        let acc = 0;
        for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) acc += d[base + h * geo.W + w]!;
        out[cell] = acc / ((h1 - h0) * (w1 - w0));
      }
    });
    return hostTensor(ctx.outShape, 'float', out);
  },
};

export const adaptive_pool2d_grad: OpDef<'adaptive_pool2d_grad'> = {
  kind: 'indexed',
  arity: 'variadic',
  infer(ins, attrs) {
    const max = attrs.fn === 'max';
    if (ins.length !== (max ? 2 : 1)) throw new ShapeRuleError(`adaptive_pool2d_grad ${attrs.fn}: expected ${max ? 2 : 1} inputs, got ${ins.length}`);
    const g = ins[ins.length - 1]!;
    if (g.shape.length < 2) throw new ShapeRuleError(`adaptive_pool2d_grad: gradient ${shapeToString(g.shape)} needs at least 2 dims`);
    const inHW = attrs.in.map(simplifyDim) as [typeof attrs.in[0], typeof attrs.in[1]];
    const shape = [...g.shape.slice(0, -2), ...inHW];
    if (max) {
      const xs = ins[0]!.shape;
      if (xs.length !== shape.length || xs.some((d, i) => !assumeDimEq(d, shape[i]!)))
        throw new ShapeRuleError(`adaptive_pool2d_grad max: input ${shapeToString(xs)} does not match gradient ${shapeToString(g.shape)} pooled from ${shapeToString(inHW)}`);
    }
    return { shape, dtype: 'float', attrs: { fn: attrs.fn, in: inHW } };
  },
  diffInputs: (node) => (node.attrs.fn === 'avg' ? [true] : [false, true]),
  vjp(b, node, g, needs) {
    const gIn = node.inputs[node.inputs.length - 1]!;
    const gs = b.shape(gIn);
    const out: [typeof gs[0], typeof gs[0]] = [gs[gs.length - 2]!, gs[gs.length - 1]!];
    if (node.attrs.fn === 'avg') return [b.op('adaptive_pool2d', [g], { fn: 'avg', out })];
    if (needs[1]) throw new Error('adaptive_pool2d_grad: second-order gradients of adaptive max pooling are not supported');
    return [needs[0] ? zeros(b, b.shape(node.inputs[0]!)) : null, null];
  },
  cpu(ins, attrs, ctx) {
    const g = ins[ins.length - 1]!;
    const r = ctx.outShape.length;
    const geo: Geometry = { planes: numelOf(ctx.outShape.slice(0, -2)), H: ctx.outShape[r - 2]!, W: ctx.outShape[r - 1]!, oh: g.shape[r - 2]!, ow: g.shape[r - 1]! };
    const out = new Float64Array(numelOf(ctx.outShape));
    const x = attrs.fn === 'max' ? ins[0]!.data : undefined;
    forEachBin(geo, (cell, base, h0, h1, w0, w1) => {
      const gv = g.data[cell]!;
      if (x) out[base + argmaxInBin(x, base, geo.W, h0, h1, w0, w1)] += gv;
      else {
        const share = gv / ((h1 - h0) * (w1 - w0));
        for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) out[base + h * geo.W + w] += share;
      }
    });
    return hostTensor(ctx.outShape, 'float', out);
  },
};
