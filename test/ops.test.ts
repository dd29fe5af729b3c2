// Every differentiable primitive's VJP against central finite differences on the float64 CPU executor,
// plus forward spot checks and shape-rule errors.
//
// Tolerance: central differences with h = 1e-6 have truncation error O(h²·|f'''|) ≈ 1e-12 and round-off
// ≈ ε·|L|/h ≈ 1e-16·10/1e-6 = 1e-9 absolute for losses of order 10. We require
// |analytic − fd| ≤ 1e-6 · (|fd| + max|analytic| of the tensor), three orders above that noise and far
// below any real VJP bug (a wrong factor or a missing term is an O(1) relative error).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GraphBuilder, ShapeError } from '../src/graph/builder.js';
import * as autodiffMod from '../src/graph/autodiff.js';
import { execute, type HostTensor } from '../src/cpu/executor.js';
import type { BinaryOp, UnaryOp } from '../src/graph/types.js';
import { fdCheck, randTensor, rng, type FdInput } from './helpers/fd.js';

const TOL = 1e-6;
const r = rng(20240611);
const T = (shape: number[], f?: (x: ReturnType<typeof rng>) => number) => randTensor(r, shape, f);
const away = (lo: number) => (x: ReturnType<typeof rng>) => (x.u() < 0.5 ? -1 : 1) * (lo + 2 * x.u()); // |v| ≥ lo
const pos = (x: ReturnType<typeof rng>) => 0.3 + 2 * x.u();
const intT = (shape: number[], hi: number): HostTensor => ({
  shape,
  dtype: 'int',
  data: Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.floor(r.u() * hi)),
});

function check(name: string, inputs: FdInput[], body: Parameters<typeof fdCheck>[1]) {
  test(`FD ${name}`, () => {
    const rep = fdCheck(inputs, body);
    assert.ok(rep.checked > 0, 'nothing checked');
    assert.ok(rep.worst < TOL, `${name}: worst ${rep.worst} at ${rep.where}`);
  });
}

// ---- unary --------------------------------------------------------------------------------------------
const unaryDomain: Record<UnaryOp, ((x: ReturnType<typeof rng>) => number) | undefined> = {
  neg: undefined, exp: undefined, log: pos, sqrt: pos, abs: away(0.1), sign: away(0.1), recip: away(0.3),
  floor: (x) => Math.floor(x.u() * 6) - 3 + 0.2 + 0.6 * x.u(), tanh: undefined, log1p: pos, relu: away(0.1),
};
for (const fn of Object.keys(unaryDomain) as UnaryOp[])
  check(`unary ${fn} [3,7]`, [{ name: 'x', value: T([3, 7], unaryDomain[fn]) }], (b, [x]) => b.unary(fn, x!));

// ---- binary (broadcasting) ----------------------------------------------------------------------------
const arith: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'];
for (const fn of arith)
  for (const [sa, sb] of [
    [[3, 7], [3, 7]],
    [[5, 1, 6], [4, 1]],
    [[2, 3, 5, 7], [7]],
    [[1], [2, 3]],
  ] as [number[], number[]][])
    check(`binary ${fn} [${sa}] ∘ [${sb}]`, [{ name: 'a', value: T(sa) }, { name: 'b', value: T(sb, fn === 'div' ? away(0.5) : undefined) }], (b, [x, y]) =>
      b.binary(fn, x!, y!),
    );
check('binary pow x^y (x > 0), broadcast', [{ name: 'a', value: T([3, 7], pos) }, { name: 'b', value: T([7]) }], (b, [x, y]) => b.binary('pow', x!, y!));
check('binary pow x^2 (const exponent, negative x)', [{ name: 'a', value: T([5, 1, 6]) }], (b, [x]) => b.binary('pow', x!, b.constant(2)));
check('binary pow 2^y', [{ name: 'b', value: T([2, 3]) }], (b, [y]) => b.binary('pow', b.constant(2), y!));

