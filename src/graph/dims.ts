// Symbolic dimension algebra. A Dim is a concrete size or an expression over symbols bound at run time.
// Sums and products are kept in a polynomial normal form (Σ coef·Π atoms, atoms sorted), so structurally
// equal expressions print and compare equal; floordiv/ceildiv/min/max that cannot be folded are opaque atoms.
import { dimToString, evalDim, type Dim, type Shape, type SymDim } from 'tdc-runtime';

export { dimToString, shapeToString, evalDim, evalShape, dimSymbols } from 'tdc-runtime';

type Term = { coef: number; atoms: Dim[] }; // atoms: symbols or opaque expressions, sorted by key
type Poly = Map<string, Term>; // monomial key ('' = constant) → term

// ---- normal form --------------------------------------------------------------------------------------
function atomKey(d: Dim): string {
  return typeof d === 'number' ? String(d) : dimToString(d);
}

function polyConst(c: number): Poly {
  return c === 0 ? new Map() : new Map([['', { coef: c, atoms: [] }]]);
}

function polyAtom(a: Dim): Poly {
  return new Map([[atomKey(a), { coef: 1, atoms: [a] }]]);
}

function polyAdd(p: Poly, q: Poly, sign: number): Poly {
  const r: Poly = new Map();
  for (const [k, t] of p) r.set(k, { coef: t.coef, atoms: t.atoms });
  for (const [k, t] of q) {
    const c = (r.get(k)?.coef ?? 0) + sign * t.coef;
    if (c === 0) r.delete(k);
    else r.set(k, { coef: c, atoms: t.atoms });
  }
  return r;
}

function monoKey(atoms: Dim[]): string {
  return atoms.map(atomKey).join('*');
}

function polyMul(p: Poly, q: Poly): Poly {
  let r: Poly = new Map();
  for (const s of p.values())
    for (const t of q.values()) {
      const atoms = [...s.atoms, ...t.atoms].sort((x, y) => (atomKey(x) < atomKey(y) ? -1 : atomKey(x) > atomKey(y) ? 1 : 0));
      r = polyAdd(r, new Map([[monoKey(atoms), { coef: s.coef * t.coef, atoms }]]), 1);
    }
  return r;
}

function polyConstValue(p: Poly): number | undefined {
  if (p.size === 0) return 0;
  if (p.size === 1 && p.has('')) return p.get('')!.coef;
  return undefined;
}

function toPoly(d: Dim): Poly {
  if (typeof d === 'number') return polyConst(d);
  if ('sym' in d) return polyAtom(d);
  switch (d.op) {
    case 'add':
      return polyAdd(toPoly(d.a), toPoly(d.b), 1);
    case 'sub':
      return polyAdd(toPoly(d.a), toPoly(d.b), -1);
    case 'mul':
      return polyMul(toPoly(d.a), toPoly(d.b));
    default: {
      const a = simplifyDim(d.a);
      const b = simplifyDim(d.b);
      const folded = foldOpaque(d.op, a, b);
      return folded === undefined ? polyAtom({ op: d.op, a, b }) : toPoly(folded);
    }
  }
}

/** floordiv/ceildiv/min/max on simplified operands, or undefined when it stays symbolic. */
function foldOpaque(op: 'floordiv' | 'ceildiv' | 'min' | 'max', a: Dim, b: Dim): Dim | undefined {
  if (typeof a === 'number' && typeof b === 'number') return evalDim({ op, a, b }, {});
  if (op === 'min' || op === 'max') return atomKey(a) === atomKey(b) ? a : undefined;
  if (b === 1) return a;
  if (typeof b === 'number' && b > 0) {
    // exact division of every coefficient
    const p = toPoly(a);
    if ([...p.values()].every((t) => t.coef % b === 0)) {
      const q: Poly = new Map();
      for (const [k, t] of p) q.set(k, { coef: t.coef / b, atoms: t.atoms });
      return fromPoly(q);
    }
  }
  if (atomKey(a) === atomKey(b)) return 1;
  return undefined;
}

function fromPoly(p: Poly): Dim {
  const c = polyConstValue(p);
  if (c !== undefined) return c;
  const terms = [...p.entries()].sort(([a], [b]) => (a === '' ? 1 : b === '' ? -1 : a < b ? -1 : a > b ? 1 : 0));
  let out: Dim | undefined;
  for (const [, t] of terms) {
    let prod: Dim | undefined;
    for (const a of t.atoms) prod = prod === undefined ? a : { op: 'mul', a: prod, b: a };
    const mag = Math.abs(t.coef);
    const term: Dim = prod === undefined ? mag : mag === 1 ? prod : { op: 'mul', a: mag, b: prod };
    if (out === undefined) out = t.coef >= 0 ? term : prod === undefined ? t.coef : { op: 'mul', a: t.coef, b: prod };
    else out = { op: t.coef < 0 ? 'sub' : 'add', a: out, b: term };
  }
  return out!;
}

/** Canonical form: constants folded, x*1, x+0 dropped, like terms collected, factors sorted. */
export function simplifyDim(d: Dim): Dim {
  if (typeof d === 'number' || 'sym' in d) return d;
  return fromPoly(toPoly(d));
}

