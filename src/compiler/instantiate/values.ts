// Values of the spec interpreter. Compile-time: none, bools, numbers, symbolic dims, strings, lists, maps
// (kwargs records), loss values (callable). Run-time: tensors (graph node ids). In between: io_dict accesses
// that become graph inputs only when used as tensors (so `student[p][io][0]` names one tuple element), and
// `unknown` (reads-only mode: a compile-time value that depends on shapes).
import type { Span } from '../../diagnostics/diagnostic.js';
import type { KwValue, Side, TensorRef } from '../ir.js';
import type { Dim, SymDim } from '../../graph/types.js';
import { dimToString, evalDim } from '../../graph/dims.js';

export type Value =
  | { t: 'none' }
  | { t: 'bool'; v: boolean }
  | { t: 'num'; v: number; int: boolean }
  | { t: 'dim'; d: SymDim }
  | { t: 'str'; v: string }
  | { t: 'list'; items: Value[] }
  | { t: 'map'; entries: Map<string, Value> }
  /** A graph node; id -1 in reads-only mode. */
  | { t: 'tensor'; id: number }
  /** `student` / `teacher`, then `student[path]`. */
  | { t: 'iodict'; side: Side; path?: string }
  /** A complete tensor reference, materialized into a graph input on first tensor use. */
  | { t: 'ref'; ref: TensorRef }
  /** `model_loss`: the model-loss dict, keys known at instantiation. */
  | { t: 'modelloss'; keys: string[] }
  | { t: 'loss'; name: string; arity: number | undefined; call: (args: Value[], span?: Span) => Value }
  | { t: 'unknown' };

export const NONE: Value = { t: 'none' };
export const UNKNOWN: Value = { t: 'unknown' };
export const bool = (v: boolean): Value => ({ t: 'bool', v });
export const num = (v: number, int = Number.isInteger(v)): Value => ({ t: 'num', v, int });
export const str = (v: string): Value => ({ t: 'str', v });
export const list = (items: Value[]): Value => ({ t: 'list', items });
export const tensor = (id: number): Value => ({ t: 'tensor', id });

/** A kwarg value (plain YAML data) as an interpreter value. */
export function fromKw(v: KwValue | undefined): Value {
  if (v === undefined || v === null) return NONE;
  if (typeof v === 'boolean') return bool(v);
  if (typeof v === 'number') return num(v);
  if (typeof v === 'string') return str(v);
  if (Array.isArray(v)) return list(v.map(fromKw));
  const entries = new Map<string, Value>();
  for (const [k, x] of Object.entries(v)) entries.set(k, fromKw(x));
  return { t: 'map', entries };
}

export function kindName(v: Value): string {
  switch (v.t) {
    case 'none':
      return 'none';
    case 'bool':
      return 'a bool';
    case 'num':
      return v.int ? 'an int' : 'a float';
    case 'dim':
      return 'a dim';
    case 'str':
      return 'a string';
    case 'list':
      return 'a list';
    case 'map':
      return 'a mapping';
    case 'tensor':
    case 'ref':
      return 'a tensor';
    case 'iodict':
      return v.path === undefined ? `the ${v.side} io_dict` : `io_dict['${v.side}']['${v.path}']`;
    case 'modelloss':
      return 'the model-loss dict';
    case 'loss':
      return `the loss ${v.name}`;
    case 'unknown':
      return 'a shape-dependent value';
  }
}

/** Longest rendering in a message; longer ones are cut and end in '...'. */
const SHOW_MAX = 10_000;

/** Python-like rendering of a compile-time value (for messages; `str()` uses showWithinLimit in limits.ts). */
export function show(v: Value): string {
  const r = render(v, SHOW_MAX);
  return r.complete ? r.text : `${r.text}...`;
}

/**
 * The rendering of `v`, cut at `max` characters (complete: false when cut). Iterative and bounded by `max`: a list
 * doubled 40 times (`z = [z, z]`, 2^40 leaves sharing their halves) stops at the cut, as does a list nested
 * 100,000 deep.
 */
export function render(v: Value, max: number): { text: string; complete: boolean } {
  const parts: string[] = [];
  let len = 0;
  const put = (s: string): boolean => {
    if (len + s.length > max) {
      parts.push(s.slice(0, max - len));
      return false;
    }
    parts.push(s);
    len += s.length;
    return true;
  };
  // each entry: text to write, or a value to render (quoted: a string inside a list or map)
  const todo: (string | { v: Value; quoted: boolean })[] = [{ v, quoted: false }];
  while (todo.length) {
    const x = todo.pop()!;
    if (typeof x === 'string') {
      if (!put(x)) return { text: parts.join(''), complete: false };
      continue;
    }
    const y = x.v;
    let text: string;
    if (y.t === 'list' || y.t === 'map') {
      const items: (string | { v: Value; quoted: boolean })[][] =
        y.t === 'list' ? y.items.map((it) => [{ v: it, quoted: true }]) : [...y.entries].map(([k, it]) => [`'${k}': `, { v: it, quoted: true }]);
      const [open, close] = y.t === 'list' ? ['[', ']'] : ['{', '}'];
      todo.push(close);
      for (let i = items.length - 1; i >= 0; i--) {
        todo.push(...items[i]!.reverse());
        if (i > 0) todo.push(', ');
      }
      text = open;
    } else text = y.t === 'str' && x.quoted ? `'${y.v}'` : scalarText(y);
    if (!put(text)) return { text: parts.join(''), complete: false };
  }
  return { text: parts.join(''), complete: true };
}

function scalarText(v: Value): string {
  switch (v.t) {
    case 'none':
      return 'None';
    case 'bool':
      return v.v ? 'True' : 'False';
    case 'num':
      return String(v.v);
    case 'dim':
      return dimToString(v.d);
    case 'str':
      return v.v;
    default:
      return kindName(v);
  }
}

/** Truthiness of a compile-time value; 'unknown' when it depends on shapes. */
export type Truth = boolean | 'unknown';

export const isTensorLike = (v: Value): boolean => v.t === 'tensor' || v.t === 'ref';

// ---- numbers and sizes ------------------------------------------------------------------------------------

export function numeric(v: Value): { v: number; int: boolean } | undefined {
  if (v.t === 'num') return { v: v.v, int: v.int };
  if (v.t === 'bool') return { v: v.v ? 1 : 0, int: true };
  return undefined;
}

/** An integer-valued compile-time value as a Dim. */
export function asDim(v: Value): Dim | undefined {
  if (v.t === 'dim') return v.d;
  if (v.t === 'num' && v.int) return v.v;
  if (v.t === 'num' && Number.isInteger(v.v)) return v.v;
  if (v.t === 'bool') return v.v ? 1 : 0;
  return undefined;
}

export function dimValue(d: Dim): Value {
  if (typeof d === 'number') return num(d, true);
  try {
    return num(evalDim(d, {}), true);
  } catch {
    return { t: 'dim', d };
  }
}
