// Reductions over a set of axes (sum/max/min).
import { shapeToString } from '../dims.js';
import { broadcastOffsets, hostTensor, numelOf } from '../host-tensor.js';
import type { Dim, Shape } from '../types.js';
import { div, expandTo, mul } from './grad-helpers.js';
import { normAxis, ShapeRuleError, type OpDef, type VjpBuilder } from './op-def.js';

function keptShape<T extends Dim>(shape: readonly T[], axes: number[], keepdim: boolean): (T | 1)[] {
  const out: (T | 1)[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepdim) out.push(1);
  });
  return out;
}

/** Reshape a reduced gradient back to keepdim form and expand to the input shape. */
function expandReduced(b: VjpBuilder, g: number, inShape: Shape, axes: number[]): number {
  const k = b.op('reshape', [g], { shape: keptShape(inShape, axes, true) });
  return expandTo(b, k, inShape);
}

export const reduce: OpDef<'reduce'> = {
  kind: 'reduction',
  arity: 1,
  infer([x], attrs) {
    const r = x!.shape.length;
    const axes = [...new Set(attrs.axes.map((a) => normAxis(`reduce ${attrs.fn}`, a, r)))].sort((a, b) => a - b);
    if (axes.length === 0 && r > 0)
      throw new ShapeRuleError(`reduce ${attrs.fn}: no axes given for shape ${shapeToString(x!.shape)} (list every axis to reduce all)`);
    return { shape: keptShape(x!.shape, axes, attrs.keepdim), dtype: x!.dtype, attrs: { ...attrs, axes } };
  },
  vjp(b, node, g) {
    const x = node.inputs[0]!;
    const inShape = b.shape(x);
    const { axes } = node.attrs;
    if (node.attrs.fn === 'sum') return [expandReduced(b, g, inShape, axes)];
    // max/min: torch 1.13's amax/amin backward (scale_grad_by_count): (g / count) · (x == result), count the
    // elements equal to the result, so tied extrema share the gradient evenly; a NaN result equals no element, and
    // g / 0 · 0 makes the gradient of every element of its row NaN, as torch's
    const hit = b.op('cast', [b.binary('eq', x, expandReduced(b, node.id, inShape, axes))], { dtype: 'float' });
    const count = b.op('reduce', [hit], { fn: 'sum', axes, keepdim: node.attrs.keepdim });
    return [mul(b, expandReduced(b, div(b, g, count), inShape, axes), hit)];
  },
  cpu([x], attrs, ctx) {
    const keep = keptShape(x!.shape, attrs.axes, true);
    const off = broadcastOffsets(keep, x!.shape);
    const n = numelOf(keep);
    const out = new Float64Array(n);
    const src = x!.data;
    if (attrs.fn === 'sum') {
      for (let i = 0; i < src.length; i++) out[off[i]!] += src[i]!;
    } else {
      const seen = new Uint8Array(n);
      const better = attrs.fn === 'max' ? (v: number, m: number) => v > m : (v: number, m: number) => v < m;
      for (let i = 0; i < src.length; i++) {
        const o = off[i]!;
        const v = src[i]!;
        if (!seen[o]) {
          seen[o] = 1;
          out[o] = v;
        } else if (!Number.isNaN(out[o]!) && (Number.isNaN(v) || better(v, out[o]!))) out[o] = v;
      }
    }
    return hostTensor(ctx.outShape, ctx.outDtype, out);
  },
};
