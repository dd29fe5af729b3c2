// Sums with a one-hot row rewritten by the builder (src/graph/sum-rewrites.ts): they vanish into existing sums
// only where the factors pulled out are never 0 or ±∞; other sums are built as written.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GraphBuilder } from '../src/graph/builder.js';
import { sym } from '../src/graph/dims.js';
import type { Graph } from '../src/graph/types.js';
import { evaluateNodes } from '../src/cpu/executor.js';
import { hostTensor } from '../src/graph/host-tensor.js';

const N = sym('N');

/** log-softmax pieces of x over axis 1: (x − m, Z = Σ exp(x − m)), and the one-hot row of the int labels y. */
function parts(b: GraphBuilder) {
  const x = b.input('x', [N, 10], 'float', true);
  const y = b.input('y', [N, 1], 'int', false);
  const m = b.op('detach', [b.op('reduce', [x], { fn: 'max', axes: [1], keepdim: true })], {});
  const e = b.unary('exp', b.binary('sub', x, m));
  const Z = b.op('reduce', [e], { fn: 'sum', axes: [1], keepdim: true });
  const hot = b.op('where', [b.binary('eq', b.op('iota', [], { shape: [N, 10], axis: 1, dtype: 'int' }), y), b.constant(-0.5), b.constant(0)], {});
  return { x, e, Z, hot };
}

const rowSums = (g: { nodes: Graph['nodes'] }) => g.nodes.filter((n) => n.op === 'reduce' && n.attrs.fn === 'sum' && n.attrs.axes.join() === '1').map((n) => n.id);

test('Σ_j (one-hot + c · p_j) over a softmax p = exp(x − m) / Z: the one-hot sum plus c · Z / Z, no new sum over the row', () => {
  const b = new GraphBuilder();
  const { e, Z, hot } = parts(b);
  const before = rowSums(b.finish({ loss: Z, terms: [] }));
  const p = b.binary('div', e, Z);
  const s = b.op('reduce', [b.unary('neg', b.binary('add', hot, b.binary('mul', b.constant(0.25), p)))], { fn: 'sum', axes: [1], keepdim: true });
  const g = b.finish({ loss: s, terms: [] });
  const after = rowSums(g);
  // one new row sum: the one-hot's (read once per row); Σ p_j is Z (CSE), not summed again
  const added = after.filter((id) => !before.includes(id));
  assert.is(added.length, 1);
  assert.is(g.nodes[g.nodes[added[0]!]!.inputs[0]!]!.op, 'where');
  assert.is(g.nodes[s]!.op, 'unary');
});

test('factors that may be 0 or ±∞ stay inside the sum, and sums without a one-hot row are built as written', () => {
  const b = new GraphBuilder();
  const { e, Z, hot } = parts(b);
  const w = b.input('w', [N, 1], 'float', false); // a per-row weight: may be 0 or ∞
  const p = b.binary('div', e, Z);
  const s = b.op('reduce', [b.binary('add', hot, b.binary('mul', w, p))], { fn: 'sum', axes: [1], keepdim: true });
  assert.is(b.node(s).op, 'reduce');
  const plain = b.op('reduce', [p], { fn: 'sum', axes: [1], keepdim: true });
  assert.is(b.node(plain).op, 'reduce');
  assert.is.not(plain, Z);
});

/** x − mean_1(x) of an [N, 10] value (the mean as torch's a.mean(1) lowers: Σ / count). */
const centred = (b: GraphBuilder, x: number) => b.binary('sub', x, b.binary('div', b.op('reduce', [x], { fn: 'sum', axes: [1], keepdim: true }), b.constant(10)));

