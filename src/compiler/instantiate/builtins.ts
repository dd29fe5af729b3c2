// The implementations of the spec language's built-in functions, one per entry of grammar/builtins.ts (which
// holds the signatures the checker, the interpreter's argument binding and the docs read). Each maps onto graph
// primitives (tensors) or computes a compile-time value. Arguments arrive bound to the parameter list (missing
// ones are none; the implementation applies the documented default). In reads-only mode tensor results are placeholders and shapes are unknown.
import { BUILTIN_VALUES, type BuiltinName } from '../../../grammar/builtins.js';
import type { Span } from '../../diagnostics/diagnostic.js';
import { assumeDimEq, dimEq, dimToString, maxDims, minDims, mulDims, shapeToString } from '../../graph/dims.js';
import type { Dim, DType, Shape } from '../../graph/types.js';
import { requiresGrad } from '../../graph/autodiff.js';
import type { StateInit } from 'tdc-runtime';
import { C } from './codes.js';
import { fail, type EvalContext } from './context.js';
import { checkListLength, showWithinLimit } from './limits.js';
import { constant, describeValue, dtypeOf, op, PLACEHOLDER, shapeOf, toNode } from './tensors.js';
import { asDim, bool, dimValue, isTensorLike, kindName, list, NONE, num, numeric, show, str, tensor, UNKNOWN, type Truth, type Value } from './values.js';

/** What a built-in needs from the interpreter that calls it (the interpreter implements it; no import back). */
export interface BuiltinHost {
  readonly ctx: EvalContext;
  truth(v: Value, span: Span): Truth;
  /** A low-level loss with fixed kwargs, as a callable loss value. */
  lowLoss(key: string, kwargs: Map<string, Value>, span: Span): Value;
}

/** The implementation of one entry of grammar/builtins.ts (which holds its parameter list). */
export interface Builtin {
  fn(ip: BuiltinHost, a: Value[], span: Span, kwargs: Map<string, Value>): Value;
}

/** Names usable in every body besides functions (for static checkers). */
export const BUILTIN_VALUE_NAMES: readonly string[] = BUILTIN_VALUES;

// ---- helpers ------------------------------------------------------------------------------------------------

const T = (ip: BuiltinHost, v: Value, what = 'argument'): number => {
  if (v.t === 'none') fail(ip.ctx, C.type, `expected a tensor for ${what}, got none`);
  return toNode(ip.ctx, v);
};

function intArg(ip: BuiltinHost, v: Value, what: string): number {
  const n = numeric(v);
  if (n === undefined || !Number.isInteger(n.v)) fail(ip.ctx, C.type, `${what} must be an integer, got ${kindName(v)}`);
  return n.v;
}

function axis(ip: BuiltinHost, v: Value, rank: number, what = 'dim'): number {
  const a = intArg(ip, v, what);
  const r = a < 0 ? a + rank : a;
  if (r < 0 || r >= rank) fail(ip.ctx, C.shape, `${what} ${a} is out of range for a tensor of rank ${rank}`);
  return r;
}

function axes(ip: BuiltinHost, v: Value, rank: number): number[] {
  if (v.t === 'none') return [...Array(rank).keys()];
  if (v.t === 'list') return v.items.map((x) => axis(ip, x, rank));
  return [axis(ip, v, rank)];
}

function dimArg(ip: BuiltinHost, v: Value, what: string): Dim | undefined {
  if (v.t === 'unknown') return undefined;
  const d = asDim(v);
  if (d === undefined) fail(ip.ctx, C.type, `${what} must be an integer size, got ${kindName(v)}`);
  return d;
}

function dimList(ip: BuiltinHost, v: Value, what: string): Dim[] | undefined {
  if (v.t === 'unknown') return undefined;
  if (v.t !== 'list') fail(ip.ctx, C.type, `${what} must be a list of sizes, got ${kindName(v)}`);
  const out: Dim[] = [];
  for (const x of v.items) {
    const d = dimArg(ip, x, what);
    if (d === undefined) return undefined;
    out.push(d);
  }
  return out;
}

const PH = tensor(PLACEHOLDER);

