// The value-range analysis (graph/value-range.ts) on values built from constants: their float32 overflow and
// underflow decide whether a factor may be ±∞ or a divisor 0, so that a factor out of a sum keeps torch's NaN
// (test/nonfinite-gpu.test.ts runs such sums on the GPU). Run-time values keep the header's allowance: rounding's own
// ±∞ and 0 there are not foreseen.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GraphBuilder } from '../src/graph/builder.js';
import { neverInfinite, neverZero } from '../src/graph/value-range.js';

/** float(arange(n)) as a [n] node of `b`. */
function arange(b: GraphBuilder, n: number): number {
  return b.op('cast', [b.op('iota', [], { shape: [n], axis: 0, dtype: 'int' })], { dtype: 'float' });
}

const mul = (b: GraphBuilder, x: number, c: number) => b.binary('mul', x, b.constant(c));
const add = (b: GraphBuilder, x: number, c: number) => b.binary('add', x, b.constant(c));
const facts = (b: GraphBuilder, id: number) => ({ finite: neverInfinite((i) => b.node(i), id), nonZero: neverZero((i) => b.node(i), id) });

test('a constant factor that overflows float32 may be ±inf: float(arange(3)) * 1.7e38 + 1.7e38 holds inf', () => {
  const b = new GraphBuilder();
  const k = mul(b, arange(b, 3), 1.7e38); // [0, 1.7e38, 3.4e38]: finite
  assert.ok(facts(b, k).finite);
  assert.not.ok(facts(b, add(b, k, 1.7e38)).finite);
  assert.not.ok(facts(b, mul(b, arange(b, 4), 1.7e38)).finite); // 5.1e38
  assert.not.ok(facts(b, mul(b, mul(b, add(b, arange(b, 2), 1), 1e20), 1e20)).finite);
  // an iota over a symbolic dim may be that long
  assert.not.ok(facts(b, mul(b, b.op('cast', [b.op('iota', [], { shape: [{ sym: 'N' }], axis: 0, dtype: 'int' })], { dtype: 'float' }), 1e30)).finite);
  // a sum of a broadcast constant over a known count, and its reciprocal
  const big = b.op('reduce', [b.op('broadcast', [b.constant(1e38)], { shape: [8] })], { fn: 'sum', axes: [0], keepdim: false });
  assert.not.ok(facts(b, big).finite);
  assert.not.ok(facts(b, b.unary('recip', b.constant(1e-39))).finite); // 1e39
  // a value of an input: its overflow is rounding's own (the header)
  const x = b.input('x', [4], 'float', true);
  assert.ok(facts(b, mul(b, mul(b, b.unary('tanh', x), 1e38), 10)).finite);
});

test('a constant divisor that underflows float32 (or is subnormal, which drivers may flush) may be 0', () => {
  const b = new GraphBuilder();
  const q = mul(b, mul(b, add(b, arange(b, 4), 1), 1e-30), 1e-20); // 1e-50: 0 in float32
  assert.equal(facts(b, q), { finite: true, nonZero: false });
  assert.equal(facts(b, mul(b, add(b, arange(b, 4), 1), 1e-30)), { finite: true, nonZero: true });
  assert.not.ok(facts(b, b.constant(1e-40)).nonZero);
  assert.ok(facts(b, b.constant(1e-30)).nonZero);
});

test('what the losses move out of their sums stays movable: weights, temperatures, 1 / N over a symbolic batch', () => {
  const b = new GraphBuilder();
  const n = b.op('reduce', [b.op('broadcast', [b.constant(1)], { shape: [{ sym: 'N' }] })], { fn: 'sum', axes: [0], keepdim: false });
  const invN = b.binary('div', b.constant(0.5), n);
  assert.equal(facts(b, invN), { finite: true, nonZero: true });
  const t = b.constant(4);
  assert.equal(facts(b, b.binary('mul', b.binary('mul', t, t), invN)), { finite: true, nonZero: true });
  assert.equal(facts(b, b.binary('div', b.constant(1), b.binary('mul', t, b.constant(1e-12)))), { finite: true, nonZero: true });
  // run-time values: rounding's own overflow and underflow are not foreseen (the header)
  const x = b.input('y', [4], 'float', true);
  const s = b.op('reduce', [b.unary('abs', x)], { fn: 'max', axes: [0], keepdim: false });
  assert.equal(facts(b, b.binary('add', b.unary('sqrt', s), b.constant(1))), { finite: false, nonZero: true });
  const count = b.op('reduce', [b.binary('ne', x, b.constant(0))], { fn: 'sum', axes: [0], keepdim: false });
  assert.equal(facts(b, b.binary('div', b.constant(0.5), b.binary('maximum', count, b.constant(1)))), { finite: true, nonZero: true });
  assert.equal(facts(b, b.binary('mul', b.binary('maximum', count, b.constant(1)), b.constant(1e-30))), { finite: true, nonZero: true });
});

test.run();
