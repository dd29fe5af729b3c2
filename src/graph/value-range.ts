// What a float node's values can be, whatever the inputs hold: never ±∞, never ±0. Rewrites that are exact only
// for some values ask it. A factor moves out of a sum (Σ k·a = k·Σa, Σ a/q = Σa / q; schedule/algebra.ts,
// sum-rewrites.ts) only when k is never ±∞ and q never 0: Σ ∞·a is NaN where a has both signs or a 0, but ∞·Σa is
// ±∞ then. A k of 0 and a q of ±∞ keep the outcome (0 or NaN both ways: NaN exactly where some a is ±∞ or NaN).
// NaN is always allowed (it propagates through both sides of such a rewrite), and so are rounding's own ±∞ and 0:
// finite operands whose sum or product overflows or whose product underflows, and sums over an empty dim.
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

/** The facts of one query, each node's answer memoised: a graph is a DAG, its paths can be exponentially many. */
class ValueRange {
  private readonly memo = new Map<string, boolean>();

  constructor(private readonly node: NodeOf) {}

  /** Finite constants (in f32), ints, 0/1 comparisons, and what arithmetic keeps finite from them. */
  finite(c: number): boolean {
    return this.known('finite', c, (n) => {
      if (n.dtype === 'int') return true;
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

  /** At least ±0: positive values, |x|, √x, exp, relu, x·x, 0/1 comparisons, and sums and products of such. */
  private nonNegative(c: number): boolean {
    return this.known('nonNegative', c, (n) => {
      if (this.positive(c)) return true;
      const [p, q] = n.inputs as [number, number];
      switch (n.op) {
        case 'const':
          return Math.fround(n.attrs.value) >= 0;
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
