// `!import_call` / `!import_get` nodes that tdc evaluates statically: pure tensor constructors (torch.tensor,
// torch.ones, torch.zeros, torch.full, torch.arange, torch.linspace) and torch dtypes, with torch 1.13's dtype
// rules. Nothing is imported or executed: the constructors are re-implemented here over the YAML values. Any
// other key stays an inert tag, with the reason kept for the resolve stage's message.
import type { ConfigNode, EvaluatedTag, MapNode, TorchDType } from './config-node.js';
import { getEntry, keyString } from './config-node.js';

/** Result of trying a tag: a constant, an error (torch itself would raise), or inert with the reason. */
export type TagEvaluation = { ok: EvaluatedTag } | { error: string; at?: ConfigNode } | { inert: string };

/** The largest constant tdc builds (a loss buffer is a class-weight vector; this bounds hostile input). */
const MAX_CONSTANT_ELEMENTS = 1 << 20;

const TENSOR_CONSTRUCTORS = ['torch.tensor', 'torch.ones', 'torch.zeros', 'torch.full', 'torch.arange', 'torch.linspace'] as const;

const DTYPES: ReadonlyMap<string, TorchDType> = new Map([
  ['float32', 'float32'],
  ['float', 'float32'],
  ['float64', 'float64'],
  ['double', 'float64'],
  ['float16', 'float16'],
  ['half', 'float16'],
  ['bfloat16', 'bfloat16'],
  ['int64', 'int64'],
  ['long', 'int64'],
  ['int32', 'int32'],
  ['int', 'int32'],
  ['int16', 'int16'],
  ['short', 'int16'],
  ['int8', 'int8'],
  ['uint8', 'uint8'],
  ['bool', 'bool'],
] as [string, TorchDType][]);

export const isFloatDType = (d: TorchDType): boolean => d === 'float32' || d === 'float64' || d === 'float16' || d === 'bfloat16';

/** The Python spelling of a dtype, for messages. */
export const torchDTypeName = (d: TorchDType): string => `torch.${d}`;

const INERT_WHY = `tdc evaluates only pure tensor constructors (${TENSOR_CONSTRUCTORS.join(', ')}) and torch dtypes, and never imports or executes code`;

/** Evaluate an `!import_call` or `!import_get` mapping node (its tag is `tag`). */
export function evaluateTag(node: MapNode, tag: '!import_call' | '!import_get'): TagEvaluation {
  const name = qualifiedName(node);
  if (name === undefined) return { inert: `${tag} without a string 'key'` };
  if (tag === '!import_get') {
    const d = name.startsWith('torch.') ? DTYPES.get(name.slice('torch.'.length)) : undefined;
    return d ? { ok: { kind: 'dtype', dtype: d } } : { inert: `${tag} of '${name}': ${INERT_WHY}` };
  }
  if (!(TENSOR_CONSTRUCTORS as readonly string[]).includes(name)) return { inert: `${tag} of '${name}': ${INERT_WHY}` };
  const init = getEntry(node, 'init')?.value;
  let args: ConfigNode[] = [];
  let kwargs: { key: string; value: ConfigNode }[] = [];
  if (init && !(init.kind === 'scalar' && init.value === null)) {
    if (init.kind !== 'map' || init.tag) return { error: `${name}: 'init' must be a mapping {args, kwargs}`, at: init };
    const a = getEntry(init, 'args')?.value;
    const k = getEntry(init, 'kwargs')?.value;
    if (a && !isNullNode(a)) {
      if (a.kind !== 'seq' || a.tag) return { error: `${name}: 'init.args' must be a list`, at: a };
      args = a.items;
    }
    if (k && !isNullNode(k)) {
      if (k.kind !== 'map' || k.tag) return { error: `${name}: 'init.kwargs' must be a mapping`, at: k };
      kwargs = k.entries.map((e) => ({ key: keyString(e) ?? '?', value: e.value }));
    }
  }
  try {
    return { ok: construct(name, args, kwargs) };
  } catch (e) {
    if (e instanceof ConstantError) return { error: `${name}: ${e.message}`, ...(e.at ? { at: e.at } : {}) };
    throw e;
  }
}

class ConstantError extends Error {
  constructor(
    message: string,
    readonly at?: ConfigNode,
  ) {
    super(message);
  }
}