test('pow VJP at x = 0 matches torch (y ≥ 1 → 0 / y·0^(y−1); d/dy masked to 0)', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [4], 'float', true);
  const y = b.input('y', [4], 'float', true);
  const l = b.op('reduce', [b.binary('pow', x, y)], { fn: 'sum', axes: [0], keepdim: false });
  const { differentiate } = autodiffMod;
  const g = differentiate(b.finish({ loss: l, terms: [] }));
  const out = execute(g, new Map<string, HostTensor>([
    ['x', { shape: [4], dtype: 'float', data: Float64Array.of(0, 0, 0, 0) }],
    ['y', { shape: [4], dtype: 'float', data: Float64Array.of(2, 1, 0, 0.5) }],
  ]));
  // torch: d/dx [0^2, 0^1, 0^0, 0^0.5] = [0, 1, 0, inf]; d/dy = [0, 0, 0, 0]
  assert.equal([...out.grads.get('x')!.data], [0, 1, 0, Infinity]);
  assert.equal([...out.grads.get('y')!.data], [0, 0, 0, 0]);
});

test('maximum/minimum split the gradient evenly on ties (torch)', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [3], 'float', true);
  const y = b.input('y', [3], 'float', true);
  const l = b.op('reduce', [b.binary('add', b.binary('maximum', x, y), b.binary('mul', b.binary('minimum', x, y), b.constant(10)))], { fn: 'sum', axes: [0], keepdim: false });
  const g = autodiffMod.differentiate(b.finish({ loss: l, terms: [] }));
  const out = execute(g, new Map<string, HostTensor>([
    ['x', { shape: [3], dtype: 'float', data: Float64Array.of(1, 2, 3) }],
    ['y', { shape: [3], dtype: 'float', data: Float64Array.of(0, 2, 4) }],
  ]));
  assert.equal([...out.grads.get('x')!.data], [1, 5.5, 10]);
  assert.equal([...out.grads.get('y')!.data], [10, 5.5, 1]);
});

test('sqrt at 0 gives an inf gradient; abs at 0 gives 0', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [2], 'float', true);
  const l = b.op('reduce', [b.binary('add', b.unary('sqrt', x), b.unary('abs', x))], { fn: 'sum', axes: [0], keepdim: false });
  const g = autodiffMod.differentiate(b.finish({ loss: l, terms: [] }));
  const out = execute(g, new Map([['x', { shape: [2], dtype: 'float' as const, data: Float64Array.of(0, 4) }]]));
  assert.equal([...out.grads.get('x')!.data], [Infinity, 1.25]);
});

// ---- where ----------------------------------------------------------------------------------------------
check('where broadcast cond [3,1] a [3,7] b [7]', [
  { name: 'c', value: intT([3, 1], 2) },
  { name: 'a', value: T([3, 7]) },
  { name: 'b', value: T([7]) },
], (b, [c, x, y]) => b.op('where', [c!, x!, y!], {}));

// ---- reduce -------------------------------------------------------------------------------------------
for (const fn of ['sum', 'max', 'min'] as const)
  for (const [shape, axes, keepdim] of [
    [[3, 7], [1], false],
    [[3, 7], [0], true],
    [[5, 1, 6], [0, 2], false],
    [[2, 3, 5, 7], [1, 3], true],
    [[2, 3, 5, 7], [0, 1, 2, 3], false],
    [[2, 3, 5, 7], [-1], false],
  ] as [number[], number[], boolean][])
    check(`reduce ${fn} [${shape}] axes [${axes}] keepdim ${keepdim}`, [{ name: 'x', value: T(shape) }], (b, [x]) =>
      b.op('reduce', [x!], { fn, axes, keepdim }),
    );

