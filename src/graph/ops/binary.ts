// Broadcasting binary ops (arithmetic, maximum/minimum, comparisons).
import { broadcastShapes, shapeToString } from '../dims.js';
import { broadcastOffsets, hostTensor } from '../host-tensor.js';
import { div, mul, neg, scale, sub, sumTo } from './grad-helpers.js';
import { ShapeRuleError, promote, type OpDef } from './op-def.js';
import { BINARY_MATH, binaryFn } from './scalar-fns.js';

export const binary: OpDef<'binary'> = {
  kind: 'elementwise',
  arity: 2,
  infer([a, b], attrs) {
    const shape = broadcastShapes(a!.shape, b!.shape);
    if (!shape) throw new ShapeRuleError(`${attrs.fn}: shapes ${shapeToString(a!.shape)} and ${shapeToString(b!.shape)} do not broadcast`);
    const both = promote(a!.dtype, b!.dtype);
    return { shape, dtype: BINARY_MATH[attrs.fn].keepsInt ? both : 'float' };
  },
  diffInputs(node, dts) {
    return BINARY_MATH[node.attrs.fn].comparison ? [false, false] : dts.map((d) => d === 'float');
  },
  vjp(b, node, g, needs) {
    const [x, y] = node.inputs as [number, number];
    const sx = b.shape(x);
    const sy = b.shape(y);
    const out = (gx: number | null, gy: number | null): (number | null)[] => [
      needs[0] && gx !== null ? sumTo(b, gx, sx) : null,
      needs[1] && gy !== null ? sumTo(b, gy, sy) : null,
    ];
    const zero = b.constant(0);
    switch (node.attrs.fn) {
      case 'add':
        return out(g, g);
      case 'sub':
        return out(g, needs[1] ? neg(b, g) : null);
      case 'mul':
        return out(needs[0] ? mul(b, g, y) : null, needs[1] ? mul(b, g, x) : null);
      case 'div': // torch: g/b and −g·a/(b·b)
        return out(needs[0] ? div(b, g, y) : null, needs[1] ? div(b, neg(b, mul(b, g, x)), mul(b, y, y)) : null);
      case 'pow': {
        // torch pow_backward: d/dx = where(y == 0, 0, g·y·x^(y−1)); d/dy = where(x == 0 & y >= 0, 0, g·x^y·log x)
        let gx: number | null = null;
        let gy: number | null = null;
        if (needs[0]) {
          const d = mul(b, y, b.binary('pow', x, sub(b, y, b.constant(1))));
          gx = b.op('where', [b.binary('eq', y, zero), zero, mul(b, g, d)], {});
        }
        if (needs[1]) {
          const mask = mul(b, b.binary('eq', x, zero), b.binary('ge', y, zero));
          gy = b.op('where', [mask, zero, mul(b, g, mul(b, node.id, b.unary('log', x)))], {});
        }
        return out(gx, gy);
      }
      case 'maximum':
      case 'minimum': {
        // torch: where(x == y, g/2, g), masked to 0 on the losing side
        const tie = b.op('where', [b.binary('eq', x, y), scale(b, g, 0.5), g], {});
        const xLoses = node.attrs.fn === 'maximum' ? b.binary('lt', x, y) : b.binary('gt', x, y);
        const yLoses = node.attrs.fn === 'maximum' ? b.binary('gt', x, y) : b.binary('lt', x, y);
        return out(
          needs[0] ? b.op('where', [xLoses, zero, tie], {}) : null,
          needs[1] ? b.op('where', [yLoses, zero, tie], {}) : null,
        );
      }
      default:
        return [null, null];
    }
  },
  cpu([a, b], attrs, ctx) {
    const f = binaryFn(attrs.fn);
    const oa = broadcastOffsets(a!.shape, ctx.outShape);
    const ob = broadcastOffsets(b!.shape, ctx.outShape);
    const da = a!.data;
    const db = b!.data;
    const out = new Float64Array(oa.length);
    for (let i = 0; i < out.length; i++) out[i] = f(da[oa[i]!]!, db[ob[i]!]!);
    return hostTensor(ctx.outShape, ctx.outDtype, out);
  },
};