const isNullNode = (n: ConfigNode): boolean => n.kind === 'scalar' && n.value === null && !n.tag;

/** torchdistill's import_get/import_call: `package` + `key`, or a dotted `key`. */
function qualifiedName(node: MapNode): string | undefined {
  const key = getEntry(node, 'key')?.value;
  if (!key || key.kind !== 'scalar' || typeof key.value !== 'string' || key.tag) return undefined;
  const pkg = getEntry(node, 'package')?.value;
  if (pkg && pkg.kind === 'scalar' && typeof pkg.value === 'string' && !pkg.tag) return `${pkg.value}.${key.value}`;
  return key.value;
}

// ---- the constructors

type Py = { kind: 'bool'; v: boolean } | { kind: 'int'; v: number } | { kind: 'float'; v: number };

function scalarOf(n: ConfigNode, what: string): Py {
  if (n.kind !== 'scalar' || n.tag) throw new ConstantError(`${what} must be a number, got ${n.tag ? `a ${n.tag} value` : n.kind === 'seq' ? 'a list' : 'a mapping'}`, n);
  const v = n.value;
  if (typeof v === 'boolean') return { kind: 'bool', v };
  if (typeof v === 'number') return n.numberKind === 'float' ? { kind: 'float', v } : { kind: 'int', v };
  throw new ConstantError(`${what} must be a number, got ${v === null ? 'None' : `the string '${v}'`}`, n);
}

function dtypeArg(n: ConfigNode | undefined): TorchDType | undefined {
  if (!n || isNullNode(n)) return undefined;
  const ev = n.evaluated;
  if (ev?.kind === 'dtype') return ev.dtype;
  throw new ConstantError(`'dtype' must be a torch dtype (!import_get {key: 'torch.float32'}), got ${n.tag ? `a ${n.tag} value` : 'a plain value'}`, n);
}