// torch 1.13's amax backward (scale_grad_by_count): tied maxima share the gradient evenly (it went to the first)
test('reduce max VJP splits the gradient evenly over a tie', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [2, 3], 'float', true);
  const l = b.op('reduce', [b.op('reduce', [x], { fn: 'max', axes: [1], keepdim: false })], { fn: 'sum', axes: [0], keepdim: false });
  const g = autodiffMod.differentiate(b.finish({ loss: l, terms: [] }));
  const out = execute(g, new Map([['x', { shape: [2, 3], dtype: 'float' as const, data: Float64Array.of(1, 5, 5, 7, 2, 7) }]]));
  assert.equal([...out.grads.get('x')!.data], [0, 0.5, 0.5, 0.5, 0, 0.5]);
  assert.is(out.loss, 12);
});

// ---- layout ---------------------------------------------------------------------------------------------
check('reshape [2,3,5,7] → [6,-1]', [{ name: 'x', value: T([2, 3, 5, 7]) }], (b, [x]) => b.op('reshape', [x!], { shape: [6, -1] }));
check('permute [2,3,5,7] by [2,0,3,1]', [{ name: 'x', value: T([2, 3, 5, 7]) }], (b, [x]) => b.op('permute', [x!], { perm: [2, 0, 3, 1] }));
check('broadcast [5,1,6] → [2,5,4,6]', [{ name: 'x', value: T([5, 1, 6]) }], (b, [x]) => b.op('broadcast', [x!], { shape: [2, 5, 4, 6] }));
check('cast float→float', [{ name: 'x', value: T([3, 7]) }], (b, [x]) => b.unary('exp', b.op('cast', [x!], { dtype: 'float' })));

// ---- gather -------------------------------------------------------------------------------------------
check('gather axis 1, one index per row (select path)', [{ name: 'x', value: T([5, 7]) }, { name: 'i', value: intT([5, 1], 7) }], (b, [x, i]) =>
  b.op('gather', [x!, i!], { axis: 1 }),
);
check('gather axis 1 with repeated indices (scatter_add path)', [
  { name: 'x', value: T([3, 7]) },
  { name: 'i', value: { shape: [3, 5], dtype: 'int', data: Float64Array.of(0, 0, 6, 3, 0, 2, 2, 2, 1, 6, 5, 5, 4, 5, 0) } },
], (b, [x, i]) => b.op('gather', [x!, i!], { axis: 1 }));
check('gather axis 0 [5,1,6] smaller index [3,1,4]', [{ name: 'x', value: T([5, 1, 6]) }, { name: 'i', value: intT([3, 1, 4], 5) }], (b, [x, i]) =>
  b.op('gather', [x!, i!], { axis: 0 }),
);

// ---- slice / concat / scatter ----------------------------------------------------------------------
check('slice [5,1,6] axis 2 1:6:2', [{ name: 'x', value: T([5, 1, 6]) }], (b, [x]) => b.op('slice', [x!], { axis: 2, start: 1, end: 6, step: 2 }));
check('slice [2,3,5,7] axis -1 -5:-1:3', [{ name: 'x', value: T([2, 3, 5, 7]) }], (b, [x]) => b.op('slice', [x!], { axis: -1, start: -5, end: -1, step: 3 }));
check('slice_scatter [3,2] into axis 1 of 7 at 1:6:3', [{ name: 'x', value: T([3, 2]) }], (b, [x]) =>
  b.op('slice_scatter', [x!], { axis: 1, start: 1, end: 6, step: 3, size: 7 }),
);
check('concat [3,7] [3,2] [3,1] axis 1', [{ name: 'a', value: T([3, 7]) }, { name: 'b', value: T([3, 2]) }, { name: 'c', value: T([3, 1]) }], (b, ids) =>
  b.op('concat', ids, { axis: 1 }),
);
check('concat [2,5] [3,5] axis 0, same input twice', [{ name: 'a', value: T([2, 5]) }, { name: 'b', value: T([3, 5]) }], (b, [x, y]) =>
  b.op('concat', [x!, y!, x!], { axis: 0 }),
);
check('scatter_add with repeated indices', [
  { name: 'i', value: { shape: [3, 4], dtype: 'int', data: Float64Array.of(0, 0, 2, 0, 1, 1, 1, 1, 4, 3, 2, 4) } },
  { name: 's', value: T([3, 4]) },
], (b, [i, src]) => b.op('scatter_add', [i!, src!], { axis: 1, shape: [3, 5] }));

