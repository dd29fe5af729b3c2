// torch.gather along an axis, and its adjoint scatter_add.
import { assumeDimEq, dimEq, shapeToString, simplifyDim } from '../dims.js';
import { hostTensor, numelOf, stridesOf, walk, type HostTensor } from '../host-tensor.js';
import type { Shape } from '../types.js';
import { normAxis, ShapeRuleError, type OpDef, type TypedShape } from './op-def.js';

function checkIndexed(op: string, data: Shape, index: TypedShape, axis: number) {
  if (index.dtype !== 'int') throw new ShapeRuleError(`${op}: index must be an int tensor, got ${index.dtype}`);
  if (index.shape.length !== data.length)
    throw new ShapeRuleError(`${op}: index ${shapeToString(index.shape)} and data ${shapeToString(data)} must have the same rank`);
  index.shape.forEach((d, i) => {
    const x = data[i]!;
    if (i !== axis && typeof d === 'number' && typeof x === 'number' && d > x)
      throw new ShapeRuleError(`${op}: index ${shapeToString(index.shape)} is larger than data ${shapeToString(data)} along axis ${i}`);
  });
}

/** For each element of `index` (row-major): the offset into a tensor of `dataShape` with the axis coordinate zeroed. */
function baseOffsets(index: HostTensor, dataShape: number[], axis: number): { base: Int32Array; step: number } {
  const st = stridesOf(dataShape);
  return { base: walk(index.shape, st.map((s, i) => (i === axis ? 0 : s))), step: st[axis]! };
}

function checkedIndex(op: string, v: number, size: number): number {
  if (!(v >= 0 && v < size)) throw new Error(`${op}: index ${v} is out of range for an axis of size ${size}`);
  return v;
}

export const gather: OpDef<'gather'> = {
  kind: 'indexed',
  arity: 2,
  infer([x, index], attrs) {
    const axis = normAxis('gather', attrs.axis, x!.shape.length);
    checkIndexed('gather', x!.shape, index!, axis);
    return { shape: [...index!.shape], dtype: x!.dtype, attrs: { axis } };
  },
  diffInputs: (_n, dts) => [dts[0] === 'float', false],
  vjp(b, node, g) {
    const [x, index] = node.inputs as [number, number];
    const xs = b.shape(x);
    const is = b.shape(index);
    const axis = node.attrs.axis;
    const oneHot = dimEq(is[axis]!, 1) === true && is.every((d, i) => i === axis || dimEq(d, xs[i]!) === true);
    if (oneHot) {
      // one index per row: the scatter is an elementwise select (fuses; no accumulation)
      const pos = b.op('iota', [], { shape: xs, axis, dtype: 'int' });
      return [b.op('where', [b.binary('eq', pos, index), g, b.constant(0)], {}), null];
    }
    return [b.op('scatter_add', [index, g], { axis, shape: xs }), null];
  },
  cpu([x, index], attrs, ctx) {
    const { base, step } = baseOffsets(index!, x!.shape, attrs.axis);
    const size = x!.shape[attrs.axis]!;
    const out = new Float64Array(base.length);
    for (let i = 0; i < out.length; i++) out[i] = x!.data[base[i]! + step * checkedIndex('gather', index!.data[i]!, size)]!;
    return hostTensor(ctx.outShape, x!.dtype, out);
  },
};

export const scatter_add: OpDef<'scatter_add'> = {
  kind: 'indexed',
  arity: 2,
  infer([index, src], attrs) {
    const shape = attrs.shape.map(simplifyDim);
    const axis = normAxis('scatter_add', attrs.axis, shape.length);
    checkIndexed('scatter_add', shape, index!, axis);
    if (src!.shape.length !== index!.shape.length || src!.shape.some((d, i) => !assumeDimEq(d, index!.shape[i]!)))
      throw new ShapeRuleError(`scatter_add: source ${shapeToString(src!.shape)} and index ${shapeToString(index!.shape)} differ`);
    return { shape, dtype: src!.dtype, attrs: { axis, shape } };
  },
  diffInputs: (_n, dts) => [false, dts[1] === 'float'],
  vjp(b, node, g) {
    const [index] = node.inputs as [number, number];
    return [null, b.op('gather', [g, index], { axis: node.attrs.axis })];
  },
  cpu([index, src], attrs, ctx) {
    const { base, step } = baseOffsets(index!, ctx.outShape, attrs.axis);
    const size = ctx.outShape[attrs.axis]!;
    const out = new Float64Array(numelOf(ctx.outShape));
    for (let i = 0; i < base.length; i++) out[base[i]! + step * checkedIndex('scatter_add', index!.data[i]!, size)] += src!.data[i]!;
    return hostTensor(ctx.outShape, src!.dtype, out);
  },
};
