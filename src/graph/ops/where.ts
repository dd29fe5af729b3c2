// where(cond != 0, a, b) with three-way broadcasting.
import { broadcastShapes, shapeToString } from '../dims.js';
import { broadcastOffsets, hostTensor } from '../host-tensor.js';
import { sumTo } from './grad-helpers.js';
import { ShapeRuleError, promote, type OpDef } from './op-def.js';

export const where: OpDef<'where'> = {
  kind: 'elementwise',
  arity: 3,
  infer([c, a, b]) {
    const ab = broadcastShapes(a!.shape, b!.shape);
    const shape = ab && broadcastShapes(c!.shape, ab);
    if (!shape)
      throw new ShapeRuleError(
        `where: shapes ${shapeToString(c!.shape)}, ${shapeToString(a!.shape)} and ${shapeToString(b!.shape)} do not broadcast`,
      );
    return { shape, dtype: promote(a!.dtype, b!.dtype) };
  },
  diffInputs: (_n, dts) => [false, dts[1] === 'float', dts[2] === 'float'],
  vjp(b, node, g, needs) {
    const [c, x, y] = node.inputs as [number, number, number];
    const zero = b.constant(0);
    return [
      null,
      needs[1] ? sumTo(b, b.op('where', [c, g, zero], {}), b.shape(x)) : null,
      needs[2] ? sumTo(b, b.op('where', [c, zero, g], {}), b.shape(y)) : null,
    ];
  },
  cpu([c, a, b], _attrs, ctx) {
    const oc = broadcastOffsets(c!.shape, ctx.outShape);
    const oa = broadcastOffsets(a!.shape, ctx.outShape);
    const ob = broadcastOffsets(b!.shape, ctx.outShape);
    const out = new Float64Array(oc.length);
    for (let i = 0; i < out.length; i++) out[i] = c!.data[oc[i]!] !== 0 ? a!.data[oa[i]!]! : b!.data[ob[i]!]!;
    return hostTensor(ctx.outShape, ctx.outDtype, out);
  },
};
