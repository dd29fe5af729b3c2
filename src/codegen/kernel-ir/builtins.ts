// What the interpreter does for each WGSL builtin and conversion the kernel IR calls (ir.ts Builtin): f32
// results rounded (Math.fround), WGSL's conversion rules (truncation, saturation, NaN → 0), vec4 lanes where the
// builtin is applied per component. Exhaustive by type: a builtin added to the IR without its semantics here does
// not compile. The helper functions (helpers.ts) are IR and need no entry.
import type { Builtin } from './ir.js';

export type Ty = 'f32' | 'i32' | 'u32' | 'bool' | 'vec4';
export type Value = number | boolean | Float32Array | Int32Array | Uint32Array;
/** One invocation's variables. */
export type Frame = Value[];
export type Ev = (f: Frame) => Value;
/** A compiled argument: its evaluator and type. */
export type Arg = readonly [Ev, Ty];

const F = Math.fround;
const buf = new DataView(new ArrayBuffer(4));
const bitsToF32 = (b: number): number => (buf.setUint32(0, b >>> 0), buf.getFloat32(0));
const f32ToBits = (x: number): number => (buf.setFloat32(0, x), buf.getUint32(0));
/** WGSL f32 → i32: truncation, saturating at the i32 range (NaN → 0). */
const f32ToI32 = (x: number): number => (Number.isNaN(x) ? 0 : Math.max(-2147483648, Math.min(2147483520, Math.trunc(x))) | 0);
const f32ToU32 = (x: number): number => (Number.isNaN(x) ? 0 : Math.max(0, Math.min(4294967040, Math.trunc(x))) >>> 0);

/** An f32 function of one argument (rounded), per lane on a vec4. */
function unary(h: (x: number) => number): (args: readonly Arg[]) => [Ev, Ty] {
  return ([[a, ta]]) => (ta === 'vec4' ? [(f) => (a(f) as Float32Array).map((x) => F(h(x))), 'vec4'] : [(f) => F(h(a(f) as number)), 'f32']);
}

/** WGSL max: e2 if e1 < e2, else e1; a NaN operand gives the other one. */
const max = (a: number, b: number): number => (Number.isNaN(a) ? b : Number.isNaN(b) ? a : a < b ? b : a);
/** WGSL min: e2 if e2 < e1, else e1; a NaN operand gives the other one. */
const min = (a: number, b: number): number => (Number.isNaN(a) ? b : Number.isNaN(b) ? a : b < a ? b : a);
const sign = (x: number): number => (x > 0 ? 1 : x < 0 ? -1 : 0);

const splat = (v: number): Float32Array => Float32Array.of(v, v, v, v);

export const BUILTINS: { readonly [B in Builtin]: (args: readonly Arg[]) => [Ev, Ty] } = {
  exp: unary(Math.exp),
  exp2: unary((x) => 2 ** x),
  log: unary(Math.log),
  log2: unary(Math.log2),
  sqrt: unary(Math.sqrt),
  inverseSqrt: unary((x) => 1 / Math.sqrt(x)),
  floor: unary(Math.floor),
  // WGSL round: halfway cases to even
  round: unary((x) => {
    const r = Math.round(x);
    return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  }),
  abs: ([[a, ta]]) => (ta === 'i32' ? [(f) => Math.abs(a(f) as number) | 0, 'i32'] : [(f) => Math.abs(a(f) as number), ta]),
  // (0 < x) − (x < 0): +0 for ±0 and NaN (as Mesa's and torch's)
  sign: ([[a, ta]]) => [(f) => sign(a(f) as number), ta],
  min: ([[a, ta], [b]]) => [(f) => min(a(f) as number, b(f) as number), ta],
  max: ([[a, ta], [b]]) => [(f) => max(a(f) as number, b(f) as number), ta],
  clamp: ([[a, ta], [lo], [hi]]) => [(f) => min(max(a(f) as number, lo(f) as number), hi(f) as number), ta],
  select: ([[a, ta], [b], [c]]) => [(f) => (c(f) ? b(f) : a(f)), ta],
  fma: ([[a], [b], [c]]) => [(f) => F((a(f) as number) * (b(f) as number) + (c(f) as number)), 'f32'],
  f32: ([[a]]) => [(f) => F(a(f) as number), 'f32'],
  i32: ([[a, ta]]) => (ta === 'f32' ? [(f) => f32ToI32(a(f) as number), 'i32'] : [(f) => (a(f) as number) | 0, 'i32']),
  u32: ([[a, ta]]) => (ta === 'f32' ? [(f) => f32ToU32(a(f) as number), 'u32'] : [(f) => (a(f) as number) >>> 0, 'u32']),
  'vec4<f32>': ([[a]]) => [(f) => splat(a(f) as number), 'vec4'],
  'bitcast<f32>': ([[a, ta]]) => (ta === 'f32' ? [a, 'f32'] : [(f) => bitsToF32(a(f) as number), 'f32']),
  'bitcast<u32>': ([[a, ta]]) => (ta === 'f32' ? [(f) => f32ToBits(a(f) as number), 'u32'] : [(f) => (a(f) as number) >>> 0, 'u32']),
};
