// Layout ops: reshape, permute, broadcast, slice, slice_scatter, concat.
import {
  addDims, assumeDimEq, broadcastDim, ceilDivDims, dimEq, dimToString, divExactDims, mulDims, numel, shapeToString, simplifyDim, subDims,
} from '../dims.js';
import { broadcastOffsets, hostTensor, numelOf, stridesOf, walk } from '../host-tensor.js';
import type { Dim } from '../types.js';
import { sumTo } from './grad-helpers.js';
import { normAxis, promote, ShapeRuleError, type OpDef } from './op-def.js';

export const reshape: OpDef<'reshape'> = {
  kind: 'layout',
  arity: 1,
  infer([x], attrs) {
    const total = numel(x!.shape);
    const holes = attrs.shape.filter((d) => d === -1).length;
    if (holes > 1) throw new ShapeRuleError(`reshape: more than one -1 in ${shapeToString(attrs.shape)}`);
    let shape = attrs.shape.map(simplifyDim);
    if (holes === 1) {
      const known = mulDims(...shape.filter((d) => d !== -1));
      const fill = divExactDims(total, known);
      if (fill === undefined)
        throw new ShapeRuleError(
          `reshape: cannot infer -1 reshaping ${shapeToString(x!.shape)} to ${shapeToString(attrs.shape)}`,
          // symbolic sizes (--shape letters, the default [N, C]) say nothing of divisibility: SSKD's [-1, 4, D] of [N, D] (its
          // batch holds 4 views of each image), ICKD's [N, C, -1] of a feature map of other letters
          typeof total === 'number' ? undefined : `${dimToString(total)} elements need not be a multiple of ${dimToString(known)}: pin the sizes involved to numbers (--shape name=64x128), or give inputs whose sizes must agree the same letters, or compile with --like a sample io_dict`,
        );
      shape = shape.map((d) => (d === -1 ? fill : d));
    }
    if (!assumeDimEq(numel(shape), total))
      throw new ShapeRuleError(`reshape: cannot reshape ${shapeToString(x!.shape)} (${dimToString(total)} elements) to ${shapeToString(shape)}`);
    return { shape, dtype: x!.dtype, attrs: { shape } };
  },
  vjp: (b, node, g) => [b.op('reshape', [g], { shape: b.shape(node.inputs[0]!) })],
  cpu: ([x], _a, ctx) => {
    if (numelOf(ctx.outShape) !== x!.data.length)
      throw new Error(`reshape: cannot reshape [${x!.shape.join(', ')}] to [${ctx.outShape.join(', ')}]`);
    return hostTensor(ctx.outShape, x!.dtype, x!.data);
  },
};

export const permute: OpDef<'permute'> = {
  kind: 'layout',
  arity: 1,
  infer([x], attrs) {
    const r = x!.shape.length;
    const perm = attrs.perm.map((p) => normAxis('permute', p, r));
    if (perm.length !== r || new Set(perm).size !== r)
      throw new ShapeRuleError(`permute: [${attrs.perm.join(', ')}] is not a permutation of the axes of ${shapeToString(x!.shape)}`);
    return { shape: perm.map((p) => x!.shape[p]!), dtype: x!.dtype, attrs: { perm } };
  },
  vjp(b, node, g) {
    const inv = node.attrs.perm.map((_, i) => node.attrs.perm.indexOf(i));
    return [b.op('permute', [g], { perm: inv })];
  },
  cpu([x], attrs, ctx) {
    const st = stridesOf(x!.shape);
    const off = walk(ctx.outShape, attrs.perm.map((p) => st[p]!));
    return hostTensor(ctx.outShape, x!.dtype, Float64Array.from(off, (o) => x!.data[o]!));
  },
};

export const broadcast: OpDef<'broadcast'> = {
  kind: 'layout',
  arity: 1,
  infer([x], attrs) {
    const s = x!.shape;
    const t = attrs.shape.map(simplifyDim);
    const lead = t.length - s.length;
    const bad = () => new ShapeRuleError(`broadcast: shape ${shapeToString(s)} cannot be broadcast to ${shapeToString(t)}`);
    if (lead < 0) throw bad();
    s.forEach((d, i) => {
      const target = t[lead + i]!;
      const r = broadcastDim(d, target);
      if (r === undefined || (dimEq(d, target) === false && dimEq(d, 1) !== true)) throw bad();
    });
    return { shape: t, dtype: x!.dtype, attrs: { shape: t } };
  },
  vjp: (b, node, g) => [sumTo(b, g, b.shape(node.inputs[0]!))],
  cpu([x], _a, ctx) {
    const off = broadcastOffsets(x!.shape, ctx.outShape);
    return hostTensor(ctx.outShape, x!.dtype, Float64Array.from(off, (o) => x!.data[o]!));
  },
};

/** Resolve a possibly negative / out-of-range slice bound against the axis size (python semantics). */
function sliceBound(v: Dim, size: Dim): Dim {
  if (typeof v === 'number' && v < 0) v = addDims(size, v);
  if (typeof v === 'number' && typeof size === 'number') return Math.min(Math.max(v, 0), size);
  return simplifyDim(v);
}

