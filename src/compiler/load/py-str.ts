// Python's str() of the scalars a config can hold: what `!join` concatenates.
import type { ScalarNode } from './config-node.js';

/** str(x) for a constructed scalar; ints print exactly when `exactInt` is given (beyond 2^53). */
export function pyStr(node: ScalarNode, exactInt?: bigint): string {
  const v = node.value;
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return v;
  if (node.numberKind === 'float') return pyFloatRepr(v);
  if (exactInt !== undefined) return exactInt.toString();
  return Number.isInteger(v) ? BigInt(v).toString() : pyFloatRepr(v);
}

/** Python's repr()/str() of a float: shortest round-trip digits, exponent form when the point is far out. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  // JS's shortest round-trip digits (same choice as Python's repr), re-laid out Python's way.
  const m = /^(\d+)(?:\.(\d+))?(?:e([-+]\d+))?$/.exec(String(Math.abs(x)))!;
  let digits = m[1]! + (m[2] ?? '');
  let point = m[1]!.length + (m[3] ? Number(m[3]) : 0);
  const lead = /^0*/.exec(digits)![0].length;
  digits = digits.slice(lead).replace(/0+$/, '');
  point -= lead;
  // Python (float_repr_style 'short', mode 'r'): exponent form when point > 16 or point < -3.
  if (point > 16 || point < -3) {
    const e = point - 1;
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const ae = Math.abs(e);
    return `${sign}${mant}e${e < 0 ? '-' : '+'}${ae < 10 ? '0' : ''}${ae}`;
  }
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}.0`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}
