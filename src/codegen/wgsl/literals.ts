// WGSL literals that mean exactly what the float64 compile-time value rounds to in f32 / i32 / u32.

/** Largest finite f32 (written 3.4028234663852886e38): stands in for ±inf (WGSL may assume finite math). */
export const F32_MAX = 3.4028234663852886e38;

/**
 * The shortest decimal that rounds to the same f32 as `v`, always with a `.` or an exponent so WGSL types it as
 * a float. ±Infinity become ±F32_MAX; NaN has no WGSL literal and is an error (graph constants that are NaN or
 * ±inf are emitted by Emitter.f32Const as f32_bits(…), never through here).
 */
export function f32Literal(v: number): string {
  if (Number.isNaN(v)) throw new Error('NaN has no WGSL literal');
  let f = Math.fround(v);
  if (!Number.isFinite(f)) f = v > 0 ? F32_MAX : -F32_MAX;
  if (f === 0) return Object.is(f, -0) ? '-0.0' : '0.0';
  let s = '';
  for (let p = 1; p <= 9; p++) {
    s = f.toPrecision(p);
    if (Math.fround(Number(s)) === f) break;
  }
  // the shortest round-trip form can exceed the f32 range (3.4028235e38 > max finite): Tint rejects those
  if (Math.abs(Number(s)) > F32_MAX) s = f.toPrecision(17);
  s = normalizeNumber(s);
  if (!/[.e]/.test(s)) s += '.0';
  return s;
}

/** toPrecision output without trailing zeros in the mantissa and with a plain exponent (`1.5e-7`, `3e+38` → `3e38`). */
function normalizeNumber(s: string): string {
  const [mant, exp] = s.split('e') as [string, string | undefined];
  let m = mant;
  if (m.includes('.')) m = m.replace(/0+$/, '').replace(/\.$/, '.0');
  if (exp === undefined) return m;
  const e = Number(exp);
  return `${m.endsWith('.0') ? m.slice(0, -2) : m}e${e}`;
}

/** An f32 literal usable as an operand anywhere (negative values parenthesised). */
export function f32Operand(v: number): string {
  const s = f32Literal(v);
  return s.startsWith('-') ? `(${s})` : s;
}

export function i32Literal(v: number): string {
  if (!Number.isInteger(v)) throw new Error(`${v} is not an integer`);
  if (v < -2147483648 || v > 2147483647) throw new Error(`${v} does not fit in an i32`);
  if (v === -2147483648) return '(-2147483647i - 1i)';
  return v < 0 ? `(${v}i)` : `${v}i`;
}

