// Elementwise unary math.
import { hostTensor } from '../host-tensor.js';
import { div, mul, neg, scale, sub, zeros } from './grad-helpers.js';
import type { OpDef } from './op-def.js';
import { INT_PRESERVING_UNARY, unaryFn } from './scalar-fns.js';

export const unary: OpDef<'unary'> = {
  kind: 'elementwise',
  arity: 1,
  infer([x], attrs) {
    return { shape: [...x!.shape], dtype: x!.dtype === 'int' && INT_PRESERVING_UNARY.has(attrs.fn) ? 'int' : 'float' };
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
      case 'tanh': // g·(1 − y²)
        return [mul(b, g, sub(b, b.constant(1), mul(b, y, y)))];
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
