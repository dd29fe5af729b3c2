// The spec language's built-in names: ONE table, read by the static checker (grammar/check.ts: names, positional
// count, keyword names), by the interpreter (src/compiler/instantiate/builtins.ts implements exactly these keys
// and binds arguments by these parameter lists) and by the docs (docs/spec-language.md's built-in list is rendered
// from it; test/grammar.test.ts keeps the two equal, UPDATE_SNAPSHOTS=1 rewrites the docs block).
//
// `defaults` documents what a left-out argument means (the implementation receives `none` and applies it).

export interface BuiltinSignature {
  params: readonly string[];
  /** Extra positional arguments are appended; unknown keyword arguments are passed through. */
  rest?: true;
  /** What a left-out argument means, as spec-language text (`none`, `false`, `1`, `"last"`…). */
  defaults?: Readonly<Record<string, string>>;
  /** Parameters without a documented default that may still be left out (`range(n)`, `size(x)`, `min(list)`). */
  optional?: readonly string[];
  group: BuiltinGroup;
  doc: string;
}

export type BuiltinGroup = 'elementwise' | 'reduction' | 'shape' | 'linalg' | 'indexing' | 'pool' | 'sort' | 'type' | 'compile-time' | 'loss' | 'state' | 'check';

const unary = (doc: string): BuiltinSignature => ({ params: ['x'], group: 'elementwise', doc });
const reduction = (doc: string): BuiltinSignature => ({ params: ['x', 'dims', 'keepdim'], defaults: { dims: 'none', keepdim: 'false' }, group: 'reduction', doc });
const sorting = (doc: string): BuiltinSignature => ({ params: ['x', 'dim', 'descending'], defaults: { dim: '-1', descending: 'false' }, group: 'sort', doc });