function construct(name: string, args: ConfigNode[], kwargs: { key: string; value: ConfigNode }[]): EvaluatedTag {
  const kw = new Map<string, ConfigNode>();
  for (const { key, value } of kwargs) kw.set(key, value);
  const allowed: Record<string, string[]> = {
    'torch.tensor': ['data', 'dtype', 'device', 'requires_grad', 'pin_memory'],
    'torch.ones': ['size', 'dtype', 'device', 'requires_grad', 'layout', 'out', 'pin_memory'],
    'torch.zeros': ['size', 'dtype', 'device', 'requires_grad', 'layout', 'out', 'pin_memory'],
    'torch.full': ['size', 'fill_value', 'dtype', 'device', 'requires_grad', 'layout', 'out', 'pin_memory'],
    'torch.arange': ['start', 'end', 'step', 'dtype', 'device', 'requires_grad', 'layout', 'out'],
    'torch.linspace': ['start', 'end', 'steps', 'dtype', 'device', 'requires_grad', 'layout', 'out'],
  };
  for (const [k, v] of kw) {
    if (!allowed[name]!.includes(k)) throw new ConstantError(`unexpected keyword argument '${k}'`, v);
    if (k === 'out' || k === 'layout') throw new ConstantError(`'${k}' is not supported in a constant`, v);
  }
  const dtype = dtypeArg(kw.get('dtype'));
  const positional = (i: number, key: string): ConfigNode | undefined => {
    const a = args[i];
    const k = kw.get(key);
    if (a && k) throw new ConstantError(`got multiple values for argument '${key}'`, k);
    return a ?? k;
  };
  switch (name) {
    case 'torch.tensor': {
      if (args.length > 1) throw new ConstantError(`takes 1 positional argument but ${args.length} were given`, args[1]);
      const data = positional(0, 'data');
      if (!data) throw new ConstantError(`missing required argument 'data'`);
      const { shape, flat } = nested(data);
      const inferred: TorchDType = flat.some((p) => p.kind === 'float') ? 'float32' : flat.some((p) => p.kind === 'int') ? 'int64' : flat.length ? 'bool' : 'float32';
      return tensor(name, dtype ?? inferred, shape, flat.map((p) => numeric(p)), dtype !== undefined);
    }
    case 'torch.ones':
    case 'torch.zeros': {
      const shape = sizeArgs(args, kw.get('size'));
      const n = count(shape);
      return tensor(name, dtype ?? 'float32', shape, new Array<number>(n).fill(name === 'torch.ones' ? 1 : 0), dtype !== undefined);
    }
    case 'torch.full': {
      if (args.length > 2) throw new ConstantError(`takes 2 positional arguments but ${args.length} were given`, args[2]);
      const sizeNode = positional(0, 'size');
      const fill = positional(1, 'fill_value');
      if (!sizeNode || !fill) throw new ConstantError(`missing required argument '${sizeNode ? 'fill_value' : 'size'}'`);
      const shape = sizeList(sizeNode);
      const f = scalarOf(fill, 'fill_value');
      const inferred: TorchDType = f.kind === 'float' ? 'float32' : f.kind === 'int' ? 'int64' : 'bool';
      return tensor(name, dtype ?? inferred, shape, new Array<number>(count(shape)).fill(numeric(f)), dtype !== undefined);
    }
    case 'torch.arange': {
      if (args.length > 3) throw new ConstantError(`takes at most 3 positional arguments but ${args.length} were given`, args[3]);
      // arange(end) | arange(start, end[, step])
      const ps = args.map((a, i) => scalarOf(a, ['start', 'end', 'step'][i]!));
      let start: Py = { kind: 'int', v: 0 };
      let end: Py | undefined;
      let step: Py = { kind: 'int', v: 1 };
      if (ps.length === 1) end = ps[0];
      else if (ps.length >= 2) [start, end] = [ps[0]!, ps[1]!];
      if (ps.length === 3) step = ps[2]!;
      for (const k of ['start', 'end', 'step'] as const) {
        const v = kw.get(k);
        if (!v) continue;
        const p = scalarOf(v, k);
        if (k === 'start') start = p;
        else if (k === 'end') end = p;
        else step = p;
      }
      if (!end) throw new ConstantError(`missing required argument 'end'`);
      const [s, e, st] = [numeric(start), numeric(end), numeric(step)];
      if (st === 0) throw new ConstantError('step must be nonzero');
      if ((st > 0 && e < s) || (st < 0 && e > s)) throw new ConstantError('upper bound and larger bound inconsistent with step sign');
      const n = Math.ceil((e - s) / st);
      checkSize(n);
      const inferred: TorchDType = [start, end, step].some((p) => p.kind === 'float') ? 'float32' : 'int64';
      const data = Array.from({ length: n }, (_, i) => s + i * st);
      return tensor(name, dtype ?? inferred, [n], data, dtype !== undefined);
    }
    case 'torch.linspace': {
      if (args.length > 3) throw new ConstantError(`takes 3 positional arguments but ${args.length} were given`, args[3]);
      const sn = positional(0, 'start');
      const en = positional(1, 'end');
      const nn = positional(2, 'steps');
      if (!sn || !en || !nn) throw new ConstantError(`missing required argument '${!sn ? 'start' : !en ? 'end' : 'steps'}'`);
      const s = numeric(scalarOf(sn, 'start'));
      const e = numeric(scalarOf(en, 'end'));
      const stepsP = scalarOf(nn, 'steps');
      if (stepsP.kind !== 'int' || stepsP.v < 0) throw new ConstantError('steps must be a non-negative int', nn);
      const n = stepsP.v;
      checkSize(n);
      // torch's CPU kernel: the first half counts up from start, the second half down from end
      const step = n > 1 ? (e - s) / (n - 1) : 0;
      const half = Math.floor(n / 2);
      const data = Array.from({ length: n }, (_, i) => (i < half ? s + step * i : e - step * (n - 1 - i)));
      return tensor(name, dtype ?? 'float32', [n], data, dtype !== undefined);
    }
  }
  throw new ConstantError(`not a tensor constructor`);
}

const numeric = (p: Py): number => (p.kind === 'bool' ? (p.v ? 1 : 0) : p.v);

function count(shape: number[]): number {
  const n = shape.reduce((a, b) => a * b, 1);
  checkSize(n);
  return n;
}

function checkSize(n: number): void {
  if (n > MAX_CONSTANT_ELEMENTS) throw new ConstantError(`${n} elements: tdc builds constants of at most ${MAX_CONSTANT_ELEMENTS} elements`);
}

/** ones(2, 3) | ones([2, 3]) | ones(size=[2, 3]) */
function sizeArgs(args: ConfigNode[], kw: ConfigNode | undefined): number[] {
  if (kw && args.length) throw new ConstantError(`got multiple values for argument 'size'`, kw);
  if (kw) return sizeList(kw);
  if (args.length === 1 && args[0]!.kind === 'seq') return sizeList(args[0]!);
  return args.map((a) => sizeInt(a));
}