function sliceLen(start: Dim, end: Dim, step: number): Dim {
  const d = ceilDivDims(subDims(end, start), step);
  return typeof d === 'number' ? Math.max(d, 0) : d;
}

export const slice: OpDef<'slice'> = {
  kind: 'layout',
  arity: 1,
  infer([x], attrs) {
    const axis = normAxis('slice', attrs.axis, x!.shape.length);
    if (!Number.isInteger(attrs.step) || attrs.step < 1) throw new ShapeRuleError(`slice: step must be a positive integer, got ${attrs.step}`);
    const size = x!.shape[axis]!;
    const start = sliceBound(attrs.start, size);
    const end = typeof start === 'number' && typeof size === 'number' ? Math.max(sliceBound(attrs.end, size) as number, start) : sliceBound(attrs.end, size);
    const shape = [...x!.shape];
    shape[axis] = sliceLen(start, end, attrs.step);
    return { shape, dtype: x!.dtype, attrs: { axis, start, end, step: attrs.step } };
  },
  vjp(b, node, g) {
    const { axis, start, end, step } = node.attrs;
    return [b.op('slice_scatter', [g], { axis, start, end, step, size: b.shape(node.inputs[0]!)[axis]! })];
  },
  cpu([x], attrs, ctx) {
    const st = stridesOf(x!.shape);
    const start = ctx.ev(attrs.start);
    const strides = st.map((s, i) => (i === attrs.axis ? s * attrs.step : s));
    const off = walk(ctx.outShape, strides, start * st[attrs.axis]!);
    return hostTensor(ctx.outShape, x!.dtype, Float64Array.from(off, (o) => x!.data[o]!));
  },
};

export const slice_scatter: OpDef<'slice_scatter'> = {
  kind: 'indexed',
  arity: 1,
  infer([x], attrs) {
    const axis = normAxis('slice_scatter', attrs.axis, x!.shape.length);
    const size = simplifyDim(attrs.size);
    const start = sliceBound(attrs.start, size);
    const end = sliceBound(attrs.end, size);
    const len = sliceLen(start, end, attrs.step);
    if (!assumeDimEq(len, x!.shape[axis]!))
      throw new ShapeRuleError(
        `slice_scatter: source ${shapeToString(x!.shape)} has ${dimToString(x!.shape[axis]!)} along axis ${axis}, the slice ${dimToString(start)}:${dimToString(end)}:${attrs.step} has ${dimToString(len)}`,
      );
    const shape = [...x!.shape];
    shape[axis] = size;
    return { shape, dtype: x!.dtype, attrs: { axis, start, end, step: attrs.step, size } };
  },
  vjp(b, node, g) {
    const { axis, start, end, step } = node.attrs;
    return [b.op('slice', [g], { axis, start, end, step })];
  },
  cpu([x], attrs, ctx) {
    const st = stridesOf(ctx.outShape);
    const start = ctx.ev(attrs.start);
    const strides = st.map((s, i) => (i === attrs.axis ? s * attrs.step : s));
    const off = walk(x!.shape, strides, start * st[attrs.axis]!);
    const out = new Float64Array(numelOf(ctx.outShape));
    for (let i = 0; i < off.length; i++) out[off[i]!] = x!.data[i]!;
    return hostTensor(ctx.outShape, x!.dtype, out);
  },
};

export const concat: OpDef<'concat'> = {
  kind: 'indexed',
  arity: 'variadic',
  infer(ins, attrs) {
    const first = ins[0]!;
    const r = first.shape.length;
    const axis = normAxis('concat', attrs.axis, r);
    let len: Dim = 0;
    const shape = [...first.shape];
    for (const t of ins) {
      const mismatch = t.shape.length !== r || t.shape.some((d, i) => i !== axis && !assumeDimEq(d, first.shape[i]!));
      if (mismatch)
        throw new ShapeRuleError(`concat: shapes ${shapeToString(first.shape)} and ${shapeToString(t.shape)} differ outside axis ${axis}`);
      len = addDims(len, t.shape[axis]!);
      t.shape.forEach((d, i) => {
        if (i !== axis && typeof d === 'number') shape[i] = d; // prefer concrete sizes
      });
    }
    shape[axis] = len;
    return { shape, dtype: ins.map((t) => t.dtype).reduce(promote), attrs: { axis } };
  },
  vjp(b, node, g, needs) {
    let at: Dim = 0;
    return node.inputs.map((i, k) => {
      const len = b.shape(i)[node.attrs.axis]!;
      const start = at;
      at = addDims(at, len);
      return needs[k] ? b.op('slice', [g], { axis: node.attrs.axis, start, end: at, step: 1 }) : null;
    });
  },
  cpu(ins, attrs, ctx) {
    const st = stridesOf(ctx.outShape);
    const out = new Float64Array(numelOf(ctx.outShape));
    let at = 0;
    for (const t of ins) {
      const off = walk(t.shape, st, at * st[attrs.axis]!);
      for (let i = 0; i < off.length; i++) out[off[i]!] = t.data[i]!;
      at += t.shape[attrs.axis]!;
    }
    return hostTensor(ctx.outShape, ctx.outDtype, out);
  },
};