check('index_copy axis 0 [5,3] rows 3, 0 ← [2,3]', [
  { name: 'x', value: T([5, 3]) },
  { name: 'i', value: { shape: [2], dtype: 'int', data: Float64Array.of(3, 0) } },
  { name: 's', value: T([2, 3]) },
], (b, [x, i, src]) => b.op('index_copy', [x!, i!, src!], { axis: 0 }));
check('index_copy axis 1 [2,6,3] columns 5, 1, 2 ← [2,3,3]', [
  { name: 'x', value: T([2, 6, 3]) },
  { name: 'i', value: { shape: [3], dtype: 'int', data: Float64Array.of(5, 1, 2) } },
  { name: 's', value: T([2, 3, 3]) },
], (b, [x, i, src]) => b.op('index_copy', [x!, i!, src!], { axis: 1 }));

test('index_copy forward: a repeated index takes the last source slice (torch CPU); other slices untouched', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [4, 2], 'float', false);
  const i = b.input('i', [3], 'int', false);
  const s = b.input('s', [3, 2], 'float', false);
  const y = b.op('index_copy', [x, i, s], { axis: 0 });
  const g = b.finish({ loss: b.op('reduce', [y], { fn: 'sum', axes: [0, 1], keepdim: false }), terms: [] });
  const r = execute(g, new Map<string, HostTensor>([
    ['x', { shape: [4, 2], dtype: 'float', data: Float64Array.of(1, 2, 3, 4, 5, 6, 7, 8) }],
    ['i', { shape: [3], dtype: 'int', data: Float64Array.of(2, 0, 2) }],
    ['s', { shape: [3, 2], dtype: 'float', data: Float64Array.of(10, 11, 20, 21, 30, 31) }],
  ]));
  assert.equal([...r.values[y]!.data], [20, 21, 3, 4, 30, 31, 7, 8]);
  assert.throws(() => b.op('index_copy', [x, s, s], { axis: 0 }), /index must be an int tensor/);
  assert.throws(() => b.op('index_copy', [x, i, b.input('t', [2, 2], 'float', false)], { axis: 0 }), /expected 3 \(the index length\)/);
});

// ---- matmul ---------------------------------------------------------------------------------------------
check('matmul [3,7] @ [7,5]', [{ name: 'a', value: T([3, 7]) }, { name: 'b', value: T([7, 5]) }], (b, [x, y]) => b.op('matmul', [x!, y!], {}));
check('matmul batch broadcast [2,1,3,5] @ [4,5,6]', [{ name: 'a', value: T([2, 1, 3, 5]) }, { name: 'b', value: T([4, 5, 6]) }], (b, [x, y]) =>
  b.op('matmul', [x!, y!], {}),
);
check('matmul Gram x xᵀ [2,3,5]', [{ name: 'x', value: T([2, 3, 5]) }], (b, [x]) => b.op('matmul', [x!, b.op('permute', [x!], { perm: [0, 2, 1] })], {}));

// ---- adaptive pools -------------------------------------------------------------------------------------
for (const fn of ['avg', 'max'] as const) {
  check(`adaptive_${fn}_pool2d [2,3,7,5] → (4,3) (overlapping bins)`, [{ name: 'x', value: T([2, 3, 7, 5]) }], (b, [x]) =>
    b.op('adaptive_pool2d', [x!], { fn, out: [4, 3] }),
  );
  check(`adaptive_${fn}_pool2d [3,6,8] → (2,4) (divisible)`, [{ name: 'x', value: T([3, 6, 8]) }], (b, [x]) =>
    b.op('adaptive_pool2d', [x!], { fn, out: [2, 4] }),
  );
  check(`adaptive_${fn}_pool2d [2,5,5] → (1,1)`, [{ name: 'x', value: T([2, 5, 5]) }], (b, [x]) => b.op('adaptive_pool2d', [x!], { fn, out: [1, 1] }));
}
check('adaptive_pool2d_grad avg (linear) [2,4,3] → (7,5)', [{ name: 'g', value: T([2, 4, 3]) }], (b, [g]) =>
  b.op('adaptive_pool2d_grad', [g!], { fn: 'avg', in: [7, 5] }),
);

