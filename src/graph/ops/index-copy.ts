// torch.Tensor.index_copy(dim, index, source): x with the slices index[b] along `axis` replaced by source[b].
// With a repeated index the last b wins, as torch's sequential CPU kernel writes them (CRD's memory-bank update,
// torchdistill's `memory.index_copy_(0, pos_idx, updated)`). The scheduler stores a state output that is an
// index_copy of its own state input in place: only the B slices are written (schedule/in-place-state.ts).
import { assumeDimEq, dimToString, shapeToString } from '../dims.js';
import { hostTensor, numelOf, stridesOf, type HostTensor } from '../host-tensor.js';
import { normAxis, ShapeRuleError, type OpDef } from './op-def.js';

export const index_copy: OpDef<'index_copy'> = {
  kind: 'indexed',
  arity: 3,
  infer([x, index, src], attrs) {
    const axis = normAxis('index_copy', attrs.axis, x!.shape.length);
    if (index!.dtype !== 'int') throw new ShapeRuleError(`index_copy: index must be an int tensor, got ${index!.dtype}`);
    if (index!.shape.length !== 1) throw new ShapeRuleError(`index_copy: index must be 1-D, got ${shapeToString(index!.shape)}`);
    if (src!.shape.length !== x!.shape.length)
      throw new ShapeRuleError(`index_copy: source ${shapeToString(src!.shape)} and self ${shapeToString(x!.shape)} must have the same rank`);
    src!.shape.forEach((d, i) => {
      const want = i === axis ? index!.shape[0]! : x!.shape[i]!;
      if (!assumeDimEq(d, want))
        throw new ShapeRuleError(
          `index_copy: source ${shapeToString(src!.shape)} has ${dimToString(d)} along axis ${i}, expected ${dimToString(want)} (${i === axis ? 'the index length' : 'as self'})`,
        );
    });
    return { shape: [...x!.shape], dtype: x!.dtype, attrs: { axis } };
  },
  diffInputs: (_n, dts) => [dts[0] === 'float', false, dts[2] === 'float'],
  // torch (tools/autograd/derivatives.yaml, index_copy): self: grad.index_fill(dim, index, 0);
  // source: grad.index_select(dim, index) — every source slice gets the gradient at its index, also one a later
  // duplicate overwrote (torch's formula, kept).
  vjp(b, node, g, needs) {
    const [, index, src] = node.inputs as [number, number, number];
    const axis = node.attrs.axis;
    const ss = b.shape(src);
    const dx = needs[0] ? b.op('index_copy', [g, index, b.op('broadcast', [b.constant(0)], { shape: ss })], { axis }) : null;
    let dsrc: number | null = null;
    if (needs[2]) {
      const col = b.op('reshape', [index], { shape: ss.map((d, i) => (i === axis ? d : 1)) });
      dsrc = b.op('gather', [g, b.op('broadcast', [col], { shape: ss })], { axis });
    }
    return [dx, null, dsrc];
  },
  cpu([x, index, src], attrs, ctx) {
    const axis = attrs.axis;
    const shape = ctx.outShape;
    const size = shape[axis]!;
    const out = Float64Array.from(x!.data);
    const st = stridesOf(shape);
    const outer = numelOf(shape.slice(0, axis));
    const inner = st[axis]!;
    const B = index!.data.length;
    for (let b = 0; b < B; b++) {
      const r = index!.data[b]!;
      if (!(Number.isInteger(r) && r >= 0 && r < size)) throw new Error(`index_copy: index ${r} is out of range for an axis of size ${size}`);
      for (let o = 0; o < outer; o++)
        for (let q = 0; q < inner; q++) out[(o * size + r) * inner + q] = src!.data[(o * B + b) * inner + q]!;
    }
    return hostTensor(shape, x!.dtype, out) as HostTensor;
  },
};
