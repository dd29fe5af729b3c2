// Elementwise unary math.
import { hostTensor } from '../host-tensor.js';
import { div, mul, neg, scale, zeros } from './grad-helpers.js';
import type { OpDef } from './op-def.js';
import { UNARY_MATH, unaryFn } from './scalar-fns.js';

export const unary: OpDef<'unary'> = {
  kind: 'elementwise',
  arity: 1,
  infer([x], attrs) {
    return { shape: [...x!.shape], dtype: x!.dtype === 'int' && UNARY_MATH[attrs.fn].keepsInt ? 'int' : 'float' };
  },
  vjp(b, node, g) {
    const x = node.inputs[0]!;
    const y = node.id;
    switch (node.attrs.fn) {
      case 'neg':
        return [neg(b, g)];
      case 'exp':
        return [mul(b, g, y)];
      case 'log':
        return [div(b, g, x)];
      case 'sqrt': // g / (2·sqrt(x)): inf at x = 0 like torch
        return [div(b, g, scale(b, y, 2))];
      case 'abs': // sign(x): 0 at 0
        return [mul(b, g, b.unary('sign', x))];
      case 'sign':
      case 'floor':
        return [zeros(b, node.shape)];
      case 'recip': // -g·y²
        return [neg(b, mul(b, g, mul(b, y, y)))];
      case 'tanh': {
        // torch (tanh_backward): g·(1 − y²). The same value as sech²(x) = 4e/(1 + e)², e = exp(−2|x|), which is what is
        // built: in float32, 1 − y² keeps only the digits of y that differ from 1 (relative error ≈ 2⁻²⁴/(1 − y²):
        // 3e-4 at x = 5, all of it past x ≈ 9), while 4e/(1 + e)² stays within a few ulp for every x (±inf → 0, NaN → NaN).
        const e = b.unary('exp', scale(b, b.unary('abs', x), -2));
        const onePlusE = b.binary('add', e, b.constant(1));
        return [mul(b, g, div(b, scale(b, e, 4), mul(b, onePlusE, onePlusE)))];
      }
      case 'log1p':
        return [div(b, g, b.binary('add', x, b.constant(1)))];
      case 'relu': // torch threshold_backward on the result: g where y > 0
        return [b.op('where', [b.binary('gt', y, b.constant(0)), g, b.constant(0)], {})];
    }
  },
  cpu([x], attrs, ctx) {
    const f = unaryFn(attrs.fn);
    const src = x!.data;
    const out = new Float64Array(src.length);
    for (let i = 0; i < src.length; i++) out[i] = f(src[i]!);
    return hostTensor(ctx.outShape, ctx.outDtype, out);
  },
};
