// What a float node's values can be, whatever the inputs hold: never ±∞, never ±0. Rewrites that are exact only
// for some values ask it. A factor moves out of a sum (Σ k·a = k·Σa, Σ a/q = Σa / q; schedule/algebra.ts,
// sum-rewrites.ts) only when k is never ±∞ and q never 0: Σ ∞·a is NaN where a has both signs or a 0, but ∞·Σa is
// ±∞ then. A k of 0 and a q of ±∞ keep the outcome (0 or NaN both ways: NaN exactly where some a is ±∞ or NaN).
// NaN is always allowed (it propagates through both sides of such a rewrite), and so are rounding's own ±∞ and 0
// on run-time values: finite operands whose sum or product overflows or whose product underflows, depending on
// what the inputs hold, and sums over an empty dim. A value of constants and dims only (no input) has them decided
// at compile time instead, by bounds on |x| (`Span`, f32 arithmetic on constants and iotas): one whose bound passes
// F32_MAX may be ±∞ (`float(arange(3)) * 1.7e38 + 1.7e38` is [1.7e38, 3.4e38, ∞]), one whose lower bound rounds to
// 0 (or to a subnormal, which WGSL lets drivers flush) may be 0.
import { isOneDim } from './dims.js';
import { softmaxMax } from './row-patterns.js';
import type { Node } from './types.js';

type NodeOf = (id: number) => Node;

/** Node `c` is never ±∞ (NaN allowed; see the header). */
export function neverInfinite(node: NodeOf, c: number): boolean {
  return new ValueRange(node).finite(c);
}

/** Node `c` is never ±0 (NaN allowed; see the header). */
export function neverZero(node: NodeOf, c: number): boolean {
  return new ValueRange(node).nonZero(c);
}

type Fact = 'finite' | 'nonZero' | 'positive' | 'nonNegative';

/** Bounds lo ≤ |x| ≤ hi on every non-NaN value x of a node of constants (hi may be ∞, lo 0 where not known). */
interface Span {
  lo: number;
  hi: number;
}

const F32_MAX = (2 - 2 ** -23) * 2 ** 127;
/** f32's smallest normal: WGSL lets drivers flush the subnormals below it to ±0. */
const F32_MIN_NORMAL = 2 ** -126;
/** A dim's largest extent (a symbolic one's, as a u32 index). */
const MAX_EXTENT = 2 ** 32;
// the bounds are computed in f64 from f32 values: widened by more than f32's rounding (½ ulp, 2⁻²⁴ relative) and a
// builtin's error (lavapipe's exp: 0.7 ulp) per operation
const up = (x: number): number => x * (1 + 2 ** -20);
const down = (x: number): number => (x < F32_MIN_NORMAL ? 0 : x * (1 - 2 ** -20));

/** The facts of one query, each node's answer memoised: a graph is a DAG, its paths can be exponentially many. */
class ValueRange {
  private readonly memo = new Map<string, boolean>();
  private readonly spans = new Map<number, Span | undefined>();

  constructor(private readonly node: NodeOf) {}

  /** Finite constants (in f32), ints, 0/1 comparisons, and what arithmetic keeps finite from them. */
  finite(c: number): boolean {
    return this.known('finite', c, (n) => {
      if (n.dtype === 'int') return true;
      if (!((this.span(c)?.hi ?? 0) <= F32_MAX)) return false;
      const [p, q] = n.inputs as [number, number];
      switch (n.op) {
        case 'const':
          return Number.isFinite(Math.fround(n.attrs.value));
        case 'iota':
          return true;
        case 'unary':
          switch (n.attrs.fn) {
            case 'tanh':
            case 'sign':
              return true;
            case 'recip':
              return this.nonZero(p);
            case 'log':
              return this.finite(p) && this.nonZero(p);
            case 'neg':
            case 'abs':
            case 'sqrt':
            case 'floor':
            case 'relu':
              return this.finite(p);
            default:
              return false;
          }
        case 'binary':
          switch (n.attrs.fn) {
            case 'add':
            case 'sub':
            case 'mul':
            case 'maximum':
            case 'minimum':
              return this.finite(p) && this.finite(q);
            case 'div':
              return this.finite(p) && this.nonZero(q);
            case 'pow':
              return false;
            default: // comparisons: 0 or 1
              return true;
          }
        case 'where':
          return this.finite(n.inputs[1]!) && this.finite(n.inputs[2]!);
        case 'reduce':
          // a softmax's Z = Σ exp(a − max a) is at most the count
          return softmaxMax(this.node, c) !== undefined || this.finite(p);
        case 'detach':
        case 'broadcast':
        case 'reshape':
        case 'cast':
          return this.finite(p);
        default:
          return false;
      }
    });
  }