function sizeList(n: ConfigNode): number[] {
  if (n.kind === 'scalar' && !n.tag) return [sizeInt(n)];
  if (n.kind !== 'seq' || n.tag) throw new ConstantError('size must be a list of ints', n);
  return n.items.map((a) => sizeInt(a));
}

function sizeInt(n: ConfigNode): number {
  const p = scalarOf(n, 'a size');
  if (p.kind !== 'int') throw new ConstantError(`a size must be an int, got ${p.kind === 'float' ? 'a float' : 'a bool'}`, n);
  if (p.v < 0) throw new ConstantError(`negative dimension ${p.v}`, n);
  return p.v;
}

/** torch.tensor's data: a scalar or nested lists of one rectangular shape. */
function nested(n: ConfigNode): { shape: number[]; flat: Py[] } {
  if (n.kind === 'scalar' && !n.tag) return { shape: [], flat: [scalarOf(n, 'an element')] };
  if (n.kind !== 'seq' || n.tag) throw new ConstantError(`data must be a number or a (nested) list of numbers`, n);
  if (n.items.length === 0) return { shape: [0], flat: [] };
  const parts = n.items.map(nested);
  const first = parts[0]!.shape;
  for (let i = 1; i < parts.length; i++) {
    const s = parts[i]!.shape;
    if (s.length !== first.length || s.some((d, k) => d !== first[k])) {
      throw new ConstantError(`expected sequence of length ${first[0] ?? 'scalar'} at dim 1 (got ${s[0] ?? 'a scalar'}): the nested lists are not rectangular`, n.items[i]);
    }
  }
  const shape = [n.items.length, ...first];
  checkSize(shape.reduce((a, b) => a * b, 1));
  return { shape, flat: parts.flatMap((p) => p.flat) };
}

/** Values converted to `dtype` as torch converts them (an explicit dtype rounds; the default float dtype keeps them). */
function tensor(call: string, dtype: TorchDType, shape: number[], data: number[], explicit: boolean): EvaluatedTag {
  const out = data.map((v) => cast(v, dtype, explicit));
  return { kind: 'tensor', call, dtype, shape, data: out };
}

function cast(v: number, d: TorchDType, explicit: boolean): number {
  switch (d) {
    case 'float32':
      // the default float dtype: torch builds float32 in a float32 run, float64 under set_default_dtype(float64);
      // tdc keeps the Python value and rounds where the run's precision does
      return explicit ? Math.fround(v) : v;
    case 'float64':
      return v;
    case 'float16':
      return roundToBits(v, 10, -14, 65504);
    case 'bfloat16':
      return roundToBits(v, 7, -126, 3.3895313892515355e38);
    case 'bool':
      return v !== 0 ? 1 : 0;
    default: {
      const t = Math.trunc(v);
      const bits = d === 'int64' ? 64 : d === 'int32' ? 32 : d === 'int16' ? 16 : 8;
      if (bits === 64) return t;
      const m = 2 ** bits;
      const u = ((t % m) + m) % m;
      return d === 'uint8' || u < m / 2 ? u : u - m;
    }
  }
}

/** Round to a binary float with `mant` fraction bits, minimum normal exponent `emin` (round half to even). */
function roundToBits(v: number, mant: number, emin: number, max: number): number {
  if (!Number.isFinite(v) || v === 0) return v;
  const a = Math.abs(v);
  const e = Math.max(Math.floor(Math.log2(a)), emin);
  const ulp = 2 ** (e - mant);
  let q = a / ulp;
  const f = Math.floor(q);
  const r = q - f;
  q = r > 0.5 || (r === 0.5 && f % 2 === 1) ? f + 1 : f;
  const out = q * ulp;
  return Math.sign(v) * (out > max ? Infinity : out);
}

/** The value a spec receives: nested lists of numbers (a number for a 0-d tensor). */
export function tensorValue(t: Extract<EvaluatedTag, { kind: 'tensor' }>): unknown {
  let k = 0;
  const build = (dim: number): unknown => {
    if (dim === t.shape.length) return t.data[k++];
    return Array.from({ length: t.shape[dim]! }, () => build(dim + 1));
  };
  return build(0);
}