test('Σ_j of deviations from their row means times per-row factors (the gradient through a mean it subtracts) is no sum over the row: 0 · the means, NaN where a factor or a mean is not finite', () => {
  const b = new GraphBuilder();
  const a = b.input('a', [N, 10], 'float', true);
  const c = b.input('c', [N, 10], 'float', false);
  const w = b.input('w', [N, 1], 'float', false);
  const u = b.input('u', [N, 1], 'float', false);
  const ac = centred(b, a);
  const cc = centred(b, c);
  const before = rowSums(b.finish({ loss: a, terms: [] })).length;
  // Σ_j −(w · (a − ā) + (c − c̄) / u · w): DIST's Pearson gradient, shaped as autodiff builds it
  const y = b.unary('neg', b.binary('add', b.binary('mul', w, ac), b.binary('mul', b.binary('div', cc, u), w)));
  const s = b.op('reduce', [y], { fn: 'sum', axes: [1], keepdim: true });
  const g = b.finish({ loss: s, terms: [] });
  assert.is(rowSums(g).length, before, 'no sum over the row added');
  const rows = [
    { a: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], c: [3, 1, 4, 1, 5, 9, 2, 6, 5, 3], w: 0.5, u: 2 },
    { a: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], c: [3, 1, 4, 1, 5, 9, 2, 6, 5, 3], w: Infinity, u: 2 },
    { a: [1, 2, 3, 4, 5, 6, 7, 8, 9, Number.NaN], c: [3, 1, 4, 1, 5, 9, 2, 6, 5, 3], w: 1, u: 1 },
    { a: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], c: [3, 1, 4, 1, 5, 9, 2, 6, 5, 3], w: 0, u: 0 },
  ];
  const inputs = new Map([
    ['a', hostTensor([rows.length, 10], 'float', rows.flatMap((r) => r.a))],
    ['c', hostTensor([rows.length, 10], 'float', rows.flatMap((r) => r.c))],
    ['w', hostTensor([rows.length, 1], 'float', rows.map((r) => r.w))],
    ['u', hostTensor([rows.length, 1], 'float', rows.map((r) => r.u))],
  ]);
  const got = evaluateNodes(g, inputs, [s])[s]!.data;
  // what the sum as written gives, row by row (a plain float64 loop): noise-level or 0 where finite, NaN otherwise
  const written = rows.map((r) => {
    const mean = (v: number[]) => v.reduce((p, q) => p + q, 0) / v.length;
    const [ma, mc] = [mean(r.a), mean(r.c)];
    return r.a.reduce((acc, _, j) => acc - (r.w * (r.a[j]! - ma) + ((r.c[j]! - mc) / r.u) * r.w), 0);
  });
  for (let k = 0; k < rows.length; k++) {
    if (Number.isNaN(written[k]!)) assert.ok(Number.isNaN(got[k]!), `row ${k}: ${got[k]} where the sum is NaN`);
    else assert.ok(Math.abs(got[k]! - written[k]!) <= 1e-12, `row ${k}: ${got[k]} vs ${written[k]}`);
  }
});

test('a deviation from something other than its own mean, or a factor that varies along the row, keeps the sum', () => {
  const b = new GraphBuilder();
  const a = b.input('a', [N, 10], 'float', true);
  const c = b.input('c', [N, 10], 'float', false);
  const w = b.input('w', [N, 1], 'float', false);
  const meanC = b.binary('div', b.op('reduce', [c], { fn: 'sum', axes: [1], keepdim: true }), b.constant(10));
  const wrongMean = b.binary('mul', w, b.binary('sub', a, meanC));
  assert.is(b.node(b.op('reduce', [wrongMean], { fn: 'sum', axes: [1], keepdim: true })).op, 'reduce');
  const wrongCount = b.binary('sub', a, b.binary('div', b.op('reduce', [a], { fn: 'sum', axes: [1], keepdim: true }), b.constant(9)));
  assert.is(b.node(b.op('reduce', [wrongCount], { fn: 'sum', axes: [1], keepdim: true })).op, 'reduce');
  const varying = b.binary('mul', c, centred(b, a));
  assert.is(b.node(b.op('reduce', [varying], { fn: 'sum', axes: [1], keepdim: true })).op, 'reduce');
});

test.run();