  /** Non-zero constants, positive values, and products and quotients of non-zero finite ones. */
  nonZero(c: number): boolean {
    return this.known('nonZero', c, (n) => {
      if ((this.span(c)?.lo ?? 1) === 0) return false;
      if (this.positive(c)) return true;
      const [p, q] = n.inputs as [number, number];
      switch (n.op) {
        case 'const':
          return Math.fround(n.attrs.value) !== 0;
        case 'unary':
          if (n.attrs.fn === 'recip') return this.finite(p);
          return (n.attrs.fn === 'neg' || n.attrs.fn === 'abs' || n.attrs.fn === 'sign' || n.attrs.fn === 'sqrt') && this.nonZero(p);
        case 'binary':
          if (n.attrs.fn === 'mul') return this.nonZero(p) && this.nonZero(q);
          return n.attrs.fn === 'div' && this.nonZero(p) && this.finite(q);
        case 'where':
          return this.nonZero(n.inputs[1]!) && this.nonZero(n.inputs[2]!);
        case 'reduce': {
          // an extremum is one of the values; a Σ of a broadcast non-zero constant is a count times it
          if (n.attrs.fn !== 'sum') return this.nonZero(p);
          const x = this.node(p);
          return x.op === 'broadcast' && this.node(x.inputs[0]!).op === 'const' && this.nonZero(x.inputs[0]!);
        }
        case 'detach':
        case 'broadcast':
        case 'reshape':
        case 'cast':
          return this.nonZero(p);
        default:
          return false;
      }
    });
  }

  /** Above 0: positive constants, a softmax's Z = Σ exp(a − max a) ≥ 1, max(x, ε), √(x² + ε), products of such… */
  private positive(c: number): boolean {
    return this.known('positive', c, (n) => {
      const [p, q] = n.inputs as [number, number];
      switch (n.op) {
        case 'const':
          return Math.fround(n.attrs.value) > 0;
        case 'unary':
          if (n.attrs.fn === 'sqrt') return this.positive(p);
          return n.attrs.fn === 'abs' && this.nonZero(p);
        case 'binary':
          switch (n.attrs.fn) {
            case 'maximum':
              return this.positive(p) || this.positive(q);
            case 'minimum':
            case 'mul':
              return this.positive(p) && this.positive(q);
            case 'div':
              return this.positive(p) && this.positive(q) && this.finite(q);
            case 'add':
              return (this.positive(p) && this.nonNegative(q)) || (this.nonNegative(p) && this.positive(q));
            default:
              return false;
          }
        case 'where':
          return this.positive(n.inputs[1]!) && this.positive(n.inputs[2]!);
        case 'reduce':
          return softmaxMax(this.node, c) !== undefined || this.positive(p);
        case 'detach':
        case 'broadcast':
        case 'reshape':
        case 'cast':
          return this.positive(p);
        default:
          return false;
      }
    });
  }

  /** At least ±0: positive values, iotas, |x|, √x, exp, relu, x·x, 0/1 comparisons, and sums and products of such. */
  private nonNegative(c: number): boolean {
    return this.known('nonNegative', c, (n) => {
      if (this.positive(c)) return true;
      const [p, q] = n.inputs as [number, number];
      switch (n.op) {
        case 'const':
          return Math.fround(n.attrs.value) >= 0;
        case 'iota':
          return true;
        case 'unary':
          return n.attrs.fn === 'abs' || n.attrs.fn === 'sqrt' || n.attrs.fn === 'exp' || n.attrs.fn === 'relu';
        case 'binary':
          switch (n.attrs.fn) {
            case 'mul':
              return p === q || (this.nonNegative(p) && this.nonNegative(q));
            case 'add':
            case 'div':
            case 'minimum':
              return this.nonNegative(p) && this.nonNegative(q);
            case 'maximum':
              return this.nonNegative(p) || this.nonNegative(q);
            case 'sub':
            case 'pow':
              return false;
            default: // comparisons: 0 or 1
              return true;
          }
        case 'where':
          return this.nonNegative(n.inputs[1]!) && this.nonNegative(n.inputs[2]!);
        case 'reduce':
        case 'detach':
        case 'broadcast':
        case 'reshape':
        case 'cast':
          return this.nonNegative(p);
        default:
          return false;
      }
    });
  }

  /** Node `c`'s span where it is a function of constants and dims only (no input: see the header), else undefined. */
  private span(c: number): Span | undefined {
    if (this.spans.has(c)) return this.spans.get(c);
    const s = this.spanOf(this.node(c));
    this.spans.set(c, s);
    return s;
  }