test('adaptive pools use torch bins: 7 → 4 is [0,2) [1,4) [3,6) [5,7)', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [1, 7, 1], 'float', false);
  const avg = b.op('adaptive_pool2d', [x], { fn: 'avg', out: [4, 1] });
  const max = b.op('adaptive_pool2d', [x], { fn: 'max', out: [4, 1] });
  const s = b.op('concat', [avg, max], { axis: 0 });
  const l = b.op('reduce', [s], { fn: 'sum', axes: [0, 1, 2], keepdim: false });
  const g = b.finish({ loss: l, terms: [] });
  const v = [3, 1, 4, 1, 5, 9, 2];
  const out = execute(g, new Map([['x', { shape: [1, 7, 1], dtype: 'float' as const, data: Float64Array.from(v) }]]));
  const bins = [[0, 2], [1, 4], [3, 6], [5, 7]];
  const mean = (a: number[]) => a.reduce((p, q) => p + q, 0) / a.length;
  assert.equal([...out.values[avg]!.data], bins.map(([lo, hi]) => mean(v.slice(lo, hi))));
  assert.equal([...out.values[max]!.data], bins.map(([lo, hi]) => Math.max(...v.slice(lo, hi))));
  assert.equal(b.shape(avg), [1, 4, 1]);
});

test('adaptive max pool VJP goes to the first maximum of a bin and accumulates over overlapping bins', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [5, 1], 'float', true);
  const m = b.op('adaptive_pool2d', [x], { fn: 'max', out: [3, 1] }); // bins [0,2) [1,4) [3,5)
  const l = b.op('reduce', [m], { fn: 'sum', axes: [0, 1], keepdim: false });
  const g = autodiffMod.differentiate(b.finish({ loss: l, terms: [] }));
  const out = execute(g, new Map([['x', { shape: [5, 1], dtype: 'float' as const, data: Float64Array.of(2, 7, 7, 1, 1) }]]));
  assert.equal([...out.values[m]!.data], [7, 7, 1]);
  assert.equal([...out.grads.get('x')!.data], [0, 2, 0, 1, 0]);
});

// ---- sort -----------------------------------------------------------------------------------------------
check('sort values ascending [3,7] axis 1', [{ name: 'x', value: T([3, 7]) }], (b, [x]) => b.op('sort', [x!], { axis: 1, descending: false, output: 'values' }));
check('sort values descending [5,1,6] axis 0', [{ name: 'x', value: T([5, 1, 6]) }], (b, [x]) => b.op('sort', [x!], { axis: 0, descending: true, output: 'values' }));

