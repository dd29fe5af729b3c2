// u32 index expressions as data: literals, variables (domain coordinates, thread ids, loop variables, names
// bound by a kernel), members of the dims uniform, + − × ÷ % and min/max. The scheduler's analysis compares
// them structurally (is a reduction read at the current row?); codegen prints them (src/codegen/wgsl).
// The ix* constructors fold constants and identities; `ixNode` builds a node exactly as given.
import type { Dim } from '../../graph/types.js';

export type IxOp = '+' | '-' | '*' | '/' | '%' | 'min' | 'max';

export type Ix =
  | { readonly kind: 'lit'; readonly value: number }
  | { readonly kind: 'var'; readonly name: string }
  /** A member of the dims uniform (its field name in the kernel's Dims struct). */
  | { readonly kind: 'dim'; readonly field: string }
  /** `bare`: printed without parentheses (an operand of min/max kept as it was written). */
  | { readonly kind: 'op'; readonly op: IxOp; readonly a: Ix; readonly b: Ix; readonly bare?: true };

export const ixLit = (value: number): Ix => ({ kind: 'lit', value });
export const ZERO: Ix = ixLit(0);
export const ONE: Ix = ixLit(1);
export const ixVar = (name: string): Ix => ({ kind: 'var', name });
export const ixField = (field: string): Ix => ({ kind: 'dim', field });
/** `a op b` without folding. */
export const ixNode = (op: IxOp, a: Ix, b: Ix): Ix => ({ kind: 'op', op, a, b });
/** `min(a, b - 1u)`: clamp `a` to the last index of an extent `b` (no folding, as the kernels write it). */
export const ixClampLast = (a: Ix, extent: Ix): Ix => ixNode('min', a, { kind: 'op', op: '-', a: extent, b: ONE, bare: true });

const litOf = (a: Ix): number | undefined => (a.kind === 'lit' ? a.value : undefined);

export function ixAdd(a: Ix, b: Ix): Ix {
  const x = litOf(a);
  const y = litOf(b);
  if (x !== undefined && y !== undefined) return ixLit(x + y);
  if (x === 0) return b;
  if (y === 0) return a;
  return ixNode('+', a, b);
}

export function ixSub(a: Ix, b: Ix): Ix {
  const x = litOf(a);
  const y = litOf(b);
  if (x !== undefined && y !== undefined && x >= y) return ixLit(x - y);
  if (y === 0) return a;
  return ixNode('-', a, b);
}

export function ixMul(a: Ix, b: Ix): Ix {
  const x = litOf(a);
  const y = litOf(b);
  if (x !== undefined && y !== undefined) return ixLit(x * y);
  if (x === 0 || y === 0) return ZERO;
  if (x === 1) return b;
  if (y === 1) return a;
  return ixNode('*', a, b);
}

export function ixDiv(a: Ix, b: Ix): Ix {
  const x = litOf(a);
  const y = litOf(b);
  if (x !== undefined && y !== undefined && y !== 0) return ixLit(Math.floor(x / y));
  if (y === 1 || x === 0) return a;
  return ixNode('/', a, b);
}

export function ixMod(a: Ix, b: Ix): Ix {
  const x = litOf(a);
  const y = litOf(b);
  if (x !== undefined && y !== undefined && y !== 0) return ixLit(x % y);
  if (y === 1 || x === 0) return ZERO;
  return ixNode('%', a, b);
}

/** Structural equality. */
export function ixEq(a: Ix, b: Ix): boolean {
  if (a === b) return true;
  switch (a.kind) {
    case 'lit':
      return b.kind === 'lit' && b.value === a.value;
    case 'var':
      return b.kind === 'var' && b.name === a.name;
    case 'dim':
      return b.kind === 'dim' && b.field === a.field;
    case 'op':
      return b.kind === 'op' && b.op === a.op && ixEq(a.a, b.a) && ixEq(a.b, b.b);
  }
}

export const ixListEq = (a: readonly Ix[], b: readonly Ix[]): boolean => a.length === b.length && a.every((x, k) => ixEq(x, b[k]!));

export const isVar = (a: Ix | undefined, name: string): boolean => a?.kind === 'var' && a.name === name;

/** A canonical string of the expression (equal keys ⟺ structurally equal): memo and set keys. */
export function ixKey(a: Ix): string {
  switch (a.kind) {
    case 'lit':
      return `${a.value}`;
    case 'var':
      return a.name;
    case 'dim':
      return `$${a.field}`;
    case 'op':
      return `(${ixKey(a.a)} ${a.op} ${ixKey(a.b)})`;
  }
}

export const ixListKey = (idx: readonly Ix[]): string => idx.map(ixKey).join(',');

/** The variables an expression reads. */
export function ixVars(a: Ix, out: string[] = []): string[] {
  if (a.kind === 'var') out.push(a.name);
  else if (a.kind === 'op') {
    ixVars(a.a, out);
    ixVars(a.b, out);
  }
  return out;
}

/** A dim over the uniform `dims` struct (`field(sym)` names the member). */
export function dimIx(d: Dim, field: (sym: string) => string): Ix {
  if (typeof d === 'number') return ixLit(d);
  if ('sym' in d) return ixField(field(d.sym));
  const a = dimIx(d.a, field);
  const b = dimIx(d.b, field);
  switch (d.op) {
    case 'add':
      return ixAdd(a, b);
    case 'sub':
      return ixSub(a, b);
    case 'mul':
      return ixMul(a, b);
    case 'floordiv':
      return ixDiv(a, b);
    case 'ceildiv':
      return ixDiv(ixSub(ixAdd(a, b), ONE), b);
    case 'min':
      return ixNode('min', a, b);
    case 'max':
      return ixNode('max', a, b);
  }
}
