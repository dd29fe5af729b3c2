// The sleep before a wait on a device whose waits poll on the CPU (src/runtime/wait-estimate.ts): pure policy.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAPPED_AT_ONCE_MS, MIN_SLEEP_MS, OVERSLEPT_BACKOFF, SLEEP_FRACTION, nextEstimate, sleepBeforeWait } from '../src/runtime/wait-estimate.js';

test('no estimate yet (first run at these shapes): wait at once', () => {
  assert.is(sleepBeforeWait(undefined, 0), 0);
});

test('sleeps SLEEP_FRACTION of the expected time, less what has passed since submit', () => {
  assert.is(sleepBeforeWait(100, 0), SLEEP_FRACTION * 100);
  assert.is(sleepBeforeWait(100, 30), SLEEP_FRACTION * 100 - 30);
  // the time since submit already covers the fraction (the page-in of large gradients): no sleep
  assert.is(sleepBeforeWait(100, SLEEP_FRACTION * 100 + 1), 0);
});

test('short runs never sleep: timers fire late by about as much as they would save', () => {
  assert.is(sleepBeforeWait((MIN_SLEEP_MS - 0.01) / SLEEP_FRACTION, 0), 0);
  assert.ok(sleepBeforeWait((MIN_SLEEP_MS + 0.01) / SLEEP_FRACTION, 0) >= MIN_SLEEP_MS);
  assert.is(sleepBeforeWait(2, 0), 0); // a KD step
});

test('a run that still waited after its sleep is measured as it is; one ready at once backs off', () => {
  assert.is(nextEstimate(50, false, 50), 50);
  assert.is(nextEstimate(50, true, 10), 50);
  assert.is(nextEstimate(50, true, MAPPED_AT_ONCE_MS / 2), OVERSLEPT_BACKOFF * 50);
  // without a sleep, a map ready at once is an exact measurement
  assert.is(nextEstimate(3, false, 0.1), 3);
});

test('converges below the work: after an oversleep the sleeps shrink until the wait polls again', () => {
  const work = 40; // ms of device work, fixed
  let est: number | undefined = 200; // a stale estimate (the shapes' earlier, slower run)
  let waited = false;
  for (let i = 0; i < 20; i++) {
    const sleep = sleepBeforeWait(est, 0);
    const total = Math.max(work, sleep);
    const mapMs = total - sleep;
    if (mapMs > 0) waited = true;
    est = nextEstimate(total, sleep > 0, mapMs);
  }
  assert.ok(waited, 'the wait polls again once the sleeps are shorter than the work');
  assert.ok(sleepBeforeWait(est, 0) < work && sleepBeforeWait(est, 0) >= SLEEP_FRACTION * OVERSLEPT_BACKOFF * work - 1e-9, `steady sleep ${sleepBeforeWait(est, 0)} ms for ${work} ms of work`);
});

test.run();