test('sort is stable; indices are argsort, ranks their inverse; NaN sorts largest', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [2, 5], 'float', false);
  const outs = (['values', 'indices', 'ranks'] as const).flatMap((output) =>
    [false, true].map((descending) => b.op('sort', [x], { axis: 1, descending, output })),
  );
  const l = b.op('reduce', [b.op('concat', outs.map((o) => b.op('cast', [o], { dtype: 'float' })), { axis: 0 })], { fn: 'sum', axes: [0, 1], keepdim: false });
  const g = b.finish({ loss: l, terms: [] });
  const out = execute(g, new Map([['x', { shape: [2, 5], dtype: 'float' as const, data: Float64Array.of(3, 1, 3, 0, 1, NaN, 2, -1, NaN, 2) }]]));
  const row = (id: number, i: number) => [...out.values[id]!.data.slice(i * 5, i * 5 + 5)];
  const [vA, vD, iA, iD, rA, rD] = outs as [number, number, number, number, number, number];
  assert.equal(row(vA, 0), [0, 1, 1, 3, 3]);
  assert.equal(row(iA, 0), [3, 1, 4, 0, 2]);
  assert.equal(row(iD, 0), [0, 2, 1, 4, 3]);
  assert.equal(row(vD, 0), [3, 3, 1, 1, 0]);
  assert.equal(row(rA, 0), [3, 1, 4, 0, 2].reduce((r, src, k) => ((r[src] = k), r), [0, 0, 0, 0, 0]));
  assert.equal(row(rD, 0), [0, 2, 1, 4, 3].reduce((r, src, k) => ((r[src] = k), r), [0, 0, 0, 0, 0]));
  assert.equal(row(iA, 1), [2, 1, 4, 0, 3]);
  assert.equal(row(iD, 1), [0, 3, 1, 4, 2]);
  assert.is(b.dtype(iA), 'int');
});

// ---- linalg ---------------------------------------------------------------------------------------------
/** A symmetric positive-definite batch built from a free matrix: (M + Mᵀ)/2 + n·I. */
function spd(b: GraphBuilder, m: number, n: number): number {
  const sym = b.binary('mul', b.binary('add', m, b.op('permute', [m], { perm: [...b.shape(m).keys()].map((i, _, a) => (i < a.length - 2 ? i : a.length * 2 - 3 - i)) })), b.constant(0.5));
  const eye = b.op('cast', [b.binary('eq', b.op('iota', [], { shape: [n, n], axis: 0, dtype: 'int' }), b.op('iota', [], { shape: [n, n], axis: 1, dtype: 'int' }))], { dtype: 'float' });
  return b.binary('add', sym, b.binary('mul', eye, b.constant(n)));
}
check('cholesky of an SPD [5,5]', [{ name: 'm', value: T([5, 5]) }], (b, [m]) => b.op('cholesky', [spd(b, m!, 5)], {}));
check('cholesky batched [2,3,4,4]', [{ name: 'm', value: T([2, 3, 4, 4]) }], (b, [m]) => b.op('cholesky', [spd(b, m!, 4)], {}));
check('cholesky → inverse quadratic form (SKD-like)', [{ name: 'm', value: T([6, 6]) }, { name: 'd', value: T([6, 3]) }], (b, [m, d]) => {
  const L = b.op('cholesky', [spd(b, m!, 6)], {});
  const z = b.op('triangular_solve', [L, d!], { lower: true, transpose: false });
  return b.op('reduce', [b.binary('mul', z, z)], { fn: 'sum', axes: [0], keepdim: false });
});
const tri = (n: number, batch: number[] = []) => T([...batch, n, n], (x) => x.normal() * 0.3);
for (const lower of [true, false])
  for (const transpose of [false, true])
    check(`triangular_solve lower=${lower} transpose=${transpose} [4,4] \\ [3,4,2] (batch broadcast)`, [
      { name: 'a', value: tri(4) },
      { name: 'b', value: T([3, 4, 2]) },
    ], (b, [a, rhs]) => {
      const eye = b.op('cast', [b.binary('eq', b.op('iota', [], { shape: [4, 4], axis: 0, dtype: 'int' }), b.op('iota', [], { shape: [4, 4], axis: 1, dtype: 'int' }))], { dtype: 'float' });
      const A = b.binary('add', a!, b.binary('mul', eye, b.constant(3)));
      return b.op('triangular_solve', [A, rhs!], { lower, transpose });
    });

