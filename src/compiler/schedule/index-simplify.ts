// Rewrite rules for index expressions under range facts: what a kernel knows about its coordinate variables
// (`ix1 < N`: every binding of a domain coordinate lies inside its axis). Each rule is an identity of u32
// arithmetic that holds whenever the facts do:
//   (a·D + b) / M  →  a / (M/D)        when b < D and D divides M   (→ a when M = D)
//   (a·D + b) % M  →  b % M            when M divides D             (→ b when b < M)
//   x / M          →  0                when x < M
//   x % M          →  x                when x < M
// Bounds are monomials c·Πsymbols over literals and dims-uniform members. A rule fires only where the rewritten
// sum a·D + b has such a bound, which every rule's proof needs: no u32 wrap-around. The proofs assume every dims
// member is ≥ 1 where a coordinate is bound (a domain with an empty axis runs no invocation past its guard) and that
// these bounds — products of the extents of the plan's tensors and domains, as their row-major offsets are — fit
// in u32 (buffers are below 2³² elements). Without a fact about a variable nothing that contains it is rewritten,
// nor anything containing a subtraction (it may wrap).
import { ixAdd, ixDiv, ixKey, ixLit, ixMod, ixMul, ZERO, type Ix } from './index-expr.js';

/** Variable name → an exclusive upper bound of its value (an extent: a literal or a product of dims members). */
export type RangeFacts = ReadonlyMap<string, Ix>;

/** c · Π syms, c ≥ 1, syms sorted (keys of dims members, each ≥ 1). */
interface Mono {
  readonly c: number;
  readonly syms: readonly string[];
}

const mono = (c: number, syms: readonly string[]): Mono => ({ c, syms: [...syms].sort() });
const monoMul = (a: Mono, b: Mono): Mono => mono(a.c * b.c, [...a.syms, ...b.syms]);

/** a ≤ b for every value of the symbols ≥ 1: a's symbols are among b's and a.c ≤ b.c. */
function monoLe(a: Mono, b: Mono): boolean {
  return a.c <= b.c && quotientSyms(b.syms, a.syms) !== undefined;
}

/** b's symbols without a's (multiset difference), or undefined when a has one b lacks. */
function quotientSyms(b: readonly string[], a: readonly string[]): string[] | undefined {
  const rest = [...b];
  for (const s of a) {
    const k = rest.indexOf(s);
    if (k < 0) return undefined;
    rest.splice(k, 1);
  }
  return rest;
}

/** b / a when a divides b (as monomials: a's symbols among b's, a.c divides b.c). */
function monoDiv(b: Mono, a: Mono): Mono | undefined {
  if (b.c % a.c !== 0) return undefined;
  const syms = quotientSyms(b.syms, a.syms);
  return syms === undefined ? undefined : mono(b.c / a.c, syms);
}

const monoEq = (a: Mono, b: Mono): boolean => a.c === b.c && a.syms.length === b.syms.length && a.syms.every((s, k) => s === b.syms[k]);

/** The value of a variable-free product of positive literals and dims members, as a monomial. */
function exact(e: Ix): Mono | undefined {
  switch (e.kind) {
    case 'lit':
      return e.value >= 1 && Number.isInteger(e.value) ? mono(e.value, []) : undefined;
    case 'dim':
      return mono(1, [ixKey(e)]);
    case 'var':
      return undefined;
    case 'op': {
      if (e.op !== '*') return undefined;
      const a = exact(e.a);
      const b = exact(e.b);
      return a && b ? monoMul(a, b) : undefined;
    }
  }
}

function monoIx(m: Mono): Ix {
  let e: Ix = ixLit(m.c);
  for (const s of m.syms) e = ixMul(e, { kind: 'dim', field: s.slice(1) });
  return e;
}

/** `e` as a·D + b (either order of the sum, either order of the product) with D exact. */
function radix(e: Ix): { a: Ix; d: Mono; dIx: Ix; b: Ix }[] {
  if (e.kind !== 'op' || e.op !== '+') return [];
  const out: { a: Ix; d: Mono; dIx: Ix; b: Ix }[] = [];
  for (const [p, b] of [
    [e.a, e.b],
    [e.b, e.a],
  ] as const) {
    if (p.kind !== 'op' || p.op !== '*') continue;
    const db = exact(p.b);
    if (db) out.push({ a: p.a, d: db, dIx: p.b, b });
    const da = exact(p.a);
    if (da) out.push({ a: p.b, d: da, dIx: p.a, b });
  }
  return out;
}

