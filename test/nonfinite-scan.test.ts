// The runtime names the non-finite parts of every result (runtime/nonfinite.ts); its scan of each gradient runs
// after every step, so its fast path (allFinite: running sums of x·0) must find every NaN, +Inf and −Inf wherever
// it sits — in the unrolled body and in the remainder, at both ends — and must not report finite extremes
// (±f32 max, subnormals, −0, huge doubles) as non-finite. nonFiniteParts' counts are checked with and without it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { allFinite, nonFiniteParts } from '../src/runtime/nonfinite.js';

const F32_MAX = 3.4028234663852886e38;
const FINITE_EXTREMES = [0, -0, 1, -1, F32_MAX, -F32_MAX, 1.4e-45, -1.4e-45, 1.1754943508222875e-38, 1e300, -1e300, Number.MAX_VALUE];

test('allFinite: finite arrays of every length 0–13 and a long one, with finite extremes everywhere', () => {
  for (let n = 0; n <= 13; n++) {
    const a = new Float32Array(n).map((_, i) => Math.fround(FINITE_EXTREMES[i % 8]!));
    assert.ok(allFinite(a), `Float32Array length ${n}`);
    assert.ok(allFinite(Array.from({ length: n }, (_, i) => FINITE_EXTREMES[i % FINITE_EXTREMES.length]!)), `array length ${n}`);
  }
  const big = new Float32Array(100_003).map((_, i) => (i % 3 === 0 ? F32_MAX : -Math.fround(i / 7)));
  assert.ok(allFinite(big));
});

test('allFinite: one NaN, +Inf or −Inf at any position of lengths 1–13 and near both ends of a long array', () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    for (let n = 1; n <= 13; n++)
      for (let at = 0; at < n; at++) {
        const a = new Float32Array(n).fill(F32_MAX);
        a[at] = bad;
        assert.not.ok(allFinite(a), `${bad} at ${at} of ${n}`);
      }
    for (const at of [0, 1, 2, 3, 4, 50_000, 99_998, 99_999, 100_000, 100_001, 100_002]) {
      const a = new Float32Array(100_003).fill(-1);
      a[at] = bad;
      assert.not.ok(allFinite(a), `${bad} at ${at} of 100003`);
    }
  }
  // +Inf and −Inf in different partial sums: each sum is NaN, never a cancelled 0
  const a = new Float32Array(8);
  a[1] = Infinity;
  a[2] = -Infinity;
  assert.not.ok(allFinite(a));
});

test('nonFiniteParts: counts per part, [] when all finite', () => {
  const g = new Float32Array(1001).fill(0.5);
  assert.equal(nonFiniteParts({ loss: 1, terms: { kd: 2 }, grads: new Map([['x', g]]) }), []);
  g[0] = NaN;
  g[500] = Infinity;
  g[1000] = -Infinity;
  g[999] = -Infinity;
  const parts = nonFiniteParts({ loss: NaN, terms: { kd: 2, ce: -Infinity }, grads: new Map([['x', g]]) });
  assert.equal(parts, [
    { kind: 'loss', nan: 1, posInf: 0, negInf: 0, size: 1, value: 'NaN' },
    { kind: 'term', name: 'ce', nan: 0, posInf: 0, negInf: 1, size: 1, value: '-Infinity' },
    { kind: 'grad', name: 'x', nan: 1, posInf: 1, negInf: 2, size: 1001 },
  ]);
});

test.run();