/** state()'s init argument: none, a list of numbers (one per element of the shape), or a bound s (uniform in [-s, s]). */
function stateInit(ip: BuiltinHost, v: Value, shape: Dim[] | undefined): StateInit | undefined {
  if (v.t === 'none' || v.t === 'unknown') return undefined;
  if (v.t === 'list') {
    const values = v.items.map((x) => {
      const n = numeric(x);
      if (n === undefined) return fail(ip.ctx, C.type, `state: the initial values must be numbers, got ${kindName(x)}`);
      return n.v;
    });
    const count = shape?.reduce<number | undefined>((a, d) => (a !== undefined && typeof d === 'number' ? a * d : undefined), 1);
    if (count !== undefined && count !== values.length) fail(ip.ctx, C.shape, `state: ${values.length} initial values for a buffer of ${count} elements`);
    return { values };
  }
  const n = numeric(v);
  if (n === undefined || !(n.v >= 0) || !Number.isFinite(n.v)) return fail(ip.ctx, C.type, `state: init must be a list of numbers or a finite bound ≥ 0 (uniform in [-bound, bound]), got ${show(v)}`);
  return { uniform: n.v };
}

/** Node and shape of a tensor argument; shape undefined in reads mode. */
function ts(ip: BuiltinHost, v: Value, what?: string): { id: number; shape: Shape | undefined } {
  const id = T(ip, v, what);
  return { id, shape: shapeOf(ip.ctx, id) };
}

function unaryBuiltin(fn: 'exp' | 'log' | 'sqrt' | 'abs' | 'sign' | 'tanh' | 'log1p' | 'relu' | 'floor', host: (x: number) => number): Builtin {
  return {
    fn(ip, [x]) {
      const n = numeric(x!);
      if (n !== undefined) return num(host(n.v), fn === 'abs' || fn === 'sign' || fn === 'floor' || fn === 'relu' ? n.int : false);
      if (x!.t === 'unknown') return ip.ctx.mode === 'reads' ? UNKNOWN : fail(ip.ctx, C.notCompileTime, `${fn} of a value only known at run time`);
      if (x!.t === 'dim') return tensor(op(ip.ctx, 'unary', [toNode(ip.ctx, x!)], { fn }));
      return tensor(op(ip.ctx, 'unary', [T(ip, x!)], { fn }));
    },
  };
}

function reduceBuiltin(fn: 'sum' | 'max' | 'min'): Builtin {
  return {
    fn(ip, [x, dims, keepdim]) {
      const { id, shape } = ts(ip, x!);
      if (!shape) return PH;
      const kd = keepdim!.t === 'none' ? false : ip.truth(keepdim!, ip.ctx.curSpan!) === true;
      return tensor(op(ip.ctx, 'reduce', [id], { fn, axes: axes(ip, dims!, shape.length), keepdim: kd }));
    },
  };
}

function poolBuiltin(fn: 'avg' | 'max'): Builtin {
  return {
    fn(ip, [x, size]) {
      const { id, shape } = ts(ip, x!);
      if (!shape) return PH;
      if (shape.length < 2) fail(ip.ctx, C.shape, `adaptive_${fn}_pool2d needs a tensor of rank ≥ 2, got ${shapeToString(shape)}`);
      const hw = size!.t === 'list' ? size!.items : [size!, size!];
      if (hw.length !== 2) fail(ip.ctx, C.type, `adaptive_${fn}_pool2d: size must be an int or [h, w]`);
      const out = hw.map((v, i) => (v.t === 'none' ? shape[shape.length - 2 + i]! : dimArg(ip, v, 'output size'))) as Dim[];
      if (out.some((d) => d === undefined)) return PH;
      return tensor(op(ip.ctx, 'adaptive_pool2d', [id], { fn, out: [out[0]!, out[1]!] }));
    },
  };
}

function sortBuiltin(output: 'values' | 'indices' | 'ranks'): Builtin {
  return {
    fn(ip, [x, dim, descending]) {
      const { id, shape } = ts(ip, x!);
      if (!shape) return PH;
      const a = dim!.t === 'none' ? shape.length - 1 : axis(ip, dim!, shape.length);
      return tensor(op(ip.ctx, 'sort', [id], { axis: a, descending: ip.truth(descending!, ip.ctx.curSpan!) === true, output }));
    },
  };
}

function reshapeTo(ip: BuiltinHost, id: number, shape: Shape): number {
  return op(ip.ctx, 'reshape', [id], { shape });
}

function castTo(ip: BuiltinHost, id: number, dtype: DType): number {
  return op(ip.ctx, 'cast', [id], { dtype });
}

function tensorFromValue(ip: BuiltinHost, v: Value): number {
  if (isTensorLike(v)) return T(ip, v);
  const n = numeric(v);
  if (n !== undefined) return constant(ip.ctx, n.v);
  if (v.t === 'list') {
    if (ip.ctx.mode === 'reads') return PLACEHOLDER;
    const flat: number[] = [];
    const shape = nestedListShape(ip, v, flat);
    const row = op(ip.ctx, 'concat', flat.map((k) => reshapeTo(ip, constant(ip.ctx, k), [1])), { axis: 0 });
    return shape.length === 1 ? row : reshapeTo(ip, row, shape);
  }
  return fail(ip.ctx, C.type, `tensor(): expected a list of numbers or a tensor, got ${kindName(v)}`);
}

