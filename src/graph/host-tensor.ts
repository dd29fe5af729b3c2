// A tensor in host memory. Everything is float64; int tensors hold exact integers.
import type { DType } from './types.js';

export interface HostTensor {
  shape: number[];
  dtype: DType;
  data: Float64Array;
}

export function hostTensor(shape: number[], dtype: DType, data?: Float64Array | number[]): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = data === undefined ? new Float64Array(n) : data instanceof Float64Array ? data : Float64Array.from(data);
  if (d.length !== n) throw new Error(`tensor data has ${d.length} elements, shape [${shape.join(', ')}] needs ${n}`);
  return { shape: [...shape], dtype, data: d };
}

export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** For every element of `shape` (row-major), base + Σ index_k · strides_k. */
export function walk(shape: readonly number[], strides: readonly number[], base = 0): Int32Array {
  const n = numelOf(shape);
  const out = new Int32Array(n);
  const r = shape.length;
  if (n === 0) return out;
  const idx = new Array<number>(r).fill(0);
  let off = base;
  for (let i = 0; i < n; i++) {
    out[i] = off;
    for (let k = r - 1; k >= 0; k--) {
      idx[k]!++;
      off += strides[k]!;
      if (idx[k]! < shape[k]!) break;
      off -= strides[k]! * shape[k]!;
      idx[k] = 0;
    }
  }
  return out;
}

/** Offsets into a tensor of shape `small` for each element of `big`, numpy-broadcasting `small` up to `big`. */
export function broadcastOffsets(small: readonly number[], big: readonly number[]): Int32Array {
  const lead = big.length - small.length;
  const st = stridesOf(small);
  const strides = big.map((d, i) => {
    if (i < lead) return 0;
    const s = small[i - lead]!;
    if (s === d) return st[i - lead]!;
    if (s === 1) return 0;
    throw new Error(`shape [${small.join(', ')}] does not broadcast to [${big.join(', ')}]`);
  });
  return walk(big, strides);
}