/** An exclusive upper bound of `e` under the facts (a monomial), or undefined when none is known. */
function upperBound(e: Ix, facts: RangeFacts): Mono | undefined {
  switch (e.kind) {
    case 'lit':
      return Number.isInteger(e.value) && e.value >= 0 ? mono(e.value + 1, []) : undefined;
    case 'dim':
      return undefined;
    case 'var': {
      const f = facts.get(e.name);
      return f === undefined ? undefined : exact(f);
    }
    case 'op':
      switch (e.op) {
        case '+': {
          // mixed radix: a·D + b < A·D when a < A and b < D (b ≤ D − 1, a·D ≤ (A − 1)·D)
          for (const r of radix(e)) {
            const ua = upperBound(r.a, facts);
            const ub = upperBound(r.b, facts);
            if (ua && ub && monoLe(ub, r.d)) return monoMul(ua, r.d);
          }
          const ua = upperBound(e.a, facts);
          const ub = upperBound(e.b, facts);
          // literal bounds add: a + b ≤ (A − 1) + (B − 1)
          if (ua && ub && ua.syms.length === 0 && ub.syms.length === 0) return mono(ua.c + ub.c - 1, []);
          return undefined;
        }
        case '*': {
          // a·D < A·D for an exact D ≥ 1; a·b ≤ (A − 1)(B − 1) < A·B
          const da = exact(e.a);
          const db = exact(e.b);
          const ua = upperBound(e.a, facts);
          const ub = upperBound(e.b, facts);
          if (ua && db) return monoMul(ua, db);
          if (da && ub) return monoMul(da, ub);
          if (ua && ub) return monoMul(ua, ub);
          return undefined;
        }
        case '/': {
          const ua = upperBound(e.a, facts);
          const d = exact(e.b);
          if (!ua || !d) return undefined;
          // a < A·… and D | A: a / D < A / D; otherwise a / D ≤ a
          return monoDiv(ua, d) ?? ua;
        }
        case '%': {
          const d = exact(e.b);
          const ua = upperBound(e.a, facts);
          if (d && ua) return monoLe(ua, d) ? ua : d;
          return d ?? ua;
        }
        case 'min': {
          const ua = upperBound(e.a, facts);
          const ub = upperBound(e.b, facts);
          if (ua && ub) return monoLe(ua, ub) ? ua : ub;
          return ua ?? ub;
        }
        case '-':
        case 'max':
          return undefined;
      }
  }
}

/** `e` < `m` is provable from the facts. */
function below(e: Ix, m: Mono, facts: RangeFacts): boolean {
  const u = upperBound(e, facts);
  return u !== undefined && monoLe(u, m);
}

/** x / M with M exact, rewritten when a rule applies (else undefined). */
function divRule(x: Ix, mIx: Ix, m: Mono, facts: RangeFacts): Ix | undefined {
  if (below(x, m, facts)) return ZERO;
  for (const r of radix(x)) {
    // a bounded and b < D: x has a bound (so it does not wrap), and (a·D + b) / D = a
    if (!below(r.b, r.d, facts) || upperBound(r.a, facts) === undefined) continue;
    // (a·D + b) / M = a / (M / D): b < D, so (a·D + b) / D = a, and ⌊⌊x / D⌋ / (M / D)⌋ = ⌊x / M⌋
    const rest = monoDiv(m, r.d);
    if (rest === undefined) continue;
    return rest.c === 1 && rest.syms.length === 0 ? r.a : simplifyDiv(r.a, monoEq(rest, m) ? mIx : monoIx(rest), facts);
  }
  return undefined;
}

/** x % M with M exact, rewritten when a rule applies (else undefined). */
function modRule(x: Ix, mIx: Ix, m: Mono, facts: RangeFacts): Ix | undefined {
  if (below(x, m, facts)) return x;
  // only where x has a bound (a·D + b does not wrap: a multiple of M stays one)
  if (upperBound(x, facts) === undefined) return undefined;
  for (const r of radix(x)) {
    // (a·D + b) % M = b % M when M divides D (a·D is a multiple of M)
    if (monoDiv(r.d, m) === undefined) continue;
    return simplifyMod(r.b, mIx, facts);
  }
  return undefined;
}

function simplifyDiv(a: Ix, b: Ix, facts: RangeFacts, same?: Ix): Ix {
  const m = exact(b);
  return (m && divRule(a, b, m, facts)) ?? same ?? ixDiv(a, b);
}

function simplifyMod(a: Ix, b: Ix, facts: RangeFacts, same?: Ix): Ix {
  const m = exact(b);
  return (m && modRule(a, b, m, facts)) ?? same ?? ixMod(a, b);
}

/**
 * `e` rewritten bottom-up by the rules above under `facts`; nodes no rule applies to are kept as they are
 * (min/max and `bare` nodes keep their form). Equal to `e` for every assignment of its variables the facts allow.
 */
export function simplifyIx(e: Ix, facts: RangeFacts): Ix {
  if (e.kind !== 'op' || facts.size === 0) return e;
  const a = simplifyIx(e.a, facts);
  const b = simplifyIx(e.b, facts);
  // a node whose operands did not change stays as it was built (ixNode forms are kept) unless a rule applies
  const same = a === e.a && b === e.b ? e : undefined;
  switch (e.op) {
    case '/':
      return simplifyDiv(a, b, facts, same);
    case '%':
      return simplifyMod(a, b, facts, same);
    case '+':
      return same ?? ixAdd(a, b);
    case '*':
      return same ?? ixMul(a, b);
    default:
      return same ?? { ...e, a, b };
  }
}
