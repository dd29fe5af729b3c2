// Symbolic dims as the kernel plan carries them: a concrete size or an expression over named symbols
// (N, C, …) bound from the input shapes at run time. The runtime only prints and evaluates them; the
// compiler (src/graph/dims.ts) builds and simplifies them.

/** A dimension: a concrete size, or an expression over named symbols bound from input buffers at run time. */
export type Dim = number | SymDim;
export type SymDim =
  | { sym: string }
  | { op: 'add' | 'sub' | 'mul' | 'floordiv' | 'ceildiv' | 'min' | 'max'; a: Dim; b: Dim };
export type Shape = Dim[];

// ---- printing -----------------------------------------------------------------------------------------
const PREC = { add: 1, sub: 1, mul: 2 } as const;

export function dimToString(d: Dim): string {
  return print(d, 0);
}

function print(d: Dim, ctx: number): string {
  if (typeof d === 'number') return d < 0 && ctx > 0 ? `(${d})` : String(d);
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

export function shapeToString(s: readonly Dim[]): string {
  return `[${s.map(dimToString).join(', ')}]`;
}

export class UnboundDimError extends Error {}

export function evalDim(d: Dim, env: Record<string, number>): number {
  if (typeof d === 'number') return d;
  if ('sym' in d) {
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
  return s.map((d) => evalDim(d, env));
}

/** Symbols a dim mentions. */
export function dimSymbols(d: Dim, out: Set<string> = new Set()): Set<string> {
  if (typeof d === 'number') return out;
  if ('sym' in d) out.add(d.sym);
  else {
    dimSymbols(d.a, out);
    dimSymbols(d.b, out);
  }
  return out;
}
