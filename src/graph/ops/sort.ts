// Stable sort along an axis. Outputs: sorted values, the source index of each sorted element (argsort),
// or the rank of each element (its position in the sorted order = the inverse permutation). NaN sorts as
// the largest value (torch). values VJP: gather the gradient back through the ranks.
import { hostTensor, stridesOf, walk } from '../host-tensor.js';
import { normAxis, type OpDef } from './op-def.js';

function cmp(a: number, b: number): number {
  const na = Number.isNaN(a);
  const nb = Number.isNaN(b);
  if (na || nb) return na === nb ? 0 : na ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export const sort: OpDef<'sort'> = {
  kind: 'serial',
  arity: 1,
  infer([x], attrs) {
    const axis = normAxis('sort', attrs.axis, x!.shape.length);
    return { shape: [...x!.shape], dtype: attrs.output === 'values' ? x!.dtype : 'int', attrs: { ...attrs, axis } };
  },
  diffInputs: (node, dts) => [node.attrs.output === 'values' && dts[0] === 'float'],
  vjp(b, node, g) {
    const x = node.inputs[0]!;
    const ranks = b.op('sort', [x], { axis: node.attrs.axis, descending: node.attrs.descending, output: 'ranks' });
    return [b.op('gather', [g, ranks], { axis: node.attrs.axis })];
  },
  cpu([x], attrs, ctx) {
    const shape = x!.shape;
    const axis = attrs.axis;
    const len = shape[axis]!;
    const st = stridesOf(shape);
    const step = st[axis]!;
    const lanes = walk(shape.map((d, i) => (i === axis ? 1 : d)), st);
    const out = new Float64Array(x!.data.length);
    const d = x!.data;
    const order = new Array<number>(len);
    const sign = attrs.descending ? -1 : 1;
    for (const base of lanes) {
      for (let k = 0; k < len; k++) order[k] = k;
      order.sort((a, b) => sign * cmp(d[base + a * step]!, d[base + b * step]!) || a - b); // Array.sort is stable; ties keep index order
      for (let k = 0; k < len; k++) {
        const src = order[k]!;
        if (attrs.output === 'values') out[base + k * step] = d[base + src * step]!;
        else if (attrs.output === 'indices') out[base + k * step] = src;
        else out[base + src * step] = k;
      }
    }
    return hostTensor(ctx.outShape, ctx.outDtype, out);
  },
};