/** The shape of a rectangular nested list of numbers (torch.tensor's), its numbers appended to `flat` in row-major order. */
function nestedListShape(ip: BuiltinHost, v: Value, flat: number[]): number[] {
  const k = numeric(v);
  if (k !== undefined) {
    flat.push(k.v);
    return [];
  }
  if (v.t !== 'list') return fail(ip.ctx, C.type, `tensor(): expected a (nested) list of numbers, got an element that is ${kindName(v)}`);
  if (v.items.length === 0) return fail(ip.ctx, C.type, 'tensor(): empty list');
  const inner = v.items.map((x) => nestedListShape(ip, x, flat));
  const first = inner[0]!;
  for (const s of inner)
    if (s.length !== first.length || s.some((d, i) => d !== first[i]))
      fail(ip.ctx, C.type, `tensor(): nested lists must be rectangular, got rows of shapes [${first.join(', ')}] and [${s.join(', ')}]`);
  return [v.items.length, ...first];
}

function minMax(which: 'min' | 'max'): Builtin {
  return {
    fn(ip, [a, b]) {
      const items = b!.t === 'none' && a!.t === 'list' ? a!.items : [a!, b!];
      if (items.length === 0) fail(ip.ctx, C.type, `${which}() of an empty list`);
      if (items.some((x) => x.t === 'unknown')) return UNKNOWN;
      if (items.some(isTensorLike)) fail(ip.ctx, C.type, `${which}() is compile-time; use ${which === 'min' ? 'minimum' : 'maximum'}(a, b) or ${which === 'min' ? 'amin' : 'amax'}(x) on tensors`);
      const ns = items.map(numeric);
      if (ns.every((n) => n !== undefined)) {
        const vs = ns.map((n) => n!.v);
        const r = which === 'min' ? Math.min(...vs) : Math.max(...vs);
        return num(r, ns.every((n) => n!.int));
      }
      const ds = items.map((x) => dimArg(ip, x, `${which}() argument`)!);
      return dimValue(ds.reduce((p, q) => (which === 'min' ? minDims(p, q) : maxDims(p, q))));
    },
  };
}

function elementwise2(fn: 'maximum' | 'minimum'): Builtin {
  return {
    fn(ip, [a, b]) {
      const x = numeric(a!);
      const y = numeric(b!);
      if (x !== undefined && y !== undefined) return num(fn === 'maximum' ? Math.max(x.v, y.v) : Math.min(x.v, y.v), x.int && y.int);
      const na = isTensorLike(a!) ? T(ip, a!) : undefined;
      const nb = isTensorLike(b!) ? T(ip, b!) : undefined;
      const like = [na, nb].filter((n): n is number => n !== undefined).every((n) => dtypeOf(ip.ctx, n) === 'int') ? 'int' : 'float';
      return tensor(op(ip.ctx, 'binary', [na ?? toNode(ip.ctx, a!, like), nb ?? toNode(ip.ctx, b!, like)], { fn }));
    },
  };
}

// ---- the table ----------------------------------------------------------------------------------------------