test('cholesky forward: L lower with L Lᵀ = A; triangular_solve inverts', () => {
  const b = new GraphBuilder();
  const a = b.input('a', [3, 3], 'float', false);
  const L = b.op('cholesky', [a], {});
  const X = b.op('triangular_solve', [L, a], { lower: true, transpose: false });
  const l = b.op('reduce', [X], { fn: 'sum', axes: [0, 1], keepdim: false });
  const g = b.finish({ loss: l, terms: [] });
  const A = [4, 2, 2, 2, 5, 3, 2, 3, 6];
  const out = execute(g, new Map([['a', { shape: [3, 3], dtype: 'float' as const, data: Float64Array.from(A) }]]));
  const Lv = out.values[L]!.data;
  assert.equal([Lv[1], Lv[2], Lv[5]], [0, 0, 0]);
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += Lv[i * 3 + k]! * Lv[j * 3 + k]!;
      assert.ok(Math.abs(s - A[i * 3 + j]!) < 1e-14);
    }
  const Xv = out.values[X]!.data; // L X = A → X = Lᵀ
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) assert.ok(Math.abs(Xv[i * 3 + j]! - Lv[j * 3 + i]!) < 1e-14);
  const bad = b.finish({ loss: b.op('reduce', [L], { fn: 'sum', axes: [0, 1], keepdim: false }), terms: [] });
  assert.throws(() => execute(bad, new Map([['a', { shape: [3, 3], dtype: 'float' as const, data: Float64Array.of(1, 2, 0, 2, 1, 0, 0, 0, 1) }]])), /not positive-definite/);
});

test('iota', () => {
  const b = new GraphBuilder();
  const i = b.op('iota', [], { shape: [2, 3], axis: -1, dtype: 'int' });
  const l = b.op('reduce', [b.op('cast', [i], { dtype: 'float' })], { fn: 'sum', axes: [0, 1], keepdim: false });
  const out = execute(b.finish({ loss: l, terms: [] }), new Map());
  assert.equal([...out.values[i]!.data], [0, 1, 2, 0, 1, 2]);
  assert.is(out.values[i]!.dtype, 'int');
});

// ---- shape errors --------------------------------------------------------------------------------------
test('shape errors name the op and both shapes', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [8, 37], 'float', true);
  const y = b.input('y', [8, 100], 'float', true);
  try {
    b.binary('sub', x, y);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, ShapeError);
    assert.is((e as Error).message, 'sub: shapes [8, 37] and [8, 100] do not broadcast');
    assert.equal((e as ShapeError).nodes, [x, y]);
  }
  assert.throws(() => b.op('reshape', [x], { shape: [3, -1] }), /reshape/);
  assert.throws(() => b.op('matmul', [x, y], {}), /matmul: shapes \[8, 37\] and \[8, 100\]/);
});

test('CSE and constant folding', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [{ sym: 'N' }, 3], 'float', true);
  assert.is(b.input('x', [{ sym: 'N' }, 3], 'float', true), x);
  const e1 = b.unary('exp', x);
  assert.is(b.unary('exp', x), e1);
  assert.is(b.binary('mul', e1, b.constant(1)), e1);
  const c = b.binary('add', b.constant(2), b.constant(3));
  assert.is(b.node(c).op, 'const');
  assert.is((b.node(c).attrs as { value: number }).value, 5);
  assert.is(b.constant(5), c);
  assert.is(b.op('reduce', [x], { fn: 'sum', axes: [1, 0, -1], keepdim: false }), b.op('reduce', [x], { fn: 'sum', axes: [0, 1], keepdim: false }));
  // commutative ops are one node in either operand order (DIST's Σ (a − ā)(b − b̄) built by the loss and by its
  // gradient); the others are not
  const y = b.input('y', [{ sym: 'N' }, 3], 'float', true);
  for (const fn of ['add', 'mul', 'eq', 'ne'] as const) assert.is(b.binary(fn, y, e1), b.binary(fn, e1, y), fn);
  for (const fn of ['sub', 'div', 'pow', 'maximum', 'minimum', 'lt', 'le', 'gt', 'ge'] as const) assert.is.not(b.binary(fn, y, e1), b.binary(fn, e1, y), fn);
});

test.run();