export const BUILTIN_FUNCTIONS = {
  exp: unary('e^x'),
  log: unary('natural log'),
  sqrt: unary('square root'),
  abs: unary('|x|'),
  sign: unary('-1, 0 or 1'),
  tanh: unary('hyperbolic tangent'),
  log1p: unary('log(1 + x)'),
  relu: unary('max(x, 0)'),
  floor: unary('round down'),
  maximum: { params: ['a', 'b'], group: 'elementwise', doc: 'elementwise max (broadcasts)' },
  minimum: { params: ['a', 'b'], group: 'elementwise', doc: 'elementwise min (broadcasts)' },
  where: { params: ['cond', 'a', 'b'], group: 'elementwise', doc: 'a where cond is nonzero, else b' },
  sum: reduction('sum over dims (int, list, or none = all)'),
  amax: reduction('max over dims'),
  amin: reduction('min over dims'),
  reshape: { params: ['x', 'shape'], group: 'shape', doc: 'one -1 allowed in shape' },
  flatten: { params: ['x', 'start', 'end'], defaults: { start: '0', end: '-1' }, group: 'shape', doc: 'merge dims start..end' },
  permute: { params: ['x', 'perm'], group: 'shape', doc: 'reorder dims' },
  transpose: { params: ['x', 'd0', 'd1'], group: 'shape', doc: 'swap two dims' },
  unsqueeze: { params: ['x', 'd'], group: 'shape', doc: 'insert a size-1 dim' },
  squeeze: { params: ['x', 'd'], optional: ['d'], group: 'shape', doc: 'drop a size-1 dim' },
  expand: { params: ['x', 'shape'], group: 'shape', doc: 'broadcast to shape (-1 keeps a dim)' },
  slice: { params: ['x', 'dim', 'start', 'end', 'step'], defaults: { start: '0', end: 'size(x, dim)', step: '1' }, group: 'shape', doc: 'x[start:end:step] along dim' },
  cat: { params: ['tensors', 'dim'], defaults: { dim: '0' }, group: 'shape', doc: 'concatenate a list of tensors' },
  shape: { params: ['x'], group: 'shape', doc: 'list of dims (also x.shape)' },
  size: { params: ['x', 'd'], optional: ['d'], group: 'shape', doc: 'one dim' },
  numel: { params: ['x'], group: 'shape', doc: 'number of elements' },
  ndim: { params: ['x'], group: 'shape', doc: 'rank' },
  matmul: { params: ['a', 'b'], group: 'linalg', doc: 'matrix product; batch dims broadcast' },
  cholesky: { params: ['a'], group: 'linalg', doc: 'lower Cholesky factor' },
  triangular_solve: { params: ['a', 'b', 'lower', 'transpose'], defaults: { lower: 'true', transpose: 'false' }, group: 'linalg', doc: 'solves a·x = b' },
  eye: { params: ['n'], group: 'linalg', doc: 'n×n identity' },
  gather: { params: ['x', 'dim', 'index'], group: 'indexing', doc: "torch.gather" },
  index_copy: { params: ['x', 'dim', 'index', 'source'], group: 'indexing', doc: 'torch.Tensor.index_copy: x with slices index[b] along dim replaced by source[b] (a repeated index: the last b)' },
  one_hot: { params: ['index', 'n'], group: 'indexing', doc: 'float one-hot rows' },
  arange: { params: ['n'], group: 'indexing', doc: 'int tensor 0..n-1' },
  adaptive_avg_pool2d: { params: ['x', 'size'], group: 'pool', doc: 'size: int or [h, w] (none keeps a dim)' },
  adaptive_max_pool2d: { params: ['x', 'size'], group: 'pool', doc: 'size: int or [h, w] (none keeps a dim)' },
  sort: sorting('sorted values'),
  argsort: sorting('indices that sort'),
  ranks: sorting('each element’s position in the sorted order'),
  float: { params: ['x'], group: 'type', doc: 'cast to float' },
  long: { params: ['x'], group: 'type', doc: 'cast to int' },
  detach: { params: ['x'], group: 'type', doc: 'stop the gradient' },
  dtype: { params: ['x'], group: 'type', doc: '"float" | "int"' },
  requires_grad: { params: ['x'], group: 'type', doc: "torch's x.requires_grad: x depends on a trainable input through a differentiable path" },
  tensor: { params: ['v'], group: 'type', doc: 'a float constant tensor from a number or list (YAML class weights)' },
  len: { params: ['v'], group: 'compile-time', doc: 'length of a list or map' },
  range: { params: ['a', 'b', 'step'], defaults: { step: '1' }, optional: ['b'], group: 'compile-time', doc: 'range(n) or range(start, end, step), unrolled' },
  min: { params: ['a', 'b'], optional: ['b'], group: 'compile-time', doc: 'min of numbers/dims' },
  max: { params: ['a', 'b'], optional: ['b'], group: 'compile-time', doc: 'max of numbers/dims' },
  is_none: { params: ['v'], group: 'compile-time', doc: 'v is none' },
  is_map: { params: ['v'], group: 'compile-time', doc: 'v is a map' },
  is_list: { params: ['v'], group: 'compile-time', doc: 'v is a list' },
  is_inf: { params: ['v'], group: 'compile-time', doc: 'v is the number +inf or -inf (YAML `.inf`)' },
  to_list: { params: ['v'], group: 'compile-time', doc: 'none → [], scalar → [v], list → list' },
  str: { params: ['v'], group: 'compile-time', doc: 'text of a value' },
  side: { params: ['is_from_teacher'], group: 'compile-time', doc: 'teacher if is_from_teacher else student' },
  error: { params: ['message'], rest: true, group: 'compile-time', doc: "a diagnostic; tensors passed after the message are named with their shapes" },
  assert_shape: { params: ['x', 'shape', 'message'], optional: ['message'], group: 'compile-time', doc: 'a positioned diagnostic naming the tensor unless x has shape' },
  assert_broadcasts: {
    params: ['x', 'shape', 'message'],
    optional: ['message'],
    group: 'compile-time',
    doc: "a positioned diagnostic naming the tensor unless x broadcasts to shape without enlarging it (torch's in-place `out.mul_(x)` rule)",
  },
  state: {
    params: ['name', 'shape', 'init'],
    optional: ['init'],
    group: 'state',
    doc: 'a stateful loss’s buffer: graph input state_in/<term>/<name>; init (optional): its initial value, a list of numbers or a bound s (uniform in [-s, s])',
  },
  state_out: { params: ['name', 'value'], group: 'state', doc: 'its updated value: graph output state_out/<term>/<name>' },
  warn_rows: { params: ['mask', 'message'], group: 'check', doc: 'a run-time warning: `tdc run` prints message and the indices where the 1-D mask is nonzero (a graph side output, not part of compiled plans)' },
  ctc_nll: { params: ['log_probs', 'targets', 'input_lengths', 'target_lengths', 'blank'], defaults: { blank: '0' }, group: 'loss', doc: "CTC negative log-likelihood per sample [N] of log_probs [T, N, C], padded int targets [N, S] and int lengths [N] (torch's alpha recursion, any T; +inf where no alignment fits; gradient: torch's ctc_loss backward)" },
  low_loss: { params: ['key', 'kwargs'], rest: true, optional: ['kwargs'], group: 'loss', doc: "torch's Loss(**overrides, **kwargs) as a loss value, called as f(input, target)" },
} as const satisfies Record<string, BuiltinSignature>;