  private spanOf(n: Node): Span | undefined {
    if (n.op === 'input') return undefined;
    const ins = n.inputs.map((i) => this.span(i));
    if (!ins.every((s) => s !== undefined)) return undefined;
    const [p, q] = ins as [Span, Span];
    switch (n.op) {
      case 'const': {
        const a = Math.abs(Math.fround(n.attrs.value));
        return { lo: down(a), hi: a };
      }
      case 'iota': {
        const d = n.attrs.shape[n.attrs.axis]!;
        return { lo: 0, hi: typeof d === 'number' ? Math.max(0, d - 1) : MAX_EXTENT };
      }
      case 'unary':
        switch (n.attrs.fn) {
          case 'tanh':
            return { lo: 0, hi: 1 };
          case 'sign':
            return { lo: p.lo > 0 ? 1 : 0, hi: 1 };
          case 'neg':
          case 'abs':
            return p;
          case 'relu':
            return { lo: 0, hi: p.hi };
          case 'floor': // ⌊−0.5⌋ = −1
            return { lo: 0, hi: p.hi + 1 };
          case 'sqrt':
            return { lo: down(Math.sqrt(p.lo)), hi: up(Math.sqrt(p.hi)) };
          case 'recip':
            return { lo: down(1 / p.hi), hi: up(1 / p.lo) };
          case 'exp':
            return { lo: down(Math.exp(-p.hi)), hi: up(Math.exp(p.hi)) };
          case 'log':
            return { lo: 0, hi: up(Math.max(Math.abs(Math.log(p.lo)), Math.abs(Math.log(p.hi)))) };
          default:
            return { lo: 0, hi: Infinity };
        }
      case 'binary':
        if (n.attrs.fn !== 'add' && n.attrs.fn !== 'sub' && n.attrs.fn !== 'mul' && n.attrs.fn !== 'div' && n.attrs.fn !== 'pow' && n.attrs.fn !== 'maximum' && n.attrs.fn !== 'minimum')
          return { lo: 0, hi: 1 }; // comparisons: 0 or 1
        switch (n.attrs.fn) {
          case 'add':
          case 'sub': {
            // two values ≥ 0 add up to at least both lower bounds
            const apart = n.attrs.fn === 'add' && this.nonNegative(n.inputs[0]!) && this.nonNegative(n.inputs[1]!) ? p.lo + q.lo : Math.max(0, p.lo - q.hi, q.lo - p.hi);
            return { lo: down(apart), hi: up(p.hi + q.hi) };
          }
          case 'mul':
            return { lo: down(p.lo * q.lo), hi: up(p.hi * q.hi) };
          case 'div':
            return { lo: down(p.lo / q.hi), hi: up(p.hi / q.lo) };
          case 'maximum':
          case 'minimum': // one of the two
            return { lo: Math.min(p.lo, q.lo), hi: Math.max(p.hi, q.hi) };
          default:
            return { lo: 0, hi: Infinity };
        }
      case 'where': {
        const [a, b] = ins.slice(1) as [Span, Span];
        return { lo: Math.min(a.lo, b.lo), hi: Math.max(a.hi, b.hi) };
      }
      case 'reduce': {
        if (n.attrs.fn !== 'sum') return p; // one of the values
        const dims = n.attrs.axes.map((a) => this.node(n.inputs[0]!).shape[a]!);
        const count = dims.reduce<number>((k, d) => k * (typeof d === 'number' ? d : MAX_EXTENT), 1);
        // values of one sign sum to at least the least of them (an empty dim's 0 is rounding's own, see the header)
        return { lo: this.oneSigned(n.inputs[0]!, n.attrs.axes) ? p.lo : 0, hi: up(p.hi * count) };
      }
      case 'detach':
      case 'broadcast':
      case 'reshape':
      case 'permute':
      case 'slice':
        return p;
      case 'cast':
        return { lo: n.dtype === 'int' ? 0 : p.lo, hi: p.hi };
      default: // a function of constants, not bounded here
        return { lo: 0, hi: Infinity };
    }
  }

  /** Are node `x`'s values along `axes` all of one sign: never negative, or one value broadcast along them? */
  private oneSigned(x: number, axes: readonly number[]): boolean {
    if (this.nonNegative(x)) return true;
    const n = this.node(x);
    if (n.op !== 'broadcast') return false;
    const src = this.node(n.inputs[0]!).shape;
    const lead = n.shape.length - src.length;
    return axes.every((a) => a < lead || isOneDim(src[a - lead]!));
  }

  private known(fact: Fact, c: number, rule: (n: Node) => boolean): boolean {
    const key = `${fact}:${c}`;
    let v = this.memo.get(key);
    if (v === undefined) {
      v = rule(this.node(c));
      this.memo.set(key, v);
    }
    return v;
  }
}
