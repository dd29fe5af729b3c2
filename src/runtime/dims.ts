// Symbolic dims as the kernel plan carries them: a concrete size or an expression over named symbols
// (N, C, …) bound from the input shapes at run time. The runtime only prints and evaluates them; the
// compiler (src/graph/dims.ts) builds and simplifies them.
import { GpuUsageError } from './errors.js';
import { describeValue } from './argument-checks.js';
import type { Dim, SymDim } from './dim-types.js';

export type { Dim, SymDim, Shape } from './dim-types.js';

// ---- printing -----------------------------------------------------------------------------------------
const PREC = { add: 1, sub: 1, mul: 2 } as const;

export function dimToString(d: Dim): string {
  return print(d, 0);
}

function print(d: Dim, ctx: number): string {
  if (typeof d === 'number') return d < 0 && ctx > 0 ? `(${d})` : String(d);
  checkDim(d, 'dimToString');
  if ('sym' in d) return d.sym;
  switch (d.op) {
    case 'add':
    case 'sub':
    case 'mul': {
      const p = PREC[d.op];
      const sep = d.op === 'mul' ? '*' : d.op === 'add' ? ' + ' : ' - ';
      const s = `${print(d.a, p)}${sep}${print(d.b, p + (d.op === 'mul' ? 0 : 1))}`;
      return p < ctx ? `(${s})` : s;
    }
    case 'floordiv':
      return `floor(${print(d.a, 2)}/${print(d.b, 3)})`;
    case 'ceildiv':
      return `ceil(${print(d.a, 2)}/${print(d.b, 3)})`;
    case 'min':
    case 'max':
      return `${d.op}(${print(d.a, 0)}, ${print(d.b, 0)})`;
  }
}

const OPS: ReadonlySet<string> = new Set(['add', 'sub', 'mul', 'floordiv', 'ceildiv', 'min', 'max']);

/** A GpuUsageError unless `d` (not a number) is { sym } or { op, a, b } with a known op: the exported helpers
 *  below are public, and a wrong value must not end in a TypeError from inside ("cannot use 'in' operator"). */
function checkDim(d: unknown, fn: string): asserts d is SymDim {
  const ok = d !== null && typeof d === 'object' && (typeof (d as { sym?: unknown }).sym === 'string' || OPS.has((d as { op?: unknown }).op as string));
  if (!ok) throw new GpuUsageError(`${fn}: a dim must be a number, { sym: string } or { op: ${[...OPS].map((o) => `'${o}'`).join(' | ')}, a, b }, got ${describeDim(d)}`);
}

const describeDim = (d: unknown): string => (d !== null && typeof d === 'object' && 'op' in d ? `op ${describeValue(d.op)}` : describeValue(d));

function checkShape(s: unknown, fn: string): asserts s is readonly Dim[] {
  if (!Array.isArray(s)) throw new GpuUsageError(`${fn}: a shape must be an Array of dims, got ${describeValue(s)}`);
}

export function shapeToString(s: readonly Dim[]): string {
  checkShape(s, 'shapeToString');
  return `[${s.map(dimToString).join(', ')}]`;
}

export class UnboundDimError extends Error {
  override name = 'UnboundDimError';
}

export function evalDim(d: Dim, env: Record<string, number>): number {
  if (typeof d === 'number') return d;
  checkDim(d, 'evalDim');
  if ('sym' in d) {
    if (env === null || typeof env !== 'object') throw new GpuUsageError(`evalDim: env must be an object of symbol → value, got ${describeValue(env)}`);
    const v = env[d.sym];
    if (v === undefined) throw new UnboundDimError(`symbolic dim '${d.sym}' is not bound`);
    return v;
  }
  const a = evalDim(d.a, env);
  const b = evalDim(d.b, env);
  switch (d.op) {
    case 'add':
      return a + b;
    case 'sub':
      return a - b;
    case 'mul':
      return a * b;
    case 'floordiv':
      return Math.floor(a / b);
    case 'ceildiv':
      return -Math.floor(-a / b);
    case 'min':
      return Math.min(a, b);
    case 'max':
      return Math.max(a, b);
  }
}

export function evalShape(s: readonly Dim[], env: Record<string, number>): number[] {
  checkShape(s, 'evalShape');
  return s.map((d) => evalDim(d, env));
}

/** Symbols a dim mentions. */
export function dimSymbols(d: Dim, out: Set<string> = new Set()): Set<string> {
  if (typeof d === 'number') return out;
  checkDim(d, 'dimSymbols');
  if ('sym' in d) out.add(d.sym);
  else {
    dimSymbols(d.a, out);
    dimSymbols(d.b, out);
  }
  return out;
}
