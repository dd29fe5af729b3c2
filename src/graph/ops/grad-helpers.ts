// Graph-building helpers shared by the VJPs.
import { dimEq } from '../dims.js';
import type { VjpBuilder } from './op-def.js';
import type { Dim, Shape } from '../types.js';

export const mul = (b: VjpBuilder, x: number, y: number) => b.binary('mul', x, y);
export const add = (b: VjpBuilder, x: number, y: number) => b.binary('add', x, y);
export const sub = (b: VjpBuilder, x: number, y: number) => b.binary('sub', x, y);
export const div = (b: VjpBuilder, x: number, y: number) => b.binary('div', x, y);
export const neg = (b: VjpBuilder, x: number) => b.unary('neg', x);
export const scale = (b: VjpBuilder, x: number, c: number) => b.binary('mul', x, b.constant(c));

/** A float zero tensor of the given shape (a broadcast scalar). */
export function zeros(b: VjpBuilder, shape: Shape): number {
  return shape.length === 0 ? b.constant(0) : b.op('broadcast', [b.constant(0)], { shape });
}

export function expandTo(b: VjpBuilder, x: number, shape: Shape): number {
  return b.op('broadcast', [x], { shape });
}

/** Sum `g` (of a broadcast result shape) down to `target`: leading extra dims and dims where target is 1. */
export function sumTo(b: VjpBuilder, g: number, target: Shape): number {
  const gs = b.shape(g);
  const lead = gs.length - target.length;
  let x = g;
  if (lead > 0) x = b.op('reduce', [x], { fn: 'sum', axes: [...Array(lead).keys()], keepdim: false });
  const xs = b.shape(x);
  const ones: number[] = [];
  target.forEach((d, i) => {
    if (dimEq(d, 1) === true && dimEq(xs[i]!, 1) !== true) ones.push(i);
  });
  if (ones.length) x = b.op('reduce', [x], { fn: 'sum', axes: ones, keepdim: true });
  return x;
}

/** Swap the last two axes. */
export function transposeLast(b: VjpBuilder, x: number): number {
  const r = b.shape(x).length;
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return b.op('permute', [x], { perm });
}

/** int 0/1 mask of shape [n, n] selecting the lower (row ≥ col) or upper triangle; strict excludes the diagonal. */
function triMask(b: VjpBuilder, n: Dim, lower: boolean, strict: boolean): number {
  const rows = b.op('iota', [], { shape: [n, n], axis: 0, dtype: 'int' });
  const cols = b.op('iota', [], { shape: [n, n], axis: 1, dtype: 'int' });
  const [hi, lo] = lower ? [rows, cols] : [cols, rows];
  return b.binary(strict ? 'gt' : 'ge', hi, lo);
}

/** Keep the triangle of the last two dims selected by triMask, zero elsewhere. */
export function triPart(b: VjpBuilder, x: number, lower: boolean, strict: boolean): number {
  const s = b.shape(x);
  return b.op('where', [triMask(b, s[s.length - 1]!, lower, strict), x, b.constant(0)], {});
}
