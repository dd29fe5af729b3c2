// The kernel helper functions (ir.ts Helper) as f32 functions of the interpreter, step for step what their WGSL
// bodies (src/codegen/wgsl/helpers.ts) compute, every intermediate rounded to f32.
import type { Helper } from './ir.js';

const F = Math.fround;
const F32_MAX = 3.4028234663852886e38;
const view = new DataView(new ArrayBuffer(4));
const fromBits = (b: number): number => (view.setUint32(0, b >>> 0), view.getFloat32(0));

export const helperFunctions: Record<Helper, (...x: number[]) => number> = {
  // torch pow: x^0 = 1, 1^y = 1, negative x only for integral y (sign from parity)
  pow_f32: (x, y) => {
    if (y === 0 || x === 1) return 1;
    if (x === 0) return y < 0 ? F(F32_MAX) : 0;
    const m = F(2 ** F(y * F(Math.log2(Math.abs(x)))));
    if (x > 0 || Math.floor(y) !== y) return m;
    return F(Math.floor(F(y * 0.5)) * 2) !== y ? -m : m;
  },
  f32_bits: (b) => fromBits(b),
  // x · ±0: NaN where x is ±inf or NaN
  mul_zero_f32: (x, z) => (Number.isFinite(x) ? F(x * z) : NaN),
  log1p_f32: (x) => {
    const u = F(1 + x);
    if (u === 1) return x;
    return F(F(Math.log(u)) * F(x / F(u - 1)));
  },
  tanh_f32: (x) => F(Math.tanh(x)),
};