/** One implementation per entry of the signature table (a missing or extra key is a type error). */
export const BUILTINS: { readonly [K in BuiltinName]: Builtin } = {
  // elementwise
  exp: unaryBuiltin('exp', Math.exp),
  log: unaryBuiltin('log', Math.log),
  sqrt: unaryBuiltin('sqrt', Math.sqrt),
  abs: unaryBuiltin('abs', Math.abs),
  sign: unaryBuiltin('sign', Math.sign),
  tanh: unaryBuiltin('tanh', Math.tanh),
  log1p: unaryBuiltin('log1p', Math.log1p),
  relu: unaryBuiltin('relu', (x) => Math.max(x, 0)),
  floor: unaryBuiltin('floor', Math.floor),
  maximum: elementwise2('maximum'),
  minimum: elementwise2('minimum'),
  where: {
    fn(ip, [c, a, b]) {
      if (!isTensorLike(c!) && c!.t !== 'unknown') {
        const t = ip.truth(c!, ip.ctx.curSpan!);
        if (t === true) return a!;
        if (t === false) return b!;
      }
      const nc = T(ip, c!, 'the condition');
      const na = isTensorLike(a!) ? T(ip, a!) : undefined;
      const nb = isTensorLike(b!) ? T(ip, b!) : undefined;
      const like = [na, nb].filter((n): n is number => n !== undefined).every((n) => dtypeOf(ip.ctx, n) === 'int') && (na ?? nb) !== undefined ? 'int' : 'float';
      return tensor(op(ip.ctx, 'where', [nc, na ?? toNode(ip.ctx, a!, like), nb ?? toNode(ip.ctx, b!, like)], {}));
    },
  },

  // reductions
  sum: reduceBuiltin('sum'),
  amax: reduceBuiltin('max'),
  amin: reduceBuiltin('min'),

  // shape
  reshape: {
    fn(ip, [x, shape]) {
      const { id, shape: s } = ts(ip, x!);
      const target = dimList(ip, shape!, 'reshape: the shape');
      if (!s || !target) return PH;
      return tensor(reshapeTo(ip, id, target));
    },
  },
  flatten: {
    fn(ip, [x, start, end]) {
      const { id, shape } = ts(ip, x!);
      if (!shape) return PH;
      const r = shape.length;
      if (r === 0) return tensor(reshapeTo(ip, id, [1]));
      const s = start!.t === 'none' ? 0 : axis(ip, start!, r, 'start');
      const e = end!.t === 'none' ? r - 1 : axis(ip, end!, r, 'end');
      if (e < s) fail(ip.ctx, C.shape, `flatten: start (${s}) comes after end (${e})`);
      return tensor(reshapeTo(ip, id, [...shape.slice(0, s), mulDims(...shape.slice(s, e + 1)), ...shape.slice(e + 1)]));
    },
  },
  permute: {
    fn(ip, [x, perm]) {
      const { id, shape } = ts(ip, x!);
      if (!shape) return PH;
      if (perm!.t !== 'list') return fail(ip.ctx, C.type, `permute: expected a list of dims, got ${kindName(perm!)}`);
      return tensor(op(ip.ctx, 'permute', [id], { perm: perm!.items.map((p) => axis(ip, p, shape.length)) }));
    },
  },
  transpose: {
    fn(ip, [x, d0, d1]) {
      const { id, shape } = ts(ip, x!);
      if (!shape) return PH;
      const a = axis(ip, d0!, shape.length);
      const b = axis(ip, d1!, shape.length);
      const perm = [...shape.keys()];
      perm[a] = b;
      perm[b] = a;
      return tensor(op(ip.ctx, 'permute', [id], { perm }));
    },
  },
  unsqueeze: {
    fn(ip, [x, d]) {
      const { id, shape } = ts(ip, x!);
      if (!shape) return PH;
      const a = intArg(ip, d!, 'dim');
      const at = a < 0 ? a + shape.length + 1 : a;
      if (at < 0 || at > shape.length) fail(ip.ctx, C.shape, `unsqueeze: dim ${a} is out of range for a tensor of rank ${shape.length}`);
      return tensor(reshapeTo(ip, id, [...shape.slice(0, at), 1, ...shape.slice(at)]));
    },
  },
  squeeze: {
    fn(ip, [x, d]) {
      const { id, shape } = ts(ip, x!);
      if (!shape) return PH;
      const drop = new Set(axes(ip, d!, shape.length).filter((a) => dimEq(shape[a]!, 1) === true));
      return tensor(reshapeTo(ip, id, shape.filter((_, i) => !drop.has(i))));
    },
  },
  expand: {
    fn(ip, [x, target]) {
      const { id, shape } = ts(ip, x!);
      const t = dimList(ip, target!, 'expand: the shape');
      if (!shape || !t) return PH;
      const lead = t.length - shape.length;
      if (lead < 0) fail(ip.ctx, C.shape, `expand: the target ${shapeToString(t)} has fewer dims than the tensor ${shapeToString(shape)}`);
      const full = t.map((d, i) => (d === -1 ? (i >= lead ? shape[i - lead]! : fail(ip.ctx, C.shape, 'expand: -1 is not allowed for a new leading dim')) : d));
      return tensor(op(ip.ctx, 'broadcast', [id], { shape: full }));
    },
  },
  slice: {
    fn(ip, [x, dim, start, end, step]) {
      const { id, shape } = ts(ip, x!);
      if (!shape) return PH;
      const a = axis(ip, dim!, shape.length);
      const s = start!.t === 'none' ? 0 : dimArg(ip, start!, 'slice start');
      const e = end!.t === 'none' ? shape[a]! : dimArg(ip, end!, 'slice end');
      const st = step!.t === 'none' ? 1 : intArg(ip, step!, 'slice step');
      if (s === undefined || e === undefined) return PH;
      if (st <= 0) fail(ip.ctx, C.type, 'slice step must be positive');
      return tensor(op(ip.ctx, 'slice', [id], { axis: a, start: s, end: e, step: st }));
    },
  },
  cat: {
    fn(ip, [xs, dim]) {
      if (xs!.t !== 'list') return fail(ip.ctx, C.type, `cat: expected a list of tensors, got ${kindName(xs!)}`);
      const ids = xs!.items.map((v) => T(ip, v));
      if (ids.length === 0) fail(ip.ctx, C.type, 'cat: empty list');
      const shape = shapeOf(ip.ctx, ids[0]!);
      if (!shape) return PH;
      return tensor(op(ip.ctx, 'concat', ids, { axis: dim!.t === 'none' ? 0 : axis(ip, dim!, shape.length) }));
    },
  },
  shape: {
    fn(ip, [x]) {
      const { shape } = ts(ip, x!);
      return shape ? list(shape.map(dimValue)) : UNKNOWN;
    },
  },
  size: {
    fn(ip, [x, d]) {
      const { shape } = ts(ip, x!);
      if (!shape) return UNKNOWN;
      if (d!.t === 'none') return list(shape.map(dimValue));
      return dimValue(shape[axis(ip, d!, shape.length)]!);
    },
  },
  numel: {
    fn(ip, [x]) {
      const { shape } = ts(ip, x!);
      return shape ? dimValue(mulDims(...shape)) : UNKNOWN;
    },
  },
  ndim: {
    fn(ip, [x]) {
      const { shape } = ts(ip, x!);
      return shape ? num(shape.length, true) : UNKNOWN;
    },
  },

  // linear algebra
  matmul: {
    fn(ip, [a, b]) {
      const x = ts(ip, a!);
      const y = ts(ip, b!);
      if (!x.shape || !y.shape) return PH;
      if (x.shape.length === 0 || y.shape.length === 0) fail(ip.ctx, C.shape, 'matmul: both arguments need at least one dim');
      const va = x.shape.length === 1;
      const vb = y.shape.length === 1;
      const ia = va ? reshapeTo(ip, x.id, [1, x.shape[0]!]) : x.id;
      const ib = vb ? reshapeTo(ip, y.id, [y.shape[0]!, 1]) : y.id;
      let r = op(ip.ctx, 'matmul', [ia, ib], {});
      const rs = shapeOf(ip.ctx, r)!;
      if (va || vb) r = reshapeTo(ip, r, rs.filter((_, i) => !((va && i === rs.length - 2) || (vb && i === rs.length - 1))));
      return tensor(r);
    },
  },
  cholesky: {
    fn: (ip, [a]) => tensor(op(ip.ctx, 'cholesky', [T(ip, a!)], {})),
  },
  triangular_solve: {
    fn(ip, [a, b, lower, transpose]) {
      const lo = lower!.t === 'none' ? true : ip.truth(lower!, ip.ctx.curSpan!) === true;
      const tr = transpose!.t === 'none' ? false : ip.truth(transpose!, ip.ctx.curSpan!) === true;
      return tensor(op(ip.ctx, 'triangular_solve', [T(ip, a!), T(ip, b!)], { lower: lo, transpose: tr }));
    },
  },
  ctc_nll: {
    fn(ip, [lp, tg, il, tl, blank]) {
      const ids = [T(ip, lp!, 'log_probs'), T(ip, tg!, 'targets'), T(ip, il!, 'input_lengths'), T(ip, tl!, 'target_lengths')];
      return tensor(op(ip.ctx, 'ctc_nll', ids, { blank: blank!.t === 'none' ? 0 : intArg(ip, blank!, 'ctc_nll: blank') }));
    },
  },
  eye: {
    fn(ip, [n]) {
      const d = dimArg(ip, n!, 'eye size');
      if (d === undefined || ip.ctx.mode === 'reads') return PH;
      const r = op(ip.ctx, 'iota', [], { shape: [d, d], axis: 0, dtype: 'int' });
      const c = op(ip.ctx, 'iota', [], { shape: [d, d], axis: 1, dtype: 'int' });
      return tensor(castTo(ip, op(ip.ctx, 'binary', [r, c], { fn: 'eq' }), 'float'));
    },
  },

  // indexing
  gather: {
    fn(ip, [x, dim, index]) {
      const { id, shape } = ts(ip, x!);
      const idx = T(ip, index!, 'the index');
      if (!shape) return PH;
      return tensor(op(ip.ctx, 'gather', [id, idx], { axis: axis(ip, dim!, shape.length) }));
    },
  },
  index_copy: {
    fn(ip, [x, dim, index, source]) {
      const { id, shape } = ts(ip, x!);
      const idx = T(ip, index!, 'the index');
      const src = T(ip, source!, 'the source');
      if (!shape) return PH;
      return tensor(op(ip.ctx, 'index_copy', [id, idx, src], { axis: axis(ip, dim!, shape.length) }));
    },
  },
  one_hot: {
    fn(ip, [index, n]) {
      const { id, shape } = ts(ip, index!, 'the index');
      const d = dimArg(ip, n!, 'one_hot: the class count');
      if (!shape || d === undefined) return PH;
      const pos = op(ip.ctx, 'iota', [], { shape: [...shape, d], axis: shape.length, dtype: 'int' });
      // the class values picked from arange(d): the same values, with an index check (torch raises "Class values
      // must be smaller than num_classes" where a comparison alone gives an all-zero row): on the host or the
      // device as for any gather index (index-checks.ts, computed-indices.ts), and in the CPU executor's gather
      const classes = op(ip.ctx, 'gather', [op(ip.ctx, 'iota', [], { shape: [d], axis: 0, dtype: 'int' }), reshapeTo(ip, id, [mulDims(...shape)])], { axis: 0 });
      const col = reshapeTo(ip, classes, [...shape, 1]);
      return tensor(castTo(ip, op(ip.ctx, 'binary', [col, pos], { fn: 'eq' }), 'float'));
    },
  },
  arange: {
    fn(ip, [n]) {
      const d = dimArg(ip, n!, 'arange size');
      if (d === undefined || ip.ctx.mode === 'reads') return PH;
      return tensor(op(ip.ctx, 'iota', [], { shape: [d], axis: 0, dtype: 'int' }));
    },
  },

  // pools and sorting
  adaptive_avg_pool2d: poolBuiltin('avg'),
  adaptive_max_pool2d: poolBuiltin('max'),
  sort: sortBuiltin('values'),
  argsort: sortBuiltin('indices'),
  ranks: sortBuiltin('ranks'),

  // types
  float: {
    fn(ip, [x]) {
      const n = numeric(x!);
      if (n !== undefined) return num(n.v, false);
      if (x!.t === 'str') {
        const v = Number(x!.v);
        return Number.isNaN(v) && x!.v.trim().toLowerCase() !== 'nan' ? fail(ip.ctx, C.type, `could not convert string to float: '${x!.v}'`) : num(v, false);
      }
      if (x!.t === 'unknown' || x!.t === 'dim') return ip.ctx.mode === 'reads' ? UNKNOWN : tensor(toNode(ip.ctx, x!));
      return tensor(castTo(ip, T(ip, x!), 'float'));
    },
  },
  long: {
    fn(ip, [x]) {
      const n = numeric(x!);
      if (n !== undefined) return num(Math.trunc(n.v), true);
      if (x!.t === 'dim' || x!.t === 'unknown') return x!;
      return tensor(castTo(ip, T(ip, x!), 'int'));
    },
  },
  detach: {
    fn(ip, [x]) {
      if (!isTensorLike(x!)) return x!;
      return tensor(op(ip.ctx, 'detach', [T(ip, x!)], {}));
    },
  },
  dtype: {
    fn(ip, [x]) {
      const id = T(ip, x!);
      const d = dtypeOf(ip.ctx, id);
      return d === undefined ? UNKNOWN : str(d);
    },
  },
  requires_grad: {
    fn(ip, [x]) {
      if (!isTensorLike(x!)) return bool(false);
      // asking whether a tensor trains reads it: in reads mode too, so reads keep the spec's first-read order
      const id = T(ip, x!);
      if (ip.ctx.mode === 'reads' || id === PLACEHOLDER) return UNKNOWN;
      const b = ip.ctx.builder!;
      return bool(requiresGrad(b.nodes, b.trainableInputs()).requires[id]!);
    },
  },
  tensor: {
    fn: (ip, [v]) => tensor(tensorFromValue(ip, v!)),
  },

  // compile-time
  len: {
    fn(ip, [v]) {
      if (v!.t === 'list') return num(v!.items.length, true);
      if (v!.t === 'map') return num(v!.entries.size, true);
      if (v!.t === 'str') return num(v!.v.length, true);
      if (v!.t === 'modelloss') return num(v!.keys.length, true);
      if (v!.t === 'unknown') return UNKNOWN;
      return fail(ip.ctx, C.type, `len() of ${kindName(v!)}`);
    },
  },
  range: {
    fn(ip, [a, b, step]) {
      const lo = b!.t === 'none' ? num(0, true) : a!;
      const hi = b!.t === 'none' ? a! : b!;
      if (lo.t === 'unknown' || hi.t === 'unknown') return UNKNOWN;
      const l = numeric(lo);
      const h = numeric(hi);
      if (l === undefined || h === undefined) {
        if (lo.t === 'dim' || hi.t === 'dim')
          return ip.ctx.mode === 'reads' ? UNKNOWN : fail(ip.ctx, C.notCompileTime, 'range() over a symbolic dim cannot be unrolled at compile time');
        return fail(ip.ctx, C.type, 'range() takes integers');
      }
      const s = step!.t === 'none' ? 1 : intArg(ip, step!, 'range step');
      if (s === 0) fail(ip.ctx, C.type, 'range() step must not be zero');
      if (!Number.isInteger(l.v) || !Number.isInteger(h.v)) fail(ip.ctx, C.type, `range() takes integers, got ${l.v} and ${h.v}`);
      const n = Math.max(0, Math.ceil((h.v - l.v) / s));
      checkListLength(ip.ctx, n, 'range()');
      const out: Value[] = [];
      for (let i = 0; i < n; i++) out.push(num(l.v + i * s, true));
      return list(out);
    },
  },
  min: minMax('min'),
  max: minMax('max'),
  is_none: {
    fn(ip, [v]) {
      if (v!.t === 'none') return bool(true);
      if (v!.t === 'unknown') return UNKNOWN;
      if (v!.t === 'ref' && v!.ref.kind === 'targets') {
        // the box passes targets=None when there are no labels (detection): no 'targets' input
        if (ip.ctx.mode === 'reads') return UNKNOWN;
        return bool(ip.ctx.inputs('targets') === undefined);
      }
      return bool(false);
    },
  },
  is_map: {
    fn: (_ip, [v]) => (v!.t === 'unknown' ? UNKNOWN : bool(v!.t === 'map')),
  },
  is_list: {
    fn: (_ip, [v]) => (v!.t === 'unknown' ? UNKNOWN : bool(v!.t === 'list')),
  },
  is_inf: {
    fn(_ip, [v]) {
      if (v!.t === 'unknown') return UNKNOWN;
      const n = numeric(v!);
      return bool(n !== undefined && Math.abs(n.v) === Infinity);
    },
  },
  to_list: {
    fn: (_ip, [v]) => (v!.t === 'list' ? v! : v!.t === 'none' ? list([]) : list([v!])),
  },
  str: {
    fn: (ip, [v]) => (isTensorLike(v!) ? str(describeValue(ip.ctx, v!)) : str(showWithinLimit(ip.ctx, v!, 'str() of this value'))),
  },
  side: {
    fn(ip, [flag]) {
      const t = ip.truth(flag!, ip.ctx.curSpan!);
      return { t: 'iodict', side: t === true ? 'teacher' : 'student' };
    },
  },
  error: {
    fn(ip, [message, ...tensors], span) {
      if (ip.ctx.mode === 'reads' && !ip.ctx.certain) return UNKNOWN;
      // show(none) is Python's 'None': a message that is none (a kwarg left out) says so instead
      const msg = message!.t === 'str' ? message!.v : message!.t === 'none' ? 'error(...) was called with none as its message' : show(message!);
      const about = tensors.filter(isTensorLike).map((t) => describeValue(ip.ctx, t));
      return fail(ip.ctx, C.specError, about.length ? `${msg} (got ${about.join(', ')})` : msg, span);
    },
  },
  assert_shape: {
    fn(ip, [x, shape, message], span) {
      const { shape: s } = ts(ip, x!);
      const want = shape!.t === 'list' ? shape!.items.map((v) => (v.t === 'unknown' ? undefined : asDim(v))) : undefined;
      if (!s || !want) return NONE;
      const ok = s.length === want.length && want.every((d, i) => d === undefined || assumeDimEq(d, s[i]!));
      if (!ok) {
        const msg = message!.t === 'str' ? message!.v : 'unexpected shape';
        const wanted = `[${want.map((d) => (d === undefined ? '?' : dimToString(d))).join(', ')}]`;
        fail(ip.ctx, C.shape, `${msg}: expected ${wanted}, got ${describeValue(ip.ctx, x!)}`, span);
      }
      return NONE;
    },
  },
  assert_broadcasts: {
    // torch's in-place ops (binary_cross_entropy's loss.mul_(weight), bce_with_logits' add_ of the pos_weight term)
    // refuse an operand that would enlarge the input's shape: x's dims, aligned from the right, are 1 or shape's
    fn(ip, [x, shape, message], span) {
      const { shape: s } = ts(ip, x!);
      const want = shape!.t === 'list' ? shape!.items.map((v) => (v.t === 'unknown' ? undefined : asDim(v))) : undefined;
      if (!s || !want) return NONE;
      const off = want.length - s.length;
      const ok = off >= 0 && s.every((d, i) => d === 1 || want[off + i] === undefined || assumeDimEq(d, want[off + i]!));
      if (!ok) {
        const msg = message!.t === 'str' ? message!.v : 'does not broadcast';
        const wanted = `[${want.map((d) => (d === undefined ? '?' : dimToString(d))).join(', ')}]`;
        fail(ip.ctx, C.shape, `${msg}: expected a shape that broadcasts to ${wanted} without enlarging it, got ${describeValue(ip.ctx, x!)}`, span);
      }
      return NONE;
    },
  },
  state: {
    fn(ip, [name, shape, init], span) {
      // a stateful loss's buffer (CRD): graph input state_in/<term>/<name>, never trained
      const ctx = ip.ctx;
      if (name!.t !== 'str') return fail(ctx, C.type, `state: the name must be a string, got ${kindName(name!)}`);
      const want = dimList(ip, shape!, 'state: the shape');
      if (ctx.mode === 'reads') return PH;
      const full = `state_in/${ctx.termName ?? 'term'}/${name!.v}`;
      const start = stateInit(ip, init!, want);
      if (start && !ctx.stateInit.some((x) => x.name === full)) ctx.stateInit.push({ name: full, init: start });
      const known = ctx.inputNodes.get(full);
      if (known !== undefined) return tensor(known);
      const info = ctx.inputs(full) ?? (ctx.declaredStateShapes && want ? { shape: want, dtype: 'float' as const } : undefined);
      if (!info)
        return fail(ctx, C.missingInput, `missing state tensor '${full}' (shape ${shapeToString(want ?? [])})`, span, {
          hint: 'a stateful loss reads its buffers from the inputs (state_in/<term>/<buffer>); `tdc run --state-out` writes the updated ones',
        });
      if (want && (info.shape.length !== want.length || want.some((d, i) => !assumeDimEq(d, info.shape[i]!))))
        fail(ctx, C.badInput, `state tensor '${full}' has shape ${shapeToString(info.shape)}, expected ${shapeToString(want)}`, span);
      const id = ctx.builder!.input(full, info.shape, info.dtype, false, { ...(ctx.curSpan ? { spec: ctx.curSpan } : {}), ...(ctx.configSpan ? { config: ctx.configSpan } : {}) });
      ctx.inputNodes.set(full, id);
      return tensor(id);
    },
  },
  state_out: {
    fn(ip, [name, value]) {
      const ctx = ip.ctx;
      if (name!.t !== 'str') return fail(ctx, C.type, `state_out: the name must be a string, got ${kindName(name!)}`);
      const id = T(ip, value!, 'the new state');
      if (ctx.mode === 'graph') ctx.stateOut.push({ name: `state_out/${ctx.termName ?? 'term'}/${name!.v}`, node: id });
      return NONE;
    },
  },
  warn_rows: {
    fn(ip, [mask, message]) {
      const ctx = ip.ctx;
      if (message!.t !== 'str') return fail(ctx, C.type, `warn_rows: the message must be a string, got ${kindName(message!)}`);
      const id = T(ip, mask!, 'the mask');
      if (ctx.mode === 'graph') {
        if (ctx.builder!.nodes[id]!.shape.length !== 1) return fail(ctx, C.type, 'warn_rows: the mask must be 1-D');
        ctx.warnings.push({ term: ctx.termName ?? 'term', node: id, message: message!.v });
      }
      return NONE;
    },
  },
  low_loss: {
    fn(ip, [key, kwargs], span, overrides) {
      if (key!.t !== 'str') return fail(ip.ctx, C.type, `low_loss: the key must be a string, got ${kindName(key!)}`);
      const merged = new Map<string, Value>(kwargs!.t === 'map' ? kwargs!.entries : []);
      if (kwargs!.t !== 'map' && kwargs!.t !== 'none') fail(ip.ctx, C.type, `low_loss: kwargs must be a mapping, got ${kindName(kwargs!)}`);
      for (const [k, v] of overrides) {
        if (k === 'key' || k === 'kwargs') continue;
        if (merged.has(k)) fail(ip.ctx, C.args, `${key!.v}() got multiple values for keyword argument '${k}'`, span);
        merged.set(k, v);
      }
      return ip.lowLoss(key!.v, merged, span);
    },
  },
};