export type BuiltinName = keyof typeof BUILTIN_FUNCTIONS;

/** Names every body can read besides functions. */
export const BUILTIN_VALUES = ['student', 'teacher', 'targets', 'model_loss', 'model_loss_keys'] as const;

export function builtinSignature(name: string): BuiltinSignature | undefined {
  return Object.hasOwn(BUILTIN_FUNCTIONS, name) ? (BUILTIN_FUNCTIONS as Record<string, BuiltinSignature>)[name] : undefined;
}

/** The parameters a call must give (by position or keyword): those without a default that are not optional. */
export function requiredParams(sig: BuiltinSignature): string[] {
  return sig.params.filter((p) => sig.defaults?.[p] === undefined && !sig.optional?.includes(p));
}

/** `sum(x, dims=none, keepdim=false)` */
export function renderBuiltin(name: string, sig: BuiltinSignature): string {
  const ps = sig.params.map((p) => (sig.defaults?.[p] !== undefined ? `${p}=${sig.defaults[p]}` : p));
  if (sig.rest) ps.push('...');
  return `${name}(${ps.join(', ')})`;
}

const GROUP_TITLE: Record<BuiltinGroup, string> = {
  elementwise: 'Elementwise',
  reduction: 'Reductions',
  shape: 'Shape',
  linalg: 'Linear algebra',
  indexing: 'Indexing',
  pool: 'Pools',
  sort: 'Sorting',
  type: 'Types',
  'compile-time': 'Compile-time',
  loss: 'Losses',
  state: 'State (stateful losses)',
  check: 'Run-time checks',
};

/** The docs block (docs/spec-language.md between the builtins markers). */
export function renderBuiltinDocs(): string {
  const lines: string[] = [];
  for (const group of Object.keys(GROUP_TITLE) as BuiltinGroup[]) {
    const entries = Object.entries(BUILTIN_FUNCTIONS as Record<string, BuiltinSignature>).filter(([, s]) => s.group === group);
    if (entries.length === 0) continue;
    lines.push(`- ${GROUP_TITLE[group]}: ${entries.map(([n, s]) => `\`${renderBuiltin(n, s)}\` ${s.doc}`).join('; ')}.`);
  }
  lines.push(`- Values: ${BUILTIN_VALUES.map((v) => `\`${v}\``).join(', ')}.`);
  return lines.join('\n');
}