// ---- comparison, evaluation ---------------------------------------------------------------------------
/** true / false when decidable, undefined when it depends on symbol values. */
export function dimEq(a: Dim, b: Dim): boolean | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  const diff = polyAdd(toPoly(a), toPoly(b), -1);
  const c = polyConstValue(diff);
  if (c === 0) return true;
  if (c !== undefined) return false;
  return undefined;
}

/** A dim known to be 1 (size-1 dims broadcast and drop out of iteration domains). */
export const isOneDim = (d: Dim): boolean => d === 1 || dimEq(d, 1) === true;

/** The batch symbol: an input's leading dim that is the batch size is compiled as N (compiler/compile.ts). */
const BATCH_SYM = 'N';

/** The batch size itself (the symbol N, not an expression in it). */
export const isBatchDim = (d: Dim): boolean => typeof d === 'object' && 'sym' in d && d.sym === BATCH_SYM;

export function shapeEq(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => dimEq(d, b[i]!) === true);
}

// ---- constructors (all simplify) ----------------------------------------------------------------------
export const sym = (name: string): SymDim => ({ sym: name });
export const addDims = (a: Dim, b: Dim): Dim => simplifyDim({ op: 'add', a, b });
export const subDims = (a: Dim, b: Dim): Dim => simplifyDim({ op: 'sub', a, b });
export const mulDims = (...ds: Dim[]): Dim => ds.reduce<Dim>((acc, d) => simplifyDim({ op: 'mul', a: acc, b: d }), 1);
export const floorDivDims = (a: Dim, b: Dim): Dim => simplifyDim({ op: 'floordiv', a, b });
export const ceilDivDims = (a: Dim, b: Dim): Dim => simplifyDim({ op: 'ceildiv', a, b });
export const minDims = (a: Dim, b: Dim): Dim => simplifyDim({ op: 'min', a, b });
export const maxDims = (a: Dim, b: Dim): Dim => simplifyDim({ op: 'max', a, b });
export const numel = (s: readonly Dim[]): Dim => mulDims(...s);

/** a / b when b divides a exactly (as polynomials: a constant or a monomial divisor), else undefined. */
export function divExactDims(a: Dim, b: Dim): Dim | undefined {
  if (typeof a === 'number' && typeof b === 'number') return b !== 0 && a % b === 0 ? a / b : undefined;
  const pa = toPoly(a);
  const pb = toPoly(b);
  if (pb.size !== 1) return dimEq(a, b) === true ? 1 : undefined;
  const [div] = [...pb.values()] as [Term];
  const q: Poly = new Map();
  for (const t of pa.values()) {
    if (t.coef % div.coef !== 0) return undefined;
    const atoms = [...t.atoms];
    for (const f of div.atoms) {
      const i = atoms.findIndex((x) => atomKey(x) === atomKey(f));
      if (i < 0) return undefined;
      atoms.splice(i, 1);
    }
    q.set(monoKey(atoms), { coef: t.coef / div.coef, atoms });
  }
  return fromPoly(q);
}

// ---- broadcasting -------------------------------------------------------------------------------------
/**
 * numpy broadcasting of two dims. Rule with symbols: equal dims (structurally) → that dim; a literal 1
 * broadcasts to the other; two different concrete sizes → error; a symbolic dim against a concrete
 * size ≠ 1, or two symbolic dims not provably different → assumed equal (the concrete one, else the
 * first, is kept; the pair is recorded in dimAssumptions — the runtime re-checks it with real sizes). Provably different
 * symbolic dims (e.g. N vs N+1) → error. Returns undefined on error.
 */
/** While set, receives every pair of dims a shape rule assumes equal (broadcastDim, assumeDimEq): instantiateStage
 *  records them in the graph (Graph.equalDims), the plan carries them, and the runtime checks each before dispatch. */
export const dimAssumptions: { sink?: (a: Dim, b: Dim) => void } = {};

/**
 * A shape rule's "a must equal b": false when provably different; true when equal or when it depends on symbol
 * values — then the pair is assumed equal and recorded (dimAssumptions), so that inputs violating it are rejected
 * at run time instead of running kernels planned for a shape they do not have.
 */
export function assumeDimEq(a: Dim, b: Dim): boolean {
  const eq = dimEq(a, b);
  if (eq === undefined) dimAssumptions.sink?.(a, b);
  return eq !== false;
}

export function broadcastDim(a: Dim, b: Dim): Dim | undefined {
  const eq = dimEq(a, b);
  if (eq === true) return a;
  if (a === 1) return b;
  if (b === 1) return a;
  if (eq === false) return undefined;
  dimAssumptions.sink?.(a, b);
  if (typeof b === 'number') return b;
  return a;
}

/** Broadcast shape of two shapes (right-aligned), or undefined if they do not broadcast. */
export function broadcastShapes(a: readonly Dim[], b: readonly Dim[]): Shape | undefined {
  const n = Math.max(a.length, b.length);
  const out: Shape = [];
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)]!;
    const db = i < n - b.length ? 1 : b[i - (n - b.length)]!;
    const d = broadcastDim(da, db);
    if (d === undefined) return undefined;
    out.push(d);
  }
  return out;
}
